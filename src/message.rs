//! The JSON message: its serde shape, the rules it must follow, and its rendering to RFC 5322
//! bytes with lettre. A message is rendered once, when it is stored, so that every retry sends
//! exactly the same bytes with the same Message-ID.

use crate::error::{Error, ErrorKind, Result};
use lettre::message::header::{self, HeaderName, HeaderValue, Headers};
use lettre::message::Mailboxes;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::Address;
use serde::{Deserialize, Deserializer};
use std::collections::{BTreeMap, HashSet};
use std::str::FromStr;

/// Delivery priority. It sets X-Priority and Importance, and high goes out first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    High = 0,
    #[default]
    Normal = 1,
    Low = 2,
}

impl Priority {
    pub fn rank(self) -> i64 {
        self as i64
    }

    pub fn from_rank(rank: i64) -> Priority {
        match rank {
            0 => Priority::High,
            2 => Priority::Low,
            _ => Priority::Normal,
        }
    }
}

impl FromStr for Priority {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Priority, String> {
        match s.to_ascii_lowercase().as_str() {
            "high" => Ok(Priority::High),
            "normal" => Ok(Priority::Normal),
            "low" => Ok(Priority::Low),
            _ => Err(format!("priority {s:?} is not high, normal or low")),
        }
    }
}

impl<'de> Deserialize<'de> for Priority {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A notification as a hook writes it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub reply_to: Option<String>,
    #[serde(default)]
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    #[serde(default)]
    pub bcc: Vec<String>,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub html: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub priority: Priority,
    #[serde(default)]
    pub source: Option<String>,
}

/// Headers that the message's own fields or the engine set; `headers` may not override them.
const RESERVED_HEADERS: &[&str] = &[
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "bcc",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "x-priority",
    "importance",
];

/// A message ready to store and send.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub message_id: String,
    pub envelope_from: String,
    pub recipients: Vec<String>,
    pub subject: String,
    pub priority: Priority,
    pub source: Option<String>,
    pub raw: Vec<u8>,
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidMessage, message)
}

impl Message {
    /// Reads a message from JSON, checking its size first.
    pub fn from_json(json: &str, max_size: usize) -> Result<Message> {
        if json.len() > max_size {
            return Err(too_large(json.len(), max_size));
        }
        serde_json::from_str(json).map_err(|e| {
            let kind = if e.is_data() {
                ErrorKind::InvalidMessage
            } else {
                ErrorKind::InvalidJson
            };
            Error::new(kind, format!("message JSON: {e}"))
        })
    }

    /// Checks every rule and renders the RFC 5322 bytes. `default_from` is `email_from`.
    pub fn render(
        &self,
        default_from: Option<&str>,
        host: &str,
        max_size: usize,
    ) -> Result<Rendered> {
        let mut builder = lettre::Message::builder();
        let mut recipients: Vec<Address> = Vec::new();
        let mut seen = HashSet::new();
        for (header, field, list) in [
            ("To", "to", &self.to),
            ("Cc", "cc", &self.cc),
            ("Bcc", "bcc", &self.bcc),
        ] {
            let mailboxes = list
                .iter()
                .map(|text| mailbox(field, text))
                .collect::<Result<Vec<_>>>()?;
            for mb in &mailboxes {
                if seen.insert(same_mailbox_key(&mb.email)) {
                    recipients.push(mb.email.clone());
                }
            }
            // Bcc recipients are in the envelope only.
            if header != "Bcc" && !mailboxes.is_empty() {
                builder = builder.raw_header(address_header(header, &mailboxes));
            }
        }
        if recipients.is_empty() {
            return Err(invalid(
                "no recipient: \"to\", \"cc\" and \"bcc\" are all empty".into(),
            ));
        }
        let from_text = self
            .from
            .as_deref()
            .filter(|f| !f.trim().is_empty())
            .or(default_from)
            .ok_or_else(|| invalid("no sender: set \"from\" or the email_from property".into()))?;
        let from = mailbox("from", from_text)?;
        header_text("subject", &self.subject)?;
        let message_id = format!(
            "<{}@{}>",
            uuid::Uuid::new_v4().simple(),
            message_id_domain(host)
        );
        let envelope = lettre::address::Envelope::new(Some(from.email.clone()), recipients.clone())
            .map_err(|e| invalid(format!("envelope: {e}")))?;
        builder = builder
            .envelope(envelope)
            .from(from.clone())
            .raw_header(raw_header("Subject", &self.subject)?)
            .message_id(Some(message_id.clone()));
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(mailbox("reply_to", reply_to)?);
        }

