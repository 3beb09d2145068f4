//! Tests of the path canonicalizer: `bin/sys.rs` and `bin/path.rs` compiled into this std test
//! crate (as in tests/sys.rs), run against real trees in temporary directories.
//!
//! The tracee is either this test thread (`tid` = its thread id, `tgid` = the process) or a forked
//! child that sets up its cwd, descriptors or root with raw system calls and then sleeps until it
//! is killed. The harness is multi-threaded: children make only system calls, and every test
//! works in its own directory.

// Test code: clippy.toml's allowances cover only #[test] functions, not their helpers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
#[allow(unsafe_code)]
#[path = "../bin/sys.rs"]
mod sys;

#[path = "../bin/path.rs"]
mod path;

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use libc::{EACCES, EBADF, EINVAL, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR};
use path::{Base, Follow, Resolve, Tracee};
use sys::{Errno, Fd, Fork, Pid};

const E: Resolve = Resolve::Exist;
const N: Resolve = Resolve::NoLast;
const Y: Follow = Follow::Yes;
const NO: Follow = Follow::No;

/// Set in the environment of the re-run as uid 65534, so that it does not start another.
const AS_NOBODY: &str = "SYD_PATH_TEST_AS_NOBODY";

fn cs(p: impl AsRef<[u8]>) -> CString {
    CString::new(p.as_ref()).unwrap()
}

fn bytes(p: &Path) -> &[u8] {
    p.as_os_str().as_bytes()
}

/// A fresh empty directory (its canonical path) under the system's temporary directory.
fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("syd-path-{}-{name}", std::process::id()));
    remove_tree(&d);
    fs::create_dir_all(&d).unwrap();
    fs::canonicalize(&d).unwrap()
}

/// Removes `d` and everything below, after making every directory writable and searchable.
fn remove_tree(d: &Path) {
    if let Ok(meta) = fs::symlink_metadata(d) {
        if meta.is_dir() {
            let _ = fs::set_permissions(d, fs::Permissions::from_mode(0o755));
            for e in fs::read_dir(d).into_iter().flatten().flatten() {
                remove_tree(&e.path());
            }
            let _ = fs::remove_dir(d);
        } else {
            let _ = fs::remove_file(d);
        }
    }
}

/// This test thread as the tracee.
fn me() -> Tracee {
    Tracee {
        tid: sys::gettid(),
        tgid: sys::getpid(),
    }
}

/// A canonical path, or an errno.
type Want = Result<Vec<u8>, i32>;

/// The canonical path, or the errno.
fn canon(t: &Tracee, base: Base, p: impl AsRef<[u8]>, r: Resolve, f: Follow) -> Want {
    let mut out = path::PathBuf::new();
    path::canonicalize(t, base, p.as_ref(), r, f, &mut out)
        .map(|()| out.as_bytes().to_vec())
        .map_err(|e| e.0)
}

fn fd_path(t: &Tracee, fd: i32) -> Want {
    let mut out = path::PathBuf::new();
    path::fd_path(t, fd, &mut out)
        .map(|()| out.as_bytes().to_vec())
        .map_err(|e| e.0)
}

/// `Ok(p)` as bytes, for comparisons.
fn ok(p: impl AsRef<[u8]>) -> Want {
    Ok(p.as_ref().to_vec())
}

/// Readable form of a result, for failure messages.
fn show(r: &Want) -> String {
    match r {
        Ok(p) => format!("Ok({})", String::from_utf8_lossy(p)),
        Err(e) => format!("Err({})", Errno(*e).name()),
    }
}

fn assert_canon(t: &Tracee, base: Base, p: impl AsRef<[u8]>, r: Resolve, f: Follow, want: &Want) {
    let p = p.as_ref();
    let got = canon(t, base, p, r, f);
    assert!(
        &got == want,
        "{} ({base:?}, {r:?}, {f:?}): got {}, want {}",
        String::from_utf8_lossy(p),
        show(&got),
        show(want)
    );
}

fn open_dir(p: &Path) -> Fd {
    sys::open(
        &cs(bytes(p)),
        libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        0,
    )
    .unwrap()
}

/// Makes `fd` descriptor number `n` (in a child: system calls only). `dup2` alone would close
/// `n` when `fd` already is `n` and drops.
fn move_to(fd: Fd, n: i32) -> Result<(), Errno> {
    if fd.raw() == n {
        fd.into_raw();
        return Ok(());
    }
    sys::dup2(&fd, n)
}

/// The descriptor number a forked tracee reports its setup on.
const REPORT_FD: i32 = 250;

/// A forked tracee, killed and reaped when dropped.
struct Child(Pid);

impl Child {
    /// Forks a child that runs `setup` (system calls only), reports how it went, then sleeps.
    fn spawn(setup: impl FnOnce() -> Result<(), Errno>) -> Child {
        let (r, w) = sys::pipe2(libc::O_CLOEXEC).unwrap();
        match sys::fork().unwrap() {
            Fork::Child => {
                // Report through a number the setup leaves alone: it may replace low ones.
                if sys::dup2(&w, REPORT_FD).is_err() {
                    sys::exit(1);
                }
                drop(w);
                let code = match setup() {
                    Ok(()) => 0,
                    Err(e) => u8::try_from(e.0).unwrap_or(255),
                };
                let _ = sys::write_all(&Fd::from_raw(REPORT_FD), &[code]);
                loop {
                    sys::sleep_ms(100_000);
                }
            }
            Fork::Parent(pid) => {
                drop(w);
                let child = Child(pid);
                assert_eq!(
                    sys::poll_in(&r, 5000),
                    Ok(true),
                    "child {pid:?} did not report"
                );
                let mut code = [0u8];
                assert_eq!(
                    sys::read(&r, &mut code),
                    Ok(1),
                    "child ended before it reported"
                );
                assert_eq!(
                    code[0],
                    0,
                    "child setup failed: {}",
                    Errno(i32::from(code[0])).name()
                );
                child
            }
        }
    }

