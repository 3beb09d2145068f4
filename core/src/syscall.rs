//! What the supervisor must fetch and check for each sandboxed syscall (SPEC §2.9–§2.11, §4.1,
//! §5.4): which arguments are paths, dirfds, flags or addresses, whether the final symlink is
//! followed, and which sandbox type decides. The binary maps a notification's syscall number to a
//! name with the architecture tables, then asks [`lookup`].

use crate::sandbox::Cap;

/// Whether the final component of a path must exist (SPEC §2.8 resolution modes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolve {
    /// It must exist (else ENOENT).
    Exist,
    /// It may be missing.
    NoLast,
}

/// Whether the final symlink of a path is followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Follow {
    /// Followed.
    Yes,
    /// Not followed.
    No,
}

/// A type check applied when a path is denied (SPEC §2.7 step 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeCheck {
    /// No check.
    None,
    /// Must not exist: EEXIST.
    MustNotExist,
    /// Must be an empty directory: ENOTDIR / ENOTEMPTY.
    EmptyDir,
    /// Must not be a directory: EISDIR.
    NotDir,
    /// `unlinkat`: `AT_REMOVEDIR` in the flags argument chooses [`TypeCheck::EmptyDir`], else
    /// [`TypeCheck::NotDir`].
    ByRemoveDir(u8),
    /// `rename`'s second path: when the first is a directory, an existing target must be an
    /// empty directory.
    RenameTarget,
}

/// How one path argument is found and resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathArg {
    /// Argument index of the path pointer.
    pub path: u8,
    /// Argument index of the directory fd for relative paths, if the call has one.
    pub dirfd: Option<u8>,
    /// Resolution mode.
    pub resolve: Resolve,
    /// Final symlink rule without flags.
    pub follow: Follow,
    /// A flags argument and bit that switch the final symlink rule (to not-followed, or to
    /// followed for `linkat`'s `AT_SYMLINK_FOLLOW`).
    pub follow_flag: Option<(u8, u64)>,
    /// A flags argument and bit meaning `AT_EMPTY_PATH`: an empty path names the dirfd's file.
    pub empty_path: Option<(u8, u64)>,
    /// A NULL path names the dirfd itself (`utimensat`, `futimesat`).
    pub null_is_dirfd: bool,
    /// The type check applied when this path is denied.
    pub check: TypeCheck,
}

const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
const AT_SYMLINK_FOLLOW: u64 = 0x400;
const AT_EMPTY_PATH: u64 = 0x1000;
const AT_REMOVEDIR: u64 = 0x200;
const UMOUNT_NOFOLLOW: u64 = 8;

const fn p(path: u8, resolve: Resolve, follow: Follow) -> PathArg {
    PathArg {
        path,
        dirfd: None,
        resolve,
        follow,
        follow_flag: None,
        empty_path: None,
        null_is_dirfd: false,
        check: TypeCheck::None,
    }
}

const fn at(dirfd: u8, path: u8, resolve: Resolve, follow: Follow) -> PathArg {
    PathArg {
        dirfd: Some(dirfd),
        ..p(path, resolve, follow)
    }
}

const fn nofollow_flag(mut a: PathArg, arg: u8) -> PathArg {
    a.follow_flag = Some((arg, AT_SYMLINK_NOFOLLOW));
    a
}

const fn checked(mut a: PathArg, check: TypeCheck) -> PathArg {
    a.check = check;
    a
}

/// Where a call takes `AT_*`/`RENAME_*` flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flags {
    /// The call has no flags argument.
    None,
    /// Argument index of the flags.
    Arg(u8),
    /// No argument; `AT_REMOVEDIR` is implied (`rmdir`).
    RemoveDir,
}

