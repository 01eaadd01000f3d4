//! The EN_* and email_* properties: their names, how each value is checked, and the defaults.
//!
//! Properties live in the database so that every client shares one configuration. Names are
//! case-insensitive; a value is normalised when it is set, so what is stored is always valid.

use crate::error::{Error, ErrorKind, Result};
use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// How `notify` and `flush` deliver. Stored as the property `EN_DeliveryMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Mode {
    /// `notify` stores; `flush` delivers every eligible message.
    Deferred,
    /// `notify` sends at once and stores only what could not be delivered.
    Light,
    /// `notify` stores; only delivery servers (`drain`) deliver.
    Queue,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Deferred => "Deferred",
            Mode::Light => "Light",
            Mode::Queue => "Queue",
        }
    }
}

impl FromStr for Mode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Mode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "deferred" => Ok(Mode::Deferred),
            "light" => Ok(Mode::Light),
            "queue" => Ok(Mode::Queue),
            _ => Err(Error::new(
                ErrorKind::InvalidMode,
                format!("unknown delivery mode {s:?}: expected Deferred, Light or Queue"),
            )),
        }
    }
}

/// How the SMTP connection is secured (`email_tls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    None,
    StartTls,
    Tls,
}

/// Where delivered messages go (`email_transport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    Smtp,
    Pickup,
}

enum Kind {
    Mode,
    Count { min: u64 },
    Duration { min_secs: u64 },
    Bool,
    Text,
    Address,
    Server,
    Tls,
    Transport,
}

struct Definition {
    name: &'static str,
    kind: Kind,
    default: Option<&'static str>,
    secret: bool,
    about: &'static str,
}

const fn def(
    name: &'static str,
    kind: Kind,
    default: Option<&'static str>,
    about: &'static str,
) -> Definition {
    Definition {
        name,
        kind,
        default,
        secret: false,
        about,
    }
}

const DEFINITIONS: &[Definition] = &[
    def(
        "EN_DeliveryMode",
        Kind::Mode,
        Some("Deferred"),
        "Deferred, Light or Queue",
    ),
    def(
        "EN_DeliveryAttempt",
        Kind::Count { min: 1 },
        Some("5"),
        "attempts before a message fails",
    ),
    def(
        "EN_RetryBackoff",
        Kind::Duration { min_secs: 0 },
        Some("30s"),
        "wait after the first failed attempt; doubles each time",
    ),
    def(
        "EN_RetryBackoffMax",
        Kind::Duration { min_secs: 0 },
        Some("1h"),
        "the longest wait between attempts",
    ),
    def(
        "EN_LeaseTime",
        Kind::Duration { min_secs: 1 },
        Some("5m"),
        "how long a claimed message stays reserved for its claimer",
    ),
    def(
        "EN_BatchSize",
        Kind::Count { min: 1 },
        Some("50"),
        "messages claimed per transaction",
    ),
    def(
        "EN_MaxMessageSize",
        Kind::Count { min: 1024 },
        Some("10485760"),
        "the largest message accepted, in bytes",
    ),
    def(
        "EN_DeliveryEnabled",
        Kind::Bool,
        Some("true"),
        "false stores and lists messages but sends none (a test copy)",
    ),
    def(
        "email_transport",
        Kind::Transport,
        Some("smtp"),
        "smtp, or pickup (write .eml files to email_pickup_dir)",
    ),
    def(
        "email_pickup_dir",
        Kind::Text,
        None,
        "the folder the pickup transport writes to",
    ),
    def(
        "email_server",
        Kind::Server,
        None,
        "the relay, host or host:port",
    ),
    def("email_login", Kind::Text, None, "the SMTP AUTH user name"),
    Definition {
        secret: true,
        ..def(
            "email_password",
            Kind::Text,
            None,
            "the SMTP AUTH password (never shown)",
        )
    },
    def(
        "email_from",
        Kind::Address,
        None,
        "the sender of messages that name none",
    ),
    def(
        "email_tls",
        Kind::Tls,
        Some("none"),
        "none, starttls or tls",
    ),
    def(
        "email_tls_verify",
        Kind::Bool,
        Some("true"),
        "verify the relay's certificate",
    ),
    def(
        "email_tls_ca_file",
        Kind::Text,
        None,
        "a PEM file of extra trusted certificates",
    ),
    def(
        "email_timeout",
        Kind::Duration { min_secs: 1 },
        Some("30s"),
        "the SMTP connect and reply timeout",
    ),
];

