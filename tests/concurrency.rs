//! Several processes on one queue: no message goes out twice, and a killed process's leased
//! messages are delivered later.

mod common;
use common::*;
use en_notify::Status;
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::Duration;

fn count_ids(ids: Vec<String>) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for id in ids {
        *counts.entry(id).or_insert(0) += 1;
    }
    counts
}

#[test]
fn four_processes_flushing_one_queue_deliver_every_message_exactly_once() {
    let sink = SmtpSink::start(&[]);
    let q = Queue::new();
    let engine = q.engine(&[]);
    let mut expected = Vec::new();
    for i in 0..1000 {
        let id = engine
            .notify(&message(&["dev@example.com"], &format!("bulk {i}")))
            .unwrap();
        expected.push(engine.show(id).unwrap().summary.message_id);
    }
    let relay = format!("email_server={}", sink.server());
    let flushers: Vec<_> = (0..4)
        .map(|_| q.spawn_deliver(&["-o", &relay, "-o", "EN_BatchSize=20", "flush"]))
        .collect();
    let mut sent_by_each = Vec::new();
    for f in flushers {
        let out = f.wait_with_output().unwrap();
        assert!(out.status.success());
        sent_by_each.push(String::from_utf8_lossy(&out.stdout).trim().to_string());
    }
    assert!(wait_until(Duration::from_secs(10), || sink
        .message_ids()
        .len()
        >= 1000));
    let counts = count_ids(sink.message_ids());
    let repeats: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeats.is_empty(), "sent more than once: {repeats:?}");
    assert_eq!(counts.len(), 1000, "reports: {sent_by_each:?}");
    for id in &expected {
        assert!(counts.contains_key(id), "{id} never arrived");
    }
    assert_eq!(engine.list(Some(Status::Sent)).unwrap().len(), 1000);
    let busy = sent_by_each
        .iter()
        .filter(|r| !r.starts_with("sent 0,"))
        .count();
    assert!(
        busy >= 2,
        "the processes should have shared the work: {sent_by_each:?}"
    );
}

