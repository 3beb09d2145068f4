//! Network sandboxing in the supervisor (SPEC §4): addresses of bind, connect, sendto, sendmsg,
//! recvmsg and socketcall checked against the bind and connect groups, and the addresses of
//! successful binds learned for the connect group (SPEC §4.5). Allowed `connect`, `sendto` and
//! `sendmsg` calls are performed by the supervisor with the checked address (bin/netemu.rs).
//!
//! Learning a bind: an `AF_INET`/`AF_INET6` bind is performed by the supervisor on a duplicate
//! of the tracee's socket (`pidfd_getfd`), and the address `getsockname` then reports (the real
//! port for port 0) is learned; the tracee gets the bind's own result. Two kinds of bind are
//! left to the kernel instead, because the supervisor's identity would change their outcome:
//! a privileged port (below `ip_unprivileged_port_start`: the root supervisor could bind what
//! the tracee cannot) and every `AF_UNIX` bind (the socket file is created with the caller's
//! fsuid, fsgid, umask, cwd, root and mount namespace, and a canonical path may exceed the
//! 108 bytes of `sun_path`). Such a bind is recorded as pending (thread, fd, socket inode and
//! the address asked for) and learned only when `getsockname` on a duplicate of the socket
//! confirms it: at every network notification, so before every connect-group check. A pending
//! record is final once its thread makes another network call or is gone (the bind has then
//! returned): still unbound means the bind failed and nothing is learned. Each thread holds at
//! most one pending record, which bounds the table.

use alloc::vec::Vec;

use syd_core::addr::{parse_sockaddr, AddrError, RawSockAddr, SockAddr};
use syd_core::notify;
use syd_core::report::Subject;
use syd_core::sandbox::{check_addr, Mode, Net, Verdict};
use syd_core::syscall::NetCall;

use crate::mem;
use crate::netemu::{Op, Payload};
use crate::path::{self, Base, Follow, PathBuf, Tracee};
use crate::supervise::{arg, e, Call, Reply, Supervisor};
use crate::sys::{self, Answer, Errno, Notif, Pid};

/// The address a bind left to the kernel asked for, to compare with what `getsockname` reports.
enum Want {
    /// A UNIX path: the text as passed (the kernel reports it back) and its canonical form.
    Path { text: Vec<u8>, canonical: Vec<u8> },
    /// An abstract UNIX name.
    Abstract(Vec<u8>),
    /// An unnamed UNIX address: the kernel chooses an abstract name (autobind).
    Autobind,
    /// An `AF_INET` or `AF_INET6` address, exactly.
    Inet(SockAddr<'static>),
}

/// A bind the kernel performs for the tracee, learned once it is confirmed (see the module
/// documentation).
pub(crate) struct PendingBind {
    /// The thread that called bind: its next network notification means the bind returned.
    tid: i32,
    /// Its thread group, whose descriptor table holds `fd`.
    tgid: i32,
    /// The socket descriptor in the tracee.
    fd: i32,
    /// The socket's inode, so that a reused descriptor number is not taken for the socket.
    ino: u64,
    /// The address asked for.
    want: Want,
}

/// The port of the service `name` in `/etc/services` (SPEC §3.5), for address patterns added
/// at run time: the file is read when a pattern names a service, as at start-up.
pub(crate) fn service_port(name: &[u8]) -> Option<u16> {
    let fd = sys::open(c"/etc/services", libc::O_RDONLY | libc::O_CLOEXEC, 0).ok()?;
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = sys::read(&fd, &mut buf).ok()?;
        if n == 0 {
            break;
        }
        text.extend_from_slice(buf.get(..n)?);
    }
    syd_core::addr::lookup_service(&text, name)
}

/// The byte order of the supervisor's own ABI, in which `getsockname` answers it.
fn host_endian() -> syd_core::addr::Endian {
    if cfg!(target_endian = "big") {
        syd_core::addr::Endian::Big
    } else {
        syd_core::addr::Endian::Little
    }
}

/// The lowest port an unprivileged bind may use (`net.ipv4.ip_unprivileged_port_start`, which
/// applies to IPv6 too); 1024, the kernel's default, if it cannot be read.
fn unprivileged_port_start() -> u16 {
    let mut buf = [0u8; 16];
    let path = c"/proc/sys/net/ipv4/ip_unprivileged_port_start";
    let Ok(n) = crate::setup::read_small(path, &mut buf) else {
        return 1024;
    };
    buf.get(..n)
        .and_then(|b| core::str::from_utf8(b).ok())
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(1024)
}

