//! The stored RFC 5322 bytes: encoded words, folding, transfer encodings, and a text that
//! decodes back exactly.

mod common;
use common::*;
use mailparse::{addrparse_header, parse_mail, MailAddr, MailHeaderMap};

fn stored_raw(json: serde_json::Value) -> Vec<u8> {
    let q = Queue::new();
    let engine = q.engine(&[]);
    let id = engine.notify(&json.to_string()).unwrap();
    engine.show(id).unwrap().raw.into_bytes()
}

/// A body's text. Quoted-printable ends the encoded body with a line break of its own, so one
/// final CRLF is MIME's, not the text's; line ends are CRLF on the wire.
fn decoded(part: &mailparse::ParsedMail) -> String {
    let body = part.get_body().unwrap();
    body.strip_suffix("\r\n")
        .map(str::to_string)
        .unwrap_or(body)
}

fn assert_lines_fit(raw: &[u8]) {
    assert!(raw.is_ascii(), "the stored message must be 7-bit clean");
    for (n, line) in raw.split(|&b| b == b'\n').enumerate() {
        assert!(
            line.len() <= 999,
            "line {n} is {} octets (998 + CR at most)",
            line.len()
        );
        assert!(
            line.is_empty() || line.ends_with(b"\r") || n == raw.split(|&b| b == b'\n').count() - 1,
            "line {n} must end in CRLF"
        );
    }
}

#[test]
fn non_ascii_subject_and_display_names_are_encoded_and_decode_back() {
    let subject = "Änderung an CR-42: „Größe“ — ready ✓ 日本語";
    let raw = stored_raw(serde_json::json!({
        "from": "Zoë Ökonom <zoe@example.com>",
        "to": ["Jürgen Müller <jm@example.com>"],
        "subject": subject,
        "text": "Grüße\nzweite Zeile",
        "html": "<p>Grüße</p>",
    }));
    assert_lines_fit(&raw);
    let mail = parse_mail(&raw).unwrap();
    assert_eq!(mail.headers.get_first_value("Subject").unwrap(), subject);
    let from = addrparse_header(mail.headers.get_first_header("From").unwrap()).unwrap();
    match &from[0] {
        MailAddr::Single(info) => assert_eq!(info.display_name.as_deref(), Some("Zoë Ökonom")),
        other => panic!("{other:?}"),
    }
    let to = addrparse_header(mail.headers.get_first_header("To").unwrap()).unwrap();
    assert_eq!(to.to_string(), "\"Jürgen Müller\" <jm@example.com>");
    assert_eq!(mail.ctype.mimetype, "multipart/alternative");
    assert_eq!(mail.subparts.len(), 2);
    assert_eq!(decoded(&mail.subparts[0]), "Grüße\r\nzweite Zeile");
    assert_eq!(mail.subparts[1].ctype.mimetype, "text/html");
    assert!(mail
        .headers
        .get_first_value("Message-ID")
        .unwrap()
        .starts_with('<'));
}

#[test]
fn a_5000_character_line_is_encoded_so_no_line_exceeds_998_octets() {
    let line: String = "Ein sehr langer Kommentar über die Änderung. "
        .chars()
        .cycle()
        .take(5000)
        .collect();
    assert_eq!(line.chars().count(), 5000);
    let raw = stored_raw(
        serde_json::json!({"from": "cq@example.com", "to": ["d@example.com"], "text": line}),
    );
    assert_lines_fit(&raw);
    let mail = parse_mail(&raw).unwrap();
    let encoding = mail
        .headers
        .get_first_value("Content-Transfer-Encoding")
        .unwrap();
    assert!(
        encoding == "quoted-printable" || encoding == "base64",
        "{encoding}"
    );
    assert_eq!(decoded(&mail), line);

    let ascii = "x".repeat(5000);
    let raw = stored_raw(
        serde_json::json!({"from": "cq@example.com", "to": ["d@example.com"], "text": ascii}),
    );
    assert_lines_fit(&raw);
    assert_eq!(decoded(&parse_mail(&raw).unwrap()), ascii);
}

