"""Organisation life (三会一课): the four kinds of meeting a Party branch holds, and the roll
that turns a meeting into points.

A roll lists every member expected at the meeting as present, excused (请假, a reason is
required) or absent (unexcused). Confirming it logs `organization_life` for each member present
and `organization_life_absent` for each unexcused absence; an excused member earns and loses
nothing. A roll can be corrected later: the correction is a new version of the whole roll, and
only the members whose standing changed produce events — their old event is revoked and the new
one logged — so scoring ends as if the corrected roll had been confirmed first.

Event ids carry meeting, member, type and the roll version that logged them, so a retried
confirmation publishes nothing new and a member moved back and forth never reuses an id that
was revoked. Everything here is pure; the use cases pass in the stored roll and get a plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from shared.events import ActivityType

from .rules import Refusal, conflict, invalid


class MeetingKind(StrEnum):
    """The four meetings of 三会一课."""

    BRANCH_GENERAL_MEETING = "branch_general_meeting"  # 支部党员大会
    BRANCH_COMMITTEE_MEETING = "branch_committee_meeting"  # 支委会
    PARTY_GROUP_MEETING = "party_group_meeting"  # 党小组会
    PARTY_LECTURE = "party_lecture"  # 党课


KIND_NAMES: dict[MeetingKind, str] = {
    MeetingKind.BRANCH_GENERAL_MEETING: "支部党员大会",
    MeetingKind.BRANCH_COMMITTEE_MEETING: "支委会",
    MeetingKind.PARTY_GROUP_MEETING: "党小组会",
    MeetingKind.PARTY_LECTURE: "党课",
}


class Attendance(StrEnum):
    PRESENT = "present"
    EXCUSED = "excused"
    ABSENT = "absent"


# What each standing logs (an excused member logs nothing).
LOGS: dict[Attendance, ActivityType | None] = {
    Attendance.PRESENT: ActivityType.ORGANIZATION_LIFE,
    Attendance.ABSENT: ActivityType.ORGANIZATION_LIFE_ABSENT,
    Attendance.EXCUSED: None,
}


@dataclass(frozen=True)
class Entry:
    """One line of a roll as sent."""

    member_id: str
    status: Attendance
    reason: str | None = None


@dataclass(frozen=True)
class Standing:
    """A member's line of the confirmed roll: its status, the version that set it and the
    activity.logged standing for it now (None for an excused member)."""

    status: Attendance
    reason: str | None
    version: int
    logged_event_id: str | None


@dataclass(frozen=True)
class Logged:
    member_id: str
    activity_type: ActivityType
    event_id: str


@dataclass(frozen=True)
class Revoked:
    member_id: str
    logged_event_id: str


@dataclass
class Plan:
    """What confirming a roll does: nothing (`changed` False), or a new version with the
    events to revoke and to log and the roll as it then stands."""

    changed: bool
    version: int
    roll: dict[str, Standing]
    revoke: list[Revoked] = field(default_factory=list)
    log: list[Logged] = field(default_factory=list)


def meeting_event_id(
    meeting_id: str, member_id: str, activity_type: ActivityType, version: int
) -> str:
    return f"meeting/{meeting_id}/member/{member_id}/{activity_type.value}/v{version}"


def check_roll(entries: Iterable[Entry]) -> dict[str, Entry]:
    """The roll by member; refuses a member listed twice, an excused absence without a reason
    and a reason on a member who was present."""
    roll: dict[str, Entry] = {}
    for i, e in enumerate(entries):
        where = f"entries.{i}"
        if e.member_id in roll:
            raise invalid(
                "duplicate_member",
                f"member {e.member_id} is on the roll twice; list each member once",
                field=f"{where}.member_id",
            )
        reason = (e.reason or "").strip() or None
        if e.status is Attendance.EXCUSED and reason is None:
            raise invalid(
                "reason_required",
                f"member {e.member_id} is excused without a reason; an excused absence (请假) "
                "needs its reason, otherwise mark the member absent",
                field=f"{where}.reason",
            )
        if e.status is Attendance.PRESENT and reason is not None:
            raise invalid(
                "reason_not_allowed",
                f"member {e.member_id} is present; a reason belongs to an excused or absent "
                "member only",
                field=f"{where}.reason",
            )
        roll[e.member_id] = Entry(e.member_id, e.status, reason)
    if not roll:
        raise invalid("empty_roll", "a roll lists at least one member", field="entries")
    return roll


def check_can_confirm(held_at: datetime, now: datetime) -> None:
    if now < held_at:
        raise conflict(
            "meeting_not_held",
            f"the meeting is held at {held_at.isoformat()}; its roll can be confirmed from then on",
            held_at=held_at.isoformat(),
        )


def refuse_members(problems: Mapping[str, str]) -> Refusal | None:
    """Members who would get a new event must be known here and not deregistered;
    `problems` maps each refused member to why (unknown or deregistered)."""
    if not problems:
        return None
    listed = ", ".join(f"{m} ({why})" for m, why in sorted(problems.items()))
    return invalid(
        "unknown_member",
        f"these members cannot be on the roll: {listed}; accepted: members known from "
        "member.registered or member.reported and not deregistered",
        field="entries",
        members=[{"member_id": m, "reason": why} for m, why in sorted(problems.items())],
    )


def plan(
    meeting_id: str, current: Mapping[str, Standing], version: int, wanted: Mapping[str, Entry]
) -> Plan:
    """Compare the confirmed roll (`current`, at `version`; version 0 = none yet) with the
    roll sent. Unchanged members produce nothing; a changed standing revokes the old event and
    logs the new one; a member left off the new roll has its event revoked."""
    unchanged = len(current) == len(wanted) and all(
        m in current and (current[m].status, current[m].reason) == (e.status, e.reason)
        for m, e in wanted.items()
    )
    if unchanged and version > 0:
        return Plan(changed=False, version=version, roll=dict(current))
    new_version = version + 1
    result = Plan(changed=True, version=new_version, roll={})
    for member_id in sorted(set(current) | set(wanted)):
        old, new = current.get(member_id), wanted.get(member_id)
        if old is not None and new is not None and old.status is new.status:
            # same standing (perhaps a reworded reason): the old event stands
            result.roll[member_id] = Standing(
                new.status, new.reason, old.version, old.logged_event_id
            )
            continue
        if old is not None and old.logged_event_id is not None:
            result.revoke.append(Revoked(member_id, old.logged_event_id))
        if new is None:
            continue
        kind = LOGS[new.status]
        event_id = None
        if kind is not None:
            event_id = meeting_event_id(meeting_id, member_id, kind, new_version)
            result.log.append(Logged(member_id, kind, event_id))
        result.roll[member_id] = Standing(new.status, new.reason, new_version, event_id)
    return result


def needs_member_check(current: Mapping[str, Standing], wanted: Mapping[str, Entry]) -> list[str]:
    """Members whose standing is new or changes (those get an event or lose one); members
    already on the roll unchanged are not checked again (they may have left since)."""
    return sorted(
        m for m, e in wanted.items() if m not in current or current[m].status is not e.status
    )


@dataclass(frozen=True)
class RollLine:
    """A member's line of the confirmed roll, as it is read back."""

    member_id: str
    status: Attendance
    reason: str | None
    version: int
    logged_event_id: str | None


