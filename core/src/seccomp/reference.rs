//! A test oracle for the seccomp filter: [`reference_action`] says, with plain `if`/`else` over
//! syscall names and argument values, which action SPEC §2.4–§2.6, §6.1–§6.5 and §6.8 give one
//! syscall of one architecture.
//!
//! It is written from the specification, not from [`super::policy`], and shares none of its
//! lists or helpers: the tests below compile the policy's model for every architecture and check
//! that the interpreter, running the compiled program, agrees with this function. Built only for
//! tests and with the `reference` feature.
//!
//! Where the specification leaves a choice, the oracle takes these: a type that is `off` while
//! the start-up lock is `on` is not routed (§2.4 MAY); `clone`, `clone3`, `fork`, `vfork` are
//! not routed (§2.4 MAY); the recommendations of §6.1 (`rt_sigreturn` at level 1) and §6.8
//! (`tgkill` with the supervisor as tgid) are followed; an open "writes" when any of `O_WRONLY`,
//! `O_RDWR`, `O_CREAT`, `O_TRUNC` is set (the bit tests of §2.5, which also route access mode 3);
//! the 64-bit-time forms (`futex_time64`) and the asm-generic replacements (`ppoll`,
//! `epoll_create1`, `epoll_pwait2`) are ABI variants of their base call.

use super::policy::FilterOptions;
use super::Action;
use crate::arch::Arch;
use crate::sandbox::{Cap, Lock, Mode, Sandbox};

/// errno values (asm-generic/errno-base.h, asm-generic/errno.h). The first three are the same on
/// every ABI; the others are asm-generic's numbers, which mips and parisc replace: [`errno_of`]
/// reads the ABI's own.
const EPERM: u16 = 1;
const ESRCH: u16 = 3;
const EINVAL: u16 = 22;
const EADDRNOTAVAIL: u16 = 99;
const ENOTCONN: u16 = 107;
const ECONNREFUSED: u16 = 111;
const ECANCELED: u16 = 125;

/// The asm-generic errno `generic` as `arch` numbers it.
fn errno_of(arch: &Arch, generic: u16) -> u16 {
    let name = match generic {
        EADDRNOTAVAIL => "EADDRNOTAVAIL",
        ENOTCONN => "ENOTCONN",
        ECONNREFUSED => "ECONNREFUSED",
        ECANCELED => "ECANCELED",
        _ => return generic,
    };
    arch.consts
        .errno(name)
        .and_then(|v| u16::try_from(v).ok())
        .unwrap_or(generic)
}

/// `F_OK`, `X_OK`, `W_OK`, `R_OK` (unistd.h; SPEC appendix A).
const F_OK: u32 = 0;
const X_OK: u32 = 1;
const W_OK: u32 = 2;
const R_OK: u32 = 4;

/// SPEC §6.1: the level-0 deny list, ECANCELED at every level.
const LEVEL0: &[&str] = &[
    "acct",
    "add_key",
    "adjtimex",
    "afs_syscall",
    "chroot",
    "finit_module",
    "fsmount",
    "get_kernel_syms",
    "init_module",
    "kexec_file_load",
    "kexec_load",
    "keyctl",
    "mount",
    "move_mount",
    "nfsservctl",
    "pidfd_getfd",
    "pivot_root",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "process_vm_readv",
    "process_vm_writev",
    "ptrace",
    "quotactl",
    "reboot",
    "request_key",
    "security",
    "setdomainname",
    "sethostname",
    "swapoff",
    "swapon",
    "umount",
    "umount2",
    "unshare",
    "uselib",
    "vm86",
    "vm86old",
    "vserver",
];

/// SPEC §6.1: level 1, the seed's list (`open`/`openat` read-only only).
const LEVEL1: &[&str] = &[
    "arch_prctl",
    "close",
    "dup",
    "dup2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "getpid",
    "set_tid_address",
    "read",
    "readv",
    "preadv",
    "preadv2",
    "write",
    "writev",
    "pwritev",
    "pwritev2",
    "open",
    "openat",
    "stat",
    "fstat",
    "lstat",
    "newfstatat",
    "sigreturn",
    "brk",
    "mmap",
    "mmap2",
    "munmap",
];

/// SPEC §6.1: level 2, the seed's list (`open`/`openat` read-only only; `prlimit` is
/// `prlimit64`).
const LEVEL2: &[&str] = &[
    "access",
    "brk",
    "clock_gettime",
    "close",
    "clone",
    "clone3",
    "fork",
    "vfork",
    "dup",
    "dup2",
    "execve",
    "execveat",
    "epoll_create",
    "epoll_wait",
    "epoll_pwait",
    "eventfd2",
    "pipe",
    "pipe2",
    "fcntl",
    "fstat",
    "fsync",
    "futex",
    "getdents",
    "getegid",
    "geteuid",
    "getgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpgid",
    "getrlimit",
    "gettimeofday",
    "gettid",
    "getuid",
    "lseek",
    "_llseek",
    "lstat",
    "mlockall",
    "mmap",
    "mmap2",
    "munmap",
    "nanosleep",
    "newfstatat",
    "open",
    "openat",
    "prlimit",
    "pselect6",
    "read",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "sched_getaffinity",
    "sched_yield",
    "sendmsg",
    "set_robust_list",
    "setpgid",
    "setrlimit",
    "shutdown",
    "sigaltstack",
    "sigreturn",
    "stat",
    "uname",
    "wait4",
    "write",
    "writev",
    "exit_group",
    "exit",
    "madvise",
    "getrandom",
    "sysinfo",
    "recv",
    "send",
    "bind",
    "listen",
    "connect",
    "getsockname",
    "getpeername",
    "recvmsg",
    "recvfrom",
    "sendto",
    "readlink",
    "readlinkat",
    "select",
    "poll",
    "arch_prctl",
    "membarrier",
    "set_tid_address",
];

/// SPEC §6.1: level 3 adds these to level 2, and `open`/`openat` with any flags.
const LEVEL3: &[&str] = &[
    "chmod",
    "fchmod",
    "fchmodat",
    "chown",
    "chown32",
    "lchown",
    "lchown32",
    "fchownat",
    "creat",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "rmdir",
    "truncate",
    "truncate64",
    "link",
    "linkat",
    "unlink",
    "unlinkat",
    "rename",
    "renameat",
    "renameat2",
    "symlink",
    "symlinkat",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    "setxattr",
    "lsetxattr",
    "removexattr",
    "lremovexattr",
    "openat2",
];

/// SPEC §6.1: permitted at every level >= 1 besides the level's list (`rt_sigreturn` is the
/// spec's recommendation for level 1; `mprotect` and `ioctl` are then checked by their own rules).
const EVERY_LEVEL: &[&str] = &[
    "exit",
    "exit_group",
    "arch_prctl",
    "membarrier",
    "set_tid_address",
    "rt_sigprocmask",
    "rt_sigreturn",
    "mprotect",
];

/// SPEC §6.1: permitted at every level >= 1 in notify mode.
const EVERY_LEVEL_NOTIFY: &[&str] = &["chdir", "clone", "clone3", "fork", "vfork"];

/// SPEC §2.5: the write syscalls that `bpf` denies whatever their arguments (§2.9's list besides
/// the open and access families).
const WRITE_CALLS: &[&str] = &[
    "creat",
    "chmod",
    "fchmodat",
    "chown",
    "chown32",
    "lchown",
    "lchown32",
    "fchownat",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "rmdir",
    "truncate",
    "truncate64",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    "unlink",
    "unlinkat",
    "link",
    "linkat",
    "rename",
    "renameat",
    "renameat2",
    "symlink",
    "symlinkat",
    "setxattr",
    "lsetxattr",
    "removexattr",
    "lremovexattr",
    "mount",
    "umount",
    "umount2",
];

