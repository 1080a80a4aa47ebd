"""deploy/kafka/topics.txt is what kafka-init creates: it must list exactly the registry's
topics, so production never lacks a topic a service publishes to or consumes."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType

from shared.events import all_topics

ROOT = Path(__file__).resolve().parents[2]
KAFKA_DIR = ROOT / "deploy" / "kafka"


def _write_topics() -> ModuleType:
    spec = importlib.util.spec_from_file_location("write_topics", KAFKA_DIR / "write_topics.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_topics_file_equals_all_topics() -> None:
    listed = _write_topics().read_topics(KAFKA_DIR / "topics.txt")
    assert len(listed) == len(set(listed)), "duplicate topics in topics.txt"
    assert listed == all_topics(), (
        "deploy/kafka/topics.txt is out of date: run .venv/bin/python deploy/kafka/write_topics.py"
    )
    assert "partygrid.deadletter" in listed


def test_create_topics_script_reads_every_line(tmp_path: Path) -> None:
    """Run the init script with a stand-in for kafka-topics.sh that records its arguments."""
    fake = tmp_path / "kafka-topics.sh"
    calls = tmp_path / "calls.txt"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    fake.chmod(0o755)
    script = (KAFKA_DIR / "create-topics.sh").read_text()
    script = script.replace("KAFKA_TOPICS=/opt/kafka/bin/kafka-topics.sh", f"KAFKA_TOPICS={fake}")
    (tmp_path / "create-topics.sh").write_text(script)
    result = subprocess.run(
        ["bash", str(tmp_path / "create-topics.sh")],
        env={"PATH": "/usr/bin:/bin", "TOPICS_FILE": str(KAFKA_DIR / "topics.txt")},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    lines = calls.read_text().splitlines()
    creates = [line for line in lines if "--create" in line]
    assert [line.split("--topic ")[1].split()[0] for line in creates] == all_topics()
    assert all("--partitions 4 --replication-factor 1" in line for line in creates)
    assert all("--if-not-exists" in line for line in creates)