        builder = match self.priority {
            Priority::High => builder
                .raw_header(raw_header("X-Priority", "1 (Highest)")?)
                .raw_header(raw_header("Importance", "high")?),
            Priority::Low => builder
                .raw_header(raw_header("X-Priority", "5 (Lowest)")?)
                .raw_header(raw_header("Importance", "low")?),
            Priority::Normal => builder,
        };
        let mut names = HashSet::new();
        for (name, value) in &self.headers {
            check_header_name(name)?;
            if !names.insert(name.to_ascii_lowercase()) {
                return Err(invalid(format!(
                    "header {name} is given twice (names ignore case)"
                )));
            }
            header_text(&format!("header {name}"), value)?;
            builder = builder.raw_header(raw_header(name, value)?);
        }

        let text = self.text.as_deref().map(|t| body("text", t)).transpose()?;
        let html = self.html.as_deref().map(|h| body("html", h)).transpose()?;
        let email = match (text, html) {
            (Some(text), Some(html)) => {
                builder.multipart(MultiPart::alternative_plain_html(text, html))
            }
            (None, Some(html)) => builder.singlepart(SinglePart::html(html)),
            (text, None) => builder.singlepart(SinglePart::plain(text.unwrap_or_default())),
        }
        .map_err(|e| invalid(format!("message cannot be built: {e}")))?;

        let raw = email.formatted();
        if raw.len() > max_size {
            return Err(too_large(raw.len(), max_size));
        }
        // The last guard for RFC 5322's line limit, whatever produced the line: a relay would
        // refuse the message for every recipient, so it must be refused here, before storing.
        if let Some(n) = raw
            .split(|&b| b == b'\n')
            .position(|line| line.len() > MAX_LINE + 1)
        {
            return Err(invalid(format!(
                "line {} of the rendered message would be longer than {MAX_LINE} octets",
                n + 1
            )));
        }
        Ok(Rendered {
            message_id,
            envelope_from: from.email.to_string(),
            recipients: recipients.iter().map(Address::to_string).collect(),
            subject: self.subject.clone(),
            priority: self.priority,
            source: self.source.clone(),
            raw,
        })
    }
}

/// RFC 5322's limit on a line, without its CRLF.
const MAX_LINE: usize = 998;

/// Two addresses are one mailbox when they differ only in the case of the domain.
fn same_mailbox_key(address: &Address) -> String {
    format!(
        "{}@{}",
        address.user(),
        address.domain().to_ascii_lowercase()
    )
}

