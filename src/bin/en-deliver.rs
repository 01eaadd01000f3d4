//! en-deliver: the delivery command for servers and administrators.
//!
//! Exit codes: 0 ok, 1 some messages failed, 2 a usage or configuration error.

use clap::{Parser, Subcommand};
use en_notify::{properties, Engine, Mode, PurgeScope, Report, Status};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "en-deliver",
    version,
    about = "Deliver and administer an en-notify queue",
    after_help = "Exit codes: 0 ok (messages deferred for a retry included), 1 some messages failed \
                  for good, 2 a usage, configuration or database error."
)]
struct Cli {
    /// The queue database (SQLite file)
    #[arg(long, global = true, env = "EN_NOTIFY_DB", value_name = "PATH")]
    db: Option<PathBuf>,
    /// Override a property for this run only, e.g. -o email_server=relay:25 (repeatable)
    #[arg(
        short = 'o',
        long = "override",
        global = true,
        value_name = "NAME=VALUE"
    )]
    overrides: Vec<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Deliver in a loop: drain the queue, then sleep. SIGINT or SIGTERM finishes the message in
    /// flight and exits.
    Run {
        /// Sleep between drains, e.g. 30s, 5m
        #[arg(long, default_value = "30s", value_parser = duration)]
        interval: Duration,
    },
    /// Deliver every eligible message once, whatever the mode
    Flush,
    /// Show counts by status and the oldest waiting message
    Status,
    /// List messages
    List {
        /// Only messages with this status: queued, sending, sent or failed
        #[arg(long, value_parser = status)]
        status: Option<Status>,
    },
    /// Show one message with its attempts
    Show {
        id: i64,
        /// Also print the raw MIME message
        #[arg(long)]
        raw: bool,
    },
    /// Deliver one message now, whatever its attempts, back-off or status
    Resend { id: i64 },
    /// Set a message's attempts to zero and queue it again
    Reset { id: i64 },
    /// Remove finished messages, with their attempts
    Purge {
        /// Age, e.g. 30d
        #[arg(long, value_parser = duration)]
        older_than: Duration,
        /// sent, failed or all
        #[arg(long, default_value = "all", value_parser = scope)]
        status: PurgeScope,
    },
    /// Print a property, or every property when no name is given (the password is masked)
    Get { name: Option<String> },
    /// Store a property for every client. A VALUE of - reads it from standard input, so a
    /// password stays out of the shell history and the process list
    Set { name: String, value: String },
    /// Remove a stored property, so its default applies again
    Unset { name: String },
    /// Print the delivery mode, or store a new one (Deferred, Light or Queue)
    Mode { mode: Option<String> },
    /// Queue one message given as JSON in FILE (or on standard input), as a hook would
    Notify { file: Option<PathBuf> },
}

fn duration(s: &str) -> Result<Duration, String> {
    properties::parse_duration(s)
        .ok_or_else(|| format!("{s:?} is not a duration such as 30s, 5m, 1h or 30d"))
}

fn status(s: &str) -> Result<Status, String> {
    Status::parse(s).ok_or_else(|| format!("{s:?} is not queued, sending, sent or failed"))
}

fn scope(s: &str) -> Result<PurgeScope, String> {
    PurgeScope::parse(s).ok_or_else(|| format!("{s:?} is not sent, failed or all"))
}

/// A failure that ends the command: a usage or configuration error (exit 2).
struct Fatal(String);

