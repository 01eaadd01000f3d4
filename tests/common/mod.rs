//! Shared parts of the integration tests: real SMTP servers on 127.0.0.1 (Postfix's smtp-sink,
//! aiosmtpd through tests/servers/smtp_server.py), and engines over fresh SQLite files.
#![allow(dead_code)] // each test file uses its own subset

use en_notify::Engine;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A port held bound but not listening: connecting is refused, as with a relay that is down,
/// and no other test can take the port until `release`.
pub struct DownRelay {
    socket: Option<socket2::Socket>,
    pub port: u16,
}

impl DownRelay {
    pub fn new() -> DownRelay {
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket
            .bind(
                &"127.0.0.1:0"
                    .parse::<std::net::SocketAddr>()
                    .unwrap()
                    .into(),
            )
            .unwrap();
        let port = socket.local_addr().unwrap().as_socket().unwrap().port();
        DownRelay {
            socket: Some(socket),
            port,
        }
    }

    pub fn server(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Brings the relay up: smtp-sink on this very port.
    pub fn start(mut self, flags: &[&str]) -> SmtpSink {
        drop(self.socket.take());
        SmtpSink::start_on(self.port, flags)
    }
}

/// Polls `check` until it holds or `limit` passes; returns whether it held.
pub fn wait_until(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    check()
}

fn smtp_sink_path() -> &'static str {
    if Path::new("/usr/sbin/smtp-sink").exists() {
        "/usr/sbin/smtp-sink"
    } else {
        "smtp-sink"
    }
}

/// Postfix's smtp-sink, dumping each message it accepts into its own file.
pub struct SmtpSink {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl SmtpSink {
    /// `flags` are smtp-sink's own: -r CMD (4xx), -f CMD (5xx), -q CMD (disconnect), -8, -w N.
    pub fn start(flags: &[&str]) -> SmtpSink {
        Self::start_on(free_port(), flags)
    }

    pub fn start_on(port: u16, flags: &[&str]) -> SmtpSink {
        let dir = tempfile::tempdir().unwrap();
        let dumps = dir.path().join("dumps");
        std::fs::create_dir(&dumps).unwrap();
        let mut cmd = Command::new(smtp_sink_path());
        if unsafe { libc::geteuid() } == 0 {
            // smtp-sink refuses to run as root without dropping privileges.
            std::fs::set_permissions(&dumps, std::os::unix::fs::PermissionsExt::from_mode(0o777))
                .unwrap();
            cmd.args(["-u", "nobody"]);
        }
        cmd.args(flags)
            .arg("-d")
            .arg(format!("{}/%Y%m%d%H%M%S.", dumps.display()))
            .arg(format!("127.0.0.1:{port}"))
            .arg("64")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd
            .spawn()
            .expect("smtp-sink (Debian package postfix) must be installed: scripts/install-deps");
        let up = wait_until(Duration::from_secs(10), || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(up, "smtp-sink did not start listening on port {port}");
        SmtpSink { port, dir, child }
    }

    pub fn server(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The messages received so far, each as the dump file's text.
    pub fn messages(&self) -> Vec<String> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(self.dir.path().join("dumps")).unwrap() {
            let path = entry.unwrap().path();
            if let Ok(text) = std::fs::read_to_string(&path) {
                out.push(text);
            }
        }
        out
    }

    /// The Message-IDs received so far, one per accepted message, repeats included.
    pub fn message_ids(&self) -> Vec<String> {
        self.messages()
            .iter()
            .filter_map(|m| header(m, "Message-ID"))
            .collect()
    }

    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first value of a header in a message's text (unfolded).
pub fn header(message: &str, name: &str) -> Option<String> {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    let mut lines = message.lines().peekable();
    while let Some(line) = lines.next() {
        if line.to_ascii_lowercase().starts_with(&prefix) {
            let mut value = line[prefix.len()..].trim().to_string();
            while let Some(next) = lines.peek().filter(|l| l.starts_with([' ', '\t'])) {
                value.push(' ');
                value.push_str(next.trim());
                lines.next();
            }
            return Some(value);
        }
    }
    None
}

/// aiosmtpd, configured by tests/servers/smtp_server.py flags.
pub struct Aiosmtpd {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
}

/// One message aiosmtpd accepted: its raw bytes and envelope.
pub struct Received {
    pub raw: Vec<u8>,
    pub envelope: serde_json::Value,
}

impl Aiosmtpd {
    pub fn start(flags: &[&str]) -> Aiosmtpd {
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/servers/smtp_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg("--dir")
            .arg(dir.path().join("in"))
            .args(flags)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd must be installed: scripts/install-deps");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .strip_prefix("READY ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("aiosmtpd did not start: {line:?}"));
        Aiosmtpd { port, dir, child }
    }

    pub fn server(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        let folder = self.dir.path().join("in");
        let mut names: Vec<PathBuf> = std::fs::read_dir(&folder)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|x| x == "eml"));
        names.sort();
        names
            .into_iter()
            .map(|eml| Received {
                raw: std::fs::read(&eml).unwrap(),
                envelope: serde_json::from_slice(
                    &std::fs::read(eml.with_extension("json")).unwrap(),
                )
                .unwrap(),
            })
            .collect()
    }
}

