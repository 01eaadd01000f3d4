//! The queue's storage. The engine decides; a store only reads and writes, each call in one
//! short transaction, so no lock is held while a message is on the wire.

pub mod sqlite;

use crate::error::Result;
use crate::message::Priority;
use serde::Serialize;
use std::collections::HashMap;

/// Where a message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Queued,
    Sending,
    Sent,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s.to_ascii_lowercase().as_str() {
            "queued" => Some(Status::Queued),
            "sending" => Some(Status::Sending),
            "sent" => Some(Status::Sent),
            "failed" => Some(Status::Failed),
            _ => None,
        }
    }
}

/// Who made an attempt: written into the audit trail and used as the lease owner.
#[derive(Debug, Clone)]
pub struct Claimer {
    pub host: String,
    pub pid: u32,
    /// Unique per engine, so two engines in one process never share a lease.
    pub token: String,
}

/// A new message and, for Light mode, the attempt already made.
pub struct NewMessage<'a> {
    pub rendered: &'a crate::message::Rendered,
    pub now_ms: i64,
    pub first_attempt: Option<&'a Update>,
}

/// The result of one attempt, to be recorded atomically with the message's new state.
#[derive(Debug, Clone)]
pub struct Update {
    pub status: Status,
    pub attempts: u32,
    pub next_attempt_ms: i64,
    /// Recipients still to be delivered.
    pub pending: Vec<String>,
    /// Recipients that got the message in this try, added to those recorded.
    pub newly_delivered: Vec<String>,
    /// Recipients refused for good, as "address: code text" lines, added to those recorded.
    pub newly_rejected: Vec<String>,
    pub sent_ms: Option<i64>,
    pub last_error: Option<String>,
    pub last_code: Option<u16>,
    pub attempt: AttemptRecord,
}

/// Which messages one claim takes.
#[derive(Debug, Clone, Copy)]
pub struct Batch {
    /// The time now: leases are measured from it.
    pub now_ms: i64,
    /// Messages due at or before this are taken; a flush keeps it at its start, so it never
    /// takes again what it deferred itself.
    pub due_by_ms: i64,
    pub lease_ms: i64,
    pub limit: u32,
}

/// One row of the audit trail.
#[derive(Debug, Clone, Serialize)]
pub struct AttemptRecord {
    pub at_ms: i64,
    pub host: String,
    pub pid: u32,
    /// sent, partial, deferred, failed or lease-expired.
    pub outcome: String,
    pub smtp_code: Option<u16>,
    pub text: String,
}

/// A message claimed for delivery.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub attempts: u32,
    /// Some recipient already has the message from an earlier try.
    pub delivered_before: bool,
    pub envelope_from: String,
    pub pending: Vec<String>,
    pub raw: Vec<u8>,
}

impl Claimed {
    /// The envelope of this try: only the recipients still pending.
    pub fn envelope(&self) -> crate::transport::Envelope {
        crate::transport::Envelope {
            from: self.envelope_from.clone(),
            to: self.pending.clone(),
        }
    }
}

/// What listing and `show` return.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub id: i64,
    pub status: Status,
    pub attempts: u32,
    pub priority: Priority,
    pub message_id: String,
    pub subject: String,
    pub from: String,
    pub recipients: Vec<String>,
    /// Recipients that have the message.
    pub delivered: Vec<String>,
    pub rejected: Vec<String>,
    pub source: Option<String>,
    pub created_at: String,
    pub next_attempt_at: Option<String>,
    pub sent_at: Option<String>,
    pub last_error: Option<String>,
    pub last_smtp_code: Option<u16>,
}

/// A message with its audit trail and the bytes that are sent.
#[derive(Debug, Clone, Serialize)]
pub struct Detail {
    #[serde(flatten)]
    pub summary: Summary,
    pub attempt_log: Vec<AttemptView>,
    pub raw: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttemptView {
    pub at: String,
    pub host: String,
    pub pid: u32,
    pub outcome: String,
    pub smtp_code: Option<u16>,
    pub text: String,
}

/// Counts by status and the oldest message still waiting.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct QueueStatus {
    pub queued: u64,
    pub sending: u64,
    pub sent: u64,
    pub failed: u64,
    pub oldest_queued_id: Option<i64>,
    pub oldest_queued_at: Option<String>,
}

/// Which finished messages a purge removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurgeScope {
    Sent,
    Failed,
    All,
}

impl PurgeScope {
    pub fn parse(s: &str) -> Option<PurgeScope> {
        match s.to_ascii_lowercase().as_str() {
            "sent" => Some(PurgeScope::Sent),
            "failed" => Some(PurgeScope::Failed),
            "all" => Some(PurgeScope::All),
            _ => None,
        }
    }
}

/// The operations the engine needs from a database.
pub trait Store: Send + Sync {
    fn insert(&self, new: NewMessage<'_>) -> Result<i64>;
    /// Claims due messages under a lease. A message whose lease ran out after its send started
    /// first gets the outcome `expire` gives it; one never started is simply queued again.
    fn claim(
        &self,
        claimer: &Claimer,
        batch: &Batch,
        expire: &dyn Fn(&Claimed) -> Update,
    ) -> Result<Vec<Claimed>>;
    /// Marks a claimed message as being sent now, renewing its lease; false when the lease
    /// was lost to another process meanwhile, which then owns the message.
    fn start(&self, id: i64, claimer: &Claimer, now_ms: i64, lease_ms: i64) -> Result<bool>;
    /// Claims one message whatever its state (an administrator's resend); None if another
    /// process is sending it. A lease that ran out is ended first, as in `claim`.
    fn claim_id(
        &self,
        id: i64,
        claimer: &Claimer,
        now_ms: i64,
        lease_ms: i64,
        expire: &dyn Fn(&Claimed) -> Update,
    ) -> Result<Option<Claimed>>;
    /// Records an attempt; false when the lease was lost to someone else meanwhile.
    fn record(&self, id: i64, claimer: &Claimer, update: &Update) -> Result<bool>;
    /// Puts a claimed message back untouched (delivery could not be tried at all).
    fn release(&self, id: i64, claimer: &Claimer) -> Result<()>;
    fn reset_attempts(&self, id: i64, now_ms: i64) -> Result<()>;
    fn purge(&self, scope: PurgeScope, before_ms: i64) -> Result<u64>;
    fn list(&self, status: Option<Status>) -> Result<Vec<Summary>>;
    fn detail(&self, id: i64) -> Result<Detail>;
    fn status(&self) -> Result<QueueStatus>;
    fn properties(&self) -> Result<HashMap<String, String>>;
    fn set_property(&self, name: &str, value: Option<&str>) -> Result<()>;
}
