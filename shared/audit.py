"""The audit trail: who changed what, when, and with what outcome, in every service's own
database (table `audit_log`, shared migration), written in the same transaction as the change.

Why a hook and not a call in every use case: use cases open their transactions themselves
(`async with pool.acquire() as conn, conn.transaction():`), always on the pool the `Pool`
dependency hands the route. For a state-changing request (POST, PUT, PATCH, DELETE) that
dependency hands out an `AuditedPool` instead: the same pool, whose connections' outermost
transaction
- at its start sets the transaction-local setting `partygrid.actor` (so tables can record
  their author with `DEFAULT partygrid_actor()` or a trigger, with no code in the use case), and
- just before its commit inserts the audit row (outcome `ok`) on the same connection, so the
  row exists exactly when the change does: a transaction that rolls back leaves no `ok` row.
One row per request: the first committed transaction records it. The middleware then fills in
the HTTP status; a request that committed nothing (refused with 4xx, failed with 5xx, or a
write without a transaction) gets its row in a small transaction of its own.

Who: the principal's name (a static token's name or fingerprint, a JWT's `sub`), or
`anonymous` when authentication itself failed. What: method, route template (`endpoint`) and
the actual path (`resource`). Never the body, never a token.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from starlette.types import Scope

from .db import Conn

log = logging.getLogger(__name__)

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
OUTCOMES = ("ok", "refused", "failed")

_INSERT = """INSERT INTO audit_log
                 (actor, actor_kind, role, method, endpoint, resource, outcome, status, error)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id"""


@dataclass
class AuditContext:
    """One state-changing request being audited (`request.state.audit`)."""

    scope: Scope
    row_id: int | None = None  # set once the request's row is written
    closed: bool = False  # the response is out: later transactions record nothing

    def who(self) -> tuple[str, str, str | None]:
        principal = self.scope.get("state", {}).get("principal")
        if principal is None:
            return "anonymous", "none", None
        return principal.name, principal.kind, principal.role

    def values(self, outcome: str, status: int | None, error: str | None) -> tuple[Any, ...]:
        actor, kind, role = self.who()
        route = self.scope.get("route")
        endpoint = getattr(route, "path", None) or "unmatched"
        return (
            actor,
            kind,
            role,
            self.scope["method"],
            endpoint,
            self.scope["path"],
            outcome,
            status,
            error,
        )


async def _record(conn: Conn, ctx: AuditContext, outcome: str, status: int | None) -> int:
    row_id = await conn.fetchval(_INSERT, *ctx.values(outcome, status, None))
    assert row_id is not None
    return int(row_id)


class AuditedTransaction:
    """An asyncpg transaction that writes the request's audit row just before it commits."""

    def __init__(self, conn: Conn, ctx: AuditContext, **options: Any) -> None:
        self._conn = conn
        self._ctx = ctx
        self._tx = conn.transaction(**options)
        self._outer = False

    async def start(self) -> None:
        self._outer = not self._conn.is_in_transaction()
        await self._tx.start()
        if self._outer:
            actor, _, _ = self._ctx.who()
            await self._conn.execute("SELECT set_config('partygrid.actor', $1, true)", actor)

    async def commit(self) -> None:
        ctx = self._ctx
        row_id = None
        if self._outer and ctx.row_id is None and not ctx.closed:
            try:
                row_id = await _record(self._conn, ctx, "ok", None)
            except BaseException:
                await self._tx.rollback()
                raise
        await self._tx.commit()
        if row_id is not None:
            ctx.row_id = row_id

    async def rollback(self) -> None:
        await self._tx.rollback()

    async def __aenter__(self) -> AuditedTransaction:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            await self.commit()
        else:
            await self.rollback()


