//! The C ABI: every `extern "C"` function and nothing else. It checks and converts arguments,
//! calls the engine, and turns errors and panics into result codes; it decides nothing.
//!
//! Conventions: every function returns an `en_result`; outputs go through out-parameters that
//! are written only on success; the text of the last failure is in `en_last_error()`.
#![allow(non_camel_case_types, clippy::upper_case_acronyms)]

use crate::engine::{Engine, Report};
use crate::error::{Error, ErrorKind};
use crate::properties::Mode;
use crate::store::{PurgeScope, Status};
use crate::transport::callback::{Answer, CallbackTransport};
use crate::transport::Envelope;
use once_cell::sync::Lazy;
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_char, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Result codes. Numbers are never reused; new codes are only ever added.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum en_result {
    EN_OK = 0,
    /// A required pointer argument was NULL.
    EN_ERR_NULL_ARGUMENT = 1,
    /// A string argument was not valid UTF-8.
    EN_ERR_INVALID_UTF8 = 2,
    /// A JSON argument did not parse.
    EN_ERR_INVALID_JSON = 3,
    /// The message broke a rule: no recipient, a bad address, CR/LF in a header, an unknown field.
    EN_ERR_INVALID_MESSAGE = 4,
    /// The message is larger than EN_MaxMessageSize.
    EN_ERR_MESSAGE_TOO_LARGE = 5,
    /// An unknown property, or a value the property does not accept.
    EN_ERR_INVALID_PROPERTY = 6,
    /// A mode other than Deferred, Light or Queue.
    EN_ERR_INVALID_MODE = 7,
    /// Another argument is out of range.
    EN_ERR_INVALID_ARGUMENT = 8,
    /// No message with that id.
    EN_ERR_NOT_FOUND = 9,
    /// The database failed.
    EN_ERR_STORE = 10,
    /// The configuration does not allow delivery (no relay set, unreadable CA file, …).
    EN_ERR_CONFIG = 11,
    /// Another process is delivering that message right now.
    EN_ERR_BUSY = 12,
    /// The engine handle is closed or was never opened.
    EN_ERR_INVALID_HANDLE = 13,
    /// The library caught an internal panic; the host process is unharmed.
    EN_ERR_PANIC = 14,
}

/// The answers a transport callback may return. Any other value, 0 included, counts as
/// "retry later", so a callback that dies with a default return value loses nothing.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum en_delivery {
    /// The message is delivered to every recipient.
    EN_DELIVERED = 1,
    /// Not delivered now; counts an attempt and retries after the back-off.
    EN_RETRY_LATER = 2,
    /// Not deliverable; the message fails at once.
    EN_FAILED = 3,
}

/// A delivery engine over one database. Thread-safe: one handle may be used from any number of
/// threads at once.
pub struct en_engine {
    _opaque: [u8; 0],
}

/// What a flush, drain or resend did. A plain value owned by the caller, with no references
/// into the library: any thread may read it.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct en_report {
    /// Messages delivered.
    pub sent: u64,
    /// Messages that failed for now and will be retried after the back-off.
    pub deferred: u64,
    /// Messages that failed for good (5xx, or the attempt limit reached).
    pub failed: u64,
    /// True when Queue mode kept this client from delivering (en_flush only).
    pub held_by_mode: bool,
    /// True when EN_DeliveryEnabled is false, so nothing was sent.
    pub delivery_disabled: bool,
}

/// A custom delivery function. It receives `user_data`, the envelope sender, the recipients
/// separated by "\n", and the RFC 5322 message (not NUL-terminated). It returns an
/// `en_delivery` value and may write a NUL-terminated UTF-8 reason into `reason` (capacity
/// `reason_capacity` bytes). It is called on the thread that called en_notify, en_flush,
/// en_drain or en_resend, and from several threads at once if the host flushes from several.
pub type en_transport_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        from: *const c_char,
        recipients: *const c_char,
        message: *const u8,
        message_len: usize,
        reason: *mut c_char,
        reason_capacity: usize,
    ) -> i32,
>;

struct Failure {
    code: en_result,
    message: String,
}

