"""The Engine's contract without delivery: errors, properties, lifetime, inspection."""
import ctypes

import pytest

import en_notify
from en_notify._library import library
from conftest import message, poll


@pytest.mark.parametrize("bad, fragment", [
    ({"from": "a@example.com", "to": [], "subject": "x"}, "recipient"),
    (message(["dev@example.com"], subject="CR-42\r\nBcc: evil@example.com"), "CR or LF"),
])
def test_bad_message_raises_invalid_message_and_stores_nothing(open_engine, bad, fragment):
    engine = open_engine()
    with pytest.raises(en_notify.InvalidMessageError) as caught:
        engine.notify(bad)
    assert caught.value.code == 4
    assert fragment in caught.value.message
    assert str(caught.value).startswith(caught.value.message)
    assert engine.list() == []


@pytest.mark.parametrize("call, error, code", [
    (lambda e: e.set_mode("Bogus"), en_notify.PropertyError, 7),
    (lambda e: e.set_property("EN_NoSuchThing", "1"), en_notify.PropertyError, 6),
    (lambda e: e.notify("{not json"), en_notify.ArgumentError, 3),
    (lambda e: e.list("bogus"), en_notify.ArgumentError, 8),
    (lambda e: e.purge("bogus", 0), en_notify.ArgumentError, 8),
    (lambda e: e.flush(), en_notify.ConfigError, 11),
    (lambda e: e.show(12345), en_notify.NotFoundError, 9),
])
def test_failures_raise_the_class_of_their_code(open_engine, call, error, code):
    engine = open_engine()
    with pytest.raises(error) as caught:
        call(engine)
    assert caught.value.code == code
    assert caught.value.message


def test_bad_options_fail_open(tmp_path):
    with pytest.raises(en_notify.ArgumentError) as caught:
        en_notify.Engine(tmp_path / "q.db", {"email_server": ["not", "a", "string"]})
    assert caught.value.code == 8


def test_properties_round_trip_and_reset_to_default(open_engine):
    engine = open_engine()
    default = engine.get_property("EN_DeliveryAttempt")
    assert engine.get_property("email_server") is None
    engine.set_property("en_deliveryattempt", "3")
    assert engine.get_property("EN_DeliveryAttempt") == "3"
    engine.set_property("EN_DeliveryAttempt", None)
    assert engine.get_property("EN_DeliveryAttempt") == default
    engine.set_property("email_from", "Tracker Ä <tracker@example.com>")
    assert engine.get_property("email_from") == "Tracker Ä <tracker@example.com>"


def test_properties_are_shared_through_the_database(open_engine):
    open_engine().set_property("EN_BatchSize", "7")
    assert open_engine().get_property("EN_BatchSize") == "7"


def test_arguments_c_cannot_carry_are_refused_in_python(open_engine):
    engine = open_engine()
    with pytest.raises(ValueError):
        engine.set_property("email_from", "a\0b")
    with pytest.raises(TypeError):
        engine.set_property("EN_BatchSize", 7)
    with pytest.raises(ValueError):
        engine.purge("sent", -1)


def test_list_show_status_and_reset_attempts(open_engine):
    engine = open_engine()
    first = engine.notify(message(["a@example.com"], source="CR-42"))
    second = engine.notify(message(["b@example.com"], priority="high"))
    listed = engine.list("queued")
    assert sorted(m["id"] for m in listed) == sorted([first, second])
    assert engine.list("sent") == []
    shown = engine.show(first)
    assert shown["source"] == "CR-42" and shown["recipients"] == ["a@example.com"]
    assert "CR-42" in shown["raw"]
    assert engine.status()["queued"] == 2
    engine.reset_attempts(first)
    assert engine.show(first)["attempts"] == 0


def test_purge_removes_sent_messages(open_engine):
    engine = open_engine()
    engine.set_transport(lambda sender, recipients, data: None)
    message_id = engine.notify(message(["a@example.com"]))
    assert engine.flush().sent == 1
    assert engine.purge("sent", 3600) == 0
    assert engine.purge("failed", 0) == 0
    poll(lambda: engine.purge("sent", 0) == 1, what="purge of the sent message")
    assert engine.list() == []
    with pytest.raises(en_notify.NotFoundError):
        engine.show(message_id)


def test_close_twice_and_use_after_close(open_engine):
    engine = open_engine()
    handle = engine._handle
    engine.close()
    engine.close()
    assert engine.closed
    for use in (lambda: engine.notify(message(["a@example.com"])), engine.flush, engine.drain,
                engine.status, engine.list, lambda: engine.show(1),
                lambda: engine.get_property("EN_DeliveryMode"), lambda: engine.set_mode("Queue"),
                lambda: engine.set_transport(None)):
        with pytest.raises(en_notify.ENError) as caught:
            use()
        assert caught.value.code == 13
        assert isinstance(caught.value, en_notify.InvalidHandleError)
    with pytest.raises(en_notify.InvalidHandleError):
        with engine:
            pass


def test_the_library_itself_refuses_a_closed_handle(open_engine):
    lib = library()
    engine = open_engine()
    handle = engine._handle
    engine.close()
    out = ctypes.c_int64()
    assert lib.en_notify(handle, b"{}", ctypes.byref(out)) == 13
    assert lib.en_close(handle) == 13
    assert "closed" in lib.en_last_error().decode()


def test_context_manager_closes(tmp_path):
    with en_notify.Engine(tmp_path / "q.db") as engine:
        assert engine.status()["queued"] == 0
    assert engine.closed


def test_version_matches_cargo_toml():
    import re
    from conftest import REPO
    cargo = (REPO / "Cargo.toml").read_text()
    assert en_notify.version() == re.search(r'^version\s*=\s*"([^"]+)"', cargo, re.M).group(1)
