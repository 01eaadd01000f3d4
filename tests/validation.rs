//! Bad input gets a clear code and message, and stores nothing: through the C ABI (called
//! directly, as a C host would) and the Rust API.

mod common;
use common::*;
use en_notify::ffi::*;
use std::ffi::{CStr, CString};
use std::ptr;

fn last_error() -> String {
    unsafe { CStr::from_ptr(en_last_error()) }
        .to_string_lossy()
        .into_owned()
}

struct Handle {
    raw: *mut en_engine,
    _queue: Queue,
}

fn open() -> Handle {
    let q = Queue::new();
    let path = CString::new(q.path().to_str().unwrap()).unwrap();
    let mut raw = ptr::null_mut();
    assert_eq!(
        unsafe { en_open(path.as_ptr(), ptr::null(), &mut raw) },
        en_result::EN_OK
    );
    Handle { raw, _queue: q }
}

impl Drop for Handle {
    fn drop(&mut self) {
        unsafe { en_close(self.raw) };
    }
}

fn stored(h: &Handle) -> serde_json::Value {
    let mut out = ptr::null_mut();
    assert_eq!(
        unsafe { en_list(h.raw, ptr::null(), &mut out) },
        en_result::EN_OK
    );
    let text = unsafe { CStr::from_ptr(out) }.to_str().unwrap().to_string();
    unsafe { en_string_free(out) };
    serde_json::from_str(&text).unwrap()
}

/// Notifies raw bytes; returns the code, the error text, and whether the id was written.
fn notify_bytes(h: &Handle, json: &[u8]) -> (en_result, String, bool) {
    let text = CString::new(json).unwrap();
    let mut id = -7;
    let code = unsafe { en_notify(h.raw, text.as_ptr(), &mut id) };
    (code, last_error(), id != -7)
}

fn expect_refused(h: &Handle, json: &str, code: en_result, says: &str) {
    let (got, text, wrote) = notify_bytes(h, json.as_bytes());
    assert_eq!(got, code, "{json}: {text}");
    assert!(
        text.contains(says),
        "{json}: error {text:?} should mention {says:?}"
    );
    assert!(
        !wrote,
        "{json}: the out-parameter must be untouched on failure"
    );
    assert_eq!(
        stored(h),
        serde_json::json!([]),
        "{json}: nothing may be stored"
    );
}

#[test]
fn bad_messages_are_refused_with_a_code_and_a_message_and_nothing_is_stored() {
    let h = open();
    let ok = |extra: serde_json::Value| {
        let mut m = serde_json::json!({"from": "cq@example.com", "to": ["dev@example.com"], "subject": "s"});
        m.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        m.to_string()
    };
    use en_result::*;
    expect_refused(&h, "{\"to\": [", EN_ERR_INVALID_JSON, "JSON");
    expect_refused(&h, "[1, 2]", EN_ERR_INVALID_MESSAGE, "message JSON");
    expect_refused(
        &h,
        &ok(serde_json::json!({"attachments": []})),
        EN_ERR_INVALID_MESSAGE,
        "attachments",
    );
    expect_refused(
        &h,
        &ok(serde_json::json!({"to": []})),
        EN_ERR_INVALID_MESSAGE,
        "no recipient",
    );
    expect_refused(
        &h,
        &ok(serde_json::json!({"to": ["not an address"]})),
        EN_ERR_INVALID_MESSAGE,
        "not an address",
    );
    expect_refused(
        &h,
        &ok(serde_json::json!({"cc": ["a@b@c"]})),
        EN_ERR_INVALID_MESSAGE,
        "cc",
    );
    expect_refused(
        &h,
        &ok(serde_json::json!({"from": "nobody"})),
        EN_ERR_INVALID_MESSAGE,
        "from",
    );
    expect_refused(
        &h,
        &ok(serde_json::json!({"subject": "two\r\nBcc: victim@example.com"})),
        EN_ERR_INVALID_MESSAGE,
        "subject contains CR or LF",
    );
    expect_refused(
        &h,
        &ok(serde_json::json!({"subject": "bare\nLF"})),
        EN_ERR_INVALID_MESSAGE,
        "CR or LF",
    );
    expect_refused(
        &h,
        &ok(serde_json::json!({"headers": {"X-Rule": "a\rb"}})),
        EN_ERR_INVALID_MESSAGE,
        "header X-Rule",
    );
    expect_refused(
        &h,
        &ok(serde_json::json!({"headers": {"Bad Name": "v"}})),
        EN_ERR_INVALID_MESSAGE,
        "legal header name",
    );
    expect_refused(
        &h,
        &ok(serde_json::json!({"to": ["Eve <eve@example.com>\r\nX: y"]})),
        EN_ERR_INVALID_MESSAGE,
        "CR or LF",
    );
    expect_refused(
        &h,
        &ok(serde_json::json!({"priority": "urgent"})),
        EN_ERR_INVALID_MESSAGE,
        "priority",
    );
    expect_refused(
        &h,
        &ok(serde_json::json!({"to": "dev@example.com"})),
        EN_ERR_INVALID_MESSAGE,
        "sequence",
    );
}

