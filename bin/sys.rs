//! All `unsafe` code of the binary: the entry symbol, the argv/envp walk and every system call.
//!
//! Each wrapper is tiny, returns `Result<T, Errno>` and owns descriptors through [`Fd`]. Calls that
//! musl wraps go through `libc` (which knows each ABI's quirks), except where musl's wrapper
//! carries machinery syd does not need (multi-thread credential changes, fallbacks for kernels
//! older than syd supports, the vDSO): those, and the calls musl lacks (seccomp, the pidfd
//! family, process_vm_*, openat2, gettid), are raw system calls through the `syscalls` crate.
//! A raw call whose structures differ between musl and the kernel on some ABI (stat on 32-bit
//! ABIs and mips64, timespec on 32-bit ones) keeps musl's wrapper there.
//! The heap ([`Heap`]) is here too. Nothing here allocates or panics.
// The supervisor and child setup are the main users of these wrappers and are written separately;
// every wrapper is smoke-tested by tests/sys.rs, which compiles this file into a std test crate.
#![allow(dead_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

use core::ffi::{c_char, c_int, c_void, CStr};
use core::fmt;
use core::marker::PhantomData;
use core::mem::{size_of, MaybeUninit};

use syscalls::Sysno;

// ---------------------------------------------------------------------------------------------
// Errors

/// A kernel error number (`errno`), as returned by a failed system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

/// The errnos syd names, in the order of [`ERRNO_TEXT`]'s lines. The numbers come from `libc`, so
/// that the ABIs whose numbers differ (mips, parisc, sparc, alpha) stay right.
const ERRNOS: [c_int; 48] = [
    libc::EPERM,
    libc::ENOENT,
    libc::ESRCH,
    libc::EINTR,
    libc::EIO,
    libc::ENXIO,
    libc::E2BIG,
    libc::ENOEXEC,
    libc::EBADF,
    libc::ECHILD,
    libc::EAGAIN,
    libc::ENOMEM,
    libc::EACCES,
    libc::EFAULT,
    libc::EBUSY,
    libc::EEXIST,
    libc::EXDEV,
    libc::ENODEV,
    libc::ENOTDIR,
    libc::EISDIR,
    libc::EINVAL,
    libc::ENFILE,
    libc::EMFILE,
    libc::ENOTTY,
    libc::ETXTBSY,
    libc::EFBIG,
    libc::ENOSPC,
    libc::ESPIPE,
    libc::EROFS,
    libc::EMLINK,
    libc::EPIPE,
    libc::ERANGE,
    libc::ENAMETOOLONG,
    libc::ENOSYS,
    libc::ENOTEMPTY,
    libc::ELOOP,
    libc::EPROTO,
    libc::EOVERFLOW,
    libc::ENOTSOCK,
    libc::EOPNOTSUPP,
    libc::EAFNOSUPPORT,
    libc::EADDRINUSE,
    libc::EADDRNOTAVAIL,
    libc::ENOTCONN,
    libc::ETIMEDOUT,
    libc::EINPROGRESS,
    libc::ECONNREFUSED,
    libc::ECANCELED,
];

/// `NAME description` of each errno of [`ERRNOS`], one per line: one string costs no pointer
/// per entry, and the lookup is a short loop instead of a `match` (1 KiB of jump table code).
const ERRNO_TEXT: &str = concat!(
    "EPERM Operation not permitted\n",
    "ENOENT No such file or directory\n",
    "ESRCH No such process\n",
    "EINTR Interrupted system call\n",
    "EIO I/O error\n",
    "ENXIO No such device or address\n",
    "E2BIG Argument list too long\n",
    "ENOEXEC Exec format error\n",
    "EBADF Bad file descriptor\n",
    "ECHILD No child process\n",
    "EAGAIN Resource temporarily unavailable\n",
    "ENOMEM Out of memory\n",
    "EACCES Permission denied\n",
    "EFAULT Bad address\n",
    "EBUSY Resource busy\n",
    "EEXIST File exists\n",
    "EXDEV Cross-device link\n",
    "ENODEV No such device\n",
    "ENOTDIR Not a directory\n",
    "EISDIR Is a directory\n",
    "EINVAL Invalid argument\n",
    "ENFILE Too many open files in system\n",
    "EMFILE No file descriptors available\n",
    "ENOTTY Not a tty\n",
    "ETXTBSY Text file busy\n",
    "EFBIG File too large\n",
    "ENOSPC No space left on device\n",
    "ESPIPE Invalid seek\n",
    "EROFS Read-only file system\n",
    "EMLINK Too many links\n",
    "EPIPE Broken pipe\n",
    "ERANGE Result not representable\n",
    "ENAMETOOLONG Filename too long\n",
    "ENOSYS Function not implemented\n",
    "ENOTEMPTY Directory not empty\n",
    "ELOOP Symbolic link loop\n",
    "EPROTO Protocol error\n",
    "EOVERFLOW Value too large for data type\n",
    "ENOTSOCK Not a socket\n",
    "EOPNOTSUPP Not supported\n",
    "EAFNOSUPPORT Address family not supported by protocol\n",
    "EADDRINUSE Address in use\n",
    "EADDRNOTAVAIL Address not available\n",
    "ENOTCONN Socket not connected\n",
    "ETIMEDOUT Operation timed out\n",
    "EINPROGRESS Operation in progress\n",
    "ECONNREFUSED Connection refused\n",
    "ECANCELED Operation canceled\n",
);

/// `(name, description)` of the errno `e`, or `None` if syd does not know it.
fn errno_entry(e: c_int) -> Option<(&'static str, &'static str)> {
    let i = ERRNOS.iter().position(|&n| n == e)?;
    // Line i starts after the i-th newline; the name ends at its first space.
    let mut start = 0;
    let mut line = 0;
    for (at, b) in ERRNO_TEXT.bytes().enumerate() {
        if b == b'\n' {
            if line == i {
                let text = ERRNO_TEXT.get(start..at)?;
                let space = text.bytes().position(|b| b == b' ')?;
                return Some((text.get(..space)?, text.get(space + 1..)?));
            }
            line += 1;
            start = at + 1;
        }
    }
    None
}

impl Errno {
    /// `errno` of the calling thread, as left by the last failed libc call.
    pub fn last() -> Errno {
        // SAFETY: musl's __errno_location returns a valid pointer to this thread's errno.
        Errno(unsafe { *libc::__errno_location() })
    }

    /// The symbolic name (`"ENOENT"`), or `"E?"` for numbers outside the small built-in table.
    pub fn name(self) -> &'static str {
        errno_entry(self.0).map_or("E?", |e| e.0)
    }

    /// A one-line description (`"No such file or directory"`), or `"Unknown error"`.
    pub fn text(self) -> &'static str {
        errno_entry(self.0).map_or("Unknown error", |e| e.1)
    }
}

impl fmt::Display for Errno {
    /// Formats as `<number> <description>`, the form of the manual's `(errno:2 No such file...)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.0, self.text())
    }
}

/// A libc return value: negative means failure with `errno` set.
fn cvt(r: c_int) -> Result<c_int, Errno> {
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(r)
    }
}

/// A libc `long` result (raw `syscall(2)`): negative means failure with `errno` set.
fn cvt_long(r: libc::c_long) -> Result<libc::c_long, Errno> {
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(r)
    }
}

/// A libc byte count: negative means failure with `errno` set.
fn cvt_size(r: isize) -> Result<usize, Errno> {
    usize::try_from(r).map_err(|_| Errno::last())
}

/// A raw system call result from the `syscalls` crate.
fn raw(r: Result<usize, syscalls::Errno>) -> Result<usize, Errno> {
    r.map_err(|e| Errno(e.into_raw()))
}

/// A raw system call that returns a new descriptor.
fn raw_fd(r: Result<usize, syscalls::Errno>) -> Result<Fd, Errno> {
    let n = raw(r)?;
    // The kernel hands out descriptors below RLIMIT_NOFILE, which fits a C int.
    let n = c_int::try_from(n).map_err(|_| Errno(libc::EOVERFLOW))?;
    Ok(Fd(n))
}

/// An `Err(EINVAL)`-style shortcut.
const fn err<T>(e: c_int) -> Result<T, Errno> {
    Err(Errno(e))
}

// ---------------------------------------------------------------------------------------------
// Descriptors, processes, command line, environment

/// An owned file descriptor: closed when dropped.
#[derive(Debug, PartialEq, Eq)]
pub struct Fd(c_int);

impl Fd {
    /// Takes ownership of the raw descriptor `fd` (it is closed when the `Fd` drops), for
    /// descriptors that come from somewhere this module does not see, such as an inherited one.
    pub fn from_raw(fd: c_int) -> Fd {
        Fd(fd)
    }

    /// The descriptor number, still owned by `self`.
    pub fn raw(&self) -> c_int {
        self.0
    }

    /// Gives up ownership and returns the number; the caller must close it.
    pub fn into_raw(self) -> c_int {
        let n = self.0;
        core::mem::forget(self);
        n
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: self owns the descriptor; nothing else closes it. Errors cannot be reported
        // from drop; use `close` to see them.
        unsafe { libc::close(self.0) };
    }
}

/// The directory descriptor argument of the `*at` calls: `None` is `AT_FDCWD`.
fn dirfd(dir: Option<&Fd>) -> c_int {
    dir.map_or(libc::AT_FDCWD, Fd::raw)
}

/// A C `int` argument (descriptor, flags) as a raw system call argument: the kernel reads the
/// low 32 bits only, so zero-extending keeps negative values such as `AT_FDCWD` intact.
fn fd_arg(n: c_int) -> usize {
    n.cast_unsigned() as usize // u32 widens
}

/// A process or thread id (a kernel `pid_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pid(pub i32);

impl Pid {
    /// Any child, as the `pid` argument of [`waitpid`].
    pub const ANY: Pid = Pid(-1);

    /// The id as a system call argument (sign-extended, as the kernel reads a `pid_t`).
    fn arg(self) -> usize {
        // Registers are at least 32 bits wide on every Linux ABI: i32 -> isize only widens.
        (self.0 as isize).cast_unsigned()
    }
}

/// The command line as the C runtime handed it over; every string lives as long as the process.
pub struct Args {
    argc: usize,
    argv: *const *const c_char,
}

impl Args {
    /// Number of arguments, `argv[0]` included.
    pub fn len(&self) -> usize {
        self.argc
    }

    /// Whether there is no argument at all (not even `argv[0]`).
    pub fn is_empty(&self) -> bool {
        self.argc == 0
    }

    /// Argument `i` as a C string, if it exists.
    pub fn get_cstr(&self, i: usize) -> Option<&'static CStr> {
        if i >= self.argc || self.argv.is_null() {
            return None;
        }
        // SAFETY: the C runtime guarantees argv[0..argc] are valid NUL-terminated strings that
        // live for the whole process, and i < argc was checked above.
        unsafe { Some(CStr::from_ptr(*self.argv.add(i))) }
    }

    /// Argument `i` as bytes (without the NUL), if it exists.
    pub fn get(&self, i: usize) -> Option<&'static [u8]> {
        self.get_cstr(i).map(CStr::to_bytes)
    }
}

/// The environment the C runtime handed over (`envp` of `main`); it lives as long as the process.
pub struct Env {
    envp: *const *const c_char,
}

impl Env {
    /// Wraps a NULL-terminated array of `NAME=value` strings.
    ///
    /// # Safety
    /// `envp` is null or points to a NULL-terminated array of valid NUL-terminated strings that
    /// are never modified or freed afterwards.
    pub unsafe fn from_raw(envp: *const *const c_char) -> Env {
        Env { envp }
    }

    /// Every `NAME=value` entry, in order.
    pub fn iter(&self) -> impl Iterator<Item = &'static CStr> + '_ {
        let mut i = 0;
        core::iter::from_fn(move || {
            if self.envp.is_null() {
                return None;
            }
            // SAFETY: envp is a NULL-terminated array (contract of from_raw), and i never passes
            // the NULL entry because iteration stops there.
            let p = unsafe { *self.envp.add(i) };
            if p.is_null() {
                return None;
            }
            i += 1;
            // SAFETY: every non-NULL entry is a valid NUL-terminated string (from_raw contract).
            Some(unsafe { CStr::from_ptr(p) })
        })
    }

    /// The value of the first variable called `name`, if set (`getenv(3)`).
    pub fn get(&self, name: &[u8]) -> Option<&'static [u8]> {
        self.iter().find_map(|e| {
            e.to_bytes()
                .strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(b"="))
        })
    }
}

/// A NULL-terminated array of at most `N - 1` C strings, as `execve` wants its argv and envp.
pub struct CStrArray<'a, const N: usize> {
    ptrs: [*const c_char; N],
    len: usize,
    life: PhantomData<&'a CStr>,
}

