//! Emulated `connect`, `sendto` and `sendmsg` (the address race of SPEC §9 #1).
//!
//! A checked call answered CONTINUE lets the kernel read the socket address again, so a thread
//! flipping the buffer between the check and the kernel's read reaches a denied address. For
//! the calls below the supervisor instead acts itself, on a `pidfd_getfd` duplicate of the
//! tracee's socket (the same open file description, so the same socket), with exactly the
//! address it checked, and answers with the result; the kernel never reads the tracee's
//! address.
//!
//! * `connect`: `AF_INET`/`AF_INET6` addresses as read; `AF_UNIX` abstract names as read; a
//!   `AF_UNIX` path through `/proc/self/fd/N`, where N is an `O_PATH` descriptor of the checked
//!   canonical path opened from the tracee's root (`/proc/<tid>/root`, `RESOLVE_IN_ROOT`) with
//!   no symlink allowed (`RESOLVE_NO_SYMLINKS`: a symlink swapped in after the check fails with
//!   `ELOOP`). That address is at most 25 bytes, so any path fits `sun_path`; the kernel's
//!   write-permission check on the socket file is made against the supervisor, which for an
//!   emulated UNIX call has the tracee's identity (below).
//! * `sendto`/`sendmsg` with an address on a socket that is not `SOCK_STREAM`: the payload is
//!   read once (at most [`MAX_SEND`] bytes, `EMSGSIZE` above: every datagram the kernel accepts
//!   with the default buffer sizes fits), then sent as one message with the checked address and
//!   the caller's flags plus `MSG_NOSIGNAL` (a `SIGPIPE` would hit the supervisor, so `EPIPE`
//!   comes back without the signal). `sendmsg` ancillary data of an `AF_INET`/`AF_INET6` send
//!   (`IP_PKTINFO`, `UDP_SEGMENT`, ...) is copied verbatim (at most [`MAX_CONTROL`] bytes,
//!   `ENOBUFS` above) and sent with the tracee's capabilities (`SO_MARK` needs
//!   `CAP_NET_ADMIN`). A stream socket ignores the address (TCP) or refuses it (UNIX), except
//!   for TCP Fast Open (`MSG_FASTOPEN`), which connects to it: refused with `EOPNOTSUPP`, what
//!   the kernel says when client Fast Open is disabled.
//!
//! Blocking: the supervisor is single-threaded and must not wait. If the socket is blocking,
//! `O_NONBLOCK` is set on the shared description for the `connect` and cleared right after
//! (sends use `MSG_DONTWAIT` instead). A connect that cannot complete at once (`EINPROGRESS`,
//! `EALREADY`, or `EAGAIN` from a UNIX listener with a full backlog) and a send that would
//! block (`EAGAIN`) stay pending: the notification is not answered, the duplicate is kept, and
//! the main loop polls it (TCP: `POLLOUT`) or retries every [`RETRY_MS`] (UNIX listeners and
//! sends, which give no readiness event), redoing the call non-blocking until it completes.
//! `SO_SNDTIMEO` bounds the wait as in the kernel (`EINPROGRESS`, `EALREADY` or `EAGAIN`, as the
//! kernel answers a timed-out wait). A pending call whose notification is no longer valid (the
//! thread was killed, or a signal interrupted it: the tracee then sees `EINTR` or restarts the
//! call) is dropped; this is checked before each retry and at least every [`CHECK_MS`]. A socket
//! the tracee made non-blocking gets `EINPROGRESS`/`EAGAIN` at once, as from the kernel.
//!
//! Residual risks (documented, not emulated):
//! * The `O_NONBLOCK` window: while the supervisor connects, another thread of the tracee that
//!   uses the same description sees a non-blocking socket (its `recv`/`accept` may fail with
//!   `EAGAIN`), and an `O_NONBLOCK` it sets itself in that window is cleared again.
//! * The supervisor is the task that connects or sends: `SO_PEERCRED`/`SO_PEERPIDFD` of the
//!   accepted UNIX connection and the `SCM_CREDENTIALS` a receiver with `SO_PASSCRED` gets name
//!   the supervisor's pid, and LSM network checks (AppArmor, SELinux) see the supervisor's
//!   label. Because the peer uid, gid and groups must still be the tracee's, UNIX calls are
//!   emulated only when the tracee has the supervisor's identity (syd not root, or a root
//!   tracee with syd's capabilities); otherwise (e.g. `-U`) they are checked and continued,
//!   and the address race remains for them. For `AF_INET`/`AF_INET6` no credential is involved.
//! * `sendmsg` with ancillary data to a UNIX address (`SCM_RIGHTS` names the tracee's
//!   descriptors, `SCM_CREDENTIALS` its identity, both checked by the kernel against the
//!   sender) and `sendmsg` with ancillary data from a 32-bit (compat) program (its `cmsghdr`
//!   layout differs) are checked and continued: a thread that rewrites `msg_name` in between
//!   still reaches a denied address with such a message.
//! * A pending UNIX connect or send that succeeds in the instant between the validity check and
//!   the call, just as a signal interrupts the thread, is done although the tracee saw `EINTR`.
//! * Families other than `AF_UNIX`/`AF_INET`/`AF_INET6`, `AF_UNSPEC` and stream-socket sends
//!   are checked (or not) and continued as before.
//!
//! Pending calls are at most one per tracee thread (a thread waits in one call), and their
//! descriptors count against the supervisor's descriptor limit, which bounds the table.

