//! Random builder programs: `finish()` either fails cleanly or yields a program that verifies and
//! whose interpretation matches a direct simulation of the builder calls that succeeded.
//!
//! The input is a small language, one operation per byte plus operand bytes (see `decode`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use syd_core::bpf::reference::{apply, simulate, Op, RefTarget};
use syd_core::bpf::{run, verify, AluOp, BpfError, Builder, ByteOrder, Cmp};
use syd_core::limits::MAX_INSNS;

/// Reads operand bytes; missing bytes read as 0.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        let (&b, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        b
    }
    /// A constant: small values and edges are likelier than a full random word.
    fn k(&mut self) -> u32 {
        match self.byte() {
            b @ 0..=0xef => u32::from(b),
            0xf0 => u32::MAX,
            0xf1 => 0x8000_0000,
            0xf2 => 0x7fff_ffff,
            _ => u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()]),
        }
    }
    /// A label number: usually one made already, sometimes one that does not exist.
    fn label(&mut self, made: u16) -> u16 {
        let b = u16::from(self.byte());
        if b == 0xff {
            made.saturating_add(1)
        } else {
            b % made.max(1)
        }
    }
    fn target(&mut self, made: u16) -> RefTarget {
        if self.byte().is_multiple_of(4) {
            RefTarget::Next
        } else {
            RefTarget::Label(self.label(made))
        }
    }
    fn cmp(&mut self) -> Cmp {
        [Cmp::Eq, Cmp::Gt, Cmp::Ge, Cmp::Set][usize::from(self.byte() % 4)]
    }
    fn alu(&mut self) -> AluOp {
        [
            AluOp::Add,
            AluOp::Sub,
            AluOp::Mul,
            AluOp::And,
            AluOp::Or,
            AluOp::Xor,
        ][usize::from(self.byte() % 6)]
    }
}

/// Decodes one operation; `Pad` expands to many straight-line ones so that jumps get far.
fn decode(inp: &mut Input, made: u16, out: &mut Vec<Op>) {
    let op = match inp.byte() % 24 {
        0 | 1 => Op::Label,
        2 | 3 => Op::Bind(inp.label(made)),
        4 => Op::LoadAbs(u32::from(inp.byte())),
        5 => Op::LoadImm(inp.k()),
        6 => Op::LoadXImm(inp.k()),
        7 => Op::LoadMem(u32::from(inp.byte() % 18)),
        8 => Op::LoadXMem(u32::from(inp.byte() % 18)),
        9 => Op::Store(u32::from(inp.byte() % 18)),
        10 => Op::StoreX(u32::from(inp.byte() % 18)),
        11 => Op::Alu(inp.alu(), inp.k()),
        12 => Op::AluX(inp.alu()),
        13 => Op::Lsh(u32::from(inp.byte() % 40)),
        14 => Op::Rsh(u32::from(inp.byte() % 40)),
        15 => Op::Neg,
        16 => Op::Tax,
        17 => Op::Txa,
        18 | 19 => Op::Jump(inp.cmp(), inp.k(), inp.target(made), inp.target(made)),
        20 => Op::JumpX(inp.cmp(), inp.target(made), inp.target(made)),
        21 => Op::Goto(inp.label(made)),
        22 => {
            if inp.byte().is_multiple_of(2) {
                Op::RetA
            } else {
                Op::Ret(inp.k())
            }
        }
        _ => {
            let n = usize::from(inp.byte()) * 4;
            let k = inp.k();
            out.extend((0..n).map(|i| Op::Alu(AluOp::Add, k ^ i as u32)));
            return;
        }
    };
    out.push(op);
}

/// The first label error `finish()` must report, from the recorded operations alone.
fn label_error(ops: &[Op]) -> Option<BpfError> {
    let made = ops.iter().filter(|op| **op == Op::Label).count();
    let insns = |upto: usize| {
        ops[..upto]
            .iter()
            .filter(|op| !matches!(op, Op::Label | Op::Bind(_)))
            .count()
    };
    let total = insns(ops.len());
    for n in 0..made {
        let n = n as u16;
        let used = ops.iter().any(|op| match *op {
            Op::Goto(l) => l == n,
            Op::Jump(_, _, t, f) | Op::JumpX(_, t, f) => {
                t == RefTarget::Label(n) || f == RefTarget::Label(n)
            }
            _ => false,
        });
        match ops.iter().position(|op| *op == Op::Bind(n)) {
            None if used => return Some(BpfError::UnboundLabel { label: n }),
            Some(at) if insns(at) == total => return Some(BpfError::LabelAtEnd { label: n }),
            _ => {}
        }
    }
    None
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input(data);
    let mut b = Builder::new(64);
    let mut ops = Vec::new();
    let mut made = 0u16;
    let mut pending = Vec::new();
    while !inp.0.is_empty() && ops.len() < 20_000 {
        pending.clear();
        decode(&mut inp, made, &mut pending);
        for op in &pending {
            if apply(&mut b, op).is_ok() {
                if *op == Op::Label {
                    made += 1;
                }
                ops.push(*op);
            }
        }
    }
    let result = b.finish();
    let want_label_err = label_error(&ops);
    let prog = match result {
        Err(e) => {
            match want_label_err {
                Some(want) => assert_eq!(e, want),
                None => assert!(
                    !matches!(
                        e,
                        BpfError::UnboundLabel { .. } | BpfError::LabelAtEnd { .. }
                    ),
                    "{e:?}"
                ),
            }
            if let BpfError::TooLong { len, max } = e {
                assert!(len > max && max == MAX_INSNS);
            }
            return;
        }
        Ok(p) => p,
    };
    assert_eq!(want_label_err, None);
    let p = prog.as_slice();
    assert!(!p.is_empty() && p.len() <= MAX_INSNS);
    assert_eq!(verify(p, 64), Ok(()));
    let mut seeded = [0u8; 64];
    for (i, byte) in seeded.iter_mut().enumerate() {
        *byte = data.get(i % data.len().max(1)).copied().unwrap_or(0) ^ (i as u8);
    }
    for d in [[0u8; 64], [0xff; 64], seeded] {
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let got = run(p, &d, order);
            let want = simulate(&ops, &d, order);
            assert_eq!(got.ok(), want.ok(), "{order:?} {d:?}\n{prog}");
            assert!(got.is_ok(), "a verified program runs: {got:?}");
        }
    }
});
