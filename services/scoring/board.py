"""The ranking board (GET /board): a plain HTML/JS page people can put on a screen.

Why a separate router: the page itself is static and carries no data, so it needs no token;
everything it shows comes from the token-protected /v1 API, which the page calls with the token
the viewer gave it once as ?token=... (kept in the browser tab's sessionStorage). Serving it from
the scoring service keeps it on the same origin as the API (no CORS) and in step with it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

PAGE = Path(__file__).parent / "board" / "index.html"

router = APIRouter(tags=["ranking board"])


@cache
def _page() -> str:
    return PAGE.read_text(encoding="utf-8")


@router.get("/board", response_class=HTMLResponse, summary="Ranking board (HTML page)")
async def board() -> HTMLResponse:
    """The live ranking board: streets, communities, red and black boards, zero-point counts.
    Open it as /board?token=<bearer token>; it refreshes itself every few seconds."""
    return HTMLResponse(
        _page(), headers={"Cache-Control": "no-cache", "Referrer-Policy": "no-referrer"}
    )
