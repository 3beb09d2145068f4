//! Per-architecture facts, declared once: one [`Arch`] descriptor per ABI of `-a`.
//!
//! Syscall numbers, open/mmap flags, TTY ioctl requests, signal numbers and `AUDIT_ARCH_*`
//! values come only from the tables that `tools/gen-arch-tables.py` generates from the Linux
//! sources (`tables/`, "do not edit"). This file adds what a table cannot say: the `-a` name,
//! the byte order and the register width of each ABI, and the layout of `struct seccomp_data`.
//!
//! Nothing here depends on the build host: the core builds filters for mips on x86_64.
//!
//! The tables are compact because the `syd` binary carries three of them (its native ABI and
//! the compat ones) within a 200 KiB budget: every name is stored once, in lists shared by all
//! ABIs ([`Names`](crate::names::Names)), and an ABI stores one `u16` per syscall name ([`SyscallTable`]) where a
//! `(&str, u32)` pair would take 24 bytes.

use crate::names::Names;

mod tables;

use core::fmt;

/// The Linux release the tables were generated from (its top-level Makefile's version).
pub const LINUX_VERSION: &str = tables::LINUX_VERSION;

/// `__X32_SYSCALL_BIT` (arch/x86/include/uapi/asm/unistd.h): x32 syscall numbers carry it;
/// x32 shares `AUDIT_ARCH_X86_64` with x86_64, so this bit is what tells the two apart.
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// `__AUDIT_ARCH_64BIT` (include/uapi/linux/audit.h): set in the audit value of 64-bit ABIs.
pub const AUDIT_ARCH_64BIT: u32 = 0x8000_0000;

/// `__AUDIT_ARCH_LE` (include/uapi/linux/audit.h): set in the audit value of little-endian ABIs.
pub const AUDIT_ARCH_LE: u32 = 0x4000_0000;

/// `offsetof(struct seccomp_data, nr)` (include/uapi/linux/seccomp.h): the syscall number.
pub const SECCOMP_DATA_NR: u32 = 0;

/// `offsetof(struct seccomp_data, arch)`: the `AUDIT_ARCH_*` value of the calling ABI.
pub const SECCOMP_DATA_ARCH: u32 = 4;

/// `offsetof(struct seccomp_data, instruction_pointer)` (a 64-bit field).
pub const SECCOMP_DATA_IP: u32 = 8;

/// `offsetof(struct seccomp_data, args)`: six 64-bit fields, one per syscall argument.
pub const SECCOMP_DATA_ARGS: u32 = 16;

/// `sizeof(struct seccomp_data)`.
pub const SECCOMP_DATA_SIZE: u32 = 64;

/// Number of syscall arguments in `struct seccomp_data` (`args[6]`); valid indexes are 0..=5.
pub const SYSCALL_ARGS: u8 = 6;

/// Byte order of an ABI: where the low 32 bits of a 64-bit `seccomp_data` field sit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endian {
    /// Least significant byte first: the low word is at the field's offset.
    Little,
    /// Most significant byte first: the low word is at the field's offset + 4.
    Big,
}

/// Register width of an ABI's syscall arguments.
///
/// On a `W32` ABI every argument is a 32-bit value (a 64-bit quantity takes two arguments), so
/// a filter compares the low word of `seccomp_data.args[i]` only. On a `W64` ABI arguments are
/// whole 64-bit registers. x32 is `W64`: its syscalls enter the x86_64 kernel with 64-bit
/// registers under `AUDIT_ARCH_X86_64` (its pointers and `long` are 32-bit, which matters when
/// reading the tracee's memory, not here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Word {
    /// 32-bit arguments.
    W32,
    /// 64-bit arguments.
    W64,
}

/// Constant values of one ABI that the seccomp compiler needs, from the Linux uapi headers
/// (`arch/<arch>/include/uapi/asm/*.h`, or `include/uapi/asm-generic/*.h` where the arch has
/// none). Each field is named after its C macro in lower case.
#[derive(Debug, PartialEq, Eq)]
pub struct Consts {
    /// `O_RDONLY`.
    pub o_rdonly: u32,
    /// `O_WRONLY`.
    pub o_wronly: u32,
    /// `O_RDWR`.
    pub o_rdwr: u32,
    /// `O_ACCMODE`: the access-mode bits of the open flags.
    pub o_accmode: u32,
    /// `O_CREAT`.
    pub o_creat: u32,
    /// `O_EXCL`.
    pub o_excl: u32,
    /// `O_NOCTTY`.
    pub o_noctty: u32,
    /// `O_TRUNC`.
    pub o_trunc: u32,
    /// `O_APPEND`.
    pub o_append: u32,
    /// `O_NONBLOCK`.
    pub o_nonblock: u32,
    /// `O_LARGEFILE` as the kernel headers define it (libcs define it as 0 on 64-bit ABIs).
    pub o_largefile: u32,
    /// `O_DIRECTORY`.
    pub o_directory: u32,
    /// `O_NOFOLLOW`.
    pub o_nofollow: u32,
    /// `O_CLOEXEC`.
    pub o_cloexec: u32,
    /// `O_PATH`.
    pub o_path: u32,
    /// `O_TMPFILE`: `__O_TMPFILE | O_DIRECTORY`, so it includes the `O_DIRECTORY` bit.
    pub o_tmpfile: u32,
    /// `O_DSYNC`.
    pub o_dsync: u32,
    /// `FASYNC` (`O_ASYNC` in the libcs).
    pub o_async: u32,
    /// `O_DIRECT`.
    pub o_direct: u32,
    /// `O_NOATIME`.
    pub o_noatime: u32,
    /// `O_SYNC`: `__O_SYNC | O_DSYNC`, so it includes the `O_DSYNC` bit.
    pub o_sync: u32,
    /// `PROT_NONE`.
    pub prot_none: u32,
    /// `PROT_READ`.
    pub prot_read: u32,
    /// `PROT_WRITE`.
    pub prot_write: u32,
    /// `PROT_EXEC`.
    pub prot_exec: u32,
    /// `MAP_SHARED`.
    pub map_shared: u32,
    /// `MAP_PRIVATE`.
    pub map_private: u32,
    /// `MAP_SHARED_VALIDATE`: includes the `MAP_SHARED` bit.
    pub map_shared_validate: u32,
    /// `MAP_FIXED`.
    pub map_fixed: u32,
    /// `MAP_ANONYMOUS`.
    pub map_anonymous: u32,
    /// `MAP_DENYWRITE`.
    pub map_denywrite: u32,
    /// `MAP_NORESERVE`.
    pub map_noreserve: u32,
    /// `MAP_STACK`.
    pub map_stack: u32,
    /// Values of the requests of `tables::IOCTL_NAMES`, in its order (every ABI defines them
    /// all; the generator fails otherwise).
    ioctls: [u32; tables::IOCTL_COUNT],
    /// Numbers of the signals of `tables::SIGNAL_NAMES`, in its order; 0 where the ABI has no
    /// such signal.
    signals: [u8; tables::SIGNAL_COUNT],
    /// Values of the errnos of `tables::ERRNO_NAMES`, in its order (every ABI defines them
    /// all; the generator fails otherwise).
    errnos: [u16; tables::ERRNO_COUNT],
}

