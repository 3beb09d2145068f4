//! The path system calls other than open, performed by the supervisor (SPEC §9 #1).
//!
//! Once every path of a call is checked and allowed, the supervisor makes the call itself on the
//! objects it checked and answers with the call's own result: the kernel never reads the
//! tracee's path again, so a thread that rewrites the path buffer after the check, or a symlink
//! swapped into a component, reaches nothing new.
//!
//! - Directory entries (`mkdir`, `mknod`, `unlink`, `rmdir`, `rename`, `link`, `symlink` and
//!   their `*at` forms): the parent of each canonical path is opened `O_PATH` from the tracee's
//!   root with `RESOLVE_NO_SYMLINKS | RESOLVE_IN_ROOT`, and the `*at` call acts on (parent, final
//!   name). The canonical path holds no symlink, so one swapped in after the check makes the open
//!   fail (`ELOOP`).
//! - Objects (`chmod`, `chown`, `truncate`, `utime*`, `setxattr`, `removexattr` families): the
//!   object itself is opened `O_PATH` the same way (`O_NOFOLLOW` where the call does not follow a
//!   final symlink), then acted on through that descriptor: `fchownat(fd, "", AT_EMPTY_PATH)`,
//!   `utimensat(fd, "", AT_EMPTY_PATH)`, and `chmod`, `truncate`, `setxattr`, `removexattr` on the
//!   magic link `/proc/self/fd/N`, which reaches exactly that object (a symlink itself for the
//!   `l*` calls). A `NULL` path of `utimensat`/`futimesat` and `""` with `AT_EMPTY_PATH` of
//!   `fchownat` name the tracee's descriptor: it is taken with `pidfd_getfd`, must be the object
//!   that was checked, and the call acts on it.
//! - Structures in tracee memory (times, xattr name and value, symlink target) are read once,
//!   with the layout of the calling ABI.
//! - The call runs with the tracee's fsuid, fsgid, groups and effective capabilities when syd
//!   runs as root, and with its umask for `mkdir`/`mknod`.
//!
//! Not emulated (check-then-continue), each with its reason at the code: `chdir`, `mount`,
//! `umount`, `umount2`, `listxattr`, `llistxattr`; `truncate64` of 32-bit ABIs other than x86
//! and arm (the register pairing of the 64-bit length is not modelled).

use alloc::ffi::CString;
use alloc::vec::Vec;
use core::ffi::CStr;

use syd_core::arch::{Endian, Word};
use syd_core::limits::PATH_MAX;
use syd_core::sandbox::{Cap, Mode};
use syd_core::syscall::{Follow, PathArg};

use super::{arg, e, open_root, parse_umask, relative_cstr, Call, Creds, Reply, Supervisor};
use crate::mem;
use crate::path::{self, Base, PathBuf, Tracee};
use crate::sys::{self, Answer, Errno, Fd, Notif};

/// A checked path of a call: how it was found, and its canonical form.
pub(super) struct Checked<'a> {
    /// The argument.
    pub(super) pa: &'a PathArg,
    /// The canonical path, as the tracee sees it.
    pub(super) path: &'a [u8],
}

/// `AT_FDCWD` (linux/fcntl.h).
const AT_FDCWD: i32 = -100;
/// `AT_SYMLINK_NOFOLLOW`, `AT_REMOVEDIR`, `AT_SYMLINK_FOLLOW`, `AT_EMPTY_PATH`
/// (linux/fcntl.h).
const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
const AT_REMOVEDIR: i32 = 0x200;
const AT_SYMLINK_FOLLOW: u64 = 0x400;
const AT_EMPTY_PATH: u64 = 0x1000;
/// `RESOLVE_NO_SYMLINKS | RESOLVE_IN_ROOT` (linux/openat2.h).
const RESOLVE_CHECKED: u64 = 0x04 | 0x10;
/// Longest extended attribute name (`XATTR_NAME_MAX`, linux/limits.h).
const XATTR_NAME_MAX: usize = 255;
/// Largest extended attribute value (`XATTR_SIZE_MAX`, linux/limits.h).
const XATTR_SIZE_MAX: u64 = 65536;
/// `XATTR_CREATE | XATTR_REPLACE` (linux/xattr.h).
const XATTR_FLAGS: u64 = 3;

