"""Personal data rules: the citizen ID number (GB 11643-1999) and phone numbers.

Personal data stays in the members service (docs/design.md §5.3). These helpers validate it on the way in
and mask it on the way out; error messages never repeat the value they reject, so nothing
personal ends up in an error body that a client might log.
"""

from __future__ import annotations

import re
from datetime import date

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^[1-9]\d{16}[\dX]$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


class PersonalDataError(ValueError):
    """A personal data value breaks a rule; `rule` says which, never the value itself."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


def id_check_digit(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits (ISO 7064 MOD 11-2)."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def normalize_id_number(raw: str, *, today: date | None = None) -> str:
    """Validate an 18-character citizen ID number and return it upper-cased.

    Rules: 17 digits then a digit or X, a first digit 1-9 (the region code), a real birth date
    between 1900 and today in characters 7-14, and the GB 11643 check character.
    """
    value = raw.strip().upper()
    if not _ID_SHAPE.match(value):
        raise PersonalDataError(
            "id_number", "must be 18 characters: 17 digits then a digit or X (GB 11643)"
        )
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise PersonalDataError(
            "id_number", "characters 7-14 must be a real birth date YYYYMMDD"
        ) from None
    if born.year < 1900 or born > (today or date.today()):
        raise PersonalDataError("id_number", "the birth date must be between 1900 and today")
    if id_check_digit(value[:17]) != value[17]:
        raise PersonalDataError("id_number", "the check digit is wrong (GB 11643 MOD 11-2)")
    return value


def normalize_phone(raw: str) -> str:
    """Validate a mainland mobile number (11 digits, 1[3-9]…) or a landline with area code.

    Spaces and a leading +86 / 86 are tolerated and removed."""
    value = re.sub(r"[\s()]", "", raw)
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("86") and len(value) == 13:
        value = value[2:]
    if _MOBILE.match(value) or _LANDLINE.match(value):
        return value
    raise PersonalDataError(
        "phone", "must be a mobile number of 11 digits starting 13-19, or a landline 0AAA-NNNNNNN"
    )


def mask_id_number(value: str | None) -> str | None:
    """110105********123X: region code and last four kept, the birth date hidden."""
    if not value:
        return value
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str | None:
    """138****0000: first three and last four digits kept."""
    if not value:
        return value
    digits = value.replace("-", "")
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
