//! The verifier: the kernel's checks on a classic BPF program, so that a bad program fails a unit
//! test instead of `seccomp()` on a board.
//!
//! It repeats `bpf_check_classic` and `check_load_and_stores` (net/core/filter.c) and
//! `seccomp_check_filter` (kernel/seccomp.c), narrowed to the opcodes this module emits.

use super::insn::*;
use crate::limits::MAX_INSNS;
use core::fmt;

/// Why a program was rejected, and where.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct VerifyError {
    /// Index of the offending instruction (0 for whole-program problems).
    pub pc: usize,
    /// What is wrong.
    pub kind: VerifyErrorKind,
}

/// The problems [`verify`] detects.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum VerifyErrorKind {
    /// The program has no instructions.
    Empty,
    /// The program has more instructions than the kernel accepts.
    TooLong {
        /// The program's length.
        len: usize,
        /// The kernel's limit (`BPF_MAXINSNS`).
        max: usize,
    },
    /// An opcode outside the allowlist of [`is_allowed`].
    BadOpcode {
        /// The opcode.
        code: u16,
    },
    /// A 32-bit load that is misaligned or reads past the data.
    BadLoad {
        /// The load offset.
        offset: u32,
        /// Length of the data the program runs over.
        data_len: u32,
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
    /// A jump lands at or past the end of the program.
    JumpOutOfRange {
        /// The absolute index the jump would land on.
        target: u64,
    },
    /// The last instruction is not a `ret`.
    NoFinalRet,
    /// A scratch memory slot may be read before it is written on some path.
    UninitRead {
        /// The slot.
        slot: u32,
    },
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pc = self.pc;
        match self.kind {
            VerifyErrorKind::Empty => write!(f, "BPF program is empty"),
            VerifyErrorKind::TooLong { len, max } => {
                write!(f, "BPF program has {len} instructions (max {max})")
            }
            VerifyErrorKind::BadOpcode { code } => {
                write!(f, "BPF l{pc}: opcode {code:#06x} not allowed")
            }
            VerifyErrorKind::BadLoad { offset, data_len } => write!(
                f,
                "BPF l{pc}: load at offset {offset} misaligned or past the {data_len}-byte data"
            ),
            VerifyErrorKind::ShiftTooFar { k } => write!(f, "BPF l{pc}: shift by {k}"),
            VerifyErrorKind::BadSlot { slot } => {
                write!(f, "BPF l{pc}: scratch slot {slot} out of range")
            }
            VerifyErrorKind::JumpOutOfRange { target } => {
                write!(f, "BPF l{pc}: jump to l{target}, past the end")
            }
            VerifyErrorKind::NoFinalRet => write!(f, "BPF l{pc}: last instruction is not ret"),
            VerifyErrorKind::UninitRead { slot } => {
                write!(
                    f,
                    "BPF l{pc}: scratch slot {slot} may be read before written"
                )
            }
        }
    }
}