/// The layout of the two times of the `utime` family in tracee memory (fields are C
/// `long`/`time_t` of the calling ABI unless stated).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Times {
    /// `struct utimbuf { actime; modtime; }` (`utime`).
    Utimbuf,
    /// `struct timeval[2]` of seconds and microseconds (`utimes`, `futimesat`).
    Timeval,
    /// `struct timespec[2]` of seconds and nanoseconds (`utimensat`).
    Timespec,
    /// `struct __kernel_timespec[2]`: 64-bit fields on every ABI (`utimensat_time64`).
    Timespec64,
}

/// How the supervisor makes an allowed [`Handler::Path`] call itself, so that the kernel never
/// reads the tracee's paths again (SPEC §9 #1). Numbers are argument indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Emulate {
    /// Checked, then continued: the binary says why at its code.
    Continue,
    /// `mkdir`, `mkdirat`: the mode.
    Mkdir(u8),
    /// `mknod`, `mknodat`: the mode; the device number follows it.
    Mknod(u8),
    /// `unlink`, `unlinkat`, `rmdir`.
    Unlink(Flags),
    /// `rename`, `renameat`, `renameat2`: `RENAME_*` flags.
    Rename(Flags),
    /// `link`, `linkat`.
    Link(Flags),
    /// `symlink`, `symlinkat`: the target string is argument 0.
    Symlink,
    /// The `chmod` family: the mode.
    Chmod(u8),
    /// The `chown` family: the uid; the gid follows it.
    Chown(u8, Flags),
    /// `chown`, `lchown`: 16-bit ids on the ABIs that also have `chown32`.
    Chown16,
    /// `truncate` (`false`: length in argument 1) and `truncate64` (`true`: a 64-bit length
    /// in a register pair on 32-bit ABIs).
    Truncate(bool),
    /// The `utime` family: layout and argument of the times, and the flags.
    Times(Times, u8, Flags),
    /// `setxattr`, `lsetxattr`: name, value, size and flags in arguments 1 to 4.
    SetXattr,
    /// `removexattr`, `lremovexattr`: the name in argument 1.
    RemoveXattr,
}

/// A path call's name as the key of [`EMULATE`]: its length and bytes 0, 2 and 3, which tell
/// the path calls apart (a unit test sees to it).
const fn key(name: &[u8]) -> u32 {
    match name {
        // The length of a syscall name fits in 8 bits; the casts widen.
        [a, _, c, d, ..] => {
            (name.len() as u32) << 24 | (*a as u32) << 16 | (*c as u32) << 8 | *d as u32
        }
        _ => 0,
    }
}

/// The emulation of every [`Handler::Path`] call of [`lookup`], by [`key`] of its name.
const EMULATE: [(u32, Emulate); 39] = {
    use Emulate as E;
    [
        (key(b"chdir"), E::Continue),
        (key(b"mount"), E::Continue),
        (key(b"umount"), E::Continue),
        (key(b"umount2"), E::Continue),
        (key(b"listxattr"), E::Continue),
        (key(b"llistxattr"), E::Continue),
        (key(b"mkdir"), E::Mkdir(1)),
        (key(b"mkdirat"), E::Mkdir(2)),
        (key(b"mknod"), E::Mknod(1)),
        (key(b"mknodat"), E::Mknod(2)),
        (key(b"unlink"), E::Unlink(Flags::None)),
        (key(b"rmdir"), E::Unlink(Flags::RemoveDir)),
        (key(b"unlinkat"), E::Unlink(Flags::Arg(2))),
        (key(b"rename"), E::Rename(Flags::None)),
        (key(b"renameat"), E::Rename(Flags::None)),
        (key(b"renameat2"), E::Rename(Flags::Arg(4))),
        (key(b"link"), E::Link(Flags::None)),
        (key(b"linkat"), E::Link(Flags::Arg(4))),
        (key(b"symlink"), E::Symlink),
        (key(b"symlinkat"), E::Symlink),
        (key(b"chmod"), E::Chmod(1)),
        (key(b"fchmodat"), E::Chmod(2)),
        (key(b"fchmodat2"), E::Chmod(2)),
        (key(b"chown"), E::Chown16),
        (key(b"lchown"), E::Chown16),
        (key(b"chown32"), E::Chown(1, Flags::None)),
        (key(b"lchown32"), E::Chown(1, Flags::None)),
        (key(b"fchownat"), E::Chown(2, Flags::Arg(4))),
        (key(b"truncate"), E::Truncate(false)),
        (key(b"truncate64"), E::Truncate(true)),
        (key(b"utime"), E::Times(Times::Utimbuf, 1, Flags::None)),
        (key(b"utimes"), E::Times(Times::Timeval, 1, Flags::None)),
        (key(b"futimesat"), E::Times(Times::Timeval, 2, Flags::None)),
        (
            key(b"utimensat"),
            E::Times(Times::Timespec, 2, Flags::Arg(3)),
        ),
        (
            key(b"utimensat_time64"),
            E::Times(Times::Timespec64, 2, Flags::Arg(3)),
        ),
        (key(b"setxattr"), E::SetXattr),
        (key(b"lsetxattr"), E::SetXattr),
        (key(b"removexattr"), E::RemoveXattr),
        (key(b"lremovexattr"), E::RemoveXattr),
    ]
};

