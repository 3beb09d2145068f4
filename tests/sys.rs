//! Smoke tests of the system-call layer: `bin/sys.rs` compiled into this std test crate (its
//! entry symbol and panic handler are left out under `cfg(test)`), each wrapper called for real.
//!
//! The test harness is multi-threaded: forked children only make system calls and exit, and
//! every wait names its child.

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

use std::cell::Cell;
use std::ffi::{CStr, CString};

use sys::{AddFd, Answer, CStrArray, Env, Errno, Fd, Fork, Pid, Status, Wait};

fn cs(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// A fresh empty directory under the system's temporary directory.
fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("syd-sys-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Forks a child that runs `f` and exits with its result.
fn spawn(f: impl FnOnce() -> i32) -> Pid {
    match sys::fork().unwrap() {
        Fork::Child => sys::exit(f()),
        Fork::Parent(pid) => pid,
    }
}

/// Waits for `pid` (blocking) and returns how it ended.
fn reap(pid: Pid) -> Status {
    let (got, st) = sys::waitpid(pid, Wait::Block).unwrap().unwrap();
    assert_eq!(got, pid);
    st
}

#[test]
fn errno_names_and_texts() {
    let table = [
        (libc::EPERM, "EPERM", "Operation not permitted"),
        (libc::ENOENT, "ENOENT", "No such file or directory"),
        (libc::ENOSYS, "ENOSYS", "Function not implemented"),
        (libc::ECANCELED, "ECANCELED", "Operation canceled"),
        (9999, "E?", "Unknown error"),
        (0, "E?", "Unknown error"),
    ];
    for (n, name, text) in table {
        assert_eq!(
            (Errno(n).name(), Errno(n).text()),
            (name, text),
            "errno {n}"
        );
    }
    assert_eq!(
        Errno(libc::ENOENT).to_string(),
        "2 No such file or directory"
    );
    // Each known number has its own name.
    let mut names: Vec<&str> = (1..200)
        .map(|n| Errno(n).name())
        .filter(|&n| n != "E?")
        .collect();
    let known = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), known);
    assert!(known >= 40);
}

#[test]
fn pipe_read_write_poll_close() {
    let (r, w) = sys::pipe2(libc::O_CLOEXEC).unwrap();
    assert_eq!(sys::poll_in(&r, 0), Ok(false));
    sys::write_all(&w, b"hello").unwrap();
    assert_eq!(sys::poll_in(&r, 1000), Ok(true));
    let mut buf = [0u8; 16];
    assert_eq!(sys::read(&r, &mut buf), Ok(5));
    assert_eq!(&buf[..5], b"hello");
    assert_eq!(sys::close(w), Ok(()));
    assert_eq!(sys::read(&r, &mut buf), Ok(0)); // end of file once the writer is gone
    let raw = r.into_raw();
    assert_eq!(sys::close(Fd::from_raw(raw)), Ok(()));
}

#[test]
fn dup2_replaces_a_descriptor() {
    let (r1, w1) = sys::pipe2(libc::O_CLOEXEC).unwrap();
    let (r2, w2) = sys::pipe2(libc::O_CLOEXEC).unwrap();
    sys::dup2(&w1, w2.raw()).unwrap(); // w2's number now writes into the first pipe
    sys::write_all(&w2, b"x").unwrap();
    drop((w1, w2));
    let mut buf = [0u8; 2];
    assert_eq!(sys::read(&r1, &mut buf), Ok(1));
    assert_eq!(sys::read(&r2, &mut buf), Ok(0)); // its only writer was replaced
}

