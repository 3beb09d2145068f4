//! `syd`: run a command in a seccomp sandbox.
#![no_std]
#![no_main]

extern crate alloc;

#[allow(unsafe_code)]
#[macro_use]
mod sys;

mod child;
mod cmdexec;
mod dump;
mod execcheck;
mod mem;
mod net;
mod netemu;
mod path;
mod profiles;
mod selftest;
mod setup;
mod supervise;
mod vecmap;

use alloc::ffi::CString;
use alloc::vec::Vec;

use syd_core::cli::ExportFormat;
use syd_core::seccomp::compile::{compile, write_pfc};
use syd_core::seccomp::model::ArchFilter;
use syd_core::seccomp::policy::{build, FilterOptions};

use setup::{fail, Config, Next, Show};
use sys::{Errno, Fork, Pid, Status, Wait};

/// Signals the supervisor handles through a signalfd (SPEC §7.6).
const SIGNALS: [libc::c_int; 8] = [
    libc::SIGCHLD,
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGPIPE,
    libc::SIGTERM,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

/// Entry point called by the C runtime's start code.
pub fn run(args: &sys::Args, env: &sys::Env) -> i32 {
    let name = args.get(0).unwrap_or(b"");
    if name.ends_with(b"syd-format") {
        return format(args, 1);
    }
    // Only as the very first argument: `syd -- format` or `syd ./format` runs a command of that
    // name.
    if args.get(1) == Some(b"format") {
        return format(args, 2);
    }
    match setup::parse(args, env) {
        Next::Exit(code) => code,
        Next::Run(cfg) => start(args, *cfg),
    }
}

/// `syd format exec [--] COMMAND [ARG]...`, the arguments from `first` on: prints the magic path
/// that runs the command outside the sandbox (`/dev/sydbox/cmd/exec!` and the words joined by
/// the unit separator 0x1F), without a newline.
fn format(args: &sys::Args, first: usize) -> i32 {
    let mut i = first + 1;
    if args.get(i) == Some(b"--") {
        i += 1;
    }
    if args.get(first) != Some(b"exec") || args.get(i).is_none() {
        let _ = sys::write_raw(
            sys::STDERR,
            b"usage: syd format exec [--] command [arg...]\n",
        );
        return 1;
    }
    let mut o = sys::Out::<4096>::new(sys::STDOUT);
    o.bytes(b"/dev/sydbox/cmd/exec!");
    let mut sep: &[u8] = b"";
    while let Some(a) = args.get(i) {
        o.bytes(sep);
        o.bytes(a);
        sep = b"\x1f";
        i += 1;
    }
    i32::from(o.flush().is_err())
}

fn filters(cfg: &Config) -> Result<Vec<ArchFilter>, ()> {
    let arches = if cfg.arches.is_empty() {
        setup::default_arches()
    } else {
        cfg.arches.clone()
    };
    let opts = FilterOptions {
        bpf_only: cfg.bpf_only,
        uid: cfg.uid,
        gid: cfg.gid,
        supervisor: sys::getpid().0.cast_unsigned(),
    };
    let mut out = Vec::new();
    for a in arches {
        match build(&cfg.sandbox, &opts, a) {
            Ok(f) => out.push(f),
            Err(e) => {
                fail!("cannot build the filter for {}: {e}", a.name);
                return Err(());
            }
        }
    }
    Ok(out)
}

/// Whether any rule routes calls to user space.
fn needs_notify(filters: &[ArchFilter]) -> bool {
    filters.iter().any(|f| {
        f.syscalls().any(|s| {
            s.fin() == syd_core::seccomp::Action::UserNotif
                || s.layers().any(|l| {
                    l.rules.iter().any(|r| {
                        r.then
                            == syd_core::seccomp::model::Then::Act(
                                syd_core::seccomp::Action::UserNotif,
                            )
                    })
                })
        })
    })
}

fn start(args: &sys::Args, cfg: Config) -> i32 {
    let Ok(filters) = filters(&cfg) else {
        return 1;
    };
    let program = match compile(&filters) {
        Ok(p) => p,
        Err(e) => {
            fail!("{e}");
            return 1;
        }
    };
    let notify = !cfg.bpf_only && needs_notify(&filters);
    let word = args.get(cfg.command).unwrap_or(b"");
    let noexec = word == b"noexec";
    let path = if noexec {
        Vec::new()
    } else {
        match setup::find_command(word, &cfg.env, cfg.chroot) {
            Ok(p) => p,
            Err(e) => {
                fail!("can't exec `{}': {}", Show(word), e);
                return 1;
            }
        }
    };
    let export = cfg.export.map(|x| {
        let mut bytes = Vec::new();
        let exclusive = x.format == ExportFormat::Bpf;
        match x.format {
            ExportFormat::Bpf => {
                for insn in program.as_slice() {
                    bytes.extend_from_slice(&insn.to_bytes(if cfg!(target_endian = "big") {
                        syd_core::bpf::ByteOrder::Big
                    } else {
                        syd_core::bpf::ByteOrder::Little
                    }));
                }
            }
            ExportFormat::Pfc => {
                let mut s = alloc::string::String::new();
                let _ = write_pfc(&filters, &mut s);
                bytes = s.into_bytes();
            }
        }
        (x.file.and_then(|f| CString::new(f).ok()), bytes, exclusive)
    });
    let mut argv: Vec<CString> = Vec::new();
    let mut i = cfg.command;
    while let Some(a) = args.get(i) {
        match CString::new(a) {
            Ok(c) => argv.push(c),
            Err(_) => return 1,
        }
        i += 1;
    }
    if let (Some(name), Some(first)) = (cfg.startas, argv.first_mut()) {
        if let Ok(c) = CString::new(name) {
            *first = c;
        }
    }
    let cstr = |o: Option<&[u8]>| o.and_then(|b| CString::new(b).ok());
    let plan = child::Plan {
        filter: program
            .as_slice()
            .iter()
            .map(|i| libc::sock_filter {
                code: i.code,
                jt: i.jt,
                jf: i.jf,
                k: i.k,
            })
            .collect(),
        notify,
        path: CString::new(path.clone()).unwrap_or_default(),
        argv,
        env: cfg
            .env
            .iter()
            .filter_map(|e| CString::new(e.as_slice()).ok())
            .collect(),
        umask: cfg.umask,
        nice: cfg.nice,
        ioprio: cfg
            .ionice
            .map(|io| (i32::from(io.class) << 13) | i32::from(io.data)),
        chroot: cstr(cfg.chroot),
        chdir: cstr(cfg.chdir.as_deref()),
        gid: cfg.gid,
        uid: cfg.uid,
        background: cfg.background,
        stdout: cstr(cfg.stdout),
        stderr: cstr(cfg.stderr),
        export,
        noexec: noexec
            .then(|| setup::env_get(&cfg.env, b"SYDBOX_NOEXEC").map_or(0, |v| atoi(v) & 0xff)),
    };
    let arches = if cfg.arches.is_empty() {
        setup::default_arches()
    } else {
        cfg.arches.clone()
    };
    let mut dumper = match cfg.dump {
        None => None,
        Some(target) => match dump::Dumper::open(target, &cfg.env) {
            Ok(mut d) => {
                let names: Vec<&str> = arches.iter().map(|a| a.name).collect();
                d.init(word, &path, cfg.startas.unwrap_or(b""), noexec, &names);
                Some(d)
            }
            Err(()) => return 1,
        },
    };
    // The supervisor's own signals go through a signalfd; the child unblocks them.
    let set = sys::SigSet::of(&SIGNALS);
    if let Err(e) = sys::sigmask(&set, true) {
        fail!("sigprocmask: {e}");
        return 1;
    }
    let sigfd = match sys::signalfd(&set) {
        Ok(f) => f,
        Err(e) => {
            fail!("signalfd: {e}");
            return 1;
        }
    };
    for s in [libc::SIGTTOU, libc::SIGTTIN, libc::SIGTSTP, libc::SIGALRM] {
        sys::ignore_signal(s);
    }
    let _ = sys::set_child_subreaper();
    let (parent_sock, child_sock) = match sys::socketpair(libc::SOCK_STREAM | libc::SOCK_CLOEXEC) {
        Ok(p) => p,
        Err(e) => {
            fail!("socketpair: {e}");
            return 1;
        }
    };
    let eldest = match sys::fork() {
        Ok(Fork::Child) => {
            drop(parent_sock);
            child::run(&plan, child_sock)
        }
        Ok(Fork::Parent(pid)) => pid,
        Err(e) => {
            fail!("fork: {e}");
            return 1;
        }
    };
    drop(child_sock);
    // SECURITY: the supervisor holds the policy and the listener: not dumpable, its /proc
    // entries (mem, environ, fd/) belong to root and no same-uid process may ptrace it. Set
    // after fork so that the command does not inherit it.
    let _ = sys::set_not_dumpable();
    let mut msg = [0u8; 5];
    let mut got = 0;
    while got < msg.len() {
        match sys::read(&parent_sock, msg.get_mut(got..).unwrap_or(&mut [])) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(Errno(libc::EINTR)) => {}
            Err(_) => break,
        }
    }
    let mut word = [0u8; 4];
    word.copy_from_slice(msg.get(1..5).unwrap_or(&[0; 4]));
    let value = i32::from_ne_bytes(word);
    let listener = match msg.first().copied() {
        _ if got < msg.len() => {
            fail!("the child exited during set-up");
            let _ = sys::waitpid(eldest, Wait::Block);
            return 1;
        }
        Some(child::READY) if value < 0 => None,
        Some(child::READY) => {
            let fd = sys::pidfd_open(eldest).and_then(|p| sys::pidfd_getfd(&p, value));
            match fd {
                Ok(fd) => {
                    let _ = sys::write_all(&parent_sock, &[1]);
                    Some(fd)
                }
                Err(e) => {
                    fail!("failed to load seccomp filters: pidfd_getfd: {e}");
                    let _ = sys::kill(eldest, libc::SIGKILL);
                    let _ = sys::waitpid(eldest, Wait::Block);
                    return 1;
                }
            }
        }
        step => {
            let step = step.and_then(child::Step::from_u8);
            let errno = Errno(value);
            if step == Some(child::Step::Filter) {
                fail!("failed to load seccomp filters: {errno}");
                fail!("Invalid sandbox options given.");
            } else {
                fail!(
                    "{} failed: {errno}",
                    step.map_or("set up", child::Step::what)
                );
            }
            let _ = sys::waitpid(eldest, Wait::Block);
            return 1;
        }
    };
    drop(parent_sock);
    if let Some(d) = &mut dumper {
        let mut cmd = Vec::new();
        for (i, a) in plan.argv.iter().enumerate() {
            if i > 0 {
                cmd.push(b' ');
            }
            cmd.extend_from_slice(a.as_bytes());
        }
        d.startup(eldest.0, &cmd);
    }
    let Some(listener) = listener else {
        // Pure BPF: wait for the eldest; others stay confined by the kernel.
        let code = wait_eldest(eldest);
        if let Some(mut d) = dumper {
            // Only the eldest is known without notifications.
            let procs = syd_core::dump::Procs {
                total: 1,
                ..Default::default()
            };
            d.exit(eldest.0, code, procs);
            d.finish();
        }
        return code;
    };
    let mut sup = supervise::Supervisor::new(
        listener,
        &cfg.sandbox,
        &arches,
        eldest,
        cfg.dry_run,
        cfg.chdir,
    );
    sup.dump = dumper;
    let status = supervise_loop(&mut sup, &sigfd);
    let (own, code) = match status {
        Ended::Eldest(st) => (
            status_code(st),
            supervise::exit_status(st, sup.violation, cfg.sandbox.global.exit_code),
        ),
        Ended::Exit(code) => (code, code),
    };
    if let Some(mut d) = sup.dump.take() {
        d.exit(eldest.0, own, procs(&sup));
        d.finish();
    }
    kill_all(&sup);
    code
}

