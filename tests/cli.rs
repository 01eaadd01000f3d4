//! en-deliver as an administrator and a delivery server use it.

mod common;
use common::*;
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn notify_stdin(q: &Queue, json: &str) -> i64 {
    let mut child = Command::new(env!("CARGO_BIN_EXE_en-deliver"))
        .env("EN_NOTIFY_DB", q.path())
        .arg("notify")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(json.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

#[test]
fn help_and_usage_errors() {
    let help = Command::new(env!("CARGO_BIN_EXE_en-deliver"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success());
    for command in [
        "run", "flush", "status", "list", "show", "resend", "reset", "purge", "get", "set", "mode",
    ] {
        assert!(
            text(&help).contains(&format!("  {command} ")),
            "--help lacks {command}"
        );
    }
    let no_db = Command::new(env!("CARGO_BIN_EXE_en-deliver"))
        .env_remove("EN_NOTIFY_DB")
        .arg("status")
        .output()
        .unwrap();
    assert_eq!(no_db.status.code(), Some(2));
    assert!(text(&no_db).contains("--db"));
    let q = Queue::new();
    assert_eq!(q.deliver(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        q.deliver(&["purge", "--older-than", "a while"])
            .status
            .code(),
        Some(2)
    );
    let bad_mode = q.deliver(&["mode", "Sometimes"]);
    assert_eq!(bad_mode.status.code(), Some(2));
    assert!(text(&bad_mode).contains("Sometimes"));
    let bad_value = q.deliver(&["set", "EN_DeliveryAttempt", "many"]);
    assert_eq!(bad_value.status.code(), Some(2));
    assert!(text(&bad_value).contains("EN_DeliveryAttempt"));
    assert_eq!(q.deliver(&["show", "99"]).status.code(), Some(2));
}

#[test]
fn properties_are_shared_and_the_password_is_never_printed() {
    let q = Queue::new();
    let mut child = q
        .deliver_command(&["set", "EMAIL_PASSWORD", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"hunter2\n").unwrap();
    let set = child.wait_with_output().unwrap();
    assert!(set.status.success(), "{}", text(&set));
    let stored: String = rusqlite::Connection::open(q.path())
        .unwrap()
        .query_row(
            "SELECT value FROM properties WHERE name = 'email_password'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        stored, "hunter2",
        "the password is read from standard input, without its newline"
    );
    let all = q.deliver(&["get"]);
    let get = q.deliver(&["get", "email_password"]);
    for out in [&set, &all, &get] {
        assert!(
            !text(out).contains("hunter2"),
            "the password leaked: {}",
            text(out)
        );
    }
    assert_eq!(String::from_utf8_lossy(&get.stdout).trim(), "********");
    assert!(text(&all).contains("EN_DeliveryAttempt = 5"));
    assert!(q
        .deliver(&["set", "email_server", "relay.example:2525"])
        .status
        .success());
    assert_eq!(
        q.engine(&[]).property("EMAIL_SERVER").unwrap().as_deref(),
        Some("relay.example:2525")
    );
    assert!(q.deliver(&["unset", "email_server"]).status.success());
    assert_eq!(q.engine(&[]).property("email_server").unwrap(), None);
    assert_eq!(
        String::from_utf8_lossy(&q.deliver(&["mode", "queue"]).stdout).trim(),
        "Queue"
    );
    assert_eq!(
        String::from_utf8_lossy(&q.deliver(&["mode"]).stdout).trim(),
        "Queue"
    );
}

#[test]
fn administer_a_queue_list_show_status_resend_reset_purge() {
    let bad = SmtpSink::start(&["-f", "RCPT"]);
    let good = SmtpSink::start(&[]);
    let q = Queue::new();
    let id = notify_stdin(&q, &message(&["dev@example.com"], "admin me"));
    let status = q.deliver(&["status"]);
    assert!(text(&status).contains("queued   1"), "{}", text(&status));
    assert!(text(&status).contains(&format!("message {id}")));

    let failing = q.deliver(&["-o", &format!("email_server={}", bad.server()), "flush"]);
    assert_eq!(
        failing.status.code(),
        Some(1),
        "a failed message makes exit 1: {}",
        text(&failing)
    );
    let listed = q.deliver(&["list", "--status", "failed"]);
    assert!(
        text(&listed).starts_with(&format!("{id}\tfailed\t1 attempts")),
        "{}",
        text(&listed)
    );
    let shown: serde_json::Value =
        serde_json::from_slice(&q.deliver(&["show", &id.to_string()]).stdout).unwrap();
    assert_eq!(shown["attempt_log"][0]["outcome"], "failed");
    assert!(shown.get("raw").is_none(), "raw only with --raw");
    let raw: serde_json::Value =
        serde_json::from_slice(&q.deliver(&["show", &id.to_string(), "--raw"]).stdout).unwrap();
    assert!(raw["raw"].as_str().unwrap().contains("Subject: admin me"));

    let relay = format!("email_server={}", good.server());
    let resend = q.deliver(&["-o", &relay, "resend", &id.to_string()]);
    assert!(resend.status.success(), "{}", text(&resend));
    assert_eq!(good.message_ids().len(), 1);

    let second = notify_stdin(&q, &message(&["dev@example.com"], "reset me"));
    q.deliver(&["-o", &format!("email_server={}", bad.server()), "flush"]);
    assert!(q.deliver(&["reset", &second.to_string()]).status.success());
    assert!(text(&q.deliver(&["list", "--status", "queued"]))
        .starts_with(&format!("{second}\tqueued\t0 attempts")));
    assert!(q.deliver(&["-o", &relay, "flush"]).status.success());

    let purge = q.deliver(&["purge", "--older-than", "0s", "--status", "sent"]);
    assert_eq!(
        String::from_utf8_lossy(&purge.stdout).trim(),
        "purged 2 messages"
    );
    assert!(q.engine(&[]).list(None).unwrap().is_empty());
}

#[test]
fn run_delivers_in_a_loop_and_stops_cleanly_on_sigterm() {
    let sink = SmtpSink::start(&[]);
    let q = Queue::new();
    q.engine(&[]).set_mode(en_notify::Mode::Queue).unwrap();
    let relay = format!("email_server={}", sink.server());
    let server = q.spawn_deliver(&["-o", &relay, "run", "--interval", "200ms"]);
    let client = q.engine(&[]);
    client
        .notify(&message(&["dev@example.com"], "served"))
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || sink.message_ids().len() == 1),
        "the server never delivered"
    );
    unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
    let out = server.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("sent 1, deferred 0, failed 0"));
    assert!(text(&out).trim_end().ends_with("stopped"));
}
