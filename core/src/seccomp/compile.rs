//! The compiler from per-architecture filter models to one seccomp BPF program, and the readable
//! `pfc` listing.
//!
//! Program shape: load `arch`; jump to the block of each architecture in the set; anything else
//! is killed (KILL_PROCESS). In an architecture's block: load `nr` (on x86_64, numbers with the
//! x32 bit go to the x32 block, or are killed when x32 is not in the set), then a balanced binary
//! search over the syscall numbers that have entries, so that dispatch costs O(log n)
//! instructions; syscalls that decide identically share one block of code.

use core::fmt;

use super::model::{ArchFilter, ArgCmp, Cmp, LayerView, SyscallView, Then, Width};
use super::{Action, DATA_LEN, OFF_ARCH, OFF_ARGS, OFF_NR};
use crate::arch::{Endian, Word, X32_SYSCALL_BIT};
use crate::bpf::{AluOp, BpfError, Builder, Cmp as Jmp, Label, Program, Target};
use crate::limits::MAX_FILTER_SYSCALLS;

/// Syscalls handled by a linear chain of comparisons at a leaf of the binary search: below this
/// a split costs more than it saves.
const LEAF: usize = 4;

/// Why a set of filters could not be compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompileError {
    /// The program would exceed a BPF limit (most often: more than 4096 instructions).
    Bpf(BpfError),
    /// No architecture given.
    NoArch,
}

impl From<BpfError> for CompileError {
    fn from(e: BpfError) -> Self {
        CompileError::Bpf(e)
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompileError::Bpf(e) => write!(f, "cannot build the seccomp filter: {e}"),
            CompileError::NoArch => f.write_str("no architecture to build a filter for"),
        }
    }
}

/// Byte offsets of the low and high 32-bit words of argument `idx` in `struct seccomp_data`.
fn arg_words(endian: Endian, idx: u8) -> (u32, u32) {
    let base = OFF_ARGS + 8 * u32::from(idx);
    match endian {
        Endian::Little => (base, base + 4),
        Endian::Big => (base + 4, base),
    }
}

struct Emitter {
    b: Builder,
}

impl Emitter {
    fn label(&mut self) -> Result<Label, CompileError> {
        Ok(self.b.label()?)
    }

    fn then(&mut self, then: Then, next: Label) -> Result<(), CompileError> {
        match then {
            Then::Act(a) => self.b.ret(a.ret())?,
            Then::Pass => self.b.goto(next)?,
        }
        Ok(())
    }

