"""HTTP API of the time bank (时间银行), part of the activities service.

  GET  /v1/timebank/accounts/{account_id}             balance and totals
  GET  /v1/timebank/accounts/{account_id}/statement   every movement with the running balance
  POST /v1/timebank/accounts                          a community opens a resident's account
  POST /v1/timebank/accounts/{account_id}/gifts       give hours to another account
  POST /v1/timebank/offers, GET /v1/timebank/offers   a community's catalogue of services
  POST /v1/timebank/offers/{offer_id}/withdraw        take a service off the catalogue
  POST /v1/timebank/offers/{offer_id}/redemptions     spend hours on a service

Hours are banked from volunteer_service activity.logged events (this service's and outside
systems'), with no monthly cap; a revoked record takes its hours back. Spending never takes a
balance below zero; a revocation may (the statement then shows the debt).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shared.api import ERROR_RESPONSES, Pool, as_body
from shared.auth import Caller
from shared.events import ID_PATTERN
from shared.events.types import Id

from ..usecases.timebank import TimeBank


def get_timebank(request: Request, pool: Pool) -> TimeBank:
    return TimeBank(pool, request.app.state.runtime.settings)


Bank = Annotated[TimeBank, Depends(get_timebank)]
AccountId = Annotated[str, Path(pattern=ID_PATTERN, description="The account (a member id).")]
OfferId = Annotated[str, Path(pattern=ID_PATTERN, description="The offer's id.")]
RequestId = Annotated[
    str | None,
    Field(
        default=None,
        pattern=ID_PATTERN,
        description="A client's id for this request: sending it again does nothing new and "
        "answers with the first result (200 instead of 201).",
    ),
]
GiftHours = Annotated[
    Decimal,
    Field(gt=0, le=1000, max_digits=6, decimal_places=2, description="Hours, 0 < h <= 1000."),
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResidentAccountIn(_In):
    account_id: Id = Field(description="The resident's account id (not a member id).")
    community_id: Id = Field(description="The community opening the account.")


class AccountOut(BaseModel):
    account_id: str = Field(description="The account.")
    kind: str = Field(description="member or resident.")
    community_id: str | None = Field(description="The holder's community, if known.")
    balance: Decimal = Field(description="Hours held now (negative after a revocation only).")
    earned: Decimal = Field(description="Hours banked from volunteering, net of revocations.")
    redeemed: Decimal = Field(description="Hours spent on services.")
    given: Decimal = Field(description="Hours given to other accounts.")
    received: Decimal = Field(description="Hours received from other accounts.")


class EntryOut(BaseModel):
    seq: int = Field(description="Order of the movement (pass as `after` to page on).")
    entry_id: str = Field(description="The movement's id.")
    account_id: str = Field(description="The account.")
    kind: str = Field(description="earned, revoked, redeemed, given or received.")
    hours: Decimal = Field(description="The change, positive when hours come in.")
    balance: Decimal = Field(description="The running balance after this movement.")
    at: datetime = Field(description="When (for earned hours: the volunteer record's time).")
    community_id: str | None = Field(description="Where the hours were earned or spent.")
    offer_id: str | None = Field(description="The service redeemed.")
    counterpart: str | None = Field(description="The other account of a gift.")
    note: str | None = Field(description="The giver's note.")
    logged_source: str | None = Field(description="source of the volunteer activity.logged.")
    logged_id: str | None = Field(description="id of the volunteer activity.logged.")


class StatementOut(BaseModel):
    account_id: str = Field(description="The account.")
    items: list[EntryOut] = Field(description="Movements, oldest first.")


class OfferIn(_In):
    community_id: Id = Field(description="The community offering the service.")
    title: str = Field(min_length=1, max_length=200, description="What the service is.")
    description: str | None = Field(default=None, max_length=2000, description="Details.")
    hours: Decimal = Field(
        gt=0, le=1000, max_digits=6, decimal_places=2, description="Its price in hours."
    )


class OfferOut(BaseModel):
    offer_id: str = Field(description="The offer.")
    community_id: str = Field(description="The community offering it.")
    title: str = Field(description="What it is.")
    description: str | None = Field(description="Details.")
    hours: Decimal = Field(description="Its price in hours.")
    status: str = Field(description="listed or withdrawn.")
    created_at: datetime = Field(description="When it was listed.")
    withdrawn_at: datetime | None = Field(description="When it was withdrawn.")


class OfferList(BaseModel):
    items: list[OfferOut] = Field(description="Offers, latest first.")


class RedeemIn(_In):
    account_id: Id = Field(description="The account paying with its hours.")
    request_id: RequestId


class GiftIn(_In):
    to_account_id: Id = Field(description="The account receiving the hours.")
    hours: GiftHours
    note: str | None = Field(default=None, max_length=500, description="A note for the receiver.")
    request_id: RequestId


router = APIRouter(prefix="/v1/timebank", responses=ERROR_RESPONSES, tags=["time bank"])


@router.post(
    "/accounts", status_code=201, response_model=AccountOut, summary="Open a resident's account"
)
async def open_account(body: ResidentAccountIn, caller: Caller, bank: Bank) -> dict[str, Any]:
    caller.require_write()
    await bank.open_resident_account(caller, body.account_id, body.community_id)
    return as_body(await bank.account(caller, body.account_id))


@router.get("/accounts/{account_id}", response_model=AccountOut, summary="An account's balance")
async def get_account(account_id: AccountId, caller: Caller, bank: Bank) -> dict[str, Any]:
    return as_body(await bank.account(caller, account_id))


@router.get(
    "/accounts/{account_id}/statement",
    response_model=StatementOut,
    summary="Every movement of an account with its running balance",
)
async def statement(
    account_id: AccountId,
    caller: Caller,
    bank: Bank,
    after: Annotated[int, Query(ge=0, le=2**62, description="Only movements after this seq.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many.")] = 100,
) -> dict[str, Any]:
    items = await bank.statement(caller, account_id, after, limit)
    return {"account_id": account_id, "items": as_body(items)}


@router.post(
    "/accounts/{account_id}/gifts",
    status_code=201,
    response_model=EntryOut,
    responses={200: {"model": EntryOut, "description": "A retried request_id: the first gift."}},
    summary="Give hours to another account",
)
async def give(
    account_id: AccountId, body: GiftIn, caller: Caller, bank: Bank, response: Response
) -> dict[str, Any]:
    caller.require_write()
    entry, created = await bank.give(
        caller, account_id, body.to_account_id, body.hours, body.note, body.request_id
    )
    response.status_code = 201 if created else 200
    return as_body(entry)


@router.post(
    "/offers", status_code=201, response_model=OfferOut, summary="List a service for hours"
)
async def list_offer(body: OfferIn, caller: Caller, bank: Bank) -> dict[str, Any]:
    caller.require_write()
    return as_body(await bank.list_offer(caller, body.model_dump()))


@router.get("/offers", response_model=OfferList, summary="A community's catalogue")
async def offers(
    caller: Caller,
    bank: Bank,
    community_id: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="Only this community.")
    ] = None,
    status: Annotated[
        Literal["listed", "withdrawn"] | None, Query(description="Only this status.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many.")] = 100,
) -> dict[str, Any]:
    return {"items": as_body(await bank.offers(caller, community_id, status, limit))}


@router.post(
    "/offers/{offer_id}/withdraw", response_model=OfferOut, summary="Withdraw a listed service"
)
async def withdraw(offer_id: OfferId, caller: Caller, bank: Bank) -> dict[str, Any]:
    caller.require_write()
    return as_body(await bank.withdraw_offer(caller, offer_id))


@router.post(
    "/offers/{offer_id}/redemptions",
    status_code=201,
    response_model=EntryOut,
    responses={200: {"model": EntryOut, "description": "A retried request_id: the first one."}},
    summary="Spend hours on a listed service (never below zero)",
)
async def redeem(
    offer_id: OfferId, body: RedeemIn, caller: Caller, bank: Bank, response: Response
) -> dict[str, Any]:
    caller.require_write()
    entry, created = await bank.redeem(caller, offer_id, body.account_id, body.request_id)
    response.status_code = 201 if created else 200
    return as_body(entry)