/// SPEC §4.1, §2.5: the network calls `bpf` denies.
const NET_CALLS: &[&str] = &[
    "bind",
    "connect",
    "sendto",
    "sendmsg",
    "recvmsg",
    "socketcall",
    "listen",
    "accept",
    "accept4",
    "getsockname",
];

/// SPEC §6.8: the signals `pidfd_send_signal` may not send, by name (29 is added literally).
const PIDFD_SIGNALS: &[&str] = &[
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGABRT",
    "SIGFPE",
    "SIGKILL",
    "SIGSEGV",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGUSR1",
    "SIGUSR2",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGBUS",
    "SIGPOLL",
    "SIGIO",
    "SIGPROF",
    "SIGSYS",
    "SIGTRAP",
    "SIGVTALRM",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGSTKFLT",
];

/// The action the filter of `arch` must give syscall number `nr` with arguments `args`, for the
/// start-up policy `sb` and the options `opts` (a test oracle, see the module documentation).
///
/// `nr` is the number as `seccomp_data.nr` carries it (x32 numbers with their bit); a number
/// that is not in the architecture's table gets the default action. The architecture check of
/// the program (other ABIs killed) is not modelled here: the caller has already routed the call
/// to this architecture's filter.
pub fn reference_action(
    sb: &Sandbox,
    opts: &FilterOptions,
    arch: &Arch,
    nr: u32,
    args: [u64; 6],
) -> Action {
    if newer_than_tables(arch, nr) {
        // Project rule (not in SPEC): calls the tables do not know are refused with ENOSYS.
        let enosys = match arch.name {
            "mips" | "mips64" => 89,
            "parisc" | "parisc64" => 251,
            _ => 38,
        };
        return Action::Errno(enosys);
    }
    decide(sb, opts, arch, arch.name_of(nr), args)
}

/// Whether `nr` lies beyond every number `arch`'s table has in its block of numbers: above the
/// highest one (on x86_64, below the x32 bit), or on x32 and arm in the gap before their
/// ABI-private numbers (x32 512 and up, arm 0x0f0000 and up).
fn newer_than_tables(arch: &Arch, nr: u32) -> bool {
    let (block_start, block_end) = match arch.name {
        "x86_64" => (0, 0x3fff_ffff),
        "x32" => (0x4000_0000, 0x4000_01ff),
        "arm" => (0, 0x000e_ffff),
        _ => (0, u32::MAX),
    };
    let highest_in_block = arch
        .syscalls()
        .map(|(_, n)| n)
        .filter(|n| (block_start..=block_end).contains(n))
        .max();
    let above_block = match arch.name {
        "x32" | "arm" => arch
            .syscalls()
            .map(|(_, n)| n)
            .max()
            .is_some_and(|m| nr > m),
        _ => false,
    };
    above_block || highest_in_block.is_some_and(|h| nr > h && nr <= block_end)
}

/// [`reference_action`] for the syscall called `name` on `arch` (`None`: not in the table).
fn decide(
    sb: &Sandbox,
    opts: &FilterOptions,
    arch: &Arch,
    name: Option<&str>,
    args: [u64; 6],
) -> Action {
    let level = sb.global.restrict_general;
    let notify = !opts.bpf_only;
    let Some(name) = name else {
        // §6.1: level 0 allows by default, levels 1-3 deny with EPERM.
        return if level == 0 {
            Action::Allow
        } else {
            Action::Errno(EPERM)
        };
    };

    // §2.4 precedence 1: the level-0 deny list, at every level.
    if LEVEL0.contains(&name) {
        return Action::Errno(errno_of(arch, ECANCELED));
    }
    // Project rule (the hardening issue, not in SPEC): io_uring is refused while any type is
    // allow/deny, the file-handle calls while read or write is (after -b's translation).
    let eff = |m: Mode| match (m, opts.bpf_only) {
        (Mode::Allow, true) => Mode::Off,
        (Mode::Deny, true) => Mode::Bpf,
        (m, _) => m,
    };
    let decided = |m: Mode| matches!(eff(m), Mode::Allow | Mode::Deny);
    let (r, w, x) = (
        decided(sb.task.mode(Cap::Read)),
        decided(sb.task.mode(Cap::Write)),
        decided(sb.task.mode(Cap::Exec)),
    );
    let nw = decided(sb.task.network);
    if name.starts_with("io_uring_") && (r || w || x || nw) {
        return Action::Errno(EPERM);
    }
    if (name == "open_by_handle_at" || name == "name_to_handle_at") && (r || w) {
        return Action::Errno(EPERM);
    }
    // Project rule (the hardening issue): with a supervisor, a userfaultfd that serves the
    // kernel's faults too (no UFFD_USER_MODE_ONLY, bit 0 of the flags) is refused.
    if notify {
        // _IO(0xAA, 0): mips and powerpc encode "no data" as 1 << 29.
        let none = if arch.name.starts_with("mips") || arch.name.starts_with("ppc") {
            0x2000_0000
        } else {
            0
        };
        let kernel_faults = match name {
            "userfaultfd" => int(&args, 0) & 1 == 0,
            "ioctl" => int(&args, 1) == none | 0xaa00 && int(&args, 2) & 1 == 0,
            _ => false,
        };
        if kernel_faults {
            return Action::Errno(EPERM);
        }
    }
    // 2: what the level does not permit.
    if level >= 1 && !level_permits(level, notify, arch, name, &args) {
        return Action::Errno(EPERM);
    }
    // 3: identity, ioctl, mmap/mprotect and signal protections.
    if let Some(action) = restriction(sb, opts, arch, name, &args) {
        return action;
    }
    // 4: the in-kernel denials of the `bpf` state (and of `deny` under -b).
    if let Some(action) = bpf_denial(sb, opts, arch, name, &args) {
        return action;
    }
    // 5: routing to user space.
    if notify && routed(sb, arch, name, &args) {
        return Action::UserNotif;
    }
    Action::Allow
}

/// Argument `i` as a C `int` or `unsigned int`: its low 32 bits.
fn int(args: &[u64; 6], i: usize) -> u32 {
    let v = args.get(i).copied().unwrap_or(0);
    // Truncation intended: the compared arguments are C ints (§6.2 "low 32 bits", STYLE §4).
    (v & 0xffff_ffff) as u32
}

/// Names that `name` may be an ABI variant of (SPEC §6.1: `*64`, `*32`, `getdents64`,
/// `prlimit64`, `_llseek`, `_newselect`), itself first. The 64-bit-time calls of the 32-bit ABIs
/// (`futex_time64`) count as their base call, and so do the forms that the asm-generic ABIs
/// (aarch64, riscv64) have instead of the listed ones (`ppoll` for `poll`).
fn variant_bases(name: &str) -> [Option<&str>; 5] {
    let special = |n: &str| match n {
        "_llseek" => Some("lseek"),
        "_newselect" => Some("select"),
        // The SUSv2 getrlimit of the 32-bit ABIs.
        "ugetrlimit" => Some("getrlimit"),
        // newfstatat under its 32-bit ABIs' name.
        "fstatat64" => Some("newfstatat"),
        "epoll_create1" => Some("epoll_create"),
        "epoll_pwait2" => Some("epoll_pwait"),
        "ppoll" => Some("poll"),
        _ => None,
    };
    let time64 = name.strip_suffix("_time64");
    [
        Some(name),
        time64,
        name.strip_suffix("64").or_else(|| name.strip_suffix("32")),
        special(name),
        time64.and_then(special),
    ]
}