/// How the [`Handler::Path`] call `name` of [`lookup`] is made once allowed; `None` for names
/// not in the table. Only [`key`] of the name is compared: pass only names `lookup` maps to
/// [`Handler::Path`].
pub fn emulate_of(name: &str) -> Option<Emulate> {
    let k = key(name.as_bytes());
    EMULATE.iter().find(|e| e.0 == k).map(|e| e.1)
}

/// Which network group a call belongs to and where its address is (SPEC §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetCall {
    /// `bind(fd, addr, len)`.
    Bind,
    /// `connect(fd, addr, len)`.
    Connect,
    /// `sendto(fd, buf, n, flags, addr, len)`.
    SendTo,
    /// `sendmsg(fd, msg, flags)`.
    SendMsg,
    /// `recvmsg(fd, msg, flags)`.
    RecvMsg,
    /// `listen`, `accept`, `accept4`, `getsockname`: only for learning bound ports.
    Learn,
    /// `socketcall(call, args)`: the subcall decides.
    SocketCall,
}

/// What the supervisor does for a syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handler {
    /// `open`, `openat`: the flags argument classifies it (SPEC §2.10).
    Open {
        /// The path.
        path: PathArg,
        /// Argument index of the flags.
        flags: u8,
        /// Argument index of the mode.
        mode: u8,
    },
    /// `openat2(dirfd, path, how, size)`.
    Openat2,
    /// `creat(path, mode)`: a write open.
    Creat,
    /// `access`, `faccessat`, `faccessat2`: the mode argument classifies it.
    Access {
        /// The path.
        path: PathArg,
        /// Argument index of the mode.
        mode: u8,
    },
    /// A path syscall of one sandbox type, with one or two paths.
    Path {
        /// The sandbox type.
        cap: Cap,
        /// The first path.
        first: PathArg,
        /// The second path (`link`, `rename` families), checked if the first is allowed.
        second: Option<PathArg>,
        /// Safe denial (SPEC §2.12): silent unless `raise_safe`, with this errno.
        safe: Option<i32>,
        /// The errno of a denial.
        errno: i32,
    },
    /// `fchdir(fd)`: the directory the fd refers to, a read check.
    Fchdir,
    /// `execve`, `execveat`.
    Exec {
        /// The path.
        path: PathArg,
    },
    /// The magic stat family: path argument and stat buffer argument.
    Stat {
        /// Argument index of the path.
        path: u8,
        /// Argument index of the buffer.
        buf: u8,
        /// The layout the buffer has.
        layout: StatLayout,
    },
    /// A network call.
    Net(NetCall),
    /// `uname` under `core/restrict/system_info`.
    Uname,
    /// A call that changes the caller's ids, groups, capabilities or user namespace
    /// (`seccomp::policy::IDENTITY`): nothing to check; what the supervisor remembered of the
    /// caller is stale.
    Identity,
}

