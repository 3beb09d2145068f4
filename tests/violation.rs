//! Violations (SPEC §1.5, §7.1, §7.2, §7.4): the decisions `deny`, `kill` (the offender's whole
//! thread group) and `killall` (every task, syd exits at once), `exit_code` (N, and 0 meaning
//! 128 + the eldest's status), what does not count as a violation (filtered paths, safe
//! denials, bpf denials), and `--dry-run` (nothing denied, reports still printed).
#![cfg(target_arch = "x86_64")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
mod fscommon;

use std::time::{Duration, Instant};

use fscommon::{cm, run_table, syd_in, syd_sh, Tree};

const W: [&str; 2] = ["core/sandbox/write:deny", "allowlist/write+{T}/ok/***"];

/// `W` plus `extra`, with `{T}` replaced.
fn magic(t: &Tree, extra: &[&str]) -> Vec<String> {
    W.iter().chain(extra).map(|m| t.subst(m)).collect()
}

fn sh(t: &Tree, extra: &[&str], script: &str) -> common::Output {
    let m = magic(t, extra);
    let m: Vec<&str> = m.iter().map(String::as_str).collect();
    syd_sh(&t.root, &m, &t.subst(script))
}

fn probe(t: &Tree, opts: &[&str], extra: &[&str], argv: &str) -> common::Output {
    let opts: Vec<String> = opts.iter().map(|o| t.subst(o)).collect();
    let mut cmd = vec![common::probe_path().to_owned()];
    cmd.extend(fscommon::words(&t.subst(argv)));
    syd_in(&t.root, &opts, &magic(t, extra), &cmd)
}

#[test]
fn decision_kill() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::new("kill");
    let p = common::probe_path();
    let kill = ["core/violation/decision:kill"];
    // The offender dies by SIGKILL; its parent goes on.
    let out = sh(
        &t,
        &kill,
        &format!("{p} mkdir {{T}}/no/d 0755; echo status=$?; {p} mkdir {{T}}/ok/d 0755"),
    );
    assert_eq!(out.stdout, "status=137\nok 0\n", "{out:?}");
    assert_eq!(fscommon::contexts(&out.stderr).len(), 1, "{out:?}");
    assert_eq!(out.code(), Some(0), "{out:?}");
    // The eldest killed: 128 + SIGKILL.
    let out = probe(&t, &[], &kill, "mkdir {T}/no/d 0755");
    assert_eq!(out.stdout, "", "{out:?}");
    assert_eq!(out.code(), Some(137), "{out:?}");
    // The whole thread group dies, not only the offending thread: the probe's second thread
    // would otherwise keep the process alive (it never exits by itself before the main one).
    let out = probe(&t, &[], &kill, "race-open {T}/ok/a {T}/no/file 1000");
    assert_eq!(out.stdout, "", "{out:?}");
    assert_eq!(out.code(), Some(137), "{out:?}");
    // Safe denials and filtered paths are not violations: nobody is killed.
    let out = probe(&t, &[], &kill, "mkdir {T}/no/dir 0755");
    assert_eq!(out.stdout, "err EEXIST\n", "{out:?}");
    let out = probe(
        &t,
        &[],
        &["core/violation/decision:kill", "filter/write+{T}/no/***"],
        "mkdir {T}/no/d 0755",
    );
    assert_eq!(out.stdout, "err EPERM\n", "{out:?}");
    assert_eq!(out.code(), Some(1), "{out:?}");
}

#[test]
fn decision_killall() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::new("killall");
    let p = common::probe_path();
    let killall = ["core/violation/decision:killall"];
    let start = Instant::now();
    let out = sh(
        &t,
        &killall,
        &format!(
            "sleep 20 & echo $! > {{T}}/ok/pid; {p} mkdir {{T}}/no/d 0755; echo survived; wait"
        ),
    );
    assert!(start.elapsed() < Duration::from_secs(10), "{out:?}");
    assert_eq!(out.stdout, "", "{out:?}");
    assert_eq!(out.code(), Some(137), "{out:?}");
    assert_eq!(fscommon::contexts(&out.stderr).len(), 1, "{out:?}");
    let pid = std::fs::read_to_string(t.p("ok/pid")).unwrap();
    let alive = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
        .is_ok_and(|s| !s.contains(") Z "));
    assert!(!alive, "sleep {} survived killall", pid.trim());
    // exit_code overrides 137.
    let out = sh(
        &t,
        &[
            "core/violation/decision:killall",
            "core/violation/exit_code:5",
        ],
        &format!("{p} mkdir {{T}}/no/d 0755; echo survived"),
    );
    assert_eq!((out.stdout.as_str(), out.code()), ("", Some(5)), "{out:?}");
}

