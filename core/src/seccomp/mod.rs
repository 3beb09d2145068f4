//! seccomp on top of classic BPF: `struct seccomp_data`, filter actions, the filter model, the
//! compiler from models to one BPF program, the policy's rules as models, and the exports.

pub mod compile;
pub mod model;
pub mod policy;
#[cfg(any(test, feature = "reference"))]
pub mod reference;

use crate::arch::Endian;
use crate::bpf::ByteOrder;

/// Size of `struct seccomp_data` (linux/seccomp.h): nr, arch, instruction_pointer, args[6].
pub const DATA_LEN: u32 = 64;

/// Offset of `nr` in `struct seccomp_data`.
pub const OFF_NR: u32 = 0;
/// Offset of `arch` in `struct seccomp_data`.
pub const OFF_ARCH: u32 = 4;
/// Offset of `instruction_pointer` in `struct seccomp_data`.
pub const OFF_IP: u32 = 8;
/// Offset of `args[0]` in `struct seccomp_data`; each argument takes 8 bytes.
pub const OFF_ARGS: u32 = 16;

/// A filter action (the `SECCOMP_RET_*` values of linux/seccomp.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// `SECCOMP_RET_KILL_PROCESS`: kill the whole process.
    KillProcess,
    /// `SECCOMP_RET_KILL_THREAD`: kill the calling thread.
    KillThread,
    /// `SECCOMP_RET_TRAP`: send SIGSYS with this data.
    Trap(u16),
    /// `SECCOMP_RET_ERRNO`: fail with this errno (at most 4095).
    Errno(u16),
    /// `SECCOMP_RET_USER_NOTIF`: ask the supervisor.
    UserNotif,
    /// `SECCOMP_RET_LOG`: allow and log.
    Log,
    /// `SECCOMP_RET_ALLOW`.
    Allow,
}

const RET_KILL_PROCESS: u32 = 0x8000_0000;
const RET_KILL_THREAD: u32 = 0x0000_0000;
const RET_TRAP: u32 = 0x0003_0000;
const RET_ERRNO: u32 = 0x0005_0000;
const RET_USER_NOTIF: u32 = 0x7fc0_0000;
const RET_LOG: u32 = 0x7ffc_0000;
const RET_ALLOW: u32 = 0x7fff_0000;
const RET_DATA: u32 = 0x0000_ffff;

impl Action {
    /// The value a filter returns for this action. Errno values are capped at 4095 (the kernel's
    /// MAX_ERRNO) by the constructor of callers; larger data is masked to 16 bits.
    pub const fn ret(self) -> u32 {
        match self {
            Action::KillProcess => RET_KILL_PROCESS,
            Action::KillThread => RET_KILL_THREAD,
            Action::Trap(d) => RET_TRAP | d as u32,
            Action::Errno(e) => RET_ERRNO | e as u32,
            Action::UserNotif => RET_USER_NOTIF,
            Action::Log => RET_LOG,
            Action::Allow => RET_ALLOW,
        }
    }

    /// The action a filter return value stands for, if it is one this project emits.
    pub const fn from_ret(ret: u32) -> Option<Action> {
        // The 16 data bits always fit a u16.
        let data = (ret & RET_DATA) as u16;
        Some(match ret & !RET_DATA {
            RET_KILL_PROCESS => Action::KillProcess,
            RET_KILL_THREAD => Action::KillThread,
            RET_TRAP => Action::Trap(data),
            RET_ERRNO => Action::Errno(data),
            RET_USER_NOTIF => Action::UserNotif,
            RET_LOG => Action::Log,
            RET_ALLOW => Action::Allow,
            _ => return None,
        })
    }
}

impl core::fmt::Display for Action {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Action::KillProcess => f.write_str("KILL_PROCESS"),
            Action::KillThread => f.write_str("KILL"),
            Action::Trap(d) => write!(f, "TRAP({d})"),
            Action::Errno(e) => write!(f, "ERRNO({e})"),
            Action::UserNotif => f.write_str("NOTIFY"),
            Action::Log => f.write_str("LOG"),
            Action::Allow => f.write_str("ALLOW"),
        }
    }
}

/// `struct seccomp_data`: what a filter sees of one syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeccompData {
    /// The syscall number (with the x32 bit for x32 calls).
    pub nr: u32,
    /// The `AUDIT_ARCH_*` value of the calling ABI.
    pub arch: u32,
    /// The instruction pointer.
    pub ip: u64,
    /// The six arguments.
    pub args: [u64; 6],
}

/// The byte order BPF loads use for an ABI: the kernel fills `seccomp_data` in its native order.
pub const fn byte_order(endian: Endian) -> ByteOrder {
    match endian {
        Endian::Little => ByteOrder::Little,
        Endian::Big => ByteOrder::Big,
    }
}

impl SeccompData {
    /// The bytes of the struct as a kernel of byte order `endian` lays it out.
    pub fn to_bytes(&self, endian: Endian) -> [u8; DATA_LEN as usize] {
        let mut out = [0u8; DATA_LEN as usize];
        let put32 = |v: u32| match endian {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        };
        let put64 = |v: u64| match endian {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        };
        let mut chunks = out.chunks_exact_mut(4);
        for (slot, bytes) in chunks.by_ref().zip([put32(self.nr), put32(self.arch)]) {
            slot.copy_from_slice(&bytes);
        }
        let mut words = out.get_mut(8..).unwrap_or(&mut []).chunks_exact_mut(8);
        let values = core::iter::once(self.ip).chain(self.args);
        for (slot, v) in words.by_ref().zip(values) {
            slot.copy_from_slice(&put64(v));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip() {
        for a in [
            Action::KillProcess,
            Action::KillThread,
            Action::Trap(7),
            Action::Errno(125),
            Action::Errno(4095),
            Action::UserNotif,
            Action::Log,
            Action::Allow,
        ] {
            assert_eq!(Action::from_ret(a.ret()), Some(a));
        }
        assert_eq!(Action::Errno(1).ret(), 0x0005_0001);
        assert_eq!(Action::from_ret(0x7ff0_0000), None); // TRACE is never emitted
    }

    #[test]
    fn data_layout() {
        let d = SeccompData {
            nr: 0x0102_0304,
            arch: 0xc000_003e,
            ip: 0x1122_3344_5566_7788,
            args: [1, 2, 3, 4, 5, 0xaabb_ccdd_eeff_0011],
        };
        let le = d.to_bytes(Endian::Little);
        assert_eq!(&le[0..4], &[4, 3, 2, 1]);
        assert_eq!(&le[4..8], &0xc000_003eu32.to_le_bytes());
        assert_eq!(&le[8..16], &0x1122_3344_5566_7788u64.to_le_bytes());
        assert_eq!(&le[16..24], &1u64.to_le_bytes());
        assert_eq!(&le[56..64], &0xaabb_ccdd_eeff_0011u64.to_le_bytes());
        let be = d.to_bytes(Endian::Big);
        assert_eq!(&be[0..4], &[1, 2, 3, 4]);
        // On big-endian ABIs the low word of an argument sits 4 bytes in.
        assert_eq!(&be[60..64], &0xeeff_0011u32.to_be_bytes());
    }
}