impl<'a, const N: usize> CStrArray<'a, N> {
    /// An empty array.
    pub const fn new() -> Self {
        CStrArray {
            ptrs: [core::ptr::null(); N],
            len: 0,
            life: PhantomData,
        }
    }

    /// Appends `s`. Errors: `E2BIG` when `N - 1` strings are already there (one slot is the NULL).
    // Out of line: inlined, it made the `syd` binary bigger (size budget).
    #[inline(never)]
    pub fn push(&mut self, s: &'a CStr) -> Result<(), Errno> {
        let next = self.len.checked_add(1).filter(|&n| n < N);
        match (next, self.ptrs.get_mut(self.len)) {
            (Some(n), Some(slot)) => {
                *slot = s.as_ptr();
                self.len = n;
                Ok(())
            }
            _ => err(libc::E2BIG),
        }
    }

    /// Number of strings pushed.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<const N: usize> Default for CStrArray<'_, N> {
    fn default() -> Self {
        Self::new()
    }
}

// ---------------------------------------------------------------------------------------------
// Files

/// Reads up to `buf.len()` bytes (`read(2)`); `Ok(0)` is end of file.
pub fn read(fd: &Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: buf is valid for writes of buf.len() bytes.
    cvt_size(unsafe { libc::read(fd.0, buf.as_mut_ptr().cast(), buf.len()) })
}

/// Writes all of `buf` to the raw descriptor `fd`, retrying short writes and `EINTR`.
fn write_all_raw(fd: c_int, mut buf: &[u8]) -> Result<(), Errno> {
    while !buf.is_empty() {
        // SAFETY: buf is valid for reads of buf.len() bytes.
        match cvt_size(unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) }) {
            Ok(0) => return err(libc::EIO),
            Ok(n) => buf = buf.get(n..).unwrap_or_default(),
            Err(Errno(libc::EINTR)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Writes all of `buf` (`write(2)`), retrying short writes and `EINTR`.
/// Errors: the errno of the failing write; `EIO` if the kernel accepts zero bytes.
pub fn write_all(fd: &Fd, buf: &[u8]) -> Result<(), Errno> {
    write_all_raw(fd.0, buf)
}

/// Closes `fd` and reports the error that dropping it would hide (`close(2)`).
pub fn close(fd: Fd) -> Result<(), Errno> {
    let n = fd.into_raw();
    // SAFETY: n was owned by fd, whose ownership ended in into_raw, so it is closed only here.
    cvt(unsafe { libc::close(n) }).map(drop)
}

/// Makes descriptor number `target` a copy of `fd` (`dup2(2)`), closing what was there; the copy
/// does not have close-on-exec. Used to set up the child's standard streams.
pub fn dup2(fd: &Fd, target: c_int) -> Result<(), Errno> {
    loop {
        // SAFETY: two integers; replacing `target` is the documented intent of the caller.
        match cvt(unsafe { libc::dup2(fd.0, target) }) {
            Err(Errno(libc::EINTR)) => {}
            r => return r.map(drop),
        }
    }
}

/// Opens `path` relative to the current directory (`open(2)`); `mode` applies with `O_CREAT`.
pub fn open(path: &CStr, flags: c_int, mode: u32) -> Result<Fd, Errno> {
    openat(None, path, flags, mode)
}

/// Opens `path` relative to `dir` (`None`: the current directory) (`openat(2)`).
pub fn openat(dir: Option<&Fd>, path: &CStr, flags: c_int, mode: u32) -> Result<Fd, Errno> {
    // SAFETY: path is NUL-terminated; the variadic mode is read as an unsigned int.
    cvt(unsafe { libc::openat(dirfd(dir), path.as_ptr(), flags, mode) }).map(Fd)
}

/// `struct open_how` of `openat2(2)` (linux/openat2.h); `libc` marks its own non-exhaustive.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenHow {
    /// `O_*` flags.
    pub flags: u64,
    /// Creation mode with `O_CREAT`/`O_TMPFILE`, else 0.
    pub mode: u64,
    /// `RESOLVE_*` flags.
    pub resolve: u64,
}
const _: () = assert!(size_of::<OpenHow>() == 24);

/// Opens `path` relative to `dir` with `RESOLVE_*` control (`openat2(2)`, Linux 5.6).
pub fn openat2(dir: Option<&Fd>, path: &CStr, how: &OpenHow) -> Result<Fd, Errno> {
    let how_ptr: *const OpenHow = how;
    // SAFETY: path is NUL-terminated and how points to a struct of the size passed.
    raw_fd(unsafe {
        syscalls::syscall4(
            Sysno::openat2,
            dirfd(dir).cast_unsigned() as usize, // the kernel reads an int: sign bits are ignored
            path.as_ptr() as usize,
            how_ptr as usize,
            size_of::<OpenHow>(),
        )
    })
}

/// Reads the target of the symlink `path` (relative to `dir`) into `buf` (`readlinkat(2)`) and
/// returns its length. No NUL is added; a length equal to `buf.len()` may mean truncation.
pub fn readlinkat(dir: Option<&Fd>, path: &CStr, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: path is NUL-terminated and buf is valid for writes of buf.len() bytes.
    cvt_size(unsafe {
        libc::readlinkat(
            dirfd(dir),
            path.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    })
}

/// A file time stamp (`struct timespec`): seconds and nanoseconds since the epoch. Ordered by
/// time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    /// Whole seconds.
    pub sec: i64,
    /// Nanoseconds, `0..1_000_000_000`.
    pub nsec: i64,
}

/// The few `struct stat` fields syd uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    /// Device of the file system.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
    /// File type and permission bits (`S_IF*` | mode).
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Size in bytes.
    pub size: i64,
    /// Last access.
    pub atime: Timestamp,
    /// Last modification of the content.
    pub mtime: Timestamp,
    /// Last change of the inode (content, owner, mode, times...).
    pub ctime: Timestamp,
}

impl Stat {
    // The nanosecond fields are `long`: the conversion only widens on 32-bit ABIs, and is the
    // identity on 64-bit ones.
    #[allow(clippy::useless_conversion)]
    // Out of line: inlined, it made the `syd` binary bigger (size budget).
    #[inline(never)]
    fn from(st: &libc::stat) -> Stat {
        // musl's dev_t, ino_t and off_t are 64 bits wide on every ABI.
        Stat {
            dev: st.st_dev,
            ino: st.st_ino,
            mode: st.st_mode,
            uid: st.st_uid,
            gid: st.st_gid,
            size: st.st_size,
            // time_t is 64 bits wide on every musl ABI (time64 since musl 1.2).
            atime: Timestamp {
                sec: st.st_atime,
                nsec: i64::from(st.st_atime_nsec),
            },
            mtime: Timestamp {
                sec: st.st_mtime,
                nsec: i64::from(st.st_mtime_nsec),
            },
            ctime: Timestamp {
                sec: st.st_ctime,
                nsec: i64::from(st.st_ctime_nsec),
            },
        }
    }

    /// The `S_IFMT` type bits (`S_IFDIR`, `S_IFREG`, ...).
    pub fn kind(&self) -> u32 {
        self.mode & libc::S_IFMT
    }
}

// fstat and fstatat are raw system calls where musl's struct stat is the kernel's (x86_64,
// aarch64, riscv64). Elsewhere musl's wrappers convert: the 32-bit ABIs' struct stat64 has 32-bit
// times where musl's has 64-bit ones, and mips64's kernel struct stat has its own padding
// (musl's arch/*/kstat.h).

/// Status of an open descriptor (`fstat(2)`).
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
pub fn fstat(fd: &Fd) -> Result<Stat, Errno> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: st is valid for writes of a struct stat, the kernel's layout on these ABIs.
    // (musl's wrapper adds a fallback for kernels older than 3.6.)
    raw(unsafe { syscalls::syscall2(Sysno::fstat, fd_arg(fd.0), st.as_mut_ptr() as usize) })?;
    // SAFETY: fstat succeeded, so the kernel filled st.
    Ok(Stat::from(unsafe { st.assume_init_ref() }))
}

/// Status of an open descriptor (`fstat(2)`).
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
)))]
pub fn fstat(fd: &Fd) -> Result<Stat, Errno> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: st is valid for writes of musl's struct stat, which its wrapper fills.
    cvt(unsafe { libc::fstat(fd.0, st.as_mut_ptr()) })?;
    // SAFETY: fstat succeeded, so st is filled.
    Ok(Stat::from(unsafe { st.assume_init_ref() }))
}

/// `newfstatat(2)`, which the `syscalls` crate calls `fstatat` on aarch64.
#[cfg(target_arch = "aarch64")]
const SYS_NEWFSTATAT: Sysno = Sysno::fstatat;
/// `newfstatat(2)`.
#[cfg(any(target_arch = "x86_64", target_arch = "riscv64"))]
const SYS_NEWFSTATAT: Sysno = Sysno::newfstatat;

/// Status of `path` relative to `dir` (`fstatat(2)`); `flags` take `AT_SYMLINK_NOFOLLOW` and
/// `AT_EMPTY_PATH`.
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
)))]
pub fn fstatat(dir: Option<&Fd>, path: &CStr, flags: c_int) -> Result<Stat, Errno> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: path is NUL-terminated and st is valid for writes of musl's struct stat.
    cvt(unsafe { libc::fstatat(dirfd(dir), path.as_ptr(), st.as_mut_ptr(), flags) })?;
    // SAFETY: fstatat succeeded, so st is filled.
    Ok(Stat::from(unsafe { st.assume_init_ref() }))
}

/// Status of `path` relative to `dir` (`fstatat(2)`); `flags` take `AT_SYMLINK_NOFOLLOW` and
/// `AT_EMPTY_PATH`.
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
pub fn fstatat(dir: Option<&Fd>, path: &CStr, flags: c_int) -> Result<Stat, Errno> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: path is NUL-terminated and st is valid for writes of a struct stat, the kernel's
    // layout on these ABIs.
    raw(unsafe {
        syscalls::syscall4(
            SYS_NEWFSTATAT,
            fd_arg(dirfd(dir)),
            path.as_ptr() as usize,
            st.as_mut_ptr() as usize,
            fd_arg(flags),
        )
    })?;
    // SAFETY: fstatat succeeded, so the kernel filled st.
    Ok(Stat::from(unsafe { st.assume_init_ref() }))
}

/// Sets the access and modification times of `path` relative to `dir` (`utimensat(2)`); `None`
/// leaves that time as it is (`UTIME_OMIT`). `flags` takes `AT_SYMLINK_NOFOLLOW`. The change time
/// becomes the current time. Errors: `EPERM` unless the caller owns the file or has
/// `CAP_FOWNER`; `EINVAL` for nanoseconds out of range; `EOVERFLOW` for a time this ABI's
/// `time_t` cannot hold.
// The conversions are the identity on 64-bit ABIs and can fail only on 32-bit ones.
#[allow(clippy::useless_conversion)]
pub fn utimensat(
    dir: Option<&Fd>,
    path: &CStr,
    atime: Option<Timestamp>,
    mtime: Option<Timestamp>,
    flags: c_int,
) -> Result<(), Errno> {
    let spec = |t: Option<Timestamp>| -> Result<libc::timespec, Errno> {
        // SAFETY: timespec is plain old data (integers, and padding on some ABIs): all-zero is a
        // valid value.
        let mut ts: libc::timespec = unsafe { MaybeUninit::zeroed().assume_init() };
        match t {
            None => ts.tv_nsec = libc::UTIME_OMIT,
            Some(t) => {
                ts.tv_sec = t.sec.try_into().map_err(|_| Errno(libc::EOVERFLOW))?;
                ts.tv_nsec = t.nsec.try_into().map_err(|_| Errno(libc::EINVAL))?;
            }
        }
        Ok(ts)
    };
    let times = [spec(atime)?, spec(mtime)?];
    utimensat_call(dirfd(dir), path, &times, flags)
}

/// The `utimensat(2)` call itself: raw on 64-bit ABIs, where musl's timespec is the kernel's.
#[cfg(target_pointer_width = "64")]
fn utimensat_call(
    dir: c_int,
    path: &CStr,
    times: &[libc::timespec; 2],
    flags: c_int,
) -> Result<(), Errno> {
    // SAFETY: path is NUL-terminated and times holds the two timespecs the call reads, in the
    // kernel's layout on 64-bit ABIs.
    raw(unsafe {
        syscalls::syscall4(
            Sysno::utimensat,
            fd_arg(dir),
            path.as_ptr() as usize,
            times.as_ptr() as usize,
            fd_arg(flags),
        )
    })
    .map(drop)
}

