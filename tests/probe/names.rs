//! Symbolic names: the words accepted in numeric arguments and the errno names printed.
//!
//! Values come from `libc`, which knows each ABI (the `O_*` flags differ between x86_64 and
//! aarch64); the few constants `libc` lacks on musl are spelled out with their kernel header.

/// `(name, value)` of one symbolic constant.
type Sym = (&'static str, i64);

/// Makes `(name, value)` pairs from `libc` constants of any integer type.
macro_rules! syms {
    ($($name:ident),* $(,)?) => {
        // Every constant here is a flag, mode, request or number that fits in 64 bits; ioctl
        // numbers above i64::MAX do not exist, so the casts only widen or reinterpret.
        &[$((stringify!($name), libc::$name as i64)),*]
    };
}

/// Constants `libc` lacks for musl, from the kernel's uapi headers.
const EXTRA: &[Sym] = &[
    ("AT_EACCESS", 0x200),               // linux/fcntl.h
    ("MAP_FIXED_NOREPLACE", 0x10_0000),  // asm-generic/mman-common.h
    ("SOCK_NONBLOCK", 0o4000),           // linux/net.h (O_NONBLOCK on x86 and arm)
    ("SOCK_CLOEXEC", 0o2_000_000),       // linux/net.h (O_CLOEXEC)
    ("AF_IB", 27),                       // linux/socket.h
    ("AF_MPLS", 28),                     // linux/socket.h
    ("AF_NFC", 39),                      // linux/socket.h
    ("AF_VSOCK", 40),                    // linux/socket.h
    ("AF_SMC", 43),                      // linux/socket.h
    ("AF_XDP", 44),                      // linux/socket.h
    ("STATX_BASIC_STATS", 0x7ff),        // linux/stat.h
    ("STATX_ALL", 0xfff),                // linux/stat.h (deprecated but still accepted)
    ("IORING_SETUP_SQPOLL", 2),          // linux/io_uring.h
    ("CLONE_NEWTIME", 0x80),             // linux/sched.h (unshare only)
    ("MS_NOSYMFOLLOW", 256),             // linux/mount.h
    ("PTRACE_GET_SYSCALL_INFO", 0x420e), // linux/ptrace.h
];

/// Open, at, resolve, access and rename flags.
const FILE: &[Sym] = syms![
    O_RDONLY,
    O_WRONLY,
    O_RDWR,
    O_CREAT,
    O_EXCL,
    O_NOCTTY,
    O_TRUNC,
    O_APPEND,
    O_NONBLOCK,
    O_DSYNC,
    O_SYNC,
    O_ASYNC,
    O_DIRECT,
    O_DIRECTORY,
    O_NOFOLLOW,
    O_NOATIME,
    O_CLOEXEC,
    O_PATH,
    O_TMPFILE,
    AT_FDCWD,
    AT_SYMLINK_NOFOLLOW,
    AT_REMOVEDIR,
    AT_SYMLINK_FOLLOW,
    AT_NO_AUTOMOUNT,
    AT_EMPTY_PATH,
    AT_RECURSIVE,
    AT_STATX_SYNC_AS_STAT,
    AT_STATX_FORCE_SYNC,
    AT_STATX_DONT_SYNC,
    RESOLVE_NO_XDEV,
    RESOLVE_NO_MAGICLINKS,
    RESOLVE_NO_SYMLINKS,
    RESOLVE_BENEATH,
    RESOLVE_IN_ROOT,
    RESOLVE_CACHED,
    F_OK,
    R_OK,
    W_OK,
    X_OK,
    RENAME_NOREPLACE,
    RENAME_EXCHANGE,
    RENAME_WHITEOUT,
    S_IFMT,
    S_IFSOCK,
    S_IFLNK,
    S_IFREG,
    S_IFBLK,
    S_IFDIR,
    S_IFCHR,
    S_IFIFO,
    S_ISUID,
    S_ISGID,
    S_ISVTX,
    XATTR_CREATE,
    XATTR_REPLACE,
];

/// Memory, mount, namespace, ptrace and ioctl words.
const PROC: &[Sym] = syms![
    PROT_NONE,
    PROT_READ,
    PROT_WRITE,
    PROT_EXEC,
    PROT_GROWSDOWN,
    PROT_GROWSUP,
    MAP_SHARED,
    MAP_SHARED_VALIDATE,
    MAP_PRIVATE,
    MAP_FIXED,
    MAP_ANONYMOUS,
    MAP_GROWSDOWN,
    MAP_NORESERVE,
    MAP_POPULATE,
    MAP_STACK,
    MAP_HUGETLB,
    MS_RDONLY,
    MS_NOSUID,
    MS_NODEV,
    MS_NOEXEC,
    MS_REMOUNT,
    MS_BIND,
    MS_MOVE,
    MS_REC,
    MS_PRIVATE,
    MS_SLAVE,
    MS_SHARED,
    MNT_FORCE,
    MNT_DETACH,
    MNT_EXPIRE,
    UMOUNT_NOFOLLOW,
    CLONE_VM,
    CLONE_FS,
    CLONE_FILES,
    CLONE_SIGHAND,
    CLONE_SYSVSEM,
    CLONE_NEWNS,
    CLONE_NEWCGROUP,
    CLONE_NEWUTS,
    CLONE_NEWIPC,
    CLONE_NEWUSER,
    CLONE_NEWPID,
    CLONE_NEWNET,
    PTRACE_TRACEME,
    PTRACE_PEEKTEXT,
    PTRACE_PEEKDATA,
    PTRACE_PEEKUSER,
    PTRACE_POKETEXT,
    PTRACE_POKEDATA,
    PTRACE_POKEUSER,
    PTRACE_CONT,
    PTRACE_KILL,
    PTRACE_SINGLESTEP,
    PTRACE_ATTACH,
    PTRACE_DETACH,
    PTRACE_SYSCALL,
    PTRACE_SETOPTIONS,
    PTRACE_GETEVENTMSG,
    PTRACE_GETSIGINFO,
    PTRACE_GETREGSET,
    PTRACE_SETREGSET,
    PTRACE_SEIZE,
    PTRACE_INTERRUPT,
    PTRACE_LISTEN,
    TCGETS,
    TCSETS,
    TIOCSCTTY,
    TIOCGPGRP,
    TIOCSPGRP,
    TIOCSTI,
    TIOCGWINSZ,
    TIOCSWINSZ,
    TIOCNOTTY,
    TIOCSETD,
    TIOCLINUX,
    FIONREAD,
    FIONBIO,
    FIONCLEX,
    FIOCLEX,
];

/// Socket families and types, and signals.
const NET: &[Sym] = syms![
    AF_UNSPEC,
    AF_UNIX,
    AF_LOCAL,
    AF_INET,
    AF_INET6,
    AF_NETLINK,
    AF_PACKET,
    AF_APPLETALK,
    AF_IPX,
    AF_X25,
    AF_AX25,
    AF_KEY,
    AF_BRIDGE,
    AF_TIPC,
    AF_BLUETOOTH,
    AF_CAN,
    AF_ALG,
    SOCK_STREAM,
    SOCK_DGRAM,
    SOCK_RAW,
    SOCK_RDM,
    SOCK_SEQPACKET,
    SIGHUP,
    SIGINT,
    SIGQUIT,
    SIGILL,
    SIGTRAP,
    SIGABRT,
    SIGBUS,
    SIGFPE,
    SIGKILL,
    SIGUSR1,
    SIGSEGV,
    SIGUSR2,
    SIGPIPE,
    SIGALRM,
    SIGTERM,
    SIGSTKFLT,
    SIGCHLD,
    SIGCONT,
    SIGSTOP,
    SIGTSTP,
    SIGTTIN,
    SIGTTOU,
    SIGURG,
    SIGXCPU,
    SIGXFSZ,
    SIGVTALRM,
    SIGPROF,
    SIGWINCH,
    SIGIO,
    SIGPWR,
    SIGSYS,
];

/// The value of the symbolic constant `name`, if the probe knows it.
pub fn symbol(name: &str) -> Option<i64> {
    [EXTRA, FILE, PROC, NET]
        .iter()
        .flat_map(|t| t.iter())
        .find(|(n, _)| *n == name)
        .map(|&(_, v)| v)
}

/// Errno names, first match wins: `ENOTSUP` is also `EOPNOTSUPP`, `EAGAIN` also `EWOULDBLOCK`.
const ERRNOS: &[Sym] = syms![
    EPERM,
    ENOENT,
    ESRCH,
    EINTR,
    EIO,
    ENXIO,
    E2BIG,
    ENOEXEC,
    EBADF,
    ECHILD,
    EAGAIN,
    ENOMEM,
    EACCES,
    EFAULT,
    ENOTBLK,
    EBUSY,
    EEXIST,
    EXDEV,
    ENODEV,
    ENOTDIR,
    EISDIR,
    EINVAL,
    ENFILE,
    EMFILE,
    ENOTTY,
    ETXTBSY,
    EFBIG,
    ENOSPC,
    ESPIPE,
    EROFS,
    EMLINK,
    EPIPE,
    EDOM,
    ERANGE,
    EDEADLK,
    ENAMETOOLONG,
    ENOLCK,
    ENOSYS,
    ENOTEMPTY,
    ELOOP,
    ENOMSG,
    EIDRM,
    ENODATA,
    ETIME,
    ENOLINK,
    EPROTO,
    EBADMSG,
    EOVERFLOW,
    EBADFD,
    EILSEQ,
    EUSERS,
    ENOTSOCK,
    EDESTADDRREQ,
    EMSGSIZE,
    EPROTOTYPE,
    ENOPROTOOPT,
    EPROTONOSUPPORT,
    ESOCKTNOSUPPORT,
    ENOTSUP,
    EPFNOSUPPORT,
    EAFNOSUPPORT,
    EADDRINUSE,
    EADDRNOTAVAIL,
    ENETDOWN,
    ENETUNREACH,
    ENETRESET,
    ECONNABORTED,
    ECONNRESET,
    ENOBUFS,
    EISCONN,
    ENOTCONN,
    ESHUTDOWN,
    ETOOMANYREFS,
    ETIMEDOUT,
    ECONNREFUSED,
    EHOSTDOWN,
    EHOSTUNREACH,
    EALREADY,
    EINPROGRESS,
    ESTALE,
    EREMOTEIO,
    EDQUOT,
    ENOMEDIUM,
    EMEDIUMTYPE,
    ECANCELED,
    ENOKEY,
    EKEYEXPIRED,
    EKEYREVOKED,
    EKEYREJECTED,
    EOWNERDEAD,
    ENOTRECOVERABLE,
    ERFKILL,
    EHWPOISON,
];

/// The name of errno `e` (`EPERM`), or `E<n>` for a number the table lacks.
pub fn errno_name(e: i32) -> String {
    ERRNOS
        .iter()
        .find(|&&(_, v)| v == i64::from(e))
        .map_or_else(|| format!("E{e}"), |&(n, _)| n.to_string())
}