    /// Emits code that falls through when `c` holds and jumps to `fail` when it does not.
    fn cmp(
        &mut self,
        c: &ArgCmp,
        endian: Endian,
        word: Word,
        fail: Label,
    ) -> Result<(), CompileError> {
        let (lo_off, hi_off) = arg_words(endian, c.arg);
        let v = c.value;
        // The value's halves; the truncations are the point.
        let (vhi, vlo) = ((v >> 32) as u32, v as u32);
        let fail_t = Target::Label(fail);
        let next = Target::Next;
        let full = c.width == Width::Long && word == Word::W64;
        if !full {
            // The operand is the low word, zero-extended: a value with high bits set decides the
            // comparison on its own.
            match c.cmp {
                Cmp::Eq | Cmp::Gt | Cmp::Ge if vhi != 0 => self.b.goto(fail)?,
                Cmp::MaskedEq(_) if vhi != 0 => self.b.goto(fail)?,
                Cmp::Ne | Cmp::Lt | Cmp::Le if vhi != 0 => {}
                Cmp::Eq => {
                    self.b.load_abs(lo_off)?;
                    self.b.jump(Jmp::Eq, vlo, next, fail_t)?;
                }
                Cmp::Ne => {
                    self.b.load_abs(lo_off)?;
                    self.b.jump(Jmp::Eq, vlo, fail_t, next)?;
                }
                Cmp::Lt => {
                    self.b.load_abs(lo_off)?;
                    self.b.jump(Jmp::Ge, vlo, fail_t, next)?;
                }
                Cmp::Le => {
                    self.b.load_abs(lo_off)?;
                    self.b.jump(Jmp::Gt, vlo, fail_t, next)?;
                }
                Cmp::Gt => {
                    self.b.load_abs(lo_off)?;
                    self.b.jump(Jmp::Gt, vlo, next, fail_t)?;
                }
                Cmp::Ge => {
                    self.b.load_abs(lo_off)?;
                    self.b.jump(Jmp::Ge, vlo, next, fail_t)?;
                }
                Cmp::MaskedEq(m) => {
                    self.b.load_abs(lo_off)?;
                    self.b.alu(AluOp::And, m as u32)?;
                    self.b.jump(Jmp::Eq, vlo, next, fail_t)?;
                }
            }
            return Ok(());
        }
        match c.cmp {
            Cmp::Eq => {
                self.b.load_abs(hi_off)?;
                self.b.jump(Jmp::Eq, vhi, next, fail_t)?;
                self.b.load_abs(lo_off)?;
                self.b.jump(Jmp::Eq, vlo, next, fail_t)?;
            }
            Cmp::Ne => {
                let ok = self.label()?;
                self.b.load_abs(hi_off)?;
                self.b.jump(Jmp::Eq, vhi, next, Target::Label(ok))?;
                self.b.load_abs(lo_off)?;
                self.b.jump(Jmp::Eq, vlo, fail_t, next)?;
                self.b.bind(ok)?;
            }
            Cmp::Gt | Cmp::Ge => {
                // a > v  <=>  hi > vhi || (hi == vhi && lo > vlo); >= likewise on the low word.
                let ok = self.label()?;
                self.b.load_abs(hi_off)?;
                self.b.jump(Jmp::Gt, vhi, Target::Label(ok), next)?;
                self.b.jump(Jmp::Eq, vhi, next, fail_t)?;
                self.b.load_abs(lo_off)?;
                let op = if c.cmp == Cmp::Gt { Jmp::Gt } else { Jmp::Ge };
                self.b.jump(op, vlo, next, fail_t)?;
                self.b.bind(ok)?;
            }
            Cmp::Lt | Cmp::Le => {
                // a < v  <=>  !(a >= v); a <= v  <=>  !(a > v).
                let ok = self.label()?;
                self.b.load_abs(hi_off)?;
                self.b.jump(Jmp::Gt, vhi, fail_t, next)?;
                self.b.jump(Jmp::Eq, vhi, next, Target::Label(ok))?;
                self.b.load_abs(lo_off)?;
                let op = if c.cmp == Cmp::Lt { Jmp::Ge } else { Jmp::Gt };
                self.b.jump(op, vlo, fail_t, next)?;
                self.b.bind(ok)?;
            }
            Cmp::MaskedEq(m) => {
                self.b.load_abs(hi_off)?;
                self.b.alu(AluOp::And, (m >> 32) as u32)?;
                self.b.jump(Jmp::Eq, vhi, next, fail_t)?;
                self.b.load_abs(lo_off)?;
                self.b.alu(AluOp::And, m as u32)?;
                self.b.jump(Jmp::Eq, vlo, next, fail_t)?;
            }
        }
        Ok(())
    }

