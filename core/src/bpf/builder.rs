//! A fixed-capacity program builder with symbolic labels.
//!
//! Callers append instructions whose jumps name [`Label`]s and never count instructions.
//! [`Builder::finish`] resolves every label in one backward pass: walking from the last
//! instruction to the first, the distance from any already-emitted instruction to the end of the
//! program is known, so each jump's offset is known when it is emitted. A conditional jump reaches
//! at most 255 instructions; a branch that cannot reach its target goes to a trampoline, an
//! unconditional `ja` with a 32-bit offset placed right after the conditional jump.

use super::insn::*;
use super::verify::{is_cond_jump, verify};
use super::BpfError;
use crate::limits::{MAX_BUILDER_INSNS, MAX_INSNS, MAX_LABELS};
use arrayvec::ArrayVec;
use core::fmt;

/// A symbolic jump target, made by [`Builder::label`] and placed by [`Builder::bind`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Label(pub(crate) u16);

impl Label {
    /// The label's number: labels are numbered from 0 in the order they were made.
    pub fn index(self) -> u16 {
        self.0
    }
}

/// Where a branch of a conditional jump goes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Target {
    /// The instruction right after the jump.
    Next,
    /// The instruction the label is bound to.
    Label(Label),
}

impl From<Label> for Target {
    fn from(l: Label) -> Target {
        Target::Label(l)
    }
}

/// The comparison of a conditional jump; all are unsigned.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cmp {
    /// `A == src` (`BPF_JEQ`).
    Eq,
    /// `A > src` (`BPF_JGT`).
    Gt,
    /// `A >= src` (`BPF_JGE`).
    Ge,
    /// `A & src != 0` (`BPF_JSET`).
    Set,
}

impl Cmp {
    fn op(self) -> u16 {
        match self {
            Cmp::Eq => BPF_JEQ,
            Cmp::Gt => BPF_JGT,
            Cmp::Ge => BPF_JGE,
            Cmp::Set => BPF_JSET,
        }
    }
}

/// A 32-bit wrapping ALU operation on A with a constant or X.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AluOp {
    /// `A += src` (`BPF_ADD`).
    Add,
    /// `A -= src` (`BPF_SUB`).
    Sub,
    /// `A *= src` (`BPF_MUL`).
    Mul,
    /// `A &= src` (`BPF_AND`).
    And,
    /// `A |= src` (`BPF_OR`).
    Or,
    /// `A ^= src` (`BPF_XOR`).
    Xor,
}

impl AluOp {
    fn op(self) -> u16 {
        match self {
            AluOp::Add => BPF_ADD,
            AluOp::Sub => BPF_SUB,
            AluOp::Mul => BPF_MUL,
            AluOp::And => BPF_AND,
            AluOp::Or => BPF_OR,
            AluOp::Xor => BPF_XOR,
        }
    }
}

/// A resolved, verified program of at most [`MAX_INSNS`] instructions.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Program {
    insns: ArrayVec<Insn, MAX_INSNS>,
}

impl Program {
    /// The instructions, ready for `struct sock_fprog`.
    pub fn as_slice(&self) -> &[Insn] {
        &self.insns
    }

    /// Number of instructions (at least 1 for a verified program).
    pub fn len(&self) -> usize {
        self.insns.len()
    }

    /// Whether the program has no instructions (never true for a built program).
    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }
}

impl fmt::Display for Program {
    /// The listing of [`super::disasm()`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        super::disasm(self.as_slice(), f)
    }
}

/// Target value of a symbolic branch that means "the next instruction".
const NEXT: u16 = u16::MAX;
/// Position of a label not bound yet.
const UNBOUND: u16 = u16::MAX;

// Positions and label numbers are u16, with u16::MAX as the sentinels above; end distances
// (instructions plus at most two trampolines each) are u16 too.
const _: () = assert!(MAX_BUILDER_INSNS * 3 < u16::MAX as usize);
const _: () = assert!(MAX_LABELS < u16::MAX as usize);
const _: () = assert!(MAX_INSNS <= MAX_BUILDER_INSNS);

/// An instruction before resolution: jumps name labels (`jt` is the label of a `ja`).
#[derive(Clone, Copy, Debug)]
struct Sym {
    code: u16,
    jt: u16,
    jf: u16,
    k: u32,
}

/// What the builder knows of one label.
#[derive(Clone, Copy, Debug)]
struct LabelSlot {
    /// Index of the instruction it names, or [`UNBOUND`].
    pos: u16,
    /// Whether a jump targets it.
    used: bool,
}

/// Builds a program from instructions that jump to symbolic labels.
///
/// Holds at most [`MAX_BUILDER_INSNS`] instructions and [`MAX_LABELS`] labels. Every method
/// either does what it says or returns an error and changes nothing, so a caller may go on after
/// an error (the fuzz target does).
#[derive(Clone, Debug)]
pub struct Builder {
    syms: ArrayVec<Sym, MAX_BUILDER_INSNS>,
    labels: ArrayVec<LabelSlot, MAX_LABELS>,
    data_len: u32,
}

impl Builder {
    /// An empty builder for a program that runs over `data_len` bytes of data (64 for
    /// `struct seccomp_data`); loads and the final verification are checked against it.
    pub fn new(data_len: u32) -> Builder {
        Builder {
            syms: ArrayVec::new(),
            labels: ArrayVec::new(),
            data_len,
        }
    }