/// The `utimensat(2)` call itself: musl's wrapper on 32-bit ABIs, whose 64-bit time_t the plain
/// call lacks (musl picks utimensat_time64).
#[cfg(target_pointer_width = "32")]
fn utimensat_call(
    dir: c_int,
    path: &CStr,
    times: &[libc::timespec; 2],
    flags: c_int,
) -> Result<(), Errno> {
    // SAFETY: path is NUL-terminated and times holds the two timespecs the call reads.
    cvt(unsafe { libc::utimensat(dir, path.as_ptr(), times.as_ptr(), flags) }).map(drop)
}

/// Creates the directory `name` in `dir` with `mode` less the umask (`mkdirat(2)`).
pub fn mkdirat(dir: &Fd, name: &CStr, mode: u32) -> Result<(), Errno> {
    // SAFETY: name is NUL-terminated; the rest are integers.
    cvt(unsafe { libc::mkdirat(dir.0, name.as_ptr(), mode) }).map(drop)
}

/// Creates the node `name` in `dir` (`mknodat(2)`): `mode` gives type and permissions (less the
/// umask), `dev` the device number of a device node, as the kernel's 32-bit encoding.
pub fn mknodat(dir: &Fd, name: &CStr, mode: u32, dev: u32) -> Result<(), Errno> {
    // SAFETY: name is NUL-terminated; the rest are integers (the kernel reads dev as an
    // unsigned int, hence the raw call rather than libc's dev_t).
    raw(unsafe {
        syscalls::syscall4(
            Sysno::mknodat,
            fd_arg(dir.0),
            name.as_ptr() as usize,
            mode as usize, // u32 widens
            dev as usize,  // u32 widens
        )
    })
    .map(drop)
}

/// Removes the entry `name` of `dir` (`unlinkat(2)`); `flags` takes `AT_REMOVEDIR`.
pub fn unlinkat(dir: &Fd, name: &CStr, flags: c_int) -> Result<(), Errno> {
    // SAFETY: name is NUL-terminated; the rest are integers.
    cvt(unsafe { libc::unlinkat(dir.0, name.as_ptr(), flags) }).map(drop)
}

/// Renames `old` in `old_dir` to `new` in `new_dir` (`renameat2(2)`, Linux 3.15) with
/// `RENAME_*` `flags`.
pub fn renameat2(
    old_dir: &Fd,
    old: &CStr,
    new_dir: &Fd,
    new: &CStr,
    flags: u32,
) -> Result<(), Errno> {
    // SAFETY: both names are NUL-terminated; the rest are integers.
    raw(unsafe {
        syscalls::syscall5(
            Sysno::renameat2,
            fd_arg(old_dir.0),
            old.as_ptr() as usize,
            fd_arg(new_dir.0),
            new.as_ptr() as usize,
            flags as usize, // u32 widens
        )
    })
    .map(drop)
}

/// Makes `new` in `new_dir` a hard link to `old` relative to `old_dir` (`None`: the current
/// directory) (`linkat(2)`); `flags` takes `AT_SYMLINK_FOLLOW`, `AT_EMPTY_PATH`.
pub fn linkat(
    old_dir: Option<&Fd>,
    old: &CStr,
    new_dir: &Fd,
    new: &CStr,
    flags: c_int,
) -> Result<(), Errno> {
    // SAFETY: both names are NUL-terminated; the rest are integers.
    cvt(unsafe { libc::linkat(dirfd(old_dir), old.as_ptr(), new_dir.0, new.as_ptr(), flags) })
        .map(drop)
}

/// Creates the symlink `name` in `dir` holding `target` (`symlinkat(2)`).
pub fn symlinkat(target: &CStr, dir: &Fd, name: &CStr) -> Result<(), Errno> {
    // SAFETY: both strings are NUL-terminated.
    cvt(unsafe { libc::symlinkat(target.as_ptr(), dir.0, name.as_ptr()) }).map(drop)
}

/// Changes the owner of `path` relative to `dir` (`fchownat(2)`); `u32::MAX` leaves an id as
/// it is; `flags` takes `AT_SYMLINK_NOFOLLOW`, `AT_EMPTY_PATH`.
pub fn fchownat(dir: &Fd, path: &CStr, uid: u32, gid: u32, flags: c_int) -> Result<(), Errno> {
    // SAFETY: path is NUL-terminated; the rest are integers.
    cvt(unsafe { libc::fchownat(dir.0, path.as_ptr(), uid, gid, flags) }).map(drop)
}

/// Changes the mode of `path` (the kernel's three-argument `fchmodat(2)` from the current
/// directory, which follows a final symlink, magic links included).
pub fn chmod_path(path: &CStr, mode: u32) -> Result<(), Errno> {
    // SAFETY: path is NUL-terminated; the rest are integers. The raw call: libc's fchmodat
    // may emulate flags the kernel lacks.
    raw(unsafe {
        syscalls::syscall3(
            Sysno::fchmodat,
            fd_arg(libc::AT_FDCWD),
            path.as_ptr() as usize,
            mode as usize, // u32 widens
        )
    })
    .map(drop)
}

/// Sets the size of the file `path` (`truncate(2)`); a final symlink, magic links included,
/// is followed. Errors: `EINVAL` for a negative length, and those of the kernel.
pub fn truncate(path: &CStr, len: i64) -> Result<(), Errno> {
    // SAFETY: path is NUL-terminated; len is an integer (off_t is 64 bits under musl).
    cvt(unsafe { libc::truncate(path.as_ptr(), len) }).map(drop)
}

/// Sets the access and modification times (`utimensat(2)` with the kernel's 64-bit timespec,
/// `[[sec, nsec]; 2]`, `UTIME_NOW`/`UTIME_OMIT` as nsec): of `path` relative to `dir` (`None`:
/// the current directory), or of `dir` itself when `path` is `None`; `None` times mean "now".
/// `flags` takes `AT_SYMLINK_NOFOLLOW`, `AT_EMPTY_PATH`.
pub fn utimensat_raw(
    dir: Option<&Fd>,
    path: Option<&CStr>,
    times: Option<&[[i64; 2]; 2]>,
    flags: c_int,
) -> Result<(), Errno> {
    #[cfg(target_pointer_width = "64")]
    let nr = Sysno::utimensat;
    #[cfg(target_pointer_width = "32")]
    let nr = Sysno::utimensat_time64;
    let p = path.map_or(0, |p| p.as_ptr() as usize);
    let t = times.map_or(0, |t| t.as_ptr() as usize);
    // SAFETY: path is NUL-terminated or NULL (the call then acts on dir), times is NULL or two
    // `struct __kernel_timespec` (two i64 each) that live for the call.
    raw(unsafe { syscalls::syscall4(nr, fd_arg(dirfd(dir)), p, t, fd_arg(flags)) }).map(drop)
}

/// Sets the extended attribute `name` of `path` to `value` (`setxattr(2)`, following a final
/// symlink, magic links included); `flags` takes `XATTR_CREATE`, `XATTR_REPLACE`.
pub fn setxattr(path: &CStr, name: &CStr, value: &[u8], flags: c_int) -> Result<(), Errno> {
    // SAFETY: path and name are NUL-terminated and value is valid for value.len() bytes.
    cvt(unsafe {
        libc::setxattr(
            path.as_ptr(),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            flags,
        )
    })
    .map(drop)
}

/// Removes the extended attribute `name` of `path` (`removexattr(2)`, following a final
/// symlink, magic links included).
pub fn removexattr(path: &CStr, name: &CStr) -> Result<(), Errno> {
    // SAFETY: path and name are NUL-terminated.
    cvt(unsafe { libc::removexattr(path.as_ptr(), name.as_ptr()) }).map(drop)
}

/// The type of the file system that holds `path` (`statfs(2)`'s `f_type`: a `*_SUPER_MAGIC` of
/// linux/magic.h, such as `0x9fa0` for procfs). A symlink at the end of `path` is followed.
// `f_type` is an unsigned long: the conversion widens on 32-bit ABIs, the identity on 64-bit ones.
#[allow(clippy::useless_conversion)]
pub fn statfs_type(path: &CStr) -> Result<u64, Errno> {
    let mut s = MaybeUninit::<libc::statfs>::uninit();
    // SAFETY: path is NUL-terminated and s is valid for writes of a struct statfs.
    cvt(unsafe { libc::statfs(path.as_ptr(), s.as_mut_ptr()) })?;
    // SAFETY: statfs succeeded, so the kernel filled s.
    let t = unsafe { s.assume_init_ref() }.f_type;
    // f_type is a magic number (c_ulong or, on some ABIs, a signed word): reinterpreting its
    // bits is the point.
    #[allow(clippy::cast_sign_loss, clippy::unnecessary_cast)]
    Ok(t as u64)
}

/// Reads at offset `off` without moving the file position (`pread(2)`); used on `/proc/PID/mem`.
/// Errors: `EINVAL` for an offset above `i64::MAX`.
pub fn pread(fd: &Fd, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
    let off = i64::try_from(off).map_err(|_| Errno(libc::EINVAL))?;
    // SAFETY: buf is valid for writes of buf.len() bytes.
    cvt_size(unsafe { libc::pread(fd.0, buf.as_mut_ptr().cast(), buf.len(), off) })
}

/// Writes at offset `off` without moving the file position (`pwrite(2)`).
/// Errors: `EINVAL` for an offset above `i64::MAX`.
pub fn pwrite(fd: &Fd, buf: &[u8], off: u64) -> Result<usize, Errno> {
    let off = i64::try_from(off).map_err(|_| Errno(libc::EINVAL))?;
    // SAFETY: buf is valid for reads of buf.len() bytes.
    cvt_size(unsafe { libc::pwrite(fd.0, buf.as_ptr().cast(), buf.len(), off) })
}

/// A pipe (`pipe2(2)`): `(read end, write end)`. `flags`: `O_CLOEXEC`, `O_NONBLOCK`.
pub fn pipe2(flags: c_int) -> Result<(Fd, Fd), Errno> {
    let mut fds = [-1; 2];
    // SAFETY: fds has room for the two descriptors pipe2 writes.
    raw(unsafe { syscalls::syscall2(Sysno::pipe2, fds.as_mut_ptr() as usize, fd_arg(flags)) })?;
    let [r, w] = fds;
    Ok((Fd(r), Fd(w)))
}

/// A connected pair of `AF_UNIX` sockets (`socketpair(2)`); `ty` is `SOCK_STREAM` etc., or-ed
/// with `SOCK_CLOEXEC` as wanted.
pub fn socketpair(ty: c_int) -> Result<(Fd, Fd), Errno> {
    let mut fds = [-1; 2];
    // SAFETY: fds has room for the two descriptors socketpair writes.
    raw(unsafe {
        syscalls::syscall4(
            Sysno::socketpair,
            fd_arg(libc::AF_UNIX),
            fd_arg(ty),
            0,
            fds.as_mut_ptr() as usize,
        )
    })?;
    let [a, b] = fds;
    Ok((Fd(a), Fd(b)))
}

/// `SOL_SOCKET`: 0xffff on MIPS (arch/mips/include/uapi/asm/socket.h). libc 0.2.191 gives mips64
/// the generic 1 (its asm/socket.h selection names mips twice and misses mips64), and the kernel
/// silently drops a control message of another level: no descriptor would ever pass.
#[cfg(target_arch = "mips64")]
const SOL_SOCKET: c_int = 0xffff;
#[cfg(not(target_arch = "mips64"))]
const SOL_SOCKET: c_int = libc::SOL_SOCKET;

/// Control buffer for exactly one `SCM_RIGHTS` descriptor, aligned like `struct cmsghdr`.
#[repr(C, align(8))]
struct CmsgOneFd([u8; 32]);

// SAFETY: CMSG_SPACE/CMSG_LEN are pure arithmetic on the length.
const CMSG_FD_SPACE: u32 = unsafe { libc::CMSG_SPACE(size_of::<c_int>() as u32) };
// SAFETY: as above.
const CMSG_FD_LEN: u32 = unsafe { libc::CMSG_LEN(size_of::<c_int>() as u32) };
const _: () = assert!(CMSG_FD_SPACE as usize <= size_of::<CmsgOneFd>());

/// A zeroed `msghdr` describing one data iovec and the control buffer `ctl`.
fn msghdr_one(iov: &mut libc::iovec, ctl: &mut CmsgOneFd) -> libc::msghdr {
    // SAFETY: msghdr is plain old data (integers and pointers); all-zero is a valid value.
    let mut msg: libc::msghdr = unsafe { MaybeUninit::zeroed().assume_init() };
    msg.msg_iov = iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl.0.as_mut_ptr().cast();
    // CMSG_FD_SPACE is at most 32 (asserted above): it fits every socklen_t/size_t.
    msg.msg_controllen = CMSG_FD_SPACE as _;
    msg
}

