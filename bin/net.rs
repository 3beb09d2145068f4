//! Network sandboxing in the supervisor (SPEC §4): addresses of bind, connect, sendto, sendmsg,
//! recvmsg and socketcall checked against the bind and connect groups, and binds performed on a
//! duplicate of the tracee's socket so that the address the kernel gave (port 0) is learned.

use syd_core::addr::{parse_sockaddr, AddrError, RawSockAddr, SockAddr, AF_UNIX};
use syd_core::report::Subject;
use syd_core::sandbox::{check_addr, Decision, Mode, Net, Verdict};
use syd_core::syscall::NetCall;

use crate::mem;
use crate::path::{self, Base, Follow, PathBuf, Tracee};
use crate::supervise::{arg, e, Call, Reply, Supervisor};
use crate::sys::{self, Answer, Errno, Notif};

/// The port of the service `name` in `/etc/services` (SPEC §3.5), for address patterns added
/// at run time: the file is read when a pattern names a service, as at start-up.
pub(crate) fn service_port(name: &[u8]) -> Option<u16> {
    let fd = sys::open(c"/etc/services", libc::O_RDONLY | libc::O_CLOEXEC, 0).ok()?;
    let mut text = alloc::vec::Vec::new();
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

/// A little- or big-endian word of `size` bytes at `off` (the host's order: tracee memory).
fn read_word(b: &[u8], off: usize, size: usize) -> u64 {
    let mut w = [0u8; 8];
    match (size, b.get(off..off + size)) {
        (4, Some(s)) => {
            let mut x = [0u8; 4];
            x.copy_from_slice(s);
            u64::from(u32::from_ne_bytes(x))
        }
        (8, Some(s)) => {
            w.copy_from_slice(s);
            u64::from_ne_bytes(w)
        }
        _ => 0,
    }
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
        if self.policy(tgid).network == Mode::Off {
            // SECURITY: network sandboxing is off for this task.
            return Reply::Answer(Answer::Continue);
        }
        let ptr = if call.arch.word == syd_core::arch::Word::W32 || call.arch.name == "x32" {
            4
        } else {
            8
        };
        // (name, fd, address pointer, length) of the call, after socketcall decoding.
        let (name, net, args) = match net {
            NetCall::SocketCall => {
                let sub = arg(n, 0) & 0xffff_ffff;
                let (name, net, count) = match sub {
                    2 => ("bind", NetCall::Bind, 3),
                    3 => ("connect", NetCall::Connect, 3),
                    11 => ("sendto", NetCall::SendTo, 6),
                    16 => ("sendmsg", NetCall::SendMsg, 3),
                    17 => ("recvmsg", NetCall::RecvMsg, 3),
                    // SECURITY: other subcalls carry no address to check.
                    _ => return Reply::Answer(Answer::Continue),
                };
                let mut words = [0u8; 48];
                let len = count * ptr;
                let Some(dst) = words.get_mut(..len) else {
                    return Reply::Answer(Answer::Errno(Errno(e::EFAULT)));
                };
                if let Err(err) = mem::read_exact(self.method, n.pid, arg(n, 1), dst) {
                    return Reply::Answer(Answer::Errno(err));
                }
                if !self.valid(n) {
                    return Reply::Answer(Answer::Errno(Errno(e::ESRCH)));
                }
                let mut a = [0u64; 6];
                for (i, slot) in a.iter_mut().enumerate().take(count) {
                    *slot = read_word(&words, i * ptr, ptr);
                }
                (name, net, a)
            }
            other => (call.name, other, n.args),
        };
        let fd = args[0] & 0xffff_ffff;
        let (addr_ptr, addr_len) = match net {
            NetCall::Bind | NetCall::Connect => (args[1], args[2]),
            NetCall::SendTo => (args[4], args[5]),
            NetCall::SendMsg | NetCall::RecvMsg => {
                // msghdr: msg_name pointer first, then msg_namelen (after padding on 64-bit).
                let mut hdr = [0u8; 16];
                let Some(h) = hdr.get_mut(..2 * ptr) else {
                    return Reply::Answer(Answer::Errno(Errno(e::EFAULT)));
                };
                if let Err(err) = mem::read_exact(self.method, n.pid, args[1], h) {
                    return Reply::Answer(Answer::Errno(err));
                }
                (read_word(&hdr, 0, ptr), read_word(&hdr, ptr, 4))
            }
            // SECURITY: listen/accept/getsockname carry no address; binds are learned when
            // they are made (emulated below).
            NetCall::Learn | NetCall::SocketCall => return Reply::Answer(Answer::Continue),
        };
        if addr_ptr == 0 || addr_len == 0 {
            // SECURITY: no address: a send on a connected socket, not a network access.
            return Reply::Answer(Answer::Continue);
        }
        let mut raw = [0u8; 128];
        let len = usize::try_from(addr_len.min(128)).unwrap_or(128);
        let Some(buf) = raw.get_mut(..len) else {
            return Reply::Answer(Answer::Errno(Errno(e::EFAULT)));
        };
        let got = match mem::read(self.method, n.pid, addr_ptr, buf) {
            Ok(g) => g,
            Err(err) => return Reply::Answer(Answer::Errno(err)),
        };
        if !self.valid(n) {
            return Reply::Answer(Answer::Errno(Errno(e::ESRCH)));
        }
        let endian = match call.arch.endian {
            syd_core::arch::Endian::Little => syd_core::addr::Endian::Little,
            syd_core::arch::Endian::Big => syd_core::addr::Endian::Big,
        };
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
        let tasks = &self.tasks;
        let traced = |id: u32| i32::try_from(id).is_ok_and(|id| tasks.contains_key(&id));
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
                return Reply::Answer(if self.dry_run {
                    Answer::Continue
                } else {
                    self.decide(tracee, e::EAFNOSUPPORT)
                });
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
                let a = if self.dry_run {
                    Answer::Continue
                } else {
                    self.decide(tracee, errno)
                };
                return Reply::Answer(a);
            }
        }
        if net == NetCall::Bind && self.global.allow_successful_bind && addr.family() != AF_UNIX {
            return Reply::Answer(self.emulate_bind(n, tracee, fd, bytes));
        }
        if net == NetCall::Bind && self.global.allow_successful_bind {
            // A unix socket file is created with the tracee's credentials and cwd by the kernel;
            // learn the canonical path now (a failed bind leaves an address nobody serves).
            let _ = self.global.learn_bind(&addr);
        }
        // SECURITY: the address was checked; a thread rewriting it before the kernel reads it
        // again is the address race of SPEC §9 #1.
        Reply::Answer(Answer::Continue)
    }

    /// The decision after a reported network denial.
    fn decide(&mut self, tracee: &Tracee, errno: i32) -> Answer {
        match self.global.decision {
            Decision::Kill => {
                let _ = sys::kill(tracee.tgid, libc::SIGKILL);
            }
            Decision::KillAll => {
                let code = if self.global.exit_code > 0 {
                    self.global.exit_code & 0xff
                } else {
                    137
                };
                self.exit_now = Some(code);
            }
            _ => {}
        }
        Answer::Errno(Errno(errno))
    }

    /// Binds a duplicate of the tracee's socket to the checked address, learns the address the
    /// kernel gave it (the real port for port 0), and answers with the bind's own result.
    fn emulate_bind(&mut self, n: &Notif, tracee: &Tracee, fd: u64, addr: &[u8]) -> Answer {
        let fd = (fd as u32).cast_signed();
        let dup = sys::pidfd_open(tracee.tgid).and_then(|p| sys::pidfd_getfd(&p, fd));
        let sock = match dup {
            Ok(s) => s,
            Err(err) => {
                return Answer::Errno(if err.0 == libc::EBADF {
                    err
                } else {
                    Errno(e::EBADF)
                })
            }
        };
        if !self.valid(n) {
            return Answer::Errno(Errno(e::ESRCH));
        }
        if let Err(err) = sys::bind(&sock, addr) {
            return Answer::Errno(err);
        }
        let mut name = [0u8; 128];
        if let Ok(len) = sys::getsockname(&sock, &mut name) {
            let endian = if cfg!(target_endian = "big") {
                syd_core::addr::Endian::Big
            } else {
                syd_core::addr::Endian::Little
            };
            let bytes = name.get(..len).unwrap_or(&[]);
            if let Ok(RawSockAddr::Addr(a)) = parse_sockaddr(bytes, len, endian) {
                let _ = self.global.learn_bind(&a);
            }
        }
        Answer::Value(0)
    }
}