/// The status of a process as a shell shows it: its exit code, or 128 + the signal.
fn status_code(st: Status) -> i32 {
    match st {
        Status::Exited(c) => c,
        Status::Signaled(s) => 128 + s,
        _ => 1,
    }
}

/// The process counts of the dump's exit record: the thread groups seen, and how many of the
/// known ones still run or are zombies.
fn procs(sup: &supervise::Supervisor) -> syd_core::dump::Procs {
    let mut p = syd_core::dump::Procs {
        total: sup.seen,
        ..Default::default()
    };
    for t in sup.known_tasks() {
        let mut stat = [0u8; 512];
        let Ok(len) = supervise::read_proc_file(Pid(t), b"/stat", &mut stat) else {
            continue;
        };
        // "pid (comm) state ...": the state follows the last ')'.
        let s = stat.get(..len).unwrap_or(&[]);
        let state = s
            .iter()
            .rposition(|&b| b == b')')
            .and_then(|i| s.get(i + 2))
            .copied();
        if state == Some(b'Z') {
            p.zombie += 1;
        } else {
            p.alive += 1;
        }
    }
    p
}

fn atoi(v: &[u8]) -> i32 {
    let (neg, digits) = match v.split_first() {
        Some((b'-', r)) => (true, r),
        Some((b'+', r)) => (false, r),
        _ => (false, v),
    };
    let n = digits
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0i32, |n, &d| {
            n.wrapping_mul(10).wrapping_add(i32::from(d - b'0'))
        });
    if neg {
        n.wrapping_neg()
    } else {
        n
    }
}

