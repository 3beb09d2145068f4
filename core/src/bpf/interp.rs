//! The interpreter: runs a classic BPF program over the bytes of one input, as the kernel does.
//!
//! Semantics are those of the kernel's classic-to-eBPF conversion for seccomp (net/core/filter.c):
//! A and X start at 0; arithmetic is on 32 bits and wraps; comparisons are unsigned; a 32-bit
//! load reads the data in the host's byte order, which the caller names, so a program for a
//! big-endian board runs correctly on a little-endian laptop.

use super::insn::*;
use super::verify::{is_allowed, is_cond_jump};
use core::fmt;

/// Why a run stopped without a `ret`, and where.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct InterpError {
    /// Index of the instruction that failed (the program's length when it fell off the end).
    pub pc: usize,
    /// What went wrong.
    pub kind: InterpErrorKind,
}

/// The faults [`run`] detects; a program that passed [`super::verify()`] over data of the same
/// length hits none of them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum InterpErrorKind {
    /// An opcode the verifier does not allow.
    BadOpcode {
        /// The opcode.
        code: u16,
    },
    /// A 32-bit load that does not fit in the data.
    LoadOutOfBounds {
        /// The load offset.
        offset: u32,
        /// The data length.
        data_len: usize,
    },
    /// A shift by 32 or more.
    ShiftTooFar {
        /// The shift count.
        k: u32,
    },
    /// A scratch memory slot outside `0..BPF_MEMWORDS`.
    BadSlot {
        /// The slot.
        slot: u32,
    },
    /// A scratch memory slot read before this run wrote it.
    UninitRead {
        /// The slot.
        slot: u32,
    },
    /// A jump past the end of the program.
    JumpOutOfRange {
        /// The absolute index the jump would land on.
        target: u64,
    },
    /// Execution ran past the last instruction without a `ret`.
    FellOffEnd,
}

impl fmt::Display for InterpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pc = self.pc;
        match self.kind {
            InterpErrorKind::BadOpcode { code } => {
                write!(f, "BPF l{pc}: opcode {code:#06x} not allowed")
            }
            InterpErrorKind::LoadOutOfBounds { offset, data_len } => write!(
                f,
                "BPF l{pc}: load at offset {offset} past the {data_len}-byte data"
            ),
            InterpErrorKind::ShiftTooFar { k } => write!(f, "BPF l{pc}: shift by {k}"),
            InterpErrorKind::BadSlot { slot } => {
                write!(f, "BPF l{pc}: scratch slot {slot} out of range")
            }
            InterpErrorKind::UninitRead { slot } => {
                write!(f, "BPF l{pc}: scratch slot {slot} read before written")
            }
            InterpErrorKind::JumpOutOfRange { target } => {
                write!(f, "BPF l{pc}: jump to l{target}, past the end")
            }
            InterpErrorKind::FellOffEnd => write!(f, "BPF l{pc}: ran off the end without ret"),
        }
    }
}

/// Runs `prog` over `data`, reading 32-bit words in byte order `order`, and returns the value of
/// the `ret` it reaches.
///
/// Every jump goes forward, so a run takes at most `prog.len()` steps. Errors: the
/// [`InterpErrorKind`] faults, at the instruction where they happen.
pub fn run(prog: &[Insn], data: &[u8], order: ByteOrder) -> Result<u32, InterpError> {
    run_counted(prog, data, order).map(|(ret, _)| ret)
}

/// [`run`], also returning the number of instructions executed (the final `ret` included), for
/// measuring how many steps a program takes on one input.
///
/// The count is at most `prog.len()`, since every jump goes forward. Errors: as [`run`].
pub fn run_counted(
    prog: &[Insn],
    data: &[u8],
    order: ByteOrder,
) -> Result<(u32, usize), InterpError> {
    let mut m = Machine {
        a: 0,
        x: 0,
        mem: [0; 16],
        written: 0,
    };
    let mut pc = 0usize;
    // The step count is the loop bound: since pc grows on every step, len steps always suffice
    // and the loop never ends by exhausting it (FellOffEnd below covers the other exit).
    for step in 1..=prog.len() {
        let Some(insn) = prog.get(pc) else { break };
        let err = |kind| InterpError { pc, kind };
        match m.step(insn, data, order).map_err(err)? {
            Flow::Ret(v) => return Ok((v, step)),
            // Past the last instruction, prog.get() above fails and the loop ends.
            Flow::Next => pc += 1,
            Flow::Jump(off) => {
                // usize is at most 64 bits on every target Rust supports, so these widen.
                let target = pc as u64 + 1 + u64::from(off);
                if target >= prog.len() as u64 {
                    return Err(err(InterpErrorKind::JumpOutOfRange { target }));
                }
                // target < prog.len(), so it fits in usize.
                pc = target as usize;
            }
        }
    }
    Err(InterpError {
        pc: prog.len(),
        kind: InterpErrorKind::FellOffEnd,
    })
}

