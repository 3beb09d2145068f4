//! A reference for testing the builder: builder operations as data, and a direct simulation of
//! the symbolic program they make, with labels followed by name instead of resolved offsets.
//!
//! Built only for tests and with the `reference` feature (the fuzz target). The simulation shares
//! no code with the resolver or the interpreter, so the two can be checked against each other.

use super::builder::{AluOp, Builder, Cmp, Label, Target};
use super::insn::ByteOrder;
use super::BpfError;

/// A branch target in [`Op`]: the next operation, or the label made by the n-th [`Op::Label`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RefTarget {
    /// The next instruction.
    Next,
    /// The label with this number.
    Label(u16),
}

/// One builder call; labels are numbered in the order [`Op::Label`] made them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Op {
    /// [`Builder::label`].
    Label,
    /// [`Builder::bind`].
    Bind(u16),
    /// [`Builder::load_abs`].
    LoadAbs(u32),
    /// [`Builder::load_imm`].
    LoadImm(u32),
    /// [`Builder::load_x_imm`].
    LoadXImm(u32),
    /// [`Builder::load_mem`].
    LoadMem(u32),
    /// [`Builder::load_x_mem`].
    LoadXMem(u32),
    /// [`Builder::store`].
    Store(u32),
    /// [`Builder::store_x`].
    StoreX(u32),
    /// [`Builder::alu`].
    Alu(AluOp, u32),
    /// [`Builder::alu_x`].
    AluX(AluOp),
    /// [`Builder::lsh`].
    Lsh(u32),
    /// [`Builder::rsh`].
    Rsh(u32),
    /// [`Builder::neg`].
    Neg,
    /// [`Builder::tax`].
    Tax,
    /// [`Builder::txa`].
    Txa,
    /// [`Builder::jump`].
    Jump(Cmp, u32, RefTarget, RefTarget),
    /// [`Builder::jump_x`].
    JumpX(Cmp, RefTarget, RefTarget),
    /// [`Builder::goto`].
    Goto(u16),
    /// [`Builder::ret`].
    Ret(u32),
    /// [`Builder::ret_a`].
    RetA,
}

/// Why a simulation stopped without a return value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SimError {
    /// Ran past the last operation.
    FellOffEnd,
    /// A branch to a label that is not bound after the branch.
    NoTarget,
    /// A load outside the data.
    LoadOutOfBounds,
    /// A scratch slot read before written, or out of range.
    BadMem,
    /// A shift by 32 or more.
    BadShift,
}

fn target(t: RefTarget) -> Target {
    match t {
        RefTarget::Next => Target::Next,
        RefTarget::Label(n) => Target::Label(Label(n)),
    }
}

/// Performs `op` on `b`; [`Op::Label`] makes a new label (numbered by `b`).
pub fn apply(b: &mut Builder, op: &Op) -> Result<(), BpfError> {
    match *op {
        Op::Label => b.label().map(|_| ()),
        Op::Bind(n) => b.bind(Label(n)),
        Op::LoadAbs(k) => b.load_abs(k),
        Op::LoadImm(k) => b.load_imm(k),
        Op::LoadXImm(k) => b.load_x_imm(k),
        Op::LoadMem(k) => b.load_mem(k),
        Op::LoadXMem(k) => b.load_x_mem(k),
        Op::Store(k) => b.store(k),
        Op::StoreX(k) => b.store_x(k),
        Op::Alu(op, k) => b.alu(op, k),
        Op::AluX(op) => b.alu_x(op),
        Op::Lsh(k) => b.lsh(k),
        Op::Rsh(k) => b.rsh(k),
        Op::Neg => b.neg(),
        Op::Tax => b.tax(),
        Op::Txa => b.txa(),
        Op::Jump(c, k, t, f) => b.jump(c, k, target(t), target(f)),
        Op::JumpX(c, t, f) => b.jump_x(c, target(t), target(f)),
        Op::Goto(n) => b.goto(Label(n)),
        Op::Ret(k) => b.ret(k),
        Op::RetA => b.ret_a(),
    }
}

