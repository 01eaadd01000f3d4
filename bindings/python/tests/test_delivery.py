"""Delivery through the real SMTP server, in every mode, and refusals by the relay."""
import pytest

from conftest import SENDER, SUBJECT, message

RECIPIENT = "dev@example.com"


def check_one_received(smtp, text="CR-42 is ready.", html="<b>ready</b>"):
    received = smtp.received()
    assert len(received) == 1
    envelope, mail = received[0]
    assert envelope["from"] == SENDER
    assert envelope["to"] == [RECIPIENT]
    assert mail["subject"] == SUBJECT
    assert mail.get_body(("plain",)).get_content().strip() == text
    assert html in mail.get_body(("html",)).get_content()


@pytest.mark.parametrize("mode", ["Deferred", "Light"])
def test_flush_delivers_in_deferred_and_light_mode(open_engine, smtp, mode):
    engine = open_engine({"email_server": smtp.address})
    engine.set_mode(mode)
    assert engine.get_property("EN_DeliveryMode") == mode
    message_id = engine.notify(message([RECIPIENT]))
    report = engine.flush()
    if mode == "Light":
        assert message_id == 0 and report.sent == 0
        assert engine.list() == []
    else:
        assert message_id > 0 and report.sent == 1
        assert [m["status"] for m in engine.list()] == ["sent"]
    assert not report.held_by_mode
    check_one_received(smtp)


def test_queue_mode_flush_holds_and_drain_sends(open_engine, smtp):
    engine = open_engine({"email_server": smtp.address})
    engine.set_mode("Queue")
    message_id = engine.notify(message([RECIPIENT]))
    held = engine.flush()
    assert held.held_by_mode and held.sent == 0
    assert smtp.received() == []
    assert engine.show(message_id)["status"] == "queued"
    drained = engine.drain()
    assert drained.sent == 1 and not drained.held_by_mode
    check_one_received(smtp)


def test_notify_accepts_json_text(open_engine, smtp):
    import json
    engine = open_engine({"email_server": smtp.address})
    engine.notify(json.dumps(message([RECIPIENT]), ensure_ascii=False))
    assert engine.flush().sent == 1
    check_one_received(smtp)


def test_rejected_recipient_fails_at_once(open_engine, start_smtp):
    rejected = "nobody@example.com"
    smtp = start_smtp("--reject", rejected)
    engine = open_engine({"email_server": smtp.address})
    message_id = engine.notify(message([rejected]))
    report = engine.flush()
    assert (report.sent, report.deferred, report.failed) == (0, 0, 1)
    shown = engine.show(message_id)
    assert shown["status"] == "failed"
    assert shown["last_smtp_code"] == 550
    assert shown["attempts"] == 1
    assert smtp.received() == []


def test_one_rejected_recipient_does_not_hold_back_the_others(open_engine, start_smtp):
    rejected = "nobody@example.com"
    smtp = start_smtp("--reject", rejected)
    engine = open_engine({"email_server": smtp.address})
    message_id = engine.notify(message([RECIPIENT, rejected]))
    assert engine.flush().sent == 1
    [refusal] = engine.show(message_id)["rejected"]
    assert refusal.startswith(rejected) and "550" in refusal
    check_one_received(smtp)


def test_resend_delivers_a_failed_message_again(open_engine, start_smtp):
    rejected = "nobody@example.com"
    smtp = start_smtp("--reject", rejected)
    engine = open_engine({"email_server": smtp.address})
    message_id = engine.notify(message([rejected]))
    engine.flush()
    report = engine.resend(message_id)
    assert report.failed == 1
    assert len(engine.show(message_id)["attempt_log"]) == 2