impl Consts {
    /// The TTY and console ioctl requests that `core/restrict/io_control` permits, as (C name,
    /// value), in the order of syd's list (`FIONREAD` stands for its alias `TIOCINQ` too).
    pub fn ioctls(&self) -> impl Iterator<Item = (&'static str, u32)> + '_ {
        tables::IOCTL_NAMES.iter().zip(self.ioctls.iter().copied())
    }

    /// Value of the ioctl request `name` (e.g. `"TCGETS"`), or `None` if it is not in the list.
    pub fn ioctl(&self, name: &str) -> Option<u32> {
        self.ioctls().find(|&(n, _)| n == name).map(|(_, v)| v)
    }

    /// Signal numbers by C name (`SIGHUP`..): the signals of syd's `pidfd_send_signal` rule
    /// first, then `SIGCHLD`, `SIGCONT`, `SIGURG`, `SIGWINCH`, `SIGPWR` and `SIGEMT`. A signal
    /// the ABI does not define (`SIGSTKFLT` on mips, `SIGEMT` outside mips) is left out.
    pub fn signals(&self) -> impl Iterator<Item = (&'static str, u32)> + '_ {
        let numbers = self.signals.iter().map(|&n| u32::from(n));
        tables::SIGNAL_NAMES
            .iter()
            .zip(numbers)
            .filter(|&(_, n)| n != 0)
    }

    /// Number of the signal `name` (e.g. `"SIGKILL"`), or `None` if the ABI has no such signal.
    pub fn signal(&self, name: &str) -> Option<u32> {
        self.signals().find(|&(n, _)| n == name).map(|(_, v)| v)
    }

    /// errno values by C name (`EPERM`..`ECANCELED`, the generator's list of the errnos syd
    /// returns): mips and parisc number many of them differently from asm-generic
    /// (`ECANCELED` is 158 on mips, 253 on parisc).
    pub fn errnos(&self) -> impl Iterator<Item = (&'static str, u32)> + '_ {
        let values = self.errnos.iter().map(|&v| u32::from(v));
        tables::ERRNO_NAMES.iter().zip(values)
    }

    /// Value of the errno `name` (e.g. `"ECANCELED"`) on this ABI, or `None` if it is not in
    /// the list.
    pub fn errno(&self, name: &str) -> Option<u32> {
        self.errnos().find(|&(n, _)| n == name).map(|(_, v)| v)
    }
}

/// Stored value of a name the ABI has no syscall for, in [`SyscallTable`].
const NONE: u16 = 0xffff;

/// Stored values from this one up name the second number range of an ABI.
const HIGH: u16 = 0x8000;

/// The syscall numbers of one ABI: one `u16` per name of the list that all ABIs share
/// (`tables::SYSCALL_NAMES`, sorted), in its order (generated). A stored value `v` is
/// * `0xffff`: the ABI has no such syscall (or only reserves the number: `sys_ni_syscall`,
///   no entry point);
/// * below `0x8000`: syscall number `low_base + v` (x32: [`X32_SYSCALL_BIT`] `+ v`, mips o32:
///   `4000 + v`, as the kernel's `.tbl` files count);
/// * otherwise: syscall number `high_base + v - 0x8000` (the ARM-private calls at
///   `0x0f0000 + n`).
#[derive(Debug, PartialEq, Eq)]
pub struct SyscallTable {
    /// Base of the numbers stored below `0x8000`.
    low_base: u32,
    /// Base of the numbers stored from `0x8000`.
    high_base: u32,
    /// One stored value per name of `tables::SYSCALL_NAMES`.
    nrs: [u16; tables::SYSCALL_COUNT],
}

impl SyscallTable {
    /// The syscall number that the stored value `v` stands for, or `None` for "no syscall".
    fn decode(&self, v: u16) -> Option<u32> {
        match v {
            NONE => None,
            v if v < HIGH => self.low_base.checked_add(u32::from(v)),
            v => self.high_base.checked_add(u32::from(v - HIGH)),
        }
    }
}

/// One ABI that a filter can be compiled for.
#[derive(Debug, PartialEq, Eq)]
pub struct Arch {
    /// Name as `-a` spells it (`x86_64`, `mips64`, ...).
    pub name: &'static str,
    /// `AUDIT_ARCH_*`: the value of `seccomp_data.arch`, the first thing every filter checks.
    pub audit: u32,
    /// Byte order: where the low 32 bits of an argument sit.
    pub endian: Endian,
    /// Argument width: `W32` ABIs compare the low word only.
    pub word: Word,
    /// Syscall numbers (generated): read them through [`Arch::syscalls`], [`Arch::nr`] and
    /// [`Arch::name_of`].
    table: &'static SyscallTable,
    /// Flag, ioctl and signal values (generated).
    pub consts: &'static Consts,
}

impl Arch {
    /// The ABI that `-a` calls `name`, or `None` for an unknown name. `native` is not an ABI
    /// name: the binary resolves it to the descriptor of its own target.
    pub fn by_name(name: &[u8]) -> Option<&'static Arch> {
        ARCHES.iter().copied().find(|a| a.name.as_bytes() == name)
    }

    /// The syscalls of this ABI as (kernel name, number), sorted by name. Syscalls the ABI
    /// lacks, or only reserves (`sys_ni_syscall`, no entry point), are absent. x32 numbers
    /// include [`X32_SYSCALL_BIT`].
    pub fn syscalls(&self) -> impl Iterator<Item = (&'static str, u32)> + '_ {
        let t = self.table;
        t.nrs
            .iter()
            .enumerate()
            .filter_map(|(i, &v)| Some((tables::SYSCALL_NAMES.get(i)?, t.decode(v)?)))
    }

    /// Number of syscall `name` on this ABI (binary search), or `None` if the ABI lacks it.
    /// x32 numbers include [`X32_SYSCALL_BIT`].
    pub fn nr(&self, name: &str) -> Option<u32> {
        let i = tables::SYSCALL_NAMES.search(name)?;
        self.table.decode(*self.table.nrs.get(i)?)
    }

    /// Kernel name of syscall number `nr` on this ABI, or `None` if no syscall has it. A linear
    /// scan (the table is sorted by name): meant for reports, not for hot paths.
    pub fn name_of(&self, nr: u32) -> Option<&'static str> {
        let t = self.table;
        let i = t.nrs.iter().position(|&v| t.decode(v) == Some(nr))?;
        tables::SYSCALL_NAMES.get(i)
    }
}

/// Errors of this module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchError {
    /// A syscall argument index outside `0..SYSCALL_ARGS`.
    ArgIndex {
        /// The index asked for.
        idx: u8,
    },
}

impl fmt::Display for ArchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArchError::ArgIndex { idx } => write!(
                f,
                "syscall argument index {idx} out of range (0..={})",
                SYSCALL_ARGS - 1
            ),
        }
    }
}

