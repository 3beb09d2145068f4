//! Read sandboxing through the real `syd` (SPEC §2.10, §2.12, §6.6): the open family classified
//! by flags, the access family (EACCES, silent unless `raise_safe`), listxattr/llistxattr
//! (ENOTSUP, silent), chdir/fchdir (EACCES, reported) and the `-D` confinement; the `bpf` state
//! (EPERM in the kernel, no report); per-process directories of traced tasks under `/proc`.
#![cfg(target_arch = "x86_64")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
mod fscommon;

use fscommon::{c, cm, run_table};

/// Read sandboxing on, `ok/` allowlisted, write sandboxing off.
const R: &[&str] = &[
    "core/sandbox/write:off",
    "core/sandbox/read:deny",
    "allowlist/read+{T}/ok/***",
];
const RAISE_SAFE: &[&str] = &["core/violation/raise_safe:true"];

#[test]
fn open_family() {
    run_table(
        "ropen",
        R,
        &[
            c("open {T}/ok/file O_RDONLY", "ok *", &[]),
            c(
                "open {T}/no/file O_RDONLY",
                "err EPERM",
                &["open(`{T}/no/file')"],
            ),
            c("open no/file O_RDONLY", "err EPERM", &["open(`no/file')"]),
            c("open {T}/no/file O_WRONLY", "ok *", &[]),
            c(
                "open {T}/no/file O_RDWR",
                "err EPERM",
                &["open(`{T}/no/file')"],
            ),
            c(
                "open {T}/no/file O_RDONLY|O_CREAT 0600",
                "err EPERM",
                &["open(`{T}/no/file')"],
            ),
            c(
                "open {T}/no O_PATH|O_DIRECTORY",
                "err EPERM",
                &["open(`{T}/no')"],
            ),
            c(
                "open {T}/ok/link_to_no O_RDONLY",
                "err EPERM",
                &["open(`{T}/ok/link_to_no')"],
            ),
            c("open {T}/no/link_to_ok O_RDONLY", "ok *", &[]),
            c(
                "open {T}/ok/dirlink_to_no/file O_RDONLY",
                "err EPERM",
                &["open(`{T}/ok/dirlink_to_no/file')"],
            ),
            // Type checks of denied opens: the kernel's errno, silently.
            c("open {T}/no/link O_RDONLY|O_NOFOLLOW", "err ELOOP", &[]),
            cm(
                RAISE_SAFE,
                "open {T}/no/link O_RDONLY|O_NOFOLLOW",
                "err ELOOP",
                &["open(`{T}/no/link')"],
            ),
            c("open {T}/no/file O_RDONLY|O_DIRECTORY", "err ENOTDIR", &[]),
            c(
                "open {T}/no/dir O_RDONLY|O_DIRECTORY",
                "err EPERM",
                &["open(`{T}/no/dir')"],
            ),
            c("open {T}/no/missing O_RDONLY", "err ENOENT", &[]),
            c("open {T}/ok/missing O_RDONLY", "err ENOENT", &[]),
            c(
                "openat AT_FDCWD {T}/no/file O_RDONLY",
                "err EPERM",
                &["openat(`{T}/no/file')"],
            ),
            c(
                "openat AT_FDCWD no/file O_RDONLY",
                "err EPERM",
                &["openat(`no/file')"],
            ),
            c("openat open:{T}/ok file O_RDONLY", "ok *", &[]),
            c(
                "openat open:{T}/ok ../no/file O_RDONLY",
                "err EPERM",
                &["openat(`../no/file', prefix=`{T}/ok')"],
            ),
            c(
                "openat open:{T}/ok {T}/no/file O_RDONLY",
                "err EPERM",
                &["openat(`{T}/no/file')"],
            ),
            c("openat2 AT_FDCWD {T}/ok/file O_RDONLY 0 0", "ok *", &[]),
            c(
                "openat2 AT_FDCWD {T}/no/file O_RDONLY 0 0",
                "err EPERM",
                &["openat2(`{T}/no/file')"],
            ),
            c(
                "openat2 open:{T}/ok ../no/file O_RDONLY 0 RESOLVE_NO_SYMLINKS",
                "err EPERM",
                &["openat2(`../no/file', prefix=`{T}/ok')"],
            ),
            c(
                "openat2 open:{T}/ok file O_RDONLY 0 RESOLVE_BENEATH",
                "ok *",
                &[],
            ),
            c(
                "openat2 open:{T}/ok ../ok/file O_RDONLY 0 RESOLVE_BENEATH",
                "err EXDEV",
                &[],
            ),
            // RESOLVE_IN_ROOT: an absolute path starts at the dirfd.
            c(
                "openat2 open:{T}/ok /file O_RDONLY 0 RESOLVE_IN_ROOT",
                "ok *",
                &[],
            ),
            c(
                "3<{T}/no openat2 3 /file O_RDONLY 0 RESOLVE_IN_ROOT",
                "err EPERM",
                &["openat2(*"],
            ),
            // Flag bits open(2) ignores are ignored when the supervisor opens for the tracee.
            c("open {T}/ok/file O_RDONLY|0x40000000", "ok *", &[]),
            // Calls that are not read-sandboxed.
            c("getxattr {T}/no/file user.a", "ok 1 value=v", &[]),
            c("readlink {T}/no/link", "ok 4 target=file", &[]),
            c("stat {T}/no/file", "ok 0 * * * *", &[]),
            // Descriptors opened outside the sandbox are not checked again.
            c("3<{T}/no/file fchmod 3 0600", "ok 0", &[]),
        ],
    );
}

