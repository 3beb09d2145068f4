//! Canonicalization of the paths a tracee passes to system calls (SPEC §2.8).
//!
//! A path is resolved the way the tracee's own lookup would resolve it, but by hand, one component
//! at a time and without opening anything: each component is `lstat`ed (`fstatat` with
//! `AT_SYMLINK_NOFOLLOW`) and each symlink read with `readlinkat` and followed. Every lookup is
//! relative to the tracee's root (an `O_PATH` descriptor of `/proc/<tid>/root`), so the paths of a
//! chrooted tracee resolve inside its root, and the result is the path as the tracee sees it.
//! Relative paths start at the tracee's cwd or dirfd (`/proc/<tid>/cwd`, `/proc/<tid>/fd/<n>`).
//!
//! Names that mean "the caller" are rewritten for the tracee wherever resolution meets them
//! directly under `/proc`, in the argument or in a symlink target on the way (`/dev/fd` ->
//! `/proc/self/fd`): `self` -> `<tid>`, `thread-self` -> `<tgid>/task/<tid>`, `mounts` ->
//! `<tid>/mounts`, `net` -> `<tid>/net`.
//!
//! Magic links (`/proc/<pid>/{cwd,root,exe,fd/<n>,map_files/<range>}` on procfs) are not followed
//! as text: the kernel reports their object's path as the supervisor sees it, which is turned into
//! the tracee's view. A target that is no path (`pipe:[…]`, `socket:[…]`, `anon_inode:…`), or lies
//! outside the tracee's root, leaves the link's own path as the result.
//!
//! System calls per call: an absolute path of N components costs an `openat` and a `close` of the
//! root plus N `fstatat`; each symlink followed adds a `readlinkat` (a magic link adds a `statfs`);
//! a relative path adds the `readlinkat` of the base and of the root. Rare cases add more: a
//! `(deleted)` suffix (two `fstatat`), the access time of a link to restore (an `fstatat` and a
//! `utimensat`), `.` or `..` right at the base (an `fstatat`).
//!
//! Nothing is allocated: the result and the unresolved rest live in `PATH_MAX` buffers. The result
//! describes the file system at the time of the call, which the tracee may change right after: the
//! check-then-use race of every user-space path check.

use core::ffi::{c_int, CStr};

use syd_core::limits::{MAX_SYMLINKS, PATH_MAX};

use crate::sys::{self, Errno, Fd, Pid, Stat};

/// Longest file name component (`NAME_MAX`, linux/limits.h).
const NAME_MAX: usize = 255;

/// What the kernel appends to the path of an unlinked object it reports (fs/d_path.c).
const DELETED: &[u8] = b" (deleted)";

/// `f_type` of procfs (`PROC_SUPER_MAGIC`, linux/magic.h).
const PROC_SUPER_MAGIC: u64 = 0x9fa0;

/// With `relatime`, an access time older than this many seconds is refreshed (fs/inode.c).
const RELATIME_SECS: i64 = 24 * 60 * 60;

/// Whether the final component must exist (SPEC §2.8 "Resolution modes").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolve {
    /// EXIST: a missing final component (or a dangling final symlink that is followed) fails
    /// with `ENOENT`.
    Exist,
    /// NOLAST: the final component may be missing; a dangling final symlink resolves to its target.
    NoLast,
}

/// Whether a symlink in the final component is followed; intermediate ones always are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Follow {
    /// Follow it: the result names its target.
    Yes,
    /// NOFOLLOW: the result names the link itself. A trailing `/` still follows it, as in the
    /// kernel.
    No,
}

/// Where a relative path starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    /// The tracee's current directory (`AT_FDCWD`, `/proc/<tid>/cwd`).
    Cwd,
    /// The directory the tracee's descriptor refers to (`/proc/<tid>/fd/<n>`). A negative number
    /// fails with `EBADF`.
    Fd(i32),
    /// No base: a relative path fails with `EINVAL` (for paths that must be absolute).
    // Used by tests/path.rs; the supervisor always has a base.
    #[allow(dead_code)]
    None,
}

