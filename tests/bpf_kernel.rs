//! The kernel and the core's BPF interpreter and verifier agree.
//!
//! Test programs built with `syd_core::bpf::Builder` compute a value from the fields of
//! `struct seccomp_data` with every opcode the builder emits and return
//! `SECCOMP_RET_ERRNO | (value & 0xfff)` for getppid(2) (and allow everything else). A forked
//! child installs each program, calls getppid with chosen arguments and reports the result; the
//! interpreter must predict it from the same `seccomp_data`. Then programs the verifier rejects
//! must make seccomp(2) fail with EINVAL, and tricky ones it accepts must load.
//!
//! Without seccomp the test prints `skip: <reason>`; `SYD_TEST_REQUIRE_KERNEL=1` makes that a
//! failure.
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]
#![allow(unsafe_code)]
// A test crate: its helpers panic to report failures, like the #[test] functions they serve.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use syd_core::bpf::insn::*;
use syd_core::bpf::{run, verify, AluOp, BpfError, Builder, ByteOrder, Cmp, Insn, Target};

/// `SECCOMP_RET_ALLOW` (linux/seccomp.h).
const RET_ALLOW: u32 = 0x7fff_0000;
/// `SECCOMP_RET_ERRNO` (linux/seccomp.h); the low 16 bits are the errno.
const RET_ERRNO: u32 = 0x0005_0000;
/// `AUDIT_ARCH_X86_64` (linux/audit.h).
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// `sizeof(struct seccomp_data)`.
const DATA_LEN: u32 = 64;
/// The probed system call: harmless, ignores its arguments, never returns 0 or an error.
const NR: u32 = libc::SYS_getppid as u32;

/// Offsets in `struct seccomp_data` (linux/seccomp.h) on a little-endian ABI.
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
const fn lo(i: u32) -> u32 {
    16 + 8 * i
}
const fn hi(i: u32) -> u32 {
    16 + 8 * i + 4
}

type Body = fn(&mut Builder) -> Result<(), BpfError>;

/// `A = (A & 0xfff) | SECCOMP_RET_ERRNO; ret A`.
fn ret_errno_a(b: &mut Builder) -> Result<(), BpfError> {
    b.alu(AluOp::And, 0xfff)?;
    b.alu(AluOp::Or, RET_ERRNO)?;
    b.ret_a()
}

/// Wraps `body` (which computes a return value) into a filter that runs it for getppid only.
fn program(body: Body) -> Result<Vec<Insn>, BpfError> {
    let mut b = Builder::new(DATA_LEN);
    let allow = b.label()?;
    b.load_abs(OFF_NR)?;
    b.jump(Cmp::Eq, NR, Target::Next, allow.into())?;
    body(&mut b)?;
    b.bind(allow)?;
    b.ret(RET_ALLOW)?;
    Ok(b.finish()?.as_slice().to_vec())
}

/// `A ^= A >> 12; A ^= A >> 24`, so that every bit of A reaches the low 12 bits returned.
fn fold(b: &mut Builder) -> Result<(), BpfError> {
    for shift in [12, 24] {
        b.store(14)?;
        b.rsh(shift)?;
        b.tax()?;
        b.load_mem(14)?;
        b.alu_x(AluOp::Xor)?;
    }
    Ok(())
}

fn alu_k(b: &mut Builder) -> Result<(), BpfError> {
    b.load_abs(lo(0))?;
    b.alu(AluOp::Add, 0x1234_5678)?;
    b.alu(AluOp::Sub, 0x9abc_def0)?;
    b.alu(AluOp::Mul, 0x0001_0003)?;
    b.alu(AluOp::Xor, 0x5a5a_a5a5)?;
    b.alu(AluOp::Or, 0x0100_0010)?;
    b.alu(AluOp::And, 0xfff0_ff0f)?;
    b.lsh(3)?;
    b.rsh(5)?;
    b.neg()?;
    b.store(0)?;
    b.load_abs(hi(0))?;
    b.lsh(31)?;
    b.alu_x(AluOp::Add)?; // X is still 0
    b.store(1)?;
    b.load_abs(lo(1))?;
    b.rsh(31)?;
    b.tax()?;
    b.load_mem(0)?;
    b.alu_x(AluOp::Xor)?;
    b.load_x_mem(1)?;
    b.alu_x(AluOp::Add)?;
    fold(b)?;
    ret_errno_a(b)
}

