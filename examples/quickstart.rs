//! The main job, end to end: a fresh SQLite queue, notifications through each of the three
//! modes, the queue shown and delivered, and what happened to every message.
//!
//!     cargo run --release --example quickstart                      # to a pickup folder of .eml files
//!     cargo run --release --example quickstart -- --smtp HOST:PORT  # to a real relay
//!
//! Everything it writes goes under ./quickstart-out/ (or --out DIR).

use en_notify::{Engine, Mode, Report};
use std::path::PathBuf;

struct Args {
    smtp: Option<String>,
    out: PathBuf,
}

fn args() -> Result<Args, String> {
    let mut args = Args {
        smtp: None,
        out: PathBuf::from("quickstart-out"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--smtp" => args.smtp = Some(value()?),
            "--out" => args.out = PathBuf::from(value()?),
            "-h" | "--help" => {
                return Err("usage: quickstart [--smtp HOST:PORT] [--out DIR]".into())
            }
            other => return Err(format!("unknown argument {other:?}; try --help")),
        }
    }
    Ok(args)
}

fn notification(subject: &str, to: &[&str]) -> String {
    serde_json::json!({
        "from": "ClearQuest <cq@example.com>",
        "to": to,
        "subject": subject,
        "text": format!("{subject}\n\nState: Assigned → Resolved\nOwner: Zoë Ökonom"),
        "html": format!("<h3>{subject}</h3><p>State: Assigned &rarr; Resolved<br>Owner: Zoë Ökonom</p>"),
        "source": "quickstart",
    })
    .to_string()
}

fn describe(report: &Report) -> String {
    let mut text = format!(
        "sent {}, deferred {}, failed {}",
        report.sent, report.deferred, report.failed
    );
    if report.held_by_mode {
        text.push_str(" (Queue mode: this client leaves delivery to the delivery servers)");
    }
    text
}

fn show_queue(engine: &Engine) -> en_notify::Result<()> {
    let s = engine.status()?;
    println!(
        "    queue: {} queued, {} sending, {} sent, {} failed",
        s.queued, s.sending, s.sent, s.failed
    );
    Ok(())
}

fn main() {
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&args) {
        eprintln!("quickstart: {e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(&args.out)?;
    let db = args.out.join("queue.db");
    for stale in ["queue.db", "queue.db-wal", "queue.db-shm"] {
        let _ = std::fs::remove_file(args.out.join(stale));
    }
    let pickup = args.out.join("pickup");
    let relay: Vec<(String, String)> = match &args.smtp {
        Some(server) => vec![("email_server".into(), server.clone())],
        None => vec![
            ("email_transport".into(), "pickup".into()),
            ("email_pickup_dir".into(), pickup.display().to_string()),
        ],
    };
    let engine = Engine::open(&db, &relay)?;
    println!(
        "Created the queue {} (mode {}).",
        db.display(),
        engine.mode()?.as_str()
    );
    match &args.smtp {
        Some(server) => println!("Delivering to the SMTP relay {server}."),
        None => println!(
            "No --smtp given: delivering to the pickup folder {}.",
            pickup.display()
        ),
    }

    println!("\n1. Deferred: notify stores, the flush at the end of the action delivers.");
    engine.set_mode(Mode::Deferred)?;
    let a = engine.notify(&notification(
        "CR-101 resolved: Größe der Ausgabe",
        &["dev@example.com"],
    ))?;
    let b = engine.notify(&notification(
        "CR-102 assigned to you",
        &["Zoë Ökonom <zoe@example.com>", "qa@example.com"],
    ))?;
    println!("    stored messages {a} and {b}");
    show_queue(&engine)?;
    println!("    flush: {}", describe(&engine.flush()?));

    println!("\n2. Light: notify sends at once and stores only what could not be sent.");
    engine.set_mode(Mode::Light)?;
    match engine.notify(&notification("CR-103 closed", &["dev@example.com"]))? {
        0 => println!("    sent at once; nothing stored"),
        id => println!("    could not send now; stored as message {id} for a later flush"),
    }

    println!("\n3. Queue: notify only stores; clients never deliver, a delivery server drains.");
    engine.set_mode(Mode::Queue)?;
    let c = engine.notify(&notification("CR-104 needs review", &["lead@example.com"]))?;
    let d = engine.notify(&notification("CR-105 reopened", &["dev@example.com"]))?;
    println!("    stored messages {c} and {d}");
    println!("    client flush: {}", describe(&engine.flush()?));
    show_queue(&engine)?;
    println!(
        "    delivery server drain (what `en-deliver run` does): {}",
        describe(&engine.drain()?)
    );

    println!("\nWhat happened to each stored message:");
    for m in engine.list(None)? {
        let outcome = engine
            .show(m.id)?
            .attempt_log
            .last()
            .map(|a| a.text.clone())
            .unwrap_or_default();
        println!(
            "    #{} {:<7} attempts {}  {:?} -> {}\n        {}",
            m.id,
            m.status.as_str(),
            m.attempts,
            m.subject,
            m.recipients.join(", "),
            outcome
        );
    }
    show_queue(&engine)?;
    if args.smtp.is_none() {
        let files = std::fs::read_dir(&pickup)?
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "eml"))
            })
            .count();
        println!("\n{files} .eml files are in {}.", pickup.display());
    }
    println!(
        "Inspect the queue with: cargo run --release --bin en-deliver -- --db {} status",
        db.display()
    );
    Ok(())
}