impl Drop for Aiosmtpd {
    fn drop(&mut self) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        if !wait_until(Duration::from_secs(5), || {
            matches!(self.child.try_wait(), Ok(Some(_)))
        }) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// A fresh database in a temp folder, and engines over it.
pub struct Queue {
    pub dir: tempfile::TempDir,
}

impl Queue {
    pub fn new() -> Queue {
        Queue {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("queue.db")
    }

    pub fn engine(&self, overrides: &[(&str, &str)]) -> Engine {
        let overrides: Vec<(String, String)> = overrides
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        Engine::open(&self.path(), &overrides).unwrap()
    }

    /// Runs en-deliver on this queue with the given arguments.
    pub fn deliver(&self, args: &[&str]) -> std::process::Output {
        self.deliver_command(args).output().unwrap()
    }

    /// Starts en-deliver on this queue with the given arguments, its output piped.
    pub fn spawn_deliver(&self, args: &[&str]) -> Child {
        self.deliver_command(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    }

    pub fn deliver_command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_en-deliver"));
        command.arg("--db").arg(self.path()).args(args);
        command
    }
}

/// A notification to `to` with the given subject.
pub fn message(to: &[&str], subject: &str) -> String {
    serde_json::json!({
        "from": "ClearQuest <cq@example.com>",
        "to": to,
        "subject": subject,
        "text": format!("{subject}\nbody"),
        "source": "test",
    })
    .to_string()
}

/// A test CA and a certificate for 127.0.0.1 signed by it, made with openssl: (ca, cert, key).
pub fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let p = |name: &str| dir.join(name);
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl must be installed");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=en-notify test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "relay.key",
        "-out",
        "relay.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        p("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "relay.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "relay.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    (p("ca.pem"), p("relay.pem"), p("relay.key"))
}

/// The liben_notify.so that cargo built for this very test run, in the test binary's own folder
/// (target/<profile>/deps): cargo copies it up to target/<profile>/ only on `cargo build`, so
/// the copy up there may be stale or missing.
pub fn library() -> PathBuf {
    let deps = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let lib = deps.join("liben_notify.so");
    assert!(
        lib.exists(),
        "{} is missing: run cargo build --release first",
        lib.display()
    );
    lib
}

/// Queues `n` messages to dev@example.com with subjects "{prefix}0", "{prefix}1", …
pub fn notify_many(engine: &Engine, n: usize, prefix: &str) -> Vec<i64> {
    (0..n)
        .map(|i| {
            engine
                .notify(&message(&["dev@example.com"], &format!("{prefix}{i}")))
                .unwrap()
        })
        .collect()
}
