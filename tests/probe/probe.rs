//! `syd-test-probe`: makes exactly one raw system call, named on the command line, and prints
//! its result, so that the black-box tests know which call a sandboxed program made.
//!
//! ```text
//! syd-test-probe [-r N] CALL ARG...
//! ```
//!
//! Prints `ok <return value>` (sometimes followed by `key=value` details) and exits 0, or
//! `err <ERRNO>` (such as `err EPERM`, `E<n>` for unnamed numbers) and exits 1. A bad command
//! line exits 2 and a failed preparatory step (opening a `DIRFD`, creating a socket) exits 3,
//! each with a message on standard error. `-r N` repeats the call N times, one line each; the
//! exit status is then 1 if any repetition failed. Run `syd-test-probe help` for the calls.
//!
//! Every call under test goes through `libc::syscall` with the `SYS_*` number, never a libc
//! wrapper that might pick another system call (`open()` may call `openat`). A call that the
//! build architecture lacks (`open` on aarch64) prints `err ENOSYS`.
// A test helper, not part of syd: raw system calls with pointers need `unsafe`, and a failed
// internal expectation may simply abort the probe.
#![allow(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod args;
mod exec_race;
mod hostile;
mod names;
mod net;
mod netrace;
mod race;

use std::ffi::{CStr, CString, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;

use args::{cstring, Args, Fail, Ptr};

/// A system call number, or `None` where the build architecture lacks the call.
pub type Nr = Option<libc::c_long>;

/// What a successful call returned, plus optional `key=value` details for the output line.
pub struct Done {
    /// The system call's return value.
    pub ret: i64,
    /// Details such as ` port=N`, each with its leading space.
    pub extra: String,
}

/// The result of the call under test: success, or the errno.
pub type Outcome = Result<Done, i32>;

/// Generates `legacy::NAME` numbers for the calls only x86_64 has among the supported ABIs
/// (aarch64, like every asm-generic ABI, has only the `*at` forms).
macro_rules! x86_64_only {
    ($($konst:ident = $sys:ident),* $(,)?) => {
        mod legacy {
            $(
                #[cfg(target_arch = "x86_64")]
                pub const $konst: crate::Nr = Some(libc::$sys);
                #[cfg(not(target_arch = "x86_64"))]
                pub const $konst: crate::Nr = None;
            )*
        }
    };
}

x86_64_only! {
    OPEN = SYS_open, CREAT = SYS_creat, ACCESS = SYS_access, CHMOD = SYS_chmod,
    CHOWN = SYS_chown, LCHOWN = SYS_lchown, MKDIR = SYS_mkdir, MKNOD = SYS_mknod,
    RMDIR = SYS_rmdir, UTIME = SYS_utime, UTIMES = SYS_utimes, FUTIMESAT = SYS_futimesat,
    UNLINK = SYS_unlink, LINK = SYS_link, RENAME = SYS_rename, SYMLINK = SYS_symlink,
    STAT = SYS_stat, LSTAT = SYS_lstat, READLINK = SYS_readlink,
}

/// `fchmodat2`: 452 on every ABI (numbers from 424 on are shared); `libc` lacks it on aarch64.
const SYS_FCHMODAT2: Nr = Some(452);

/// `newfstatat` on 64-bit ABIs; 32-bit ABIs name the same call `fstatat64`.
#[cfg(target_pointer_width = "64")]
const SYS_NEWFSTATAT: Nr = Some(libc::SYS_newfstatat);
#[cfg(not(target_pointer_width = "64"))]
const SYS_NEWFSTATAT: Nr = Some(libc::SYS_fstatat64);

/// Makes system call `nr` with `args` (missing ones are 0); `Err(errno)` if it fails, and
/// `Err(ENOSYS)` without a call if `nr` is `None`.
///
/// # Safety
/// Every argument the call reads or writes through must be null, a deliberately invalid
/// address (the kernel answers `EFAULT`), or point to live memory of the size the call uses.
pub unsafe fn call(nr: Nr, args: &[usize]) -> Result<i64, i32> {
    let Some(nr) = nr else {
        return Err(libc::ENOSYS);
    };
    let a = |i: usize| args.get(i).copied().unwrap_or(0) as libc::c_long;
    // SAFETY: the caller vouches for every pointer argument (see above); extra zero arguments
    // are ignored by the kernel.
    let r = unsafe { libc::syscall(nr, a(0), a(1), a(2), a(3), a(4), a(5)) };
    if r == -1 {
        Err(errno())
    } else {
        // c_long is i64 here but i32 on 32-bit ABIs.
        #[allow(clippy::useless_conversion)]
        Ok(i64::from(r))
    }
}

/// The calling thread's errno.
pub fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EINVAL)
}

/// A numeric argument as a register value: the two's complement reinterpretation is what C
/// does with an `int` of -1 or `AT_FDCWD`, and the kernel reads `int` arguments from the low
/// 32 bits.
pub fn w(v: i64) -> usize {
    v as usize
}

/// The address of `x`, as a register value.
pub fn addr<T: ?Sized>(x: &T) -> usize {
    (x as *const T).cast::<u8>() as usize
}

/// The address of `x` for the kernel to write to.
pub fn addr_mut<T: ?Sized>(x: &mut T) -> usize {
    (x as *mut T).cast::<u8>() as usize
}