#[test]
fn three_hundred_recipients_fold_the_address_header() {
    let to: Vec<String> = (0..300)
        .map(|i| format!("Empfänger {i} <user{i}@example.com>"))
        .collect();
    let q = Queue::new();
    let engine = q.engine(&[]);
    let id = engine
        .notify(
            &serde_json::json!({"from": "cq@example.com", "to": to, "subject": "many"}).to_string(),
        )
        .unwrap();
    let detail = engine.show(id).unwrap();
    assert_eq!(detail.summary.recipients.len(), 300);
    let raw = detail.raw.into_bytes();
    assert_lines_fit(&raw);
    let mail = parse_mail(&raw).unwrap();
    let parsed = addrparse_header(mail.headers.get_first_header("To").unwrap()).unwrap();
    assert_eq!(parsed.len(), 300);
    match &parsed[299] {
        MailAddr::Single(info) => {
            assert_eq!(info.addr, "user299@example.com");
            assert_eq!(info.display_name.as_deref(), Some("Empfänger 299"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn priority_sets_headers_and_bcc_stays_out_of_them() {
    let raw = stored_raw(serde_json::json!({
        "from": "cq@example.com", "to": ["d@example.com"], "bcc": ["audit@example.com"],
        "priority": "high", "reply_to": "Help Desk <help@example.com>", "headers": {"X-CQ-Record": "CR-42"},
    }));
    let mail = parse_mail(&raw).unwrap();
    assert_eq!(
        mail.headers.get_first_value("X-Priority").unwrap(),
        "1 (Highest)"
    );
    assert_eq!(mail.headers.get_first_value("Importance").unwrap(), "high");
    assert_eq!(
        mail.headers.get_first_value("X-CQ-Record").unwrap(),
        "CR-42"
    );
    assert_eq!(
        mail.headers.get_first_value("Reply-To").unwrap(),
        "\"Help Desk\" <help@example.com>"
    );
    assert!(mail.headers.get_first_value("Bcc").is_none());
    assert!(!String::from_utf8_lossy(&raw).contains("audit@example.com"));
}

#[test]
fn high_priority_messages_are_delivered_first() {
    let q = Queue::new();
    let pickup = q.dir.path().join("out");
    let engine = q.engine(&[
        ("email_transport", "pickup"),
        ("email_pickup_dir", pickup.to_str().unwrap()),
        ("EN_BatchSize", "1"),
    ]);
    let low = engine
        .notify(
            &serde_json::json!({"from": "a@b.cd", "to": ["d@e.fg"], "priority": "low"}).to_string(),
        )
        .unwrap();
    let normal = engine.notify(&message(&["d@e.fg"], "normal")).unwrap();
    let high = engine
        .notify(
            &serde_json::json!({"from": "a@b.cd", "to": ["d@e.fg"], "priority": "high"})
                .to_string(),
        )
        .unwrap();
    engine.flush().unwrap();
    // The audit trail's row order is the delivery order (sent_at has only second resolution).
    let db = rusqlite::Connection::open(q.path()).unwrap();
    let by_attempt: Vec<i64> = db
        .prepare("SELECT message FROM attempts ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(by_attempt, vec![high, normal, low]);
}

#[test]
fn an_unbreakable_header_word_is_encoded_so_no_line_exceeds_998_octets() {
    let word = "CR-".to_string() + &"9".repeat(2000);
    let subject = format!("Änderung {word} ready");
    let raw = stored_raw(serde_json::json!({
        "from": "cq@example.com", "to": ["d@example.com"], "subject": subject, "headers": {"X-Trace": word},
    }));
    assert_lines_fit(&raw);
    let mail = parse_mail(&raw).unwrap();
    assert_eq!(mail.headers.get_first_value("Subject").unwrap(), subject);
    assert_eq!(mail.headers.get_first_value("X-Trace").unwrap(), word);
}

#[test]
fn an_address_too_long_to_fold_is_refused() {
    let q = Queue::new();
    let name = "N".repeat(600);
    let json =
        serde_json::json!({"from": format!("{name} <cq@example.com>"), "to": ["d@example.com"]});
    let e = q.engine(&[]).notify(&json.to_string()).unwrap_err();
    assert_eq!(e.kind(), en_notify::ErrorKind::InvalidMessage);
    assert!(e.message().contains("longer than 512"), "{e}");
}

#[test]
fn a_thousand_bare_addresses_fold_one_per_line() {
    let to: Vec<String> = (0..1000).map(|i| format!("dev{i}@example.com")).collect();
    let raw = stored_raw(
        serde_json::json!({"from": "cq@example.com", "to": to, "cc": ["lead@example.com"]}),
    );
    assert_lines_fit(&raw);
    let mail = parse_mail(&raw).unwrap();
    let parsed = addrparse_header(mail.headers.get_first_header("To").unwrap()).unwrap();
    assert_eq!(parsed.len(), 1000);
    assert_eq!(
        parsed.to_string().split(", ").last(),
        Some("dev999@example.com")
    );
    assert_eq!(
        mail.headers.get_first_value("Cc").unwrap(),
        "lead@example.com"
    );
}

#[test]
fn bare_carriage_returns_in_a_body_become_line_breaks() {
    let raw = stored_raw(
        serde_json::json!({"from": "cq@example.com", "to": ["d@example.com"], "text": "one\rtwo\r\nthree"}),
    );
    assert_lines_fit(&raw);
    assert_eq!(decoded(&parse_mail(&raw).unwrap()), "one\r\ntwo\r\nthree");
}

#[test]
fn addresses_differing_only_in_domain_case_are_one_recipient() {
    let q = Queue::new();
    let engine = q.engine(&[]);
    let id = engine
        .notify(&serde_json::json!({"from": "cq@example.com", "to": ["dev@example.com", "dev@EXAMPLE.com"], "cc": ["Dev <dev@Example.Com>"]}).to_string())
        .unwrap();
    assert_eq!(
        engine.show(id).unwrap().summary.recipients,
        vec!["dev@example.com"]
    );
}