    /// A new unbound label. Errors: [`BpfError::TooManyLabels`] past [`MAX_LABELS`].
    pub fn label(&mut self) -> Result<Label, BpfError> {
        // labels.len() < MAX_LABELS < u16::MAX whenever the push below succeeds.
        let label = Label(u16::try_from(self.labels.len()).unwrap_or(u16::MAX));
        self.labels
            .try_push(LabelSlot {
                pos: UNBOUND,
                used: false,
            })
            .map_err(|_| BpfError::TooManyLabels { limit: MAX_LABELS })?;
        Ok(label)
    }

    /// Binds `l` to the next instruction appended. Errors: [`BpfError::LabelBoundTwice`],
    /// [`BpfError::UnknownLabel`] for a label of another builder.
    pub fn bind(&mut self, l: Label) -> Result<(), BpfError> {
        let pos = self.pos();
        let slot = self
            .labels
            .get_mut(usize::from(l.0))
            .ok_or(BpfError::UnknownLabel { label: l.0 })?;
        if slot.pos != UNBOUND {
            return Err(BpfError::LabelBoundTwice { label: l.0 });
        }
        slot.pos = pos;
        Ok(())
    }

    /// `A = data[offset..offset + 4]`, a 32-bit word in the host's byte order (`ld [offset]`).
    /// Errors: [`BpfError::BadLoad`] if `offset` is not 4-aligned or the word does not fit in
    /// the data; [`BpfError::BuilderFull`].
    pub fn load_abs(&mut self, offset: u32) -> Result<(), BpfError> {
        let fits = offset
            .checked_add(4)
            .is_some_and(|end| end <= self.data_len);
        if !offset.is_multiple_of(4) || !fits {
            return Err(BpfError::BadLoad {
                offset,
                data_len: self.data_len,
            });
        }
        self.stmt(BPF_LD | BPF_W | BPF_ABS, offset)
    }

    /// `A = k` (`ld #k`). Errors: [`BpfError::BuilderFull`].
    pub fn load_imm(&mut self, k: u32) -> Result<(), BpfError> {
        self.stmt(BPF_LD | BPF_IMM, k)
    }

    /// `X = k` (`ldx #k`). Errors: [`BpfError::BuilderFull`].
    pub fn load_x_imm(&mut self, k: u32) -> Result<(), BpfError> {
        self.stmt(BPF_LDX | BPF_IMM, k)
    }

    /// `A = M[slot]` (`ld M[slot]`). The verifier rejects the program unless the slot is written
    /// on every path here. Errors: [`BpfError::BadSlot`] (16 slots), [`BpfError::BuilderFull`].
    pub fn load_mem(&mut self, slot: u32) -> Result<(), BpfError> {
        self.mem(BPF_LD | BPF_MEM, slot)
    }

    /// `X = M[slot]` (`ldx M[slot]`); as [`Builder::load_mem`].
    pub fn load_x_mem(&mut self, slot: u32) -> Result<(), BpfError> {
        self.mem(BPF_LDX | BPF_MEM, slot)
    }

    /// `M[slot] = A` (`st M[slot]`). Errors: [`BpfError::BadSlot`], [`BpfError::BuilderFull`].
    pub fn store(&mut self, slot: u32) -> Result<(), BpfError> {
        self.mem(BPF_ST, slot)
    }

    /// `M[slot] = X` (`stx M[slot]`). Errors: [`BpfError::BadSlot`], [`BpfError::BuilderFull`].
    pub fn store_x(&mut self, slot: u32) -> Result<(), BpfError> {
        self.mem(BPF_STX, slot)
    }

    /// `A = A op k`. Errors: [`BpfError::BuilderFull`].
    pub fn alu(&mut self, op: AluOp, k: u32) -> Result<(), BpfError> {
        self.stmt(BPF_ALU | op.op() | BPF_K, k)
    }

    /// `A = A op X`. Errors: [`BpfError::BuilderFull`].
    pub fn alu_x(&mut self, op: AluOp) -> Result<(), BpfError> {
        self.stmt(BPF_ALU | op.op() | BPF_X, 0)
    }

    /// `A = A << k`. Errors: [`BpfError::ShiftTooFar`] for `k >= 32`, [`BpfError::BuilderFull`].
    pub fn lsh(&mut self, k: u32) -> Result<(), BpfError> {
        self.shift(BPF_LSH, k)
    }

    /// `A = A >> k`, logical. Errors: [`BpfError::ShiftTooFar`] for `k >= 32`,
    /// [`BpfError::BuilderFull`].
    pub fn rsh(&mut self, k: u32) -> Result<(), BpfError> {
        self.shift(BPF_RSH, k)
    }

    /// `A = -A`, wrapping. Errors: [`BpfError::BuilderFull`].
    pub fn neg(&mut self) -> Result<(), BpfError> {
        self.stmt(BPF_ALU | BPF_NEG, 0)
    }

    /// `X = A` (`tax`). Errors: [`BpfError::BuilderFull`].
    pub fn tax(&mut self) -> Result<(), BpfError> {
        self.stmt(BPF_MISC | BPF_TAX, 0)
    }

    /// `A = X` (`txa`). Errors: [`BpfError::BuilderFull`].
    pub fn txa(&mut self) -> Result<(), BpfError> {
        self.stmt(BPF_MISC | BPF_TXA, 0)
    }

    /// Goes to `jt` if `A cmp k`, else to `jf`. Errors: [`BpfError::BackwardJump`] if a target
    /// label is already bound, [`BpfError::UnknownLabel`], [`BpfError::BuilderFull`].
    // Kept out of line: inlined into the compiler's many call sites it costs the `syd` binary
    // (size budget) a third of a KiB.
    #[inline(never)]
    pub fn jump(&mut self, cmp: Cmp, k: u32, jt: Target, jf: Target) -> Result<(), BpfError> {
        self.cond(BPF_JMP | cmp.op() | BPF_K, k, jt, jf)
    }