/// Byte offset of `args[idx]` in `struct seccomp_data`.
fn arg_offset(idx: u8) -> Result<u32, ArchError> {
    if idx >= SYSCALL_ARGS {
        return Err(ArchError::ArgIndex { idx });
    }
    Ok(SECCOMP_DATA_ARGS + 8 * u32::from(idx))
}

/// Byte offset in `struct seccomp_data` of the low 32 bits of argument `idx` on `arch`.
///
/// # Errors
/// [`ArchError::ArgIndex`] if `idx` is 6 or more.
pub fn arg_low_offset(arch: &Arch, idx: u8) -> Result<u32, ArchError> {
    let base = arg_offset(idx)?;
    // The kernel stores each argument as a native __u64: big-endian puts the low word last.
    Ok(match arch.endian {
        Endian::Little => base,
        Endian::Big => base + 4,
    })
}

/// Byte offset in `struct seccomp_data` of the high 32 bits of argument `idx` on `arch`.
///
/// # Errors
/// [`ArchError::ArgIndex`] if `idx` is 6 or more.
pub fn arg_high_offset(arch: &Arch, idx: u8) -> Result<u32, ArchError> {
    let base = arg_offset(idx)?;
    Ok(match arch.endian {
        Endian::Little => base + 4,
        Endian::Big => base,
    })
}

/// `x86_64`: the native 64-bit ABI of x86-64.
pub static X86_64: Arch = Arch {
    name: "x86_64",
    audit: tables::AUDIT_ARCH_X86_64,
    endian: Endian::Little,
    word: Word::W64,
    table: &tables::x86_64::SYSCALLS,
    consts: &tables::x86_64::CONSTS,
};

/// `x86`: i386, 32-bit.
pub static X86: Arch = Arch {
    name: "x86",
    audit: tables::AUDIT_ARCH_I386,
    endian: Endian::Little,
    word: Word::W32,
    table: &tables::x86::SYSCALLS,
    consts: &tables::x86::CONSTS,
};

/// `x32`: the ILP32 ABI of x86-64 (same audit value as x86_64, numbers with
/// [`X32_SYSCALL_BIT`]).
pub static X32: Arch = Arch {
    name: "x32",
    audit: tables::AUDIT_ARCH_X86_64,
    endian: Endian::Little,
    word: Word::W64,
    table: &tables::x32::SYSCALLS,
    consts: &tables::x32::CONSTS,
};

/// `arm`: 32-bit ARM EABI, little-endian (with the ARM-private calls at 0x0f0000 + n).
pub static ARM: Arch = Arch {
    name: "arm",
    audit: tables::AUDIT_ARCH_ARM,
    endian: Endian::Little,
    word: Word::W32,
    table: &tables::arm::SYSCALLS,
    consts: &tables::arm::CONSTS,
};

/// `aarch64`: 64-bit ARM, little-endian.
pub static AARCH64: Arch = Arch {
    name: "aarch64",
    audit: tables::AUDIT_ARCH_AARCH64,
    endian: Endian::Little,
    word: Word::W64,
    table: &tables::aarch64::SYSCALLS,
    consts: &tables::aarch64::CONSTS,
};

/// `mips`: MIPS o32, big-endian (numbers 4000 + n).
pub static MIPS: Arch = Arch {
    name: "mips",
    audit: tables::AUDIT_ARCH_MIPS,
    endian: Endian::Big,
    word: Word::W32,
    table: &tables::mips::SYSCALLS,
    consts: &tables::mips::CONSTS,
};

/// `mips64`: MIPS n64, big-endian (numbers 5000 + n).
pub static MIPS64: Arch = Arch {
    name: "mips64",
    audit: tables::AUDIT_ARCH_MIPS64,
    endian: Endian::Big,
    word: Word::W64,
    table: &tables::mips64::SYSCALLS,
    consts: &tables::mips64::CONSTS,
};

/// `ppc`: 32-bit PowerPC, big-endian.
pub static PPC: Arch = Arch {
    name: "ppc",
    audit: tables::AUDIT_ARCH_PPC,
    endian: Endian::Big,
    word: Word::W32,
    table: &tables::ppc::SYSCALLS,
    consts: &tables::ppc::CONSTS,
};

/// `ppc64`: 64-bit PowerPC, big-endian.
pub static PPC64: Arch = Arch {
    name: "ppc64",
    audit: tables::AUDIT_ARCH_PPC64,
    endian: Endian::Big,
    word: Word::W64,
    table: &tables::ppc64::SYSCALLS,
    consts: &tables::ppc64::CONSTS,
};

/// `ppc64le`: 64-bit PowerPC, little-endian.
pub static PPC64LE: Arch = Arch {
    name: "ppc64le",
    audit: tables::AUDIT_ARCH_PPC64LE,
    endian: Endian::Little,
    word: Word::W64,
    table: &tables::ppc64le::SYSCALLS,
    consts: &tables::ppc64le::CONSTS,
};

/// `s390`: the 31-bit compat ABI of s390x, big-endian.
pub static S390: Arch = Arch {
    name: "s390",
    audit: tables::AUDIT_ARCH_S390,
    endian: Endian::Big,
    word: Word::W32,
    table: &tables::s390::SYSCALLS,
    consts: &tables::s390::CONSTS,
};

/// `s390x`: 64-bit s390, big-endian.
pub static S390X: Arch = Arch {
    name: "s390x",
    audit: tables::AUDIT_ARCH_S390X,
    endian: Endian::Big,
    word: Word::W64,
    table: &tables::s390x::SYSCALLS,
    consts: &tables::s390x::CONSTS,
};

/// `parisc`: 32-bit PA-RISC, big-endian.
pub static PARISC: Arch = Arch {
    name: "parisc",
    audit: tables::AUDIT_ARCH_PARISC,
    endian: Endian::Big,
    word: Word::W32,
    table: &tables::parisc::SYSCALLS,
    consts: &tables::parisc::CONSTS,
};

