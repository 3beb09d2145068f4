//! Start-up (SPEC §1.2–§1.5, §5.7): errors stop syd before the command runs, with exit status
//! 1 and a message naming what was wrong (unknown option, bad `-m`, bad configuration line,
//! missing or misnamed configuration file, everything off, command not found); `@NAME`
//! built-in profiles, `SYDBOX_CONFIG`, options applied left to right, the environment given to
//! the command.
#![cfg(target_arch = "x86_64")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
mod fscommon;

use fscommon::Tree;

/// Runs syd with `args` from the tree `t` (`{T}` replaced), with extra environment.
fn run(t: &Tree, env: &[(&str, &str)], args: &[&str]) -> common::Output {
    let args: Vec<String> = args.iter().map(|a| t.subst(a)).collect();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut r = common::syd(&refs).env_remove("SYDBOX_CONFIG");
    for (k, v) in env {
        r = r.env(k, &t.subst(v));
    }
    r.command().current_dir(&t.root);
    r.run()
}

/// The command every failing start-up must not run: it would create `{T}/ran`.
const TOUCH: [&str; 3] = ["sh", "-c", "echo > {T}/ran"];

#[test]
fn errors_stop_before_the_command() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::empty("errors");
    std::fs::write(
        t.p("bad.syd-2"),
        "# comment\n\ncore/sandbox/write:deny\nallowlist/write+/x\ncore/sandbox/read:nope\n",
    )
    .unwrap();
    std::fs::write(t.p("good.conf"), "core/sandbox/write:deny\n").unwrap();
    std::fs::write(t.p("good.syd-1"), "core/sandbox/write:deny\n").unwrap();
    std::fs::write(t.p("core.syd-2"), "core/sandbox/write:deny\n").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--bogus"], "unknown option"),
        (
            &["-m", "core/sandbox/read:nope"],
            "invalid magic: `core/sandbox/read:nope': invalid value",
        ),
        (
            &["-m", "no/such/key:1"],
            "invalid magic: `no/such/key:1': invalid key",
        ),
        (
            &["-m", "/dev/sydbox/core/sandbox/write:off"],
            "invalid magic: `/dev/sydbox/core/sandbox/write:off': invalid key",
        ),
        (
            &["-c", "{T}/bad.syd-2"],
            "invalid magic in file `{T}/bad.syd-2' on line 5: ",
        ),
        (&["-c", "{T}/missing.syd-2"], "fopen(`{T}/missing.syd-2')"),
        (
            &["-c", "{T}/good.conf"],
            "no API information in file name `{T}/good.conf', current API is 2",
        ),
        (
            &["-c", "{T}/good.syd-1"],
            "config file name `{T}/good.syd-1' API mismatch: 1 != 2",
        ),
        // Only the first configuration file may change core/* keys.
        (
            &["-c", "{T}/core.syd-2", "-c", "{T}/core.syd-2"],
            "invalid magic in file `{T}/core.syd-2' on line 1: ",
        ),
        (&["-M", "4"], ""),
        (
            &[
                "-m",
                "core/sandbox/write:off",
                "-m",
                "core/sandbox/network:off",
            ],
            "All restrict and sandbox options are off.",
        ),
    ];
    for (opts, msg) in cases {
        let mut args: Vec<&str> = opts.to_vec();
        args.push("--");
        args.extend(TOUCH);
        let out = run(&t, &[], &args);
        let msg = t.subst(msg);
        assert_eq!(out.code(), Some(1), "{opts:?}: {out:?}");
        assert!(
            out.stderr
                .lines()
                .any(|l| l.starts_with("sydbox: ") && l.contains(&msg)),
            "{opts:?}: want {msg:?}: {out:?}"
        );
        assert!(!t.root.join("ran").exists(), "{opts:?} ran the command");
    }
    // The refusal names the program.
    let out = run(
        &t,
        &[],
        &[
            "-m",
            "core/sandbox/write:off",
            "-m",
            "core/sandbox/network:off",
            "true",
        ],
    );
    assert_eq!(
        out.stderr,
        "sydbox: All restrict and sandbox options are off.\n\
         sydbox: Refusing to run the program `true'.\n"
    );
    // A command that is not found.
    let out = run(&t, &[], &["--", "no-such-command-here"]);
    assert_eq!(out.code(), Some(1), "{out:?}");
    assert!(
        out.stderr
            .starts_with("sydbox: can't exec `no-such-command-here': "),
        "{out:?}"
    );
    let out = run(&t, &[], &["--", "{T}/missing"]);
    assert_eq!(out.code(), Some(1), "{out:?}");
    assert!(
        out.stderr.contains("{T}/missing") || out.stderr.contains(&t.p("missing")),
        "{out:?}"
    );
}