#[test]
fn a_process_killed_mid_flush_loses_nothing_its_leases_expire_and_count_an_attempt() {
    // -w 1: the relay waits a second before answering DATA, so the flush is caught mid-way: the
    // victim claims all four under a 6 s lease and is killed once the first is sent.
    let sink = SmtpSink::start(&["-w", "1"]);
    let q = Queue::new();
    let engine = q.engine(&[
        ("email_server", &sink.server()),
        ("EN_LeaseTime", "6s"),
        ("email_timeout", "3s"),
    ]);
    let ids = notify_many(&engine, 4, "k");

    let relay = format!("email_server={}", sink.server());
    let mut victim = q.spawn_deliver(&[
        "-o",
        &relay,
        "-o",
        "EN_LeaseTime=6s",
        "-o",
        "email_timeout=3s",
        "-o",
        "EN_BatchSize=4",
        "flush",
    ]);
    let leased = || engine.list(Some(Status::Sending)).unwrap().len();
    // Killed once the first is sent and the second is on the wire.
    let db = rusqlite::Connection::open(q.path()).unwrap();
    let in_flight = || {
        db.query_row(
            "SELECT COUNT(*) FROM messages WHERE status = 'sending' AND started_at IS NOT NULL",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
    };
    assert!(wait_until(Duration::from_secs(10), || engine
        .list(Some(Status::Sent))
        .unwrap()
        .len()
        == 1
        && in_flight() == 1));
    victim.kill().unwrap(); // SIGKILL
    victim.wait().unwrap();
    let stranded = leased();
    assert!(
        stranded >= 1,
        "the killed process should have left leased messages"
    );

    // While the lease holds, nobody else takes those messages.
    engine.drain().unwrap();
    assert_eq!(leased(), stranded);

    std::thread::sleep(Duration::from_millis(6100));
    engine.drain().unwrap();
    for id in &ids {
        assert_eq!(
            engine.show(*id).unwrap().summary.status,
            Status::Sent,
            "message {id}"
        );
    }
    let expired: Vec<_> = ids
        .iter()
        .flat_map(|id| engine.show(*id).unwrap().attempt_log)
        .filter(|a| a.outcome == "lease-expired")
        .collect();
    // Only the message in flight when the victim died may have reached the relay: that try
    // counts. The others were never started and cost nothing.
    assert_eq!(expired.len(), 1, "{expired:?}");
    let counts = count_ids(sink.message_ids());
    for id in &ids {
        let mid = engine.show(*id).unwrap().summary.message_id;
        assert!(
            counts.get(&mid).copied().unwrap_or(0) >= 1,
            "{mid} was lost"
        );
    }
}

#[test]
fn a_batch_that_outlives_its_lease_is_never_sent_twice() {
    // Each message takes over a second; the lease is 4 s, so a batch of 5 outlives it: each
    // send renews its lease, and a message taken over meanwhile is left to its new owner.
    let sink = SmtpSink::start(&["-w", "1"]);
    let q = Queue::new();
    let engine = q.engine(&[]);
    let ids = notify_many(&engine, 5, "slow ");
    let relay = format!("email_server={}", sink.server());
    let poll = [
        "-o",
        &relay,
        "-o",
        "EN_LeaseTime=4s",
        "-o",
        "email_timeout=2s",
        "-o",
        "EN_BatchSize=5",
        "run",
        "--interval",
        "200ms",
    ];
    // Two servers poll; whichever claims the batch, the other is ready to take any lease that
    // runs out.
    let mut servers = [q.spawn_deliver(&poll), q.spawn_deliver(&poll)];
    let all_sent = wait_until(Duration::from_secs(60), || {
        engine.list(Some(Status::Sent)).unwrap().len() == 5
    });
    // Any second copy still on the wire gets one more delivery's time to arrive.
    std::thread::sleep(Duration::from_millis(1500));
    for server in &mut servers {
        server.kill().unwrap();
        server.wait().unwrap();
    }
    assert!(all_sent);
    let counts = count_ids(sink.message_ids());
    for id in ids {
        let m = engine.show(id).unwrap();
        assert_eq!(
            counts.get(&m.summary.message_id),
            Some(&1),
            "message {id} went out {:?} times",
            counts.get(&m.summary.message_id)
        );
        assert!(
            m.attempt_log.iter().all(|a| a.outcome == "sent"),
            "{:?}",
            m.attempt_log
        );
    }
}

#[test]
fn a_stored_message_survives_the_process_being_killed_right_after_notify() {
    let q = Queue::new();
    let json = message(&["dev@example.com"], "durable");
    // A second process notifies, reports the id, then is killed without any chance to clean up.
    let script = r#"
import ctypes, sys, time
lib = ctypes.CDLL(sys.argv[1])
engine, ident = ctypes.c_void_p(), ctypes.c_int64()
assert lib.en_open(sys.argv[2].encode(), None, ctypes.byref(engine)) == 0
assert lib.en_notify(engine, sys.argv[3].encode(), ctypes.byref(ident)) == 0
print(ident.value, flush=True)
time.sleep(60)
"#;
    let mut child = Command::new("python3")
        .args([
            "-c",
            script,
            library().to_str().unwrap(),
            q.path().to_str().unwrap(),
            &json,
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let id: i64 = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("child printed {line:?}"));
    let m = q.engine(&[]).show(id).unwrap().summary;
    assert_eq!((m.status, m.subject.as_str()), (Status::Queued, "durable"));
}

#[test]
fn a_lease_lost_on_the_last_attempt_does_not_fail_a_message_someone_has() {
    let busy = Aiosmtpd::start(&["--tempfail", "b@example.com"]);
    let q = Queue::new();
    let engine = q.engine(&[("email_server", &busy.server())]);
    let id = engine
        .notify(&message(&["a@example.com", "b@example.com"], "last try"))
        .unwrap();
    engine.flush().unwrap(); // a@ has it; b@ is pending after one attempt
    engine.reset_attempts(id).unwrap(); // due now, b@ still pending
    engine
        .set_property("EN_DeliveryAttempt", Some("1"))
        .unwrap(); // so the next try is the last

    // The last try starts against a relay that stalls, and its process is killed.
    let stalling = SmtpSink::start(&["-w", "5"]);
    let relay = format!("email_server={}", stalling.server());
    let mut victim = q.spawn_deliver(&[
        "-o",
        &relay,
        "-o",
        "EN_LeaseTime=2s",
        "-o",
        "email_timeout=1s",
        "flush",
    ]);
    let db = rusqlite::Connection::open(q.path()).unwrap();
    let started = || {
        db.query_row(
            "SELECT status = 'sending' AND started_at IS NOT NULL FROM messages WHERE id = ?1",
            [id],
            |r| r.get::<_, bool>(0),
        )
        .unwrap()
    };
    assert!(wait_until(Duration::from_secs(10), started));
    victim.kill().unwrap();
    victim.wait().unwrap();

    std::thread::sleep(Duration::from_millis(2100));
    q.engine(&[
        ("email_server", &busy.server()),
        ("EN_LeaseTime", "2s"),
        ("email_timeout", "1s"),
    ])
    .drain()
    .unwrap();
    let m = engine.show(id).unwrap();
    assert_eq!(m.summary.status, Status::Sent, "a@ has it: {:?}", m.summary);
    assert_eq!(m.summary.delivered, vec!["a@example.com"]);
    assert!(
        m.summary
            .rejected
            .iter()
            .any(|r| r.starts_with("b@example.com: ")),
        "{:?}",
        m.summary.rejected
    );
    assert_eq!(
        m.attempt_log.last().unwrap().outcome,
        "lease-expired",
        "{:?}",
        m.attempt_log
    );
}

#[test]
fn a_late_outcome_after_a_lost_lease_keeps_the_facts_and_is_not_sent_again() {
    // Each RCPT takes a second, so delivering to six recipients outlives the 4 s lease.
    let slow = SmtpSink::start(&["-W", "rcpt:1"]);
    let q = Queue::new();
    let to: Vec<String> = (0..6).map(|i| format!("r{i}@example.com")).collect();
    let to: Vec<&str> = to.iter().map(String::as_str).collect();
    let id = q.engine(&[]).notify(&message(&to, "slow")).unwrap();
    let lease = [
        "-o",
        "EN_LeaseTime=4s",
        "-o",
        "email_timeout=2s",
        "-o",
        "EN_DeliveryAttempt=1",
    ];
    let relay = format!("email_server={}", slow.server());
    let mut first = q.spawn_deliver(&[&lease[..], &["-o", &relay, "flush"]].concat());

    // Once the lease has run out, another process takes the message over and fails it.
    std::thread::sleep(Duration::from_millis(4500));
    let down = DownRelay::new();
    let dead = format!("email_server={}", down.server());
    assert!(q
        .deliver_command(&[&lease[..], &["-o", &dead, "flush"]].concat())
        .status()
        .unwrap()
        .code()
        .is_some());
    first.wait().unwrap();

    let m = q.engine(&[]).show(id).unwrap().summary;
    assert_eq!(m.status, Status::Sent, "the relay has it: {m:?}");
    assert_eq!(m.delivered.len(), 6);
    assert_eq!(slow.message_ids().len(), 1);
    // A later flush finds nothing to send.
    let good = SmtpSink::start(&[]);
    assert_eq!(
        q.engine(&[("email_server", &good.server())])
            .flush()
            .unwrap()
            .sent,
        0
    );
}
