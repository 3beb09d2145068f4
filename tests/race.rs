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
        // The command line is read when the report is written: a report can show the
        // launcher's when the kill caught the exec before its new command line was readable.
        assert!(after_exec(&reports) <= killed, "{launcher}: {out:?}");
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

/// Iterations of the other path calls: each is a few notifications, and the old
/// check-then-continue answer lost within a few hundred.
const CALL_TRIES: &str = "5000";

/// A tree with `a/` (write-allowed) and `b/` (denied, filtered), each holding `f`: 5 bytes,
/// mode 0644, owned by the test's user.
fn two_dirs(tag: &str) -> Tree {
    use std::os::unix::fs::PermissionsExt;
    let t = Tree::empty(tag);
    for d in ["a", "b"] {
        std::fs::create_dir(t.root.join(d)).unwrap();
        let f = t.root.join(d).join("f");
        std::fs::write(&f, "hello").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    t
}

/// The sandbox of the race tests: writes allowed in `a/` only, denials in `b/` filtered (so
/// thousands of them make no thousands of reports).
fn race_magic(t: &Tree) -> [String; 3] {
    [
        "core/sandbox/write:deny".to_owned(),
        format!("allowlist/write+{}/a/***", t.s()),
        format!("filter/write+{}/b/***", t.s()),
    ]
}

/// Runs `race-call CALL OTHER ALLOWED DENIED` (paths relative to the tree) under syd and
/// returns the (ok, failed) counts, after checking that syd exited 0.
fn race_call(t: &Tree, call: &str, other: &str, allowed: &str, denied: &str) -> (u64, u64) {
    let p = |r: &str| if r == "-" { "-".to_owned() } else { t.p(r) };
    let cmd = [
        common::probe_path().to_owned(),
        "race-call".to_owned(),
        call.to_owned(),
        p(other),
        p(allowed),
        p(denied),
        CALL_TRIES.to_owned(),
    ];
    let out = syd_in(&t.root, &[], &race_magic(t), &cmd);
    let count = |key: &str| -> u64 {
        out.stdout
            .lines()
            .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {out:?}"))
    };
    assert_eq!(out.code(), Some(0), "{out:?}");
    (count("ok "), count("failed "))
}

/// The racing thread flips one path between `a/…` and `b/…`: both outcomes must have happened
/// (the race was really run) and `untouched` must hold for the denied object.
fn flip(call: &str, other: &str, allowed: &str, denied: &str, untouched: impl Fn(&Tree) -> bool) {
    if !common::require_kernel() {
        return;
    }
    let t = two_dirs(call);
    let (ok, failed) = race_call(&t, call, other, allowed, denied);
    assert!(
        untouched(&t),
        "{call}: the denied object changed (ok {ok}, failed {failed})"
    );
    assert!(ok > 0 && failed > 0, "{call}: ok {ok}, failed {failed}");
}

fn missing(t: &Tree, rel: &str) -> bool {
    std::fs::symlink_metadata(t.root.join(rel)).is_err()
}

fn meta(t: &Tree, rel: &str) -> std::fs::Metadata {
    std::fs::symlink_metadata(t.root.join(rel)).unwrap()
}

#[test]
fn race_mkdir() {
    flip("mkdir", "-", "a/d", "b/d", |t| missing(t, "b/d"));
}

#[test]
fn race_unlink() {
    flip("unlink", "-", "a/f", "b/f", |t| !missing(t, "b/f"));
}

#[test]
fn race_rename_from() {
    flip("rename-from", "a/g", "a/f", "b/f", |t| !missing(t, "b/f"));
}

#[test]
fn race_rename_to() {
    flip("rename-to", "a/f", "a/g", "b/g", |t| missing(t, "b/g"));
}

#[test]
fn race_symlink() {
    flip("symlink", "-", "a/l", "b/l", |t| missing(t, "b/l"));
}

#[test]
fn race_chmod() {
    use std::os::unix::fs::MetadataExt;
    flip("chmod", "-", "a/f", "b/f", |t| {
        meta(t, "b/f").mode() & 0o7777 == 0o644
    });
}

#[test]
fn race_chown() {
    use std::os::unix::fs::MetadataExt;
    if !common::skip_unless(common::is_root(), "chown to another user needs root") {
        return;
    }
    flip("chown", "-", "a/f", "b/f", |t| meta(t, "b/f").uid() == 0);
}

#[test]
fn race_truncate() {
    flip("truncate", "-", "a/f", "b/f", |t| meta(t, "b/f").len() == 5);
}

#[test]
fn race_utimensat() {
    use std::os::unix::fs::MetadataExt;
    flip("utimensat", "-", "a/f", "b/f", |t| {
        meta(t, "b/f").mtime() != 0
    });
}

/// Whether `path` has the extended attribute `name` (asked through the probe).
fn has_xattr(path: &std::path::Path, name: &str) -> bool {
    common::probe(&["getxattr", path.to_str().unwrap(), name])
        .run()
        .stdout
        .starts_with("ok")
}

#[test]
fn race_setxattr() {
    if !common::require_kernel() {
        return;
    }
    // User attributes need a file system that has them (tmpfs since Linux 6.6).
    let t = two_dirs("xattr-probe");
    let set = common::probe(&["setxattr", &t.p("a/f"), "user.x", "1"]).run();
    if !common::skip_unless(
        set.stdout.starts_with("ok"),
        "no user extended attributes in the temporary directory",
    ) {
        return;
    }
    flip("setxattr", "-", "a/f", "b/f", |t| {
        !has_xattr(&t.root.join("b/f"), "user.race")
    });
}

/// A directory component of an allowed path is swapped for a symlink into the denied
/// directory (`a/d` and `a/s` -> `../b` exchanged by `race-swap` outside the sandbox) while
/// `chmod a/d/f` and `mkdir a/d/x` repeat: `b/` must stay untouched.
#[test]
fn race_symlink_swap() {
    use std::os::unix::fs::MetadataExt;
    if !common::require_kernel() {
        return;
    }
    let t = two_dirs("swap");
    std::fs::create_dir(t.root.join("a/d")).unwrap();
    std::fs::write(t.root.join("a/d/f"), "hello").unwrap();
    std::os::unix::fs::symlink("../b", t.root.join("a/s")).unwrap();
    let stop = t.p("stop");
    let swapper = std::process::Command::new(common::probe_path())
        .args(["race-swap", &t.p("a/d"), &t.p("a/s"), &stop])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let chmod = race_call(&t, "chmod", "-", "a/d/f", "a/d/f");
    let mkdir = race_call(&t, "mkdir", "-", "a/d/x", "a/d/x");
    std::fs::write(&stop, "").unwrap();
    let swaps = swapper.wait_with_output().unwrap();
    let swaps = String::from_utf8_lossy(&swaps.stdout).trim().to_owned();
    let report = format!("chmod {chmod:?}, mkdir {mkdir:?}, {swaps}");
    assert_eq!(meta(&t, "b/f").mode() & 0o7777, 0o644, "{report}");
    assert!(missing(&t, "b/x"), "{report}");
    // Both outcomes happened for chmod (mkdir fails with EEXIST once a/d/x exists).
    assert!(chmod.0 > 0 && chmod.1 > 0, "{report}");
    assert!(
        swaps.starts_with("swaps ") && swaps != "swaps 0",
        "{report}"
    );
}
