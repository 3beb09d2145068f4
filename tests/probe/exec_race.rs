//! `race-exec ALLOWED DENIED CHILDREN [SLEEP_MS]`: the exec race against the supervisor, and
//! `race-exec-target DENIED WFD SLEEP_MS`, the program it runs.
//!
//! `race-exec` forks CHILDREN children, one after the other. Each child starts a thread that
//! flips a path buffer between ALLOWED and DENIED (same length; only the differing bytes are
//! stored, one atomic byte store each) as fast as it can, then calls raw `execve` on that
//! buffer with the arguments `race-exec-target DENIED WFD SLEEP_MS` (WFD: the write end of a
//! pipe the parent reads; SLEEP_MS: 100 unless given). Both programs must be copies of this
//! probe.
//!
//! `race-exec-target` reads `/proc/self/exe`: unless it is DENIED it exits 0 at once.
//! Otherwise it writes `start <ns>` (its CLOCK_MONOTONIC start) to WFD, sleeps SLEEP_MS using
//! only calls syd never intercepts, prints `MARKER: denied program ran` on standard output and
//! exits 42.
//!
//! The parent classifies each child by its wait status: `allowed` (exit 0), `refused` (the
//! exec failed: exit 2), `killed` (SIGKILL), `escaped` (exit 42), `other`. It prints those
//! counts, and for the killed children that wrote a start stamp `latency-us N MIN MEDIAN MAX`:
//! the time from their start to their reaping, in microseconds.

use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

use crate::args::{Args, Fail};
use crate::{addr, call};

/// CLOCK_MONOTONIC in nanoseconds.
fn now_ns() -> u64 {
    // SAFETY: `timespec` is plain integers, for which all-zero bytes are valid.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: ts is a valid timespec to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    u64::try_from(ts.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(ts.tv_nsec).unwrap_or(0)
}

/// The flipping thread and the exec, in a forked child; never returns.
fn child(allowed: &[u8], denied: &[u8], argv: &[*const libc::c_char]) -> ! {
    let buf: Arc<Vec<AtomicU8>> = Arc::new(allowed.iter().map(|&b| AtomicU8::new(b)).collect());
    let diff: Vec<(usize, u8, u8)> = allowed
        .iter()
        .zip(denied)
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .map(|(i, (&x, &y))| (i, x, y))
        .collect();
    let started = Arc::new(AtomicBool::new(false));
    {
        let (buf, started) = (Arc::clone(&buf), Arc::clone(&started));
        std::thread::spawn(move || loop {
            started.store(true, Ordering::Relaxed);
            for &(i, _, d) in &diff {
                buf[i].store(d, Ordering::Relaxed);
            }
            for &(i, a, _) in &diff {
                buf[i].store(a, Ordering::Relaxed);
            }
        });
    }
    while !started.load(Ordering::Relaxed) {
        std::hint::spin_loop();
    }
    let envp: [*const libc::c_char; 1] = [std::ptr::null()];
    // SAFETY: the path is a NUL-terminated buffer (both paths have the same length and the
    // terminator is never flipped) that lives until the exec or the exit; argv and envp are
    // null-terminated arrays of live C strings.
    let _ = unsafe {
        call(
            Some(libc::SYS_execve),
            &[addr(buf.as_slice()), addr(argv), addr(&envp)],
        )
    };
    // SAFETY: leaves the child at once, without running the parent's exit handlers.
    unsafe { libc::_exit(2) }
}

/// Runs the race and prints the counts.
pub fn run(a: &mut Args) -> Result<(), Fail> {
    let allowed = a.bytes("ALLOWED")?;
    let denied = a.bytes("DENIED")?;
    let children =
        u64::try_from(a.int("CHILDREN")?).map_err(|_| Fail::Usage("CHILDREN: negative".into()))?;
    let sleep_ms = a
        .rest()
        .first()
        .map_or(b"100".to_vec(), |w| w.as_bytes().to_vec());
    if allowed.len() != denied.len() || allowed.contains(&0) || denied.contains(&0) {
        return Err(Fail::Usage(
            "paths of different lengths, or with a NUL".into(),
        ));
    }
    let mut fds = [0; 2];
    // SAFETY: fds is an array of two ints to fill. No O_CLOEXEC: the programs inherit it.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK) } != 0 {
        return Err(Fail::Setup("pipe2".into(), crate::errno()));
    }
    let [rfd, wfd] = fds;
    let nul = |b: &[u8]| {
        let mut v = b.to_vec();
        v.push(0);
        v
    };
    let (allowed_z, denied_z) = (nul(&allowed), nul(&denied));
    let args = [
        nul(b"race-exec-target"),
        denied_z.clone(),
        nul(wfd.to_string().as_bytes()),
        nul(&sleep_ms),
    ];
    let mut argv: Vec<*const libc::c_char> = vec![allowed_z.as_ptr().cast()];
    argv.extend(args.iter().map(|s| s.as_ptr().cast::<libc::c_char>()));
    argv.push(std::ptr::null());
    let (mut ok, mut refused, mut killed, mut escaped, mut other) = (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut latencies = Vec::new();
    for _ in 0..children {
        let _ = std::io::stdout().flush();
        // SAFETY: the parent is single-threaded; the child only spawns a thread and execs.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(Fail::Setup("fork".into(), crate::errno()));
        }
        if pid == 0 {
            child(&allowed_z, &denied_z, &argv);
        }
        let mut status = 0;
        // SAFETY: status is an int to fill.
        while unsafe { libc::waitpid(pid, &mut status, 0) } < 0 {
            if crate::errno() != libc::EINTR {
                return Err(Fail::Setup("waitpid".into(), crate::errno()));
            }
        }
        let reaped = now_ns();
        let mut stamp = [0u8; 64];
        // SAFETY: stamp is a buffer of that many bytes; the read end is non-blocking.
        let n = unsafe { libc::read(rfd, stamp.as_mut_ptr().cast(), stamp.len()) };
        let start = usize::try_from(n)
            .ok()
            .and_then(|n| std::str::from_utf8(&stamp[..n]).ok())
            .and_then(|s| s.trim().strip_prefix("start ")?.parse::<u64>().ok());
        if libc::WIFEXITED(status) {
            match libc::WEXITSTATUS(status) {
                0 => ok += 1,
                2 => refused += 1,
                42 => escaped += 1,
                _ => other += 1,
            }
        } else if libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGKILL {
            killed += 1;
            if let Some(s) = start {
                latencies.push(reaped.saturating_sub(s) / 1000);
            }
        } else {
            other += 1;
        }
    }
    latencies.sort_unstable();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "allowed {ok}\nrefused {refused}\nkilled {killed}\nescaped {escaped}\nother {other}"
    );
    if let (Some(min), Some(max)) = (latencies.first(), latencies.last()) {
        let median = latencies[latencies.len() / 2];
        let _ = writeln!(out, "latency-us {} {min} {median} {max}", latencies.len());
    }
    let _ = out.flush();
    Ok(())
}

