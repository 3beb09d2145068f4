//! The classic BPF instruction (`struct sock_filter`), its opcode constants and its byte encoding.
//!
//! Opcode values are those of linux/bpf_common.h and linux/filter.h.

use super::BpfError;

/// Instruction class `BPF_LD`: load into the accumulator A.
pub const BPF_LD: u16 = 0x00;
/// Instruction class `BPF_LDX`: load into the index register X.
pub const BPF_LDX: u16 = 0x01;
/// Instruction class `BPF_ST`: store A into scratch memory.
pub const BPF_ST: u16 = 0x02;
/// Instruction class `BPF_STX`: store X into scratch memory.
pub const BPF_STX: u16 = 0x03;
/// Instruction class `BPF_ALU`: arithmetic on A.
pub const BPF_ALU: u16 = 0x04;
/// Instruction class `BPF_JMP`: forward jumps.
pub const BPF_JMP: u16 = 0x05;
/// Instruction class `BPF_RET`: end the program with a value.
pub const BPF_RET: u16 = 0x06;
/// Instruction class `BPF_MISC`: register transfers.
pub const BPF_MISC: u16 = 0x07;

/// Load size `BPF_W`: 32-bit word.
pub const BPF_W: u16 = 0x00;
/// Load size `BPF_H`: 16-bit half word.
pub const BPF_H: u16 = 0x08;
/// Load size `BPF_B`: byte.
pub const BPF_B: u16 = 0x10;

/// Load mode `BPF_IMM`: the constant `k`.
pub const BPF_IMM: u16 = 0x00;
/// Load mode `BPF_ABS`: the data at offset `k`.
pub const BPF_ABS: u16 = 0x20;
/// Load mode `BPF_IND`: the data at offset `X + k`.
pub const BPF_IND: u16 = 0x40;
/// Load mode `BPF_MEM`: scratch memory word `k`.
pub const BPF_MEM: u16 = 0x60;
/// Load mode `BPF_LEN`: the data length.
pub const BPF_LEN: u16 = 0x80;
/// Load mode `BPF_MSH`: IP header length (packet filters only).
pub const BPF_MSH: u16 = 0xa0;

/// ALU operation `BPF_ADD`.
pub const BPF_ADD: u16 = 0x00;
/// ALU operation `BPF_SUB`.
pub const BPF_SUB: u16 = 0x10;
/// ALU operation `BPF_MUL`.
pub const BPF_MUL: u16 = 0x20;
/// ALU operation `BPF_DIV`.
pub const BPF_DIV: u16 = 0x30;
/// ALU operation `BPF_OR`.
pub const BPF_OR: u16 = 0x40;
/// ALU operation `BPF_AND`.
pub const BPF_AND: u16 = 0x50;
/// ALU operation `BPF_LSH`.
pub const BPF_LSH: u16 = 0x60;
/// ALU operation `BPF_RSH`.
pub const BPF_RSH: u16 = 0x70;
/// ALU operation `BPF_NEG`.
pub const BPF_NEG: u16 = 0x80;
/// ALU operation `BPF_MOD`.
pub const BPF_MOD: u16 = 0x90;
/// ALU operation `BPF_XOR`.
pub const BPF_XOR: u16 = 0xa0;

/// Jump operation `BPF_JA`: unconditional, 32-bit offset in `k`.
pub const BPF_JA: u16 = 0x00;
/// Jump operation `BPF_JEQ`: `A == src`.
pub const BPF_JEQ: u16 = 0x10;
/// Jump operation `BPF_JGT`: `A > src`, unsigned.
pub const BPF_JGT: u16 = 0x20;
/// Jump operation `BPF_JGE`: `A >= src`, unsigned.
pub const BPF_JGE: u16 = 0x30;
/// Jump operation `BPF_JSET`: `A & src != 0`.
pub const BPF_JSET: u16 = 0x40;

/// Operand source `BPF_K`: the constant `k`.
pub const BPF_K: u16 = 0x00;
/// Operand source `BPF_X`: the index register X.
pub const BPF_X: u16 = 0x08;
/// Return value source `BPF_A`: the accumulator (`BPF_RVAL` bits of a `BPF_RET`).
pub const BPF_A: u16 = 0x10;

/// Miscellaneous operation `BPF_TAX`: `X = A`.
pub const BPF_TAX: u16 = 0x00;
/// Miscellaneous operation `BPF_TXA`: `A = X`.
pub const BPF_TXA: u16 = 0x80;

/// Number of 32-bit scratch memory words (`BPF_MEMWORDS` in linux/filter.h).
pub const BPF_MEMWORDS: u32 = 16;

/// The byte order of the machine a program runs on: it decides how a 32-bit load reads the data
/// and how an exported program is laid out.
// The arch module defines its own `Endian`; the integrator unifies the two.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ByteOrder {
    /// Least significant byte first (x86, arm, riscv, mipsel).
    Little,
    /// Most significant byte first (mips, s390x, ppc64).
    Big,
}