#[test]
fn open_and_stat() {
    let null = sys::open(&cs("/dev/null"), libc::O_RDONLY | libc::O_CLOEXEC, 0).unwrap();
    assert_eq!(sys::fstat(&null).unwrap().kind(), libc::S_IFCHR);
    let root = sys::openat(None, &cs("/"), libc::O_DIRECTORY | libc::O_CLOEXEC, 0).unwrap();
    assert_eq!(
        sys::fstatat(Some(&root), &cs("proc"), 0).unwrap().kind(),
        libc::S_IFDIR
    );
    assert_eq!(
        sys::fstatat(Some(&root), &cs("no-such-entry-for-syd"), 0),
        Err(Errno(libc::ENOENT))
    );
    assert_eq!(
        sys::open(&cs("/no/such/file"), libc::O_RDONLY, 0),
        Err(Errno(libc::ENOENT))
    );

    let d = tempdir("open");
    let dir = sys::open(
        &cs(d.to_str().unwrap()),
        libc::O_DIRECTORY | libc::O_CLOEXEC,
        0,
    )
    .unwrap();
    let f = sys::openat(
        Some(&dir),
        &cs("new"),
        libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC,
        0o640,
    )
    .unwrap();
    sys::write_all(&f, b"12345").unwrap();
    let st = sys::fstat(&f).unwrap();
    let meta = std::fs::metadata(d.join("new")).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        (st.dev, st.ino, st.uid, st.gid, st.size),
        (meta.dev(), meta.ino(), meta.uid(), meta.gid(), 5)
    );
    assert_eq!(st.kind(), libc::S_IFREG);
    assert_eq!(
        sys::fstatat(Some(&dir), &cs("new"), 0),
        Ok(st),
        "fstatat and fstat agree"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn file_times_and_file_system_type() {
    let d = tempdir("times");
    let f = cs(d.join("f").to_str().unwrap());
    std::fs::write(d.join("f"), "x").unwrap();
    std::os::unix::fs::symlink("f", d.join("l")).unwrap();
    let l = cs(d.join("l").to_str().unwrap());
    let nofollow = libc::AT_SYMLINK_NOFOLLOW;
    let (a, m) = (
        sys::Timestamp {
            sec: 946_684_800,
            nsec: 5,
        },
        sys::Timestamp {
            sec: 978_307_200,
            nsec: 999_999_999,
        },
    );
    sys::utimensat(None, &f, Some(a), Some(m), 0).unwrap();
    let st = sys::fstatat(None, &f, 0).unwrap();
    assert_eq!((st.atime, st.mtime), (a, m));
    assert!(st.ctime > m, "setting times changes the change time");
    // None leaves a time alone; the link's own times change, not its target's.
    sys::utimensat(None, &l, None, Some(a), nofollow).unwrap();
    assert_eq!(sys::fstatat(None, &l, nofollow).unwrap().mtime, a);
    assert_eq!(sys::fstatat(None, &f, 0).unwrap().mtime, m);
    let bad = sys::Timestamp {
        sec: 0,
        nsec: 1_000_000_000,
    };
    assert_eq!(
        sys::utimensat(None, &f, Some(bad), None, 0),
        Err(Errno(libc::EINVAL))
    );
    assert_eq!(sys::statfs_type(c"/proc"), Ok(0x9fa0)); // PROC_SUPER_MAGIC
    assert_eq!(sys::statfs_type(c"/no/such/dir"), Err(Errno(libc::ENOENT)));
}

#[test]
fn stat_an_o_path_descriptor_and_set_times() {
    use sys::Timestamp;
    let d = tempdir("times");
    let path = d.join("f");
    std::fs::write(&path, b"x").unwrap();
    let p = cs(path.to_str().unwrap());
    let opath = sys::open(&p, libc::O_PATH | libc::O_CLOEXEC, 0).unwrap();
    let by_fd = sys::fstatat(Some(&opath), c"", libc::AT_EMPTY_PATH).unwrap();
    assert_eq!(by_fd, sys::fstatat(None, &p, 0).unwrap());
    assert_eq!((by_fd.kind(), by_fd.size), (libc::S_IFREG, 1));
    assert_eq!(
        sys::fstatat(Some(&opath), c"", 0),
        Err(Errno(libc::ENOENT)),
        "an empty path needs AT_EMPTY_PATH"
    );

    let t = |sec, nsec| Some(Timestamp { sec, nsec });
    sys::utimensat(None, &p, t(1_000_000_000, 5), t(1_500_000_000, 7), 0).unwrap();
    let st = sys::fstatat(None, &p, 0).unwrap();
    assert_eq!(
        (st.atime, st.mtime),
        (t(1_000_000_000, 5).unwrap(), t(1_500_000_000, 7).unwrap())
    );
    // None leaves a time as it is.
    sys::utimensat(None, &p, None, t(42, 0), 0).unwrap();
    let st = sys::fstatat(None, &p, 0).unwrap();
    assert_eq!(
        (st.atime, st.mtime),
        (t(1_000_000_000, 5).unwrap(), t(42, 0).unwrap())
    );
    assert_eq!(
        sys::utimensat(None, &p, t(0, 1_000_000_000), None, 0),
        Err(Errno(libc::EINVAL))
    );
    assert_eq!(
        sys::utimensat(None, c"/no/such/file", t(1, 0), None, 0),
        Err(Errno(libc::ENOENT))
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
#[allow(unsafe_code)] // GlobalAlloc's methods are unsafe to call
fn heap_blocks_are_aligned_disjoint_and_reused() {
    use std::alloc::{GlobalAlloc, Layout};
    let heap = sys::Heap::new();
    // (size, align): each class, its edges, over-aligned and own-mapping blocks.
    let layouts = [
        (1, 1),
        (8, 8),
        (15, 1),
        (16, 16),
        (17, 4),
        (100, 8),
        (1024, 16),
        (2047, 1),
        (2048, 16),
        (2049, 8),
        (100_000, 8),
        (64, 32),
        (10, 4096),
    ];
    let mut blocks = Vec::new();
    for round in 0..40u8 {
        for &(size, align) in &layouts {
            let l = Layout::from_size_align(size, align).unwrap();
            // SAFETY: a non-zero size.
            let p = unsafe { heap.alloc(l) };
            assert!(!p.is_null(), "{size} {align}");
            // Every block is aligned as asked, and to 16 as malloc's are.
            assert_eq!(p as usize % align.max(16), 0, "{size} {align}");
            // SAFETY: the block has size bytes.
            unsafe { p.write_bytes(round, size) };
            blocks.push((p, l, round));
        }
    }
    // Nothing overwrote anything: the blocks are disjoint.
    for &(p, l, round) in &blocks {
        // SAFETY: the block is live and was filled above.
        let b = unsafe { std::slice::from_raw_parts(p, l.size()) };
        assert!(b.iter().all(|&x| x == round), "{l:?} round {round}");
    }
    // A freed small block is the next one handed out for its class.
    let (p, l, _) = blocks[3];
    // SAFETY: p came from heap.alloc(l) and is freed once.
    unsafe { heap.dealloc(p, l) };
    let l9 = Layout::from_size_align(9, 1).unwrap(); // the same 16-byte class
                                                     // SAFETY: a non-zero size.
    assert_eq!(unsafe { heap.alloc(l9) }, p);
    for &(p, l, _) in &blocks[4..] {
        // SAFETY: each block came from heap.alloc(l) and is freed once.
        unsafe { heap.dealloc(p, l) };
    }
    // More than a page of alignment is refused, not faked.
    let huge = Layout::from_size_align(8, 8192).unwrap();
    // SAFETY: a non-zero size.
    assert!(unsafe { heap.alloc(huge) }.is_null());
}

#[test]
fn openat2_resolves_beneath() {
    const RESOLVE_BENEATH: u64 = 0x08; // linux/openat2.h
    let d = tempdir("openat2");
    let dir = sys::open(
        &cs(d.to_str().unwrap()),
        libc::O_DIRECTORY | libc::O_CLOEXEC,
        0,
    )
    .unwrap();
    let how = |resolve| sys::OpenHow {
        flags: (libc::O_DIRECTORY | libc::O_CLOEXEC) as u64,
        mode: 0,
        resolve,
    };
    assert!(sys::openat2(Some(&dir), &cs("."), &how(RESOLVE_BENEATH)).is_ok());
    assert!(sys::openat2(Some(&dir), &cs(".."), &how(0)).is_ok());
    assert_eq!(
        sys::openat2(Some(&dir), &cs(".."), &how(RESOLVE_BENEATH)).map(drop),
        Err(Errno(libc::EXDEV))
    );
    assert_eq!(
        sys::openat2(Some(&dir), &cs("."), &how(1 << 40)).map(drop),
        Err(Errno(libc::EINVAL))
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn readlinkat_reads_and_truncates() {
    let d = tempdir("readlink");
    std::os::unix::fs::symlink("target/path", d.join("link")).unwrap();
    let link = cs(d.join("link").to_str().unwrap());
    let mut buf = [0u8; 64];
    let n = sys::readlinkat(None, &link, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"target/path");
    let mut small = [0u8; 4];
    assert_eq!(sys::readlinkat(None, &link, &mut small), Ok(4));
    assert_eq!(&small, b"targ");
    let dir = sys::open(
        &cs(d.to_str().unwrap()),
        libc::O_DIRECTORY | libc::O_CLOEXEC,
        0,
    )
    .unwrap();
    assert_eq!(sys::readlinkat(Some(&dir), &cs("link"), &mut buf), Ok(11));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn pass_a_descriptor_over_a_socket() {
    let (a, b) = sys::socketpair(libc::SOCK_STREAM | libc::SOCK_CLOEXEC).unwrap();
    let (r, w) = sys::pipe2(libc::O_CLOEXEC).unwrap();
    sys::send_fd(&a, &r).unwrap();
    drop(r);
    let got = sys::recv_fd(&b).unwrap();
    sys::write_all(&w, b"fd").unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(sys::read(&got, &mut buf), Ok(2));
    assert_eq!(&buf[..2], b"fd");
    // Data without a descriptor, then the peer gone: both are protocol errors.
    sys::write_all(&a, b"!").unwrap();
    assert_eq!(sys::recv_fd(&b), Err(Errno(libc::EPROTO)));
    drop(a);
    assert_eq!(sys::recv_fd(&b), Err(Errno(libc::EPROTO)));
}

#[test]
fn fork_wait_kill() {
    assert_eq!(reap(spawn(|| 7)), Status::Exited(7));
    let sleeper = spawn(|| {
        sys::sleep_ms(10_000);
        0
    });
    assert_eq!(sys::waitpid(sleeper, Wait::NoHang), Ok(None));
    sys::kill(sleeper, libc::SIGTERM).unwrap();
    assert_eq!(reap(sleeper), Status::Signaled(libc::SIGTERM));
    assert_eq!(sys::kill(Pid(i32::MAX), 0), Err(Errno(libc::ESRCH)));
}

#[test]
fn execve_runs_a_program_or_reports_why_not() {
    let (sh, c, script, var) = (
        cs("/bin/sh"),
        cs("-c"),
        cs("test \"$SYD_X\" = 1 && exit 3"),
        cs("SYD_X=1"),
    );
    let mut argv = CStrArray::<4>::new();
    for s in [&sh, &c, &script] {
        argv.push(s).unwrap();
    }
    let mut envp = CStrArray::<2>::new();
    envp.push(&var).unwrap();
    assert_eq!(
        reap(spawn(|| sys::execve(&sh, &argv, &envp).0)),
        Status::Exited(3)
    );
    let missing = cs("/no/such/program");
    assert_eq!(
        reap(spawn(|| sys::execve(&missing, &argv, &envp).0)),
        Status::Exited(libc::ENOENT)
    );
}

#[test]
fn cstr_array_keeps_room_for_the_null() {
    let (a, b, c) = (cs("a"), cs("b"), cs("c"));
    let mut arr = CStrArray::<3>::new();
    assert!(arr.is_empty());
    assert_eq!(arr.push(&a), Ok(()));
    assert_eq!(arr.push(&b), Ok(()));
    assert_eq!(arr.push(&c), Err(Errno(libc::E2BIG)));
    assert_eq!(arr.len(), 2);
    let mut none = CStrArray::<1>::new();
    assert_eq!(none.push(&a), Err(Errno(libc::E2BIG)));
}

#[test]
#[allow(unsafe_code)]
fn env_lookup() {
    let entries = [cs("A=1"), cs("AB=2"), cs("B="), cs("A=3"), cs("NOEQUALS")];
    let mut ptrs: Vec<*const libc::c_char> = entries.iter().map(|e| e.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: ptrs is NULL-terminated, and it and the strings outlive `env` (this function).
    let env = unsafe { Env::from_raw(ptrs.as_ptr()) };
    let table: [(&[u8], Option<&[u8]>); 6] = [
        (b"A", Some(b"1")), // the first one wins, as getenv(3)
        (b"AB", Some(b"2")),
        (b"B", Some(b"")),
        (b"C", None),
        (b"NOEQUALS", None),
        (b"", None),
    ];
    for (name, value) in table {
        assert_eq!(env.get(name), value, "{}", String::from_utf8_lossy(name));
    }
    let all: Vec<&CStr> = env.iter().collect();
    assert_eq!(all.len(), 5);
    // SAFETY: a null envp is accepted and means "no environment".
    let empty = unsafe { Env::from_raw(std::ptr::null()) };
    assert_eq!(empty.iter().count(), 0);
}

#[test]
fn directories_links_and_randomness() {
    let d = tempdir("mkdir");
    let sub = CString::new(d.join("sub").to_str().unwrap()).unwrap();
    assert_eq!(sys::mkdir(&sub, 0o700), Ok(()));
    assert_eq!(sys::mkdir(&sub, 0o700), Err(Errno(libc::EEXIST)));
    let meta = std::fs::metadata(d.join("sub")).unwrap();
    assert!(meta.is_dir());
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o077,
        0
    );
    let link = CString::new(d.join("link").to_str().unwrap()).unwrap();
    assert_eq!(sys::symlink(c"/dev/sydbox", &link), Ok(()));
    assert_eq!(
        std::fs::read_link(d.join("link")).unwrap(),
        std::path::Path::new("/dev/sydbox")
    );
    assert_eq!(sys::symlink(c"x", &link), Err(Errno(libc::EEXIST)));
    let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
    assert_eq!(sys::getrandom(&mut a), Ok(16));
    assert_eq!(sys::getrandom(&mut b), Ok(16));
    assert_ne!(a, b, "two draws of 128 random bits differ");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn process_ids() {
    assert_eq!(sys::getpid(), Pid(std::process::id() as i32));
    assert_eq!(
        sys::getppid(),
        Ok(Pid(std::os::unix::process::parent_id() as i32))
    );
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let real_uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap();
    assert_eq!(sys::getuid().to_string(), real_uid);
    let tid = sys::gettid();
    assert!(tid.0 > 0);
    let other = std::thread::spawn(sys::gettid).join().unwrap();
    assert_ne!(other, tid, "threads have their own ids");
}

#[test]
fn uname_and_clock() {
    let u = sys::uname().unwrap();
    let proc = |f: &str| std::fs::read_to_string(format!("/proc/sys/kernel/{f}")).unwrap();
    assert_eq!(u.sysname(), b"Linux");
    assert_eq!(u.release(), proc("osrelease").trim().as_bytes());
    assert_eq!(u.nodename(), proc("hostname").trim().as_bytes());
    assert_eq!(u.version(), proc("version").trim().as_bytes());
    assert!(!u.machine().is_empty());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((sys::realtime_secs().unwrap() - now).abs() <= 2);
}

#[test]
fn process_settings_in_a_child() {
    // Each step that fails exits with its number; 0 means all held.
    let root = common::is_root();
    let status = reap(spawn(move || {
        let nobody = common::NOBODY;
        let steps: [&dyn Fn() -> bool; 8] = [
            &|| {
                sys::umask(0o077);
                sys::umask(0o027) == 0o077 // returns the previous mask
            },
            &|| sys::setsid().is_ok_and(|sid| sid == sys::getpid()),
            &|| sys::chdir(c"/").is_ok() && sys::chdir(c"/no/such/dir") == Err(Errno(libc::ENOENT)),
            &|| sys::set_no_new_privs().is_ok(),
            &|| sys::set_not_dumpable().is_ok(),
            &|| {
                if root {
                    sys::chroot(c"/").is_ok()
                } else {
                    sys::chroot(c"/") == Err(Errno(libc::EPERM))
                }
            },
            &|| {
                !root
                    || (sys::setgroups(&[]).is_ok()
                        && sys::setgid(nobody).is_ok()
                        && sys::setuid(nobody).is_ok())
            },
            // Unprivileged now (or already): going back to root is refused.
            &|| sys::setuid(0) == Err(Errno(libc::EPERM)),
        ];
        for (i, step) in steps.iter().enumerate() {
            if !step() {
                return i as i32 + 1;
            }
        }
        0
    }));
    assert_eq!(
        status,
        Status::Exited(0),
        "the step numbered by the exit code failed"
    );
}

#[test]
fn own_memory_through_both_methods() {
    let cell = Cell::new(*b"abcdefgh");
    let addr = cell.as_ptr() as u64;
    let me = sys::getpid();
    let mut buf = [0u8; 4];
    assert_eq!(sys::process_vm_readv(me, &mut buf, addr), Ok(4));
    assert_eq!(&buf, b"abcd");
    assert_eq!(sys::process_vm_writev(me, b"WXYZ", addr + 4), Ok(4));
    assert_eq!(&std::hint::black_box(&cell).get(), b"abcdWXYZ");
    assert_eq!(
        sys::process_vm_readv(me, &mut buf, 0),
        Err(Errno(libc::EFAULT))
    );

    let mem = sys::open(c"/proc/self/mem", libc::O_RDWR | libc::O_CLOEXEC, 0).unwrap();
    assert_eq!(sys::pread(&mem, &mut buf, addr + 4), Ok(4));
    assert_eq!(&buf, b"WXYZ");
    assert_eq!(sys::pwrite(&mem, b"1234", addr), Ok(4));
    assert_eq!(&std::hint::black_box(&cell).get(), b"1234WXYZ");
    assert_eq!(
        sys::pread(&mem, &mut buf, u64::MAX),
        Err(Errno(libc::EINVAL))
    );
}

#[test]
fn pidfd_family() {
    if !common::require_kernel() {
        return;
    }
    let (r, _w) = sys::pipe2(libc::O_CLOEXEC).unwrap();
    let child = spawn(|| {
        sys::sleep_ms(10_000);
        0
    });
    let pidfd = sys::pidfd_open(child).unwrap();
    let copy = sys::pidfd_getfd(&pidfd, r.raw()).unwrap();
    assert_eq!(sys::fstat(&copy).unwrap().ino, sys::fstat(&r).unwrap().ino);
    assert_eq!(
        sys::pidfd_getfd(&pidfd, 9999).map(drop),
        Err(Errno(libc::EBADF))
    );
    sys::pidfd_send_signal(&pidfd, libc::SIGKILL).unwrap();
    assert_eq!(reap(child), Status::Signaled(libc::SIGKILL));
    assert_eq!(sys::pidfd_open(Pid(-5)).map(drop), Err(Errno(libc::EINVAL)));
}

#[test]
fn notif_sizes() {
    if !common::require_kernel() {
        return;
    }
    let s = sys::seccomp_get_notif_sizes().unwrap();
    assert_eq!(
        (s.seccomp_notif, s.seccomp_notif_resp, s.seccomp_data),
        (80, 24, 64)
    );
}

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7;

/// `getppid` -> USER_NOTIF on the native ABI; everything else allowed.
fn notify_getppid() -> [libc::sock_filter; 6] {
    let ins = |code: u32, jt, jf, k| libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    };
    let ld = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
    let jeq = libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K;
    let ret = libc::BPF_RET | libc::BPF_K;
    [
        ins(ld, 0, 0, 4),
        ins(jeq, 0, 3, AUDIT_ARCH),
        ins(ld, 0, 0, 0),
        ins(jeq, 0, 1, libc::SYS_getppid as u32),
        ins(ret, 0, 0, libc::SECCOMP_RET_USER_NOTIF),
        ins(ret, 0, 0, libc::SECCOMP_RET_ALLOW),
    ]
}

/// The child reads 3 bytes from descriptor `n` and checks they are `syd`.
fn reads_syd(n: i32) -> bool {
    let fd = Fd::from_raw(n);
    let mut buf = [0u8; 3];
    sys::read(&fd, &mut buf) == Ok(3) && &buf == b"syd"
}

#[test]
fn seccomp_notify_round_trips() {
    if !common::require_kernel() {
        return;
    }
    let prog = notify_getppid();
    let (sock, child_sock) = sys::socketpair(libc::SOCK_STREAM | libc::SOCK_CLOEXEC).unwrap();
    let (pipe, w) = sys::pipe2(libc::O_CLOEXEC).unwrap();
    sys::write_all(&w, b"sydsyd").unwrap();
    drop(w);
    let me = sys::getpid();
    // Each step of the child: what getppid must return. An exit code names the failed step.
    let child = spawn(|| {
        if sys::set_no_new_privs().is_err() {
            return 100;
        }
        let listener =
            match sys::seccomp_set_mode_filter(libc::SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog) {
                Ok(Some(l)) => l,
                _ => return 101,
            };
        if sys::send_fd(&child_sock, &listener).is_err() {
            return 102;
        }
        drop(listener);
        let steps: [&dyn Fn(Result<Pid, Errno>) -> bool; 5] = [
            &|r| r == Err(Errno(libc::EPERM)),
            &|r| r == Ok(Pid(1234)),
            &|r| r == Ok(me),
            &|r| r == Ok(Pid(100)) && reads_syd(100),
            &|r| r.is_ok_and(|Pid(n)| reads_syd(n)),
        ];
        for (i, step) in steps.iter().enumerate() {
            if !step(sys::getppid()) {
                return i as i32 + 1;
            }
        }
        0
    });
    drop(child_sock);
    assert_eq!(sys::poll_in(&sock, 5000), Ok(true));
    let listener = sys::recv_fd(&sock).unwrap();
    sys::notif_set_sync_wake_up(&listener).unwrap();
    for step in 0..5 {
        assert_eq!(sys::poll_in(&listener, 5000), Ok(true), "step {step}");
        let n = sys::notif_recv(&listener).unwrap();
        assert_eq!((n.pid, n.arch), (child, AUDIT_ARCH));
        assert_eq!(n.nr as libc::c_long, libc::SYS_getppid);
        assert_eq!(sys::notif_id_valid(&listener, n.id), Ok(()));
        match step {
            0 => sys::notif_send(&listener, n.id, Answer::Errno(Errno(libc::EPERM))).unwrap(),
            1 => sys::notif_send(&listener, n.id, Answer::Value(1234)).unwrap(),
            // SECURITY: a test child calling getppid, which takes no argument.
            2 => sys::notif_send(&listener, n.id, Answer::Continue).unwrap(),
            3 => {
                let at = sys::notif_addfd(&listener, n.id, &pipe, AddFd::InstallAt(100), 0);
                assert_eq!(at, Ok(100));
                sys::notif_send(&listener, n.id, Answer::Value(100)).unwrap();
            }
            _ => {
                sys::notif_addfd(&listener, n.id, &pipe, AddFd::Send, libc::O_CLOEXEC as u32)
                    .unwrap();
            }
        }
        // Answered: the id is stale now, and answering again is refused.
        assert_eq!(
            sys::notif_id_valid(&listener, n.id),
            Err(Errno(libc::ENOENT))
        );
        let again = sys::notif_send(&listener, n.id, Answer::Value(0));
        assert!(
            [Err(Errno(libc::ENOENT)), Err(Errno(libc::EINPROGRESS))].contains(&again),
            "{again:?}"
        );
    }
    assert_eq!(
        reap(child),
        Status::Exited(0),
        "the step numbered by the exit code failed"
    );
}

#[test]
fn seccomp_rejects_bad_programs() {
    if !common::require_kernel() {
        return;
    }
    // In a child: a successful load would stay forever.
    let status = reap(spawn(|| {
        if sys::set_no_new_privs().is_err() {
            return 1;
        }
        let too_long = [libc::sock_filter {
            code: 0,
            jt: 0,
            jf: 0,
            k: 0,
        }; 70_000];
        if sys::seccomp_set_mode_filter(0, &too_long) != Err(Errno(libc::EINVAL)) {
            return 2;
        }
        if sys::seccomp_set_mode_filter(0, &[]) != Err(Errno(libc::EINVAL)) {
            return 3;
        }
        for flags in [1 << 31, 1 << 40] {
            // An unknown flag, and one the kernel would silently cut off.
            if sys::seccomp_set_mode_filter(flags, &notify_getppid()).map(drop)
                != Err(Errno(libc::EINVAL))
            {
                return 4;
            }
        }
        0
    }));
    assert_eq!(status, Status::Exited(0));
}

#[test]
fn buffered_output() {
    use std::fmt::Write;
    let (r, w) = sys::pipe2(libc::O_CLOEXEC).unwrap();
    {
        let mut o = sys::Out::<8>::new(w.raw());
        let tail = "abcdefghij";
        write!(o, "{}-{tail}", 12345).unwrap(); // longer than the buffer
        o.bytes(b"\xff!");
        assert_eq!(
            sys::poll_in(&r, 0),
            Ok(true),
            "a full buffer was written out"
        );
    } // drop flushes the rest
    let mut buf = [0u8; 64];
    let n = sys::read(&r, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"12345-abcdefghij\xff!");
    // Errors surface on flush.
    drop(r);
    let mut o = sys::Out::<8>::new(w.raw());
    o.bytes(b"x");
    assert_eq!(o.flush(), Err(Errno(libc::EPIPE)));
}

/// An `AF_INET` socket address of 127.0.0.1:`port` as raw bytes.
fn inet_loopback(port: u16) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
    a[2..4].copy_from_slice(&port.to_be_bytes());
    a[4..8].copy_from_slice(&[127, 0, 0, 1]);
    a
}

#[test]
fn connect_send_flags_and_socket_options() {
    use std::os::fd::IntoRawFd;
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let s = Fd::from_raw(
        std::net::TcpStream::connect(("127.0.0.1", port))
            .unwrap()
            .into_raw_fd(),
    );
    // SO_TYPE, SO_ERROR; no send timeout by default.
    assert_eq!(
        sys::getsockopt_int(&s, libc::SOL_SOCKET, libc::SO_TYPE),
        Ok(libc::SOCK_STREAM)
    );
    assert_eq!(
        sys::getsockopt_int(&s, libc::SOL_SOCKET, libc::SO_ERROR),
        Ok(0)
    );
    assert_eq!(sys::send_timeout_ms(&s), Ok(None));
    // Connecting a connected socket again: EISCONN.
    assert_eq!(
        sys::connect(&s, &inet_loopback(port)),
        Err(Errno(libc::EISCONN))
    );
    // Status flags: O_NONBLOCK set and cleared on the description.
    let fl = sys::get_status_flags(&s).unwrap();
    assert_eq!(fl & libc::O_NONBLOCK, 0);
    sys::set_status_flags(&s, fl | libc::O_NONBLOCK).unwrap();
    assert_ne!(sys::get_status_flags(&s).unwrap() & libc::O_NONBLOCK, 0);
    sys::set_status_flags(&s, fl).unwrap();
    assert_eq!(sys::get_status_flags(&s).unwrap() & libc::O_NONBLOCK, 0);
    // A datagram with an address, and the send timeout of a datagram socket.
    let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let rport = rx.local_addr().unwrap().port();
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    tx.set_write_timeout(Some(std::time::Duration::from_millis(1500)))
        .unwrap();
    let tx = Fd::from_raw(tx.into_raw_fd());
    assert_eq!(sys::send_timeout_ms(&tx), Ok(Some(1500)));
    let n = sys::sendmsg(
        &tx,
        b"hello",
        &inet_loopback(rport),
        &[],
        libc::MSG_DONTWAIT,
    );
    assert_eq!(n, Ok(5));
    let mut b = [0u8; 8];
    assert_eq!(rx.recv(&mut b).unwrap(), 5);
    assert_eq!(&b[..5], b"hello");
    // The monotonic clock moves forward.
    let t0 = sys::monotonic_ms();
    sys::sleep_ms(20);
    assert!(sys::monotonic_ms() >= t0 + 20);
}

/// The `*at` wrappers the supervisor makes path calls with (bin/emulate.rs), on a directory
/// descriptor and names, and the object calls through an `O_PATH` descriptor and its magic link.
#[test]
fn path_calls_on_a_directory_descriptor() {
    use std::os::unix::fs::MetadataExt;
    let d = tempdir("at-calls");
    let p = cs(d.to_str().unwrap());
    let dir = sys::open(&p, libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC, 0).unwrap();
    sys::mkdirat(&dir, c"sub", 0o700).unwrap();
    assert_eq!(sys::mkdirat(&dir, c"sub", 0o700), Err(Errno(libc::EEXIST)));
    sys::mknodat(&dir, c"fifo", libc::S_IFIFO | 0o600, 0).unwrap();
    assert_eq!(
        std::fs::metadata(d.join("fifo")).unwrap().mode() & libc::S_IFMT,
        libc::S_IFIFO
    );
    sys::symlinkat(c"sub", &dir, c"l").unwrap();
    assert_eq!(
        std::fs::read_link(d.join("l")).unwrap().to_str(),
        Some("sub")
    );
    sys::linkat(Some(&dir), c"fifo", &dir, c"fifo2", 0).unwrap();
    sys::renameat2(&dir, c"fifo2", &dir, c"fifo3", 0).unwrap();
    // RENAME_NOREPLACE (1) refuses an existing target.
    assert_eq!(
        sys::renameat2(&dir, c"fifo3", &dir, c"fifo", 1),
        Err(Errno(libc::EEXIST))
    );
    sys::unlinkat(&dir, c"fifo3", 0).unwrap();
    assert_eq!(sys::unlinkat(&dir, c"sub", 0), Err(Errno(libc::EISDIR)));
    sys::unlinkat(&dir, c"sub", libc::AT_REMOVEDIR).unwrap();

    std::fs::write(d.join("f"), b"hello").unwrap();
    let f = cs(d.join("f").to_str().unwrap());
    let obj = sys::open(&f, libc::O_PATH | libc::O_CLOEXEC, 0).unwrap();
    let magic = cs(&format!("/proc/self/fd/{}", obj.raw()));
    sys::chmod_path(&magic, 0o600).unwrap();
    sys::truncate(&magic, 2).unwrap();
    sys::fchownat(&obj, c"", 1, 2, libc::AT_EMPTY_PATH).unwrap();
    sys::utimensat_raw(None, Some(&magic), Some(&[[100, 1], [200, 2]]), 0).unwrap();
    let m = std::fs::metadata(d.join("f")).unwrap();
    assert_eq!(
        (
            m.mode() & 0o777,
            m.len(),
            m.uid(),
            m.gid(),
            m.mtime(),
            m.mtime_nsec()
        ),
        (0o600, 2, 1, 2, 200, 2)
    );
    assert_eq!(sys::truncate(&magic, -1), Err(Errno(libc::EINVAL)));
    if sys::setxattr(&magic, c"user.t", b"v", 0).is_ok() {
        assert_eq!(
            sys::setxattr(&magic, c"user.t", b"w", 1), // XATTR_CREATE
            Err(Errno(libc::EEXIST))
        );
        sys::removexattr(&magic, c"user.t").unwrap();
        assert_eq!(
            sys::removexattr(&magic, c"user.t"),
            Err(Errno(libc::ENODATA))
        );
    }
}
