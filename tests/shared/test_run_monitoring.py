"""`make run MONITORING=1`: the supervisor starts a Prometheus that scrapes the four services on
localhost with the project's alert rules and keeps its data in `.data/prometheus`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest

from dev.embedded import free_port
from dev.monitoring import ALERT_RULES
from dev.run import prometheus_child
from dev.testing import wait_until
from shared.settings import SERVICE_PORTS

PORTS = list(SERVICE_PORTS.values())


@pytest.fixture
def data(tmp_path: Path) -> Path:
    (tmp_path / "logs").mkdir()
    (tmp_path / "pids").mkdir()
    return tmp_path


def test_supervisor_prometheus_scrapes_the_four_services_with_the_alert_rules(data: Path) -> None:
    child = prometheus_child(data, PORTS, offset=0)
    assert child is not None
    config = json.loads((data / "prometheus.yml").read_text())
    (scrape,) = config["scrape_configs"]
    assert scrape["job_name"] == "partygrid"  # what the alert rules select on
    assert scrape["static_configs"][0]["targets"] == [
        "127.0.0.1:8001", "127.0.0.1:8002", "127.0.0.1:8003", "127.0.0.1:8004"
    ]  # fmt: skip
    assert config["rule_files"] == [str(ALERT_RULES)]
    assert child.command is not None
    assert f"--config.file={data / 'prometheus.yml'}" in child.command
    assert f"--storage.tsdb.path={data / 'prometheus'}" in child.command
    assert "--web.listen-address=127.0.0.1:9090" in child.command
    assert child.port == 9090 and child.ready_path == "/-/ready"


async def test_supervisor_prometheus_starts_and_loads_every_alert(data: Path) -> None:
    port = free_port()
    child = prometheus_child(data, PORTS, offset=port - 9090)
    assert child is not None and child.port == port
    child.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as http:

            async def ready() -> bool:
                assert child.process is not None and child.process.poll() is None, child.tail()
                try:
                    return (await http.get("/-/ready")).status_code == 200
                except httpx.HTTPError:
                    return False

            await wait_until(ready, timeout=30)
            groups = (await http.get("/api/v1/rules")).json()["data"]["groups"]
            loaded = {rule["name"] for g in groups for rule in g["rules"]}

            async def targets() -> list[dict]:  # discovered shortly after start
                return (await http.get("/api/v1/targets")).json()["data"]["activeTargets"]

            active = await wait_until(targets, timeout=20)
        assert {"PartyGridServiceDown", "PartyGridDeadLetters", "PartyGridOutboxStuck"} <= loaded
        assert len(loaded) >= 9
        assert sorted(t["labels"]["instance"] for t in active) == [f"127.0.0.1:{p}" for p in PORTS]
    finally:
        child.stop()
        if child.process and child.process.poll() is None:
            child.process.kill()
        assert child.process is not None
        try:
            child.process.wait(10)
        except subprocess.TimeoutExpired:
            pass
