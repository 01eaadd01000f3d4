//! SMTP delivery with lettre's connection-level client. lettre's `SmtpTransport::send` stops at
//! the first refused RCPT; driving MAIL, RCPT and DATA ourselves lets the accepted recipients get
//! the message while the refused ones are recorded. The connection is kept and reused.

use super::{Envelope, Failure, Outcome, Refusal, Transport};
use crate::properties::{Server, Settings, TlsMode};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, SmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailParameter};
use lettre::Address;
use std::sync::Mutex;
use std::time::Duration;

/// What the SMTP transport needs of the settings; two transports with equal configs are alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub server: Server,
    pub tls: TlsMode,
    pub tls_verify: bool,
    pub ca_pem: Option<Vec<u8>>,
    pub login: Option<String>,
    pub password: Option<String>,
    pub timeout: Duration,
}

impl SmtpConfig {
    /// The SMTP part of the settings; None when no relay is configured.
    pub fn from_settings(s: &Settings) -> Result<Option<SmtpConfig>, String> {
        let Some(server) = s.server.clone() else {
            return Ok(None);
        };
        let ca_pem = match &s.tls_ca_file {
            Some(path) => Some(
                std::fs::read(path)
                    .map_err(|e| format!("email_tls_ca_file {}: {e}", path.display()))?,
            ),
            None => None,
        };
        Ok(Some(SmtpConfig {
            server,
            tls: s.tls,
            tls_verify: s.tls_verify,
            ca_pem,
            login: s.login.clone(),
            password: s.password.clone(),
            timeout: s.timeout,
        }))
    }
}

pub struct SmtpTransport {
    config: SmtpConfig,
    connection: Mutex<Option<SmtpConnection>>,
}

/// A lettre error as a failure: a reply code decides transient or permanent; anything without
/// one (refused connection, timeout, TLS) is transient.
fn failure(context: &str, e: &lettre::transport::smtp::Error) -> Failure {
    let code = e.status().and_then(|c| c.to_string().parse::<u16>().ok());
    let timed_out = std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .is_some_and(|io| {
            matches!(
                io.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            )
        });
    let text = if timed_out {
        format!("{context}: the relay did not answer in time (email_timeout)")
    } else {
        format!("{context}: {e}")
    };
    match code {
        Some(c) if (500..600).contains(&c) => Failure::permanent(code, text),
        _ => Failure::transient(code, text),
    }
}

impl SmtpTransport {
    pub fn new(config: SmtpConfig) -> SmtpTransport {
        SmtpTransport {
            config,
            connection: Mutex::new(None),
        }
    }

    pub fn config(&self) -> &SmtpConfig {
        &self.config
    }

    fn tls_parameters(&self) -> Result<TlsParameters, Failure> {
        let mut builder = TlsParameters::builder(self.config.server.host.clone())
            .dangerous_accept_invalid_certs(!self.config.tls_verify);
        if let Some(pem) = &self.config.ca_pem {
            let cert = Certificate::from_pem(pem)
                .map_err(|e| Failure::transient(None, format!("email_tls_ca_file: {e}")))?;
            builder = builder.add_root_certificate(cert);
        }
        builder.build().map_err(|e| failure("TLS setup", &e))
    }

