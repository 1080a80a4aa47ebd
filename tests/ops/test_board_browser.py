"""The ranking board in a real headless Chromium (Debian's `chromium`, driven over the DevTools
pipe): the scoring service runs for real (uvicorn on a free port, the embedded PostgreSQL and
tansu of tests/conftest.py), events come in from Kafka as an outside system sends them, and the
page must show the streets in rank order and follow new events without being reloaded.
A screenshot is saved to test-artifacts/board.png."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from dev.embedded import free_port
from dev.testing import ADMIN_TOKEN, REVIEWER_TOKEN, cloud_event, publish_raw, wait_until
from services.scoring.api.board import router as board_router
from services.scoring.main import create_app
from shared.events import ACTIVITY_LOGGED, MEMBER_REGISTERED, MEMBER_REPORTED, REGION_DEFINED

from .chromium import CDPError, Chromium, ensure_chromium

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
READONLY = "test-readonly-token-00001"

STREETS = {"S1": "东街道", "S2": "西街道", "S3": "南街道"}


@pytest.fixture(scope="module")
def chromium_binary() -> str:
    try:
        return ensure_chromium()
    except RuntimeError as exc:
        pytest.fail(str(exc))


class Served:
    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="scoring-uvicorn", daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            assert self.thread.is_alive(), "uvicorn stopped while starting"
            time.sleep(0.1)
        raise AssertionError("scoring not ready in 30 s")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(20)


@pytest.fixture
def scoring(settings_for: Any) -> Iterator[Served]:
    app = create_app(settings_for("scoring"))
    if not any(getattr(r, "path", None) == "/board" for r in app.routes):
        app.include_router(board_router)  # until main.py includes it
    with Served(app) as served:
        yield served


@pytest.fixture
def browser(chromium_binary: str) -> Iterator[Chromium]:
    b = Chromium(chromium_binary)
    try:
        yield b
    finally:
        b.close()


def city_events(now: datetime) -> list[tuple[str, bytes, dict[str, Any]]]:
    """3 streets with one community each, 2 members each; reported long ago (so the report's
    10 points fall in last year), then: S1 members 10 points each, one S2 member 1 point,
    S3 nothing. Street averages: S1 10, S2 0.5, S3 0."""
    long_ago = now - timedelta(days=400)
    out: list[tuple[str, bytes, dict[str, Any]]] = [
        (
            REGION_DEFINED,
            b"D1",
            cloud_event(
                REGION_DEFINED,
                {"region_id": "D1", "level": "district", "name": "测试区"},
                subject="D1",
                time=long_ago,
            ),
        )
    ]
    for sid, name in STREETS.items():
        cid = f"C{sid}"
        out.append(
            (
                REGION_DEFINED,
                sid.encode(),
                cloud_event(
                    REGION_DEFINED,
                    {"region_id": sid, "level": "street", "name": name, "parent_id": "D1"},
                    subject=sid,
                    time=long_ago,
                ),
            )
        )
        out.append(
            (
                REGION_DEFINED,
                cid.encode(),
                cloud_event(
                    REGION_DEFINED,
                    {
                        "region_id": cid,
                        "level": "community",
                        "name": f"{name[0]}一社区",
                        "parent_id": sid,
                    },
                    subject=cid,
                    time=long_ago,
                ),
            )
        )
        for k in (1, 2):
            mid = f"M{sid}{k}"
            out.append(
                (
                    MEMBER_REGISTERED,
                    mid.encode(),
                    cloud_event(
                        MEMBER_REGISTERED,
                        {
                            "member_id": mid,
                            "name": f"{name[0]}党员{k}",
                            "category": "resident",
                            "party_org_id": f"PO{sid}",
                        },
                        subject=mid,
                        time=long_ago,
                    ),
                )
            )
            out.append(
                (
                    MEMBER_REPORTED,
                    mid.encode(),
                    cloud_event(
                        MEMBER_REPORTED,
                        {"member_id": mid, "community_id": cid},
                        subject=mid,
                        time=long_ago,
                    ),
                )
            )
    for mid in ("MS11", "MS12"):
        for _ in range(2):
            out.append(activity(mid, "organization_life", now))
    out.append(activity("MS21", "study", now))
    return out


def activity(member_id: str, activity_type: str, when: datetime) -> tuple[str, bytes, dict]:
    return (
        ACTIVITY_LOGGED,
        member_id.encode(),
        cloud_event(
            ACTIVITY_LOGGED,
            {"member_id": member_id, "activity_type": activity_type},
            subject=member_id,
            source="/city/org-life-system",
            time=when,
        ),
    )


STREET_ROWS = """[...document.querySelectorAll('#streets tbody tr')].map(tr =>
  [tr.dataset.regionId, tr.cells[0].textContent, tr.cells[1].firstChild.textContent,
   tr.cells[2].textContent, tr.cells[5].textContent])"""
# The page fills the streets, then (after more API calls) the boards, then counts a finished
# refresh in body.dataset.loaded: what a test reads must wait for that count, not for the rows.
BOARD = f"({{loaded: Number(document.body.dataset.loaded || 0), streets: {STREET_ROWS}}})"


async def dom_until(browser: Chromium, js: str, check: Any, wait: float = 30.0) -> Any:
    """Evaluate `js` until `check` accepts its value. An evaluation that throws (an element
    the page has not rendered yet, a context replaced by a navigation) means "not yet"."""

    async def probe() -> Any:
        value = await asyncio.to_thread(browser.evaluate, js)
        return value if check(value) else None

    try:
        return await wait_until(probe, timeout=wait, interval=0.3, not_yet=(CDPError,))
    except AssertionError as exc:
        raise AssertionError(
            f"page never matched; console: {browser.console[-10:]}; {exc}"
        ) from None


async def test_board_shows_streets_in_rank_order_and_updates_live(
    scoring: Served, browser: Chromium, kafka: Any
) -> None:
    now = datetime.now(UTC)
    await publish_raw(kafka.bootstrap, city_events(now))

    async with httpx.AsyncClient(
        base_url=scoring.url, timeout=5, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ) as http:

        async def applied() -> bool:
            items = (await http.get("/v1/rankings/streets")).json()["items"]
            return [i["region_id"] for i in items] == ["S1", "S2", "S3"] and items[1]["score"] > 0

        await wait_until(applied, timeout=30)

        page = await asyncio.to_thread(lambda: httpx.get(scoring.url + "/board"))
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "街道排名" in page.text  # the static page needs no token

        # the page, opened with a short-lived read-only link made with a service token
        link = (
            await http.post(
                "/v1/board-links", json={}, headers={"Authorization": f"Bearer {READONLY}"}
            )
        ).json()
        await asyncio.to_thread(browser.navigate, f"{scoring.url}{link['url']}&refresh=1")
        board = await dom_until(browser, BOARD, lambda v: v["loaded"] >= 1)
        rows = board["streets"]
        assert rows == [
            ["S1", "1", "东街道", "10", "0"],
            ["S2", "2", "西街道", "0.5", "1"],
            ["S3", "3", "南街道", "0", "2"],
        ]
        assert (
            await asyncio.to_thread(
                browser.evaluate, "document.getElementById('zero-total').textContent"
            )
            == "3"
        )
        # the link left the address bar at once; the page holds no token
        assert await asyncio.to_thread(browser.evaluate, "location.search") == "?refresh=1"
        assert await asyncio.to_thread(browser.evaluate, "sessionStorage.length") == 0
        # no published board yet: the live top and bottom
        red = await asyncio.to_thread(
            browser.evaluate, "document.querySelector('#red tbody tr').cells[1].textContent"
        )
        assert red in ("东党员1", "东党员2")
        assert "No published board" in await asyncio.to_thread(
            browser.evaluate, "document.getElementById('boards-note').textContent"
        )
        before = board["loaded"]

        # new events: the south street's members do a theme Party day each, 3 times (15 points)
        later = datetime.now(UTC)
        await publish_raw(
            kafka.bootstrap,
            [activity(m, "theme_party_day", later) for m in ("MS31", "MS32") for _ in range(3)],
        )
        # updated by its own refresh (the count goes on), never reloaded
        board = await dom_until(
            browser, BOARD, lambda v: v["loaded"] > before and v["streets"][0][0] == "S3"
        )
        assert board["streets"] == [
            ["S3", "1", "南街道", "15", "0"],
            ["S1", "2", "东街道", "10", "0"],
            ["S2", "3", "西街道", "0.5", "1"],
        ]
        assert await asyncio.to_thread(browser.evaluate, "location.search") == "?refresh=1"

        # a published red and black board replaces the live top and bottom
        period = (await http.get("/v1/rankings/streets")).json()["period"]
        draft = (
            await http.post("/v1/boards", json={"period": period, "subject": "members", "size": 2})
        ).json()
        checker = {"Authorization": f"Bearer {REVIEWER_TOKEN}"}  # not the drafter
        await http.post(
            f"/v1/boards/{draft['board_id']}/review", json={"reviewer": "组织部"}, headers=checker
        )
        published = await http.post(f"/v1/boards/{draft['board_id']}/publish", headers=checker)
        assert published.status_code == 200
        note = await dom_until(
            browser,
            "document.getElementById('boards-note').textContent",
            lambda v: v and "Published board" in v,
        )
        assert f"#{draft['board_id']}" in note
        names = await asyncio.to_thread(
            browser.evaluate,
            """[...document.querySelectorAll(
            '#red tbody tr')].map(tr => tr.cells[1].textContent)""",
        )
        # the south street's members lead on points but had no organisation life: a hard
        # criterion keeps them off the red board, so the east street's members are on it
        assert sorted(names) == ["东党员1", "东党员2"]

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "board.png"
    await asyncio.to_thread(browser.screenshot, shot)
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # a forged link ends the session and shows the form instead of data
    await asyncio.to_thread(browser.navigate, f"{scoring.url}/board?link=forged.link.value")
    await dom_until(
        browser,
        "!!document.getElementById('login') && "
        "!document.getElementById('login').classList.contains('hidden')",
        lambda v: v is True,
    )
    assert "link refused" in await asyncio.to_thread(
        browser.evaluate, "document.getElementById('status').textContent"
    )


# what the page shows after each finished refresh: its period and which figures
SHOWN = """({loaded: Number(document.body.dataset.loaded || 0),
  period: document.body.dataset.period, figures: document.body.dataset.figures,
  picked: document.getElementById('period-picker').value})"""


def _pick(value: str) -> str:
    return f"""(() => {{ const s = document.getElementById('period-picker');
      s.value = {value!r}; s.dispatchEvent(new Event('change')); return s.value; }})()"""


def _months(now: datetime) -> tuple[str, str]:
    """The current month in the city and the one before it."""
    local = now.astimezone(ZoneInfo("Asia/Shanghai"))
    before = local.replace(day=1) - timedelta(days=1)
    return f"{local:%Y-%m}", f"{before:%Y-%m}"


async def _open_board(scoring: Served, browser: Chromium, http: httpx.AsyncClient) -> None:
    link = (
        await http.post("/v1/board-links", json={}, headers={"Authorization": f"Bearer {READONLY}"})
    ).json()
    await asyncio.to_thread(browser.navigate, f"{scoring.url}{link['url']}&refresh=1")


async def test_board_opens_on_the_latest_closed_period_and_the_live_month_is_a_click_away(
    scoring: Served, browser: Chromium, kafka: Any
) -> None:
    now = datetime.now(UTC)
    current, last = _months(now)
    await publish_raw(kafka.bootstrap, city_events(now))
    async with httpx.AsyncClient(
        base_url=scoring.url, timeout=5, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ) as http:
        assert (await http.post(f"/v1/periods/{last}/close")).status_code == 200
        await _open_board(scoring, browser, http)
        shown = await dom_until(browser, SHOWN, lambda v: v["loaded"] >= 1)
        assert (shown["period"], shown["figures"], shown["picked"]) == (last, "closed", last)
        await asyncio.to_thread(browser.evaluate, _pick(""))
        live = await dom_until(browser, SHOWN, lambda v: v["period"] == current)
        assert (live["figures"], live["picked"]) == ("live", "")


async def test_a_slow_answer_for_an_earlier_choice_never_overwrites_the_later_one(
    scoring: Served, browser: Chromium, kafka: Any
) -> None:
    now = datetime.now(UTC)
    current, last = _months(now)
    await publish_raw(kafka.bootstrap, city_events(now))
    async with httpx.AsyncClient(
        base_url=scoring.url, timeout=5, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ) as http:
        assert (await http.post(f"/v1/periods/{last}/close")).status_code == 200
        await _open_board(scoring, browser, http)
        await dom_until(browser, SHOWN, lambda v: v["loaded"] >= 1)
        # from now on, every answer about the closed month takes 3 seconds to come
        await asyncio.to_thread(
            browser.evaluate,
            f"""(() => {{ const real = window.fetch;
              window.fetch = (url, opts) => String(url).includes('period={last}')
                ? new Promise((ok) => setTimeout(() => ok(real(url, opts)), 3000))
                : real(url, opts);
              return true; }})()""",
        )
        await asyncio.to_thread(browser.evaluate, _pick(last))
        await asyncio.to_thread(browser.evaluate, _pick(""))
        # every period the page shows from now on, in order
        await asyncio.to_thread(
            browser.evaluate,
            """(() => { window.shownPeriods = [];
              new MutationObserver(() => window.shownPeriods.push(document.body.dataset.period))
                .observe(document.body, {attributes: true, attributeFilter: ['data-period']});
              return true; })()""",
        )
        await dom_until(browser, SHOWN, lambda v: v["period"] == current)
        await asyncio.sleep(4)  # the slow answers for the closed month have come meanwhile
        shown = await asyncio.to_thread(browser.evaluate, SHOWN)
        assert (shown["period"], shown["figures"], shown["picked"]) == (current, "live", "")
        periods = await asyncio.to_thread(browser.evaluate, "window.shownPeriods")
        assert periods and set(periods) == {current}, periods