use alloc::vec::Vec;
use core::ffi::c_int;

use syd_core::addr::SockAddr;

use crate::mem;
use crate::path::Tracee;
use crate::supervise::{e, Reply, Supervisor};
use crate::sys::{self, Answer, Errno, Fd, Notif, NotifId};

/// Largest payload of an emulated datagram send: 256 KiB, above the largest datagram the
/// kernel accepts with default buffer sizes (UDP 65,507 bytes; UNIX about `wmem_default`,
/// 208 KiB). Larger sends are refused with `EMSGSIZE`.
pub(crate) const MAX_SEND: usize = 256 * 1024;

/// Largest ancillary data of an emulated `sendmsg`: 4 KiB, far above what inet control messages
/// take (tens of bytes each). Larger control data is refused with `ENOBUFS`.
pub(crate) const MAX_CONTROL: usize = 4096;

/// Most iovecs in one `sendmsg` (`UIO_MAXIOV`); the kernel refuses more with `EMSGSIZE`.
const MAX_IOV: u64 = 1024;

/// Milliseconds between retries of a pending call that has no readiness event.
pub(crate) const RETRY_MS: u64 = 10;

/// Milliseconds between validity checks of a pending call that waits for a readiness event.
const CHECK_MS: u64 = 100;

/// `MSG_FASTOPEN` (linux/socket.h): a stream send that connects to its address.
const MSG_FASTOPEN: c_int = 0x2000_0000;

/// Where an emulated send takes its payload from.
pub(crate) enum Payload {
    /// `sendto`: one buffer.
    Buf { ptr: u64, len: u64 },
    /// `sendmsg`: the iovec array, and the ancillary data.
    Msg {
        iov: u64,
        iovlen: u64,
        control: u64,
        controllen: u64,
    },
}

/// What a pending call does again when it may have progressed.
enum Redo {
    /// `connect` again (TCP: once `POLLOUT` says so; UNIX: on the timer).
    Connect { addr: Vec<u8>, poll: bool },
    /// Send again, on the timer.
    Send {
        data: Vec<u8>,
        addr: Vec<u8>,
        control: Vec<u8>,
        flags: c_int,
    },
}

/// A call emulated for a tracee that has not completed yet: its notification stays unanswered.
pub(crate) struct Pending {
    /// The notification to answer.
    id: NotifId,
    /// The caller, whose capabilities a send with ancillary data uses.
    tracee: Tracee,
    /// The duplicate of the tracee's socket.
    sock: Fd,
    /// The `O_PATH` descriptor a UNIX path address names through `/proc/self/fd`.
    _target: Option<Fd>,
    /// What to do again.
    redo: Redo,
    /// The answer when `SO_SNDTIMEO` runs out, as the kernel's after a timed-out wait.
    timeout_errno: i32,
    /// When `SO_SNDTIMEO` runs out (`CLOCK_MONOTONIC` milliseconds), if it is set.
    deadline: Option<u64>,
    /// When to retry or check the notification next.
    next: u64,
}