    /// Connects, secures and authenticates. Every failure here is transient: it is the relay's
    /// or the configuration's, not the message's.
    fn connect(&self) -> Result<SmtpConnection, Failure> {
        let c = &self.config;
        let hello = ClientId::default();
        let addr = (c.server.host.as_str(), c.server.port);
        let wrapped = match c.tls {
            TlsMode::Tls => Some(self.tls_parameters()?),
            _ => None,
        };
        let mut conn =
            SmtpConnection::connect(addr, Some(c.timeout), &hello, wrapped.as_ref(), None)
                .map_err(|e| {
                    transient(failure(
                        &format!("connect to {}:{}", c.server.host, c.server.port),
                        &e,
                    ))
                })?;
        if c.tls == TlsMode::StartTls {
            conn.starttls(&self.tls_parameters()?, &hello)
                .map_err(|e| transient(failure("STARTTLS", &e)))?;
        }
        if let Some(login) = &c.login {
            let credentials =
                Credentials::new(login.clone(), c.password.clone().unwrap_or_default());
            conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials)
                .map_err(|e| transient(failure("AUTH", &e)))?;
        }
        Ok(conn)
    }

    fn transaction(conn: &mut SmtpConnection, envelope: &Envelope, raw: &[u8]) -> Outcome {
        let mut params = Vec::new();
        let international = !envelope.from.is_ascii() || envelope.to.iter().any(|a| !a.is_ascii());
        if international {
            if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
                return Outcome::failed(Failure::permanent(
                    None,
                    "an address is not ASCII and the relay does not offer SMTPUTF8",
                ));
            }
            params.push(MailParameter::SmtpUtfEight);
        }
        let sender = match envelope.from.parse::<Address>() {
            Ok(a) => a,
            Err(e) => {
                return Outcome::failed(Failure::permanent(
                    None,
                    format!("sender {}: {e}", envelope.from),
                ))
            }
        };
        let mut outcome = Outcome::default();
        if let Err(step) = command(conn, "MAIL FROM", Mail::new(Some(sender), params)) {
            return step.into_outcome(outcome);
        }
        let mut accepted = Vec::new();
        for rcpt in &envelope.to {
            let result = match rcpt.parse::<Address>() {
                Ok(address) => command(conn, "RCPT TO", Rcpt::new(address, vec![])),
                Err(e) => Err(Step::Refused(Failure::permanent(
                    None,
                    format!("recipient {rcpt}: {e}"),
                ))),
            };
            match result {
                Ok(()) => accepted.push(rcpt.clone()),
                Err(Step::Refused(f)) => outcome.refused.push(Refusal {
                    address: rcpt.clone(),
                    failure: f,
                }),
                Err(broken) => return broken.into_outcome(outcome),
            }
        }
        if accepted.is_empty() {
            return outcome;
        }
        let sent = command(conn, "DATA", Data).and_then(|()| match std::str::from_utf8(raw) {
            Ok(text) => command(conn, "message", DotStuffed(text)),
            Err(_) => conn
                .message(raw)
                .map(drop)
                .map_err(|e| Step::from_error(conn, "message", &e)),
        });
        match sent {
            Ok(()) => outcome.delivered = accepted,
            Err(step) => return step.into_outcome(outcome),
        }
        outcome
    }
}

/// The message content as one write: dot-stuffed, with the closing dot line. lettre's own
/// `message` writes the body and the closing dot separately, which Nagle's algorithm and the
/// relay's delayed ACK turn into a 40 ms stall per message.
struct DotStuffed<'a>(&'a str);

impl std::fmt::Display for DotStuffed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (n, line) in self.0.split("\r\n").enumerate() {
            if n > 0 {
                f.write_str("\r\n")?;
            }
            if line.starts_with('.') {
                f.write_str(".")?;
            }
            f.write_str(line)?;
        }
        f.write_str("\r\n.\r\n")
    }
}

/// Why one SMTP command did not go through.
enum Step {
    /// The relay answered no.
    Refused(Failure),
    /// No answer: the connection broke or timed out. It is closed, and a relay that behaves
    /// like this will do the same to the next message.
    Broken(Failure),
}

impl Step {
    fn from_error(
        conn: &mut SmtpConnection,
        context: &str,
        e: &lettre::transport::smtp::Error,
    ) -> Step {
        let f = failure(context, e);
        // 421: the relay is closing the connection, and will tell the next message the same.
        if e.status().is_some() && f.code != Some(421) {
            Step::Refused(f)
        } else {
            conn.abort();
            Step::Broken(f)
        }
    }

    /// The whole message failed at this step; recipients refused before it stay recorded.
    fn into_outcome(self, so_far: Outcome) -> Outcome {
        let (failure, broken) = match self {
            Step::Refused(f) => (f, false),
            Step::Broken(f) => (f, true),
        };
        Outcome {
            failure: Some(failure),
            relay_unreachable: broken,
            ..so_far
        }
    }
}

fn command(
    conn: &mut SmtpConnection,
    context: &str,
    cmd: impl std::fmt::Display,
) -> Result<(), Step> {
    conn.command(cmd)
        .map(drop)
        .map_err(|e| Step::from_error(conn, context, &e))
}

fn transient(mut f: Failure) -> Failure {
    f.transient = true;
    f
}

impl Transport for SmtpTransport {
    fn send(&self, envelope: &Envelope, raw: &[u8]) -> Outcome {
        let mut slot = self.connection.lock().unwrap_or_else(|p| p.into_inner());
        let reusable = slot
            .take()
            .and_then(|mut c| c.test_connected().then_some(c));
        let mut conn = match reusable {
            Some(c) => c,
            None => match self.connect() {
                Ok(c) => c,
                Err(f) => return Outcome::unreachable(f),
            },
        };
        let outcome = Self::transaction(&mut conn, envelope, raw);
        let clean = outcome.failure.is_none() && outcome.refused.is_empty();
        // After a refused command the transaction is reset, so the connection can serve the next.
        if !conn.has_broken() && (clean || conn.command(Rset).is_ok()) {
            *slot = Some(conn);
        }
        outcome
    }
}

impl Drop for SmtpTransport {
    fn drop(&mut self) {
        if let Some(mut conn) = self.connection.get_mut().ok().and_then(Option::take) {
            let _ = conn.quit();
        }
    }
}
