"""Generate the Grafana dashboards in deploy/grafana/dashboards/ (Grafana loads them read-only).

Why a generator: five dashboards share the same panel shapes and the same datasource uid, and
every query must name only metrics the services really export (docs/design.md §6), so the queries live
here in one reviewable place; tests/deploy checks the committed JSON equals this output and
extracts the metric names from every `expr`. Change a dashboard here, then run:

    .venv/bin/python deploy/grafana/generate_dashboards.py

Metric sources: shared/metrics.py (partygrid_*, label `service`), FastStream's
KafkaPrometheusMiddleware (faststream_*, label `app_name` = service name), and the scoring and
grids services' own gauges and counters (partygrid_scoring_*, partygrid_grids_*). Request
rates are read from the `le="+Inf"` bucket of the latency histograms, so only the histogram
names the services export are used.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATASOURCE_UID = "partygrid-prometheus"
DATASOURCE = {"type": "prometheus", "uid": DATASOURCE_UID}
DASHBOARDS_DIR = Path(__file__).resolve().parent / "dashboards"
RATE = "$__rate_interval"
TAGS = ["partygrid"]

Target = tuple[str, str]  # (PromQL expr, legend format)


class Layout:
    """Places panels left to right on Grafana's 24-column grid, wrapping to a new line."""

    def __init__(self) -> None:
        self.panels: list[dict[str, Any]] = []
        self.x = 0
        self.y = 0
        self.row_height = 0

    def row(self, title: str) -> None:
        self._newline()
        self.panels.append(
            {
                "id": len(self.panels) + 1,
                "type": "row",
                "title": title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y},
                "panels": [],
            }
        )
        self.y += 1

    def add(self, panel: dict[str, Any], width: int, height: int) -> None:
        if self.x + width > 24:
            self._newline()
        panel["id"] = len(self.panels) + 1
        panel["gridPos"] = {"h": height, "w": width, "x": self.x, "y": self.y}
        self.panels.append(panel)
        self.x += width
        self.row_height = max(self.row_height, height)

    def _newline(self) -> None:
        if self.x:
            self.y += self.row_height
        self.x = 0
        self.row_height = 0


def _targets(targets: list[Target], instant: bool = False) -> list[dict[str, Any]]:
    return [
        {
            "refId": chr(ord("A") + i),
            "datasource": DATASOURCE,
            "expr": expr,
            "legendFormat": legend,
            "range": not instant,
            "instant": instant,
        }
        for i, (expr, legend) in enumerate(targets)
    ]


def timeseries(
    title: str,
    targets: list[Target],
    unit: str,
    description: str = "",
    stack: bool = False,
    floor: float | None = 0,
) -> dict[str, Any]:
    defaults: dict[str, Any] = {"unit": unit}
    if floor is not None:
        defaults["min"] = floor
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": _targets(targets),
        "fieldConfig": {
            "defaults": {
                **defaults,
                "custom": {
                    "drawStyle": "line",
                    "lineWidth": 1,
                    "fillOpacity": 10,
                    "showPoints": "never",
                    "stacking": {"mode": "normal" if stack else "none", "group": "A"},
                },
            },
            "overrides": [],
        },
        "options": {
            "legend": {"displayMode": "table", "placement": "bottom", "calcs": ["lastNotNull"]},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
    }


def stat(
    title: str,
    expr: str,
    unit: str,
    thresholds: list[tuple[float | None, str]],
    description: str = "",
    legend: str = "",
) -> dict[str, Any]:
    return {
        "type": "stat",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": _targets([(expr, legend)], instant=True),
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "thresholds": {
                    "mode": "absolute",
                    "steps": [{"color": color, "value": value} for value, color in thresholds],
                },
            },
            "overrides": [],
        },
        "options": {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "background",
            "graphMode": "none",
            "textMode": "value_and_name" if legend else "value",
        },
    }


def bargauge(title: str, targets: list[Target], unit: str, description: str = "") -> dict[str, Any]:
    return {
        "type": "bargauge",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": _targets(targets, instant=True),
        "fieldConfig": {"defaults": {"unit": unit, "min": 0}, "overrides": []},
        "options": {
            "orientation": "horizontal",
            "displayMode": "gradient",
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        },
    }


GREEN_ONLY: list[tuple[float | None, str]] = [(None, "green")]
ANY_IS_BAD: list[tuple[float | None, str]] = [(None, "green"), (1, "red")]