impl Base {
    /// The base of a `*at` call's `dirfd` argument: `AT_FDCWD` is the cwd, anything else a
    /// descriptor. Only the low 32 bits count, as for every C `int` argument.
    pub fn from_dirfd(arg: u64) -> Base {
        // Truncation is the point: the kernel reads an int and ignores the upper half.
        let fd = (arg as u32).cast_signed();
        if fd == libc::AT_FDCWD {
            Base::Cwd
        } else {
            Base::Fd(fd)
        }
    }
}

/// The task whose view of the file system a path is resolved in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tracee {
    /// Thread id (the `pid` of a notification): whose cwd, descriptors and root count.
    pub tid: Pid,
    /// Thread group id, for `/proc/thread-self`.
    pub tgid: Pid,
}

/// A path in a fixed buffer of `PATH_MAX` bytes, at most `PATH_MAX - 1` long (one byte stays
/// free for the NUL the system calls need). A canonical result is absolute, free of `.`, `..`
/// and `//`, and ends in `/` only if it is `/`. It holds no symlink but a final one with
/// [`Follow::No`], or a magic link whose object has no path in the tracee's root (a pipe, a file
/// outside a chroot).
pub struct PathBuf {
    buf: [u8; PATH_MAX],
    len: usize,
    /// The file type (`S_IFMT` bits, final symlink not followed) the canonicalizer saw for the
    /// final component when it looked it up last, if it did.
    kind: Option<u32>,
}

impl Default for PathBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl PathBuf {
    /// The root directory, `/`.
    // Out of line, like `as_bytes`: inlined, the 4 KiB zeroing and the bounds check repeat at
    // each of their call sites (the binary has a size budget).
    #[inline(never)]
    pub fn new() -> PathBuf {
        let mut p = PathBuf {
            buf: [0; PATH_MAX],
            len: 1,
            kind: None,
        };
        p.set_root();
        p
    }

    /// The path (no NUL).
    #[inline(never)]
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// The file type (`S_IFMT` bits of `st_mode`) of the final component as the canonicalizer
    /// found it, without following a final symlink; `None` when it did not look it up (a
    /// missing file, a path ending in `..`, a base taken from the kernel).
    pub fn kind(&self) -> Option<u32> {
        self.kind
    }

    /// Makes the path `/`.
    fn set_root(&mut self) {
        if let Some(b) = self.buf.first_mut() {
            *b = b'/';
        }
        self.len = 1;
    }

    /// Replaces the path with `p`. Errors: `ENAMETOOLONG` if `p` has `PATH_MAX` bytes or more.
    fn set(&mut self, p: &[u8]) -> Result<(), Errno> {
        match self.buf.get_mut(..p.len()) {
            Some(dst) if p.len() < PATH_MAX => dst.copy_from_slice(p),
            _ => return err(libc::ENAMETOOLONG),
        }
        self.len = p.len();
        Ok(())
    }

    /// Appends the component `name`. Errors: `ENAMETOOLONG` if the path would reach `PATH_MAX`.
    fn push(&mut self, name: &[u8]) -> Result<(), Errno> {
        let sep = usize::from(self.len > 1);
        let end = self
            .len
            .checked_add(sep)
            .and_then(|n| n.checked_add(name.len()))
            .filter(|&n| n < PATH_MAX)
            .ok_or(Errno(libc::ENAMETOOLONG))?;
        if sep == 1 {
            if let Some(b) = self.buf.get_mut(self.len) {
                *b = b'/';
            }
        }
        let at = self.len + sep; // <= end, which was checked above
        self.buf
            .get_mut(at..end)
            .ok_or(Errno(libc::ENAMETOOLONG))?
            .copy_from_slice(name);
        self.len = end;
        Ok(())
    }

    /// Removes the last component; `/` stays `/`.
    fn pop(&mut self) {
        let cut = self.as_bytes().iter().rposition(|&b| b == b'/');
        self.len = cut.unwrap_or(0).max(1);
    }

    /// The path without its leading `/` and NUL-terminated, for the `*at` calls on the root
    /// descriptor; `.` for `/`. Errors: `EINVAL` if the path holds a NUL.
    fn relative(&mut self) -> Result<&CStr, Errno> {
        if self.len <= 1 {
            return Ok(c".");
        }
        // len < PATH_MAX always holds, so the NUL has its byte.
        *self
            .buf
            .get_mut(self.len)
            .ok_or(Errno(libc::ENAMETOOLONG))? = 0;
        let s = self.buf.get(1..=self.len).unwrap_or_default();
        CStr::from_bytes_with_nul(s).map_err(|_| Errno(libc::EINVAL))
    }
}