/// The layout of a stat buffer that magic stat fills in (SPEC §5.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatLayout {
    /// `struct stat` of the calling ABI (`stat`, `lstat`, `newfstatat`).
    Stat,
    /// `struct stat64` (`stat64`, `lstat64`, `fstatat64`).
    Stat64,
    /// `struct statx`.
    Statx,
}

const EPERM: i32 = 1;
const EACCES: i32 = 13;
const ENOTSUP: i32 = 95;

const fn write(first: PathArg) -> Handler {
    Handler::Path {
        cap: Cap::Write,
        first,
        second: None,
        safe: None,
        errno: EPERM,
    }
}

const fn write2(first: PathArg, second: PathArg) -> Handler {
    Handler::Path {
        cap: Cap::Write,
        first,
        second: Some(second),
        safe: None,
        errno: EPERM,
    }
}

const fn read_safe(first: PathArg, errno: i32) -> Handler {
    Handler::Path {
        cap: Cap::Read,
        first,
        second: None,
        safe: Some(errno),
        errno,
    }
}

use Follow::{No, Yes};
use Resolve::{Exist, NoLast};

/// The handler of syscall `name`, if the supervisor handles it.
// Out of line: inlined, its string match and handler construction cost the `syd` binary (size
// budget) 2 KiB.
#[inline(never)]
pub fn lookup(name: &str) -> Option<Handler> {
    Some(match name {
        "open" => Handler::Open {
            path: p(0, Exist, Yes),
            flags: 1,
            mode: 2,
        },
        "openat" => Handler::Open {
            path: at(0, 1, Exist, Yes),
            flags: 2,
            mode: 3,
        },
        "openat2" => Handler::Openat2,
        "creat" => Handler::Creat,
        "access" => Handler::Access {
            path: p(0, Exist, Yes),
            mode: 1,
        },
        "faccessat" => Handler::Access {
            path: at(0, 1, Exist, Yes),
            mode: 2,
        },
        "faccessat2" => Handler::Access {
            path: PathArg {
                empty_path: Some((3, AT_EMPTY_PATH)),
                ..nofollow_flag(at(0, 1, Exist, Yes), 3)
            },
            mode: 2,
        },
        "listxattr" => read_safe(p(0, Exist, Yes), ENOTSUP),
        "llistxattr" => read_safe(p(0, Exist, No), ENOTSUP),
        "chdir" => Handler::Path {
            cap: Cap::Read,
            first: p(0, Exist, Yes),
            second: None,
            safe: None,
            errno: EACCES,
        },
        "fchdir" => Handler::Fchdir,
        "chmod" | "chown" | "chown32" | "truncate" | "truncate64" | "utime" | "utimes"
        | "setxattr" | "removexattr" | "mount" | "umount" => write(p(
            if name.as_bytes().first() == Some(&b'm') {
                1
            } else {
                0
            },
            Exist,
            Yes,
        )),
        "lchown" | "lchown32" | "lsetxattr" | "lremovexattr" => write(p(0, Exist, No)),
        "umount2" => write(PathArg {
            follow_flag: Some((1, UMOUNT_NOFOLLOW)),
            ..p(0, Exist, Yes)
        }),
        "fchmodat" => write(nofollow_flag(at(0, 1, Exist, Yes), 3)),
        "fchmodat2" => write(nofollow_flag(at(0, 1, Exist, Yes), 3)),
        "fchownat" => write(PathArg {
            empty_path: Some((4, AT_EMPTY_PATH)),
            ..nofollow_flag(at(0, 1, Exist, Yes), 4)
        }),
        "mkdir" | "mknod" => write(checked(p(0, NoLast, No), TypeCheck::MustNotExist)),
        "mkdirat" | "mknodat" => write(checked(at(0, 1, NoLast, No), TypeCheck::MustNotExist)),
        "rmdir" => write(checked(p(0, Exist, No), TypeCheck::EmptyDir)),
        "utimensat" | "utimensat_time64" => write(PathArg {
            null_is_dirfd: true,
            ..nofollow_flag(at(0, 1, Exist, Yes), 3)
        }),
        "futimesat" => write(PathArg {
            null_is_dirfd: true,
            ..at(0, 1, Exist, Yes)
        }),
        "unlink" => write(checked(p(0, Exist, No), TypeCheck::NotDir)),
        "unlinkat" => write(checked(at(0, 1, Exist, No), TypeCheck::ByRemoveDir(2))),
        "link" => write2(
            p(0, Exist, No),
            checked(p(1, NoLast, No), TypeCheck::MustNotExist),
        ),
        "linkat" => write2(
            PathArg {
                follow_flag: Some((4, AT_SYMLINK_FOLLOW)),
                ..at(0, 1, Exist, No)
            },
            checked(at(2, 3, NoLast, No), TypeCheck::MustNotExist),
        ),
        "rename" => write2(
            p(0, Exist, No),
            checked(p(1, NoLast, No), TypeCheck::RenameTarget),
        ),
        "renameat" | "renameat2" => write2(
            at(0, 1, Exist, No),
            checked(at(2, 3, NoLast, No), TypeCheck::RenameTarget),
        ),
        "symlink" => write(checked(p(1, NoLast, No), TypeCheck::MustNotExist)),
        "symlinkat" => write(checked(at(1, 2, NoLast, No), TypeCheck::MustNotExist)),
        "execve" => Handler::Exec {
            path: p(0, Exist, Yes),
        },
        "execveat" => Handler::Exec {
            path: PathArg {
                empty_path: Some((4, AT_EMPTY_PATH)),
                null_is_dirfd: true,
                ..nofollow_flag(at(0, 1, Exist, Yes), 4)
            },
        },
        "stat" | "lstat" => Handler::Stat {
            path: 0,
            buf: 1,
            layout: StatLayout::Stat,
        },
        "stat64" | "lstat64" => Handler::Stat {
            path: 0,
            buf: 1,
            layout: StatLayout::Stat64,
        },
        "newfstatat" => Handler::Stat {
            path: 1,
            buf: 2,
            layout: StatLayout::Stat,
        },
        "fstatat64" => Handler::Stat {
            path: 1,
            buf: 2,
            layout: StatLayout::Stat64,
        },
        "statx" => Handler::Stat {
            path: 1,
            buf: 4,
            layout: StatLayout::Statx,
        },
        "bind" => Handler::Net(NetCall::Bind),
        "connect" => Handler::Net(NetCall::Connect),
        "sendto" => Handler::Net(NetCall::SendTo),
        "sendmsg" => Handler::Net(NetCall::SendMsg),
        "recvmsg" => Handler::Net(NetCall::RecvMsg),
        "listen" | "accept" | "accept4" | "getsockname" => Handler::Net(NetCall::Learn),
        "socketcall" => Handler::Net(NetCall::SocketCall),
        "uname" => Handler::Uname,
        "setuid" | "setuid32" | "setgid" | "setgid32" | "setreuid" | "setreuid32" | "setregid"
        | "setregid32" | "setresuid" | "setresuid32" | "setresgid" | "setresgid32" | "setfsuid"
        | "setfsuid32" | "setfsgid" | "setfsgid32" | "setgroups" | "setgroups32" | "capset"
        | "setns" => Handler::Identity,
        _ => return None,
    })
}

