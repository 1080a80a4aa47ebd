"""Bearer tokens for the internal APIs (docs/design.md §5.2).

A token carries a role and a region scope. Tokens come from configuration, never code:
`API_TOKENS` (comma-separated `token:role:scope` triples) and/or `API_TOKENS_FILE` (one triple per
line), re-read when the file changes, so a new token can be added, clients moved over, and the
old one removed without a restart. Tokens are compared in constant time.

Roles: `city_admin` (everything), `street_admin` and `community_admin` (write and read inside
their region), `service` (read-only, everywhere; the city portal, the big screen, reports),
`publisher` (an outside system: may only send events to `POST /v1/events`, and only the event
types its scope lists, separated by `|`, e.g.
`token:publisher:partygrid.activity.logged|partygrid.activity.revoked`; `*` for every type),
`party_org` (a Party organisation's own reader, scope = its party_org_id: only the half-yearly
feedback of its members, sub-organisations included).

People use bearer JWTs from the city's identity provider instead (shared.oidc: signature,
issuer, audience, expiry checked; role and scope from configured claims). A ranking-board
screen uses neither: it holds a session cookie from a short-lived signed link (shared.links),
read-only and limited to the link's region, for GET requests to the page's service only.
Every principal has a `name` for the audit trail: a static token's optional fourth field
(`token:role:scope:name`, else a fingerprint of the token), a JWT's `sub`. Never the token.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .api import ApiError
from .oidc import KeysUnavailable, OidcVerifier, TokenRefused, looks_like_jwt
from .refusals import forbidden

ROLES = ("city_admin", "street_admin", "community_admin", "service", "publisher", "party_org")
# what a party_org token (scope: a Party organisation id) may read: its own feedback
PARTY_ORG_PATHS = frozenset({"/v1/reports/feedback"})
BOARD_COOKIE = "partygrid_board"
_bearer = HTTPBearer(
    auto_error=False,
    description="A token configured in API_TOKENS, or a JWT from the city's identity provider.",
)


@dataclass(frozen=True)
class Principal:
    name: str  # who, for the audit trail and logs: a token's name or a JWT's sub; never the token
    role: str
    scope: str  # a region id, or "*" for the whole city
    kind: str = "token"  # token (static), jwt (identity provider), link (board session)

    @property
    def read_only(self) -> bool:
        return self.role in ("service", "party_org") or self.kind == "link"

    def may_access(self, region_path: Iterable[str | None]) -> bool:
        """True if the resource lies in this principal's scope. `region_path` is the
        resource's region and its ancestors (community, street, district, …)."""
        if self.role in ("city_admin", "service") or self.scope == "*":
            return True
        return self.scope in {r for r in region_path if r}

    def require_write(self) -> None:
        if self.read_only:
            raise forbidden("forbidden", f"this token is read-only (role {self.role})")

    def require_region(self, region_path: Iterable[str | None]) -> None:
        path = list(region_path)
        if not self.may_access(path):
            raise forbidden(
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
            raise forbidden("forbidden", "only a city_admin token may do this")


def parse_tokens(text: str) -> dict[str, Principal]:
    tokens: dict[str, Principal] = {}
    for raw in text.replace("\n", ",").split(","):
        item = raw.strip()
        if not item or item.startswith("#"):
            continue
        parts = item.split(":")
        if len(parts) not in (3, 4) or parts[1] not in ROLES or len(parts[0]) < 16:
            raise ValueError(
                "each token entry must be token:role:scope[:name] with a token of 16+ characters "
                f"and role one of {', '.join(ROLES)}"
            )
        if parts[1] == "publisher" and parts[2] != "*":
            from .events import EVENT_TYPES  # the registry, not the envelope: no import cycle

            unknown = set(parts[2].split("|")) - set(EVENT_TYPES)
            if unknown:
                raise ValueError(
                    f"a publisher token's scope lists event types separated by | (or *); "
                    f"unknown: {', '.join(sorted(unknown))}"
                )
        name = parts[3] if len(parts) == 4 and parts[3] else fingerprint(parts[0])
        tokens[parts[0]] = Principal(name, parts[1], parts[2])
    return tokens


def fingerprint(token: str) -> str:
    """A name for an unnamed token: a hash prefix, which does not reveal the token."""
    return "token-" + hashlib.sha256(token.encode()).hexdigest()[:10]


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
    principal = await _principal(request, credentials)
    request.state.principal = principal  # the audit trail's "who"
    return principal


async def _principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    if credentials is None:
        session = request.cookies.get(BOARD_COOKIE)
        links = getattr(request.app.state, "links", None)
        if session and links is not None and request.method in ("GET", "HEAD"):
            viewer = links.session(session)
            if viewer is not None:
                return viewer
            raise ApiError(401, "unauthorized", "the board session has expired; open a new link")
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <token>")
    token = credentials.credentials
    verifier: OidcVerifier | None = getattr(request.app.state, "oidc", None)
    if verifier is not None and looks_like_jwt(token):
        try:
            who = await verifier.verify(token)
        except TokenRefused as exc:
            raise ApiError(401, "unauthorized", f"identity provider token refused: {exc}") from None
        except KeysUnavailable as exc:
            raise ApiError(503, "identity_provider_unavailable", f"{exc}; try again") from None
        name = f"{who.subject} ({who.name})" if who.name else who.subject
        return Principal(name, who.role, who.scope, kind="jwt")
    store: TokenStore = request.app.state.tokens
    principal = store.lookup(token)
    if principal is None:
        raise ApiError(401, "unauthorized", "unknown or revoked token")
    return principal


async def authenticate(
    request: Request, principal: Annotated[Principal, Depends(any_token)]
) -> Principal:
    """Every API but the event ingress: a publisher token opens nothing else; a party_org
    token only its organisation's feedback."""
    if principal.role == "publisher":
        raise ApiError(
            403, "forbidden", "a publisher token may only send events to POST /v1/events"
        )
    if principal.role == "party_org" and request.url.path not in PARTY_ORG_PATHS:
        raise ApiError(
            403,
            "forbidden",
            "a party_org token may only read its organisation's feedback "
            f"({', '.join(sorted(PARTY_ORG_PATHS))})",
        )
    return principal


Caller = Annotated[Principal, Depends(authenticate)]
# the event ingress (POST /v1/events): publisher tokens too
Publisher = Annotated[Principal, Depends(any_token)]