/// What an emulated call does to its objects, with everything read from the tracee.
enum Op {
    Mkdir {
        mode: u32,
    },
    Mknod {
        mode: u32,
        dev: u32,
    },
    Unlink {
        flags: i32,
    },
    Rename {
        flags: u32,
    },
    Link {
        empty: bool,
    },
    Symlink {
        target: CString,
    },
    Chmod {
        mode: u32,
    },
    Chown {
        uid: u32,
        gid: u32,
        empty: bool,
    },
    Truncate {
        len: i64,
    },
    Utimes {
        times: Option<[[i64; 2]; 2]>,
        null: bool,
        flags: i32,
    },
    SetXattr {
        name: CString,
        value: Vec<u8>,
        flags: i32,
    },
    RemoveXattr {
        name: CString,
    },
}

impl Op {
    /// Whether the call makes a new entry (the tracee's umask applies).
    fn creates(&self) -> bool {
        matches!(self, Op::Mkdir { .. } | Op::Mknod { .. })
    }

    /// Whether the call works on directory entries (parents opened) rather than objects.
    fn on_entries(&self) -> bool {
        matches!(
            self,
            Op::Mkdir { .. }
                | Op::Mknod { .. }
                | Op::Unlink { .. }
                | Op::Rename { .. }
                | Op::Link { empty: false }
                | Op::Symlink { .. }
        )
    }

    /// Whether the first object is the tracee's descriptor rather than a path.
    fn on_descriptor(&self) -> bool {
        matches!(
            self,
            Op::Link { empty: true }
                | Op::Chown { empty: true, .. }
                | Op::Utimes { null: true, .. }
        )
    }
}

/// A C `int` argument: the low 32 bits, as the kernel reads it.
fn int(n: &Notif, i: u8) -> i32 {
    (arg(n, i) as u32).cast_signed() // the truncation is the point: the kernel reads an int
}

/// A C `unsigned int`/`umode_t`/`uid_t` argument: the low 32 bits.
fn uint(n: &Notif, i: u8) -> u32 {
    arg(n, i) as u32 // the truncation is the point: the kernel reads 32 bits
}

/// A 16-bit id of the old `chown` calls, widened as the kernel does (`low2highuid`): 0xffff
/// means "unchanged".
fn id16(v: u64) -> u32 {
    match v & 0xffff {
        0xffff => u32::MAX,
        // Masked to 16 bits: cannot truncate.
        x => x as u32,
    }
}