/// An `Err` with errno `e`.
const fn err<T>(e: c_int) -> Result<T, Errno> {
    Err(Errno(e))
}

/// A short string built in place: `/proc/<tid>/...` names and the rewrites of `/proc/self`.
struct Small {
    buf: [u8; 128],
    len: usize,
}

impl Small {
    fn new() -> Small {
        Small {
            buf: [0; 128],
            len: 0,
        }
    }

    /// Appends `b`. Errors: `ENAMETOOLONG` past 127 bytes (one stays free for a NUL).
    fn push(&mut self, b: &[u8]) -> Result<&mut Small, Errno> {
        let end = self
            .len
            .checked_add(b.len())
            .filter(|&n| n < self.buf.len())
            .ok_or(Errno(libc::ENAMETOOLONG))?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(Errno(libc::ENAMETOOLONG))?
            .copy_from_slice(b);
        self.len = end;
        Ok(self)
    }

    /// Appends a non-negative number in decimal. Errors: `EINVAL` for a negative one.
    fn num(&mut self, n: i32) -> Result<&mut Small, Errno> {
        let mut n = u32::try_from(n).map_err(|_| Errno(libc::EINVAL))?;
        let mut digits = [0u8; 10]; // u32::MAX has 10 digits
        let mut at = digits.len();
        loop {
            at -= 1; // at most 10 rounds: at stays >= 0
            if let Some(d) = digits.get_mut(at) {
                *d = b"0123456789"
                    .get((n % 10) as usize)
                    .copied()
                    .unwrap_or(b'0'); // < 10
            }
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.push(digits.get(at..).unwrap_or_default())
    }

    fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// The string NUL-terminated. Errors: `EINVAL` if it holds a NUL.
    fn cstr(&mut self) -> Result<&CStr, Errno> {
        *self
            .buf
            .get_mut(self.len)
            .ok_or(Errno(libc::ENAMETOOLONG))? = 0;
        let s = self.buf.get(..=self.len).unwrap_or_default();
        CStr::from_bytes_with_nul(s).map_err(|_| Errno(libc::EINVAL))
    }
}

/// `/proc/<tid>/<tail>`, the supervisor's name of one of the tracee's magic links.
fn proc_path(tid: Pid, tail: &[u8]) -> Result<Small, Errno> {
    let mut p = Small::new();
    p.push(b"/proc/")?.num(tid.0)?.push(b"/")?.push(tail)?;
    Ok(p)
}

/// The tracee's root, opened and read only when needed.
struct Root {
    tid: Pid,
    fd: Option<Fd>,
    path: [u8; PATH_MAX],
    path_len: Option<usize>,
}

impl Root {
    fn new(tid: Pid) -> Root {
        Root {
            tid,
            fd: None,
            path: [0; PATH_MAX],
            path_len: None,
        }
    }

    /// An `O_PATH` descriptor of the root: every lookup starts there.
    fn fd(&mut self) -> Result<&Fd, Errno> {
        if self.fd.is_none() {
            let mut p = proc_path(self.tid, b"root")?;
            let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC;
            self.fd = Some(sys::openat(None, p.cstr()?, flags, 0)?);
        }
        self.fd.as_ref().ok_or(Errno(libc::EBADF))
    }