/// `parisc64`: 64-bit PA-RISC, big-endian.
pub static PARISC64: Arch = Arch {
    name: "parisc64",
    audit: tables::AUDIT_ARCH_PARISC64,
    endian: Endian::Big,
    word: Word::W64,
    table: &tables::parisc64::SYSCALLS,
    consts: &tables::parisc64::CONSTS,
};

/// `riscv64`: 64-bit RISC-V, little-endian.
pub static RISCV64: Arch = Arch {
    name: "riscv64",
    audit: tables::AUDIT_ARCH_RISCV64,
    endian: Endian::Little,
    word: Word::W64,
    table: &tables::riscv64::SYSCALLS,
    consts: &tables::riscv64::CONSTS,
};

/// `mipsel`: MIPS o32, little-endian: the mips table with `AUDIT_ARCH_MIPSEL`
/// (`EM_MIPS | __AUDIT_ARCH_LE`). Only the native ABI of a little-endian MIPS build: not an `-a`
/// name, since the manual's list names big-endian MIPS only (SPEC §8.10 "upstream extras, MAY").
pub static MIPSEL: Arch = Arch {
    name: "mipsel",
    audit: tables::AUDIT_ARCH_MIPS | AUDIT_ARCH_LE,
    endian: Endian::Little,
    word: Word::W32,
    table: &tables::mips::SYSCALLS,
    consts: &tables::mips::CONSTS,
};

/// `mipsel64`: MIPS n64, little-endian: the mips64 table with `AUDIT_ARCH_MIPSEL64`
/// (`EM_MIPS | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE`). Like [`MIPSEL`], native only.
pub static MIPSEL64: Arch = Arch {
    name: "mipsel64",
    audit: tables::AUDIT_ARCH_MIPS64 | AUDIT_ARCH_LE,
    endian: Endian::Little,
    word: Word::W64,
    table: &tables::mips64::SYSCALLS,
    consts: &tables::mips64::CONSTS,
};

/// Every ABI of `-a`, in the manual's order.
pub static ARCHES: [&Arch; 15] = [
    &X86_64, &X86, &X32, &ARM, &AARCH64, &MIPS, &MIPS64, &PPC, &PPC64, &PPC64LE, &S390, &S390X,
    &PARISC, &PARISC64, &RISCV64,
];

#[cfg(test)]
mod tests {
    use super::*;

    const B: u32 = X32_SYSCALL_BIT;

    /// Every `-a` name in the manual's order, with its `AUDIT_ARCH_*` value (SPEC §8.10).
    const NAMES_AUDIT: [(&str, u32); 15] = [
        ("x86_64", 0xC000_003E),
        ("x86", 0x4000_0003),
        ("x32", 0xC000_003E),
        ("arm", 0x4000_0028),
        ("aarch64", 0xC000_00B7),
        ("mips", 0x0000_0008),
        ("mips64", 0x8000_0008),
        ("ppc", 0x0000_0014),
        ("ppc64", 0x8000_0015),
        ("ppc64le", 0xC000_0015),
        ("s390", 0x0000_0016),
        ("s390x", 0x8000_0016),
        ("parisc", 0x0000_000F),
        ("parisc64", 0x8000_000F),
        ("riscv64", 0xC000_00F3),
    ];