/// One classic BPF instruction, laid out as the kernel's `struct sock_filter`.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Insn {
    /// Opcode: class, size/operation, mode/source bits.
    pub code: u16,
    /// Conditional jumps: offset taken when true, counted from the next instruction.
    pub jt: u8,
    /// Conditional jumps: offset taken when false, counted from the next instruction.
    pub jf: u8,
    /// The constant operand (or `BPF_JA`'s offset, or a load offset, or a memory slot).
    pub k: u32,
}

// The kernel reads `struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; }` (linux/filter.h).
const _: () = assert!(core::mem::size_of::<Insn>() == 8);
const _: () = assert!(core::mem::align_of::<Insn>() == 4);
const _: () = assert!(core::mem::offset_of!(Insn, code) == 0);
const _: () = assert!(core::mem::offset_of!(Insn, jt) == 2);
const _: () = assert!(core::mem::offset_of!(Insn, jf) == 3);
const _: () = assert!(core::mem::offset_of!(Insn, k) == 4);

/// Bytes one instruction takes in an exported program.
pub const INSN_BYTES: usize = 8;

impl Insn {
    /// A non-jump instruction (the `BPF_STMT` macro).
    pub const fn stmt(code: u16, k: u32) -> Insn {
        Insn {
            code,
            jt: 0,
            jf: 0,
            k,
        }
    }

    /// A jump instruction (the `BPF_JUMP` macro).
    pub const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Insn {
        Insn { code, jt, jf, k }
    }

    /// The instruction's class (`BPF_CLASS`).
    pub const fn class(&self) -> u16 {
        self.code & 0x07
    }

    /// The 8 bytes the kernel reads for this instruction on a host of byte order `order`:
    /// `code` and `k` in that order, `jt` and `jf` as single bytes.
    pub fn to_bytes(&self, order: ByteOrder) -> [u8; INSN_BYTES] {
        let (code, k) = match order {
            ByteOrder::Little => (self.code.to_le_bytes(), self.k.to_le_bytes()),
            ByteOrder::Big => (self.code.to_be_bytes(), self.k.to_be_bytes()),
        };
        let [c0, c1] = code;
        let [k0, k1, k2, k3] = k;
        [c0, c1, self.jt, self.jf, k0, k1, k2, k3]
    }
}