    /// Goes to `jt` if `A cmp X`, else to `jf`; errors as [`Builder::jump`].
    pub fn jump_x(&mut self, cmp: Cmp, jt: Target, jf: Target) -> Result<(), BpfError> {
        self.cond(BPF_JMP | cmp.op() | BPF_X, 0, jt, jf)
    }

    /// Goes to `l` unconditionally (`ja`). Errors as [`Builder::jump`].
    pub fn goto(&mut self, l: Label) -> Result<(), BpfError> {
        let t = self.target(Target::Label(l))?;
        self.push(BPF_JMP | BPF_JA, t, 0, 0)?;
        self.mark_used(&[t]);
        Ok(())
    }

    /// Ends the program with value `k`. Errors: [`BpfError::BuilderFull`].
    pub fn ret(&mut self, k: u32) -> Result<(), BpfError> {
        self.stmt(BPF_RET | BPF_K, k)
    }

    /// Ends the program with the value of A. Errors: [`BpfError::BuilderFull`].
    pub fn ret_a(&mut self) -> Result<(), BpfError> {
        self.stmt(BPF_RET | BPF_A, 0)
    }

    /// Resolves every label, inserting trampolines where a conditional jump cannot reach, and
    /// verifies the result.
    ///
    /// Errors, in this order: [`BpfError::UnboundLabel`] or [`BpfError::LabelAtEnd`] (lowest
    /// label number first), [`BpfError::TooLong`] if the resolved program exceeds
    /// [`MAX_INSNS`] (`len` counts it whole), [`BpfError::Verify`] with the verifier's error
    /// (for instance a program that does not end in `ret`).
    pub fn finish(self) -> Result<Program, BpfError> {
        let n = self.syms.len();
        for (i, slot) in self.labels.iter().enumerate() {
            // i < MAX_LABELS < u16::MAX.
            let label = u16::try_from(i).unwrap_or(u16::MAX);
            if slot.pos == UNBOUND {
                if slot.used {
                    return Err(BpfError::UnboundLabel { label });
                }
            } else if usize::from(slot.pos) >= n {
                return Err(BpfError::LabelAtEnd { label });
            }
        }
        // The output, built backwards: out[0] is the last instruction. `count` keeps counting
        // past MAX_INSNS so that TooLong reports the whole length.
        let mut out = ArrayVec::<Insn, MAX_INSNS>::new();
        let mut count = 0usize;
        // end[p]: instructions from sym p's first resolved instruction to the end, inclusive.
        let mut end = [0u16; MAX_BUILDER_INSNS];
        for (p, sym) in self.syms.iter().enumerate().rev() {
            let (first, tramps) = self.resolve(p, sym, count, &end)?;
            // Backwards: the trampolines, last one first, then the instruction itself. A full
            // `out` means count > MAX_INSNS, which is reported below.
            for insn in tramps.iter().rev().flatten().chain([&first]) {
                let _ = out.try_push(*insn);
                count += 1;
            }
            let too_long = BpfError::TooLong {
                len: count,
                max: MAX_INSNS,
            };
            let e = u16::try_from(count).map_err(|_| too_long)?;
            *end.get_mut(p).ok_or(too_long)? = e;
        }
        if count > MAX_INSNS {
            return Err(BpfError::TooLong {
                len: count,
                max: MAX_INSNS,
            });
        }
        out.reverse();
        verify(&out, self.data_len)?;
        Ok(Program { insns: out })
    }

    /// The resolved form of sym `p`, followed by its trampolines (a conditional jump's only),
    /// given `c`, the number of instructions already emitted after it.
    // Out of line: inlined into its caller it made the `syd` binary bigger (size budget).
    #[inline(never)]
    fn resolve(
        &self,
        p: usize,
        sym: &Sym,
        c: usize,
        end: &[u16; MAX_BUILDER_INSNS],
    ) -> Result<(Insn, [Option<Insn>; 2]), BpfError> {
        let ja = |k| Some(Insn::stmt(BPF_JMP | BPF_JA, k));
        // An instruction at end distance e jumping to one at end distance d has offset
        // e - d - 1: offsets count from the next instruction.
        if sym.code == BPF_JMP | BPF_JA {
            let d = self.end_of(p, sym.jt, c, end)?;
            return Ok((Insn::stmt(sym.code, ja_offset(c, d, p, sym.jt)?), [None; 2]));
        }
        if !is_cond_jump(sym.code) {
            return Ok((Insn::stmt(sym.code, sym.k), [None; 2]));
        }
        let dt = self.end_of(p, sym.jt, c, end)?;
        let df = self.end_of(p, sym.jf, c, end)?;
        // near(t, d): the direct offset to end distance d with t trampolines in between.
        let near = |t: usize, d: usize| (c + t).checked_sub(d).and_then(|o| u8::try_from(o).ok());
        let cond = |jt, jf| Insn::jump(sym.code, sym.k, jt, jf);
        Ok(match (near(0, dt), near(0, df)) {
            (Some(jt), Some(jf)) => (cond(jt, jf), [None; 2]),
            // Both branches far to the same place: one shared trampoline.
            _ if dt == df => (cond(0, 0), [ja(ja_offset(c, dt, p, sym.jt)?), None]),
            // One trampoline makes the other branch one longer; if it still reaches, one
            // suffices, else each branch gets its own.
            _ => match (near(1, dt), near(1, df)) {
                (Some(jt), None) => (cond(jt, 0), [ja(ja_offset(c, df, p, sym.jf)?), None]),
                (None, Some(jf)) => (cond(0, jf), [ja(ja_offset(c, dt, p, sym.jt)?), None]),
                _ => (
                    cond(0, 1),
                    [
                        ja(ja_offset(c + 1, dt, p, sym.jt)?),
                        ja(ja_offset(c, df, p, sym.jf)?),
                    ],
                ),
            },
        })
    }

