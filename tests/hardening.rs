//! Side doors and the supervisor itself (the hardening issue): io_uring and file handles are
//! refused while a sandbox type is decided in user space, and the supervisor is not dumpable.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{probe_path, require_kernel, syd};

#[test]
fn io_uring_is_refused_while_paths_are_sandboxed() {
    if !require_kernel() {
        return;
    }
    let p = probe_path();
    // Write sandboxing decided in user space: io_uring would open files unseen.
    let out = syd(&[
        "-m",
        "core/sandbox/write:deny",
        "--",
        p,
        "io_uring_setup",
        "8",
    ])
    .run();
    assert_eq!(out.stdout, "err EPERM\n", "{out:?}");
    // Only in-kernel decisions (write bpf, the default): nothing to bypass, io_uring works
    // (or the kernel itself refuses it, e.g. when disabled by sysctl).
    let out = syd(&[
        "-m",
        "core/sandbox/write:bpf",
        "--",
        p,
        "io_uring_setup",
        "8",
    ])
    .run();
    assert_ne!(out.stdout, "err EPERM\n", "{out:?}");
    // Network alone counts too.
    let out = syd(&[
        "-m",
        "core/sandbox/network:deny",
        "--",
        p,
        "io_uring_setup",
        "8",
    ])
    .run();
    assert_eq!(out.stdout, "err EPERM\n", "{out:?}");
}

#[test]
fn the_supervisor_is_not_dumpable() {
    if !require_kernel() || !common::skip_unless(common::is_root(), "needs root to switch uid") {
        return;
    }
    use std::os::unix::fs::MetadataExt;
    // syd runs as nobody with a command that waits; the /proc entries of a dumpable process
    // belong to its uid, those of a non-dumpable one to root: then no same-uid process (such as
    // the sandboxed command) can read its memory or environment, or ptrace it.
    let mut run = syd(&["-m", "core/sandbox/write:deny", "--", "sleep", "5"]).unprivileged();
    let mut child = run
        .command()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Wait until syd has forked its child (it sets the flag right after fork).
    let mut owner = None;
    for _ in 0..200 {
        let children =
            std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        if !children.trim().is_empty() {
            std::thread::sleep(std::time::Duration::from_millis(50));
            owner = std::fs::metadata(format!("/proc/{pid}/environ"))
                .ok()
                .map(|m| m.uid());
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(owner, Some(0), "/proc/<syd>/environ should belong to root");
}
