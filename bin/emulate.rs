//! The path system calls other than open, performed by the supervisor (SPEC §9 #1).
//!
//! Once every path of a call is checked and allowed, the supervisor makes the call itself on the
//! objects it checked and answers with the call's own result: the kernel never reads the
//! tracee's path again, so a thread that rewrites the path buffer after the check, or a symlink
//! swapped into a component, reaches nothing new. The core's [`Emulate`] says how, per call.
//!
//! - Directory entries (`mkdir`, `mknod`, `unlink`, `rmdir`, `rename`, `link`, `symlink` and
//!   their `*at` forms): the parent of each canonical path is opened `O_PATH` from the tracee's
//!   root with `RESOLVE_NO_SYMLINKS | RESOLVE_IN_ROOT`, and the `*at` call acts on (parent, final
//!   name). The canonical path holds no symlink, so one swapped in after the check makes the open
//!   fail (`ELOOP`). The final name is the tracee's own (read again, and taken only if it is the
//!   checked one, `.` or `..`), trailing slash included, so that the kernel applies its rules for
//!   those. `link`'s source is an object: its canonical parent and name.
//! - Objects (`chmod`, `chown`, `truncate`, `utime*`, `setxattr`, `removexattr` families): the
//!   object itself is opened `O_PATH` the same way (`O_NOFOLLOW` where the check did not follow
//!   a final symlink), then acted on through that descriptor: `fchownat(fd, "", AT_EMPTY_PATH)`,
//!   and `chmod`, `truncate`, `utimensat`, `setxattr`, `removexattr` on the magic link
//!   `/proc/self/fd/N`, which reaches exactly that object (a symlink itself for the `l*` calls);
//!   `utimensat` with `AT_SYMLINK_NOFOLLOW` uses `utimensat(fd, "", AT_EMPTY_PATH)` (Linux 5.8;
//!   before, `EINVAL`).
//! - Structures in tracee memory (times, xattr name and value, symlink target) are read once,
//!   with the layout of the calling ABI. Flags go to the supervisor's own call, so the kernel
//!   refuses the bits it does not know.
//! - The call runs with the tracee's fsuid, fsgid, groups and effective capabilities when syd
//!   runs as root, and with its umask for `mkdir`/`mknod`.
//!
//! Known differences from the kernel's answers: the call is made on the canonical path, so a
//! path through a missing directory and `..` (`missing/../x`, which SPEC §2.8 resolves to `x`)
//! succeeds where the kernel fails with `ENOENT`; `rmdir("/")` fails with `EINVAL`, not `EBUSY`;
//! `fchmodat` with `AT_SYMLINK_NOFOLLOW` in its (ignored) fourth argument acts on the link that
//! was checked, not on its target; the path is checked before flags and structures are.
//!
//! Not emulated (check-then-continue), each with its reason at the code: `chdir`, `mount`,
//! `umount`, `umount2`, `listxattr`, `llistxattr`, a type in the `off` state, objects named by a
//! descriptor (`utimensat`/`futimesat` with a NULL path, `fchownat` with `""` and
//! `AT_EMPTY_PATH`), and `truncate64` of 32-bit ABIs other than x86 and arm. Without openat2
//! (Linux 5.5) the calls fail with `ENOSYS` rather than reopen the race.

use core::ffi::CStr;

use syd_core::arch::Word;
use syd_core::limits::PATH_MAX;
use syd_core::sandbox::Cap;
use syd_core::syscall::{emulate_of, Emulate, Flags, Follow, PathArg, Times};

use super::{arg, e, open_root, relative_cstr, Call, Reply, Saved, Supervisor};
use crate::mem;
use crate::path::Tracee;
use crate::sys::{self, Answer, Errno, Fd, Notif};

/// What [`Supervisor::enter_tracee`] replaced.
pub(super) struct Identity {
    saved: Option<Saved>,
    umask: Option<u32>,
}

impl Identity {
    /// Restores the supervisor's identity and umask.
    pub(super) fn leave(self) {
        if let Some(old) = self.umask {
            sys::umask(old);
        }
        if let Some(s) = self.saved {
            s.leave();
        }
    }
}