fn wait_eldest(eldest: Pid) -> i32 {
    loop {
        match sys::waitpid(eldest, Wait::Block) {
            Ok(Some((_, st @ (Status::Exited(_) | Status::Signaled(_))))) => {
                return status_code(st)
            }
            Ok(_) => {}
            Err(Errno(libc::EINTR)) => {}
            Err(_) => return 1,
        }
    }
}

/// How supervision ended.
enum Ended {
    /// The eldest exited with this status.
    Eldest(Status),
    /// syd must exit with this status (a signal, or killall).
    Exit(i32),
}

/// How long tasks get to act on a forwarded signal before they are killed, in rounds of
/// [`GRACE_MS`] during which their notifications are still answered: half a second. Upstream
/// waits about 30 ms (SPEC §1.5), too short for a shell's trap on a busy machine; syd finishes
/// as soon as the eldest exits, so only tasks that ignore the signal wait the whole time.
const GRACE_ROUNDS: u32 = 50;
/// One round of the grace period, in milliseconds.
const GRACE_MS: i32 = 10;

fn supervise_loop(sup: &mut supervise::Supervisor, sigfd: &sys::Fd) -> Ended {
    let mut eldest_status = None;
    // After a forwarded signal: the exit status, and the rounds left before the final kill.
    let mut grace: Option<(i32, u32)> = None;
    loop {
        let mut fds = [
            libc::pollfd {
                fd: sup.listener().raw(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: sigfd.raw(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        let timeout = grace.map_or(sup.exec_poll_ms(), |_| GRACE_MS);
        // Hook: emulated calls that would block are retried on a timer (bin/netemu.rs).
        let timeout = sup.poll_timeout(timeout);
        match sys::poll(&mut fds, timeout) {
            Ok(0) => {
                if let Some((code, rounds)) = grace {
                    if rounds <= 1 {
                        return Ended::Exit(code);
                    }
                    grace = Some((code, rounds - 1));
                }
            }
            Ok(_) | Err(Errno(libc::EINTR)) => {}
            Err(_) => return Ended::Exit(1),
        }
        sup.poll_done();
        sup.verify_execs(None);
        if let Some(code) = sup.exit_now {
            return Ended::Exit(code);
        }
        let [listen, sig] = fds;
        if sig.revents & libc::POLLIN != 0 {
            while let Ok(Some(s)) = sys::read_signal(sigfd) {
                if s == libc::SIGCHLD {
                    // Reap every child that changed state; note the eldest's status.
                    while let Ok(Some((pid, st))) = sys::waitpid(Pid(-1), Wait::NoHang) {
                        if pid == sup.eldest
                            && matches!(st, Status::Exited(_) | Status::Signaled(_))
                        {
                            eldest_status = Some(st);
                        }
                    }
                } else if s == libc::SIGUSR1 || s == libc::SIGUSR2 {
                    if let Some(d) = &mut sup.dump {
                        d.intr(s, "tasks");
                    }
                    sup.print_tasks();
                } else {
                    if let Some(d) = &mut sup.dump {
                        d.intr(s, "forward");
                    }
                    // Forward to every task; exit 128 + N once they had time to act on it
                    // (SPEC §7.6), or as soon as the eldest is gone.
                    // Every sandboxed descendant (a process whose calls all passed without an
                    // entry, Supervisor::nothing_to_check, is no known task), then the known
                    // tasks and the eldest not among them: each once, so that a handler that
                    // does not exit runs once.
                    let below = descendants_of(sys::getpid().0);
                    for &p in &below {
                        if sandboxed(Pid(p)) {
                            let _ = sys::kill(Pid(p), s);
                        }
                    }
                    for t in sup.known_tasks().chain([sup.eldest.0]) {
                        if !below.contains(&t) {
                            let _ = sys::kill(Pid(t), s);
                        }
                    }
                    if grace.is_none() {
                        grace = Some((128 + s, GRACE_ROUNDS));
                    }
                }
            }
        }
        if let Some(st) = eldest_status {
            return match grace {
                Some((code, _)) => Ended::Exit(code),
                None => Ended::Eldest(st),
            };
        }
        if listen.revents & libc::POLLIN != 0 {
            sup.serve_one();
            if let Some(code) = sup.exit_now {
                return Ended::Exit(code);
            }
        } else if listen.revents & (libc::POLLHUP | libc::POLLERR) != 0 {
            // Every task is gone; wait for the eldest's status.
            if let Some((code, _)) = grace {
                return Ended::Exit(code);
            }
            if let Ok(Some((_, st))) = sys::waitpid(sup.eldest, Wait::Block) {
                return Ended::Eldest(st);
            }
            return Ended::Exit(1);
        }
    }
}

/// Kills every remaining sandboxed process: the known ones, then whatever the subreaper
/// inherits, until no child is left (SPEC §1.5: survivors could only fail with ENOSYS).
fn kill_all(sup: &supervise::Supervisor) {
    for t in sup.known_tasks() {
        let _ = sys::kill(Pid(t), libc::SIGKILL);
    }
    let me = sys::getpid().0;
    for _ in 0..100 {
        let mut any = false;
        for pid in children_of(me) {
            // What cmd/exec started runs outside the sandbox and outlives it (SPEC §5.6): its
            // orphans reach the subreaper too, but carry no seccomp filter.
            if !sandboxed(Pid(pid)) {
                continue;
            }
            any = true;
            let _ = sys::kill(Pid(pid), libc::SIGKILL);
        }
        while let Ok(Some(_)) = sys::waitpid(Pid(-1), Wait::NoHang) {}
        if !any {
            break;
        }
        sys::sleep_ms(10);
    }
}

/// Whether `pid` runs under a seccomp filter (`Seccomp:` of /proc/PID/status is not 0): every
/// sandboxed task does, since the filter is inherited and survives exec. A process whose
/// status cannot be read counts as sandboxed.
fn sandboxed(pid: Pid) -> bool {
    let mut buf = [0u8; 4096];
    let Ok(n) = supervise::read_proc_file(pid, b"/status", &mut buf) else {
        return true;
    };
    !buf.get(..n)
        .unwrap_or(&[])
        .split(|&b| b == b'\n')
        .filter_map(|l| l.strip_prefix(b"Seccomp:"))
        .any(|v| v.trim_ascii() == b"0")
}

/// The processes whose parent is `me`.
fn children_of(me: i32) -> Vec<i32> {
    parents()
        .into_iter()
        .filter(|&(_, ppid)| ppid == me)
        .map(|(pid, _)| pid)
        .collect()
}

/// The processes below `me`: its children, theirs, and so on.
fn descendants_of(me: i32) -> Vec<i32> {
    let all = parents();
    let mut out = Vec::from([me]);
    let mut i = 0;
    while let Some(&p) = out.get(i) {
        for &(pid, ppid) in &all {
            if ppid == p && !out.contains(&pid) {
                out.push(pid);
            }
        }
        i += 1;
    }
    out.remove(0);
    out
}

/// Every process with its parent, as (pid, ppid) (from /proc/*/stat).
fn parents() -> Vec<(i32, i32)> {
    let mut out = Vec::new();
    let Ok(dir) = sys::open(
        c"/proc",
        libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        0,
    ) else {
        return out;
    };
    let mut buf = [0u8; 8192];
    while let Ok(n) = sys::getdents(&dir, &mut buf) {
        if n == 0 {
            break;
        }
        for name in sys::dirents(buf.get(..n).unwrap_or(&[])) {
            let Some(pid) = core::str::from_utf8(name)
                .ok()
                .and_then(|s| s.parse::<i32>().ok())
            else {
                continue;
            };
            let mut stat = [0u8; 512];
            let Ok(len) = supervise::read_proc_file(Pid(pid), b"/stat", &mut stat) else {
                continue;
            };
            // "pid (comm) state ppid ...": comm may contain spaces; parse after the last ')'.
            let s = stat.get(..len).unwrap_or(&[]);
            let Some(close) = s.iter().rposition(|&b| b == b')') else {
                continue;
            };
            let mut fields = s
                .get(close + 1..)
                .unwrap_or(&[])
                .split(|&b| b == b' ')
                .filter(|f| !f.is_empty());
            let ppid = fields
                .nth(1)
                .and_then(|f| core::str::from_utf8(f).ok())
                .and_then(|f| f.parse::<i32>().ok());
            if let Some(ppid) = ppid {
                out.push((pid, ppid));
            }
        }
    }
    out
}
