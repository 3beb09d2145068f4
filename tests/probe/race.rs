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

/// `race-call CALL OTHER ALLOWED DENIED ITERATIONS`: the race of `race-open` for the other path
/// calls, which the supervisor performs itself.
///
/// One thread flips the path buffer between ALLOWED and DENIED (as `race-open`; not at all
/// when both are the same path, for races made from outside), while the main thread makes
/// CALL on it ITERATIONS times, with raw system calls:
///
/// - `mkdir` (0755), `symlink` (target `t`): after a success ALLOWED is removed again;
/// - `unlink`: after a success ALLOWED is created again (empty);
/// - `rename-from`: `rename(buffer, OTHER)`, then `rename(OTHER, ALLOWED)` after a success;
/// - `rename-to`: `rename(OTHER, buffer)`, then `rename(ALLOWED, OTHER)` after a success;
/// - `chmod` (0600), `chown` (65534:65534), `truncate` (length 0), `utimensat` (both times
///   0.0), `setxattr` (`user.race` = `1`): nothing to undo.
///
/// The resets use separate, fixed buffers and are skipped when ALLOWED equals DENIED (a
/// reset on a path swapped by another process could undo what the test looks for). OTHER is
/// `-` when unused. Prints `ok N` and `failed F`, and exits 0; the test then looks at the
/// denied objects.
pub fn run_call(a: &mut Args) -> Result<(), Fail> {
    let what = a.text("CALL")?;
    let other = a.bytes("OTHER")?;
    let allowed = a.bytes("ALLOWED")?;
    let denied = a.bytes("DENIED")?;
    let iterations = u64::try_from(a.int("ITERATIONS")?)
        .map_err(|_| Fail::Usage("ITERATIONS: negative".into()))?;
    a.done()?;
    let c = |p: &[u8]| {
        std::ffi::CString::new(p).map_err(|_| Fail::Usage("paths contain a NUL byte".into()))
    };
    let (other_c, allowed_c) = (c(&other)?, c(&allowed)?);
    c(&denied)?;
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
    let reset = !diff.is_empty();
    let stop = Arc::new(AtomicBool::new(false));
    let flipper = reset.then(|| {
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
    });
    // AtomicU8 has the layout of u8, so the Vec's storage is the C string the kernel reads.
    let path = addr(buf.as_slice());
    let (fixed, oth) = (allowed_c.as_ptr() as usize, other_c.as_ptr() as usize);
    let target = c"t".as_ptr() as usize;
    // The *at forms, which every ABI has (aarch64 lacks mkdir, rename and the like).
    let cwd = w(libc::AT_FDCWD.into());
    let times = [0i64; 4];
    let (xname, xval) = (c"user.race".as_ptr() as usize, c"1".as_ptr() as usize);
    let (mut ok, mut failed) = (0u64, 0u64);
    for _ in 0..iterations {
        // SAFETY: `path` is a NUL-terminated buffer that lives until the thread is joined and
        // changes only through atomic stores; the other pointers are C strings or arrays that
        // live for the whole loop; the rest are integers.
        let r = unsafe {
            match what.as_str() {
                "mkdir" => call(Some(libc::SYS_mkdirat), &[cwd, path, 0o755]),
                "symlink" => call(Some(libc::SYS_symlinkat), &[target, cwd, path]),
                "unlink" => call(Some(libc::SYS_unlinkat), &[cwd, path, 0]),
                "rename-from" => call(Some(libc::SYS_renameat), &[cwd, path, cwd, oth]),
                "rename-to" => call(Some(libc::SYS_renameat), &[cwd, oth, cwd, path]),
                "chmod" => call(Some(libc::SYS_fchmodat), &[cwd, path, 0o600]),
                "chown" => call(Some(libc::SYS_fchownat), &[cwd, path, 65534, 65534, 0]),
                "truncate" => call(Some(libc::SYS_truncate), &[path, 0]),
                "utimensat" => call(
                    Some(libc::SYS_utimensat),
                    &[w(libc::AT_FDCWD.into()), path, addr(&times), 0],
                ),
                "setxattr" => call(Some(libc::SYS_setxattr), &[path, xname, xval, 1, 0]),
                _ => return Err(Fail::Usage(format!("CALL: unknown: {what}"))),
            }
        };
        if r.is_err() {
            failed += 1;
            continue;
        }
        ok += 1;
        if !reset {
            continue;
        }
        // SAFETY: as above; these buffers are fixed.
        let _ = unsafe {
            match what.as_str() {
                "mkdir" => call(
                    Some(libc::SYS_unlinkat),
                    &[cwd, fixed, w(libc::AT_REMOVEDIR.into())],
                ),
                "symlink" => call(Some(libc::SYS_unlinkat), &[cwd, fixed, 0]),
                "unlink" => call(
                    Some(libc::SYS_openat),
                    &[
                        cwd,
                        fixed,
                        w((libc::O_WRONLY | libc::O_CREAT | libc::O_CLOEXEC).into()),
                        0o644,
                    ],
                )
                .map(|fd| libc::close(libc::c_int::try_from(fd).unwrap_or(-1)).into()),
                "rename-from" => call(Some(libc::SYS_renameat), &[cwd, oth, cwd, fixed]),
                "rename-to" => call(Some(libc::SYS_renameat), &[cwd, fixed, cwd, oth]),
                _ => Ok(0),
            }
        };
    }
    stop.store(true, Ordering::Relaxed);
    if let Some(f) = flipper {
        let _ = f.join();
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "ok {ok}\nfailed {failed}");
    let _ = out.flush();
    Ok(())
}

/// `race-swap A B STOP`: exchanges the entries A and B (`renameat2(RENAME_EXCHANGE)`) as fast
/// as it can until the file STOP exists (looked at every 256 swaps); prints `swaps N`.
pub fn run_swap(a: &mut Args) -> Result<(), Fail> {
    let c = |p: Vec<u8>| {
        std::ffi::CString::new(p).map_err(|_| Fail::Usage("paths contain a NUL byte".into()))
    };
    let x = c(a.bytes("A")?)?;
    let y = c(a.bytes("B")?)?;
    let stop = a.bytes("STOP")?;
    a.done()?;
    let mut swaps = 0u64;
    loop {
        for _ in 0..256 {
            // SAFETY: two C strings that live for the call, and integers (RENAME_EXCHANGE 2).
            let r = unsafe {
                call(
                    Some(libc::SYS_renameat2),
                    &[
                        w(libc::AT_FDCWD.into()),
                        x.as_ptr() as usize,
                        w(libc::AT_FDCWD.into()),
                        y.as_ptr() as usize,
                        2,
                    ],
                )
            };
            swaps += u64::from(r.is_ok());
        }
        if id_of(&stop).is_some() {
            break;
        }
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "swaps {swaps}");
    let _ = out.flush();
    Ok(())
}
