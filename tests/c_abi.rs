//! The C ABI from C: compiles tests/c/test_api.c and examples/hook.c with gcc against the
//! liben_notify.so that cargo built for this run, and runs them against a real SMTP server
//! (aiosmtpd, through tests/common).

mod common;

use common::{library, Aiosmtpd};
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn project_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn library_dir() -> PathBuf {
    library().parent().unwrap().to_path_buf()
}

/// Compiles one C source file against include/en_notify.h and liben_notify.so.
fn compile(source: &str, out_dir: &Path) -> PathBuf {
    let lib = library_dir();
    let exe = out_dir.join(Path::new(source).file_stem().expect("a file name"));
    let output = Command::new("gcc")
        .current_dir(project_dir())
        .args([
            "-Wall", "-Wextra", "-Werror", "-std=c11", "-pthread", "-I", "include",
        ])
        .arg(source)
        .arg("-o")
        .arg(&exe)
        .arg("-L")
        .arg(&lib)
        .arg("-len_notify")
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .output()
        .expect("gcc runs");
    assert!(
        output.status.success(),
        "gcc {source} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    exe
}

/// Runs a compiled program, echoing its output into the test log.
fn run(command: &mut Command) -> Output {
    let output = command.output().expect("the program runs");
    println!("{}", String::from_utf8_lossy(&output.stdout));
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    output
}

fn count_eml(dir: &Path) -> usize {
    fs::read_dir(dir)
        .expect("a readable folder")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "eml"))
        })
        .count()
}

#[test]
fn c_test_program_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    fs::create_dir(&work).unwrap();
    let server = Aiosmtpd::start(&[]);
    let exe = compile("tests/c/test_api.c", tmp.path());

    let output = run(Command::new(exe).arg(&work).arg(server.port.to_string()));

    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(output.status.success(), "test_api failed: {summary}");
    assert!(
        summary.ends_with(" passed, 0 failed"),
        "summary line: {summary:?}"
    );
    // Deferred, Light and Queue mode each deliver one message over SMTP; the rest stay queued
    // or go through the C callback.
    assert_eq!(
        server.received().len(),
        3,
        "messages the SMTP server received"
    );
}

/// Runs examples/hook.c on a fresh database with the given transport flag.
fn run_hook(tmp: &Path, transport_flag: &str, transport_value: &OsStr) -> Output {
    let exe = compile("examples/hook.c", tmp);
    run(Command::new(exe)
        .arg("--db")
        .arg(tmp.join("hook.db"))
        .arg(transport_flag)
        .arg(transport_value))
}

#[test]
fn hook_example_writes_to_the_pickup_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let pickup = tmp.path().join("pickup");

    let output = run_hook(tmp.path(), "--pickup", pickup.as_os_str());

    assert!(output.status.success(), "hook failed");
    assert_eq!(count_eml(&pickup), 1, ".eml files in the pickup folder");
}

#[test]
fn hook_example_delivers_over_smtp() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Aiosmtpd::start(&[]);

    let output = run_hook(tmp.path(), "--smtp", server.server().as_ref());

    assert!(output.status.success(), "hook failed");
    assert_eq!(
        server.received().len(),
        1,
        "messages the SMTP server received"
    );
}

#[test]
fn library_exports_the_c_functions() {
    let output = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(library_dir().join("liben_notify.so"))
        .output()
        .expect("nm runs");
    assert!(output.status.success(), "nm failed");
    let listing = String::from_utf8_lossy(&output.stdout);
    let exported: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .collect();
    for name in ["en_notify", "en_flush", "en_set_mode"] {
        assert!(
            exported.contains(&name),
            "liben_notify.so does not export {name}"
        );
    }
}