#[test]
fn a_message_over_the_size_limit_is_refused() {
    let h = open();
    let name = CString::new("EN_MaxMessageSize").unwrap();
    let value = CString::new("2048").unwrap();
    assert_eq!(
        unsafe { en_set_property(h.raw, name.as_ptr(), value.as_ptr()) },
        en_result::EN_OK
    );
    let big = serde_json::json!({"from": "cq@example.com", "to": ["d@example.com"], "text": "x".repeat(3000)}).to_string();
    expect_refused(
        &h,
        &big,
        en_result::EN_ERR_MESSAGE_TOO_LARGE,
        "EN_MaxMessageSize",
    );
    let rendered_too_big = serde_json::json!({"from": "cq@example.com", "to": ["d@example.com"], "text": "ü".repeat(900)}).to_string();
    expect_refused(
        &h,
        &rendered_too_big,
        en_result::EN_ERR_MESSAGE_TOO_LARGE,
        "limit",
    );
}

#[test]
fn invalid_utf8_is_refused() {
    let h = open();
    let (code, text, wrote) = notify_bytes(&h, b"{\"to\":[\"d\xff@example.com\"]}");
    assert_eq!(code, en_result::EN_ERR_INVALID_UTF8, "{text}");
    assert!(text.contains("UTF-8") && !wrote);
    let bad_mode = CString::new(b"Light\xc3".to_vec()).unwrap();
    assert_eq!(
        unsafe { en_set_mode(h.raw, bad_mode.as_ptr()) },
        en_result::EN_ERR_INVALID_UTF8
    );
    assert_eq!(stored(&h), serde_json::json!([]));
}

#[test]
fn null_pointers_are_refused_everywhere() {
    let h = open();
    let json = CString::new(message(&["d@example.com"], "s")).unwrap();
    let mut id = 0i64;
    let mut report = en_report::default();
    let mut text = ptr::null_mut();
    let mut raw = ptr::null_mut();
    use en_result::EN_ERR_NULL_ARGUMENT as NULL;
    unsafe {
        assert_eq!(en_open(ptr::null(), ptr::null(), &mut raw), NULL);
        assert!(raw.is_null());
        assert_eq!(en_open(json.as_ptr(), ptr::null(), ptr::null_mut()), NULL);
        assert_eq!(en_notify(ptr::null(), json.as_ptr(), &mut id), NULL);
        assert!(last_error().contains("engine is NULL"));
        assert_eq!(en_notify(h.raw, ptr::null(), &mut id), NULL);
        assert!(last_error().contains("message_json"));
        assert_eq!(en_notify(h.raw, json.as_ptr(), ptr::null_mut()), NULL);
        assert_eq!(en_flush(h.raw, ptr::null_mut()), NULL);
        assert_eq!(en_flush(ptr::null(), &mut report), NULL);
        assert_eq!(en_drain(h.raw, ptr::null_mut()), NULL);
        assert_eq!(en_set_mode(h.raw, ptr::null()), NULL);
        assert_eq!(en_resend(h.raw, 1, ptr::null_mut()), NULL);
        assert_eq!(en_purge(h.raw, ptr::null(), 0, &mut 0), NULL);
        assert_eq!(en_get_property(h.raw, ptr::null(), &mut text), NULL);
        assert_eq!(en_set_property(h.raw, ptr::null(), ptr::null()), NULL);
        assert_eq!(en_list(h.raw, ptr::null(), ptr::null_mut()), NULL);
        assert_eq!(en_show(h.raw, 1, ptr::null_mut()), NULL);
        assert_eq!(en_status(h.raw, ptr::null_mut()), NULL);
        assert_eq!(en_reset_attempts(ptr::null(), 1), NULL);
        assert_eq!(en_set_transport(ptr::null(), None, ptr::null_mut()), NULL);
        assert_eq!(en_close(ptr::null_mut()), en_result::EN_OK);
        en_string_free(ptr::null_mut());
    }
    assert_eq!(stored(&h), serde_json::json!([]));
}