    /// End distance of a branch target of sym `p`: `c` for the next instruction, else that of
    /// the instruction the label is bound to (already resolved, since it comes later).
    fn end_of(
        &self,
        p: usize,
        target: u16,
        c: usize,
        end: &[u16; MAX_BUILDER_INSNS],
    ) -> Result<usize, BpfError> {
        if target == NEXT {
            return Ok(c);
        }
        let slot = self
            .labels
            .get(usize::from(target))
            .ok_or(BpfError::UnknownLabel { label: target })?;
        if slot.pos == UNBOUND {
            return Err(BpfError::UnboundLabel { label: target });
        }
        let pos = usize::from(slot.pos);
        if pos <= p {
            // Refused by target() when the jump was appended; kept so this cannot go wrong.
            return Err(BpfError::BackwardJump {
                label: target,
                at: p,
            });
        }
        end.get(pos)
            .map(|&d| usize::from(d))
            .ok_or(BpfError::LabelAtEnd { label: target })
    }

    /// The next instruction's index; fits in u16 (MAX_BUILDER_INSNS < u16::MAX).
    fn pos(&self) -> u16 {
        u16::try_from(self.syms.len()).unwrap_or(u16::MAX)
    }

    /// The symbolic value of a branch target, refusing labels already bound.
    fn target(&self, t: Target) -> Result<u16, BpfError> {
        let Target::Label(l) = t else {
            return Ok(NEXT);
        };
        let slot = self
            .labels
            .get(usize::from(l.0))
            .ok_or(BpfError::UnknownLabel { label: l.0 })?;
        if slot.pos != UNBOUND {
            return Err(BpfError::BackwardJump {
                label: l.0,
                at: self.syms.len(),
            });
        }
        Ok(l.0)
    }

    fn mark_used(&mut self, targets: &[u16]) {
        for &t in targets {
            if let Some(slot) = self.labels.get_mut(usize::from(t)) {
                slot.used = true;
            }
        }
    }

    fn cond(&mut self, code: u16, k: u32, jt: Target, jf: Target) -> Result<(), BpfError> {
        let (jt, jf) = (self.target(jt)?, self.target(jf)?);
        self.push(code, jt, jf, k)?;
        self.mark_used(&[jt, jf]);
        Ok(())
    }

    fn shift(&mut self, op: u16, k: u32) -> Result<(), BpfError> {
        if k >= 32 {
            return Err(BpfError::ShiftTooFar { k });
        }
        self.stmt(BPF_ALU | op | BPF_K, k)
    }

    fn mem(&mut self, code: u16, slot: u32) -> Result<(), BpfError> {
        if slot >= BPF_MEMWORDS {
            return Err(BpfError::BadSlot {
                slot,
                limit: BPF_MEMWORDS,
            });
        }
        self.stmt(code, slot)
    }

    fn stmt(&mut self, code: u16, k: u32) -> Result<(), BpfError> {
        self.push(code, NEXT, NEXT, k)
    }

    fn push(&mut self, code: u16, jt: u16, jf: u16, k: u32) -> Result<(), BpfError> {
        self.syms
            .try_push(Sym { code, jt, jf, k })
            .map_err(|_| BpfError::BuilderFull {
                limit: MAX_BUILDER_INSNS,
            })
    }
}