    /// Where the root is as the supervisor sees it: `/` unless the tracee is chrooted.
    fn path(&mut self) -> Result<&[u8], Errno> {
        let len = match self.path_len {
            Some(n) => n,
            None => {
                let mut p = proc_path(self.tid, b"root")?;
                let n = sys::readlinkat(None, p.cstr()?, &mut self.path)?;
                if n >= self.path.len() {
                    return err(libc::ENAMETOOLONG);
                }
                self.path_len = Some(n);
                n
            }
        };
        Ok(self.path.get(..len).unwrap_or_default())
    }
}

/// Rewrites `buf[..n]`, a path as the supervisor sees it, into the view of a tracee whose root
/// is `root` (as the supervisor sees it). Returns the new length, or `None` if the path lies
/// outside that root.
fn to_tracee_view(root: &[u8], buf: &mut [u8], n: usize) -> Option<usize> {
    if root == b"/" {
        return Some(n);
    }
    let tail = buf.get(..n)?.strip_prefix(root)?;
    if tail.is_empty() {
        *buf.first_mut()? = b'/';
        return Some(1);
    }
    if !tail.starts_with(b"/") {
        return None;
    }
    let k = root.len(); // k < n: the tail is not empty
    buf.copy_within(k..n, 0);
    Some(n - k)
}

/// What a magic link points to, in the tracee's view.
enum Magic {
    /// A path, now at the start of the buffer with this length. `deleted` is the file type
    /// (`S_IF*`) of the object if it was unlinked (the ` (deleted)` suffix is then gone).
    Path { len: usize, deleted: Option<u32> },
    /// Not a path: `pipe:[…]`, `socket:[…]`, `anon_inode:…`.
    NotPath,
    /// A path outside the tracee's root: the tracee reaches the object only through the link.
    Outside,
}

/// Where a magic link is, to `stat` its object.
enum LinkAt<'a> {
    /// An absolute path of the supervisor's (`/proc/<tid>/cwd`).
    Supervisor(&'a CStr),
    /// A path relative to the tracee's root.
    InRoot(&'a CStr),
}

/// Interprets the target `buf[..n]` (`n < buf.len()`) of the magic link `link`: turns it into the
/// tracee's view and strips the ` (deleted)` suffix when the object is really unlinked (a file
/// may be named so: it is stripped only if the name does not lead to the same object).
fn magic_target(
    root: &mut Root,
    buf: &mut [u8],
    n: usize,
    link: LinkAt<'_>,
) -> Result<Magic, Errno> {
    if !buf.starts_with(b"/") {
        return Ok(Magic::NotPath);
    }
    let Some(mut len) = to_tracee_view(root.path()?, buf, n) else {
        return Ok(Magic::Outside);
    };
    let mut deleted = None;
    if buf.get(..len).is_some_and(|t| t.ends_with(DELETED)) {
        let object = match link {
            LinkAt::Supervisor(p) => sys::fstatat(None, p, 0)?,
            LinkAt::InRoot(p) => sys::fstatat(Some(root.fd()?), p, 0)?,
        };
        *buf.get_mut(len).ok_or(Errno(libc::ENAMETOOLONG))? = 0;
        let fd = root.fd()?;
        let same = buf
            .get(1..=len)
            .and_then(|s| CStr::from_bytes_with_nul(s).ok())
            .and_then(|name| sys::fstatat(Some(fd), name, libc::AT_SYMLINK_NOFOLLOW).ok())
            .is_some_and(|s| (s.dev, s.ino) == (object.dev, object.ino));
        if !same {
            len -= DELETED.len(); // the path ends with the suffix, and starts with a '/' before it
            deleted = Some(object.kind());
        }
    }
    Ok(Magic::Path { len, deleted })
}

/// Puts the path of the tracee's cwd (`fd == None`) or of its descriptor `fd` in `out`.
/// Returns the file type of the object if it was unlinked. Errors: those of reading the cwd;
/// `EBADF` if the descriptor cannot be read; `ENOTDIR` if it is not a path (pipe, socket...);
/// `ENOENT` if it lies outside the tracee's root; `ENAMETOOLONG`.
fn read_base(root: &mut Root, fd: Option<i32>, out: &mut PathBuf) -> Result<Option<u32>, Errno> {
    let mut link = match fd {
        None => proc_path(root.tid, b"cwd")?,
        Some(n) if n < 0 => return err(libc::EBADF),
        Some(n) => {
            let mut p = proc_path(root.tid, b"fd/")?;
            p.num(n)?;
            p
        }
    };
    let link = link.cstr()?;
    let n = match sys::readlinkat(None, link, &mut out.buf) {
        Ok(n) => n,
        Err(e) if fd.is_none() || e == Errno(libc::ENAMETOOLONG) => return Err(e),
        Err(_) => return err(libc::EBADF),
    };
    if n >= out.buf.len() {
        return err(libc::ENAMETOOLONG);
    }
    match magic_target(root, &mut out.buf, n, LinkAt::Supervisor(link))? {
        Magic::Path { len, deleted } => {
            out.len = len.max(1);
            Ok(deleted)
        }
        Magic::NotPath => err(libc::ENOTDIR),
        Magic::Outside => err(libc::ENOENT),
    }
}

/// Canonicalizes `path` (the tracee's bytes, without NUL) for `tracee` into `out` (SPEC §2.8).
///
/// An absolute path starts at the tracee's root, a relative one at `base`; `..` never climbs
/// above the root. Intermediate components that are missing or unsearchable (`EACCES`) count as
/// missing directories; `resolve` says whether the final one must exist, `follow` whether a final
/// symlink is followed. The result is the path as the tracee sees it.
///
/// Errors: `ENOENT` for an empty path, or a missing final component (or dangling followed final
/// symlink) with [`Resolve::Exist`] (`EACCES` if it was unsearchable); `ENAMETOOLONG` for a path,
/// an intermediate result or a symlink expansion of `PATH_MAX` bytes or more, or a component
/// longer than `NAME_MAX`; `ENOTDIR` when a non-directory is followed by a component or a `/`;
/// `ELOOP` past [`MAX_SYMLINKS`] symlinks; `EINVAL` for a NUL in `path`, or a relative path with
/// [`Base::None`]; for the base, those of [`fd_path`] (or of reading the cwd); any other error of
/// `fstatat`/`readlinkat`, or of opening `/proc/<tid>/root` (such as `ESRCH` when the tracee is
/// gone). On error, what `out` holds is unspecified.
pub fn canonicalize(
    tracee: &Tracee,
    base: Base,
    path: &[u8],
    resolve: Resolve,
    follow: Follow,
    out: &mut PathBuf,
) -> Result<(), Errno> {
    canonicalize_at(tracee, base, path, resolve, follow, out, &mut None)
}

/// [`canonicalize`], with the tracee's root descriptor (`/proc/<tid>/root`) carried in and
/// out of `root_fd`: taken from it if set, else opened when needed, and left in it, so that
/// the caller's next lookups for the same notification start at the same root without
/// opening it again. Errors: those of [`canonicalize`].
pub fn canonicalize_at(
    tracee: &Tracee,
    base: Base,
    path: &[u8],
    resolve: Resolve,
    follow: Follow,
    out: &mut PathBuf,
    root_fd: &mut Option<Fd>,
) -> Result<(), Errno> {
    let mut root = Root::new(tracee.tid);
    root.fd = root_fd.take();
    let r = canonicalize_in(tracee, base, path, resolve, follow, out, &mut root);
    *root_fd = root.fd.take();
    r
}

fn canonicalize_in(
    tracee: &Tracee,
    base: Base,
    path: &[u8],
    resolve: Resolve,
    follow: Follow,
    out: &mut PathBuf,
    root: &mut Root,
) -> Result<(), Errno> {
    if path.len() >= PATH_MAX {
        return err(libc::ENAMETOOLONG);
    }
    if path.is_empty() {
        return err(libc::ENOENT);
    }
    if path.contains(&0) {
        return err(libc::EINVAL);
    }
    // Some((m, e)): every path longer than m bytes is known to be missing; e says why.
    let mut gone: Option<(usize, Errno)> = None;
    // The base comes from the kernel, unchecked: `.` or `..` right at it must see a directory.
    let mut base_unchecked = false;
    if path.starts_with(b"/") {
        out.set_root();
    } else {
        let fd = match base {
            Base::None => return err(libc::EINVAL),
            Base::Cwd => None,
            Base::Fd(n) => Some(n),
        };
        if read_base(root, fd, out)?.is_some() {
            // A removed directory has no entries: everything below it is missing.
            gone = Some((out.len, Errno(libc::ENOENT)));
        } else {
            base_unchecked = true;
        }
    }
    let mut rest = Rest::new(path)?;
    let mut links = 0usize;
    out.kind = None;
    while let Some(Step { token, slash, last }) = rest.next() {
        let (from, to) = match token {
            Token::Empty => continue,
            Token::Dot | Token::DotDot => {
                if base_unchecked {
                    base_unchecked = false;
                    check_dir(root, out)?;
                }
                if token == Token::DotDot {
                    out.kind = None;
                    out.pop();
                    if gone.is_some_and(|(m, _)| out.len <= m) {
                        gone = None;
                    }
                }
                continue;
            }
            Token::Name(from, to) => (from, to),
        };
        let name = rest.get(from, to);
        if name.len() > NAME_MAX {
            return err(libc::ENAMETOOLONG);
        }
        if out.as_bytes() == b"/proc" {
            if let Some(new) = proc_rewrite(tracee, name)? {
                rest.prepend(new.bytes(), slash)?;
                continue;
            }
        }
        let parent = out.len;
        out.kind = None;
        out.push(name)?;
        if gone.is_some() {
            continue; // below a missing directory: missing too, no need to ask
        }
        base_unchecked = false; // the lookup below fails with ENOTDIR if the base is no directory
        let st = match sys::fstatat(Some(root.fd()?), out.relative()?, libc::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(e) if e == Errno(libc::ENOENT) || e == Errno(libc::EACCES) => {
                gone = Some((parent, e));
                continue;
            }
            Err(e) => return Err(e),
        };
        out.kind = Some(st.kind());
        match st.kind() {
            libc::S_IFDIR => {}
            libc::S_IFLNK if last && !slash && follow == Follow::No => {}
            libc::S_IFLNK => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return err(libc::ELOOP);
                }
                let end = !slash; // nothing follows the link in the path
                out.kind = None;
                if let Some(g) = follow_link(root, out, &mut rest, &st, slash, end)? {
                    gone = Some(g);
                }
            }
            _ if last && !slash => {}
            _ => return err(libc::ENOTDIR),
        }
    }
    match gone {
        Some((m, e)) if out.len > m && resolve == Resolve::Exist => Err(e),
        _ => Ok(()),
    }
}

