//! Benchmark: the cost of delivering a message over SMTP (to Postfix's smtp-sink on 127.0.0.1),
//! against writing it to a pickup folder, both measured in this one run. Speeds on a shared
//! machine vary; their ratio is what to compare between versions.
//!
//!     cargo run --release --example bench_flush [-- MESSAGES ROUNDS]

use en_notify::Engine;
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Queues `messages` into a fresh queue and returns (notify, flush) seconds per message.
fn round(overrides: &[(String, String)], messages: usize) -> (f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(&dir.path().join("queue.db"), overrides).unwrap();
    let json = serde_json::json!({
        "from": "ClearQuest <cq@example.com>", "to": ["dev@example.com"],
        "subject": "Änderung an CR-42", "text": "State: Resolved\n".repeat(20), "html": "<p>Resolved</p>",
    })
    .to_string();
    let start = Instant::now();
    for _ in 0..messages {
        engine.notify(&json).unwrap();
    }
    let notify = start.elapsed().as_secs_f64() / messages as f64;
    let start = Instant::now();
    let report = engine.flush().unwrap();
    assert_eq!(report.sent as usize, messages, "{report:?}");
    (notify, start.elapsed().as_secs_f64() / messages as f64)
}

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<usize>().expect("MESSAGES ROUNDS are numbers"));
    let messages = args.next().unwrap_or(300);
    let rounds = args.next().unwrap_or(5);

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut sink = Command::new("/usr/sbin/smtp-sink");
    if unsafe { libc::geteuid() } == 0 {
        sink.args(["-u", "nobody"]);
    }
    let mut sink = sink
        .args([&format!("127.0.0.1:{port}"), "64"])
        .stdout(Stdio::null())
        .spawn()
        .expect("smtp-sink (Debian package postfix) is needed: scripts/install-deps");
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }

    let pickup = tempfile::tempdir().unwrap();
    let smtp = vec![("email_server".to_string(), format!("127.0.0.1:{port}"))];
    let folder = vec![
        ("email_transport".to_string(), "pickup".to_string()),
        (
            "email_pickup_dir".to_string(),
            pickup.path().display().to_string(),
        ),
    ];
    let (mut notify, mut over_smtp, mut to_folder) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let (n, f) = round(&smtp, messages);
        notify.push(n);
        over_smtp.push(f);
        to_folder.push(round(&folder, messages).1);
    }
    let _ = sink.kill();
    let _ = sink.wait();
    let ms = |s: f64| s * 1000.0;
    println!("{messages} messages x {rounds} rounds; medians per message:");
    println!(
        "  notify (stored, fsync)   {:8.3} ms",
        ms(median(notify.clone()))
    );
    println!(
        "  flush over SMTP          {:8.3} ms",
        ms(median(over_smtp.clone()))
    );
    println!(
        "  flush to a pickup folder {:8.3} ms",
        ms(median(to_folder.clone()))
    );
    println!(
        "ratio SMTP / pickup: {:.2}",
        median(over_smtp) / median(to_folder)
    );
}