def dashboard(uid: str, title: str, description: str, layout: Layout) -> dict[str, Any]:
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": TAGS,
        "timezone": "browser",
        "editable": False,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "templating": {"list": []},
        "annotations": {"list": []},
        "links": [
            {
                "type": "dashboards",
                "title": "PartyGrid",
                "tags": TAGS,
                "asDropdown": True,
                "includeVars": False,
                "keepTime": True,
            }
        ],
        "panels": layout.panels,
    }


# --------------------------------------------------------------------------- overview


def overview() -> dict[str, Any]:
    lay = Layout()
    lay.add(
        stat(
            "Consumer lag (all services)",
            "sum(partygrid_consumer_lag)",
            "short",
            [(None, "green"), (1000, "orange"), (100000, "red")],
            "Messages behind the high watermark, summed over every consumer.",
        ),
        6,
        4,
    )
    lay.add(
        stat(
            "Dead letters (last hour)",
            "sum(increase(partygrid_events_deadlettered_total[1h]))",
            "short",
            ANY_IS_BAD,
            "Messages sent to partygrid.deadletter by any service in the last hour.",
        ),
        6,
        4,
    )
    lay.add(
        stat(
            "Oldest unpublished outbox event",
            "max(partygrid_outbox_oldest_age_seconds)",
            "s",
            [(None, "green"), (10, "orange"), (60, "red")],
            "Age of the oldest event recorded but not yet sent by any outbox relay.",
        ),
        6,
        4,
    )
    lay.add(
        stat(
            "Scoring freshness",
            "max(partygrid_scoring_freshness_seconds)",
            "s",
            [(None, "green"), (5, "orange"), (60, "red")],
            "Age of the newest event the scoring service applied.",
        ),
        6,
        4,
    )

    lay.row("Events")
    lay.add(
        timeseries(
            "Events applied per second",
            [
                (
                    f"sum by (service) (rate(partygrid_events_applied_total[{RATE}]))",
                    "{{service}}",
                )
            ],
            "ops",
            "Events applied for the first time, by consuming service.",
            stack=True,
        ),
        12,
        8,
    )
    lay.add(
        timeseries(
            "Dead letters and duplicates per second",
            [
                (
                    f"sum by (service, reason) (rate(partygrid_events_deadlettered_total[{RATE}]))",
                    "dead letter {{service}} {{reason}}",
                ),
                (
                    f"sum by (service) (rate(partygrid_events_duplicate_total[{RATE}]))",
                    "duplicate {{service}}",
                ),
            ],
            "ops",
            "Rejected messages (by reason) and redelivered events skipped by the inbox.",
        ),
        12,
        8,
    )
    lay.add(
        timeseries(
            "Consumer lag",
            [("sum by (service) (partygrid_consumer_lag)", "{{service}}")],
            "short",
            "Messages behind the high watermark after each service's last batch.",
        ),
        12,
        8,
    )
    lay.add(
        timeseries(
            "Kafka messages received per second (FastStream)",
            [
                (
                    f"sum by (app_name) (rate(faststream_received_messages_total[{RATE}]))",
                    "{{app_name}}",
                )
            ],
            "ops",
            "Messages FastStream handed to each service's subscribers.",
            stack=True,
        ),
        12,
        8,
    )

    lay.row("Outbox")
    lay.add(
        timeseries(
            "Outbox backlog",
            [("sum by (service) (partygrid_outbox_backlog)", "{{service}}")],
            "short",
            "Events recorded in a service's outbox and not yet published.",
        ),
        8,
        8,
    )
    lay.add(
        timeseries(
            "Oldest unpublished outbox event",
            [("max by (service) (partygrid_outbox_oldest_age_seconds)", "{{service}}")],
            "s",
        ),
        8,
        8,
    )
    lay.add(
        timeseries(
            "Events published per second",
            [
                (
                    f"sum by (service) (rate(partygrid_outbox_published_total[{RATE}]))",
                    "{{service}}",
                )
            ],
            "ops",
            stack=True,
        ),
        8,
        8,
    )

    lay.row("HTTP APIs")
    lay.add(
        timeseries(
            "Requests per second by status class",
            [
                (
                    "sum by (service, status) (rate("
                    f'partygrid_http_request_duration_seconds_bucket{{le="+Inf"}}[{RATE}]))',
                    "{{service}} {{status}}",
                )
            ],
            "reqps",
            stack=True,
        ),
        12,
        8,
    )
    lay.add(
        timeseries(
            "Request latency p99",
            [
                (
                    "histogram_quantile(0.99, sum by (service, le) "
                    f"(rate(partygrid_http_request_duration_seconds_bucket[{RATE}])))",
                    "{{service}}",
                )
            ],
            "s",
        ),
        12,
        8,
    )

    lay.row("Grids")
    lay.add(
        stat(
            "Open incidents",
            "sum(partygrid_grids_incidents_open)",
            "short",
            GREEN_ONLY,
        ),
        12,
        4,
    )
    lay.add(
        stat(
            "Overdue incidents",
            "sum(partygrid_grids_incidents_overdue)",
            "short",
            ANY_IS_BAD,
            "Incidents past their deadline and not yet resolved.",
        ),
        12,
        4,
    )
    return dashboard(
        "partygrid-overview",
        "PartyGrid — overview",
        "Health of the whole suite: events flowing, lag, dead letters, outbox, HTTP, freshness.",
        lay,
    )


