"""SQL of the time bank. Balances change only in `credit` and `debit`, which lock the
account's row (the UPDATE does) and return the new balance; the caller writes the entry with
that balance in the same transaction, so entries of an account are serialised and each carries
its running balance. `debit` is a conditional UPDATE: of simultaneous redemptions only those the
balance covers succeed, whatever their interleaving."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from shared.db import Conn

from ..domain.timebank import Entry, Offer

Row = asyncpg.Record


def as_entry(row: Row | dict[str, Any]) -> Entry:
    """The domain movement of a row of ENTRY_COLUMNS."""
    return Entry(**dict(row))


def as_offer(row: Row | dict[str, Any]) -> Offer:
    """The domain offer of a row of OFFER_COLUMNS."""
    return Offer(**dict(row))


ENTRY_COLUMNS = (
    "seq, entry_id, account_id, kind, hours, balance, at, community_id, offer_id, counterpart, "
    "note, logged_source, logged_id"
)
OFFER_COLUMNS = (
    "offer_id, community_id, title, description, hours, status, created_at, withdrawn_at"
)
ACCOUNT_COLUMNS = "account_id, kind, community_id, balance, opened_at"


async def account(conn: Conn, account_id: str) -> Row | None:
    return await conn.fetchrow(
        f"SELECT {ACCOUNT_COLUMNS} FROM timebank_accounts WHERE account_id = $1", account_id
    )


async def open_account(
    conn: Conn, account_id: str, kind: str, community_id: str | None, at: datetime
) -> Row | None:
    """Open an account; None if it exists already."""
    return await conn.fetchrow(
        f"""INSERT INTO timebank_accounts (account_id, kind, community_id, opened_at)
            VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING {ACCOUNT_COLUMNS}""",
        account_id,
        kind,
        community_id,
        at,
    )


async def lock_accounts(conn: Conn, account_ids: list[str]) -> None:
    """Lock several accounts in one order (by id), so two opposite gifts cannot deadlock."""
    await conn.execute(
        "SELECT 1 FROM timebank_accounts WHERE account_id = ANY($1::text[]) "
        "ORDER BY account_id FOR UPDATE",
        account_ids,
    )


async def credit(
    conn: Conn, account_id: str, hours: Decimal, community_id: str | None, at: datetime
) -> Decimal:
    """Add hours (negative: take back), opening a member's account on its first hours."""
    return await conn.fetchval(
        """INSERT INTO timebank_accounts AS a (account_id, kind, community_id, balance, opened_at)
           VALUES ($1, 'member', $3, $2, $4)
           ON CONFLICT (account_id) DO UPDATE SET
               balance = a.balance + $2, community_id = coalesce($3, a.community_id)
           RETURNING balance""",
        account_id,
        hours,
        community_id,
        at,
    )


async def debit(conn: Conn, account_id: str, hours: Decimal) -> Decimal | None:
    """Take hours out if the balance covers them; None (nothing changed) if it does not."""
    return await conn.fetchval(
        "UPDATE timebank_accounts SET balance = balance - $2 "
        "WHERE account_id = $1 AND balance >= $2 RETURNING balance",
        account_id,
        hours,
    )


async def insert_entry(conn: Conn, values: dict[str, Any]) -> Row:
    cols = list(values)
    params = ", ".join(f"${i}" for i in range(1, len(cols) + 1))
    row = await conn.fetchrow(
        f"INSERT INTO timebank_entries ({', '.join(cols)}) VALUES ({params}) "
        f"RETURNING {ENTRY_COLUMNS}",
        *values.values(),
    )
    assert row is not None
    return row


async def entry(conn: Conn, entry_id: str) -> Row | None:
    return await conn.fetchrow(
        f"SELECT {ENTRY_COLUMNS} FROM timebank_entries WHERE entry_id = $1", entry_id
    )


async def earned_entry(conn: Conn, source: str, id_: str) -> Row | None:
    return await conn.fetchrow(
        f"""SELECT {ENTRY_COLUMNS} FROM timebank_entries
            WHERE logged_source = $1 AND logged_id = $2 AND kind = 'earned'""",
        source,
        id_,
    )


async def record_revocation(conn: Conn, source: str, id_: str, at: datetime) -> bool:
    """Remember a revocation; False if it was seen before."""
    return (
        await conn.fetchval(
            "INSERT INTO timebank_revocations (logged_source, logged_id, received_at) "
            "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1",
            source,
            id_,
            at,
        )
        is not None
    )


async def is_revoked(conn: Conn, source: str, id_: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM timebank_revocations "
            "WHERE logged_source = $1 AND logged_id = $2)",
            source,
            id_,
        )
    )


async def statement(conn: Conn, account_id: str, after_seq: int, limit: int) -> list[Row]:
    return await conn.fetch(
        f"SELECT {ENTRY_COLUMNS} FROM timebank_entries WHERE account_id = $1 AND seq > $2 "
        "ORDER BY seq LIMIT $3",
        account_id,
        after_seq,
        limit,
    )


async def totals(conn: Conn, account_id: str) -> Row | None:
    return await conn.fetchrow(
        """SELECT coalesce(sum(hours) FILTER (WHERE kind IN ('earned', 'revoked')), 0) AS earned,
                  coalesce(-sum(hours) FILTER (WHERE kind = 'redeemed'), 0) AS redeemed,
                  coalesce(-sum(hours) FILTER (WHERE kind = 'given'), 0) AS given,
                  coalesce(sum(hours) FILTER (WHERE kind = 'received'), 0) AS received
           FROM timebank_entries WHERE account_id = $1""",
        account_id,
    )


async def insert_offer(conn: Conn, values: dict[str, Any]) -> Row:
    cols = list(values)
    params = ", ".join(f"${i}" for i in range(1, len(cols) + 1))
    row = await conn.fetchrow(
        f"INSERT INTO timebank_offers ({', '.join(cols)}) VALUES ({params}) "
        f"RETURNING {OFFER_COLUMNS}",
        *values.values(),
    )
    assert row is not None
    return row


async def offer(conn: Conn, offer_id: str) -> Row | None:
    return await conn.fetchrow(
        f"SELECT {OFFER_COLUMNS} FROM timebank_offers WHERE offer_id = $1", offer_id
    )


async def offers(conn: Conn, community_id: str | None, status: str | None, limit: int) -> list[Row]:
    return await conn.fetch(
        f"""SELECT {OFFER_COLUMNS} FROM timebank_offers
            WHERE ($1::text IS NULL OR community_id = $1) AND ($2::text IS NULL OR status = $2)
            ORDER BY created_at DESC, offer_id LIMIT $3""",
        community_id,
        status,
        limit,
    )


async def withdraw_offer(conn: Conn, offer_id: str, at: datetime) -> Row | None:
    """Withdraw a listed offer; None if it was not listed."""
    return await conn.fetchrow(
        f"""UPDATE timebank_offers SET status = 'withdrawn', withdrawn_at = $2
            WHERE offer_id = $1 AND status = 'listed' RETURNING {OFFER_COLUMNS}""",
        offer_id,
        at,
    )


async def request(conn: Conn, request_id: str) -> Row | None:
    return await conn.fetchrow(
        "SELECT request_id, what, entry_id FROM timebank_requests WHERE request_id = $1",
        request_id,
    )


async def record_request(conn: Conn, request_id: str, what: str, entry_id: str) -> bool:
    return (
        await conn.fetchval(
            "INSERT INTO timebank_requests (request_id, what, entry_id) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING RETURNING 1",
            request_id,
            what,
            entry_id,
        )
        is not None
    )