/// The outcome of one attempt.
enum Step {
    /// Answer with this.
    Done(Answer),
    /// Would block: wait and try again.
    Again(i32),
}

/// The destination of an emulated call, as the supervisor passes it to the kernel.
struct Target {
    /// The raw socket address.
    addr: Vec<u8>,
    /// The `O_PATH` descriptor a UNIX path address names, kept open while the call is pending.
    fd: Option<Fd>,
}

impl Supervisor {
    /// Performs an allowed `connect` of socket `fd` to the checked address `checked`, read as
    /// `raw` (`len` the length the tracee passed), and answers with its result (see the module
    /// documentation). `None`: not emulated here, the caller continues the call.
    pub(crate) fn emulate_connect(
        &mut self,
        n: &Notif,
        tracee: &Tracee,
        fd: i32,
        checked: &SockAddr<'_>,
        raw: &[u8],
        len: u64,
    ) -> Option<Reply> {
        if matches!(checked, SockAddr::Other { .. }) {
            return None;
        }
        if let Some(a) = bad_length(raw, len, false) {
            return Some(Reply::Answer(a));
        }
        let target = match self.target(tracee, checked, raw)? {
            Ok(t) => t,
            Err(err) => return Some(Reply::Answer(Answer::Errno(err))),
        };
        let sock = match dup(tracee, fd) {
            Ok(s) => s,
            Err(err) => return Some(Reply::Answer(Answer::Errno(err))),
        };
        if !self.valid(n) {
            return Some(Reply::Answer(Answer::Errno(Errno(e::ESRCH))));
        }
        let blocking = match sys::get_status_flags(&sock) {
            Ok(fl) => fl & libc::O_NONBLOCK == 0,
            Err(err) => return Some(Reply::Answer(Answer::Errno(err))),
        };
        let first = match connect_once(&sock, &target.addr) {
            Step::Done(a) => return Some(Reply::Answer(a)),
            Step::Again(errno) if !blocking => {
                return Some(Reply::Answer(Answer::Errno(Errno(errno))))
            }
            Step::Again(errno) => errno,
        };
        // TCP signals completion with POLLOUT; a UNIX listener's backlog gives no event on the
        // connecting socket, so that is retried on the timer.
        let poll = first != libc::EAGAIN;
        if poll && sys::poll_out(&sock, 0).unwrap_or(false) {
            // Loopback handshakes are usually done by now: no round through the main loop.
            if let Step::Done(a) = connect_once(&sock, &target.addr) {
                return Some(Reply::Answer(a));
            }
        }
        let redo = Redo::Connect {
            addr: target.addr,
            poll,
        };
        self.pend(n, tracee, sock, target.fd, redo, first);
        Some(Reply::Pending)
    }

