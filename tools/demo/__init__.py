"""A demo city that lives: a city at Putian's scale, published as outside systems would.

Why: `make run` should show something a person can look at — rankings that are not empty and
that move, dashboards with traffic — without anyone typing in 31,040 Party members. Everything
here goes through Kafka as CloudEvents, exactly as the city's other systems would send it
(civil affairs defines the regions, the organisation department's registry registers and
reports members, the volunteer platform and the organisation-life system log activities), so
the demo also exercises the real ingestion path.

- The city (Putian's published figures): 1 district, 8 streets, 61 communities, 200+ grids, 31,040 members of all
  four categories with Chinese names, 112 resident units (驻区单位) with 9,983 in-service
  members, their Party organisations, 158 volunteer teams (named in activity ids).
- A month of past activities, so the rankings of the current month are not empty.
- Ids are deterministic (the same city and the same anchor time every time), so loading twice
  has no more effect than loading once; a marker file under the data folder skips the bulk load
  after the first complete one.
- `simulate` then publishes activities, a few moves (new member.reported), revocations and the
  odd malformed message (1 in 500) at a steady rate (DEMO_RATE, default 20 events/s).

Run by `make run` (dev/run.py calls `load_and_simulate`) or by hand:
`python -m tools.demo --bootstrap 127.0.0.1:9092 [--load-only] [--members N]`.
"""

from .city import (
    CATEGORIES,
    MARKER,
    MEMBERS,
    STREETS,
    TZ,
    City,
    Member,
    PartyOrg,
    Region,
    Unit,
    build_city,
    say,
)
from .events import Message, activity_plan, event, load_messages, load_size
from .load import load, load_and_simulate
from .simulate import simulate

__all__ = [
    "CATEGORIES",
    "MARKER",
    "MEMBERS",
    "STREETS",
    "TZ",
    "City",
    "Member",
    "Message",
    "PartyOrg",
    "Region",
    "Unit",
    "activity_plan",
    "build_city",
    "event",
    "load",
    "load_and_simulate",
    "load_messages",
    "load_size",
    "say",
    "simulate",
]
