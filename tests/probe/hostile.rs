//! Hostile callers of the supervisor (tests/robust.rs): arguments that lie, calls that attack
//! the supervisor itself, and loads that stress it.
//!
//! ```text
//! bad-paths PATH                 path pointers that are NULL, unmapped, PROT_NONE, unterminated
//!                                or too long, for several routed calls: `CALL KIND RESULT` lines
//! openat2-lie PATH               openat2 with lying sizes and unmapped `struct open_how`
//! bad-addrs PORT DIR             lying socket addresses for connect, bind, sendto and sendmsg
//! attack-supervisor PID          ptrace, signals, limits, /proc/PID/{mem,fd/*}, process_vm_*
//! peek PID                       only the opens of /proc/PID/{mem,environ,fd,fd/*}
//! storm THREADS ITERS OK NO      THREADS threads, each ITERS rounds of notified calls
//! kill-storm MS THREADS OK NO    storm processes SIGKILLed at random for MS milliseconds
//! flat COUNT THREADS OK          COUNT stats, pausing at 0, 10%, 50% and 100% for the test
//! deep-cwd DEPTH LEN OPS...      mkdir+chdir DEPTH components of LEN bytes, then OPS
//! fifo-race DIR ITERS r|w        opens of a path swapped between a file and a FIFO
//! uffd-trap PATH kernel|user     a path in a page of a userfaultfd that nobody serves
//! ```
//!
//! Each line names the case and ends with `ok <ret>` or `err <ERRNO>`; the test compares the
//! lines of a run under `syd` with those of a run without it.

// An unknown case name inside the probe is a bug of the probe: it panics.
#![allow(clippy::panic)]

use std::ffi::CString;
use std::io::{BufRead, Write};
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::args::{Args, Fail};
use crate::{addr, addr_mut, call, names, w};

/// The page size of the supported ABIs (x86_64, aarch64 with 4 KiB pages).
const PAGE: usize = 4096;

/// `PATH_MAX` (linux/limits.h).
const PATH_MAX: usize = 4096;

/// A result as the probe prints it.
fn show(r: Result<i64, i32>) -> String {
    match r {
        Ok(v) => format!("ok {v}"),
        Err(e) => format!("err {}", names::errno_name(e)),
    }
}

/// Prints one `case result` line at once (the run may be killed right after).
fn line(case: &str, r: Result<i64, i32>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{case} {}", show(r));
    let _ = out.flush();
}

/// Maps `pages` fresh anonymous pages with `prot`; aborts the probe if it cannot.
fn map(pages: usize, prot: libc::c_int) -> usize {
    // SAFETY: an anonymous private mapping at an address the kernel chooses touches no
    // existing memory.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            pages * PAGE,
            prot,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert_ne!(p, libc::MAP_FAILED, "mmap");
    p as usize
}

/// Unmaps `pages` pages at `at`, which this module mapped and no reference points into.
fn unmap(at: usize, pages: usize) {
    // SAFETY: the range was mapped by `map` and only raw addresses of it remain.
    unsafe { libc::munmap(at as *mut libc::c_void, pages * PAGE) };
}

/// Copies `data` to `at`, inside a writable mapping of this module.
fn poke(at: usize, data: &[u8]) {
    // SAFETY: callers pass an address with `data.len()` writable bytes of a `map` mapping.
    unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), at as *mut u8, data.len()) };
}

/// Changes the protection of one page at `at`.
fn protect(at: usize, prot: libc::c_int) {
    // SAFETY: `at` is a page of a `map` mapping.
    unsafe { libc::mprotect(at as *mut libc::c_void, PAGE, prot) };
}

/// A page that was mapped and is not anymore.
fn freed_page() -> usize {
    let p = map(1, libc::PROT_READ | libc::PROT_WRITE);
    unmap(p, 1);
    p
}

/// `pages` readable pages followed by an unmapped one; returns where the unmapped one starts.
fn before_hole(pages: usize) -> usize {
    let p = map(pages + 1, libc::PROT_READ | libc::PROT_WRITE);
    unmap(p + pages * PAGE, 1);
    p + pages * PAGE
}

/// The path pointer of `kind` (the memory stays mapped for the rest of the run).
fn bad_path(kind: &str, path: &[u8]) -> usize {
    match kind {
        "null" => 0,
        "one" => 1,
        "freed" => freed_page(),
        "protnone" => {
            // An allowed path, then the page made inaccessible: the kernel refuses to read it.
            let p = map(1, libc::PROT_READ | libc::PROT_WRITE);
            poke(p, path);
            poke(p + path.len(), &[0]);
            protect(p, libc::PROT_NONE);
            p
        }
        "unterminated" => {
            // The last 16 bytes of a mapping, no NUL, then an unmapped page.
            let end = before_hole(1);
            poke(end - 16, b"aaaaaaaaaaaaaaaa");
            end - 16
        }
        "pathmax" | "toolong" => {
            // Exactly PATH_MAX bytes without a NUL before an unmapped page, or three pages of
            // them: no NUL anywhere. Short components, so that only the length is wrong.
            let pages = if kind == "pathmax" { 1 } else { 3 };
            let end = before_hole(pages);
            let start = end - pages * PAGE;
            let text: Vec<u8> = b"ab/".iter().copied().cycle().take(end - start).collect();
            poke(start, &text);
            assert!(pages * PAGE >= PATH_MAX);
            start
        }
        _ => panic!("unknown kind {kind}"),
    }
}

