//! The network calls. The probe creates the sockets itself (a setup step); the call under test
//! (connect, bind, sendto, sendmsg, recvmsg, socket) is the raw system call.

use std::io::Write;
use std::net::{SocketAddrV4, SocketAddrV6};

use libc::c_int;

use crate::args::{parse_int, Args, Fail};
use crate::{addr, addr_mut, call, errno, plain, w, Done, Outcome};

/// How long `bind-listen` waits for a connection, and a stream `connect` for an answer.
const WAIT_MS: c_int = 10_000;

/// A socket address as the kernel reads it: `sockaddr_storage`-sized, 8-byte aligned.
#[repr(C, align(8))]
pub struct Raw(pub [u8; 128]);

/// A parsed `FAMILY ADDR` pair.
pub struct SockAddr {
    pub raw: Raw,
    pub len: usize,
    pub domain: c_int,
    /// An inet address with port 0: print the port the kernel chose.
    port_zero: bool,
}

impl SockAddr {
    /// An all-zero address of family `family`, `len` bytes long.
    fn zeroed(family: u16, len: usize) -> SockAddr {
        let mut raw = Raw([0; 128]);
        raw.0[..2].copy_from_slice(&family.to_ne_bytes());
        SockAddr {
            raw,
            len,
            domain: c_int::from(family),
            port_zero: false,
        }
    }
}

/// `AF_*` as the `u16` of `sa_family_t`; every family number is below 64.
fn family(af: c_int) -> u16 {
    u16::try_from(af).unwrap_or(0)
}

/// Reads `FAMILY ADDR`: `inet IP:PORT`, `inet6 [IP]:PORT`, `unix PATH`, `unix-abstract NAME`.
pub fn parse_addr(a: &mut Args) -> Result<SockAddr, Fail> {
    let fam = a.text("FAMILY")?;
    let spec = a.bytes("ADDR")?;
    let text = || String::from_utf8_lossy(&spec).into_owned();
    let bad = |what: &str| Fail::Usage(format!("ADDR: not {what}: {}", text()));
    match fam.as_str() {
        "inet" => {
            let sa: SocketAddrV4 = text().parse().map_err(|_| bad("IP:PORT"))?;
            // struct sockaddr_in (netinet/in.h): family, port (big-endian), address, zero[8].
            let mut s = SockAddr::zeroed(family(libc::AF_INET), 16);
            s.raw.0[2..4].copy_from_slice(&sa.port().to_be_bytes());
            s.raw.0[4..8].copy_from_slice(&sa.ip().octets());
            s.port_zero = sa.port() == 0;
            Ok(s)
        }
        "inet6" => {
            let sa: SocketAddrV6 = text().parse().map_err(|_| bad("[IP]:PORT"))?;
            // struct sockaddr_in6: family, port, flowinfo, address[16], scope_id (28 bytes).
            let mut s = SockAddr::zeroed(family(libc::AF_INET6), 28);
            s.raw.0[2..4].copy_from_slice(&sa.port().to_be_bytes());
            s.raw.0[4..8].copy_from_slice(&sa.flowinfo().to_be_bytes());
            s.raw.0[8..24].copy_from_slice(&sa.ip().octets());
            s.raw.0[24..28].copy_from_slice(&sa.scope_id().to_ne_bytes());
            s.port_zero = sa.port() == 0;
            Ok(s)
        }
        "unix" | "unix-abstract" => {
            // struct sockaddr_un: family, then sun_path[108]. A path is passed with its NUL;
            // an abstract name is a NUL byte then the name, with no terminator.
            let abstract_ns = fam == "unix-abstract";
            let body_len = spec.len() + 1;
            if body_len > 108 {
                return Err(Fail::Usage(format!(
                    "ADDR: longer than 107 bytes: {}",
                    text()
                )));
            }
            let mut s = SockAddr::zeroed(family(libc::AF_UNIX), 2 + body_len);
            let start = if abstract_ns { 3 } else { 2 };
            s.raw.0[start..start + spec.len()].copy_from_slice(&spec);
            Ok(s)
        }
        _ => Err(Fail::Usage(format!(
            "FAMILY: not inet, inet6, unix or unix-abstract: {fam}"
        ))),
    }
}