/// Sends the descriptor `fd` over the unix socket `sock` with one data byte (`SCM_RIGHTS`).
pub fn send_fd(sock: &Fd, fd: &Fd) -> Result<(), Errno> {
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let mut ctl = CmsgOneFd([0; 32]);
    let msg = msghdr_one(&mut iov, &mut ctl);
    // SAFETY: msg's control buffer holds CMSG_FD_SPACE bytes, so the first header exists, is
    // aligned (align(8)) and has room for one int after it.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        if c.is_null() {
            return err(libc::EINVAL);
        }
        (*c).cmsg_level = SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = CMSG_FD_LEN as _; // at most 32: fits every ABI's cmsg_len type
        libc::CMSG_DATA(c).cast::<c_int>().write_unaligned(fd.0);
    }
    loop {
        let msg_ptr: *const libc::msghdr = &msg;
        // SAFETY: msg and everything it points to live until the call returns. Its padding and
        // the control header's are zero (msghdr_one, a zeroed buffer), which is why musl's
        // wrapper copies both on 64-bit ABIs.
        match raw(unsafe {
            syscalls::syscall3(
                Sysno::sendmsg,
                fd_arg(sock.0),
                msg_ptr as usize,
                fd_arg(libc::MSG_NOSIGNAL),
            )
        }) {
            Ok(_) => return Ok(()),
            Err(Errno(libc::EINTR)) => {}
            Err(e) => return Err(e),
        }
    }
}

/// `recvmsg(2)` with `MSG_CMSG_CLOEXEC`, retried on `EINTR`; returns the data bytes read.
fn recvmsg_cloexec(sock: &Fd, msg: &mut libc::msghdr) -> Result<usize, Errno> {
    let msg_ptr: *mut libc::msghdr = msg;
    loop {
        // SAFETY: msg's buffers are valid for writes of the lengths it declares. musl's msghdr
        // is the kernel's, with each 32-bit length paired with a zero padding word (msghdr_one)
        // on the side the byte order needs, so the kernel's size_t fields read and write the
        // right values.
        match raw(unsafe {
            syscalls::syscall3(
                Sysno::recvmsg,
                fd_arg(sock.0),
                msg_ptr as usize,
                fd_arg(libc::MSG_CMSG_CLOEXEC),
            )
        }) {
            Err(Errno(libc::EINTR)) => {}
            r => return r,
        }
    }
}

/// Receives one descriptor sent by [`send_fd`] (close-on-exec set). Errors: `EPROTO` if the
/// peer closed the socket or sent no (or a truncated) `SCM_RIGHTS` message.
pub fn recv_fd(sock: &Fd) -> Result<Fd, Errno> {
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let mut ctl = CmsgOneFd([0; 32]);
    let mut msg = msghdr_one(&mut iov, &mut ctl);
    let n = recvmsg_cloexec(sock, &mut msg)?;
    // SAFETY: recvmsg set msg_controllen to the bytes it wrote; CMSG_FIRSTHDR checks it before
    // returning a header, and cmsg_len is checked before the data is read.
    let fd = unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        if c.is_null()
            || (*c).cmsg_level != SOL_SOCKET
            || (*c).cmsg_type != libc::SCM_RIGHTS
            || (*c).cmsg_len as usize != CMSG_FD_LEN as usize
        // widen both to compare
        {
            None
        } else {
            Some(Fd(libc::CMSG_DATA(c).cast::<c_int>().read_unaligned()))
        }
    };
    match fd {
        Some(fd) if n == 1 && msg.msg_flags & libc::MSG_CTRUNC == 0 => Ok(fd),
        _ => err(libc::EPROTO),
    }
}

// ---------------------------------------------------------------------------------------------
// Processes

/// Which side of a [`fork`] this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fork {
    /// The new process.
    Child,
    /// The calling process; the child has this id.
    Parent(Pid),
}

// musl's `_Fork` (1.2.2): the process-creating part of its `fork`, which also resets the
// child's thread state, without the `pthread_atfork` handlers and the locks taken around it.
// Those exist for multi-threaded callers, and syd has one thread, so nothing can hold a libc
// lock while it forks; leaving them out keeps 2 KiB of lock code out of the binary.
extern "C" {
    fn _Fork() -> libc::pid_t;
}

/// Creates a child process (`fork(2)` through musl's `_Fork`, which keeps its thread state
/// consistent). syd is single-threaded; the child may only make raw system calls and `exit`.
pub fn fork() -> Result<Fork, Errno> {
    // SAFETY: _Fork has no memory-safety preconditions; the doc line states what the child may do.
    match cvt(unsafe { _Fork() })? {
        0 => Ok(Fork::Child),
        pid => Ok(Fork::Parent(Pid(pid))),
    }
}

/// How a child ended (or changed state), decoded from a `wait` status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// `exit(code)`.
    Exited(i32),
    /// Killed by this signal.
    Signaled(i32),
    /// Any other state change (stopped, continued), as the raw status word.
    Other(i32),
}

/// Whether [`waitpid`] blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Wait until a child changes state.
    Block,
    /// Return `None` at once if no child has changed state (`WNOHANG`).
    NoHang,
}

/// Waits for the child `pid` ([`Pid::ANY`]: any child) (`waitpid(2)`). Returns the child and how
/// it ended, or `None` with [`Wait::NoHang`] when nothing happened yet. `EINTR` is retried.
pub fn waitpid(pid: Pid, wait: Wait) -> Result<Option<(Pid, Status)>, Errno> {
    let flags = match wait {
        Wait::Block => 0,
        Wait::NoHang => libc::WNOHANG,
    };
    let mut status: c_int = 0;
    let got = loop {
        // SAFETY: status is valid for writes of an int.
        match cvt(unsafe { libc::waitpid(pid.0, &mut status, flags) }) {
            Err(Errno(libc::EINTR)) => {}
            r => break r?,
        }
    };
    if got == 0 {
        return Ok(None);
    }
    let st = if libc::WIFEXITED(status) {
        Status::Exited(libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        Status::Signaled(libc::WTERMSIG(status))
    } else {
        Status::Other(status)
    };
    Ok(Some((Pid(got), st)))
}

/// Sends signal `sig` to `pid` (`kill(2)`).
pub fn kill(pid: Pid, sig: c_int) -> Result<(), Errno> {
    // SAFETY: two integers, no pointers.
    cvt(unsafe { libc::kill(pid.0, sig) }).map(drop)
}

/// Replaces the process image (`execve(2)`); returns only on failure, with its errno.
pub fn execve<const A: usize, const E: usize>(
    path: &CStr,
    argv: &CStrArray<'_, A>,
    envp: &CStrArray<'_, E>,
) -> Errno {
    // SAFETY: path is NUL-terminated; CStrArray keeps a NULL after its last entry (push leaves
    // one slot free) and each entry points to a C string borrowed for the array's lifetime.
    unsafe { libc::execve(path.as_ptr(), argv.ptrs.as_ptr(), envp.ptrs.as_ptr()) };
    Errno::last()
}

/// Ends the process at once with `code`, without running any exit handler (`_exit(2)`).
pub fn exit(code: i32) -> ! {
    // SAFETY: _exit takes an int and never returns.
    unsafe { libc::_exit(code) }
}

/// The caller's process id (`getpid(2)`, cannot fail).
pub fn getpid() -> Pid {
    // SAFETY: no arguments.
    Pid(unsafe { libc::getpid() })
}

/// The parent's process id (`getppid(2)`), as a raw system call so that an error injected by a
/// seccomp filter is seen as such.
pub fn getppid() -> Result<Pid, Errno> {
    // SAFETY: no arguments.
    let n = raw(unsafe { syscalls::syscall0(Sysno::getppid) })?;
    i32::try_from(n).map(Pid).map_err(|_| Errno(libc::ERANGE))
}

/// The caller's thread id (`gettid(2)`, cannot fail).
pub fn gettid() -> Pid {
    // SAFETY: no arguments.
    let n = unsafe { syscalls::raw_syscall!(Sysno::gettid) };
    Pid(i32::try_from(n).unwrap_or(-1))
}

/// Sets `no_new_privs` (`prctl(PR_SET_NO_NEW_PRIVS, 1)`): required to load a seccomp filter
/// without `CAP_SYS_ADMIN`, and inherited by every descendant.
pub fn set_no_new_privs() -> Result<(), Errno> {
    // SAFETY: integer arguments only.
    cvt(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) }).map(drop)
}

/// `CAP_SYS_PTRACE` (linux/capability.h).
pub const CAP_SYS_PTRACE: u32 = 19;

/// Removes capability `cap` from the bounding set (`prctl(PR_CAPBSET_DROP)`), so that no later
/// exec grants it. Errors: EPERM without `CAP_SETPCAP`, EINVAL for an unknown capability.
pub fn capbset_drop(cap: u32) -> Result<(), Errno> {
    // SAFETY: integer arguments only.
    cvt(unsafe { libc::prctl(libc::PR_CAPBSET_DROP, libc::c_ulong::from(cap), 0, 0, 0) }).map(drop)
}

/// Makes the process non-dumpable (`prctl(PR_SET_DUMPABLE, 0)`): no core dumps, and only root
/// may ptrace it or read its `/proc/PID/mem`.
pub fn set_not_dumpable() -> Result<(), Errno> {
    // SAFETY: integer arguments only.
    cvt(unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) }).map(drop)
}

/// Starts a new session (`setsid(2)`) and returns its id.
pub fn setsid() -> Result<Pid, Errno> {
    // SAFETY: no arguments.
    cvt(unsafe { libc::setsid() }).map(Pid)
}

/// Sets the file mode creation mask (`umask(2)`) and returns the previous one.
pub fn umask(mask: u32) -> u32 {
    // SAFETY: one integer argument.
    unsafe { libc::umask(mask) }
}

/// Changes the current directory (`chdir(2)`).
pub fn chdir(path: &CStr) -> Result<(), Errno> {
    // SAFETY: path is NUL-terminated.
    cvt(unsafe { libc::chdir(path.as_ptr()) }).map(drop)
}

/// Changes the root directory (`chroot(2)`); the caller then does `chdir("/")`.
pub fn chroot(path: &CStr) -> Result<(), Errno> {
    // SAFETY: path is NUL-terminated.
    cvt(unsafe { libc::chroot(path.as_ptr()) }).map(drop)
}

/// Creates the directory `path` with `mode` less the umask (`mkdir(2)`).
pub fn mkdir(path: &CStr, mode: u32) -> Result<(), Errno> {
    // SAFETY: path is NUL-terminated; mode is an integer.
    cvt(unsafe { libc::mkdir(path.as_ptr(), mode) }).map(drop)
}

/// Creates the symbolic link `path` pointing to `target` (`symlink(2)`).
pub fn symlink(target: &CStr, path: &CStr) -> Result<(), Errno> {
    // SAFETY: both strings are NUL-terminated.
    cvt(unsafe { libc::symlink(target.as_ptr(), path.as_ptr()) }).map(drop)
}

/// Fills `buf` with random bytes from the kernel (`getrandom(2)`, no flags); returns how many.
pub fn getrandom(buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: buf is valid for writes of buf.len() bytes.
    cvt_size(unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) })
}

/// The real user id.
pub fn getuid() -> u32 {
    // SAFETY: no arguments.
    unsafe { libc::getuid() }
}

// The three calls below are the raw system calls, which change the calling thread's
// credentials only: musl's wrappers signal every thread to do the same (__synccall, 2 KiB of
// code with its semaphores). Their one caller is the single-threaded child before execve.

/// `setuid(2)` and `setgid(2)` with 32-bit ids: on i386 and arm the plain numbers are the legacy
/// calls with 16-bit ids (arch/x86/entry/syscalls/syscall_32.tbl, arch/arm/tools/syscall.tbl).
#[cfg(any(target_arch = "x86", target_arch = "arm"))]
const SYS_SETUID_GID: (Sysno, Sysno) = (Sysno::setuid32, Sysno::setgid32);
/// `setuid(2)` and `setgid(2)`.
#[cfg(not(any(target_arch = "x86", target_arch = "arm")))]
const SYS_SETUID_GID: (Sysno, Sysno) = (Sysno::setuid, Sysno::setgid);

/// Sets the real, effective and saved user id of the calling thread (`setuid(2)`).
pub fn setuid(uid: u32) -> Result<(), Errno> {
    // SAFETY: one integer argument.
    raw(unsafe { syscalls::syscall1(SYS_SETUID_GID.0, uid as usize) }).map(drop)
    // u32 widens
}

/// Sets the real, effective and saved group id of the calling thread (`setgid(2)`).
pub fn setgid(gid: u32) -> Result<(), Errno> {
    // SAFETY: one integer argument.
    raw(unsafe { syscalls::syscall1(SYS_SETUID_GID.1, gid as usize) }).map(drop)
    // u32 widens
}

/// Replaces the supplementary groups of the calling thread (`setgroups(2)`); `&[]` drops them
/// all.
pub fn setgroups(groups: &[u32]) -> Result<(), Errno> {
    setgroups_thread(groups)
}