impl Supervisor {
    /// Answers a write-type path call whose paths were all checked and allowed: performs it on
    /// the checked objects with the tracee's identity (module doc), or continues the few calls
    /// listed there. `first` and `second` are the checked paths.
    pub(super) fn emulate_path(
        &mut self,
        n: &Notif,
        call: &Call,
        tracee: &Tracee,
        cap: Cap,
        first: &Checked<'_>,
        second: Option<&Checked<'_>>,
    ) -> Reply {
        match call.name {
            // SECURITY: chdir gives access to nothing by itself: every later path is checked
            // against the real cwd, read from /proc at that time. (A racing chdir can leave the
            // -D directory; what it reaches from there is still checked.)
            "chdir" => return Reply::Answer(Answer::Continue),
            // SECURITY: mounting needs CAP_SYS_ADMIN, which the default filter already refuses
            // to these calls (level 0): the check here is a second line only.
            "mount" | "umount" | "umount2" => return Reply::Answer(Answer::Continue),
            // SECURITY: listing attribute names reads nothing that getxattr, which is not
            // sandboxed (SPEC §2.10), does not read anyway.
            "listxattr" | "llistxattr" => return Reply::Answer(Answer::Continue),
            _ => {}
        }
        let tgid = tracee.tgid.0;
        if self.policy(tgid).mode(cap) == Mode::Off {
            // SECURITY: the type is off for this task: nothing was checked, nothing can race.
            return Reply::Answer(Answer::Continue);
        }
        let op = match self.decode(n, call) {
            Ok(Some(op)) => op,
            // SECURITY: the argument layout of this ABI is not modelled (module doc): the
            // check-then-use race remains for this call.
            Ok(None) => return Reply::Answer(Answer::Continue),
            Err(err) => return Reply::Answer(Answer::Errno(err)),
        };
        if !self.valid(n) {
            return Reply::Answer(Answer::Errno(Errno(e::ESRCH)));
        }
        if op.on_entries() {
            if let Some(err) = self.tail_errno(n, tracee, &op, first, second) {
                return Reply::Answer(Answer::Errno(err));
            }
        }
        // With the supervisor's own identity: what needs ptrace access to the tracee.
        let root = match open_root(tracee.tid) {
            Ok(r) => r,
            Err(err) => return Reply::Answer(Answer::Errno(err)),
        };
        let given = if op.on_descriptor() {
            match self.tracee_fd(n, tracee, &root, first) {
                Ok(fd) => Some(fd),
                Err(err) => return Reply::Answer(Answer::Errno(err)),
            }
        } else {
            None
        };
        let mut buf = [0u8; 4096];
        let status = if self.root || op.creates() {
            let len = self.read_status(tracee.tid, &mut buf).unwrap_or(0);
            buf.get(..len).unwrap_or(&[])
        } else {
            &[]
        };
        let creds = match &self.caps {
            Some(ours) if self.root => Creds::of(tracee.tid, status, ours, &self.user_ns),
            _ => None,
        };
        let umask = op.creates().then(|| parse_umask(status).unwrap_or(0o022));
        // With the tracee's identity: every lookup and the call itself.
        let saved = creds.as_ref().map(|c| c.enter(self.caps));
        let old_umask = umask.map(sys::umask);
        let nofollow = first.pa.follow_for(&n.args) == Follow::No;
        let r = perform(&op, &root, given.as_ref(), nofollow, first, second);
        if let Some(old) = old_umask {
            sys::umask(old);
        }
        if let Some(s) = saved {
            s.leave();
        }
        Reply::Answer(match r {
            Ok(()) => Answer::Value(0),
            Err(err) => Answer::Errno(err),
        })
    }

