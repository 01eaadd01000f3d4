//! The one error type of the library: a kind that callers can branch on, and a message for people.

use std::fmt;

/// What went wrong, in the categories a caller can act on. Each maps to one C result code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The message JSON (or another JSON argument) is not valid JSON of the expected shape.
    InvalidJson,
    /// The message is well-formed JSON but breaks a rule (no recipient, a bad address, CR/LF, …).
    InvalidMessage,
    /// The message is larger than `EN_MaxMessageSize`.
    MessageTooLarge,
    /// An unknown property name, or a value that property does not accept.
    InvalidProperty,
    /// A delivery mode other than Deferred, Light or Queue.
    InvalidMode,
    /// Any other argument out of range (a status name, a duration, …).
    InvalidArgument,
    /// No message with that id.
    NotFound,
    /// The database failed or could not be opened.
    Store,
    /// Another process holds the message's lease right now.
    Busy,
    /// The configuration does not allow delivery (no relay, an unreadable CA file, …).
    Config,
}

/// An error with its kind and a message that names what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::new(ErrorKind::Store, format!("database error: {e}"))
    }
}

pub type Result<T> = std::result::Result<T, Error>;
