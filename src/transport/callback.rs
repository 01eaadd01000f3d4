//! A transport that calls a function the host supplies, so any binding can add its own delivery.

use super::{Envelope, Failure, Outcome, Transport};

/// What a custom delivery function answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Delivered,
    RetryLater(String),
    Failed(String),
}

/// The host's delivery function.
type DeliverFn = dyn Fn(&Envelope, &[u8]) -> Answer + Send + Sync;

/// Wraps a closure as a transport. The closure must not panic; if it does, the message is
/// kept for a retry.
pub struct CallbackTransport {
    deliver: Box<DeliverFn>,
}

impl CallbackTransport {
    pub fn new(deliver: impl Fn(&Envelope, &[u8]) -> Answer + Send + Sync + 'static) -> Self {
        CallbackTransport {
            deliver: Box::new(deliver),
        }
    }
}

impl Transport for CallbackTransport {
    fn send(&self, envelope: &Envelope, raw: &[u8]) -> Outcome {
        let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            (self.deliver)(envelope, raw)
        }))
        .unwrap_or_else(|_| Answer::RetryLater("the delivery callback panicked".into()));
        match answer {
            Answer::Delivered => Outcome::delivered_to(envelope),
            Answer::RetryLater(reason) => Outcome::failed(Failure::transient(None, reason)),
            Answer::Failed(reason) => Outcome::failed(Failure::permanent(None, reason)),
        }
    }
}
