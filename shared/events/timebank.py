"""Events of the time bank (时间银行) of the activities service.

Volunteer hours are banked per account (a member, or a resident a community opened an account
for) and spent on services a community lists for hours, or given to another account. Every
movement of an account is one `timebank.changed`, carrying the balance after it, so a reader
(a city portal, a report) can follow an account without asking the service.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .activities import EventRef
from .registry import register
from .types import Id

TIMEBANK_CHANGED = "partygrid.timebank.changed"
TIMEBANK_OFFER_CHANGED = "partygrid.timebank.offer_changed"

# Balances and movements can exceed a day's 24 hours; two decimals like every hour figure.
SignedHours = Annotated[
    Decimal,
    Field(max_digits=12, decimal_places=2, description="Hours with two decimals; may be negative."),
]


@register(TIMEBANK_CHANGED, "account_id", "An account of the time bank moved by some hours.")
class TimebankChanged(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    account_id: Id = Field(description="The account (a member id, or a resident's account id).")
    entry_id: str = Field(
        min_length=1, max_length=128, description="The movement's id in the account statement."
    )
    kind: Literal["earned", "revoked", "redeemed", "given", "received"] = Field(
        description="earned (volunteer hours banked), revoked (banked hours taken back because "
        "the volunteer record was withdrawn), redeemed (spent on a listed service), given (sent "
        "to another account) or received (from another account)."
    )
    hours: SignedHours = Field(description="The change: positive when hours come in.")
    balance: SignedHours = Field(
        description="The balance after this movement (below zero only after a revocation)."
    )
    community_id: Id | None = Field(
        default=None, description="The community where the hours were earned or spent."
    )
    offer_id: Id | None = Field(default=None, description="The service redeemed (redeemed).")
    counterpart: Id | None = Field(
        default=None, description="The other account of a gift (given and received)."
    )
    logged: EventRef | None = Field(
        default=None,
        description="source and id of the activity.logged that earned the hours "
        "(earned and revoked).",
    )


@register(
    TIMEBANK_OFFER_CHANGED,
    "offer_id",
    "A community listed a service that can be had for hours, or withdrew it.",
)
class TimebankOfferChanged(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    offer_id: Id = Field(description="The offer in the community's catalogue.")
    community_id: Id = Field(description="The community that offers the service.")
    title: str = Field(min_length=1, max_length=200, description="What the service is.")
    hours: SignedHours = Field(description="What it costs, in hours (> 0).")
    status: Literal["listed", "withdrawn"] = Field(
        description="listed (can be redeemed) or withdrawn (no longer)."
    )


__all__ = [
    "TIMEBANK_CHANGED",
    "TIMEBANK_OFFER_CHANGED",
    "TimebankChanged",
    "TimebankOfferChanged",
]