    /// Reads what call `call` needs besides its paths, once. `Ok(None)` when the ABI's layout is
    /// not modelled. Errors: the kernel's for bad flags or structures (`EINVAL`, `EFAULT`,
    /// `ERANGE`, `E2BIG`, `ENAMETOOLONG`, `ENOENT`, `ENOSYS` for an unknown call).
    fn decode(&self, n: &Notif, call: &Call) -> Result<Option<Op>, Errno> {
        let w64 = call.arch.word == Word::W64;
        let op = match call.name {
            "mkdir" => Op::Mkdir { mode: uint(n, 1) },
            "mkdirat" => Op::Mkdir { mode: uint(n, 2) },
            "mknod" => Op::Mknod {
                mode: uint(n, 1),
                dev: uint(n, 2),
            },
            "mknodat" => Op::Mknod {
                mode: uint(n, 2),
                dev: uint(n, 3),
            },
            "unlink" => Op::Unlink { flags: 0 },
            "rmdir" => Op::Unlink {
                flags: AT_REMOVEDIR,
            },
            "unlinkat" => Op::Unlink { flags: int(n, 2) },
            "rename" | "renameat" => Op::Rename { flags: 0 },
            "renameat2" => Op::Rename { flags: uint(n, 4) },
            "link" => Op::Link { empty: false },
            "linkat" => {
                let flags = arg(n, 4) & 0xffff_ffff;
                if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
                    return Err(Errno(libc::EINVAL));
                }
                let empty = flags & AT_EMPTY_PATH != 0 && self.path_is_empty(n, 1);
                Op::Link { empty }
            }
            "symlink" | "symlinkat" => {
                let mut buf = [0u8; PATH_MAX];
                let t = mem::read_cstr(self.method, n.pid, arg(n, 0), &mut buf)?;
                if t.is_empty() {
                    return Err(Errno(e::ENOENT));
                }
                Op::Symlink {
                    target: crate::setup::cstring(t)?,
                }
            }
            "chmod" => Op::Chmod { mode: uint(n, 1) },
            "fchmodat" => Op::Chmod { mode: uint(n, 2) },
            "fchmodat2" => {
                if arg(n, 3) & 0xffff_ffff & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
                    return Err(Errno(libc::EINVAL));
                }
                Op::Chmod { mode: uint(n, 2) }
            }
            "chown" | "lchown" if call.arch.nr("chown32").is_some() => Op::Chown {
                uid: id16(arg(n, 1)),
                gid: id16(arg(n, 2)),
                empty: false,
            },
            "chown" | "lchown" | "chown32" | "lchown32" => Op::Chown {
                uid: uint(n, 1),
                gid: uint(n, 2),
                empty: false,
            },
            "fchownat" => {
                let flags = arg(n, 4) & 0xffff_ffff;
                if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
                    return Err(Errno(libc::EINVAL));
                }
                Op::Chown {
                    uid: uint(n, 2),
                    gid: uint(n, 3),
                    empty: flags & AT_EMPTY_PATH != 0 && self.path_is_empty(n, 1),
                }
            }
            "truncate" if w64 => Op::Truncate {
                len: arg(n, 1).cast_signed(),
            },
            // A 32-bit `long`, sign-extended.
            "truncate" => Op::Truncate {
                len: i64::from(int(n, 1)),
            },
            "truncate64" => {
                // The 64-bit length in two registers: x86 passes (low, high) in a1, a2; arm
                // EABI aligns the pair to an even register: a2, a3 (arch/*/kernel entry code).
                let (lo, hi) = match call.arch.name {
                    "x86" => (uint(n, 1), uint(n, 2)),
                    "arm" => (uint(n, 2), uint(n, 3)),
                    _ => return Ok(None),
                };
                Op::Truncate {
                    len: (u64::from(lo) | (u64::from(hi) << 32)).cast_signed(),
                }
            }
            "utime" => {
                let t = self.read_times(n, call, 1, if w64 { 8 } else { 4 }, 2)?;
                Op::Utimes {
                    times: t.map(|[a, m, _, _]| [[a, 0], [m, 0]]),
                    null: false,
                    flags: 0,
                }
            }
            "utimes" | "futimesat" => {
                let (at, null) = if call.name == "utimes" {
                    (1, false)
                } else {
                    (2, arg(n, 1) == 0)
                };
                let t = self.read_times(n, call, at, if w64 { 8 } else { 4 }, 4)?;
                let times = match t {
                    None => None,
                    Some([s0, u0, s1, u1]) => {
                        // fs/utimes.c: microseconds out of range are refused.
                        if !(0..1_000_000).contains(&u0) || !(0..1_000_000).contains(&u1) {
                            return Err(Errno(libc::EINVAL));
                        }
                        Some([[s0, u0 * 1000], [s1, u1 * 1000]])
                    }
                };
                Op::Utimes {
                    times,
                    null,
                    flags: 0,
                }
            }
            "utimensat" | "utimensat_time64" => {
                let flags = arg(n, 3) & 0xffff_ffff;
                if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
                    return Err(Errno(libc::EINVAL));
                }
                let width = if w64 || call.name == "utimensat_time64" {
                    8
                } else {
                    4
                };
                let t = self.read_times(n, call, 2, width, 4)?;
                Op::Utimes {
                    times: t.map(|[s0, n0, s1, n1]| [[s0, n0], [s1, n1]]),
                    null: arg(n, 1) == 0,
                    flags: int(n, 3),
                }
            }
            "setxattr" | "lsetxattr" => {
                let flags = arg(n, 4) & 0xffff_ffff;
                if flags & !XATTR_FLAGS != 0 {
                    return Err(Errno(libc::EINVAL));
                }
                let name = self.read_xattr_name(n)?;
                let size = arg(n, 3);
                if size > XATTR_SIZE_MAX {
                    return Err(Errno(libc::E2BIG));
                }
                // size <= 65536 was checked just above.
                let mut value = alloc::vec![0u8; size as usize];
                if !value.is_empty() {
                    mem::read_exact(self.method, n.pid, arg(n, 2), &mut value)?;
                }
                Op::SetXattr {
                    name,
                    value,
                    flags: int(n, 4),
                }
            }
            "removexattr" | "lremovexattr" => Op::RemoveXattr {
                name: self.read_xattr_name(n)?,
            },
            // SECURITY: fail closed: a path call this module does not know is refused rather
            // than continued with its race.
            _ => return Err(Errno(e::ENOSYS)),
        };
        Ok(Some(op))
    }

    /// The `count` (2 or 4) integers of `width` bytes, in the ABI's byte order, at argument
    /// `at` (`[sec, frac, sec, frac]` for two times, `[sec, sec, 0, 0]` for `struct utimbuf`),
    /// or `None` for a NULL pointer ("now"). Errors: `EFAULT`.
    fn read_times(
        &self,
        n: &Notif,
        call: &Call,
        at: u8,
        width: usize,
        count: usize,
    ) -> Result<Option<[i64; 4]>, Errno> {
        let addr = arg(n, at);
        if addr == 0 {
            return Ok(None);
        }
        let mut raw = [0u8; 32];
        let bytes = raw.get_mut(..count * width).ok_or(Errno(e::EFAULT))?;
        mem::read_exact(self.method, n.pid, addr, bytes)?;
        let big = call.arch.endian == Endian::Big;
        let mut out = [0i64; 4];
        for (o, c) in out.iter_mut().zip(bytes.chunks_exact(width)) {
            *o = match (width, big) {
                (8, false) => i64::from_le_bytes(c.try_into().map_err(|_| Errno(e::EFAULT))?),
                (8, true) => i64::from_be_bytes(c.try_into().map_err(|_| Errno(e::EFAULT))?),
                (_, false) => i64::from(i32::from_le_bytes(
                    c.try_into().map_err(|_| Errno(e::EFAULT))?,
                )),
                (_, true) => i64::from(i32::from_be_bytes(
                    c.try_into().map_err(|_| Errno(e::EFAULT))?,
                )),
            };
        }
        Ok(Some(out))
    }

    /// The extended attribute name at argument 1. Errors as the kernel's: `ERANGE` for an
    /// empty name or one longer than `XATTR_NAME_MAX`, `EFAULT`.
    fn read_xattr_name(&self, n: &Notif) -> Result<CString, Errno> {
        let mut buf = [0u8; XATTR_NAME_MAX + 1];
        match mem::read_cstr(self.method, n.pid, arg(n, 1), &mut buf) {
            Ok([]) | Err(Errno(libc::ENAMETOOLONG)) => Err(Errno(libc::ERANGE)),
            Ok(name) => crate::setup::cstring(name),
            Err(err) => Err(err),
        }
    }

    /// Whether the string at argument `idx` is empty. Read a second time, only to choose how to
    /// act: both choices act on a checked object (`tracee_fd` compares the descriptor with it).
    fn path_is_empty(&self, n: &Notif, idx: u8) -> bool {
        let mut b = [0u8; 1];
        mem::read(self.method, n.pid, arg(n, idx), &mut b) == Ok(1) && b == [0]
    }

    /// The tracee's descriptor named by `first`'s dirfd, taken with `pidfd_getfd`, if it still
    /// refers to the object that was checked (same device and inode as the canonical path, or,
    /// for a file that has no name any more, the same path reported). Errors: `EFAULT` for a
    /// NULL path with `AT_FDCWD` (as the kernel); `EBADF`; `EPERM` when the descriptor changed.
    fn tracee_fd(
        &self,
        n: &Notif,
        tracee: &Tracee,
        root: &Fd,
        first: &Checked<'_>,
    ) -> Result<Fd, Errno> {
        let dirfd = first.pa.dirfd.map_or(AT_FDCWD, |d| int(n, d));
        if dirfd == AT_FDCWD {
            // fs/utimes.c do_utimes: a NULL path is only taken with a real descriptor.
            return Err(Errno(e::EFAULT));
        }
        let pidfd = sys::pidfd_open(tracee.tgid)?;
        let fd = sys::pidfd_getfd(&pidfd, dirfd).map_err(|_| Errno(e::EBADF))?;
        let ours = sys::fstat(&fd)?;
        let rel = relative_cstr(first.path);
        let same = match sys::fstatat(Some(root), &rel, libc::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => (st.dev, st.ino) == (ours.dev, ours.ino),
            Err(_) => {
                let me = Tracee {
                    tid: sys::getpid(),
                    tgid: sys::getpid(),
                };
                let mut p = PathBuf::new();
                path::fd_path(&me, fd.raw(), &mut p).is_ok() && p.as_bytes() == first.path
            }
        };
        if same {
            Ok(fd)
        } else {
            // SECURITY: another file took the descriptor number after the check.
            Err(Errno(e::EPERM))
        }
    }

    /// The kernel's errno for a final component the canonical path no longer shows: `.`, `..`
    /// or `/` as the last component, or a trailing `/` after a symlink (which the canonical path
    /// followed) or after a name that must not be a directory. The raw paths are read again,
    /// but only to refuse: whatever they hold now, no call is made on them.
    fn tail_errno(
        &self,
        n: &Notif,
        tracee: &Tracee,
        op: &Op,
        first: &Checked<'_>,
        second: Option<&Checked<'_>>,
    ) -> Option<Errno> {
        // For each path that names an entry: the errno of a `.`/`..`/`/` ending, and of a
        // trailing slash after a symlink.
        let (dots, link_slash) = match op {
            Op::Mkdir { .. } | Op::Mknod { .. } | Op::Symlink { .. } => {
                (libc::EEXIST, libc::EEXIST)
            }
            Op::Unlink { flags } if flags & AT_REMOVEDIR != 0 => (0, libc::ENOTDIR),
            Op::Unlink { .. } => (libc::EISDIR, libc::ENOTDIR),
            Op::Rename { .. } => (libc::EBUSY, libc::ENOTDIR),
            Op::Link { .. } => (0, 0),
            _ => return None,
        };
        let entries: [Option<&Checked<'_>>; 2] = match op {
            Op::Link { .. } => [second, None],
            Op::Rename { .. } => [Some(first), second],
            _ => [Some(first), None],
        };
        let mut slash_on_target = false;
        for (i, c) in entries.iter().enumerate() {
            let Some(c) = c else { continue };
            let mut raw = [0u8; PATH_MAX];
            let Ok(p) = mem::read_cstr(self.method, n.pid, arg(n, c.pa.path), &mut raw) else {
                continue;
            };
            let trimmed = trim_slashes(p);
            let last = trimmed.rsplit(|&b| b == b'/').next().unwrap_or(&[]);
            let slash = trimmed.len() < p.len();
            if trimmed.is_empty() || last == b"." || last == b".." {
                // rmdir: `.` EINVAL, `..` ENOTEMPTY, `/` EBUSY (fs/namei.c do_rmdir).
                let rmdir = match last {
                    b"." => libc::EINVAL,
                    b".." => libc::ENOTEMPTY,
                    _ => libc::EBUSY,
                };
                let errno = match op {
                    Op::Link { .. } => libc::EEXIST,
                    _ if dots == 0 => rmdir,
                    _ => dots,
                };
                return Some(Errno(errno));
            }
            if !slash {
                continue;
            }
            slash_on_target |= i == 1;
            let created = matches!(op, Op::Mknod { .. } | Op::Symlink { .. } | Op::Link { .. });
            if created {
                // fs/namei.c filename_create: a trailing slash asks for a directory.
                let exists = open_in_root_path(tracee, c.path);
                return Some(Errno(if exists { libc::EEXIST } else { libc::ENOENT }));
            }
            // The entry itself, its final symlink not followed: if it differs from the
            // canonical path, the trailing slash followed a symlink the kernel would not.
            let base =
                c.pa.dirfd
                    .map_or(Base::Cwd, |d| Base::from_dirfd(arg(n, d)));
            let mut own = PathBuf::new();
            let resolve = match c.pa.resolve {
                syd_core::syscall::Resolve::Exist => path::Resolve::Exist,
                syd_core::syscall::Resolve::NoLast => path::Resolve::NoLast,
            };
            let same =
                path::canonicalize(tracee, base, trimmed, resolve, path::Follow::No, &mut own)
                    .is_ok_and(|()| own.as_bytes() == c.path);
            if !same {
                return Some(Errno(link_slash));
            }
            if matches!(op, Op::Unlink { flags } if flags & AT_REMOVEDIR == 0) {
                // fs/namei.c do_unlinkat: a trailing slash never names a file to unlink.
                return Some(Errno(libc::EISDIR));
            }
        }
        if slash_on_target && matches!(op, Op::Rename { .. }) && !is_dir_path(tracee, first.path) {
            // fs/namei.c do_renameat2: a trailing slash on the target needs a directory.
            return Some(Errno(libc::ENOTDIR));
        }
        None
    }
}