    fn tracee(&self) -> Tracee {
        Tracee {
            tid: self.0,
            tgid: self.0,
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = sys::kill(self.0, libc::SIGKILL);
        let _ = sys::waitpid(self.0, sys::Wait::Block);
    }
}

/// The tree of SPEC §2.8's test vectors, in a fresh directory `H` (returned).
fn spec_tree(name: &str) -> PathBuf {
    let h = tempdir(name);
    let link = |target: &str, at: &str| symlink(target, h.join(at)).unwrap();
    for d in ["dir", "a", "b", "d"] {
        fs::create_dir(h.join(d)).unwrap();
    }
    for f in ["file", "f", "d/file"] {
        fs::write(h.join(f), "").unwrap();
    }
    link("loop1", "loop0");
    link("loop0", "loop1");
    link("self", "self");
    link("file", "link");
    link("f", "l");
    link("dir", "l1");
    link("l1", "l2");
    link("missing", "dl");
    link("missingdir", "ml");
    link("../b", "a/link");
    link("d", "p");
    link("../p/file", "d/link");
    h
}

/// SPEC §2.8's test vectors: (path below H, mode, follow, result below H or errno). A path that
/// starts with `/` is only tried in its absolute form.
fn spec_vectors(h: &Path) -> Vec<(String, Resolve, Follow, Result<String, i32>)> {
    let base = h.file_name().unwrap().to_str().unwrap();
    let x4096 = "x".repeat(4096);
    let s = |v: &str| Ok(v.to_string());
    vec![
        ("loop0/foo".into(), E, Y, Err(ELOOP)),
        ("loop0".into(), N, NO, s("loop0")),
        ("self/foo".into(), E, Y, Err(ELOOP)),
        (format!("{x4096}/foo"), E, Y, Err(ENAMETOOLONG)),
        ("file/baz".into(), E, Y, Err(ENOTDIR)),
        ("link/baz".into(), E, Y, Err(ENOTDIR)),
        ("link/baz".into(), E, NO, Err(ENOTDIR)),
        (format!("/./..//{base}/f"), E, Y, s("f")),
        ("file/".into(), E, Y, Err(ENOTDIR)),
        ("missing/..".into(), E, Y, s("")),
        ("l".into(), E, NO, s("l")),
        ("l".into(), E, Y, s("f")),
        ("l2".into(), E, Y, s("dir")),
        ("dl".into(), E, Y, Err(ENOENT)),
        ("ml/..".into(), E, Y, s("")),
        ("missing".into(), N, Y, s("missing")),
        ("dl".into(), N, Y, s("missing")),
        ("missingdir/nofile".into(), N, Y, s("missingdir/nofile")),
        ("a/link/no-file".into(), N, Y, s("b/no-file")),
        ("p/link".into(), E, Y, s("d/file")),
    ]
}

/// `H/rest`, or `H` for an empty rest.
fn under(h: &Path, rest: &str) -> Vec<u8> {
    let mut v = bytes(h).to_vec();
    if !rest.is_empty() {
        v.push(b'/');
        v.extend_from_slice(rest.as_bytes());
    }
    v
}

/// Checks every vector from `t` with an absolute path and, from `base` (which must be H), with a
/// relative one.
fn check_vectors(h: &Path, t: &Tracee, base: Option<Base>) {
    for (rest, r, f, want) in spec_vectors(h) {
        let want = want.map(|w| under(h, &w));
        let abs = if rest.starts_with('/') {
            [bytes(h), rest.as_bytes()].concat()
        } else {
            under(h, &rest)
        };
        assert_canon(t, Base::Cwd, &abs, r, f, &want);
        assert_canon(t, Base::Fd(-7), &abs, r, f, &want); // an absolute path ignores the dirfd
        if let (Some(b), false) = (base, rest.starts_with('/')) {
            assert_canon(t, b, rest.as_bytes(), r, f, &want);
        }
    }
}

#[test]
fn spec_vectors_for_this_thread() {
    let h = spec_tree("vec-self");
    assert_canon(&me(), Base::None, b"rel", E, Y, &Err(EINVAL));
    assert_canon(&me(), Base::None, b"", E, Y, &Err(ENOENT));
    assert_canon(&me(), Base::Cwd, b"", N, Y, &Err(ENOENT));
    let dir = open_dir(&h);
    check_vectors(&h, &me(), Some(Base::Fd(dir.raw())));
    remove_tree(&h);
}

#[test]
fn spec_vectors_for_a_child_in_another_cwd() {
    let h = spec_tree("vec-child");
    let (hc, dot) = (cs(bytes(&h)), cs("."));
    // cwd = H, descriptor 7 = H (opened from the new cwd).
    let child = Child::spawn(|| {
        sys::chdir(&hc)?;
        move_to(sys::open(&dot, libc::O_PATH | libc::O_DIRECTORY, 0)?, 7)
    });
    let t = child.tracee();
    check_vectors(&h, &t, Some(Base::Cwd));
    check_vectors(&h, &t, Some(Base::Fd(7)));
    // The child's cwd, not this process's, is the base.
    assert_canon(&t, Base::Cwd, b"f", E, Y, &ok(under(&h, "f")));
    assert_canon(&me(), Base::Cwd, b"f", E, Y, &Err(ENOENT));
    remove_tree(&h);
}

#[test]
fn exist_results_agree_with_the_kernel() {
    // Wherever realpath(3) succeeds, EXIST + follow must give the same path.
    let h = spec_tree("kernel");
    let paths = [
        "l",
        "l2",
        "l1/",
        "p/link",
        "a/link",
        "a/link/..",
        "./d/../l2/.",
        "d/link",
        "dir//",
        "p/../f",
    ];
    for p in paths {
        let full = h.join(p);
        let kernel = fs::canonicalize(&full).unwrap();
        assert_canon(&me(), Base::Cwd, bytes(&full), E, Y, &ok(bytes(&kernel)));
    }
    remove_tree(&h);
}

#[test]
fn slashes_dots_and_the_root() {
    let h = spec_tree("slashes");
    symlink("dir", h.join("ld")).unwrap();
    let root = open_dir(Path::new("/"));
    let hfd = open_dir(&h);
    let t = me();
    let table: Vec<(&[u8], Base, Resolve, Follow, Want)> = vec![
        (b"dir/", Base::Fd(hfd.raw()), E, Y, ok(under(&h, "dir"))),
        (b"dir///", Base::Fd(hfd.raw()), E, NO, ok(under(&h, "dir"))),
        (
            b"missing/",
            Base::Fd(hfd.raw()),
            N,
            Y,
            ok(under(&h, "missing")),
        ),
        (b"missing/", Base::Fd(hfd.raw()), E, Y, Err(ENOENT)),
        // A trailing slash follows a final symlink, and needs a directory.
        (b"l/", Base::Fd(hfd.raw()), E, NO, Err(ENOTDIR)),
        (b"dl/", Base::Fd(hfd.raw()), N, NO, ok(under(&h, "missing"))),
        (b"ld/", Base::Fd(hfd.raw()), E, NO, ok(under(&h, "dir"))),
        (b"ld", Base::Fd(hfd.raw()), E, NO, ok(under(&h, "ld"))),
        (b"f/.", Base::Fd(hfd.raw()), E, Y, Err(ENOTDIR)),
        (b"f/..", Base::Fd(hfd.raw()), E, Y, Err(ENOTDIR)),
        (b".", Base::Fd(hfd.raw()), E, Y, ok(bytes(&h))),
        (b"./", Base::Fd(hfd.raw()), E, Y, ok(bytes(&h))),
        (b"dir/./../f", Base::Fd(hfd.raw()), E, Y, ok(under(&h, "f"))),
        // Missing stays missing until `..` climbs back out.
        (b"missing/.", Base::Fd(hfd.raw()), E, Y, Err(ENOENT)),
        (b"m1/m2/..", Base::Fd(hfd.raw()), E, Y, Err(ENOENT)),
        (b"m1/m2/..", Base::Fd(hfd.raw()), N, Y, ok(under(&h, "m1"))),
        (
            b"m1/m2/../../f",
            Base::Fd(hfd.raw()),
            E,
            Y,
            ok(under(&h, "f")),
        ),
        // `..` never climbs above the root.
        (b"/", Base::Cwd, E, Y, ok("/")),
        (b"///", Base::Cwd, E, NO, ok("/")),
        (b"/../../..", Base::Cwd, E, Y, ok("/")),
        (b"/../proc/..//./", Base::Cwd, E, Y, ok("/")),
        (
            b"../../proc/../no-such-syd-dir",
            Base::Fd(root.raw()),
            N,
            Y,
            ok("/no-such-syd-dir"),
        ),
        (b"..", Base::Fd(root.raw()), E, Y, ok("/")),
    ];
    for (p, base, r, f, want) in &table {
        assert_canon(&t, *base, p, *r, *f, want);
    }
    remove_tree(&h);
}

#[test]
fn length_limits() {
    let t = me();
    // A path of PATH_MAX - 1 bytes is fine, one more byte is too long.
    let comp = format!("/{}", "y".repeat(199)); // 200 bytes a component
    let mut p = comp.repeat(4095 / 200);
    p.push('/');
    p.push_str(&"z".repeat(4095 - p.len()));
    assert_eq!(p.len(), 4095);
    assert_canon(&t, Base::Cwd, p.as_bytes(), N, Y, &ok(&p));
    assert_canon(&t, Base::Cwd, p.as_bytes(), E, Y, &Err(ENOENT));
    let p1 = format!("{p}z");
    assert_canon(&t, Base::Cwd, p1.as_bytes(), N, Y, &Err(ENAMETOOLONG));
    // Redundant parts do not count against the result, but against the input.
    let dots = format!("/{}", "./".repeat(2000));
    assert_canon(&t, Base::Cwd, dots.as_bytes(), E, Y, &ok("/"));
    // NAME_MAX: 255 bytes a component, 256 is too long.
    let n255 = format!("/{}", "n".repeat(255));
    assert_canon(&t, Base::Cwd, n255.as_bytes(), N, Y, &ok(&n255));
    let n256 = format!("/{}", "n".repeat(256));
    assert_canon(&t, Base::Cwd, n256.as_bytes(), N, Y, &Err(ENAMETOOLONG));
    assert_canon(
        &t,
        Base::Cwd,
        format!("/no-such-syd-dir{n256}"),
        N,
        Y,
        &Err(ENAMETOOLONG),
    );

    // Symlinks that expand past PATH_MAX: in the unresolved rest, and in the result.
    let h = tempdir("length");
    let u200 = format!("/{}", "u".repeat(200));
    let long_target = format!("/{}", "t".repeat(200)).repeat(15); // 3015 bytes, missing
    symlink(&long_target, h.join("big")).unwrap();
    let fits = format!("{}/big{u200}", h.display());
    assert_canon(
        &t,
        Base::Cwd,
        fits.as_bytes(),
        N,
        Y,
        &ok(format!("{long_target}{u200}")),
    );
    let rest_too_long = format!("{}/big{}", h.display(), u200.repeat(6)); // 3015 + 1206 to go
    assert_canon(
        &t,
        Base::Cwd,
        rest_too_long.as_bytes(),
        N,
        Y,
        &Err(ENAMETOOLONG),
    );
    // Relative: the rest fits (3014 + 1 + 1074 bytes), but not H in front of it.
    let rel_target = vec!["t".repeat(200); 15].join("/");
    symlink(&rel_target, h.join("relbig")).unwrap();
    let tail = format!("{}/{}", u200.repeat(5), "v".repeat(69));
    assert_eq!(rel_target.len() + tail.len(), 4089);
    let out_too_long = format!("{}/relbig{tail}", h.display());
    assert_canon(
        &t,
        Base::Cwd,
        out_too_long.as_bytes(),
        N,
        Y,
        &Err(ENAMETOOLONG),
    );
    let rel_fits = format!("{}/relbig{u200}", h.display());
    let want = format!("{}/{rel_target}{u200}", h.display());
    assert_canon(&t, Base::Cwd, rel_fits.as_bytes(), N, Y, &ok(want));
    remove_tree(&h);
}

#[test]
fn forty_links_resolve_and_forty_one_loop() {
    let h = tempdir("links");
    fs::write(h.join("f"), "").unwrap();
    // c40 -> f, and c<i> -> c<i+1>: resolving c<i> follows 41 - i links.
    symlink("f", h.join("c40")).unwrap();
    for i in 0..40 {
        symlink(format!("c{}", i + 1), h.join(format!("c{i}"))).unwrap();
    }
    let t = me();
    let (c1, c0) = (h.join("c1"), h.join("c0"));
    assert_canon(&t, Base::Cwd, bytes(&c1), E, Y, &ok(under(&h, "f")));
    assert_canon(&t, Base::Cwd, bytes(&c0), E, Y, &Err(ELOOP));
    assert_canon(&t, Base::Cwd, bytes(&c0), E, NO, &ok(bytes(&c0)));
    // The kernel draws the line at the same place.
    assert!(fs::metadata(&c1).is_ok());
    assert_eq!(fs::metadata(&c0).unwrap_err().raw_os_error(), Some(ELOOP));
    // Intermediate links count too.
    fs::create_dir(h.join("d")).unwrap();
    fs::write(h.join("d/x"), "").unwrap();
    fs::remove_file(h.join("c40")).unwrap();
    symlink("d", h.join("c40")).unwrap();
    assert_canon(
        &t,
        Base::Cwd,
        bytes(&c1.join("x")),
        E,
        Y,
        &ok(under(&h, "d/x")),
    );
    assert_canon(&t, Base::Cwd, bytes(&c0.join("x")), E, Y, &Err(ELOOP));
    remove_tree(&h);
}

#[test]
fn proc_self_means_the_tracee() {
    let h = tempdir("procself");
    fs::write(h.join("f"), "").unwrap();
    symlink("/proc/self/fd", h.join("myfd")).unwrap();
    symlink("/proc/thread-self", h.join("mythread")).unwrap();
    let t = me();
    let (tid, tgid) = (t.tid.0, t.tgid.0);
    assert_ne!(tid, tgid, "tests run on threads other than the main one");
    let file = sys::open(
        &cs(bytes(&h.join("f"))),
        libc::O_RDONLY | libc::O_CLOEXEC,
        0,
    )
    .unwrap();
    let cwd = std::env::current_dir().unwrap();
    let table: Vec<(String, Resolve, Follow, Want)> = vec![
        (
            "/proc/self/status".into(),
            E,
            Y,
            ok(format!("/proc/{tid}/status")),
        ),
        ("/proc/self".into(), E, NO, ok(format!("/proc/{tid}"))),
        ("/proc/self/".into(), E, Y, ok(format!("/proc/{tid}"))),
        (
            "/proc/thread-self/comm".into(),
            E,
            Y,
            ok(format!("/proc/{tgid}/task/{tid}/comm")),
        ),
        (
            "/proc/mounts".into(),
            E,
            NO,
            ok(format!("/proc/{tid}/mounts")),
        ),
        (
            "/proc/net/dev".into(),
            E,
            Y,
            ok(format!("/proc/{tid}/net/dev")),
        ),
        (
            "/proc/./self/../self/stat".into(),
            E,
            Y,
            ok(format!("/proc/{tid}/stat")),
        ),
        ("/proc/selfish".into(), N, Y, ok("/proc/selfish")),
        ("/proc/self/no-such-entry".into(), E, Y, Err(ENOENT)),
        ("/proc/self/cwd".into(), E, Y, ok(bytes(&cwd))),
        (
            "/proc/self/cwd".into(),
            E,
            NO,
            ok(format!("/proc/{tid}/cwd")),
        ),
        (
            format!("/proc/self/fd/{}", file.raw()),
            E,
            Y,
            ok(under(&h, "f")),
        ),
        (
            format!("/proc/{tid}/task/{tid}/fd/{}", file.raw()),
            E,
            Y,
            ok(under(&h, "f")),
        ),
        (
            format!("/proc/self/fd/{}/x", file.raw()),
            N,
            Y,
            Err(ENOTDIR),
        ),
        // Symlink targets that start with /proc/self are rewritten as well.
        (
            format!("{}/myfd/{}", h.display(), file.raw()),
            E,
            Y,
            ok(under(&h, "f")),
        ),
        (
            format!("{}/mythread/comm", h.display()),
            E,
            Y,
            ok(format!("/proc/{tgid}/task/{tid}/comm")),
        ),
    ];
    for (p, r, f, want) in &table {
        assert_canon(&t, Base::Cwd, p.as_bytes(), *r, *f, want);
    }
    if fs::read_link("/dev/fd").is_ok_and(|l| l == Path::new("/proc/self/fd")) {
        let p = format!("/dev/fd/{}", file.raw());
        assert_canon(&t, Base::Cwd, p.as_bytes(), E, Y, &ok(under(&h, "f")));
        assert_canon(
            &t,
            Base::Cwd,
            p.as_bytes(),
            E,
            NO,
            &ok(format!("/proc/{tid}/fd/{}", file.raw())),
        );
    } else {
        println!("skip: /dev/fd is not a link to /proc/self/fd");
    }
    remove_tree(&h);
}

#[test]
fn proc_links_of_a_child() {
    let h = tempdir("procchild");
    fs::create_dir(h.join("cwd")).unwrap();
    fs::write(h.join("f"), "").unwrap();
    let (cwd, f) = (cs(bytes(&h.join("cwd"))), cs(bytes(&h.join("f"))));
    let (pipe_r, pipe_w) = sys::pipe2(libc::O_CLOEXEC).unwrap();
    let (sock, _peer) = sys::socketpair(libc::SOCK_STREAM | libc::SOCK_CLOEXEC).unwrap();
    // cwd = H/cwd; stdin = a pipe; 100 = H/f; 101 = a socket (numbers no test has open).
    let child = Child::spawn(|| {
        sys::chdir(&cwd)?;
        sys::dup2(&pipe_r, 0)?;
        sys::dup2(&sock, 101)?;
        move_to(sys::open(&f, libc::O_RDONLY, 0)?, 100)
    });
    drop((pipe_w, pipe_r));
    let t = child.tracee();
    let pid = child.0 .0;
    let table: Vec<(String, Resolve, Follow, Want)> = vec![
        ("/proc/self".into(), E, Y, ok(format!("/proc/{pid}"))),
        ("/proc/self/cwd".into(), E, Y, ok(under(&h, "cwd"))),
        ("/proc/self/cwd/../f".into(), E, Y, ok(under(&h, "f"))),
        ("/proc/self/fd/100".into(), E, Y, ok(under(&h, "f"))),
        // A link to something that is no path stays as it is.
        (
            "/proc/self/fd/0".into(),
            E,
            Y,
            ok(format!("/proc/{pid}/fd/0")),
        ),
        (
            "/proc/self/fd/101".into(),
            E,
            Y,
            ok(format!("/proc/{pid}/fd/101")),
        ),
        ("/proc/self/fd/0/".into(), E, Y, Err(ENOTDIR)),
        ("/proc/self/fd/101/x".into(), N, Y, Err(ENOTDIR)),
        ("/proc/self/fd/999999".into(), E, Y, Err(ENOENT)),
    ];
    for (p, r, f, want) in &table {
        assert_canon(&t, Base::Cwd, p.as_bytes(), *r, *f, want);
    }
    if fs::read_link("/dev/stdin").is_ok_and(|l| l == Path::new("/proc/self/fd/0")) {
        assert_canon(
            &t,
            Base::Cwd,
            b"/dev/stdin",
            E,
            Y,
            &ok(format!("/proc/{pid}/fd/0")),
        );
        assert_canon(&t, Base::Cwd, b"/dev/fd/100", E, Y, &ok(under(&h, "f")));
    } else {
        println!("skip: /dev/stdin is not a link to /proc/self/fd/0");
    }
    assert_eq!(fd_path(&t, 100), ok(under(&h, "f")));
    assert_eq!(fd_path(&t, 0), Err(ENOTDIR));
    assert_eq!(fd_path(&t, 101), Err(ENOTDIR));
    assert_eq!(fd_path(&t, 999_999), Err(EBADF));
    remove_tree(&h);
}

#[test]
fn bad_dirfds() {
    let h = tempdir("dirfds");
    fs::write(h.join("f"), "").unwrap();
    let t = me();
    let (r, _w) = sys::pipe2(libc::O_CLOEXEC).unwrap();
    let file = sys::open(
        &cs(bytes(&h.join("f"))),
        libc::O_RDONLY | libc::O_CLOEXEC,
        0,
    )
    .unwrap();
    let unused = 1_000_000; // above any RLIMIT_NOFILE: never open
    let table: Vec<(Base, &[u8], Want)> = vec![
        (Base::Fd(r.raw()), b"x", Err(ENOTDIR)),
        (Base::Fd(unused), b"x", Err(EBADF)),
        (Base::Fd(-5), b"x", Err(EBADF)),
        (Base::Fd(-100), b"x", Err(EBADF)), // AT_FDCWD only through from_dirfd
        (Base::Fd(file.raw()), b"x", Err(ENOTDIR)),
        (Base::Fd(file.raw()), b".", Err(ENOTDIR)),
        (Base::Fd(file.raw()), b"..", Err(ENOTDIR)),
        // An absolute path ignores the dirfd, however bad.
        (Base::Fd(unused), b"/", ok("/")),
        (Base::Fd(r.raw()), b"/proc", ok("/proc")),
    ];
    for (base, p, want) in &table {
        assert_canon(&t, *base, p, E, Y, want);
    }
    assert_eq!(Base::from_dirfd(libc::AT_FDCWD as u64), Base::Cwd);
    assert_eq!(Base::from_dirfd(0xffff_ff9c), Base::Cwd); // only the low 32 bits count
    assert_eq!(Base::from_dirfd(0x1_0000_0003), Base::Fd(3));
    assert_eq!(Base::from_dirfd(0xffff_ffff), Base::Fd(-1));
    assert_eq!(fd_path(&t, file.raw()), ok(under(&h, "f")));
    assert_eq!(fd_path(&t, r.raw()), Err(ENOTDIR));
    assert_eq!(fd_path(&t, -1), Err(EBADF));
    assert_eq!(fd_path(&t, unused), Err(EBADF));
    remove_tree(&h);
}

#[test]
fn unlinked_files_and_directories() {
    let h = tempdir("deleted");
    for d in ["gone", "keep (deleted)", "gone2"] {
        fs::create_dir(h.join(d)).unwrap();
    }
    fs::write(h.join("f"), "").unwrap();
    fs::write(h.join("real (deleted)"), "").unwrap();
    fs::write(h.join("rm"), "").unwrap();
    let (gone, keep) = (
        cs(bytes(&h.join("gone"))),
        cs(bytes(&h.join("keep (deleted)"))),
    );
    let deleted_cwd = Child::spawn(|| sys::chdir(&gone));
    let literal_cwd = Child::spawn(|| sys::chdir(&keep));
    fs::remove_dir(h.join("gone")).unwrap();
    let t = deleted_cwd.tracee();
    let pid = deleted_cwd.0 .0;
    let table: Vec<(String, Resolve, Want)> = vec![
        ("x".into(), N, ok(under(&h, "gone/x"))),
        ("x".into(), E, Err(ENOENT)),
        ("sub/x".into(), N, ok(under(&h, "gone/sub/x"))),
        (".".into(), E, ok(under(&h, "gone"))),
        ("../f".into(), E, ok(under(&h, "f"))),
        ("/proc/self/cwd".into(), E, ok(under(&h, "gone"))),
        ("/proc/self/cwd/x".into(), N, ok(under(&h, "gone/x"))),
        ("/proc/self/cwd/x".into(), E, Err(ENOENT)),
        (format!("/proc/{pid}/cwd/../f"), E, ok(under(&h, "f"))),
    ];
    for (p, r, want) in &table {
        assert_canon(&t, Base::Cwd, p.as_bytes(), *r, Y, want);
    }
    // A directory whose name really ends with " (deleted)" keeps it.
    let t2 = literal_cwd.tracee();
    assert_canon(
        &t2,
        Base::Cwd,
        b"x",
        N,
        Y,
        &ok(under(&h, "keep (deleted)/x")),
    );

    // Files: removed while open, named " (deleted)", and never linked (O_TMPFILE).
    let me = me();
    let open = |p: &Path| sys::open(&cs(bytes(p)), libc::O_RDONLY | libc::O_CLOEXEC, 0).unwrap();
    let removed = open(&h.join("rm"));
    fs::remove_file(h.join("rm")).unwrap();
    let literal = open(&h.join("real (deleted)"));
    assert_eq!(fd_path(&me, removed.raw()), ok(under(&h, "rm")));
    assert_eq!(fd_path(&me, literal.raw()), ok(under(&h, "real (deleted)")));
    let fd = format!("/proc/self/fd/{}", removed.raw());
    assert_canon(&me, Base::Cwd, fd.as_bytes(), E, Y, &ok(under(&h, "rm")));
    assert_canon(&me, Base::Cwd, format!("{fd}/x"), N, Y, &Err(ENOTDIR));
    match sys::open(
        &cs(bytes(&h)),
        libc::O_TMPFILE | libc::O_RDWR | libc::O_CLOEXEC,
        0o600,
    ) {
        Ok(tmp) => {
            let got = fd_path(&me, tmp.raw()).unwrap();
            let name = got.strip_prefix(under(&h, "").as_slice()).expect("in H");
            assert!(
                name.starts_with(b"/#") && !name.ends_with(b" (deleted)"),
                "{}",
                show(&Ok(got.clone()))
            );
        }
        Err(e) => println!("skip: O_TMPFILE: {}", e.name()),
    }
    // A removed directory reached through a descriptor.
    let d2 = open_dir(&h.join("gone2"));
    fs::remove_dir(h.join("gone2")).unwrap();
    assert_eq!(fd_path(&me, d2.raw()), ok(under(&h, "gone2")));
    assert_canon(
        &me,
        Base::Fd(d2.raw()),
        b"x",
        N,
        Y,
        &ok(under(&h, "gone2/x")),
    );
    assert_canon(&me, Base::Fd(d2.raw()), b"x", E, Y, &Err(ENOENT));
    let fd2 = format!("/proc/self/fd/{}/x", d2.raw());
    assert_canon(
        &me,
        Base::Cwd,
        fd2.as_bytes(),
        N,
        Y,
        &ok(under(&h, "gone2/x")),
    );
    remove_tree(&h);
}

#[test]
fn chrooted_child_resolves_inside_its_root() {
    if !common::is_root() {
        println!("skip: chroot needs root");
        return;
    }
    let r = tempdir("chroot");
    let outside = tempdir("chroot-outside");
    for d in ["etc", "data", "sub"] {
        fs::create_dir(r.join(d)).unwrap();
    }
    fs::write(r.join("data/f"), "").unwrap();
    symlink("/data", r.join("etc/link")).unwrap();
    symlink("../../../..", r.join("etc/up")).unwrap();
    let (rc, outc, etc, data) = (cs(bytes(&r)), cs(bytes(&outside)), cs("/etc"), cs("/data"));
    // Before chroot: 8 = a directory outside the new root. Then root = R, cwd = /etc, 7 = /data.
    let child = Child::spawn(|| {
        move_to(sys::open(&outc, libc::O_PATH | libc::O_DIRECTORY, 0)?, 8)?;
        sys::chroot(&rc)?;
        sys::chdir(&etc)?;
        move_to(sys::open(&data, libc::O_PATH | libc::O_DIRECTORY, 0)?, 7)
    });
    let t = child.tracee();
    let pid = child.0 .0;
    // Look-alikes of magic links are plain symlinks when not on procfs.
    fs::create_dir_all(r.join(format!("proc/{pid}"))).unwrap();
    symlink("/data", r.join(format!("proc/{pid}/cwd"))).unwrap();
    symlink(&r, r.join(format!("proc/{pid}/root"))).unwrap();
    let table: Vec<(Base, &str, Resolve, Want)> = vec![
        (Base::Cwd, "/etc/passwd", E, Err(ENOENT)), // the supervisor's /etc does not count
        (Base::Cwd, "/etc/passwd", N, ok("/etc/passwd")),
        (Base::Cwd, "/etc/link/f", E, ok("/data/f")),
        (Base::Cwd, "/etc/up/data/f", E, ok("/data/f")),
        (Base::Cwd, "/../../data", E, ok("/data")),
        (Base::Cwd, "x", N, ok("/etc/x")),
        (Base::Cwd, "link/f", E, ok("/data/f")),
        (Base::Cwd, "../../../data", E, ok("/data")),
        (Base::Fd(7), "f", E, ok("/data/f")),
        (Base::Fd(7), "..", E, ok("/")),
        (Base::Fd(8), "y", N, Err(ENOENT)), // outside the root
        (Base::Cwd, "/proc/self/cwd/f", E, ok("/data/f")),
        (Base::Cwd, "/proc/self/root/data", N, ok(under(&r, "data"))),
    ];
    for (base, p, res, want) in &table {
        assert_canon(&t, *base, p.as_bytes(), *res, Y, want);
    }
    assert_eq!(fd_path(&t, 7), ok("/data"));
    assert_eq!(fd_path(&t, 8), Err(ENOENT));
    drop(child);
    remove_tree(&r);
    remove_tree(&outside);
}

#[test]
fn following_a_link_keeps_its_access_time() {
    let h = tempdir("atime");
    fs::write(h.join("f"), "").unwrap();
    symlink("f", h.join("l")).unwrap();
    let link = cs(bytes(&h.join("l")));
    let nofollow = libc::AT_SYMLINK_NOFOLLOW;
    let old = sys::Timestamp {
        sec: 946_684_800,
        nsec: 0,
    }; // 2000-01-01
    let atime = || sys::fstatat(None, &link, nofollow).unwrap().atime;
    sys::utimensat(None, &link, Some(old), None, nofollow).unwrap();
    let mut buf = [0u8; 16];
    sys::readlinkat(None, &link, &mut buf).unwrap();
    if atime() == old {
        println!("note: readlink(2) keeps access times on this mount");
    }
    sys::utimensat(None, &link, Some(old), None, nofollow).unwrap();
    assert_canon(
        &me(),
        Base::Cwd,
        bytes(&h.join("l")),
        E,
        Y,
        &ok(under(&h, "f")),
    );
    assert_eq!(atime(), old);
    remove_tree(&h);
}

#[test]
fn unsearchable_directories_count_as_missing() {
    if common::is_root() {
        println!("skip: root searches every directory (the run as uid 65534 covers this)");
        return;
    }
    let h = tempdir("eacces");
    fs::create_dir_all(h.join("locked/sub")).unwrap();
    fs::write(h.join("f"), "").unwrap();
    fs::set_permissions(h.join("locked"), fs::Permissions::from_mode(0o000)).unwrap();
    let t = me();
    let hfd = open_dir(&h);
    let b = Base::Fd(hfd.raw());
    assert_canon(&t, b, b"locked", E, Y, &ok(under(&h, "locked")));
    assert_canon(&t, b, b"locked/sub", E, Y, &Err(EACCES));
    assert_canon(&t, b, b"locked/sub/x", N, Y, &ok(under(&h, "locked/sub/x")));
    assert_canon(&t, b, b"locked/sub/../../f", E, Y, &ok(under(&h, "f")));
    remove_tree(&h);
}

#[test]
fn all_tests_as_nobody() {
    if std::env::var_os(AS_NOBODY).is_some() {
        return; // this is the re-run
    }
    if !common::is_root() {
        println!("skip: not root, so these tests run unprivileged already");
        return;
    }
    // Re-run this test binary as uid 65534, or a copy of it when its directory is private.
    let original = std::env::current_exe().unwrap();
    let open_to_all = original.ancestors().all(|p| {
        p.as_os_str().is_empty()
            || fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o001 != 0)
    });
    let dir = tempdir("nobody-bin");
    let exe = if open_to_all {
        original
    } else {
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let exe = dir.join("path-tests");
        // By cp(1): a copy written here could leak its writable descriptor into a child forked by
        // another test meanwhile, and running it would then fail with ETXTBSY.
        let cp = std::process::Command::new("cp")
            .arg(&original)
            .arg(&exe)
            .status();
        assert!(cp.unwrap().success());
        fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).unwrap();
        exe
    };
    let out = common::Run::new(&exe, &["--test-threads=2"])
        .env(AS_NOBODY, "1")
        .unprivileged()
        .run();
    remove_tree(&dir);
    assert_eq!(
        out.code(),
        Some(0),
        "as uid 65534:\nstdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    assert!(out
        .stdout
        .contains("unsearchable_directories_count_as_missing ... ok"));
}

