//! Other ABIs (hardening, SPEC §6.1 and `-a`): a 32-bit program on x86_64 reaches the kernel
//! through `int $0x80`, with its own system call numbers. When `-a` leaves i386 out its first
//! call kills it; when i386 is filtered (by default, or with `-a x86`) its path calls are
//! sandboxed exactly like the native ones, by the same supervisor. (x32 and the network calls of i386 are tested in seccomp_kernel.rs and net.rs.)
#![cfg(target_arch = "x86_64")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{require_kernel, syd, Output, TempDir};

/// Builds tests/abi/paths32.c for i386 (see `common::build_i386`).
fn paths32(dir: &TempDir) -> Option<String> {
    common::build_i386("abi/paths32.c", &dir.p("paths32"), "getpid", b"ok 0\n")
}

/// Runs the i386 helper under syd with `opts`.
fn run32(bin: &str, opts: &[&str], call: &[&str]) -> Output {
    let mut args: Vec<&str> = opts.to_vec();
    args.push("--");
    args.push(bin);
    args.extend_from_slice(call);
    syd(&args).run()
}

#[test]
fn an_i386_program_is_killed_unless_its_abi_is_allowed() {
    if !require_kernel() {
        return;
    }
    let t = TempDir::new("kill");
    let Some(bin) = paths32(&t) else { return };
    let out = run32(&bin, &["-a", "x86_64"], &["getpid"]);
    // SIGSYS (31): syd exits 128 + 31, the program printed nothing.
    assert_eq!(out.code(), Some(159), "{out:#?}");
    assert_eq!(out.stdout, "", "{out:#?}");
    for opts in [&["-a", "x86_64", "-a", "x86"][..], &[]] {
        let out = run32(&bin, opts, &["getpid"]);
        let got = (out.code(), out.stdout.as_str());
        assert_eq!(got, (Some(0), "ok 0\n"), "{opts:?}: {out:#?}");
    }
}

#[test]
fn i386_path_calls_are_sandboxed_like_native_ones() {
    if !require_kernel() {
        return;
    }
    let t = TempDir::new("paths");
    let Some(bin) = paths32(&t) else { return };
    std::fs::create_dir(t.p("in")).unwrap();
    std::fs::create_dir(t.p("out")).unwrap();
    std::fs::write(t.p("in/r"), "r").unwrap();
    std::fs::write(t.p("out/r"), "r").unwrap();
    std::fs::write(t.p("out/keep"), "k").unwrap();
    let allow_w = format!("allowlist/write+{}/***", t.p("in"));
    let allow_r = format!("allowlist/read+{}/***", t.p("in"));
    let policy = [
        "-m",
        "core/sandbox/write:deny",
        "-m",
        &allow_w,
        "-m",
        "core/sandbox/read:deny",
        "-m",
        &allow_r,
        // The helper itself must be readable to be executed.
        "-m",
        &format!("allowlist/read+{bin}"),
    ];
    // (call, expected output): EPERM is 1 on i386 as on x86_64.
    let (in_new, out_new) = (t.p("in/new"), t.p("out/new"));
    let (in_dir, out_dir) = (t.p("in/d"), t.p("out/d"));
    let (in_r, out_r, out_keep) = (t.p("in/r"), t.p("out/r"), t.p("out/keep"));
    let in_moved = t.p("in/moved");
    let table: [(Vec<&str>, &str); 8] = [
        (vec!["open-w", &in_new], "ok 0\n"),
        (vec!["open-w", &out_new], "err 1\n"),
        (vec!["open-r", &in_r], "ok 0\n"),
        (vec!["open-r", &out_r], "err 1\n"),
        (vec!["mkdir", &in_dir], "ok 0\n"),
        (vec!["mkdir", &out_dir], "err 1\n"),
        (vec!["unlink", &out_keep], "err 1\n"),
        (vec!["rename", &out_r, &in_moved], "err 1\n"),
    ];
    for (call, want) in table {
        let out = run32(&bin, &policy, &call);
        assert_eq!(out.stdout, want, "{call:?}: {out:#?}");
    }
    assert!(std::path::Path::new(&in_new).exists());
    assert!(!std::path::Path::new(&out_new).exists());
    assert!(std::path::Path::new(&in_dir).is_dir());
    assert!(!std::path::Path::new(&out_dir).exists());
    assert!(std::path::Path::new(&out_keep).exists());
    assert!(std::path::Path::new(&out_r).exists());
}
