//! Policy -> filter model -> BPF: the program always passes the kernel's structural checks
//! (the verifier) and, interpreted, gives for every probed syscall exactly the model's action,
//! which equals the independent reference's decision (core/src/seccomp/reference.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;
use syd_core::arch::ARCHES;
use syd_core::bpf::{interp, verify};
use syd_core::sandbox::{Cap, Lock, Mode, Sandbox};
use syd_core::seccomp::compile::compile;
use syd_core::seccomp::model::evaluate;
use syd_core::seccomp::policy::{build, FilterOptions};
use syd_core::seccomp::reference::reference_action;
use syd_core::seccomp::{byte_order, Action, SeccompData, DATA_LEN};

const MODES: [Mode; 4] = [Mode::Off, Mode::Bpf, Mode::Deny, Mode::Allow];

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.iter().copied();
    let mut next = || bytes.next().unwrap_or(0);
    let mut sb = Box::<Sandbox>::default();
    for cap in Cap::ALL {
        sb.task.set_mode(cap, MODES[usize::from(next() % 4)]);
    }
    sb.task.network = MODES[usize::from(next() % 4)];
    let flags = next();
    sb.task.lock = if flags & 1 != 0 { Lock::On } else { Lock::Off };
    sb.global.restrict_general = next() % 4;
    sb.global.restrict_identity_change = flags & 2 != 0;
    sb.global.restrict_io_control = flags & 4 != 0;
    sb.global.restrict_memory_map = flags & 8 != 0;
    sb.global.restrict_shared_memory_writable = flags & 16 != 0;
    sb.global.restrict_system_info = flags & 32 != 0;
    sb.global.allow_successful_bind = flags & 64 != 0;
    let opts = FilterOptions {
        bpf_only: flags & 128 != 0,
        uid: (next() & 1 != 0).then_some(1000),
        gid: (next() & 1 != 0).then_some(100),
        supervisor: u32::from(next()) + 1,
    };
    // One to three architectures.
    let count = 1 + usize::from(next() % 3);
    let mut filters = Vec::new();
    for _ in 0..count {
        let arch = ARCHES[usize::from(next()) % ARCHES.len()];
        if filters.iter().any(|f: &syd_core::seccomp::model::ArchFilter| std::ptr::eq(f.arch, arch)) {
            continue;
        }
        filters.push(build(&sb, &opts, arch).expect("built-in policies fit the model"));
    }
    let prog = match compile(&filters) {
        Ok(p) => p,
        // Too big is a clean error, never a broken program.
        Err(_) => return,
    };
    verify::verify(prog.as_slice(), DATA_LEN).expect("compiled programs verify");
    // Probe syscalls taken from the input, with arguments from the input.
    let rest: Vec<u8> = bytes.collect();
    for chunk in rest.chunks(20) {
        let mut c = chunk.iter().copied().chain(std::iter::repeat(0));
        let mut take = |n: usize| (0..n).fold(0u64, |v, _| (v << 8) | u64::from(c.next().unwrap_or(0)));
        let f = &filters[take(1) as usize % filters.len()];
        let count = f.arch.syscalls().count().max(1);
        let nr = f.arch.syscalls().nth(take(2) as usize % count).map_or(0, |(_, nr)| nr);
        let small = [0u64, 1, 2, 4, 11, 12, 0x40, 0x41, 0x241, 0xffff_ffff, u64::MAX];
        let mut args = [0u64; 6];
        for a in args.iter_mut() {
            let sel = take(1);
            *a = if sel < 128 { small[sel as usize % small.len()] } else { take(8) };
        }
        let d = SeccompData { nr, arch: f.arch.audit, ip: 0, args };
        let want = evaluate(&filters, &d);
        let got = interp::run(prog.as_slice(), &d.to_bytes(f.arch.endian), byte_order(f.arch.endian))
            .expect("programs run to a return");
        assert_eq!(Action::from_ret(got), Some(want), "{} nr {nr} {args:x?}", f.arch.name);
        // And the model agrees with the reference written independently from SPEC.
        let oracle = reference_action(&sb, &opts, f.arch, nr, args);
        assert_eq!(want, oracle, "reference: {} nr {nr} {args:x?}", f.arch.name);
    }
});
