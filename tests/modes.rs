//! Each delivery mode delivers what it should, when it should, to a real relay (smtp-sink).

mod common;
use common::*;
use en_notify::{Mode, Status};

#[test]
fn deferred_stores_then_flush_delivers_everything_eligible() {
    let sink = SmtpSink::start(&[]);
    let q = Queue::new();
    let server = sink.server();
    let client = q.engine(&[("email_server", &server)]);
    assert_eq!(
        client.mode().unwrap(),
        Mode::Deferred,
        "Deferred is the default"
    );

    let id = client
        .notify(&message(&["dev@example.com"], "stored first"))
        .unwrap();
    assert!(id > 0);
    assert_eq!(client.list(Some(Status::Queued)).unwrap().len(), 1);
    assert!(
        sink.message_ids().is_empty(),
        "notify alone must not send in Deferred mode"
    );

    // Another client's message, left behind, goes out with this client's flush too.
    let other = q.engine(&[("email_server", &server)]);
    other
        .notify(&message(&["ops@example.com"], "left by another client"))
        .unwrap();

    let report = client.flush().unwrap();
    assert_eq!((report.sent, report.deferred, report.failed), (2, 0, 0));
    assert!(!report.held_by_mode);
    assert!(wait_until(std::time::Duration::from_secs(5), || sink
        .message_ids()
        .len()
        == 2));
    assert_eq!(client.list(Some(Status::Sent)).unwrap().len(), 2);
    let again = client.flush().unwrap();
    assert_eq!(again.sent, 0, "a sent message is not sent again");
}

#[test]
fn light_sends_at_once_and_stores_nothing_on_success() {
    let sink = SmtpSink::start(&[]);
    let q = Queue::new();
    let engine = q.engine(&[("email_server", &sink.server())]);
    engine.set_mode(Mode::Light).unwrap();

    let id = engine
        .notify(&message(&["dev@example.com"], "light"))
        .unwrap();
    assert_eq!(id, 0, "a delivered Light message is not stored");
    assert!(engine.list(None).unwrap().is_empty());
    assert!(wait_until(std::time::Duration::from_secs(5), || sink
        .message_ids()
        .len()
        == 1));
}

#[test]
fn light_stores_a_transient_failure_with_one_attempt_for_a_later_flush() {
    let down = DownRelay::new();
    let q = Queue::new();
    let engine = q.engine(&[("email_server", &down.server()), ("EN_RetryBackoff", "0s")]);
    engine.set_mode(Mode::Light).unwrap();

    let id = engine
        .notify(&message(&["dev@example.com"], "relay down"))
        .unwrap();
    assert!(id > 0, "an undelivered Light message must be stored");
    let stored = engine.show(id).unwrap();
    assert_eq!(stored.summary.status, Status::Queued);
    assert_eq!(stored.summary.attempts, 1);
    assert_eq!(stored.attempt_log.len(), 1);

    let sink = down.start(&[]);
    let report = engine.flush().unwrap();
    assert_eq!(report.sent, 1);
    assert_eq!(sink.message_ids(), vec![stored.summary.message_id.clone()]);
}

#[test]
fn light_stores_a_permanent_failure_as_failed() {
    let sink = SmtpSink::start(&["-f", "RCPT"]);
    let q = Queue::new();
    let engine = q.engine(&[("email_server", &sink.server())]);
    engine.set_mode(Mode::Light).unwrap();
    let id = engine
        .notify(&message(&["nobody@example.com"], "rejected"))
        .unwrap();
    let stored = engine.show(id).unwrap().summary;
    assert_eq!(stored.status, Status::Failed);
    assert_eq!(stored.attempts, 1);
    assert!(
        stored
            .last_smtp_code
            .is_some_and(|c| (500..600).contains(&c)),
        "{stored:?}"
    );
}

#[test]
fn queue_mode_client_flush_sends_nothing_and_en_deliver_drains() {
    let sink = SmtpSink::start(&[]);
    let q = Queue::new();
    let client = q.engine(&[("email_server", &sink.server())]);
    client.set_mode(Mode::Queue).unwrap();
    for i in 0..3 {
        client
            .notify(&message(&["dev@example.com"], &format!("queued {i}")))
            .unwrap();
    }
    let report = client.flush().unwrap();
    assert!(
        report.held_by_mode,
        "the report must say the mode held delivery back"
    );
    assert_eq!(report.sent, 0);
    assert!(sink.message_ids().is_empty());

    let out = q.deliver(&["-o", &format!("email_server={}", sink.server()), "flush"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("sent 3"));
    assert_eq!(sink.message_ids().len(), 3);
    assert_eq!(client.list(Some(Status::Sent)).unwrap().len(), 3);
}

#[test]
fn mode_change_reaches_every_process_on_its_next_call() {
    let q = Queue::new();
    let a = q.engine(&[]);
    let b = q.engine(&[]);
    a.set_mode(Mode::Queue).unwrap();
    assert_eq!(b.mode().unwrap(), Mode::Queue);
    let out = q.deliver(&["mode", "light"]);
    assert!(out.status.success());
    assert_eq!(a.mode().unwrap(), Mode::Light);
}

#[test]
fn disabled_delivery_stores_and_lists_but_sends_nothing() {
    let sink = SmtpSink::start(&[]);
    let q = Queue::new();
    let engine = q.engine(&[("email_server", &sink.server())]);
    engine
        .set_property("EN_DeliveryEnabled", Some("false"))
        .unwrap();
    for mode in [Mode::Light, Mode::Deferred] {
        engine.set_mode(mode).unwrap();
        assert!(
            engine
                .notify(&message(&["dev@example.com"], "test copy"))
                .unwrap()
                > 0
        );
    }
    let report = engine.drain().unwrap();
    assert!(report.delivery_disabled);
    assert_eq!(engine.list(Some(Status::Queued)).unwrap().len(), 2);
    assert!(sink.message_ids().is_empty());
}

#[test]
fn pickup_transport_writes_one_eml_per_message() {
    let q = Queue::new();
    let pickup = q.dir.path().join("pickup");
    let engine = q.engine(&[
        ("email_transport", "pickup"),
        ("email_pickup_dir", pickup.to_str().unwrap()),
    ]);
    let id = engine
        .notify(&message(&["dev@example.com"], "to a folder"))
        .unwrap();
    assert_eq!(engine.flush().unwrap().sent, 1);
    let files: Vec<_> = std::fs::read_dir(&pickup)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert_eq!(
        header(&text, "Message-ID").unwrap(),
        engine.show(id).unwrap().summary.message_id
    );
}

#[test]
fn lines_that_start_with_a_dot_arrive_intact() {
    let relay = Aiosmtpd::start(&[]);
    let q = Queue::new();
    let engine = q.engine(&[("email_server", &relay.server())]);
    let text = ".\n..\n.leading dot\nmiddle . dot\n.";
    let json = serde_json::json!({"from": "cq@example.com", "to": ["d@example.com"], "text": text});
    let id = engine.notify(&json.to_string()).unwrap();
    assert_eq!(engine.flush().unwrap().sent, 1);
    let stored = engine.show(id).unwrap().raw;
    let received = String::from_utf8(relay.received().remove(0).raw).unwrap();
    // The relay undoes the dot-stuffing; what it keeps is what was stored, to the byte.
    assert_eq!(
        received.trim_end_matches("\r\n"),
        stored.trim_end_matches("\r\n")
    );
}
