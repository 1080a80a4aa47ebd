"""`make run`: the whole suite on one machine.

Starts what is not given from outside — an embedded PostgreSQL (data kept in `.data/pg`) unless
`DATABASE_URL` is set, an embedded Kafka-protocol broker on 127.0.0.1:9092 unless
`KAFKA_BOOTSTRAP_SERVERS` is set — creates every topic, starts the four services as separate
processes, waits until each answers /readyz, prints where everything is, restarts a service that
dies (showing the end of its log), and stops everything cleanly on Ctrl-C.

With MONITORING=1 it also starts a Prometheus (Debian's package, installed with apt-get when
missing and running as root) scraping the four services with the project's alert rules, data
in `.data/prometheus`, and prints its URL beside the services'.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shared.incarnation import create_topics
from shared.settings import SERVICE_PORTS

from .embedded import EmbeddedKafka, EmbeddedPostgres, start_kafka, start_postgres
from .monitoring import PROMETHEUS_PORT, ensure_tool, prometheus_command, prometheus_config

SERVICES = ("members", "grids", "activities", "scoring")


def say(msg: str) -> None:
    print(f"[partygrid] {msg}", flush=True)


@dataclass
class Child:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0
    log_file: object = field(default=None, repr=False)
    pid_path: Path | None = None
    command: list[str] | None = None  # a service runs under uvicorn unless a command is given
    ready_path: str = "/readyz"

    def start(self) -> None:
        self.log_file = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            self.command
            or [
                sys.executable,
                "-m",
                "uvicorn",
                f"services.{self.name}.main:create_app",
                "--factory",
                "--host",
                os.environ.get("HOST", "127.0.0.1"),
                "--port",
                str(self.port),
                "--no-access-log",
                "--timeout-graceful-shutdown",
                "10",
            ],
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,  # type: ignore[arg-type]
            start_new_session=True,
        )
        self.started_at = time.monotonic()
        if self.pid_path:  # the current process id, for operators and the fault test
            self.pid_path.write_text(f"{self.process.pid}\n")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def dev_token(data: Path) -> str:
    path = data / "dev-token"
    if not path.exists():
        path.write_text(f"dev-{secrets.token_urlsafe(24)}\n")
        path.chmod(0o600)
    return path.read_text().strip()


async def wait_ready(children: list[Child], timeout: float) -> list[str]:
    deadline = time.monotonic() + timeout
    pending = {c.name: c for c in children}
    async with httpx.AsyncClient(timeout=2) as client:
        while pending and time.monotonic() < deadline:
            for name, c in list(pending.items()):
                if c.process and c.process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {c.process.returncode}:\n{c.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    r = await client.get(f"http://127.0.0.1:{c.port}{c.ready_path}")
                    if r.status_code == 200:
                        del pending[name]
                        say(f"{name} ready on http://127.0.0.1:{c.port}")
            await asyncio.sleep(0.3)
    return list(pending)


async def supervise(args: argparse.Namespace) -> int:
    data = Path(args.data).resolve()
    (data / "logs").mkdir(parents=True, exist_ok=True)
    (data / "pids").mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    pg: EmbeddedPostgres | None = None
    kafka: EmbeddedKafka | None = None
    env = dict(os.environ)
    try:
        if not env.get("DATABASE_URL"):
            say(f"starting embedded PostgreSQL (data in {data / 'pg'})")
            pg = start_postgres(data / "pg")
            env["DATABASE_URL"] = pg.url
        else:
            say("using PostgreSQL at DATABASE_URL")
        if not env.get("KAFKA_BOOTSTRAP_SERVERS"):
            port = int(env.get("EMBEDDED_KAFKA_PORT", "9092"))
            say(f"starting embedded Kafka-protocol broker (tansu, memory-only) on 127.0.0.1:{port}")
            kafka = start_kafka(port, log_path=data / "logs" / "tansu.log")
            env["KAFKA_BOOTSTRAP_SERVERS"] = kafka.bootstrap
        else:
            say(f"using Kafka at {env['KAFKA_BOOTSTRAP_SERVERS']}")
        partitions = int(env.get("TOPIC_PARTITIONS", "4"))
        await create_topics(env["KAFKA_BOOTSTRAP_SERVERS"], partitions)
        token = None
        if not env.get("API_TOKENS") and not env.get("API_TOKENS_FILE"):
            token = dev_token(data)
            env["API_TOKENS"] = f"{token}:city_admin:*"
        env.setdefault("LOG_JSON", "true")
        offset = int(env.get("PORT_OFFSET", "0"))
        children = []
        for name in args.services:
            child_env = dict(env, SERVICE_NAME=name, PORT=str(SERVICE_PORTS[name] + offset))
            children.append(
                Child(
                    name,
                    SERVICE_PORTS[name] + offset,
                    child_env,
                    data / "logs" / f"{name}.log",
                    pid_path=data / "pids" / f"{name}.pid",
                )
            )
        if args.monitoring:
            prometheus = prometheus_child(data, [c.port for c in children], offset)
            if prometheus:
                children.append(prometheus)
        for c in children:
            c.start()
        missing = await wait_ready(children, args.ready_timeout)
        if missing:
            for name in missing:
                c = next(c for c in children if c.name == name)
                say(f"{name} is not ready after {args.ready_timeout:.0f}s; its log:\n{c.tail()}")
            return 1
        say(f"all services ready in {time.monotonic() - started:.1f}s")
        for c in children:
            if c.command:
                say(f"  {c.name:<10} http://127.0.0.1:{c.port}/   alerts: /alerts")
            else:
                say(f"  {c.name:<10} http://127.0.0.1:{c.port}/docs   /metrics   /readyz")
        say(f"  kafka      {env['KAFKA_BOOTSTRAP_SERVERS']}   logs in {data / 'logs'}")
        if token:
            say(
                f"  dev token  Authorization: Bearer {token}   (city_admin; kept in {data / 'dev-token'})"
            )
        if args.demo:
            await run_demo(env, args, data)
        say("press Ctrl-C to stop")
        await watch(children)
        return 0
    finally:
        for c in locals().get("children", []):
            c.stop()
        if kafka:
            kafka.stop()
        if pg:
            pg.stop()
        say("stopped")


def prometheus_child(data: Path, service_ports: list[int], offset: int) -> Child | None:
    """Prometheus scraping the services on localhost with the project's alert rules, or None
    (said why) when it can be neither found nor installed: the suite runs without it."""
    try:
        binary = ensure_tool("prometheus")
    except RuntimeError as exc:
        say(f"no Prometheus, monitoring left out: {exc}")
        return None
    (data / "prometheus").mkdir(parents=True, exist_ok=True)
    config_path = data / "prometheus.yml"
    targets = [f"127.0.0.1:{port}" for port in service_ports]
    # JSON is YAML: the runtime needs no YAML library for it
    config_path.write_text(json.dumps(prometheus_config(targets), indent=2))
    port = int(os.environ.get("PROMETHEUS_PORT", PROMETHEUS_PORT)) + offset
    return Child(
        "prometheus",
        port,
        dict(os.environ),
        data / "logs" / "prometheus.log",
        pid_path=data / "pids" / "prometheus.pid",
        command=prometheus_command(binary, config_path, data / "prometheus", port),
        ready_path="/-/ready",
    )


async def run_demo(env: dict[str, str], args: argparse.Namespace, data: Path) -> None:
    try:
        from tools.demo import load_and_simulate  # type: ignore[import-not-found]
    except ImportError:
        say("no demo generator in this checkout; the city starts empty")
        return
    await load_and_simulate(env, data)


async def watch(children: list[Child]) -> None:
    # RESTART_BACKOFF_MAX (seconds, default 30) caps the wait before restarting a service that
    # keeps dying soon after it started; the fault test sets it low.
    backoff_max = float(os.environ.get("RESTART_BACKOFF_MAX", "30"))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    while not stop.is_set():
        for c in children:
            if c.process and c.process.poll() is not None:
                say(
                    f"{c.name} exited with {c.process.returncode}; last lines of its log:\n{c.tail()}"
                )
                backoff = (
                    min(backoff_max, 2 ** min(c.restarts, 5))
                    if time.monotonic() - c.started_at < 30
                    else 0
                )
                c.restarts += 1
                if backoff:
                    say(f"restarting {c.name} in {backoff:g}s")
                    await asyncio.sleep(backoff)
                c.start()
                say(f"restarted {c.name} (restart #{c.restarts})")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default=".data", help="where embedded data and logs live")
    parser.add_argument(
        "--demo",
        type=int,
        default=int(os.environ.get("DEMO", "1")),
        help="1: load the demo city and simulate traffic; 0: an empty city",
    )
    parser.add_argument(
        "--monitoring",
        type=int,
        default=int(os.environ.get("MONITORING", "0")),
        help="1: also start Prometheus (installed with apt-get if missing) with the alert rules",
    )
    parser.add_argument("--ready-timeout", type=float, default=90.0)
    parser.add_argument("--services", nargs="*", default=list(SERVICES), choices=SERVICES)
    args = parser.parse_args()
    sys.exit(asyncio.run(supervise(args)))


if __name__ == "__main__":
    main()
