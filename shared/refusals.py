"""Refusals: a request the rules do not allow, said without HTTP.

Use cases and domain code raise a ``Refusal`` of one of a few kinds; ``shared.api`` maps the
kind to an HTTP status once, so a use case can be called (and tested) without a web framework
and every service answers the same refusal with the same status and JSON body.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """What sort of refusal it is; the HTTP layer turns each into one status."""

    INVALID = "invalid"  # the request breaks a rule of the domain (422)
    NOT_FOUND = "not_found"  # what it names does not exist, or is outside the caller's view (404)
    CONFLICT = "conflict"  # the current state does not allow it now (409)
    FORBIDDEN = "forbidden"  # the caller's role or region may not do it (403)
    UNAVAILABLE = "unavailable"  # the service cannot answer yet; try again shortly (503)


class Refusal(Exception):
    """A refused request: a kind, a machine-readable code and a message saying what was wrong
    and what is accepted; ``detail`` names the field or values involved."""

    def __init__(self, kind: Kind, code: str, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code
        self.message = message
        self.detail = detail
        # several problems at once (every bad line of a file): the raiser lists them here
        self.details: list[dict[str, Any]] = [detail] if detail else []


def invalid(code: str, message: str, **detail: Any) -> Refusal:
    return Refusal(Kind.INVALID, code, message, **detail)


def not_found(what: str, key: object) -> Refusal:
    return Refusal(Kind.NOT_FOUND, "not_found", f"{what} {key} does not exist", field=what)


def conflict(code: str, message: str, **detail: Any) -> Refusal:
    return Refusal(Kind.CONFLICT, code, message, **detail)


def forbidden(code: str, message: str, **detail: Any) -> Refusal:
    return Refusal(Kind.FORBIDDEN, code, message, **detail)