/// `clock_gettime(2)` with a 64-bit `time_t`: the `_time64` call on 32-bit ABIs.
#[cfg(target_pointer_width = "32")]
const SYS_CLOCK_GETTIME: Sysno = Sysno::clock_gettime64;
/// `clock_gettime(2)`.
#[cfg(target_pointer_width = "64")]
const SYS_CLOCK_GETTIME: Sysno = Sysno::clock_gettime;

/// Seconds since the epoch (`clock_gettime(CLOCK_REALTIME)`), through the system call rather
/// than musl's vDSO lookup (700 bytes of code): syd reads the clock for log lines only.
pub fn realtime_secs() -> Result<i64, Errno> {
    let mut ts = MaybeUninit::<libc::timespec>::uninit();
    // SAFETY: ts is valid for writes of musl's struct timespec: a 64-bit tv_sec on every ABI,
    // and tv_nsec with its padding word on 32-bit ones, which is the kernel's __kernel_timespec
    // as SYS_CLOCK_GETTIME fills it.
    raw(unsafe {
        syscalls::syscall2(
            SYS_CLOCK_GETTIME,
            libc::CLOCK_REALTIME.cast_unsigned() as usize, // 0: widens
            ts.as_mut_ptr() as usize,
        )
    })?;
    // SAFETY: clock_gettime succeeded, so it filled ts.
    Ok(unsafe { ts.assume_init_ref() }.tv_sec)
}

/// The kernel's identification (`uname(2)`), each field without its NUL.
pub struct Uname(libc::utsname);

/// The bytes of a `utsname` field up to its first NUL.
fn uts_field(f: &[c_char]) -> &[u8] {
    // SAFETY: c_char and u8 have the same size and alignment, and f's memory stays borrowed.
    let bytes = unsafe { core::slice::from_raw_parts(f.as_ptr().cast::<u8>(), f.len()) };
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    bytes.get(..end).unwrap_or_default()
}

impl Uname {
    /// Operating system name (`Linux`).
    pub fn sysname(&self) -> &[u8] {
        uts_field(&self.0.sysname)
    }
    /// Host name.
    pub fn nodename(&self) -> &[u8] {
        uts_field(&self.0.nodename)
    }
    /// Kernel release (`6.1.0-13-amd64`).
    pub fn release(&self) -> &[u8] {
        uts_field(&self.0.release)
    }
    /// Kernel build version (`#1 SMP PREEMPT_DYNAMIC ...`).
    pub fn version(&self) -> &[u8] {
        uts_field(&self.0.version)
    }
    /// Hardware name (`x86_64`).
    pub fn machine(&self) -> &[u8] {
        uts_field(&self.0.machine)
    }
}

/// Identifies the running kernel (`uname(2)`).
pub fn uname() -> Result<Uname, Errno> {
    let mut u = MaybeUninit::<libc::utsname>::uninit();
    // SAFETY: u is valid for writes of a struct utsname.
    cvt(unsafe { libc::uname(u.as_mut_ptr()) })?;
    // SAFETY: uname succeeded, so the kernel filled every field.
    Ok(Uname(unsafe { u.assume_init() }))
}

// ---------------------------------------------------------------------------------------------
// Polling

/// Waits until one of `fds` is ready or `timeout_ms` pass (`poll(2)`; negative: no limit).
/// Returns how many entries have events in their `revents`.
pub fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> Result<usize, Errno> {
    let n = libc::nfds_t::try_from(fds.len()).map_err(|_| Errno(libc::EINVAL))?;
    // SAFETY: fds is valid for reads and writes of n pollfd entries.
    let ready = cvt(unsafe { libc::poll(fds.as_mut_ptr(), n, timeout_ms) })?;
    Ok(usize::try_from(ready).unwrap_or(0))
}

/// Waits until `fd` is readable, hung up or in error, for at most `timeout_ms`.
/// Returns `false` on timeout.
pub fn poll_in(fd: &Fd, timeout_ms: i32) -> Result<bool, Errno> {
    let mut p = [libc::pollfd {
        fd: fd.0,
        events: libc::POLLIN,
        revents: 0,
    }];
    Ok(poll(&mut p, timeout_ms)? > 0)
}

/// Sleeps for `ms` milliseconds (a `poll(2)` with no descriptor); a signal may end it early.
pub fn sleep_ms(ms: i32) {
    let _ = poll(&mut [], ms);
}

// ---------------------------------------------------------------------------------------------
// pidfd

/// A descriptor that refers to process `pid` without pid-reuse races (`pidfd_open(2)`, 5.3).
pub fn pidfd_open(pid: Pid) -> Result<Fd, Errno> {
    // SAFETY: integer arguments only.
    raw_fd(unsafe { syscalls::syscall2(Sysno::pidfd_open, pid.arg(), 0) })
}

/// Duplicates descriptor `target` of the process behind `pidfd` into the caller
/// (`pidfd_getfd(2)`, 5.6; close-on-exec set). Needs ptrace access to that process.
pub fn pidfd_getfd(pidfd: &Fd, target: c_int) -> Result<Fd, Errno> {
    // SAFETY: integer arguments only.
    raw_fd(unsafe {
        syscalls::syscall3(
            Sysno::pidfd_getfd,
            pidfd.0.cast_unsigned() as usize, // an int the kernel reads as int
            target.cast_unsigned() as usize,
            0,
        )
    })
}

/// Sends `sig` to the process behind `pidfd` (`pidfd_send_signal(2)`, 5.1).
pub fn pidfd_send_signal(pidfd: &Fd, sig: c_int) -> Result<(), Errno> {
    // SAFETY: a null siginfo means "as kill(2)"; the rest are integers.
    raw(unsafe {
        syscalls::syscall4(
            Sysno::pidfd_send_signal,
            pidfd.0.cast_unsigned() as usize,
            sig.cast_unsigned() as usize,
            0,
            0,
        )
    })
    .map(drop)
}

// ---------------------------------------------------------------------------------------------
// Tracee memory

/// Converts a remote address; `EFAULT` if it does not fit this ABI's pointers.
fn remote_iov(addr: u64, len: usize) -> Result<libc::iovec, Errno> {
    let a = usize::try_from(addr).map_err(|_| Errno(libc::EFAULT))?;
    Ok(libc::iovec {
        iov_base: a as *mut c_void,
        iov_len: len,
    })
}

/// Reads `buf.len()` bytes at `addr` in process `pid` (`process_vm_readv(2)`,
/// `CONFIG_CROSS_MEMORY_ATTACH`). Returns the count read, which is short when an unmapped page is
/// reached. Needs ptrace access to `pid`.
pub fn process_vm_readv(pid: Pid, buf: &mut [u8], addr: u64) -> Result<usize, Errno> {
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let remote = remote_iov(addr, buf.len())?;
    // SAFETY: local describes buf, valid for writes; remote is only read by the kernel in the
    // other process's address space, where a bad address yields EFAULT.
    raw(unsafe {
        syscalls::syscall6(
            Sysno::process_vm_readv,
            pid.arg(),
            &local as *const libc::iovec as usize,
            1,
            &remote as *const libc::iovec as usize,
            1,
            0,
        )
    })
}

/// Writes `buf` at `addr` in process `pid` (`process_vm_writev(2)`). Returns the count written.
pub fn process_vm_writev(pid: Pid, buf: &[u8], addr: u64) -> Result<usize, Errno> {
    let local = libc::iovec {
        iov_base: buf.as_ptr().cast_mut().cast(), // the kernel only reads the local side
        iov_len: buf.len(),
    };
    let remote = remote_iov(addr, buf.len())?;
    // SAFETY: local describes buf, valid for reads; remote lives in the other process.
    raw(unsafe {
        syscalls::syscall6(
            Sysno::process_vm_writev,
            pid.arg(),
            &local as *const libc::iovec as usize,
            1,
            &remote as *const libc::iovec as usize,
            1,
            0,
        )
    })
}

// ---------------------------------------------------------------------------------------------
// seccomp

/// `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP` (linux/seccomp.h, 6.6): missing from `libc`.
pub const USER_NOTIF_FD_SYNC_WAKE_UP: u32 = 1;

// Layouts fixed by linux/seccomp.h; a mismatch would make the kernel reject every ioctl.
const _: () = assert!(size_of::<libc::seccomp_notif>() == 80);
const _: () = assert!(size_of::<libc::seccomp_notif_resp>() == 24);
const _: () = assert!(size_of::<libc::seccomp_notif_addfd>() == 24);
const _: () = assert!(size_of::<libc::seccomp_notif_sizes>() == 6);
const _: () = assert!(size_of::<libc::sock_filter>() == 8);

/// Loads the filter `prog` (`seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog)`). With
/// `SECCOMP_FILTER_FLAG_NEW_LISTENER` in `flags`, returns the notification listener.
/// Needs `no_new_privs` or `CAP_SYS_ADMIN`. Errors: `EINVAL` for more than 65535 instructions
/// (the kernel's own limit is 4096), flags above 32 bits, or flags the kernel does not know.
pub fn seccomp_set_mode_filter(
    flags: libc::c_ulong,
    prog: &[libc::sock_filter],
) -> Result<Option<Fd>, Errno> {
    // The kernel reads flags as an unsigned int: refuse bits it would silently drop.
    let flags32 = u32::try_from(flags).map_err(|_| Errno(libc::EINVAL))?;
    let fprog = libc::sock_fprog {
        len: u16::try_from(prog.len()).map_err(|_| Errno(libc::EINVAL))?,
        filter: prog.as_ptr().cast_mut(), // the kernel copies the program, never writes it
    };
    // SAFETY: fprog points to prog.len() instructions that live across the call.
    let r = raw(unsafe {
        syscalls::syscall3(
            Sysno::seccomp,
            libc::SECCOMP_SET_MODE_FILTER as usize, // u32 -> usize widens on every Linux ABI
            flags32 as usize,                       // u32 -> usize widens on every Linux ABI
            &fprog as *const libc::sock_fprog as usize,
        )
    })?;
    if flags & libc::SECCOMP_FILTER_FLAG_NEW_LISTENER == 0 {
        return Ok(None);
    }
    let n = c_int::try_from(r).map_err(|_| Errno(libc::EOVERFLOW))?;
    Ok(Some(Fd(n)))
}

/// The kernel's sizes of the notification structs (`SECCOMP_GET_NOTIF_SIZES`, 5.0).
pub fn seccomp_get_notif_sizes() -> Result<libc::seccomp_notif_sizes, Errno> {
    let mut s = libc::seccomp_notif_sizes {
        seccomp_notif: 0,
        seccomp_notif_resp: 0,
        seccomp_data: 0,
    };
    let p: *mut libc::seccomp_notif_sizes = &mut s;
    // SAFETY: p points to a writable struct seccomp_notif_sizes.
    raw(unsafe {
        syscalls::syscall3(
            Sysno::seccomp,
            libc::SECCOMP_GET_NOTIF_SIZES as usize,
            0,
            p as usize,
        )
    })?;
    Ok(s)
}

/// The id of one user notification (`seccomp_notif.id`), valid until answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotifId(pub u64);

/// One intercepted system call (`struct seccomp_notif`). Every field comes from the kernel, but
/// `args` are the tracee's raw registers: hostile values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Notif {
    /// Answer with this id.
    pub id: NotifId,
    /// Thread that made the call (in the listener's pid namespace).
    pub pid: Pid,
    /// System call number (`seccomp_data.nr`).
    pub nr: i32,
    /// `AUDIT_ARCH_*` of the call (`seccomp_data.arch`).
    pub arch: u32,
    /// Instruction pointer at the call.
    pub ip: u64,
    /// The six raw arguments.
    pub args: [u64; 6],
}

fn ioctl_ptr<T>(fd: &Fd, req: libc::Ioctl, arg: *mut T) -> Result<c_int, Errno> {
    loop {
        // SAFETY: every caller passes the request whose struct type is T, and arg points to a
        // valid T for the call's duration.
        match cvt(unsafe { libc::ioctl(fd.0, req, arg) }) {
            Err(Errno(libc::EINTR)) => {}
            r => return r,
        }
    }
}

/// Receives the next notification (`SECCOMP_IOCTL_NOTIF_RECV`); blocks unless [`poll_in`] said
/// the listener is readable. Errors: `ENOENT` if the caller died before it was received.
pub fn notif_recv(listener: &Fd) -> Result<Notif, Errno> {
    // SAFETY: seccomp_notif is plain old data; the kernel demands it zeroed (EINVAL otherwise).
    let mut n: libc::seccomp_notif = unsafe { MaybeUninit::zeroed().assume_init() };
    ioctl_ptr(listener, libc::SECCOMP_IOCTL_NOTIF_RECV, &mut n)?;
    Ok(Notif {
        id: NotifId(n.id),
        pid: Pid(n.pid.cast_signed()),
        nr: n.data.nr,
        arch: n.data.arch,
        ip: n.data.instruction_pointer,
        args: n.data.args,
    })
}

