//! The same sandboxing as an ordinary user (uid 65534 when the tests run as root): write
//! allow/deny with reports, read denials, exec denials, magic stat, the open race, and files the
//! supervisor creates for the tracee owned by the tracee.
#![cfg(target_arch = "x86_64")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
mod fscommon;

use std::os::unix::fs::MetadataExt;

use fscommon::{c, cm, run_table_as, run_table_with, As};

const W: &[&str] = &["core/sandbox/write:deny", "allowlist/write+{T}/ok/***"];

#[test]
fn write_read_and_magic() {
    run_table_as(
        "nobody",
        W,
        &[
            c("mkdir {T}/ok/d 0755", "ok 0", &[]),
            c("mkdir {T}/no/d 0755", "err EPERM", &["mkdir(`{T}/no/d')"]),
            c("mkdir {T}/no/dir 0755", "err EEXIST", &[]),
            c("open {T}/ok/new O_WRONLY|O_CREAT 0600", "ok *", &[]),
            c(
                "open {T}/no/file O_WRONLY",
                "err EPERM",
                &["open(`{T}/no/file')"],
            ),
            c(
                "openat open:{T}/no file O_RDWR",
                "err EPERM",
                &["openat(`file', prefix=`{T}/no')"],
            ),
            c("unlink {T}/ok/file", "ok 0", &[]),
            c(
                "rename {T}/ok/file {T}/no/x",
                "err EPERM",
                &["rename(?, `{T}/no/x')"],
            ),
            c(
                "symlink x {T}/no/l",
                "err EPERM",
                &["symlink(?, `{T}/no/l')"],
            ),
            c("access {T}/no/file W_OK", "err EACCES", &[]),
            cm(
                &["core/sandbox/write:allow", "denylist/write+{T}/no/***"],
                "truncate {T}/no/file 0",
                "err EPERM",
                &["truncate(`{T}/no/file')"],
            ),
            cm(
                &["core/sandbox/write:allow"],
                "truncate {T}/no/file 0",
                "ok 0",
                &[],
            ),
            // The kernel's own permission checks still apply to allowed calls.
            c("open /etc/shadow O_RDONLY", "err EACCES", &[]),
            cm(
                &["allowlist/write+/etc/***"],
                "open /etc/passwd O_WRONLY",
                "err EACCES",
                &[],
            ),
            cm(
                &["core/sandbox/read:deny", "allowlist/read+{T}/ok/***"],
                "open {T}/no/file O_RDONLY",
                "err EPERM",
                &["open(`{T}/no/file')"],
            ),
            cm(
                &["core/sandbox/read:deny", "allowlist/read+{T}/ok/***"],
                "open {T}/ok/file O_RDONLY",
                "ok *",
                &[],
            ),
            cm(
                &["core/sandbox/read:deny", "allowlist/read+{T}/ok/***"],
                "chdir {T}/no/dir",
                "err EACCES",
                &["chdir(`{T}/no/dir')"],
            ),
            c(
                "stat /dev/sydbox/core/sandbox/write?",
                "ok 0 mode=0o20666 uid=0 gid=0 size=0",
                &[],
            ),
            c("stat /dev/sydbox/core/sandbox/exec?", "err ENOENT", &[]),
            c("stat /dev/sydbox/bad", "err EINVAL", &[]),
            cm(&["-l"], "stat /dev/sydbox", "err ENOENT", &[]),
        ],
        As::Nobody,
    );
}

#[test]
fn exec() {
    run_table_with(
        "nobodyx",
        &["core/sandbox/exec:deny", "allowlist/exec+{T}/ok/***"],
        &[
            c("execve {T}/ok/probe getpid", "ok *", &[]),
            c(
                "execve {T}/no/probe getpid",
                "err EACCES",
                &["execve(`{T}/no/probe')"],
            ),
        ],
        As::Nobody,
        &|t| t.add_probes(),
    );
}

