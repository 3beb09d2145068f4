//! Network calls for the address-race and emulation tests.
//!
//! * `race-connect FAMILY ALLOWED FAMILY DENIED ITERATIONS`: one thread flips a shared socket
//!   address between ALLOWED and DENIED (only the bytes that differ, each with a single-byte
//!   atomic store) while the main thread creates a stream socket, calls raw `connect` on the
//!   shared address and closes the socket, ITERATIONS times. Prints `connected N` and
//!   `failed M`, exits 0. Which listener a connection reached is counted by the test.
//! * `race-sendto FAMILY ALLOWED FAMILY DENIED ITERATIONS`: the same with one datagram socket
//!   and raw `sendto` of one byte. Prints `sent N` and `failed M`.
//! * `race-sendmsg ...` and `race-sendmsg-tos ...`: the same with raw `sendmsg`, the shared
//!   address as `msg_name`; `-tos` adds an `IP_TOS` control message (inet only).
//! * `connect-nonblock FAMILY ADDR`: raw `connect` of a non-blocking stream socket; prints
//!   `first ERRNO|ok`, and after `EINPROGRESS` waits for `POLLOUT` and prints `then SO_ERROR`
//!   (`then 0` when connected).
//! * `connect-twice FAMILY ADDR`: two raw `connect`s of one stream socket, one line each.
//! * `connect-intr FAMILY ADDR`: a raw blocking `connect` with a `SIGALRM` handler installed
//!   without `SA_RESTART` and an alarm in one second: `err EINTR` if it still waits then.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

use libc::c_int;

use crate::args::{Args, Fail};
use crate::net::{parse_addr, set_timeout, socket, SockAddr};
use crate::{addr, call, names, report, w, Outcome};

/// The calls of this module; `None` if `name` is not one of them.
pub fn dispatch(name: &str, a: &mut Args) -> Result<Option<Outcome>, Fail> {
    match name {
        "race-connect" | "race-sendto" | "race-sendmsg" | "race-sendmsg-tos" => {
            let allowed = parse_addr(a)?;
            let denied = parse_addr(a)?;
            let n = u64::try_from(a.int("ITERATIONS")?)
                .map_err(|_| Fail::Usage("ITERATIONS: negative".into()))?;
            a.done()?;
            race(name, &allowed, &denied, n)?;
            std::process::exit(0);
        }
        "connect-nonblock" => {
            let sa = parse_addr(a)?;
            a.done()?;
            nonblock(&sa)?;
            std::process::exit(0);
        }
        "connect-twice" => {
            let sa = parse_addr(a)?;
            a.done()?;
            let fd = socket(sa.domain, libc::SOCK_STREAM)?;
            set_timeout(fd, libc::SO_SNDTIMEO)?;
            let args = [w(fd.into()), addr(&sa.raw), sa.len];
            // SAFETY: `sa.raw` holds `sa.len` bytes of address.
            let first = crate::plain(unsafe { call(Some(libc::SYS_connect), &args) });
            report(&first);
            // SAFETY: as above.
            Ok(Some(crate::plain(unsafe {
                call(Some(libc::SYS_connect), &args)
            })))
        }
        "connect-intr" => {
            let sa = parse_addr(a)?;
            a.done()?;
            let fd = socket(sa.domain, libc::SOCK_STREAM)?;
            // SAFETY: a zeroed sigaction with a handler that does nothing, no SA_RESTART.
            unsafe {
                let mut act: libc::sigaction = std::mem::zeroed();
                act.sa_sigaction = on_alarm as extern "C" fn(c_int) as usize;
                libc::sigaction(libc::SIGALRM, &act, std::ptr::null_mut());
                libc::alarm(1);
            }
            // SAFETY: `sa.raw` holds `sa.len` bytes of address.
            Ok(Some(crate::plain(unsafe {
                call(
                    Some(libc::SYS_connect),
                    &[w(fd.into()), addr(&sa.raw), sa.len],
                )
            })))
        }
        _ => Ok(None),
    }
}

/// The `SIGALRM` handler of `connect-intr`: its only effect is to interrupt the call.
extern "C" fn on_alarm(_: c_int) {}