#[test]
fn exit_code() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::new("exitcode");
    let p = common::probe_path();
    let deny = format!("{p} mkdir {{T}}/no/d 0755; exit 3");
    let cases: &[(&[&str], &str, i32)] = &[
        // No exit_code: the eldest's status.
        (&[], "exit 3", 3),
        (&[], &deny, 3),
        // exit_code N > 0 after a violation.
        (&["core/violation/exit_code:7"], &deny, 7),
        (&["core/violation/exit_code:7"], "exit 3", 3),
        (&["core/violation/exit_code:300"], &deny, 300 & 0xff),
        // exit_code 0: 128 + the eldest's status when below 128.
        (&["core/violation/exit_code:0"], &deny, 131),
        (&["core/violation/exit_code:0"], "exit 3", 3),
        (
            &["core/violation/exit_code:0"],
            &format!("{p} mkdir {{T}}/no/d 0755; kill -9 $$"),
            137,
        ),
        // Not violations: a filtered path, a safe denial, a bpf denial.
        (
            &["core/violation/exit_code:7", "filter/write+{T}/no/***"],
            &deny,
            3,
        ),
        (
            &["core/violation/exit_code:7"],
            &format!("{p} mkdir {{T}}/no/dir 0755; {p} access {{T}}/no/file W_OK; exit 3"),
            3,
        ),
        // raise_safe makes the safe denial a violation.
        (
            &["core/violation/exit_code:7", "core/violation/raise_safe:1"],
            &format!("{p} mkdir {{T}}/no/dir 0755; exit 3"),
            7,
        ),
    ];
    for (extra, script, want) in cases {
        let out = sh(&t, extra, script);
        assert_eq!(out.code(), Some(*want), "{extra:?} {script}: {out:?}");
    }
    // A bpf denial: no report, no violation.
    let out = syd_sh(
        &t.root,
        &["core/violation/exit_code:7"],
        &t.subst(&format!("{p} mkdir {{T}}/ok/d 0755; exit 3")),
    );
    assert_eq!(out.stdout, "err EPERM\n", "{out:?}");
    assert_eq!((out.code(), out.stderr.as_str()), (Some(3), ""), "{out:?}");
}

/// `--dry-run`: every user-space denial becomes an allowed call, reports are still printed and
/// count as violations; kernel (bpf) denials stay.
#[test]
fn dry_run() {
    run_table(
        "dry",
        &W,
        &[
            cm(
                &["--dry-run"],
                "mkdir {T}/no/d 0755",
                "ok 0",
                &["mkdir(`{T}/no/d')"],
            ),
            cm(
                &["--dry-run", "core/violation/decision:kill"],
                "unlink {T}/no/file",
                "ok 0",
                &["unlink(`{T}/no/file')"],
            ),
            cm(
                &["--dry-run", "core/sandbox/read:deny"],
                "open {T}/no/file O_RDONLY",
                "ok *",
                &["open(`{T}/no/file')"],
            ),
            cm(
                &["--dry-run"],
                "open {T}/no/file O_WRONLY",
                "ok *",
                &["open(`{T}/no/file')"],
            ),
            cm(
                &["--dry-run", "core/sandbox/write:bpf"],
                "mkdir {T}/ok/d 0755",
                "err EPERM",
                &[],
            ),
            cm(
                &["--dry-run", "filter/write+{T}/no/***"],
                "mkdir {T}/no/d 0755",
                "ok 0",
                &[],
            ),
        ],
    );
    if !common::require_kernel() {
        return;
    }
    let t = Tree::new("dryexit");
    let out = probe(
        &t,
        &["--dry-run"],
        &["core/violation/exit_code:9"],
        "mkdir {T}/no/d 0755",
    );
    assert_eq!(
        (out.stdout.as_str(), out.code()),
        ("ok 0\n", Some(9)),
        "{out:?}"
    );
    assert!(t.root.join("no/d").is_dir());
}