/// Whether `name` is a write call of §2.9 besides the open and access families, or the
/// 64-bit-time form of one (`utimensat_time64`).
fn write_call(name: &str) -> bool {
    WRITE_CALLS.contains(&name)
        || name
            .strip_suffix("_time64")
            .is_some_and(|base| WRITE_CALLS.contains(&base))
}

fn listed(list: &[&str], name: &str) -> bool {
    variant_bases(name)
        .iter()
        .flatten()
        .any(|base| list.contains(base))
}

/// Whether `flags` of an open call ask for read-only access as levels 1 and 2 require: access
/// mode `O_RDONLY`, none of `O_CREAT`, `O_TRUNC`, `O_TMPFILE`.
fn open_read_only(arch: &Arch, flags: u32) -> bool {
    let c = arch.consts;
    let tmpfile = c.o_tmpfile & !c.o_directory;
    flags & c.o_accmode == c.o_rdonly && flags & (c.o_creat | c.o_trunc | tmpfile) == 0
}

/// SPEC §6.1: whether level `level` (1..=3) permits the call.
fn level_permits(level: u8, notify: bool, arch: &Arch, name: &str, args: &[u64; 6]) -> bool {
    if name == "ioctl" {
        // §6.3: at levels 1-3 the io_control list is the permitted set.
        return ioctl_listed(arch, int(args, 1));
    }
    if listed(EVERY_LEVEL, name) || (notify && EVERY_LEVEL_NOTIFY.contains(&name)) {
        return true;
    }
    let flags = match name {
        "open" => Some(int(args, 1)),
        "openat" => Some(int(args, 2)),
        _ => None,
    };
    if let Some(flags) = flags {
        return level == 3 || open_read_only(arch, flags);
    }
    match level {
        1 => listed(LEVEL1, name),
        2 => listed(LEVEL2, name),
        _ => listed(LEVEL2, name) || listed(LEVEL3, name),
    }
}

fn ioctl_listed(arch: &Arch, request: u32) -> bool {
    arch.consts.ioctls().any(|(_, v)| v == request)
}

/// SPEC §6.2–§6.5, §6.8: a denial by a restriction rule, if one applies.
fn restriction(
    sb: &Sandbox,
    opts: &FilterOptions,
    arch: &Arch,
    name: &str,
    args: &[u64; 6],
) -> Option<Action> {
    let g = &sb.global;
    let c = arch.consts;
    if g.restrict_identity_change {
        // (which ids, threshold, pinned id) for the user and the group calls.
        let user: &[usize] = match name {
            "setuid" | "setuid32" | "setfsuid" | "setfsuid32" => &[0],
            "setreuid" | "setreuid32" => &[0, 1],
            "setresuid" | "setresuid32" => &[0, 1, 2],
            _ => &[],
        };
        let group: &[usize] = match name {
            "setgid" | "setgid32" | "setfsgid" | "setfsgid32" => &[0],
            "setregid" | "setregid32" => &[0, 1],
            "setresgid" | "setresgid32" => &[0, 1, 2],
            _ => &[],
        };
        for (ids, threshold, pinned) in [(user, 11, opts.uid), (group, 14, opts.gid)] {
            for &i in ids {
                let id = int(args, i);
                if id == u32::MAX {
                    continue; // -1: "unchanged"
                }
                match pinned {
                    Some(p) if id != p => return Some(Action::Errno(EPERM)),
                    None if id <= threshold => return Some(Action::Errno(EINVAL)),
                    _ => {}
                }
            }
        }
    }
    if name == "ioctl"
        && (g.restrict_io_control || g.restrict_general >= 1)
        && !ioctl_listed(arch, int(args, 1))
    {
        return Some(Action::Errno(EPERM));
    }
    if name == "mmap" || name == "mmap2" {
        let (prot, flags) = (int(args, 2), int(args, 3));
        if g.restrict_shared_memory_writable {
            if prot & c.prot_write != 0 && flags & c.map_shared != 0 {
                return Some(Action::Errno(EPERM));
            }
        } else if g.restrict_memory_map {
            let rw = c.prot_read | c.prot_write;
            let pairs = [
                (c.prot_read, c.map_private),
                (
                    c.prot_none,
                    c.map_private | c.map_anonymous | c.map_noreserve,
                ),
                (rw, c.map_private | c.map_anonymous),
                (rw, c.map_private | c.map_anonymous | c.map_stack),
                (rw, c.map_private | c.map_fixed | c.map_denywrite),
                (rw, c.map_private | c.map_fixed | c.map_anonymous),
                (c.prot_read | c.prot_exec, c.map_private | c.map_denywrite),
            ];
            if !pairs.contains(&(prot, flags)) {
                return Some(Action::Errno(EPERM));
            }
        }
    }
    if name == "mprotect" && g.restrict_memory_map {
        let prot = int(args, 2);
        if prot != c.prot_read && prot != c.prot_read | c.prot_write {
            return Some(Action::Errno(EPERM));
        }
    }
    // §6.8: the supervisor's protections (notify mode).
    if !opts.bpf_only {
        let sup = opts.supervisor;
        let sigchld = c.signal("SIGCHLD");
        let not_sigchld = |sig: u32| Some(sig) != sigchld;
        let hit = match name {
            "tkill" => int(args, 0) == sup && not_sigchld(int(args, 1)),
            // Also kill(-pgid) of the group the supervisor leads, and kill(-1).
            "kill" => {
                let pid = int(args, 0);
                [sup, sup.wrapping_neg(), u32::MAX].contains(&pid) && not_sigchld(int(args, 1))
            }
            // Project rule: no limits or scheduling changes of the supervisor by pid.
            "prlimit64" | "sched_setaffinity" | "sched_setscheduler" | "sched_setparam"
            | "sched_setattr" => int(args, 0) == sup,
            // PRIO_PROCESS is 0, IOPRIO_WHO_PROCESS 1.
            "setpriority" => int(args, 0) == 0 && int(args, 1) == sup,
            "ioprio_set" => int(args, 0) == 1 && int(args, 1) == sup,
            // tid (a1) as required, and tgid (a0) as recommended.
            "tgkill" => (int(args, 1) == sup || int(args, 0) == sup) && not_sigchld(int(args, 2)),
            "pidfd_send_signal" => {
                let sig = int(args, 1);
                sig == 29 || PIDFD_SIGNALS.iter().any(|s| c.signal(s) == Some(sig))
            }
            _ => false,
        };
        if hit {
            return Some(Action::Errno(ESRCH));
        }
    }
    None
}

/// A state as the filter sees it: under `-b`, `allow` is `off` and `deny` is `bpf` (§2.6).
fn effective(mode: Mode, bpf_only: bool) -> Mode {
    match (mode, bpf_only) {
        (Mode::Allow, true) => Mode::Off,
        (Mode::Deny, true) => Mode::Bpf,
        (m, _) => m,
    }
}

