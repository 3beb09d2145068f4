//! execve(2) sandboxing through the real `syd` (SPEC §2.11, §6.7): execve/execveat allowed
//! and denied (EACCES, reported with the canonical path), relative paths and dirfds, symlinks,
//! `AT_EMPTY_PATH`, the states, filters, and `exec/kill_if_match` (the initial exec is never
//! checked; a matching later exec kills the process with the two `callback_exec:` lines).
#![cfg(target_arch = "x86_64")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
mod fscommon;

use fscommon::{c, cm, run_table_with, syd_in, As, Tree};

/// Exec sandboxing on, `ok/` allowlisted.
const X: &[&str] = &["core/sandbox/exec:deny", "allowlist/exec+{T}/ok/***"];

fn probes(t: &Tree) {
    t.add_probes();
}

#[test]
fn execve_execveat() {
    run_table_with(
        "exec",
        X,
        &[
            // An allowed exec runs the new probe, which prints its own line.
            c("execve {T}/ok/probe getpid", "ok *", &[]),
            c(
                "execve {T}/no/probe getpid",
                "err EACCES",
                &["execve(`{T}/no/probe')"],
            ),
            c(
                "execve no/probe getpid",
                "err EACCES",
                &["execve(`{T}/no/probe')"],
            ),
            c(
                "execve ok/../no/probe getpid",
                "err EACCES",
                &["execve(`{T}/no/probe')"],
            ),
            // The canonical path decides and is reported.
            c(
                "execve {T}/ok/probe_link_to_no getpid",
                "err EACCES",
                &["execve(`{T}/no/probe')"],
            ),
            c("execve {T}/ok/missing", "err ENOENT", &[]),
            c("execve {T}/ok/file", "err EACCES", &[]),
            c("execveat AT_FDCWD {T}/ok/probe 0 getpid", "ok *", &[]),
            c(
                "execveat AT_FDCWD {T}/no/probe 0 getpid",
                "err EACCES",
                &["execveat(`{T}/no/probe')"],
            ),
            c("execveat open:{T}/ok probe 0 getpid", "ok *", &[]),
            c(
                "execveat open:{T}/no probe 0 getpid",
                "err EACCES",
                &["execveat(`{T}/no/probe')"],
            ),
            c(
                "execveat path:{T}/ok/probe '' AT_EMPTY_PATH getpid",
                "ok *",
                &[],
            ),
            c(
                "execveat path:{T}/no/probe '' AT_EMPTY_PATH getpid",
                "err EACCES",
                &["execveat(`{T}/no/probe')"],
            ),
            // AT_SYMLINK_NOFOLLOW: the link itself is checked; the kernel refuses to run it.
            c(
                "execveat AT_FDCWD {T}/ok/probe_link_to_no AT_SYMLINK_NOFOLLOW getpid",
                "err ELOOP",
                &[],
            ),
            // access(X_OK) is a read check, not an exec check.
            c("access {T}/no/probe X_OK", "ok 0", &[]),
            cm(
                &["filter/exec+{T}/no/***"],
                "execve {T}/no/probe getpid",
                "err EACCES",
                &[],
            ),
            cm(
                &["core/sandbox/exec:allow", "denylist/exec+{T}/no/probe"],
                "execve {T}/no/probe getpid",
                "err EACCES",
                &["execve(`{T}/no/probe')"],
            ),
            cm(
                &["core/sandbox/exec:allow", "denylist/exec+{T}/no/probe"],
                "execve {T}/ok/probe getpid",
                "ok *",
                &[],
            ),
            // The last matching entry decides, whatever its kind (SPEC §2.11 step 2).
            cm(
                &[
                    "core/sandbox/exec:allow",
                    "denylist/exec+{T}/***",
                    "allowlist/exec+{T}/ok/***",
                ],
                "execve {T}/ok/probe getpid",
                "ok *",
                &[],
            ),
            cm(
                &["allowlist/exec+{T}/no/***", "denylist/exec+{T}/no/probe"],
                "execve {T}/no/probe getpid",
                "err EACCES",
                &["execve(`{T}/no/probe')"],
            ),
            cm(
                &["core/sandbox/exec:off"],
                "execve {T}/no/probe getpid",
                "ok *",
                &[],
            ),
        ],
        As::Me,
        &probes,
    );
}