impl PathArg {
    /// The final symlink rule for these arguments.
    pub fn follow_for(&self, args: &[u64; 6]) -> Follow {
        match self.follow_flag {
            Some((arg, bit)) => {
                let set = args.get(usize::from(arg)).is_some_and(|v| v & bit != 0);
                match (set, bit == AT_SYMLINK_FOLLOW) {
                    (false, _) => self.follow,
                    (true, true) => Follow::Yes,
                    (true, false) => Follow::No,
                }
            }
            None => self.follow,
        }
    }

    /// Whether `AT_EMPTY_PATH` is set in these arguments.
    pub fn empty_path_for(&self, args: &[u64; 6]) -> bool {
        self.empty_path
            .is_some_and(|(arg, bit)| args.get(usize::from(arg)).is_some_and(|v| v & bit != 0))
    }

    /// The type check for these arguments.
    pub fn check_for(&self, args: &[u64; 6]) -> TypeCheck {
        match self.check {
            TypeCheck::ByRemoveDir(arg) => {
                if args
                    .get(usize::from(arg))
                    .is_some_and(|v| v & AT_REMOVEDIR != 0)
                {
                    TypeCheck::EmptyDir
                } else {
                    TypeCheck::NotDir
                }
            }
            c => c,
        }
    }
}

