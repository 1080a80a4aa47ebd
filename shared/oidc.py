"""Bearer JWTs from the city's OAuth2/OIDC identity provider.

People (the organisation department's staff, street and community secretaries) sign in at the
city's identity provider, not here; their access tokens are JWTs this module verifies with
PyJWT against the provider's published keys (JWKS). Nothing cryptographic is written here:
PyJWT checks the signature, `iss`, `aud`, `exp` and `nbf` (with a small leeway for clock skew).

Keys are fetched from `OIDC_JWKS_URL` and cached for `OIDC_JWKS_CACHE_SECONDS`; a token signed
with a key id the cache does not know makes one refetch (at most once every
`OIDC_JWKS_MIN_REFRESH_SECONDS`, so a flood of forged key ids cannot hammer the provider): the
provider can rotate its keys and services pick up the new one without a restart.

The role and the region scope come from configured claims (`OIDC_ROLE_CLAIM`,
`OIDC_SCOPE_CLAIM`); the audit trail names the person by `sub` (`OIDC_NAME_CLAIM` adds a
readable name). A role claim may be a string or a list (e.g. the provider's group names); the
most powerful known role in it wins. A token without a known role is refused, never defaulted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

log = logging.getLogger(__name__)

# strongest first: a claim listing several roles gets the first one found here
ROLE_ORDER = ("city_admin", "street_admin", "community_admin", "service")
# asymmetric algorithms only: a provider's public keys can never be used as an HMAC secret
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")


class TokenRefused(Exception):
    """The JWT is not acceptable; the message says why (never contains the token)."""


class KeysUnavailable(Exception):
    """The provider's keys could not be fetched and none are cached: not the caller's fault."""


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    audience: str
    jwks_url: str
    role_claim: str = "partygrid_role"
    scope_claim: str = "partygrid_scope"
    name_claim: str = "name"
    clock_skew_seconds: float = 60.0
    jwks_cache_seconds: float = 300.0
    jwks_min_refresh_seconds: float = 10.0


@dataclass(frozen=True)
class Identity:
    subject: str
    name: str | None
    role: str
    scope: str


def looks_like_jwt(token: str) -> bool:
    return token.startswith("eyJ") and token.count(".") == 2


class JwksCache:
    """The provider's signing keys by key id, refetched when stale or when an unknown id comes."""

    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def _fetch(self) -> None:
        async with httpx.AsyncClient(timeout=5.0) as client:
            response = await client.get(self.config.jwks_url)
            response.raise_for_status()
            document = response.json()
        keys: dict[str, jwt.PyJWK] = {}
        for entry in document.get("keys", []):
            if entry.get("use", "sig") != "sig" or "kid" not in entry:
                continue
            try:
                keys[entry["kid"]] = jwt.PyJWK(entry)
            except jwt.PyJWTError as exc:  # an algorithm we do not support: skip that key
                log.warning("JWKS key %s skipped: %s", entry.get("kid"), exc)
        self._keys = keys
        self._fetched_at = time.monotonic()
        log.info("JWKS fetched from %s: %d signing keys", self.config.jwks_url, len(keys))

    async def key(self, kid: str) -> jwt.PyJWK:
        now = time.monotonic()
        stale = self._fetched_at is None or now - self._fetched_at > self.config.jwks_cache_seconds
        if stale or kid not in self._keys:
            async with self._lock:
                fetched = self._fetched_at
                recent = (
                    fetched is not None
                    and time.monotonic() - fetched < self.config.jwks_min_refresh_seconds
                )
                stale = fetched is None or now - fetched > self.config.jwks_cache_seconds
                if stale or (kid not in self._keys and not recent):
                    try:
                        await self._fetch()
                    except (httpx.HTTPError, ValueError) as exc:
                        if not self._keys:
                            raise KeysUnavailable(
                                f"the identity provider's keys are unavailable ({exc})"
                            ) from None
                        log.warning("JWKS refresh failed, keeping cached keys: %s", exc)
        found = self._keys.get(kid)
        if found is None:
            raise TokenRefused(f"unknown signing key id {kid!r}")
        return found


class OidcVerifier:
    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self.jwks = JwksCache(config)

    async def verify(self, token: str) -> Identity:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRefused("malformed JWT") from None
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise TokenRefused("the JWT header has no key id (kid)")
        if header.get("alg") not in ALGORITHMS:
            raise TokenRefused(f"signing algorithm must be one of {', '.join(ALGORITHMS)}")
        key = await self.jwks.key(kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=list(ALGORITHMS),
                audience=self.config.audience,
                issuer=self.config.issuer,
                leeway=self.config.clock_skew_seconds,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRefused("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise TokenRefused("the token is not valid yet (nbf/iat in the future)") from None
        except jwt.InvalidAudienceError:
            raise TokenRefused(f"the token's audience is not {self.config.audience}") from None
        except jwt.InvalidIssuerError:
            raise TokenRefused(f"the token's issuer is not {self.config.issuer}") from None
        except jwt.PyJWTError as exc:
            raise TokenRefused(f"invalid token: {exc}") from None
        return self.identity(claims)

    def identity(self, claims: dict[str, Any]) -> Identity:
        c = self.config
        raw_role = claims.get(c.role_claim)
        offered = [raw_role] if isinstance(raw_role, str) else list(raw_role or [])
        role = next((r for r in ROLE_ORDER if r in offered), None)
        if role is None:
            raise TokenRefused(
                f"claim {c.role_claim} must name a role: one of {', '.join(ROLE_ORDER)}"
            )
        scope = claims.get(c.scope_claim)
        if role in ("city_admin", "service"):
            scope = scope if isinstance(scope, str) and scope else "*"
        elif not isinstance(scope, str) or not scope:
            raise TokenRefused(f"claim {c.scope_claim} must give the region id a {role} acts in")
        name = claims.get(c.name_claim)
        return Identity(
            subject=str(claims["sub"]),
            name=name if isinstance(name, str) else None,
            role=role,
            scope=scope,
        )