fn alu_x(b: &mut Builder) -> Result<(), BpfError> {
    b.load_abs(lo(1))?;
    b.tax()?;
    b.load_abs(lo(0))?;
    b.alu_x(AluOp::Add)?;
    b.store(0)?; // M0 = lo0 + lo1
    b.load_abs(hi(0))?;
    b.alu(AluOp::Or, 3)?;
    b.tax()?;
    b.load_mem(0)?;
    b.alu_x(AluOp::Sub)?;
    b.alu_x(AluOp::Mul)?; // A = (M0 - (hi0 | 3)) * (hi0 | 3)
    b.load_x_imm(0x0f0f_0f0f)?;
    b.alu_x(AluOp::Xor)?;
    b.load_x_imm(0x0000_ff00)?;
    b.alu_x(AluOp::Or)?;
    b.store(1)?;
    b.load_abs(hi(1))?;
    b.alu(AluOp::Or, 0xffff_0fff)?;
    b.tax()?;
    b.load_mem(1)?;
    b.alu_x(AluOp::And)?;
    b.store(2)?;
    b.load_abs(hi(2))?;
    b.alu(AluOp::Xor, 0x8000_0001)?;
    b.tax()?;
    b.store_x(15)?;
    b.load_x_mem(15)?;
    b.load_mem(2)?;
    b.alu_x(AluOp::Add)?;
    b.tax()?;
    b.load_imm(0)?;
    b.txa()?;
    fold(b)?;
    ret_errno_a(b)
}

fn mem_and_arch(b: &mut Builder) -> Result<(), BpfError> {
    let bad_arch = b.label()?;
    b.load_abs(OFF_ARCH)?;
    b.jump(Cmp::Eq, AUDIT_ARCH_X86_64, Target::Next, bad_arch.into())?;
    b.store(3)?;
    b.load_abs(OFF_NR)?;
    b.store(7)?;
    b.load_imm(0x777)?;
    b.store(15)?;
    b.load_x_mem(3)?; // arch
    b.load_mem(7)?; // nr
    b.alu_x(AluOp::Add)?;
    b.load_x_mem(15)?;
    b.alu_x(AluOp::Xor)?;
    b.load_x_imm(4)?;
    b.load_abs(lo(5))?;
    b.alu_x(AluOp::Mul)?;
    b.load_x_mem(3)?;
    b.alu_x(AluOp::Add)?;
    ret_errno_a(b)?;
    b.bind(bad_arch)?;
    b.ret(RET_ERRNO | 1)
}

/// Sets bit `bit` of M[0] if the comparison holds.
fn flag(b: &mut Builder, cmp: Cmp, k: Option<u32>, bit: u32) -> Result<(), BpfError> {
    let skip = b.label()?;
    let set = b.label()?;
    match k {
        Some(k) => b.jump(cmp, k, set.into(), skip.into())?,
        None => b.jump_x(cmp, set.into(), skip.into())?,
    }
    b.bind(set)?;
    b.load_mem(0)?;
    b.alu(AluOp::Or, 1 << bit)?;
    b.store(0)?;
    b.bind(skip)?;
    b.load_imm(0)?; // A is reloaded by the next flag
    Ok(())
}

fn jumps_k(b: &mut Builder) -> Result<(), BpfError> {
    b.load_imm(0)?;
    b.store(0)?;
    let table: [(u32, Cmp, u32); 12] = [
        (lo(0), Cmp::Eq, 0),
        (lo(0), Cmp::Gt, 1),
        (lo(0), Cmp::Ge, 0xffff_ffff),
        (lo(0), Cmp::Set, 0x8000_0001),
        (hi(0), Cmp::Eq, 0),
        (hi(0), Cmp::Gt, 0x7fff_ffff),
        (hi(0), Cmp::Ge, 1),
        (hi(0), Cmp::Set, 0x8000_0000),
        (lo(1), Cmp::Gt, 0xffff_fffe),
        (hi(1), Cmp::Ge, 0x8000_0000),
        (lo(2), Cmp::Set, 2),
        (hi(3), Cmp::Eq, 0xffff_ffff),
    ];
    for (bit, &(off, cmp, k)) in (0u32..).zip(table.iter()) {
        b.load_abs(off)?;
        flag(b, cmp, Some(k), bit)?;
    }
    b.load_mem(0)?;
    ret_errno_a(b)
}

