//! The manual page's invocation examples, run as written (SPEC §7.3 report format, §2.11
//! `kill_if_match`): the `/etc/shadow` read denial with its exact report, the `dd` run with
//! reads and writes denied but for what it needs, and killing a program by path.
#![cfg(target_arch = "x86_64")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
mod fscommon;

use std::os::unix::fs::PermissionsExt;

use fscommon::Tree;

/// Whether `line` is `sydbox@<digits>: ` followed by `body`.
fn report_line(line: &str, body: &str) -> bool {
    line.strip_prefix("sydbox@")
        .and_then(|r| r.split_once(": "))
        .is_some_and(|(t, b)| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()) && b == body)
}

#[test]
fn etc_shadow() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::empty("shadow");
    let mut run = common::syd(&[
        "-E",
        "LC_ALL=POSIX",
        "-m",
        "core/sandbox/read:allow",
        "-m",
        "denylist/read+/etc/shadow",
        "--",
        "/bin/sh",
        "-c",
        "cat /etc/shadow",
    ]);
    run.command().current_dir(&t.root);
    let out = run.run();
    assert_eq!(out.code(), Some(1), "{out:?}");
    assert_eq!(out.stdout, "", "{out:?}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 6, "{out:?}");
    let pid_line = lines[1]
        .split_once(": ")
        .map(|(_, b)| b)
        .unwrap_or_default()
        .to_owned();
    let pid = pid_line
        .strip_prefix("process id=")
        .and_then(|r| r.strip_suffix(" (abi=0 name:`cat')"))
        .unwrap_or_else(|| panic!("{out:?}"));
    assert!(pid.parse::<u32>().is_ok(), "{out:?}");
    let want = [
        "-- Access Violation! --".to_owned(),
        pid_line.clone(),
        format!("cwd: `{}'", t.s()),
        "cmdline: `cat /etc/shadow'".to_owned(),
        "openat(`/etc/shadow')".to_owned(),
    ];
    for (line, body) in lines.iter().zip(&want) {
        assert!(report_line(line, body), "{line:?} is not {body:?}: {out:?}");
    }
    // All report lines carry the same time.
    let time = |l: &str| l.split_once(':').map(|x| x.0.to_owned());
    assert!(
        lines[..5].iter().all(|l| time(l) == time(lines[0])),
        "{out:?}"
    );
    assert_eq!(lines[5], "cat: /etc/shadow: Operation not permitted");

    // Without the sandbox (and as root) the same command reads the file.
    if common::is_root() {
        let out = common::Run::new("/bin/sh", &["-c", "cat /etc/shadow"]).run();
        assert_eq!(out.code(), Some(0), "{out:?}");
    }
}

#[test]
fn dd_to_dev_full() {
    if !common::require_kernel() {
        return;
    }
    let out = common::syd(&[
        "-E",
        "LC_ALL=POSIX",
        "-m",
        "core/sandbox/read:deny",
        "-m",
        "core/sandbox/write:deny",
        "-m",
        "allowlist/read+/lib*/***",
        "-m",
        "allowlist/read+/usr/***",
        "-m",
        "allowlist/read+/etc/***",
        "-m",
        "allowlist/read+/dev/zero",
        "-m",
        "allowlist/write+/dev/full",
        "--",
        "dd",
        "if=/dev/zero",
        "of=/dev/full",
        "count=1",
    ])
    .run();
    assert_eq!(out.code(), Some(1), "{out:?}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        lines.get(..3),
        Some(
            &[
                "dd: writing to '/dev/full': No space left on device",
                "1+0 records in",
                "0+0 records out",
            ][..]
        ),
        "{out:?}"
    );
    assert!(fscommon::reports(&out.stderr).is_empty(), "{out:?}");

    // The same without the write allowlist: dd cannot open its output.
    let out = common::syd(&[
        "-E",
        "LC_ALL=POSIX",
        "-m",
        "core/sandbox/read:deny",
        "-m",
        "core/sandbox/write:deny",
        "-m",
        "allowlist/read+/lib*/***",
        "-m",
        "allowlist/read+/usr/***",
        "-m",
        "allowlist/read+/etc/***",
        "-m",
        "allowlist/read+/dev/zero",
        "--",
        "dd",
        "if=/dev/zero",
        "of=/dev/full",
        "count=1",
    ])
    .run();
    assert_eq!(out.code(), Some(1), "{out:?}");
    assert_eq!(
        fscommon::contexts(&out.stderr),
        ["openat(`/dev/full')"],
        "{out:?}"
    );
    assert!(
        out.stderr
            .contains("dd: failed to open '/dev/full': Operation not permitted"),
        "{out:?}"
    );
}

/// `-m exec/kill_if_match+.../ktorrent -- /bin/sh -c ktorrent`: the shell's child is killed
/// when it execs the program found in PATH; the shell itself (the initial exec) runs.
#[test]
fn kill_ktorrent() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::empty("ktorrent");
    let bin = t.root.join("bin");
    std::fs::create_dir(&bin).unwrap();
    let prog = bin.join("ktorrent");
    std::fs::write(&prog, "#!/bin/sh\necho torrents\n").unwrap();
    std::fs::set_permissions(&prog, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let mut run = common::syd(&[
        "-E",
        "LC_ALL=POSIX",
        "-E",
        &format!("PATH={path}"),
        "-m",
        &format!("exec/kill_if_match+{}", prog.display()),
        "-m",
        "exec/kill_if_match+/usr/bin/rtorrent",
        "--",
        "/bin/sh",
        "-c",
        "ktorrent",
    ]);
    run.command().current_dir(&t.root);
    let out = run.run();
    assert_eq!(out.stdout, "", "{out:?}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    let p = prog.display();
    assert!(
        report_line(
            lines[0],
            &format!("callback_exec: kill_if_match pattern=`{p}' matches execve path=`{p}'")
        ),
        "{out:?}"
    );
    let kill = lines[1].split_once(": ").unwrap().1;
    assert!(
        kill.starts_with("callback_exec: killing process:"),
        "{out:?}"
    );
    assert!(
        kill.ends_with(&format!(" [abi:0 cwd:`{}']", t.s())),
        "{out:?}"
    );
    // dash runs a lone command with exec: the killed process is the eldest.
    assert_eq!(out.code(), Some(137), "{out:?}");
}
