//! Emulated `connect`, `sendto` and `sendmsg` (the address race of SPEC §9 #1).
//!
//! A checked call answered CONTINUE lets the kernel read the socket address again, so a thread
//! flipping the buffer between the check and the kernel's read reaches a denied address. For
//! the calls below the supervisor instead acts itself, on a `pidfd_getfd` duplicate of the
//! tracee's socket (the same open file description, so the same socket, in the tracee's network
//! namespace), with exactly the address it checked, and answers with the result; the kernel
//! never reads the tracee's address.
//!
//! * `connect`: `AF_INET`/`AF_INET6` addresses and `AF_UNIX` abstract names as read. An
//!   `AF_UNIX` path through `/proc/self/fd/N`, N an `O_PATH` descriptor of the checked
//!   canonical path opened from the tracee's root (`/proc/<tid>/root`, `RESOLVE_IN_ROOT`, so
//!   `-C` and mount namespaces count) with no symlink allowed (`RESOLVE_NO_SYMLINKS`: a symlink
//!   swapped in after the check fails with `ELOOP`, and so does a path through a `/proc` magic
//!   link). That address is at most 25 bytes: any canonical path fits `sun_path` (108 bytes),
//!   however long. The kernel checks write permission on the socket file against the
//!   supervisor, which is why UNIX calls are emulated only for a tracee with the supervisor's
//!   identity (below).
//! * `sendto`/`sendmsg` with an address on a socket that is not `SOCK_STREAM`: the payload is
//!   read once (at most [`MAX_SEND`] bytes, `EMSGSIZE` above: every datagram the kernel accepts
//!   with the default buffer sizes fits), then sent as one message with the checked address and
//!   the caller's flags plus `MSG_NOSIGNAL` (a `SIGPIPE` would hit the supervisor, so `EPIPE`
//!   comes back without the signal). `sendmsg` ancillary data of an `AF_INET`/`AF_INET6` send
//!   (`IP_PKTINFO`, `UDP_SEGMENT`, ...) is copied verbatim (at most [`MAX_CONTROL`] bytes,
//!   `ENOBUFS` above) when the tracee has the supervisor's identity (`SO_MARK` and the like
//!   are checked against the sender's capabilities). A stream socket ignores the address
//!   (TCP) or refuses it (UNIX), so such a send is continued, except with TCP Fast Open
//!   (`MSG_FASTOPEN`), which connects to the address: refused with `EOPNOTSUPP`, what the
//!   kernel says when client Fast Open is disabled.
//!
//! Blocking: the supervisor is single-threaded and must not wait. If the socket is blocking,
//! `O_NONBLOCK` is set on the shared description for the `connect` and cleared right after
//! (sends use `MSG_DONTWAIT` instead). A connect that cannot complete at once (`EINPROGRESS`,
//! `EALREADY`, or `EAGAIN` from a UNIX listener with a full backlog) and a send that would
//! block (`EAGAIN`) stay pending: the notification is not answered, the duplicate is kept, and
//! the main loop (whose hooks are a poll timeout of at most [`RETRY_MS`] and a call after
//! each wake-up) redoes the call, non-blocking, until it completes; a repeated `connect` on a connecting TCP socket gives
//! `EALREADY` until the handshake ends, then its result, as the kernel's own wait would. (No
//! descriptor is polled: a UNIX listener's backlog and a receiver's queue give the sender no
//! readiness event, and one timer serves all.) `SO_SNDTIMEO` bounds the wait as in the kernel,
//! which answers a timed-out wait with the first attempt's `EINPROGRESS`, `EALREADY` or
//! `EAGAIN`. A pending call whose notification is no longer valid (the thread was killed, or a
//! signal interrupted it: the tracee then sees `EINTR` or restarts the call) is dropped; this
//! is checked before each retry. A socket the tracee made non-blocking, or `MSG_DONTWAIT`,
//! gets `EINPROGRESS`/`EAGAIN` at once, as from the kernel.
//!
//! Residual risks (documented, not emulated):
//! * The `O_NONBLOCK` window: while the supervisor connects, another thread of the tracee that
//!   uses the same description sees a non-blocking socket (its `recv`/`accept` may fail with
//!   `EAGAIN`), and an `O_NONBLOCK` it sets itself in that window is cleared again.
//! * The supervisor is the task that connects or sends: `SO_PEERCRED`/`SO_PEERPIDFD` of the
//!   accepted UNIX connection and the `SCM_CREDENTIALS` a receiver with `SO_PASSCRED` gets name
//!   the supervisor's pid (with its uid and gid), and LSM network checks (AppArmor, SELinux)
//!   see the supervisor's label. So that the peer's uid, gid and groups stay the tracee's, UNIX
//!   calls (and sends with ancillary data) are emulated only when the tracee has the
//!   supervisor's identity: syd does not run as root, or the tracee is root with syd's
//!   capabilities. Otherwise (e.g. `-U`, or a root tracee that dropped capabilities) they are
//!   checked and continued, and the address race remains for them. `AF_INET`/`AF_INET6`
//!   connects and plain sends involve no credential and are always emulated.
//! * `sendmsg` with ancillary data to a UNIX address (`SCM_RIGHTS` names the tracee's
//!   descriptors, `SCM_CREDENTIALS` its identity, both checked by the kernel against the
//!   sender) and `sendmsg` with ancillary data from a 32-bit (compat) program (its `cmsghdr`
//!   layout differs) are checked and continued: a thread that rewrites `msg_name` in between
//!   still reaches a denied address with such a message.
//! * A pending call that completes in the instant between the validity check and the retry,
//!   just as a signal interrupts the thread, is done although the tracee saw `EINTR` (a UNIX
//!   connect or a send; an interrupted TCP connect goes on in the kernel anyway).
//! * Families other than `AF_UNIX`/`AF_INET`/`AF_INET6`, `AF_UNSPEC`, `recvmsg` and
//!   stream-socket sends are checked (or not) and continued as before.
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
const MAX_IOV: usize = 1024;

