//! The embedded default store: one SQLite file (bundled SQLite, WAL mode) that every client on a
//! host, or on a shared disk, opens at once.

use super::*;
use crate::error::{Error, ErrorKind};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, UNIX_EPOCH};

/// Each entry moves the schema one version forward; a database is never moved back.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    status          TEXT    NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER,
    claimed_by      TEXT,
    started_at      INTEGER,
    priority        INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    message_id      TEXT    NOT NULL UNIQUE,
    envelope_from   TEXT    NOT NULL,
    recipients      TEXT    NOT NULL,
    pending         TEXT    NOT NULL,
    delivered       TEXT    NOT NULL DEFAULT '[]',
    rejected        TEXT    NOT NULL DEFAULT '[]',
    subject         TEXT    NOT NULL,
    source          TEXT,
    raw_mime        BLOB    NOT NULL,
    last_error      TEXT,
    last_smtp_code  INTEGER
);
CREATE INDEX messages_due ON messages (status, priority, next_attempt_at);
CREATE TABLE attempts (
    id        INTEGER PRIMARY KEY,
    message   INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    at        INTEGER NOT NULL,
    host      TEXT    NOT NULL,
    pid       INTEGER NOT NULL,
    outcome   TEXT    NOT NULL,
    smtp_code INTEGER,
    text      TEXT    NOT NULL
);
CREATE INDEX attempts_by_message ON attempts (message);
CREATE TABLE properties (
    name  TEXT PRIMARY KEY COLLATE NOCASE,
    value TEXT NOT NULL
);
"#];

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

pub struct SqliteStore {
    conn: Mutex<Connection>,
}