@dataclass(frozen=True)
class Meeting:
    """A meeting with its kind's Chinese name and its confirmed roll, by member."""

    meeting_id: str
    kind: MeetingKind
    kind_name: str
    branch_id: str
    community_id: str
    title: str
    held_at: datetime
    place: str | None
    created_at: datetime
    roll_version: int
    roll: tuple[RollLine, ...]


def meeting(
    *,
    meeting_id: str,
    kind: MeetingKind,
    branch_id: str,
    community_id: str,
    title: str,
    held_at: datetime,
    place: str | None,
    created_at: datetime,
    roll_version: int,
    roll: Mapping[str, Standing],
) -> Meeting:
    return Meeting(
        meeting_id=meeting_id,
        kind=kind,
        kind_name=KIND_NAMES[kind],
        branch_id=branch_id,
        community_id=community_id,
        title=title,
        held_at=held_at,
        place=place,
        created_at=created_at,
        roll_version=roll_version,
        roll=tuple(
            RollLine(m, s.status, s.reason, s.version, s.logged_event_id)
            for m, s in sorted(roll.items())
        ),
    )


@dataclass(frozen=True)
class RollConfirmed:
    """What confirming a roll did: the meeting as it now stands, whether anything changed, the
    version now confirmed, and the events revoked and logged."""

    meeting: Meeting
    changed: bool
    version: int
    revoked: tuple[Revoked, ...]
    logged: tuple[Logged, ...]


@dataclass(frozen=True)
class RollVersion:
    """A confirmed version of a roll: when, by whom, the roll as sent and its events."""

    version: int
    confirmed_at: datetime
    confirmed_by: str
    entries: tuple[Entry, ...]
    revoked: int
    logged: int