/// The machine state of one run.
struct Machine {
    a: u32,
    x: u32,
    mem: [u32; 16],
    /// Bit `i` set once slot `i` was written.
    written: u16,
}

/// What an instruction does to the program counter.
enum Flow {
    /// Continue with the next instruction.
    Next,
    /// Jump `off` instructions past the next one (0: the next one).
    Jump(u32),
    /// Stop with this value.
    Ret(u32),
}

impl Machine {
    fn step(
        &mut self,
        insn: &Insn,
        data: &[u8],
        order: ByteOrder,
    ) -> Result<Flow, InterpErrorKind> {
        let code = insn.code;
        let k = insn.k;
        if !is_allowed(code) {
            return Err(InterpErrorKind::BadOpcode { code });
        }
        match code & 0x07 {
            BPF_LD => {
                self.a = match code & 0xe0 {
                    BPF_ABS => load(data, k, order)?,
                    BPF_MEM => self.read(k)?,
                    _ => k, // BPF_IMM, the only other mode allowed.
                };
            }
            BPF_LDX => {
                self.x = match code & 0xe0 {
                    BPF_MEM => self.read(k)?,
                    _ => k, // BPF_IMM
                };
            }
            BPF_ST => self.write(k, self.a)?,
            BPF_STX => self.write(k, self.x)?,
            BPF_ALU => {
                let src = if code & BPF_X != 0 { self.x } else { k };
                self.a = match code & 0xf0 {
                    BPF_ADD => self.a.wrapping_add(src),
                    BPF_SUB => self.a.wrapping_sub(src),
                    BPF_MUL => self.a.wrapping_mul(src),
                    BPF_AND => self.a & src,
                    BPF_OR => self.a | src,
                    BPF_XOR => self.a ^ src,
                    BPF_LSH => self
                        .a
                        .checked_shl(src)
                        .ok_or(InterpErrorKind::ShiftTooFar { k: src })?,
                    BPF_RSH => self
                        .a
                        .checked_shr(src)
                        .ok_or(InterpErrorKind::ShiftTooFar { k: src })?,
                    _ => self.a.wrapping_neg(), // BPF_NEG, the only other operation allowed.
                };
            }
            BPF_JMP => {
                if !is_cond_jump(code) {
                    return Ok(Flow::Jump(k)); // BPF_JA
                }
                let src = if code & BPF_X != 0 { self.x } else { k };
                let taken = match code & 0xf0 {
                    BPF_JEQ => self.a == src,
                    BPF_JGT => self.a > src,
                    BPF_JGE => self.a >= src,
                    _ => self.a & src != 0, // BPF_JSET
                };
                let off = if taken { insn.jt } else { insn.jf };
                return Ok(Flow::Jump(u32::from(off)));
            }
            BPF_RET => {
                let v = if code & BPF_A != 0 { self.a } else { k };
                return Ok(Flow::Ret(v));
            }
            _ => {
                // BPF_MISC
                if code & BPF_TXA != 0 {
                    self.a = self.x;
                } else {
                    self.x = self.a;
                }
            }
        }
        Ok(Flow::Next)
    }

    fn read(&self, slot: u32) -> Result<u32, InterpErrorKind> {
        let bit = slot_bit(slot)?;
        if self.written & bit == 0 {
            return Err(InterpErrorKind::UninitRead { slot });
        }
        let i = usize::try_from(slot).map_err(|_| InterpErrorKind::BadSlot { slot })?;
        self.mem
            .get(i)
            .copied()
            .ok_or(InterpErrorKind::BadSlot { slot })
    }

    fn write(&mut self, slot: u32, v: u32) -> Result<(), InterpErrorKind> {
        let bit = slot_bit(slot)?;
        let i = usize::try_from(slot).map_err(|_| InterpErrorKind::BadSlot { slot })?;
        let cell = self
            .mem
            .get_mut(i)
            .ok_or(InterpErrorKind::BadSlot { slot })?;
        *cell = v;
        self.written |= bit;
        Ok(())
    }
}