/// Whether the canonical `path` names an existing object in the tracee's root.
fn open_in_root_path(tracee: &Tracee, path: &[u8]) -> bool {
    open_root(tracee.tid).is_ok_and(|r| {
        sys::fstatat(Some(&r), &relative_cstr(path), libc::AT_SYMLINK_NOFOLLOW).is_ok()
    })
}

/// Whether the canonical `path` names a directory (not a symlink) in the tracee's root.
fn is_dir_path(tracee: &Tracee, path: &[u8]) -> bool {
    open_root(tracee.tid).is_ok_and(|r| {
        sys::fstatat(Some(&r), &relative_cstr(path), libc::AT_SYMLINK_NOFOLLOW)
            .is_ok_and(|st| st.kind() == libc::S_IFDIR)
    })
}

/// `p` without its trailing slashes (`/` stays as the empty string).
fn trim_slashes(p: &[u8]) -> &[u8] {
    let end = p.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
    p.get(..end).unwrap_or(&[])
}

/// Makes the call: opens the parents or the objects from `root` and acts on them.
fn perform(
    op: &Op,
    root: &Fd,
    given: Option<&Fd>,
    nofollow: bool,
    first: &Checked<'_>,
    second: Option<&Checked<'_>>,
) -> Result<(), Errno> {
    let second_parent = || -> Result<(Fd, CString), Errno> {
        open_parent(root, second.ok_or(Errno(e::EFAULT))?.path)
    };
    if op.on_entries() {
        let (dir, name) = open_parent(root, first.path)?;
        return match op {
            Op::Mkdir { mode } => sys::mkdirat(&dir, &name, *mode),
            Op::Mknod { mode, dev } => sys::mknodat(&dir, &name, *mode, *dev),
            Op::Unlink { flags } => sys::unlinkat(&dir, &name, *flags),
            Op::Symlink { target } => sys::symlinkat(target, &dir, &name),
            Op::Rename { flags } => {
                let (dir2, name2) = second_parent()?;
                sys::renameat2(&dir, &name, &dir2, &name2, *flags)
            }
            Op::Link { .. } => {
                // The name itself: with AT_SYMLINK_FOLLOW the canonical path already names
                // the link's target.
                let (dir2, name2) = second_parent()?;
                sys::linkat(Some(&dir), &name, &dir2, &name2, 0)
            }
            _ => Err(Errno(e::ENOSYS)),
        };
    }
    let opened;
    let obj = match given {
        Some(fd) => fd,
        None => {
            // Not following a final symlink where the check did not follow it: a symlink found
            // there now is the entry that was checked.
            let nofollow = if nofollow { libc::O_NOFOLLOW } else { 0 };
            opened = open_in_root(root, &relative_cstr(first.path), libc::O_PATH | nofollow)?;
            &opened
        }
    };
    let magic = proc_self_fd(obj);
    match op {
        Op::Link { .. } => {
            // AT_EMPTY_PATH of a descriptor: linked through its magic link, which needs no
            // CAP_DAC_READ_SEARCH (open(2), O_TMPFILE).
            let (dir2, name2) = second_parent()?;
            sys::linkat(None, &magic, &dir2, &name2, libc::AT_SYMLINK_FOLLOW)
        }
        Op::Chmod { mode } => sys::chmod_path(&magic, *mode),
        Op::Chown { uid, gid, .. } => sys::fchownat(obj, c"", *uid, *gid, libc::AT_EMPTY_PATH),
        Op::Truncate { len } => sys::truncate(&magic, *len),
        Op::Utimes { times, null, flags } => {
            if *null {
                // The kernel's own rules for a descriptor: flags refused, O_PATH refused.
                return sys::utimensat_raw(Some(obj), None, times.as_ref(), *flags);
            }
            match sys::utimensat_raw(Some(obj), Some(c""), times.as_ref(), libc::AT_EMPTY_PATH) {
                // Linux < 5.8 refuses AT_EMPTY_PATH here: the magic link reaches the same
                // object unless it is a symlink (which it would follow).
                Err(Errno(libc::EINVAL)) if !is_symlink(obj) => {
                    sys::utimensat_raw(None, Some(&magic), times.as_ref(), 0)
                }
                r => r,
            }
        }
        Op::SetXattr { name, value, flags } => sys::setxattr(&magic, name, value, *flags),
        Op::RemoveXattr { name } => sys::removexattr(&magic, name),
        _ => Err(Errno(e::ENOSYS)),
    }
}