/// Makes the path call `name` with the path pointer `p`.
fn path_call(name: &str, p: usize) -> Result<i64, i32> {
    let cwd = w(libc::AT_FDCWD.into());
    let r = match name {
        // SAFETY: `p` is a live string or deliberately bad (EFAULT, ENAMETOOLONG).
        "open-w" => unsafe {
            call(
                Some(libc::SYS_openat),
                &[
                    cwd,
                    p,
                    w((libc::O_WRONLY | libc::O_CREAT | libc::O_CLOEXEC).into()),
                    0o600,
                ],
            )
        },
        // SAFETY: `p` is a live string or deliberately bad (EFAULT, ENAMETOOLONG).
        "open-r" => unsafe {
            call(
                Some(libc::SYS_openat),
                &[cwd, p, w((libc::O_RDONLY | libc::O_CLOEXEC).into())],
            )
        },
        // SAFETY: `p` is a live string or deliberately bad (EFAULT, ENAMETOOLONG).
        "mkdir" => unsafe { call(Some(libc::SYS_mkdirat), &[cwd, p, 0o700]) },
        // SAFETY: `p` is a live string or deliberately bad (EFAULT, ENAMETOOLONG).
        "unlink" => unsafe { call(Some(libc::SYS_unlinkat), &[cwd, p, 0]) },
        // SAFETY: `p` is a live string or deliberately bad (EFAULT, ENAMETOOLONG).
        "chdir" => unsafe { call(Some(libc::SYS_chdir), &[p]) },
        "stat" => {
            // SAFETY: `struct stat` is plain integers.
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            // SAFETY: as above.
            unsafe { call(crate::SYS_NEWFSTATAT, &[cwd, p, addr_mut(&mut st), 0]) }
        }
        "exec" => {
            let argv = [0usize; 1];
            // SAFETY: an empty argv and envp (NULL-terminated arrays); a failed exec returns.
            unsafe { call(Some(libc::SYS_execve), &[p, addr(&argv), addr(&argv)]) }
        }
        _ => panic!("unknown call {name}"),
    };
    close_if_fd(name, r);
    r
}

/// Closes the descriptor an open returned.
fn close_if_fd(name: &str, r: Result<i64, i32>) {
    if let (true, Ok(fd)) = (name.starts_with("open"), r) {
        // SAFETY: a descriptor fresh from the kernel, used no more.
        unsafe { libc::close(libc::c_int::try_from(fd).unwrap_or(-1)) };
    }
}

/// `bad-paths PATH`.
fn bad_paths(a: &mut Args) -> Result<(), Fail> {
    let path = a.bytes("PATH")?;
    a.done()?;
    let kinds = [
        "null",
        "one",
        "freed",
        "protnone",
        "unterminated",
        "pathmax",
        "toolong",
    ];
    for name in [
        "open-w", "open-r", "mkdir", "unlink", "chdir", "stat", "exec",
    ] {
        for kind in kinds {
            let p = bad_path(kind, &path);
            line(&format!("{name} {kind}"), path_call(name, p));
        }
    }
    Ok(())
}

/// `openat2-lie PATH`.
fn openat2_lie(a: &mut Args) -> Result<(), Fail> {
    let path = crate::args::cstring(&a.bytes("PATH")?, "PATH")?;
    a.done()?;
    let flags = (libc::O_WRONLY | libc::O_CREAT | libc::O_CLOEXEC) as u64;
    let how_bytes = |tail: &[u8]| {
        let mut v = Vec::new();
        v.extend_from_slice(&flags.to_ne_bytes());
        v.extend_from_slice(&0o600u64.to_ne_bytes());
        v.extend_from_slice(&0u64.to_ne_bytes());
        v.extend_from_slice(tail);
        v
    };
    // Each case's memory is made right before its call: a later mapping could fill a hole.
    let setup = |case: &str| -> (usize, usize) {
        match case {
            "size-0" | "size-23" | "size-4097" | "size-huge" | "size-all-ones" | "valid" => {
                let good = map(1, libc::PROT_READ | libc::PROT_WRITE);
                poke(good, &how_bytes(&[0; 8]));
                let size = match case {
                    "size-0" => 0,
                    "size-23" => 23,
                    "size-4097" => 4097,
                    "size-huge" => 1 << 40,
                    "size-all-ones" => usize::MAX,
                    _ => 32,
                };
                (good, size)
            }
            "tail-nonzero" => {
                let p = map(1, libc::PROT_READ | libc::PROT_WRITE);
                poke(p, &how_bytes(&[1, 0, 0, 0, 0, 0, 0, 0]));
                (p, 32)
            }
            "tail-unmapped" => {
                // The 24 bytes of the struct end right at the hole: a larger size reads into it.
                let end = before_hole(1);
                poke(end - 24, &how_bytes(&[]));
                (end - 24, 32)
            }
            "how-null" => (0, 24),
            "how-freed" => (freed_page(), 24),
            "how-partial" => {
                let end = before_hole(1);
                poke(end - 16, &how_bytes(&[])[..16]);
                (end - 16, 24)
            }
            _ => panic!("unknown case {case}"),
        }
    };
    let cases = [
        "size-0",
        "size-23",
        "size-4097",
        "size-huge",
        "size-all-ones",
        "tail-nonzero",
        "tail-unmapped",
        "how-null",
        "how-freed",
        "how-partial",
        "valid",
    ];
    for case in cases {
        let (how, size) = setup(case);
        let p = path.as_ptr() as usize;
        // SAFETY: `p` is a live string; `how` is readable for `size` bytes or deliberately
        // bad (the kernel answers EFAULT, EINVAL or E2BIG).
        let r = unsafe {
            call(
                Some(libc::SYS_openat2),
                &[w(libc::AT_FDCWD.into()), p, how, size],
            )
        };
        close_if_fd("open", r);
        line(&format!("openat2 {case}"), r);
    }
    Ok(())
}

