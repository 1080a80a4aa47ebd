"""The ranking board (GET /board): a plain HTML/JS page people can put on a screen.

Why a separate router: the page itself is static and carries no data, so it needs no token;
everything it shows comes from the protected /v1 API. Serving it from the scoring service keeps
it on the same origin as the API (no CORS) and in step with it.

No API token ever goes into its URL (browser history, proxy logs, screenshots). Access comes
from a board session cookie (shared.links): either a signed-in caller asks for a short-lived,
read-only, region-limited link (POST /v1/board-links) and the screen opens it once, or someone
pastes a token into the page's form, which exchanges it for the cookie (POST /board/session) —
the token travels in a header, once, and is not kept by the page. `?token=` is refused.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from shared.api import ERROR_RESPONSES, ApiError
from shared.auth import BOARD_COOKIE, Caller
from shared.events.types import ID_PATTERN
from shared.links import Issued, LinkSigner

PAGE = Path(__file__).parent / "board" / "index.html"

router = APIRouter(tags=["ranking board"])
_HEADERS = {"Cache-Control": "no-cache", "Referrer-Policy": "no-referrer"}


@cache
def _page() -> str:
    return PAGE.read_text(encoding="utf-8")


def _signer(request: Request) -> LinkSigner:
    signer: LinkSigner = request.app.state.links
    return signer


def _set_session(request: Request, response: Response, session: Issued) -> None:
    response.set_cookie(
        BOARD_COOKIE,
        session.value,
        max_age=session.max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


@router.get(
    "/board",
    response_class=HTMLResponse,
    summary="Ranking board (HTML page)",
    responses={
        303: {
            "description": "A link was given: its session cookie is set (or, for a forged or "
            "expired link, removed) and the page is opened without the link in its address."
        }
    },
)
async def board(
    request: Request,
    link: Annotated[
        str | None, Query(description="A board link from POST /v1/board-links, opened once.")
    ] = None,
) -> Response:
    """The live ranking board: streets, communities, red and black boards, zero-point counts.
    Open a link from POST /v1/board-links; it refreshes itself every few seconds
    (`refresh=<seconds>`, `period=<label>` are kept)."""
    if link is None:
        return HTMLResponse(_page(), headers=_HEADERS)
    # exchange the link for the session cookie and take it out of the address bar at once
    rest = [(k, v) for k, v in request.query_params.multi_items() if k not in ("link", "refused")]
    session = _signer(request).exchange(link)
    if session is None:
        rest.append(("refused", "link"))
    target = "/board" + ("?" + urlencode(rest) if rest else "")
    response = RedirectResponse(target, status_code=303, headers=_HEADERS)
    if session is None:
        response.delete_cookie(BOARD_COOKIE, path="/")
    else:
        _set_session(request, response, session)
    return response


class BoardLinkIn(BaseModel):
    scope: str | None = Field(
        default=None,
        pattern=ID_PATTERN,
        description="Region the board may show (a street or community id); default and upper "
        "bound: the caller's own scope ('*' = the whole city, only for city-wide tokens).",
    )


class BoardLinkOut(BaseModel):
    url: str = Field(description="Path to open once on the screen, e.g. /board?link=…")
    scope: str = Field(description="The region the board's session may read ('*': the city).")
    expires_at: str = Field(description="The link must be opened before this time (UTC).")
    session_hours: float = Field(description="How long the screen's session lasts once opened.")


@router.post(
    "/v1/board-links",
    response_model=BoardLinkOut,
    status_code=201,
    responses=ERROR_RESPONSES,
    summary="A short-lived, read-only, region-limited link to the ranking board",
)
async def make_board_link(request: Request, caller: Caller, body: BoardLinkIn) -> BoardLinkOut:
    scope = body.scope or caller.scope
    if caller.scope != "*" and scope != caller.scope:
        raise ApiError(
            403,
            "forbidden",
            f"a {caller.role} token for {caller.scope} may only make links for {caller.scope}",
            field="scope",
            rule=f"omit it or give {caller.scope}",
        )
    signer = _signer(request)
    issued = signer.make_link(caller, scope)
    return BoardLinkOut(
        url="/board?" + urlencode({"link": issued.value}),
        scope=scope,
        expires_at=issued.expires_at.isoformat(),
        session_hours=signer.session_seconds / 3600,
    )


@router.post(
    "/board/session",
    status_code=204,
    responses=ERROR_RESPONSES,
    summary="Exchange a bearer token (in the header) for a read-only board session cookie",
)
async def board_session(request: Request, caller: Caller) -> Response:
    signer = _signer(request)
    link = signer.make_link(caller, caller.scope)
    session = signer.exchange(link.value)
    assert session is not None
    response = Response(status_code=204)
    _set_session(request, response, session)
    return response