/// The file type the canonicalizer reports for the final component: what it looked up last,
/// never a stale one (a `..`, a followed link, a missing file leave none).
#[test]
fn the_final_kind_is_the_one_looked_up() {
    let d = tempdir("kind");
    fs::create_dir(d.join("dir")).unwrap();
    fs::write(d.join("dir/file"), "").unwrap();
    symlink("dir/file", d.join("link")).unwrap();
    let t = me();
    let kind = |p: &Path, r: Resolve, f: Follow| {
        let mut out = path::PathBuf::new();
        path::canonicalize(&t, Base::Cwd, bytes(p), r, f, &mut out).unwrap();
        out.kind()
    };
    let (exist, nolast) = (Resolve::Exist, Resolve::NoLast);
    let table: [(PathBuf, Resolve, Follow, Option<u32>); 6] = [
        (d.join("dir/file"), exist, Follow::Yes, Some(libc::S_IFREG)),
        (d.join("dir"), exist, Follow::Yes, Some(libc::S_IFDIR)),
        (d.join("link"), exist, Follow::Yes, Some(libc::S_IFREG)),
        (d.join("link"), exist, Follow::No, Some(libc::S_IFLNK)),
        (d.join("dir/.."), exist, Follow::Yes, None),
        (d.join("dir/missing"), nolast, Follow::Yes, None),
    ];
    for (p, r, f, want) in table {
        assert_eq!(kind(&p, r, f), want, "{}", p.display());
    }
    remove_tree(&d);
}