/// Puts the canonical path of the file the tracee's descriptor `fd` refers to in `out`, as the
/// tracee sees it (for `AT_EMPTY_PATH`, `fchdir`, and the NULL paths of `utimensat`). The
/// ` (deleted)` suffix of an unlinked file is dropped (`/memfd:name` for a memfd).
///
/// Errors (SPEC §2.8 for a dirfd): `EBADF` for a negative or unreadable descriptor; `ENOTDIR`
/// if it refers to no path (pipe, socket, anonymous inode); `ENOENT` if the file lies outside the
/// tracee's root; `ENAMETOOLONG`.
pub fn fd_path(tracee: &Tracee, fd: i32, out: &mut PathBuf) -> Result<(), Errno> {
    let mut root = Root::new(tracee.tid);
    read_base(&mut root, Some(fd), out).map(drop)
}

/// The status of the file at the canonical `path` (the tracee's view) under `root` (an
/// `O_PATH` descriptor of `/proc/<tid>/root`), following a final symlink. Errors: those of
/// `fstatat`; `EINVAL` for a path holding a NUL.
pub fn stat_canonical(root: &Fd, path: &mut PathBuf) -> Result<Stat, Errno> {
    sys::fstatat(Some(root), path.relative()?, 0)
}

/// Opens the file at the canonical `path` under `root` (as for [`stat_canonical`]) with
/// `flags`.
/// Errors: those of `openat`; `EINVAL` for a path holding a NUL.
pub fn open_canonical(root: &Fd, path: &mut PathBuf, flags: c_int) -> Result<Fd, Errno> {
    sys::openat(Some(root), path.relative()?, flags, 0)
}