/// How an open call touches the sandbox (SPEC §2.10 classification).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenClass {
    /// A read check is needed.
    pub read: bool,
    /// A write check is needed.
    pub write: bool,
    /// Resolution mode of the path.
    pub resolve: Resolve,
    /// Final symlink rule.
    pub follow: Follow,
    /// Type check on denial.
    pub check: OpenCheck,
}

/// The type check of an open (SPEC §2.10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenCheck {
    /// None.
    None,
    /// `O_CREAT|O_EXCL`: EEXIST.
    MustNotExist,
    /// `O_DIRECTORY`: ENOTDIR.
    MustBeDir,
    /// `O_NOFOLLOW`: ELOOP on a symlink.
    NoSymlink,
}

/// The open flag values of one ABI that classification needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenFlags {
    /// `O_ACCMODE`.
    pub accmode: u32,
    /// `O_WRONLY`.
    pub wronly: u32,
    /// `O_RDWR`.
    pub rdwr: u32,
    /// `O_CREAT`.
    pub creat: u32,
    /// `O_EXCL`.
    pub excl: u32,
    /// `O_TRUNC`.
    pub trunc: u32,
    /// `O_DIRECTORY`.
    pub directory: u32,
    /// `O_NOFOLLOW`.
    pub nofollow: u32,
    /// `O_TMPFILE` (including its `O_DIRECTORY` bits).
    pub tmpfile: u32,
}

impl OpenFlags {
    /// The values of an architecture.
    pub fn of(c: &crate::arch::Consts) -> Self {
        OpenFlags {
            accmode: c.o_accmode,
            wronly: c.o_wronly,
            rdwr: c.o_rdwr,
            creat: c.o_creat,
            excl: c.o_excl,
            trunc: c.o_trunc,
            directory: c.o_directory,
            nofollow: c.o_nofollow,
            tmpfile: c.o_tmpfile,
        }
    }
}

