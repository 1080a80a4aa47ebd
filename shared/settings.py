"""Configuration from environment variables (pydantic-settings), one class for every service.

The embedded default needs no configuration at all; production sets `KAFKA_BOOTSTRAP_SERVERS`
and `DATABASE_URL` (a server URL: each service uses its own database `partygrid_<service>` on
it) or a per-service `<SERVICE>_DATABASE_URL`.
"""

from __future__ import annotations

import os
from functools import cached_property
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICE_PORTS: dict[str, int] = {
    "members": 8001,
    "grids": 8002,
    "activities": 8003,
    "scoring": 8004,
}
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


class Settings(BaseSettings):
    """Settings every service reads; names are the environment variables, upper-cased."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    service_name: str = Field(default="scoring", description="Which service this process runs.")
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", description="Comma-separated Kafka bootstrap servers."
    )
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="PostgreSQL server URL; each service uses database partygrid_<service>.",
    )
    database_name: str | None = Field(
        default=None, description="Override the database name (default partygrid_<service>)."
    )
    database_prefix: str = Field(
        default="partygrid", description="Databases are named <prefix>_<service>."
    )
    timezone: str = Field(default="Asia/Shanghai", description="The city's time zone.")
    topic_partitions: int = Field(default=4, ge=1, le=256, description="Partitions per topic.")
    topic_replication_factor: int = Field(
        default=1,
        ge=1,
        le=32,
        description="Replicas of each partition for topics a service creates because they are "
        "missing (1 for a one-broker Kafka; 3 on a cluster).",
    )
    kafka_idempotent_producer: bool = Field(
        default=False,
        description="Publish with an idempotent producer (enable_idempotence, acks=all): a "
        "retried send is written once and in order. Needs a broker that offers it (Apache Kafka "
        "does; the embedded tansu broker does not, hence off by default).",
    )
    consumer_max_records: int = Field(default=5000, ge=1, description="Max records per batch.")
    consumer_batch_timeout_ms: int = Field(default=50, ge=1, description="Max wait for a batch.")
    consumer_fetch_max_wait_ms: int = Field(
        default=20,
        ge=1,
        description="How long the broker may hold a fetch for more data: the floor of the "
        "publish-to-applied latency on brokers that wait it out (tansu always does).",
    )
    consumer_session_timeout_ms: int = Field(
        default=10000,
        ge=1000,
        description="Consumer group session timeout: how long a dead consumer holds its partitions.",
    )
    consumer_heartbeat_interval_ms: int = Field(
        default=3000,
        ge=100,
        description="Consumer group heartbeat interval (below a third of the session timeout).",
    )
    outbox_poll_seconds: float = Field(default=0.5, gt=0, description="Relay fallback poll.")
    outbox_batch: int = Field(default=2000, ge=1, description="Events the relay sends at once.")
    outbox_retention_hours: int = Field(
        default=24,
        ge=1,
        description="How long sent outbox events are kept, to be sent again to a broker that "
        "lost them (a restarted memory broker, a rebuilt cluster).",
    )
    incarnation_check_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often a service checks whether its broker is a new incarnation.",
    )
    db_pool_max: int = Field(default=10, ge=2, description="Max database connections.")
    log_level: str = Field(default="INFO", description="Python log level.")
    log_json: bool = Field(default=True, description="Log one JSON object per line.")
    api_tokens: str = Field(
        default="", description="token:role:scope entries, comma-separated (see shared.auth)."
    )
    api_tokens_file: str | None = Field(
        default=None, description="File of token:role:scope lines, re-read when it changes."
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="The identity provider's issuer (the iss claim); set with OIDC_AUDIENCE and "
        "OIDC_JWKS_URL to accept its bearer JWTs besides the static tokens.",
    )
    oidc_audience: str | None = Field(
        default=None, description="The aud claim the provider puts in tokens meant for PartyGrid."
    )
    oidc_jwks_url: str | None = Field(
        default=None, description="URL of the provider's JSON Web Key Set (its signing keys)."
    )
    oidc_role_claim: str = Field(
        default="partygrid_role",
        description="Claim holding the role (a string or a list; the strongest known role wins).",
    )
    oidc_scope_claim: str = Field(
        default="partygrid_scope",
        description="Claim holding the region id a street or community admin acts in.",
    )
    oidc_name_claim: str = Field(
        default="name", description="Claim with a readable name shown next to sub in the audit."
    )
    oidc_clock_skew_seconds: float = Field(
        default=60, ge=0, le=600, description="Leeway for exp and nbf against clock drift."
    )
    oidc_jwks_cache_seconds: float = Field(
        default=300, gt=0, description="How long fetched keys are used before refetching them."
    )
    oidc_jwks_min_refresh_seconds: float = Field(
        default=10,
        ge=0,
        description="An unknown key id refetches the keys at most this often (rotation).",
    )
    link_secret: str | None = Field(
        default=None,
        description="Secret signing board links and board sessions; the same on every replica. "
        "Unset: a random one per process (links work only on the replica that made them).",
    )
    link_minutes: float = Field(
        default=10, gt=0, le=60, description="How long a board link may be opened."
    )
    board_session_hours: float = Field(
        default=12, gt=0, le=168, description="How long a board session cookie lasts."
    )
    event_source: str | None = Field(
        default=None, description="CloudEvents source of events this service publishes."
    )

    @property
    def port(self) -> int:
        return int(os.environ.get("PORT", SERVICE_PORTS.get(self.service_name, 8000)))

    @property
    def source(self) -> str:
        return self.event_source or f"/partygrid/{self.service_name}"

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def service_database_url(self) -> str:
        """This service's own database: `<SERVICE>_DATABASE_URL`, else `partygrid_<service>`
        on the `DATABASE_URL` server."""
        own = os.environ.get(f"{self.service_name.upper()}_DATABASE_URL")
        if own:
            return own
        return with_database(
            self.database_url, self.database_name or f"{self.database_prefix}_{self.service_name}"
        )

    @property
    def consumer_group(self) -> str:
        return f"partygrid-{self.service_name}"


def with_database(url: str, database: str) -> str:
    """The same server URL with another database name (query string, e.g. host=, kept)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))