/// A checked path of a call: how it was found, and its canonical form.
pub(super) struct Checked<'a> {
    /// The argument.
    pub(super) pa: &'a PathArg,
    /// The canonical path, as the tracee sees it.
    pub(super) path: &'a [u8],
}

/// `AT_REMOVEDIR`, `AT_SYMLINK_FOLLOW`, `AT_EMPTY_PATH` (linux/fcntl.h).
const AT_REMOVEDIR: i32 = 0x200;
const AT_SYMLINK_FOLLOW: i32 = 0x400;
const AT_EMPTY_PATH: i32 = 0x1000;
/// `AUDIT_ARCH_I386`, `AUDIT_ARCH_ARM` (linux/audit.h).
const AUDIT_ARCH_I386: u32 = 0x4000_0003;
const AUDIT_ARCH_ARM: u32 = 0x4000_0028;
/// `RESOLVE_NO_SYMLINKS | RESOLVE_IN_ROOT` (linux/openat2.h).
const RESOLVE_CHECKED: u64 = 0x04 | 0x10;
/// Longest extended attribute name (`XATTR_NAME_MAX`, linux/limits.h).
const XATTR_NAME_MAX: usize = 255;
/// Largest extended attribute value (`XATTR_SIZE_MAX`, linux/limits.h).
const XATTR_SIZE_MAX: u64 = 65536;

/// A C `int` argument: the low 32 bits, as the kernel reads it.
fn int(n: &Notif, i: u8) -> i32 {
    (arg(n, i) as u32).cast_signed() // the truncation is the point: the kernel reads an int
}

/// A C `unsigned int`/`umode_t`/`uid_t` argument: the low 32 bits.
fn uint(n: &Notif, i: u8) -> u32 {
    arg(n, i) as u32 // the truncation is the point: the kernel reads 32 bits
}

/// `buf[..len]` with the NUL that follows it, as a C string (empty if there is none).
fn cstr(buf: &[u8], len: usize) -> &CStr {
    CStr::from_bytes_with_nul(buf.get(..=len).unwrap_or_default()).unwrap_or_default()
}

/// What was read from the tracee for a call, once.
struct Data {
    /// The symlink target or the attribute name, and a NUL.
    text: [u8; PATH_MAX],
    /// The length of `text`.
    len: usize,
    /// The attribute value.
    value: alloc::vec::Vec<u8>,
    /// The times, as two kernel timespecs (`None`: now).
    times: Option<[[i64; 2]; 2]>,
}