/// Whether this module emits, verifies and interprets opcode `code`.
///
/// A subset of what `seccomp_check_filter` accepts: no division (a constant divisor of zero is a
/// verifier error and a variable one makes the program return 0), no shifts by X (their result
/// for counts of 32 and more depends on the JIT), no `BPF_LEN` (seccomp rewrites it to a constant).
pub const fn is_allowed(code: u16) -> bool {
    const LD_ABS: u16 = BPF_LD | BPF_W | BPF_ABS;
    const LD_IMM: u16 = BPF_LD | BPF_IMM;
    const LDX_IMM: u16 = BPF_LDX | BPF_IMM;
    const LD_MEM: u16 = BPF_LD | BPF_MEM;
    const LDX_MEM: u16 = BPF_LDX | BPF_MEM;
    const ADD_K: u16 = BPF_ALU | BPF_ADD | BPF_K;
    const ADD_X: u16 = BPF_ALU | BPF_ADD | BPF_X;
    const SUB_K: u16 = BPF_ALU | BPF_SUB | BPF_K;
    const SUB_X: u16 = BPF_ALU | BPF_SUB | BPF_X;
    const MUL_K: u16 = BPF_ALU | BPF_MUL | BPF_K;
    const MUL_X: u16 = BPF_ALU | BPF_MUL | BPF_X;
    const AND_K: u16 = BPF_ALU | BPF_AND | BPF_K;
    const AND_X: u16 = BPF_ALU | BPF_AND | BPF_X;
    const OR_K: u16 = BPF_ALU | BPF_OR | BPF_K;
    const OR_X: u16 = BPF_ALU | BPF_OR | BPF_X;
    const XOR_K: u16 = BPF_ALU | BPF_XOR | BPF_K;
    const XOR_X: u16 = BPF_ALU | BPF_XOR | BPF_X;
    const LSH_K: u16 = BPF_ALU | BPF_LSH | BPF_K;
    const RSH_K: u16 = BPF_ALU | BPF_RSH | BPF_K;
    const NEG: u16 = BPF_ALU | BPF_NEG;
    const TAX: u16 = BPF_MISC | BPF_TAX;
    const TXA: u16 = BPF_MISC | BPF_TXA;
    const JA: u16 = BPF_JMP | BPF_JA;
    const JEQ_K: u16 = BPF_JMP | BPF_JEQ | BPF_K;
    const JEQ_X: u16 = BPF_JMP | BPF_JEQ | BPF_X;
    const JGT_K: u16 = BPF_JMP | BPF_JGT | BPF_K;
    const JGT_X: u16 = BPF_JMP | BPF_JGT | BPF_X;
    const JGE_K: u16 = BPF_JMP | BPF_JGE | BPF_K;
    const JGE_X: u16 = BPF_JMP | BPF_JGE | BPF_X;
    const JSET_K: u16 = BPF_JMP | BPF_JSET | BPF_K;
    const JSET_X: u16 = BPF_JMP | BPF_JSET | BPF_X;
    const RET_K: u16 = BPF_RET | BPF_K;
    const RET_A: u16 = BPF_RET | BPF_A;
    matches!(
        code,
        LD_ABS
            | LD_IMM
            | LDX_IMM
            | LD_MEM
            | LDX_MEM
            | BPF_ST
            | BPF_STX
            | ADD_K
            | ADD_X
            | SUB_K
            | SUB_X
            | MUL_K
            | MUL_X
            | AND_K
            | AND_X
            | OR_K
            | OR_X
            | XOR_K
            | XOR_X
            | LSH_K
            | RSH_K
            | NEG
            | TAX
            | TXA
            | JA
            | JEQ_K
            | JEQ_X
            | JGT_K
            | JGT_X
            | JGE_K
            | JGE_X
            | JSET_K
            | JSET_X
            | RET_K
            | RET_A
    )
}

/// Whether `code` is a conditional jump (`jt`/`jf` matter).
pub(crate) const fn is_cond_jump(code: u16) -> bool {
    code & 0x07 == BPF_JMP && code & 0xf0 != BPF_JA
}

/// Whether `code` reads or writes scratch memory (`k` is a slot).
const fn is_mem(code: u16) -> bool {
    matches!(code & 0xe7, 0x60 | 0x61) || code == BPF_ST || code == BPF_STX
}

/// Checks `prog` as the kernel does before loading it as a seccomp filter over `data_len` bytes
/// of data (64 for `struct seccomp_data`).
///
/// Errors (first one found, in the kernel's order): [`VerifyErrorKind::Empty`] or `TooLong` (more
/// than 4096 instructions); per instruction, an opcode outside [`is_allowed`], a load that is not
/// 4-aligned or does not fit in `data_len`, a shift by 32 or more, a scratch slot of 16 or more,
/// a jump landing outside the program; then `NoFinalRet`; then `UninitRead` if a scratch slot
/// may be read before it is written, by the kernel's conservative rule (a slot is written at an
/// instruction only if it is written on the straight-line path to it and on every jump to it).
pub fn verify(prog: &[Insn], data_len: u32) -> Result<(), VerifyError> {
    let len = prog.len();
    let err = |pc, kind| Err(VerifyError { pc, kind });
    if len == 0 {
        return err(0, VerifyErrorKind::Empty);
    }
    if len > MAX_INSNS {
        return err(
            0,
            VerifyErrorKind::TooLong {
                len,
                max: MAX_INSNS,
            },
        );
    }
    for (pc, insn) in prog.iter().enumerate() {
        check_insn(pc, insn, len, data_len).map_err(|kind| VerifyError { pc, kind })?;
    }
    let last = len - 1; // len >= 1 was checked above.
    if !prog
        .get(last)
        .is_some_and(|i| i.code == BPF_RET | BPF_K || i.code == BPF_RET | BPF_A)
    {
        return err(last, VerifyErrorKind::NoFinalRet);
    }
    check_load_and_stores(prog)
}

