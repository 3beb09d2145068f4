//! Write sandboxing through the real `syd` (SPEC §2.7–§2.10, §2.12): every write-sandboxed
//! syscall of x86_64 made raw by `syd-test-probe`, allowed and denied, with the errno the probe
//! saw and the exact violation reports: type checks (EEXIST, ENOTDIR, ENOTEMPTY, EISDIR, ELOOP)
//! are silent unless `raise_safe`, resolution failures unless `raise_fail`; relative paths of
//! `*at` calls report the dirfd as `prefix=`; final symlinks are followed or not per call; the
//! second path of `link`/`rename` is checked only when the first is allowed.
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

/// Write sandboxing on, `ok/` allowlisted.
const W: &[&str] = &["core/sandbox/write:deny", "allowlist/write+{T}/ok/***"];
const RAISE_SAFE: &[&str] = &["core/violation/raise_safe:true"];
const RAISE_FAIL: &[&str] = &["core/violation/raise_fail:true"];

#[test]
fn mkdir_mknod() {
    run_table(
        "mkdir",
        W,
        &[
            c("mkdir {T}/ok/d 0755", "ok 0", &[]),
            c("mkdir {T}/no/d 0755", "err EPERM", &["mkdir(`{T}/no/d')"]),
            c(
                "mkdir {T}/ok/../no/d 0755",
                "err EPERM",
                &["mkdir(`{T}/ok/../no/d')"],
            ),
            c(
                "mkdir {T}/ok/dirlink_to_no/d 0755",
                "err EPERM",
                &["mkdir(`{T}/ok/dirlink_to_no/d')"],
            ),
            c("mkdir no/d 0755", "err EPERM", &["mkdir(`no/d')"]),
            c("mkdir ok/d 0755", "ok 0", &[]),
            // Existing: EEXIST, silent unless raise_safe (SPEC §2.12); the final symlink is not
            // followed, so a dangling one exists too.
            c("mkdir {T}/no/dir 0755", "err EEXIST", &[]),
            c("mkdir {T}/no/dangling 0755", "err EEXIST", &[]),
            cm(
                RAISE_SAFE,
                "mkdir {T}/no/dir 0755",
                "err EEXIST",
                &["mkdir(`{T}/no/dir')"],
            ),
            c("mkdir {T}/ok/dir 0755", "err EEXIST", &[]),
            c("mkdirat AT_FDCWD {T}/ok/d 0755", "ok 0", &[]),
            c(
                "mkdirat AT_FDCWD {T}/no/d 0755",
                "err EPERM",
                &["mkdirat(`{T}/no/d')"],
            ),
            c(
                "mkdirat AT_FDCWD no/d 0755",
                "err EPERM",
                &["mkdirat(`no/d')"],
            ),
            c("mkdirat open:{T}/ok d 0755", "ok 0", &[]),
            c(
                "mkdirat open:{T}/no d 0755",
                "err EPERM",
                &["mkdirat(`d', prefix=`{T}/no')"],
            ),
            c(
                "mkdirat open:{T}/ok ../no/d 0755",
                "err EPERM",
                &["mkdirat(`../no/d', prefix=`{T}/ok')"],
            ),
            c("mkdirat open:{T}/no {T}/ok/d 0755", "ok 0", &[]),
            c("mkdirat open:{T}/no dir 0755", "err EEXIST", &[]),
            // A bad dirfd, an unreadable or NULL pointer: the kernel's errno, silent unless
            // raise_fail.
            c("mkdirat 99 d 0755", "err EBADF", &[]),
            c("mkdirat -5 d 0755", "err EBADF", &[]),
            cm(RAISE_FAIL, "mkdirat 99 d 0755", "err EBADF", &["mkdirat(*"]),
            c("mkdir BADPTR 0755", "err EFAULT", &[]),
            c("mkdir NULL 0755", "err EFAULT", &[]),
            cm(RAISE_FAIL, "mkdir BADPTR 0755", "err EFAULT", &["mkdir(*"]),
            c("open NULL O_WRONLY", "err EFAULT", &[]),
            c("mknod {T}/ok/p S_IFIFO|0644 0", "ok 0", &[]),
            c(
                "mknod {T}/no/p S_IFIFO|0644 0",
                "err EPERM",
                &["mknod(`{T}/no/p')"],
            ),
            c("mknod {T}/no/file S_IFIFO|0644 0", "err EEXIST", &[]),
            c("mknodat AT_FDCWD {T}/ok/p S_IFIFO|0644 0", "ok 0", &[]),
            c(
                "mknodat AT_FDCWD {T}/no/p S_IFIFO|0644 0",
                "err EPERM",
                &["mknodat(`{T}/no/p')"],
            ),
            c(
                "mknodat open:{T}/no p S_IFIFO|0644 0",
                "err EPERM",
                &["mknodat(`p', prefix=`{T}/no')"],
            ),
        ],
    );
}

