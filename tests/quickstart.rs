//! The README's main job, examples/quickstart.rs, runs end to end in both of its forms.

mod common;
use common::*;
use std::process::Command;

fn quickstart(args: &[&str]) -> String {
    // cargo builds examples for `cargo test`, next to the deps folder of this test binary.
    let exe = library()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/quickstart");
    let out = Command::new(&exe)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", exe.display()));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn quickstart_delivers_every_mode_to_a_relay() {
    let sink = SmtpSink::start(&[]);
    let out = tempfile::tempdir().unwrap();
    let text = quickstart(&[
        "--smtp",
        &sink.server(),
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert!(
        wait_until(std::time::Duration::from_secs(5), || sink
            .message_ids()
            .len()
            == 5),
        "{text}"
    );
    assert!(text.contains("sent at once; nothing stored"), "{text}");
    assert!(
        text.contains("Queue mode: this client leaves delivery"),
        "{text}"
    );
    assert!(
        text.contains("queue: 0 queued, 0 sending, 4 sent, 0 failed"),
        "{text}"
    );
}

#[test]
fn quickstart_without_a_relay_writes_a_pickup_folder() {
    let out = tempfile::tempdir().unwrap();
    let text = quickstart(&["--out", out.path().to_str().unwrap()]);
    let emls = std::fs::read_dir(out.path().join("pickup"))
        .unwrap()
        .count();
    assert_eq!(emls, 5, "{text}");
    assert!(out.path().join("queue.db").exists());
}