/// Fails with `ENOTDIR` if `out` exists and is not a directory.
fn check_dir(root: &mut Root, out: &mut PathBuf) -> Result<(), Errno> {
    match sys::fstatat(Some(root.fd()?), out.relative()?, 0) {
        Ok(st) if st.kind() != libc::S_IFDIR => err(libc::ENOTDIR),
        _ => Ok(()),
    }
}

/// The replacement of `/proc/<name>` when it means "the caller" (SPEC §2.8 magic-link rewriting).
// Out of line: inlined into its caller it made the `syd` binary bigger (size budget).
#[inline(never)]
fn proc_rewrite(t: &Tracee, name: &[u8]) -> Result<Option<Small>, Errno> {
    let mut s = Small::new();
    match name {
        b"self" => s.num(t.tid.0)?,
        b"thread-self" => s.num(t.tgid.0)?.push(b"/task/")?.num(t.tid.0)?,
        b"mounts" | b"net" => s.num(t.tid.0)?.push(b"/")?.push(name)?,
        _ => return Ok(None),
    };
    Ok(Some(s))
}

/// Follows the symlink `out` (which `st` describes): a plain one by putting its target in front of
/// `rest`, a magic one by jumping to its object. `slash`: a `/` follows it; `end`: nothing does.
/// Returns a new "missing from here" mark when the link leads into an unlinked directory.
// Out of line: inlined into its caller it made the `syd` binary bigger (size budget).
#[inline(never)]
fn follow_link(
    root: &mut Root,
    out: &mut PathBuf,
    rest: &mut Rest,
    st: &Stat,
    slash: bool,
    end: bool,
) -> Result<Option<(usize, Errno)>, Errno> {
    let magic = is_magic_link(out.as_bytes()) && on_procfs(root.tid, out.as_bytes())?;
    let link = out.relative()?;
    let free = rest.free_mut();
    let n = sys::readlinkat(Some(root.fd()?), link, free)?;
    if n == 0 {
        return err(libc::ENOENT); // an empty target, as the kernel says
    }
    if n >= free.len() {
        return err(libc::ENAMETOOLONG); // maybe cut, and too long with the rest anyway
    }
    if magic {
        return match magic_target(root, free, n, LinkAt::InRoot(link))? {
            Magic::Path { len, deleted } => {
                out.set(free.get(..len).unwrap_or_default())?;
                match deleted {
                    Some(_) if end => Ok(None),
                    Some(libc::S_IFDIR) => Ok(Some((out.len, Errno(libc::ENOENT)))),
                    Some(_) => err(libc::ENOTDIR),
                    None => Ok(None),
                }
            }
            // The link is the object: no lookup goes through something that is not a directory.
            Magic::NotPath if !end => err(libc::ENOTDIR),
            // The kernel follows it itself when a later component is looked up through it.
            Magic::NotPath | Magic::Outside => Ok(None),
        };
    }
    let absolute = free.starts_with(b"/");
    restore_atime(root.fd()?, link, st);
    rest.commit_front(n, slash)?;
    if absolute {
        out.set_root();
    } else {
        out.pop();
    }
    Ok(None)
}