/// A plain outcome: the return value with no details.
pub fn plain(r: Result<i64, i32>) -> Outcome {
    r.map(|ret| Done {
        ret,
        extra: String::new(),
    })
}

/// Opens `path` with raw `openat(AT_FDCWD, path, flags)` as a setup step.
pub fn open_setup(path: &CStr, flags: libc::c_int) -> Result<i64, Fail> {
    // SAFETY: `path` is a live NUL-terminated string.
    let r = unsafe {
        call(
            Some(libc::SYS_openat),
            &[
                w(libc::AT_FDCWD.into()),
                addr(path.to_bytes_with_nul()),
                w(flags.into()),
            ],
        )
    };
    r.map_err(|e| Fail::Setup(format!("open {path:?}"), e))
}

const USAGE: &str = "\
usage: syd-test-probe [-r N] CALL ARG...
prints `ok <ret> [details]` (exit 0) or `err <ERRNO>` (exit 1); usage error 2, setup error 3.
PATH: a path, NULL (null pointer) or BADPTR (address that faults).
DIRFD/FD: number, AT_FDCWD, or open:PATH (O_PATH|O_DIRECTORY), path:PATH (O_PATH),
  read:PATH (O_RDONLY), write:PATH (O_WRONLY), opened first.
numbers: decimal, 0x hex, 0/0o octal, -N, symbolic words (O_*, AT_*, RESOLVE_*, S_IF*,
  PROT_*, MAP_*, MS_*, MNT_*, CLONE_*, PTRACE_*, SIG*, AF_*, SOCK_*, ioctl names) joined by |.
PID: a number, self or parent.
paths: open PATH FLAGS [MODE] | openat DIRFD PATH FLAGS [MODE] |
  openat2 DIRFD PATH FLAGS MODE RESOLVE | creat PATH MODE | access PATH MODE |
  faccessat DIRFD PATH MODE | faccessat2 DIRFD PATH MODE FLAGS | chmod PATH MODE |
  fchmod FD MODE | fchmodat DIRFD PATH MODE | fchmodat2 DIRFD PATH MODE FLAGS |
  chown PATH UID GID | lchown PATH UID GID | fchown FD UID GID |
  fchownat DIRFD PATH UID GID FLAGS | mkdir PATH MODE | mkdirat DIRFD PATH MODE |
  mknod PATH MODE DEV | mknodat DIRFD PATH MODE DEV | rmdir PATH | truncate PATH LEN |
  ftruncate FD LEN | utime PATH | utimes PATH | utimensat DIRFD PATH FLAGS |
  futimesat DIRFD PATH | unlink PATH | unlinkat DIRFD PATH FLAGS | link OLD NEW |
  linkat OLDDIRFD OLD NEWDIRFD NEW FLAGS | rename OLD NEW | renameat ODIR OLD NDIR NEW |
  renameat2 ODIR OLD NDIR NEW FLAGS | symlink TARGET LINK | symlinkat TARGET DIRFD LINK |
  readlink PATH | readlinkat DIRFD PATH | setxattr PATH NAME VALUE [FLAGS] |
  lsetxattr PATH NAME VALUE [FLAGS] | fsetxattr FD NAME VALUE [FLAGS] | getxattr PATH NAME |
  lgetxattr PATH NAME | removexattr PATH NAME | lremovexattr PATH NAME | listxattr PATH |
  llistxattr PATH | chdir PATH | fchdir FD | execve PATH [ARG...] |
  execveat DIRFD PATH FLAGS [ARG...] | stat PATH | lstat PATH | newfstatat DIRFD PATH FLAGS |
  statx DIRFD PATH FLAGS MASK | mount SRC TARGET FSTYPE [FLAGS [DATA]] | umount2 TARGET FLAGS
process: setuid UID | setgid GID | setreuid R E | setregid R E | setresuid R E S |
  setresgid R E S | setfsuid UID | setfsgid GID | kill PID SIG | tkill TID SIG |
  tgkill TGID TID SIG | getpid | getppid | gettid | ptrace REQ PID [ADDR [DATA]] |
  unshare FLAGS | mmap PROT FLAGS [FD [OFFSET]] | mprotect PROT | ioctl FD REQ | uname |
  io_uring_setup ENTRIES [FLAGS]
network (FAMILY ADDR: inet IP:PORT | inet6 [IP]:PORT | unix PATH | unix-abstract NAME):
  socket FAMILY TYPE [PROTO] | connect FAMILY ADDR | connect-dgram FAMILY ADDR |
  bind FAMILY ADDR | bind-dgram FAMILY ADDR | bind-listen FAMILY ADDR | sendto FAMILY ADDR |
  sendto-null | connect-send FAMILY ADDR | sendmsg FAMILY ADDR | sendmsg-noname |
  recvmsg FAMILY ADDR | connect-family NUMBER | bind-family NUMBER
  connect-nonblock FAMILY ADDR | connect-twice FAMILY ADDR | connect-intr FAMILY ADDR
race: race-open ALLOWED DENIED ITERATIONS | race-exec ALLOWED DENIED CHILDREN [SLEEP_MS] |
  race-exec-target DENIED WFD SLEEP_MS | exec-seq PATH... | exec-threads N PATH |
  race-connect FAMILY ALLOWED FAMILY DENIED ITERATIONS |
  race-sendto FAMILY ALLOWED FAMILY DENIED ITERATIONS |
  race-sendmsg[-tos] FAMILY ALLOWED FAMILY DENIED ITERATIONS |
  race-call CALL OTHER ALLOWED DENIED ITERATIONS | race-swap A B STOP
  (CALL: mkdir unlink rename-from rename-to symlink chmod chown truncate utimensat setxattr)
