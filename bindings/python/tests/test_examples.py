"""The scripts in examples/ run as a user would run them, against the test server and temp folders."""
import os
import signal
import subprocess
import sys
from email import policy
from email.parser import BytesParser

import pytest

import en_notify
from en_notify._library import find_library
from conftest import REPO, SUBJECT, message, poll

EXAMPLES = REPO / "examples"


@pytest.fixture
def example_env():
    env = dict(os.environ)
    env["EN_NOTIFY_LIBRARY"] = str(find_library())
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "bindings" / "python"),
                                                      env.get("PYTHONPATH")]))
    for name in ("EN_NOTIFY_DB", "EN_NOTIFY_SMTP", "EN_NOTIFY_PICKUP_DIR"):
        env.pop(name, None)
    return env


def run_example(name, env, db, *args):
    """Runs examples/<name> with --db `db`; returns its stdout after checking it exited 0."""
    done = subprocess.run([sys.executable, str(EXAMPLES / name), "--db", str(db), *args], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def only_message(folder):
    """The one .eml file in `folder` and its decoded Subject."""
    [path] = folder.glob("*.eml")
    return path, BytesParser(policy=policy.default).parsebytes(path.read_bytes())["subject"]


def test_hook_delivers_through_the_relay(example_env, smtp, tmp_path):
    output = run_example("hook.py", example_env, tmp_path / "q.db",
                         "--smtp", smtp.address, "--to", "lead@example.com")
    assert "sent 1" in output
    [(envelope, mail)] = smtp.received()
    assert envelope["to"] == ["lead@example.com"]
    assert mail["subject"] == SUBJECT
    assert mail.get_body(("html",)) is not None


def test_hook_without_relay_writes_to_the_pickup_folder(example_env, tmp_path):
    run_example("hook.py", example_env, tmp_path / "q.db", "--pickup-dir", str(tmp_path / "outbox"))
    assert only_message(tmp_path / "outbox")[1] == SUBJECT


def test_custom_transport_writes_tickets(example_env, tmp_path):
    output = run_example("custom_transport.py", example_env, tmp_path / "q.db",
                         "--tickets", str(tmp_path / "tickets"))
    ticket, subject = only_message(tmp_path / "tickets")
    assert subject == "Neues Ticket: CR-42 — Drucker brennt ✓"
    assert ticket.name in output
    with en_notify.Engine(tmp_path / "q.db") as engine:
        assert [m["status"] for m in engine.list()] == ["sent"]


def test_deliver_drains_queue_mode_and_stops_on_sigterm(example_env, smtp, tmp_path):
    db = tmp_path / "q.db"
    log = tmp_path / "deliver.log"
    with open(log, "w") as log_file:  # a file, not a pipe: a full pipe would block the server
        server = subprocess.Popen([sys.executable, str(EXAMPLES / "deliver.py"), "--db", str(db),
                                   "--smtp", smtp.address, "--interval", "0.1"],
                                  env=example_env, stderr=log_file)
    try:
        with en_notify.Engine(db) as engine:
            engine.set_mode("Queue")
            message_id = engine.notify(message(["ops@example.com"]))
            assert engine.flush().held_by_mode
            poll(lambda: engine.show(message_id)["status"] == "sent", what="deliver.py to send")
        [(envelope, mail)] = smtp.received()
        assert envelope["to"] == ["ops@example.com"] and mail["subject"] == SUBJECT
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        assert "drained: sent 1" in log.read_text()
        assert log.read_text().rstrip().endswith("stopped")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
