"""The operator's guide's commands work: every block of docs/operations.md marked `bash test`
runs, in order and in one bash session (as an operator works through the guide), against the
scoring service started by the `make run` supervisor with its own embedded PostgreSQL in
`.data/pg` and a real tansu broker. A `text` block right after a runnable block lists lines
that block's output must contain.

The guide is written for `make run`'s fixed ports (scoring 8004, broker 9092); the test runs it
on free ports instead (so it never collides with a `make run` or the end-to-end tests), by
rewriting those two addresses, and in a scratch folder whose `.data` is the supervisor's and
whose `.venv` is the interpreter running the tests. Blocks that need Docker or a production
host are plain `bash` blocks and are not run.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dev.embedded import free_port
from dev.testing import apt_install

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "operations.md"
TOKEN = "ops-guide-city-admin-token-0001"
BLOCK = re.compile(r"^```bash test\n(.*?)^```\n(?:\n```text\n(.*?)^```\n)?", re.M | re.S)
MARK = "::operations-block::"
pytestmark = pytest.mark.e2e  # starts the services the way `make run` does


@dataclass(frozen=True)
class Block:
    line: int
    script: str
    expected: list[str]


def runnable_blocks(text: str) -> list[Block]:
    return [
        Block(
            text.count("\n", 0, m.start()) + 1,
            m.group(1),
            [line for line in (m.group(2) or "").splitlines() if line.strip()],
        )
        for m in BLOCK.finditer(text)
    ]


def free_offset() -> int:
    """A PORT_OFFSET that puts scoring (8004 + offset) on a port nobody listens on."""
    return free_port() - 8004


@pytest.fixture
def scoring_as_make_run_starts_it(kafka) -> Iterator[dict[str, object]]:
    work = Path("/tmp") / f"ops-{uuid.uuid4().hex[:8]}"  # short: PostgreSQL socket paths
    data = work / ".data"
    data.mkdir(parents=True)
    (work / ".venv").symlink_to(Path(sys.prefix))
    tokens = data / "tokens"
    tokens.write_text(f"{TOKEN}:city_admin:*\n")
    offset = free_offset()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "API_TOKENS")}
    env.update(
        KAFKA_BOOTSTRAP_SERVERS=kafka.bootstrap,
        PORT_OFFSET=str(offset),
        API_TOKENS_FILE=str(tokens),
        DEMO="0",
        TOPIC_PARTITIONS="2",
        CONSUMER_BATCH_TIMEOUT_MS="20",
        OUTBOX_POLL_SECONDS="0.2",
    )
    log_path = work / "run.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dev.run", "--data", str(data), "--services", "scoring"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        while "all services ready" not in log_path.read_text(errors="replace"):
            assert proc.poll() is None, log_path.read_text(errors="replace")
            assert time.monotonic() < deadline, log_path.read_text(errors="replace")
            time.sleep(0.3)
        yield {
            "work": work,
            "scoring": f"127.0.0.1:{8004 + offset}",
            "bootstrap": kafka.bootstrap,
            "tokens": tokens,
        }
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # the supervisor stops scoring and PostgreSQL
            try:
                proc.wait(40)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


def test_runnable_blocks_of_the_operators_guide_work(scoring_as_make_run_starts_it) -> None:
    suite = scoring_as_make_run_starts_it
    missing = [tool for tool in ("curl", "jq", "openssl") if shutil.which(tool) is None]
    if missing:
        apt_install(*missing)
    blocks = runnable_blocks(GUIDE.read_text(encoding="utf-8"))
    assert len(blocks) >= 8, f"expected the guide's runnable blocks, found {len(blocks)}"
    script = "set -euo pipefail\n" + "".join(f"echo '{MARK}'\n{b.script}" for b in blocks)
    script = script.replace("127.0.0.1:8004", str(suite["scoring"]))
    script = script.replace("127.0.0.1:9092", str(suite["bootstrap"]))
    env = dict(os.environ, TOKEN=TOKEN, API_TOKENS_FILE=str(suite["tokens"]))
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=suite["work"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    outputs = done.stdout.split(MARK + "\n")[1:]
    ran = len(outputs)
    failed = blocks[ran - 1] if ran else blocks[0]
    assert done.returncode == 0, (
        f"docs/operations.md block at line {failed.line} failed ({done.returncode}):\n"
        f"{failed.script}\n--- stdout\n{outputs[-1] if outputs else done.stdout}\n"
        f"--- stderr\n{done.stderr[-3000:]}"
    )
    assert ran == len(blocks), f"{ran} of {len(blocks)} blocks ran:\n{done.stdout}"
    for block, output in zip(blocks, outputs, strict=True):
        for line in block.expected:
            assert line in output, (
                f"docs/operations.md block at line {block.line}: expected {line!r} in its "
                f"output:\n{output}\n--- stderr\n{done.stderr[-3000:]}"
            )