fn slot_bit(slot: u32) -> Result<u16, InterpErrorKind> {
    if slot >= BPF_MEMWORDS {
        return Err(InterpErrorKind::BadSlot { slot });
    }
    Ok(1 << slot)
}

/// The 32-bit word at `offset` in `data`, in byte order `order`.
fn load(data: &[u8], offset: u32, order: ByteOrder) -> Result<u32, InterpErrorKind> {
    let oob = InterpErrorKind::LoadOutOfBounds {
        offset,
        data_len: data.len(),
    };
    let start = usize::try_from(offset).map_err(|_| oob)?;
    let bytes: [u8; 4] = start
        .checked_add(4)
        .and_then(|end| data.get(start..end))
        .and_then(|b| b.try_into().ok())
        .ok_or(oob)?;
    Ok(match order {
        ByteOrder::Little => u32::from_le_bytes(bytes),
        ByteOrder::Big => u32::from_be_bytes(bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::verify::verify;

    const S: fn(u16, u32) -> Insn = Insn::stmt;
    const J: fn(u16, u32, u8, u8) -> Insn = Insn::jump;
    const RET_A: u16 = BPF_RET | BPF_A;
    const RET_K: u16 = BPF_RET | BPF_K;
    const LD_ABS: u16 = BPF_LD | BPF_W | BPF_ABS;
    const LD_IMM: u16 = BPF_LD | BPF_IMM;
    const LDX_IMM: u16 = BPF_LDX | BPF_IMM;

    /// 16 bytes: 01 02 .. 10.
    const DATA: [u8; 16] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];

    fn alu(op: u16, a: u32, k: u32) -> [Insn; 3] {
        [S(LD_IMM, a), S(BPF_ALU | op | BPF_K, k), S(RET_A, 0)]
    }
    fn alu_x(op: u16, a: u32, x: u32) -> [Insn; 4] {
        [
            S(LD_IMM, a),
            S(LDX_IMM, x),
            S(BPF_ALU | op | BPF_X, 0),
            S(RET_A, 0),
        ]
    }
    /// Returns 1 if `a op k` holds, else 2.
    fn jmp(op: u16, a: u32, k: u32) -> [Insn; 4] {
        [
            S(LD_IMM, a),
            J(BPF_JMP | op | BPF_K, k, 0, 1),
            S(RET_K, 1),
            S(RET_K, 2),
        ]
    }
    fn jmp_x(op: u16, a: u32, x: u32) -> [Insn; 5] {
        [
            S(LD_IMM, a),
            S(LDX_IMM, x),
            J(BPF_JMP | op | BPF_X, 0, 0, 1),
            S(RET_K, 1),
            S(RET_K, 2),
        ]
    }

    #[test]
    fn each_opcode() {
        let table: &[(&str, &[Insn], ByteOrder, u32)] = &[
            (
                "ret k",
                &[S(RET_K, 0x7fff_0000)],
                ByteOrder::Little,
                0x7fff_0000,
            ),
            ("ret a starts 0", &[S(RET_A, 9)], ByteOrder::Little, 0),
            (
                "x starts 0",
                &[S(BPF_MISC | BPF_TXA, 0), S(RET_A, 0)],
                ByteOrder::Little,
                0,
            ),
            (
                "ld abs le",
                &[S(LD_ABS, 4), S(RET_A, 0)],
                ByteOrder::Little,
                0x0807_0605,
            ),
            (
                "ld abs be",
                &[S(LD_ABS, 4), S(RET_A, 0)],
                ByteOrder::Big,
                0x0506_0708,
            ),
            (
                "ld abs last",
                &[S(LD_ABS, 12), S(RET_A, 0)],
                ByteOrder::Big,
                0x0d0e_0f10,
            ),
            (
                "ld imm",
                &[S(LD_IMM, 0xdead_beef), S(RET_A, 0)],
                ByteOrder::Little,
                0xdead_beef,
            ),
            (
                "ldx imm, txa",
                &[S(LDX_IMM, 77), S(BPF_MISC | BPF_TXA, 0), S(RET_A, 0)],
                ByteOrder::Little,
                77,
            ),
            (
                "tax, txa",
                &[
                    S(LD_IMM, 5),
                    S(BPF_MISC | BPF_TAX, 0),
                    S(LD_IMM, 6),
                    S(BPF_MISC | BPF_TXA, 0),
                    S(RET_A, 0),
                ],
                ByteOrder::Little,
                5,
            ),
            (
                "st, ld mem",
                &[
                    S(LD_IMM, 11),
                    S(BPF_ST, 15),
                    S(LD_IMM, 0),
                    S(BPF_LD | BPF_MEM, 15),
                    S(RET_A, 0),
                ],
                ByteOrder::Little,
                11,
            ),
            (
                "stx, ldx mem",
                &[
                    S(LDX_IMM, 12),
                    S(BPF_STX, 0),
                    S(LDX_IMM, 0),
                    S(BPF_LDX | BPF_MEM, 0),
                    S(BPF_MISC | BPF_TXA, 0),
                    S(RET_A, 0),
                ],
                ByteOrder::Little,
                12,
            ),
            (
                "add wraps",
                &alu(BPF_ADD, u32::MAX, 2),
                ByteOrder::Little,
                1,
            ),
            (
                "sub wraps",
                &alu(BPF_SUB, 1, 2),
                ByteOrder::Little,
                u32::MAX,
            ),
            (
                "mul wraps",
                &alu(BPF_MUL, 0x8000_0001, 2),
                ByteOrder::Little,
                2,
            ),
            (
                "and",
                &alu(BPF_AND, 0xf0f0, 0xff00),
                ByteOrder::Little,
                0xf000,
            ),
            (
                "or",
                &alu(BPF_OR, 0xf0f0, 0xff00),
                ByteOrder::Little,
                0xfff0,
            ),
            (
                "xor",
                &alu(BPF_XOR, 0xf0f0, 0xff00),
                ByteOrder::Little,
                0x0ff0,
            ),
            ("lsh", &alu(BPF_LSH, 0x8000_0003, 1), ByteOrder::Little, 6),
            (
                "lsh 31",
                &alu(BPF_LSH, 3, 31),
                ByteOrder::Little,
                0x8000_0000,
            ),
            (
                "rsh is logical",
                &alu(BPF_RSH, 0x8000_0000, 31),
                ByteOrder::Little,
                1,
            ),
            ("neg", &alu(BPF_NEG, 1, 0), ByteOrder::Little, u32::MAX),
            ("neg 0", &alu(BPF_NEG, 0, 0), ByteOrder::Little, 0),
            ("add x", &alu_x(BPF_ADD, 3, 4), ByteOrder::Little, 7),
            ("sub x", &alu_x(BPF_SUB, 3, 4), ByteOrder::Little, u32::MAX),
            ("mul x", &alu_x(BPF_MUL, 3, 4), ByteOrder::Little, 12),
            ("and x", &alu_x(BPF_AND, 6, 3), ByteOrder::Little, 2),
            ("or x", &alu_x(BPF_OR, 6, 3), ByteOrder::Little, 7),
            ("xor x", &alu_x(BPF_XOR, 6, 3), ByteOrder::Little, 5),
            ("jeq true", &jmp(BPF_JEQ, 5, 5), ByteOrder::Little, 1),
            ("jeq false", &jmp(BPF_JEQ, 5, 6), ByteOrder::Little, 2),
            ("jgt true", &jmp(BPF_JGT, 6, 5), ByteOrder::Little, 1),
            ("jgt equal", &jmp(BPF_JGT, 5, 5), ByteOrder::Little, 2),
            (
                "jgt unsigned",
                &jmp(BPF_JGT, u32::MAX, 1),
                ByteOrder::Little,
                1,
            ),
            ("jge equal", &jmp(BPF_JGE, 5, 5), ByteOrder::Little, 1),
            ("jge less", &jmp(BPF_JGE, 4, 5), ByteOrder::Little, 2),
            ("jset true", &jmp(BPF_JSET, 6, 2), ByteOrder::Little, 1),
            ("jset false", &jmp(BPF_JSET, 6, 9), ByteOrder::Little, 2),
            ("jeq x", &jmp_x(BPF_JEQ, 5, 5), ByteOrder::Little, 1),
            ("jgt x", &jmp_x(BPF_JGT, 5, 5), ByteOrder::Little, 2),
            ("jge x", &jmp_x(BPF_JGE, 5, 5), ByteOrder::Little, 1),
            ("jset x", &jmp_x(BPF_JSET, 4, 3), ByteOrder::Little, 2),
            (
                "ja",
                &[S(BPF_JMP | BPF_JA, 1), S(RET_K, 1), S(RET_K, 2)],
                ByteOrder::Little,
                2,
            ),
            (
                "ja 0",
                &[S(BPF_JMP | BPF_JA, 0), S(RET_K, 1), S(RET_K, 2)],
                ByteOrder::Little,
                1,
            ),
        ];
        for (name, prog, order, want) in table {
            assert_eq!(verify(prog, 16), Ok(()), "{name}");
            assert_eq!(run(prog, &DATA, *order), Ok(*want), "{name}");
        }
    }

    #[test]
    fn faults() {
        use InterpErrorKind as K;
        let e = |pc, kind| Err(InterpError { pc, kind });
        let table: &[(&str, &[Insn], Result<u32, InterpError>)] = &[
            ("empty", &[], e(0, K::FellOffEnd)),
            ("no ret", &[S(LD_IMM, 1)], e(1, K::FellOffEnd)),
            (
                "load past end",
                &[S(LD_ABS, 13), S(RET_A, 0)],
                e(
                    0,
                    K::LoadOutOfBounds {
                        offset: 13,
                        data_len: 16,
                    },
                ),
            ),
            (
                "load huge",
                &[S(LD_ABS, u32::MAX), S(RET_A, 0)],
                e(
                    0,
                    K::LoadOutOfBounds {
                        offset: u32::MAX,
                        data_len: 16,
                    },
                ),
            ),
            (
                "bad opcode",
                &[S(0x34, 1), S(RET_A, 0)],
                e(0, K::BadOpcode { code: 0x34 }),
            ),
            (
                "shift 32",
                &[S(BPF_ALU | BPF_RSH | BPF_K, 32), S(RET_A, 0)],
                e(0, K::ShiftTooFar { k: 32 }),
            ),
            (
                "slot 16",
                &[S(BPF_ST, 16), S(RET_A, 0)],
                e(0, K::BadSlot { slot: 16 }),
            ),
            (
                "read slot 16",
                &[S(BPF_LDX | BPF_MEM, 16), S(RET_A, 0)],
                e(0, K::BadSlot { slot: 16 }),
            ),
            (
                "uninit",
                &[S(BPF_ST, 1), S(BPF_LD | BPF_MEM, 2), S(RET_A, 0)],
                e(1, K::UninitRead { slot: 2 }),
            ),
            (
                "ja past end",
                &[S(BPF_JMP | BPF_JA, 1), S(RET_A, 0)],
                e(0, K::JumpOutOfRange { target: 2 }),
            ),
            (
                "ja u32::MAX",
                &[S(BPF_JMP | BPF_JA, u32::MAX), S(RET_A, 0)],
                e(0, K::JumpOutOfRange { target: 1 << 32 }),
            ),
            (
                "jeq past end",
                &[J(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0), S(RET_A, 0)],
                e(0, K::JumpOutOfRange { target: 2 }),
            ),
            (
                "only the taken branch matters",
                &[J(BPF_JMP | BPF_JEQ | BPF_K, 1, 200, 0), S(RET_K, 3)],
                Ok(3),
            ),
        ];
        for (name, prog, want) in table {
            assert_eq!(run(prog, &DATA, ByteOrder::Little), *want, "{name}");
        }
    }

    #[test]
    fn every_opcode_is_run_or_refused() {
        // Any allowed opcode runs (with k = 0 for slots and shifts); any other is BadOpcode.
        for code in 0..=u16::MAX {
            let prog = [
                S(BPF_ST, 0),
                S(BPF_STX, 0),
                Insn::jump(code, 0, 0, 0),
                S(RET_K, 1),
            ];
            let got = run(&prog, &DATA, ByteOrder::Little);
            if is_allowed(code) {
                assert!(got.is_ok(), "{code:#x}: {got:?}");
            } else {
                assert_eq!(
                    got,
                    Err(InterpError {
                        pc: 2,
                        kind: InterpErrorKind::BadOpcode { code }
                    })
                );
            }
        }
    }

    #[test]
    fn steps_bounded_by_length() {
        let mut prog = [S(LD_IMM, 1); crate::limits::MAX_INSNS];
        prog[crate::limits::MAX_INSNS - 1] = S(RET_A, 0);
        assert_eq!(
            run_counted(&prog, &DATA, ByteOrder::Little),
            Ok((1, crate::limits::MAX_INSNS))
        );
        let prog = [S(BPF_JMP | BPF_JA, 1), S(RET_K, 1), S(RET_K, 2)];
        assert_eq!(run_counted(&prog, &DATA, ByteOrder::Little), Ok((2, 2)));
    }
}