impl Failure {
    fn new(code: en_result, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        let code = match e.kind() {
            ErrorKind::InvalidJson => en_result::EN_ERR_INVALID_JSON,
            ErrorKind::InvalidMessage => en_result::EN_ERR_INVALID_MESSAGE,
            ErrorKind::MessageTooLarge => en_result::EN_ERR_MESSAGE_TOO_LARGE,
            ErrorKind::InvalidProperty => en_result::EN_ERR_INVALID_PROPERTY,
            ErrorKind::InvalidMode => en_result::EN_ERR_INVALID_MODE,
            ErrorKind::InvalidArgument => en_result::EN_ERR_INVALID_ARGUMENT,
            ErrorKind::NotFound => en_result::EN_ERR_NOT_FOUND,
            ErrorKind::Store => en_result::EN_ERR_STORE,
            ErrorKind::Config => en_result::EN_ERR_CONFIG,
            ErrorKind::Busy => en_result::EN_ERR_BUSY,
        };
        Failure::new(code, e.message())
    }
}

type Outcome = Result<(), Failure>;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// The open engines by handle. A handle is a number that is never reused, dressed as a pointer
/// and never dereferenced, so a closed, stale or foreign handle is refused, not followed.
static ENGINES: Lazy<Mutex<HashMap<usize, Arc<Engine>>>> = Lazy::new(|| Mutex::new(HashMap::new()));
static NEXT_HANDLE: AtomicUsize = AtomicUsize::new(1);

fn engines() -> std::sync::MutexGuard<'static, HashMap<usize, Arc<Engine>>> {
    ENGINES.lock().unwrap_or_else(|p| p.into_inner())
}

fn set_last_error(message: &str) {
    let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = text);
}

/// Runs an entry point: clears the last error, catches panics, and sets the error text.
fn entry(f: impl FnOnce() -> Outcome) -> en_result {
    set_last_error("");
    match catch_unwind(AssertUnwindSafe(f)) {
        // Cleared again: a callback may have made a failing en_ call of its own meanwhile.
        Ok(Ok(())) => {
            set_last_error("");
            en_result::EN_OK
        }
        Ok(Err(failure)) => {
            set_last_error(&failure.message);
            failure.code
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            set_last_error(&format!("internal error (panic): {what}"));
            en_result::EN_ERR_PANIC
        }
    }
}

unsafe fn text_arg(ptr: *const c_char, what: &str) -> Result<String, Failure> {
    if ptr.is_null() {
        return Err(Failure::new(
            en_result::EN_ERR_NULL_ARGUMENT,
            format!("{what} is NULL"),
        ));
    }
    CStr::from_ptr(ptr)
        .to_str()
        .map(str::to_string)
        .map_err(|_| {
            Failure::new(
                en_result::EN_ERR_INVALID_UTF8,
                format!("{what} is not valid UTF-8"),
            )
        })
}

unsafe fn optional_text_arg(ptr: *const c_char, what: &str) -> Result<Option<String>, Failure> {
    if ptr.is_null() {
        Ok(None)
    } else {
        text_arg(ptr, what).map(Some)
    }
}

fn out_arg<T>(ptr: *mut T, what: &str) -> Result<*mut T, Failure> {
    if ptr.is_null() {
        Err(Failure::new(
            en_result::EN_ERR_NULL_ARGUMENT,
            format!("{what} is NULL"),
        ))
    } else {
        Ok(ptr)
    }
}

fn engine_arg(handle: *const en_engine) -> Result<Arc<Engine>, Failure> {
    if handle.is_null() {
        return Err(Failure::new(
            en_result::EN_ERR_NULL_ARGUMENT,
            "engine is NULL",
        ));
    }
    engines().get(&(handle as usize)).cloned().ok_or_else(|| {
        Failure::new(
            en_result::EN_ERR_INVALID_HANDLE,
            "engine handle is closed or was never opened",
        )
    })
}

fn string_out(value: String) -> *mut c_char {
    CString::new(value.replace('\0', " "))
        .unwrap_or_default()
        .into_raw()
}

fn json_out<T: serde::Serialize>(value: &T, out: *mut *mut c_char) -> Outcome {
    let text = serde_json::to_string(value)
        .map_err(|e| Failure::new(en_result::EN_ERR_PANIC, format!("cannot encode JSON: {e}")))?;
    unsafe { *out = string_out(text) };
    Ok(())
}