#[test]
fn rmdir_unlink() {
    run_table(
        "rmdir",
        W,
        &[
            c("rmdir {T}/ok/dir", "ok 0", &[]),
            c("rmdir {T}/no/dir", "err EPERM", &["rmdir(`{T}/no/dir')"]),
            c("rmdir {T}/no/full", "err ENOTEMPTY", &[]),
            c("rmdir {T}/no/file", "err ENOTDIR", &[]),
            cm(
                RAISE_SAFE,
                "rmdir {T}/no/full",
                "err ENOTEMPTY",
                &["rmdir(`{T}/no/full')"],
            ),
            cm(
                RAISE_SAFE,
                "rmdir {T}/no/file",
                "err ENOTDIR",
                &["rmdir(`{T}/no/file')"],
            ),
            // Resolution failures: silent unless raise_fail.
            c("rmdir {T}/no/missing", "err ENOENT", &[]),
            cm(
                RAISE_FAIL,
                "rmdir {T}/no/missing",
                "err ENOENT",
                &["rmdir(*"],
            ),
            c("rmdir {T}/no/file/x", "err ENOTDIR", &[]),
            c("unlink {T}/ok/file", "ok 0", &[]),
            c(
                "unlink {T}/no/file",
                "err EPERM",
                &["unlink(`{T}/no/file')"],
            ),
            c("unlink {T}/no/dir", "err EISDIR", &[]),
            cm(
                RAISE_SAFE,
                "unlink {T}/no/dir",
                "err EISDIR",
                &["unlink(`{T}/no/dir')"],
            ),
            // The link itself is removed: its own path decides.
            c("unlink {T}/ok/link_to_no", "ok 0", &[]),
            c(
                "unlink {T}/no/link_to_ok",
                "err EPERM",
                &["unlink(`{T}/no/link_to_ok')"],
            ),
            c("unlinkat AT_FDCWD {T}/ok/file 0", "ok 0", &[]),
            c(
                "unlinkat AT_FDCWD {T}/no/file 0",
                "err EPERM",
                &["unlinkat(`{T}/no/file')"],
            ),
            c(
                "unlinkat open:{T}/no file 0",
                "err EPERM",
                &["unlinkat(`file', prefix=`{T}/no')"],
            ),
            c("unlinkat AT_FDCWD {T}/no/dir 0", "err EISDIR", &[]),
            c("unlinkat AT_FDCWD {T}/ok/dir AT_REMOVEDIR", "ok 0", &[]),
            c(
                "unlinkat AT_FDCWD {T}/no/dir AT_REMOVEDIR",
                "err EPERM",
                &["unlinkat(`{T}/no/dir')"],
            ),
            c(
                "unlinkat AT_FDCWD {T}/no/full AT_REMOVEDIR",
                "err ENOTEMPTY",
                &[],
            ),
            c(
                "unlinkat AT_FDCWD {T}/no/file AT_REMOVEDIR",
                "err ENOTDIR",
                &[],
            ),
        ],
    );
}

