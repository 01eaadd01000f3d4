//! Failures against real relays: down, 4xx, 5xx, refused recipients, timeouts, disconnects;
//! the attempt limit, back-off, and the administrator's resend, reset and purge.

mod common;
use common::*;
use en_notify::{PurgeScope, Status};
use std::net::TcpListener;
use std::time::Duration;

#[test]
fn relay_down_keeps_messages_counts_attempts_honours_backoff_then_delivers() {
    let down = DownRelay::new();
    let q = Queue::new();
    let engine = q.engine(&[("email_server", &down.server()), ("EN_RetryBackoff", "2s")]);
    let ids = notify_many(&engine, 3, "m");

    // One try finds the relay down; the rest of the batch is not tried and costs nothing.
    let first = engine.flush().unwrap();
    assert_eq!((first.sent, first.deferred, first.failed), (0, 1, 0));
    let tried = engine.show(ids[0]).unwrap();
    assert_eq!(
        (tried.summary.status, tried.summary.attempts),
        (Status::Queued, 1)
    );
    assert_eq!(tried.attempt_log[0].outcome, "deferred");
    assert!(
        tried
            .summary
            .last_error
            .as_deref()
            .unwrap()
            .contains("connect"),
        "{:?}",
        tried.summary.last_error
    );
    for id in &ids[1..] {
        let m = engine.show(*id).unwrap();
        assert_eq!(
            (m.summary.status, m.summary.attempts, m.attempt_log.len()),
            (Status::Queued, 0, 0)
        );
    }

    let sink = down.start(&[]);
    assert_eq!(
        engine.flush().unwrap().sent,
        2,
        "the untried messages go at once"
    );
    assert_eq!(
        engine.show(ids[0]).unwrap().summary.attempts,
        1,
        "the back-off must be honoured"
    );

    assert!(wait_until(Duration::from_secs(10), || engine
        .flush()
        .unwrap()
        .sent
        > 0));
    let m = engine.show(ids[0]).unwrap().summary;
    assert_eq!((m.status, m.attempts), (Status::Sent, 2));
    assert_eq!(sink.message_ids().len(), 3);
}

#[test]
fn a_4xx_reply_is_retried_until_the_attempt_limit_then_resend_and_reset_work() {
    let q = Queue::new();
    let soft = SmtpSink::start(&["-r", "MAIL"]);
    let engine = q.engine(&[
        ("email_server", &soft.server()),
        ("EN_RetryBackoff", "0s"),
        ("EN_DeliveryAttempt", "3"),
    ]);
    let id = engine
        .notify(&message(&["dev@example.com"], "soft"))
        .unwrap();
    for attempt in 1..=3 {
        std::thread::sleep(Duration::from_millis(5)); // past the 1 ms minimum back-off
        engine.flush().unwrap();
        let m = engine.show(id).unwrap().summary;
        assert_eq!(m.attempts, attempt);
        assert!(
            m.last_smtp_code.is_some_and(|c| (400..500).contains(&c)),
            "{m:?}"
        );
    }
    let m = engine.show(id).unwrap();
    assert_eq!(
        m.summary.status,
        Status::Failed,
        "at EN_DeliveryAttempt attempts the message fails"
    );
    assert_eq!(m.attempt_log.len(), 3);
    assert_eq!(
        engine.flush().unwrap().sent + engine.flush().unwrap().deferred,
        0,
        "a failed message is not eligible"
    );

    // Resend delivers now, whatever the status and attempts (this process uses a good relay).
    let good = SmtpSink::start(&[]);
    let admin = q.engine(&[("email_server", &good.server())]);
    assert_eq!(admin.resend(id).unwrap().sent, 1);
    let m = admin.show(id).unwrap().summary;
    assert_eq!((m.status, m.attempts), (Status::Sent, 4));
    assert_eq!(good.message_ids(), vec![m.message_id]);

    // Reset makes a failed message eligible again with its attempts at zero.
    let other = engine
        .notify(&message(&["dev@example.com"], "soft again"))
        .unwrap();
    engine
        .set_property("EN_DeliveryAttempt", Some("1"))
        .unwrap();
    let fresh = q.engine(&[("email_server", &soft.server())]);
    fresh.flush().unwrap();
    assert_eq!(fresh.show(other).unwrap().summary.status, Status::Failed);
    fresh.reset_attempts(other).unwrap();
    let m = fresh.show(other).unwrap().summary;
    assert_eq!((m.status, m.attempts), (Status::Queued, 0));
    assert_eq!(admin.flush().unwrap().sent, 1);
    assert_eq!(good.message_ids().len(), 2);
}