impl Supervisor {
    pub(crate) fn net(
        &mut self,
        n: &Notif,
        call: &Call,
        tracee: &Tracee,
        tgid: i32,
        net: NetCall,
    ) -> Reply {
        self.settle_binds(n.pid.0);
        if self.policy(tgid).network == Mode::Off {
            // SECURITY: network sandboxing is off for this task.
            return Reply::Answer(Answer::Continue);
        }
        let tm = mem::TraceeMem {
            method: self.method,
            pid: n.pid,
        };
        // (name, fd, address pointer, length) of the call, after socketcall decoding.
        let (name, net, args) = match net {
            NetCall::SocketCall => {
                match notify::read_socketcall(&tm, call.arch, arg(n, 0), arg(n, 1)) {
                    // SECURITY: other subcalls carry no address to check.
                    Ok(None) => return Reply::Answer(Answer::Continue),
                    Err(err) => return Reply::Answer(Answer::Errno(mem::errno(err))),
                    Ok(Some(sub)) => {
                        if !self.valid(n) {
                            return Reply::Answer(Answer::Errno(Errno(e::ESRCH)));
                        }
                        (sub.name, sub.call, sub.args)
                    }
                }
            }
            other => (call.name, other, n.args),
        };
        let fd = args[0] & 0xffff_ffff;
        // Where an emulated send takes its payload from (read once, with the header).
        let mut payload = Payload::Buf {
            ptr: args[1],
            len: args[2],
        };
        let (addr_ptr, addr_len) = match net {
            NetCall::Bind | NetCall::Connect => (args[1], args[2]),
            NetCall::SendTo => (args[4], args[5]),
            NetCall::SendMsg | NetCall::RecvMsg => {
                let hdr = match notify::read_msghdr(&tm, call.arch, args[1]) {
                    Err(err) => return Reply::Answer(Answer::Errno(mem::errno(err))),
                    Ok(h) => h,
                };
                if !self.valid(n) {
                    return Reply::Answer(Answer::Errno(Errno(e::ESRCH)));
                }
                payload = Payload::Msg {
                    iov: hdr.iov,
                    iovlen: hdr.iovlen,
                    control: hdr.control,
                    controllen: hdr.controllen,
                };
                (hdr.name, hdr.namelen)
            }
            // SECURITY: listen/accept/getsockname carry no address; they only settle the
            // pending binds (above).
            NetCall::Learn | NetCall::SocketCall => return Reply::Answer(Answer::Continue),
        };
        if addr_ptr == 0 {
            // SECURITY: no address: a send on a connected socket, not a network access.
            return Reply::Answer(Answer::Continue);
        }
        // The kernel's length rules, and the whole address or EFAULT (recvmsg's msg_name is an
        // output buffer the kernel never reads: what can be read is checked, SPEC §9 #15).
        let mut raw = [0u8; syd_core::limits::MAX_SOCKADDR];
        let got = match notify::read_call_sockaddr(&tm, net, addr_ptr, addr_len, &mut raw) {
            // SECURITY: no address bytes: the kernel refuses the call or, for a send, uses the
            // connected peer, which was checked at connect.
            Ok([]) => return Reply::Answer(Answer::Continue),
            Ok(bytes) => bytes.len(),
            Err(err) => return Reply::Answer(Answer::Errno(mem::errno(err))),
        };
        if !self.valid(n) {
            return Reply::Answer(Answer::Errno(Errno(e::ESRCH)));
        }
        let endian = notify::addr_endian(call.arch);
        let bytes = raw.get(..got).unwrap_or(&[]);
        let mut canon = PathBuf::new();
        let addr = match parse_sockaddr(bytes, got, endian) {
            // SECURITY: the kernel rejects addresses this short itself.
            Err(AddrError::SockaddrTooShort { .. }) => return Reply::Answer(Answer::Continue),
            Err(_) => return Reply::Answer(Answer::Errno(Errno(libc::EINVAL))),
            Ok(RawSockAddr::UnixPath(p)) => {
                let r = path::canonicalize(
                    tracee,
                    Base::Cwd,
                    p,
                    path::Resolve::NoLast,
                    Follow::Yes,
                    &mut canon,
                );
                if let Err(err) = r {
                    return Reply::Answer(self.fail(n, call, tracee, err, None));
                }
                SockAddr::Unix(canon.as_bytes())
            }
            Ok(RawSockAddr::Addr(a)) => a,
        };
        if net == NetCall::RecvMsg && matches!(addr, SockAddr::Other { family: 0 }) {
            // SECURITY: recvmsg's msg_name is an output buffer; AF_UNSPEC means no address.
            return Reply::Answer(Answer::Continue);
        }
        let group = if net == NetCall::Bind {
            Net::Bind
        } else {
            Net::Connect
        };
        let traced = |id: u32| self.traced(id);
        let verdict = check_addr(&self.global, self.policy(tgid), group, &addr, &traced);
        let errno = match net {
            NetCall::Bind => e::EADDRNOTAVAIL,
            NetCall::Connect | NetCall::RecvMsg => e::ECONNREFUSED,
            _ => e::ENOTCONN,
        };
        match verdict {
            Verdict::Allow => {}
            Verdict::DenyFamily => {
                let family = addr.family();
                let fdv = i64::try_from(fd).unwrap_or(-1);
                self.report(
                    n,
                    call,
                    tracee,
                    Subject::Family {
                        name,
                        fd: fdv,
                        family,
                    },
                );
                self.violation = true;
                if self.dry_run {
                    return Reply::Answer(Answer::Continue);
                }
                self.apply_decision(tracee);
                return Reply::Answer(Answer::Errno(Errno(e::EAFNOSUPPORT)));
            }
            v => {
                let fdv = i64::try_from(fd).unwrap_or(-1);
                if v == Verdict::Deny {
                    self.report(
                        n,
                        call,
                        tracee,
                        Subject::Net {
                            name,
                            fd: fdv,
                            addr,
                        },
                    );
                    self.violation = true;
                }
                if self.dry_run {
                    return Reply::Answer(Answer::Continue);
                }
                // SECURITY: a filtered denial is still denied, but it is no violation: no
                // report, and no kill or killall.
                if v == Verdict::Deny {
                    self.apply_decision(tracee);
                }
                return Reply::Answer(Answer::Errno(Errno(errno)));
            }
        }
        if net == NetCall::Bind && self.global.allow_successful_bind {
            let fd = (fd as u32).cast_signed(); // a C int: the low 32 bits
            let want = match addr {
                SockAddr::Inet { port, .. } if emulated(port) => None,
                SockAddr::Inet6 { port, .. } if emulated(port) => None,
                SockAddr::Inet { addr, port } => Some(Want::Inet(SockAddr::Inet { addr, port })),
                SockAddr::Inet6 { addr, port } => Some(Want::Inet(SockAddr::Inet6 { addr, port })),
                SockAddr::Unix(canonical) => {
                    let text = match parse_sockaddr(bytes, got, endian) {
                        Ok(RawSockAddr::UnixPath(t)) => t.to_vec(),
                        _ => Vec::new(),
                    };
                    Some(Want::Path {
                        text,
                        canonical: canonical.to_vec(),
                    })
                }
                SockAddr::UnixAbstract(name) => Some(Want::Abstract(name.to_vec())),
                SockAddr::Unnamed => Some(Want::Autobind),
                // SECURITY: a family patterns cannot name, allowed by
                // unsupported_socket_families: checked, and there is nothing to learn.
                SockAddr::Other { .. } => return Reply::Answer(Answer::Continue),
            };
            return Reply::Answer(match want {
                None => self.emulate_bind(n, tracee, fd, bytes),
                Some(want) => {
                    self.pend_bind(tracee, fd, want);
                    // SECURITY: the address was checked; the kernel binds with the caller's
                    // own identity. A thread rewriting the address in between is the race of
                    // SPEC §9 #1, and the bind is then not learned (the address differs).
                    Answer::Continue
                }
            });
        }
        let fd = (fd as u32).cast_signed(); // a C int: the low 32 bits
        let op = match net {
            NetCall::Connect => Some(Op::Connect),
            NetCall::SendTo | NetCall::SendMsg => Some(Op::Send {
                payload,
                flags: if net == NetCall::SendTo {
                    args[3]
                } else {
                    args[2]
                },
                compat: notify::pointer_size(call.arch) == 4,
            }),
            _ => None,
        };
        let emulated =
            op.and_then(|op| self.emulate_net(n, tracee, fd, &addr, bytes, addr_len, &op));
        if let Some(reply) = emulated {
            return reply;
        }
        // SECURITY: the address was checked; a thread rewriting it before the kernel reads it
        // again is the address race of SPEC §9 #1. Only what bin/netemu.rs does not emulate
        // gets here: recvmsg (an output buffer), families not checked, and the cases its
        // module documentation lists.
        Reply::Answer(Answer::Continue)
    }

