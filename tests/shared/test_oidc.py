"""Bearer JWTs from an identity provider, against a real service (scoring, with its database and
broker) and a JWKS served by the test over HTTP on a free port, with RSA keys made here."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from dev.embedded import EmbeddedPostgres, free_port, start_kafka
from dev.testing import ADMIN_TOKEN, TEST_TOKENS, publish_raw, running_app, wait_until
from services.scoring.main import create_app
from shared.settings import Settings
from tests.scoring.helpers import region

ISSUER = "https://id.city.example/realms/partygrid"
AUDIENCE = "partygrid-api"


class Jwks:
    """An identity provider's key endpoint: keys can be replaced while it serves (rotation)."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.fetches = 0
        jwks = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                jwks.fetches += 1
                body = json.dumps(jwks.document()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add_key(self) -> str:
        kid = uuid.uuid4().hex[:8]
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return kid

    def document(self) -> dict[str, Any]:
        keys = []
        for kid, key in self.keys.items():
            jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": keys}

    def token(self, kid: str, key: rsa.RSAPrivateKey | None = None, **claims: Any) -> str:
        now = int(time.time())
        body = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "u-1001",
            "name": "王秘书",
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "partygrid_role": "city_admin",
            **claims,
        }
        body = {k: v for k, v in body.items() if v is not None}
        signing = key if key is not None else self.keys[kid]
        return jwt.encode(body, signing, algorithm="RS256", headers={"kid": kid})


@pytest.fixture(scope="module")
def jwks() -> Iterator[Jwks]:
    provider = Jwks()
    yield provider
    provider.server.shutdown()


