//! The policy: what each mode does, how attempts, back-off and failures are counted, and how a
//! batch is claimed, sent and recorded. It knows nothing of C, JSON text or SQL.

use crate::error::{Error, ErrorKind, Result};
use crate::message::Message;
use crate::properties::{self, Mode, Settings, TransportKind};
use crate::store::sqlite::SqliteStore;
use crate::store::{
    AttemptRecord, Batch, Claimed, Claimer, Detail, NewMessage, PurgeScope, QueueStatus, Status,
    Store, Summary, Update,
};
use crate::transport::pickup::PickupTransport;
use crate::transport::smtp::{SmtpConfig, SmtpTransport};
use crate::transport::{Envelope, Failure, Outcome, Transport};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What a flush, drain or resend did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Messages delivered (to every recipient the relay accepted).
    pub sent: u64,
    /// Messages that failed for now and wait for another attempt.
    pub deferred: u64,
    /// Messages that failed for good.
    pub failed: u64,
    /// Queue mode kept this client from delivering.
    pub held_by_mode: bool,
    /// `EN_DeliveryEnabled` is false: nothing was sent.
    pub delivery_disabled: bool,
}

/// What a try started from.
struct Tried<'a> {
    attempts: u32,
    pending: &'a [String],
    delivered_before: bool,
}

/// The delivery engine over one database. Safe to share between threads.
pub struct Engine {
    store: Box<dyn Store>,
    overrides: HashMap<&'static str, String>,
    claimer: Claimer,
    custom: RwLock<Option<Arc<dyn Transport>>>,
    smtp: Mutex<Option<Arc<SmtpTransport>>>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn ms(d: Duration) -> i64 {
    d.as_millis().min(i64::MAX as u128) as i64
}

impl Engine {
    /// Opens (creating if needed) the SQLite queue at `path`. `overrides` set properties for this
    /// process only, such as a test relay; they win over the stored properties.
    pub fn open(path: &Path, overrides: &[(String, String)]) -> Result<Engine> {
        let mut checked = HashMap::new();
        for (name, value) in overrides {
            let (name, value) = properties::normalize(name, value)?;
            if checked.insert(name, value).is_some() {
                return Err(Error::new(
                    ErrorKind::InvalidProperty,
                    format!("property {name} is given twice (names ignore case)"),
                ));
            }
        }
        let store = SqliteStore::open(path)?;
        let host = gethostname::gethostname().to_string_lossy().into_owned();
        let pid = std::process::id();
        let token = format!("{host}:{pid}:{}", uuid::Uuid::new_v4().simple());
        Ok(Engine {
            store: Box::new(store),
            overrides: checked,
            claimer: Claimer { host, pid, token },
            custom: RwLock::new(None),
            smtp: Mutex::new(None),
        })
    }

    /// The configuration in force now: stored properties, then this process's overrides.
    pub fn settings(&self) -> Result<Settings> {
        let mut values = self.stored_properties()?;
        for (name, value) in &self.overrides {
            values.insert(name.to_string(), value.clone());
        }
        Settings::from_values(&values)
    }

    /// The stored properties by canonical name.
    fn stored_properties(&self) -> Result<HashMap<String, String>> {
        let mut values = HashMap::new();
        for (name, value) in self.store.properties()? {
            if let Ok(canonical) = properties::canonical_name(&name) {
                values.insert(canonical.to_string(), value);
            }
        }
        Ok(values)
    }

    /// Replaces SMTP or pickup delivery with a custom transport, for this engine only; None
    /// goes back to the configured one.
    pub fn set_transport(&self, transport: Option<Arc<dyn Transport>>) {
        *self.custom.write().unwrap_or_else(|p| p.into_inner()) = transport;
    }

    fn transport(&self, s: &Settings) -> Result<Arc<dyn Transport>> {
        if let Some(t) = self
            .custom
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Ok(t);
        }
        let config_error = |m: String| Error::new(ErrorKind::Config, m);
        match s.transport {
            TransportKind::Pickup => {
                let dir = s.pickup_dir.clone().ok_or_else(|| {
                    config_error("email_transport is pickup but email_pickup_dir is not set".into())
                })?;
                Ok(Arc::new(PickupTransport::new(dir)))
            }
            TransportKind::Smtp => {
                let config = SmtpConfig::from_settings(s)
                    .map_err(config_error)?
                    .ok_or_else(|| {
                        config_error("email_server is not set: no relay to deliver to".into())
                    })?;
                // Keep the open connection unless the configuration changed.
                let mut cached = self.smtp.lock().unwrap_or_else(|p| p.into_inner());
                match cached.as_ref() {
                    Some(t) if *t.config() == config => Ok(t.clone()),
                    _ => {
                        let t = Arc::new(SmtpTransport::new(config));
                        *cached = Some(t.clone());
                        Ok(t)
                    }
                }
            }
        }
    }

