//! en-notify: one e-mail delivery engine for issue-tracker hooks.
//!
//! Hooks hand notifications to [`Engine::notify`] as JSON; they go through a database queue
//! that every client shares, so a relay outage or a crashing client loses nothing. The delivery
//! mode (Deferred, Light or Queue, stored in the database) decides who delivers and when.
//! Every attempt is recorded; failed messages are kept for an administrator.
//!
//! The same engine is reachable from C (`include/en_notify.h`) and from the Perl, Python and
//! .NET bindings, which are thin layers over that C ABI.
//!
//! ```no_run
//! use en_notify::Engine;
//! let engine = Engine::open("queue.db".as_ref(), &[("email_server".into(), "relay:25".into())])?;
//! let id = engine.notify(r#"{"from":"cq@example.com","to":["dev@example.com"],"subject":"CR-1 changed"}"#)?;
//! let report = engine.flush()?;
//! println!("stored as {id}; sent {}", report.sent);
//! # Ok::<(), en_notify::Error>(())
//! ```

pub mod engine;
pub mod error;
pub mod ffi;
pub mod message;
pub mod properties;
pub mod store;
pub mod transport;

pub use engine::{Engine, Report};
pub use error::{Error, ErrorKind, Result};
pub use message::{Message, Priority};
pub use properties::Mode;
pub use store::{PurgeScope, Status};
