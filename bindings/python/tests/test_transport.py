"""Python callback transports: their answers, exceptions and lifetime."""
import gc

import pytest

import en_notify
from conftest import SENDER, message, poll

RETRY_NOW = {"EN_RetryBackoff": "0s"}


def test_retry_later_then_delivered(open_engine):
    calls = []

    def deliver(sender, recipients, data):
        calls.append((sender, recipients, data))
        if len(calls) == 1:
            raise en_notify.RetryLater("relay busy")

    engine = open_engine(RETRY_NOW)
    engine.set_transport(deliver)
    message_id = engine.notify(message(["a@example.com"], cc=["b@example.com"]))
    first = engine.flush()
    assert (first.sent, first.deferred) == (0, 1)
    shown = engine.show(message_id)
    assert (shown["status"], shown["attempts"], shown["last_error"]) == ("queued", 1, "relay busy")

    poll(lambda: engine.flush().sent == 1, what="the retry to deliver")
    shown = engine.show(message_id)
    assert (shown["status"], shown["attempts"]) == ("sent", 2)
    assert len(shown["attempt_log"]) == 2
    assert len(calls) == 2
    sender, recipients, data = calls[1]
    assert sender == SENDER
    assert recipients == ["a@example.com", "b@example.com"]
    assert isinstance(data, bytes) and b"CR-42 is ready." in data


def test_plain_exception_means_retry_later_with_its_text(open_engine):
    def deliver(sender, recipients, data):
        raise ValueError("boom")

    engine = open_engine(RETRY_NOW)
    engine.set_transport(deliver)
    message_id = engine.notify(message(["a@example.com"]))
    assert engine.flush().deferred == 1
    shown = engine.show(message_id)
    assert shown["status"] == "queued"
    assert "boom" in shown["last_error"]


def test_delivery_failed_fails_at_once(open_engine):
    def deliver(sender, recipients, data):
        raise en_notify.DeliveryFailed("no such ticket queue — ✗")

    engine = open_engine(RETRY_NOW)
    engine.set_transport(deliver)
    message_id = engine.notify(message(["a@example.com"]))
    assert engine.flush().failed == 1
    shown = engine.show(message_id)
    assert shown["status"] == "failed"
    assert shown["last_error"] == "no such ticket queue — ✗"


def test_a_long_reason_is_cut_to_valid_utf8(open_engine):
    def deliver(sender, recipients, data):
        raise en_notify.RetryLater("é" * 5000)

    engine = open_engine(RETRY_NOW)
    engine.set_transport(deliver)
    message_id = engine.notify(message(["a@example.com"]))
    engine.flush()
    reason = engine.show(message_id)["last_error"]
    assert 0 < len(reason) < 1024 and set(reason) == {"é"}


def test_a_return_value_other_than_none_or_true_is_not_delivered(open_engine):
    engine = open_engine(RETRY_NOW)
    engine.set_transport(lambda sender, recipients, data: False)
    message_id = engine.notify(message(["a@example.com"]))
    assert engine.flush().deferred == 1
    assert "False" in engine.show(message_id)["last_error"]


def test_the_callback_outlives_the_callers_reference(open_engine):
    delivered = []
    engine = open_engine()
    engine.set_transport(lambda sender, recipients, data: delivered.append(recipients) or True)
    gc.collect()
    engine.notify(message(["a@example.com"]))
    assert engine.flush().sent == 1
    assert delivered == [["a@example.com"]]


def test_none_goes_back_to_the_configured_transport(open_engine):
    engine = open_engine()
    engine.set_transport(lambda sender, recipients, data: None)
    engine.set_transport(None)
    engine.notify(message(["a@example.com"]))
    try:
        engine.flush()
    except en_notify.ConfigError as e:  # no email_server configured: SMTP is back
        assert e.code == 11
    else:
        raise AssertionError("flush used the callback after set_transport(None)")


def test_light_mode_calls_the_transport_during_notify(open_engine):
    answers = [en_notify.RetryLater("down"), None]

    def deliver(sender, recipients, data):
        answer = answers.pop(0)
        if answer:
            raise answer

    engine = open_engine()
    engine.set_transport(deliver)
    engine.set_mode("Light")
    stored = engine.notify(message(["a@example.com"]))
    shown = engine.show(stored)
    assert (shown["status"], shown["attempts"], shown["last_error"]) == ("queued", 1, "down")
    assert engine.notify(message(["b@example.com"])) == 0
    assert answers == []


def test_keyboard_interrupt_in_deliver_is_raised_by_flush(open_engine):
    calls = []

    def deliver(sender, recipients, data):
        calls.append(recipients)
        if len(calls) == 1:
            raise KeyboardInterrupt

    engine = open_engine(RETRY_NOW)
    engine.set_transport(deliver)
    ids = [engine.notify(message(["a@example.com"])), engine.notify(message(["b@example.com"]))]
    with pytest.raises(KeyboardInterrupt):
        engine.flush()
    assert len(calls) == 1, "no delivery is tried after the interrupt"
    shown = [engine.show(i) for i in ids]
    assert [(s["status"], s["attempts"]) for s in shown] == [("queued", 1), ("queued", 1)]
    assert sorted(s["last_error"] for s in shown) == [
        "KeyboardInterrupt", "not tried: interrupted by KeyboardInterrupt"]

    # The interrupt was raised once; the next flushes deliver normally.
    poll(lambda: engine.flush() and all(engine.show(i)["status"] == "sent" for i in ids),
         what="both messages to be sent")
    assert len(calls) == 3


def test_system_exit_in_deliver_is_raised_by_a_light_notify(open_engine):
    def deliver(sender, recipients, data):
        raise SystemExit("hook told to stop")

    engine = open_engine(RETRY_NOW)
    engine.set_transport(deliver)
    engine.set_mode("Light")
    with pytest.raises(SystemExit, match="hook told to stop"):
        engine.notify(message(["a@example.com"]))
    stored = engine.list()
    assert [(m["status"], m["attempts"], m["last_error"]) for m in stored] == [
        ("queued", 1, "hook told to stop")]