/// Whether `fd` refers to a symlink.
fn is_symlink(fd: &Fd) -> bool {
    sys::fstat(fd).is_ok_and(|st| st.kind() == libc::S_IFLNK)
}

/// `/proc/self/fd/<fd>`: the magic link to exactly the object `fd` refers to.
fn proc_self_fd(fd: &Fd) -> CString {
    let mut s = Vec::with_capacity(32);
    s.extend_from_slice(b"/proc/self/fd/");
    syd_core::report::put_int(&mut |b: &[u8]| s.extend_from_slice(b), i64::from(fd.raw()));
    CString::new(s).unwrap_or_else(|_| CString::from(c"/proc/self/fd/-1"))
}

/// Opens the parent directory of the canonical `path` from `root` (module doc) and returns it
/// with the final name. Errors: those of the open; `EBUSY` for `/` (no parent).
fn open_parent(root: &Fd, path: &[u8]) -> Result<(Fd, CString), Errno> {
    let cut = path
        .iter()
        .rposition(|&b| b == b'/')
        .ok_or(Errno(libc::EINVAL))?;
    let (parent, name) = (
        path.get(..cut).unwrap_or(&[]),
        path.get(cut + 1..).unwrap_or(&[]),
    );
    if name.is_empty() {
        return Err(Errno(libc::EBUSY));
    }
    let dir = open_in_root(
        root,
        &relative_cstr(parent),
        libc::O_PATH | libc::O_DIRECTORY,
    )?;
    Ok((dir, crate::setup::cstring(name)?))
}