fn jumps_x(b: &mut Builder) -> Result<(), BpfError> {
    b.load_imm(0)?;
    b.store(0)?;
    let table: [(u32, u32, Cmp); 10] = [
        (lo(0), lo(1), Cmp::Eq),
        (lo(0), lo(1), Cmp::Gt),
        (lo(0), lo(1), Cmp::Ge),
        (lo(0), lo(1), Cmp::Set),
        (hi(0), hi(1), Cmp::Gt),
        (hi(0), hi(1), Cmp::Ge),
        (hi(0), hi(1), Cmp::Set),
        (lo(2), hi(2), Cmp::Eq),
        (lo(3), hi(4), Cmp::Gt),
        (hi(5), lo(5), Cmp::Ge),
    ];
    for (bit, &(a, x, cmp)) in (0u32..).zip(table.iter()) {
        b.load_abs(x)?;
        b.tax()?;
        b.load_abs(a)?;
        flag(b, cmp, None, bit)?;
    }
    b.load_mem(0)?;
    ret_errno_a(b)
}

/// Far jumps: both branches of conditionals and `ja` over hundreds of instructions, so the
/// resolver emits trampolines with 32-bit `ja` offsets.
fn far(b: &mut Builder) -> Result<(), BpfError> {
    let (t, f, end) = (b.label()?, b.label()?, b.label()?);
    b.load_abs(lo(0))?;
    b.jump(Cmp::Gt, 0x8000_0000, t.into(), f.into())?;
    for i in 0..300 {
        b.alu(AluOp::Add, i)?;
    }
    b.ret(RET_ERRNO | 4000)?; // unreachable
    b.bind(f)?;
    b.load_abs(hi(0))?;
    for i in 0..400 {
        b.alu(AluOp::Xor, i * 7)?;
    }
    b.goto(end)?;
    b.bind(t)?;
    b.load_abs(lo(1))?;
    for i in 0..300 {
        b.alu(AluOp::Add, i)?;
    }
    b.bind(end)?;
    ret_errno_a(b)
}

/// The interpreter's prediction of what getppid returns under `prog` with `args`.
fn predict(prog: &[Insn], args: [u64; 6], ppid: i64) -> i64 {
    let mut data = [0u8; DATA_LEN as usize];
    data[0..4].copy_from_slice(&NR.to_le_bytes());
    data[4..8].copy_from_slice(&AUDIT_ARCH_X86_64.to_le_bytes());
    // instruction_pointer (offset 8) is left 0: no test program reads it.
    for (i, a) in args.iter().enumerate() {
        data[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_le_bytes());
    }
    let ret = run(prog, &data, ByteOrder::Little).expect("interpreter");
    match ret & 0xffff_0000 {
        RET_ALLOW => ppid,
        RET_ERRNO => -i64::from((ret & 0xffff).min(4095)),
        other => panic!("unexpected action {other:#x}"),
    }
}

/// What the child got to.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Outcome {
    /// prctl(PR_SET_NO_NEW_PRIVS) failed with this errno.
    NoNewPrivs(i64),
    /// seccomp(SECCOMP_SET_MODE_FILTER) failed with this errno.
    Seccomp(i64),
    /// The filter loaded; getppid returned this (a negative errno on failure).
    Ran(i64),
}