/// SPEC §2.5, §2.6: the in-kernel denial of a type in state `bpf`, if one applies.
fn bpf_denial(
    sb: &Sandbox,
    opts: &FilterOptions,
    arch: &Arch,
    name: &str,
    args: &[u64; 6],
) -> Option<Action> {
    let c = arch.consts;
    let is_bpf = |m: Mode| effective(m, opts.bpf_only) == Mode::Bpf;
    let read = is_bpf(sb.task.mode(Cap::Read));
    let write = is_bpf(sb.task.mode(Cap::Write));
    let exec = is_bpf(sb.task.mode(Cap::Exec));
    let net = is_bpf(sb.task.network);
    let deny = Some(Action::Errno(EPERM));
    let flags = match name {
        "open" => Some(int(args, 1)),
        "openat" => Some(int(args, 2)),
        _ => None,
    };
    let mode = match name {
        "access" => Some(int(args, 1)),
        "faccessat" | "faccessat2" => Some(int(args, 2)),
        _ => None,
    };
    if read {
        if let Some(f) = flags {
            let acc = f & c.o_accmode;
            if acc == c.o_rdonly || acc == c.o_rdwr {
                return deny;
            }
        }
        if mode == Some(F_OK) || mode == Some(R_OK) {
            return deny;
        }
        if matches!(
            name,
            "listxattr" | "llistxattr" | "chdir" | "fchdir" | "openat2"
        ) {
            return deny;
        }
    }
    if write {
        if let Some(f) = flags {
            if f & (c.o_wronly | c.o_rdwr | c.o_creat | c.o_trunc) != 0 {
                return deny;
            }
        }
        if mode == Some(W_OK) || name == "openat2" || write_call(name) {
            return deny;
        }
    }
    if exec && (mode == Some(X_OK) || name == "execve" || name == "execveat") {
        return deny;
    }
    if net && NET_CALLS.contains(&name) {
        // §2.6: `deny` under -b keeps the deny-mode errnos of §4.1 for five calls.
        if opts.bpf_only && sb.task.network == Mode::Deny {
            let errno = match name {
                "bind" => EADDRNOTAVAIL,
                "connect" | "recvmsg" => ECONNREFUSED,
                "sendto" | "sendmsg" => ENOTCONN,
                _ => EPERM,
            };
            return Some(Action::Errno(errno_of(arch, errno)));
        }
        return deny;
    }
    None
}