/// The shown value of a secret property.
pub const MASK: &str = "********";

fn definition(name: &str) -> Result<&'static Definition> {
    DEFINITIONS
        .iter()
        .find(|d| d.name.eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidProperty,
                format!("unknown property {name:?}"),
            )
        })
}

/// The canonical spelling of a property name, or an error for an unknown one.
pub fn canonical_name(name: &str) -> Result<&'static str> {
    definition(name).map(|d| d.name)
}

/// Whether a property's value is never shown (the password).
pub fn is_secret(name: &str) -> bool {
    definition(name).map(|d| d.secret).unwrap_or(false)
}

/// The default value of a property, if it has one.
pub fn default_value(name: &str) -> Result<Option<&'static str>> {
    definition(name).map(|d| d.default)
}

/// Every property as (name, default, description), for help texts.
pub fn all() -> impl Iterator<Item = (&'static str, Option<&'static str>, &'static str)> {
    DEFINITIONS.iter().map(|d| (d.name, d.default, d.about))
}

fn bad(name: &str, value: &str, expected: &str) -> Error {
    // A secret is never echoed, not even when it is wrong.
    let shown = if is_secret(name) {
        MASK.to_string()
    } else {
        format!("{value:?}")
    };
    Error::new(
        ErrorKind::InvalidProperty,
        format!("property {name}: invalid value {shown}: expected {expected}"),
    )
}

/// How many SMTP replies' worth of time a lease must cover at least.
const LEASE_PER_TIMEOUT: u32 = 2;

/// The longest duration accepted: longer ones are mistakes, and would overflow clock arithmetic.
const LONGEST_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// A duration such as "30s", "5m", "1h 30m", or a plain number of seconds.
pub fn parse_duration(value: &str) -> Option<Duration> {
    let value = value.trim();
    match value.parse::<u64>() {
        Ok(secs) => Some(Duration::from_secs(secs)),
        Err(_) => humantime::parse_duration(value).ok(),
    }
}

/// Checks a value for a property and returns it as it will be stored: (canonical name, value).
pub fn normalize(name: &str, value: &str) -> Result<(&'static str, String)> {
    let d = definition(name)?;
    let n = d.name;
    let trimmed = value.trim();
    let normalized = match d.kind {
        Kind::Mode => Mode::from_str(value)
            .map_err(|_| bad(n, value, "Deferred, Light or Queue"))?
            .as_str()
            .to_string(),
        Kind::Count { min } => match trimmed.parse::<u64>() {
            Ok(v) if v >= min && v <= u32::MAX as u64 => v.to_string(),
            _ => return Err(bad(n, value, &format!("a whole number of at least {min}"))),
        },
        Kind::Duration { min_secs } => match parse_duration(value) {
            Some(d) if d >= Duration::from_secs(min_secs) && d <= LONGEST_DURATION => {
                trimmed.to_string()
            }
            _ => {
                let expected =
                    format!("a duration from {min_secs}s to 365d, such as 30s, 5m or 1h");
                return Err(bad(n, value, &expected));
            }
        },
        Kind::Bool => match parse_bool(value) {
            Some(b) => b.to_string(),
            None => return Err(bad(n, value, "true or false")),
        },
        Kind::Text => {
            if value.contains(['\r', '\n', '\0']) {
                return Err(bad(n, value, "a single line of text"));
            }
            value.to_string()
        }
        Kind::Address => match trimmed.parse::<lettre::message::Mailbox>() {
            Ok(_) if !value.contains(['\r', '\n']) => trimmed.to_string(),
            _ => {
                return Err(bad(
                    n,
                    value,
                    "an address such as Tracker <tracker@example.com>",
                ))
            }
        },
        Kind::Server => match parse_server(trimmed) {
            Some(_) => trimmed.to_string(),
            None => return Err(bad(n, value, "host or host:port")),
        },
        Kind::Tls => match trimmed.to_ascii_lowercase().as_str() {
            v @ ("none" | "starttls" | "tls") => v.to_string(),
            _ => return Err(bad(n, value, "none, starttls or tls")),
        },
        Kind::Transport => match trimmed.to_ascii_lowercase().as_str() {
            v @ ("smtp" | "pickup") => v.to_string(),
            _ => return Err(bad(n, value, "smtp or pickup")),
        },
    };
    Ok((n, normalized))
}