/// Classifies open flags (SPEC §2.10; `resolve_nofollow` is set for openat2's
/// `RESOLVE_NO_SYMLINKS`, `RESOLVE_NO_MAGICLINKS` and `RESOLVE_BENEATH`).
pub fn classify_open(flags: u64, f: &OpenFlags, resolve_nofollow: bool) -> OpenClass {
    // Open flags are a C int: the low 32 bits.
    let flags = (flags & 0xffff_ffff) as u32;
    let acc = flags & f.accmode;
    let tmpfile = flags & f.tmpfile == f.tmpfile;
    let creat = flags & f.creat != 0;
    let excl = creat && flags & f.excl != 0;
    let read = acc == 0 || acc == f.rdwr;
    let write = acc == f.wronly || acc == f.rdwr || creat || flags & f.trunc != 0 || tmpfile;
    let nofollow = flags & f.nofollow != 0;
    let check = if excl {
        OpenCheck::MustNotExist
    } else if nofollow {
        OpenCheck::NoSymlink
    } else if flags & f.directory != 0 && !tmpfile {
        OpenCheck::MustBeDir
    } else {
        OpenCheck::None
    };
    OpenClass {
        // Access mode 3 is neither read nor write.
        read: read && acc != f.accmode,
        write,
        resolve: if creat {
            Resolve::NoLast
        } else {
            Resolve::Exist
        },
        follow: if excl || nofollow || resolve_nofollow {
            Follow::No
        } else {
            Follow::Yes
        },
        check,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::{AARCH64, X86_64};

    #[test]
    fn open_classification() {
        let f = OpenFlags::of(X86_64.consts);
        let c = |flags| classify_open(flags, &f, false);
        let r = c(0);
        assert!(r.read && !r.write && r.resolve == Resolve::Exist && r.follow == Follow::Yes);
        let w = c(1);
        assert!(!w.read && w.write);
        let rw = c(2);
        assert!(rw.read && rw.write);
        let none = c(3);
        assert!(!none.read && !none.write);
        let creat = c(0x41);
        assert!(creat.write && creat.resolve == Resolve::NoLast && creat.follow == Follow::Yes);
        let excl = c(0xc1);
        assert_eq!(excl.check, OpenCheck::MustNotExist);
        assert_eq!(excl.follow, Follow::No);
        // O_EXCL without O_CREAT has no effect.
        assert_eq!(c(0x80), c(0));
        let trunc = c(0x200);
        assert!(trunc.read && trunc.write);
        let dir = c(0x10000);
        assert_eq!(dir.check, OpenCheck::MustBeDir);
        let nofollow = c(0x20000);
        assert_eq!(
            (nofollow.check, nofollow.follow),
            (OpenCheck::NoSymlink, Follow::No)
        );
        let tmp = c(0x410000 | 1);
        assert!(tmp.write && tmp.check == OpenCheck::None);
        // The upper half of the register is ignored.
        assert_eq!(c(0xffff_ffff_0000_0000), c(0));
        // arm64 places O_DIRECTORY and O_NOFOLLOW elsewhere.
        let a = OpenFlags::of(AARCH64.consts);
        assert_eq!(classify_open(0x4000, &a, false).check, OpenCheck::MustBeDir);
        assert_eq!(classify_open(0x8000, &a, false).follow, Follow::No);
        assert_eq!(classify_open(0, &f, true).follow, Follow::No);
    }

    #[test]
    fn path_args() {
        let Some(Handler::Path { first, .. }) = lookup("fchownat") else {
            panic!()
        };
        assert_eq!(first.follow_for(&[0, 0, 0, 0, 0x100, 0]), Follow::No);
        assert_eq!(first.follow_for(&[0; 6]), Follow::Yes);
        assert!(first.empty_path_for(&[0, 0, 0, 0, 0x1000, 0]));
        let Some(Handler::Path { first, .. }) = lookup("linkat") else {
            panic!()
        };
        assert_eq!(first.follow_for(&[0; 6]), Follow::No);
        assert_eq!(first.follow_for(&[0, 0, 0, 0, 0x400, 0]), Follow::Yes);
        let Some(Handler::Path { first, .. }) = lookup("unlinkat") else {
            panic!()
        };
        assert_eq!(
            first.check_for(&[0, 0, 0x200, 0, 0, 0]),
            TypeCheck::EmptyDir
        );
        assert_eq!(first.check_for(&[0; 6]), TypeCheck::NotDir);
        let Some(Handler::Path { first, .. }) = lookup("mount") else {
            panic!()
        };
        assert_eq!(first.path, 1);
        let Some(Handler::Path { first, .. }) = lookup("umount2") else {
            panic!()
        };
        assert_eq!(first.follow_for(&[0, 8, 0, 0, 0, 0]), Follow::No);
        assert_eq!(lookup("read"), None);
    }

    /// The plain spelling of [`emulate_of`], by whole names.
    fn emulate_by_name(name: &str) -> Option<Emulate> {
        use Emulate as E;
        Some(match name {
            "chdir" | "mount" | "umount" | "umount2" | "listxattr" | "llistxattr" => E::Continue,
            "mkdir" => E::Mkdir(1),
            "mkdirat" => E::Mkdir(2),
            "mknod" => E::Mknod(1),
            "mknodat" => E::Mknod(2),
            "unlink" => E::Unlink(Flags::None),
            "rmdir" => E::Unlink(Flags::RemoveDir),
            "unlinkat" => E::Unlink(Flags::Arg(2)),
            "rename" | "renameat" => E::Rename(Flags::None),
            "renameat2" => E::Rename(Flags::Arg(4)),
            "link" => E::Link(Flags::None),
            "linkat" => E::Link(Flags::Arg(4)),
            "symlink" | "symlinkat" => E::Symlink,
            "chmod" => E::Chmod(1),
            "fchmodat" | "fchmodat2" => E::Chmod(2),
            "chown" | "lchown" => E::Chown16,
            "chown32" | "lchown32" => E::Chown(1, Flags::None),
            "fchownat" => E::Chown(2, Flags::Arg(4)),
            "truncate" => E::Truncate(false),
            "truncate64" => E::Truncate(true),
            "utime" => E::Times(Times::Utimbuf, 1, Flags::None),
            "utimes" => E::Times(Times::Timeval, 1, Flags::None),
            "futimesat" => E::Times(Times::Timeval, 2, Flags::None),
            "utimensat" => E::Times(Times::Timespec, 2, Flags::Arg(3)),
            "utimensat_time64" => E::Times(Times::Timespec64, 2, Flags::Arg(3)),
            "setxattr" | "lsetxattr" => E::SetXattr,
            "removexattr" | "lremovexattr" => E::RemoveXattr,
            _ => return None,
        })
    }

    /// Every name of every ABI that `lookup` maps to a path call gets its emulation from
    /// `emulate_of`'s byte key as from its whole name, and only those.
    #[test]
    fn emulate_of_tells_every_path_call_apart() {
        let mut seen = 0;
        for a in crate::arch::ARCHES {
            for (name, _) in a.syscalls() {
                if let Some(Handler::Path { .. }) = lookup(name) {
                    let want = emulate_by_name(name);
                    assert!(want.is_some(), "{name}: no emulation");
                    assert_eq!(emulate_of(name), want, "{name}");
                    seen += 1;
                } else {
                    assert_eq!(emulate_by_name(name), None, "{name}");
                }
            }
        }
        assert!(seen > 100, "{seen}");
        for (i, e) in EMULATE.iter().enumerate() {
            assert!(
                EMULATE.iter().skip(i + 1).all(|f| f.0 != e.0),
                "key {:#x}",
                e.0
            );
        }
        // Names no table has (newer than the tables) still decode by their name.
        assert_eq!(emulate_of("fchmodat2"), Some(Emulate::Chmod(2)));
        assert_eq!(
            lookup("fchmodat2").map(|h| matches!(h, Handler::Path { .. })),
            Some(true)
        );
    }

    #[test]
    fn every_policy_syscall_has_a_handler() {
        use crate::seccomp::policy::{EXEC, NET, NET_LEARN, READ, STAT, WRITE};
        let special = [
            "open",
            "openat",
            "openat2",
            "access",
            "faccessat",
            "faccessat2",
            "uname",
        ];
        let lists = [&WRITE, &READ, &EXEC, &NET, &NET_LEARN, &STAT];
        for name in lists.into_iter().flat_map(|l| l.iter()).chain(special) {
            assert!(lookup(name).is_some(), "{name}");
        }
    }
}