    /// Performs an allowed `sendto`/`sendmsg` of socket `fd` to the checked address `checked`,
    /// read as `raw` (`len` the length the tracee passed), with `payload` and `flags`, and
    /// answers with its result (see the module documentation). `compat`: the caller uses a
    /// 32-bit ABI (4-byte pointers in its iovecs). `None`: not emulated here, the caller
    /// continues the call.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn emulate_send(
        &mut self,
        n: &Notif,
        tracee: &Tracee,
        fd: i32,
        checked: &SockAddr<'_>,
        raw: &[u8],
        len: u64,
        payload: &Payload,
        flags: u64,
        compat: bool,
    ) -> Option<Reply> {
        if matches!(checked, SockAddr::Other { .. }) {
            return None;
        }
        // Flags are a C int: the low 32 bits.
        let flags = (flags & 0xffff_ffff) as u32 as c_int;
        let sock = match dup(tracee, fd) {
            Ok(s) => s,
            Err(err) => return Some(Reply::Answer(Answer::Errno(err))),
        };
        let ty = match sys::getsockopt_int(&sock, libc::SOL_SOCKET, libc::SO_TYPE) {
            Ok(t) => t,
            Err(err) => return Some(Reply::Answer(Answer::Errno(err))),
        };
        if ty == libc::SOCK_STREAM {
            if flags & MSG_FASTOPEN != 0 {
                // SECURITY: a Fast Open send connects to the address the kernel reads again:
                // refused as when client Fast Open is disabled.
                return Some(Reply::Answer(Answer::Errno(Errno(libc::EOPNOTSUPP))));
            }
            // SECURITY: a stream socket ignores the address (TCP) or refuses any (UNIX): a
            // rewritten address reaches nothing.
            return Some(Reply::Answer(Answer::Continue));
        }
        let has_control = matches!(payload, Payload::Msg { controllen, .. } if *controllen > 0);
        let inet = matches!(checked, SockAddr::Inet { .. } | SockAddr::Inet6 { .. });
        if has_control && (compat || !inet) {
            // SECURITY: ancillary data naming the tracee's descriptors or identity, or in the
            // compat layout, cannot be sent as the tracee would: checked and continued, the
            // address race of SPEC §9 #1 remains for these sends (see the module docs).
            return Some(Reply::Answer(Answer::Continue));
        }
        // sendmsg clamps msg_namelen to the size of sockaddr_storage; sendto refuses more.
        if let Some(a) = bad_length(raw, len, matches!(payload, Payload::Msg { .. })) {
            return Some(Reply::Answer(a));
        }
        let target = match self.target(tracee, checked, raw)? {
            Ok(t) => t,
            Err(err) => return Some(Reply::Answer(Answer::Errno(err))),
        };
        let (data, control) = match self.read_payload(n, payload, compat) {
            Ok(d) => d,
            Err(err) => return Some(Reply::Answer(Answer::Errno(err))),
        };
        if !self.valid(n) {
            return Some(Reply::Answer(Answer::Errno(Errno(e::ESRCH))));
        }
        let blocking = match sys::get_status_flags(&sock) {
            Ok(fl) => fl & libc::O_NONBLOCK == 0 && flags & libc::MSG_DONTWAIT == 0,
            Err(err) => return Some(Reply::Answer(Answer::Errno(err))),
        };
        let redo = Redo::Send {
            data,
            addr: target.addr,
            control,
            flags,
        };
        match self.attempt(tracee, &sock, &redo) {
            Step::Done(a) => Some(Reply::Answer(a)),
            Step::Again(errno) if !blocking => Some(Reply::Answer(Answer::Errno(Errno(errno)))),
            Step::Again(errno) => {
                self.pend(n, tracee, sock, target.fd, redo, errno);
                Some(Reply::Pending)
            }
        }
    }

    /// The address the supervisor uses for `checked` (read as `raw`); `None` for a family that
    /// is not emulated, or a UNIX address of a tracee whose identity differs from the
    /// supervisor's (see the module documentation).
    fn target(
        &mut self,
        tracee: &Tracee,
        checked: &SockAddr<'_>,
        raw: &[u8],
    ) -> Option<Result<Target, Errno>> {
        let unix = match checked {
            SockAddr::Inet { .. } | SockAddr::Inet6 { .. } => false,
            SockAddr::Unix(_) | SockAddr::UnixAbstract(_) | SockAddr::Unnamed => true,
            SockAddr::Other { .. } => return None,
        };
        if unix && !self.same_identity(tracee) {
            return None;
        }
        let SockAddr::Unix(canonical) = checked else {
            return Some(Ok(Target {
                addr: raw.to_vec(),
                fd: None,
            }));
        };
        Some(open_unix_target(tracee, canonical))
    }

    /// Reads the payload (and ancillary data) of a send, bounded by [`MAX_SEND`] and
    /// [`MAX_CONTROL`].
    fn read_payload(
        &self,
        n: &Notif,
        payload: &Payload,
        compat: bool,
    ) -> Result<(Vec<u8>, Vec<u8>), Errno> {
        let read = |addr: u64, len: usize, out: &mut Vec<u8>| -> Result<(), Errno> {
            let start = out.len();
            out.resize(start + len, 0);
            let dst = out.get_mut(start..).ok_or(Errno(e::EFAULT))?;
            if len == 0 {
                return Ok(());
            }
            mem::read_exact(self.method, n.pid, addr, dst)
        };
        let size = |v: u64, limit: usize, errno: i32| -> Result<usize, Errno> {
            usize::try_from(v)
                .ok()
                .filter(|&l| l <= limit)
                .ok_or(Errno(errno))
        };
        let mut data = Vec::new();
        let mut control = Vec::new();
        match *payload {
            Payload::Buf { ptr, len } => {
                read(ptr, size(len, MAX_SEND, libc::EMSGSIZE)?, &mut data)?;
            }
            Payload::Msg {
                iov,
                iovlen,
                control: cptr,
                controllen,
            } => {
                if iovlen > MAX_IOV {
                    return Err(Errno(libc::EMSGSIZE));
                }
                let word = if compat { 4 } else { 8 };
                // iovlen <= 1024: at most 16 KiB of iovecs.
                let count = iovlen as usize;
                let mut iovs = Vec::new();
                read(iov, count * 2 * word, &mut iovs)?;
                let mut total = 0usize;
                for pair in iovs.chunks_exact(2 * word) {
                    let base = word_at(pair, 0, word);
                    let len = word_at(pair, word, word);
                    let len = size(len, MAX_SEND, libc::EMSGSIZE)?;
                    total = total.checked_add(len).ok_or(Errno(libc::EMSGSIZE))?;
                    if total > MAX_SEND {
                        return Err(Errno(libc::EMSGSIZE));
                    }
                    read(base, len, &mut data)?;
                }
                read(
                    cptr,
                    size(controllen, MAX_CONTROL, libc::ENOBUFS)?,
                    &mut control,
                )?;
            }
        }
        Ok((data, control))
    }

    /// One non-blocking attempt of `redo` on `sock`.
    fn attempt(&mut self, tracee: &Tracee, sock: &Fd, redo: &Redo) -> Step {
        match redo {
            Redo::Connect { addr, .. } => connect_once(sock, addr),
            Redo::Send {
                data,
                addr,
                control,
                flags,
            } => {
                let flags = *flags | libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
                let send = || sys::sendmsg(sock, data, addr, control, flags);
                // Ancillary data may need the tracee's capabilities (SO_MARK, SO_PRIORITY).
                let r = if control.is_empty() {
                    send()
                } else {
                    self.as_tracee(tracee, send).and_then(|r| r)
                };
                match r {
                    // A datagram is sent whole: its length fits an i64.
                    Ok(count) => Step::Done(Answer::Value(count as i64)),
                    Err(Errno(libc::EAGAIN)) => Step::Again(libc::EAGAIN),
                    Err(err) => Step::Done(Answer::Errno(err)),
                }
            }
        }
    }

    /// Keeps a call that would block pending (see the module documentation).
    fn pend(
        &mut self,
        n: &Notif,
        tracee: &Tracee,
        sock: Fd,
        target: Option<Fd>,
        redo: Redo,
        first: i32,
    ) {
        let now = sys::monotonic_ms();
        let deadline = sys::send_timeout_ms(&sock)
            .ok()
            .flatten()
            .map(|ms| now.saturating_add(ms));
        let poll = matches!(redo, Redo::Connect { poll: true, .. });
        self.pending.push(Pending {
            id: n.id,
            tracee: *tracee,
            sock,
            _target: target,
            redo,
            timeout_errno: first,
            deadline,
            next: now + if poll { CHECK_MS } else { RETRY_MS },
        });
    }

    /// Adds the descriptors of pending calls that wait for `POLLOUT` to `fds`, and returns the
    /// poll timeout in milliseconds: `timeout` (negative: none), or less when a pending call
    /// must be retried or checked sooner. The main loop's hook before `poll`.
    pub fn poll_extra(&self, fds: &mut Vec<libc::pollfd>, timeout: i32) -> i32 {
        if self.pending.is_empty() {
            return timeout;
        }
        let now = sys::monotonic_ms();
        let mut soonest = u64::MAX;
        for p in &self.pending {
            if matches!(p.redo, Redo::Connect { poll: true, .. }) {
                fds.push(libc::pollfd {
                    fd: p.sock.raw(),
                    events: libc::POLLOUT,
                    revents: 0,
                });
            }
            soonest = soonest.min(p.next).min(p.deadline.unwrap_or(u64::MAX));
        }
        let wait = i32::try_from(soonest.saturating_sub(now)).unwrap_or(i32::MAX);
        if timeout < 0 {
            wait
        } else {
            timeout.min(wait)
        }
    }

    /// Advances the pending calls after `poll`: `fds` are the entries [`Self::poll_extra`]
    /// added, with their `revents`. Completed, timed-out and invalid calls leave the table.
    /// The main loop's hook after `poll`.
    pub fn poll_done(&mut self, fds: &[libc::pollfd]) {
        if self.pending.is_empty() {
            return;
        }
        let now = sys::monotonic_ms();
        let pending = core::mem::take(&mut self.pending);
        for mut p in pending {
            let raw = p.sock.raw();
            let polled = matches!(p.redo, Redo::Connect { poll: true, .. });
            let ready = if polled {
                fds.iter().any(|f| f.fd == raw && f.revents != 0)
            } else {
                now >= p.next
            };
            let expired = p.deadline.is_some_and(|d| now >= d);
            if !ready && !expired && now < p.next {
                self.pending.push(p);
                continue;
            }
            if sys::notif_id_valid(&self.listener, p.id).is_err() {
                // Killed, or interrupted by a signal: the tracee no longer waits.
                continue;
            }
            let step = if ready {
                let tracee = p.tracee;
                self.attempt(&tracee, &p.sock, &p.redo)
            } else {
                Step::Again(p.timeout_errno)
            };
            let answer = match step {
                Step::Done(a) => a,
                Step::Again(_) if expired => Answer::Errno(Errno(p.timeout_errno)),
                Step::Again(_) => {
                    p.next = now + if polled { CHECK_MS } else { RETRY_MS };
                    self.pending.push(p);
                    continue;
                }
            };
            // ENOENT: the caller is gone; nothing to do.
            let _ = sys::notif_send(&self.listener, p.id, answer);
        }
    }
}