    fn arch(name: &str) -> &'static Arch {
        Arch::by_name(name.as_bytes()).unwrap_or_else(|| panic!("no arch {name}"))
    }

    #[test]
    fn pinned_syscall_numbers() {
        // Each checked by hand against the Linux 6.1 table named in the ABI's generated file.
        let cases: &[(&str, &str, Option<u32>)] = &[
            ("x86_64", "openat", Some(257)),
            ("x86_64", "read", Some(0)),
            ("x86_64", "open", Some(2)),
            ("x86_64", "newfstatat", Some(262)),
            ("x86_64", "socketcall", None),
            ("x86_64", "mmap2", None),
            ("x86_64", "afs_syscall", None), // no entry point: reserved, not a syscall
            ("x86_64", "set_thread_area", None), // 64-bit row without entry point
            ("x86_64", "_sysctl", None),     // sys_ni_syscall
            ("x86", "openat", Some(295)),
            ("x86", "socketcall", Some(102)),
            ("x86", "mmap2", Some(192)),
            ("x86", "fstatat64", Some(300)),
            ("x86", "_llseek", Some(140)),
            ("x86", "_newselect", Some(142)),
            ("x86", "ugetrlimit", Some(191)),
            ("x86", "set_thread_area", Some(243)),
            ("x86", "newfstatat", None),
            ("x32", "openat", Some(257 | B)),
            ("x32", "read", Some(B)),
            ("x32", "rt_sigaction", Some(512 | B)),
            ("x32", "execve", Some(520 | B)),
            ("x32", "uselib", None),
            ("arm", "openat", Some(322)),
            ("arm", "arm_sync_file_range", Some(341)),
            ("arm", "breakpoint", Some(0x0f_0001)),
            ("arm", "cacheflush", Some(0x0f_0002)),
            ("arm", "usr26", Some(0x0f_0003)),
            ("arm", "usr32", Some(0x0f_0004)),
            ("arm", "set_tls", Some(0x0f_0005)),
            ("arm", "get_tls", Some(0x0f_0006)),
            ("arm", "socketcall", None), // OABI only
            ("arm", "mmap2", Some(192)),
            ("aarch64", "openat", Some(56)),
            ("aarch64", "open", None),
            ("aarch64", "renameat", Some(38)),
            ("aarch64", "newfstatat", Some(79)),
            ("aarch64", "fstat", Some(80)),
            ("aarch64", "mmap", Some(222)),
            ("aarch64", "getrlimit", Some(163)),
            ("aarch64", "clone3", Some(435)),
            ("aarch64", "nfsservctl", None), // sys_ni_syscall in asm-generic/unistd.h
            ("aarch64", "fstatat64", None),
            ("mips", "openat", Some(4288)),
            ("mips", "socketcall", Some(4102)),
            ("mips", "syscall", Some(4000)),
            ("mips", "fstatat64", Some(4293)),
            ("mips64", "openat", Some(5247)),
            ("mips64", "newfstatat", Some(5252)),
            ("mips64", "read", Some(5000)),
            ("ppc", "openat", Some(286)),
            ("ppc", "fstatat64", Some(291)),
            ("ppc", "socketcall", Some(102)),
            ("ppc64", "newfstatat", Some(291)),
            ("ppc64", "fstatat64", None),
            ("ppc64", "select", None), // sys_ni_syscall on 64-bit
            ("ppc64le", "openat", Some(286)),
            ("s390", "openat", Some(288)),
            ("s390", "fstatat64", Some(293)),
            ("s390", "newfstatat", None),
            ("s390", "mmap2", Some(192)),
            ("s390x", "openat", Some(288)),
            ("s390x", "newfstatat", Some(293)),
            ("s390x", "mmap2", None),
            ("s390x", "socketcall", Some(102)),
            ("parisc", "openat", Some(275)),
            ("parisc", "mmap2", Some(89)),
            ("parisc", "fstatat64", Some(280)),
            ("parisc64", "openat", Some(275)),
            ("riscv64", "openat", Some(56)),
            ("riscv64", "open", None),
            ("riscv64", "renameat", None),
            ("riscv64", "riscv_flush_icache", Some(259)),
            ("riscv64", "newfstatat", Some(79)),
            ("riscv64", "fstat", Some(80)),
        ];
        for &(abi, name, want) in cases {
            assert_eq!(arch(abi).nr(name), want, "{abi} {name}");
        }
    }

    #[test]
    fn tables_sorted_unique_and_plausible() {
        for a in ARCHES {
            let calls: std::vec::Vec<(&str, u32)> = a.syscalls().collect();
            assert!(calls.len() > 250, "{}: only {}", a.name, calls.len());
            for w in calls.windows(2) {
                assert!(w[0].0 < w[1].0, "{}: {:?} before {:?}", a.name, w[0], w[1]);
            }
            for (i, &(n1, nr1)) in calls.iter().enumerate() {
                for &(n2, nr2) in &calls[i + 1..] {
                    assert_ne!(nr1, nr2, "{}: {n1} and {n2} share a number", a.name);
                }
                assert!(!n1.is_empty() && n1 != "ni_syscall", "{}: {n1:?}", a.name);
            }
        }
    }

    #[test]
    fn number_ranges_per_abi() {
        // (abi, lowest allowed, highest allowed): mips o32 counts from 4000, n64 from 5000,
        // x32 carries the x32 bit, the ARM-private calls sit at 0x0f0000 + n.
        let cases: &[(&str, u32, u32)] = &[
            ("x86_64", 0, 511),
            ("x32", B, B | 1023),
            ("mips", 4000, 4999),
            ("mips64", 5000, 5999),
            ("arm", 0, 0x0f_07ff),
            ("aarch64", 0, 1023),
            ("riscv64", 0, 1023),
        ];
        for &(abi, lo, hi) in cases {
            for (name, nr) in arch(abi).syscalls() {
                assert!((lo..=hi).contains(&nr), "{abi} {name} {nr:#x}");
            }
        }
    }

    /// The little-endian MIPS ABIs: SPEC §8.10's audit values, the big-endian tables, low word
    /// first, and no `-a` name.
    #[test]
    fn little_endian_mips() {
        for (a, big, audit, word) in [
            (&MIPSEL, &MIPS, 0x4000_0008, Word::W32),
            (&MIPSEL64, &MIPS64, 0xC000_0008, Word::W64),
        ] {
            assert_eq!(a.audit, audit, "{}", a.name);
            assert_eq!(a.endian, Endian::Little, "{}", a.name);
            assert_eq!(a.word, word, "{}", a.name);
            assert!(core::ptr::eq(a.table, big.table), "{}", a.name);
            assert_eq!(arg_low_offset(a, 1), Ok(24), "{}", a.name);
            assert_eq!(arg_high_offset(a, 1), Ok(28), "{}", a.name);
            assert_eq!(Arch::by_name(a.name.as_bytes()), None, "{}", a.name);
        }
        assert_eq!(MIPSEL.nr("openat"), Some(4288));
        assert_eq!(MIPSEL64.nr("openat"), Some(5247));
    }

    #[test]
    fn by_name_finds_every_abi_in_order() {
        for (i, &(name, _)) in NAMES_AUDIT.iter().enumerate() {
            let a = arch(name);
            assert_eq!(a.name, name);
            assert!(core::ptr::eq(a, ARCHES[i]), "{name} is not ARCHES[{i}]");
        }
        for bad in [
            &b""[..],
            b"native",
            b"X86_64",
            b"x86_64 ",
            b"mipsel",
            b"i386",
            b"\xff",
        ] {
            assert_eq!(Arch::by_name(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn nr_and_name_of_round_trip() {
        for a in ARCHES {
            for (name, nr) in a.syscalls() {
                assert_eq!(a.nr(name), Some(nr), "{} {name}", a.name);
                assert_eq!(a.name_of(nr), Some(name), "{} {nr}", a.name);
            }
            assert_eq!(a.nr(""), None);
            assert_eq!(a.nr("no_such_syscall"), None);
            assert_eq!(a.name_of(u32::MAX), None);
        }
        // x86_64 and x32 share an audit value; their numbers must not overlap.
        assert_eq!(X86_64.name_of(257 | B), None);
        assert_eq!(X32.name_of(257), None);
    }

    #[test]
    fn audit_values_and_their_bits() {
        for &(name, audit) in &NAMES_AUDIT {
            let a = arch(name);
            assert_eq!(a.audit, audit, "{name}");
            // The audit value carries the ABI's width and byte order: cross-check the
            // hand-declared endian and word against it.
            let le = a.audit & AUDIT_ARCH_LE != 0;
            assert_eq!(a.endian == Endian::Little, le, "{name} endian");
            let w64 = a.audit & AUDIT_ARCH_64BIT != 0;
            assert_eq!(a.word == Word::W64, w64, "{name} word");
        }
    }

    #[test]
    fn arg_offsets() {
        // (abi, idx, low, high): args[i] is a native __u64 at 16 + 8 * i.
        let cases: &[(&str, u8, u32, u32)] = &[
            ("x86_64", 0, 16, 20),
            ("x86_64", 5, 56, 60),
            ("x86", 1, 24, 28),
            ("mips", 0, 20, 16),
            ("mips", 5, 60, 56),
            ("s390x", 2, 36, 32),
            ("ppc64le", 3, 40, 44),
        ];
        for &(abi, idx, low, high) in cases {
            assert_eq!(arg_low_offset(arch(abi), idx), Ok(low), "{abi} {idx}");
            assert_eq!(arg_high_offset(arch(abi), idx), Ok(high), "{abi} {idx}");
        }
        for a in ARCHES {
            for idx in 0..SYSCALL_ARGS {
                let end = arg_low_offset(a, idx)
                    .unwrap()
                    .max(arg_high_offset(a, idx).unwrap());
                assert!(end + 4 <= SECCOMP_DATA_SIZE);
            }
            for idx in [SYSCALL_ARGS, 7, u8::MAX] {
                assert_eq!(arg_low_offset(a, idx), Err(ArchError::ArgIndex { idx }));
                assert_eq!(arg_high_offset(a, idx), Err(ArchError::ArgIndex { idx }));
            }
        }
    }

    #[test]
    fn error_display_names_the_index() {
        use core::fmt::Write;
        let mut s = heapless::String::<64>::new();
        write!(s, "{}", ArchError::ArgIndex { idx: 6 }).unwrap();
        assert_eq!(s.as_str(), "syscall argument index 6 out of range (0..=5)");
    }

    #[test]
    fn open_and_mmap_flags() {
        // (abi, O_CREAT, O_DIRECTORY, O_NOFOLLOW, O_TMPFILE, MAP_ANONYMOUS, MAP_NORESERVE)
        let cases: &[(&str, u32, u32, u32, u32, u32, u32)] = &[
            ("x86_64", 0x40, 0x1_0000, 0x2_0000, 0x41_0000, 0x20, 0x4000),
            ("x86", 0x40, 0x1_0000, 0x2_0000, 0x41_0000, 0x20, 0x4000),
            ("arm", 0x40, 0x4000, 0x8000, 0x40_4000, 0x20, 0x4000),
            ("aarch64", 0x40, 0x4000, 0x8000, 0x40_4000, 0x20, 0x4000),
            ("mips", 0x100, 0x1_0000, 0x2_0000, 0x41_0000, 0x800, 0x400),
            ("mips64", 0x100, 0x1_0000, 0x2_0000, 0x41_0000, 0x800, 0x400),
            ("ppc", 0x40, 0x4000, 0x8000, 0x40_4000, 0x20, 0x40),
            ("ppc64le", 0x40, 0x4000, 0x8000, 0x40_4000, 0x20, 0x40),
            ("s390x", 0x40, 0x1_0000, 0x2_0000, 0x41_0000, 0x20, 0x4000),
            ("parisc", 0x100, 0x1000, 0x80, 0x80_1000, 0x10, 0x4000),
            ("riscv64", 0x40, 0x1_0000, 0x2_0000, 0x41_0000, 0x20, 0x4000),
        ];
        for &(abi, creat, dir, nofollow, tmpfile, anon, noreserve) in cases {
            let c = arch(abi).consts;
            assert_eq!(c.o_creat, creat, "{abi} O_CREAT");
            assert_eq!(c.o_directory, dir, "{abi} O_DIRECTORY");
            assert_eq!(c.o_nofollow, nofollow, "{abi} O_NOFOLLOW");
            assert_eq!(c.o_tmpfile, tmpfile, "{abi} O_TMPFILE");
            assert_eq!(c.map_anonymous, anon, "{abi} MAP_ANONYMOUS");
            assert_eq!(c.map_noreserve, noreserve, "{abi} MAP_NORESERVE");
        }
        for a in ARCHES {
            let c = a.consts;
            let n = a.name;
            assert_eq!(
                (c.o_rdonly, c.o_wronly, c.o_rdwr, c.o_accmode),
                (0, 1, 2, 3),
                "{n}"
            );
            assert_eq!(c.o_tmpfile & c.o_directory, c.o_directory, "{n} O_TMPFILE");
            assert_ne!(c.o_tmpfile, c.o_directory, "{n} O_TMPFILE");
            assert_eq!(
                (c.prot_none, c.prot_read, c.prot_write, c.prot_exec),
                (0, 1, 2, 4)
            );
            assert_eq!(
                (c.map_shared, c.map_private, c.map_shared_validate),
                (1, 2, 3)
            );
            // The flags are distinct single bits (O_TMPFILE and O_ACCMODE excepted).
            let bits = [
                c.o_creat,
                c.o_excl,
                c.o_noctty,
                c.o_trunc,
                c.o_append,
                c.o_nonblock,
                c.o_directory,
                c.o_nofollow,
                c.o_cloexec,
                c.o_path,
                c.o_dsync,
                c.o_async,
                c.o_direct,
                c.o_noatime,
            ];
            let mut seen = 0u32;
            for b in bits {
                assert_eq!(b.count_ones(), 1, "{n} {b:#x}");
                assert_eq!(seen & b, 0, "{n} {b:#x} used twice");
                assert_eq!(b & c.o_accmode, 0, "{n} {b:#x}");
                seen |= b;
            }
            let maps = [
                c.map_shared,
                c.map_private,
                c.map_fixed,
                c.map_anonymous,
                c.map_denywrite,
                c.map_noreserve,
                c.map_stack,
            ];
            let mut seen = 0u32;
            for m in maps {
                assert_eq!(m.count_ones(), 1, "{n} {m:#x}");
                assert_eq!(seen & m, 0, "{n} {m:#x} used twice");
                seen |= m;
            }
        }
    }

    #[test]
    fn open_sync_flags() {
        // (abi, O_DSYNC, FASYNC, O_DIRECT, O_NOATIME, O_SYNC): asm-generic/fcntl.h and
        // arch/{arm,mips,parisc,powerpc}/include/uapi/asm/fcntl.h.
        let cases: &[(&str, u32, u32, u32, u32, u32)] = &[
            ("x86_64", 0x1000, 0x2000, 0x4000, 0x4_0000, 0x10_1000),
            ("arm", 0x1000, 0x2000, 0x1_0000, 0x4_0000, 0x10_1000),
            ("aarch64", 0x1000, 0x2000, 0x1_0000, 0x4_0000, 0x10_1000),
            ("ppc", 0x1000, 0x2000, 0x2_0000, 0x4_0000, 0x10_1000),
            ("mips", 0x10, 0x1000, 0x8000, 0x4_0000, 0x4010),
            ("parisc", 0x4_0000, 0x2000, 0x4000, 0x10_0000, 0x4_8000),
        ];
        for &(abi, dsync, fasync, direct, noatime, sync) in cases {
            let c = arch(abi).consts;
            let got = (c.o_dsync, c.o_async, c.o_direct, c.o_noatime, c.o_sync);
            assert_eq!(got, (dsync, fasync, direct, noatime, sync), "{abi}");
        }
        for a in ARCHES {
            let c = a.consts;
            assert_eq!(c.o_sync & c.o_dsync, c.o_dsync, "{} O_SYNC", a.name);
            assert_eq!(c.o_sync.count_ones(), 2, "{} O_SYNC", a.name);
        }
    }

    /// SPEC §6.3's table: the generic values (asm-generic/ioctls.h, linux/kd.h, linux/vt.h).
    const GENERIC_IOCTLS: [(&str, u32); 70] = [
        ("TCGETS", 0x5401),
        ("TIOCGLCKTRMIOS", 0x5456),
        ("TIOCGWINSZ", 0x5413),
        ("TIOCSWINSZ", 0x5414),
        ("FIONREAD", 0x541B),
        ("TIOCOUTQ", 0x5411),
        ("TCFLSH", 0x540B),
        ("TIOCSTI", 0x5412),
        ("TIOCSCTTY", 0x540E),
        ("TIOCNOTTY", 0x5422),
        ("TIOCGPGRP", 0x540F),
        ("TIOCSPGRP", 0x5410),
        ("TIOCGSID", 0x5429),
        ("TIOCEXCL", 0x540C),
        ("TIOCGEXCL", 0x8004_5440),
        ("TIOCNXCL", 0x540D),
        ("TIOCGETD", 0x5424),
        ("TIOCSETD", 0x5423),
        ("TIOCPKT", 0x5420),
        ("TIOCGPKT", 0x8004_5438),
        ("TIOCSPTLCK", 0x4004_5431),
        ("TIOCGPTLCK", 0x8004_5439),
        ("TIOCGPTPEER", 0x5441),
        ("TIOCGSOFTCAR", 0x5419),
        ("TIOCSSOFTCAR", 0x541A),
        ("KDGETLED", 0x4B31),
        ("KDSETLED", 0x4B32),
        ("KDGKBLED", 0x4B64),
        ("KDSKBLED", 0x4B65),
        ("KDGKBTYPE", 0x4B33),
        ("KDGETMODE", 0x4B3B),
        ("KDSETMODE", 0x4B3A),
        ("KDMKTONE", 0x4B30),
        ("KIOCSOUND", 0x4B2F),
        ("GIO_CMAP", 0x4B70),
        ("PIO_CMAP", 0x4B71),
        ("GIO_FONT", 0x4B60),
        ("PIO_FONT", 0x4B61),
        ("GIO_FONTX", 0x4B6B),
        ("PIO_FONTX", 0x4B6C),
        ("PIO_FONTRESET", 0x4B6D),
        ("GIO_SCRNMAP", 0x4B40),
        ("PIO_SCRNMAP", 0x4B41),
        ("GIO_UNISCRNMAP", 0x4B69),
        ("PIO_UNISCRNMAP", 0x4B6A),
        ("GIO_UNIMAP", 0x4B66),
        ("PIO_UNIMAP", 0x4B67),
        ("PIO_UNIMAPCLR", 0x4B68),
        ("KDGKBMODE", 0x4B44),
        ("KDSKBMODE", 0x4B45),
        ("KDGKBMETA", 0x4B62),
        ("KDSKBMETA", 0x4B63),
        ("KDGKBENT", 0x4B46),
        ("KDSKBENT", 0x4B47),
        ("KDGKBSENT", 0x4B48),
        ("KDSKBSENT", 0x4B49),
        ("KDGKBDIACR", 0x4B4A),
        ("KDGETKEYCODE", 0x4B4C),
        ("KDSETKEYCODE", 0x4B4D),
        ("KDSIGACCEPT", 0x4B4E),
        ("VT_OPENQRY", 0x5600),
        ("VT_GETMODE", 0x5601),
        ("VT_SETMODE", 0x5602),
        ("VT_GETSTATE", 0x5603),
        ("VT_RELDISP", 0x5605),
        ("VT_ACTIVATE", 0x5606),
        ("VT_WAITACTIVE", 0x5607),
        ("VT_DISALLOCATE", 0x5608),
        ("VT_RESIZE", 0x5609),
        ("VT_RESIZEX", 0x560A),
    ];

    #[test]
    fn ioctls_generic_abis_match_spec_table() {
        for abi in [
            "x86_64", "x86", "x32", "arm", "aarch64", "riscv64", "s390", "s390x",
        ] {
            let got = arch(abi).consts.ioctls();
            assert!(got.eq(GENERIC_IOCTLS.iter().copied()), "{abi}");
        }
    }

    #[test]
    fn ioctls_other_abis() {
        // Every ABI lists the same names in the same order; mips, powerpc and parisc encode
        // some requests differently (values from their arch/<arch>/include/uapi/asm/ioctls.h).
        for a in ARCHES {
            let names = a.consts.ioctls().map(|(n, _)| n);
            assert!(
                names.eq(GENERIC_IOCTLS.iter().map(|&(n, _)| n)),
                "{}",
                a.name
            );
        }
        let cases: &[(&str, &str, u32)] = &[
            ("mips", "TCGETS", 0x540D),
            ("mips", "FIONREAD", 0x467F),
            ("mips", "TIOCGWINSZ", 0x4008_7468),
            ("mips", "TIOCSTI", 0x5472),
            ("mips", "TIOCGPTPEER", 0x2000_5441),
            ("mips", "TIOCGEXCL", 0x4004_5440),
            ("mips", "KDGETLED", 0x4B31),
            ("mips64", "TCGETS", 0x540D),
            ("ppc", "TCGETS", 0x402C_7413),
            ("ppc", "TIOCGWINSZ", 0x4008_7468),
            ("ppc", "FIONREAD", 0x4004_667F),
            ("ppc", "TCFLSH", 0x2000_741F),
            ("ppc", "TIOCSTI", 0x5412),
            ("ppc64", "TCGETS", 0x402C_7413),
            ("ppc64le", "TCGETS", 0x402C_7413),
            ("parisc", "TCGETS", 0x4024_5410),
            ("parisc", "TIOCGPTPEER", 0x5441),
            ("parisc", "TIOCGEXCL", 0x4004_5440),
            ("parisc", "TIOCSPTLCK", 0x8004_5431),
            ("parisc64", "TCGETS", 0x4024_5410),
            ("x86_64", "VT_RESIZEX", 0x560A),
        ];
        for &(abi, name, want) in cases {
            assert_eq!(arch(abi).consts.ioctl(name), Some(want), "{abi} {name}");
        }
        assert_eq!(X86_64.consts.ioctl("TIOCINQ"), None);
    }

    #[test]
    fn signal_numbers() {
        // (abi, SIGCHLD, SIGSTOP, SIGSYS, SIGUSR1, SIGSTKFLT, SIGEMT)
        type Row = (&'static str, u32, u32, u32, u32, Option<u32>, Option<u32>);
        let cases: &[Row] = &[
            ("x86_64", 17, 19, 31, 10, Some(16), None),
            ("arm", 17, 19, 31, 10, Some(16), None),
            ("aarch64", 17, 19, 31, 10, Some(16), None),
            ("ppc", 17, 19, 31, 10, Some(16), None),
            ("s390x", 17, 19, 31, 10, Some(16), None),
            ("riscv64", 17, 19, 31, 10, Some(16), None),
            ("mips", 18, 23, 12, 16, None, Some(7)),
            ("mips64", 18, 23, 12, 16, None, Some(7)),
            ("parisc", 18, 24, 31, 16, Some(7), None),
            ("parisc64", 18, 24, 31, 16, Some(7), None),
        ];
        for &(abi, chld, stop, sys, usr1, stkflt, emt) in cases {
            let c = arch(abi).consts;
            assert_eq!(c.signal("SIGCHLD"), Some(chld), "{abi}");
            assert_eq!(c.signal("SIGSTOP"), Some(stop), "{abi}");
            assert_eq!(c.signal("SIGSYS"), Some(sys), "{abi}");
            assert_eq!(c.signal("SIGUSR1"), Some(usr1), "{abi}");
            assert_eq!(c.signal("SIGSTKFLT"), stkflt, "{abi}");
            assert_eq!(c.signal("SIGEMT"), emt, "{abi}");
        }
        for a in ARCHES {
            let c = a.consts;
            assert_eq!(c.signal("SIGKILL"), Some(9), "{}", a.name);
            assert_eq!(c.signal("SIGHUP"), Some(1), "{}", a.name);
            assert_eq!(c.signal("SIGIO"), c.signal("SIGPOLL"), "{}", a.name);
            assert_eq!(c.signal("SIGNOPE"), None);
            for (name, nr) in c.signals() {
                assert!((1..=31).contains(&nr), "{} {name} {nr}", a.name);
            }
        }
    }

    /// errno values: asm-generic's on most ABIs, their own on mips and parisc (values from
    /// arch/{mips,parisc}/include/uapi/asm/errno.h); errno-base's EPERM..ERANGE are shared.
    #[test]
    fn errnos_per_abi() {
        let names = [
            "EPERM",
            "EACCES",
            "ENOSYS",
            "ENOTCONN",
            "ECONNREFUSED",
            "EADDRNOTAVAIL",
            "EOPNOTSUPP",
            "ECANCELED",
        ];
        let generic = [1, 13, 38, 107, 111, 99, 95, 125];
        let cases: [(&[&str], [u32; 8]); 3] = [
            (
                &[
                    "x86_64", "x86", "x32", "arm", "aarch64", "ppc", "ppc64", "ppc64le", "s390",
                    "s390x", "riscv64",
                ],
                generic,
            ),
            (&["mips", "mips64"], [1, 13, 89, 134, 146, 126, 122, 158]),
            (
                &["parisc", "parisc64"],
                [1, 13, 251, 235, 239, 227, 223, 253],
            ),
        ];
        let mut seen = 0;
        for (abis, want) in cases {
            for &abi in abis {
                let got = names.map(|n| arch(abi).consts.errno(n).unwrap_or(0));
                assert_eq!(got, want, "{abi}");
                seen += 1;
            }
        }
        assert_eq!(seen, ARCHES.len());
        for a in ARCHES.iter().chain([&&MIPSEL, &&MIPSEL64]) {
            let c = a.consts;
            assert_eq!(c.errnos().count(), tables::ERRNO_COUNT, "{}", a.name);
            assert_eq!(c.errno("ENOSUCHERRNO"), None, "{}", a.name);
            // errno-base.h (1..=34) is shared by every ABI.
            for ((n, v), (gn, gv)) in c.errnos().zip(X86_64.consts.errnos()) {
                assert_eq!(n, gn);
                assert!((1..4096).contains(&v), "{} {n} {v}", a.name);
                if gv <= 34 {
                    assert_eq!(v, gv, "{} {n}", a.name);
                }
            }
        }
        assert_eq!(MIPSEL.consts.errno("ECANCELED"), Some(158));
        assert_eq!(MIPSEL64.consts.errno("ENOSYS"), Some(89));
    }

    #[test]
    fn shared_name_lists() {
        let lists = [
            (&tables::SYSCALL_NAMES, tables::SYSCALL_COUNT),
            (&tables::IOCTL_NAMES, tables::IOCTL_COUNT),
            (&tables::SIGNAL_NAMES, tables::SIGNAL_COUNT),
            (&tables::ERRNO_NAMES, tables::ERRNO_COUNT),
        ];
        for (names, count) in lists {
            assert_eq!(names.len(), count);
            assert_eq!(names.iter().count(), count);
            for n in names.iter() {
                let ident = n.bytes().all(|b| b == b'_' || b.is_ascii_alphanumeric());
                assert!(!n.is_empty() && ident, "{n:?}");
            }
        }
        // The syscall names are sorted (binary search relies on it), each used by some ABI.
        let sys = &tables::SYSCALL_NAMES;
        let all: std::vec::Vec<&str> = sys.iter().collect();
        for w in all.windows(2) {
            assert!(w[0] < w[1], "{:?} before {:?}", w[0], w[1]);
        }
        for (i, &n) in all.iter().enumerate() {
            assert_eq!(sys.search(n), Some(i), "{n}");
            assert!(ARCHES.iter().any(|a| a.nr(n).is_some()), "{n} is no ABI's");
        }
        for absent in ["", "_", "aaa", "zzz", "read\0", "openat2x"] {
            assert_eq!(sys.search(absent), None, "{absent:?}");
        }
    }

    #[test]
    fn syscall_table_encoding() {
        let t = SyscallTable {
            low_base: 4000,
            high_base: 0x0f_0000,
            nrs: [NONE; tables::SYSCALL_COUNT],
        };
        let cases: &[(u16, Option<u32>)] = &[
            (NONE, None),
            (0, Some(4000)),
            (1, Some(4001)),
            (0x7fff, Some(4000 + 0x7fff)),
            (0x8000, Some(0x0f_0000)),
            (0x8005, Some(0x0f_0005)),
            (0xfffe, Some(0x0f_7ffe)),
        ];
        for &(v, want) in cases {
            assert_eq!(t.decode(v), want, "{v:#x}");
        }
        let top = SyscallTable {
            low_base: u32::MAX,
            high_base: u32::MAX - 1,
            nrs: [NONE; tables::SYSCALL_COUNT],
        };
        assert_eq!(top.decode(0), Some(u32::MAX));
        assert_eq!(top.decode(1), None); // would wrap around
        assert_eq!(top.decode(0x8001), Some(u32::MAX));
        assert_eq!(top.decode(0x8002), None);
    }

    #[test]
    fn linux_version() {
        assert!(LINUX_VERSION.starts_with("6.1."), "{LINUX_VERSION}");
    }
}
