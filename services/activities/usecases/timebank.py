"""Use cases of the time bank (时间银行) accounts: open an account, read its statement, list and
withdraw offers in a community's catalogue, redeem an offer and give hours, one transaction
each, every movement written with the event that announces it (outbox). How volunteer hours
are banked is in `banking`; the rules (spending never takes a balance below zero) are in
`domain.timebank`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from shared import outbox
from shared.auth import Principal
from shared.db import Conn
from shared.events import (
    CloudEvent,
    new_event,
)
from shared.events.timebank import (
    TIMEBANK_OFFER_CHANGED,
    TimebankOfferChanged,
)
from shared.refusals import conflict, forbidden, invalid, not_found
from shared.settings import Settings

from ..domain import timebank as rules
from ..persistence import common as persistence
from ..persistence import timebank as db
from . import checks
from .banking import changed_event
from .base import utcnow

Row = dict[str, Any]


# --- accounts, catalogue, redemptions and gifts -------------------------------------------


@dataclass
class TimeBank:
    pool: asyncpg.Pool
    settings: Settings

    async def _account_community(
        self, conn: Conn, account_id: str
    ) -> tuple[Row | None, str | None]:
        account = await db.account(conn, account_id)
        member = await persistence.member(conn, account_id)
        if account is None and member is None:
            raise not_found("account", account_id)
        community: str | None = None
        if member is not None and member["community_id"]:
            community = member["community_id"]
        elif account is not None:
            community = account["community_id"]
        return (dict(account) if account else None), community

    async def _account_scope(
        self, conn: Conn, caller: Principal, account_id: str
    ) -> tuple[Row | None, str | None]:
        """An account is in the scope of its holder's community; one with no community is
        visible to city-wide tokens only."""
        account, community = await self._account_community(conn, account_id)
        if community is not None:
            caller.require_region(await persistence.region_path(conn, community))
        elif not caller.may_access([]):
            raise forbidden(
                "forbidden", f"account {account_id} has no community; a city token is needed"
            )
        return account, community

    async def open_resident_account(
        self, caller: Principal, account_id: str, community_id: str
    ) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await checks.community(conn, caller, community_id)
            if await persistence.member(conn, account_id) is not None:
                raise conflict(
                    "is_member", f"{account_id} is a member; a member's account opens by itself"
                )
            row = await db.open_account(conn, account_id, "resident", community_id, utcnow())
            if row is None:
                raise conflict("account_exists", f"account {account_id} exists already")

    async def account(self, caller: Principal, account_id: str) -> rules.Account:
        async with self.pool.acquire() as conn:
            account, community = await self._account_scope(conn, caller, account_id)
            totals = await db.totals(conn, account_id)
            assert totals is not None
            return rules.Account(
                account_id=account_id,
                kind=account["kind"] if account else "member",
                community_id=community,
                balance=account["balance"] if account else rules.ZERO,
                **dict(totals),
            )

    async def statement(
        self, caller: Principal, account_id: str, after: int, limit: int
    ) -> list[rules.Entry]:
        async with self.pool.acquire() as conn:
            await self._account_scope(conn, caller, account_id)
            return [db.as_entry(r) for r in await db.statement(conn, account_id, after, limit)]

    async def list_offer(self, caller: Principal, body: dict[str, Any]) -> rules.Offer:
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            await checks.community(conn, caller, body["community_id"])
            row = await db.insert_offer(
                conn,
                {
                    "offer_id": f"TO-{uuid.uuid4().hex[:16]}",
                    **body,
                    "status": "listed",
                    "created_at": now,
                },
            )
            await outbox.add_to_outbox(conn, [self._offer_event(row, now)])
            return db.as_offer(row)

    def _offer_event(self, row: asyncpg.Record, at: datetime) -> CloudEvent:
        data = TimebankOfferChanged(
            offer_id=row["offer_id"],
            community_id=row["community_id"],
            title=row["title"],
            hours=row["hours"],
            status=row["status"],
        )
        return new_event(
            type=TIMEBANK_OFFER_CHANGED,
            source=self.settings.source,
            data=data,
            subject=row["offer_id"],
            time=at,
            id=f"timebank/offer/{row['offer_id']}/{row['status']}",
        )

    async def _offer(self, conn: Conn, caller: Principal, offer_id: str) -> Row:
        row = await db.offer(conn, offer_id)
        if row is None:
            raise not_found("offer", offer_id)
        caller.require_region(await persistence.region_path(conn, row["community_id"]))
        return dict(row)

    async def withdraw_offer(self, caller: Principal, offer_id: str) -> rules.Offer:
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            offer = await self._offer(conn, caller, offer_id)
            row = await db.withdraw_offer(conn, offer_id, now)
            if row is None:
                return db.as_offer(offer)  # withdrawing twice changes nothing
            await outbox.add_to_outbox(conn, [self._offer_event(row, now)])
            return db.as_offer(row)

    async def offers(
        self, caller: Principal, community_id: str | None, status: str | None, limit: int
    ) -> list[rules.Offer]:
        async with self.pool.acquire() as conn:
            if community_id is not None:
                await checks.community_filter(conn, caller, community_id)
            elif not caller.may_access([]):
                raise forbidden(
                    "forbidden",
                    f"a {caller.role} token must name a community_id within its scope",
                    field="community_id",
                )
            return [db.as_offer(r) for r in await db.offers(conn, community_id, status, limit)]

    async def _idempotent(
        self, conn: Conn, request_id: str | None, what: str, entry_id: str
    ) -> rules.Entry | None:
        """Claim the request id first: a concurrent retry waits on it, then finds the entry."""
        if request_id is None:
            return None
        if await db.record_request(conn, request_id, what, entry_id):
            return None
        earlier = await db.request(conn, request_id)
        assert earlier is not None
        if earlier["what"] != what:
            raise conflict(
                "request_conflict",
                f"request {request_id} was already used for another redemption or gift",
                field="request_id",
            )
        found = await db.entry(conn, earlier["entry_id"])
        assert found is not None
        return db.as_entry(found)

    async def redeem(
        self, caller: Principal, offer_id: str, account_id: str, request_id: str | None
    ) -> tuple[rules.Entry, bool]:
        now = utcnow()
        entry_id = f"TBX-{uuid.uuid4().hex[:20]}"
        async with self.pool.acquire() as conn, conn.transaction():
            offer = await self._offer(conn, caller, offer_id)
            what = rules.request_fingerprint("redeem", offer_id, account_id)
            if (done := await self._idempotent(conn, request_id, what, entry_id)) is not None:
                return done, False
            rules.check_offer_listed(offer)
            account, _ = await self._account_community(conn, account_id)
            balance = await db.debit(conn, account_id, offer["hours"])
            if balance is None:
                current = account["balance"] if account else rules.ZERO
                fresh = await db.account(conn, account_id)
                raise rules.insufficient(
                    account_id, fresh["balance"] if fresh else current, offer["hours"]
                )
            entry = await db.insert_entry(
                conn,
                {
                    "entry_id": entry_id,
                    "account_id": account_id,
                    "kind": "redeemed",
                    "hours": -offer["hours"],
                    "balance": balance,
                    "at": now,
                    "community_id": offer["community_id"],
                    "offer_id": offer_id,
                },
            )
            await outbox.add_to_outbox(conn, [changed_event(self.settings.source, entry)])
            return db.as_entry(entry), True

    async def give(
        self,
        caller: Principal,
        account_id: str,
        to_account_id: str,
        hours: Decimal,
        note: str | None,
        request_id: str | None,
    ) -> tuple[rules.Entry, bool]:
        rules.check_gift(account_id, to_account_id)
        now = utcnow()
        entry_id = f"TBG-{uuid.uuid4().hex[:20]}"
        async with self.pool.acquire() as conn, conn.transaction():
            _, community = await self._account_scope(conn, caller, account_id)
            what = rules.request_fingerprint("give", account_id, to_account_id, hours)
            if (done := await self._idempotent(conn, request_id, what, entry_id)) is not None:
                return done, False
            receiver = await db.account(conn, to_account_id)
            if receiver is None:
                member = await persistence.member(conn, to_account_id)
                if member is None or member["status"] == "deregistered":
                    raise invalid(
                        "unknown_account",
                        f"{to_account_id} is neither an account nor a registered member; a "
                        "community opens an account for a resident first",
                        field="to_account_id",
                    )
            await db.lock_accounts(conn, sorted({account_id, to_account_id}))
            balance = await db.debit(conn, account_id, hours)
            if balance is None:
                fresh = await db.account(conn, account_id)
                raise rules.insufficient(
                    account_id, fresh["balance"] if fresh else rules.ZERO, hours
                )
            given = await db.insert_entry(
                conn,
                {
                    "entry_id": entry_id,
                    "account_id": account_id,
                    "kind": "given",
                    "hours": -hours,
                    "balance": balance,
                    "at": now,
                    "community_id": community,
                    "counterpart": to_account_id,
                    "note": note,
                },
            )
            to_balance = await db.credit(conn, to_account_id, hours, None, now)
            received = await db.insert_entry(
                conn,
                {
                    "entry_id": f"{entry_id}-in",
                    "account_id": to_account_id,
                    "kind": "received",
                    "hours": hours,
                    "balance": to_balance,
                    "at": now,
                    "community_id": community,
                    "counterpart": account_id,
                    "note": note,
                },
            )
            await outbox.add_to_outbox(
                conn, [changed_event(self.settings.source, e) for e in (given, received)]
            )
            return db.as_entry(given), True