times: utime-t PATH ASEC MSEC | utimes-t PATH ASEC AUSEC MSEC MUSEC |
  futimesat-t DIRFD PATH ASEC AUSEC MSEC MUSEC | utimensat-t DIRFD PATH ASEC ANSEC MSEC MNSEC
  FLAGS | utimensat-badtimes DIRFD PATH
hostile (see tests/probe/hostile.rs): bad-paths PATH | openat2-lie PATH | bad-addrs PORT DIR |
  attack-supervisor PID | peek PID | storm THREADS ITERS OK NO | kill-storm MS THREADS OK NO |
  flat COUNT THREADS OK | deep-cwd DEPTH LEN OP... | fifo-race DIR ITERS r|w |
  uffd-trap PATH kernel|user
";

fn main() {
    let mut words: Vec<OsString> = std::env::args_os().skip(1).collect();
    let mut repeat = 1u64;
    if matches!(
        words.first().map(|w| w.as_bytes()),
        Some(b"-r" | b"--repeat")
    ) {
        let n = words
            .get(1)
            .and_then(|n| n.to_str())
            .and_then(|n| n.parse().ok());
        let Some(n) = n else {
            usage("-r needs a count");
        };
        repeat = n;
        words.drain(..2);
    }
    let Some(call_name) = words.first().cloned() else {
        eprint!("syd-test-probe: no call given\n{USAGE}");
        std::process::exit(2);
    };
    let Some(call_name) = call_name.to_str().map(str::to_owned) else {
        usage("call name is not UTF-8");
    };
    if matches!(call_name.as_str(), "help" | "-h" | "--help") {
        print!("{USAGE}");
        std::process::exit(0);
    }
    let rest: Vec<OsString> = words.into_iter().skip(1).collect();
    let mut status = 0;
    for _ in 0..repeat {
        let mut a = Args::new(rest.clone());
        match dispatch(&call_name, &mut a) {
            Ok(outcome) => {
                if report(&outcome) != 0 {
                    status = 1;
                }
            }
            Err(Fail::Usage(msg)) => usage(&format!("{call_name}: {msg}")),
            Err(Fail::Setup(what, e)) => {
                eprintln!(
                    "syd-test-probe: {call_name}: setup failed: {what}: {}",
                    names::errno_name(e)
                );
                std::process::exit(3);
            }
        }
    }
    std::process::exit(status);
}

/// Prints the usage error and exits 2.
fn usage(msg: &str) -> ! {
    eprintln!("syd-test-probe: {msg} (see `syd-test-probe help`)");
    std::process::exit(2);
}

/// Prints one result line; returns the exit status it stands for.
pub fn report(o: &Outcome) -> i32 {
    let mut out = std::io::stdout().lock();
    let status = match o {
        Ok(d) => {
            let _ = writeln!(out, "ok {}{}", d.ret, d.extra);
            0
        }
        Err(e) => {
            let _ = writeln!(out, "err {}", names::errno_name(*e));
            1
        }
    };
    let _ = out.flush();
    status
}

/// A process id word: a number, `self` or `parent`.
fn pid(a: &mut Args, what: &str) -> Result<i64, Fail> {
    let t = a.text(what)?;
    match t.as_str() {
        // SAFETY: getpid/getppid take nothing and cannot fail.
        "self" => Ok(i64::from(unsafe { libc::getpid() })),
        // SAFETY: as above.
        "parent" => Ok(i64::from(unsafe { libc::getppid() })),
        _ => args::parse_int(&t).ok_or_else(|| Fail::Usage(format!("{what}: not a pid: {t}"))),
    }
}

/// Runs the call `name` with the words in `a`.
fn dispatch(name: &str, a: &mut Args) -> Result<Outcome, Fail> {
    if let Some(o) = paths(name, a)? {
        return Ok(o);
    }
    if let Some(o) = process(name, a)? {
        return Ok(o);
    }
    if let Some(o) = net::dispatch(name, a)? {
        return Ok(o);
    }
    if let Some(o) = netrace::dispatch(name, a)? {
        return Ok(o);
    }
    if hostile::dispatch(name, a)? {
        std::process::exit(0);
    }
    if name == "race-open" {
        race::run(a)?;
        std::process::exit(0);
    }
    if name == "race-exec" {
        exec_race::run(a)?;
        std::process::exit(0);
    }
    if name == "race-exec-target" {
        exec_race::target(a)?;
        std::process::exit(0);
    }
    if name == "exec-seq" {
        exec_race::exec_seq(a)?;
    }
    if name == "exec-threads" {
        exec_race::exec_threads(a)?;
        std::process::exit(0);
    }
    if name == "race-swap" {
        race::run_swap(a)?;
        std::process::exit(0);
    }
    if name == "race-call" {
        race::run_call(a)?;
        std::process::exit(0);
    }
    Err(Fail::Usage("unknown call".into()))
}

/// The `stat` details: ` mode=0o100644 uid=U gid=G size=N`.
fn stat_extra(st: &libc::stat) -> String {
    format!(
        " mode={:#o} uid={} gid={} size={}",
        st.st_mode, st.st_uid, st.st_gid, st.st_size
    )
}