/// Whether `p` has the shape of a magic link: `/proc/<pid>[/task/<tid>]/` followed by `cwd`,
/// `root`, `exe`, `fd/<n>` or `map_files/<range>`.
fn is_magic_link(p: &[u8]) -> bool {
    fn number(r: &[u8]) -> Option<&[u8]> {
        let n = r.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        r.get(n..)?.strip_prefix(b"/")
    }
    let Some(r) = p.strip_prefix(b"/proc/").and_then(number) else {
        return false;
    };
    let r = r.strip_prefix(b"task/").and_then(number).unwrap_or(r);
    if matches!(r, b"cwd" | b"root" | b"exe") {
        return true;
    }
    if let Some(n) = r.strip_prefix(b"fd/") {
        return !n.is_empty() && n.iter().all(u8::is_ascii_digit);
    }
    r.strip_prefix(b"map_files/")
        .is_some_and(|n| !n.is_empty() && !n.contains(&b'/'))
}

/// Whether the directory holding `link` (a path in the tracee's root) is on procfs, so that the
/// link really is magic and not a look-alike in a chroot. Asked through `/proc/<tid>/root`.
fn on_procfs(tid: Pid, link: &[u8]) -> Result<bool, Errno> {
    let dir = link
        .iter()
        .rposition(|&b| b == b'/')
        .and_then(|cut| link.get(..cut))
        .unwrap_or_default();
    let mut p = proc_path(tid, b"root")?;
    p.push(dir)?;
    Ok(sys::statfs_type(p.cstr()?)? == PROC_SUPER_MAGIC)
}

/// Puts back the access time `readlink(2)` may have changed (SPEC §2.8 rule 7). The kernel
/// updates it like a read (`touch_atime` in fs/stat.c) as the mount's policy says. With
/// `relatime`, the default, only when it is not newer than the modification and change times, or
/// older than a day: then the link is looked at again and its old access time restored if it
/// moved. This is best effort: it needs ownership or `CAP_FOWNER`, sets the change time, and
/// misses the updates of `strictatime` mounts.
fn restore_atime(root: &Fd, link: &CStr, before: &Stat) {
    let refresh = before.mtime >= before.atime
        || before.ctime >= before.atime
        || sys::realtime_secs()
            .is_ok_and(|now| now.saturating_sub(before.atime.sec) >= RELATIME_SECS);
    if !refresh {
        return;
    }
    let nofollow = libc::AT_SYMLINK_NOFOLLOW;
    if sys::fstatat(Some(root), link, nofollow).is_ok_and(|now| now.atime != before.atime) {
        let _ = sys::utimensat(Some(root), link, Some(before.atime), None, nofollow);
    }
}