impl Supervisor {
    /// Answers a write-type path call whose paths were all checked and allowed: performs it on
    /// the checked objects with the tracee's identity (module doc), or continues the calls
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
        let Some(emulate) = emulate_of(call.name) else {
            // SECURITY: fail closed: a path call without an emulation is refused.
            return Reply::Answer(Answer::Errno(Errno(e::ENOSYS)));
        };
        // SECURITY: not emulated: chdir gives access to nothing by itself (every later path is
        // checked against the real cwd, read from /proc at that time; a racing chdir can leave
        // the -D directory, but what it reaches from there is still checked). mount, umount and
        // umount2 need CAP_SYS_ADMIN, which the default filter refuses to them already (level
        // 0). listxattr and llistxattr list names that getxattr, not sandboxed (SPEC §2.10),
        // reads anyway. A type that is off, or allows every path, checked nothing: nothing can
        // race.
        if matches!(emulate, Emulate::Continue) || self.policy(tracee.tgid.0).allows_every_path(cap)
        {
            return Reply::Answer(Answer::Continue);
        }
        Reply::Answer(
            match self.emulate(n, call, tracee, emulate, first, second) {
                Ok(()) => Answer::Value(0),
                // SECURITY: Errno(0) continues: an object named by a descriptor, not a path (the
                // tracee opened it, and the unchecked fchown, fchmod, ftruncate, fsetxattr act on
                // any such descriptor anyway, SPEC §2.9); or an argument layout this ABI has that
                // is not modelled (module doc).
                Err(Errno(0)) => Answer::Continue,
                Err(err) => Answer::Errno(err),
            },
        )
    }

    /// [`Self::emulate_path`] once it is decided to emulate; `Err(Errno(0))` to continue.
    fn emulate(
        &mut self,
        n: &Notif,
        call: &Call,
        tracee: &Tracee,
        emulate: Emulate,
        first: &Checked<'_>,
        second: Option<&Checked<'_>>,
    ) -> Result<(), Errno> {
        let (pid, method) = (n.pid, self.method);
        let fl = match emulate {
            Emulate::Unlink(f)
            | Emulate::Rename(f)
            | Emulate::Link(f)
            | Emulate::Chown(_, f)
            | Emulate::Times(_, _, f) => match f {
                Flags::None => 0,
                Flags::Arg(i) => int(n, i),
                Flags::RemoveDir => AT_REMOVEDIR,
            },
            _ => 0,
        };
        let path = arg(n, first.pa.path);
        let descriptor = match emulate {
            Emulate::Times(..) => first.pa.null_is_dirfd && path == 0,
            // Read again only to choose: either way the object acted on is one the tracee may
            // reach (the checked path, or a descriptor as above).
            Emulate::Chown(..) => {
                let mut b = [1u8];
                fl & AT_EMPTY_PATH != 0 && mem::read(method, pid, path, &mut b).is_ok() && b == [0]
            }
            _ => false,
        };
        if descriptor {
            return Err(Errno(0));
        }
        let mut data = Data {
            text: [0; PATH_MAX],
            len: 0,
            value: alloc::vec::Vec::new(),
            times: None,
        };
        match emulate {
            Emulate::Symlink => {
                data.len = mem::read_cstr(method, pid, arg(n, 0), &mut data.text)?.len();
                if data.len == 0 {
                    return Err(Errno(e::ENOENT));
                }
            }
            Emulate::SetXattr | Emulate::RemoveXattr => {
                let name = data.text.get_mut(..=XATTR_NAME_MAX).unwrap_or_default();
                // fs/xattr.c: a name longer than XATTR_NAME_MAX is out of range.
                data.len = match mem::read_cstr(method, pid, arg(n, 1), name) {
                    Err(Errno(libc::ENAMETOOLONG)) => return Err(Errno(libc::ERANGE)),
                    r => r?.len(),
                };
                let size = arg(n, 3);
                if matches!(emulate, Emulate::SetXattr) && size > 0 {
                    if size > XATTR_SIZE_MAX {
                        return Err(Errno(libc::E2BIG));
                    }
                    // size <= 65536 was checked just above.
                    data.value.resize(size as usize, 0);
                    mem::read_exact(method, pid, arg(n, 2), &mut data.value)?;
                }
            }
            Emulate::Times(layout, at, _) => data.times = self.read_times(n, call, layout, at)?,
            _ => {}
        }
        let objects = matches!(
            emulate,
            Emulate::Chmod(_)
                | Emulate::Chown(..)
                | Emulate::Chown16
                | Emulate::Truncate(_)
                | Emulate::Times(..)
                | Emulate::SetXattr
                | Emulate::RemoveXattr
        );
        // The final names of the entries as the tracee wrote them (not link's source).
        let mut names = [[0u8; PATH_MAX]; 2];
        let [b1, b2] = &mut names;
        let creates = !matches!(emulate, Emulate::Unlink(_) | Emulate::Rename(_));
        let name1 = if objects || matches!(emulate, Emulate::Link(_)) {
            None
        } else {
            Some(self.entry_name(n, first, creates, b1)?)
        };
        let name2 = match second {
            Some(c) => Some(self.entry_name(n, c, creates, b2)?),
            None => None,
        };
        if !self.valid(n) {
            return Err(Errno(e::ESRCH));
        }
        // With the supervisor's own identity: what needs ptrace access to the tracee.
        let root = open_root(tracee.tid)?;
        // With the tracee's identity: every lookup and the call itself.
        let identity = self.enter_tracee(
            tracee,
            matches!(emulate, Emulate::Mkdir(_) | Emulate::Mknod(_)),
            false,
        );
        let r = if objects {
            // Not following a final symlink where the check did not: a symlink found there now
            // is the entry that was checked.
            let nofollow = first.pa.follow_for(&n.args) == Follow::No;
            let flags = libc::O_PATH | if nofollow { libc::O_NOFOLLOW } else { 0 };
            let mut rel = [0u8; syd_core::limits::PATH_MAX + 1];
            open_in_root(&root, relative_cstr(first.path, &mut rel), flags)
                .and_then(|obj| act(n, call, emulate, fl, &obj, &data))
        } else {
            entries(n, emulate, fl, &root, first, second, name1, name2, &data)
        };
        identity.leave();
        r
    }

    /// Takes on the identity of `tracee` for a call made for it (its fsuid, fsgid, groups and
    /// effective capabilities when syd runs as root; with `creating`, its umask, from
    /// `/proc/<tid>/status`, read once). [`Identity::leave`] restores the supervisor's.
    pub(super) fn enter_tracee(
        &mut self,
        tracee: &Tracee,
        creating: bool,
        in_proc: bool,
    ) -> Identity {
        // The identity is remembered per thread; the umask is read for creating calls only.
        let (creds, umask) = self.identity(tracee.tid, creating, in_proc);
        Identity {
            saved: creds.as_ref().map(|c| c.enter(self.caps)),
            umask: creating.then(|| sys::umask(umask)),
        }
    }

    /// The times at argument `at` in `layout` as two kernel timespecs, or `None` for a NULL
    /// pointer ("now"). Errors: `EFAULT`; `EINVAL` for microseconds out of range.
    fn read_times(
        &self,
        n: &Notif,
        call: &Call,
        layout: Times,
        at: u8,
    ) -> Result<Option<[[i64; 2]; 2]>, Errno> {
        let addr = arg(n, at);
        if addr == 0 {
            return Ok(None);
        }
        // utime has two fields, the others four; fields are 64-bit but for the old layouts of
        // the 32-bit ABIs.
        let count = if matches!(layout, Times::Utimbuf) {
            2
        } else {
            4
        };
        let width = if call.arch.word == Word::W64 || matches!(layout, Times::Timespec64) {
            8
        } else {
            4
        };
        let mut raw = [0u8; 32];
        let bytes = raw.get_mut(..count * width).unwrap_or_default();
        mem::read_exact(self.method, n.pid, addr, bytes)?;
        let mut v = [0i64; 4];
        for (o, c) in v.iter_mut().zip(bytes.chunks_exact(width)) {
            // Every ABI a host runs has the host's byte order.
            *o = match c.try_into() {
                Ok(w) => i64::from_ne_bytes(w),
                Err(_) => i64::from(i32::from_ne_bytes(c.try_into().unwrap_or_default())),
            };
        }
        let [a, b, c, d] = v;
        Ok(Some(match layout {
            Times::Utimbuf => [[a, 0], [b, 0]],
            Times::Timeval => {
                // fs/utimes.c: microseconds out of range are refused.
                if !(0..1_000_000).contains(&b) || !(0..1_000_000).contains(&d) {
                    return Err(Errno(libc::EINVAL));
                }
                [[a, b * 1000], [c, d * 1000]]
            }
            _ => [[a, b], [c, d]],
        }))
    }

    /// The final name of the entry `c` as the tracee wrote it, with one `/` kept if it had
    /// trailing ones, for the `*at` call on its parent: the kernel then applies its own rules
    /// for `.`, `..` and trailing slashes. The path is read again, so the name is taken only if
    /// it is the one checked, or `.` or `..` (which these calls refuse by name); otherwise the
    /// trailing slash followed a symlink (or the path changed): the kernel's error for a name
    /// that exists and is no directory, `EEXIST` when `creates`, else `ENOTDIR`.
    fn entry_name<'b>(
        &self,
        n: &Notif,
        c: &Checked<'_>,
        creates: bool,
        raw: &'b mut [u8; PATH_MAX],
    ) -> Result<&'b CStr, Errno> {
        let len = mem::read_cstr(self.method, n.pid, arg(n, c.pa.path), raw)?.len();
        let p = raw.get(..len).unwrap_or_default();
        let end = p.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
        let start = p
            .get(..end)
            .and_then(|t| t.iter().rposition(|&b| b == b'/'))
            .map_or(0, |i| i + 1);
        let last = p.get(start..end).unwrap_or_default();
        let dot = last.is_empty() || last == b"." || last == b"..";
        // SECURITY: only the checked name, or one the kernel refuses for these calls.
        if !dot && c.path.rsplit(|&b| b == b'/').next() != Some(last) {
            return Err(Errno(if creates { libc::EEXIST } else { libc::ENOTDIR }));
        }
        if last.is_empty() {
            // `/`: the root's own entry, `.`.
            return Ok(c".");
        }
        // The name and one trailing slash, if it had any: cut after it.
        let cut = end + usize::from(end < len);
        *raw.get_mut(cut).ok_or(Errno(libc::ENAMETOOLONG))? = 0;
        Ok(cstr(raw.get(start..).unwrap_or_default(), cut - start))
    }
}

