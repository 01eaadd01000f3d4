//! STARTTLS, implicit TLS, certificate verification and SMTP AUTH against aiosmtpd.

mod common;
use common::*;
use en_notify::Status;

struct Relay {
    server: Aiosmtpd,
    ca: String,
    _certs: tempfile::TempDir,
}

fn relay(extra: &[&str]) -> Relay {
    let certs = tempfile::tempdir().unwrap();
    let (ca, cert, key) = certificates(certs.path());
    let mut flags = vec![
        "--cert",
        cert.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
    ];
    flags.extend_from_slice(extra);
    Relay {
        server: Aiosmtpd::start(&flags),
        ca: ca.to_str().unwrap().to_string(),
        _certs: certs,
    }
}

impl Relay {
    /// Queues one message in `q` and flushes it through this relay with `settings`.
    fn deliver_one(&self, q: &Queue, settings: &[(&str, &str)]) -> en_notify::store::Summary {
        let server = self.server.server();
        let mut overrides = vec![("email_server", server.as_str())];
        overrides.extend_from_slice(settings);
        let engine = q.engine(&overrides);
        let id = engine
            .notify(&message(&["dev@example.com"], "secure"))
            .unwrap();
        engine.flush().unwrap();
        engine.show(id).unwrap().summary
    }
}

#[test]
fn starttls_with_the_relay_ca_trusted_delivers_encrypted() {
    let r = relay(&[]);
    let q = Queue::new();
    let m = r.deliver_one(
        &q,
        &[("email_tls", "starttls"), ("email_tls_ca_file", &r.ca)],
    );
    assert_eq!(m.status, Status::Sent, "{m:?}");
    let received = r.server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].envelope["tls"], true);
}

#[test]
fn an_untrusted_certificate_is_a_transient_tls_failure_by_default() {
    let r = relay(&[]);
    let q = Queue::new();
    let m = r.deliver_one(&q, &[("email_tls", "starttls")]);
    assert_eq!((m.status, m.attempts), (Status::Queued, 1), "{m:?}");
    assert!(
        m.last_error.as_deref().unwrap().contains("STARTTLS"),
        "{:?}",
        m.last_error
    );
    assert!(r.server.received().is_empty());
}

#[test]
fn verification_can_be_switched_off_for_a_self_signed_relay() {
    let r = relay(&[]);
    let q = Queue::new();
    let m = r.deliver_one(
        &q,
        &[("email_tls", "starttls"), ("email_tls_verify", "false")],
    );
    assert_eq!(m.status, Status::Sent, "{m:?}");
}

#[test]
fn implicit_tls_delivers() {
    let r = relay(&["--implicit-tls"]);
    let q = Queue::new();
    let m = r.deliver_one(&q, &[("email_tls", "tls"), ("email_tls_ca_file", &r.ca)]);
    assert_eq!(m.status, Status::Sent, "{m:?}");
    assert_eq!(r.server.received()[0].envelope["tls"], true);
}

#[test]
fn auth_logs_in_with_the_stored_login_and_password() {
    let r = relay(&["--auth", "cq:s3cret"]);
    let q = Queue::new();
    let admin = q.engine(&[]);
    admin.set_property("email_login", Some("cq")).unwrap();
    admin
        .set_property("email_password", Some("s3cret"))
        .unwrap();
    assert_eq!(
        admin.property("email_password").unwrap().as_deref(),
        Some("********"),
        "the password never reads back"
    );
    let m = r.deliver_one(
        &q,
        &[("email_tls", "starttls"), ("email_tls_ca_file", &r.ca)],
    );
    assert_eq!(m.status, Status::Sent, "{m:?}");
    assert_eq!(r.server.received()[0].envelope["login"], "cq");
}

#[test]
fn a_wrong_password_keeps_the_message_for_a_retry() {
    let r = relay(&["--auth", "cq:s3cret"]);
    let q = Queue::new();
    let m = r.deliver_one(
        &q,
        &[
            ("email_tls", "starttls"),
            ("email_tls_ca_file", &r.ca),
            ("email_login", "cq"),
            ("email_password", "wrong"),
        ],
    );
    assert_eq!((m.status, m.attempts), (Status::Queued, 1), "{m:?}");
    assert_eq!(m.last_smtp_code, Some(535), "{:?}", m.last_error);
    assert!(r.server.received().is_empty());
}
