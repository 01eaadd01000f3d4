//! Generates the C header with cbindgen. The generated copy goes to OUT_DIR, where a test
//! compares it with the committed include/en_notify.h; EN_UPDATE_HEADER=1 rewrites that file.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src/ffi.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=EN_UPDATE_HEADER");
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("en_notify.h");
    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/ffi.rs"))
        .generate()
        .expect("cbindgen could not read src/ffi.rs");
    bindings.write_to_file(&out);
    println!("cargo:rustc-env=EN_GENERATED_HEADER={}", out.display());
    if std::env::var("EN_UPDATE_HEADER").as_deref() == Ok("1") {
        bindings.write_to_file(crate_dir.join("include/en_notify.h"));
    }
}