# --------------------------------------------------------------------------- per service


def service_panels(lay: Layout, service: str) -> None:
    """The panels every service has: consuming, outbox, HTTP, FastStream."""
    s = f'service="{service}"'
    a = f'app_name="{service}"'
    lay.row("Consuming")
    lay.add(
        stat(
            "Consumer lag",
            f"sum(partygrid_consumer_lag{{{s}}})",
            "short",
            [(None, "green"), (1000, "orange"), (100000, "red")],
        ),
        8,
        4,
    )
    lay.add(
        stat(
            "Dead letters (last hour)",
            f"sum(increase(partygrid_events_deadlettered_total{{{s}}}[1h]))",
            "short",
            ANY_IS_BAD,
        ),
        8,
        4,
    )
    lay.add(
        stat(
            "Outbox backlog",
            f"sum(partygrid_outbox_backlog{{{s}}})",
            "short",
            [(None, "green"), (1000, "orange"), (10000, "red")],
        ),
        8,
        4,
    )
    lay.add(
        timeseries(
            "Events applied per second by type",
            [
                (
                    f"sum by (type) (rate(partygrid_events_applied_total{{{s}}}[{RATE}]))",
                    "{{type}}",
                )
            ],
            "ops",
            stack=True,
        ),
        12,
        8,
    )
    lay.add(
        timeseries(
            "Dead letters and duplicates per second",
            [
                (
                    "sum by (type, reason) "
                    f"(rate(partygrid_events_deadlettered_total{{{s}}}[{RATE}]))",
                    "dead letter {{type}} {{reason}}",
                ),
                (
                    f"sum by (type) (rate(partygrid_events_duplicate_total{{{s}}}[{RATE}]))",
                    "duplicate {{type}}",
                ),
            ],
            "ops",
        ),
        12,
        8,
    )
    lay.add(
        timeseries(
            "Consumer lag by topic",
            [(f"sum by (topic) (partygrid_consumer_lag{{{s}}})", "{{topic}}")],
            "short",
        ),
        12,
        8,
    )
    lay.add(
        timeseries(
            "Batch apply time",
            [
                (
                    f"histogram_quantile({q}, sum by (le) "
                    f"(rate(partygrid_consumer_batch_seconds_bucket{{{s}}}[{RATE}])))",
                    f"p{label}",
                )
                for q, label in (("0.5", "50"), ("0.99", "99"))
            ],
            "s",
            "Time to apply one consumed batch, database commit included.",
        ),
        12,
        8,
    )

    lay.row("Outbox")
    lay.add(
        timeseries(
            "Outbox backlog and oldest event",
            [
                (f"sum(partygrid_outbox_backlog{{{s}}})", "backlog (events)"),
                (f"max(partygrid_outbox_oldest_age_seconds{{{s}}})", "oldest (seconds)"),
            ],
            "short",
        ),
        12,
        8,
    )
    lay.add(
        timeseries(
            "Events published per second by topic",
            [
                (
                    f"sum by (topic) (rate(partygrid_outbox_published_total{{{s}}}[{RATE}]))",
                    "{{topic}}",
                )
            ],
            "ops",
            stack=True,
        ),
        12,
        8,
    )

    lay.row("HTTP API")
    lay.add(
        timeseries(
            "Requests per second by route",
            [
                (
                    "sum by (method, route, status) (rate("
                    f'partygrid_http_request_duration_seconds_bucket{{{s}, le="+Inf"}}'
                    f"[{RATE}]))",
                    "{{method}} {{route}} {{status}}",
                )
            ],
            "reqps",
            stack=True,
        ),
        12,
        8,
    )
    lay.add(
        timeseries(
            "Latency p95 by route",
            [
                (
                    "histogram_quantile(0.95, sum by (method, route, le) "
                    f"(rate(partygrid_http_request_duration_seconds_bucket{{{s}}}[{RATE}])))",
                    "{{method}} {{route}}",
                )
            ],
            "s",
        ),
        12,
        8,
    )

    lay.row("Kafka (FastStream)")
    lay.add(
        timeseries(
            "Messages received per second by handler",
            [
                (
                    f"sum by (handler) (rate(faststream_received_messages_total{{{a}}}[{RATE}]))",
                    "{{handler}}",
                )
            ],
            "ops",
            stack=True,
        ),
        8,
        8,
    )
    lay.add(
        timeseries(
            "Processed messages by status",
            [
                (
                    "sum by (status) "
                    f"(rate(faststream_received_processed_messages_total{{{a}}}[{RATE}]))",
                    "{{status}}",
                ),
                (
                    "sum by (exception_type) (rate("
                    f"faststream_received_processed_messages_exceptions_total{{{a}}}[{RATE}]))",
                    "exception {{exception_type}}",
                ),
            ],
            "ops",
        ),
        8,
        8,
    )
    lay.add(
        timeseries(
            "Handler time p99 and published per second",
            [
                (
                    "histogram_quantile(0.99, sum by (le) (rate("
                    f"faststream_received_processed_messages_duration_seconds_bucket{{{a}}}"
                    f"[{RATE}])))",
                    "handler p99 (s)",
                ),
                (
                    f"sum(rate(partygrid_outbox_published_total{{{s}}}[{RATE}]))",
                    "published by the outbox relay (/s)",
                ),
            ],
            "short",
        ),
        8,
        8,
    )