/// `struct sockaddr_in` for 127.0.0.1:`port`, as bytes.
fn inet(port: u16) -> Vec<u8> {
    let mut v = vec![0u8; 16];
    v[..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
    v[2..4].copy_from_slice(&port.to_be_bytes());
    v[4..8].copy_from_slice(&[127, 0, 0, 1]);
    v
}

/// `struct sockaddr_un` for `path` (no NUL added), as bytes.
fn unix(path: &[u8]) -> Vec<u8> {
    let mut v = (libc::AF_UNIX as u16).to_ne_bytes().to_vec();
    v.extend_from_slice(path);
    v
}

/// A socket of `domain`, datagram, as a setup step.
fn dgram(domain: libc::c_int) -> Result<libc::c_int, Fail> {
    // SAFETY: integer arguments only.
    let fd = unsafe { libc::socket(domain, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(Fail::Setup("socket".into(), crate::errno()));
    }
    Ok(fd)
}

/// Makes the network call `name` on `fd` with the address at `ptr` and length `len` (a full
/// register: the upper half may hold garbage). `sendmsg` builds a msghdr naming them.
fn net_call(name: &str, fd: libc::c_int, ptr: usize, len: usize) -> Result<i64, i32> {
    let x = b"x";
    let fd = w(fd.into());
    match name {
        // SAFETY: `ptr` is readable for `len` bytes or deliberately bad (EFAULT).
        "connect" => unsafe { call(Some(libc::SYS_connect), &[fd, ptr, len]) },
        // SAFETY: `ptr` is readable for `len` bytes or deliberately bad (EFAULT).
        "bind" => unsafe { call(Some(libc::SYS_bind), &[fd, ptr, len]) },
        // SAFETY: `ptr` is readable for `len` bytes or deliberately bad (EFAULT).
        "sendto" => unsafe {
            call(
                Some(libc::SYS_sendto),
                &[fd, addr(x), 1, libc::MSG_DONTWAIT as usize, ptr, len],
            )
        },
        "sendmsg" => {
            // On the stack: an allocation could map memory into a hole of the case.
            let mut iov = libc::iovec {
                iov_base: x.as_ptr() as *mut libc::c_void,
                iov_len: x.len(),
            };
            let hdr = msghdr(ptr, len as u32, &mut iov);
            // SAFETY: as above.
            unsafe {
                call(
                    Some(libc::SYS_sendmsg),
                    &[fd, addr(&hdr), libc::MSG_DONTWAIT as usize],
                )
            }
        }
        _ => panic!("unknown call {name}"),
    }
}

/// A msghdr naming `name`/`namelen` and carrying `iov`.
fn msghdr(name: usize, namelen: u32, iov: &mut libc::iovec) -> libc::msghdr {
    // SAFETY: msghdr is plain integers and pointers; all-zero is valid.
    let mut h: libc::msghdr = unsafe { std::mem::zeroed() };
    h.msg_name = name as *mut libc::c_void;
    h.msg_namelen = namelen;
    h.msg_iov = iov;
    h.msg_iovlen = 1;
    h
}

/// `bad-addrs PORT DIR`: every lying address for every call. The inet target is
/// 127.0.0.1:PORT (bind: port 0); the unix target is `DIR/s` (bind: `DIR/b<n>`, fresh).
fn bad_addrs(a: &mut Args) -> Result<(), Fail> {
    let port = u16::try_from(a.int("PORT")?).map_err(|_| Fail::Usage("PORT".into()))?;
    let dir = a.bytes("DIR")?;
    a.done()?;
    let mut n = 0;
    for name in ["connect", "bind", "sendto", "sendmsg"] {
        let inet_addr = inet(if name == "bind" { 0 } else { port });
        let mut unix_target = || {
            let mut p = dir.clone();
            if name == "bind" {
                n += 1;
                p.extend_from_slice(format!("/b{n}").as_bytes());
            } else {
                p.extend_from_slice(b"/s");
            }
            p
        };
        // (case, domain, bytes, length, placement)
        let mut cases: Vec<(String, libc::c_int, Vec<u8>, usize, &str)> = Vec::new();
        let mut u = unix(&unix_target());
        u.push(0);
        let ulen = u.len();
        cases.push((
            "inet-valid".into(),
            libc::AF_INET,
            inet_addr.clone(),
            16,
            "ok",
        ));
        cases.push((
            "inet-len0".into(),
            libc::AF_INET,
            inet_addr.clone(),
            0,
            "ok",
        ));
        cases.push((
            "inet-len1".into(),
            libc::AF_INET,
            inet_addr.clone(),
            1,
            "ok",
        ));
        cases.push((
            "inet-len8".into(),
            libc::AF_INET,
            inet_addr.clone(),
            8,
            "ok",
        ));
        cases.push((
            "inet-len200".into(),
            libc::AF_INET,
            inet_addr.clone(),
            200,
            "ok",
        ));
        cases.push((
            "inet-lenneg".into(),
            libc::AF_INET,
            inet_addr.clone(),
            0xffff_ffff,
            "ok",
        ));
        // The length's upper half is garbage: the kernel reads an int.
        cases.push((
            "inet-lenhigh".into(),
            libc::AF_INET,
            inet_addr.clone(),
            (1 << 32) | 16,
            "ok",
        ));
        cases.push((
            "inet-pastmap".into(),
            libc::AF_INET,
            inet_addr[..8].to_vec(),
            16,
            "end",
        ));
        cases.push((
            "inet-unmapped".into(),
            libc::AF_INET,
            inet_addr.clone(),
            16,
            "freed",
        ));
        cases.push((
            "inet-null".into(),
            libc::AF_INET,
            inet_addr.clone(),
            16,
            "null",
        ));
        let mut six = inet_addr.clone();
        six[..2].copy_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
        cases.push(("inet-family6".into(), libc::AF_INET, six, 16, "ok"));
        let mut fam_unix = inet_addr.clone();
        fam_unix[..2].copy_from_slice(&(libc::AF_UNIX as u16).to_ne_bytes());
        cases.push(("inet-familyunix".into(), libc::AF_INET, fam_unix, 16, "ok"));
        cases.push(("unix-valid".into(), libc::AF_UNIX, u.clone(), ulen, "ok"));
        cases.push(("unix-len1".into(), libc::AF_UNIX, u.clone(), 1, "ok"));
        cases.push(("unix-len2".into(), libc::AF_UNIX, u.clone(), 2, "ok"));
        cases.push(("unix-len111".into(), libc::AF_UNIX, u.clone(), 111, "ok"));
        cases.push((
            "unix-pastmap".into(),
            libc::AF_UNIX,
            u[..ulen - 3].to_vec(),
            ulen,
            "end",
        ));
        // sun_path filled: 108 bytes, no NUL within the length.
        let mut full = unix(&unix_target());
        full.resize(110, b'z');
        cases.push(("unix-full".into(), libc::AF_UNIX, full, 110, "ok"));
        // The kernel sees `<target>` (its length is the low half); the bytes after it, beyond
        // that length, make the path `<target>ok/x` for a reader that takes the whole register.
        let target = unix(&unix_target());
        let tlen = target.len();
        let mut longer = target.clone();
        longer.extend_from_slice(b"ok/x\0");
        cases.push((
            "unix-lenhigh".into(),
            libc::AF_UNIX,
            longer,
            (1 << 32) | tlen,
            "ok",
        ));
        // The family says inet, the length is a unix path's.
        let mut fam_inet = u.clone();
        fam_inet[..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
        cases.push((
            "unix-familyinet".into(),
            libc::AF_UNIX,
            fam_inet,
            ulen,
            "ok",
        ));
        for (case, domain, bytes, len, place) in cases {
            let fd = dgram(domain)?;
            let ptr = match place {
                "null" => 0,
                "freed" => freed_page(),
                "end" => {
                    let end = before_hole(1);
                    poke(end - bytes.len(), &bytes);
                    end - bytes.len()
                }
                _ => {
                    // 8-byte aligned, followed by readable zeroes up to 256 bytes.
                    let p = map(1, libc::PROT_READ | libc::PROT_WRITE);
                    poke(p, &bytes);
                    p
                }
            };
            let r = net_call(name, fd, ptr, len);
            line(&format!("{name} {case}"), r);
            // SAFETY: our socket, used no more.
            unsafe { libc::close(fd) };
        }
        if name == "sendmsg" {
            // msghdr itself unmapped, or cut by a hole.
            let fd = dgram(libc::AF_INET)?;
            // SAFETY: the msghdr pointer is deliberately bad: the kernel answers EFAULT.
            let r = unsafe {
                call(
                    Some(libc::SYS_sendmsg),
                    &[w(fd.into()), freed_page(), libc::MSG_DONTWAIT as usize],
                )
            };
            line("sendmsg msghdr-unmapped", r);
            let mut iov = libc::iovec {
                iov_base: b"x".as_ptr() as *mut libc::c_void,
                iov_len: 1,
            };
            let hdr = msghdr(0, 0, &mut iov);
            let end = before_hole(1);
            // SAFETY: a plain struct copied byte for byte into a writable page.
            let raw = unsafe {
                std::slice::from_raw_parts(
                    std::ptr::addr_of!(hdr).cast::<u8>(),
                    std::mem::size_of::<libc::msghdr>(),
                )
            };
            poke(end - 8, &raw[..8]);
            // SAFETY: as above.
            let r = unsafe {
                call(
                    Some(libc::SYS_sendmsg),
                    &[w(fd.into()), end - 8, libc::MSG_DONTWAIT as usize],
                )
            };
            line("sendmsg msghdr-partial", r);
            // SAFETY: our socket.
            unsafe { libc::close(fd) };
        }
    }
    Ok(())
}

/// `attack-supervisor PID`: every way in to the supervisor that the sandbox must refuse.
fn attack_supervisor(a: &mut Args) -> Result<(), Fail> {
    let pid = crate::pid(a, "PID")?;
    a.done()?;
    let p = w(pid);
    let none = 0usize;
    // SAFETY: integer arguments only.
    line("ptrace-attach", unsafe {
        call(
            Some(libc::SYS_ptrace),
            &[libc::PTRACE_ATTACH as usize, p, none, none],
        )
    });
    // SAFETY: integer arguments only.
    line("ptrace-seize", unsafe {
        call(Some(libc::SYS_ptrace), &[0x4206, p, none, none])
    });
    let mut buf = [0u8; 64];
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // Any mapped address of the supervisor will do: its stack, from /proc/PID/stat (may be
    // hidden); else a typical static address.
    let remote = libc::iovec {
        iov_base: 0x40_0000 as *mut libc::c_void,
        iov_len: 8,
    };
    // SAFETY: `local` and `remote` are live iovecs; the remote address is the target's.
    line("process_vm_readv", unsafe {
        call(
            Some(libc::SYS_process_vm_readv),
            &[p, addr(&local), 1, addr(&remote), 1, 0],
        )
    });
    // SAFETY: `local` and `remote` are live iovecs; the remote address is the target's.
    line("process_vm_writev", unsafe {
        call(
            Some(libc::SYS_process_vm_writev),
            &[p, addr(&local), 1, addr(&remote), 1, 0],
        )
    });
    proc_opens(pid);
    // SAFETY: integer arguments.
    let pidfd = unsafe { call(Some(libc::SYS_pidfd_open), &[p, 0]) };
    line("pidfd_open", pidfd);
    if let Ok(pidfd) = pidfd {
        for fd in 0..8 {
            // SAFETY: integer arguments.
            let r = unsafe { call(Some(libc::SYS_pidfd_getfd), &[w(pidfd), fd, 0]) };
            if r.is_ok() || fd == 3 {
                line(&format!("pidfd_getfd-{fd}"), r);
            }
        }
        for sig in [
            libc::SIGKILL,
            libc::SIGTERM,
            libc::SIGSTOP,
            libc::SIGCONT,
            libc::SIGWINCH,
        ] {
            // SAFETY: integer arguments and a NULL siginfo.
            let r = unsafe {
                call(
                    Some(libc::SYS_pidfd_send_signal),
                    &[w(pidfd), w(sig.into()), 0, 0],
                )
            };
            line(&format!("pidfd_send_signal-{sig}"), r);
        }
    }
    for sig in [
        libc::SIGKILL,
        libc::SIGTERM,
        libc::SIGSTOP,
        libc::SIGCONT,
        libc::SIGWINCH,
        0,
    ] {
        // SAFETY: integer arguments only.
        line(&format!("kill-{sig}"), unsafe {
            call(Some(libc::SYS_kill), &[p, w(sig.into())])
        });
        // SAFETY: integer arguments only.
        line(&format!("tkill-{sig}"), unsafe {
            call(Some(libc::SYS_tkill), &[p, w(sig.into())])
        });
        // SAFETY: integer arguments only.
        line(&format!("tgkill-{sig}"), unsafe {
            call(Some(libc::SYS_tgkill), &[p, p, w(sig.into())])
        });
        // The tid right, the tgid wrong: the kernel checks the pair.
        // SAFETY: integer arguments only.
        line(&format!("tgkill-tid-{sig}"), unsafe {
            call(Some(libc::SYS_tgkill), &[1, p, w(sig.into())])
        });
    }
    // The upper half of an int argument is ignored by the kernel: it must not hide the pid.
    // SAFETY: integer arguments only.
    line("kill-high", unsafe {
        call(
            Some(libc::SYS_kill),
            &[p | (1 << 32), w(libc::SIGKILL.into())],
        )
    });
    // Limits and scheduling, each with what the supervisor has (harmless if it passes).
    let mut lim = [0u64; 2];
    // SAFETY: a live rlimit; NULL for the new limit.
    let got = unsafe {
        call(
            Some(libc::SYS_prlimit64),
            &[p, libc::RLIMIT_NOFILE as usize, 0, addr_mut(&mut lim)],
        )
    };
    line("prlimit64-get", got);
    if got.is_err() {
        // SAFETY: as above, with the caller's own limit.
        let _ = unsafe {
            call(
                Some(libc::SYS_prlimit64),
                &[0, libc::RLIMIT_NOFILE as usize, 0, addr_mut(&mut lim)],
            )
        };
    }
    // SAFETY: a live rlimit to set.
    line("prlimit64-set", unsafe {
        call(
            Some(libc::SYS_prlimit64),
            &[p, libc::RLIMIT_NOFILE as usize, addr(&lim), 0],
        )
    });
    // SAFETY: integer arguments only.
    line("setpriority", unsafe {
        call(Some(libc::SYS_setpriority), &[0, p, 0])
    });
    let all = [u64::MAX; 16];
    // SAFETY: a live CPU mask of the size passed.
    line("sched_setaffinity", unsafe {
        call(
            Some(libc::SYS_sched_setaffinity),
            &[p, std::mem::size_of_val(&all), addr(&all)],
        )
    });
    let param = [0i32; 1];
    // SAFETY: a live sched_param.
    line("sched_setscheduler", unsafe {
        call(
            Some(libc::SYS_sched_setscheduler),
            &[p, libc::SCHED_OTHER as usize, addr(&param)],
        )
    });
    // SAFETY: integer arguments only (IOPRIO_WHO_PROCESS, class best-effort level 4).
    line("ioprio_set", unsafe {
        call(Some(libc::SYS_ioprio_set), &[1, p, (2 << 13) | 4])
    });
    // Every process the caller may signal: signal 0, so that nothing is hit if it passes.
    // SAFETY: integer arguments only.
    line("kill-all", unsafe {
        call(Some(libc::SYS_kill), &[w(-1), 0])
    });
    // The supervisor's process group (it leads one when started by a shell or the tests).
    // SAFETY: integer arguments only.
    line("kill-group", unsafe {
        call(Some(libc::SYS_kill), &[w(-pid), w(libc::SIGKILL.into())])
    });
    Ok(())
}

/// Opens `/proc/PID/{mem,environ,fd,fd/N}`, each read from if it opens: one line each.
fn proc_opens(pid: i64) {
    let open = |path: &str, flags: libc::c_int| {
        let c = CString::new(path).unwrap();
        // SAFETY: a live string.
        let r = unsafe {
            call(
                Some(libc::SYS_openat),
                &[
                    w(libc::AT_FDCWD.into()),
                    addr(c.as_bytes_with_nul()),
                    w((flags | libc::O_CLOEXEC).into()),
                ],
            )
        };
        // A descriptor obtained is read from: the answer is what it gave.
        r.and_then(|fd| {
            let mut b = [0u8; 64];
            // SAFETY: our descriptor and a live buffer.
            let n = unsafe { call(Some(libc::SYS_read), &[w(fd), addr_mut(&mut b), b.len()]) };
            // SAFETY: our descriptor.
            unsafe { libc::close(fd as libc::c_int) };
            n.or(Ok(fd))
        })
    };
    line(
        "open-mem-r",
        open(&format!("/proc/{pid}/mem"), libc::O_RDONLY),
    );
    line(
        "open-mem-rw",
        open(&format!("/proc/{pid}/mem"), libc::O_RDWR),
    );
    line(
        "open-environ",
        open(&format!("/proc/{pid}/environ"), libc::O_RDONLY),
    );
    line(
        "open-fd-dir",
        open(
            &format!("/proc/{pid}/fd"),
            libc::O_RDONLY | libc::O_DIRECTORY,
        ),
    );
    // The listener is one of the first descriptors: try them all, readable and as O_PATH.
    let mut opened = Vec::new();
    for fd in 0..16 {
        for (how, flags) in [("r", libc::O_RDONLY), ("path", libc::O_PATH)] {
            if let Ok(v) = open(&format!("/proc/{pid}/fd/{fd}"), flags) {
                opened.push(format!("{fd}:{how}={v}"));
            }
        }
    }
    line(
        &format!("open-fd-entries opened=[{}]", opened.join(",")),
        if opened.is_empty() {
            Err(libc::EACCES)
        } else {
            Ok(opened.len() as i64)
        },
    );
}

/// `peek PID`: only the /proc opens of `attack-supervisor`.
fn peek(a: &mut Args) -> Result<(), Fail> {
    let pid = crate::pid(a, "PID")?;
    a.done()?;
    proc_opens(pid);
    Ok(())
}

/// One round of notified calls: an allowed open and close, a stat, a denied open.
/// Returns how many answers were not the expected ones.
fn round(ok: &CString, no: &CString) -> u64 {
    let mut bad = 0;
    let flags = w((libc::O_WRONLY | libc::O_CREAT | libc::O_CLOEXEC).into());
    let cwd = w(libc::AT_FDCWD.into());
    // SAFETY: live strings.
    let r = unsafe {
        call(
            Some(libc::SYS_openat),
            &[cwd, addr(ok.as_bytes_with_nul()), flags, 0o600],
        )
    };
    match r {
        Ok(fd) => {
            // SAFETY: our descriptor.
            unsafe { libc::close(fd as libc::c_int) };
        }
        Err(_) => bad += 1,
    }
    // SAFETY: as above.
    let r = unsafe {
        call(
            Some(libc::SYS_openat),
            &[cwd, addr(no.as_bytes_with_nul()), flags, 0o600],
        )
    };
    if r != Err(libc::EPERM) {
        bad += 1;
    }
    // SAFETY: `struct stat` is plain integers.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: a live string and stat buffer.
    let r = unsafe {
        call(
            crate::SYS_NEWFSTATAT,
            &[cwd, addr(ok.as_bytes_with_nul()), addr_mut(&mut st), 0],
        )
    };
    if r.is_err() {
        bad += 1;
    }
    bad
}

/// Runs `threads` threads of `iters` rounds (0: forever); returns (rounds, bad answers).
fn storm_run(threads: usize, iters: u64, ok: &CString, no: &CString) -> (u64, u64) {
    let done = Arc::new(AtomicU64::new(0));
    let bad = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (done, bad, ok, no) = (done.clone(), bad.clone(), ok.clone(), no.clone());
            std::thread::Builder::new()
                .stack_size(64 * 1024)
                .spawn(move || {
                    let mut i = 0;
                    while iters == 0 || i < iters {
                        bad.fetch_add(round(&ok, &no), Ordering::Relaxed);
                        done.fetch_add(1, Ordering::Relaxed);
                        i += 1;
                    }
                })
                .expect("spawn a thread")
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    (done.load(Ordering::Relaxed), bad.load(Ordering::Relaxed))
}

/// `storm THREADS ITERS OK NO`: prints `rounds N bad M`, exits 1 if M > 0.
fn storm(a: &mut Args) -> Result<(), Fail> {
    let threads = usize::try_from(a.int("THREADS")?).unwrap_or(1);
    let iters = u64::try_from(a.int("ITERS")?).unwrap_or(1);
    let ok = crate::args::cstring(&a.bytes("OK")?, "OK")?;
    let no = crate::args::cstring(&a.bytes("NO")?, "NO")?;
    a.done()?;
    let (rounds, bad) = storm_run(threads, iters, &ok, &no);
    println!("rounds {rounds} bad {bad}");
    std::process::exit(i32::from(bad > 0));
}

/// A small xorshift generator (fixed seed: the run is reproducible up to timing).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// `kill-storm MS THREADS OK NO`: for MS milliseconds, forks a process running a storm of
/// THREADS threads and SIGKILLs it after a random 0-3 ms; prints `killed N`.
fn kill_storm(a: &mut Args) -> Result<(), Fail> {
    let ms = u64::try_from(a.int("MS")?).unwrap_or(0);
    let threads = usize::try_from(a.int("THREADS")?).unwrap_or(1);
    let ok = crate::args::cstring(&a.bytes("OK")?, "OK")?;
    let no = crate::args::cstring(&a.bytes("NO")?, "NO")?;
    a.done()?;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let end = Instant::now() + Duration::from_millis(ms);
    let mut killed = 0u64;
    while Instant::now() < end {
        // SAFETY: this process is single-threaded here, so the child may run Rust code.
        let child = unsafe { libc::fork() };
        if child == 0 {
            storm_run(threads, 0, &ok, &no);
            // SAFETY: leaving the child without running the parent's exit handlers.
            unsafe { libc::_exit(0) };
        }
        assert!(child > 0, "fork");
        std::thread::sleep(Duration::from_micros(rng.next() % 3000));
        // SAFETY: integer arguments; the child is ours and not reaped yet.
        unsafe { libc::kill(child, libc::SIGKILL) };
        let mut st = 0;
        // SAFETY: our child; `st` is a live int.
        unsafe { libc::waitpid(child, &mut st, 0) };
        killed += 1;
    }
    println!("killed {killed}");
    Ok(())
}

/// `flat COUNT THREADS OK`: COUNT raw stats of OK, spread over THREADS threads (so that the
/// supervisor always has one waiting); at 0, 10%, 50% and 100% of them prints `at N` and waits
/// for a line on standard input. Prints `done failed F` and exits 0 if every stat succeeded.
fn flat(a: &mut Args) -> Result<(), Fail> {
    let count = u64::try_from(a.int("COUNT")?).unwrap_or(0);
    let threads = u64::try_from(a.int("THREADS")?).unwrap_or(1).max(1);
    let ok = crate::args::cstring(&a.bytes("OK")?, "OK")?;
    a.done()?;
    let stops = [0, count / 10, count / 2, count];
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let failed = Arc::new(AtomicU64::new(0));
    for (i, &at) in stops.iter().enumerate() {
        println!("at {at}");
        let _ = std::io::stdout().flush();
        let mut l = String::new();
        let _ = input.read_line(&mut l);
        let Some(&next) = stops.get(i + 1) else {
            break;
        };
        let n = next - at;
        if threads == 1 {
            // On the main thread: a new thread per phase would be a new task for syd.
            stat_loop(&ok, n, &failed);
            continue;
        }
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (ok, failed) = (ok.clone(), failed.clone());
                // This thread's share: n / threads, the first ones one more.
                let share = n / threads + u64::from(t < n % threads);
                std::thread::spawn(move || stat_loop(&ok, share, &failed))
            })
            .collect();
        for h in handles {
            let _ = h.join();
        }
    }
    let failed = failed.load(Ordering::Relaxed);
    println!("done failed {failed}");
    std::process::exit(i32::from(failed > 0));
}

/// `n` raw stats of `path`, counting the failures in `failed`.
fn stat_loop(path: &CString, n: u64, failed: &AtomicU64) {
    let cwd = w(libc::AT_FDCWD.into());
    // SAFETY: `struct stat` is plain integers.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    for _ in 0..n {
        // SAFETY: a live string and stat buffer.
        let r = unsafe {
            call(
                crate::SYS_NEWFSTATAT,
                &[cwd, addr(path.as_bytes_with_nul()), addr_mut(&mut st), 0],
            )
        };
        if r.is_err() {
            failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// `deep-cwd DEPTH LEN OPS...`: mkdir (any result) and chdir (must succeed) DEPTH components of
/// LEN bytes, then runs each OP (`mkdir:NAME`, `creat:NAME`, `read:NAME`, `stat:NAME`,
/// `chdir:NAME`, `unlink:NAME`) relative to that cwd, one line each.
fn deep_cwd(a: &mut Args) -> Result<(), Fail> {
    let depth = usize::try_from(a.int("DEPTH")?).unwrap_or(0);
    let len = usize::try_from(a.int("LEN")?).unwrap_or(1);
    let ops = a.rest();
    let name = CString::new(vec![b'd'; len]).unwrap();
    let p = addr(name.as_bytes_with_nul());
    let mut mkdir_errs = std::collections::BTreeMap::new();
    for i in 0..depth {
        // SAFETY: a live string.
        let r = unsafe {
            call(
                Some(libc::SYS_mkdirat),
                &[w(libc::AT_FDCWD.into()), p, 0o755],
            )
        };
        if let Err(e) = r {
            *mkdir_errs.entry(names::errno_name(e)).or_insert(0) += 1;
        }
        // SAFETY: a live string.
        let r = unsafe { call(Some(libc::SYS_chdir), &[p]) };
        if r.is_err() {
            line(&format!("chdir-at-depth {i}"), r);
            std::process::exit(1);
        }
    }
    println!(
        "depth {depth} cwd-bytes {} mkdir-errors {mkdir_errs:?}",
        depth * (len + 1)
    );
    for op in ops {
        let op = op.to_str().unwrap_or_default().to_owned();
        let (what, target) = op.split_once(':').unwrap_or((&op, ""));
        let t = CString::new(target).unwrap();
        let tp = t.as_ptr() as usize;
        let r = match what {
            "mkdir" => path_call("mkdir", tp),
            "creat" => path_call("open-w", tp),
            "read" => path_call("open-r", tp),
            "stat" => path_call("stat", tp),
            "chdir" => path_call("chdir", tp),
            "unlink" => path_call("unlink", tp),
            _ => return Err(Fail::Usage(format!("unknown op {op}"))),
        };
        line(&op, r);
    }
    Ok(())
}

/// Does nothing: SIGALRM only has to interrupt a blocking call.
extern "C" fn on_alarm(_: libc::c_int) {}

/// `fifo-race DIR ITERS r|w`: one thread swaps `DIR/target` between a regular file and a FIFO
/// (renameat2 RENAME_EXCHANGE with `DIR/other`) while the main thread opens `DIR/target`
/// read-only (`r`) or write-only (`w`) ITERS times; a 2 ms interval timer interrupts the opens that wait for a writer.
/// Then, without the timer, one more open of the regular file: a supervisor stuck in its own
/// open of the FIFO never answers it. Prints `opened N interrupted M other K` and `last RESULT`.
fn fifo_race(a: &mut Args) -> Result<(), Fail> {
    let dir = a.bytes("DIR")?;
    let iters = u64::try_from(a.int("ITERS")?).unwrap_or(0);
    let how = if a.text("MODE")? == "w" {
        "open-w"
    } else {
        "open-r"
    };
    a.done()?;
    let path = |name: &str| {
        let mut p = dir.clone();
        p.extend_from_slice(b"/");
        p.extend_from_slice(name.as_bytes());
        CString::new(p).unwrap()
    };
    let (target, other, plain) = (path("target"), path("other"), path("plain"));
    for (p, fifo) in [(&target, false), (&other, true), (&plain, false)] {
        let c = std::path::Path::new(std::ffi::OsStr::from_bytes(p.as_bytes()));
        let _ = std::fs::remove_file(c);
        if fifo {
            // SAFETY: a live string.
            if unsafe { libc::mkfifo(p.as_ptr(), 0o600) } != 0 {
                return Err(Fail::Setup("mkfifo".into(), crate::errno()));
            }
        } else {
            std::fs::write(c, "x")
                .map_err(|e| Fail::Setup("create".into(), e.raw_os_error().unwrap_or(0)))?;
        }
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapper = {
        let (stop, t, o) = (stop.clone(), target.clone(), other.clone());
        std::thread::spawn(move || {
            let cwd = w(libc::AT_FDCWD.into());
            let mut swaps = 0u64;
            while !stop.load(Ordering::Relaxed) {
                swaps += 1;
                // SAFETY: live strings; RENAME_EXCHANGE (2) swaps the two names atomically.
                let _ = unsafe {
                    call(
                        Some(libc::SYS_renameat2),
                        &[
                            cwd,
                            addr(t.as_bytes_with_nul()),
                            cwd,
                            addr(o.as_bytes_with_nul()),
                            2,
                        ],
                    )
                };
            }
            swaps
        })
    };
    // Let the swapper start.
    std::thread::sleep(Duration::from_millis(20));
    // SAFETY: a handler that does nothing, installed without SA_RESTART.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_alarm as *const () as usize;
        libc::sigaction(libc::SIGALRM, &sa, std::ptr::null_mut());
    }
    let timer = |us: i64| {
        let tv = libc::timeval {
            tv_sec: 0,
            tv_usec: us,
        };
        let it = libc::itimerval {
            it_interval: tv,
            it_value: tv,
        };
        // SAFETY: a live itimerval.
        unsafe { libc::setitimer(libc::ITIMER_REAL, &it, std::ptr::null_mut()) };
    };
    timer(2000);
    let (mut opened, mut interrupted, mut other_errors) = (0u64, 0u64, 0u64);
    for _ in 0..iters {
        match path_call(how, target.as_ptr() as usize) {
            Ok(_) => opened += 1,
            Err(libc::EINTR) => interrupted += 1,
            Err(_) => other_errors += 1,
        }
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap_or(0);
    timer(0);
    println!("opened {opened} interrupted {interrupted} other {other_errors} swaps {swaps}");
    line("last", path_call(how, plain.as_ptr() as usize));
    Ok(())
}

/// `uffd-trap PATH kernel|user`: registers a fresh page with a userfaultfd (from
/// `/dev/userfaultfd`, or the userfaultfd(2) call; `user`: with `UFFD_USER_MODE_ONLY`, which
/// leaves the kernel's own faults to fail with EFAULT) that nobody serves, passes that page as the path of a read-only
/// open on another thread, then opens PATH. A supervisor that reads the page waits for the
/// fault forever and never answers the second open. Prints `uffd RESULT`, `trap RESULT`
/// (the first open, or `pending`) and `open RESULT`.
fn uffd_trap(a: &mut Args) -> Result<(), Fail> {
    let path = crate::args::cstring(&a.bytes("PATH")?, "PATH")?;
    let user_mode_only = a.text("MODE")? == "user";
    a.done()?;
    let flags = w((libc::O_CLOEXEC | libc::O_NONBLOCK).into()) | usize::from(user_mode_only);
    // SAFETY: a live string; integer arguments.
    let uffd = unsafe {
        call(
            Some(libc::SYS_openat),
            &[
                w(libc::AT_FDCWD.into()),
                addr(b"/dev/userfaultfd\0"),
                w((libc::O_RDWR | libc::O_CLOEXEC).into()),
            ],
        )
    }
    // USERFAULTFD_IOC_NEW: _IO(0xAA, 0x00).
    // SAFETY: integer arguments.
    .and_then(|dev| unsafe { call(Some(libc::SYS_ioctl), &[w(dev), 0xAA00, flags]) })
    // SAFETY: integer arguments.
    .or_else(|_| unsafe { call(Some(libc::SYS_userfaultfd), &[flags]) });
    line("uffd", uffd);
    let Ok(uffd) = uffd else {
        return Ok(());
    };
    // struct uffdio_api { api = UFFD_API (0xAA), features, ioctls }: _IOWR(0xAA, 0x3F, 24).
    let mut api = [0xAAu64, 0, 0];
    // SAFETY: a live struct of the size the request encodes.
    let r = unsafe {
        call(
            Some(libc::SYS_ioctl),
            &[w(uffd), 0xc018_aa3f, addr_mut(&mut api)],
        )
    };
    if let Err(e) = r {
        return Err(Fail::Setup("UFFDIO_API".into(), e));
    }
    let page = map(1, libc::PROT_READ | libc::PROT_WRITE);
    // struct uffdio_register { start, len, mode = MISSING (1), ioctls }: _IOWR(0xAA, 0x00, 32).
    let mut reg = [page as u64, PAGE as u64, 1, 0];
    // SAFETY: as above.
    let r = unsafe {
        call(
            Some(libc::SYS_ioctl),
            &[w(uffd), 0xc020_aa00, addr_mut(&mut reg)],
        )
    };
    if let Err(e) = r {
        return Err(Fail::Setup("UFFDIO_REGISTER".into(), e));
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(path_call("open-r", page));
    });
    std::thread::sleep(Duration::from_millis(300));
    match rx.try_recv() {
        Ok(r) => line("trap", r),
        Err(_) => println!("trap pending"),
    }
    line("open", path_call("open-r", path.as_ptr() as usize));
    // Exit at once: the trapped thread may still wait.
    let _ = std::io::stdout().flush();
    // SAFETY: ends the process; nothing is left to clean up.
    unsafe { libc::_exit(0) }
}

/// Runs the hostile subcommand `name`, if it is one; `Ok(false)` otherwise.
pub fn dispatch(name: &str, a: &mut Args) -> Result<bool, Fail> {
    match name {
        "bad-paths" => bad_paths(a)?,
        "openat2-lie" => openat2_lie(a)?,
        "bad-addrs" => bad_addrs(a)?,
        "attack-supervisor" => attack_supervisor(a)?,
        "peek" => peek(a)?,
        "storm" => storm(a)?,
        "kill-storm" => kill_storm(a)?,
        "flat" => flat(a)?,
        "deep-cwd" => deep_cwd(a)?,
        "fifo-race" => fifo_race(a)?,
        "uffd-trap" => uffd_trap(a)?,
        _ => return Ok(false),
    }
    Ok(true)
}