#[test]
fn a_5xx_reply_fails_the_message_after_one_attempt() {
    let sink = SmtpSink::start(&["-f", "DATA"]);
    let q = Queue::new();
    let engine = q.engine(&[("email_server", &sink.server())]);
    let id = engine
        .notify(&message(&["dev@example.com"], "hard"))
        .unwrap();
    let report = engine.flush().unwrap();
    assert_eq!((report.sent, report.deferred, report.failed), (0, 0, 1));
    let m = engine.show(id).unwrap();
    assert_eq!((m.summary.status, m.summary.attempts), (Status::Failed, 1));
    assert!(m
        .summary
        .last_smtp_code
        .is_some_and(|c| (500..600).contains(&c)));
    assert_eq!(m.attempt_log[0].outcome, "failed");
}

#[test]
fn one_refused_recipient_does_not_hold_back_the_others() {
    let relay = Aiosmtpd::start(&["--reject", "gone@example.com"]);
    let q = Queue::new();
    let engine = q.engine(&[("email_server", &relay.server())]);
    let id = engine
        .notify(&message(
            &["a@example.com", "gone@example.com", "b@example.com"],
            "three recipients",
        ))
        .unwrap();
    let report = engine.flush().unwrap();
    assert_eq!(report.sent, 1);
    let received = relay.received();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].envelope["to"],
        serde_json::json!(["a@example.com", "b@example.com"])
    );
    let m = engine.show(id).unwrap();
    assert_eq!(m.summary.status, Status::Sent);
    assert_eq!(m.summary.rejected.len(), 1);
    assert!(
        m.summary.rejected[0].starts_with("gone@example.com: ")
            && m.summary.rejected[0].contains("550"),
        "{:?}",
        m.summary.rejected
    );
    assert_eq!(m.attempt_log[0].outcome, "partial");
    assert_eq!(m.attempt_log[0].smtp_code, Some(550));
}

#[test]
fn a_recipient_refused_for_now_is_retried_alone() {
    let relay = Aiosmtpd::start(&["--tempfail", "busy@example.com"]);
    let q = Queue::new();
    let engine = q.engine(&[("email_server", &relay.server()), ("EN_RetryBackoff", "0s")]);
    let id = engine
        .notify(&message(&["a@example.com", "busy@example.com"], "one busy"))
        .unwrap();
    assert_eq!(engine.flush().unwrap().deferred, 1);
    let m = engine.show(id).unwrap().summary;
    assert_eq!((m.status, m.attempts), (Status::Queued, 1));
    assert_eq!(
        relay.received()[0].envelope["to"],
        serde_json::json!(["a@example.com"])
    );
    std::thread::sleep(Duration::from_millis(5));
    engine.flush().unwrap();
    let tries: Vec<_> = relay
        .received()
        .iter()
        .map(|r| r.envelope["to"].clone())
        .collect();
    assert_eq!(
        tries.len(),
        1,
        "busy@ is refused again, a@ must not get a second copy: {tries:?}"
    );
}

#[test]
fn a_relay_that_never_answers_times_out_once_for_the_whole_batch() {
    // Accepts connections and never says a word; counts how often it is tried.
    let tarpit = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = tarpit.local_addr().unwrap().to_string();
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = connections.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in tarpit.incoming() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(stream);
        }
    });
    let q = Queue::new();
    let engine = q.engine(&[("email_server", &server), ("email_timeout", "1s")]);
    let ids = notify_many(&engine, 3, "t");
    let report = engine.flush().unwrap();
    assert_eq!(report.deferred, 1);
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one timeout serves the whole batch"
    );
    for (n, id) in ids.into_iter().enumerate() {
        let m = engine.show(id).unwrap().summary;
        assert_eq!(m.status, Status::Queued);
        if n == 0 {
            assert_eq!(m.attempts, 1);
            assert!(m.last_error.unwrap().contains("did not answer in time"));
        } else {
            assert_eq!(
                (m.attempts, m.last_error),
                (0, None),
                "message {n} was not tried"
            );
        }
    }
}

#[test]
fn a_relay_that_stalls_mid_transaction_costs_one_timeout_per_flush() {
    let sink = SmtpSink::start(&["-w", "5"]); // answers DATA only after 5 s
    let q = Queue::new();
    let engine = q.engine(&[("email_server", &sink.server()), ("email_timeout", "1s")]);
    let ids = notify_many(&engine, 3, "stall");
    assert_eq!(engine.flush().unwrap().deferred, 1);
    let first = engine.show(ids[0]).unwrap().summary;
    assert!(first
        .last_error
        .unwrap()
        .starts_with("DATA: the relay did not answer in time"));
    for id in &ids[1..] {
        assert_eq!(engine.show(*id).unwrap().summary.attempts, 0, "not tried");
    }
}

#[test]
fn a_disconnect_mid_transaction_is_transient_and_ends_the_flush() {
    let sink = SmtpSink::start(&["-q", "RCPT"]);
    let q = Queue::new();
    let engine = q.engine(&[("email_server", &sink.server())]);
    let ids = notify_many(&engine, 2, "cut ");
    let report = engine.flush().unwrap();
    assert_eq!((report.sent, report.deferred, report.failed), (0, 1, 0));
    let first = engine.show(ids[0]).unwrap().summary;
    assert_eq!((first.status, first.attempts), (Status::Queued, 1));
    assert_eq!(engine.show(ids[1]).unwrap().summary.attempts, 0);
}