/// One component of the unresolved rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    /// Nothing but slashes were left.
    Empty,
    /// `.`
    Dot,
    /// `..`
    DotDot,
    /// A name, at `from..to` of the rest's buffer.
    Name(usize, usize),
}

/// A component and what follows it.
struct Step {
    token: Token,
    /// At least one `/` follows it.
    slash: bool,
    /// Nothing but slashes follows it.
    last: bool,
}

/// The part of the path not resolved yet, kept at the end of a `PATH_MAX` buffer so that a
/// symlink target can be read into the free space in front of it. It never holds `PATH_MAX` bytes
/// or more (`ENAMETOOLONG`).
struct Rest {
    buf: [u8; PATH_MAX],
    start: usize,
}

impl Rest {
    /// Errors: `ENAMETOOLONG` for `PATH_MAX` bytes or more.
    fn new(path: &[u8]) -> Result<Rest, Errno> {
        let start = PATH_MAX
            .checked_sub(path.len())
            .filter(|&s| s >= 1)
            .ok_or(Errno(libc::ENAMETOOLONG))?;
        let mut buf = [0; PATH_MAX];
        buf.get_mut(start..)
            .ok_or(Errno(libc::ENAMETOOLONG))?
            .copy_from_slice(path);
        Ok(Rest { buf, start })
    }

    /// Takes the next component, and the slashes around it.
    fn next(&mut self) -> Option<Step> {
        let s = self.buf.get(self.start..)?;
        if s.is_empty() {
            return None;
        }
        let lead = s.iter().take_while(|&&b| b == b'/').count();
        let body = s.get(lead..)?;
        let n = body.iter().position(|&b| b == b'/').unwrap_or(body.len());
        let after = body.get(n..)?;
        let trail = after.iter().take_while(|&&b| b == b'/').count();
        let from = self.start + lead; // all within the buffer: these are lengths of its parts
        self.start = from + n + trail;
        let token = match body.get(..n)? {
            b"" => Token::Empty,
            b"." => Token::Dot,
            b".." => Token::DotDot,
            _ => Token::Name(from, from + n),
        };
        Some(Step {
            token,
            slash: trail > 0,
            last: trail == after.len(),
        })
    }

    /// The bytes at `from..to`.
    fn get(&self, from: usize, to: usize) -> &[u8] {
        self.buf.get(from..to).unwrap_or_default()
    }

    /// The free space in front of the rest.
    fn free_mut(&mut self) -> &mut [u8] {
        self.buf.get_mut(..self.start).unwrap_or_default()
    }

    /// Makes the `n` bytes at the start of the free space (just written there) the front of the
    /// rest, with a `/` between them if `sep`. Errors: `ENAMETOOLONG` if the rest would reach
    /// `PATH_MAX` bytes.
    fn commit_front(&mut self, n: usize, sep: bool) -> Result<(), Errno> {
        let new_start = n
            .checked_add(usize::from(sep))
            .and_then(|need| self.start.checked_sub(need))
            .filter(|&s| s >= 1)
            .ok_or(Errno(libc::ENAMETOOLONG))?;
        // n + sep <= start - 1, so both ranges lie inside the buffer.
        self.buf.copy_within(..n, new_start);
        if sep {
            if let Some(b) = self.buf.get_mut(new_start + n) {
                *b = b'/';
            }
        }
        self.start = new_start;
        Ok(())
    }

    /// Puts `text` in front of the rest, with a `/` between them if `sep`.
    fn prepend(&mut self, text: &[u8], sep: bool) -> Result<(), Errno> {
        self.free_mut()
            .get_mut(..text.len())
            .ok_or(Errno(libc::ENAMETOOLONG))?
            .copy_from_slice(text);
        self.commit_front(text.len(), sep)
    }
}