fn json_list(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

fn parse_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

fn time_text(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// Creates the file readable by its owner only: it holds the relay password.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    // Windows: a new file inherits the folder's ACL; the folder is the administrator's to guard.
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

fn store_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::Store,
        format!("database {}: {e}", path.display()),
    )
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<SqliteStore> {
        if !path.exists() {
            create_private(path).map_err(|e| store_error(path, e))?;
        }
        let mut conn = Connection::open(path).map_err(|e| store_error(path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        refuse_foreign(&conn).map_err(|e| store_error(path, e))?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| store_error(path, e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(store_error(
                path,
                format!("WAL mode is not available (journal mode {mode})"),
            ));
        }
        // FULL: a stored message survives a power cut as well as a crash of the process.
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
        migrate(&mut conn).map_err(|e| store_error(path, e))?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    /// Runs `work` in one write transaction taken at once (IMMEDIATE): a deferred one that must
    /// upgrade from reading can fail with SQLITE_BUSY at once, without waiting its turn.
    fn write<T>(&self, work: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = work(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic elsewhere cannot leave a transaction open: rusqlite rolls back on drop.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Another application's SQLite file is left as it is: not switched to WAL, not migrated.
fn refuse_foreign(conn: &Connection) -> Result<()> {
    let tables: i64 = conn.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
        [],
        |r| r.get(0),
    )?;
    if schema_version(conn)? == 0 && tables > 0 {
        return Err(Error::new(
            ErrorKind::Store,
            "not an en-notify database: it has tables of its own",
        ));
    }
    Ok(())
}

fn schema_version(conn: &Connection) -> Result<usize> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize)
}

fn migrate(conn: &mut Connection) -> Result<()> {
    // A current schema needs no write, so a read-only copy can still be inspected.
    if schema_version(conn)? == MIGRATIONS.len() {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version = schema_version(&tx)?;
    if version > MIGRATIONS.len() {
        return Err(Error::new(
            ErrorKind::Store,
            format!(
                "schema version {version} is newer than this library's ({})",
                MIGRATIONS.len()
            ),
        ));
    }
    for sql in &MIGRATIONS[version..] {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", MIGRATIONS.len() as i64)?;
    tx.commit()?;
    Ok(())
}

fn insert_attempt(conn: &Connection, message: i64, a: &AttemptRecord) -> Result<()> {
    conn.execute(
        "INSERT INTO attempts (message, at, host, pid, outcome, smtp_code, text) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![message, a.at_ms, a.host, a.pid, a.outcome, a.smtp_code, a.text],
    )?;
    Ok(())
}

fn claimed_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Claimed> {
    let pending: String = r.get(3)?;
    let all: String = r.get(5)?;
    let delivered: String = r.get(6)?;
    let mut pending = parse_list(&pending);
    // Nobody pending (sent, or everyone refused): a resend goes to every recipient.
    if pending.is_empty() {
        pending = parse_list(&all);
    }
    Ok(Claimed {
        id: r.get(0)?,
        attempts: r.get(1)?,
        delivered_before: delivered != "[]",
        envelope_from: r.get(2)?,
        pending,
        raw: r.get(4)?,
    })
}

const CLAIMED_COLUMNS: &str =
    "id, attempts, envelope_from, pending, raw_mime, recipients, delivered";

/// A stored list with `more` added, each address once.
fn merged(stored: &str, more: &[String]) -> Vec<String> {
    let mut list = parse_list(stored);
    for address in more {
        if !list.contains(address) {
            list.push(address.clone());
        }
    }
    list
}

/// Ends the leases that ran out (of one message, or all). A message its claimer had started to
/// send may have reached the relay: that try counts, as `expire` says. One it never started is
/// simply queued again.
fn expire_leases(
    tx: &Connection,
    now_ms: i64,
    only: Option<i64>,
    expire: &dyn Fn(&Claimed) -> Update,
) -> Result<()> {
    let expired: Vec<(Claimed, bool, String, String)> = tx
        .prepare(&format!(
            "SELECT {CLAIMED_COLUMNS}, started_at IS NOT NULL, rejected FROM messages \
             WHERE status = 'sending' AND lease_until < ?1 AND (?2 IS NULL OR id = ?2)"
        ))?
        .query_map(params![now_ms, only], |r| {
            Ok((claimed_row(r)?, r.get(7)?, r.get(6)?, r.get(8)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (claimed, started, delivered, rejected) in expired {
        if started {
            write_update(tx, claimed.id, &expire(&claimed), &delivered, &rejected)?;
        } else {
            tx.execute(
                "UPDATE messages SET status = 'queued', lease_until = NULL, claimed_by = NULL WHERE id = ?1",
                [claimed.id],
            )?;
        }
    }
    Ok(())
}

/// Writes an attempt's outcome into the message row, adding to the recipients recorded as
/// delivered and rejected.
fn write_update(
    tx: &Connection,
    id: i64,
    u: &Update,
    delivered: &str,
    rejected: &str,
) -> Result<()> {
    let delivered = merged(delivered, &u.newly_delivered);
    let mut rejected = parse_list(rejected);
    rejected.extend(u.newly_rejected.iter().cloned());
    // Someone who has the message is never pending, whoever recorded the delivery; and a
    // message nobody is pending for any more is sent.
    let pending: Vec<String> = u
        .pending
        .iter()
        .filter(|a| !delivered.contains(a))
        .cloned()
        .collect();
    let status = match u.status {
        Status::Queued if pending.is_empty() => Status::Sent,
        other => other,
    };
    let sent_ms = u
        .sent_ms
        .or((status == Status::Sent).then_some(u.attempt.at_ms));
    tx.execute(
        "UPDATE messages SET status = ?2, attempts = ?3, next_attempt_at = ?4, pending = ?5, delivered = ?6, \
         rejected = ?7, sent_at = COALESCE(?8, sent_at), last_error = ?9, last_smtp_code = ?10, updated_at = ?11, \
         lease_until = NULL, claimed_by = NULL, started_at = NULL WHERE id = ?1",
        params![
            id,
            status.as_str(),
            u.attempts,
            u.next_attempt_ms,
            json_list(&pending),
            json_list(&delivered),
            json_list(&rejected),
            sent_ms,
            u.last_error,
            u.last_code,
            u.attempt.at_ms
        ],
    )?;
    insert_attempt(tx, id, &u.attempt)
}

const SUMMARY_COLUMNS: &str =
    "id, status, attempts, priority, message_id, subject, envelope_from, recipients, \
     rejected, source, created_at, next_attempt_at, sent_at, last_error, last_smtp_code, delivered";

fn summary_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Summary> {
    let status: String = r.get(1)?;
    let status = Status::parse(&status).unwrap_or(Status::Queued);
    let next: i64 = r.get(11)?;
    Ok(Summary {
        id: r.get(0)?,
        status,
        attempts: r.get(2)?,
        priority: Priority::from_rank(r.get(3)?),
        message_id: r.get(4)?,
        subject: r.get(5)?,
        from: r.get(6)?,
        recipients: parse_list(&r.get::<_, String>(7)?),
        rejected: parse_list(&r.get::<_, String>(8)?),
        source: r.get(9)?,
        created_at: time_text(r.get(10)?),
        next_attempt_at: (status == Status::Queued).then(|| time_text(next)),
        sent_at: r.get::<_, Option<i64>>(12)?.map(time_text),
        last_error: r.get(13)?,
        last_smtp_code: r.get(14)?,
        delivered: parse_list(&r.get::<_, String>(15)?),
    })
}

fn not_found(id: i64) -> Error {
    Error::new(ErrorKind::NotFound, format!("no message with id {id}"))
}

impl Store for SqliteStore {
    fn insert(&self, new: NewMessage<'_>) -> Result<i64> {
        self.write(|tx| {
        let m = new.rendered;
        let recipients = json_list(&m.recipients);
        tx.execute(
            "INSERT INTO messages (status, attempts, next_attempt_at, priority, created_at, updated_at, \
             message_id, envelope_from, recipients, pending, subject, source, raw_mime) \
             VALUES ('queued', 0, ?1, ?2, ?1, ?1, ?3, ?4, ?5, ?5, ?6, ?7, ?8)",
            params![
                new.now_ms,
                m.priority.rank(),
                m.message_id,
                m.envelope_from,
                recipients,
                m.subject,
                m.source,
                m.raw
            ],
        )?;
        let id = tx.last_insert_rowid();
        if let Some(u) = new.first_attempt {
            write_update(tx, id, u, "[]", "[]")?;
        }
        Ok(id)
        })
    }

    fn claim(
        &self,
        claimer: &Claimer,
        batch: &Batch,
        expire: &dyn Fn(&Claimed) -> Update,
    ) -> Result<Vec<Claimed>> {
        let now_ms = batch.now_ms;
        self.write(|tx| {
            expire_leases(tx, now_ms, None, expire)?;
            let claimed: Vec<Claimed> = tx
                .prepare(&format!(
                    "SELECT {CLAIMED_COLUMNS} FROM messages WHERE status = 'queued' AND next_attempt_at <= ?1 \
                     ORDER BY priority, next_attempt_at, id LIMIT ?2"
                ))?
                .query_map(params![batch.due_by_ms, batch.limit], claimed_row)?
                .collect::<rusqlite::Result<_>>()?;
            let mut lease = tx.prepare(
                "UPDATE messages SET status = 'sending', lease_until = ?2, claimed_by = ?3, started_at = NULL, \
                 updated_at = ?4 WHERE id = ?1",
            )?;
            for c in &claimed {
                lease.execute(params![c.id, now_ms + batch.lease_ms, claimer.token, now_ms])?;
            }
            Ok(claimed)
        })
    }

    fn start(&self, id: i64, claimer: &Claimer, now_ms: i64, lease_ms: i64) -> Result<bool> {
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE messages SET started_at = ?2, lease_until = ?3 \
                 WHERE id = ?1 AND status = 'sending' AND claimed_by = ?4",
                params![id, now_ms, now_ms + lease_ms, claimer.token],
            )?;
            Ok(changed == 1)
        })
    }

    fn claim_id(
        &self,
        id: i64,
        claimer: &Claimer,
        now_ms: i64,
        lease_ms: i64,
        expire: &dyn Fn(&Claimed) -> Update,
    ) -> Result<Option<Claimed>> {
        self.write(|tx| {
            expire_leases(tx, now_ms, Some(id), expire)?;
            let leased: Option<bool> = tx
                .query_row("SELECT status = 'sending' FROM messages WHERE id = ?1", [id], |r| r.get(0))
                .optional()?;
            match leased {
                None => return Err(not_found(id)),
                Some(true) => return Ok(None),
                Some(false) => {}
            }
            let claimed = tx.query_row(&format!("SELECT {CLAIMED_COLUMNS} FROM messages WHERE id = ?1"), [id], claimed_row)?;
            // Sent at once, so started now.
            tx.execute(
                "UPDATE messages SET status = 'sending', lease_until = ?2, claimed_by = ?3, updated_at = ?4, \
                 started_at = ?4, pending = ?5 WHERE id = ?1",
                params![id, now_ms + lease_ms, claimer.token, now_ms, json_list(&claimed.pending)],
            )?;
            Ok(Some(claimed))
        })
    }

    fn record(&self, id: i64, claimer: &Claimer, u: &Update) -> Result<bool> {
        self.write(|tx| {
        let lists: Option<(String, String)> = tx
            .query_row(
                "SELECT delivered, rejected FROM messages WHERE id = ?1 AND status = 'sending' AND claimed_by = ?2",
                params![id, claimer.token],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let ours = lists.is_some();
        match lists {
            Some((delivered, rejected)) => write_update(tx, id, u, &delivered, &rejected)?,
            // The lease was lost, but the try happened: the audit trail keeps it, and who got the
            // message stays known, so no one sends it to them again.
            None => {
                let (status, pending, delivered, rejected): (String, String, String, String) = tx.query_row(
                    "SELECT status, pending, delivered, rejected FROM messages WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )?;
                let delivered = merged(&delivered, &u.newly_delivered);
                let refused: Vec<&str> = u.newly_rejected.iter().filter_map(|l| l.split_once(": ").map(|(a, _)| a)).collect();
                let pending: Vec<String> = parse_list(&pending)
                    .into_iter()
                    .filter(|a| !delivered.contains(a) && !refused.contains(&a.as_str()))
                    .collect();
                let mut rejected = parse_list(&rejected);
                rejected.extend(u.newly_rejected.iter().cloned());
                // A holder sending it now records its own outcome; otherwise the late facts
                // decide: nobody left pending means sent, and a failed message somebody has is
                // sent too. A queued one with recipients still pending stays queued for them.
                let status = match Status::parse(&status) {
                    Some(Status::Queued) if pending.is_empty() => Status::Sent,
                    Some(Status::Failed) if pending.is_empty() || !delivered.is_empty() => Status::Sent,
                    Some(other) => other,
                    None => Status::Queued,
                };
                tx.execute(
                    "UPDATE messages SET status = ?2, pending = ?3, delivered = ?4, rejected = ?5, \
                     sent_at = CASE WHEN ?2 = 'sent' THEN COALESCE(sent_at, ?6) ELSE sent_at END WHERE id = ?1",
                    params![id, status.as_str(), json_list(&pending), json_list(&delivered), json_list(&rejected), u.attempt.at_ms],
                )?;
                insert_attempt(tx, id, &u.attempt)?;
            }
        }
        Ok(ours)
        })
    }

    fn release(&self, id: i64, claimer: &Claimer) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE messages SET status = 'queued', lease_until = NULL, claimed_by = NULL \
                 WHERE id = ?1 AND status = 'sending' AND claimed_by = ?2",
                params![id, claimer.token],
            )?;
            Ok(())
        })
    }

    fn reset_attempts(&self, id: i64, now_ms: i64) -> Result<()> {
        let changed = self.write(|tx| {
            Ok(tx.execute(
            "UPDATE messages SET attempts = 0, next_attempt_at = ?2, updated_at = ?2, \
             pending = CASE WHEN status = 'failed' AND pending = '[]' THEN recipients ELSE pending END, \
             status = CASE WHEN status = 'failed' THEN 'queued' ELSE status END WHERE id = ?1",
            params![id, now_ms],
        )?)
        })?;
        if changed == 0 {
            return Err(not_found(id));
        }
        Ok(())
    }

    fn purge(&self, scope: PurgeScope, before_ms: i64) -> Result<u64> {
        let statuses = match scope {
            PurgeScope::Sent => "('sent')",
            PurgeScope::Failed => "('failed')",
            PurgeScope::All => "('sent', 'failed')",
        };
        self.write(|tx| {
            let chosen =
                format!("SELECT id FROM messages WHERE status IN {statuses} AND updated_at <= ?1");
            tx.execute(
                &format!("DELETE FROM attempts WHERE message IN ({chosen})"),
                [before_ms],
            )?;
            let removed = tx.execute(
                &format!("DELETE FROM messages WHERE id IN ({chosen})"),
                [before_ms],
            )?;
            Ok(removed as u64)
        })
    }

    fn list(&self, status: Option<Status>) -> Result<Vec<Summary>> {
        let conn = self.conn();
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM messages WHERE ?1 IS NULL OR status = ?1 ORDER BY id"
        );
        let rows = conn
            .prepare(&sql)?
            .query_map([status.map(Status::as_str)], summary_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn detail(&self, id: i64) -> Result<Detail> {
        let conn = self.conn();
        let summary = conn
            .query_row(
                &format!("SELECT {SUMMARY_COLUMNS} FROM messages WHERE id = ?1"),
                [id],
                summary_row,
            )
            .optional()?
            .ok_or_else(|| not_found(id))?;
        let raw: Vec<u8> =
            conn.query_row("SELECT raw_mime FROM messages WHERE id = ?1", [id], |r| {
                r.get(0)
            })?;
        let attempt_log = conn
            .prepare("SELECT at, host, pid, outcome, smtp_code, text FROM attempts WHERE message = ?1 ORDER BY id")?
            .query_map([id], |r| {
                Ok(AttemptView {
                    at: time_text(r.get(0)?),
                    host: r.get(1)?,
                    pid: r.get(2)?,
                    outcome: r.get(3)?,
                    smtp_code: r.get(4)?,
                    text: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Detail {
            summary,
            attempt_log,
            raw: String::from_utf8_lossy(&raw).into_owned(),
        })
    }

    fn status(&self) -> Result<QueueStatus> {
        let conn = self.conn();
        let mut s = QueueStatus {
            queued: 0,
            sending: 0,
            sent: 0,
            failed: 0,
            oldest_queued_id: None,
            oldest_queued_at: None,
        };
        let mut stmt = conn.prepare("SELECT status, COUNT(*) FROM messages GROUP BY status")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        for row in rows {
            let (status, n) = row?;
            match Status::parse(&status) {
                Some(Status::Queued) => s.queued = n,
                Some(Status::Sending) => s.sending = n,
                Some(Status::Sent) => s.sent = n,
                Some(Status::Failed) => s.failed = n,
                None => {}
            }
        }
        if let Some((id, at)) = conn
            .query_row(
                "SELECT id, created_at FROM messages WHERE status IN ('queued', 'sending') ORDER BY created_at, id LIMIT 1",
                [],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
            )
            .optional()?
        {
            s.oldest_queued_id = Some(id);
            s.oldest_queued_at = Some(time_text(at));
        }
        Ok(s)
    }

    fn properties(&self) -> Result<HashMap<String, String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT name, value FROM properties")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn set_property(&self, name: &str, value: Option<&str>) -> Result<()> {
        self.write(|tx| {
            match value {
                Some(v) => tx.execute(
                    "INSERT INTO properties (name, value) VALUES (?1, ?2) \
                 ON CONFLICT (name) DO UPDATE SET name = excluded.name, value = excluded.value",
                    params![name, v],
                )?,
                None => tx.execute("DELETE FROM properties WHERE name = ?1", [name])?,
            };
            Ok(())
        })
    }
}
