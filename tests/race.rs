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