    /// Binds a duplicate of the tracee's socket to the checked address, learns the address the
    /// kernel gave it (the real port for port 0), and answers with the bind's own result.
    fn emulate_bind(&mut self, n: &Notif, tracee: &Tracee, fd: i32, addr: &[u8]) -> Answer {
        let dup = sys::pidfd_open(tracee.tgid).and_then(|p| sys::pidfd_getfd(&p, fd));
        let sock = match dup {
            Ok(s) => s,
            // The kernel would say the same of the tracee's descriptor.
            Err(Errno(libc::EBADF)) => return Answer::Errno(Errno(e::EBADF)),
            // SECURITY: the socket cannot be reached (ptrace access refused): the address was
            // checked, the kernel binds it for the tracee, and nothing is learned.
            Err(_) => return Answer::Continue,
        };
        if !self.valid(n) {
            return Answer::Errno(Errno(e::ESRCH));
        }
        if let Err(err) = sys::bind(&sock, addr) {
            return Answer::Errno(err);
        }
        let mut name = [0u8; 128];
        if let Ok(len) = sys::getsockname(&sock, &mut name) {
            let bytes = name.get(..len).unwrap_or(&[]);
            if let Ok(RawSockAddr::Addr(a)) = parse_sockaddr(bytes, len, host_endian()) {
                self.learn(&a);
            }
        }
        Answer::Value(0)
    }

