//! All `unsafe` code of the harness: fork and filter setup for the floor supervisor, its
//! notification loop, and the ptrace calls that read a supervisor's peak RSS as it exits.
//!
//! Wrappers return `io::Result` and own descriptors through `OwnedFd`.
#![deny(clippy::undocumented_unsafe_blocks)]

use std::ffi::{c_char, c_int, c_long, CString};
use std::io;
use std::mem::{size_of, MaybeUninit};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::ptr;

/// `PTRACE_EVENT_STOP` from `<linux/ptrace.h>` (3.4): how a seized tracee reports a group-stop.
const PTRACE_EVENT_STOP: c_int = 128;

/// Turns a `-1`-on-error return into `io::Result`.
fn cvt(r: c_long) -> io::Result<c_long> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Converts a descriptor number returned by the kernel into an owned descriptor.
fn owned(r: c_long) -> io::Result<OwnedFd> {
    let fd = RawFd::try_from(r).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: `fd` was just returned by the kernel as a new descriptor that nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A close-on-exec pipe: `(read end, write end)`.
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds: [c_int; 2] = [-1, -1];
    // SAFETY: `fds` is a valid array of two ints for the kernel to fill.
    cvt(c_long::from(unsafe {
        libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC)
    }))?;
    let [r, w] = fds;
    Ok((owned(c_long::from(r))?, owned(c_long::from(w))?))
}

/// Waits for `pid` (`waitpid(2)` with `__WALL | flags`), retrying on `EINTR`; returns the raw
/// status. Errors: `ECHILD` if `pid` is not a child.
pub fn waitpid(pid: i32) -> io::Result<i32> {
    let mut status: c_int = 0;
    loop {
        // SAFETY: `status` is a valid int for the kernel to fill.
        let r = unsafe { libc::waitpid(pid, &raw mut status, libc::__WALL) };
        if r >= 0 {
            return Ok(status);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// Attaches to `pid` with `PTRACE_SEIZE` asking only for the exit stop (`PTRACE_O_TRACEEXIT`):
/// no syscall stops, so the tracee runs at full speed. Errors: the kernel's (e.g. `EPERM`).
pub fn ptrace_seize_exit(pid: i32) -> io::Result<()> {
    let opts = libc::PTRACE_O_TRACEEXIT as usize;
    // SAFETY: PTRACE_SEIZE takes no pointers; `data` carries the option bits.
    cvt(unsafe { libc::ptrace(libc::PTRACE_SEIZE, pid, 0usize, opts) }).map(drop)
}

/// Resumes a ptrace-stopped `pid`, delivering `sig` (0 for none) (`PTRACE_CONT`).
pub fn ptrace_cont(pid: i32, sig: i32) -> io::Result<()> {
    let sig = usize::try_from(sig).unwrap_or(0);
    // SAFETY: PTRACE_CONT takes no pointers; `data` is the signal number.
    cvt(unsafe { libc::ptrace(libc::PTRACE_CONT, pid, 0usize, sig) }).map(drop)
}

/// What a ptrace stop of a seized tracee means for the harness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The tracee is about to exit (`PTRACE_EVENT_EXIT`); its memory is still mapped.
    Exit,
    /// A group-stop (`PTRACE_EVENT_STOP`): resume without a signal.
    Group,
    /// A signal is about to be delivered: resume with it.
    Signal(i32),
}

/// Classifies a raw `waitpid` status: `None` if the process ended, else what kind of stop.
pub fn classify(status: i32) -> Option<Stop> {
    if !libc::WIFSTOPPED(status) {
        return None;
    }
    // The event sits in bits 16..24 of the status (ptrace(2), "PTRACE_EVENT stops").
    let event = (status >> 16) & 0xff;
    Some(if event == libc::PTRACE_EVENT_EXIT {
        Stop::Exit
    } else if event == PTRACE_EVENT_STOP {
        Stop::Group
    } else {
        Stop::Signal(libc::WSTOPSIG(status))
    })
}

/// A child that runs under a seccomp filter whose notifications this process answers.
pub struct Filtered {
    /// The child's pid.
    pub pid: i32,
    /// A pidfd of the child: readable once it has exited.
    pub pidfd: OwnedFd,
    /// The filter's notification descriptor (`SECCOMP_FILTER_FLAG_NEW_LISTENER`).
    pub listener: OwnedFd,
}

/// Forks a child that sets `no_new_privs`, loads `filter` with a new listener, and executes
/// `argv` (searched in `PATH`). The parent takes the listener with `pidfd_getfd(2)` before the
/// child's `execve` (usually routed to the listener) can happen. Must be called while this
/// process has a single thread. Errors: an empty `argv`, a filter longer than `u16::MAX`
/// instructions, or any failing call (the child's errno is passed back through a pipe).
pub fn spawn_filtered(filter: &[libc::sock_filter], argv: &[CString]) -> io::Result<Filtered> {
    let file = argv
        .first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty command"))?;
    let len = u16::try_from(filter.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "filter too long"))?;
    let mut ptrs: Vec<*const c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(ptr::null());
    let prog = libc::sock_fprog {
        len,
        filter: filter.as_ptr().cast_mut(),
    };
    let (num_r, num_w) = pipe()?;
    let (ack_r, ack_w) = pipe()?;
    // SAFETY: the floor process is single-threaded, so the child inherits consistent state; the
    // child below only makes raw system calls on data prepared before the fork, then execs.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        child(&prog, num_w.as_raw_fd(), ack_r.as_raw_fd(), file, &ptrs);
    }
    drop(num_w);
    drop(ack_r);
    let mut buf = [0u8; 4];
    let got = read_full(&num_r, &mut buf)?;
    let value = i32::from_ne_bytes(buf);
    if got != buf.len() || value < 0 {
        let _ = waitpid(pid);
        return Err(if value < 0 {
            io::Error::from_raw_os_error(value.saturating_neg())
        } else {
            io::Error::new(io::ErrorKind::UnexpectedEof, "filter child died")
        });
    }
    // SAFETY: two integer arguments, no pointers.
    let pidfd = owned(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
    // SAFETY: integer arguments only; the result is a new descriptor of this process.
    let listener =
        owned(unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), value, 0) })?;
    // SAFETY: writes one byte from a valid buffer.
    if unsafe { libc::write(ack_w.as_raw_fd(), [1u8].as_ptr().cast(), 1) } != 1 {
        return Err(io::Error::last_os_error());
    }
    Ok(Filtered {
        pid,
        pidfd,
        listener,
    })
}