#[test]
fn configuration_sources() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::new("config");
    std::fs::write(
        t.p("deny.syd-2"),
        t.subst("core/sandbox/write:deny\nallowlist/write+{T}/ok/***\n"),
    )
    .unwrap();
    std::fs::write(t.p("off.syd-2"), "core/sandbox/write:off\n").unwrap();
    let p = common::probe_path();
    let mkdir = |dir: &str| {
        vec![
            p.to_owned(),
            "mkdir".to_owned(),
            t.p(dir),
            "0755".to_owned(),
        ]
    };
    let go = |env: &[(&str, &str)], opts: &[&str], dir: &str| {
        let mut args: Vec<String> = opts.iter().map(|a| (*a).to_owned()).collect();
        args.push("--".to_owned());
        args.extend(mkdir(dir));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&t, env, &refs).stdout
    };
    // -c FILE.
    assert_eq!(go(&[], &["-c", "{T}/deny.syd-2"], "no/a"), "err EPERM\n");
    assert_eq!(go(&[], &["-c", "{T}/deny.syd-2"], "ok/a"), "ok 0\n");
    // Left to right: a later -m overrides the file, a later file overrides -m.
    assert_eq!(
        go(
            &[],
            &["-c", "{T}/deny.syd-2", "-m", "core/sandbox/write:off"],
            "no/b"
        ),
        "ok 0\n"
    );
    assert_eq!(
        go(
            &[],
            &["-m", "core/sandbox/write:off", "-c", "{T}/deny.syd-2"],
            "no/c"
        ),
        "err EPERM\n"
    );
    // SYDBOX_CONFIG when no -c is given, ignored when one is.
    let env = [("SYDBOX_CONFIG", "{T}/deny.syd-2")];
    assert_eq!(go(&env, &[], "no/d"), "err EPERM\n");
    assert_eq!(
        go(&env, &["-m", "core/sandbox/write:allow"], "no/e"),
        "ok 0\n"
    );
    assert_eq!(
        go(&env, &["-c", "{T}/off.syd-2"], "no/f"),
        "ok 0\n",
        "SYDBOX_CONFIG applied despite -c"
    );
    let out = run(&t, &[("SYDBOX_CONFIG", "{T}/missing.syd-2")], &["true"]);
    assert_eq!(out.code(), Some(1), "{out:?}");
    // @paludis: the built-in profile, with no file on disk.
    assert!(!std::path::Path::new("/usr/share/sydbox/paludis.syd-2").exists());
    // It allows /tmp (where the tree is) and denies the rest.
    let outside = |opts: &[&str]| {
        let mut args: Vec<&str> = opts.to_vec();
        args.extend(["--", p, "mkdir", "/var/lib/syd-test-denied", "0755"]);
        run(&t, &[], &args).stdout
    };
    assert_eq!(outside(&["-c", "@paludis"]), "err EPERM\n");
    assert_eq!(outside(&["--profile", "paludis"]), "err EPERM\n");
    assert_eq!(go(&[], &["-c", "@paludis"], "no/g"), "ok 0\n");
    let out = run(&t, &[], &["-c", "@nonesuch", "true"]);
    assert_eq!(out.code(), Some(1), "{out:?}");
    // The command's environment.
    let out = run(&t, &[], &["-E", "FOO=bar", "-E", "HOME", "--", "env"]);
    for want in ["SYDBOX_VERSION=2.2.0", "SYDBOX_API_VERSION=2", "FOO=bar"] {
        assert!(out.stdout.lines().any(|l| l == want), "{want}: {out:?}");
    }
    for name in ["SYDBOX=", "SYDBOX_ACTIVE="] {
        assert!(
            out.stdout
                .lines()
                .any(|l| l.starts_with(name) && l.len() > name.len()),
            "{name}: {out:?}"
        );
    }
    assert!(
        !out.stdout.lines().any(|l| l.starts_with("HOME=")),
        "{out:?}"
    );
}