    /// Validates, renders and hands over one message (JSON). Returns its id; 0 means Light mode
    /// delivered it at once, so nothing was stored.
    pub fn notify(&self, json: &str) -> Result<i64> {
        let s = self.settings()?;
        self.notify_with(&s, &Message::from_json(json, s.max_message_size)?)
    }

    /// As `notify`, for a message built in Rust.
    pub fn notify_message(&self, message: &Message) -> Result<i64> {
        self.notify_with(&self.settings()?, message)
    }

    fn notify_with(&self, s: &Settings, message: &Message) -> Result<i64> {
        let rendered = message.render(s.from.as_deref(), &self.claimer.host, s.max_message_size)?;
        let now = now_ms();
        let light = s.mode == Mode::Light && s.delivery_enabled;
        // In Light mode without a usable transport the message is simply queued: never lost.
        let transport = if light { self.transport(s).ok() } else { None };
        let first_attempt = transport.map(|t| {
            let envelope = Envelope {
                from: rendered.envelope_from.clone(),
                to: rendered.recipients.clone(),
            };
            let outcome = t.send(&envelope, &rendered.raw);
            let tried = Tried {
                attempts: 0,
                pending: &envelope.to,
                delivered_before: false,
            };
            self.judge(s, &tried, &outcome, now_ms())
        });
        if let Some(u) = &first_attempt {
            if u.status == Status::Sent && u.newly_rejected.is_empty() {
                return Ok(0);
            }
        }
        self.store.insert(NewMessage {
            rendered: &rendered,
            now_ms: now,
            first_attempt: first_attempt.as_ref(),
        })
    }

    /// Delivers every eligible message, as the mode allows: in Queue mode a client delivers
    /// nothing and the report says so.
    pub fn flush(&self) -> Result<Report> {
        let s = self.settings()?;
        if s.mode == Mode::Queue {
            return Ok(Report {
                held_by_mode: true,
                ..Report::default()
            });
        }
        self.deliver_due(&s, None)
    }

    /// Delivers every eligible message whatever the mode: the delivery server's call.
    pub fn drain(&self) -> Result<Report> {
        self.deliver_due(&self.settings()?, None)
    }

    /// As `drain`, but stops after the message in flight once `stop` is set; the rest of the
    /// claimed batch is released untouched.
    pub fn drain_until(&self, stop: &AtomicBool) -> Result<Report> {
        self.deliver_due(&self.settings()?, Some(stop))
    }

    fn deliver_due(&self, s: &Settings, stop: Option<&AtomicBool>) -> Result<Report> {
        let mut report = Report::default();
        if !s.delivery_enabled {
            report.delivery_disabled = true;
            return Ok(report);
        }
        let transport = self.transport(s)?;
        let cutoff = now_ms();
        let expire = |claimed: &Claimed| self.expiry(s, claimed);
        let stopped = || stop.is_some_and(|f| f.load(Ordering::SeqCst));
        // Once the relay cannot be reached, the flush ends and the rest of the batch goes back
        // untried: a user's action must not wait out one timeout per message.
        let mut unreachable = false;
        while !stopped() && !unreachable {
            let batch = Batch {
                now_ms: now_ms(),
                due_by_ms: cutoff,
                lease_ms: ms(s.lease),
                limit: s.batch_size,
            };
            let batch = self.store.claim(&self.claimer, &batch, &expire)?;
            if batch.is_empty() {
                break;
            }
            let mut batch = batch.into_iter();
            for claimed in batch.by_ref() {
                // The lease is renewed as each send starts; one that ran out meanwhile belongs
                // to whoever took the message over.
                if !self
                    .store
                    .start(claimed.id, &self.claimer, now_ms(), ms(s.lease))?
                {
                    continue;
                }
                let envelope = claimed.envelope();
                let outcome = transport.send(&envelope, &claimed.raw);
                unreachable = outcome.relay_unreachable;
                self.record(s, &claimed, &envelope, &outcome, &mut report)?;
                if stopped() || unreachable {
                    break;
                }
            }
            for rest in batch {
                self.store.release(rest.id, &self.claimer)?;
            }
        }
        Ok(report)
    }

