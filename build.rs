//! Build script of the `syd` package. It generates nothing and runs no tool: it only hands the
//! linker of the `syd` binary a script that drops the unwind tables (`.eh_frame`).
//!
//! Why: `syd` is built with `panic = "abort"` and links no unwinder, so nothing ever reads
//! `.eh_frame`. Yet LLVM fills it for every function anyway: the precompiled `core` and `alloc`
//! that LTO merges in carry debug info and `uwtable` functions, which makes it emit CFI for the
//! whole module into `.eh_frame`, whatever `-C force-unwind-tables=no` says. That costs about
//! 30 KiB of the binary's 200 KiB budget at `opt-level = "z"`. The test binaries keep their
//! unwind tables: they unwind to report failed assertions, so the argument is for `syd` alone.

use std::env;
use std::fs;
use std::path::PathBuf;
use std::process::exit;

/// Keeps the linker's default layout (`INSERT`) and only discards the two unwind sections and
/// `.comment` (the toolchains' version strings, which nothing at run time reads).
const SCRIPT: &str =
    "SECTIONS {\n  /DISCARD/ : { *(.eh_frame) *(.eh_frame_hdr) *(.comment) }\n}\nINSERT AFTER .text;\n";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    let Some(out) = env::var_os("OUT_DIR") else {
        eprintln!("build.rs: cargo did not set OUT_DIR");
        exit(1);
    };
    let path = PathBuf::from(out).join("discard-eh-frame.ld");
    if let Err(e) = fs::write(&path, SCRIPT) {
        eprintln!("build.rs: cannot write {}: {e}", path.display());
        exit(1);
    }
    println!("cargo:rustc-link-arg-bin=syd=-T{}", path.display());
}