/// Makes a directory-entry call on (parent, final name) of the checked paths: `name1`,
/// `name2` are the final names of the entries, the link's source is named by its canonical
/// path.
#[allow(clippy::too_many_arguments)]
fn entries(
    n: &Notif,
    emulate: Emulate,
    fl: i32,
    root: &Fd,
    first: &Checked<'_>,
    second: Option<&Checked<'_>>,
    name1: Option<&CStr>,
    name2: Option<&CStr>,
    data: &Data,
) -> Result<(), Errno> {
    let dir = open_parent(root, first.path)?;
    let canonical;
    let name = match name1 {
        Some(name) => name,
        None => {
            let last = first.path.rsplit(|&b| b == b'/').next().unwrap_or_default();
            canonical = crate::setup::cstring(last)?;
            &canonical
        }
    };
    let (dir2, name2) = match (second, name2) {
        (Some(c), Some(name2)) => (Some(open_parent(root, c.path)?), name2),
        _ => (None, c""),
    };
    let dir2 = dir2.as_ref().unwrap_or(&dir);
    match emulate {
        Emulate::Mkdir(m) => sys::mkdirat(&dir, name, uint(n, m)),
        Emulate::Mknod(m) => sys::mknodat(&dir, name, uint(n, m), uint(n, m + 1)),
        Emulate::Unlink(_) => sys::unlinkat(&dir, name, fl),
        Emulate::Symlink => sys::symlinkat(cstr(&data.text, data.len), &dir, name),
        Emulate::Rename(_) => sys::renameat2(&dir, name, dir2, name2, fl.cast_unsigned()),
        // link: the source's own name; with AT_SYMLINK_FOLLOW the canonical path already names
        // the link's target. Other flags go to the kernel, which refuses unknown ones.
        _ => sys::linkat(Some(&dir), name, dir2, name2, fl & !AT_SYMLINK_FOLLOW),
    }
}