/// Installs `prog` in a forked child and calls getppid there with `args`.
fn in_child(prog: &[Insn], args: [u64; 6]) -> Outcome {
    assert_eq!(size_of::<Insn>(), size_of::<libc::sock_filter>());
    let fprog = libc::sock_fprog {
        len: u16::try_from(prog.len()).expect("program length"),
        filter: prog.as_ptr().cast::<libc::sock_filter>().cast_mut(),
    };
    let mut fds: [libc::c_int; 2] = [0; 2];
    // SAFETY: fds is a writable array of two ints, as pipe2(2) requires.
    let r = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(r, 0, "pipe2");
    // SAFETY: the child below makes only raw system calls (no allocation, no locks, no
    // unwinding) and leaves with _exit, so forking a multi-threaded test process is sound.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork");
    if pid == 0 {
        let fd = fds[1];
        // SAFETY: every call gets integers or a pointer to a live local (fprog, whose filter
        // points into `prog`, still mapped in the child and laid out as struct sock_filter);
        // errno is read through this thread's own errno location.
        unsafe {
            libc::close(fds[0]);
            let one: libc::c_ulong = 1;
            let zero: libc::c_ulong = 0;
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, one, zero, zero, zero) != 0 {
                report(fd, 1, i64::from(*libc::__errno_location()));
            }
            let r = libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0 as libc::c_uint,
                &fprog as *const libc::sock_fprog,
            );
            if r != 0 {
                report(fd, 2, i64::from(*libc::__errno_location()));
            }
            let r = libc::syscall(
                libc::SYS_getppid,
                args[0],
                args[1],
                args[2],
                args[3],
                args[4],
                args[5],
            );
            let v = if r == -1 {
                -i64::from(*libc::__errno_location())
            } else {
                r
            };
            report(fd, 3, v);
        }
    }
    // SAFETY: closing our copy of the write end, a descriptor this function owns.
    unsafe { libc::close(fds[1]) };
    let mut msg = [0i64; 2];
    // SAFETY: msg is a writable buffer of size_of_val(&msg) bytes.
    let n = unsafe { libc::read(fds[0], msg.as_mut_ptr().cast(), size_of_val(&msg)) };
    let mut status = 0;
    // SAFETY: waiting for our own child; status is a writable int; then closing our read end.
    unsafe {
        libc::waitpid(pid, &mut status, 0);
        libc::close(fds[0]);
    }
    assert_eq!(n, 16, "child report (wait status {status:#x})");
    match msg {
        [1, e] => Outcome::NoNewPrivs(e),
        [2, e] => Outcome::Seccomp(e),
        [3, v] => Outcome::Ran(v),
        other => panic!("bad report {other:?}"),
    }
}

/// Child side: writes `[stage, value]` to `fd` and exits, without allocating.
fn report(fd: libc::c_int, stage: i64, value: i64) -> ! {
    let msg = [stage, value];
    // SAFETY: msg is a live local of size_of_val(&msg) bytes; _exit(2) never returns.
    unsafe {
        libc::write(fd, msg.as_ptr().cast(), size_of_val(&msg));
        libc::_exit(0)
    }
}

/// Whether seccomp filters work here; prints the skip line if not.
fn kernel_ready() -> bool {
    let allow = [Insn::stmt(BPF_RET | BPF_K, RET_ALLOW)];
    let why = match in_child(&allow, [0; 6]) {
        Outcome::Ran(v) if v > 0 => return true,
        other => format!("seccomp filter unavailable ({other:?})"),
    };
    if std::env::var("SYD_TEST_REQUIRE_KERNEL").as_deref() == Ok("1") {
        panic!("{why} and SYD_TEST_REQUIRE_KERNEL=1");
    }
    println!("skip: {why}");
    false
}

const EDGES: [u64; 6] = [0, 1, (1 << 32) - 1, 1 << 32, 1 << 63, u64::MAX];

fn arg_vectors() -> Vec<[u64; 6]> {
    let mut v: Vec<[u64; 6]> = (0..6)
        .map(|i| std::array::from_fn(|j| EDGES[(i + j) % 6]))
        .collect();
    v.push([2, 0x8000_0000, 0x1_0000_0001, 0xfff, 0x7fff_ffff, 3]);
    v.push([
        0xdead_beef_0bad_f00d,
        2,
        0xffff_fffe,
        0xffff_ffff_0000_0000,
        5,
        9,
    ]);
    v
}

#[test]
fn kernel_and_interpreter_agree() {
    if !kernel_ready() {
        return;
    }
    // SAFETY: getpid(2) takes no arguments.
    let ppid = i64::from(unsafe { libc::getpid() });
    let bodies: [(&str, Body); 6] = [
        ("alu_k", alu_k),
        ("alu_x", alu_x),
        ("mem_and_arch", mem_and_arch),
        ("jumps_k", jumps_k),
        ("jumps_x", jumps_x),
        ("far", far),
    ];
    let mut seen = [false; 256];
    let mut distinct = std::collections::BTreeSet::new();
    for (name, body) in bodies {
        let prog = program(body).unwrap_or_else(|e| panic!("{name}: {e}"));
        for i in &prog {
            seen[usize::from(i.code)] = true;
        }
        for args in arg_vectors() {
            let want = predict(&prog, args, ppid);
            let got = in_child(&prog, args);
            assert_eq!(got, Outcome::Ran(want), "{name} args {args:#x?}");
            distinct.insert((name, want));
        }
    }
    // Every opcode the builder can emit was checked against the kernel.
    let emitted = (0..256).filter(|&c| seen[c]).count();
    assert_eq!(emitted, 35);
    assert!(
        distinct.len() > 30,
        "the programs discriminate: {distinct:?}"
    );
}