/// `stat_canonical` and `open_canonical` reach a canonical path from the tracee's root; the canonical path of `/proc/<pid>/exe` is the running executable.
#[test]
fn executable_and_lookups_from_the_root() {
    let t = me();
    let mut out = path::PathBuf::new();
    let link = format!("/proc/{}/exe", t.tgid.0);
    path::canonicalize(&t, Base::Cwd, link.as_bytes(), E, Y, &mut out).unwrap();
    let exe = fs::canonicalize(std::env::current_exe().unwrap()).unwrap();
    assert_eq!(out.as_bytes(), bytes(&exe));
    let root = sys::open(
        &cs(format!("/proc/{}/root", t.tid.0)),
        libc::O_PATH | libc::O_CLOEXEC,
        0,
    )
    .unwrap();
    let st = path::stat_canonical(&root, &mut out).unwrap();
    let meta = fs::metadata(&exe).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!((st.dev, st.ino), (meta.dev(), meta.ino()));
    let fd = path::open_canonical(&root, &mut out, libc::O_RDONLY | libc::O_CLOEXEC).unwrap();
    let st = sys::fstat(&fd).unwrap();
    assert_eq!((st.dev, st.ino), (meta.dev(), meta.ino()));
    let h = tempdir("lookups");
    let mut missing = path::PathBuf::new();
    let p = h.join("missing");
    path::canonicalize(&t, Base::Cwd, bytes(&p), N, Y, &mut missing).unwrap();
    assert_eq!(
        path::stat_canonical(&root, &mut missing).map(drop),
        Err(Errno(ENOENT))
    );
    remove_tree(&h);
}