/// The shape of every call that answers with a report.
fn report_entry(
    engine: *const en_engine,
    out_report: *mut en_report,
    run: impl FnOnce(&Engine) -> crate::Result<Report>,
) -> en_result {
    entry(|| {
        let engine = engine_arg(engine)?;
        let out = out_arg(out_report, "out_report")?;
        report_out(run(&engine)?, out);
        Ok(())
    })
}

fn report_out(report: Report, out: *mut en_report) {
    let r = en_report {
        sent: report.sent,
        deferred: report.deferred,
        failed: report.failed,
        held_by_mode: report.held_by_mode,
        delivery_disabled: report.delivery_disabled,
    };
    unsafe { *out = r };
}

/// The library version, a static string that is never freed.
#[no_mangle]
pub extern "C" fn en_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The text of the last failure on this thread, or "" after a success. Never NULL. The pointer
/// stays valid until the next call of any en_ function on the same thread: copy it first.
#[no_mangle]
pub extern "C" fn en_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// Frees a string this library returned. NULL is accepted.
///
/// # Safety
/// `s` must be NULL or a string from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn en_string_free(s: *mut c_char) {
    if !s.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(CString::from_raw(s))));
    }
}

/// Opens (creating if needed) the queue database at `db_path`. `options_json` is NULL or a JSON
/// object of property overrides for this process only, e.g. {"email_server":"127.0.0.1:2525"}.
///
/// # Safety
/// Pointers must be NULL or valid; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn en_open(
    db_path: *const c_char,
    options_json: *const c_char,
    out_engine: *mut *mut en_engine,
) -> en_result {
    entry(|| {
        let path = text_arg(db_path, "db_path")?;
        let options = optional_text_arg(options_json, "options_json")?;
        let out = out_arg(out_engine, "out_engine")?;
        let overrides = match options {
            Some(text) => parse_options(&text)?,
            None => Vec::new(),
        };
        let engine = Engine::open(Path::new(&path), &overrides)?;
        let handle = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
        engines().insert(handle, Arc::new(engine));
        *out = handle as *mut en_engine;
        Ok(())
    })
}

fn parse_options(text: &str) -> Result<Vec<(String, String)>, Failure> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| Failure::new(en_result::EN_ERR_INVALID_JSON, format!("options_json: {e}")))?;
    let object = value.as_object().ok_or_else(|| {
        Failure::new(
            en_result::EN_ERR_INVALID_ARGUMENT,
            "options_json must be a JSON object of property values",
        )
    })?;
    object
        .iter()
        .map(|(name, v)| match v {
            serde_json::Value::String(s) => Ok((name.clone(), s.clone())),
            serde_json::Value::Number(n) => Ok((name.clone(), n.to_string())),
            serde_json::Value::Bool(b) => Ok((name.clone(), b.to_string())),
            _ => Err(Failure::new(
                en_result::EN_ERR_INVALID_ARGUMENT,
                format!("options_json: {name} must be a string, number or boolean"),
            )),
        })
        .collect()
}

/// Closes an engine. NULL is accepted. A handle already closed gives EN_ERR_INVALID_HANDLE.
/// Calls still running on other threads finish normally; the engine is freed after the last.
///
/// # Safety
/// Any value is safe: handles are checked, never dereferenced.
#[no_mangle]
pub unsafe extern "C" fn en_close(engine: *mut en_engine) -> en_result {
    entry(|| {
        if engine.is_null() {
            return Ok(());
        }
        // The engine itself goes when the last call still using it returns.
        match engines().remove(&(engine as usize)) {
            Some(_) => Ok(()),
            None => Err(Failure::new(
                en_result::EN_ERR_INVALID_HANDLE,
                "engine handle is already closed",
            )),
        }
    })
}

/// Validates and hands over one message (JSON). In Deferred and Queue mode it is stored; in
/// Light mode it is sent at once and stored only if that failed. `*out_id` is the message id,
/// or 0 when Light mode delivered it and nothing was stored.
///
/// # Safety
/// Pointers must be NULL or valid; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn en_notify(
    engine: *const en_engine,
    message_json: *const c_char,
    out_id: *mut i64,
) -> en_result {
    entry(|| {
        let engine = engine_arg(engine)?;
        let json = text_arg(message_json, "message_json")?;
        let out = out_arg(out_id, "out_id")?;
        *out = engine.notify(&json)?;
        Ok(())
    })
}