/// Makes an object call on `obj`, the checked object.
fn act(
    n: &Notif,
    call: &Call,
    emulate: Emulate,
    fl: i32,
    obj: &Fd,
    data: &Data,
) -> Result<(), Errno> {
    let mut buf = [0u8; 32];
    let magic = proc_self_fd(obj, &mut buf);
    // x86 and arm: the 32-bit ABIs whose chown and lchown take 16-bit ids, and whose
    // truncate64 length has its register pair modelled.
    let x86 = call.audit == AUDIT_ARCH_I386;
    let old = x86 || call.audit == AUDIT_ARCH_ARM;
    match emulate {
        Emulate::Chmod(m) => sys::chmod_path(magic, uint(n, m)),
        Emulate::Chown(u, _) => {
            sys::fchownat(obj, c"", uint(n, u), uint(n, u + 1), fl | AT_EMPTY_PATH)
        }
        Emulate::Chown16 => {
            // The old 16-bit calls widen 0xffff to -1 (kernel/uid16.h low2highuid).
            let id = |i: u8| match uint(n, i) {
                v if old && v & 0xffff == 0xffff => u32::MAX,
                v if old => v & 0xffff,
                v => v,
            };
            sys::fchownat(obj, c"", id(1), id(2), AT_EMPTY_PATH)
        }
        Emulate::Truncate(wide) => {
            let len = if call.arch.word == Word::W64 {
                arg(n, 1).cast_signed()
            } else if !wide {
                // A 32-bit `long`, sign-extended.
                i64::from(int(n, 1))
            } else if old {
                // x86 passes the 64-bit length in (a1, a2); arm EABI aligns the pair to an
                // even register: (a2, a3), low word first.
                let lo = if x86 { 1 } else { 2 };
                (u64::from(uint(n, lo)) | (u64::from(uint(n, lo + 1)) << 32)).cast_signed()
            } else {
                return Err(Errno(0));
            };
            sys::truncate(magic, len)
        }
        Emulate::Times(..) => {
            // The magic link reaches the object on every kernel, but follows a symlink; the
            // object itself with AT_EMPTY_PATH needs Linux 5.8 (before, EINVAL): only for
            // AT_SYMLINK_NOFOLLOW. Other flags go to the kernel, which refuses unknown ones.
            let (dir, path, fl) = if fl & libc::AT_SYMLINK_NOFOLLOW != 0 {
                (Some(obj), c"", fl | AT_EMPTY_PATH)
            } else {
                (None, magic, fl)
            };
            sys::utimensat_raw(dir, Some(path), data.times.as_ref(), fl)
        }
        Emulate::SetXattr => {
            sys::setxattr(magic, cstr(&data.text, data.len), &data.value, int(n, 4))
        }
        _ => sys::removexattr(magic, cstr(&data.text, data.len)),
    }
}