/// One `connect` of `sock` to `addr` that does not wait: `O_NONBLOCK` is set on the shared
/// description for the call if it is not, and cleared right after.
fn connect_once(sock: &Fd, addr: &[u8]) -> Step {
    let blocking = sys::get_status_flags(sock).is_ok_and(|fl| fl & libc::O_NONBLOCK == 0);
    if blocking {
        // SECURITY: the tracee's other threads see a non-blocking socket until the flag is
        // cleared below (a residual risk named in the module documentation).
        if let Ok(fl) = sys::get_status_flags(sock) {
            let _ = sys::set_status_flags(sock, fl | libc::O_NONBLOCK);
        }
    }
    let r = sys::connect(sock, addr);
    if blocking {
        // Only O_NONBLOCK is cleared: a flag another thread changed meanwhile stays changed.
        if let Ok(fl) = sys::get_status_flags(sock) {
            let _ = sys::set_status_flags(sock, fl & !libc::O_NONBLOCK);
        }
    }
    match r {
        Ok(()) => Step::Done(Answer::Value(0)),
        Err(Errno(errno @ (libc::EINPROGRESS | libc::EALREADY | libc::EAGAIN))) => {
            Step::Again(errno)
        }
        Err(err) => Step::Done(Answer::Errno(err)),
    }
}