/// An address header with one mailbox per folded line. lettre folds only at the spaces inside
/// display names, so a long list of bare addresses would become one overlong line.
fn address_header(name: &'static str, mailboxes: &[Mailbox]) -> HeaderValue {
    let raw = mailboxes
        .iter()
        .map(Mailbox::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let encoded = mailboxes
        .iter()
        .map(encoded_mailbox)
        .collect::<Vec<_>>()
        .join(",\r\n ");
    HeaderValue::dangerous_new_pre_encoded(HeaderName::new_from_ascii_str(name), raw, encoded)
}

/// lettre's encoding of one mailbox: RFC 2047 for a non-ASCII name, quoting where needed.
fn encoded_mailbox(mailbox: &Mailbox) -> String {
    let mut headers = Headers::new();
    headers.set(header::To::from(Mailboxes::from(mailbox.clone())));
    let line = headers.to_string();
    line.strip_prefix("To: ")
        .unwrap_or(&line)
        .trim_end_matches("\r\n")
        .to_string()
}

/// A body as lettre gets it: NUL is refused, and a bare CR becomes a line break, since both
/// would otherwise travel unencoded.
fn body(field: &str, text: &str) -> Result<String> {
    if text.contains('\0') {
        return Err(invalid(format!("{field} contains a NUL character")));
    }
    Ok(text.replace("\r\n", "\n").replace('\r', "\n"))
}

fn too_large(size: usize, max: usize) -> Error {
    Error::new(
        ErrorKind::MessageTooLarge,
        format!("message is {size} bytes; the limit (EN_MaxMessageSize) is {max}"),
    )
}

/// A header value is one line of text: no CR or LF, and no other control character but tab.
fn header_text(field: &str, value: &str) -> Result<()> {
    if value.contains(['\r', '\n']) {
        return Err(invalid(format!("{field} contains CR or LF")));
    }
    if let Some(c) = value
        .chars()
        .find(|c| (c.is_ascii_control() && *c != '\t') || ('\u{80}'..='\u{9f}').contains(c))
    {
        return Err(invalid(format!(
            "{field} contains the control character U+{:04X}",
            c as u32
        )));
    }
    Ok(())
}

/// No sane address is longer; lettre could not fold a longer display name within 998 octets.
const LONGEST_ADDRESS: usize = 512;

fn mailbox(field: &str, text: &str) -> Result<Mailbox> {
    header_text(field, text)?;
    if text.len() > LONGEST_ADDRESS {
        return Err(invalid(format!(
            "{field}: an address is longer than {LONGEST_ADDRESS} bytes"
        )));
    }
    text.trim()
        .parse::<Mailbox>()
        .map_err(|e| invalid(format!("{field}: {text:?} is not a valid address: {e}")))
}

/// RFC 5322 field names: printable ASCII but ':' (and no space); engine-set names are refused.
fn check_header_name(name: &str) -> Result<()> {
    let legal = !name.is_empty()
        && name.len() <= 76
        && name.bytes().all(|b| (33..=126).contains(&b) && b != b':');
    if !legal {
        return Err(invalid(format!(
            "header name {name:?} is not a legal header name"
        )));
    }
    if RESERVED_HEADERS
        .iter()
        .any(|r| r.eq_ignore_ascii_case(name))
    {
        return Err(invalid(format!(
            "header {name} is set from the message's own fields and cannot be given in \"headers\""
        )));
    }
    Ok(())
}

/// lettre folds header values at spaces, so a longer run without one would overflow a line.
const LONGEST_FOLDABLE_WORD: usize = 900;

fn raw_header(name: &str, value: &str) -> Result<HeaderValue> {
    let name = HeaderName::new_from_ascii(name.to_string())
        .map_err(|_| invalid(format!("header name {name:?} is not a legal header name")))?;
    if value
        .split_whitespace()
        .any(|w| w.len() > LONGEST_FOLDABLE_WORD)
    {
        let encoded = encoded_words(value);
        return Ok(HeaderValue::dangerous_new_pre_encoded(
            name,
            value.to_string(),
            encoded,
        ));
    }
    Ok(HeaderValue::new(name, value.to_string()))
}

/// The whole value as RFC 2047 encoded-words, one folded line each: ASCII, and decoders join
/// adjacent words back into the original text.
fn encoded_words(value: &str) -> String {
    use base64::Engine as _;
    let mut words = Vec::new();
    let mut start = 0;
    while start < value.len() {
        let mut end = (start + 45).min(value.len());
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        let chunk = base64::engine::general_purpose::STANDARD.encode(&value[start..end]);
        words.push(format!("=?utf-8?b?{chunk}?="));
        start = end;
    }
    words.join("\r\n ")
}

/// The host part of a Message-ID must be a dot-atom; a host name with odd characters is replaced.
fn message_id_domain(host: &str) -> String {
    let clean: String = host
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
        .collect();
    let clean = clean.trim_matches('.').to_string();
    if clean.is_empty() {
        "en-notify.localhost".to_string()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Rendered> {
        Message::from_json(json, 1 << 20)?.render(None, "host.example", 1 << 20)
    }

    #[test]
    fn unknown_fields_and_bad_priorities_are_refused() {
        assert_eq!(
            Message::from_json(r#"{"to":["a@b.c"],"colour":1}"#, 100)
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidMessage
        );
        assert!(Message::from_json(r#"{"priority":"urgent"}"#, 100).is_err());
        assert_eq!(
            Message::from_json("{", 100).unwrap_err().kind(),
            ErrorKind::InvalidJson
        );
    }

    #[test]
    fn header_names_are_checked() {
        for bad in ["X Bad", "X:Bad", "", "Subject", "x-pRiOrItY"] {
            let json =
                serde_json::json!({"from":"a@b.c","to":["d@e.f"],"headers":{bad:"v"}}).to_string();
            assert_eq!(
                parse(&json).unwrap_err().kind(),
                ErrorKind::InvalidMessage,
                "{bad:?}"
            );
        }
        let ok = serde_json::json!({"from":"a@b.c","to":["d@e.f"],"headers":{"X-Record":"CR-17"}})
            .to_string();
        assert!(String::from_utf8(parse(&ok).unwrap().raw)
            .unwrap()
            .contains("X-Record: CR-17\r\n"));
    }

    #[test]
    fn recipients_are_deduplicated_across_fields() {
        let r =
            parse(r#"{"from":"a@b.c","to":["d@e.f"],"cc":["D <d@e.f>"],"bcc":["g@h.i"]}"#).unwrap();
        assert_eq!(r.recipients, vec!["d@e.f", "g@h.i"]);
        assert!(
            !String::from_utf8(r.raw).unwrap().contains("g@h.i"),
            "Bcc must not be in the headers"
        );
    }

    #[test]
    fn message_id_domain_is_a_dot_atom() {
        assert_eq!(message_id_domain("my host!.lan"), "myhost.lan");
        assert_eq!(message_id_domain("..."), "en-notify.localhost");
    }
}
