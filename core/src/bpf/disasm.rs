//! A readable listing of a program, one line per instruction, in the syntax of the kernel's
//! `bpf_dbg`/`bpf_asm` (tools/bpf): `l1: jeq #0xc000003e, l2, l5`, with absolute jump targets.

use super::insn::*;
use core::fmt::{self, Write};

/// Writes one line per instruction of `prog` into `out`, each ending in `\n`.
///
/// Errors: only those of `out`. Opcodes outside the allowlist are printed as raw fields.
pub fn disasm<W: Write + ?Sized>(prog: &[Insn], out: &mut W) -> fmt::Result {
    for (pc, insn) in prog.iter().enumerate() {
        disasm_insn(pc, insn, out)?;
        out.write_char('\n')?;
    }
    Ok(())
}

/// Writes instruction `insn`, found at index `pc`, as `l<pc>: <mnemonic> <operands>` (no newline).
///
/// Errors: only those of `out`.
pub fn disasm_insn<W: Write + ?Sized>(pc: usize, insn: &Insn, out: &mut W) -> fmt::Result {
    let k = insn.k;
    // usize is at most 64 bits on every target Rust supports, so this widens.
    let to = |off: u32| pc as u64 + 1 + u64::from(off);
    write!(out, "l{pc}: ")?;
    let code = insn.code;
    match code {
        c if c == BPF_LD | BPF_W | BPF_ABS => write!(out, "ld [{k}]"),
        c if c == BPF_LD | BPF_IMM => write!(out, "ld #{k:#x}"),
        c if c == BPF_LDX | BPF_IMM => write!(out, "ldx #{k:#x}"),
        c if c == BPF_LD | BPF_MEM => write!(out, "ld M[{k}]"),
        c if c == BPF_LDX | BPF_MEM => write!(out, "ldx M[{k}]"),
        BPF_ST => write!(out, "st M[{k}]"),
        BPF_STX => write!(out, "stx M[{k}]"),
        c if c == BPF_ALU | BPF_NEG => out.write_str("neg"),
        c if c == BPF_MISC | BPF_TAX => out.write_str("tax"),
        c if c == BPF_MISC | BPF_TXA => out.write_str("txa"),
        c if c == BPF_JMP | BPF_JA => write!(out, "ja l{}", to(k)),
        c if c == BPF_RET | BPF_K => write!(out, "ret #{k:#x}"),
        c if c == BPF_RET | BPF_A => out.write_str("ret a"),
        _ => {
            let name = match (code & 0x07, code & 0xf0) {
                (BPF_ALU, BPF_ADD) => "add",
                (BPF_ALU, BPF_SUB) => "sub",
                (BPF_ALU, BPF_MUL) => "mul",
                (BPF_ALU, BPF_DIV) => "div",
                (BPF_ALU, BPF_MOD) => "mod",
                (BPF_ALU, BPF_AND) => "and",
                (BPF_ALU, BPF_OR) => "or",
                (BPF_ALU, BPF_XOR) => "xor",
                (BPF_ALU, BPF_LSH) => "lsh",
                (BPF_ALU, BPF_RSH) => "rsh",
                (BPF_JMP, BPF_JEQ) => "jeq",
                (BPF_JMP, BPF_JGT) => "jgt",
                (BPF_JMP, BPF_JGE) => "jge",
                (BPF_JMP, BPF_JSET) => "jset",
                _ => "",
            };
            // Only the ALU and JMP forms above have a source bit; anything else is raw.
            if name.is_empty() || code & !0xff != 0 || code & 0x07 == BPF_MISC {
                return write!(
                    out,
                    ".insn code={code:#06x} jt={} jf={} k={k:#x}",
                    insn.jt, insn.jf
                );
            }
            out.write_str(name)?;
            if code & BPF_X != 0 {
                out.write_str(" x")?;
            } else if code & 0xf0 == BPF_LSH || code & 0xf0 == BPF_RSH {
                write!(out, " #{k}")?;
            } else {
                write!(out, " #{k:#x}")?;
            }
            if code & 0x07 == BPF_JMP {
                write!(
                    out,
                    ", l{}, l{}",
                    to(u32::from(insn.jt)),
                    to(u32::from(insn.jf))
                )?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrayvec::ArrayString;

    const S: fn(u16, u32) -> Insn = Insn::stmt;
    const J: fn(u16, u32, u8, u8) -> Insn = Insn::jump;

    #[test]
    fn listing() {
        let prog = [
            S(BPF_LD | BPF_W | BPF_ABS, 4),
            J(BPF_JMP | BPF_JEQ | BPF_K, 0xc000_003e, 0, 3),
            S(BPF_LD | BPF_W | BPF_ABS, 0),
            J(BPF_JMP | BPF_JGE | BPF_X, 0, 1, 0),
            S(BPF_RET | BPF_K, 0x7fff_0000),
            S(BPF_RET | BPF_K, 0),
        ];
        let mut out = ArrayString::<512>::new();
        disasm(&prog, &mut out).unwrap();
        assert_eq!(
            out.as_str(),
            "l0: ld [4]\n\
             l1: jeq #0xc000003e, l2, l5\n\
             l2: ld [0]\n\
             l3: jge x, l5, l4\n\
             l4: ret #0x7fff0000\n\
             l5: ret #0x0\n"
        );
    }

    #[test]
    fn each_instruction() {
        let table: &[(Insn, &str)] = &[
            (S(BPF_LD | BPF_IMM, 0x10), "l7: ld #0x10"),
            (S(BPF_LDX | BPF_IMM, 3), "l7: ldx #0x3"),
            (S(BPF_LD | BPF_MEM, 15), "l7: ld M[15]"),
            (S(BPF_LDX | BPF_MEM, 2), "l7: ldx M[2]"),
            (S(BPF_ST, 1), "l7: st M[1]"),
            (S(BPF_STX, 0), "l7: stx M[0]"),
            (S(BPF_ALU | BPF_ADD | BPF_K, 255), "l7: add #0xff"),
            (S(BPF_ALU | BPF_SUB | BPF_X, 0), "l7: sub x"),
            (S(BPF_ALU | BPF_MUL | BPF_K, 2), "l7: mul #0x2"),
            (S(BPF_ALU | BPF_AND | BPF_K, 0xfff), "l7: and #0xfff"),
            (S(BPF_ALU | BPF_OR | BPF_X, 0), "l7: or x"),
            (S(BPF_ALU | BPF_XOR | BPF_K, 1), "l7: xor #0x1"),
            (S(BPF_ALU | BPF_LSH | BPF_K, 12), "l7: lsh #12"),
            (S(BPF_ALU | BPF_RSH | BPF_K, 31), "l7: rsh #31"),
            (S(BPF_ALU | BPF_NEG, 0), "l7: neg"),
            (S(BPF_MISC | BPF_TAX, 0), "l7: tax"),
            (S(BPF_MISC | BPF_TXA, 0), "l7: txa"),
            (S(BPF_JMP | BPF_JA, 0), "l7: ja l8"),
            (S(BPF_JMP | BPF_JA, 70000), "l7: ja l70008"),
            (
                J(BPF_JMP | BPF_JGT | BPF_K, 9, 255, 0),
                "l7: jgt #0x9, l263, l8",
            ),
            (
                J(BPF_JMP | BPF_JSET | BPF_K, 4, 0, 1),
                "l7: jset #0x4, l8, l9",
            ),
            (J(BPF_JMP | BPF_JEQ | BPF_X, 0, 2, 0), "l7: jeq x, l10, l8"),
            (S(BPF_RET | BPF_A, 0), "l7: ret a"),
            (S(BPF_RET | BPF_K, 0x5_0001), "l7: ret #0x50001"),
            (S(BPF_ALU | BPF_DIV | BPF_K, 2), "l7: div #0x2"),
            (
                Insn::jump(0x0abc, 1, 2, 3),
                "l7: .insn code=0x0abc jt=2 jf=3 k=0x1",
            ),
            (
                Insn::jump(0x0107, 0, 0, 0),
                "l7: .insn code=0x0107 jt=0 jf=0 k=0x0",
            ),
            (
                S(BPF_MISC | 0x40, 0),
                "l7: .insn code=0x0047 jt=0 jf=0 k=0x0",
            ),
        ];
        for (insn, want) in table {
            let mut out = ArrayString::<64>::new();
            disasm_insn(7, insn, &mut out).unwrap();
            assert_eq!(out.as_str(), *want);
        }
    }

    #[test]
    fn writer_errors_propagate() {
        let mut out = ArrayString::<8>::new();
        assert!(disasm(&[S(BPF_RET | BPF_K, 0x7fff_0000)], &mut out).is_err());
    }
}