/// SPEC §2.4: whether notify mode sends the call to user space (after every in-kernel rule let
/// it through).
fn routed(sb: &Sandbox, arch: &Arch, name: &str, args: &[u64; 6]) -> bool {
    let c = arch.consts;
    // A type is routed unless it is `bpf` at start-up (§2.4 "T's startup state ≠ bpf"); a type
    // that is `off` while the lock is `on` at start-up is not (the MAY of the same row: nothing
    // can switch it on later).
    let lock_on = sb.task.lock == Lock::On;
    let routes = |m: Mode| m != Mode::Bpf && !(m == Mode::Off && lock_on);
    let read = routes(sb.task.mode(Cap::Read));
    let write = routes(sb.task.mode(Cap::Write));
    let net = routes(sb.task.network);
    let learn = net && sb.global.allow_successful_bind;
    match name {
        "stat" | "lstat" | "stat64" | "lstat64" => sb.task.lock != Lock::On,
        // fstat(2) is newfstatat/statx with AT_EMPTY_PATH (0x1000): never a magic path.
        "newfstatat" | "fstatat64" => sb.task.lock != Lock::On && int(args, 3) & 0x1000 == 0,
        "statx" => sb.task.lock != Lock::On && int(args, 2) & 0x1000 == 0,
        "execve" | "execveat" => true,
        // The supervisor forgets what it knew of the caller's identity.
        "setuid" | "setuid32" | "setgid" | "setgid32" | "setreuid" | "setreuid32" | "setregid"
        | "setregid32" | "setresuid" | "setresuid32" | "setresgid" | "setresgid32" | "setfsuid"
        | "setfsuid32" | "setfsgid" | "setfsgid32" | "setgroups" | "setgroups32" | "capset"
        | "setns" => true,
        "chdir" | "fchdir" | "listxattr" | "llistxattr" => read,
        "open" | "openat" => {
            let f = if name == "open" {
                int(args, 1)
            } else {
                int(args, 2)
            };
            // §2.10's classification, with "writes" as the bit tests of §2.5: access mode 3
            // has both bits and the kernel checks it for write permission (ACC_MODE in
            // fs/namei.c), and O_TMPFILE without a write access mode fails with EINVAL
            // (build_open_flags in fs/open.c), so these catch every O_TMPFILE open too.
            let acc = f & c.o_accmode;
            let reads = acc == c.o_rdonly || acc == c.o_rdwr;
            let writes = f & (c.o_wronly | c.o_rdwr | c.o_creat | c.o_trunc) != 0;
            (reads && read) || (writes && write)
        }
        "access" | "faccessat" | "faccessat2" => {
            let mode = if name == "access" {
                int(args, 1)
            } else {
                int(args, 2)
            };
            read || (mode & W_OK != 0 && write)
        }
        "openat2" => read || write,
        "bind" | "connect" | "sendto" | "sendmsg" | "recvmsg" => net,
        "listen" | "accept" | "accept4" | "getsockname" => learn,
        // §4.2: socketcall(call, args) by subcall number.
        "socketcall" => match int(args, 0) {
            2 | 3 | 11 | 16 | 17 => net,
            4 | 5 | 6 | 18 => learn,
            _ => false,
        },
        "uname" => sb.global.restrict_system_info,
        _ => write_call(name) && write,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::{
        AARCH64, ARCHES, ARM, MIPS, MIPS64, PPC, PPC64, S390, S390X, X32, X32_SYSCALL_BIT, X86,
        X86_64,
    };
    use crate::bpf::interp;
    use crate::seccomp::compile::compile;
    use crate::seccomp::model::ArchFilter;
    use crate::seccomp::policy::build;
    use crate::seccomp::{byte_order, SeccompData};
    use std::boxed::Box;
    use std::collections::BTreeMap;
    use std::format;
    use std::string::String;
    use std::vec;
    use std::vec::Vec;

    /// The seed of every PRNG below; printed with each failure.
    const SEED: u64 = 0x5eed_5ecc_0b0f_0001;
    /// The supervisor pid the filters protect.
    const SUP: u32 = 4242;
    /// Argument vectors kept per syscall of a family outside a policy's focus.
    const SAMPLE: usize = 12;
    /// Out of this many numbers without a syscall, one is tried when a policy does not try
    /// every number.
    const ABSENT_SAMPLE: u64 = 16;

    /// xorshift64*: a fixed-seed PRNG for sampling argument vectors.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn args(&mut self) -> [u64; 6] {
            core::array::from_fn(|_| self.next())
        }
    }

    /// Edge values of any argument: small numbers, the identity thresholds, the 32-bit and
    /// 64-bit boundaries.
    const EDGES: [u64; 16] = [
        0,
        1,
        2,
        4,
        6,
        11,
        12,
        14,
        15,
        0x7fff_ffff,
        0xffff_ffff,
        0x1_0000_0000,
        0x1_0000_000b,
        0x8000_0000_0000_0000,
        0xffff_ffff_0000_0000,
        u64::MAX,
    ];

    /// `v` with garbage in the upper half, which rules on C ints must ignore.
    fn high(v: u64, rng: &mut Rng) -> u64 {
        (v & 0xffff_ffff) | (rng.next() << 32) | (1 << 32)
    }

    /// One argument vector per value of `values` at position `pos` (the others random), and
    /// the same with garbage in the upper half of the value.
    fn at(pos: usize, values: &[u64], rng: &mut Rng, out: &mut Vec<[u64; 6]>) {
        for &v in values {
            let mut a = rng.args();
            a[pos] = v;
            out.push(a);
            a[pos] = high(v, rng);
            out.push(a);
        }
    }

    /// The syscalls whose decision depends on their arguments, by the rule that reads them.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    enum Family {
        /// open, openat: flags.
        Open,
        /// access, faccessat, faccessat2: mode.
        Access,
        /// mmap, mmap2, mprotect: prot and flags.
        Mmap,
        /// ioctl: request.
        Ioctl,
        /// set*id: ids.
        Ids,
        /// kill, tkill, tgkill, pidfd_send_signal: pids and signals.
        Signals,
        /// socketcall: subcall.
        Socket,
    }

    const ALL: &[Family] = &[
        Family::Open,
        Family::Access,
        Family::Mmap,
        Family::Ioctl,
        Family::Ids,
        Family::Signals,
        Family::Socket,
    ];

    fn family(name: &str) -> Option<Family> {
        Some(match name {
            "open" | "openat" => Family::Open,
            "access" | "faccessat" | "faccessat2" => Family::Access,
            "mmap" | "mmap2" | "mprotect" => Family::Mmap,
            "ioctl" => Family::Ioctl,
            "kill" | "tkill" | "tgkill" | "pidfd_send_signal" => Family::Signals,
            "socketcall" => Family::Socket,
            n if n.starts_with("setuid")
                || n.starts_with("setgid")
                || n.starts_with("setre")
                || n.starts_with("setfs") =>
            {
                Family::Ids
            }
            _ => return None,
        })
    }

    /// Argument vectors for syscall `name` of `arch`: the edge values of every argument the
    /// specification gives a rule on (each also with garbage in its upper half); one random
    /// vector for any other call, or the edges of every argument if the model has rules for it
    /// (`ruled`) that the specification does not.
    fn vectors(arch: &Arch, name: &str, ruled: bool, rng: &mut Rng) -> Vec<[u64; 6]> {
        let c = arch.consts;
        let mut out = vec![rng.args(), [0; 6]];
        let sig = |n: &str| u64::from(c.signal(n).unwrap_or(64));
        let signals: Vec<u64> = (0..=65).collect();
        let pids = [
            u64::from(SUP),
            u64::from(SUP) + 1,
            0,
            u64::from(SUP) | 1 << 32,
            u64::MAX,
            u64::from(SUP.wrapping_neg()),
            u64::from(SUP.wrapping_neg()) | 1 << 32,
        ];
        let ids = [
            0,
            1,
            11,
            12,
            14,
            15,
            99,
            100,
            101,
            999,
            1000,
            1001,
            65534,
            0xffff_fffe,
            0xffff_ffff,
            1 << 32,
            (1 << 32) | 1000,
            (1 << 32) | 11,
            1 << 63,
            u64::MAX,
        ];
        match name {
            "open" | "openat" => {
                let pos = if name == "open" { 1 } else { 2 };
                let tmp_only = c.o_tmpfile & !c.o_directory;
                let extras = [
                    0,
                    c.o_creat,
                    c.o_trunc,
                    c.o_excl,
                    c.o_creat | c.o_excl,
                    c.o_creat | c.o_trunc,
                    c.o_tmpfile,
                    tmp_only,
                    c.o_directory,
                    c.o_nonblock | c.o_cloexec,
                    c.o_largefile,
                    c.o_path,
                    c.o_nofollow | c.o_noctty | c.o_append,
                    !(c.o_accmode | c.o_creat | c.o_trunc | tmp_only),
                ];
                let mut values = vec![];
                for acc in [c.o_rdonly, c.o_wronly, c.o_rdwr, c.o_accmode] {
                    for e in extras {
                        values.push(u64::from(acc | e));
                    }
                }
                values.extend(EDGES);
                at(pos, &values, rng, &mut out);
            }
            "access" | "faccessat" | "faccessat2" => {
                let pos = if name == "access" { 1 } else { 2 };
                let mut values: Vec<u64> = (0..=8).collect();
                values.extend(EDGES);
                at(pos, &values, rng, &mut out);
            }
            "mmap" | "mmap2" => {
                let prots = [
                    c.prot_none,
                    c.prot_read,
                    c.prot_write,
                    c.prot_read | c.prot_write,
                    c.prot_exec,
                    c.prot_read | c.prot_exec,
                    c.prot_read | c.prot_write | c.prot_exec,
                    c.prot_write | c.prot_exec,
                ];
                let p = c.map_private;
                let flags = [
                    0,
                    p,
                    c.map_shared,
                    c.map_shared_validate,
                    c.map_shared | c.map_anonymous,
                    p | c.map_anonymous,
                    p | c.map_anonymous | c.map_noreserve,
                    p | c.map_anonymous | c.map_stack,
                    p | c.map_fixed | c.map_denywrite,
                    p | c.map_fixed | c.map_anonymous,
                    p | c.map_denywrite,
                    p | c.map_fixed,
                    p | c.map_anonymous | c.map_stack | c.map_noreserve,
                    c.map_shared | c.map_fixed | c.map_anonymous,
                    c.map_shared | c.map_denywrite,
                ];
                for prot in prots {
                    for fl in flags {
                        let mut a = rng.args();
                        a[2] = u64::from(prot);
                        a[3] = u64::from(fl);
                        out.push(a);
                        a[2] = high(a[2], rng);
                        a[3] = high(a[3], rng);
                        out.push(a);
                    }
                }
                at(2, &EDGES, rng, &mut out);
                at(3, &EDGES, rng, &mut out);
            }
            "mprotect" => {
                let mut values: Vec<u64> = (0..=8).collect();
                values.extend(EDGES);
                at(2, &values, rng, &mut out);
            }
            "ioctl" => {
                let mut values: Vec<u64> = vec![];
                for (_, v) in c.ioctls() {
                    let v = u64::from(v);
                    values.extend([v, v + 1, v.wrapping_sub(1)]);
                }
                values.extend(EDGES);
                at(1, &values, rng, &mut out);
                // USERFAULTFD_IOC_NEW (both encodings) with and without UFFD_USER_MODE_ONLY.
                for req in [0xaa00, 0x2000_aa00] {
                    for flags in [0, 1, 0o2_000_000, 0o2_000_001, 1 << 32] {
                        out.push([3, req, flags, 0, 0, 0]);
                    }
                }
            }
            n if n.starts_with("setres") => {
                for &id in &ids {
                    for (i, other) in [(0, u64::MAX), (1, 1000), (2, 0xffff_ffff), (0, 100)] {
                        let mut a = [other; 6];
                        a[i] = id;
                        out.push(a);
                        a = [id; 6];
                        a[(i + 1) % 3] = other;
                        out.push(a);
                    }
                }
                for _ in 0..60 {
                    let mut a = rng.args();
                    for x in a.iter_mut().take(3) {
                        *x = ids[rng.below(ids.len())];
                    }
                    out.push(a);
                }
            }
            n if n.starts_with("setre") => {
                for &id in &ids {
                    for other in [u64::MAX, 1000, 100, 0xffff_ffff] {
                        out.push([id, other, 0, 0, 0, 0]);
                        out.push([other, id, 0, 0, 0, 0]);
                    }
                    out.push([id, id, 0, 0, 0, 0]);
                }
            }
            n if family(n) == Some(Family::Ids) => at(0, &ids, rng, &mut out),
            "kill" | "tkill" => {
                for pid in pids {
                    for s in [0, sig("SIGCHLD"), sig("SIGTERM"), 29, u64::MAX] {
                        out.push([pid, s, 0, 0, 0, 0]);
                        out.push([pid, high(s, rng), 0, 0, 0, 0]);
                    }
                }
                for &s in &signals {
                    out.push([u64::from(SUP), s, 0, 0, 0, 0]);
                }
            }
            "tgkill" => {
                for p0 in pids {
                    for p1 in pids {
                        for s in [0, sig("SIGCHLD"), sig("SIGTERM"), 29] {
                            out.push([p0, p1, s, 0, 0, 0]);
                            out.push([p0, p1, high(s, rng), 0, 0, 0]);
                        }
                    }
                }
                for &s in &signals {
                    out.push([1, u64::from(SUP), s, 0, 0, 0]);
                    out.push([u64::from(SUP), 1, s, 0, 0, 0]);
                }
            }
            "pidfd_send_signal" => at(1, &signals, rng, &mut out),
            "prlimit64" | "sched_setaffinity" | "sched_setscheduler" | "sched_setparam"
            | "sched_setattr" => at(0, &pids, rng, &mut out),
            "setpriority" | "ioprio_set" => {
                for which in [0, 1, 2, 1 << 32] {
                    for pid in pids {
                        out.push([which, pid, 0, 0, 0, 0]);
                    }
                }
            }
            "socketcall" => {
                let values: Vec<u64> = (0..=21).chain(EDGES).collect();
                at(0, &values, rng, &mut out);
            }
            _ if ruled => {
                for pos in 0..6 {
                    at(pos, &EDGES, rng, &mut out);
                }
            }
            _ => out.truncate(1),
        }
        out
    }

    /// The filter of `set` that handles a call of ABI `abi` with number `nr`, by SPEC §8.10:
    /// same audit value, and on x86_64 the x32 bit picks between x86_64 and x32.
    fn handler<'a>(set: &[&'a Arch], abi: &Arch, nr: u32) -> Option<&'a Arch> {
        let x32_call = abi.audit == X86_64.audit && nr & X32_SYSCALL_BIT != 0;
        set.iter().copied().find(|a| {
            a.audit == abi.audit && (a.audit != X86_64.audit || (a.name == "x32") == x32_call)
        })
    }

    /// Syscall numbers to try for calls of ABI `abi`: 0..1024 and the ABI's own ranges.
    fn numbers(abi: &Arch) -> Vec<u32> {
        let mut nrs: Vec<u32> = (0..1024).collect();
        match abi.name {
            "x86_64" | "x32" => nrs.extend(X32_SYSCALL_BIT..X32_SYSCALL_BIT + 1024),
            "mips" => nrs.extend(4000..5024),
            "mips64" => nrs.extend(5000..6024),
            "arm" => nrs.extend(0x0f_0000..0x0f_0010),
            _ => {}
        }
        nrs.extend([0x8000_0000, 0xc000_0000, u32::MAX]);
        nrs
    }

    /// A policy under test: the families whose every argument vector is tried (the others are
    /// sampled).
    struct Policy {
        label: String,
        sb: Box<Sandbox>,
        opts: FilterOptions,
        focus: &'static [Family],
        /// Whether every number of [`numbers`] is tried, or only the table's and a sample of
        /// the others ([`ABSENT_SAMPLE`]).
        every_number: bool,
    }

    /// Differences between a compiled program and the reference, by (policy, ABI, syscall).
    #[derive(Default)]
    struct Differences(BTreeMap<String, (usize, String)>);

    impl Differences {
        fn assert_none(&self) {
            if self.0.is_empty() {
                return;
            }
            let mut text = String::new();
            for (k, (n, example)) in &self.0 {
                text.push_str(&format!("{k} ({n} cases), e.g. {example}\n"));
            }
            panic!(
                "{} (policy, ABI, syscall) groups differ (seed {SEED:#x}):\n{text}",
                self.0.len()
            );
        }
    }

    /// Compiles `p` for the ABIs of `set`, runs calls of every ABI in `issuers` through the
    /// interpreter and compares each result with the reference (KILL_PROCESS for an ABI that
    /// has no filter in `set`). Returns the number of calls checked.
    fn check(
        p: &Policy,
        set: &[&'static Arch],
        issuers: &[&'static Arch],
        diff: &mut Differences,
    ) -> usize {
        let label = &p.label;
        let filters: Vec<ArchFilter> = set
            .iter()
            .map(|a| build(&p.sb, &p.opts, a).unwrap_or_else(|e| panic!("{label}/{}: {e}", a.name)))
            .collect();
        let prog = compile(&filters).unwrap_or_else(|e| panic!("{label}: {e}"));
        let mut rng = Rng(SEED);
        let mut checked = 0;
        for abi in issuers {
            let order = byte_order(abi.endian);
            for nr in numbers(abi) {
                let target = handler(set, abi, nr);
                let name = target.and_then(|a| a.name_of(nr));
                if name.is_none() && !p.every_number && !rng.next().is_multiple_of(ABSENT_SAMPLE) {
                    continue;
                }
                let mut vecs = match (target, name) {
                    (Some(t), Some(n)) => {
                        let ruled = filters.iter().any(|f| {
                            core::ptr::eq(f.arch, t)
                                && f.syscall(nr)
                                    .is_some_and(|s| s.layers().any(|l| !l.rules.is_empty()))
                        });
                        vectors(t, n, ruled, &mut rng)
                    }
                    _ => vec![rng.args()],
                };
                let focused = name.and_then(family).is_none_or(|f| p.focus.contains(&f));
                if !focused {
                    while vecs.len() > SAMPLE {
                        let i = rng.below(vecs.len());
                        vecs.swap_remove(i);
                    }
                }
                for args in vecs {
                    let want = match target {
                        Some(t) => reference_action(&p.sb, &p.opts, t, nr, args),
                        None => Action::KillProcess,
                    };
                    let data = SeccompData {
                        nr,
                        arch: abi.audit,
                        ip: 0x7fff_0000_1234,
                        args,
                    };
                    let ret = interp::run(prog.as_slice(), &data.to_bytes(abi.endian), order)
                        .unwrap_or_else(|e| panic!("{label}: {e}"));
                    let got = Action::from_ret(ret);
                    checked += 1;
                    if got != Some(want) {
                        let key = format!(
                            "{label} | {} -> {} | {}",
                            abi.name,
                            target.map_or("-", |t| t.name),
                            name.unwrap_or("?")
                        );
                        let e = diff.0.entry(key).or_insert_with(|| {
                            let ex = format!(
                                "nr {nr:#x} args {args:x?}: program {got:?}, reference {want:?}"
                            );
                            (0, ex)
                        });
                        e.0 += 1;
                    }
                }
            }
        }
        checked
    }

    fn opts(bpf_only: bool) -> FilterOptions {
        FilterOptions {
            bpf_only,
            uid: None,
            gid: None,
            supervisor: SUP,
        }
    }

    type Edit = fn(&mut Sandbox, &mut FilterOptions);

    fn policy(label: &str, focus: &'static [Family], edit: Edit) -> Policy {
        let mut sb = Box::<Sandbox>::default();
        let mut o = opts(false);
        edit(&mut sb, &mut o);
        Policy {
            label: String::from(label),
            sb,
            opts: o,
            focus,
            every_number: true,
        }
    }

    /// The policies of the options: each with the families it changes in focus.
    fn option_policies() -> Vec<Policy> {
        use Family::*;
        vec![
            policy("default", ALL, |_, _| {}),
            policy("-b", ALL, |_, o| o.bpf_only = true),
            policy("level 1", ALL, |s, _| s.global.restrict_general = 1),
            policy("level 2", ALL, |s, _| s.global.restrict_general = 2),
            policy("level 3", ALL, |s, _| s.global.restrict_general = 3),
            policy("level 3 -b", &[Open, Ioctl, Signals], |s, o| {
                s.global.restrict_general = 3;
                o.bpf_only = true
            }),
            policy("identity off", &[Ids], |s, _| {
                s.global.restrict_identity_change = false
            }),
            policy("-U 1000 -G 100", &[Ids], |_, o| {
                o.uid = Some(1000);
                o.gid = Some(100)
            }),
            policy("-U 0 -b", &[Ids], |_, o| {
                o.uid = Some(0);
                o.bpf_only = true
            }),
            policy("io_control", &[Ioctl], |s, _| {
                s.global.restrict_io_control = true
            }),
            policy("memory_map", &[Mmap], |s, _| {
                s.global.restrict_memory_map = true
            }),
            policy("shared_memory_writable", &[Mmap], |s, _| {
                s.global.restrict_shared_memory_writable = true
            }),
            policy("memory_map+shared_memory_writable", &[Mmap], |s, _| {
                s.global.restrict_memory_map = true;
                s.global.restrict_shared_memory_writable = true
            }),
            policy("lock on", &[Open, Access], |s, _| s.task.lock = Lock::On),
            policy("successful_bind off, system_info on", &[Socket], |s, _| {
                s.global.allow_successful_bind = false;
                s.global.restrict_system_info = true
            }),
            policy("network allow, successful_bind off", &[Socket], |s, _| {
                s.task.network = Mode::Allow;
                s.global.allow_successful_bind = false
            }),
            policy(
                "level 3, every type off",
                &[Open, Access, Socket],
                |s, _| {
                    s.global.restrict_general = 3;
                    s.task.paths = [Mode::Off; 3];
                    s.task.network = Mode::Off
                },
            ),
            policy(
                "level 2, every type allow",
                &[Open, Access, Socket],
                |s, _| {
                    s.global.restrict_general = 2;
                    s.task.paths = [Mode::Allow; 3];
                    s.task.network = Mode::Allow
                },
            ),
            policy(
                "level 1 -b, write deny, network deny, io_control",
                &[Open, Access, Ioctl, Socket],
                |s, o| {
                    s.global.restrict_general = 1;
                    s.task.set_mode(Cap::Write, Mode::Deny);
                    s.task.network = Mode::Deny;
                    s.global.restrict_io_control = true;
                    o.bpf_only = true
                },
            ),
        ]
    }

    /// Every sandbox type in every state, with and without `-b`, and `off` with the lock on.
    fn state_policies() -> Vec<Policy> {
        let mut out = vec![];
        for ty in ["read", "write", "exec", "network"] {
            let focus: &'static [Family] = if ty == "network" {
                &[Family::Socket]
            } else {
                &[Family::Open, Family::Access]
            };
            for m in [Mode::Off, Mode::Bpf, Mode::Deny, Mode::Allow] {
                for (bpf_only, lock) in [(false, Lock::Off), (true, Lock::Off), (false, Lock::On)] {
                    if lock == Lock::On && m != Mode::Off {
                        continue;
                    }
                    let mut sb = Box::<Sandbox>::default();
                    match ty {
                        "read" => sb.task.set_mode(Cap::Read, m),
                        "write" => sb.task.set_mode(Cap::Write, m),
                        "exec" => sb.task.set_mode(Cap::Exec, m),
                        _ => sb.task.network = m,
                    }
                    sb.task.lock = lock;
                    let label = format!(
                        "{ty} {}{}{}",
                        m.name(),
                        if bpf_only { " -b" } else { "" },
                        if lock == Lock::On { " lock on" } else { "" }
                    );
                    out.push(Policy {
                        label,
                        sb,
                        opts: opts(bpf_only),
                        focus,
                        every_number: false,
                    });
                }
            }
        }
        out
    }

    /// The reference itself, on cases read off the specification (so that it is checked
    /// against the text, not only against the implementation).
    #[test]
    fn the_reference_follows_the_specification() {
        const EPERM_: Action = Action::Errno(EPERM);
        let (n, a) = (Action::UserNotif, Action::Allow);
        let sup = u64::from(SUP);
        let c = X86_64.consts;
        let (wr, rd) = (u64::from(c.o_wronly), u64::from(c.o_rdonly));
        let creat = u64::from(c.o_creat);
        let shared_rw = [0, 0, 3, u64::from(c.map_shared | c.map_anonymous), 0, 0];
        let private_rw = [0, 0, 3, u64::from(c.map_private | c.map_anonymous), 0, 0];
        type Case = (&'static str, &'static str, [u64; 6], Action);
        let default: &[Case] = &[
            ("mount", "x86_64", [0; 6], Action::Errno(ECANCELED)),
            ("ptrace", "x86_64", [0; 6], Action::Errno(ECANCELED)),
            // arch/mips and arch/parisc/include/uapi/asm/errno.h: ECANCELED is 158 and 253.
            ("mount", "mips", [0; 6], Action::Errno(158)),
            ("mount", "mips64", [0; 6], Action::Errno(158)),
            ("mount", "parisc", [0; 6], Action::Errno(253)),
            ("getpid", "x86_64", [0; 6], a),
            ("setuid", "x86_64", [0; 6], Action::Errno(EINVAL)),
            ("setuid", "x86_64", [11; 6], Action::Errno(EINVAL)),
            ("setuid", "x86_64", [12; 6], n),
            ("setgid", "x86_64", [14; 6], Action::Errno(EINVAL)),
            ("setgid", "x86_64", [15; 6], n),
            (
                "setresuid",
                "x86_64",
                [u64::MAX, 5, u64::MAX, 0, 0, 0],
                Action::Errno(EINVAL),
            ),
            ("open", "x86_64", [0, wr, 0, 0, 0, 0], EPERM_),
            ("open", "x86_64", [0, rd, 0, 0, 0, 0], n),
            ("openat", "x86_64", [0, 0, creat, 0, 0, 0], EPERM_),
            ("access", "x86_64", [0, 2, 0, 0, 0, 0], EPERM_),
            ("access", "x86_64", [0, 6, 0, 0, 0, 0], n),
            ("bind", "x86_64", [0; 6], EPERM_),
            ("sendto", "x86_64", [0; 6], EPERM_),
            ("socket", "x86_64", [0; 6], a),
            ("socketcall", "x86", [1, 0, 0, 0, 0, 0], EPERM_),
            ("execve", "x86_64", [0; 6], n),
            ("stat", "x86_64", [0; 6], n),
            ("uname", "x86_64", [0; 6], a),
            (
                "kill",
                "x86_64",
                [sup, 15, 0, 0, 0, 0],
                Action::Errno(ESRCH),
            ),
            ("kill", "x86_64", [sup, 17, 0, 0, 0, 0], a),
            ("kill", "x86_64", [sup + 1, 15, 0, 0, 0, 0], a),
            (
                "kill",
                "x86_64",
                [u64::from(SUP.wrapping_neg()), 9, 0, 0, 0, 0],
                Action::Errno(ESRCH),
            ),
            (
                "kill",
                "x86_64",
                [u64::MAX, 9, 0, 0, 0, 0],
                Action::Errno(ESRCH),
            ),
            ("kill", "x86_64", [0, 9, 0, 0, 0, 0], a),
            (
                "tkill",
                "x86_64",
                [u64::from(SUP.wrapping_neg()), 9, 0, 0, 0, 0],
                a,
            ),
            (
                "tgkill",
                "x86_64",
                [1, sup, 9, 0, 0, 0],
                Action::Errno(ESRCH),
            ),
            (
                "pidfd_send_signal",
                "x86_64",
                [3, 9, 0, 0, 0, 0],
                Action::Errno(ESRCH),
            ),
            ("pidfd_send_signal", "x86_64", [3, 17, 0, 0, 0, 0], a),
            ("mmap", "x86_64", shared_rw, a),
            ("ioctl", "x86_64", [0, 0x5451, 0, 0, 0, 0], a),
            ("ugetrlimit", "arm", [0; 6], a),
        ];
        let level1: &[Case] = &[
            ("socket", "x86_64", [0; 6], EPERM_),
            ("mount", "x86_64", [0; 6], Action::Errno(ECANCELED)),
            ("open", "x86_64", [0, rd, 0, 0, 0, 0], n),
            ("open", "x86_64", [0, rd | creat, 0, 0, 0, 0], EPERM_),
            ("exit_group", "x86_64", [0; 6], a),
            ("rt_sigreturn", "x86_64", [0; 6], a),
            ("ioctl", "x86_64", [0, 0x5401, 0, 0, 0, 0], a),
            ("ioctl", "x86_64", [0, 0x5451, 0, 0, 0, 0], EPERM_),
            ("getppid", "x86_64", [0; 6], EPERM_),
            ("stat64", "x86", [0; 6], n),
            ("futex", "x86_64", [0; 6], EPERM_),
        ];
        let level2: &[Case] = &[
            ("futex", "x86_64", [0; 6], a),
            ("futex_time64", "x86", [0; 6], a),
            ("_llseek", "arm", [0; 6], a),
            ("ugetrlimit", "arm", [0; 6], a),
            ("getuid32", "arm", [0; 6], a),
            ("prlimit64", "x86_64", [0; 6], a),
            ("readv", "x86_64", [0; 6], EPERM_),
            ("unlink", "x86_64", [0; 6], EPERM_),
            ("openat", "x86_64", [0, 0, wr, 0, 0, 0], EPERM_),
            ("sysinfo", "x86_64", [0; 6], a),
        ];
        let memory_map: &[Case] = &[
            ("mmap", "x86_64", shared_rw, EPERM_),
            ("mmap", "x86_64", private_rw, a),
            ("mprotect", "x86_64", [0, 0, 5, 0, 0, 0], EPERM_),
            ("mprotect", "x86_64", [0, 0, 3, 0, 0, 0], a),
        ];
        let bpf_only_deny: &[Case] = &[
            ("bind", "x86_64", [0; 6], Action::Errno(EADDRNOTAVAIL)),
            ("connect", "x86_64", [0; 6], Action::Errno(ECONNREFUSED)),
            ("sendmsg", "x86_64", [0; 6], Action::Errno(ENOTCONN)),
            // mips: EADDRNOTAVAIL 126, ECONNREFUSED 146, ENOTCONN 134; parisc: 227, 239, 235.
            ("bind", "mips", [0; 6], Action::Errno(126)),
            ("connect", "mips64", [0; 6], Action::Errno(146)),
            ("sendmsg", "mips", [0; 6], Action::Errno(134)),
            ("bind", "parisc64", [0; 6], Action::Errno(227)),
            ("connect", "parisc", [0; 6], Action::Errno(239)),
            ("sendmsg", "parisc", [0; 6], Action::Errno(235)),
            ("listen", "x86_64", [0; 6], EPERM_),
            ("open", "x86_64", [0, rd, 0, 0, 0, 0], a),
            ("execve", "x86_64", [0; 6], a),
            ("kill", "x86_64", [sup, 15, 0, 0, 0, 0], a),
        ];
        let pinned: &[Case] = &[
            ("setuid", "x86_64", [1000; 6], n),
            ("setuid", "x86_64", [65534; 6], EPERM_),
            ("setgid", "x86_64", [100; 6], n),
            ("setgid", "x86_64", [0; 6], EPERM_),
            ("setfsuid", "x86_64", [u64::MAX; 6], n),
        ];
        let table: [(&str, Edit, &[Case]); 6] = [
            ("default", |_, _| {}, default),
            ("level 1", |s, _| s.global.restrict_general = 1, level1),
            ("level 2", |s, _| s.global.restrict_general = 2, level2),
            (
                "memory_map",
                |s, _| s.global.restrict_memory_map = true,
                memory_map,
            ),
            (
                "-b, network deny",
                |s, o| {
                    s.task.network = Mode::Deny;
                    o.bpf_only = true
                },
                bpf_only_deny,
            ),
            (
                "-U 1000 -G 100",
                |_, o| {
                    o.uid = Some(1000);
                    o.gid = Some(100)
                },
                pinned,
            ),
        ];
        for (label, edit, cases) in table {
            let p = policy(label, &[], edit);
            for &(name, arch, args, want) in cases {
                let arch = Arch::by_name(arch.as_bytes()).unwrap();
                let nr = arch
                    .nr(name)
                    .unwrap_or_else(|| panic!("{} lacks {name}", arch.name));
                let got = reference_action(&p.sb, &p.opts, arch, nr, args);
                assert_eq!(got, want, "{label}: {} {name} {args:x?}", arch.name);
            }
        }
    }

    #[test]
    fn levels_agree_with_the_reference_on_every_arch() {
        let mut diff = Differences::default();
        for p in option_policies()
            .iter()
            .filter(|p| p.label.starts_with("level"))
        {
            for arch in ARCHES {
                check(p, &[arch], &[arch], &mut diff);
            }
        }
        diff.assert_none();
    }

    #[test]
    fn options_agree_with_the_reference_on_every_arch() {
        let mut diff = Differences::default();
        let mut checked = 0;
        for p in option_policies()
            .iter()
            .filter(|p| !p.label.starts_with("level"))
        {
            for arch in ARCHES {
                checked += check(p, &[arch], &[arch], &mut diff);
            }
        }
        diff.assert_none();
        assert!(checked > 100_000, "{checked}");
    }

    #[test]
    fn states_agree_with_the_reference_on_every_arch() {
        let mut diff = Differences::default();
        for p in state_policies() {
            for arch in ARCHES {
                let n = check(&p, &[arch], &[arch], &mut diff);
                if arch.name == "x86_64" {
                    std::eprintln!("{} {n}", p.label);
                }
            }
        }
        diff.assert_none();
    }

    /// Programs for several ABIs: the calls of each ABI reach its own filter, the x32 bit
    /// selects x32, and every ABI outside the set (x32 included) is killed.
    #[test]
    fn multi_arch_programs_send_each_abi_to_its_filter() {
        let sets: [&[&'static Arch]; 7] = [
            &[&X86_64, &X86, &X32],
            &[&X86_64, &X86],
            &[&X32, &X86],
            &[&AARCH64, &ARM],
            &[&MIPS64, &MIPS],
            &[&PPC64, &PPC],
            &[&S390X, &S390],
        ];
        let policies = [
            policy("default", &[Family::Open, Family::Ioctl], |_, _| {}),
            policy(
                "level 1, memory_map, -U 1000",
                &[Family::Mmap, Family::Ids],
                |s, o| {
                    s.global.restrict_general = 1;
                    s.global.restrict_memory_map = true;
                    o.uid = Some(1000)
                },
            ),
        ];
        let mut diff = Differences::default();
        for p in &policies {
            for set in sets {
                check(p, set, &ARCHES, &mut diff);
            }
        }
        diff.assert_none();
    }
}