    /// Adds `addr` to the global successful-bind list; a full list is said on stderr.
    fn learn(&mut self, addr: &SockAddr<'_>) {
        if let Err(full) = self.global.learn_bind(addr) {
            let mut o = sys::Out::<512>::new(sys::STDERR);
            let _ = core::fmt::Write::write_fmt(
                &mut o,
                format_args!("sydbox: successful_bind: {addr} not learned: {full}\n"),
            );
        }
    }

    /// Records a bind left to the kernel, to be learned once confirmed. Nothing is recorded if
    /// the socket cannot be reached (it could not be confirmed either).
    fn pend_bind(&mut self, tracee: &Tracee, fd: i32, want: Want) {
        let Ok(sock) = sys::pidfd_open(tracee.tgid).and_then(|p| sys::pidfd_getfd(&p, fd)) else {
            return;
        };
        let Ok(st) = sys::fstat(&sock) else {
            return;
        };
        let tid = tracee.tid.0;
        // settle_binds ran for this thread first: any record of it left is stale.
        self.binds.retain(|p| p.tid != tid);
        self.binds.push(PendingBind {
            tid,
            tgid: tracee.tgid.0,
            fd,
            ino: st.ino,
            want,
        });
    }

    /// Confirms the pending binds that succeeded and drops the ones known to have failed;
    /// `caller` is the thread of the current notification (its own bind has returned).
    fn settle_binds(&mut self, caller: i32) {
        if self.binds.is_empty() {
            return;
        }
        let pending = core::mem::take(&mut self.binds);
        for p in pending {
            // A thread that is gone has returned from its bind; EPERM would only mean that the
            // thread lives under other credentials.
            let gone = sys::kill(Pid(p.tid), 0) == Err(Errno(libc::ESRCH));
            let returned = p.tid == caller || gone;
            match self.confirm_bind(&p) {
                Some(false) if !returned => self.binds.push(p),
                // Learned, failed, or the socket is gone.
                _ => {}
            }
        }
    }

    /// Whether the socket of `p` is bound to the address asked for (then it is learned):
    /// `Some(true)` learned, `Some(false)` not bound so, `None` the socket is gone.
    fn confirm_bind(&mut self, p: &PendingBind) -> Option<bool> {
        let pidfd = sys::pidfd_open(Pid(p.tgid)).ok()?;
        let sock = sys::pidfd_getfd(&pidfd, p.fd).ok()?;
        if sys::fstat(&sock).ok()?.ino != p.ino {
            return None;
        }
        let mut name = [0u8; 128];
        let len = sys::getsockname(&sock, &mut name).ok()?;
        let got = parse_sockaddr(name.get(..len)?, len, host_endian()).ok()?;
        let learned = match (&p.want, got) {
            (Want::Path { text, canonical }, RawSockAddr::UnixPath(t)) if t == text.as_slice() => {
                SockAddr::Unix(canonical)
            }
            (Want::Abstract(want), RawSockAddr::Addr(SockAddr::UnixAbstract(name)))
                if name == want.as_slice() =>
            {
                SockAddr::UnixAbstract(name)
            }
            (Want::Autobind, RawSockAddr::Addr(SockAddr::UnixAbstract(name))) => {
                SockAddr::UnixAbstract(name)
            }
            (Want::Inet(want), RawSockAddr::Addr(a)) if a == *want => a,
            _ => return Some(false),
        };
        self.learn(&learned);
        Some(true)
    }
}

/// Whether a bind to `port` is emulated in the supervisor: port 0 (the kernel picks an
/// unprivileged one) or any port the caller may bind without `CAP_NET_BIND_SERVICE`.
fn emulated(port: u16) -> bool {
    port == 0 || port >= unprivileged_port_start()
}