/// Creates a socket as a setup step.
pub fn socket(domain: c_int, ty: c_int) -> Result<c_int, Fail> {
    // SAFETY: integer arguments only.
    let fd = unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(Fail::Setup(format!("socket({domain}, {ty})"), errno()));
    }
    Ok(fd)
}

/// A connected `AF_UNIX` stream pair, as a setup step.
fn socketpair() -> Result<[c_int; 2], Fail> {
    let mut sv = [-1; 2];
    // SAFETY: `sv` has room for the two descriptors.
    let r = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            sv.as_mut_ptr(),
        )
    };
    if r != 0 {
        return Err(Fail::Setup("socketpair".into(), errno()));
    }
    Ok(sv)
}

/// Sets a send or receive timeout (a setup step) so that no call waits forever.
pub fn set_timeout(fd: c_int, opt: c_int) -> Result<(), Fail> {
    let tv = libc::timeval {
        tv_sec: (WAIT_MS / 1000).into(),
        tv_usec: 0,
    };
    let len = libc::socklen_t::try_from(std::mem::size_of_val(&tv)).unwrap_or(0);
    // SAFETY: `tv` is a live timeval of the size passed.
    let r = unsafe { libc::setsockopt(fd, libc::SOL_SOCKET, opt, addr(&tv) as *const _, len) };
    if r != 0 {
        return Err(Fail::Setup("setsockopt timeout".into(), errno()));
    }
    Ok(())
}

/// The address `fd` is bound to, as a setup step.
fn local_addr(fd: c_int) -> Result<SockAddr, Fail> {
    let mut s = SockAddr::zeroed(0, 0);
    let mut len = libc::socklen_t::try_from(s.raw.0.len()).unwrap_or(0);
    // SAFETY: `s.raw` has room for `len` bytes, and `len` is a live socklen_t.
    let r = unsafe { libc::getsockname(fd, addr_mut(&mut s.raw) as *mut _, &mut len) };
    if r != 0 {
        return Err(Fail::Setup("getsockname".into(), errno()));
    }
    s.len = usize::try_from(len).unwrap_or(0).min(s.raw.0.len());
    s.domain = c_int::from(u16::from_ne_bytes([s.raw.0[0], s.raw.0[1]]));
    Ok(s)
}

/// ` port=N` for an inet address the kernel chose the port of, else nothing.
fn port_extra(fd: c_int, asked: &SockAddr) -> Result<String, Fail> {
    if !asked.port_zero {
        return Ok(String::new());
    }
    let s = local_addr(fd)?;
    Ok(format!(
        " port={}",
        u16::from_be_bytes([s.raw.0[2], s.raw.0[3]])
    ))
}

/// A `msghdr` sending or receiving into `iov`, naming `name` (or no name).
fn msghdr(name: Option<&mut SockAddr>, iov: &mut libc::iovec) -> libc::msghdr {
    // SAFETY: `struct msghdr` is integers and pointers, for which zero bytes are valid (null).
    let mut m: libc::msghdr = unsafe { std::mem::zeroed() };
    if let Some(n) = name {
        m.msg_name = addr_mut(&mut n.raw) as *mut _;
        m.msg_namelen = libc::socklen_t::try_from(n.len).unwrap_or(0);
    }
    m.msg_iov = iov;
    m.msg_iovlen = 1;
    m
}

/// Maps the family words `inet`, `inet6`, `unix` and `netlink` before [`parse_int`].
fn family_word(t: &str) -> Option<i64> {
    match t {
        "inet" => Some(libc::AF_INET.into()),
        "inet6" => Some(libc::AF_INET6.into()),
        "unix" => Some(libc::AF_UNIX.into()),
        "netlink" => Some(libc::AF_NETLINK.into()),
        _ => parse_int(t),
    }
}