#[test]
fn kernel_and_verifier_agree() {
    if !kernel_ready() {
        return;
    }
    const S: fn(u16, u32) -> Insn = Insn::stmt;
    const J: fn(u16, u32, u8, u8) -> Insn = Insn::jump;
    const RET: u16 = BPF_RET | BPF_K;
    const LD: u16 = BPF_LD | BPF_W | BPF_ABS;
    const JEQ: u16 = BPF_JMP | BPF_JEQ | BPF_K;
    const JA: u16 = BPF_JMP | BPF_JA;
    let long = vec![S(RET, RET_ALLOW); 4097];
    let max = vec![S(RET, RET_ALLOW); 4096];
    let table: Vec<(&str, Vec<Insn>, bool)> = vec![
        ("4096 instructions", max, true),
        ("4097 instructions", long, false),
        ("empty", vec![], false),
        ("load at 60", vec![S(LD, 60), S(RET, RET_ALLOW)], true),
        ("load at 64", vec![S(LD, 64), S(RET, RET_ALLOW)], false),
        ("load at 2", vec![S(LD, 2), S(RET, RET_ALLOW)], false),
        (
            "half-word load",
            vec![S(BPF_LD | BPF_H | BPF_ABS, 0), S(RET, RET_ALLOW)],
            false,
        ),
        ("no final ret", vec![S(RET, RET_ALLOW), S(LD, 0)], false),
        (
            "jt past end",
            vec![J(JEQ, 0, 1, 0), S(RET, RET_ALLOW)],
            false,
        ),
        ("ja past end", vec![S(JA, 1), S(RET, RET_ALLOW)], false),
        (
            "lsh 31",
            vec![S(BPF_ALU | BPF_LSH | BPF_K, 31), S(RET, RET_ALLOW)],
            true,
        ),
        (
            "lsh 32",
            vec![S(BPF_ALU | BPF_LSH | BPF_K, 32), S(RET, RET_ALLOW)],
            false,
        ),
        ("st M[16]", vec![S(BPF_ST, 16), S(RET, RET_ALLOW)], false),
        (
            "read before write",
            vec![S(BPF_LD | BPF_MEM, 0), S(RET, RET_ALLOW)],
            false,
        ),
        (
            "written on one branch only",
            vec![
                J(JEQ, 0, 0, 1),
                S(BPF_ST, 2),
                S(BPF_LD | BPF_MEM, 2),
                S(RET, RET_ALLOW),
            ],
            false,
        ),
        (
            "written on both branches",
            vec![
                J(JEQ, 0, 0, 2),
                S(BPF_ST, 2),
                S(JA, 1),
                S(BPF_STX, 2),
                S(BPF_LD | BPF_MEM, 2),
                S(RET, RET_ALLOW),
            ],
            true,
        ),
        (
            "state kept across ret",
            vec![
                J(JEQ, 0, 0, 2),
                S(BPF_ST, 1),
                S(JA, 1),
                S(RET, RET_ALLOW),
                S(BPF_LD | BPF_MEM, 1),
                S(RET, RET_ALLOW),
            ],
            false,
        ),
        (
            "unreachable read after ja",
            vec![S(JA, 1), S(BPF_LD | BPF_MEM, 9), S(RET, RET_ALLOW)],
            true,
        ),
    ];
    for (name, prog, ok) in table {
        let ours = verify(&prog, DATA_LEN);
        assert_eq!(ours.is_ok(), ok, "verifier on {name}: {ours:?}");
        let kernel = in_child(&prog, [0; 6]);
        if ok {
            assert!(
                matches!(kernel, Outcome::Ran(v) if v > 0),
                "kernel on {name}: {kernel:?}"
            );
        } else {
            assert_eq!(
                kernel,
                Outcome::Seccomp(i64::from(libc::EINVAL)),
                "kernel on {name}"
            );
        }
    }
}