/// The per-instruction checks of `bpf_check_classic` and `seccomp_check_filter`.
// Out of line: inlined, it made the `syd` binary bigger (size budget).
#[inline(never)]
fn check_insn(pc: usize, insn: &Insn, len: usize, data_len: u32) -> Result<(), VerifyErrorKind> {
    let code = insn.code;
    if !is_allowed(code) {
        return Err(VerifyErrorKind::BadOpcode { code });
    }
    let k = insn.k;
    if code == BPF_LD | BPF_W | BPF_ABS {
        // seccomp_check_filter: "32-bit aligned and not out of bounds".
        let fits = k.checked_add(4).is_some_and(|end| end <= data_len);
        if !k.is_multiple_of(4) || !fits {
            return Err(VerifyErrorKind::BadLoad {
                offset: k,
                data_len,
            });
        }
    } else if code == BPF_ALU | BPF_LSH | BPF_K || code == BPF_ALU | BPF_RSH | BPF_K {
        if k >= 32 {
            return Err(VerifyErrorKind::ShiftTooFar { k });
        }
    } else if is_mem(code) {
        if k >= BPF_MEMWORDS {
            return Err(VerifyErrorKind::BadSlot { slot: k });
        }
    } else if code == BPF_JMP | BPF_JA {
        check_target(pc, k, len)?;
    } else if is_cond_jump(code) {
        check_target(pc, u32::from(insn.jt), len)?;
        check_target(pc, u32::from(insn.jf), len)?;
    }
    Ok(())
}

/// Jump offsets count from the next instruction, hence `pc + 1 + off`; it must be `< len`.
fn check_target(pc: usize, off: u32, len: usize) -> Result<(), VerifyErrorKind> {
    // usize is at most 64 bits on every target Rust supports, so these widen.
    let target = (pc as u64) + 1 + u64::from(off);
    if target >= len as u64 {
        return Err(VerifyErrorKind::JumpOutOfRange { target });
    }
    Ok(())
}

/// `check_load_and_stores`: walks the program in order with the set of slots written so far; a
/// jump intersects that set into its targets' sets and resets it to "all" (the next instruction is
/// reached only through jumps). Instructions after a `ret` are kept as the kernel does.
fn check_load_and_stores(prog: &[Insn]) -> Result<(), VerifyError> {
    let mut masks = [u16::MAX; MAX_INSNS];
    let mut valid: u16 = 0;
    for (pc, insn) in prog.iter().enumerate() {
        valid &= masks.get(pc).copied().unwrap_or(u16::MAX);
        let code = insn.code;
        // Slots and targets were range-checked by check_insn; `get` keeps this free of panics.
        let bit = 1u16.checked_shl(insn.k).unwrap_or(0);
        if code == BPF_ST || code == BPF_STX {
            valid |= bit;
        } else if code == BPF_LD | BPF_MEM || code == BPF_LDX | BPF_MEM {
            if valid & bit == 0 {
                return Err(VerifyError {
                    pc,
                    kind: VerifyErrorKind::UninitRead { slot: insn.k },
                });
            }
        } else if code == BPF_JMP | BPF_JA {
            narrow(&mut masks, pc, insn.k, valid);
            valid = u16::MAX;
        } else if is_cond_jump(code) {
            narrow(&mut masks, pc, u32::from(insn.jt), valid);
            narrow(&mut masks, pc, u32::from(insn.jf), valid);
            valid = u16::MAX;
        }
    }
    Ok(())
}

