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

use fscommon::{c, cm, run_table_with, As, Tree};

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
