"""Fixtures: a real SMTP server (tests/servers/smtp_server.py) and engines over fresh databases."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import pytest

import en_notify

REPO = Path(__file__).resolve().parents[3]
SMTP_SERVER = REPO / "tests" / "servers" / "smtp_server.py"
SENDER = "tracker@example.com"
SUBJECT = "Änderung: CR-42 — ready ✓"


def message(to: List[str], subject: str = SUBJECT, **extra) -> Dict:
    """A notification with text and HTML bodies."""
    return {"from": SENDER, "to": to, "subject": subject, "text": "CR-42 is ready.",
            "html": "<p>CR-42 is <b>ready</b>.</p>", **extra}


def poll(condition: Callable[[], object], seconds: float = 10.0, what: str = "condition"):
    """Returns condition()'s first true value, or fails after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


class SmtpServer:
    """A running smtp_server.py and what it received."""

    def __init__(self, folder: Path, extra_args: List[str]) -> None:
        self.folder = folder
        self.process = subprocess.Popen(
            [sys.executable, str(SMTP_SERVER), "--dir", str(folder), *extra_args],
            stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line.startswith("READY "):
            self.stop()
            raise RuntimeError(f"smtp_server.py did not start: {line!r}")
        self.port = int(line.split()[1])
        self.address = f"127.0.0.1:{self.port}"

    def received(self) -> List[Tuple[Dict, EmailMessage]]:
        """(envelope, parsed message) for every accepted message, oldest first."""
        result = []
        for meta in sorted(self.folder.glob("*.json")):
            raw = meta.with_suffix(".eml").read_bytes()
            result.append((json.loads(meta.read_text()),
                           BytesParser(policy=policy.default).parsebytes(raw)))
        return result

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=10)
        self.process.stdout.close()


@pytest.fixture
def start_smtp(tmp_path):
    """Starts an SMTP server with extra flags (e.g. ["--reject", addr]); stopped after the test."""
    servers = []

    def start(*extra_args: str) -> SmtpServer:
        server = SmtpServer(tmp_path / f"received{len(servers)}", list(extra_args))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def smtp(start_smtp) -> SmtpServer:
    return start_smtp()


@pytest.fixture
def open_engine(tmp_path):
    """Opens engines over a fresh database in tmp_path; every one is closed after the test."""
    engines = []

    def open_(options: Dict | None = None, name: str = "queue.db") -> en_notify.Engine:
        engine = en_notify.Engine(tmp_path / name, options)
        engines.append(engine)
        return engine

    yield open_
    for engine in engines:
        engine.close()