    /// A started try whose claimer's lease ran out. It may have reached the relay, so it counts
    /// as a transient failure; it was not the relay's fault, so it waits no back-off.
    fn expiry(&self, s: &Settings, c: &Claimed) -> Update {
        let text = "the lease ran out before the outcome was recorded (the process stopped, or the delivery \
                    took longer than EN_LeaseTime); the relay may have the message";
        let outcome = Outcome::failed(Failure::transient(None, text));
        let tried = Tried {
            attempts: c.attempts,
            pending: &c.pending,
            delivered_before: c.delivered_before,
        };
        let mut update = self.judge(s, &tried, &outcome, now_ms());
        update.attempt.outcome = "lease-expired".into();
        update.next_attempt_ms = 0;
        update
    }

    fn record(
        &self,
        s: &Settings,
        c: &Claimed,
        envelope: &Envelope,
        outcome: &Outcome,
        report: &mut Report,
    ) -> Result<()> {
        let tried = Tried {
            attempts: c.attempts,
            pending: &envelope.to,
            delivered_before: c.delivered_before,
        };
        let update = self.judge(s, &tried, outcome, now_ms());
        // An outcome recorded after the lease was lost is someone else's to report.
        if self.store.record(c.id, &self.claimer, &update)? {
            match update.status {
                Status::Sent => report.sent += 1,
                Status::Failed => report.failed += 1,
                _ => report.deferred += 1,
            }
        }
        Ok(())
    }

    fn attempt_record(&self, outcome: &str, code: Option<u16>, text: String) -> AttemptRecord {
        AttemptRecord {
            at_ms: now_ms(),
            host: self.claimer.host.clone(),
            pid: self.claimer.pid,
            outcome: outcome.to_string(),
            smtp_code: code,
            text,
        }
    }

    /// Turns one try's outcome into the message's next state. A refused recipient is recorded
    /// and dropped; one refused for now stays pending, as does everyone after a transient failure.
    /// A message some recipient already has is never `failed` for the refusal of the others.
    fn judge(&self, s: &Settings, tried: &Tried<'_>, outcome: &Outcome, now: i64) -> Update {
        let attempts = tried.attempts + 1;
        let mut notes: Vec<String> = Vec::new();
        if !outcome.delivered.is_empty() {
            notes.push(format!("delivered to {}", outcome.delivered.join(", ")));
        }
        let mut rejected = Vec::new();
        let mut gone: HashSet<&str> = outcome.delivered.iter().map(String::as_str).collect();
        let mut code = None;
        for r in &outcome.refused {
            let line = format!("{}: {}", r.address, r.failure.text);
            code = r.failure.code.or(code);
            if !r.failure.transient {
                gone.insert(&r.address);
                rejected.push(line.clone());
            }
            notes.push(line);
        }
        let still: Vec<String> = tried
            .pending
            .iter()
            .filter(|r| !gone.contains(r.as_str()))
            .cloned()
            .collect();
        let failure = outcome.failure.as_ref();
        if let Some(f) = failure {
            code = f.code.or(code);
            notes.push(f.text.clone());
        }
        let reached_someone = tried.delivered_before || !outcome.delivered.is_empty();
        let permanent =
            failure.is_some_and(|f| !f.transient) || (still.is_empty() && !reached_someone);
        let transient = !permanent && (failure.is_some() || !still.is_empty());
        let (status, label) = if permanent {
            (Status::Failed, "failed")
        } else if transient && attempts >= s.max_attempts {
            notes.push(format!(
                "giving up after {attempts} attempts (EN_DeliveryAttempt)"
            ));
            (Status::Failed, "failed")
        } else if transient {
            (Status::Queued, "deferred")
        } else if rejected.is_empty() {
            (Status::Sent, "sent")
        } else {
            (Status::Sent, "partial")
        };
        // Once someone has the message it is never failed: whoever is left is given up on.
        let (status, label, still) = if status == Status::Failed && reached_someone {
            let general = notes.last().cloned().unwrap_or_default();
            let why = |address: &str| match outcome.refused.iter().find(|r| r.address == address) {
                Some(r) if r.failure.text != general => format!("{}; {general}", r.failure.text),
                Some(r) => r.failure.text.clone(),
                None => general.clone(),
            };
            rejected.extend(still.iter().map(|a| format!("{a}: {}", why(a))));
            (Status::Sent, "partial", Vec::new())
        } else {
            (status, label, still)
        };
        let text = notes.join("; ");
        Update {
            status,
            attempts,
            // At least 1 ms later, so one flush never picks up again what it just deferred.
            next_attempt_ms: now + ms(s.backoff_after(attempts)).max(1),
            // Empty once sent: nobody is left pending when the outcome is not transient.
            pending: still,
            newly_delivered: outcome.delivered.clone(),
            newly_rejected: rejected,
            sent_ms: (status == Status::Sent).then_some(now),
            last_error: (label != "sent").then(|| text.clone()),
            last_code: code,
            attempt: self.attempt_record(label, code, text),
        }
    }