/// Writes `prog` into `out` exactly as the kernel takes it on a host of byte order `order` (the
/// `-e bpf` export) and returns the number of bytes written, 8 per instruction.
///
/// Errors: [`BpfError::OutputTooSmall`] if `out` is shorter than that; nothing is written then.
pub fn program_bytes(prog: &[Insn], order: ByteOrder, out: &mut [u8]) -> Result<usize, BpfError> {
    let len = out.len();
    let needed = prog
        .len()
        .checked_mul(INSN_BYTES)
        .ok_or(BpfError::OutputTooSmall {
            needed: usize::MAX,
            len,
        })?;
    let dst = out
        .get_mut(..needed)
        .ok_or(BpfError::OutputTooSmall { needed, len })?;
    for (chunk, insn) in dst.chunks_exact_mut(INSN_BYTES).zip(prog) {
        chunk.copy_from_slice(&insn.to_bytes(order));
    }
    Ok(needed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opcode_values_match_linux_headers() {
        // (name, value, expected) from linux/bpf_common.h and linux/filter.h.
        let table: &[(&str, u16, u16)] = &[
            ("BPF_LD|BPF_W|BPF_ABS", BPF_LD | BPF_W | BPF_ABS, 0x20),
            ("BPF_LD|BPF_H|BPF_ABS", BPF_LD | BPF_H | BPF_ABS, 0x28),
            ("BPF_LD|BPF_B|BPF_IND", BPF_LD | BPF_B | BPF_IND, 0x50),
            ("BPF_LD|BPF_IMM", BPF_LD | BPF_IMM, 0x00),
            ("BPF_LDX|BPF_IMM", BPF_LDX | BPF_IMM, 0x01),
            ("BPF_LD|BPF_MEM", BPF_LD | BPF_MEM, 0x60),
            ("BPF_LDX|BPF_MEM", BPF_LDX | BPF_MEM, 0x61),
            ("BPF_LD|BPF_W|BPF_LEN", BPF_LD | BPF_W | BPF_LEN, 0x80),
            ("BPF_LDX|BPF_B|BPF_MSH", BPF_LDX | BPF_B | BPF_MSH, 0xb1),
            ("BPF_ST", BPF_ST, 0x02),
            ("BPF_STX", BPF_STX, 0x03),
            ("BPF_ALU|BPF_ADD|BPF_K", BPF_ALU | BPF_ADD | BPF_K, 0x04),
            ("BPF_ALU|BPF_SUB|BPF_X", BPF_ALU | BPF_SUB | BPF_X, 0x1c),
            ("BPF_ALU|BPF_MUL|BPF_K", BPF_ALU | BPF_MUL | BPF_K, 0x24),
            ("BPF_ALU|BPF_DIV|BPF_K", BPF_ALU | BPF_DIV | BPF_K, 0x34),
            ("BPF_ALU|BPF_OR|BPF_K", BPF_ALU | BPF_OR | BPF_K, 0x44),
            ("BPF_ALU|BPF_AND|BPF_K", BPF_ALU | BPF_AND | BPF_K, 0x54),
            ("BPF_ALU|BPF_LSH|BPF_K", BPF_ALU | BPF_LSH | BPF_K, 0x64),
            ("BPF_ALU|BPF_RSH|BPF_K", BPF_ALU | BPF_RSH | BPF_K, 0x74),
            ("BPF_ALU|BPF_NEG", BPF_ALU | BPF_NEG, 0x84),
            ("BPF_ALU|BPF_MOD|BPF_K", BPF_ALU | BPF_MOD | BPF_K, 0x94),
            ("BPF_ALU|BPF_XOR|BPF_X", BPF_ALU | BPF_XOR | BPF_X, 0xac),
            ("BPF_JMP|BPF_JA", BPF_JMP | BPF_JA, 0x05),
            ("BPF_JMP|BPF_JEQ|BPF_K", BPF_JMP | BPF_JEQ | BPF_K, 0x15),
            ("BPF_JMP|BPF_JGT|BPF_K", BPF_JMP | BPF_JGT | BPF_K, 0x25),
            ("BPF_JMP|BPF_JGE|BPF_K", BPF_JMP | BPF_JGE | BPF_K, 0x35),
            ("BPF_JMP|BPF_JSET|BPF_K", BPF_JMP | BPF_JSET | BPF_K, 0x45),
            ("BPF_JMP|BPF_JEQ|BPF_X", BPF_JMP | BPF_JEQ | BPF_X, 0x1d),
            ("BPF_RET|BPF_K", BPF_RET | BPF_K, 0x06),
            ("BPF_RET|BPF_A", BPF_RET | BPF_A, 0x16),
            ("BPF_MISC|BPF_TAX", BPF_MISC | BPF_TAX, 0x07),
            ("BPF_MISC|BPF_TXA", BPF_MISC | BPF_TXA, 0x87),
        ];
        for &(name, got, want) in table {
            assert_eq!(got, want, "{name}");
        }
        assert_eq!(BPF_MEMWORDS, 16);
    }

    #[test]
    fn insn_bytes_in_both_orders() {
        let table: &[(Insn, ByteOrder, [u8; 8])] = &[
            (
                Insn::jump(0x0015, 0xc000_003e, 1, 2),
                ByteOrder::Little,
                [0x15, 0x00, 1, 2, 0x3e, 0x00, 0x00, 0xc0],
            ),
            (
                Insn::jump(0x0015, 0xc000_003e, 1, 2),
                ByteOrder::Big,
                [0x00, 0x15, 1, 2, 0xc0, 0x00, 0x00, 0x3e],
            ),
            (
                Insn::stmt(0x0006, 0x7fff_0000),
                ByteOrder::Little,
                [0x06, 0x00, 0, 0, 0x00, 0x00, 0xff, 0x7f],
            ),
            (
                Insn::stmt(0x0006, 0x7fff_0000),
                ByteOrder::Big,
                [0x00, 0x06, 0, 0, 0x7f, 0xff, 0x00, 0x00],
            ),
            (
                Insn::jump(0x1234, 0x0102_0304, 0xff, 0x80),
                ByteOrder::Big,
                [0x12, 0x34, 0xff, 0x80, 0x01, 0x02, 0x03, 0x04],
            ),
        ];
        for (insn, order, want) in table {
            assert_eq!(insn.to_bytes(*order), *want, "{insn:?} {order:?}");
        }
    }

    #[test]
    fn program_bytes_exports_and_checks_room() {
        let prog = [
            Insn::stmt(BPF_LD | BPF_W | BPF_ABS, 4),
            Insn::stmt(BPF_RET | BPF_K, 0x0005_0001),
        ];
        let mut out = [0xaa_u8; 17];
        assert_eq!(program_bytes(&prog, ByteOrder::Little, &mut out), Ok(16));
        assert_eq!(
            out,
            [
                0x20, 0, 0, 0, 4, 0, 0, 0, //
                0x06, 0, 0, 0, 1, 0, 5, 0, //
                0xaa
            ]
        );
        assert_eq!(program_bytes(&prog, ByteOrder::Big, &mut out), Ok(16));
        assert_eq!(
            out[..16],
            [
                0, 0x20, 0, 0, 0, 0, 0, 4, //
                0, 0x06, 0, 0, 0, 5, 0, 1,
            ]
        );
        let mut short = [0u8; 15];
        assert_eq!(
            program_bytes(&prog, ByteOrder::Little, &mut short),
            Err(BpfError::OutputTooSmall {
                needed: 16,
                len: 15
            })
        );
        assert_eq!(short, [0u8; 15], "nothing written on error");
        assert_eq!(program_bytes(&[], ByteOrder::Big, &mut short), Ok(0));
    }
}