def service_dashboard(service: str, title: str, description: str) -> dict[str, Any]:
    lay = Layout()
    service_panels(lay, service)
    return dashboard(f"partygrid-{service}", f"PartyGrid — {title}", description, lay)


def grids() -> dict[str, Any]:
    lay = Layout()
    lay.row("Incidents")
    lay.add(
        stat("Open incidents", "sum(partygrid_grids_incidents_open)", "short", GREEN_ONLY), 6, 4
    )
    lay.add(
        stat(
            "Overdue incidents",
            "sum(partygrid_grids_incidents_overdue)",
            "short",
            ANY_IS_BAD,
            "Incidents past their deadline and not yet resolved.",
        ),
        6,
        4,
    )
    lay.add(
        timeseries(
            "Open and overdue incidents",
            [
                ("sum(partygrid_grids_incidents_open)", "open"),
                ("sum(partygrid_grids_incidents_overdue)", "overdue"),
            ],
            "short",
        ),
        12,
        8,
    )
    lay.row("Residents' satisfaction and visit duty")
    lay.add(
        bargauge(
            "Incident satisfaction by street",
            [("max by (street) (partygrid_grids_satisfaction_average)", "{{street}}")],
            "none",
            "Mean rating (1-5) residents gave the closed incidents of the street's grids.",
        ),
        8,
        8,
    )
    lay.add(
        timeseries(
            "Rated incidents by street",
            [("sum by (street) (partygrid_grids_satisfaction_ratings)", "{{street}}")],
            "short",
        ),
        8,
        8,
    )
    lay.add(
        timeseries(
            "Daily visit duty, yesterday",
            [("sum by (status) (partygrid_grids_visit_duty_workers)", "{{status}}")],
            "short",
            "Grid leaders and workers who met or did not meet the daily visiting minutes on "
            "the last complete day.",
            stack=True,
        ),
        8,
        8,
    )
    service_panels(lay, "grids")
    return dashboard(
        "partygrid-grids",
        "PartyGrid — grids",
        "Regions, grid staff, visits and incidents: the grids service and its queues.",
        lay,
    )