    /// An administrator's resend: one try now, whatever the attempts, back-off or status.
    pub fn resend(&self, id: i64) -> Result<Report> {
        let s = self.settings()?;
        let mut report = Report::default();
        // An unknown id is reported as such before any configuration problem.
        self.store.detail(id)?;
        if !s.delivery_enabled {
            report.delivery_disabled = true;
            return Ok(report);
        }
        let transport = self.transport(&s)?;
        let claimed = self
            .store
            .claim_id(id, &self.claimer, now_ms(), ms(s.lease), &|attempts| {
                self.expiry(&s, attempts)
            })?
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Busy,
                    format!("message {id} is being delivered by another process"),
                )
            })?;
        let envelope = claimed.envelope();
        let outcome = transport.send(&envelope, &claimed.raw);
        self.record(&s, &claimed, &envelope, &outcome, &mut report)?;
        Ok(report)
    }

    /// Sets a message's attempts to zero and makes it eligible now; a failed one is queued again.
    pub fn reset_attempts(&self, id: i64) -> Result<()> {
        self.store.reset_attempts(id, now_ms())
    }

    /// Removes finished messages, with their attempts, last changed more than `older_than` ago.
    pub fn purge(&self, scope: PurgeScope, older_than: Duration) -> Result<u64> {
        self.store.purge(scope, now_ms() - ms(older_than))
    }

    /// Persists the delivery mode; every process uses it from its next call on.
    pub fn set_mode(&self, mode: Mode) -> Result<()> {
        self.set_property("EN_DeliveryMode", Some(mode.as_str()))
    }

    pub fn mode(&self) -> Result<Mode> {
        Ok(self.settings()?.mode)
    }

    /// A property's value in force for this process (override, stored, or default); the
    /// password is shown masked. None when it is unset and has no default.
    pub fn property(&self, name: &str) -> Result<Option<String>> {
        let name = properties::canonical_name(name)?;
        let value = match self.overrides.get(name) {
            Some(v) => Some(v.clone()),
            None => match self.stored_properties()?.remove(name) {
                Some(v) => Some(v),
                None => properties::default_value(name)?.map(str::to_string),
            },
        };
        Ok(value.map(|v| {
            if properties::is_secret(name) {
                properties::MASK.to_string()
            } else {
                v
            }
        }))
    }

    /// Stores a property for every client; None removes it, so the default applies again.
    pub fn set_property(&self, name: &str, value: Option<&str>) -> Result<()> {
        match value {
            Some(v) => {
                let (name, v) = properties::normalize(name, v)?;
                // A value fine alone may clash with another (the lease and the timeout).
                let mut values = self.stored_properties()?;
                values.insert(name.to_string(), v.clone());
                Settings::from_values(&values)?;
                self.store.set_property(name, Some(&v))
            }
            None => self
                .store
                .set_property(properties::canonical_name(name)?, None),
        }
    }

    pub fn list(&self, status: Option<Status>) -> Result<Vec<Summary>> {
        self.store.list(status)
    }

    pub fn show(&self, id: i64) -> Result<Detail> {
        self.store.detail(id)
    }

    pub fn status(&self) -> Result<QueueStatus> {
        self.store.status()
    }
}