/// Runs the operations `ops` (those `apply` accepted, in order) directly over `data`.
///
/// A branch to label n continues at the operation after `Bind(n)`; `Label` and `Bind` do
/// nothing else.
pub fn simulate(ops: &[Op], data: &[u8], order: ByteOrder) -> Result<u32, SimError> {
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem: [Option<u32>; 16] = [None; 16];
    let mut i = 0usize;
    let goto = |from: usize, t: RefTarget| -> Result<usize, SimError> {
        match t {
            RefTarget::Next => Ok(from + 1),
            RefTarget::Label(n) => ops
                .iter()
                .position(|op| *op == Op::Bind(n))
                .filter(|&at| at > from)
                .ok_or(SimError::NoTarget),
        }
    };
    let cmp = |c: Cmp, a: u32, b: u32| match c {
        Cmp::Eq => a == b,
        Cmp::Gt => a > b,
        Cmp::Ge => a >= b,
        Cmp::Set => a & b != 0,
    };
    let alu = |op: AluOp, a: u32, b: u32| match op {
        AluOp::Add => a.wrapping_add(b),
        AluOp::Sub => a.wrapping_sub(b),
        AluOp::Mul => a.wrapping_mul(b),
        AluOp::And => a & b,
        AluOp::Or => a | b,
        AluOp::Xor => a ^ b,
    };
    let word = |k: u32| -> Result<u32, SimError> {
        let k = usize::try_from(k).map_err(|_| SimError::LoadOutOfBounds)?;
        let b: [u8; 4] = data
            .get(k..k.saturating_add(4))
            .and_then(|b| b.try_into().ok())
            .ok_or(SimError::LoadOutOfBounds)?;
        Ok(match order {
            ByteOrder::Little => u32::from_le_bytes(b),
            ByteOrder::Big => u32::from_be_bytes(b),
        })
    };
    let slot = |k: u32| {
        usize::try_from(k)
            .ok()
            .filter(|&k| k < 16)
            .ok_or(SimError::BadMem)
    };
    // Every branch goes forward, so ops.len() + 1 iterations always suffice.
    for _ in 0..=ops.len() {
        let Some(op) = ops.get(i) else {
            return Err(SimError::FellOffEnd);
        };
        let mut next = i + 1;
        match *op {
            Op::Label | Op::Bind(_) => {}
            Op::LoadAbs(k) => a = word(k)?,
            Op::LoadImm(k) => a = k,
            Op::LoadXImm(k) => x = k,
            Op::LoadMem(k) => {
                a = mem
                    .get(slot(k)?)
                    .copied()
                    .flatten()
                    .ok_or(SimError::BadMem)?
            }
            Op::LoadXMem(k) => {
                x = mem
                    .get(slot(k)?)
                    .copied()
                    .flatten()
                    .ok_or(SimError::BadMem)?
            }
            Op::Store(k) => *mem.get_mut(slot(k)?).ok_or(SimError::BadMem)? = Some(a),
            Op::StoreX(k) => *mem.get_mut(slot(k)?).ok_or(SimError::BadMem)? = Some(x),
            Op::Alu(op, k) => a = alu(op, a, k),
            Op::AluX(op) => a = alu(op, a, x),
            Op::Lsh(k) => a = a.checked_shl(k).ok_or(SimError::BadShift)?,
            Op::Rsh(k) => a = a.checked_shr(k).ok_or(SimError::BadShift)?,
            Op::Neg => a = a.wrapping_neg(),
            Op::Tax => x = a,
            Op::Txa => a = x,
            Op::Jump(c, k, t, f) => next = goto(i, if cmp(c, a, k) { t } else { f })?,
            Op::JumpX(c, t, f) => next = goto(i, if cmp(c, a, x) { t } else { f })?,
            Op::Goto(n) => next = goto(i, RefTarget::Label(n))?,
            Op::Ret(k) => return Ok(k),
            Op::RetA => return Ok(a),
        }
        i = next;
    }
    Err(SimError::FellOffEnd)
}