@pytest.fixture(scope="module")
async def api(
    pg_server: EmbeddedPostgres, jwks: Jwks, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """One scoring service for the module, accepting the test provider's tokens."""
    broker = start_kafka(free_port(), log_path=tmp_path_factory.mktemp("kafka") / "tansu.log")
    settings = Settings(
        service_name="scoring",
        kafka_bootstrap_servers=broker.bootstrap,
        database_url=pg_server.url,
        database_name=f"t_{uuid.uuid4().hex[:12]}_scoring",
        log_json=False,
        topic_partitions=1,
        api_tokens=TEST_TOKENS,
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        oidc_jwks_url=jwks.url,
        oidc_clock_skew_seconds=30,
        oidc_jwks_min_refresh_seconds=0,
    )
    try:
        async with running_app(create_app(settings), token=None) as client:
            # the streets the scope tests ask for, as the grids service defines them
            streets = [region("D1", "district", None)] + [
                region(s, "street", "D1") for s in ("S1", "S2")
            ]
            await publish_raw(
                broker.bootstrap,
                [("partygrid.region.defined", e["subject"].encode(), e) for e in streets],
            )
            admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

            async def known() -> bool:
                r = await client.get("/v1/rankings/members?street_id=S2", headers=admin)
                return r.status_code == 200

            await wait_until(known, timeout=30)
            yield client
    finally:
        broker.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_valid_provider_token_is_accepted(api: httpx.AsyncClient, jwks: Jwks) -> None:
    kid = jwks.add_key()
    r = await api.get("/v1/rankings/streets", headers=bearer(jwks.token(kid)))
    assert r.status_code == 200, r.text


async def test_expired_token_is_refused(api: httpx.AsyncClient, jwks: Jwks) -> None:
    kid = jwks.add_key()
    now = int(time.time())
    # expired two minutes ago: beyond the 30 s clock skew allowed
    token = jwks.token(kid, iat=now - 600, nbf=now - 600, exp=now - 120)
    r = await api.get("/v1/rankings/streets", headers=bearer(token))
    assert r.status_code == 401
    assert "expired" in r.json()["message"]


async def test_token_expired_within_clock_skew_is_accepted(
    api: httpx.AsyncClient, jwks: Jwks
) -> None:
    kid = jwks.add_key()
    now = int(time.time())
    token = jwks.token(kid, iat=now - 600, nbf=now - 600, exp=now - 5)
    assert (await api.get("/v1/rankings/streets", headers=bearer(token))).status_code == 200


async def test_token_not_valid_yet_is_refused(api: httpx.AsyncClient, jwks: Jwks) -> None:
    kid = jwks.add_key()
    now = int(time.time())
    token = jwks.token(kid, nbf=now + 600, exp=now + 900)
    r = await api.get("/v1/rankings/streets", headers=bearer(token))
    assert r.status_code == 401
    assert "not valid yet" in r.json()["message"]


async def test_wrong_audience_is_refused(api: httpx.AsyncClient, jwks: Jwks) -> None:
    kid = jwks.add_key()
    r = await api.get("/v1/rankings/streets", headers=bearer(jwks.token(kid, aud="other-app")))
    assert r.status_code == 401
    assert "audience" in r.json()["message"]


async def test_wrong_issuer_is_refused(api: httpx.AsyncClient, jwks: Jwks) -> None:
    kid = jwks.add_key()
    token = jwks.token(kid, iss="https://evil.example/")
    r = await api.get("/v1/rankings/streets", headers=bearer(token))
    assert r.status_code == 401
    assert "issuer" in r.json()["message"]


async def test_unknown_key_id_is_refused(api: httpx.AsyncClient, jwks: Jwks) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwks.token("not-published", key=stranger)
    r = await api.get("/v1/rankings/streets", headers=bearer(token))
    assert r.status_code == 401
    assert "unknown signing key id" in r.json()["message"]


async def test_token_signed_by_another_key_under_a_known_id_is_refused(
    api: httpx.AsyncClient, jwks: Jwks
) -> None:
    kid = jwks.add_key()
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    r = await api.get("/v1/rankings/streets", headers=bearer(jwks.token(kid, key=stranger)))
    assert r.status_code == 401
    assert "invalid token" in r.json()["message"]


async def test_rotated_key_is_picked_up_without_restart(api: httpx.AsyncClient, jwks: Jwks) -> None:
    old = jwks.add_key()
    assert (
        await api.get("/v1/rankings/streets", headers=bearer(jwks.token(old)))
    ).status_code == 200
    # the provider rotates: the old key is withdrawn, a new one published
    jwks.keys.clear()
    new = jwks.add_key()
    fetches = jwks.fetches
    r = await api.get("/v1/rankings/streets", headers=bearer(jwks.token(new)))
    assert r.status_code == 200, r.text
    assert jwks.fetches == fetches + 1  # fetched the key set again, once


async def test_scope_claim_limits_the_regions_a_token_may_ask_for(
    api: httpx.AsyncClient, jwks: Jwks
) -> None:
    kid = jwks.add_key()
    token = jwks.token(kid, partygrid_role="street_admin", partygrid_scope="S1")
    own = await api.get("/v1/rankings/members?street_id=S1", headers=bearer(token))
    assert own.status_code == 200, own.text
    other = await api.get("/v1/rankings/members?street_id=S2", headers=bearer(token))
    assert other.status_code == 403
    assert "S1" in other.json()["message"] and "S2" in other.json()["message"]


async def test_token_without_a_known_role_is_refused(api: httpx.AsyncClient, jwks: Jwks) -> None:
    kid = jwks.add_key()
    r = await api.get(
        "/v1/rankings/streets", headers=bearer(jwks.token(kid, partygrid_role="mayor"))
    )
    assert r.status_code == 401
    assert "partygrid_role" in r.json()["message"]


async def test_static_tokens_still_work_beside_provider_tokens(api: httpx.AsyncClient) -> None:
    r = await api.get("/v1/rankings/streets", headers=bearer("test-readonly-token-00001"))
    assert r.status_code == 200


async def test_provider_identity_is_the_actor_in_the_audit_trail(
    api: httpx.AsyncClient, jwks: Jwks
) -> None:
    kid = jwks.add_key()
    token = jwks.token(kid, sub="u-2002", name="林主任")
    period = (await api.get("/v1/rankings/streets", headers=bearer(token))).json()["period"]
    drafted = await api.post(
        "/v1/boards", json={"period": period, "subject": "members"}, headers=bearer(token)
    )
    assert drafted.status_code == 201, drafted.text
    assert drafted.json()["drafted_by"] == "u-2002 (林主任)"
    trail = await api.get(
        "/v1/audit", params={"actor": "u-2002 (林主任)"}, headers=bearer(jwks.token(kid))
    )
    [entry] = trail.json()["items"]
    assert (entry["actor_kind"], entry["endpoint"], entry["outcome"]) == ("jwt", "/v1/boards", "ok")