#[test]
fn access_listxattr() {
    run_table(
        "raccess",
        R,
        &[
            c("access {T}/ok/file R_OK", "ok 0", &[]),
            // Every mode is a read check; denials are EACCES and silent.
            c("access {T}/no/file F_OK", "err EACCES", &[]),
            c("access {T}/no/file R_OK", "err EACCES", &[]),
            c("access {T}/no/file W_OK", "err EACCES", &[]),
            c("access {T}/no/file X_OK", "err EACCES", &[]),
            cm(
                RAISE_SAFE,
                "access {T}/no/file R_OK",
                "err EACCES",
                &["access(`{T}/no/file')"],
            ),
            c("access {T}/no/missing F_OK", "err ENOENT", &[]),
            c("faccessat AT_FDCWD {T}/no/file R_OK", "err EACCES", &[]),
            c("faccessat open:{T}/ok file R_OK", "ok 0", &[]),
            cm(
                RAISE_SAFE,
                "faccessat open:{T}/ok ../no/file R_OK",
                "err EACCES",
                &["faccessat(`../no/file', prefix=`{T}/ok')"],
            ),
            c(
                "faccessat2 AT_FDCWD {T}/ok/link_to_no F_OK 0",
                "err EACCES",
                &[],
            ),
            c(
                "faccessat2 AT_FDCWD {T}/ok/link_to_no F_OK AT_SYMLINK_NOFOLLOW",
                "ok 0",
                &[],
            ),
            c(
                "3<{T}/no/file faccessat2 3 '' F_OK AT_EMPTY_PATH",
                "err EACCES",
                &[],
            ),
            c(
                "3<{T}/ok/file faccessat2 3 '' F_OK AT_EMPTY_PATH",
                "ok 0",
                &[],
            ),
            cm(
                RAISE_SAFE,
                "3<{T}/no/file faccessat2 3 '' R_OK AT_EMPTY_PATH",
                "err EACCES",
                &["faccessat2(*"],
            ),
            c("listxattr {T}/ok/file", "ok * names=user.a", &[]),
            c("listxattr {T}/no/file", "err ENOTSUP", &[]),
            cm(
                RAISE_SAFE,
                "listxattr {T}/no/file",
                "err ENOTSUP",
                &["listxattr(`{T}/no/file')"],
            ),
            c("listxattr {T}/ok/link_to_no", "err ENOTSUP", &[]),
            c("llistxattr {T}/ok/link_to_no", "ok 0 names=", &[]),
            c("llistxattr {T}/no/link_to_ok", "err ENOTSUP", &[]),
        ],
    );
}

