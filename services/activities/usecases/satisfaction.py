"""Residents' satisfaction with small wishes (微心愿): once a wish is fulfilled, the resident's
rating (1-5, optional comment) is recorded, once, and announced as satisfaction.rated (score
only); figures per community and street are read back and exported as a metric per street.
Rules and figures are in `shared.satisfaction`; the SQL is in `persistence.satisfaction`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from prometheus_client import Gauge

from shared import satisfaction as rules
from shared.auth import Principal
from shared.db import Conn
from shared.metrics import REGISTRY
from shared.outbox import add_to_outbox
from shared.refusals import not_found
from shared.settings import Settings

from ..persistence import common as persistence
from ..persistence import satisfaction as db
from ..persistence import wishes

SATISFACTION_AVERAGE = Gauge(
    "partygrid_activities_wish_satisfaction_average",
    "Mean rating (1-5) residents gave fulfilled small wishes of the street's communities.",
    ["street"],
    registry=REGISTRY,
)
SATISFACTION_RATINGS = Gauge(
    "partygrid_activities_wish_satisfaction_ratings",
    "Fulfilled small wishes rated by residents, per street.",
    ["street"],
    registry=REGISTRY,
)


async def figures(conn: Conn, level: str, within: str | None) -> rules.Figures:
    per_region: dict[str, dict[int, int]] = defaultdict(dict)
    for r in await db.counts(conn, level, within):
        per_region[r["region_id"]][r["score"]] = r["n"]
    return rules.figures(level, within, per_region)


async def refresh_gauges(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        for item in (await figures(conn, "street", None)).items:
            SATISFACTION_AVERAGE.labels(item.region_id).set(float(item.average))
            SATISFACTION_RATINGS.labels(item.region_id).set(item.ratings)


@dataclass
class Satisfaction:
    pool: asyncpg.Pool
    settings: Settings

    async def rate_wish(
        self, caller: Principal, wish_id: str, score: int, comment: str | None
    ) -> rules.Rating:
        now = datetime.now(UTC)
        async with self.pool.acquire() as conn, conn.transaction():
            wish = await wishes.wish(conn, wish_id)
            if wish is None:
                raise not_found("wish", wish_id)
            community = wish["community_id"]
            caller.require_region(await persistence.region_path(conn, community))
            rules.check_ratable("wish", wish_id, wish["status"], "fulfilled")
            rating = await db.insert_rating(conn, wish_id, community, score, comment, now)
            if rating is None:
                raise rules.already_rated("wish", wish_id)
            event = rules.rated_event("wish", wish_id, community, score, self.settings.source, now)
            await add_to_outbox(conn, [event])
        await refresh_gauges(self.pool)
        return rating

    async def satisfaction(
        self, caller: Principal, level: str, within: str | None
    ) -> rules.Figures:
        async with self.pool.acquire() as conn:
            if within is not None:
                caller.require_region(await persistence.region_path(conn, within))
            elif not caller.may_access([]):
                within = caller.scope  # a regional token sees its own region
            return await figures(conn, level, within)
