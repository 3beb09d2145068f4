//! The check-then-use race (SPEC §9 #1): a tracee thread flips its path buffer between an
//! allowed and a denied path (one byte apart) while the main thread calls
//! `open(O_WRONLY|O_CREAT)` on it thousands of times. Allowed opens are performed by the
//! supervisor and installed with ADDFD, so the denied file must never be opened.
#![cfg(target_arch = "x86_64")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
mod fscommon;

use fscommon::{syd_in, Tree};

/// Iterations: enough for the flipping thread to win many times if the kernel re-read the path.
const TRIES: &str = "20000";

#[test]
fn racing_thread_never_opens_the_denied_file() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::empty("race");
    std::fs::create_dir(t.root.join("a")).unwrap();
    std::fs::create_dir(t.root.join("b")).unwrap();
    std::fs::write(t.root.join("b/f"), "").unwrap();
    // The denied path is filtered: thousands of denials, no thousands of reports.
    let magic = [
        "core/sandbox/write:deny".to_owned(),
        format!("allowlist/write+{}/a/***", t.s()),
        format!("filter/write+{}/b/***", t.s()),
    ];
    let cmd = [
        common::probe_path().to_owned(),
        "race-open".to_owned(),
        t.p("a/f"),
        t.p("b/f"),
        TRIES.to_owned(),
    ];
    let out = syd_in(&t.root, &[], &magic, &cmd);
    let count = |key: &str| -> u64 {
        out.stdout
            .lines()
            .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {out:?}"))
    };
    assert_eq!(count("opened-denied "), 0, "{out:?}");
    assert_eq!(count("opened-other "), 0, "{out:?}");
    // Both outcomes happened: the race was really run.
    assert!(count("opened-allowed ") > 0, "{out:?}");
    assert!(count("failed ") > 0, "{out:?}");
    assert_eq!(std::fs::read(t.root.join("b/f")).unwrap().len(), 0);
    assert_eq!(out.code(), Some(0), "{out:?}");
}

/// Children of one length: the two programs of the exec race, `a/p` (allowed) and `b/p`
/// (denied), copies of the probe (distinct files: hard links would be one file).
fn exec_race_tree() -> Tree {
    let t = Tree::empty("execrace");
    for d in ["a", "b"] {
        std::fs::create_dir(t.root.join(d)).unwrap();
        std::fs::copy(common::probe_path(), t.root.join(d).join("p")).unwrap();
    }
    t
}

/// How many children each exec race forks: each is a fork, a thread and an exec.
const EXEC_CHILDREN: &str = "500";

/// The exec race (SPEC §9 #1): a thread flips the path of its process's `execve` between an
/// allowed and a denied program, so that the kernel sometimes runs the denied one after the
/// supervisor checked the allowed one. The supervisor verifies every allowed exec afterwards
/// and kills the process: the denied program never gets to print its marker, each kill is
/// reported like a denied exec, and the kills show that the race was really won. Run twice:
/// from another program, and from the allowed program itself (an exec of the file a process
/// already runs looks the same before and after).
#[test]
fn racing_thread_never_runs_the_denied_program() {
    if !common::require_kernel() {
        return;
    }
    let t = exec_race_tree();
    let magic = [
        "core/sandbox/exec:deny".to_owned(),
        format!("allowlist/exec+{}/a/***", t.s()),
    ];
    for launcher in [common::probe_path().to_owned(), t.p("a/p")] {
        let cmd = [
            launcher.clone(),
            "race-exec".to_owned(),
            t.p("a/p"),
            t.p("b/p"),
            EXEC_CHILDREN.to_owned(),
        ];
        let started = std::time::Instant::now();
        let out = syd_in(&t.root, &[], &magic, &cmd);
        let count = |key: &str| -> u64 {
            out.stdout
                .lines()
                .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
                .unwrap_or_else(|| panic!("no {key} in {out:?}"))
        };
        let (allowed, refused, killed) = (count("allowed "), count("refused "), count("killed "));
        let latency = out.stdout.lines().find(|l| l.starts_with("latency-us"));
        println!(
            "exec race from {launcher}: {EXEC_CHILDREN} children in {:?}: allowed {allowed}, \
             refused {refused}, killed {killed}, {}",
            started.elapsed(),
            latency.map_or("no start stamps".to_owned(), |l| format!(
                "detection latency (count min median max) {l}"
            ))
        );
        assert!(!out.stdout.contains("MARKER"), "{launcher}: {out:?}");
        assert_eq!(count("escaped "), 0, "{launcher}: {out:?}");
        assert_eq!(count("other "), 0, "{launcher}: {out:?}");
        // The race was run both ways, and won by the flipper.
        assert!(allowed > 0 && refused > 0, "{launcher}: {out:?}");
        assert!(killed > 0, "the flipper never won: {launcher}: {out:?}");
        // Each refused exec and each kill is reported as a denied exec of the denied program:
        // the kills with the command line of the program that ran.
        let reports = fscommon::reports(&out.stderr);
        let want = format!("execve(`{}')", t.p("b/p"));
        assert!(reports.iter().all(|r| r.context == want), "{reports:?}");
        assert_eq!(after_exec(&reports), killed, "{launcher}: {out:?}");
        assert_eq!(
            reports.len() as u64,
            refused + killed,
            "{launcher}: {out:?}"
        );
    }
}

/// How many of `reports` were made after an exec (the command line is the new program's).
fn after_exec(reports: &[fscommon::Report]) -> u64 {
    reports
        .iter()
        .filter(|r| {
            r.cmdline
                .as_deref()
                .is_some_and(|c| c.contains("race-exec-target"))
        })
        .count() as u64
}

/// The exec race under `--dry-run`: nothing is killed, and the programs that ran unchecked
/// are reported all the same (as the new program, after its exec).
#[test]
fn exec_race_dry_run_reports_and_never_kills() {
    if !common::require_kernel() {
        return;
    }
    let t = exec_race_tree();
    let magic = [
        "core/sandbox/exec:deny".to_owned(),
        format!("allowlist/exec+{}/a/***", t.s()),
    ];
    let cmd = [
        common::probe_path().to_owned(),
        "race-exec".to_owned(),
        t.p("a/p"),
        t.p("b/p"),
        "300".to_owned(),
        // Long enough for the verification to see the program before it exits.
        "20".to_owned(),
    ];
    let out = syd_in(&t.root, &["--dry-run".to_owned()], &magic, &cmd);
    let count = |key: &str| -> u64 {
        out.stdout
            .lines()
            .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {out:?}"))
    };
    let (killed, escaped) = (count("killed "), count("escaped "));
    let reports = fscommon::reports(&out.stderr);
    let after = after_exec(&reports);
    println!(
        "exec race, dry run: escaped {escaped}, reported {} ({after} after the exec)",
        reports.len()
    );
    assert_eq!(killed, 0, "{out:?}");
    assert_eq!(count("refused "), 0, "{out:?}");
    assert!(after > 0 && after <= escaped, "{out:?}");
    let want = format!("execve(`{}')", t.p("b/p"));
    assert!(reports.iter().all(|r| r.context == want), "{reports:?}");
}
