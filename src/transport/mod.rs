//! Transports hand a rendered message to its next hop and say what happened, per recipient.

pub mod callback;
pub mod pickup;
pub mod smtp;

/// Who the message is from and to, as the SMTP envelope says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub from: String,
    pub to: Vec<String>,
}

/// Why a message or one recipient was not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The SMTP reply code, when a server gave one.
    pub code: Option<u16>,
    pub text: String,
    /// A transient failure may succeed later (no connection, timeout, TLS, 4xx).
    pub transient: bool,
}

impl Failure {
    pub fn transient(code: Option<u16>, text: impl Into<String>) -> Failure {
        Failure {
            code,
            text: text.into(),
            transient: true,
        }
    }

    pub fn permanent(code: Option<u16>, text: impl Into<String>) -> Failure {
        Failure {
            code,
            text: text.into(),
            transient: false,
        }
    }
}

/// One recipient the relay refused while accepting (or trying) the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub address: String,
    pub failure: Failure,
}

/// What one try at sending a message did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// Recipients that have the message now.
    pub delivered: Vec<String>,
    /// Recipients refused one by one.
    pub refused: Vec<Refusal>,
    /// A failure of the whole message: nobody in the envelope but `refused` was handled.
    pub failure: Option<Failure>,
    /// The next hop itself is out of reach (no connection, a dead folder): every message would
    /// fail the same way now.
    pub relay_unreachable: bool,
}

impl Outcome {
    pub fn delivered_to(envelope: &Envelope) -> Outcome {
        Outcome {
            delivered: envelope.to.clone(),
            ..Outcome::default()
        }
    }

    pub fn failed(failure: Failure) -> Outcome {
        Outcome {
            failure: Some(failure),
            ..Outcome::default()
        }
    }

    pub fn unreachable(failure: Failure) -> Outcome {
        Outcome {
            relay_unreachable: true,
            ..Outcome::failed(failure)
        }
    }
}

/// Something that can deliver a message. Implementations must be usable from several threads.
pub trait Transport: Send + Sync {
    fn send(&self, envelope: &Envelope, raw: &[u8]) -> Outcome;
}