impl From<en_notify::Error> for Fatal {
    fn from(e: en_notify::Error) -> Fatal {
        Fatal(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(Fatal(message)) => {
            eprintln!("en-deliver: {message}");
            ExitCode::from(2)
        }
    }
}

fn open(cli: &Cli) -> Result<Engine, Fatal> {
    let db = cli
        .db
        .as_ref()
        .ok_or_else(|| Fatal("no database: give --db PATH or set EN_NOTIFY_DB".into()))?;
    let overrides = cli
        .overrides
        .iter()
        .map(|o| {
            o.split_once('=')
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .ok_or_else(|| Fatal(format!("override {o:?} is not NAME=VALUE")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Engine::open(db, &overrides)?)
}

fn print_report(report: &Report) {
    if report.delivery_disabled {
        println!("delivery is switched off (EN_DeliveryEnabled=false): nothing sent");
    }
    println!(
        "sent {}, deferred {}, failed {}",
        report.sent, report.deferred, report.failed
    );
}

fn outcome(report: &Report) -> ExitCode {
    if report.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn run(cli: Cli) -> Result<ExitCode, Fatal> {
    let engine = open(&cli)?;
    match cli.command {
        Command::Run { interval } => return serve(engine, interval),
        Command::Flush => {
            let report = engine.drain()?;
            print_report(&report);
            return Ok(outcome(&report));
        }
        Command::Resend { id } => {
            let report = engine.resend(id)?;
            print_report(&report);
            return Ok(outcome(&report));
        }
        Command::Status => {
            let s = engine.status()?;
            println!("mode     {}", engine.mode()?.as_str());
            println!(
                "queued   {}\nsending  {}\nsent     {}\nfailed   {}",
                s.queued, s.sending, s.sent, s.failed
            );
            match (s.oldest_queued_id, s.oldest_queued_at) {
                (Some(id), Some(at)) => println!("oldest waiting: message {id}, queued {at}"),
                _ => println!("oldest waiting: none"),
            }
        }
        Command::List { status } => {
            for m in engine.list(status)? {
                println!(
                    "{}\t{}\t{} attempts\t{:?}\t{}\t{}",
                    m.id,
                    m.status.as_str(),
                    m.attempts,
                    m.priority,
                    m.subject,
                    m.recipients.join(", ")
                );
            }
        }
        Command::Show { id, raw } => {
            let mut detail =
                serde_json::to_value(engine.show(id)?).map_err(|e| Fatal(e.to_string()))?;
            if !raw {
                if let Some(map) = detail.as_object_mut() {
                    map.remove("raw");
                }
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&detail).map_err(|e| Fatal(e.to_string()))?
            );
        }
        Command::Reset { id } => {
            engine.reset_attempts(id)?;
            println!("message {id}: attempts reset, queued");
        }
        Command::Purge { older_than, status } => {
            println!("purged {} messages", engine.purge(status, older_than)?);
        }
        Command::Get { name: Some(name) } => match engine.property(&name)? {
            Some(v) => println!("{v}"),
            None => println!("(unset)"),
        },
        Command::Get { name: None } => {
            for (name, _, about) in properties::all() {
                let value = engine.property(name)?.unwrap_or_else(|| "(unset)".into());
                println!("{name} = {value}\t# {about}");
            }
        }
        Command::Set { name, value } => {
            let value = match value.as_str() {
                "-" => read_stdin()?.trim_end_matches(['\r', '\n']).to_string(),
                _ => value,
            };
            engine.set_property(&name, Some(&value))?;
            let shown = engine.property(&name)?.unwrap_or_default();
            println!("{} = {shown}", properties::canonical_name(&name)?);
        }
        Command::Unset { name } => {
            engine.set_property(&name, None)?;
            println!("{} unset", properties::canonical_name(&name)?);
        }
        Command::Mode { mode: Some(mode) } => {
            engine.set_mode(mode.parse::<Mode>()?)?;
            println!("{}", engine.mode()?.as_str());
        }
        Command::Mode { mode: None } => println!("{}", engine.mode()?.as_str()),
        Command::Notify { file } => {
            let json = match file {
                Some(path) => std::fs::read_to_string(&path)
                    .map_err(|e| Fatal(format!("{}: {e}", path.display())))?,
                None => read_stdin()?,
            };
            println!("{}", engine.notify(&json)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read_stdin() -> Result<String, Fatal> {
    std::io::read_to_string(std::io::stdin()).map_err(|e| Fatal(format!("standard input: {e}")))
}

/// The delivery loop. A signal sets `stop`, which the drain checks between messages, and wakes
/// the sleep at once.
fn serve(engine: Engine, interval: Duration) -> Result<ExitCode, Fatal> {
    let stop = Arc::new(AtomicBool::new(false));
    let (wake, sleeping) = mpsc::channel::<()>();
    let flag = stop.clone();
    ctrlc::set_handler(move || {
        flag.store(true, Ordering::SeqCst);
        let _ = wake.send(());
    })
    .map_err(|e| Fatal(format!("cannot install the signal handler: {e}")))?;
    let mut any_failed = false;
    while !stop.load(Ordering::SeqCst) {
        match engine.drain_until(&stop) {
            Ok(report) => {
                if report.sent + report.deferred + report.failed > 0 || report.delivery_disabled {
                    print_report(&report);
                }
                any_failed |= report.failed > 0;
            }
            // A relay or database outage is logged and retried on the next round, not fatal.
            Err(e) => eprintln!("en-deliver: {e}"),
        }
        let _ = sleeping.recv_timeout(interval);
    }
    println!("stopped");
    Ok(if any_failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