/// Splits "host" or "host:port" (or "[v6]:port"); the port is None when absent.
fn parse_server(value: &str) -> Option<(String, Option<u16>)> {
    if value.is_empty() || value.contains(char::is_whitespace) {
        return None;
    }
    if let Some(rest) = value.strip_prefix('[') {
        let (host, tail) = rest.split_once(']')?;
        return match tail {
            "" => Some((host.to_string(), None)),
            t => Some((host.to_string(), Some(t.strip_prefix(':')?.parse().ok()?))),
        };
    }
    match value.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && !host.contains(':') => {
            Some((host.to_string(), Some(port.parse().ok()?)))
        }
        Some(_) => None,
        None => Some((value.to_string(), None)),
    }
}

/// The SMTP relay address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub host: String,
    pub port: u16,
}

/// The typed configuration one call works with: stored properties, then per-process overrides.
#[derive(Debug, Clone)]
pub struct Settings {
    pub mode: Mode,
    pub max_attempts: u32,
    pub backoff: Duration,
    pub backoff_max: Duration,
    pub lease: Duration,
    pub batch_size: u32,
    pub max_message_size: usize,
    pub delivery_enabled: bool,
    pub transport: TransportKind,
    pub pickup_dir: Option<PathBuf>,
    pub server: Option<Server>,
    pub login: Option<String>,
    pub password: Option<String>,
    pub from: Option<String>,
    pub tls: TlsMode,
    pub tls_verify: bool,
    pub tls_ca_file: Option<PathBuf>,
    pub timeout: Duration,
}

impl Settings {
    /// Builds the settings from stored values keyed by canonical name; absent ones take defaults.
    pub fn from_values(values: &HashMap<String, String>) -> Result<Settings> {
        let get = |name: &str| -> Result<Option<String>> {
            // Values are checked again: a row written by another tool must not slip through.
            match values.get(name) {
                Some(v) => Ok(Some(normalize(name, v)?.1)),
                None => Ok(default_value(name)?.map(str::to_string)),
            }
        };
        let text = |name: &str| -> Result<Option<String>> {
            Ok(get(name)?.filter(|v| !v.trim().is_empty()))
        };
        let required = |name: &str| -> Result<String> {
            get(name)?.ok_or_else(|| {
                Error::new(ErrorKind::InvalidProperty, format!("{name} has no value"))
            })
        };
        let count = |name: &str| -> Result<u64> { Ok(required(name)?.parse().unwrap_or(u64::MAX)) };
        let duration = |name: &str| -> Result<Duration> {
            parse_duration(&required(name)?).ok_or_else(|| bad(name, "", "a duration"))
        };
        let flag = |name: &str| -> Result<bool> { Ok(required(name)? == "true") };

        let tls = match required("email_tls")?.as_str() {
            "starttls" => TlsMode::StartTls,
            "tls" => TlsMode::Tls,
            _ => TlsMode::None,
        };
        let server = match text("email_server")? {
            Some(s) => {
                let (host, port) =
                    parse_server(&s).ok_or_else(|| bad("email_server", &s, "host or host:port"))?;
                let default_port = if tls == TlsMode::Tls { 465 } else { 25 };
                Some(Server {
                    host,
                    port: port.unwrap_or(default_port),
                })
            }
            None => None,
        };
        let (lease, timeout) = (duration("EN_LeaseTime")?, duration("email_timeout")?);
        // A delivery waits up to email_timeout for each reply; a lease shorter than a few of them
        // runs out while the message is on the wire, and another process sends it again.
        if lease < timeout * LEASE_PER_TIMEOUT {
            return Err(Error::new(
                ErrorKind::InvalidProperty,
                format!(
                    "property EN_LeaseTime ({}) must be at least {LEASE_PER_TIMEOUT} times email_timeout ({})",
                    humantime::format_duration(lease),
                    humantime::format_duration(timeout)
                ),
            ));
        }
        Ok(Settings {
            mode: Mode::from_str(&required("EN_DeliveryMode")?)?,
            max_attempts: count("EN_DeliveryAttempt")? as u32,
            backoff: duration("EN_RetryBackoff")?,
            backoff_max: duration("EN_RetryBackoffMax")?,
            lease,
            batch_size: count("EN_BatchSize")? as u32,
            max_message_size: count("EN_MaxMessageSize")? as usize,
            delivery_enabled: flag("EN_DeliveryEnabled")?,
            transport: if required("email_transport")? == "pickup" {
                TransportKind::Pickup
            } else {
                TransportKind::Smtp
            },
            pickup_dir: text("email_pickup_dir")?.map(PathBuf::from),
            server,
            login: text("email_login")?,
            password: get("email_password")?,
            from: text("email_from")?,
            tls,
            tls_verify: flag("email_tls_verify")?,
            tls_ca_file: text("email_tls_ca_file")?.map(PathBuf::from),
            timeout,
        })
    }