/// The network calls; `None` if `name` is not one of them.
pub fn dispatch(name: &str, a: &mut Args) -> Result<Option<Outcome>, Fail> {
    use libc::{SOCK_DGRAM, SOCK_STREAM};
    let o = match name {
        "socket" => {
            let t = a.text("FAMILY")?;
            let fam = family_word(&t).ok_or_else(|| Fail::Usage(format!("FAMILY: {t}")))?;
            let (ty, proto) = (a.int("TYPE")?, a.opt_int("PROTO", 0)?);
            a.done()?;
            // SAFETY: integers only.
            plain(unsafe { call(Some(libc::SYS_socket), &[w(fam), w(ty), w(proto)]) })
        }
        "connect" | "connect-dgram" => {
            let sa = parse_addr(a)?;
            a.done()?;
            let ty = if name == "connect" {
                SOCK_STREAM
            } else {
                SOCK_DGRAM
            };
            let fd = socket(sa.domain, ty)?;
            set_timeout(fd, libc::SO_SNDTIMEO)?;
            // SAFETY: `sa.raw` holds `sa.len` bytes of address.
            plain(unsafe {
                call(
                    Some(libc::SYS_connect),
                    &[w(fd.into()), addr(&sa.raw), sa.len],
                )
            })
        }
        "bind" | "bind-dgram" | "bind-listen" => {
            let sa = parse_addr(a)?;
            a.done()?;
            let ty = if name == "bind-dgram" {
                SOCK_DGRAM
            } else {
                SOCK_STREAM
            };
            let fd = socket(sa.domain, ty)?;
            let args = [w(fd.into()), addr(&sa.raw), sa.len];
            // SAFETY: `sa.raw` holds `sa.len` bytes of address.
            let r = unsafe { call(Some(libc::SYS_bind), &args) };
            let r = match r {
                Ok(ret) => Ok(Done {
                    ret,
                    extra: port_extra(fd, &sa)?,
                }),
                Err(e) => Err(e),
            };
            if name == "bind-listen" && r.is_ok() {
                listen_and_accept(fd, r);
            }
            r
        }
        "sendto" => {
            let sa = parse_addr(a)?;
            a.done()?;
            let fd = socket(sa.domain, SOCK_DGRAM)?;
            let x = b"x";
            let args = [w(fd.into()), addr(x), x.len(), 0, addr(&sa.raw), sa.len];
            // SAFETY: one byte of data, and `sa.raw` holds `sa.len` bytes of address.
            plain(unsafe { call(Some(libc::SYS_sendto), &args) })
        }
        "connect-send" => {
            let sa = parse_addr(a)?;
            a.done()?;
            let fd = socket(sa.domain, SOCK_STREAM)?;
            set_timeout(fd, libc::SO_SNDTIMEO)?;
            let len = libc::socklen_t::try_from(sa.len).unwrap_or(0);
            // SAFETY: `sa.raw` holds `sa.len` bytes of address.
            if unsafe { libc::connect(fd, addr(&sa.raw) as *const _, len) } != 0 {
                return Err(Fail::Setup("connect".into(), errno()));
            }
            let x = b"x";
            // What send(2) does: sendto with a null address of length 0 on a connected socket.
            // SAFETY: one byte of data and a null address of length 0.
            plain(unsafe { call(Some(libc::SYS_sendto), &[w(fd.into()), addr(x), 1, 0, 0, 0]) })
        }
        "sendto-null" => {
            a.done()?;
            let [s, _peer] = socketpair()?;
            let x = b"x";
            // SAFETY: one byte of data and a null address of length 0.
            plain(unsafe { call(Some(libc::SYS_sendto), &[w(s.into()), addr(x), 1, 0, 0, 0]) })
        }
        "sendmsg" | "sendmsg-noname" => {
            let mut sa = if name == "sendmsg" {
                Some(parse_addr(a)?)
            } else {
                None
            };
            a.done()?;
            let fd = match &sa {
                Some(sa) => socket(sa.domain, SOCK_DGRAM)?,
                None => socketpair()?[0],
            };
            let mut x = *b"x";
            let mut iov = libc::iovec {
                iov_base: addr_mut(&mut x) as *mut _,
                iov_len: x.len(),
            };
            let m = msghdr(sa.as_mut(), &mut iov);
            // SAFETY: `m` points to a live iovec over `x` and to `sa.raw` (or no name).
            plain(unsafe { call(Some(libc::SYS_sendmsg), &[w(fd.into()), addr(&m), 0]) })
        }
        "recvmsg" => {
            let sa = parse_addr(a)?;
            a.done()?;
            return recvmsg(&sa).map(Some);
        }
        "connect-family" | "bind-family" => {
            let af = a.int("NUMBER")?;
            a.done()?;
            let af = u16::try_from(af).map_err(|_| Fail::Usage("NUMBER: not a family".into()))?;
            let fd = family_socket(c_int::from(af))?;
            // A sockaddr of that family: sa_family set, the other 14 bytes of `struct sockaddr`
            // zero (for AF_NETLINK: nl_pid 0, the kernel).
            let sa = SockAddr::zeroed(af, 16);
            let nr = if name == "connect-family" {
                libc::SYS_connect
            } else {
                libc::SYS_bind
            };
            // SAFETY: `sa.raw` holds `sa.len` bytes of address.
            plain(unsafe { call(Some(nr), &[w(fd.into()), addr(&sa.raw), sa.len]) })
        }
        _ => return Ok(None),
    };
    Ok(Some(o))
}