#[test]
fn attributes() {
    run_table(
        "attr",
        W,
        &[
            c("creat {T}/ok/new 0644", "ok *", &[]),
            c(
                "creat {T}/no/new 0644",
                "err EPERM",
                &["creat(`{T}/no/new')"],
            ),
            c(
                "creat {T}/no/file 0644",
                "err EPERM",
                &["creat(`{T}/no/file')"],
            ),
            // creat follows a final symlink, dangling ones included (NOLAST).
            c(
                "creat {T}/ok/link_to_no 0644",
                "err EPERM",
                &["creat(`{T}/ok/link_to_no')"],
            ),
            c("creat {T}/no/link_to_ok 0644", "ok *", &[]),
            c("chmod {T}/ok/file 0600", "ok 0", &[]),
            c(
                "chmod {T}/no/file 0600",
                "err EPERM",
                &["chmod(`{T}/no/file')"],
            ),
            c(
                "chmod {T}/ok/link_to_no 0600",
                "err EPERM",
                &["chmod(`{T}/ok/link_to_no')"],
            ),
            c("chmod {T}/no/missing 0600", "err ENOENT", &[]),
            cm(
                RAISE_FAIL,
                "chmod {T}/no/missing 0600",
                "err ENOENT",
                &["chmod(*"],
            ),
            c("fchmodat AT_FDCWD {T}/ok/file 0600", "ok 0", &[]),
            c(
                "fchmodat AT_FDCWD {T}/no/file 0600",
                "err EPERM",
                &["fchmodat(`{T}/no/file')"],
            ),
            c(
                "fchmodat open:{T}/no file 0600",
                "err EPERM",
                &["fchmodat(`file', prefix=`{T}/no')"],
            ),
            c("chown {T}/ok/file -1 -1", "ok 0", &[]),
            c(
                "chown {T}/no/file -1 -1",
                "err EPERM",
                &["chown(`{T}/no/file')"],
            ),
            c(
                "chown {T}/ok/link_to_no -1 -1",
                "err EPERM",
                &["chown(`{T}/ok/link_to_no')"],
            ),
            c("lchown {T}/ok/link_to_no -1 -1", "ok 0", &[]),
            c(
                "lchown {T}/no/link_to_ok -1 -1",
                "err EPERM",
                &["lchown(`{T}/no/link_to_ok')"],
            ),
            c("fchownat AT_FDCWD {T}/ok/file -1 -1 0", "ok 0", &[]),
            c(
                "fchownat AT_FDCWD {T}/no/file -1 -1 0",
                "err EPERM",
                &["fchownat(`{T}/no/file')"],
            ),
            c(
                "fchownat AT_FDCWD {T}/ok/link_to_no -1 -1 0",
                "err EPERM",
                &["fchownat(`{T}/ok/link_to_no')"],
            ),
            c(
                "fchownat AT_FDCWD {T}/ok/link_to_no -1 -1 AT_SYMLINK_NOFOLLOW",
                "ok 0",
                &[],
            ),
            c(
                "fchownat open:{T}/no file -1 -1 0",
                "err EPERM",
                &["fchownat(`file', prefix=`{T}/no')"],
            ),
            // AT_EMPTY_PATH: the descriptor's file is the object.
            c(
                "fchownat path:{T}/ok/file '' -1 -1 AT_EMPTY_PATH",
                "ok 0",
                &[],
            ),
            c(
                "fchownat path:{T}/no/file '' -1 -1 AT_EMPTY_PATH",
                "err EPERM",
                &["fchownat(*"],
            ),
            // An empty path without AT_EMPTY_PATH: ENOENT, silent.
            c("fchownat open:{T}/ok '' -1 -1 0", "err ENOENT", &[]),
            c("truncate {T}/ok/file 0", "ok 0", &[]),
            c(
                "truncate {T}/no/file 0",
                "err EPERM",
                &["truncate(`{T}/no/file')"],
            ),
            c("truncate {T}/no/link_to_ok 0", "ok 0", &[]),
            c("utime {T}/ok/file", "ok 0", &[]),
            c("utime {T}/no/file", "err EPERM", &["utime(`{T}/no/file')"]),
            c("utimes {T}/ok/file", "ok 0", &[]),
            c(
                "utimes {T}/no/file",
                "err EPERM",
                &["utimes(`{T}/no/file')"],
            ),
            c("utimensat AT_FDCWD {T}/ok/file 0", "ok 0", &[]),
            c(
                "utimensat AT_FDCWD {T}/no/file 0",
                "err EPERM",
                &["utimensat(`{T}/no/file')"],
            ),
            c(
                "utimensat AT_FDCWD {T}/ok/link_to_no 0",
                "err EPERM",
                &["utimensat(`{T}/ok/link_to_no')"],
            ),
            c(
                "utimensat AT_FDCWD {T}/ok/link_to_no AT_SYMLINK_NOFOLLOW",
                "ok 0",
                &[],
            ),
            c(
                "utimensat open:{T}/no file 0",
                "err EPERM",
                &["utimensat(`file', prefix=`{T}/no')"],
            ),
            // A NULL path: the descriptor's file is the object.
            c("utimensat write:{T}/ok/file NULL 0", "ok 0", &[]),
            c(
                "utimensat read:{T}/no/file NULL 0",
                "err EPERM",
                &["utimensat(*"],
            ),
            c("futimesat AT_FDCWD {T}/ok/file", "ok 0", &[]),
            c(
                "futimesat AT_FDCWD {T}/no/file",
                "err EPERM",
                &["futimesat(`{T}/no/file')"],
            ),
            c(
                "futimesat open:{T}/no file",
                "err EPERM",
                &["futimesat(`file', prefix=`{T}/no')"],
            ),
            c("futimesat read:{T}/ok/file NULL", "ok 0", &[]),
            c(
                "futimesat read:{T}/no/file NULL",
                "err EPERM",
                &["futimesat(*"],
            ),
        ],
    );
}