    fn layers<'f>(
        &mut self,
        layers: impl Iterator<Item = LayerView<'f>>,
        fin: Action,
        endian: Endian,
        word: Word,
    ) -> Result<(), CompileError> {
        for layer in layers {
            let next = self.label()?;
            for rule in layer.rules {
                let fail = self.label()?;
                for c in &rule.cmps {
                    self.cmp(c, endian, word, fail)?;
                }
                self.then(rule.then, next)?;
                self.b.bind(fail)?;
            }
            // A passing layer falls through into the next one.
            if let Then::Act(a) = layer.otherwise {
                self.b.ret(a.ret())?;
            }
            self.b.bind(next)?;
        }
        self.b.ret(fin.ret())?;
        Ok(())
    }

    /// Binary search over `entries` (sorted by number, A holds `nr`), jumping to the block of
    /// each entry's decision; unmatched numbers go to `default`.
    fn search(&mut self, entries: &[(u32, Label)], default: Label) -> Result<(), CompileError> {
        if entries.len() <= LEAF {
            for &(nr, block) in entries {
                self.b
                    .jump(Jmp::Eq, nr, Target::Label(block), Target::Next)?;
            }
            self.b.goto(default)?;
            return Ok(());
        }
        let mid = entries.len() / 2;
        let (left, right) = entries.split_at(mid);
        let Some(&(pivot, _)) = right.first() else {
            return Ok(());
        };
        let right_label = self.label()?;
        self.b
            .jump(Jmp::Ge, pivot, Target::Label(right_label), Target::Next)?;
        self.search(left, default)?;
        self.b.bind(right_label)?;
        self.search(right, default)
    }

    /// The block of one architecture; A holds `nr`.
    fn dispatch(&mut self, f: &ArchFilter) -> Result<(), CompileError> {
        let endian = f.arch.endian;
        let word = f.arch.word;
        // Numbers newer than the tables first (A holds nr).
        for &(lo, hi) in f.unknown() {
            let skip = self.label()?;
            self.b
                .jump(Jmp::Ge, lo, Target::Next, Target::Label(skip))?;
            self.b
                .jump(Jmp::Gt, hi, Target::Label(skip), Target::Next)?;
            self.b.ret(f.unknown_action.ret())?;
            self.b.bind(skip)?;
        }
        // One block per distinct decision.
        let mut blocks: heapless::Vec<(SyscallView<'_>, Label), MAX_FILTER_SYSCALLS> =
            heapless::Vec::new();
        let mut entries: heapless::Vec<(u32, Label), MAX_FILTER_SYSCALLS> = heapless::Vec::new();
        let full = BpfError::TooManyLabels {
            limit: crate::limits::MAX_FILTER_SYSCALLS,
        };
        for s in f.syscalls() {
            let label = match blocks.iter().find(|(b, _)| b.same_decision(&s)) {
                Some(&(_, l)) => l,
                None => {
                    let l = self.label()?;
                    blocks.push((s, l)).map_err(|_| full)?;
                    l
                }
            };
            entries.push((s.nr(), label)).map_err(|_| full)?;
        }
        let default = self.label()?;
        self.search(&entries, default)?;
        self.b.bind(default)?;
        self.b.ret(f.default.ret())?;
        for (s, label) in &blocks {
            self.b.bind(*label)?;
            self.layers(s.layers(), s.fin(), endian, word)?;
        }
        Ok(())
    }
}

/// Compiles the filters of a set of architectures into one program (at most 4096 instructions;
/// a bigger policy is an error, never a broken program).
pub fn compile(filters: &[ArchFilter]) -> Result<Program, CompileError> {
    if filters.is_empty() {
        return Err(CompileError::NoArch);
    }
    let mut e = Emitter {
        b: Builder::new(DATA_LEN),
    };
    let x86_64 = crate::arch::X86_64.audit;
    // One block per distinct audit value, in the order given (x86_64 and x32 share one).
    let mut audits: heapless::Vec<(u32, Label), 32> = heapless::Vec::new();
    e.b.load_abs(OFF_ARCH)?;
    for f in filters {
        if audits.iter().any(|&(a, _)| a == f.arch.audit) {
            continue;
        }
        let l = e.label()?;
        audits
            .push((f.arch.audit, l))
            .map_err(|_| BpfError::TooManyLabels { limit: 32 })?;
        e.b.jump(Jmp::Eq, f.arch.audit, Target::Label(l), Target::Next)?;
    }
    e.b.ret(Action::KillProcess.ret())?;
    for &(audit, label) in &audits {
        e.b.bind(label)?;
        e.b.load_abs(OFF_NR)?;
        let find = |x32: bool| {
            filters
                .iter()
                .find(|f| f.arch.audit == audit && (f.arch.name == "x32") == x32)
        };
        if audit == x86_64 {
            let x32_label = e.label()?;
            // The bit, not a range: a number such as 0x8000_0000 without it is an x86_64 call
            // (SPEC §8.10), however the kernel then rejects it.
            e.b.jump(
                Jmp::Set,
                X32_SYSCALL_BIT,
                Target::Label(x32_label),
                Target::Next,
            )?;
            match find(false) {
                Some(f) => e.dispatch(f)?,
                None => e.b.ret(Action::KillProcess.ret())?,
            }
            e.b.bind(x32_label)?;
            match find(true) {
                Some(f) => e.dispatch(f)?,
                None => e.b.ret(Action::KillProcess.ret())?,
            }
        } else if let Some(f) = find(false) {
            e.dispatch(f)?;
        }
    }
    Ok(e.b.finish()?)
}