/// A socket of family `af` (datagram, else raw); if the kernel refuses both, an `AF_INET`
/// datagram socket, so that the call still carries a sockaddr of family `af` (noted on stderr).
fn family_socket(af: c_int) -> Result<c_int, Fail> {
    for ty in [libc::SOCK_DGRAM, libc::SOCK_RAW] {
        if let Ok(fd) = socket(af, ty) {
            return Ok(fd);
        }
    }
    eprintln!(
        "syd-test-probe: socket of family {af} refused ({}): using an AF_INET socket",
        crate::names::errno_name(errno())
    );
    socket(libc::AF_INET, libc::SOCK_DGRAM)
}

/// After a successful bind: listen, print the bind line, wait up to [`WAIT_MS`] for one
/// connection and print `accepted` (exit 0), or `timeout` / `err ERRNO` (exit 1).
fn listen_and_accept(fd: c_int, bound: Outcome) -> ! {
    // SAFETY: integers only.
    if let Err(e) = unsafe { call(Some(libc::SYS_listen), &[w(fd.into()), 1]) } {
        std::process::exit(crate::report(&Err(e)));
    }
    crate::report(&bound);
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one live pollfd.
    let n = unsafe { libc::poll(&mut p, 1, WAIT_MS) };
    let mut out = std::io::stdout();
    if n <= 0 {
        let _ = writeln!(out, "timeout");
        let _ = out.flush();
        std::process::exit(1);
    }
    // SAFETY: null peer address and length: the kernel writes neither.
    match unsafe { call(Some(libc::SYS_accept4), &[w(fd.into()), 0, 0, 0]) } {
        Ok(_) => {
            let _ = writeln!(out, "accepted");
            let _ = out.flush();
            std::process::exit(0);
        }
        Err(e) => std::process::exit(crate::report(&Err(e))),
    }
}

/// `recvmsg FAMILY ADDR`: binds a datagram socket to ADDR, sends it one byte from a second
/// socket (setup steps), then receives it with a raw `recvmsg` whose `msg_name` has room for
/// any address. Prints `ok 1 namelen=N`.
fn recvmsg(sa: &SockAddr) -> Result<Outcome, Fail> {
    let rx = socket(sa.domain, libc::SOCK_DGRAM)?;
    set_timeout(rx, libc::SO_RCVTIMEO)?;
    let len = libc::socklen_t::try_from(sa.len).unwrap_or(0);
    // SAFETY: `sa.raw` holds `sa.len` bytes of address.
    if unsafe { libc::bind(rx, addr(&sa.raw) as *const _, len) } != 0 {
        return Err(Fail::Setup("bind the receiver".into(), errno()));
    }
    let to = local_addr(rx)?;
    let tx = socket(sa.domain, libc::SOCK_DGRAM)?;
    let to_len = libc::socklen_t::try_from(to.len).unwrap_or(0);
    // SAFETY: one byte of data, and `to.raw` holds `to.len` bytes of address.
    let sent = unsafe {
        libc::sendto(
            tx,
            addr(b"x") as *const _,
            1,
            0,
            addr(&to.raw) as *const _,
            to_len,
        )
    };
    if sent != 1 {
        return Err(Fail::Setup("send to the receiver".into(), errno()));
    }
    let mut from = SockAddr::zeroed(0, 128);
    let mut buf = [0u8; 16];
    let mut iov = libc::iovec {
        iov_base: addr_mut(&mut buf) as *mut _,
        iov_len: buf.len(),
    };
    let mut m = msghdr(Some(&mut from), &mut iov);
    // SAFETY: `m` points to a live iovec over `buf` and a 128-byte name buffer.
    let r = unsafe {
        call(
            Some(libc::SYS_recvmsg),
            &[w(rx.into()), addr_mut(&mut m), 0],
        )
    };
    Ok(r.map(|ret| Done {
        ret,
        extra: format!(" namelen={}", m.msg_namelen),
    }))
}