/// Runs the race and prints the counts.
fn race(name: &str, allowed: &SockAddr, denied: &SockAddr, n: u64) -> Result<(), Fail> {
    let stream = name == "race-connect";
    if allowed.domain != denied.domain || allowed.len != denied.len {
        return Err(Fail::Usage(
            "ALLOWED and DENIED differ in family or length".into(),
        ));
    }
    let len = allowed.len;
    let buf: Arc<Vec<AtomicU8>> =
        Arc::new(allowed.raw.0.iter().map(|&b| AtomicU8::new(b)).collect());
    let diff: Vec<(usize, u8, u8)> = allowed.raw.0[..len]
        .iter()
        .zip(&denied.raw.0[..len])
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .map(|(i, (&x, &y))| (i, x, y))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let flipper = {
        let (buf, stop) = (Arc::clone(&buf), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for &(i, _, d) in &diff {
                    buf[i].store(d, Ordering::Relaxed);
                }
                for &(i, al, _) in &diff {
                    buf[i].store(al, Ordering::Relaxed);
                }
            }
        })
    };
    // AtomicU8 has the layout of u8: the Vec's storage is the address the kernel reads.
    let sa = addr(buf.as_slice());
    let (mut ok, mut failed) = (0u64, 0u64);
    let dgram = if stream {
        None
    } else {
        Some(socket(allowed.domain, libc::SOCK_DGRAM)?)
    };
    for _ in 0..n {
        let r = match dgram {
            None => {
                let fd = socket(allowed.domain, libc::SOCK_STREAM)?;
                set_timeout(fd, libc::SO_SNDTIMEO)?;
                // SAFETY: `sa` is a live 128-byte buffer that changes only through atomic
                // byte stores; `len` is at most 128.
                let r = unsafe { call(Some(libc::SYS_connect), &[w(fd.into()), sa, len]) };
                // SAFETY: `fd` is ours and used no more.
                unsafe { libc::close(fd) };
                r
            }
            Some(fd) if name == "race-sendto" => {
                let x = b"x";
                let args = [w(fd.into()), addr(x), 1, 0, sa, len];
                // SAFETY: one byte of data, and the address as above.
                unsafe { call(Some(libc::SYS_sendto), &args) }
            }
            Some(fd) => sendmsg(fd, sa, len, name == "race-sendmsg-tos"),
        };
        match r {
            Ok(_) => ok += 1,
            Err(_) => failed += 1,
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = flipper.join();
    let word = if stream { "connected" } else { "sent" };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{word} {ok}\nfailed {failed}");
    let _ = out.flush();
    Ok(())
}

/// One raw `sendmsg` of one byte to the address at `sa` (`len` bytes), with an `IP_TOS`
/// control message if `tos`.
fn sendmsg(fd: c_int, sa: usize, len: usize, tos: bool) -> Result<i64, i32> {
    let mut x = *b"x";
    let mut iov = libc::iovec {
        iov_base: x.as_mut_ptr().cast(),
        iov_len: 1,
    };
    // A cmsghdr and one int, 8-byte aligned: CMSG_SPACE(sizeof(int)) is 24 on 64-bit ABIs.
    #[repr(C, align(8))]
    struct Ctl([u8; 24]);
    let mut ctl = Ctl([0; 24]);
    // SAFETY: struct msghdr is integers and pointers, for which zero bytes are valid (null).
    let mut m: libc::msghdr = unsafe { std::mem::zeroed() };
    m.msg_name = sa as *mut libc::c_void;
    m.msg_namelen = libc::socklen_t::try_from(len).unwrap();
    m.msg_iov = &mut iov;
    m.msg_iovlen = 1;
    if tos {
        m.msg_control = ctl.0.as_mut_ptr().cast();
        // SAFETY: CMSG_SPACE computes a size from an integer.
        m.msg_controllen = unsafe { libc::CMSG_SPACE(4) } as _;
        // SAFETY: the control buffer holds CMSG_SPACE(4) bytes, so the first header exists and
        // has room for one int after it.
        unsafe {
            let c = libc::CMSG_FIRSTHDR(&m);
            (*c).cmsg_level = libc::IPPROTO_IP;
            (*c).cmsg_type = libc::IP_TOS;
            (*c).cmsg_len = libc::CMSG_LEN(4) as _;
            libc::CMSG_DATA(c).cast::<c_int>().write_unaligned(0x10);
        }
    }
    // SAFETY: `m` points to a live iovec over `x`, the shared address (changed only through
    // atomic byte stores) and the control buffer.
    unsafe { call(Some(libc::SYS_sendmsg), &[w(fd.into()), addr(&m), 0]) }
}

/// `connect-nonblock`: see the module documentation.
fn nonblock(sa: &SockAddr) -> Result<(), Fail> {
    let fd = socket(sa.domain, libc::SOCK_STREAM | libc::SOCK_NONBLOCK)?;
    // SAFETY: `sa.raw` holds `sa.len` bytes of address.
    let r = unsafe {
        call(
            Some(libc::SYS_connect),
            &[w(fd.into()), addr(&sa.raw), sa.len],
        )
    };
    let mut out = std::io::stdout().lock();
    match r {
        Ok(_) => {
            let _ = writeln!(out, "first ok");
        }
        Err(e) => {
            let _ = writeln!(out, "first {}", names::errno_name(e));
            if e == libc::EINPROGRESS {
                let mut p = libc::pollfd {
                    fd,
                    events: libc::POLLOUT,
                    revents: 0,
                };
                // SAFETY: one live pollfd.
                unsafe { libc::poll(&mut p, 1, 10_000) };
                let mut err: c_int = 0;
                let mut len = libc::socklen_t::try_from(std::mem::size_of::<c_int>()).unwrap();
                // SAFETY: `err` has room for `len` bytes.
                unsafe {
                    libc::getsockopt(
                        fd,
                        libc::SOL_SOCKET,
                        libc::SO_ERROR,
                        (&raw mut err).cast(),
                        &mut len,
                    )
                };
                let then = if err == 0 {
                    "0".to_owned()
                } else {
                    names::errno_name(err).to_string()
                };
                let _ = writeln!(out, "then {then}");
            }
        }
    }
    let _ = out.flush();
    Ok(())
}