/// The kernel's answer to an address of `len` bytes of which `raw` could be read, if it
/// refuses it before looking at it: longer than `sockaddr_storage` (`EINVAL`, unless
/// `clamped`: sendmsg truncates), or unreadable (`EFAULT`).
fn bad_length(raw: &[u8], len: u64, clamped: bool) -> Option<Answer> {
    let len = if clamped { len.min(128) } else { len };
    if len > 128 {
        return Some(Answer::Errno(Errno(libc::EINVAL)));
    }
    // len <= 128 here.
    (raw.len() < len as usize).then_some(Answer::Errno(Errno(e::EFAULT)))
}

/// A duplicate of the tracee's descriptor `fd`. Errors: `EBADF` as the kernel would say it of
/// the tracee's descriptor; any other failure (ptrace access refused) as it is, since the call
/// cannot be made safely.
fn dup(tracee: &Tracee, fd: i32) -> Result<Fd, Errno> {
    let pidfd = sys::pidfd_open(tracee.tgid)?;
    sys::pidfd_getfd(&pidfd, fd)
}

/// The `/proc/self/fd/N` address of the socket file at the checked canonical path, N an
/// `O_PATH` descriptor opened from the tracee's root without following any symlink.
fn open_unix_target(tracee: &Tracee, canonical: &[u8]) -> Result<Target, Errno> {
    let root = crate::supervise::open_root(tracee.tid)?;
    let rel = canonical.strip_prefix(b"/").unwrap_or(canonical);
    let rel = if rel.is_empty() { &b"."[..] } else { rel };
    let rel = crate::setup::cstring(rel)?;
    let fd = if canonical.starts_with(b"/proc/") {
        // Magic links under /proc name the tracee's own files: follow them, as the check did.
        sys::openat(Some(&root), &rel, libc::O_PATH | libc::O_CLOEXEC, 0)?
    } else {
        // SECURITY: the canonical path has no symlink left: one swapped in after the check
        // makes the open fail (ELOOP) instead of leading elsewhere.
        let how = sys::OpenHow {
            // O_PATH | O_CLOEXEC: positive ints, the cast widens.
            flags: (libc::O_PATH | libc::O_CLOEXEC) as u32 as u64,
            mode: 0,
            resolve: libc::RESOLVE_NO_SYMLINKS | RESOLVE_IN_ROOT,
        };
        sys::openat2(Some(&root), &rel, &how)?
    };
    let mut addr = Vec::with_capacity(32);
    addr.extend_from_slice(&(libc::AF_UNIX as u16).to_ne_bytes()); // 1: fits
    let mut path = [0u8; 32];
    let len = fmt_fd_path(&mut path, fd.raw());
    addr.extend_from_slice(path.get(..len).unwrap_or(&[]));
    addr.push(0);
    Ok(Target { addr, fd: Some(fd) })
}