class AuditedConnection:
    """A pool connection whose transactions are audited; everything else is the connection."""

    def __init__(self, conn: Conn, ctx: AuditContext) -> None:
        self._conn = conn
        self._ctx = ctx

    def transaction(self, **options: Any) -> AuditedTransaction:
        return AuditedTransaction(self._conn, self._ctx, **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class _Acquire:
    def __init__(self, pool: asyncpg.Pool, ctx: AuditContext, options: dict[str, Any]) -> None:
        self._inner = pool.acquire(**options)
        self._ctx = ctx

    async def __aenter__(self) -> AuditedConnection:
        return AuditedConnection(await self._inner.__aenter__(), self._ctx)

    async def __aexit__(self, *exc: Any) -> None:
        await self._inner.__aexit__(*exc)

    def __await__(self) -> Generator[Any, None, AuditedConnection]:
        conn = yield from self._inner.__await__()
        return AuditedConnection(conn, self._ctx)


class AuditedPool:
    """The service's pool as a state-changing request sees it (see the module docstring)."""

    def __init__(self, pool: asyncpg.Pool, ctx: AuditContext) -> None:
        self._pool = pool
        self._ctx = ctx

    def acquire(self, **options: Any) -> _Acquire:
        return _Acquire(self._pool, self._ctx, options)

    async def release(self, conn: Any, **options: Any) -> None:
        raw: Any = conn._conn if isinstance(conn, AuditedConnection) else conn
        await self._pool.release(raw, **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


@dataclass(frozen=True)
class AuditFilters:
    """Which entries to list; None means any. `resource` is a path prefix."""

    actor: str | None = None
    method: str | None = None
    endpoint: str | None = None
    resource: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> tuple[str, list[Any]]:
        parts: list[str] = []
        args: list[Any] = []
        for column, value, op in (
            ("actor", self.actor, "="),
            ("method", self.method, "="),
            ("endpoint", self.endpoint, "="),
            ("outcome", self.outcome, "="),
            ("at", self.since, ">="),
            ("at", self.until, "<"),
        ):
            if value is not None:
                args.append(value)
                parts.append(f"{column} {op} ${len(args)}")
        if self.resource is not None:
            escaped = self.resource.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            args.append(escaped)
            parts.append(f"resource LIKE ${len(args)} || '%'")
        return " AND ".join(parts) or "true", args


async def list_entries(
    conn: Conn, filters: AuditFilters, limit: int, offset: int
) -> tuple[int, list[asyncpg.Record]]:
    """Matching entries, newest first, and how many match in all."""
    where, args = filters.where()
    total = await conn.fetchval(f"SELECT count(*) FROM audit_log WHERE {where}", *args)
    rows = await conn.fetch(
        f"""SELECT * FROM audit_log WHERE {where}
            ORDER BY at DESC, id DESC LIMIT ${len(args) + 1} OFFSET ${len(args) + 2}""",
        *args,
        limit,
        offset,
    )
    return int(total or 0), rows


def audited(pool: asyncpg.Pool, request: Request) -> asyncpg.Pool | AuditedPool:
    ctx: AuditContext | None = getattr(request.state, "audit", None)
    return pool if ctx is None else AuditedPool(pool, ctx)


def _outcome(status: int) -> str:
    return "ok" if status < 400 else "refused" if status < 500 else "failed"


def install_audit(app: FastAPI) -> None:
    """Audit every state-changing request (see the module docstring)."""

    @app.middleware("http")
    async def _audit(request: Request, call_next: Any) -> Any:
        if request.method not in WRITE_METHODS:
            return await call_next(request)
        ctx = AuditContext(request.scope)
        request.state.audit = ctx
        try:
            response = await call_next(request)
        except BaseException:
            ctx.closed = True
            await _finish(request, ctx, 500)
            raise
        ctx.closed = True
        await _finish(request, ctx, response.status_code)
        return response


async def _finish(request: Request, ctx: AuditContext, status: int) -> None:
    pool: asyncpg.Pool | None = request.app.state.runtime.pool
    if pool is None:
        return
    try:
        if ctx.row_id is not None:
            # recorded with the change; now the answer is known
            await pool.execute("UPDATE audit_log SET status = $2 WHERE id = $1", ctx.row_id, status)
            return
        error = ctx.scope.get("state", {}).get("error_code")
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(_INSERT, *ctx.values(_outcome(status), status, error))
    except (OSError, asyncpg.PostgresError) as exc:  # the answer stands; say the row is missing
        log.error(
            "audit row for %s %s not written: %s", ctx.scope["method"], ctx.scope["path"], exc
        )