#[test]
fn link_rename_symlink() {
    run_table(
        "link",
        W,
        &[
            c("link {T}/ok/file {T}/ok/new", "ok 0", &[]),
            c(
                "link {T}/no/file {T}/ok/new",
                "err EPERM",
                &["link(`{T}/no/file')"],
            ),
            c(
                "link {T}/ok/file {T}/no/new",
                "err EPERM",
                &["link(?, `{T}/no/new')"],
            ),
            // The second path is only checked when the first is allowed: one report.
            c(
                "link {T}/no/file {T}/no/new",
                "err EPERM",
                &["link(`{T}/no/file')"],
            ),
            c("link {T}/ok/file {T}/no/file", "err EEXIST", &[]),
            cm(
                RAISE_SAFE,
                "link {T}/ok/file {T}/no/file",
                "err EEXIST",
                &["link(?, `{T}/no/file')"],
            ),
            // The first path is not followed: the link in ok/ is linked, not its target.
            c("link {T}/ok/link_to_no {T}/ok/new", "ok 0", &[]),
            c(
                "linkat AT_FDCWD {T}/ok/file AT_FDCWD {T}/ok/new 0",
                "ok 0",
                &[],
            ),
            c(
                "linkat AT_FDCWD {T}/no/file AT_FDCWD {T}/ok/new 0",
                "err EPERM",
                &["linkat(`{T}/no/file')"],
            ),
            c(
                "linkat AT_FDCWD {T}/ok/file AT_FDCWD {T}/no/new 0",
                "err EPERM",
                &["linkat(?, ?, `{T}/no/new')"],
            ),
            c(
                "linkat open:{T}/ok file open:{T}/no new 0",
                "err EPERM",
                &["linkat(?, ?, `new', prefix=`{T}/no')"],
            ),
            c(
                "linkat open:{T}/no file open:{T}/ok new 0",
                "err EPERM",
                &["linkat(`file', prefix=`{T}/no')"],
            ),
            c(
                "linkat AT_FDCWD {T}/ok/link_to_no AT_FDCWD {T}/ok/new 0",
                "ok 0",
                &[],
            ),
            c(
                "linkat AT_FDCWD {T}/ok/link_to_no AT_FDCWD {T}/ok/new AT_SYMLINK_FOLLOW",
                "err EPERM",
                &["linkat(`{T}/ok/link_to_no')"],
            ),
            c("rename {T}/ok/file {T}/ok/new", "ok 0", &[]),
            c(
                "rename {T}/no/file {T}/ok/new",
                "err EPERM",
                &["rename(`{T}/no/file')"],
            ),
            c(
                "rename {T}/ok/file {T}/no/new",
                "err EPERM",
                &["rename(?, `{T}/no/new')"],
            ),
            c(
                "rename {T}/ok/file {T}/no/file",
                "err EPERM",
                &["rename(?, `{T}/no/file')"],
            ),
            // A directory onto a non-directory or a non-empty one: the kernel's errno, silent.
            c("rename {T}/ok/dir {T}/no/file", "err ENOTDIR", &[]),
            c("rename {T}/ok/dir {T}/no/full", "err ENOTEMPTY", &[]),
            c(
                "rename {T}/ok/dir {T}/no/dir",
                "err EPERM",
                &["rename(?, `{T}/no/dir')"],
            ),
            c("rename {T}/ok/link_to_no {T}/ok/new", "ok 0", &[]),
            c(
                "renameat AT_FDCWD {T}/ok/file AT_FDCWD {T}/ok/new",
                "ok 0",
                &[],
            ),
            c(
                "renameat AT_FDCWD {T}/ok/file AT_FDCWD {T}/no/new",
                "err EPERM",
                &["renameat(?, ?, `{T}/no/new')"],
            ),
            c(
                "renameat open:{T}/no file AT_FDCWD {T}/ok/new",
                "err EPERM",
                &["renameat(`file', prefix=`{T}/no')"],
            ),
            c(
                "renameat2 AT_FDCWD {T}/ok/file AT_FDCWD {T}/ok/new 0",
                "ok 0",
                &[],
            ),
            c(
                "renameat2 AT_FDCWD {T}/ok/file open:{T}/no new RENAME_NOREPLACE",
                "err EPERM",
                &["renameat2(?, ?, `new', prefix=`{T}/no')"],
            ),
            // symlink: only the new link's path is checked, never its target.
            c("symlink {T}/no/file {T}/ok/l", "ok 0", &[]),
            c(
                "symlink {T}/ok/file {T}/no/l",
                "err EPERM",
                &["symlink(?, `{T}/no/l')"],
            ),
            c("symlink x {T}/no/file", "err EEXIST", &[]),
            c("symlink x {T}/no/dangling", "err EEXIST", &[]),
            c("symlinkat {T}/no/file AT_FDCWD {T}/ok/l", "ok 0", &[]),
            c(
                "symlinkat x AT_FDCWD {T}/no/l",
                "err EPERM",
                &["symlinkat(?, `{T}/no/l')"],
            ),
            c(
                "symlinkat x open:{T}/no l",
                "err EPERM",
                &["symlinkat(?, `l', prefix=`{T}/no')"],
            ),
        ],
    );
}

