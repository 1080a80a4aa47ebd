"""One example message per event type: a complete CloudEvent as it travels on its topic.

Outside systems copy these from the AsyncAPI documents (each message's payload schema carries
its example) and from the README; tests parse every one through the envelope and the registry,
so an example that stops matching its schema fails the build instead of misleading a reader.
The examples are kept per concept in this package's modules; `EXAMPLES` maps each event type
(and the dead-letter topic) to its example.
"""

from __future__ import annotations

from typing import Any

from . import activities, deadletters, grids, members, scoring

EXAMPLES: dict[str, dict[str, Any]] = {
    e["type"]: e
    for module in (members, grids, activities, scoring, deadletters)
    for e in module.EXAMPLES
}