/// Milliseconds between retries of a pending call.
pub(crate) const RETRY_MS: u64 = 10;

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

/// The call to emulate.
pub(crate) enum Op {
    /// `connect`.
    Connect,
    /// `sendto` or `sendmsg` with `payload` and `flags`; `compat`: the caller uses a 32-bit
    /// ABI (4-byte pointers in its iovecs).
    Send {
        payload: Payload,
        flags: u64,
        compat: bool,
    },
}

/// What a pending call does again: `connect` to `addr`, or send `data` and `control` to
/// `addr` with `flags`.
struct Redo {
    connect: bool,
    addr: Vec<u8>,
    data: Vec<u8>,
    control: Vec<u8>,
    flags: c_int,
}

/// A call emulated for a tracee that has not completed yet: its notification stays unanswered.
pub(crate) struct Pending {
    /// The notification to answer.
    id: NotifId,
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
}

/// The raw address the supervisor passes to the kernel, and the `O_PATH` descriptor a UNIX
/// path address names (kept open while the call is pending).
type Target = (Vec<u8>, Option<Fd>);

/// The outcome of one attempt.
enum Step {
    /// Answer with this.
    Done(Answer),
    /// Would block: wait and try again.
    Again(i32),
}

impl Supervisor {
    /// Performs an allowed `op` on socket `fd` with the checked address `checked`, read as `raw`
    /// (`len` the length the tracee passed), and answers with its result (see the module
    /// documentation). `None`: not emulated, the caller continues the call.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn emulate_net(
        &mut self,
        n: &Notif,
        tracee: &Tracee,
        fd: i32,
        checked: &SockAddr<'_>,
        raw: &[u8],
        len: u64,
        op: &Op,
    ) -> Option<Reply> {
        if matches!(checked, SockAddr::Other { .. }) {
            return None;
        }
        match self.try_emulate(n, tracee, fd, checked, raw, len, op) {
            Ok(r) => r,
            Err(err) => Some(Reply::Answer(Answer::Errno(err))),
        }
    }

    /// [`Self::emulate_net`], with the errors to answer as `Err`.
    #[allow(clippy::too_many_arguments)]
    fn try_emulate(
        &mut self,
        n: &Notif,
        tracee: &Tracee,
        fd: i32,
        checked: &SockAddr<'_>,
        raw: &[u8],
        len: u64,
        op: &Op,
    ) -> Result<Option<Reply>, Errno> {
        let sock = dup(tracee, fd)?;
        let mut redo = Redo {
            connect: true,
            addr: Vec::new(),
            data: Vec::new(),
            control: Vec::new(),
            flags: 0,
        };
        let (mut msg, mut control) = (false, false);
        if let Op::Send {
            payload,
            flags,
            compat,
        } = op
        {
            // Flags are a C int: the low 32 bits.
            let flags = (flags & 0xffff_ffff) as u32 as c_int;
            if sys::getsockopt_int(&sock, libc::SOL_SOCKET, libc::SO_TYPE)? == libc::SOCK_STREAM {
                if flags & MSG_FASTOPEN != 0 {
                    // SECURITY: a Fast Open send connects to the address the kernel reads
                    // again: refused as when client Fast Open is disabled.
                    return Err(Errno(libc::EOPNOTSUPP));
                }
                // SECURITY: a stream socket ignores the address (TCP) or refuses any (UNIX):
                // a rewritten address reaches nothing.
                return Ok(Some(Reply::Answer(Answer::Continue)));
            }
            msg = matches!(payload, Payload::Msg { .. });
            control = matches!(payload, Payload::Msg { controllen, .. } if *controllen > 0);
            let inet = matches!(checked, SockAddr::Inet { .. } | SockAddr::Inet6 { .. });
            if control && (*compat || !inet) {
                // SECURITY: ancillary data naming the tracee's descriptors or identity, or in
                // the compat layout, cannot be sent as the tracee would: checked and continued,
                // the address race of SPEC §9 #1 remains for these sends (see the module
                // documentation).
                return Ok(Some(Reply::Answer(Answer::Continue)));
            }
            redo.connect = false;
            redo.flags = flags;
        }
        // sendmsg clamps msg_namelen to the size of sockaddr_storage; connect and sendto refuse.
        check_length(raw, len, msg)?;
        let Some((addr, target)) = self.target(tracee, checked, raw, control)? else {
            return Ok(None);
        };
        redo.addr = addr;
        if let Op::Send {
            payload, compat, ..
        } = op
        {
            (redo.data, redo.control) = self.read_payload(n, payload, *compat)?;
        }
        let dontwait = redo.flags & libc::MSG_DONTWAIT != 0;
        if !self.valid(n) {
            return Err(Errno(e::ESRCH));
        }
        let blocking = sys::get_status_flags(&sock)? & libc::O_NONBLOCK == 0 && !dontwait;
        let mut step = Self::attempt(&sock, &redo);
        let first = match step {
            Step::Done(a) => return Ok(Some(Reply::Answer(a))),
            Step::Again(errno) if !blocking => return Err(Errno(errno)),
            Step::Again(errno) => errno,
        };
        if first != libc::EAGAIN {
            // A loopback TCP handshake is usually done by now: no round through the main loop.
            step = Self::attempt(&sock, &redo);
            if let Step::Done(a) = step {
                return Ok(Some(Reply::Answer(a)));
            }
        }
        let now = sys::monotonic_ms();
        let deadline = sys::send_timeout_ms(&sock)?.map(|ms| now.saturating_add(ms));
        self.pending.push(Pending {
            id: n.id,
            sock,
            _target: target,
            redo,
            timeout_errno: first,
            deadline,
        });
        Ok(Some(Reply::Pending))
    }

    /// The raw address the supervisor uses for `checked` (read as `raw`), and the descriptor
    /// it names; `None` for a UNIX address, or a send with ancillary data (`control`), of a
    /// tracee whose identity differs from the supervisor's (see the module documentation).
    fn target(
        &mut self,
        tracee: &Tracee,
        checked: &SockAddr<'_>,
        raw: &[u8],
        control: bool,
    ) -> Result<Option<Target>, Errno> {
        let inet = matches!(checked, SockAddr::Inet { .. } | SockAddr::Inet6 { .. });
        if (control || !inet) && !self.same_identity(tracee) {
            return Ok(None);
        }
        let SockAddr::Unix(canonical) = checked else {
            return Ok(Some((raw.to_vec(), None)));
        };
        let (addr, fd) = open_unix_target(tracee, canonical)?;
        Ok(Some((addr, Some(fd))))
    }

    /// Reads the payload (and ancillary data) of a send, bounded by [`MAX_SEND`] and
    /// [`MAX_CONTROL`].
    fn read_payload(
        &self,
        n: &Notif,
        payload: &Payload,
        compat: bool,
    ) -> Result<(Vec<u8>, Vec<u8>), Errno> {
        let mut data = Vec::new();
        let mut control = Vec::new();
        // The (base, length) words of the payload's pieces: sendto's one buffer, or the iovecs.
        let mut iovs = Vec::new();
        let (mut word, mut cptr, mut clen) = (8, 0, 0);
        match *payload {
            Payload::Buf { ptr, len } => {
                iovs.extend_from_slice(&ptr.to_ne_bytes());
                iovs.extend_from_slice(&len.to_ne_bytes());
            }
            Payload::Msg {
                iov,
                iovlen,
                control,
                controllen,
            } => {
                if compat {
                    word = 4;
                }
                let count = bounded(iovlen, MAX_IOV, libc::EMSGSIZE)?;
                self.read_into(n, iov, count * 2 * word, &mut iovs)?;
                (cptr, clen) = (control, bounded(controllen, MAX_CONTROL, libc::ENOBUFS)?);
            }
        }
        for pair in iovs.chunks_exact(2 * word) {
            let len = bounded(word_at(pair, word, word), MAX_SEND, libc::EMSGSIZE)?;
            if data.len() + len > MAX_SEND {
                return Err(Errno(libc::EMSGSIZE));
            }
            self.read_into(n, word_at(pair, 0, word), len, &mut data)?;
        }
        self.read_into(n, cptr, clen, &mut control)?;
        Ok((data, control))
    }

    /// Appends `len` bytes of the caller's memory at `addr` to `out`.
    fn read_into(&self, n: &Notif, addr: u64, len: usize, out: &mut Vec<u8>) -> Result<(), Errno> {
        if len == 0 {
            return Ok(());
        }
        let start = out.len();
        out.resize(start + len, 0);
        let dst = out.get_mut(start..).ok_or(Errno(e::EFAULT))?;
        mem::read_exact(self.method, n.pid, addr, dst)
    }

    /// One non-blocking attempt of `redo` on `sock`.
    fn attempt(sock: &Fd, redo: &Redo) -> Step {
        if redo.connect {
            return connect_once(sock, &redo.addr);
        }
        let flags = redo.flags | libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
        match sys::sendmsg(sock, &redo.data, &redo.addr, &redo.control, flags) {
            // A datagram is sent whole: its length fits an i64.
            Ok(count) => Step::Done(Answer::Value(count as i64)),
            Err(Errno(libc::EAGAIN)) => Step::Again(libc::EAGAIN),
            Err(err) => Step::Done(Answer::Errno(err)),
        }
    }

    /// The main loop's hook before `poll`: its timeout in milliseconds, `timeout` (negative:
    /// none), or at most [`RETRY_MS`] while calls are pending.
    pub fn poll_timeout(&self, timeout: i32) -> i32 {
        // RETRY_MS is 10: it fits.
        let retry = RETRY_MS as i32;
        match (self.pending.is_empty(), timeout) {
            (true, _) => timeout,
            (false, t) if t < 0 => retry,
            (false, t) => t.min(retry),
        }
    }

    /// The main loop's hook after `poll`: retries the pending calls, and answers those that
    /// completed or timed out. Calls whose notification is no longer valid leave.
    pub fn poll_done(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let now = sys::monotonic_ms();
        let listener = &self.listener;
        self.pending.retain(|p| {
            if sys::notif_id_valid(listener, p.id).is_err() {
                // Killed, or interrupted by a signal: the tracee no longer waits.
                return false;
            }
            let answer = match Self::attempt(&p.sock, &p.redo) {
                Step::Done(a) => a,
                Step::Again(_) if p.deadline.is_some_and(|d| now >= d) => {
                    Answer::Errno(Errno(p.timeout_errno))
                }
                Step::Again(_) => return true,
            };
            // ENOENT: the caller is gone; nothing to do.
            let _ = sys::notif_send(listener, p.id, answer);
            false
        });
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

/// Fails as the kernel does with an address of `len` bytes of which `raw` could be read
/// before it looks at it: longer than `sockaddr_storage` (`EINVAL`, unless `clamped`: sendmsg
/// truncates), or unreadable (`EFAULT`).
fn check_length(raw: &[u8], len: u64, clamped: bool) -> Result<(), Errno> {
    let len = if clamped { len.min(128) } else { len };
    if len > 128 {
        return Err(Errno(libc::EINVAL));
    }
    // len <= 128 here.
    if raw.len() < len as usize {
        return Err(Errno(e::EFAULT));
    }
    Ok(())
}

/// `v` as a length of at most `limit`, else `Err(errno)`.
fn bounded(v: u64, limit: usize, errno: i32) -> Result<usize, Errno> {
    usize::try_from(v)
        .ok()
        .filter(|&l| l <= limit)
        .ok_or(Errno(errno))
}

/// A duplicate of the tracee's descriptor `fd`. Errors: `EBADF` as the kernel would say it of
/// the tracee's descriptor; any other failure (ptrace access refused) as it is, since the call
/// cannot be made safely.
fn dup(tracee: &Tracee, fd: i32) -> Result<Fd, Errno> {
    let pidfd = sys::pidfd_open(tracee.tgid)?;
    sys::pidfd_getfd(&pidfd, fd)
}

/// The `/proc/self/fd/N` address of the socket file at the checked canonical path, and N: an
/// `O_PATH` descriptor opened from the tracee's root without following any symlink.
fn open_unix_target(tracee: &Tracee, canonical: &[u8]) -> Result<(Vec<u8>, Fd), Errno> {
    let root = crate::supervise::open_root(tracee.tid)?;
    let rel = canonical.strip_prefix(b"/").unwrap_or(canonical);
    // SECURITY: the canonical path has no symlink left: one swapped in after the check makes
    // the open fail (ELOOP) instead of leading elsewhere. (A path through a /proc magic link
    // fails so too.)
    let how = sys::OpenHow {
        // O_PATH | O_CLOEXEC: positive ints, the cast widens.
        flags: (libc::O_PATH | libc::O_CLOEXEC) as u32 as u64,
        mode: 0,
        resolve: libc::RESOLVE_NO_SYMLINKS | RESOLVE_IN_ROOT,
    };
    let fd = sys::openat2(Some(&root), &crate::setup::cstring(rel)?, &how)?;
    let mut addr = Vec::with_capacity(32);
    addr.extend_from_slice(&(libc::AF_UNIX as u16).to_ne_bytes()); // 1: fits
    addr.extend_from_slice(b"/proc/self/fd/");
    syd_core::report::put_int(
        &mut |b: &[u8]| addr.extend_from_slice(b),
        i64::from(fd.raw()),
    );
    addr.push(0);
    Ok((addr, fd))
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