/// A zeroed `struct stat` for the kernel to fill.
fn stat_buf() -> libc::stat {
    // SAFETY: `struct stat` is plain integers, for which all-zero bytes are valid.
    unsafe { std::mem::zeroed() }
}

/// The calls on paths and descriptors; `None` if `name` is not one of them.
#[allow(clippy::too_many_lines)]
fn paths(name: &str, a: &mut Args) -> Result<Option<Outcome>, Fail> {
    use libc::*;
    let o = match name {
        "open" => {
            let (p, fl, m) = (a.path("PATH")?, a.int("FLAGS")?, a.opt_int("MODE", 0o644)?);
            a.done()?;
            // SAFETY: a path pointer (string, null or faulting) and integers.
            plain(unsafe { call(legacy::OPEN, &[p.addr(), w(fl), w(m)]) })
        }
        "openat" => {
            let (d, p, fl) = (a.fd("DIRFD")?, a.path("PATH")?, a.int("FLAGS")?);
            let m = a.opt_int("MODE", 0o644)?;
            a.done()?;
            // SAFETY: a path pointer and integers.
            plain(unsafe { call(Some(SYS_openat), &[w(d), p.addr(), w(fl), w(m)]) })
        }
        "openat2" => {
            let (d, p, fl) = (a.fd("DIRFD")?, a.path("PATH")?, a.int("FLAGS")?);
            let (m, res) = (a.int("MODE")?, a.int("RESOLVE")?);
            a.done()?;
            // struct open_how (linux/openat2.h): flags, mode, resolve, all u64.
            let how: [u64; 3] = [fl as u64, m as u64, res as u64];
            let size = std::mem::size_of_val(&how);
            // SAFETY: a path pointer, and `how` lives across the call with the size passed.
            plain(unsafe { call(Some(SYS_openat2), &[w(d), p.addr(), addr(&how), size]) })
        }
        "creat" => {
            let (p, m) = (a.path("PATH")?, a.int("MODE")?);
            a.done()?;
            // SAFETY: a path pointer and an integer.
            plain(unsafe { call(legacy::CREAT, &[p.addr(), w(m)]) })
        }
        "access" => {
            let (p, m) = (a.path("PATH")?, a.int("MODE")?);
            a.done()?;
            // SAFETY: a path pointer and an integer.
            plain(unsafe { call(legacy::ACCESS, &[p.addr(), w(m)]) })
        }
        "faccessat" | "faccessat2" => {
            let (d, p, m) = (a.fd("DIRFD")?, a.path("PATH")?, a.int("MODE")?);
            let (nr, fl) = if name == "faccessat" {
                (SYS_faccessat, 0)
            } else {
                (SYS_faccessat2, a.int("FLAGS")?)
            };
            a.done()?;
            // SAFETY: a path pointer and integers.
            plain(unsafe { call(Some(nr), &[w(d), p.addr(), w(m), w(fl)]) })
        }
        "chmod" => {
            let (p, m) = (a.path("PATH")?, a.int("MODE")?);
            a.done()?;
            // SAFETY: a path pointer and an integer.
            plain(unsafe { call(legacy::CHMOD, &[p.addr(), w(m)]) })
        }
        "fchmod" => {
            let (fd, m) = (a.fd("FD")?, a.int("MODE")?);
            a.done()?;
            // SAFETY: integers only.
            plain(unsafe { call(Some(SYS_fchmod), &[w(fd), w(m)]) })
        }
        "fchmodat" | "fchmodat2" => {
            let (d, p, m) = (a.fd("DIRFD")?, a.path("PATH")?, a.int("MODE")?);
            let (nr, fl) = if name == "fchmodat" {
                (Some(SYS_fchmodat), 0)
            } else {
                (SYS_FCHMODAT2, a.int("FLAGS")?)
            };
            a.done()?;
            // SAFETY: a path pointer and integers.
            plain(unsafe { call(nr, &[w(d), p.addr(), w(m), w(fl)]) })
        }
        "chown" | "lchown" => {
            let (p, u, g) = (a.path("PATH")?, a.int("UID")?, a.int("GID")?);
            a.done()?;
            let nr = if name == "chown" {
                legacy::CHOWN
            } else {
                legacy::LCHOWN
            };
            // SAFETY: a path pointer and integers.
            plain(unsafe { call(nr, &[p.addr(), w(u), w(g)]) })
        }
        "fchown" => {
            let (fd, u, g) = (a.fd("FD")?, a.int("UID")?, a.int("GID")?);
            a.done()?;
            // SAFETY: integers only.
            plain(unsafe { call(Some(SYS_fchown), &[w(fd), w(u), w(g)]) })
        }
        "fchownat" => {
            let (d, p) = (a.fd("DIRFD")?, a.path("PATH")?);
            let (u, g, fl) = (a.int("UID")?, a.int("GID")?, a.int("FLAGS")?);
            a.done()?;
            // SAFETY: a path pointer and integers.
            plain(unsafe { call(Some(SYS_fchownat), &[w(d), p.addr(), w(u), w(g), w(fl)]) })
        }
        "mkdir" => {
            let (p, m) = (a.path("PATH")?, a.int("MODE")?);
            a.done()?;
            // SAFETY: a path pointer and an integer.
            plain(unsafe { call(legacy::MKDIR, &[p.addr(), w(m)]) })
        }
        "mkdirat" => {
            let (d, p, m) = (a.fd("DIRFD")?, a.path("PATH")?, a.int("MODE")?);
            a.done()?;
            // SAFETY: a path pointer and integers.
            plain(unsafe { call(Some(SYS_mkdirat), &[w(d), p.addr(), w(m)]) })
        }
        "mknod" => {
            let (p, m, dev) = (a.path("PATH")?, a.int("MODE")?, a.int("DEV")?);
            a.done()?;
            // SAFETY: a path pointer and integers.
            plain(unsafe { call(legacy::MKNOD, &[p.addr(), w(m), w(dev)]) })
        }
        "mknodat" => {
            let (d, p) = (a.fd("DIRFD")?, a.path("PATH")?);
            let (m, dev) = (a.int("MODE")?, a.int("DEV")?);
            a.done()?;
            // SAFETY: a path pointer and integers.
            plain(unsafe { call(Some(SYS_mknodat), &[w(d), p.addr(), w(m), w(dev)]) })
        }
        "rmdir" | "unlink" | "chdir" | "utime" | "utimes" => {
            let p = a.path("PATH")?;
            a.done()?;
            let nr = match name {
                "rmdir" => legacy::RMDIR,
                "unlink" => legacy::UNLINK,
                "chdir" => Some(SYS_chdir),
                "utime" => legacy::UTIME,
                _ => legacy::UTIMES,
            };
            // SAFETY: a path pointer; utime(s) get a null times pointer ("now").
            plain(unsafe { call(nr, &[p.addr(), 0]) })
        }
        "truncate" => {
            let (p, len) = (a.path("PATH")?, a.int("LEN")?);
            a.done()?;
            // SAFETY: a path pointer and an integer.
            plain(unsafe { call(Some(SYS_truncate), &[p.addr(), w(len)]) })
        }
        "ftruncate" => {
            let (fd, len) = (a.fd("FD")?, a.int("LEN")?);
            a.done()?;
            // SAFETY: integers only.
            plain(unsafe { call(Some(SYS_ftruncate), &[w(fd), w(len)]) })
        }
        "utimensat" => {
            let (d, p, fl) = (a.fd("DIRFD")?, a.path("PATH")?, a.int("FLAGS")?);
            a.done()?;
            // SAFETY: a path pointer, a null times pointer ("now") and integers.
            plain(unsafe { call(Some(SYS_utimensat), &[w(d), p.addr(), 0, w(fl)]) })
        }
        "utime-t" => {
            let (p, at, mt) = (a.path("PATH")?, a.int("ASEC")?, a.int("MSEC")?);
            a.done()?;
            // struct utimbuf { time_t actime, modtime; }.
            let buf = [at, mt];
            // SAFETY: a path pointer and a utimbuf that lives for the call.
            plain(unsafe { call(legacy::UTIME, &[p.addr(), addr(&buf)]) })
        }
        "utimes-t" | "futimesat-t" => {
            let d = if name == "futimesat-t" {
                Some(a.fd("DIRFD")?)
            } else {
                None
            };
            let p = a.path("PATH")?;
            let t = [
                a.int("ASEC")?,
                a.int("AUSEC")?,
                a.int("MSEC")?,
                a.int("MUSEC")?,
            ];
            a.done()?;
            // struct timeval[2] { time_t tv_sec; suseconds_t tv_usec; }.
            match d {
                // SAFETY: a path pointer and two timevals that live for the call.
                None => plain(unsafe { call(legacy::UTIMES, &[p.addr(), addr(&t)]) }),
                // SAFETY: as above, with a descriptor.
                Some(d) => plain(unsafe { call(legacy::FUTIMESAT, &[w(d), p.addr(), addr(&t)]) }),
            }
        }
        "utimensat-t" => {
            let (d, p) = (a.fd("DIRFD")?, a.path("PATH")?);
            let t = [
                a.int("ASEC")?,
                a.int("ANSEC")?,
                a.int("MSEC")?,
                a.int("MNSEC")?,
            ];
            let fl = a.int("FLAGS")?;
            a.done()?;
            // struct timespec[2] { time_t tv_sec; long tv_nsec; }.
            // SAFETY: a path pointer, two timespecs that live for the call, and integers.
            plain(unsafe { call(Some(SYS_utimensat), &[w(d), p.addr(), addr(&t), w(fl)]) })
        }
        "utimensat-badtimes" => {
            let (d, p) = (a.fd("DIRFD")?, a.path("PATH")?);
            a.done()?;
            // SAFETY: the times pointer is the unmapped address 8: the kernel answers EFAULT.
            plain(unsafe { call(Some(SYS_utimensat), &[w(d), p.addr(), 8, 0]) })
        }
        "futimesat" => {
            let (d, p) = (a.fd("DIRFD")?, a.path("PATH")?);
            a.done()?;
            // SAFETY: a path pointer, a null times pointer ("now") and an integer.
            plain(unsafe { call(legacy::FUTIMESAT, &[w(d), p.addr(), 0]) })
        }
        "unlinkat" => {
            let (d, p, fl) = (a.fd("DIRFD")?, a.path("PATH")?, a.int("FLAGS")?);
            a.done()?;
            // SAFETY: a path pointer and integers.
            plain(unsafe { call(Some(SYS_unlinkat), &[w(d), p.addr(), w(fl)]) })
        }
        "link" | "rename" | "symlink" => {
            let (p, q) = (a.path("OLD")?, a.path("NEW")?);
            a.done()?;
            let nr = match name {
                "link" => legacy::LINK,
                "rename" => legacy::RENAME,
                _ => legacy::SYMLINK,
            };
            // SAFETY: two path pointers.
            plain(unsafe { call(nr, &[p.addr(), q.addr()]) })
        }
        "linkat" | "renameat" | "renameat2" => {
            let (od, op) = (a.fd("OLDDIRFD")?, a.path("OLD")?);
            let (nd, np) = (a.fd("NEWDIRFD")?, a.path("NEW")?);
            let (nr, fl) = match name {
                "linkat" => (SYS_linkat, a.int("FLAGS")?),
                "renameat" => (SYS_renameat, 0),
                _ => (SYS_renameat2, a.int("FLAGS")?),
            };
            a.done()?;
            let args = [w(od), op.addr(), w(nd), np.addr(), w(fl)];
            // SAFETY: two path pointers and integers.
            plain(unsafe { call(Some(nr), &args) })
        }
        "symlinkat" => {
            let (t, d, l) = (a.path("TARGET")?, a.fd("DIRFD")?, a.path("LINK")?);
            a.done()?;
            // SAFETY: two path pointers and an integer.
            plain(unsafe { call(Some(SYS_symlinkat), &[t.addr(), w(d), l.addr()]) })
        }
        "readlink" | "readlinkat" => {
            let d = if name == "readlinkat" {
                Some(a.fd("DIRFD")?)
            } else {
                None
            };
            let p = a.path("PATH")?;
            a.done()?;
            let mut buf = [0u8; 4096];
            let (b, n) = (addr_mut(&mut buf), buf.len());
            let r = match d {
                // SAFETY: a path pointer and `buf` with its length.
                None => unsafe { call(legacy::READLINK, &[p.addr(), b, n]) },
                // SAFETY: as above.
                Some(d) => unsafe { call(Some(SYS_readlinkat), &[w(d), p.addr(), b, n]) },
            };
            r.map(|ret| Done {
                ret,
                extra: format!(" target={}", lossy_prefix(&buf, ret)),
            })
        }
        "setxattr" | "lsetxattr" | "fsetxattr" => {
            let target = if name == "fsetxattr" {
                Err(a.fd("FD")?)
            } else {
                Ok(a.path("PATH")?)
            };
            let (n, v) = (a.path("NAME")?, a.bytes("VALUE")?);
            let fl = a.opt_int("FLAGS", 0)?;
            a.done()?;
            let nr = match name {
                "setxattr" => SYS_setxattr,
                "lsetxattr" => SYS_lsetxattr,
                _ => SYS_fsetxattr,
            };
            let t = match &target {
                Ok(p) => p.addr(),
                Err(fd) => w(*fd),
            };
            // SAFETY: a path pointer or fd, a name pointer, and `v` with its length.
            plain(unsafe { call(Some(nr), &[t, n.addr(), addr(v.as_slice()), v.len(), w(fl)]) })
        }
        "getxattr" | "lgetxattr" => {
            let (p, n) = (a.path("PATH")?, a.path("NAME")?);
            a.done()?;
            let nr = if name == "getxattr" {
                SYS_getxattr
            } else {
                SYS_lgetxattr
            };
            let mut buf = [0u8; 4096];
            let (b, len) = (addr_mut(&mut buf), buf.len());
            // SAFETY: two string pointers and `buf` with its length.
            let r = unsafe { call(Some(nr), &[p.addr(), n.addr(), b, len]) };
            r.map(|ret| Done {
                ret,
                extra: format!(" value={}", lossy_prefix(&buf, ret)),
            })
        }
        "removexattr" | "lremovexattr" => {
            let (p, n) = (a.path("PATH")?, a.path("NAME")?);
            a.done()?;
            let nr = if name == "removexattr" {
                SYS_removexattr
            } else {
                SYS_lremovexattr
            };
            // SAFETY: two string pointers.
            plain(unsafe { call(Some(nr), &[p.addr(), n.addr()]) })
        }
        "listxattr" | "llistxattr" => {
            let p = a.path("PATH")?;
            a.done()?;
            let nr = if name == "listxattr" {
                SYS_listxattr
            } else {
                SYS_llistxattr
            };
            let mut buf = [0u8; 4096];
            let (b, len) = (addr_mut(&mut buf), buf.len());
            // SAFETY: a path pointer and `buf` with its length.
            let r = unsafe { call(Some(nr), &[p.addr(), b, len]) };
            r.map(|ret| {
                let names = lossy_prefix(&buf, ret);
                let names = names.trim_end_matches('\0').replace('\0', ",");
                Done {
                    ret,
                    extra: format!(" names={names}"),
                }
            })
        }
        "fchdir" => {
            let fd = a.fd("FD")?;
            a.done()?;
            // SAFETY: an integer only.
            plain(unsafe { call(Some(SYS_fchdir), &[w(fd)]) })
        }
        "execve" | "execveat" => return exec(name, a).map(Some),
        "stat" | "lstat" => {
            let p = a.path("PATH")?;
            a.done()?;
            let nr = if name == "stat" {
                legacy::STAT
            } else {
                legacy::LSTAT
            };
            let mut st = stat_buf();
            // SAFETY: a path pointer and a `struct stat` (the kernel's layout on x86_64).
            let r = unsafe { call(nr, &[p.addr(), addr_mut(&mut st)]) };
            r.map(|ret| Done {
                ret,
                extra: stat_extra(&st),
            })
        }
        "newfstatat" => {
            let (d, p, fl) = (a.fd("DIRFD")?, a.path("PATH")?, a.int("FLAGS")?);
            a.done()?;
            let mut st = stat_buf();
            let args = [w(d), p.addr(), addr_mut(&mut st), w(fl)];
            // SAFETY: a path pointer and a `struct stat`, whose layout is the kernel's on the
            // supported 64-bit ABIs.
            let r = unsafe { call(SYS_NEWFSTATAT, &args) };
            r.map(|ret| Done {
                ret,
                extra: stat_extra(&st),
            })
        }
        "statx" => {
            let (d, p) = (a.fd("DIRFD")?, a.path("PATH")?);
            let (fl, mask) = (a.int("FLAGS")?, a.int("MASK")?);
            a.done()?;
            // struct statx is 256 bytes (linux/stat.h); u64s keep it aligned.
            let mut buf = [0u64; 32];
            let args = [w(d), p.addr(), w(fl), w(mask), addr_mut(&mut buf)];
            // SAFETY: a path pointer and a 256-byte buffer for struct statx.
            let r = unsafe { call(Some(SYS_statx), &args) };
            r.map(|ret| {
                // stx_mode is the u16 at byte 28 (linux/stat.h), stx_uid/stx_gid u32 at 20/24.
                let word = |i: usize| buf[i].to_ne_bytes();
                let (uid_gid, mode) = (word(2), word(3));
                let uid = u32::from_ne_bytes(uid_gid[4..8].try_into().unwrap());
                let gid = u32::from_ne_bytes(mode[0..4].try_into().unwrap());
                let mode = u16::from_ne_bytes(mode[4..6].try_into().unwrap());
                Done {
                    ret,
                    extra: format!(" mode={mode:#o} uid={uid} gid={gid}"),
                }
            })
        }
        "mount" => {
            let (s, t, f) = (a.path("SRC")?, a.path("TARGET")?, a.path("FSTYPE")?);
            let fl = a.opt_int("FLAGS", 0)?;
            let data = if a.more() { a.path("DATA")? } else { Ptr::Null };
            a.done()?;
            let args = [s.addr(), t.addr(), f.addr(), w(fl), data.addr()];
            // SAFETY: four string pointers (or null) and an integer.
            plain(unsafe { call(Some(SYS_mount), &args) })
        }
        "umount2" => {
            let (t, fl) = (a.path("TARGET")?, a.int("FLAGS")?);
            a.done()?;
            // SAFETY: a path pointer and an integer.
            plain(unsafe { call(Some(SYS_umount2), &[t.addr(), w(fl)]) })
        }
        _ => return Ok(None),
    };
    Ok(Some(o))
}

