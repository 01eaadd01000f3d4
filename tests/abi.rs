//! The committed header matches what cbindgen generates from src/ffi.rs, and en_version
//! matches Cargo.toml.

use std::ffi::CStr;

#[test]
fn committed_header_is_not_stale() {
    let generated = std::fs::read_to_string(env!("EN_GENERATED_HEADER")).unwrap();
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/en_notify.h"))
            .unwrap();
    assert!(
        generated == committed,
        "include/en_notify.h is stale: run scripts/update-header and commit it"
    );
}

#[test]
fn version_matches_cargo_toml() {
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let declared = manifest
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .unwrap();
    let reported = unsafe { CStr::from_ptr(en_notify::ffi::en_version()) }
        .to_str()
        .unwrap();
    assert_eq!(reported, declared);
}
