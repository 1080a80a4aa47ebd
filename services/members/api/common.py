"""What every route module of the members service shares: the event source of a request and the
check of an id given in a path."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Request

from shared.events.types import ID_PATTERN
from shared.refusals import invalid


def _source(request: Request) -> str:
    return str(request.app.state.runtime.settings.source)


# the CloudEvents source of the events a request publishes
Source = Annotated[str, Depends(_source)]


def checked_id(value: str, field: str) -> str:
    """An id given in a path that creates something: the pattern every id follows."""
    if not re.match(ID_PATTERN, value):
        raise invalid(
            "invalid_request",
            f"{field}: must be 1-64 characters of [A-Za-z0-9_.-]",
            field=field,
            rule="must match " + ID_PATTERN,
        )
    return value