/// The `k` of a `ja` at end distance `c + 1` to end distance `d`: `(c + 1) - d - 1`.
fn ja_offset(c: usize, d: usize, p: usize, label: u16) -> Result<u32, BpfError> {
    c.checked_sub(d)
        .and_then(|k| u32::try_from(k).ok())
        .ok_or(BpfError::BackwardJump { label, at: p })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::interp::{run, run_counted};
    use crate::bpf::reference::{self, Op, RefTarget};
    use crate::bpf::verify::{VerifyError, VerifyErrorKind};

    const S: fn(u16, u32) -> Insn = Insn::stmt;
    const J: fn(u16, u32, u8, u8) -> Insn = Insn::jump;
    const JEQ: u16 = BPF_JMP | BPF_JEQ | BPF_K;
    const JA: u16 = BPF_JMP | BPF_JA;
    const RET: u16 = BPF_RET | BPF_K;
    const LDI: u16 = BPF_LD | BPF_IMM;

    fn pad(b: &mut Builder, n: usize) {
        for i in 0..n {
            b.load_imm(i as u32).unwrap();
        }
    }

    /// jeq #0 with jt to a label `t` instructions ahead and jf to one `f` instructions ahead
    /// (`t`, `f` counted from the next instruction; equal means the same label).
    fn two_way(t: usize, f: usize) -> Program {
        let mut b = Builder::new(4);
        let (lt, lf) = (b.label().unwrap(), b.label().unwrap());
        let jf = if f == t { lt } else { lf };
        b.load_abs(0).unwrap();
        b.jump(Cmp::Eq, 0, lt.into(), jf.into()).unwrap();
        for i in 0..t.max(f) {
            if i == t {
                b.bind(lt).unwrap();
            }
            if i == f && f != t {
                b.bind(lf).unwrap();
            }
            b.ret(i as u32).unwrap();
        }
        if t == t.max(f) {
            b.bind(lt).unwrap();
        }
        if f == t.max(f) && f != t {
            b.bind(lf).unwrap();
        }
        b.ret(1000).unwrap();
        b.finish().unwrap()
    }

    fn ret_of(p: &Program, a: u32) -> u32 {
        let data = a.to_le_bytes();
        run(p.as_slice(), &data, ByteOrder::Little).unwrap()
    }

    #[test]
    fn near_and_far_jumps() {
        // (t, f, the jump and its trampolines)
        let table: &[(usize, usize, &[Insn])] = &[
            (0, 0, &[J(JEQ, 0, 0, 0)]),
            (1, 0, &[J(JEQ, 0, 1, 0)]),
            (255, 3, &[J(JEQ, 0, 255, 3)]),
            (256, 3, &[J(JEQ, 0, 0, 4), S(JA, 256)]),
            (3, 256, &[J(JEQ, 0, 4, 0), S(JA, 256)]),
            (300, 254, &[J(JEQ, 0, 0, 255), S(JA, 300)]),
            // The trampoline pushes the near branch from 255 to 256: both need one.
            (300, 255, &[J(JEQ, 0, 0, 1), S(JA, 301), S(JA, 255)]),
            (255, 300, &[J(JEQ, 0, 0, 1), S(JA, 256), S(JA, 300)]),
            (300, 400, &[J(JEQ, 0, 0, 1), S(JA, 301), S(JA, 400)]),
            (4000, 4000, &[J(JEQ, 0, 0, 0), S(JA, 4000)]),
            (4000, 3999, &[J(JEQ, 0, 0, 1), S(JA, 4001), S(JA, 3999)]),
        ];
        for &(t, f, head) in table {
            let p = two_way(t, f);
            let s = p.as_slice();
            assert_eq!(&s[1..=head.len()], head, "t={t} f={f}");
            assert_eq!(s.len(), 1 + head.len() + t.max(f) + 1, "t={t} f={f}");
            // Taken: jt's label, i.e. `ret t` (or 1000 at the end); not taken likewise for f.
            let want = |d: usize| if d == t.max(f) { 1000 } else { d as u32 };
            assert_eq!(ret_of(&p, 0), want(t), "t={t} f={f}");
            assert_eq!(ret_of(&p, 1), want(f), "t={t} f={f}");
        }
    }

    #[test]
    fn both_branches_around_255() {
        let ds = [
            0usize, 1, 100, 250, 252, 253, 254, 255, 256, 257, 258, 300, 600,
        ];
        for t in ds {
            for f in ds {
                let p = two_way(t, f);
                let tramps = p.as_slice().iter().filter(|i| i.code == JA).count();
                // One trampoline per far branch, and the near one also far if the trampoline
                // pushes it past 255; a single shared one when both go to the same place.
                let want = match (t > 255, f > 255) {
                    (false, false) => 0,
                    _ if t == f => 1,
                    (true, false) => 1 + usize::from(f == 255),
                    (false, true) => 1 + usize::from(t == 255),
                    (true, true) => 2,
                };
                assert_eq!(tramps, want, "t={t} f={f}");
                let ret = |d: usize| if d == t.max(f) { 1000 } else { d as u32 };
                assert_eq!(ret_of(&p, 0), ret(t), "t={t} f={f}");
                assert_eq!(ret_of(&p, 1), ret(f), "t={t} f={f}");
            }
        }
    }

    #[test]
    fn next_skips_trampolines() {
        let mut b = Builder::new(4);
        let far = b.label().unwrap();
        b.load_abs(0).unwrap();
        b.jump(Cmp::Gt, 5, Target::Next, far.into()).unwrap();
        b.ret(1).unwrap();
        pad(&mut b, 300);
        b.bind(far).unwrap();
        b.ret(2).unwrap();
        let p = b.finish().unwrap();
        assert_eq!(
            &p.as_slice()[..4],
            &[
                S(BPF_LD | BPF_W | BPF_ABS, 0),
                J(BPF_JMP | BPF_JGT, 5, 1, 0),
                S(JA, 301),
                S(RET, 1)
            ]
        );
        assert_eq!(ret_of(&p, 6), 1);
        assert_eq!(ret_of(&p, 5), 2);
    }

    #[test]
    fn trampolines_cascade() {
        // A ladder of conditionals all jumping to one label: the last ones reach it directly,
        // and each trampoline inserted pushes the earlier ones further away.
        for rungs in [1usize, 2, 10, 100, 250] {
            for gap in [200usize, 250, 254, 255, 256] {
                let mut b = Builder::new(4);
                let out = b.label().unwrap();
                b.load_abs(0).unwrap();
                for r in 0..rungs {
                    b.jump(Cmp::Eq, r as u32, out.into(), Target::Next).unwrap();
                }
                pad(&mut b, gap);
                b.ret(1).unwrap();
                b.bind(out).unwrap();
                b.ret_a().unwrap();
                let p = b.finish().unwrap();
                for a in [0, rungs as u32 - 1, rungs as u32] {
                    let want = if a < rungs as u32 { a } else { 1 };
                    assert_eq!(ret_of(&p, a), want, "rungs={rungs} gap={gap} a={a}");
                }
                let tramps = p.as_slice().iter().filter(|i| i.code == JA).count();
                assert_eq!(p.len(), 1 + rungs + tramps + gap + 2);
                // A rung with k rungs after it is k + gap + 1 away from `out` until a trampoline
                // comes between; from the first one that needs a trampoline on, all do.
                let direct = 255usize.saturating_sub(gap).min(rungs);
                assert_eq!(tramps, rungs - direct, "rungs={rungs} gap={gap}");
            }
        }
    }

    #[test]
    fn goto_and_long_goto() {
        for gap in [0usize, 1, 255, 256, 3000] {
            let mut b = Builder::new(4);
            let l = b.label().unwrap();
            b.goto(l).unwrap();
            pad(&mut b, gap);
            b.bind(l).unwrap();
            b.ret(9).unwrap();
            let p = b.finish().unwrap();
            assert_eq!(p.as_slice()[0], S(JA, gap as u32));
            assert_eq!(ret_of(&p, 0), 9);
        }
    }

    #[test]
    fn max_insns_exactly_and_one_more() {
        let mut b = Builder::new(4);
        pad(&mut b, MAX_INSNS - 1);
        b.ret(0).unwrap();
        assert_eq!(b.finish().map(|p| p.len()), Ok(MAX_INSNS));

        let mut b = Builder::new(4);
        pad(&mut b, MAX_INSNS);
        b.ret(0).unwrap();
        assert_eq!(
            b.finish(),
            Err(BpfError::TooLong {
                len: MAX_INSNS + 1,
                max: MAX_INSNS
            })
        );

        // 4096 instructions before resolution, but a trampoline makes it 4097.
        let mut b = Builder::new(4);
        let l = b.label().unwrap();
        b.jump(Cmp::Eq, 0, l.into(), Target::Next).unwrap();
        pad(&mut b, MAX_INSNS - 3);
        b.ret(0).unwrap();
        b.bind(l).unwrap();
        b.ret(1).unwrap();
        assert_eq!(
            b.finish(),
            Err(BpfError::TooLong {
                len: MAX_INSNS + 1,
                max: MAX_INSNS
            })
        );
    }

    #[test]
    fn builder_capacity_exactly_and_one_more() {
        let mut b = Builder::new(4);
        pad(&mut b, MAX_BUILDER_INSNS - 1);
        assert_eq!(b.ret(0), Ok(()));
        let full = Err(BpfError::BuilderFull {
            limit: MAX_BUILDER_INSNS,
        });
        assert_eq!(b.ret(0), full);
        let l = b.label().unwrap();
        assert_eq!(b.jump(Cmp::Eq, 0, l.into(), Target::Next), full);
        assert_eq!(b.goto(l), full);
        // The failed jumps did not mark `l` used, so finish() reports the length, not `l`.
        assert_eq!(
            b.finish(),
            Err(BpfError::TooLong {
                len: MAX_BUILDER_INSNS,
                max: MAX_INSNS
            })
        );

        // A full builder of far jumps: TooLong counts the trampolines too. The last 256 jumps
        // reach the target directly (offsets 255..0); every earlier one needs a trampoline.
        let mut b = Builder::new(4);
        let l = b.label().unwrap();
        for _ in 0..MAX_BUILDER_INSNS - 1 {
            b.jump(Cmp::Eq, 0, l.into(), Target::Next).unwrap();
        }
        b.bind(l).unwrap();
        b.ret(0).unwrap();
        assert_eq!(b.ret(0), full);
        let far = MAX_BUILDER_INSNS - 1 - 256;
        assert_eq!(
            b.finish(),
            Err(BpfError::TooLong {
                len: MAX_BUILDER_INSNS + far,
                max: MAX_INSNS
            })
        );
    }

    #[test]
    fn labels_exactly_and_one_more() {
        let mut b = Builder::new(4);
        for i in 0..MAX_LABELS {
            let l = b.label().unwrap();
            assert_eq!(l.index() as usize, i);
            b.jump(Cmp::Eq, 0, l.into(), Target::Next).unwrap();
        }
        assert_eq!(
            b.label(),
            Err(BpfError::TooManyLabels { limit: MAX_LABELS })
        );
        // Bind them all at one place: every jump resolves.
        for i in 0..MAX_LABELS {
            b.bind(Label(i as u16)).unwrap();
        }
        b.ret(3).unwrap();
        let p = b.finish().unwrap();
        assert_eq!(ret_of(&p, 0), 3);
    }

    #[test]
    fn label_errors() {
        // UnboundLabel
        let mut b = Builder::new(4);
        let _unused = b.label().unwrap();
        let l = b.label().unwrap();
        b.goto(l).unwrap();
        b.ret(0).unwrap();
        assert_eq!(b.finish(), Err(BpfError::UnboundLabel { label: 1 }));

        // A label never used and never bound is fine.
        let mut b = Builder::new(4);
        b.label().unwrap();
        b.ret(0).unwrap();
        assert!(b.finish().is_ok());

        // LabelBoundTwice
        let mut b = Builder::new(4);
        let l = b.label().unwrap();
        b.bind(l).unwrap();
        assert_eq!(b.bind(l), Err(BpfError::LabelBoundTwice { label: 0 }));

        // BackwardJump: bound before the jump, or bound at the jump itself.
        let mut b = Builder::new(4);
        let l = b.label().unwrap();
        b.bind(l).unwrap();
        b.load_imm(0).unwrap();
        assert_eq!(b.goto(l), Err(BpfError::BackwardJump { label: 0, at: 1 }));
        let m = b.label().unwrap();
        b.bind(m).unwrap();
        assert_eq!(
            b.jump(Cmp::Eq, 0, Target::Next, m.into()),
            Err(BpfError::BackwardJump { label: 1, at: 1 })
        );
        // Nothing was appended by the failed calls.
        b.ret(4).unwrap();
        let p = b.finish().unwrap();
        assert_eq!(p.as_slice(), &[S(LDI, 0), S(RET, 4)]);

        // LabelAtEnd, used or not.
        for used in [false, true] {
            let mut b = Builder::new(4);
            let l = b.label().unwrap();
            if used {
                b.goto(l).unwrap();
            }
            b.ret(0).unwrap();
            b.bind(l).unwrap();
            assert_eq!(b.finish(), Err(BpfError::LabelAtEnd { label: 0 }), "{used}");
        }

        // UnknownLabel: a label of another builder.
        let mut other = Builder::new(4);
        other.label().unwrap();
        let foreign = other.label().unwrap();
        let mut b = Builder::new(4);
        b.label().unwrap();
        assert_eq!(b.bind(foreign), Err(BpfError::UnknownLabel { label: 1 }));
        assert_eq!(b.goto(foreign), Err(BpfError::UnknownLabel { label: 1 }));
        assert_eq!(
            b.jump(Cmp::Set, 1, Target::Next, foreign.into()),
            Err(BpfError::UnknownLabel { label: 1 })
        );
    }

    #[test]
    fn operand_errors() {
        let mut b = Builder::new(64);
        let table: &[(&str, Result<(), BpfError>)] = &[
            ("load 60", b.load_abs(60)),
            ("load 64", b.load_abs(64)),
            ("load 2", b.load_abs(2)),
            ("load max", b.load_abs(0xffff_fffc)),
            ("lsh 31", b.lsh(31)),
            ("lsh 32", b.lsh(32)),
            ("rsh 99", b.rsh(99)),
            ("st 15", b.store(15)),
            ("st 16", b.store(16)),
            ("stx 16", b.store_x(16)),
            ("ld mem 16", b.load_mem(16)),
            ("ldx mem 17", b.load_x_mem(17)),
        ];
        let want: &[Result<(), BpfError>] = &[
            Ok(()),
            Err(BpfError::BadLoad {
                offset: 64,
                data_len: 64,
            }),
            Err(BpfError::BadLoad {
                offset: 2,
                data_len: 64,
            }),
            Err(BpfError::BadLoad {
                offset: 0xffff_fffc,
                data_len: 64,
            }),
            Ok(()),
            Err(BpfError::ShiftTooFar { k: 32 }),
            Err(BpfError::ShiftTooFar { k: 99 }),
            Ok(()),
            Err(BpfError::BadSlot {
                slot: 16,
                limit: 16,
            }),
            Err(BpfError::BadSlot {
                slot: 16,
                limit: 16,
            }),
            Err(BpfError::BadSlot {
                slot: 16,
                limit: 16,
            }),
            Err(BpfError::BadSlot {
                slot: 17,
                limit: 16,
            }),
        ];
        for ((name, got), want) in table.iter().zip(want) {
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn verify_errors_surface() {
        type Case = (&'static str, fn(&mut Builder), BpfError);
        let table: &[Case] = &[
            (
                "empty",
                |_| {},
                BpfError::Verify(VerifyError {
                    pc: 0,
                    kind: VerifyErrorKind::Empty,
                }),
            ),
            (
                "no final ret",
                |b| b.load_imm(1).unwrap(),
                BpfError::Verify(VerifyError {
                    pc: 0,
                    kind: VerifyErrorKind::NoFinalRet,
                }),
            ),
            (
                "jump to next at the end",
                |b| {
                    b.ret(0).unwrap();
                    b.jump(Cmp::Eq, 0, Target::Next, Target::Next).unwrap();
                },
                BpfError::Verify(VerifyError {
                    pc: 1,
                    kind: VerifyErrorKind::JumpOutOfRange { target: 2 },
                }),
            ),
            (
                "uninitialised read",
                |b| {
                    b.load_mem(3).unwrap();
                    b.ret_a().unwrap();
                },
                BpfError::Verify(VerifyError {
                    pc: 0,
                    kind: VerifyErrorKind::UninitRead { slot: 3 },
                }),
            ),
        ];
        for (name, build, want) in table {
            let mut b = Builder::new(64);
            build(&mut b);
            assert_eq!(b.finish(), Err(*want), "{name}");
        }
    }

    #[test]
    fn every_builder_opcode_verifies_and_runs() {
        let mut b = Builder::new(8);
        let (l1, l2, l3) = (b.label().unwrap(), b.label().unwrap(), b.label().unwrap());
        b.load_abs(4).unwrap(); // A = 0x08070605
        b.store(0).unwrap();
        b.load_x_imm(3).unwrap();
        b.store_x(1).unwrap();
        b.load_x_mem(0).unwrap();
        b.load_imm(0).unwrap();
        b.load_mem(1).unwrap(); // A = 3
        for op in [
            AluOp::Add,
            AluOp::Sub,
            AluOp::Mul,
            AluOp::And,
            AluOp::Or,
            AluOp::Xor,
        ] {
            b.alu(op, 7).unwrap();
            b.alu_x(op).unwrap();
        }
        b.lsh(4).unwrap();
        b.rsh(2).unwrap();
        b.neg().unwrap();
        b.tax().unwrap();
        b.txa().unwrap();
        b.jump(Cmp::Eq, 0, l3.into(), Target::Next).unwrap();
        b.jump(Cmp::Gt, 0, Target::Next, l3.into()).unwrap();
        b.jump(Cmp::Ge, 0, Target::Next, l3.into()).unwrap();
        b.jump(Cmp::Set, 0, l3.into(), Target::Next).unwrap();
        for cmp in [Cmp::Eq, Cmp::Gt, Cmp::Ge, Cmp::Set] {
            b.jump_x(cmp, Target::Next, Target::Next).unwrap();
        }
        b.goto(l1).unwrap();
        b.ret(1).unwrap();
        b.bind(l1).unwrap();
        b.goto(l2).unwrap();
        b.bind(l2).unwrap();
        b.ret_a().unwrap();
        b.bind(l3).unwrap();
        b.ret(2).unwrap();
        let p = b.finish().unwrap();
        let mut codes = [false; 256];
        for i in p.as_slice() {
            codes[usize::from(i.code)] = true;
        }
        let emitted = (0..=255u16).filter(|&c| codes[usize::from(c)]).count();
        assert_eq!(emitted, 35, "every allowed opcode, once or more");
        let data = [1u8, 2, 3, 4, 5, 6, 7, 8];
        // Recompute by hand: A=3; X=0x08070605 (ldx M[0]).
        let x: u32 = 0x0807_0605;
        let mut a: u32 = 3;
        a = a.wrapping_add(7).wrapping_add(x);
        a = a.wrapping_sub(7).wrapping_sub(x);
        a = a.wrapping_mul(7).wrapping_mul(x);
        a = a & 7 & x;
        a = a | 7 | x;
        a = a ^ 7 ^ x;
        a = (a << 4) >> 2;
        a = a.wrapping_neg();
        assert_ne!(a, 0, "the jumps above fall through only for a nonzero A");
        assert_eq!(run(p.as_slice(), &data, ByteOrder::Little), Ok(a));
    }

    /// xorshift64*: a fixed-seed PRNG for the property test.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// A random label graph: `nlabels` labels bound in order, each after a random run of
    /// instructions whose jumps go to the next instruction or to any label not bound yet.
    fn random_ops(rng: &mut Rng, ops: &mut ArrayVec<Op, MAX_BUILDER_INSNS>) {
        let nlabels = 1 + rng.below(40) as u16;
        for _ in 0..nlabels {
            ops.push(Op::Label);
        }
        // Make every scratch slot written first, so any load verifies.
        ops.push(Op::LoadAbs(0));
        for s in 0..16 {
            ops.push(Op::Store(s));
            ops.push(Op::StoreX(s));
        }
        let big = rng.below(4) == 0;
        for bound in 0..nlabels {
            let run = match rng.below(10) {
                0 if big => 200 + rng.below(200),
                0..=2 => 0,
                _ => rng.below(12),
            };
            for _ in 0..run {
                let target = |rng: &mut Rng| {
                    if rng.below(4) == 0 {
                        RefTarget::Next
                    } else {
                        RefTarget::Label(bound + rng.below(u64::from(nlabels - bound)) as u16)
                    }
                };
                let cmp = [Cmp::Eq, Cmp::Gt, Cmp::Ge, Cmp::Set][rng.below(4) as usize];
                let alu = [
                    AluOp::Add,
                    AluOp::Sub,
                    AluOp::Mul,
                    AluOp::And,
                    AluOp::Or,
                    AluOp::Xor,
                ][rng.below(6) as usize];
                let k = match rng.below(3) {
                    0 => rng.below(4) as u32,
                    1 => rng.next() as u32,
                    _ => rng.below(256) as u32,
                };
                let op = match rng.below(16) {
                    0 => Op::LoadAbs(4 * rng.below(16) as u32),
                    1 => Op::LoadImm(k),
                    2 => Op::LoadXImm(k),
                    3 => Op::LoadMem(rng.below(16) as u32),
                    4 => Op::LoadXMem(rng.below(16) as u32),
                    5 => Op::Alu(alu, k),
                    6 => Op::AluX(alu),
                    7 => Op::Lsh(rng.below(32) as u32),
                    8 => Op::Rsh(rng.below(32) as u32),
                    9 => Op::Tax,
                    10 => Op::Txa,
                    11 => Op::Ret(k),
                    12 => Op::Goto(bound + rng.below(u64::from(nlabels - bound)) as u16),
                    13 => Op::JumpX(cmp, target(rng), target(rng)),
                    _ => Op::Jump(cmp, k, target(rng), target(rng)),
                };
                ops.push(op);
            }
            ops.push(Op::Bind(bound));
            ops.push(Op::Store(rng.below(16) as u32));
        }
        ops.push(if rng.below(2) == 0 {
            Op::RetA
        } else {
            Op::Ret(7)
        });
    }

    #[test]
    fn random_label_graphs_match_simulation() {
        let seed = 0x5eed_b9f0_u64;
        let mut rng = Rng(seed);
        let mut far = 0;
        for case in 0..300 {
            let mut ops = ArrayVec::<Op, MAX_BUILDER_INSNS>::new();
            random_ops(&mut rng, &mut ops);
            let mut b = Builder::new(64);
            for (i, op) in ops.iter().enumerate() {
                reference::apply(&mut b, op)
                    .unwrap_or_else(|e| panic!("seed {seed:#x} case {case} op {i} {op:?}: {e}"));
            }
            let p = b
                .finish()
                .unwrap_or_else(|e| panic!("seed {seed:#x} case {case}: {e}"));
            if p.as_slice().iter().any(|i| i.code == JA && i.k > 255) {
                far += 1;
            }
            for _ in 0..20 {
                let mut data = [0u8; 64];
                for chunk in data.chunks_mut(8) {
                    let v = match rng.below(4) {
                        0 => 0,
                        1 => u64::MAX,
                        2 => rng.below(300),
                        _ => rng.next(),
                    };
                    chunk.copy_from_slice(&v.to_le_bytes());
                }
                for order in [ByteOrder::Little, ByteOrder::Big] {
                    let want = reference::simulate(&ops, &data, order);
                    let got = run_counted(p.as_slice(), &data, order);
                    let (got, steps) = got.unwrap();
                    assert!(steps <= p.len());
                    assert_eq!(Ok(got), want, "seed {seed:#x} case {case} data {data:?}");
                }
            }
        }
        assert!(far > 10, "the generator makes far jumps ({far})");
    }
}
