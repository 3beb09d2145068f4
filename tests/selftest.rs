//! `syd --test` / `syd -t` (SPEC §1.7): it must pass on this kernel, for root and for an ordinary
//! user, print one line per check, and fail (exit 1) when a required feature is taken away.
#![allow(unsafe_code)]
// pre_exec hooks that load a seccomp filter before exec
// Test code: clippy.toml's allowances cover only #[test] functions, not their helpers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::os::unix::process::CommandExt;

/// The checks every report must contain, in order.
const CHECKS: &[&str] = &[
    "kernel 5.6 or newer: ",
    "seccomp filters (SECCOMP_SET_MODE_FILTER)",
    "user notification (SECCOMP_FILTER_FLAG_NEW_LISTENER, 5.0)",
    "continue answers (SECCOMP_USER_NOTIF_FLAG_CONTINUE, 5.5)",
    "pidfd_open (5.3)",
    "pidfd_getfd (5.6)",
    "pidfd_send_signal (5.1)",
    "process_vm_readv (CONFIG_CROSS_MEMORY_ATTACH)",
    "process_vm_writev (CONFIG_CROSS_MEMORY_ATTACH)",
    "/proc/PID/mem read",
    "/proc/PID/mem write",
    "fd injection (SECCOMP_IOCTL_NOTIF_ADDFD, 5.9)",
    "atomic fd injection (SECCOMP_ADDFD_FLAG_SEND, 5.14)",
    "killable waits (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, 5.19)",
    "synchronous wake-ups (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, 6.6)",
];

const SUPPORTED: &str = "[>] SydBox is supported on this system!";

/// Asserts a passing report: every check `ok`, in order, then the success line.
fn assert_all_ok(out: &common::Output) {
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), CHECKS.len() + 1, "stdout:\n{}", out.stdout);
    for (line, check) in lines.iter().zip(CHECKS) {
        assert!(
            line.starts_with("ok      ") && line[8..].starts_with(check),
            "expected `ok      {check}`, got `{line}`"
        );
    }
    assert_eq!(lines.last(), Some(&SUPPORTED));
    assert_eq!(out.code(), Some(0), "stderr:\n{}", out.stderr);
}

#[test]
fn passes_on_this_kernel() {
    if !common::require_kernel() {
        return;
    }
    let out = common::syd(&["--test"]).run();
    assert_all_ok(&out);
    // The kernel line carries uname as `<sysname>/<nodename> <release> <version>`.
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let expect = format!("Linux/{} {} ", host.trim(), release.trim());
    assert!(
        out.stdout.lines().next().unwrap().contains(&expect),
        "{}",
        out.stdout
    );
}

#[test]
fn short_option_is_the_same() {
    if !common::require_kernel() {
        return;
    }
    let long = common::syd(&["--test"]).run();
    let short = common::syd(&["-t"]).run();
    assert_all_ok(&short);
    assert_eq!(short.stdout, long.stdout);
}

#[test]
fn passes_for_an_ordinary_user() {
    if !common::require_kernel() {
        return;
    }
    // seccomp with no_new_privs, pidfds and memory access to one's own children need no root.
    assert_all_ok(&common::syd(&["--test"]).unprivileged().run());
}

#[test]
fn unprivileged_really_drops_privileges() {
    if !common::is_root() {
        println!("skip: not root, so runs are unprivileged already");
        return;
    }
    let out = common::Run::new(
        "/bin/sh",
        &["-c", "grep -E '^(Uid|Gid|Groups):' /proc/self/status"],
    )
    .unprivileged()
    .run();
    let words: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        words,
        [
            vec!["Uid:", "65534", "65534", "65534", "65534"],
            vec!["Gid:", "65534", "65534", "65534", "65534"],
            vec!["Groups:"],
        ],
        "{}",
        out.stdout
    );
}

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7;