/// The program the race execs (see the module documentation).
pub fn target(a: &mut Args) -> Result<(), Fail> {
    let start = now_ns();
    let denied = a.bytes("DENIED")?;
    let wfd = i32::try_from(a.int("WFD")?).map_err(|_| Fail::Usage("WFD: range".into()))?;
    let ms = a.int("SLEEP_MS")?;
    a.done()?;
    let exe = std::fs::read_link("/proc/self/exe").unwrap_or_default();
    if exe.as_os_str().as_bytes() != denied.as_slice() {
        std::process::exit(0);
    }
    let line = format!("start {start}\n");
    // SAFETY: the line is a live buffer of that length.
    let _ = unsafe { libc::write(wfd, line.as_ptr().cast(), line.len()) };
    let ts = libc::timespec {
        tv_sec: ms / 1000,
        tv_nsec: ms % 1000 * 1_000_000,
    };
    // SAFETY: a valid timespec and no remainder wanted.
    unsafe { libc::nanosleep(&ts, std::ptr::null_mut()) };
    let msg = b"MARKER: denied program ran\n";
    // SAFETY: msg is a live buffer of that length.
    let _ = unsafe { libc::write(1, msg.as_ptr().cast(), msg.len()) };
    std::process::exit(42)
}

/// Raw `execve` of `path` with the arguments `args` and an empty environment; returns the
/// errno if it fails.
fn execve(path: &[u8], args: &[&[u8]]) -> i32 {
    let nul = |b: &[u8]| {
        let mut v = b.to_vec();
        v.push(0);
        v
    };
    let path = nul(path);
    let args: Vec<Vec<u8>> = args.iter().map(|a| nul(a)).collect();
    let mut argv: Vec<*const libc::c_char> = vec![path.as_ptr().cast()];
    argv.extend(args.iter().map(|a| a.as_ptr().cast::<libc::c_char>()));
    argv.push(std::ptr::null());
    let envp: [*const libc::c_char; 1] = [std::ptr::null()];
    // SAFETY: a NUL-terminated path and two null-terminated arrays of live C strings.
    let r = unsafe {
        call(
            Some(libc::SYS_execve),
            &[addr(path.as_slice()), addr(argv.as_slice()), addr(&envp)],
        )
    };
    r.err().unwrap_or(0)
}

/// `exec-seq PATH...`: in this one process, execs each PATH in turn (with the argument
/// `getpid`, no environment), printing `err <ERRNO>` for each that fails; the first that
/// succeeds replaces the process. Exits 1 if none does.
pub fn exec_seq(a: &mut Args) -> Result<(), Fail> {
    let paths: Vec<Vec<u8>> = a.rest().iter().map(|w| w.as_bytes().to_vec()).collect();
    for p in &paths {
        let e = execve(p, &[b"getpid"]);
        println!("err {}", crate::names::errno_name(e));
    }
    std::process::exit(1)
}

/// `exec-threads N PATH`: N threads each exec PATH once (which should fail) and then wait,
/// without any further system call syd intercepts, until all have tried; prints how many
/// failed with each errno (`EACCES 128`), one per line, sorted.
pub fn exec_threads(a: &mut Args) -> Result<(), Fail> {
    let n = usize::try_from(a.int("N")?).map_err(|_| Fail::Usage("N: negative".into()))?;
    let path = a.bytes("PATH")?;
    a.done()?;
    let barrier = Arc::new(std::sync::Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let (barrier, path) = (Arc::clone(&barrier), path.clone());
            std::thread::spawn(move || {
                let e = execve(&path, &[]);
                barrier.wait();
                e
            })
        })
        .collect();
    let mut counts = std::collections::BTreeMap::new();
    for t in threads {
        let e = t.join().unwrap_or(-1);
        *counts.entry(crate::names::errno_name(e)).or_insert(0u32) += 1;
    }
    for (name, count) in counts {
        println!("{name} {count}");
    }
    Ok(())
}