#[test]
fn a_relay_without_8bitmime_still_gets_non_ascii_messages() {
    let sink = SmtpSink::start(&["-8"]);
    let q = Queue::new();
    let engine = q.engine(&[("email_server", &sink.server())]);
    engine
        .notify(&message(
            &["Jürgen Müller <jm@example.com>"],
            "Grüße aus Köln",
        ))
        .unwrap();
    assert_eq!(engine.flush().unwrap().sent, 1);
}

#[test]
fn purge_removes_exactly_the_old_finished_messages_and_their_attempts() {
    let sink = SmtpSink::start(&["-f", "RCPT"]);
    let q = Queue::new();
    let failing = q.engine(&[("email_server", &sink.server())]);
    let failed = failing
        .notify(&message(&["x@example.com"], "will fail"))
        .unwrap();
    failing.flush().unwrap();
    let good = SmtpSink::start(&[]);
    let engine = q.engine(&[("email_server", &good.server())]);
    let sent = engine
        .notify(&message(&["y@example.com"], "will be sent"))
        .unwrap();
    engine.flush().unwrap();
    let queued = engine
        .notify(&message(&["z@example.com"], "stays queued"))
        .unwrap();

    assert_eq!(
        engine
            .purge(PurgeScope::All, Duration::from_secs(3600))
            .unwrap(),
        0,
        "nothing is an hour old"
    );
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(engine.purge(PurgeScope::Sent, Duration::ZERO).unwrap(), 1);
    assert!(engine.show(sent).is_err());
    assert_eq!(engine.show(failed).unwrap().summary.status, Status::Failed);
    assert_eq!(engine.purge(PurgeScope::All, Duration::ZERO).unwrap(), 1);
    assert!(engine.show(failed).is_err());
    let left = engine.list(None).unwrap();
    assert_eq!(
        left.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![queued],
        "queued messages are never purged"
    );

    let db = rusqlite::Connection::open(q.path()).unwrap();
    let orphans: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM attempts WHERE message NOT IN (SELECT id FROM messages)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0, "purged messages' attempts go with them");
}

#[test]
fn a_message_some_recipient_has_is_not_failed_when_the_rest_is_refused_later() {
    let busy = Aiosmtpd::start(&["--tempfail", "temp@example.com"]);
    let q = Queue::new();
    let first = q.engine(&[("email_server", &busy.server()), ("EN_RetryBackoff", "0s")]);
    let id = first
        .notify(&message(&["d@example.com", "temp@example.com"], "half"))
        .unwrap();
    assert_eq!(first.flush().unwrap().deferred, 1);
    let m = first.show(id).unwrap();
    assert_eq!(m.summary.delivered, vec!["d@example.com"]);
    assert!(
        m.attempt_log[0].text.contains("delivered to d@example.com"),
        "{:?}",
        m.attempt_log
    );

    let refusing = Aiosmtpd::start(&["--reject", "temp@example.com"]);
    std::thread::sleep(Duration::from_millis(5));
    let second = q.engine(&[("email_server", &refusing.server())]);
    let report = second.flush().unwrap();
    assert_eq!(
        (report.sent, report.failed),
        (1, 0),
        "d@ has it, so the message is sent, not failed"
    );
    let m = second.show(id).unwrap().summary;
    assert_eq!(m.status, Status::Sent);
    assert_eq!(m.delivered, vec!["d@example.com"]);
    assert!(
        m.rejected[0].starts_with("temp@example.com: "),
        "{:?}",
        m.rejected
    );
    assert!(
        refusing.received().is_empty(),
        "d@ must not get a second copy"
    );
}

#[test]
fn at_the_attempt_limit_a_message_someone_has_is_sent_with_the_rest_given_up() {
    let relay = Aiosmtpd::start(&["--tempfail", "b@example.com"]);
    let q = Queue::new();
    let engine = q.engine(&[
        ("email_server", &relay.server()),
        ("EN_RetryBackoff", "0s"),
        ("EN_DeliveryAttempt", "2"),
    ]);
    let id = engine
        .notify(&message(&["a@example.com", "b@example.com"], "limit"))
        .unwrap();
    engine.flush().unwrap();
    std::thread::sleep(Duration::from_millis(5));
    let report = engine.flush().unwrap();
    assert_eq!((report.sent, report.failed), (1, 0));
    let m = engine.show(id).unwrap().summary;
    assert_eq!((m.status, m.attempts), (Status::Sent, 2));
    assert_eq!(m.delivered, vec!["a@example.com"]);
    assert!(
        m.rejected[0].starts_with("b@example.com: ") && m.rejected[0].contains("giving up"),
        "{:?}",
        m.rejected
    );
    assert_eq!(relay.received().len(), 1, "a@ got exactly one copy");
}
