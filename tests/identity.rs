//! The supervisor remembers the identity each thread's emulated calls run with (fsuid, fsgid,
//! groups, capabilities) instead of reading `/proc/<tid>/status` at every open. A thread that
//! gives up privileges in place (setresuid, capset) must find its next emulated open running
//! with the reduced identity: the identity calls are routed so that the supervisor forgets.
//! So must an exec, which recomputes the capabilities.
#![cfg(target_arch = "x86_64")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::OnceLock;

/// Builds tests/identity/dropper.c once, or `None` without a C compiler.
fn dropper() -> Option<&'static PathBuf> {
    static CELL: OnceLock<Option<PathBuf>> = OnceLock::new();
    CELL.get_or_init(|| {
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/identity/dropper.c");
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        std::fs::create_dir_all(&dir).unwrap();
        let exe = dir.join("identity-dropper");
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
        let ok = std::process::Command::new(cc)
            .args(["-O1", "-o"])
            .arg(&exe)
            .arg(src)
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(exe)
    })
    .as_ref()
}

/// Runs the dropper on a fresh file owned by `owner` with mode 0600 under read sandboxing,
/// returns its standard output.
fn run(mode: &str, owner: u32) -> Option<String> {
    if !common::require_kernel() || !common::is_root() {
        return None;
    }
    let Some(exe) = dropper() else {
        eprintln!("skip: no C compiler");
        return None;
    };
    let dir = tempfile_dir(mode);
    let file = dir.join("secret");
    std::fs::write(&file, "x").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::chown(&file, Some(owner), Some(owner)).unwrap();
    let mut args = common::READ_ALL_CHECKED.to_vec();
    args.extend(["--", exe.to_str().unwrap(), file.to_str().unwrap(), mode]);
    let out = common::syd(&args).run();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.code(), Some(0), "{out:?}");
    Some(out.stdout)
}

fn tempfile_dir(tag: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("identity-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
    d
}

#[test]
fn an_open_after_setresuid_runs_as_the_new_user() {
    // Root's file: readable before the drop, EACCES for uid 65534 after it.
    if let Some(out) = run("uid", 0) {
        assert_eq!(out, "before ok\nafter EACCES\n");
    }
}

#[test]
fn an_open_after_dropping_capabilities_runs_without_them() {
    // Another user's 0600 file: root reads it with CAP_DAC_OVERRIDE, not without.
    if let Some(out) = run("caps", 1) {
        assert_eq!(out, "before ok\nafter EACCES\n");
    }
}

#[test]
fn an_open_after_an_exec_runs_with_the_capabilities_the_exec_left() {
    // uid 65534 with CAP_DAC_OVERRIDE kept reads another user's 0600 file; after an exec,
    // which clears a non-root user's capabilities, it cannot. Both ways syd answers an exec:
    // before any magic command (without looking at the caller) and after one.
    for mode in ["exec", "exec-magic"] {
        if let Some(out) = run(mode, 1) {
            assert_eq!(out, "before ok\nafter EACCES\n", "{mode}");
        }
    }
}