/// Makes `run` load, before exec, a filter that fails each `(syscall, errno)` of `rules`.
fn deny_syscalls(run: &mut common::Run, rules: &[(libc::c_long, i32)]) {
    let ins = |code: u32, jt: u8, jf: u8, k: u32| libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    };
    let ld = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
    let jeq = libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K;
    let ret = libc::BPF_RET | libc::BPF_K;
    let mut prog = vec![
        ins(ld, 0, 0, 4),           // arch
        ins(jeq, 1, 0, AUDIT_ARCH), // native: go on to the number
        ins(ret, 0, 0, libc::SECCOMP_RET_ALLOW),
        ins(ld, 0, 0, 0), // nr
    ];
    for &(nr, errno) in rules {
        prog.push(ins(jeq, 0, 1, nr as u32));
        prog.push(ins(ret, 0, 0, libc::SECCOMP_RET_ERRNO | errno as u32));
    }
    prog.push(ins(ret, 0, 0, libc::SECCOMP_RET_ALLOW));
    // SAFETY: the hook runs between fork and exec and only makes two system calls that read
    // `prog`, built before the fork and moved into the closure.
    unsafe {
        run.command().pre_exec(move || {
            let fprog = libc::sock_fprog {
                len: prog.len() as u16,
                filter: prog.as_ptr().cast_mut(),
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[test]
fn a_missing_required_feature_fails() {
    if !common::require_kernel() {
        return;
    }
    let mut run = common::syd(&["--test"]);
    deny_syscalls(
        &mut run,
        &[
            (libc::SYS_pidfd_getfd, libc::ENOSYS),
            (libc::SYS_process_vm_readv, libc::ENOSYS),
        ],
    );
    let out = run.run();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), CHECKS.len() + 1, "{}", out.stdout);
    let line = |check: &str| *lines.iter().find(|l| l[8..].starts_with(check)).unwrap();
    assert_eq!(
        line("pidfd_getfd"),
        "missing pidfd_getfd (5.6): required: descriptors of sandboxed processes cannot be \
         inspected (pidfd_getfd: ENOSYS Function not implemented)"
    );
    // Optional: reported with its cost, but /proc/PID/mem still reads, so it does not count.
    assert_eq!(
        line("process_vm_readv"),
        "missing process_vm_readv (CONFIG_CROSS_MEMORY_ATTACH): memory is read through \
         /proc/PID/mem (slower) (process_vm_readv: ENOSYS Function not implemented)"
    );
    assert!(line("/proc/PID/mem read").starts_with("ok "));
    assert!(line("pidfd_open").starts_with("ok "));
    assert_eq!(
        lines.last(),
        Some(&"[!] SydBox is not supported on this system: 1 required feature(s) missing.")
    );
    assert_eq!(out.code(), Some(1));
}

#[test]
fn no_way_to_read_memory_fails() {
    if !common::require_kernel() {
        return;
    }
    let mut run = common::syd(&["--test"]);
    deny_syscalls(
        &mut run,
        &[
            (libc::SYS_process_vm_readv, libc::ENOSYS),
            (libc::SYS_pread64, libc::EIO),
        ],
    );
    let out = run.run();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines
        .iter()
        .any(|l| l.starts_with("missing /proc/PID/mem read: ")));
    assert!(
        lines.contains(&"ok      /proc/PID/mem write"),
        "{}",
        out.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("missing tracee memory reads: required: ")),
        "{}",
        out.stdout
    );
    assert_eq!(
        lines.last(),
        Some(&"[!] SydBox is not supported on this system: 1 required feature(s) missing.")
    );
    assert_eq!(out.code(), Some(1));
}

#[test]
fn optional_features_do_not_fail() {
    if !common::require_kernel() {
        return;
    }
    // process_vm_writev has a fallback: its loss is reported but syd stays usable.
    let mut run = common::syd(&["--test"]);
    deny_syscalls(&mut run, &[(libc::SYS_process_vm_writev, libc::EPERM)]);
    let out = run.run();
    assert!(
        out.stdout.lines().any(|l| l
            == "missing process_vm_writev (CONFIG_CROSS_MEMORY_ATTACH): memory is written \
                through /proc/PID/mem (slower) (process_vm_writev: EPERM Operation not permitted)"),
        "{}",
        out.stdout
    );
    assert_eq!(out.stdout.lines().last(), Some(SUPPORTED));
    assert_eq!(out.code(), Some(0));
}

#[test]
fn version_and_missing_command() {
    let out = common::syd(&["-v"]).run();
    assert_eq!(
        out.stdout,
        format!("sydbox-2.2.0 (syd {})\n", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(out.code(), Some(0));
    let out = common::syd(&[]).run();
    assert!(out.stderr.contains("no command given"), "{}", out.stderr);
    assert_eq!(out.code(), Some(1));
}

#[test]
#[should_panic(expected = "still running after")]
fn a_hung_run_is_killed_not_waited_for() {
    // The background sleep shares the process group, so it dies too and frees the pipes.
    common::Run::new("/bin/sh", &["-c", "sleep 60 & sleep 60"])
        .timeout(std::time::Duration::from_millis(300))
        .run();
}
