//! Prints, for each architecture, the size of the seccomp program built for two policies and how
//! many instructions it executes per syscall, to show that dispatch is logarithmic.
//!
//! Run with `cargo run -p syd-core --example filter_report`. For every syscall number of the
//! ABI's table (arguments all zero) the program is run by the interpreter, counting the
//! instructions executed; the table gives the maximum and the mean, and the maximum over the
//! syscalls that have no argument rules (`dispatch`: finding the syscall and returning, without
//! the comparisons of rules such as the ioctl list), with the syscall that took the most steps.
//! `entries` is the number of syscalls that have an entry in the filter model (the binary search
//! is over these); `log2` is its base-2 logarithm.

use syd_core::arch::{Arch, ARCHES, X32, X86, X86_64};
use syd_core::bpf::run_counted;
use syd_core::sandbox::{Cap, Mode, Sandbox};
use syd_core::seccomp::compile::compile;
use syd_core::seccomp::model::ArchFilter;
use syd_core::seccomp::policy::{build, FilterOptions};
use syd_core::seccomp::{byte_order, SeccompData};

/// One line of the report.
struct Row {
    insns: usize,
    entries: usize,
    calls: usize,
    max: usize,
    slowest: &'static str,
    dispatch: usize,
    mean: f64,
}

/// Builds `sb` for each ABI of `set` and measures the program over every syscall of every ABI.
fn measure(sb: &Sandbox, opts: &FilterOptions, set: &[&'static Arch]) -> Result<Row, String> {
    let mut filters: Vec<ArchFilter> = Vec::new();
    for arch in set {
        filters.push(build(sb, opts, arch).map_err(|e| format!("{}: {e}", arch.name))?);
    }
    let prog = compile(&filters).map_err(|e| e.to_string())?;
    let entries = filters.iter().map(|f| f.syscalls().count()).sum();
    let (mut calls, mut max, mut total, mut dispatch) = (0usize, 0usize, 0usize, 0usize);
    let mut slowest = "";
    for (arch, filter) in set.iter().zip(&filters) {
        for (name, nr) in arch.syscalls() {
            let data = SeccompData {
                nr,
                arch: arch.audit,
                ip: 0,
                args: [0; 6],
            };
            let bytes = data.to_bytes(arch.endian);
            let (_, steps) = run_counted(prog.as_slice(), &bytes, byte_order(arch.endian))
                .map_err(|e| format!("{}: {e}", arch.name))?;
            calls += 1;
            if steps > max {
                max = steps;
                slowest = name;
            }
            total += steps;
            let ruled = filter
                .syscall(nr)
                .is_some_and(|s| s.layers().any(|l| !l.rules.is_empty()));
            if !ruled {
                dispatch = dispatch.max(steps);
            }
        }
    }
    Ok(Row {
        insns: prog.len(),
        entries,
        calls,
        max,
        slowest,
        dispatch,
        // Syscall counts and step totals stay far below 2^52: the conversion is exact.
        mean: total as f64 / calls.max(1) as f64,
    })
}

/// A paludis-like policy: read off, write deny, network deny, exec off, identity changes free.
fn paludis() -> Box<Sandbox> {
    let mut sb = Box::<Sandbox>::default();
    sb.task.set_mode(Cap::Read, Mode::Off);
    sb.task.set_mode(Cap::Write, Mode::Deny);
    sb.task.set_mode(Cap::Exec, Mode::Off);
    sb.task.network = Mode::Deny;
    sb.global.restrict_identity_change = false;
    sb
}

fn main() {
    let opts = FilterOptions {
        bpf_only: false,
        uid: None,
        gid: None,
        supervisor: 1,
    };
    let policies = [
        ("default", Box::<Sandbox>::default()),
        ("paludis", paludis()),
    ];
    println!(
        "{:<16} {:<8} {:>6} {:>7} {:>5} {:>5} {:>4} {:>5} {:>8}  slowest",
        "arch", "policy", "insns", "entries", "log2", "calls", "max", "mean", "dispatch"
    );
    let mut sets: Vec<(String, Vec<&'static Arch>)> = ARCHES
        .iter()
        .map(|a| (a.name.to_string(), vec![*a]))
        .collect();
    sets.push(("x86_64+x86+x32".to_string(), vec![&X86_64, &X86, &X32]));
    let mut failed = false;
    for (name, set) in &sets {
        for (label, sb) in &policies {
            match measure(sb, &opts, set) {
                Ok(r) => println!(
                    "{:<16} {:<8} {:>6} {:>7} {:>5.1} {:>5} {:>4} {:>5.1} {:>8}  {}",
                    name,
                    label,
                    r.insns,
                    r.entries,
                    // Entry counts are small integers: exact in f64.
                    (r.entries.max(1) as f64).log2(),
                    r.calls,
                    r.max,
                    r.mean,
                    r.dispatch,
                    r.slowest
                ),
                Err(e) => {
                    eprintln!("filter_report: {name} {label}: {e}");
                    failed = true;
                }
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}