/// Reads until `buf` is full or end of file; returns the byte count.
fn read_full(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while let Some(rest) = buf.get_mut(got..) {
        if rest.is_empty() {
            break;
        }
        // SAFETY: `rest` is a valid writable buffer of `rest.len()` bytes.
        let r = unsafe { libc::read(fd.as_raw_fd(), rest.as_mut_ptr().cast(), rest.len()) };
        match usize::try_from(r) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(_) => {
                let e = io::Error::last_os_error();
                if e.raw_os_error() != Some(libc::EINTR) {
                    return Err(e);
                }
            }
        }
    }
    Ok(got)
}

/// The forked child of [`spawn_filtered`]: never returns. It sends the listener's number (or a
/// negated errno) through `num_w`, waits for the parent's byte on `ack_r`, then executes.
fn child(
    prog: &libc::sock_fprog,
    num_w: RawFd,
    ack_r: RawFd,
    file: &CString,
    argv: &[*const c_char],
) -> ! {
    let fail = |num_w: RawFd| -> ! {
        let e = io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO);
        let bytes = e.saturating_neg().to_ne_bytes();
        // SAFETY: writes 4 bytes from a valid buffer, then exits without unwinding.
        unsafe {
            libc::write(num_w, bytes.as_ptr().cast(), bytes.len());
            libc::_exit(127)
        }
    };
    // SAFETY: integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        fail(num_w);
    }
    let flags = libc::SECCOMP_FILTER_FLAG_NEW_LISTENER;
    let mode = libc::SECCOMP_SET_MODE_FILTER;
    // SAFETY: `prog` points at a valid sock_fprog whose instructions outlive the call.
    let listener = unsafe { libc::syscall(libc::SYS_seccomp, mode, flags, ptr::from_ref(prog)) };
    let Ok(listener) = i32::try_from(listener) else {
        fail(num_w);
    };
    if listener < 0 {
        fail(num_w);
    }
    let bytes = listener.to_ne_bytes();
    let mut ack = [0u8; 1];
    // SAFETY: valid buffers of the given sizes; `argv` is NUL-terminated and its strings live
    // until exec; `_exit` never returns.
    unsafe {
        libc::write(num_w, bytes.as_ptr().cast(), bytes.len());
        libc::read(ack_r, ack.as_mut_ptr().cast(), 1);
        libc::close(listener);
        libc::execvp(file.as_ptr(), argv.as_ptr());
        libc::_exit(127)
    }
}

/// `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP` from `<linux/seccomp.h>` (6.6); `libc` lacks it.
const USER_NOTIF_FD_SYNC_WAKE_UP: libc::c_ulong = 1;

/// Asks the kernel to wake the listener on the CPU of the notifying task
/// (`SECCOMP_IOCTL_NOTIF_SET_FLAGS` with `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP`, 6.6), as syd
/// does. Errors: `EINVAL` or `ENOTTY` on older kernels.
pub fn notif_set_sync_wake_up(listener: &OwnedFd) -> io::Result<()> {
    // SAFETY: this request takes the flags as the integer argument itself, not a pointer.
    let r = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SET_FLAGS,
            USER_NOTIF_FD_SYNC_WAKE_UP,
        )
    };
    cvt(c_long::from(r)).map(drop)
}