/// Delivers every eligible message: this client's and any left behind by others. In Queue
/// mode it delivers nothing and sets `held_by_mode`.
///
/// # Safety
/// Pointers must be NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn en_flush(
    engine: *const en_engine,
    out_report: *mut en_report,
) -> en_result {
    report_entry(engine, out_report, Engine::flush)
}

/// Delivers every eligible message whatever the mode: for delivery servers and scripts.
///
/// # Safety
/// Pointers must be NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn en_drain(
    engine: *const en_engine,
    out_report: *mut en_report,
) -> en_result {
    report_entry(engine, out_report, Engine::drain)
}

/// Stores the delivery mode, "Deferred", "Light" or "Queue" (any case), for every client.
///
/// # Safety
/// Pointers must be NULL or valid; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn en_set_mode(engine: *const en_engine, mode: *const c_char) -> en_result {
    entry(|| {
        let engine = engine_arg(engine)?;
        let mode = Mode::from_str(&text_arg(mode, "mode")?)?;
        engine.set_mode(mode)?;
        Ok(())
    })
}

/// Delivers one message now, whatever its attempts, back-off or status.
///
/// # Safety
/// Pointers must be NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn en_resend(
    engine: *const en_engine,
    id: i64,
    out_report: *mut en_report,
) -> en_result {
    report_entry(engine, out_report, |e| e.resend(id))
}

/// Sets a message's attempts to 0 and makes it eligible now; a failed message is queued again.
///
/// # Safety
/// Pointers must be NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn en_reset_attempts(engine: *const en_engine, id: i64) -> en_result {
    entry(|| {
        engine_arg(engine)?.reset_attempts(id)?;
        Ok(())
    })
}

/// Removes finished messages and their attempts last changed more than `older_than_seconds`
/// ago. `status` is "sent", "failed" or "all" (both). `*out_removed` is how many went.
///
/// # Safety
/// Pointers must be NULL or valid; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn en_purge(
    engine: *const en_engine,
    status: *const c_char,
    older_than_seconds: u64,
    out_removed: *mut u64,
) -> en_result {
    entry(|| {
        let engine = engine_arg(engine)?;
        let status = text_arg(status, "status")?;
        let out = out_arg(out_removed, "out_removed")?;
        let scope = PurgeScope::parse(&status).ok_or_else(|| {
            Failure::new(
                en_result::EN_ERR_INVALID_ARGUMENT,
                format!("purge status {status:?}: expected sent, failed or all"),
            )
        })?;
        *out = engine.purge(scope, Duration::from_secs(older_than_seconds))?;
        Ok(())
    })
}

/// The value of a property in force for this engine. `*out_value` is a string to free with
/// en_string_free, or NULL when the property is unset and has no default. The password reads
/// back masked.
///
/// # Safety
/// Pointers must be NULL or valid; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn en_get_property(
    engine: *const en_engine,
    name: *const c_char,
    out_value: *mut *mut c_char,
) -> en_result {
    entry(|| {
        let engine = engine_arg(engine)?;
        let name = text_arg(name, "name")?;
        let out = out_arg(out_value, "out_value")?;
        *out = engine
            .property(&name)?
            .map(string_out)
            .unwrap_or(std::ptr::null_mut());
        Ok(())
    })
}

/// Stores a property for every client. A NULL `value` removes it, so its default applies.
///
/// # Safety
/// Pointers must be NULL or valid; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn en_set_property(
    engine: *const en_engine,
    name: *const c_char,
    value: *const c_char,
) -> en_result {
    entry(|| {
        let engine = engine_arg(engine)?;
        let name = text_arg(name, "name")?;
        let value = optional_text_arg(value, "value")?;
        engine.set_property(&name, value.as_deref())?;
        Ok(())
    })
}

