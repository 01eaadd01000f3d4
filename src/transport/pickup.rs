//! The pickup transport: each message becomes one .eml file in a folder, for tests, for servers
//! that pick mail up from a directory, and for a first run with no relay configured.

use super::{Envelope, Failure, Outcome, Transport};
use std::fs;
use std::io::Write;
use std::path::PathBuf;

pub struct PickupTransport {
    dir: PathBuf,
}

impl PickupTransport {
    pub fn new(dir: PathBuf) -> PickupTransport {
        PickupTransport { dir }
    }

    fn file_name(raw: &[u8]) -> String {
        // The Message-ID names the file, so a repeat after a crash overwrites rather than doubles.
        let id = message_id(raw).unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        let safe: String = id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '@' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("{safe}.eml")
    }

    fn write(&self, raw: &[u8]) -> std::io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let name = Self::file_name(raw);
        // Write aside, then rename: a reader never sees half a message.
        let partial = self.dir.join(format!(".{name}.partial"));
        let mut file = fs::File::create(&partial)?;
        file.write_all(raw)?;
        file.sync_all()?;
        fs::rename(&partial, self.dir.join(name))
    }
}

fn message_id(raw: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(raw).ok()?;
    let headers = text.split("\r\n\r\n").next()?;
    headers.split("\r\n").find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("Message-ID")
            .then(|| value.trim().trim_matches(['<', '>']).to_string())
    })
}

impl Transport for PickupTransport {
    fn send(&self, envelope: &Envelope, raw: &[u8]) -> Outcome {
        match self.write(raw) {
            Ok(()) => Outcome::delivered_to(envelope),
            Err(e) => Outcome::unreachable(Failure::transient(
                None,
                format!("pickup folder {}: {e}", self.dir.display()),
            )),
        }
    }
}
