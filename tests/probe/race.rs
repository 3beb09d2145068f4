//! `race-open ALLOWED DENIED ITERATIONS`: the check-then-use race against the supervisor.
//!
//! One thread flips a shared path buffer between ALLOWED and DENIED as fast as it can, while
//! the main thread calls raw `open` (`openat(AT_FDCWD, ...)` where `open` does not exist) with
//! `O_WRONLY|O_CREAT` on that buffer ITERATIONS times. Each descriptor obtained is compared
//! (device and inode, via raw `fstat`) with DENIED, which must exist beforehand, and after the
//! loop with ALLOWED. Prints `opened-denied N`, `opened-allowed M`, `opened-other K` and
//! `failed F`, and exits 0.
//!
//! Only the bytes where the two paths differ are flipped, each with a single-byte atomic store,
//! so a path differing in one byte (`d/a/f` against `d/b/f`) is never seen half-flipped; paths
//! differing in more bytes may be seen mixed, which `opened-other` counts (and may create).

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

use crate::args::{Args, Fail};
use crate::{addr, addr_mut, call, w};

/// `(device, inode)` of `path`, if it exists.
fn id_of(path: &[u8]) -> Option<(u64, u64)> {
    std::fs::metadata(OsStr::from_bytes(path))
        .ok()
        .map(|m| (m.dev(), m.ino()))
}

/// `(device, inode)` of the open descriptor `fd`, by raw `fstat`.
fn id_of_fd(fd: i64) -> Option<(u64, u64)> {
    // SAFETY: `struct stat` is plain integers, for which all-zero bytes are valid.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: an integer and a `struct stat` (the kernel's layout on the 64-bit ABIs).
    let r = unsafe { call(Some(libc::SYS_fstat), &[w(fd), addr_mut(&mut st)]) };
    // st_dev/st_ino are u64 on the supported ABIs; `from` keeps this honest elsewhere.
    #[allow(clippy::useless_conversion)]
    r.ok().map(|_| (u64::from(st.st_dev), u64::from(st.st_ino)))
}

/// Runs the race and prints the counts.
pub fn run(a: &mut Args) -> Result<(), Fail> {
    let allowed = a.bytes("ALLOWED")?;
    let denied = a.bytes("DENIED")?;
    let iterations = u64::try_from(a.int("ITERATIONS")?)
        .map_err(|_| Fail::Usage("ITERATIONS: negative".into()))?;
    a.done()?;
    if allowed.contains(&0) || denied.contains(&0) {
        return Err(Fail::Usage("paths contain a NUL byte".into()));
    }
    let denied_id = id_of(&denied).ok_or_else(|| {
        Fail::Setup(
            format!("stat {}", String::from_utf8_lossy(&denied)),
            crate::errno(),
        )
    })?;
    // Both paths padded with NULs to one length plus a terminator.
    let size = allowed.len().max(denied.len()) + 1;
    let pad = |p: &[u8]| {
        let mut v = p.to_vec();
        v.resize(size, 0);
        v
    };
    let (allowed_p, denied_p) = (pad(&allowed), pad(&denied));
    let buf: Arc<Vec<AtomicU8>> = Arc::new(allowed_p.iter().map(|&b| AtomicU8::new(b)).collect());
    let diff: Vec<(usize, u8, u8)> = allowed_p
        .iter()
        .zip(&denied_p)
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
    // AtomicU8 has the layout of u8, so the Vec's storage is the C string the kernel reads.
    let path = addr(buf.as_slice());
    let flags = i64::from(libc::O_WRONLY | libc::O_CREAT | libc::O_CLOEXEC);
    let (mut opened_denied, mut failed) = (0u64, 0u64);
    let mut others = Vec::new();
    for _ in 0..iterations {
        let r = match crate::legacy::OPEN {
            // SAFETY: `path` is a NUL-terminated buffer that lives until the thread is joined;
            // its bytes change concurrently only through atomic stores.
            Some(nr) => unsafe { call(Some(nr), &[path, w(flags), 0o600]) },
            // SAFETY: as above.
            None => unsafe {
                call(
                    Some(libc::SYS_openat),
                    &[w(libc::AT_FDCWD.into()), path, w(flags), 0o600],
                )
            },
        };
        match r {
            Ok(fd) => {
                let id = id_of_fd(fd);
                if id == Some(denied_id) {
                    opened_denied += 1;
                } else {
                    others.push(id);
                }
                // SAFETY: `fd` is ours, fresh from the kernel, and used no more.
                unsafe { libc::close(libc::c_int::try_from(fd).unwrap_or(-1)) };
            }
            Err(_) => failed += 1,
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = flipper.join();
    let allowed_id = id_of(&allowed);
    let opened_allowed = others
        .iter()
        .filter(|id| id.is_some() && **id == allowed_id)
        .count();
    let opened_other = others.len() - opened_allowed;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "opened-denied {opened_denied}\nopened-allowed {opened_allowed}\n\
         opened-other {opened_other}\nfailed {failed}"
    );
    let _ = out.flush();
    Ok(())
}
