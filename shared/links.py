"""Short-lived, read-only, region-limited links for pages such as the ranking board, so that no
API token ever goes into a URL (browser history, proxy logs, screenshots).

A signed-in caller asks for a link (`POST /v1/board-links`); the link carries a signed claim
set (HS256 via PyJWT, secret `LINK_SECRET`): purpose `link`, the region scope (never wider than
the caller's), who made it, and an expiry of `LINK_MINUTES`. Opening the link exchanges it once
for an HttpOnly, SameSite=Strict session cookie (purpose `session`, `BOARD_SESSION_HOURS`) and
redirects to the page without it, so the link leaves the address bar at once. The cookie is
honoured only for GET requests, only by the service that serves the page, and only read-only:
role `service` for a city-wide link, else the maker's admin role limited to the link's region,
so every existing scope check applies. A stolen cookie or link can read one region's rankings
for a while, and change nothing.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt

from .auth import Principal

_ALG = "HS256"


@dataclass(frozen=True)
class Issued:
    value: str
    expires_at: datetime
    max_age: int


class LinkSigner:
    def __init__(
        self, secret: str | None, link_minutes: float = 10, session_hours: float = 12
    ) -> None:
        # without a configured secret, links only work on the process that made them
        self._secret = (secret or secrets.token_urlsafe(32)).encode()
        self.link_seconds = int(link_minutes * 60)
        self.session_seconds = int(session_hours * 3600)

    def _issue(self, purpose: str, scope: str, role: str, by: str, seconds: int) -> Issued:
        now = int(time.time())
        claims = {
            "pur": purpose,
            "scope": scope,
            "role": role,
            "by": by,
            "iat": now,
            "exp": now + seconds,
        }
        value = jwt.encode(claims, self._secret, algorithm=_ALG)
        return Issued(value, datetime.fromtimestamp(now + seconds, UTC), seconds)

    def _check(self, value: str, purpose: str) -> dict[str, str] | None:
        try:
            claims = jwt.decode(
                value, self._secret, algorithms=[_ALG], options={"require": ["exp", "iat"]}
            )
        except jwt.PyJWTError:
            return None
        if claims.get("pur") != purpose or not all(
            isinstance(claims.get(k), str) for k in ("scope", "role", "by")
        ):
            return None
        return claims

    def make_link(self, caller: Principal, scope: str) -> Issued:
        """A link for `scope` (the caller checks it lies within its own scope)."""
        if scope == "*":
            role = "service"
        elif caller.role in ("street_admin", "community_admin"):
            role = caller.role
        else:
            role = "street_admin"  # a city-wide caller narrowing the board to one region
        return self._issue("link", scope, role, caller.name, self.link_seconds)

    def exchange(self, link: str) -> Issued | None:
        """A valid link's session cookie value, or None for a forged or expired link."""
        claims = self._check(link, "link")
        if claims is None:
            return None
        return self._issue(
            "session", claims["scope"], claims["role"], claims["by"], self.session_seconds
        )

    def session(self, value: str) -> Principal | None:
        claims = self._check(value, "session")
        if claims is None:
            return None
        return Principal(
            f"board link by {claims['by']}", claims["role"], claims["scope"], kind="link"
        )