/// `exec/kill_if_match`: a matching exec after the first kills the caller, in any exec state,
/// with the two `callback_exec:` lines; the exec itself does not happen.
#[test]
fn kill_if_match() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::new("kim");
    t.add_probes();
    let probe = t.p("no/probe");
    let script = format!("{probe} getpid; echo status=$?; exit 3");
    let out = fscommon::syd_sh(
        &t.root,
        &[&format!("exec/kill_if_match+{}/no/*", t.s())],
        &script,
    );
    assert_eq!(out.stdout, "status=137\n", "{out:?}");
    assert_eq!(out.code(), Some(3), "{out:?}");
    // The shell adds its own "Killed".
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("sydbox"))
        .collect();
    assert_eq!(lines.len(), 2, "{out:?}");
    let body = |l: &str| l.split_once(": ").map(|x| x.1.to_owned()).unwrap();
    assert!(lines[0].starts_with("sydbox@"), "{out:?}");
    assert_eq!(
        body(lines[0]),
        format!(
            "callback_exec: kill_if_match pattern=`{}/no/*' matches execve path=`{probe}'",
            t.s()
        )
    );
    let kill = body(lines[1]);
    let rest = kill
        .strip_prefix("callback_exec: killing process:")
        .unwrap_or_else(|| panic!("{out:?}"));
    let (pid, rest) = rest.split_once(' ').unwrap();
    assert!(pid.parse::<u32>().is_ok(), "{out:?}");
    assert_eq!(rest, format!("[abi:0 cwd:`{}']", t.s()));
    assert!(fscommon::reports(&out.stderr).is_empty());

    // The initial exec is not checked, even when it matches.
    let out = fscommon::syd_in(
        &t.root,
        &[],
        &[format!("exec/kill_if_match+{probe}")],
        &[probe.clone(), "getpid".to_owned()],
    );
    assert!(out.stdout.starts_with("ok "), "{out:?}");
    assert_eq!(out.stderr, "", "{out:?}");

    // Exec sandboxing denies first: a denied exec is reported, not killed.
    let out = fscommon::syd_sh(
        &t.root,
        &[
            "core/sandbox/exec:deny",
            &format!("exec/kill_if_match+{probe}"),
        ],
        &format!("{probe} getpid; echo status=$?"),
    );
    assert_eq!(out.stdout, "status=126\n", "{out:?}");
    assert_eq!(
        fscommon::contexts(&out.stderr),
        [format!("execve(`{probe}')")]
    );
}

/// The shell's own lookups (PATH search, relative paths) exec full or relative paths; the
/// canonical path is what matches.
#[test]
fn kill_if_match_relative_and_path_lookup() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::new("kimrel");
    t.add_probes();
    let probe = t.p("no/probe");
    let magic = format!("exec/kill_if_match+{probe}");
    for script in [
        "cd no && ./probe getpid; echo status=$?",
        "PATH=/nonexistent:{T}/ok:{T}/no probe_link_to_no getpid; echo status=$?",
        "ln -s no/probe p && ./p getpid; echo status=$?",
    ] {
        let script = t.subst(script);
        let out = fscommon::syd_sh(&t.root, &[&magic, "core/sandbox/write:off"], &script);
        assert_eq!(out.stdout, "status=137\n", "{script}: {out:?}");
        assert!(
            out.stderr
                .contains(&format!("matches execve path=`{probe}'")),
            "{script}: {out:?}"
        );
    }
    // A name PATH does not find is not killed.
    let out = fscommon::syd_sh(&t.root, &[&magic], "probe getpid; echo status=$?");
    assert_eq!(out.stdout, "status=127\n", "{out:?}");
}

/// exec in the `bpf` state: denied by the kernel, so the command itself cannot start.
#[test]
fn exec_bpf_refuses_the_command() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::new("execbpf");
    let out = fscommon::syd_in(
        &t.root,
        &[],
        &["core/sandbox/exec:bpf".to_owned()],
        &["/bin/true".to_owned()],
    );
    assert_eq!(out.code(), Some(1), "{out:?}");
    assert!(
        out.stderr
            .contains("execv path:\"/bin/true\" failed (errno:1 "),
        "{out:?}"
    );
}

/// Exec sandboxing on with `ok/` allowlisted and write sandboxing off, for the exec verification
/// tests, plus `extra`.
fn verified(t: &Tree, extra: &[&str]) -> Vec<String> {
    let mut m = vec![
        "core/sandbox/write:off".to_owned(),
        "core/sandbox/exec:deny".to_owned(),
        format!("allowlist/exec+{}/ok/***", t.s()),
    ];
    m.extend(extra.iter().map(|s| t.subst(s)));
    m
}