def scoring() -> dict[str, Any]:
    lay = Layout()
    lay.row("Points")
    lay.add(
        stat(
            "Freshness",
            "max(partygrid_scoring_freshness_seconds)",
            "s",
            [(None, "green"), (5, "orange"), (60, "red")],
            "Age of the newest event applied to points and rankings.",
        ),
        6,
        4,
    )
    lay.add(
        stat(
            "Members counted",
            "sum(partygrid_scoring_members_counted)",
            "short",
            GREEN_ONLY,
            "Members the scoring service keeps points for.",
        ),
        6,
        4,
    )
    lay.add(
        stat(
            "Points awarded (last 24 h)",
            "sum(increase(partygrid_scoring_points_awarded_total[24h]))",
            "short",
            GREEN_ONLY,
        ),
        6,
        4,
    )
    lay.add(
        stat(
            "Events applied per second",
            f'sum(rate(partygrid_events_applied_total{{service="scoring"}}[{RATE}]))',
            "ops",
            GREEN_ONLY,
        ),
        6,
        4,
    )
    lay.add(
        timeseries(
            "Points given and taken back per second by activity type",
            [
                (
                    "sum by (activity_type) "
                    f"(rate(partygrid_scoring_points_awarded_total[{RATE}]))",
                    "awarded {{activity_type}}",
                ),
                (
                    "-sum by (activity_type) "
                    f"(rate(partygrid_scoring_points_withdrawn_total[{RATE}]))",
                    "withdrawn {{activity_type}}",
                ),
            ],
            "short",
            "Positive changes to members' points, and (below zero) points taken back by "
            "revocations, absence penalties and re-evaluations.",
            floor=None,
        ),
        12,
        8,
    )
    lay.add(
        bargauge(
            "Points awarded in the last 24 h by activity type",
            [
                (
                    "sum by (activity_type) "
                    "(increase(partygrid_scoring_points_awarded_total[24h]))",
                    "{{activity_type}}",
                )
            ],
            "short",
        ),
        12,
        8,
    )
    lay.add(
        timeseries(
            "Freshness",
            [("max(partygrid_scoring_freshness_seconds)", "age of newest applied event")],
            "s",
            "Time since the newest applied event happened; grows when events stop arriving.",
        ),
        12,
        8,
    )
    lay.add(
        timeseries(
            "Members counted",
            [("sum(partygrid_scoring_members_counted)", "members")],
            "short",
        ),
        12,
        8,
    )
    lay.add(
        timeseries(
            "Write path: share of time in each step",
            [
                (
                    f"sum by (step) (rate(partygrid_scoring_write_step_seconds_sum[{RATE}]))",
                    "{{step}}",
                )
            ],
            "percentunit",
            "Seconds per second the set-based write path spends in each step, stacked: near 100% "
            "the consumer is busy all the time. propagate (member totals, region aggregates, "
            "rank counts) is what grows with the events a batch moves.",
            stack=True,
        ),
        24,
        8,
    )
    service_panels(lay, "scoring")
    return dashboard(
        "partygrid-scoring",
        "PartyGrid — scoring",
        "Quantified points and rankings: points given by activity type, freshness, ingest.",
        lay,
    )


def activities() -> dict[str, Any]:
    lay = Layout()
    lay.row("Time bank and residents' satisfaction")
    lay.add(
        timeseries(
            "Time bank movements per second",
            [
                (
                    'sum(rate(partygrid_outbox_published_total{service="activities", '
                    'topic="partygrid.timebank.changed"}[$__rate_interval]))',
                    "movements",
                )
            ],
            "ops",
            "Hours earned, revoked, redeemed or given: one timebank.changed per movement.",
        ),
        8,
        8,
    )
    lay.add(
        bargauge(
            "Wish satisfaction by street",
            [("max by (street) (partygrid_activities_wish_satisfaction_average)", "{{street}}")],
            "none",
            "Mean rating (1-5) residents gave the fulfilled small wishes of the street.",
        ),
        8,
        8,
    )
    lay.add(
        timeseries(
            "Rated wishes by street",
            [("sum by (street) (partygrid_activities_wish_satisfaction_ratings)", "{{street}}")],
            "short",
        ),
        8,
        8,
    )
    service_panels(lay, "activities")
    return dashboard(
        "partygrid-activities",
        "PartyGrid — activities",
        "Activities, wishes, service posts and projects: the activities service.",
        lay,
    )


def all_dashboards() -> dict[str, dict[str, Any]]:
    """File name → dashboard JSON model."""
    return {
        "overview.json": overview(),
        "scoring.json": scoring(),
        "members.json": service_dashboard(
            "members",
            "members",
            "Member registry and dual reporting: the members service and its queues.",
        ),
        "grids.json": grids(),
        "activities.json": activities(),
    }


def render(model: dict[str, Any]) -> str:
    return json.dumps(model, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    DASHBOARDS_DIR.mkdir(parents=True, exist_ok=True)
    for name, model in all_dashboards().items():
        (DASHBOARDS_DIR / name).write_text(render(model), encoding="utf-8")
        print(f"wrote {DASHBOARDS_DIR / name}")


if __name__ == "__main__":
    main()