/// Writes `/proc/self/fd/<fd>` into `buf` and returns its length (at most 24 bytes).
fn fmt_fd_path(buf: &mut [u8; 32], fd: c_int) -> usize {
    let prefix = b"/proc/self/fd/";
    let mut len = 0;
    for (d, s) in buf.iter_mut().zip(prefix) {
        *d = *s;
        len += 1;
    }
    let mut digits = [0u8; 10];
    let mut v = fd.unsigned_abs();
    let mut i = digits.len();
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            // v % 10 < 10: fits a byte.
            *d = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if v == 0 || i == 0 {
            break;
        }
    }
    for &d in digits.get(i..).unwrap_or(&[]) {
        if let Some(slot) = buf.get_mut(len) {
            *slot = d;
            len += 1;
        }
    }
    len
}

/// The `size`-byte word at `off` of `b` (the host's order: tracee memory), 0 if out of range.
fn word_at(b: &[u8], off: usize, size: usize) -> u64 {
    match (size, b.get(off..off + size)) {
        (4, Some(s)) => {
            let mut x = [0u8; 4];
            x.copy_from_slice(s);
            u64::from(u32::from_ne_bytes(x))
        }
        (8, Some(s)) => {
            let mut x = [0u8; 8];
            x.copy_from_slice(s);
            u64::from_ne_bytes(x)
        }
        _ => 0,
    }
}

/// `RESOLVE_IN_ROOT` (linux/openat2.h).
const RESOLVE_IN_ROOT: u64 = 0x10;