/// The answer to a notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Run the call as issued (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`, 5.5). Each use needs a
    /// `// SECURITY:` comment: the tracee may change the arguments after they were checked.
    Continue,
    /// Fail the call with this errno without running it.
    Errno(Errno),
    /// Succeed without running the call, returning this value.
    Value(i64),
}

/// Answers notification `id` (`SECCOMP_IOCTL_NOTIF_SEND`). Errors: `ENOENT` if the call is gone
/// (the tracee was interrupted or died); `EINPROGRESS` if it was already answered and the tracee
/// has not resumed yet; `EINVAL` for `Continue` before Linux 5.5.
pub fn notif_send(listener: &Fd, id: NotifId, answer: Answer) -> Result<(), Errno> {
    let mut resp = libc::seccomp_notif_resp {
        id: id.0,
        val: 0,
        error: 0,
        flags: 0,
    };
    match answer {
        // The flag is 1 (linux/seccomp.h): it fits the u32 field.
        Answer::Continue => resp.flags = libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32,
        Answer::Errno(e) => resp.error = e.0.saturating_neg(),
        Answer::Value(v) => resp.val = v,
    }
    ioctl_ptr(listener, libc::SECCOMP_IOCTL_NOTIF_SEND, &mut resp).map(drop)
}

/// Checks that notification `id` is still pending (`SECCOMP_IOCTL_NOTIF_ID_VALID`): call it after
/// reading tracee memory and before trusting what was read. Errors: `ENOENT` if it is not.
pub fn notif_id_valid(listener: &Fd, id: NotifId) -> Result<(), Errno> {
    let mut raw_id = id.0;
    ioctl_ptr(listener, libc::SECCOMP_IOCTL_NOTIF_ID_VALID, &mut raw_id).map(drop)
}

/// How [`notif_addfd`] places the descriptor in the tracee.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddFd {
    /// At the lowest free number; the notification stays pending.
    Install,
    /// At exactly this number, replacing what is there (`SECCOMP_ADDFD_FLAG_SETFD`); still pending.
    InstallAt(u32),
    /// At the lowest free number, and answer the call with that number in the same step
    /// (`SECCOMP_ADDFD_FLAG_SEND`, 5.14).
    Send,
    /// At exactly this number, and answer the call with it (`SETFD | SEND`).
    SendAt(u32),
}

/// Installs a copy of `src` into the tracee of notification `id` (`SECCOMP_IOCTL_NOTIF_ADDFD`,
/// 5.9) and returns its number there. `newfd_flags` takes `O_CLOEXEC`.
pub fn notif_addfd(
    listener: &Fd,
    id: NotifId,
    src: &Fd,
    how: AddFd,
    newfd_flags: u32,
) -> Result<c_int, Errno> {
    // Both flags are small constants (1 and 2, linux/seccomp.h): they fit the u32 field.
    const SETFD: u32 = libc::SECCOMP_ADDFD_FLAG_SETFD as u32;
    const SEND: u32 = libc::SECCOMP_ADDFD_FLAG_SEND as u32;
    let (flags, newfd) = match how {
        AddFd::Install => (0, 0),
        AddFd::InstallAt(n) => (SETFD, n),
        AddFd::Send => (SEND, 0),
        AddFd::SendAt(n) => (SETFD | SEND, n),
    };
    let mut a = libc::seccomp_notif_addfd {
        id: id.0,
        flags,
        srcfd: src.0.cast_unsigned(),
        newfd,
        newfd_flags,
    };
    ioctl_ptr(listener, libc::SECCOMP_IOCTL_NOTIF_ADDFD, &mut a)
}

/// Asks the kernel to wake the supervisor on the same CPU the tracee runs on
/// (`SECCOMP_IOCTL_NOTIF_SET_FLAGS` with `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP`, 6.6): faster
/// round trips. Errors: `EINVAL`/`ENOTTY` on older kernels.
pub fn notif_set_sync_wake_up(listener: &Fd) -> Result<(), Errno> {
    let flags = libc::c_ulong::from(USER_NOTIF_FD_SYNC_WAKE_UP);
    loop {
        // SAFETY: this request takes the flags as the integer argument itself, not a pointer.
        match cvt(unsafe { libc::ioctl(listener.0, libc::SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags) }) {
            Err(Errno(libc::EINTR)) => {}
            r => return r.map(drop),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Supervisor support

/// Smallest block of the heap: room for the free-list link, and the alignment of every small
/// block (as malloc's).
const HEAP_MIN: usize = 16;

/// Largest small block; bigger requests get their own mapping.
const HEAP_MAX_SMALL: usize = 2048;

/// Size classes 16, 32, .., 2048 bytes.
const HEAP_CLASSES: usize = 8;

/// Bytes mapped at a time for small blocks.
const HEAP_ARENA: usize = 64 * 1024;

/// The heap of the binary: power-of-two size classes with one free list each, carved from
/// 64 KiB anonymous mappings; blocks above 2 KiB, or aligned to more than 16, get a mapping of
/// their own. It replaces musl's malloc (about 6 KiB of code in a 200 KiB binary). Only
/// start-up, task bookkeeping and magic commands allocate; the per-notification path does not,
/// so the simple policy (small blocks are reused but never unmapped) costs little.
pub struct Heap {
    /// Held while `state` is in use. The binary is single-threaded; the lock keeps the heap
    /// sound should that ever change.
    lock: core::sync::atomic::AtomicBool,
    /// Free lists and the unused rest of the current arena.
    state: core::cell::UnsafeCell<HeapState>,
}

/// The mutable part of [`Heap`].
struct HeapState {
    /// Head of each class's free list; the first word of a free block points to the next.
    free: [*mut u8; HEAP_CLASSES],
    /// Next unused byte of the current arena (a multiple of 16), and its end.
    next: usize,
    end: usize,
}

// SAFETY: `state` is only touched with `lock` held (see `Heap::with`).
unsafe impl Sync for Heap {}

impl Heap {
    /// An empty heap; it maps memory on first use.
    pub const fn new() -> Heap {
        Heap {
            lock: core::sync::atomic::AtomicBool::new(false),
            state: core::cell::UnsafeCell::new(HeapState {
                free: [core::ptr::null_mut(); HEAP_CLASSES],
                next: 0,
                end: 0,
            }),
        }
    }

    /// The size class of `layout`, or `None` for a block that gets its own mapping.
    fn class(layout: core::alloc::Layout) -> Option<usize> {
        if layout.size() > HEAP_MAX_SMALL || layout.align() > HEAP_MIN {
            return None;
        }
        let size = layout.size().max(HEAP_MIN).next_power_of_two();
        // size is a power of two from 16 to 2048: the class index is 0..=7.
        Some((size.trailing_zeros() - HEAP_MIN.trailing_zeros()) as usize)
    }

    /// Runs `f` on the state with the lock held.
    fn with<T>(&self, f: impl FnOnce(&mut HeapState) -> T) -> T {
        use core::sync::atomic::Ordering;
        while self
            .lock
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        // SAFETY: the lock is held, so this is the only reference to the state.
        let r = f(unsafe { &mut *self.state.get() });
        self.lock.store(false, Ordering::Release);
        r
    }
}

impl Default for Heap {
    fn default() -> Self {
        Self::new()
    }
}

/// `mmap2(2)` on 32-bit ABIs (i386's plain mmap takes a pointer to its arguments, and arm has
/// none); with offset 0 it is mmap.
#[cfg(target_pointer_width = "32")]
const SYS_MMAP: Sysno = Sysno::mmap2;
/// `mmap(2)`.
#[cfg(target_pointer_width = "64")]
const SYS_MMAP: Sysno = Sysno::mmap;

/// Maps `len` bytes of zeroed private memory (`mmap(2)`), or returns NULL.
fn map_anon(len: usize) -> *mut u8 {
    // SAFETY: an anonymous mapping at an address of the kernel's choice replaces nothing.
    let r = unsafe {
        syscalls::syscall6(
            SYS_MMAP,
            0,
            len,
            (libc::PROT_READ | libc::PROT_WRITE).cast_unsigned() as usize, // small flag bits
            (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS).cast_unsigned() as usize, // likewise
            usize::MAX,                                                    // fd -1: none
            0,
        )
    };
    r.map_or(core::ptr::null_mut(), |a| a as *mut u8)
}

// SAFETY: small blocks come from disjoint parts of arenas or from a free list that only holds
// blocks of the same class that were given back; each class size is a multiple of 16, the
// arenas are page-aligned and `next` stays a multiple of 16, so every small block is aligned
// to 16, which is all `class` admits. Other blocks are whole mappings (page-aligned, at most
// a page of alignment asked for, else NULL) and are unmapped with the length they were mapped
// with: the layout that `dealloc` gets is the one `alloc` got.
unsafe impl core::alloc::GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
        let Some(c) = Heap::class(layout) else {
            if layout.align() > 4096 {
                return core::ptr::null_mut();
            }
            return map_anon(layout.size());
        };
        self.with(|st| {
            let Some(head) = st.free.get_mut(c) else {
                return core::ptr::null_mut();
            };
            if !head.is_null() {
                let block = *head;
                // SAFETY: a free block's first word holds the next free block (see dealloc).
                *head = unsafe { block.cast::<*mut u8>().read() };
                return block;
            }
            let size = HEAP_MIN << c;
            if st.end - st.next < size {
                let arena = map_anon(HEAP_ARENA);
                if arena.is_null() {
                    return arena;
                }
                st.next = arena as usize;
                st.end = st.next + HEAP_ARENA;
            }
            let block = st.next as *mut u8;
            st.next += size;
            block
        })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: core::alloc::Layout) {
        let Some(c) = Heap::class(layout) else {
            // SAFETY: ptr is a mapping of layout.size() bytes that alloc made for this block.
            let _ = unsafe { syscalls::syscall2(Sysno::munmap, ptr as usize, layout.size()) };
            return;
        };
        self.with(|st| {
            if let Some(head) = st.free.get_mut(c) {
                // SAFETY: ptr is a block of this class (at least 16 bytes, aligned to 16) that
                // the caller gives up: its first word can hold the link.
                unsafe { ptr.cast::<*mut u8>().write(*head) };
                *head = ptr;
            }
        });
    }
}

#[cfg(not(test))]
#[global_allocator]
static ALLOC: Heap = Heap::new();

/// Writes all of `buf` to the descriptor number `fd`, which stays open (standard streams).
pub fn write_raw(fd: c_int, buf: &[u8]) -> Result<(), Errno> {
    let f = core::mem::ManuallyDrop::new(Fd(fd));
    write_all(&f, buf)
}

/// Reads from the descriptor number `fd`, which stays open (standard input).
pub fn read_raw(fd: c_int, buf: &mut [u8]) -> Result<usize, Errno> {
    let f = core::mem::ManuallyDrop::new(Fd(fd));
    read(&f, buf)
}

/// Binds `sock` to the raw socket address `addr` (`bind(2)`).
pub fn bind(sock: &Fd, addr: &[u8]) -> Result<(), Errno> {
    let len = libc::socklen_t::try_from(addr.len()).map_err(|_| Errno(libc::EINVAL))?;
    // SAFETY: addr points to len readable bytes; the kernel validates their contents.
    cvt(unsafe { libc::bind(sock.0, addr.as_ptr().cast(), len) }).map(drop)
}

/// The address `sock` is bound to (`getsockname(2)`), written into `buf`; returns its length.
pub fn getsockname(sock: &Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    let mut len = libc::socklen_t::try_from(buf.len()).map_err(|_| Errno(libc::EINVAL))?;
    // SAFETY: buf has room for len bytes; the kernel writes at most that and updates len.
    cvt(unsafe { libc::getsockname(sock.0, buf.as_mut_ptr().cast(), &mut len) })?;
    Ok(usize::try_from(len).unwrap_or(0).min(buf.len()))
}

/// Connects `sock` to the raw socket address `addr` (`connect(2)`). A non-blocking socket
/// gives `EINPROGRESS` (TCP) or `EAGAIN` (a full UNIX listener) instead of waiting.
pub fn connect(sock: &Fd, addr: &[u8]) -> Result<(), Errno> {
    // SAFETY: addr points to addr.len() readable bytes; the kernel validates their contents.
    raw(unsafe {
        syscalls::syscall3(
            Sysno::connect,
            fd_arg(sock.0),
            addr.as_ptr() as usize,
            addr.len(),
        )
    })
    .map(drop)
}

/// Sends `data` as one message on `sock` to the raw socket address `name` with the ancillary
/// data `control` (empty: none) and `flags` (`sendmsg(2)`); returns the bytes sent.
pub fn sendmsg(
    sock: &Fd,
    data: &[u8],
    name: &[u8],
    control: &[u8],
    flags: c_int,
) -> Result<usize, Errno> {
    let mut iov = libc::iovec {
        iov_base: data.as_ptr().cast_mut().cast(), // the kernel only reads the data
        iov_len: data.len(),
    };
    // SAFETY: struct msghdr is integers and pointers, for which all-zero bytes are valid (null
    // pointers, zero lengths).
    let mut m: libc::msghdr = unsafe { MaybeUninit::zeroed().assume_init() };
    m.msg_name = name.as_ptr().cast_mut().cast();
    m.msg_namelen = libc::socklen_t::try_from(name.len()).map_err(|_| Errno(libc::EINVAL))?;
    m.msg_iov = &mut iov;
    m.msg_iovlen = 1;
    if !control.is_empty() {
        m.msg_control = control.as_ptr().cast_mut().cast();
        m.msg_controllen = control.len().try_into().map_err(|_| Errno(libc::ENOBUFS))?;
    }
    let msg_ptr: *const libc::msghdr = &m;
    // SAFETY: m points to name, one iovec over data and control, all live and only read by the
    // kernel for the call's duration. musl's msghdr is the kernel's, each 32-bit length paired
    // with a zero padding word (zeroed above) on the side the byte order needs.
    raw(unsafe {
        syscalls::syscall3(
            Sysno::sendmsg,
            fd_arg(sock.0),
            msg_ptr as usize,
            fd_arg(flags),
        )
    })
}

/// `fcntl(2)` with an integer argument.
fn fcntl_int(fd: &Fd, cmd: c_int, arg: c_int) -> Result<c_int, Errno> {
    // SAFETY: F_GETFL and F_SETFL take an int argument or none: no pointers.
    let r =
        raw(unsafe { syscalls::syscall3(Sysno::fcntl, fd_arg(fd.0), fd_arg(cmd), fd_arg(arg)) })?;
    // The flags are an int: the kernel's result fits.
    c_int::try_from(r).map_err(|_| Errno(libc::EOVERFLOW))
}

/// The file status flags of the open file description behind `fd` (`fcntl(F_GETFL)`).
pub fn get_status_flags(fd: &Fd) -> Result<c_int, Errno> {
    fcntl_int(fd, libc::F_GETFL, 0)
}

/// Sets the file status flags of the open file description behind `fd` (`fcntl(F_SETFL)`):
/// every descriptor that shares it, in any process, sees the change.
pub fn set_status_flags(fd: &Fd, flags: c_int) -> Result<(), Errno> {
    fcntl_int(fd, libc::F_SETFL, flags).map(drop)
}

/// Reads socket option `name` of `sock` into `buf` (`getsockopt(2)`); returns its length.
fn getsockopt(sock: &Fd, level: c_int, name: c_int, buf: &mut [u8]) -> Result<usize, Errno> {
    let mut len = libc::socklen_t::try_from(buf.len()).map_err(|_| Errno(libc::EINVAL))?;
    // SAFETY: buf is valid for writes of len bytes; the kernel writes at most that and
    // updates len.
    raw(unsafe {
        syscalls::syscall5(
            Sysno::getsockopt,
            fd_arg(sock.0),
            fd_arg(level),
            fd_arg(name),
            buf.as_mut_ptr() as usize,
            (&raw mut len) as usize,
        )
    })?;
    Ok(usize::try_from(len).unwrap_or(0).min(buf.len()))
}

/// An `int` socket option of `sock` (`getsockopt(2)`), such as `SO_ERROR` (which it clears) or
/// `SO_TYPE`.
pub fn getsockopt_int(sock: &Fd, level: c_int, name: c_int) -> Result<c_int, Errno> {
    let mut v = [0u8; 4];
    getsockopt(sock, level, name, &mut v)?;
    Ok(c_int::from_ne_bytes(v))
}

/// The send timeout of `sock` in milliseconds (`SO_SNDTIMEO`), `None` if it has none (waits
/// forever).
pub fn send_timeout_ms(sock: &Fd) -> Result<Option<u64>, Errno> {
    let mut tv = [0u8; 16];
    let len = getsockopt(sock, libc::SOL_SOCKET, libc::SO_SNDTIMEO, &mut tv)?;
    // Two longs (the old timeval: 8 bytes on 32-bit ABIs) or two 64-bit words (16 bytes).
    let half = len / 2;
    let word = |i: usize| -> u64 {
        let b = tv.get(i * half..(i + 1) * half).unwrap_or(&[]);
        match b.len() {
            4 => {
                let mut x = [0u8; 4];
                x.copy_from_slice(b);
                u64::try_from(i32::from_ne_bytes(x)).unwrap_or(0)
            }
            8 => {
                let mut x = [0u8; 8];
                x.copy_from_slice(b);
                u64::try_from(i64::from_ne_bytes(x)).unwrap_or(0)
            }
            _ => 0,
        }
    };
    let ms = word(0)
        .saturating_mul(1000)
        .saturating_add(word(1).div_ceil(1000));
    Ok((ms > 0).then_some(ms))
}

/// Milliseconds of `CLOCK_MONOTONIC`, through the system call (see [`realtime_secs`]).
pub fn monotonic_ms() -> u64 {
    let mut ts = MaybeUninit::<libc::timespec>::uninit();
    // SAFETY: as in realtime_secs: ts is valid for writes of the kernel's timespec.
    let r = raw(unsafe {
        syscalls::syscall2(
            SYS_CLOCK_GETTIME,
            libc::CLOCK_MONOTONIC.cast_unsigned() as usize, // 1: widens
            ts.as_mut_ptr() as usize,
        )
    });
    if r.is_err() {
        return 0;
    }
    // SAFETY: clock_gettime succeeded, so it filled ts.
    let ts = unsafe { ts.assume_init_ref() };
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let ms = u64::try_from(ts.tv_nsec / 1_000_000).unwrap_or(0);
    secs.saturating_mul(1000).saturating_add(ms)
}

/// Changes the scheduling priority by `inc` (`nice(2)`).
pub fn nice(inc: i32) -> Result<(), Errno> {
    // SAFETY: an integer-only call. nice may legitimately return -1: clear errno first.
    unsafe {
        *libc::__errno_location() = 0;
        if libc::nice(inc) == -1 && *libc::__errno_location() != 0 {
            return Err(Errno::last());
        }
    }
    Ok(())
}

/// Sets the I/O priority of the calling process (`ioprio_set(IOPRIO_WHO_PROCESS, 0, prio)`).
pub fn ioprio_set(prio: i32) -> Result<(), Errno> {
    // SAFETY: an integer-only raw syscall.
    cvt_long(unsafe { libc::syscall(libc::SYS_ioprio_set, 1, 0, prio) }).map(drop)
}

/// Gives up the controlling terminal (`TIOCNOTTY`).
pub fn ioctl_notty(tty: &Fd) -> Result<(), Errno> {
    // SAFETY: TIOCNOTTY takes no argument.
    cvt(unsafe { libc::ioctl(tty.0, libc::TIOCNOTTY) }).map(drop)
}

/// Makes this process the reaper of its orphaned descendants (`PR_SET_CHILD_SUBREAPER`), so that
/// sandboxed processes whose parents die are still reaped and counted by the supervisor.
pub fn set_child_subreaper() -> Result<(), Errno> {
    // SAFETY: an integer-only prctl.
    cvt(unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) }).map(drop)
}