// Out of line: inlined, it made the `syd` binary bigger (size budget).
#[inline(never)]
fn write_cmp(out: &mut dyn fmt::Write, c: &ArgCmp) -> fmt::Result {
    let a = c.arg;
    let w = if c.width == Width::Int { " (int)" } else { "" };
    match c.cmp {
        Cmp::MaskedEq(m) => write!(out, "$a{a}{w} & {m:#x} == {:#x}", c.value),
        cmp => {
            let op = match cmp {
                Cmp::Eq => "==",
                Cmp::Ne => "!=",
                Cmp::Lt => "<",
                Cmp::Le => "<=",
                Cmp::Gt => ">",
                _ => ">=",
            };
            write!(out, "$a{a}{w} {op} {:#x}", c.value)
        }
    }
}

fn write_then(out: &mut dyn fmt::Write, then: Then) -> fmt::Result {
    match then {
        Then::Act(a) => write!(out, "action {a};"),
        Then::Pass => out.write_str("next;"),
    }
}

/// Writes the readable "pseudo filter code" listing: per architecture, which syscalls get which
/// action on which argument conditions (for `-e pfc`).
// Out of line: inlined into its caller it made the `syd` binary bigger (size budget).
#[inline(never)]
pub fn write_pfc(filters: &[ArchFilter], out: &mut dyn fmt::Write) -> fmt::Result {
    out.write_str("# pseudo filter code start\n#\n")?;
    out.write_str("# invalid architecture action\naction KILL;\n")?;
    for f in filters {
        writeln!(
            out,
            "#\n# filter for arch {} ({:#x}, {} syscalls with rules)",
            f.arch.name,
            f.arch.audit,
            f.syscalls().count()
        )?;
        for s in f.syscalls() {
            let name = f.arch.name_of(s.nr()).unwrap_or("?");
            writeln!(out, "if ($syscall == {}) # {name}", s.nr())?;
            for (i, layer) in s.layers().enumerate() {
                writeln!(out, "  # layer {}", i + 1)?;
                for rule in layer.rules {
                    out.write_str("  if (")?;
                    for (j, c) in rule.cmps.iter().enumerate() {
                        if j > 0 {
                            out.write_str(" && ")?;
                        }
                        write_cmp(out, c)?;
                    }
                    if rule.cmps.is_empty() {
                        out.write_str("true")?;
                    }
                    out.write_str(") ")?;
                    write_then(out, rule.then)?;
                    out.write_str("\n")?;
                }
                out.write_str("  else ")?;
                write_then(out, layer.otherwise)?;
                out.write_str("\n")?;
            }
            writeln!(out, "  action {};", s.fin())?;
        }
        for &(lo, hi) in f.unknown() {
            writeln!(
                out,
                "if ($syscall >= {lo} && $syscall <= {hi}) # unknown to the tables"
            )?;
            writeln!(out, "  action {};", f.unknown_action)?;
        }
        writeln!(out, "# default action\naction {};", f.default)?;
    }
    out.write_str("# pseudo filter code end\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::ARCHES;
    use crate::bpf::interp;
    use crate::sandbox::Sandbox;
    use crate::seccomp::model::{evaluate, Rule};
    use crate::seccomp::policy::{build, FilterOptions};
    use crate::seccomp::{byte_order, SeccompData};
    use std::boxed::Box;
    use std::string::String;
    use std::vec::Vec;

    const EDGES: [u64; 12] = [
        0,
        1,
        2,
        11,
        12,
        0x7fff_ffff,
        0xffff_ffff,
        0x1_0000_0000,
        0x1_0000_000b,
        0x8000_0000_0000_0000,
        0xffff_ffff_0000_0000,
        u64::MAX,
    ];

    fn check_agrees(filters: &[ArchFilter], prog: &Program, nr: u32, args: [u64; 6]) {
        for f in filters {
            let data = SeccompData {
                nr,
                arch: f.arch.audit,
                ip: 0,
                args,
            };
            let want = evaluate(filters, &data);
            let bytes = data.to_bytes(f.arch.endian);
            let got = interp::run(prog.as_slice(), &bytes, byte_order(f.arch.endian)).unwrap();
            assert_eq!(
                Action::from_ret(got),
                Some(want),
                "arch {} nr {nr:#x} args {args:x?}",
                f.arch.name
            );
        }
    }

    #[test]
    fn every_comparison_on_every_arch() {
        let cmps = [
            Cmp::Eq,
            Cmp::Ne,
            Cmp::Lt,
            Cmp::Le,
            Cmp::Gt,
            Cmp::Ge,
            Cmp::MaskedEq(0xffff_0000_0000_00ff),
            Cmp::MaskedEq(0x3),
        ];
        for arch in ARCHES {
            let mut f = ArchFilter::new(arch, Action::Allow);
            let mut nr = 1;
            for value in EDGES {
                for cmp in cmps {
                    for width in [Width::Int, Width::Long] {
                        let c = ArgCmp {
                            arg: 2,
                            width,
                            cmp,
                            value,
                        };
                        let rules = [Rule::new(&[c], Then::Act(Action::Errno(7))).unwrap()];
                        let layer = super::super::model::LayerSpec {
                            rules: &rules,
                            otherwise: Then::Act(Action::Errno(9)),
                        };
                        f.push(nr, &[layer], Action::Allow).unwrap();
                        nr += 1;
                    }
                }
            }
            let filters = [f];
            let prog = compile(&filters).unwrap();
            for n in 0..nr + 2 {
                for a in EDGES {
                    for b in [0, 0xffff_ffff] {
                        let arg = a ^ (b << 32);
                        check_agrees(&filters, &prog, n, [0, 0, arg, 0, 0, 0]);
                    }
                }
            }
        }
    }

    #[test]
    fn the_x32_bit_alone_selects_x32() {
        let x86_64 = ArchFilter::new(&crate::arch::X86_64, Action::Errno(1));
        let x32 = ArchFilter::new(&crate::arch::X32, Action::Errno(2));
        let sets = [
            std::vec![x86_64.clone()],
            std::vec![x32.clone()],
            std::vec![x86_64, x32],
        ];
        for filters in sets {
            let prog = compile(&filters).unwrap();
            for nr in [
                0,
                0x3fff_ffff,
                0x4000_0000,
                0x7fff_ffff,
                0x8000_0000,
                0xbfff_ffff,
                0xc000_0000,
                u32::MAX,
            ] {
                check_agrees(&filters, &prog, nr, [0; 6]);
            }
        }
    }

    #[test]
    fn default_policy_compiles_for_every_arch() {
        let sb = Box::<Sandbox>::default();
        let opts = FilterOptions {
            bpf_only: false,
            uid: None,
            gid: None,
            supervisor: 1234,
        };
        for arch in ARCHES {
            let f = build(&sb, &opts, arch).unwrap();
            let filters = [f];
            let prog = compile(&filters).unwrap();
            assert!(prog.len() <= 4096);
            for nr in 0..1024 {
                for a in [0, 1, 11, 0xffff_ffff] {
                    check_agrees(&filters, &prog, nr, [a, a, a, a, a, a]);
                }
            }
            // Another architecture is killed.
            let data = SeccompData {
                nr: 0,
                arch: 0x1234,
                ip: 0,
                args: [0; 6],
            };
            let bytes = data.to_bytes(arch.endian);
            let got = interp::run(prog.as_slice(), &bytes, byte_order(arch.endian)).unwrap();
            assert_eq!(Action::from_ret(got), Some(Action::KillProcess));
            let mut listing = String::new();
            write_pfc(&filters, &mut listing).unwrap();
            assert!(listing.contains("# invalid architecture action\naction KILL;\n"));
            assert!(listing.contains("# default action\naction ALLOW;\n"));
            let _: Vec<&str> = listing.lines().collect();
        }
    }
}