#[test]
fn unknown_modes_properties_and_values_are_refused_by_name() {
    let h = open();
    let set = |name: &str, value: &str| {
        let (n, v) = (CString::new(name).unwrap(), CString::new(value).unwrap());
        (
            unsafe { en_set_property(h.raw, n.as_ptr(), v.as_ptr()) },
            last_error(),
        )
    };
    let mode = CString::new("Lightning").unwrap();
    assert_eq!(
        unsafe { en_set_mode(h.raw, mode.as_ptr()) },
        en_result::EN_ERR_INVALID_MODE
    );
    assert!(last_error().contains("Lightning"));
    for (name, value, says) in [
        ("EN_DeliveryMode", "Sometimes", "EN_DeliveryMode"),
        ("en_deliveryattempt", "0", "EN_DeliveryAttempt"),
        ("EN_RetryBackoff", "soon", "EN_RetryBackoff"),
        ("email_tls", "maybe", "email_tls"),
        ("email_server", "relay:notaport", "email_server"),
        ("email_from", "a@b.c\r\nBcc: x@y.z", "email_from"),
        ("EN_NoSuchThing", "1", "unknown property"),
    ] {
        let (code, text) = set(name, value);
        assert_eq!(
            code,
            en_result::EN_ERR_INVALID_PROPERTY,
            "{name}={value}: {text}"
        );
        assert!(text.contains(says), "{name}={value}: {text:?}");
    }
    let mut value = ptr::null_mut();
    let name = CString::new("EN_DELIVERYMODE").unwrap();
    assert_eq!(
        unsafe { en_get_property(h.raw, name.as_ptr(), &mut value) },
        en_result::EN_OK
    );
    assert_eq!(
        unsafe { CStr::from_ptr(value) }.to_str().unwrap(),
        "Deferred",
        "a refused value changes nothing"
    );
    unsafe { en_string_free(value) };

    let (status, bad_scope) = (
        CString::new("bogus").unwrap(),
        CString::new("everything").unwrap(),
    );
    let mut json = ptr::null_mut();
    assert_eq!(
        unsafe { en_list(h.raw, status.as_ptr(), &mut json) },
        en_result::EN_ERR_INVALID_ARGUMENT
    );
    assert_eq!(
        unsafe { en_purge(h.raw, bad_scope.as_ptr(), 0, &mut 0) },
        en_result::EN_ERR_INVALID_ARGUMENT
    );
    let mut report = en_report::default();
    assert_eq!(
        unsafe { en_resend(h.raw, 4242, &mut report) },
        en_result::EN_ERR_NOT_FOUND
    );
    assert_eq!(
        unsafe { en_reset_attempts(h.raw, 4242) },
        en_result::EN_ERR_NOT_FOUND
    );
}