/// Opens `rel` (a canonical path without its leading `/`) from `root` with `flags` (`O_PATH`,
/// maybe `O_NOFOLLOW`, `O_DIRECTORY`), refusing every symlink on the way (`ELOOP`) but a final
/// one opened with `O_NOFOLLOW`.
// SECURITY: the canonical path has no symlinks left: any symlink swapped in after the check
// makes the open fail.
fn open_in_root(root: &Fd, rel: &CStr, flags: i32) -> Result<Fd, Errno> {
    let how = sys::OpenHow {
        // The O_* flags used here are positive ints: the cast widens.
        flags: (flags | libc::O_CLOEXEC) as u32 as u64,
        mode: 0,
        resolve: RESOLVE_CHECKED,
    };
    match sys::openat2(Some(root), rel, &how) {
        Err(Errno(libc::ENOSYS)) => walk(root, rel, flags),
        r => r,
    }
}

/// [`open_in_root`] before Linux 5.6 (no openat2): one component at a time, each opened
/// `O_PATH | O_NOFOLLOW` and refused if it is a symlink (or, but for the last, no directory).
fn walk(root: &Fd, rel: &CStr, flags: i32) -> Result<Fd, Errno> {
    let step = libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    let mut fd = sys::openat(Some(root), c".", step, 0)?;
    let bytes = rel.to_bytes();
    if bytes == b"." {
        return Ok(fd);
    }
    let mut parts = bytes.split(|&b| b == b'/').peekable();
    while let Some(part) = parts.next() {
        let last = parts.peek().is_none();
        let next = sys::openat(Some(&fd), &crate::setup::cstring(part)?, step, 0)?;
        let kind = sys::fstat(&next)?.kind();
        if kind == libc::S_IFLNK && !(last && flags & libc::O_NOFOLLOW != 0) {
            return Err(Errno(e::ELOOP));
        }
        let want_dir = !last || flags & libc::O_DIRECTORY != 0;
        if want_dir && kind != libc::S_IFDIR && kind != libc::S_IFLNK {
            return Err(Errno(e::ENOTDIR));
        }
        fd = next;
    }
    Ok(fd)
}