    /// The wait before the next attempt after `attempts` failed ones: doubling, capped.
    pub fn backoff_after(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1));
        self.backoff.saturating_mul(factor).min(self.backoff_max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive_and_values_normalised() {
        assert_eq!(
            normalize("en_deliverymode", "light").unwrap(),
            ("EN_DeliveryMode", "Light".into())
        );
        assert_eq!(normalize("EMAIL_TLS", "StartTLS").unwrap().1, "starttls");
    }

    #[test]
    fn bad_values_name_the_property() {
        let e = normalize("EN_DeliveryAttempt", "zero").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidProperty);
        assert!(e.message().contains("EN_DeliveryAttempt"), "{e}");
        assert!(normalize("email_server", "host:99999").is_err());
        // A zero lease would let every claim be taken over at once.
        assert!(normalize("EN_LeaseTime", "0s").is_err());
        assert!(normalize("EN_RetryBackoff", "0s").is_ok());
        assert!(normalize("email_timeout", "-5s").is_err());
        assert!(normalize("no_such_property", "1").is_err());
        assert!(
            normalize("EN_RetryBackoff", "10000000000000000").is_err(),
            "overflows the clock"
        );
        assert!(normalize("email_from", "not an address").is_err());
        assert_eq!(
            normalize("email_from", " CQ <cq@example.com> ").unwrap().1,
            "CQ <cq@example.com>"
        );
    }

    #[test]
    fn a_bad_password_is_not_echoed() {
        let e = normalize("EMAIL_PASSWORD", "Sup3rS3cret\nx").unwrap_err();
        assert!(!e.message().contains("Sup3rS3cret"), "{e}");
        assert!(e.message().contains("email_password"), "{e}");
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let s = Settings::from_values(&HashMap::new()).unwrap();
        assert_eq!(s.backoff_after(1), Duration::from_secs(30));
        assert_eq!(s.backoff_after(3), Duration::from_secs(120));
        assert_eq!(s.backoff_after(40), Duration::from_secs(3600));
    }

    #[test]
    fn server_port_defaults_follow_tls() {
        let mut v = HashMap::new();
        v.insert("email_server".to_string(), "relay.example".to_string());
        assert_eq!(Settings::from_values(&v).unwrap().server.unwrap().port, 25);
        v.insert("email_tls".to_string(), "tls".to_string());
        assert_eq!(Settings::from_values(&v).unwrap().server.unwrap().port, 465);
        v.insert("email_server".to_string(), "[::1]:2525".to_string());
        assert_eq!(
            Settings::from_values(&v).unwrap().server.unwrap(),
            Server {
                host: "::1".into(),
                port: 2525
            }
        );
    }
}