/// A set of signals.
#[derive(Clone, Copy)]
pub struct SigSet(libc::sigset_t);

impl SigSet {
    /// The set of these signals.
    pub fn of(sigs: &[c_int]) -> SigSet {
        // SAFETY: sigset_t is plain data; sigemptyset/sigaddset only write into it.
        unsafe {
            let mut set: libc::sigset_t = MaybeUninit::zeroed().assume_init();
            libc::sigemptyset(&mut set);
            for &s in sigs {
                libc::sigaddset(&mut set, s);
            }
            SigSet(set)
        }
    }
}

/// Blocks (`block` true) or unblocks the signals of `set` for the calling thread.
pub fn sigmask(set: &SigSet, block: bool) -> Result<(), Errno> {
    let how = if block {
        libc::SIG_BLOCK
    } else {
        libc::SIG_UNBLOCK
    };
    // SAFETY: set is a valid sigset_t; the old mask is not asked for.
    let r = unsafe { libc::pthread_sigmask(how, &set.0, core::ptr::null_mut()) };
    if r == 0 {
        Ok(())
    } else {
        Err(Errno(r))
    }
}

/// Resets every signal disposition to the default (for a child about to exec).
pub fn reset_signals() {
    for sig in 1..65 {
        set_disposition(sig, libc::SIG_DFL);
    }
}

/// Ignores signal `sig`.
pub fn ignore_signal(sig: c_int) {
    set_disposition(sig, libc::SIG_IGN);
}

/// Sets the disposition of `sig` to `SIG_DFL` or `SIG_IGN`, as musl's `signal()` does:
/// `SA_RESTART`, an empty mask, and signals 32 to 34 (musl's own) left alone. On x86_64 and
/// aarch64 through `rt_sigaction(2)` directly, whose `struct sigaction` there is four 64-bit
/// words (handler, flags, restorer, mask): musl's `sigaction` adds 0.6 KiB of handler
/// bookkeeping to the binary that a default or ignored disposition never uses (its
/// `SA_RESTORER` only matters for a handler, and exec clears it). Errors (SIGKILL, SIGSTOP)
/// are ignored, as before.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn set_disposition(sig: c_int, handler: libc::sighandler_t) {
    #[repr(C)]
    struct KernelSigaction {
        handler: libc::sighandler_t,
        flags: u64,
        restorer: usize,
        mask: u64,
    }
    if (32..=34).contains(&sig) {
        return;
    }
    let Ok(nr) = usize::try_from(sig) else {
        return;
    };
    let act = KernelSigaction {
        handler,
        flags: libc::SA_RESTART as u64, // a positive flag bit: widening
        restorer: 0,
        mask: 0,
    };
    // SAFETY: act is a valid kernel sigaction for the call's duration; no old action is asked
    // for; the last argument is the kernel's sigset size on these ABIs (8 bytes).
    let _ = unsafe {
        syscalls::syscall4(
            Sysno::rt_sigaction,
            nr,
            core::ptr::addr_of!(act) as usize,
            0,
            size_of::<u64>(),
        )
    };
}

/// [`set_disposition`] elsewhere: through musl's `signal()`.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn set_disposition(sig: c_int, handler: libc::sighandler_t) {
    // SAFETY: SIG_DFL and SIG_IGN are always valid dispositions; invalid numbers just fail.
    unsafe { libc::signal(sig, handler) };
}

/// A descriptor that reads the signals of `set` (`signalfd(2)`, non-blocking, close-on-exec).
pub fn signalfd(set: &SigSet) -> Result<Fd, Errno> {
    // SAFETY: set is a valid sigset_t for the call's duration.
    let fd = cvt(unsafe { libc::signalfd(-1, &set.0, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) })?;
    Ok(Fd(fd))
}