#[test]
fn xattr_open_access() {
    run_table(
        "xattr",
        W,
        &[
            c("setxattr {T}/ok/file user.b v", "ok 0", &[]),
            c(
                "setxattr {T}/no/file user.b v",
                "err EPERM",
                &["setxattr(`{T}/no/file')"],
            ),
            c(
                "setxattr {T}/ok/link_to_no user.b v",
                "err EPERM",
                &["setxattr(`{T}/ok/link_to_no')"],
            ),
            c("lsetxattr {T}/ok/file user.b v", "ok 0", &[]),
            c(
                "lsetxattr {T}/no/link_to_ok user.b v",
                "err EPERM",
                &["lsetxattr(`{T}/no/link_to_ok')"],
            ),
            c("removexattr {T}/ok/file user.a", "ok 0", &[]),
            c(
                "removexattr {T}/no/file user.a",
                "err EPERM",
                &["removexattr(`{T}/no/file')"],
            ),
            c("lremovexattr {T}/ok/file user.a", "ok 0", &[]),
            c(
                "lremovexattr {T}/no/file user.a",
                "err EPERM",
                &["lremovexattr(`{T}/no/file')"],
            ),
            // Reading calls are not write-sandboxed.
            c("listxattr {T}/no/file", "ok * names=user.a", &[]),
            c("getxattr {T}/no/file user.a", "ok 1 value=v", &[]),
            // The open family (SPEC §2.10): write, read-write, create and truncate are writes.
            c("open {T}/ok/file O_WRONLY", "ok *", &[]),
            c(
                "open {T}/no/file O_WRONLY",
                "err EPERM",
                &["open(`{T}/no/file')"],
            ),
            c("open {T}/no/file O_RDONLY", "ok *", &[]),
            c(
                "open {T}/no/file O_RDWR",
                "err EPERM",
                &["open(`{T}/no/file')"],
            ),
            c(
                "open {T}/no/file O_RDONLY|O_TRUNC",
                "err EPERM",
                &["open(`{T}/no/file')"],
            ),
            c("open {T}/ok/new O_WRONLY|O_CREAT 0600", "ok *", &[]),
            c(
                "open {T}/no/new O_WRONLY|O_CREAT 0600",
                "err EPERM",
                &["open(`{T}/no/new')"],
            ),
            c(
                "open {T}/no/new O_RDONLY|O_CREAT 0600",
                "err EPERM",
                &["open(`{T}/no/new')"],
            ),
            c(
                "open {T}/no/file O_WRONLY|O_CREAT|O_EXCL 0600",
                "err EEXIST",
                &[],
            ),
            cm(
                RAISE_SAFE,
                "open {T}/no/file O_WRONLY|O_CREAT|O_EXCL 0600",
                "err EEXIST",
                &["open(`{T}/no/file')"],
            ),
            c(
                "open {T}/ok/file O_WRONLY|O_CREAT|O_EXCL 0600",
                "err EEXIST",
                &[],
            ),
            c(
                "open {T}/no/dangling O_WRONLY|O_CREAT|O_EXCL 0600",
                "err EEXIST",
                &[],
            ),
            // A dangling link in ok/ pointing into no/ creates its target there: denied.
            c(
                "open {T}/ok/link_to_no O_WRONLY",
                "err EPERM",
                &["open(`{T}/ok/link_to_no')"],
            ),
            c("open {T}/no/link_to_ok O_WRONLY", "ok *", &[]),
            c("open {T}/no/link O_WRONLY|O_NOFOLLOW", "err ELOOP", &[]),
            c(
                "open {T}/ok/link_to_no O_WRONLY|O_NOFOLLOW",
                "err ELOOP",
                &[],
            ),
            c("open {T}/no/file O_WRONLY|O_DIRECTORY", "err ENOTDIR", &[]),
            c(
                "open {T}/no O_WRONLY|O_TMPFILE 0600",
                "err EPERM",
                &["open(`{T}/no')"],
            ),
            c("open {T}/ok O_WRONLY|O_TMPFILE 0600", "ok *", &[]),
            // Access mode 3 is neither a read nor a write.
            c("open {T}/no/file 3", "ok *", &[]),
            c("open no/file O_WRONLY", "err EPERM", &["open(`no/file')"]),
            c("open ok/file O_WRONLY", "ok *", &[]),
            c("openat AT_FDCWD {T}/ok/file O_WRONLY", "ok *", &[]),
            c(
                "openat AT_FDCWD {T}/no/file O_WRONLY",
                "err EPERM",
                &["openat(`{T}/no/file')"],
            ),
            c(
                "openat open:{T}/no file O_WRONLY",
                "err EPERM",
                &["openat(`file', prefix=`{T}/no')"],
            ),
            c("openat open:{T}/ok file O_WRONLY", "ok *", &[]),
            c(
                "openat open:{T}/ok ../no/file O_RDWR",
                "err EPERM",
                &["openat(`../no/file', prefix=`{T}/ok')"],
            ),
            c("openat2 AT_FDCWD {T}/ok/file O_WRONLY 0 0", "ok *", &[]),
            c(
                "openat2 AT_FDCWD {T}/no/file O_WRONLY 0 0",
                "err EPERM",
                &["openat2(`{T}/no/file')"],
            ),
            c(
                "openat2 open:{T}/no file O_WRONLY|O_CREAT 0600 0",
                "err EPERM",
                &["openat2(`file', prefix=`{T}/no')"],
            ),
            c("openat2 AT_FDCWD {T}/no/file O_RDONLY 0 0", "ok *", &[]),
            c(
                "openat2 AT_FDCWD {T}/ok/link_to_no O_WRONLY 0 RESOLVE_NO_SYMLINKS",
                "err ELOOP",
                &[],
            ),
            c(
                "openat2 open:{T}/ok new O_WRONLY|O_CREAT 0600 RESOLVE_BENEATH",
                "ok *",
                &[],
            ),
            c(
                "openat2 open:{T}/ok /new O_WRONLY|O_CREAT 0600 RESOLVE_IN_ROOT",
                "ok *",
                &[],
            ),
            c(
                "openat2 open:{T}/ok ../no/new O_WRONLY|O_CREAT 0600 RESOLVE_BENEATH",
                "err EPERM",
                &["openat2(`../no/new', prefix=`{T}/ok')"],
            ),
            // What openat2 refuses is refused, not opened another way.
            c(
                "openat2 AT_FDCWD {T}/ok/file O_WRONLY|0x40000000 0 0",
                "err EINVAL",
                &[],
            ),
            c(
                "openat2 AT_FDCWD {T}/ok/file O_WRONLY 0644 0",
                "err EINVAL",
                &[],
            ),
            c(
                "openat2 AT_FDCWD {T}/ok/file O_WRONLY 0 0x1000",
                "err EINVAL",
                &[],
            ),
            c(
                "openat2 open:{T}/ok file O_WRONLY 0 RESOLVE_BENEATH|RESOLVE_IN_ROOT",
                "err EINVAL",
                &[],
            ),
            c(
                "openat2 AT_FDCWD {T}/ok/new O_WRONLY|O_CREAT 0644 0",
                "ok *",
                &[],
            ),
            c(
                "openat2 AT_FDCWD {T}/no/new O_WRONLY|O_CREAT 07777 0",
                "err EPERM",
                &["openat2(`{T}/no/new')"],
            ),
            // access(W_OK) is a write check, EACCES and silent unless raise_safe.
            c("access {T}/ok/file W_OK", "ok 0", &[]),
            c("access {T}/no/file W_OK", "err EACCES", &[]),
            cm(
                RAISE_SAFE,
                "access {T}/no/file W_OK",
                "err EACCES",
                &["access(`{T}/no/file')"],
            ),
            c("access {T}/no/file R_OK", "ok 0", &[]),
            c("faccessat AT_FDCWD {T}/no/file W_OK", "err EACCES", &[]),
            cm(
                RAISE_SAFE,
                "faccessat open:{T}/no file W_OK",
                "err EACCES",
                &["faccessat(`file', prefix=`{T}/no')"],
            ),
            c("faccessat2 AT_FDCWD {T}/no/file W_OK 0", "err EACCES", &[]),
            c("faccessat2 AT_FDCWD {T}/ok/file W_OK 0", "ok 0", &[]),
            // mount and umount are refused in the kernel at every level (ECANCELED, SPEC §6.1).
            c("mount none {T}/ok tmpfs", "err ECANCELED", &[]),
            c("umount2 {T}/ok 0", "err ECANCELED", &[]),
        ],
    );
}