/// Writes `text` to `rel` in the tree with permissions `mode`.
fn write_mode(t: &Tree, rel: &str, text: &[u8], mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let p = t.root.join(rel);
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Every allowed exec is verified after the fact (the exec race, tests/race.rs); legitimate
/// execs must never be killed for it: many execs in a row, `#!` scripts (whose executable is
/// their interpreter, allowlisted or not: SPEC §2.11 does not check interpreters), and
/// `execveat` of a descriptor with `AT_EMPTY_PATH`.
#[test]
fn verified_execs_are_not_killed() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::new("legit");
    t.add_probes();
    // A copy, not a link: another executable than the probe that execs it.
    std::fs::copy(common::probe_path(), t.root.join("ok/copy")).unwrap();
    write_mode(&t, "ok/script", b"#!/bin/sh\necho script=$1\n", 0o755);
    write_mode(&t, "ok/script_sp", b"#! /bin/sh -e\necho spaced\n", 0o755);
    // A script whose interpreter is a script: the executable is the last interpreter.
    let nested = t.subst("#!{T}/ok/script\n");
    write_mode(&t, "ok/nested", nested.as_bytes(), 0o755);
    let script = "i=0; while [ $i -lt 200 ]; do {T}/ok/probe getpid >/dev/null || exit 9; \
                  i=$((i+1)); done; echo loop=$i; \
                  {T}/ok/script a; {T}/ok/script_sp; {T}/ok/probe execve {T}/ok/script b; \
                  {T}/ok/probe execve {T}/ok/nested c; \
                  {T}/ok/probe execveat path:{T}/ok/copy '' AT_EMPTY_PATH getpid; \
                  echo status=$?";
    // The probe's exec of the script is the one that changes the executable: the shell's
    // children already run the interpreter.
    let want = t.subst("loop=200\nscript=a\nspaced\nscript=b\nscript={T}/ok/nested\nok ");
    for extra in [
        &[][..],
        &["allowlist/exec+/usr/bin/***", "allowlist/exec+/bin/***"],
    ] {
        let out = syd_in(
            &t.root,
            &[],
            &verified(&t, extra),
            &["sh".to_owned(), "-c".to_owned(), t.subst(script)],
        );
        assert!(out.stdout.starts_with(&want), "{extra:?}: {out:?}");
        assert!(out.stdout.ends_with("status=0\n"), "{extra:?}: {out:?}");
        assert_eq!(out.code(), Some(0), "{extra:?}: {out:?}");
        assert_eq!(out.stderr, "", "{extra:?}: {out:?}");
    }
}

/// An allowed exec that fails in the kernel (not executable: EACCES; missing interpreter:
/// ENOENT; no known format: ENOEXEC) leaves the process alone, and its pending verification
/// goes away at the thread's next call: 200 failed execs in one process never fill the table
/// (which would refuse with EAGAIN), and the same process then execs an allowed program.
#[test]
fn failed_execs_are_not_killed_and_leave_nothing_behind() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::new("failexec");
    t.add_probes();
    write_mode(&t, "ok/noexec", b"data\n", 0o644);
    write_mode(&t, "ok/badinterp", b"#!/nonexistent/interp\n", 0o755);
    write_mode(&t, "ok/garbage", b"\x01\x02garbage\n", 0o755);
    let out = syd_in(
        &t.root,
        &[],
        &verified(&t, &[]),
        &[
            common::probe_path().to_owned(),
            "exec-seq".to_owned(),
            t.p("ok/noexec"),
            t.p("ok/badinterp"),
            t.p("ok/garbage"),
            t.p("ok/probe"),
        ],
    );
    assert_eq!(
        out.stdout.lines().take(3).collect::<Vec<_>>(),
        ["err EACCES", "err ENOENT", "err ENOEXEC"],
        "{out:?}"
    );
    assert!(
        out.stdout.lines().nth(3).unwrap_or("").starts_with("ok "),
        "{out:?}"
    );
    assert_eq!(out.code(), Some(0), "{out:?}");
    assert_eq!(out.stderr, "", "{out:?}");

    let script = "{P} -r 200 execve {T}/ok/noexec | sort | uniq -c; {P} exec-seq {T}/ok/noexec \
                  {T}/ok/probe";
    let out = syd_in(
        &t.root,
        &[],
        &verified(&t, &["allowlist/exec+{P}", "allowlist/exec+/usr/bin/***"]),
        &["sh".to_owned(), "-c".to_owned(), t.subst(script)],
    );
    let lines: Vec<&str> = out.stdout.lines().map(str::trim).collect();
    assert_eq!(lines.first(), Some(&"200 err EACCES"), "{out:?}");
    assert_eq!(lines.get(1), Some(&"err EACCES"), "{out:?}");
    assert!(
        lines.get(2).is_some_and(|l| l.starts_with("ok ")),
        "{out:?}"
    );
    assert_eq!(out.code(), Some(0), "{out:?}");
    assert_eq!(out.stderr, "", "{out:?}");
}

/// At most `MAX_PENDING_EXECS` (128) execs wait for verification: threads whose allowed exec
/// failed and that make no further call keep theirs, and one more exec is refused with EAGAIN.
#[test]
fn pending_exec_verifications_are_bounded() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::new("execmax");
    t.add_probes();
    write_mode(&t, "ok/noexec", b"data\n", 0o644);
    for (n, want) in [("128", "EACCES 128\n"), ("129", "EACCES 128\nEAGAIN 1\n")] {
        let out = syd_in(
            &t.root,
            &[],
            &verified(&t, &[]),
            &[
                common::probe_path().to_owned(),
                "exec-threads".to_owned(),
                n.to_owned(),
                t.p("ok/noexec"),
            ],
        );
        assert_eq!(out.stdout, want, "{n}: {out:?}");
        assert_eq!(out.code(), Some(0), "{n}: {out:?}");
    }
}