/// A file the supervisor creates for the tracee belongs to the tracee, with its umask applied,
/// and the supervisor creates nothing the tracee itself could not.
#[test]
fn created_files_belong_to_the_caller() {
    if !common::require_kernel() {
        return;
    }
    let t = fscommon::Tree::new("owner");
    if common::is_root() {
        t.chown_all(common::NOBODY, common::NOBODY);
    }
    let probe = common::probe_path_for_everyone()
        .to_str()
        .unwrap()
        .to_owned();
    let args = |opts: &[&str], path: &str| -> Vec<String> {
        let mut a: Vec<String> = opts.iter().map(|o| (*o).to_owned()).collect();
        a.extend([
            "-m".to_owned(),
            "core/sandbox/write:deny".to_owned(),
            "-m".to_owned(),
            format!("allowlist/write+{}/ok/***", t.s()),
            "-m".to_owned(),
            "allowlist/write+/etc/syd-test-*".to_owned(),
            "--".to_owned(),
            "sh".to_owned(),
            "-c".to_owned(),
            format!("umask 027; {probe} open {path} 'O_WRONLY|O_CREAT' 0666"),
        ]);
        a
    };
    let run = |a: Vec<String>, unprivileged: bool| {
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        let r = common::syd(&refs);
        if unprivileged {
            r.unprivileged().run()
        } else {
            r.run()
        }
    };
    let me = if common::is_root() {
        common::NOBODY
    } else {
        std::fs::metadata("/proc/self").unwrap().uid()
    };
    // syd run by the user.
    let out = run(args(&[], &t.p("ok/new")), true);
    assert!(out.stdout.starts_with("ok "), "{out:?}");
    let m = std::fs::metadata(t.p("ok/new")).unwrap();
    assert_eq!(
        (m.uid(), m.gid(), m.mode() & 0o777),
        (me, me, 0o640),
        "{out:?}"
    );
    if !common::is_root() {
        return;
    }
    // syd run by root, the command as the user (-U/-G): the supervisor opens with the
    // command's identity.
    let n = common::NOBODY.to_string();
    let ids = ["-U", n.as_str(), "-G", n.as_str()];
    let out = run(args(&ids, &t.p("ok/new2")), false);
    assert!(out.stdout.starts_with("ok "), "{out:?}");
    let m = std::fs::metadata(t.p("ok/new2")).unwrap();
    assert_eq!(
        (m.uid(), m.gid(), m.mode() & 0o777),
        (me, me, 0o640),
        "{out:?}"
    );
    let secret = format!("/etc/syd-test-{}", std::process::id());
    let out = run(args(&ids, &secret), false);
    assert_eq!(out.stdout, "err EACCES\n", "{out:?}");
    assert!(!std::path::Path::new(&secret).exists());
    let out = run(args(&ids, "/etc/shadow"), false);
    assert_eq!(out.stdout, "err EPERM\n", "{out:?}");
}

/// A root command that dropped CAP_DAC_OVERRIDE does not get it back when the supervisor opens
/// files for it.
#[test]
fn dropped_capabilities_stay_dropped() {
    if !common::require_kernel() || !common::skip_unless(common::is_root(), "needs root") {
        return;
    }
    let t = fscommon::Tree::new("caps");
    let locked = t.p("ok/locked");
    std::fs::write(&locked, "secret\n").unwrap();
    std::os::unix::fs::chown(&locked, Some(common::NOBODY), Some(common::NOBODY)).unwrap();
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    let drop = [
        "setpriv",
        "--bounding-set",
        "-dac_override,-dac_read_search",
        "--inh-caps",
        "-dac_override,-dac_read_search",
        "--",
    ];
    let allow = format!("allowlist/write+{}/***", t.s());
    let run = |drop_caps: bool| {
        let mut args = vec!["-m", "core/sandbox/write:deny", "-m", &allow, "--"];
        if drop_caps {
            args.extend(drop);
        }
        args.extend([common::probe_path(), "open", &locked, "O_WRONLY"]);
        common::syd(&args).run()
    };
    let out = run(true);
    assert_eq!(out.stdout, "err EACCES\n", "{out:?}");
    let out = run(false);
    assert!(out.stdout.starts_with("ok "), "{out:?}");
}