/// Reads one pending signal number from a [`signalfd`], if any.
pub fn read_signal(fd: &Fd) -> Result<Option<c_int>, Errno> {
    // SAFETY: signalfd_siginfo is plain data; read writes at most its size.
    let mut info: libc::signalfd_siginfo = unsafe { MaybeUninit::zeroed().assume_init() };
    // SAFETY: info is valid for writes of its own size, which is what read is given.
    let n = unsafe {
        libc::read(
            fd.0,
            (&raw mut info).cast(),
            size_of::<libc::signalfd_siginfo>(),
        )
    };
    match cvt_size(n) {
        Ok(n) if n == size_of::<libc::signalfd_siginfo>() => {
            Ok(Some(c_int::try_from(info.ssi_signo).unwrap_or(0)))
        }
        Ok(_) => Ok(None),
        Err(Errno(libc::EAGAIN)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Raises this process's soft `RLIMIT_NOFILE` to its hard limit and returns the soft limit
/// now in force (0 if it cannot be read). The limit is a number of descriptors: above
/// `usize::MAX` (only on 32-bit targets with an infinite limit) it counts as `usize::MAX`.
// Out of line: inlined, it made the `syd` binary bigger (size budget).
#[inline(never)]
pub fn raise_nofile_limit() -> usize {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // prlimit64(2) (2.6.36) rather than libc's getrlimit and setrlimit: they make the same
    // call first, and their fallback for older kernels (one setrlimit per thread) costs the
    // binary 2 KiB of thread synchronisation it never needs. musl's `rlimit` is the kernel's
    // `struct rlimit64` (two 64-bit fields) on every ABI. The resource is a small constant.
    let resource = libc::RLIMIT_NOFILE as usize;
    // SAFETY: pid 0 is this process, no new limit; lim is a valid rlimit to fill.
    let got = unsafe {
        syscalls::syscall4(
            Sysno::prlimit64,
            0,
            resource,
            0,
            core::ptr::addr_of_mut!(lim) as usize,
        )
    };
    if got.is_err() {
        return 0;
    }
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: pid 0 is this process; raised is a valid rlimit to read, no old one asked.
        let set = unsafe {
            syscalls::syscall4(
                Sysno::prlimit64,
                0,
                resource,
                core::ptr::addr_of!(raised) as usize,
                0,
            )
        };
        if set.is_ok() {
            lim = raised;
        }
    }
    usize::try_from(lim.rlim_cur).unwrap_or(usize::MAX)
}

/// The effective user id.
pub fn geteuid() -> u32 {
    // SAFETY: no arguments.
    unsafe { libc::geteuid() }
}

// On i386 and arm the plain setfsuid, setfsgid and setgroups are the legacy calls with 16-bit
// ids; the 32-bit ones carry a "32" suffix (arch/x86/entry/syscalls/syscall_32.tbl,
// arch/arm/tools/syscall.tbl).
#[cfg(not(any(target_arch = "x86", target_arch = "arm")))]
use libc::{
    SYS_setfsgid as SYS_SETFSGID, SYS_setfsuid as SYS_SETFSUID, SYS_setgroups as SYS_SETGROUPS,
};
#[cfg(any(target_arch = "x86", target_arch = "arm"))]
use libc::{
    SYS_setfsgid32 as SYS_SETFSGID, SYS_setfsuid32 as SYS_SETFSUID,
    SYS_setgroups32 as SYS_SETGROUPS,
};

/// Sets the filesystem user id of the calling thread (`setfsuid(2)`); returns the previous one.
pub fn setfsuid(uid: u32) -> u32 {
    // SAFETY: an integer-only call; the raw syscall acts on this thread only.
    let r = unsafe { libc::syscall(SYS_SETFSUID, libc::c_ulong::from(uid)) };
    u32::try_from(r).unwrap_or(u32::MAX)
}

/// Sets the filesystem group id of the calling thread (`setfsgid(2)`); returns the previous one.
pub fn setfsgid(gid: u32) -> u32 {
    // SAFETY: an integer-only call; the raw syscall acts on this thread only.
    let r = unsafe { libc::syscall(SYS_SETFSGID, libc::c_ulong::from(gid)) };
    u32::try_from(r).unwrap_or(u32::MAX)
}

/// Sets the supplementary groups of the calling thread only (the raw syscall, unlike libc's
/// process-wide `setgroups`).
pub fn setgroups_thread(groups: &[u32]) -> Result<(), Errno> {
    // SAFETY: groups points to groups.len() gid_t values for the call's duration.
    cvt_long(unsafe { libc::syscall(SYS_SETGROUPS, groups.len(), groups.as_ptr()) }).map(drop)
}

/// Capability sets of a thread, as 64-bit masks (bit N = capability N).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caps {
    /// The effective set.
    pub effective: u64,
    /// The permitted set.
    pub permitted: u64,
    /// The inheritable set.
    pub inheritable: u64,
}

/// `struct __user_cap_header_struct` (linux/capability.h).
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: c_int,
}

/// `struct __user_cap_data_struct` (linux/capability.h); version 3 uses two, low word first.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// `_LINUX_CAPABILITY_VERSION_3` (linux/capability.h): 64-bit sets.
const CAP_VERSION_3: u32 = 0x2008_0522;

/// The calling thread's capabilities (`capget(2)`).
pub fn capget() -> Result<Caps, Errno> {
    let mut hdr = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: hdr is a valid header and data holds the two structs version 3 writes.
    cvt_long(unsafe {
        libc::syscall(
            libc::SYS_capget,
            &mut hdr as *mut CapHeader,
            data.as_mut_ptr(),
        )
    })?;
    let [lo, hi] = data;
    let join = |l: u32, h: u32| u64::from(l) | (u64::from(h) << 32);
    Ok(Caps {
        effective: join(lo.effective, hi.effective),
        permitted: join(lo.permitted, hi.permitted),
        inheritable: join(lo.inheritable, hi.inheritable),
    })
}

/// Sets the calling thread's capabilities (`capset(2)`); only this thread changes.
pub fn capset(caps: &Caps) -> Result<(), Errno> {
    let mut hdr = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    // Splitting a 64-bit mask into its two 32-bit halves: the truncation is the point.
    let split = |v: u64| (v as u32, (v >> 32) as u32);
    let (el, eh) = split(caps.effective);
    let (pl, ph) = split(caps.permitted);
    let (il, ih) = split(caps.inheritable);
    let data = [
        CapData {
            effective: el,
            permitted: pl,
            inheritable: il,
        },
        CapData {
            effective: eh,
            permitted: ph,
            inheritable: ih,
        },
    ];
    // SAFETY: hdr is a valid header and data holds the two structs version 3 reads.
    cvt_long(unsafe { libc::syscall(libc::SYS_capset, &mut hdr as *mut CapHeader, data.as_ptr()) })
        .map(drop)
}

/// Reads directory entries of `dir` into `buf` (`getdents64(2)`); returns the bytes read, 0 at
/// the end. Parse them with [`dirents`].
pub fn getdents(dir: &Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: buf is valid for writes of buf.len() bytes.
    let n = unsafe { libc::syscall(libc::SYS_getdents64, dir.0, buf.as_mut_ptr(), buf.len()) };
    cvt_long(n).and_then(|n| usize::try_from(n).map_err(|_| Errno(libc::EINVAL)))
}

/// The names in a buffer filled by [`getdents`].
pub fn dirents(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    // struct linux_dirent64: d_ino u64, d_off i64, d_reclen u16, d_type u8, d_name[].
    let mut off = 0usize;
    core::iter::from_fn(move || {
        let rec = buf.get(off..)?;
        let reclen = usize::from(u16::from_ne_bytes([*rec.get(16)?, *rec.get(17)?]));
        if reclen < 19 {
            return None;
        }
        let name = rec.get(19..reclen)?;
        off += reclen;
        let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        name.get(..end)
    })
}

/// `_exit(2)` without running anything else (for a forked child).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no memory of ours.
    unsafe { libc::_exit(code) }
}

/// Receives what the other end of a start-up socket sent: a descriptor from [`send_fd`] (with
/// its data byte), or plain data bytes (no descriptor). Returns the descriptor if one came, and
/// the bytes read into `buf`.
pub fn recv_fd_or_data(sock: &Fd, buf: &mut [u8]) -> Result<(Option<Fd>, usize), Errno> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut ctl = CmsgOneFd([0; 32]);
    let mut msg = msghdr_one(&mut iov, &mut ctl);
    let n = recvmsg_cloexec(sock, &mut msg)?;
    // SAFETY: as in recv_fd: the header is checked before its data is read.
    let fd = unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        if c.is_null()
            || (*c).cmsg_level != SOL_SOCKET
            || (*c).cmsg_type != libc::SCM_RIGHTS
            || (*c).cmsg_len as usize != CMSG_FD_LEN as usize
        // widen both to compare
        {
            None
        } else {
            Some(Fd(libc::CMSG_DATA(c).cast::<c_int>().read_unaligned()))
        }
    };
    Ok((fd, n))
}

// ---------------------------------------------------------------------------------------------
// Output

/// Standard output.
pub const STDOUT: c_int = 1;
/// Standard error.
pub const STDERR: c_int = 2;

/// A buffered writer to a descriptor it does not own, with room for `N` bytes. It implements
/// `core::fmt::Write`; writes larger than the buffer go out in several `write(2)` calls. Call
/// [`Out::flush`] to see errors; dropping flushes and ignores them.
pub struct Out<const N: usize> {
    /// Uninitialised until written: zeroing it would cost a `memset` at each of the many places
    /// that make a writer (the binary has a size budget). Only `..state.len` is ever read.
    buf: [MaybeUninit<u8>; N],
    state: OutState,
}

/// The part of [`Out`] that does not depend on `N`: its code exists once for every size.
struct OutState {
    fd: c_int,
    len: usize,
    error: Option<Errno>,
}

impl OutState {
    /// [`Out::bytes`] over the buffer `buf`.
    fn bytes(&mut self, buf: &mut [MaybeUninit<u8>], mut b: &[u8]) {
        while !b.is_empty() && self.error.is_none() {
            let free = buf.get_mut(self.len..).unwrap_or_default();
            if free.is_empty() {
                if buf.is_empty() {
                    self.error = write_all_raw(self.fd, b).err();
                    return;
                }
                let _ = self.flush(buf);
                continue;
            }
            let n = free.len().min(b.len());
            let (head, tail) = b.split_at(n);
            free.iter_mut().zip(head).for_each(|(d, s)| {
                d.write(*s);
            });
            // n <= free space, so len stays <= buf.len(); and ..len is now all written.
            self.len += n;
            b = tail;
        }
    }

    /// [`Out::flush`] over the buffer `buf`.
    fn flush(&mut self, buf: &[MaybeUninit<u8>]) -> Result<(), Errno> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let pending = buf.get(..self.len).unwrap_or_default();
        // SAFETY: `bytes` writes every byte below len before it raises len (the only place that
        // raises it), so `..len` is initialised; MaybeUninit<u8> has the layout of u8.
        let pending = unsafe { &*(core::ptr::from_ref(pending) as *const [u8]) };
        let r = write_all_raw(self.fd, pending);
        self.len = 0;
        if let Err(e) = r {
            self.error = Some(e);
        }
        r
    }
}

impl<const N: usize> Out<N> {
    /// A writer to the raw descriptor `fd` (such as [`STDOUT`]), which stays open after it.
    pub const fn new(fd: c_int) -> Self {
        Out {
            buf: [const { MaybeUninit::uninit() }; N],
            state: OutState {
                fd,
                len: 0,
                error: None,
            },
        }
    }

    /// Appends raw bytes (paths need not be UTF-8), flushing when the buffer fills. After a
    /// write error everything is dropped; [`Out::flush`] reports the error.
    pub fn bytes(&mut self, b: &[u8]) {
        self.state.bytes(&mut self.buf, b);
    }

    /// Writes out what is buffered. Errors: the first write error seen by this writer.
    pub fn flush(&mut self) -> Result<(), Errno> {
        self.state.flush(&self.buf)
    }
}

impl<const N: usize> fmt::Write for Out<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.bytes(s.as_bytes());
        if self.state.error.is_some() {
            return Err(fmt::Error);
        }
        Ok(())
    }
}

impl<const N: usize> Drop for Out<N> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Formats to standard error in one `write(2)` (for messages up to 256 bytes), like `std`'s.
#[allow(unused_macros)]
macro_rules! eprint {
    ($($arg:tt)*) => {{
        let mut o = $crate::sys::Out::<256>::new($crate::sys::STDERR);
        let _ = core::fmt::Write::write_fmt(&mut o, format_args!($($arg)*));
    }};
}

/// [`eprint!`] followed by a newline.
#[allow(unused_macros)]
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        let mut o = $crate::sys::Out::<256>::new($crate::sys::STDERR);
        let _ = core::fmt::Write::write_fmt(&mut o, format_args!($($arg)*));
        o.bytes(b"\n");
    }};
}

// ---------------------------------------------------------------------------------------------
// Entry

// The libc crate only names libc when built inside std; a no_std binary links it itself. The
// entry items are left out when tests/sys.rs compiles this file into a std test crate.
#[cfg(not(test))]
#[link(name = "c")]
extern "C" {}

#[cfg(not(test))]
#[no_mangle]
extern "C" fn main(argc: c_int, argv: *const *const c_char, envp: *const *const c_char) -> c_int {
    let args = Args {
        argc: usize::try_from(argc).unwrap_or(0),
        argv,
    };
    // SAFETY: musl's start code passes the process environment: a NULL-terminated array of
    // NUL-terminated strings that nothing in this program modifies or frees.
    let env = unsafe { Env::from_raw(envp) };
    crate::run(&args, &env)
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // SAFETY: abort(3) takes no arguments and never returns.
    unsafe { libc::abort() }
}

/// The precompiled `core` of an unoptimised build still names the unwinding personality routine,
/// although this binary is built with `panic = "abort"` and never unwinds; an empty one satisfies
/// the linker (release builds drop the reference entirely).
#[cfg(not(test))]
#[no_mangle]
extern "C" fn rust_eh_personality() {}

/// The precompiled `alloc` names the unwinder's resume routine on its (never taken) cleanup
/// paths; this binary aborts on panic, so nothing ever unwinds to call it.
#[cfg(not(test))]
#[no_mangle]
extern "C" fn _Unwind_Resume() -> ! {
    // SAFETY: abort(3) takes no arguments and never returns.
    unsafe { libc::abort() }
}