/// States and lists (SPEC §2.1, §3.2–§3.4): off, allow with denylists, bpf (EPERM in the
/// kernel, no report), filters (denied, no report), last match wins, prefix and case options.
#[test]
fn states_and_lists() {
    run_table(
        "states",
        &[],
        &[
            cm(
                &["core/sandbox/write:off"],
                "mkdir {T}/no/d 0755",
                "ok 0",
                &[],
            ),
            cm(
                &["core/sandbox/write:allow"],
                "mkdir {T}/no/d 0755",
                "ok 0",
                &[],
            ),
            cm(
                &["core/sandbox/write:allow", "denylist/write+{T}/no/***"],
                "mkdir {T}/no/d 0755",
                "err EPERM",
                &["mkdir(`{T}/no/d')"],
            ),
            cm(
                &["core/sandbox/write:allow", "denylist/write+{T}/no/***"],
                "mkdir {T}/ok/d 0755",
                "ok 0",
                &[],
            ),
            // The default write state is bpf: EPERM from the kernel, allowlists ignored.
            cm(
                &["allowlist/write+{T}/***"],
                "mkdir {T}/ok/d 0755",
                "err EPERM",
                &[],
            ),
            cm(
                &["core/sandbox/write:bpf"],
                "open {T}/ok/file O_WRONLY",
                "err EPERM",
                &[],
            ),
            cm(
                &["core/sandbox/write:bpf"],
                "open {T}/ok/file O_RDONLY",
                "ok *",
                &[],
            ),
            cm(
                &["core/sandbox/write:bpf"],
                "access {T}/ok/file W_OK",
                "err EPERM",
                &[],
            ),
            cm(
                &["core/sandbox/write:bpf"],
                "access {T}/ok/file R_OK",
                "ok 0",
                &[],
            ),
            cm(
                &["core/sandbox/write:bpf"],
                "openat2 AT_FDCWD {T}/ok/file O_RDONLY 0 0",
                "err EPERM",
                &[],
            ),
            // Filters deny without a report.
            cm(
                &["core/sandbox/write:deny", "filter/write+{T}/no/***"],
                "mkdir {T}/no/d 0755",
                "err EPERM",
                &[],
            ),
            cm(
                &[
                    "core/sandbox/write:allow",
                    "denylist/write+{T}/no/***",
                    "filter/write+{T}/no/***",
                ],
                "unlink {T}/no/file",
                "err EPERM",
                &[],
            ),
            // The last matching entry decides.
            cm(
                &[
                    "core/sandbox/write:deny",
                    "allowlist/write+{T}/***",
                    "denylist/write+{T}/no/***",
                ],
                "mkdir {T}/no/d 0755",
                "err EPERM",
                &["mkdir(`{T}/no/d')"],
            ),
            cm(
                &[
                    "core/sandbox/write:deny",
                    "allowlist/write+{T}/***",
                    "denylist/write+{T}/no/***",
                ],
                "mkdir {T}/ok/d 0755",
                "ok 0",
                &[],
            ),
            cm(
                &[
                    "core/sandbox/write:deny",
                    "denylist/write+{T}/no/***",
                    "allowlist/write+{T}/***",
                ],
                "mkdir {T}/no/d 0755",
                "ok 0",
                &[],
            ),
            cm(
                &[
                    "core/sandbox/write:allow",
                    "denylist/write+{T}/***",
                    "allowlist/write+{T}/ok/***",
                ],
                "mkdir {T}/ok/d 0755",
                "ok 0",
                &[],
            ),
            // Removing an entry.
            cm(
                &[
                    "core/sandbox/write:deny",
                    "allowlist/write+{T}/no/***",
                    "allowlist/write-{T}/no/***",
                ],
                "mkdir {T}/no/d 0755",
                "err EPERM",
                &["mkdir(`{T}/no/d')"],
            ),
            // Patterns without wildcards: literal by default, prefixes with no_wildcard:prefix.
            cm(
                &["core/sandbox/write:deny", "allowlist/write+{T}/ok"],
                "mkdir {T}/ok/d 0755",
                "err EPERM",
                &["mkdir(`{T}/ok/d')"],
            ),
            cm(
                &[
                    "core/match/no_wildcard:prefix",
                    "core/sandbox/write:deny",
                    "allowlist/write+{T}/ok",
                ],
                "mkdir {T}/ok/d 0755",
                "ok 0",
                &[],
            ),
            cm(
                &[
                    "core/match/no_wildcard:prefix",
                    "core/sandbox/write:deny",
                    "allowlist/write+{T}/ok",
                ],
                "mkdir {T}/okay 0755",
                "err EPERM",
                &["mkdir(`{T}/okay')"],
            ),
            cm(
                &["core/sandbox/write:deny", "allowlist/write+{T}/OK/***"],
                "mkdir {T}/ok/d 0755",
                "err EPERM",
                &["mkdir(`{T}/ok/d')"],
            ),
            cm(
                &[
                    "core/match/case_sensitive:false",
                    "core/sandbox/write:deny",
                    "allowlist/write+{T}/OK/***",
                ],
                "mkdir {T}/ok/d 0755",
                "ok 0",
                &[],
            ),
            cm(
                &["core/sandbox/write:deny", "allowlist/write+{T}/o?/[a-e]*"],
                "mkdir {T}/ok/d 0755",
                "ok 0",
                &[],
            ),
            cm(
                &["core/sandbox/write:deny", "allowlist/write+{T}/o?/[a-c]*"],
                "mkdir {T}/ok/d 0755",
                "err EPERM",
                &["mkdir(`{T}/ok/d')"],
            ),
        ],
    );
}