/// `/proc/self/fd/<fd>` in `buf`: the magic link to exactly the object `fd` refers to.
fn proc_self_fd<'b>(fd: &Fd, buf: &'b mut [u8; 32]) -> &'b CStr {
    let mut len = 0;
    let mut put = |b: &[u8]| {
        for &c in b {
            if let Some(slot) = buf.get_mut(len) {
                *slot = c;
                len += 1;
            }
        }
    };
    put(b"/proc/self/fd/");
    syd_core::report::put_int(&mut put, i64::from(fd.raw()));
    cstr(buf.as_slice(), len)
}

/// Opens the parent directory of the canonical `path` from `root` (module doc); `/` is its own
/// parent. Errors: those of the open.
fn open_parent(root: &Fd, path: &[u8]) -> Result<Fd, Errno> {
    let cut = path.iter().rposition(|&b| b == b'/').unwrap_or(0);
    let mut rel = [0u8; syd_core::limits::PATH_MAX + 1];
    let parent = relative_cstr(path.get(..cut).unwrap_or_default(), &mut rel);
    open_in_root(root, parent, libc::O_PATH | libc::O_DIRECTORY)
}

/// Opens `rel` (a canonical path without its leading `/`) from `root` with `flags` (`O_PATH`,
/// maybe `O_NOFOLLOW`, `O_DIRECTORY`), refusing every symlink on the way (`ELOOP`) but a final
/// one opened with `O_NOFOLLOW`. Errors: those of openat2, `ENOSYS` before Linux 5.6.
// SECURITY: the canonical path has no symlinks left: any symlink swapped in after the check
// makes the open fail.
fn open_in_root(root: &Fd, rel: &CStr, flags: i32) -> Result<Fd, Errno> {
    let how = sys::OpenHow {
        // The O_* flags used here are positive ints: the cast widens.
        flags: (flags | libc::O_CLOEXEC) as u32 as u64,
        mode: 0,
        resolve: RESOLVE_CHECKED,
    };
    sys::openat2(Some(root), rel, &how)
}
