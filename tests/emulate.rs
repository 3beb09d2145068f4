//! The path calls the supervisor performs itself (bin/emulate.rs) answer and act as the kernel
//! does: each script of `syd-test-probe` calls runs twice in identical fresh trees, once
//! directly and once under `syd` with every write allowed, and the outputs (return values and
//! errnos) and the resulting trees (names, types, modes, owners, sizes, link targets, explicit
//! times) must be the same. The same again as `nobody` against root-owned files, for the
//! kernel's permission checks made with the tracee's identity.
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
use std::path::Path;

use fscommon::{As, Tree};

/// One line per entry below `root`, sorted: path, type, mode, owner, size, link target, and
/// the access and modification times when they were set explicitly (before 2001).
fn snapshot(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            let kind = m.mode() & 0o170_000;
            let link = std::fs::read_link(&p)
                .map(|t| t.display().to_string())
                .unwrap_or_default();
            let old = |t: i64, ns: i64| {
                if t < 1_000_000_000 {
                    format!("{t}.{ns}")
                } else {
                    "-".into()
                }
            };
            let size = if m.is_dir() { 0 } else { m.size() };
            out.push(format!(
                "{rel} {kind:o} {:o} {}:{} {size} {link} a={} m={}",
                m.mode() & 0o7777,
                m.uid(),
                m.gid(),
                old(m.atime(), m.atime_nsec()),
                old(m.mtime(), m.mtime_nsec()),
            ));
            if m.is_dir() {
                walk(root, &p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// Single-quotes `w` for sh (`''` stays the empty word).
fn quote(w: &str) -> String {
    if w == "''" {
        return w.to_owned();
    }
    format!("'{}'", w.replace('\'', "'\\''"))
}

/// Runs each script (probe calls separated by `;`) directly and under syd, as `who`, in fresh
/// trees prepared by `setup`, and fails listing every difference.
fn same_as_kernel(tag: &str, who: As, setup: &dyn Fn(&Tree), scripts: &[&str]) {
    if !common::require_kernel() {
        return;
    }
    let probe = if who == As::Nobody {
        common::probe_path_for_everyone()
            .to_str()
            .unwrap()
            .to_owned()
    } else {
        common::probe_path().to_owned()
    };
    let mut bad = Vec::new();
    for script in scripts {
        let sh: Vec<String> = script
            .split(';')
            .map(|call| {
                let words: Vec<String> = call.split_whitespace().map(quote).collect();
                format!("{probe} {}", words.join(" "))
            })
            .collect();
        // A umask that is not the supervisor's: mkdir and mknod must apply the tracee's.
        let sh = format!("umask 027; {}", sh.join("; "));
        // 0: the kernel; 1: syd; 2 (as nobody): syd run by root, the command as nobody (-U, -G).
        let run = |how: u8| {
            let t = Tree::new(tag);
            setup(&t);
            if who == As::Nobody && common::is_root() {
                t.chown_all(common::NOBODY, common::NOBODY);
                // Root's own objects in the nobody-owned tree.
                std::fs::write(t.root.join("ok/rootfile"), "data\n").unwrap();
                std::fs::create_dir(t.root.join("ok/rootdir")).unwrap();
                std::fs::write(t.root.join("ok/rootdir/x"), "").unwrap();
            }
            let allow = format!("allowlist/write+{}/***", t.s());
            let ids = if how == 2 {
                vec!["-U", "65534", "-G", "65534"]
            } else {
                vec![]
            };
            let mut r = if how > 0 {
                common::syd(
                    &[
                        ids.as_slice(),
                        &[
                            "-m",
                            "core/sandbox/write:deny",
                            "-m",
                            &allow,
                            "--",
                            "sh",
                            "-c",
                            &sh,
                        ],
                    ]
                    .concat(),
                )
            } else {
                common::Run::new("sh", &["-c", &sh])
            };
            if who == As::Nobody && how < 2 {
                r = r.unprivileged();
            }
            r.command().current_dir(&t.root);
            let out = r.run();
            (out.stdout.clone(), snapshot(&t.root), out)
        };
        let (kout, ktree, _) = run(0);
        let hows: &[u8] = if who == As::Nobody && common::is_root() {
            &[1, 2]
        } else {
            &[1]
        };
        for &how in hows {
            let (sout, stree, out) = run(how);
            let syd = if how == 2 { "syd -U" } else { "syd" };
            if kout != sout {
                bad.push(format!(
                    "{script}: kernel {kout:?}, {syd} {sout:?} ({out:?})"
                ));
            }
            if ktree != stree {
                let only_k: Vec<_> = ktree.iter().filter(|l| !stree.contains(l)).collect();
                let only_s: Vec<_> = stree.iter().filter(|l| !ktree.contains(l)).collect();
                bad.push(format!(
                    "{script}: tree: kernel {only_k:?}, {syd} {only_s:?}"
                ));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} differences:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn entries_as_the_kernel() {
    same_as_kernel(
        "emu-entries",
        As::Me,
        &|_| {},
        &[
            "mkdir ok/new 0750",
            "mkdir ok/new/ 0755",
            "mkdir ok/dir 0755",
            "mkdir ok/dangling 0755",
            "mkdir ok/dangling/ 0755",
            // (`mkdir ok/link/` with link -> file: the check's canonicalization already says
            // ENOTDIR where the kernel says EEXIST, as before emulation.)
            "mkdir ok/. 0755",
            "mkdir ok/dir/.. 0755",
            "mkdir / 0755",
            "mkdir ok/missing/new 0755",
            "mkdir ok/file/new 0755",
            "mkdirat open:ok new 0700",
            "mknod ok/fifo2 S_IFIFO|0640 0",
            "mknod ok/reg S_IFREG|0600 0",
            "mknod ok/fifo2/ S_IFIFO|0640 0",
            "mknod ok/dir/ S_IFIFO|0640 0",
            "mknod ok/bad 0o170644 0",
            "mknodat open:ok fifo2 S_IFIFO|0600 0",
            "rmdir ok/dir",
            "rmdir ok/dir/",
            "rmdir ok/dir/.",
            "rmdir ok/dir/..",
            "rmdir ok/full",
            "rmdir ok/link",
            "rmdir ok/dirlink_to_no",
            "rmdir ok/dirlink_to_no/",
            "rmdir ok/file",
            "unlink ok/file",
            "unlink ok/file/",
            "unlink ok/dir",
            "unlink ok/dir/",
            "unlink ok/link",
            "unlink ok/dangling",
            "unlink ok/dirlink_to_no/",
            "unlink ok/.",
            "unlinkat AT_FDCWD ok/dir AT_REMOVEDIR",
            "unlinkat AT_FDCWD ok/file 1",
            "unlinkat open:ok file 0",
            "rename ok/file ok/new",
            "rename ok/file ok/dir",
            "rename ok/dir ok/full",
            "rename ok/dir ok/file",
            "rename ok/dir ok/new/",
            "rename ok/file ok/new/",
            "rename ok/dirlink_to_no/ ok/x",
            "rename ok/. ok/x",
            "rename ok/link ok/new",
            "rename ok/file ok/file",
            "rename ok/dir ok/dir/sub",
            "renameat2 AT_FDCWD ok/file AT_FDCWD ok/dir RENAME_EXCHANGE",
            "renameat2 AT_FDCWD ok/file AT_FDCWD ok/link RENAME_NOREPLACE",
            "renameat2 AT_FDCWD ok/file AT_FDCWD ok/new 0x100",
            "link ok/file ok/new",
            "link ok/link ok/new",
            "link ok/dir ok/new",
            "link ok/file ok/new/",
            "link ok/file ok/file",
            "link ok/file ok/.",
            "linkat AT_FDCWD ok/link AT_FDCWD ok/new AT_SYMLINK_FOLLOW",
            "linkat AT_FDCWD ok/file AT_FDCWD ok/new 1",
            "symlink target ok/new",
            "symlink target ok/new/",
            "symlink target ok/file",
            "symlink '' ok/new",
            "symlink BADPTR ok/new",
            "symlinkat ../x open:ok new",
        ],
    );
}

#[test]
fn objects_as_the_kernel() {
    same_as_kernel(
        "emu-objects",
        As::Me,
        &|_| {},
        &[
            "chmod ok/file 0600",
            "chmod ok/link 04755",
            "chmod ok/dangling 0600",
            "fchmodat AT_FDCWD ok/file 0640",
            "chown ok/file 1 2",
            "chown ok/link 3 -1",
            "lchown ok/link 4 5",
            "fchownat AT_FDCWD ok/link 6 7 AT_SYMLINK_NOFOLLOW",
            "fchownat AT_FDCWD ok/file 6 7 1",
            "fchownat path:ok/file '' 8 9 AT_EMPTY_PATH",
            "truncate ok/file 2",
            "truncate ok/link 100",
            "truncate ok/dir 0",
            "truncate ok/file -1",
            "truncate ok/fifo 0",
            "utime-t ok/file 1000 2000",
            "utimes-t ok/file 1000 5 2000 7",
            "utimes-t ok/file 1000 1000000 2000 7",
            "utimes-t ok/link 1000 -1 2000 7",
            "futimesat-t open:ok file 1000 5 2000 7",
            "futimesat-t read:ok/file NULL 1000 5 2000 7",
            "utimensat-t AT_FDCWD ok/file 1000 5 2000 1073741822 0",
            "utimensat-t AT_FDCWD ok/file 1000 1073741823 2000 6 0",
            "utimensat-t AT_FDCWD ok/link 1000 5 2000 6 AT_SYMLINK_NOFOLLOW",
            "utimensat-t AT_FDCWD ok/file 1000 1000000000 2000 6 0",
            "utimensat-t AT_FDCWD ok/file 1000 5 2000 6 1",
            "utimensat-t read:ok/file NULL 1000 5 2000 6 0",
            "utimensat-t path:ok/file NULL 1000 5 2000 6 0",
            "utimensat-t read:ok/file NULL 1000 5 2000 6 AT_SYMLINK_NOFOLLOW",
            "utimensat-t AT_FDCWD NULL 1000 5 2000 6 0",
            "utimensat-badtimes AT_FDCWD ok/file",
            "utimensat AT_FDCWD ok/file 0",
            "setxattr ok/file user.b v; getxattr ok/file user.b",
            "setxattr ok/file user.a w XATTR_CREATE; getxattr ok/file user.a",
            "setxattr ok/file user.a w XATTR_REPLACE; getxattr ok/file user.a",
            "setxattr ok/file user.a w 4",
            "setxattr ok/link user.b v; getxattr ok/file user.b",
            "lsetxattr ok/link user.b v",
            "lsetxattr ok/link trusted.b v; lgetxattr ok/link trusted.b",
            "setxattr ok/file '' v",
            "removexattr ok/file user.a; getxattr ok/file user.a",
            "removexattr ok/file user.zz",
            "lremovexattr ok/link user.a",
        ],
    );
}

/// As `nobody` in a tree it owns, with root-owned `ok/rootfile` and `ok/rootdir/x`: the
/// kernel's permission checks apply to the tracee's identity, not the supervisor's, both when
/// syd runs as nobody and when root's syd runs the command as nobody (`-U`, `-G`: the
/// supervisor takes on the tracee's fsuid, fsgid, groups and capabilities). `umask 027` is
/// applied to the supervisor's mkdir and mknod.
#[test]
fn permissions_as_the_kernel() {
    if !common::skip_unless(common::is_root(), "needs root to run a tracee as nobody") {
        return;
    }
    same_as_kernel(
        "emu-perm",
        As::Nobody,
        &|_| {},
        &[
            "mkdir ok/new 0777",
            "mknod ok/fifo2 S_IFIFO|0666 0",
            "mkdir ok/rootdir/new 0755",
            "chmod ok/rootfile 0666",
            "chmod ok/file 0600",
            "chown ok/file 0 0",
            "chown ok/file -1 65534",
            "truncate ok/rootfile 0",
            "unlink ok/rootdir/x",
            "rename ok/rootdir/x ok/y",
            "rename ok/file ok/rootdir/y",
            "link ok/rootfile ok/hard",
            "symlink t ok/rootdir/l",
            "utimensat AT_FDCWD ok/rootfile 0",
            "utimensat-t AT_FDCWD ok/rootfile 1000 0 2000 0 0",
            "setxattr ok/rootfile user.b v",
            "rmdir ok/rootdir",
        ],
    );
}

/// `--dry-run` reports a denied call and lets the kernel make it; an allowed one is still made
/// by the supervisor; with the write type off nothing is checked and the kernel makes them all.
#[test]
fn dry_run_and_off() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::new("emu-dry");
    let probe = common::probe_path();
    let script = format!(
        "{probe} mkdir no/d 0755; {probe} mkdir ok/d 0755; {probe} chmod no/file 0600; \
         {probe} rename ok/file no/moved"
    );
    let allow = format!("allowlist/write+{}/ok/***", t.s());
    let run = |opts: &[&str]| {
        let mut args = opts.to_vec();
        args.extend(["-m", &allow, "--", "sh", "-c", &script]);
        let mut r = common::syd(&args);
        r.command().current_dir(&t.root);
        r.run()
    };
    let out = run(&["--dry-run", "-m", "core/sandbox/write:deny"]);
    assert_eq!(out.stdout, "ok 0\nok 0\nok 0\nok 0\n", "{out:?}");
    assert!(out.stderr.contains("mkdir(`no/d')"), "{out:?}");
    assert!(t.root.join("no/d").is_dir() && t.root.join("ok/d").is_dir());
    assert!(t.root.join("no/moved").is_file());
    let m = std::fs::metadata(t.root.join("no/file")).unwrap();
    assert_eq!(m.mode() & 0o777, 0o600);

    let t2 = Tree::new("emu-off");
    let mut r = common::syd(&["-m", "core/sandbox/write:off", "--", "sh", "-c", &script]);
    r.command().current_dir(&t2.root);
    let out = r.run();
    assert_eq!(out.stdout, "ok 0\nok 0\nok 0\nok 0\n", "{out:?}");
    assert!(t2.root.join("no/d").is_dir() && t2.root.join("no/moved").is_file());
}

/// A chrooted tracee (`-C`): the supervisor makes its calls inside the tracee's root, with
/// paths as the tracee sees them.
#[test]
fn inside_the_tracee_root() {
    if !common::require_kernel() || !common::skip_unless(common::is_root(), "-C needs root") {
        return;
    }
    let t = Tree::new("emu-chroot");
    std::fs::create_dir(t.root.join("bin")).unwrap();
    std::fs::copy(common::probe_path(), t.root.join("bin/p")).unwrap();
    let run = |call: &[&str]| {
        let mut args = vec![
            "-C",
            t.root.to_str().unwrap(),
            "-m",
            "core/sandbox/write:deny",
            "-m",
            "allowlist/write+/ok/***",
            "--",
            "/bin/p",
        ];
        args.extend(call);
        common::syd(&args).run().stdout
    };
    assert_eq!(run(&["mkdir", "/ok/d", "0700"]), "ok 0\n");
    assert_eq!(run(&["rename", "/ok/file", "/ok/d/g"]), "ok 0\n");
    assert_eq!(run(&["chmod", "/ok/d/g", "0600"]), "ok 0\n");
    assert_eq!(run(&["mkdir", "/no/d", "0700"]), "err EPERM\n");
    let m = std::fs::metadata(t.root.join("ok/d/g")).unwrap();
    assert_eq!(m.mode() & 0o777, 0o600);
    assert!(!t.root.join("no/d").exists());
}