#[test]
fn chdir_fchdir() {
    run_table(
        "rchdir",
        R,
        &[
            c("chdir {T}/ok/dir", "ok 0", &[]),
            c("chdir {T}/no/dir", "err EACCES", &["chdir(`{T}/no/dir')"]),
            c("chdir no/dir", "err EACCES", &["chdir(`no/dir')"]),
            c(
                "chdir {T}/ok/dirlink_to_no",
                "err EACCES",
                &["chdir(`{T}/ok/dirlink_to_no')"],
            ),
            c("chdir {T}/no/missing", "err ENOENT", &[]),
            c("fchdir open:{T}/ok/dir", "ok 0", &[]),
            c("3<{T}/no/dir fchdir 3", "err EACCES", &["fchdir(?)"]),
            // -D confines chdir to the directory given, whatever the lists say.
            cm(
                &["-D{T}/ok", "allowlist/read+{T}/***"],
                "chdir {T}/no/dir",
                "err EACCES",
                &["chdir(`{T}/no/dir')"],
            ),
            cm(
                &["-D{T}/ok", "allowlist/read+{T}/***"],
                "chdir dir",
                "ok 0",
                &[],
            ),
            cm(
                &["-D{T}/ok", "allowlist/read+{T}/***"],
                "chdir ..",
                "err EACCES",
                &["chdir(`..')"],
            ),
            cm(
                &["-D{T}/ok", "allowlist/read+{T}/***"],
                "3<{T}/no/dir fchdir 3",
                "err EACCES",
                &["fchdir(?)"],
            ),
        ],
    );
}

#[test]
fn states_and_proc() {
    run_table(
        "rstates",
        &["core/sandbox/write:off"],
        &[
            cm(
                &["core/sandbox/read:off"],
                "open {T}/no/file O_RDONLY",
                "ok *",
                &[],
            ),
            cm(
                &["core/sandbox/read:allow"],
                "open {T}/no/file O_RDONLY",
                "ok *",
                &[],
            ),
            cm(
                &["core/sandbox/read:allow", "denylist/read+{T}/no/***"],
                "open {T}/no/file O_RDONLY",
                "err EPERM",
                &["open(`{T}/no/file')"],
            ),
            cm(
                &[
                    "core/sandbox/read:allow",
                    "denylist/read+{T}/no/***",
                    "filter/read+{T}/no/f*",
                ],
                "open {T}/no/file O_RDONLY",
                "err EPERM",
                &[],
            ),
            cm(
                &["core/sandbox/read:allow", "denylist/read+{T}/no/***"],
                "access {T}/no/file R_OK",
                "err EACCES",
                &[],
            ),
            // bpf: EPERM from the kernel for reading opens, F_OK/R_OK, chdir, listxattr,
            // openat2; nothing reported.
            cm(
                &["core/sandbox/read:bpf"],
                "open {T}/ok/file O_RDONLY",
                "err EPERM",
                &[],
            ),
            cm(
                &["core/sandbox/read:bpf"],
                "open {T}/ok/file O_RDWR",
                "err EPERM",
                &[],
            ),
            cm(
                &["core/sandbox/read:bpf"],
                "open {T}/ok/file O_WRONLY",
                "ok *",
                &[],
            ),
            cm(
                &["core/sandbox/read:bpf"],
                "access {T}/ok/file F_OK",
                "err EPERM",
                &[],
            ),
            cm(
                &["core/sandbox/read:bpf"],
                "access {T}/ok/file R_OK",
                "err EPERM",
                &[],
            ),
            cm(
                &["core/sandbox/read:bpf"],
                "chdir {T}/ok/dir",
                "err EPERM",
                &[],
            ),
            cm(
                &["core/sandbox/read:bpf"],
                "listxattr {T}/ok/file",
                "err EPERM",
                &[],
            ),
            cm(
                &["core/sandbox/read:bpf"],
                "openat2 AT_FDCWD {T}/ok/file O_WRONLY 0 0",
                "err EPERM",
                &[],
            ),
            // Per-process directories: /proc/<id> of traced tasks is allowed in deny state.
            cm(
                &["core/sandbox/read:deny"],
                "open /proc/self/status O_RDONLY",
                "ok *",
                &[],
            ),
            cm(
                &["core/sandbox/read:deny"],
                "open /proc/self O_RDONLY|O_DIRECTORY",
                "ok *",
                &[],
            ),
            cm(
                &["core/sandbox/read:deny"],
                "open /proc/thread-self/stat O_RDONLY",
                "ok *",
                &[],
            ),
            cm(
                &[
                    "core/sandbox/read:deny",
                    "core/allowlist/per_process_directories:false",
                ],
                "open /proc/self/status O_RDONLY",
                "err EPERM",
                &["open(`/proc/self/status')"],
            ),
            cm(
                &["core/sandbox/read:deny"],
                "open /proc/1/status O_RDONLY",
                "err EPERM",
                &["open(`/proc/1/status')"],
            ),
            cm(
                &["core/sandbox/read:deny", "denylist/read+/proc/*/status"],
                "open /proc/self/status O_RDONLY",
                "err EPERM",
                &["open(`/proc/self/status')"],
            ),
        ],
    );
}