/// The queue as a JSON array of messages, optionally only those with `status` ("queued",
/// "sending", "sent", "failed"; NULL for all). Free `*out_json` with en_string_free.
///
/// # Safety
/// Pointers must be NULL or valid; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn en_list(
    engine: *const en_engine,
    status: *const c_char,
    out_json: *mut *mut c_char,
) -> en_result {
    entry(|| {
        let engine = engine_arg(engine)?;
        let status = match optional_text_arg(status, "status")? {
            Some(s) => Some(Status::parse(&s).ok_or_else(|| {
                Failure::new(
                    en_result::EN_ERR_INVALID_ARGUMENT,
                    format!("status {s:?}: expected queued, sending, sent or failed"),
                )
            })?),
            None => None,
        };
        let out = out_arg(out_json, "out_json")?;
        json_out(&engine.list(status)?, out)
    })
}

/// One message as a JSON object with its attempts ("attempt_log") and raw MIME ("raw").
/// Free `*out_json` with en_string_free.
///
/// # Safety
/// Pointers must be NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn en_show(
    engine: *const en_engine,
    id: i64,
    out_json: *mut *mut c_char,
) -> en_result {
    entry(|| {
        let engine = engine_arg(engine)?;
        let out = out_arg(out_json, "out_json")?;
        json_out(&engine.show(id)?, out)
    })
}

/// Counts by status and the oldest waiting message, as a JSON object. Free `*out_json` with
/// en_string_free.
///
/// # Safety
/// Pointers must be NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn en_status(
    engine: *const en_engine,
    out_json: *mut *mut c_char,
) -> en_result {
    entry(|| {
        let engine = engine_arg(engine)?;
        let out = out_arg(out_json, "out_json")?;
        json_out(&engine.status()?, out)
    })
}

struct CallbackTarget {
    deliver: unsafe extern "C" fn(
        *mut c_void,
        *const c_char,
        *const c_char,
        *const u8,
        usize,
        *mut c_char,
        usize,
    ) -> i32,
    user_data: *mut c_void,
}

// The host promises, by registering the callback, that it may be called from any thread.
unsafe impl Send for CallbackTarget {}
unsafe impl Sync for CallbackTarget {}

const REASON_CAPACITY: usize = 1024;

impl CallbackTarget {
    fn call(&self, envelope: &Envelope, raw: &[u8]) -> Answer {
        let from = CString::new(envelope.from.as_str()).unwrap_or_default();
        let recipients = CString::new(envelope.to.join("\n")).unwrap_or_default();
        let mut reason = vec![0u8; REASON_CAPACITY];
        let answer = unsafe {
            (self.deliver)(
                self.user_data,
                from.as_ptr(),
                recipients.as_ptr(),
                raw.as_ptr(),
                raw.len(),
                reason.as_mut_ptr().cast(),
                REASON_CAPACITY,
            )
        };
        let end = reason
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(REASON_CAPACITY);
        let reason = String::from_utf8_lossy(&reason[..end]).into_owned();
        let reason_or = |fallback: &str| {
            if reason.is_empty() {
                fallback.to_string()
            } else {
                reason.clone()
            }
        };
        match answer {
            x if x == en_delivery::EN_DELIVERED as i32 => Answer::Delivered,
            x if x == en_delivery::EN_FAILED as i32 => {
                Answer::Failed(reason_or("the delivery callback failed the message"))
            }
            x if x == en_delivery::EN_RETRY_LATER as i32 => {
                Answer::RetryLater(reason_or("the delivery callback asked to retry later"))
            }
            other => Answer::RetryLater(format!(
                "the delivery callback returned {other}, which is not an en_delivery value"
            )),
        }
    }
}

/// Delivers through `callback` instead of SMTP or pickup, for this engine only. NULL goes back
/// to the configured transport. `user_data` is passed back untouched and must stay valid while
/// the engine is open.
///
/// # Safety
/// `engine` must be NULL or valid; `callback` must be safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn en_set_transport(
    engine: *const en_engine,
    callback: en_transport_fn,
    user_data: *mut c_void,
) -> en_result {
    entry(|| {
        let engine = engine_arg(engine)?;
        let transport = callback.map(|deliver| {
            let target = CallbackTarget { deliver, user_data };
            Arc::new(CallbackTransport::new(
                move |envelope: &Envelope, raw: &[u8]| target.call(envelope, raw),
            )) as Arc<dyn crate::transport::Transport>
        });
        engine.set_transport(transport);
        Ok(())
    })
}