/// Intersects `valid` into the mask of the instruction `off` after `pc + 1`.
fn narrow(masks: &mut [u16; MAX_INSNS], pc: usize, off: u32, valid: u16) {
    let target = usize::try_from(off)
        .ok()
        .and_then(|o| pc.checked_add(1)?.checked_add(o));
    if let Some(m) = target.and_then(|t| masks.get_mut(t)) {
        *m &= valid;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RET_K: u16 = BPF_RET | BPF_K;
    const LD_ABS: u16 = BPF_LD | BPF_W | BPF_ABS;
    const JEQ: u16 = BPF_JMP | BPF_JEQ | BPF_K;
    const JA: u16 = BPF_JMP | BPF_JA;
    const LD_MEM: u16 = BPF_LD | BPF_MEM;
    const LDX_MEM: u16 = BPF_LDX | BPF_MEM;
    const S: fn(u16, u32) -> Insn = Insn::stmt;
    const J: fn(u16, u32, u8, u8) -> Insn = Insn::jump;

    fn e(pc: usize, kind: VerifyErrorKind) -> Result<(), VerifyError> {
        Err(VerifyError { pc, kind })
    }

    #[test]
    fn accepts_and_rejects() {
        use VerifyErrorKind as K;
        let table: &[(&str, &[Insn], Result<(), VerifyError>)] = &[
            ("ret only", &[S(RET_K, 0)], Ok(())),
            ("ret a", &[S(BPF_RET | BPF_A, 0)], Ok(())),
            ("empty", &[], e(0, K::Empty)),
            ("no final ret", &[S(LD_ABS, 0)], e(0, K::NoFinalRet)),
            (
                "final ja",
                &[S(RET_K, 0), S(JA, 0)],
                e(1, K::JumpOutOfRange { target: 2 }),
            ),
            (
                "last load",
                &[S(RET_K, 0), S(BPF_LD | BPF_IMM, 1)],
                e(1, K::NoFinalRet),
            ),
            ("load 60", &[S(LD_ABS, 60), S(RET_K, 0)], Ok(())),
            (
                "load 64",
                &[S(LD_ABS, 64), S(RET_K, 0)],
                e(
                    0,
                    K::BadLoad {
                        offset: 64,
                        data_len: 64,
                    },
                ),
            ),
            (
                "load 2",
                &[S(LD_ABS, 2), S(RET_K, 0)],
                e(
                    0,
                    K::BadLoad {
                        offset: 2,
                        data_len: 64,
                    },
                ),
            ),
            (
                "load wraps",
                &[S(LD_ABS, 0xffff_fffc), S(RET_K, 0)],
                e(
                    0,
                    K::BadLoad {
                        offset: 0xffff_fffc,
                        data_len: 64,
                    },
                ),
            ),
            (
                "ld half",
                &[S(BPF_LD | BPF_H | BPF_ABS, 0), S(RET_K, 0)],
                e(0, K::BadOpcode { code: 0x28 }),
            ),
            (
                "ld len",
                &[S(BPF_LD | BPF_W | BPF_LEN, 0), S(RET_K, 0)],
                e(0, K::BadOpcode { code: 0x80 }),
            ),
            (
                "div k",
                &[S(BPF_ALU | BPF_DIV | BPF_K, 1), S(RET_K, 0)],
                e(0, K::BadOpcode { code: 0x34 }),
            ),
            (
                "div k zero",
                &[S(BPF_ALU | BPF_DIV | BPF_K, 0), S(RET_K, 0)],
                e(0, K::BadOpcode { code: 0x34 }),
            ),
            (
                "mod k",
                &[S(BPF_ALU | BPF_MOD | BPF_K, 3), S(RET_K, 0)],
                e(0, K::BadOpcode { code: 0x94 }),
            ),
            (
                "lsh x",
                &[S(BPF_ALU | BPF_LSH | BPF_X, 0), S(RET_K, 0)],
                e(0, K::BadOpcode { code: 0x6c }),
            ),
            (
                "ld imm half",
                &[S(BPF_LD | BPF_H | BPF_IMM, 0), S(RET_K, 0)],
                e(0, K::BadOpcode { code: 0x08 }),
            ),
            (
                "garbage",
                &[S(0xffff, 0), S(RET_K, 0)],
                e(0, K::BadOpcode { code: 0xffff }),
            ),
            (
                "lsh 31",
                &[S(BPF_ALU | BPF_LSH | BPF_K, 31), S(RET_K, 0)],
                Ok(()),
            ),
            (
                "lsh 32",
                &[S(BPF_ALU | BPF_LSH | BPF_K, 32), S(RET_K, 0)],
                e(0, K::ShiftTooFar { k: 32 }),
            ),
            (
                "rsh 40",
                &[S(BPF_ALU | BPF_RSH | BPF_K, 40), S(RET_K, 0)],
                e(0, K::ShiftTooFar { k: 40 }),
            ),
            (
                "st 16",
                &[S(BPF_ST, 16), S(RET_K, 0)],
                e(0, K::BadSlot { slot: 16 }),
            ),
            (
                "stx 15 ldx 15",
                &[S(BPF_STX, 15), S(LDX_MEM, 15), S(RET_K, 0)],
                Ok(()),
            ),
            (
                "ld mem 16",
                &[S(BPF_ST, 0), S(LD_MEM, 16), S(RET_K, 0)],
                e(1, K::BadSlot { slot: 16 }),
            ),
            (
                "jeq in range",
                &[J(JEQ, 0, 1, 0), S(RET_K, 0), S(RET_K, 1)],
                Ok(()),
            ),
            (
                "jeq jt past end",
                &[J(JEQ, 0, 2, 0), S(RET_K, 0), S(RET_K, 1)],
                e(0, K::JumpOutOfRange { target: 3 }),
            ),
            (
                "jeq jf past end",
                &[J(JEQ, 0, 0, 255), S(RET_K, 0)],
                e(0, K::JumpOutOfRange { target: 256 }),
            ),
            ("ja in range", &[S(JA, 1), S(RET_K, 0), S(RET_K, 1)], Ok(())),
            (
                "ja huge",
                &[S(JA, u32::MAX), S(RET_K, 0)],
                e(0, K::JumpOutOfRange { target: 1 << 32 }),
            ),
            (
                "read before write",
                &[S(LD_MEM, 3), S(RET_K, 0)],
                e(0, K::UninitRead { slot: 3 }),
            ),
            (
                "write then read",
                &[S(BPF_ST, 3), S(LD_MEM, 3), S(BPF_RET | BPF_A, 0)],
                Ok(()),
            ),
            (
                "written on one branch only",
                &[J(JEQ, 0, 0, 1), S(BPF_ST, 2), S(LD_MEM, 2), S(RET_K, 0)],
                e(2, K::UninitRead { slot: 2 }),
            ),
            (
                "written on both branches",
                &[
                    J(JEQ, 0, 0, 2),
                    S(BPF_ST, 2),
                    S(JA, 1),
                    S(BPF_STX, 2),
                    S(LD_MEM, 2),
                    S(RET_K, 0),
                ],
                Ok(()),
            ),
            (
                "written before a jump",
                &[
                    S(BPF_ST, 5),
                    J(JEQ, 0, 1, 0),
                    S(RET_K, 1),
                    S(LD_MEM, 5),
                    S(RET_K, 0),
                ],
                Ok(()),
            ),
            (
                // The kernel also intersects the state that falls out of a ret into the next
                // instruction: l4 is reached only from l2, where slot 1 is written, yet the path
                // through l3 (a ret) has no slot written, so the kernel rejects the program.
                "kernel keeps state across ret",
                &[
                    J(JEQ, 0, 0, 2),
                    S(BPF_ST, 1),
                    S(JA, 1),
                    S(RET_K, 0),
                    S(LD_MEM, 1),
                    S(BPF_RET | BPF_A, 0),
                ],
                e(4, K::UninitRead { slot: 1 }),
            ),
            (
                // After an unconditional jump, unreachable code counts as fully written.
                "unreachable after ja",
                &[S(JA, 1), S(LD_MEM, 9), S(RET_K, 0)],
                Ok(()),
            ),
        ];
        for (name, prog, want) in table {
            assert_eq!(verify(prog, 64), *want, "{name}");
        }
    }

    #[test]
    fn length_limits() {
        let ok = [S(RET_K, 7); MAX_INSNS];
        assert_eq!(verify(&ok, 64), Ok(()));
        let long = [S(RET_K, 7); MAX_INSNS + 1];
        assert_eq!(
            verify(&long, 64),
            e(
                0,
                VerifyErrorKind::TooLong {
                    len: 4097,
                    max: 4096
                }
            )
        );
    }

    #[test]
    fn data_len_decides_loads() {
        let table: &[(u32, u32, bool)] = &[
            (0, 0, false),
            (0, 4, true),
            (4, 7, false),
            (4, 8, true),
            (60, 64, true),
            (60, 63, false),
        ];
        for &(off, data_len, ok) in table {
            let prog = [S(LD_ABS, off), S(RET_K, 0)];
            assert_eq!(verify(&prog, data_len).is_ok(), ok, "{off} {data_len}");
        }
    }

    #[test]
    fn allowlist_has_35_one_byte_opcodes() {
        let mut n = 0;
        for code in 0..=u16::MAX {
            if is_allowed(code) {
                n += 1;
                // The kernel accepts every allowed opcode (seccomp_check_filter's list).
                assert!(code <= 0xff, "{code:#x}");
            }
        }
        assert_eq!(n, 35);
    }

    #[test]
    fn display_names_position() {
        let mut buf = arrayvec::ArrayString::<128>::new();
        let err = verify(&[S(LD_MEM, 3), S(RET_K, 0)], 64).unwrap_err();
        core::fmt::write(&mut buf, format_args!("{err}")).unwrap();
        assert_eq!(
            buf.as_str(),
            "BPF l0: scratch slot 3 may be read before written"
        );
    }
}