#[test]
fn bad_open_options_are_refused_and_open_nothing() {
    let q = Queue::new();
    let path = CString::new(q.path().to_str().unwrap()).unwrap();
    for (options, code) in [
        ("{\"email_server\": ", en_result::EN_ERR_INVALID_JSON),
        ("[\"email_server\"]", en_result::EN_ERR_INVALID_ARGUMENT),
        (
            "{\"email_server\": {\"host\": \"x\"}}",
            en_result::EN_ERR_INVALID_ARGUMENT,
        ),
        (
            "{\"email_tls\": \"sometimes\"}",
            en_result::EN_ERR_INVALID_PROPERTY,
        ),
        (
            "{\"no_such_property\": \"1\"}",
            en_result::EN_ERR_INVALID_PROPERTY,
        ),
    ] {
        let o = CString::new(options).unwrap();
        let mut raw = ptr::null_mut();
        assert_eq!(
            unsafe { en_open(path.as_ptr(), o.as_ptr(), &mut raw) },
            code,
            "{options}: {}",
            last_error()
        );
        assert!(raw.is_null());
    }
    let unreadable = CString::new("/nonexistent-dir/q.db").unwrap();
    let mut raw = ptr::null_mut();
    assert_eq!(
        unsafe { en_open(unreadable.as_ptr(), ptr::null(), &mut raw) },
        en_result::EN_ERR_STORE
    );
    assert!(last_error().contains("/nonexistent-dir/q.db"));
}

#[test]
fn a_closed_handle_is_refused_not_followed() {
    let h = open();
    let raw = h.raw;
    assert_eq!(unsafe { en_close(raw) }, en_result::EN_OK);
    assert_eq!(unsafe { en_close(raw) }, en_result::EN_ERR_INVALID_HANDLE);
    let json = CString::new(message(&["d@example.com"], "s")).unwrap();
    let mut id = 0;
    assert_eq!(
        unsafe { en_notify(raw, json.as_ptr(), &mut id) },
        en_result::EN_ERR_INVALID_HANDLE
    );
    assert_eq!(
        unsafe { en_notify(0xdead0 as *const en_engine, json.as_ptr(), &mut id) },
        en_result::EN_ERR_INVALID_HANDLE
    );
    std::mem::forget(h);
}

#[test]
fn a_successful_call_clears_the_last_error() {
    let h = open();
    notify_bytes(&h, b"{");
    assert!(!last_error().is_empty());
    let mut json = ptr::null_mut();
    assert_eq!(unsafe { en_status(h.raw, &mut json) }, en_result::EN_OK);
    unsafe { en_string_free(json) };
    assert_eq!(last_error(), "");
}

#[test]
fn the_database_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let q = Queue::new();
    q.engine(&[])
        .set_property("email_password", Some("s3cret"))
        .unwrap();
    let mode = std::fs::metadata(q.path()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn a_lease_too_short_for_the_timeout_is_refused_when_set() {
    let q = Queue::new();
    let engine = q.engine(&[]);
    let e = engine.set_property("EN_LeaseTime", Some("1s")).unwrap_err();
    assert_eq!(e.kind(), en_notify::ErrorKind::InvalidProperty);
    assert!(
        e.message().contains("EN_LeaseTime") && e.message().contains("email_timeout"),
        "{e}"
    );
    assert_eq!(
        engine.property("EN_LeaseTime").unwrap().as_deref(),
        Some("5m"),
        "nothing stored"
    );
    engine.set_property("email_timeout", Some("1s")).unwrap();
    engine.set_property("EN_LeaseTime", Some("2s")).unwrap();
}

#[test]
fn open_options_naming_one_property_twice_are_refused() {
    let q = Queue::new();
    let twice = [
        ("EN_BatchSize".to_string(), "5".to_string()),
        ("en_batchsize".to_string(), "7".to_string()),
    ];
    let e = en_notify::Engine::open(&q.path(), &twice).err().unwrap();
    assert!(e.message().contains("given twice"), "{e}");
}

#[test]
fn another_applications_sqlite_file_is_refused_and_left_unchanged() {
    let q = Queue::new();
    let foreign = rusqlite::Connection::open(q.path()).unwrap();
    foreign
        .execute_batch("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
        .unwrap();
    drop(foreign);
    let e = en_notify::Engine::open(&q.path(), &[]).err().unwrap();
    assert!(e.message().contains("not an en-notify database"), "{e}");
    let mode: String = rusqlite::Connection::open(q.path())
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        mode, "delete",
        "the file must not have been switched to WAL"
    );
}