/// Calls newer than the generated syscall tables (Linux 6.1), such as fchmodat2 (6.6): the
/// filter refuses every number beyond the tables with ENOSYS in the kernel (libc then falls back
/// to the calls the sandbox checks), so they cannot bypass write sandboxing.
#[test]
fn calls_newer_than_the_tables() {
    run_table(
        "new",
        W,
        &[
            c(
                "fchmodat2 AT_FDCWD {T}/ok/link_to_no 0600 AT_SYMLINK_NOFOLLOW",
                "err ENOSYS",
                &[],
            ),
            c(
                "fchmodat2 AT_FDCWD {T}/ok/link_to_no 0600 0",
                "err ENOSYS",
                &[],
            ),
            c("fchmodat2 AT_FDCWD {T}/no/file 0600 0", "err ENOSYS", &[]),
        ],
    );
}

/// A path of PATH_MAX bytes or more: ENAMETOOLONG, as the kernel says, never a shortened path.
#[test]
fn long_paths() {
    let long: &'static str =
        Box::leak(format!("mkdir {{T}}/ok/{} 0755", "x/".repeat(2100)).into_boxed_str());
    let long_no: &'static str =
        Box::leak(format!("mkdir {{T}}/no/{}d 0755", "./".repeat(2100)).into_boxed_str());
    run_table(
        "long",
        W,
        &[
            c(long, "err ENAMETOOLONG", &[]),
            c(long_no, "err ENAMETOOLONG", &[]),
        ],
    );
}
