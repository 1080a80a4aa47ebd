"""No secrets in URLs: the ranking board is reached with a short-lived, read-only,
region-limited link exchanged for a session cookie; `?token=` is refused; and the logs of a
service that served all of it (uvicorn's access log included) contain no token."""

from __future__ import annotations

import asyncio
import io
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from dev.embedded import EmbeddedPostgres, free_port, start_kafka
from dev.testing import ADMIN_TOKEN, TEST_TOKENS, publish_raw
from services.scoring.main import create_app
from shared.auth import Principal
from shared.links import LinkSigner
from shared.settings import Settings
from tests.scoring.helpers import region

READONLY = "test-readonly-token-00001"
STREET_S1 = "test-street-admin-s1-0001"
SECRET = "test-link-secret-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def served(pg_server: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The scoring service under uvicorn on a free port, with the access log on."""
    broker = start_kafka(free_port(), log_path=tmp_path_factory.mktemp("kafka") / "tansu.log")
    settings = Settings(
        service_name="scoring",
        kafka_bootstrap_servers=broker.bootstrap,
        database_url=pg_server.url,
        database_name=f"t_{uuid.uuid4().hex[:12]}_scoring",
        log_json=True,
        topic_partitions=1,
        api_tokens=f"{TEST_TOKENS},{STREET_S1}:street_admin:S1:王街道",
        link_secret=SECRET,
    )
    port = free_port()
    # log_config=None: uvicorn's loggers go through the service's own logging set-up
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_config=None, access_log=True
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert thread.is_alive() and time.monotonic() < deadline, "scoring did not start"
        time.sleep(0.1)
    # the streets the region tests ask for, as the grids service defines them (the server runs
    # in its own thread and loop, so this thread may run a loop of its own)
    streets = [region("D1", "district", None)] + [
        region(s, "street", "D1") for s in "S1 S2".split()
    ]
    asyncio.run(
        publish_raw(
            broker.bootstrap,
            [("partygrid.region.defined", e["subject"].encode(), e) for e in streets],
        )
    )
    while (
        httpx.get(
            url + "/v1/rankings/members?street_id=S2", headers=bearer(ADMIN_TOKEN), timeout=5
        ).status_code
        != 200
    ):
        assert time.monotonic() < deadline, "scoring did not learn the streets"
        time.sleep(0.1)
    logging.getLogger("uvicorn.access").setLevel("INFO")  # every request line in the log
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(20)
        broker.stop()


@pytest.fixture
async def http(served: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=served, timeout=10) as client:
        yield client


def screen(http: httpx.AsyncClient, cookies: httpx.Cookies) -> httpx.AsyncClient:
    """A browser on the screen: nothing but the board session cookie."""
    return httpx.AsyncClient(base_url=http.base_url, cookies=cookies, timeout=10)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _session(http: httpx.AsyncClient, token: str, **body: Any) -> httpx.Cookies:
    link = (await http.post("/v1/board-links", json=body, headers=bearer(token))).json()
    opened = await http.get(link["url"])
    assert opened.status_code == 303
    return opened.cookies


async def test_token_in_the_url_is_refused(http: httpx.AsyncClient) -> None:
    for path in (f"/board?token={READONLY}", f"/v1/rankings/streets?access_token={READONLY}"):
        r = await http.get(path)
        assert r.status_code == 400, path
        assert r.json()["error"] == "token_in_url"


async def test_board_link_becomes_an_httponly_cookie_and_leaves_the_address(
    http: httpx.AsyncClient,
) -> None:
    link = (await http.post("/v1/board-links", json={}, headers=bearer(READONLY))).json()
    assert link["scope"] == "*"
    opened = await http.get(link["url"] + "&refresh=3")
    assert opened.status_code == 303
    assert opened.headers["location"] == "/board?refresh=3"
    cookie = opened.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    async with screen(http, opened.cookies) as browser:
        r = await browser.get("/v1/rankings/streets")
    assert r.status_code == 200, r.text


async def test_board_session_cannot_change_anything(http: httpx.AsyncClient) -> None:
    cookies = await _session(http, ADMIN_TOKEN)  # even a link made by a city admin
    async with screen(http, cookies) as browser:
        r = await browser.post("/v1/boards", json={"period": "2026-11", "subject": "members"})
    assert r.status_code == 401


async def test_board_link_is_limited_to_the_region_of_its_maker(http: httpx.AsyncClient) -> None:
    wider = await http.post("/v1/board-links", json={"scope": "S2"}, headers=bearer(STREET_S1))
    assert wider.status_code == 403
    cookies = await _session(http, STREET_S1)
    async with screen(http, cookies) as browser:
        own = await browser.get("/v1/rankings/members?street_id=S1")
        other = await browser.get("/v1/rankings/members?street_id=S2")
    assert own.status_code == 200, own.text
    assert other.status_code == 403


async def test_forged_or_expired_link_is_refused_and_ends_the_session(
    http: httpx.AsyncClient,
) -> None:
    forged = LinkSigner("another-secret").make_link(_maker(), "*").value
    expired = LinkSigner(SECRET, link_minutes=-1).make_link(_maker(), "*").value
    for link in (forged, expired):
        r = await http.get("/board", params={"link": link})
        assert r.status_code == 303
        assert r.headers["location"] == "/board?refused=link"
        assert 'partygrid_board=""' in r.headers["set-cookie"]  # any old session removed


async def test_token_exchange_sets_the_board_session(http: httpx.AsyncClient) -> None:
    r = await http.post("/board/session", headers=bearer(READONLY))
    assert r.status_code == 204
    async with screen(http, r.cookies) as browser:
        assert (await browser.get("/v1/rankings/streets")).status_code == 200


async def test_logs_never_contain_a_token(http: httpx.AsyncClient) -> None:
    # the service's own log handler (set up at start), written to a buffer for the scan
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler))
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        link = (await http.post("/v1/board-links", json={}, headers=bearer(ADMIN_TOKEN))).json()
        link_value = link["url"].split("link=")[1]
        await http.get(link["url"])
        await http.get(f"/board?token={READONLY}")
        await http.get("/v1/rankings/streets", headers=bearer(STREET_S1))
        await http.get("/v1/rankings/streets", headers=bearer("wrong-token-0000000000"))
        await http.get(f"/v1/rankings/streets?api_key={ADMIN_TOKEN}")
    finally:
        handler.setStream(previous)
    logged = buffer.getvalue()
    assert "/v1/rankings/streets" in logged and "/board" in logged  # the access log was on
    for secret in (ADMIN_TOKEN, READONLY, STREET_S1, "wrong-token-0000000000", link_value):
        assert secret not in logged


def _maker() -> Principal:
    return Principal("test", "city_admin", "*")
