//! The manual page's EXAMPLES that tests/seed.rs does not run (it has the `/etc/shadow`, `dd`
//! and `kill_if_match` ones): each run as written, with stand-ins only for programs the test
//! machine lacks (`syd-test-probe` for `torsocks curl` and the test suite).
#![cfg(target_arch = "x86_64")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
mod fscommon;

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;

use common::{probe_path, syd, Output};
use fscommon::Tree;

/// `syd args...` from the directory `dir`.
fn syd_at(dir: &std::path::Path, args: &[&str]) -> common::Run {
    let mut r = syd(args);
    r.command().current_dir(dir);
    r
}

/// Whether `prog` is found in PATH.
fn have(prog: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {prog}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Writes an executable shell script.
fn script(path: &std::path::Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn run_a_program_outside_the_sandbox() {
    if !common::require_kernel() {
        return;
    }
    // $ syd -- sh -c 'stat "$(syd format exec echo hello world)"'
    let inner = format!(
        "stat \"$({} format exec echo hello world)\"",
        common::syd_path()
    );
    let out = syd(&["--", "sh", "-c", &inner]).env("LC_ALL", "C").run();
    assert_eq!(out.code(), Some(0), "{out:?}");
    let mut lines = out.stdout.lines();
    assert_eq!(lines.next(), Some("hello world"), "{out:?}");
    assert!(
        lines
            .next()
            .unwrap()
            .contains("/dev/sydbox/cmd/exec!echo\u{1f}hello\u{1f}world"),
        "{out:?}"
    );
    assert!(out.stdout.contains("character special file"), "{out:?}");
    assert!(out.stdout.contains("Device type: 1,3"), "{out:?}");
    assert!(out.stdout.contains("(0666/crw-rw-rw-)"), "{out:?}");
}

#[test]
fn locked_build_writes_only_below_the_build_directory() {
    if !common::require_kernel()
        || !common::skip_unless(
            have("make") && have("gcc"),
            "make and gcc are not installed",
        )
    {
        return;
    }
    // $ syd -l -m core/sandbox/write:deny -m 'allowlist/write+/tmp/***' \
    //       -m "allowlist/write+$PWD/***" -m allowlist/write+/dev/null -- make -j2
    // As an ordinary user: root's make would need -U 0 -G 0 (identity restriction).
    let t = Tree::empty("locked-make");
    for (name, body) in [
        ("a.c", "int a(void) { return 20; }\n"),
        (
            "main.c",
            "#include <stdio.h>\nint a(void);\nint main(void) { printf(\"%d\\n\", a() + 1); }\n",
        ),
        (
            "Makefile",
            "prog: main.o a.o\n\t$(CC) -o $@ $^\n\
             \t@test -e /dev/sydbox/core/sandbox/write:off || echo locked\n\
             \t@touch /var/tmp/syd-locked-make-$$$$ 2>/dev/null || echo denied\n\
             %.o: %.c\n\t$(CC) -c -o $@ $<\n",
        ),
    ] {
        std::fs::write(t.root.join(name), body).unwrap();
    }
    if common::is_root() {
        t.chown_all(common::NOBODY, common::NOBODY);
    }
    let pwd = format!("allowlist/write+{}/***", t.s());
    let mut run = syd_at(
        &t.root,
        &[
            "-l",
            "-m",
            "core/sandbox/write:deny",
            "-m",
            "allowlist/write+/tmp/***",
            "-m",
            &pwd,
            "-m",
            "allowlist/write+/dev/null",
            "--",
            "make",
            "-s",
            "-j2",
        ],
    )
    .unprivileged();
    run.command().current_dir(&t.root);
    let out = run.run();
    assert_eq!(out.code(), Some(0), "{out:?}");
    assert_eq!(out.stdout, "locked\ndenied\n", "{out:?}");
    let prog = std::process::Command::new(t.root.join("prog"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&prog.stdout), "21\n");
}

#[test]
fn package_build_under_the_paludis_profile() {
    if !common::require_kernel() {
        return;
    }
    // $ syd -c @paludis -- ./build.sh
    let t = Tree::empty("paludis");
    // A directory the profile does not allow: not below /tmp, /var/tmp or /var/cache (the
    // checkout itself may be below /tmp), so at the root when running as root, else in $HOME.
    let base = if common::is_root() {
        std::path::PathBuf::from("/")
    } else {
        std::path::PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/".into()))
    };
    let outside = base.join(format!("syd-paludis-outside-{}", std::process::id()));
    std::fs::create_dir_all(&outside).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let body = format!(
        "set -u\n\
         echo built > {build}/out.o && echo build-dir\n\
         tmp=$(mktemp) && echo x > \"$tmp\" && rm \"$tmp\" && echo tmp\n\
         echo x > /dev/null && echo devnull\n\
         echo x > {outside}/leak 2>/dev/null || echo outside-denied\n\
         {probe} connect inet 127.0.0.1:{port}\n\
         {probe} bind inet 127.0.0.1:0 | cut -d' ' -f1-2\n",
        build = t.s(),
        outside = outside.display(),
        probe = probe_path(),
    );
    script(&t.root.join("build.sh"), &body);
    let out = syd_at(&t.root, &["-c", "@paludis", "--", "./build.sh"])
        .env_remove("SYD_SHAREDIR")
        .run();
    assert_eq!(
        out.stdout, "build-dir\ntmp\ndevnull\noutside-denied\nerr ECONNREFUSED\nok 0\n",
        "{out:?}"
    );
    assert_eq!(out.code(), Some(0), "{out:?}");
    assert_eq!(
        fscommon::contexts(&out.stderr),
        [
            format!("openat(`{}/leak')", outside.display()),
            format!("connect(3, inet:127.0.0.1@{port})"),
        ],
        "{out:?}"
    );
    assert!(!outside.join("leak").exists());
    let _ = std::fs::remove_dir_all(&outside);
    drop(listener);
}

/// Runs `probe argv...` under `syd opts...`.
fn probe(opts: &[&str], argv: &[&str]) -> Output {
    let mut args = opts.to_vec();
    args.push("--");
    args.push(probe_path());
    args.extend_from_slice(argv);
    syd(&args).run()
}

#[test]
fn network_only_to_tor_and_name_service() {
    if !common::require_kernel() {
        return;
    }
    // $ syd -m core/sandbox/network:deny -m allowlist/network/connect+LOOPBACK@9050 \
    //       -m allowlist/network/connect+unix:/run/nscd/socket -- torsocks curl ...
    let opts = [
        "-m",
        "core/sandbox/network:deny",
        "-m",
        "allowlist/network/connect+LOOPBACK@9050",
        "-m",
        "allowlist/network/connect+unix:/run/nscd/socket",
    ];
    // Allowed: whatever the kernel answers (nothing may listen there), no report.
    for argv in [
        &["connect", "inet", "127.0.0.1:9050"][..],
        &["connect", "unix", "/run/nscd/socket"],
    ] {
        let out = probe(&opts, argv);
        assert!(
            fscommon::contexts(&out.stderr).is_empty(),
            "{argv:?}: {out:?}"
        );
        // The kernel's own answer (ECONNREFUSED too when nothing listens): the report tells.
        assert!(
            out.stdout.starts_with("ok ") || out.stdout.starts_with("err E"),
            "{out:?}"
        );
    }
    // Anything else: refused and reported.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let out = probe(&opts, &["connect", "inet", &format!("127.0.0.1:{port}")]);
    assert_eq!(out.stdout, "err ECONNREFUSED\n", "{out:?}");
    assert_eq!(
        fscommon::contexts(&out.stderr),
        [format!("connect(3, inet:127.0.0.1@{port})")]
    );
    let out = probe(&opts, &["connect", "inet", "8.8.8.8:443"]);
    assert_eq!(out.stdout, "err ECONNREFUSED\n", "{out:?}");
}

#[test]
fn test_suite_binds_ephemeral_loopback_ports() {
    if !common::require_kernel() {
        return;
    }
    // $ syd -m core/sandbox/network:deny -m allowlist/network/bind+LOOPBACK@0 -- ./run-tests
    let opts = [
        "-m",
        "core/sandbox/network:deny",
        "-m",
        "allowlist/network/bind+LOOPBACK@0",
    ];
    let out = probe(&opts, &["bind", "inet", "127.0.0.1:0"]);
    assert!(out.stdout.starts_with("ok 0 port="), "{out:?}");
    assert!(fscommon::contexts(&out.stderr).is_empty(), "{out:?}");
    let free = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let out = probe(&opts, &["bind", "inet", &format!("127.0.0.1:{port}")]);
    assert_eq!(out.stdout, "err EADDRNOTAVAIL\n", "{out:?}");
    assert_eq!(
        fscommon::contexts(&out.stderr),
        [format!("bind(3, inet:127.0.0.1@{port})")]
    );
}

#[test]
fn turn_on_read_sandboxing_from_inside() {
    if !common::require_kernel() {
        return;
    }
    let script = "\n    test -e /dev/sydbox/core/sandbox/read:deny\n    \
                  test -e \"/dev/sydbox/core/sandbox/read?\" && echo on";
    let out = syd(&["-m", "core/sandbox/write:deny", "--", "sh", "-c", script]).run();
    assert_eq!(out.stdout, "on\n", "{out:?}");
    assert_eq!(out.code(), Some(0), "{out:?}");
    // And it is on: a later read is denied.
    let script = "test -e /dev/sydbox/core/sandbox/read:deny; cat /etc/hostname >/dev/null";
    let out = syd(&["-m", "core/sandbox/write:deny", "--", "sh", "-c", script]).run();
    assert_ne!(out.code(), Some(0), "{out:?}");
    assert!(!fscommon::contexts(&out.stderr).is_empty(), "{out:?}");
}

#[test]
fn see_what_a_program_would_be_denied() {
    if !common::require_kernel() {
        return;
    }
    // $ syd --dry-run -d 2 -m core/sandbox/write:deny -- ./install.sh
    let t = Tree::empty("install");
    let dest = t.p("dest");
    script(
        &t.root.join("install.sh"),
        &format!("mkdir {dest} && echo data > {dest}/file && echo installed\n"),
    );
    let out = syd_at(
        &t.root,
        &[
            "--dry-run",
            "-d",
            "2",
            "-m",
            "core/sandbox/write:deny",
            "--",
            "./install.sh",
        ],
    )
    .run();
    assert_eq!(out.stdout, "installed\n", "{out:?}");
    assert_eq!(out.code(), Some(0), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(format!("{dest}/file")).unwrap(),
        "data\n"
    );
    assert_eq!(
        fscommon::contexts(&out.stderr),
        [format!("mkdir(`{dest}')"), format!("openat(`{dest}/file')")]
    );
    let json: Vec<&str> = out.stderr.lines().filter(|l| l.starts_with('{')).collect();
    assert!(json[0].starts_with("{\"id\":0,\"syd\":2,"), "{out:?}");
    let oops: Vec<&&str> = json.iter().filter(|l| l.contains("\"id\":15,")).collect();
    assert_eq!(oops.len(), 2, "{out:?}");
    assert!(
        oops[0].contains(&format!("\"syd\":\"mkdir(`{dest}')\"")),
        "{out:?}"
    );
    assert!(
        oops[1].contains(&format!("\"syd\":\"openat(`{dest}/file')\"")),
        "{out:?}"
    );
    assert!(
        json.last().unwrap().contains("\"name\":\"exit\""),
        "{out:?}"
    );
}

#[test]
fn write_the_filter_without_running_anything() {
    if !common::require_kernel() {
        return;
    }
    // $ syd -m core/restrict/general:2 -e pfc:filter.txt noexec
    let t = Tree::empty("noexec");
    let out = syd_at(
        &t.root,
        &[
            "-m",
            "core/restrict/general:2",
            "-e",
            "pfc:filter.txt",
            "noexec",
        ],
    )
    .env_remove("SYDBOX_NOEXEC")
    .run();
    assert_eq!((out.code(), out.stdout.as_str()), (Some(0), ""), "{out:?}");
    let text = std::fs::read_to_string(t.root.join("filter.txt")).unwrap();
    assert!(text.starts_with("# pseudo filter code start\n"), "{text}");
    assert!(
        text.contains("# default action\naction ERRNO(1);\n"),
        "{text}"
    );
    assert!(text.ends_with("# pseudo filter code end\n"), "{text}");
}