/// The first `n` bytes of `buf` (a call's return value, clamped) as lossy UTF-8.
fn lossy_prefix(buf: &[u8], n: i64) -> String {
    let n = usize::try_from(n).unwrap_or(0).min(buf.len());
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// `execve PATH [ARG...]` and `execveat DIRFD PATH FLAGS [ARG...]`: argv is PATH then the
/// ARGs, the environment is the probe's own. Returns only if the call fails.
fn exec(name: &str, a: &mut Args) -> Result<Outcome, Fail> {
    let d = if name == "execveat" {
        Some(a.fd("DIRFD")?)
    } else {
        None
    };
    let p = a.path("PATH")?;
    let fl = if d.is_some() { a.int("FLAGS")? } else { 0 };
    let arg0 = match &p {
        Ptr::Str(s) => s.clone(),
        Ptr::Null | Ptr::Bad => CString::default(),
    };
    let mut argv = vec![arg0];
    for w in a.rest() {
        argv.push(cstring(w.as_bytes(), "ARG")?);
    }
    let mut envp = Vec::new();
    for (k, v) in std::env::vars_os() {
        let mut kv = k.as_bytes().to_vec();
        kv.push(b'=');
        kv.extend_from_slice(v.as_bytes());
        envp.push(cstring(&kv, "environment")?);
    }
    let argv_p: Vec<*const libc::c_char> = argv
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let envp_p: Vec<*const libc::c_char> = envp
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let _ = std::io::stdout().flush();
    let (av, ev) = (addr(argv_p.as_slice()), addr(envp_p.as_slice()));
    let r = match d {
        // SAFETY: a path pointer and two null-terminated arrays of live C strings.
        None => unsafe { call(Some(libc::SYS_execve), &[p.addr(), av, ev]) },
        // SAFETY: as above, plus integers.
        Some(d) => unsafe { call(Some(libc::SYS_execveat), &[w(d), p.addr(), av, ev, w(fl)]) },
    };
    Ok(plain(r))
}

/// The identity, signal and memory calls; `None` if `name` is not one of them.
fn process(name: &str, a: &mut Args) -> Result<Option<Outcome>, Fail> {
    use libc::*;
    let ids1: Option<c_long> = match name {
        "setuid" => Some(SYS_setuid),
        "setgid" => Some(SYS_setgid),
        "setfsuid" => Some(SYS_setfsuid),
        "setfsgid" => Some(SYS_setfsgid),
        "unshare" => Some(SYS_unshare),
        _ => None,
    };
    if let Some(nr) = ids1 {
        let v = a.int("ARG")?;
        a.done()?;
        // SAFETY: an integer only.
        return Ok(Some(plain(unsafe { call(Some(nr), &[w(v)]) })));
    }
    let o = match name {
        "setreuid" | "setregid" => {
            let (r, e) = (a.int("R")?, a.int("E")?);
            a.done()?;
            let nr = if name == "setreuid" {
                SYS_setreuid
            } else {
                SYS_setregid
            };
            // SAFETY: integers only.
            plain(unsafe { call(Some(nr), &[w(r), w(e)]) })
        }
        "setresuid" | "setresgid" => {
            let (r, e, s) = (a.int("R")?, a.int("E")?, a.int("S")?);
            a.done()?;
            let nr = if name == "setresuid" {
                SYS_setresuid
            } else {
                SYS_setresgid
            };
            // SAFETY: integers only.
            plain(unsafe { call(Some(nr), &[w(r), w(e), w(s)]) })
        }
        "kill" | "tkill" => {
            let (p, sig) = (pid(a, "PID")?, a.int("SIG")?);
            a.done()?;
            let nr = if name == "kill" { SYS_kill } else { SYS_tkill };
            // SAFETY: integers only.
            plain(unsafe { call(Some(nr), &[w(p), w(sig)]) })
        }
        "tgkill" => {
            let (g, t, sig) = (pid(a, "TGID")?, pid(a, "TID")?, a.int("SIG")?);
            a.done()?;
            // SAFETY: integers only.
            plain(unsafe { call(Some(SYS_tgkill), &[w(g), w(t), w(sig)]) })
        }
        "getpid" | "getppid" | "gettid" => {
            a.done()?;
            let nr = match name {
                "getpid" => SYS_getpid,
                "getppid" => SYS_getppid,
                _ => SYS_gettid,
            };
            // SAFETY: no arguments.
            plain(unsafe { call(Some(nr), &[]) })
        }
        "ptrace" => {
            let (req, p) = (a.int("REQ")?, pid(a, "PID")?);
            let (ad, data) = (a.opt_int("ADDR", 0)?, a.opt_int("DATA", 0)?);
            a.done()?;
            // SAFETY: integers; a request that writes through ADDR/DATA is the caller's choice
            // and lands in the traced process or faults (the probe passes no buffers).
            plain(unsafe { call(Some(SYS_ptrace), &[w(req), w(p), w(ad), w(data)]) })
        }
        "mmap" => {
            let (prot, fl) = (a.int("PROT")?, a.int("FLAGS")?);
            let fd = if a.more() { a.fd("FD")? } else { -1 };
            let off = a.opt_int("OFFSET", 0)?;
            a.done()?;
            // SAFETY: a null hint, so without MAP_FIXED the kernel picks a free range; with
            // MAP_FIXED at address 0 it refuses (mmap_min_addr). Nothing of ours is replaced.
            plain(unsafe { call(Some(SYS_mmap), &[0, 4096, w(prot), w(fl), w(fd), w(off)]) })
        }
        "mprotect" => {
            let prot = a.int("PROT")?;
            a.done()?;
            // SAFETY: a fresh anonymous page that nothing else uses.
            let page = unsafe {
                mmap(
                    std::ptr::null_mut(),
                    4096,
                    PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if page == MAP_FAILED {
                return Err(Fail::Setup("mmap an anonymous page".into(), errno()));
            }
            // SAFETY: the page is ours and no Rust reference points into it.
            plain(unsafe { call(Some(SYS_mprotect), &[page as usize, 4096, w(prot)]) })
        }
        "ioctl" => {
            let (fd, req) = (a.fd("FD")?, a.int("REQ")?);
            a.done()?;
            let mut scratch = [0u64; 64];
            // SAFETY: integers and a zeroed 512-byte scratch buffer, larger than the argument
            // of any request the tests name.
            plain(unsafe { call(Some(SYS_ioctl), &[w(fd), w(req), addr_mut(&mut scratch)]) })
        }
        "uname" => {
            a.done()?;
            // SAFETY: `struct utsname` is plain bytes, for which all-zero bytes are valid.
            let mut u: utsname = unsafe { std::mem::zeroed() };
            // SAFETY: a `struct utsname` to fill.
            let r = unsafe { call(Some(SYS_uname), &[addr_mut(&mut u)]) };
            r.map(|ret| {
                let field = |f: &[c_char]| {
                    let b: Vec<u8> = f
                        .iter()
                        .take_while(|&&c| c != 0)
                        .map(|&c| c.to_ne_bytes()[0])
                        .collect();
                    String::from_utf8_lossy(&b).into_owned()
                };
                Done {
                    ret,
                    extra: format!(
                        " sysname={} release={}",
                        field(&u.sysname),
                        field(&u.release)
                    ),
                }
            })
        }
        "io_uring_setup" => {
            let (n, fl) = (a.int("ENTRIES")?, a.opt_int("FLAGS", 0)?);
            a.done()?;
            // struct io_uring_params is 120 bytes (linux/io_uring.h); flags is the u32 at 8.
            let mut params = [0u32; 30];
            params[2] = u32::try_from(fl).map_err(|_| Fail::Usage("FLAGS: too big".into()))?;
            // SAFETY: an integer and a 120-byte io_uring_params the kernel reads and fills.
            plain(unsafe { call(Some(SYS_io_uring_setup), &[w(n), addr_mut(&mut params)]) })
        }
        _ => return Ok(None),
    };
    Ok(Some(o))
}