/// Answers every notification of `f.listener` with `SECCOMP_USER_NOTIF_FLAG_CONTINUE`, in this
/// one thread (or `threads` helpers), until the child has exited and no task uses the filter any more (the listener
/// reports `POLLHUP`). Returns the child's raw wait status. Errors: a failing `poll` or `waitpid`.
pub fn serve_continue(f: &Filtered, threads: usize) -> io::Result<i32> {
    // With several threads, helpers answer and this one only waits for the end. Each helper
    // blocks in NOTIF_RECV, which hands every notification to exactly one waiting receiver
    // (no poll: all pollers would wake for each). They end with the process.
    let helpers = if threads > 1 { threads } else { 0 };
    for _ in 0..helpers {
        let listener = f.listener.try_clone()?;
        std::thread::spawn(
            move || {
                while answer_continue(&listener) || !hung_up(&listener) {}
            },
        );
    }
    let mut status: Option<i32> = None;
    loop {
        let mut fds = [
            libc::pollfd {
                fd: f.listener.as_raw_fd(),
                // POLLHUP and POLLERR are reported whatever the events.
                events: if helpers == 0 { libc::POLLIN } else { 0 },
                revents: 0,
            },
            libc::pollfd {
                // poll(2) ignores negative descriptors: stop watching once the child is reaped.
                fd: if status.is_none() {
                    f.pidfd.as_raw_fd()
                } else {
                    -1
                },
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: `fds` is a valid array of two pollfd.
        let r = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(e);
        }
        let [l, p] = fds;
        if l.revents & libc::POLLIN != 0 {
            let _ = answer_continue(&f.listener);
            continue;
        }
        if p.revents & libc::POLLIN != 0 {
            // The zombie still holds the filter: reap it so that the listener can hang up.
            status = Some(waitpid(f.pid)?);
            continue;
        }
        if l.revents & (libc::POLLHUP | libc::POLLERR) != 0 {
            return match status {
                Some(s) => Ok(s),
                None => waitpid(f.pid),
            };
        }
    }
}

/// Receives one notification and lets the kernel run the call as issued. Failures are ignored:
/// `ENOENT` means the caller died or was interrupted, and the loop simply polls again.
/// Whether the listener reports that no task uses the filter any more.
fn hung_up(listener: &OwnedFd) -> bool {
    let mut fds = [libc::pollfd {
        fd: listener.as_raw_fd(),
        events: 0,
        revents: 0,
    }];
    // SAFETY: `fds` is a valid array of one pollfd.
    let r = unsafe { libc::poll(fds.as_mut_ptr(), 1, 0) };
    let [l] = fds;
    r < 0 || l.revents & (libc::POLLHUP | libc::POLLERR) != 0
}

/// Receives one notification and answers it; false if none could be received.
fn answer_continue(listener: &OwnedFd) -> bool {
    // SAFETY: seccomp_notif is plain old data; the kernel demands it zeroed (EINVAL otherwise).
    let mut n: libc::seccomp_notif = unsafe { MaybeUninit::zeroed().assume_init() };
    // SAFETY: `n` is a valid seccomp_notif for the kernel to fill.
    let r = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_RECV,
            &raw mut n,
        )
    };
    if r != 0 {
        return false;
    }
    let mut resp = libc::seccomp_notif_resp {
        id: n.id,
        val: 0,
        error: 0,
        // The constant is 1 (<linux/seccomp.h>): it fits the u32 field.
        flags: libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32,
    };
    // SAFETY: `resp` is a valid seccomp_notif_resp the kernel reads.
    unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SEND,
            &raw mut resp,
        )
    };
    true
}

/// Size check used by the BPF loader: one classic BPF instruction is 8 bytes.
pub const INSN_SIZE: usize = size_of::<libc::sock_filter>();

/// `sysconf(_SC_CLK_TCK)`: the unit of the CPU times in `/proc/PID/stat`.
pub fn clock_ticks_per_second() -> i64 {
    // SAFETY: sysconf takes no pointers and has no preconditions.
    unsafe { libc::sysconf(libc::_SC_CLK_TCK) }
}

/// Restricts this process (and what it starts later) to CPU `cpu` (< 1024).
pub fn pin_to_cpu(cpu: usize) -> io::Result<()> {
    // SAFETY: cpu_set_t is plain data; all zero is the empty set.
    let mut set: libc::cpu_set_t = unsafe { core::mem::zeroed() };
    // SAFETY: CPU_SET writes inside `set` for cpu < 1024 (CPU_SETSIZE), which the caller ensures.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: `set` is a valid cpu_set_t of the size passed.
    let r = unsafe { libc::sched_setaffinity(0, core::mem::size_of::<libc::cpu_set_t>(), &set) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