/// With `-C`, the supervisor's opens for the tracee happen inside the tracee's root, and the
/// lists name paths as the tracee sees them.
#[test]
fn chroot_opens_inside_the_root() {
    if !common::require_kernel() || !common::skip_unless(common::is_root(), "chroot needs root") {
        return;
    }
    let t = fscommon::Tree::new("chroot");
    let root = t.p("no");
    std::fs::copy(common::probe_path(), t.p("no/probe")).unwrap();
    let run = |magic: &[&str], argv: &str| {
        let mut args = vec!["-C".to_owned(), root.clone()];
        args.extend(
            magic
                .iter()
                .flat_map(|m| ["-m".to_owned(), (*m).to_owned()]),
        );
        args.push("--".to_owned());
        args.push("/probe".to_owned());
        args.extend(fscommon::words(argv));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        common::syd(&refs).run()
    };
    let w = ["core/sandbox/write:deny", "allowlist/write+/dir/***"];
    let out = run(&w, "open /dir/new O_WRONLY|O_CREAT 0600");
    assert!(out.stdout.starts_with("ok "), "{out:?}");
    assert!(std::path::Path::new(&t.p("no/dir/new")).exists(), "{out:?}");
    let out = run(&w, "open /file O_WRONLY");
    assert_eq!(out.stdout, "err EPERM\n", "{out:?}");
    assert_eq!(fscommon::contexts(&out.stderr), ["open(`/file')"]);
    let r = ["core/sandbox/read:deny", "allowlist/read+/file"];
    let out = run(&r, "open /file O_RDONLY");
    assert!(out.stdout.starts_with("ok "), "{out:?}");
    let out = run(&r, "open /link O_RDONLY");
    assert!(out.stdout.starts_with("ok "), "{out:?}");
    let out = run(&r, "open /full/x O_RDONLY");
    assert_eq!(out.stdout, "err EPERM\n", "{out:?}");
}

/// A list that allows every path (`allowlist/read+/***`) leaves opens to the kernel (nothing
/// to check, nothing to race): a deny rule after it, given at start-up or at run time, must
/// bring the checks back.
#[test]
fn every_path_allowed_until_a_deny_rule_follows() {
    if !common::require_kernel() {
        return;
    }
    let t = fscommon::Tree::new("allowall");
    let no = t.p("no/file");
    let deny = format!("denylist/read+{}/no/***", t.root.display());
    let base = ["-m", "core/sandbox/read:deny", "-m", "allowlist/read+/***"];
    // Allowed: read as natively, no report.
    let script = format!("cat {no}");
    let mut args: Vec<&str> = base.to_vec();
    args.extend(["--", "sh", "-c", &script]);
    let out = common::syd(&args).run();
    assert_eq!(
        (out.code(), out.stdout.as_str()),
        (Some(0), "data\n"),
        "{out:?}"
    );
    assert!(fscommon::contexts(&out.stderr).is_empty(), "{out:?}");
    // A deny rule at start-up, after the allow-all rule.
    let mut args: Vec<&str> = base.to_vec();
    args.extend(["-m", &deny, "--", "sh", "-c", &script]);
    let out = common::syd(&args).run();
    assert_ne!(out.code(), Some(0), "{out:?}");
    assert_eq!(fscommon::contexts(&out.stderr), [format!("openat(`{no}')")]);
    // The same rule added at run time: the first read passes, the second is denied.
    let script = format!("cat {no} && test -e '/dev/sydbox/{deny}' && cat {no}");
    let mut args: Vec<&str> = base.to_vec();
    args.extend(["--", "sh", "-c", &script]);
    let out = common::syd(&args).run();
    assert_eq!(out.stdout, "data\n", "{out:?}");
    assert_ne!(out.code(), Some(0), "{out:?}");
    assert_eq!(fscommon::contexts(&out.stderr), [format!("openat(`{no}')")]);
}
