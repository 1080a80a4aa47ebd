"""Bearer tokens for the internal APIs (docs/design.md §5.2).

A token carries a role and a region scope. Tokens come from configuration, never code:
`API_TOKENS` (comma-separated `token:role:scope` triples) and/or `API_TOKENS_FILE` (one triple per
line), re-read when the file changes, so a new token can be added, clients moved over, and the
old one removed without a restart. Tokens are compared in constant time.

Roles: `city_admin` (everything), `street_admin` and `community_admin` (write and read inside
their region), `service` (read-only, everywhere; the city portal, the big screen, reports),
`publisher` (an outside system: may only send events to `POST /v1/events`, and only the event
types its scope lists, separated by `|`, e.g.
`token:publisher:partygrid.activity.logged|partygrid.activity.revoked`; `*` for every type).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .api import ApiError

ROLES = ("city_admin", "street_admin", "community_admin", "service", "publisher")
_bearer = HTTPBearer(auto_error=False, description="A token configured in API_TOKENS.")


@dataclass(frozen=True)
class Principal:
    token_id: str  # first characters only, for logs; never the token
    role: str
    scope: str  # a region id, or "*" for the whole city

    @property
    def read_only(self) -> bool:
        return self.role == "service"

    def may_access(self, region_path: Iterable[str | None]) -> bool:
        """True if the resource lies in this principal's scope. `region_path` is the
        resource's region and its ancestors (community, street, district, …)."""
        if self.role in ("city_admin", "service") or self.scope == "*":
            return True
        return self.scope in {r for r in region_path if r}

    def require_write(self) -> None:
        if self.read_only:
            raise ApiError(403, "forbidden", "this token is read-only (role service)")

    def require_region(self, region_path: Iterable[str | None]) -> None:
        path = list(region_path)
        if not self.may_access(path):
            raise ApiError(
                403,
                "forbidden",
                f"a {self.role} token for {self.scope} may not access region "
                f"{next((r for r in path if r), '?')}",
            )

    @property
    def publishes(self) -> frozenset[str] | None:
        """Event types this token may send over HTTP; None for every type."""
        if self.role == "city_admin" or (self.role == "publisher" and self.scope == "*"):
            return None
        if self.role == "publisher":
            return frozenset(self.scope.split("|"))
        return frozenset()

    def require_city(self) -> None:
        if self.role != "city_admin":
            raise ApiError(403, "forbidden", "only a city_admin token may do this")


def parse_tokens(text: str) -> dict[str, Principal]:
    tokens: dict[str, Principal] = {}
    for raw in text.replace("\n", ",").split(","):
        item = raw.strip()
        if not item or item.startswith("#"):
            continue
        parts = item.split(":")
        if len(parts) != 3 or parts[1] not in ROLES or len(parts[0]) < 16:
            raise ValueError(
                "each token entry must be token:role:scope with a token of 16+ characters and "
                f"role one of {', '.join(ROLES)}"
            )
        if parts[1] == "publisher" and parts[2] != "*":
            from .events import EVENT_TYPES  # the registry, not the envelope: no import cycle

            unknown = set(parts[2].split("|")) - set(EVENT_TYPES)
            if unknown:
                raise ValueError(
                    f"a publisher token's scope lists event types separated by | (or *); "
                    f"unknown: {', '.join(sorted(unknown))}"
                )
        tokens[parts[0]] = Principal(parts[0][:4] + "…", parts[1], parts[2])
    return tokens


class TokenStore:
    def __init__(self, inline: str = "", file: str | None = None) -> None:
        self._inline = parse_tokens(inline)
        self._file = Path(file) if file else None
        self._mtime: float | None = None
        self._from_file: dict[str, Principal] = {}

    def _refresh(self) -> None:
        if self._file is None:
            return
        try:
            mtime = self._file.stat().st_mtime
        except FileNotFoundError:
            self._from_file = {}
            return
        if mtime != self._mtime:
            self._from_file = parse_tokens(self._file.read_text())
            self._mtime = mtime

    def lookup(self, token: str) -> Principal | None:
        self._refresh()
        found = None
        for known, principal in (*self._inline.items(), *self._from_file.items()):
            # compare against every token so timing does not reveal which prefix matched
            if hmac.compare_digest(known.encode(), token.encode()):
                found = principal
        return found


def token_store_from_env(inline: str | None = None, file: str | None = None) -> TokenStore:
    return TokenStore(
        inline if inline is not None else os.environ.get("API_TOKENS", ""),
        file if file is not None else os.environ.get("API_TOKENS_FILE"),
    )


async def any_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <token>")
    store: TokenStore = request.app.state.tokens
    principal = store.lookup(credentials.credentials)
    if principal is None:
        raise ApiError(401, "unauthorized", "unknown or revoked token")
    return principal


async def authenticate(principal: Annotated[Principal, Depends(any_token)]) -> Principal:
    """Every API but the event ingress: a publisher token opens nothing else."""
    if principal.role == "publisher":
        raise ApiError(
            403, "forbidden", "a publisher token may only send events to POST /v1/events"
        )
    return principal


Caller = Annotated[Principal, Depends(authenticate)]
# the event ingress (POST /v1/events): publisher tokens too
Publisher = Annotated[Principal, Depends(any_token)]
