//! The kernel enforces the filters that `seccomp::policy::build` and `seccomp::compile::compile`
//! make, as the policy says.
//!
//! Each case builds a program for a policy in `-b` mode (no user-notification rules: nothing
//! would answer them here), installs it in a forked child with `PR_SET_NO_NEW_PRIVS` and
//! `seccomp(SECCOMP_SET_MODE_FILTER)`, makes one system call there and reports its result (or
//! dies, which the parent sees through `waitpid`). The cases cover the level-0 deny list, the
//! identity rules, write `bpf`, level 1, `io_control`, `memory_map`, and the architecture check
//! with a 32-bit `int 0x80` call and an x32-numbered call from the 64-bit child.
//!
//! Without seccomp the test prints `skip: <reason>`; `SYD_TEST_REQUIRE_KERNEL=1` makes that a
//! failure. Checks that need root (a successful `setuid`) print `skip:` for other users.
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]
#![allow(unsafe_code)]
// A test crate: its helpers panic to report failures, like the #[test] functions they serve.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use syd_core::arch::{Arch, X32, X86, X86_64};
use syd_core::bpf::Insn;
use syd_core::sandbox::{Cap, Mode, Sandbox};
use syd_core::seccomp::compile::compile;
use syd_core::seccomp::policy::{build, FilterOptions};

/// `FIOCLEX` (asm-generic/ioctls.h): not in the `io_control` list.
const FIOCLEX: libc::c_ulong = 0x5451;
/// `TCGETS` (asm-generic/ioctls.h): in the `io_control` list.
const TCGETS: libc::c_ulong = 0x5401;
/// getpid(2) on i386 (arch/x86/entry/syscalls/syscall_32.tbl).
const I386_GETPID: u64 = 20;
/// `__X32_SYSCALL_BIT` | getpid(2) on x86_64 (39): the x32 getpid.
const X32_GETPID: i64 = 0x4000_0000 | 39;
/// The uid and gid of `nobody`.
const NOBODY: libc::c_long = 65534;

/// What the child got to.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Outcome {
    /// prctl(PR_SET_NO_NEW_PRIVS) failed with this errno.
    NoNewPrivs(i64),
    /// seccomp(SECCOMP_SET_MODE_FILTER) failed with this errno.
    Seccomp(i64),
    /// The filter loaded and the probe returned this (a negative errno on failure).
    Ran(i64),
    /// The child exited with this code before reporting.
    Exited(i32),
    /// The child was killed by this signal.
    Killed(i32),
}

/// A probe runs in the child after the filter is installed: raw system calls only (no
/// allocation, no locks). It gets the write end of the report pipe, a descriptor it may use.
type Probe = fn(libc::c_int) -> i64;

/// The return value of a raw system call as a value or a negative errno.
fn ret(r: libc::c_long) -> i64 {
    if r == -1 {
        // SAFETY: reads this thread's errno, set by the call just made.
        -i64::from(unsafe { *libc::__errno_location() })
    } else {
        r
    }
}

/// Installs `prog` in a forked child, runs `probe` there and reports what happened.
fn in_child(prog: &[Insn], probe: Probe) -> Outcome {
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
        // points into `prog`, still mapped in the child and laid out as struct sock_filter).
        unsafe {
            libc::close(fds[0]);
            let one: libc::c_ulong = 1;
            let zero: libc::c_ulong = 0;
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, one, zero, zero, zero) != 0 {
                report(fd, 1, ret(-1));
            }
            let r = libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0 as libc::c_uint,
                &fprog as *const libc::sock_fprog,
            );
            if r != 0 {
                report(fd, 2, ret(-1));
            }
        }
        report(fd, 3, probe(fd));
    }
    // SAFETY: closing our copy of the write end, a descriptor this function owns.
    unsafe { libc::close(fds[1]) };
    let mut msg = [0i64; 2];
    // SAFETY: msg is a writable buffer of size_of_val(&msg) bytes.
    let n = unsafe { libc::read(fds[0], msg.as_mut_ptr().cast(), size_of_val(&msg)) };
    let mut status = 0;
    // SAFETY: waiting for our own child; status is a writable int; then closing our read end.
    unsafe {
        assert_eq!(libc::waitpid(pid, &mut status, 0), pid, "waitpid");
        libc::close(fds[0]);
    }
    if n == 0 {
        if libc::WIFSIGNALED(status) {
            return Outcome::Killed(libc::WTERMSIG(status));
        }
        return Outcome::Exited(libc::WEXITSTATUS(status));
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

/// `-b` with the supervisor's pid set to ours (the signal rules are notify-only anyway).
fn bpf_only() -> FilterOptions {
    FilterOptions {
        bpf_only: true,
        uid: None,
        gid: None,
        // SAFETY: getpid(2) takes no arguments.
        supervisor: u32::try_from(unsafe { libc::getpid() }).unwrap(),
    }
}

/// The program for `sb` and `opts` over the ABIs of `set`.
fn program(sb: &Sandbox, opts: &FilterOptions, set: &[&'static Arch]) -> Vec<Insn> {
    let filters: Vec<_> = set.iter().map(|a| build(sb, opts, a).unwrap()).collect();
    compile(&filters).unwrap().as_slice().to_vec()
}

/// Whether seccomp filters work here; prints the skip line if not.
fn kernel_ready() -> bool {
    let prog = program(&Box::<Sandbox>::default(), &bpf_only(), &[&X86_64]);
    let why = match in_child(&prog, getpid) {
        Outcome::Ran(v) if v > 0 => return true,
        other => format!("seccomp filter unavailable ({other:?})"),
    };
    if std::env::var("SYD_TEST_REQUIRE_KERNEL").as_deref() == Ok("1") {
        panic!("{why} and SYD_TEST_REQUIRE_KERNEL=1");
    }
    println!("skip: {why}");
    false
}

fn is_root() -> bool {
    // SAFETY: geteuid(2) takes no arguments and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn getpid(_: libc::c_int) -> i64 {
    // SAFETY: no arguments.
    ret(unsafe { libc::syscall(libc::SYS_getpid) })
}

/// A probe's name, the probe, and whether an outcome is the expected one.
type Case<'a> = (&'a str, Probe, fn(Outcome) -> bool);

/// Runs each case in its own child under `prog`.
fn expect(policy: &str, prog: &[Insn], table: &[Case<'_>]) {
    for &(name, probe, ok) in table {
        let got = in_child(prog, probe);
        assert!(ok(got), "{policy}: {name}: {got:?}");
    }
}

const fn ecanceled(o: Outcome) -> bool {
    matches!(o, Outcome::Ran(v) if v == -(libc::ECANCELED as i64))
}

const fn eperm(o: Outcome) -> bool {
    matches!(o, Outcome::Ran(v) if v == -(libc::EPERM as i64))
}

const fn einval(o: Outcome) -> bool {
    matches!(o, Outcome::Ran(v) if v == -(libc::EINVAL as i64))
}

const fn succeeded(o: Outcome) -> bool {
    matches!(o, Outcome::Ran(v) if v >= 0)
}

#[test]
fn level_0_cancels_the_deny_list() {
    if !kernel_ready() {
        return;
    }
    let prog = program(&Box::<Sandbox>::default(), &bpf_only(), &[&X86_64]);
    expect(
        "level 0",
        &prog,
        &[
            ("mount", mount_nulls, ecanceled),
            ("ptrace", ptrace_bad_request, ecanceled),
            ("unshare", unshare_nothing, ecanceled),
            ("getpid", getpid, |o| matches!(o, Outcome::Ran(v) if v > 0)),
        ],
    );
}

fn mount_nulls(_: libc::c_int) -> i64 {
    // SAFETY: NULL pointers make mount(2) fail with EFAULT if the filter lets it through.
    ret(unsafe { libc::syscall(libc::SYS_mount, 0usize, 0usize, 0usize, 0usize, 0usize) })
}

fn ptrace_bad_request(_: libc::c_int) -> i64 {
    // SAFETY: an unknown request fails (EIO/ESRCH) if the filter lets it through.
    ret(unsafe { libc::syscall(libc::SYS_ptrace, 0xffff_usize, 1usize, 0usize, 0usize) })
}

fn unshare_nothing(_: libc::c_int) -> i64 {
    // SAFETY: unshare(0) changes nothing.
    ret(unsafe { libc::syscall(libc::SYS_unshare, 0usize) })
}

fn setuid_root(_: libc::c_int) -> i64 {
    // SAFETY: integer argument; the child is single-threaded and exits right after.
    ret(unsafe { libc::syscall(libc::SYS_setuid, 0 as libc::c_long) })
}

fn setuid_nobody(_: libc::c_int) -> i64 {
    // SAFETY: as setuid_root.
    ret(unsafe { libc::syscall(libc::SYS_setuid, NOBODY) })
}

fn setuid_1000(_: libc::c_int) -> i64 {
    // SAFETY: as setuid_root.
    ret(unsafe { libc::syscall(libc::SYS_setuid, 1000 as libc::c_long) })
}

fn setgid_root(_: libc::c_int) -> i64 {
    // SAFETY: as setuid_root.
    ret(unsafe { libc::syscall(libc::SYS_setgid, 0 as libc::c_long) })
}

fn setgid_nobody(_: libc::c_int) -> i64 {
    // SAFETY: as setuid_root.
    ret(unsafe { libc::syscall(libc::SYS_setgid, NOBODY) })
}

#[test]
fn identity_changes_below_the_threshold_fail_with_einval() {
    if !kernel_ready() {
        return;
    }
    let prog = program(&Box::<Sandbox>::default(), &bpf_only(), &[&X86_64]);
    expect(
        "identity threshold",
        &prog,
        &[
            ("setuid(0)", setuid_root, einval),
            ("setgid(0)", setgid_root, einval),
        ],
    );
    if !is_root() {
        println!("skip: not root, setuid/setgid(65534) success not checked");
        return;
    }
    expect(
        "identity threshold",
        &prog,
        &[
            ("setuid(65534)", setuid_nobody, succeeded),
            ("setgid(65534)", setgid_nobody, succeeded),
        ],
    );
}

#[test]
fn pinned_identity_allows_only_the_given_user() {
    if !kernel_ready() {
        return;
    }
    let opts = FilterOptions {
        uid: Some(1000),
        gid: Some(100),
        ..bpf_only()
    };
    let prog = program(&Box::<Sandbox>::default(), &opts, &[&X86_64]);
    expect(
        "-U 1000 -G 100",
        &prog,
        &[
            ("setuid(65534)", setuid_nobody, eperm),
            ("setuid(0)", setuid_root, eperm),
            ("setgid(65534)", setgid_nobody, eperm),
        ],
    );
    if !is_root() {
        println!("skip: not root, setuid(1000) success not checked");
        return;
    }
    expect(
        "-U 1000 -G 100",
        &prog,
        &[("setuid(1000)", setuid_1000, succeeded)],
    );
}

const DEV_NULL: &[u8] = b"/dev/null\0";

fn open_write(_: libc::c_int) -> i64 {
    // SAFETY: DEV_NULL is a NUL-terminated static string.
    ret(unsafe { libc::syscall(libc::SYS_open, DEV_NULL.as_ptr(), libc::O_WRONLY) })
}

fn open_read(_: libc::c_int) -> i64 {
    // SAFETY: as open_write.
    ret(unsafe { libc::syscall(libc::SYS_open, DEV_NULL.as_ptr(), libc::O_RDONLY) })
}

fn openat_read(_: libc::c_int) -> i64 {
    // SAFETY: as open_write.
    ret(unsafe {
        libc::syscall(
            libc::SYS_openat,
            libc::AT_FDCWD,
            DEV_NULL.as_ptr(),
            libc::O_RDONLY,
        )
    })
}

fn openat_create(_: libc::c_int) -> i64 {
    // SAFETY: as open_write; /dev/null exists, so O_CREAT creates nothing.
    ret(unsafe {
        libc::syscall(
            libc::SYS_openat,
            libc::AT_FDCWD,
            DEV_NULL.as_ptr(),
            libc::O_RDONLY | libc::O_CREAT,
            0o600,
        )
    })
}

#[test]
fn write_bpf_denies_writing_opens() {
    if !kernel_ready() {
        return;
    }
    let mut sb = Box::<Sandbox>::default();
    sb.task.set_mode(Cap::Write, Mode::Bpf);
    let prog = program(&sb, &bpf_only(), &[&X86_64]);
    expect(
        "write bpf",
        &prog,
        &[
            ("open(O_WRONLY)", open_write, eperm),
            ("open(O_RDONLY)", open_read, succeeded),
        ],
    );
}

fn socket_unix(_: libc::c_int) -> i64 {
    // SAFETY: integer arguments.
    ret(unsafe {
        libc::syscall(
            libc::SYS_socket,
            libc::AF_UNIX,
            libc::SOCK_STREAM,
            0 as libc::c_int,
        )
    })
}

fn exit_group_7(_: libc::c_int) -> i64 {
    // SAFETY: ends the child with status 7.
    unsafe { libc::syscall(libc::SYS_exit_group, 7 as libc::c_int) };
    unreachable!("exit_group returned")
}

#[test]
fn level_1_permits_reading_only() {
    if !kernel_ready() {
        return;
    }
    let mut sb = Box::<Sandbox>::default();
    sb.global.restrict_general = 1;
    let prog = program(&sb, &bpf_only(), &[&X86_64]);
    expect(
        "level 1",
        &prog,
        &[
            ("socket", socket_unix, eperm),
            ("openat(O_RDONLY)", openat_read, succeeded),
            ("openat(O_CREAT)", openat_create, eperm),
            ("exit_group(7)", exit_group_7, |o| o == Outcome::Exited(7)),
            ("getpid", getpid, succeeded),
        ],
    );
}

fn ioctl_tcgets(fd: libc::c_int) -> i64 {
    let mut buf = [0u8; 64]; // larger than struct termios (60 bytes)
                             // SAFETY: fd is the child's report pipe; buf is a writable local large enough for TCGETS.
    ret(unsafe { libc::syscall(libc::SYS_ioctl, fd, TCGETS, buf.as_mut_ptr()) })
}

fn ioctl_fioclex(fd: libc::c_int) -> i64 {
    // SAFETY: FIOCLEX on the report pipe, which is close-on-exec already.
    ret(unsafe { libc::syscall(libc::SYS_ioctl, fd, FIOCLEX) })
}

#[test]
fn io_control_permits_only_the_listed_requests() {
    if !kernel_ready() {
        return;
    }
    let mut sb = Box::<Sandbox>::default();
    sb.global.restrict_io_control = true;
    let prog = program(&sb, &bpf_only(), &[&X86_64]);
    expect(
        "io_control",
        &prog,
        &[
            // A pipe is no tty: the kernel's answer, not the filter's.
            (
                "ioctl(TCGETS)",
                ioctl_tcgets,
                |o| matches!(o, Outcome::Ran(v) if v != -i64::from(libc::EPERM)),
            ),
            ("ioctl(FIOCLEX)", ioctl_fioclex, eperm),
        ],
    );
    // Without the option the same request reaches the kernel.
    let prog = program(&Box::<Sandbox>::default(), &bpf_only(), &[&X86_64]);
    expect(
        "level 0",
        &prog,
        &[("ioctl(FIOCLEX)", ioctl_fioclex, succeeded)],
    );
}

fn mmap_with(flags: libc::c_int) -> i64 {
    // SAFETY: an anonymous mapping of one page at an address of the kernel's choice; the child
    // exits without touching it.
    let p = unsafe {
        libc::syscall(
            libc::SYS_mmap,
            0usize,
            4096usize,
            libc::PROT_READ | libc::PROT_WRITE,
            flags,
            -1 as libc::c_int,
            0usize,
        )
    };
    // Addresses are positive on x86_64 user space; errors are -1 with errno.
    ret(p)
}

fn mmap_shared(_: libc::c_int) -> i64 {
    mmap_with(libc::MAP_SHARED | libc::MAP_ANONYMOUS)
}

fn mmap_private(_: libc::c_int) -> i64 {
    mmap_with(libc::MAP_PRIVATE | libc::MAP_ANONYMOUS)
}

#[test]
fn memory_map_denies_shared_mappings() {
    if !kernel_ready() {
        return;
    }
    let mut sb = Box::<Sandbox>::default();
    sb.global.restrict_memory_map = true;
    let prog = program(&sb, &bpf_only(), &[&X86_64]);
    expect(
        "memory_map",
        &prog,
        &[
            ("mmap(RW, SHARED|ANON)", mmap_shared, eperm),
            ("mmap(RW, PRIVATE|ANON)", mmap_private, succeeded),
        ],
    );
}

/// getpid through the i386 entry point `int 0x80`, from this 64-bit process.
fn int80_getpid(_: libc::c_int) -> i64 {
    let mut rax = I386_GETPID;
    // SAFETY: `int 0x80` with eax = 20 makes the i386 getpid(2), which takes no arguments and
    // touches no memory; r8-r11 are declared clobbered because kernels before 4.17 zeroed them
    // on this path.
    unsafe {
        core::arch::asm!(
            "int 0x80",
            inout("rax") rax,
            out("r8") _,
            out("r9") _,
            out("r10") _,
            out("r11") _,
            options(nostack),
        );
    }
    // eax holds a pid or a negative errno, as a 32-bit value.
    i64::from(rax as u32 as i32)
}

/// 1 if the i386 getpid gives the same pid as the x86_64 one, else what it gave.
fn int80_getpid_is_ours(fd: libc::c_int) -> i64 {
    let pid = int80_getpid(fd);
    if pid == getpid(fd) {
        1
    } else {
        pid
    }
}

fn x32_getpid(_: libc::c_int) -> i64 {
    // SAFETY: a syscall number with the x32 bit and no arguments.
    ret(unsafe { libc::syscall(X32_GETPID) })
}

#[test]
fn calls_of_abis_outside_the_set_are_killed() {
    if !kernel_ready() {
        return;
    }
    let sb = Box::<Sandbox>::default();
    let sigsys = |o| o == Outcome::Killed(libc::SIGSYS);
    let x86_64_only = program(&sb, &bpf_only(), &[&X86_64]);
    let with_x86 = program(&sb, &bpf_only(), &[&X86_64, &X86]);
    let with_x32 = program(&sb, &bpf_only(), &[&X86_64, &X32]);
    expect(
        "x86_64 only",
        &x86_64_only,
        &[
            ("x32 getpid", x32_getpid, sigsys),
            ("getpid", getpid, succeeded),
        ],
    );
    expect(
        "x86_64 + x86",
        &with_x86,
        &[("x32 getpid", x32_getpid, sigsys)],
    );
    // With x32 in the set the call passes the filter; a kernel without CONFIG_X86_X32_ABI then
    // fails it with ENOSYS.
    expect(
        "x86_64 + x32",
        &with_x32,
        &[(
            "x32 getpid",
            x32_getpid,
            |o| matches!(o, Outcome::Ran(v) if v > 0 || v == -i64::from(libc::ENOSYS)),
        )],
    );
    // Without IA32 emulation (CONFIG_IA32_EMULATION off, or ia32_emulation=0) `int 0x80`
    // faults before seccomp sees it.
    match in_child(&with_x86, int80_getpid_is_ours) {
        Outcome::Ran(1) => {}
        other if std::env::var("SYD_TEST_REQUIRE_KERNEL").as_deref() == Ok("1") => {
            panic!("int 0x80 getpid under x86_64 + x86: {other:?}")
        }
        other => {
            println!("skip: no i386 system calls here (int 0x80 getpid: {other:?})");
            return;
        }
    }
    expect(
        "x86_64 only",
        &x86_64_only,
        &[("int 0x80 getpid", int80_getpid, sigsys)],
    );
    expect(
        "x86_64 + x32",
        &with_x32,
        &[("int 0x80 getpid", int80_getpid, sigsys)],
    );
}
