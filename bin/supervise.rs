//! The supervisor: receives notifications, decides with the core, answers (SPEC §2.7 and on).

use alloc::collections::BTreeMap;
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::ffi::CStr;

use syd_core::arch::Arch;
use syd_core::magic::{self, Command, Context, Origin, Outcome, Setting};
use syd_core::report::{write_report, Report, Subject};
use syd_core::sandbox::{check_path, Cap, Decision, Global, Lock, Mode, TaskPolicy, Verdict};
use syd_core::syscall::{
    classify_open, Handler, OpenCheck, OpenFlags, PathArg, StatLayout, TypeCheck,
};

use crate::mem::{self, Method};
use crate::path::{self, Base, Follow, PathBuf, Resolve, Tracee};
use crate::sys::{self, AddFd, Answer, Errno, Fd, Notif, Pid, Status};

/// errno values (asm-generic).
pub(crate) mod e {
    pub const EPERM: i32 = 1;
    pub const ENOENT: i32 = 2;
    pub const ESRCH: i32 = 3;
    pub const EBADF: i32 = 9;
    pub const EACCES: i32 = 13;
    pub const EFAULT: i32 = 14;
    pub const EEXIST: i32 = 17;
    pub const ENOTDIR: i32 = 20;
    pub const EISDIR: i32 = 21;
    pub const ENOSYS: i32 = 38;
    pub const ENOTEMPTY: i32 = 39;
    pub const ELOOP: i32 = 40;
    pub const EAFNOSUPPORT: i32 = 97;
    pub const EADDRNOTAVAIL: i32 = 99;
    pub const ENOTCONN: i32 = 107;
    pub const ECONNREFUSED: i32 = 111;
}

/// One handled syscall of one ABI.
#[derive(Clone, Copy)]
pub(crate) struct Call {
    pub(crate) audit: u32,
    pub(crate) nr: u32,
    pub(crate) name: &'static str,
    pub(crate) handler: Handler,
    pub(crate) arch: &'static Arch,
    /// Index of the ABI among the filter's (0 = native), for reports.
    pub(crate) abi: usize,
}

/// Per thread group state (SPEC §2.2).
pub(crate) struct Task {
    policy: Rc<TaskPolicy>,
    lock: Lock,
}

/// What was decided for a notification.
pub(crate) enum Reply {
    /// Answer with this.
    Answer(Answer),
    /// Already answered (an fd was installed with ADDFD_FLAG_SEND).
    Sent,
}

/// The supervisor's state.
pub struct Supervisor {
    pub(crate) listener: Fd,
    pub(crate) global: Global,
    startup: Rc<TaskPolicy>,
    startup_lock: Lock,
    pub(crate) tasks: BTreeMap<i32, Task>,
    tids: BTreeMap<i32, i32>,
    inserted: usize,
    calls: Vec<Call>,
    /// The command's first process.
    pub eldest: Pid,
    initial_exec_done: bool,
    /// Whether a violation was reported.
    pub violation: bool,
    pub(crate) dry_run: bool,
    pub(crate) method: Method,
    chdir_prefix: Option<Vec<u8>>,
    /// Whether the kernel installs fds and answers in one step (SECCOMP_ADDFD_FLAG_SEND).
    addfd_send: bool,
    root: bool,
    /// Set by `killall`: exit at once with this status.
    pub exit_now: Option<i32>,
}

/// The result of one check of one object.
enum Check {
    Allowed,
    Denied(Answer),
}

impl Supervisor {
    /// A supervisor for `listener`, with the start-up policy.
    pub fn new(
        listener: Fd,
        sandbox: &syd_core::sandbox::Sandbox,
        arches: &[&'static Arch],
        eldest: Pid,
        dry_run: bool,
        chdir_prefix: Option<Vec<u8>>,
    ) -> Supervisor {
        let mut calls = Vec::new();
        for (abi, arch) in arches.iter().enumerate() {
            for (name, nr) in arch.syscalls() {
                if let Some(handler) = syd_core::syscall::lookup(name) {
                    calls.push(Call {
                        audit: arch.audit,
                        nr,
                        name,
                        handler,
                        arch,
                        abi,
                    });
                }
            }
        }
        calls.sort_by_key(|c| (c.audit, c.nr));
        calls.dedup_by_key(|c| (c.audit, c.nr));
        let _ = sys::notif_set_sync_wake_up(&listener);
        Supervisor {
            listener,
            global: sandbox.global.clone(),
            startup: Rc::new(sandbox.task.clone()),
            startup_lock: sandbox.task.lock,
            tasks: BTreeMap::new(),
            tids: BTreeMap::new(),
            inserted: 0,
            calls,
            eldest,
            initial_exec_done: false,
            violation: false,
            dry_run,
            method: Method::of(sandbox.global.memory_access),
            chdir_prefix,
            addfd_send: true,
            root: sys::geteuid() == 0,
            exit_now: None,
        }
    }

    /// The listener descriptor.
    pub fn listener(&self) -> &Fd {
        &self.listener
    }

    /// The thread groups seen, for the final kill.
    pub fn known_tasks(&self) -> impl Iterator<Item = i32> + '_ {
        self.tasks.keys().copied()
    }

    /// Receives and answers one notification.
    pub fn serve_one(&mut self) {
        let n = match sys::notif_recv(&self.listener) {
            Ok(n) => n,
            // The caller died before we received it, or a signal interrupted us.
            Err(_) => return,
        };
        let reply = self.handle(&n);
        if let Reply::Answer(a) = reply {
            // ENOENT: the caller is gone; nothing to do.
            let _ = sys::notif_send(&self.listener, n.id, a);
        }
    }

    pub(crate) fn valid(&self, n: &Notif) -> bool {
        sys::notif_id_valid(&self.listener, n.id).is_ok()
    }

    fn call(&self, n: &Notif) -> Option<Call> {
        let nr = n.nr.cast_unsigned();
        let i = self
            .calls
            .binary_search_by_key(&(n.arch, nr), |c| (c.audit, c.nr))
            .ok()?;
        self.calls.get(i).copied()
    }

    /// The thread group of `tid`, registering it (with its parent's policy) if new.
    fn tgid(&mut self, tid: i32) -> Option<i32> {
        if let Some(&g) = self.tids.get(&tid) {
            return Some(g);
        }
        let (tgid, ppid) = read_status_ids(Pid(tid))?;
        if !self.tasks.contains_key(&tgid) {
            let (policy, lock) = match self.tasks.get(&ppid) {
                Some(p) => (p.policy.clone(), p.lock),
                None => (self.startup.clone(), self.startup_lock),
            };
            self.tasks.insert(tgid, Task { policy, lock });
        }
        self.tids.insert(tid, tgid);
        self.inserted += 1;
        if self.inserted.is_multiple_of(256) {
            self.prune();
        }
        Some(tgid)
    }

    /// Forgets tasks that no longer exist.
    fn prune(&mut self) {
        self.tids.retain(|&tid, _| sys::kill(Pid(tid), 0).is_ok());
        let live: Vec<i32> = self.tids.values().copied().collect();
        self.tasks.retain(|tgid, _| live.contains(tgid));
    }

    fn handle(&mut self, n: &Notif) -> Reply {
        let Some(call) = self.call(n) else {
            // SECURITY: the filter only routes calls that have handlers; anything else is refused.
            return Reply::Answer(Answer::Errno(Errno(e::ENOSYS)));
        };
        let tid = n.pid.0;
        let Some(tgid) = self.tgid(tid) else {
            return Reply::Answer(Answer::Errno(Errno(e::ESRCH)));
        };
        let tracee = Tracee {
            tid: n.pid,
            tgid: Pid(tgid),
        };
        match call.handler {
            Handler::Stat { path, buf, layout } => self.stat(n, &call, tgid, path, buf, layout),
            Handler::Exec { path } => self.exec(n, &call, &tracee, tgid, &path),
            Handler::Open { path, flags, mode } => {
                let flags = arg(n, flags);
                let mode = arg(n, mode);
                self.open(n, &call, &tracee, tgid, &path, flags, mode, 0)
            }
            Handler::Creat => {
                let path = PathArg {
                    path: 0,
                    dirfd: None,
                    resolve: syd_core::syscall::Resolve::NoLast,
                    follow: syd_core::syscall::Follow::Yes,
                    follow_flag: None,
                    empty_path: None,
                    null_is_dirfd: false,
                    check: TypeCheck::None,
                };
                let c = call.arch.consts;
                let flags = u64::from(c.o_creat | c.o_wronly | c.o_trunc);
                self.open(n, &call, &tracee, tgid, &path, flags, arg(n, 1), 0)
            }
            Handler::Openat2 => self.openat2(n, &call, &tracee, tgid),
            Handler::Access { path, mode } => self.access(n, &call, &tracee, tgid, &path, mode),
            Handler::Path {
                cap,
                first,
                second,
                safe,
                errno,
            } => {
                let mut out = PathBuf::new();
                match self.path_check(n, &call, &tracee, tgid, cap, &first, safe, errno, &mut out) {
                    Check::Denied(a) => return Reply::Answer(a),
                    Check::Allowed => {}
                }
                if call.name == "chdir" {
                    if let Some(a) = self.chdir_confined(n, &call, &tracee, out.as_bytes()) {
                        return Reply::Answer(a);
                    }
                }
                if let Some(second) = second {
                    let mut out2 = PathBuf::new();
                    if let Check::Denied(a) = self.path_check(
                        n, &call, &tracee, tgid, cap, &second, safe, errno, &mut out2,
                    ) {
                        return Reply::Answer(a);
                    }
                }
                // SECURITY: the paths were checked, but the kernel reads them again: a thread
                // that rewrites them in between is the check-then-use race of SPEC §9 #1.
                Reply::Answer(Answer::Continue)
            }
            Handler::Fchdir => self.fchdir(n, &call, &tracee, tgid),
            Handler::Net(net) => self.net(n, &call, &tracee, tgid, net),
            Handler::Uname => self.uname(n, &call),
        }
    }

    pub(crate) fn policy(&self, tgid: i32) -> &TaskPolicy {
        self.tasks.get(&tgid).map_or(&self.startup, |t| &t.policy)
    }

    /// Reads the string argument `idx` of `n`.
    fn read_path<'b>(&self, n: &Notif, idx: u8, buf: &'b mut [u8]) -> Result<&'b [u8], Errno> {
        let addr = arg(n, idx);
        let s = mem::read_cstr(self.method, n.pid, addr, buf)?;
        if self.valid(n) {
            Ok(s)
        } else {
            Err(Errno(e::ESRCH))
        }
    }

    /// Resolves path argument `pa` of `n` into `out`. `Ok(false)` when the path argument was
    /// NULL or empty and stands for the dirfd's file (already in `out`).
    #[allow(clippy::too_many_arguments)]
    fn resolve(
        &self,
        n: &Notif,
        tracee: &Tracee,
        pa: &PathArg,
        resolve: syd_core::syscall::Resolve,
        follow: syd_core::syscall::Follow,
        raw: &mut [u8; syd_core::limits::PATH_MAX],
        out: &mut PathBuf,
    ) -> Result<usize, Errno> {
        let base = match pa.dirfd {
            Some(d) => Base::from_dirfd(arg(n, d)),
            None => Base::Cwd,
        };
        let ptr = arg(n, pa.path);
        let dirfd_file = |out: &mut PathBuf| match base {
            Base::Fd(fd) => path::fd_path(tracee, fd, out),
            _ => path::canonicalize(
                tracee,
                Base::Cwd,
                b".",
                path::Resolve::Exist,
                Follow::Yes,
                out,
            ),
        };
        if ptr == 0 && pa.null_is_dirfd {
            dirfd_file(out)?;
            return Ok(0);
        }
        let s = self.read_path(n, pa.path, raw)?;
        let len = s.len();
        if s.is_empty() {
            if pa.empty_path_for(&n.args) {
                dirfd_file(out)?;
                return Ok(0);
            }
            return Err(Errno(e::ENOENT));
        }
        let r = match resolve {
            syd_core::syscall::Resolve::Exist => Resolve::Exist,
            syd_core::syscall::Resolve::NoLast => Resolve::NoLast,
        };
        let f = match follow {
            syd_core::syscall::Follow::Yes => Follow::Yes,
            syd_core::syscall::Follow::No => Follow::No,
        };
        path::canonicalize(tracee, base, raw.get(..len).unwrap_or(&[]), r, f, out)?;
        Ok(len)
    }

    /// Checks one path object of type `cap` (SPEC §2.7).
    #[allow(clippy::too_many_arguments)]
    fn path_check(
        &mut self,
        n: &Notif,
        call: &Call,
        tracee: &Tracee,
        tgid: i32,
        cap: Cap,
        pa: &PathArg,
        safe: Option<i32>,
        errno: i32,
        out: &mut PathBuf,
    ) -> Check {
        if self.policy(tgid).mode(cap) == Mode::Off {
            return Check::Allowed;
        }
        let mut raw = [0u8; syd_core::limits::PATH_MAX];
        let follow = pa.follow_for(&n.args);
        let len = match self.resolve(n, tracee, pa, pa.resolve, follow, &mut raw, out) {
            Ok(len) => len,
            Err(err) => return Check::Denied(self.fail(n, call, tracee, err, None)),
        };
        let verdict = self.check(tgid, cap, out.as_bytes());
        if verdict == Verdict::Allow {
            return Check::Allowed;
        }
        // Type checks (SPEC §2.7 step 7): the errno the kernel would give anyway.
        let typed = type_errno(out.as_bytes(), pa.check_for(&n.args), follow, n, tracee, pa);
        if safe.is_some() || typed.is_some() {
            let errno = typed.or(safe).unwrap_or(errno);
            if !self.global.raise_safe {
                return Check::Denied(Answer::Errno(Errno(errno)));
            }
            return Check::Denied(self.deny(n, call, tracee, verdict, errno, || {
                path_subject(call, pa, raw.get(..len).unwrap_or(&[]), n, tracee)
            }));
        }
        let raw_path = raw.get(..len).unwrap_or(&[]);
        Check::Denied(self.deny(n, call, tracee, verdict, errno, || {
            path_subject(call, pa, raw_path, n, tracee)
        }))
    }

    fn check(&self, tgid: i32, cap: Cap, path: &[u8]) -> Verdict {
        let tasks = &self.tasks;
        let traced = |id: u32| i32::try_from(id).is_ok_and(|id| tasks.contains_key(&id));
        check_path(&self.global, self.policy(tgid), cap, path, &traced)
    }

    /// A failure to resolve: denied with its errno, reported only with `raise_fail`.
    pub(crate) fn fail(
        &mut self,
        n: &Notif,
        call: &Call,
        tracee: &Tracee,
        err: Errno,
        path: Option<&[u8]>,
    ) -> Answer {
        if self.global.raise_fail {
            self.report(
                n,
                call,
                tracee,
                Subject::Fail {
                    name: call.name,
                    path,
                },
            );
            self.violation = true;
            if self.dry_run {
                return Answer::Continue;
            }
        }
        Answer::Errno(err)
    }

    /// A denial: report it (unless filtered), apply the decision.
    fn deny(
        &mut self,
        n: &Notif,
        call: &Call,
        tracee: &Tracee,
        verdict: Verdict,
        errno: i32,
        subject: impl FnOnce() -> SubjectBuf,
    ) -> Answer {
        if verdict == Verdict::DenyFiltered {
            // SECURITY: filters only silence the report; the access is still denied.
            return if self.dry_run {
                Answer::Continue
            } else {
                Answer::Errno(Errno(errno))
            };
        }
        let s = subject();
        self.report(n, call, tracee, s.subject());
        self.violation = true;
        if self.dry_run {
            // SECURITY: --dry-run reports and never denies, by definition.
            return Answer::Continue;
        }
        match self.global.decision {
            Decision::Kill => {
                let _ = sys::kill(tracee.tgid, libc::SIGKILL);
            }
            Decision::KillAll => {
                let code = if self.global.exit_code > 0 {
                    self.global.exit_code & 0xff
                } else {
                    137
                };
                self.exit_now = Some(code);
            }
            Decision::Deny | Decision::Noop | Decision::Bpf => {}
        }
        Answer::Errno(Errno(errno))
    }

    pub(crate) fn report(&self, n: &Notif, call: &Call, tracee: &Tracee, subject: Subject<'_>) {
        let mut comm = [0u8; 64];
        let comm_len = read_proc_file(n.pid, b"/comm", &mut comm).unwrap_or(0);
        let comm = comm.get(..comm_len).unwrap_or(&[]);
        let comm = comm.strip_suffix(b"\n").unwrap_or(comm);
        let mut cwd = PathBuf::new();
        let _ = path::canonicalize(
            tracee,
            Base::Cwd,
            b".",
            path::Resolve::Exist,
            Follow::Yes,
            &mut cwd,
        );
        let mut cmdline = [0u8; 512];
        let cmd_len = read_proc_file(tracee.tgid, b"/cmdline", &mut cmdline).ok();
        let r = Report {
            time: sys::realtime_secs().unwrap_or(0),
            tid: n.pid.0,
            abi: call.abi,
            comm,
            cwd: cwd.as_bytes(),
            cmdline: cmd_len.and_then(|l| cmdline.get(..l)),
            subject,
        };
        let mut out = sys::Out::<4096>::new(sys::STDERR);
        write_report(&mut |b: &[u8]| out.bytes(b), &r);
    }

    fn stat(
        &mut self,
        n: &Notif,
        call: &Call,
        tgid: i32,
        path_arg: u8,
        buf_arg: u8,
        layout: StatLayout,
    ) -> Reply {
        let lock = self.tasks.get(&tgid).map_or(self.startup_lock, |t| t.lock);
        // SECURITY: stat is not a sandboxed call; only magic paths are answered here.
        let cont = Reply::Answer(Answer::Continue);
        if lock == Lock::On {
            return cont;
        }
        let mut raw = [0u8; syd_core::limits::PATH_MAX];
        let Ok(path) = self.read_path(n, path_arg, &mut raw) else {
            return cont;
        };
        let Some(cmd) = magic::strip_prefix(path) else {
            return cont;
        };
        let answer = match magic::parse(cmd) {
            Err(err) => Answer::Errno(Errno(err.errno())),
            Ok(parsed) => self.magic(n, tgid, &parsed),
        };
        if matches!(answer, Answer::Value(0)) || matches!(answer, Answer::Errno(Errno(e::ENOENT))) {
            let _ = self.write_fake_stat(n, call, arg(n, buf_arg), layout);
        }
        Reply::Answer(answer)
    }

    fn magic(&mut self, n: &Notif, tgid: i32, cmd: &Command<'_>) -> Answer {
        let Some(task) = self.tasks.get_mut(&tgid) else {
            return Answer::Errno(Errno(e::ESRCH));
        };
        let outcome = match *cmd {
            Command::Set(_, Setting::MagicLock(l)) => {
                task.lock = l;
                Ok(Outcome::Done)
            }
            Command::Query(key) => Ok(Outcome::Answer(magic::query(
                &self.global,
                &task.policy,
                key,
            ))),
            _ => {
                let services = syd_core::addr::NoServices;
                let ctx = Context {
                    origin: Origin::Runtime,
                    services: &services,
                };
                let policy = Rc::make_mut(&mut task.policy);
                magic::apply(&mut self.global, policy, cmd, &ctx)
            }
        };
        match outcome {
            Ok(Outcome::Done) | Ok(Outcome::Answer(true)) => Answer::Value(0),
            Ok(Outcome::Answer(false)) => Answer::Errno(Errno(e::ENOENT)),
            Ok(Outcome::Exec(args)) => crate::cmdexec::run(n.pid, args),
            Err(err) => Answer::Errno(Errno(err.errno())),
        }
    }

    fn write_fake_stat(
        &self,
        n: &Notif,
        call: &Call,
        addr: u64,
        layout: StatLayout,
    ) -> Result<(), Errno> {
        const MODE: u32 = 0o020_666;
        const RDEV: u64 = (1 << 8) | 3;
        const ATIME: i64 = 505_958_400;
        const MTIME: i64 = -842_745_600;
        const CTIME: i64 = -2_036_448_000;
        let mut b = [0u8; 256];
        let mut put = |off: usize, v: &[u8]| {
            if let Some(d) = b.get_mut(off..off + v.len()) {
                d.copy_from_slice(v);
            }
        };
        let len = match (layout, call.arch.name) {
            (StatLayout::Statx, _) => {
                put(28, &(MODE as u16).to_ne_bytes());
                put(64, &ATIME.to_ne_bytes());
                put(96, &CTIME.to_ne_bytes());
                put(112, &MTIME.to_ne_bytes());
                put(128, &1u32.to_ne_bytes());
                put(132, &3u32.to_ne_bytes());
                256
            }
            (StatLayout::Stat, "x86_64" | "x32") => {
                put(24, &MODE.to_ne_bytes());
                put(40, &RDEV.to_ne_bytes());
                put(72, &ATIME.to_ne_bytes());
                put(88, &MTIME.to_ne_bytes());
                put(104, &CTIME.to_ne_bytes());
                144
            }
            (StatLayout::Stat, "aarch64" | "riscv64") => {
                put(16, &MODE.to_ne_bytes());
                put(32, &RDEV.to_ne_bytes());
                put(72, &ATIME.to_ne_bytes());
                put(88, &MTIME.to_ne_bytes());
                put(104, &CTIME.to_ne_bytes());
                128
            }
            // The layout of this ABI is not known: leave the buffer alone (SPEC §5.4).
            _ => return Ok(()),
        };
        mem::write(self.method, n.pid, addr, b.get(..len).unwrap_or(&[]))
    }

    fn exec(&mut self, n: &Notif, call: &Call, tracee: &Tracee, tgid: i32, pa: &PathArg) -> Reply {
        if !self.initial_exec_done && n.pid == self.eldest {
            // The command itself is not checked (SPEC §1.4 step 11).
            self.initial_exec_done = true;
            self.exec_lock(tgid);
            // SECURITY: the initial exec runs the command the user asked for.
            return Reply::Answer(Answer::Continue);
        }
        let mode = self.policy(tgid).mode(Cap::Exec);
        let mut raw = [0u8; syd_core::limits::PATH_MAX];
        let mut out = PathBuf::new();
        let follow = pa.follow_for(&n.args);
        if let Err(err) = self.resolve(n, tracee, pa, pa.resolve, follow, &mut raw, &mut out) {
            if mode == Mode::Off && self.global.kill_if_match.is_empty() {
                // SECURITY: exec sandboxing is off and nothing is to be killed: nothing to check.
                return Reply::Answer(Answer::Continue);
            }
            return Reply::Answer(self.fail(n, call, tracee, err, None));
        }
        let canonical = out.as_bytes();
        if mode != Mode::Off {
            let verdict = self.check(tgid, Cap::Exec, canonical);
            if verdict != Verdict::Allow {
                let a = self.deny(n, call, tracee, verdict, e::EACCES, || {
                    SubjectBuf::exec(call.name, canonical)
                });
                return Reply::Answer(a);
            }
        }
        if let Some(pattern) = self.global.kill_if_match(canonical) {
            let mut o = sys::Out::<4096>::new(sys::STDERR);
            let t = sys::realtime_secs().unwrap_or(0);
            let _ = core::fmt::Write::write_fmt(
                &mut o,
                format_args!(
                    "sydbox@{t}: callback_exec: kill_if_match pattern=`{}' matches execve path=`{}'\n",
                    crate::setup::Show(pattern),
                    crate::setup::Show(canonical)
                ),
            );
            let mut cwd = PathBuf::new();
            let _ = path::canonicalize(
                tracee,
                Base::Cwd,
                b".",
                path::Resolve::Exist,
                Follow::Yes,
                &mut cwd,
            );
            let _ = core::fmt::Write::write_fmt(
                &mut o,
                format_args!(
                    "sydbox@{t}: callback_exec: killing process:{} [abi:{} cwd:`{}']\n",
                    tgid,
                    call.abi,
                    crate::setup::Show(cwd.as_bytes())
                ),
            );
            drop(o);
            let _ = sys::kill(tracee.tgid, libc::SIGKILL);
            return Reply::Answer(Answer::Errno(Errno(e::EACCES)));
        }
        self.exec_lock(tgid);
        // SECURITY: the path was checked; a thread flipping it before the kernel reads it again
        // is the exec race of SPEC §9 #1, not closed here.
        Reply::Answer(Answer::Continue)
    }

    fn exec_lock(&mut self, tgid: i32) {
        if let Some(t) = self.tasks.get_mut(&tgid) {
            if t.lock == Lock::Exec {
                t.lock = Lock::On;
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn open(
        &mut self,
        n: &Notif,
        call: &Call,
        tracee: &Tracee,
        tgid: i32,
        pa: &PathArg,
        flags: u64,
        mode: u64,
        resolve_flags: u64,
    ) -> Reply {
        let f = OpenFlags::of(call.arch.consts);
        // RESOLVE_NO_MAGICLINKS 2, RESOLVE_NO_SYMLINKS 4, RESOLVE_BENEATH 8.
        let class = classify_open(flags, &f, resolve_flags & 0xe != 0);
        let policy = self.policy(tgid);
        let write = class.write && policy.mode(Cap::Write) != Mode::Off;
        let read = class.read && policy.mode(Cap::Read) != Mode::Off;
        if !write && !read {
            // SECURITY: neither type checks this open; the kernel's result is the answer.
            return Reply::Answer(Answer::Continue);
        }
        let mut raw = [0u8; syd_core::limits::PATH_MAX];
        let mut out = PathBuf::new();
        let len = match self.resolve(
            n,
            tracee,
            pa,
            class.resolve,
            class.follow,
            &mut raw,
            &mut out,
        ) {
            Ok(l) => l,
            Err(err) => return Reply::Answer(self.fail(n, call, tracee, err, None)),
        };
        for (cap, needed) in [(Cap::Write, write), (Cap::Read, read)] {
            if !needed {
                continue;
            }
            let verdict = self.check(tgid, cap, out.as_bytes());
            if verdict == Verdict::Allow {
                continue;
            }
            let typed = open_type_errno(out.as_bytes(), class.check, n, tracee);
            if let Some(t) = typed {
                if !self.global.raise_safe {
                    return Reply::Answer(Answer::Errno(Errno(t)));
                }
            }
            let errno = typed.unwrap_or(e::EPERM);
            let raw_path = raw.get(..len).unwrap_or(&[]);
            let a = self.deny(n, call, tracee, verdict, errno, || {
                path_subject(call, pa, raw_path, n, tracee)
            });
            return Reply::Answer(a);
        }
        self.emulate_open(n, tracee, out.as_bytes(), flags, mode, resolve_flags)
    }

    /// Opens the checked path in the supervisor, as the tracee would, and installs the
    /// descriptor in the tracee: the kernel never reads the tracee's path again.
    fn emulate_open(
        &mut self,
        n: &Notif,
        tracee: &Tracee,
        canonical: &[u8],
        flags: u64,
        mode: u64,
        _resolve_flags: u64,
    ) -> Reply {
        // Open flags and mode are C ints: the low 32 bits.
        let flags = (flags & 0xffff_ffff) as u32 as i32;
        let mode = (mode & 0o7777) as u32;
        if !self.addfd_send {
            // SECURITY: without SECCOMP_ADDFD_FLAG_SEND (Linux < 5.14) the kernel opens the
            // path itself: the check-then-use race remains (reported by syd --test).
            return Reply::Answer(Answer::Continue);
        }
        let Ok(c) = crate::setup::cstring(canonical) else {
            return Reply::Answer(Answer::Errno(Errno(libc::EINVAL)));
        };
        // FIFOs would block the supervisor in open(2): let the kernel open them.
        if let Ok(st) = sys::fstatat(None, &c, 0) {
            if st.mode & libc::S_IFMT == libc::S_IFIFO {
                // SECURITY: a FIFO was checked; the race remains for this open only.
                return Reply::Answer(Answer::Continue);
            }
        }
        let creds = if self.root {
            Creds::of(tracee.tid)
        } else {
            None
        };
        let umask = if flags & libc::O_CREAT != 0 || flags & libc::O_TMPFILE == libc::O_TMPFILE {
            read_umask(tracee.tid).unwrap_or(0o022)
        } else {
            0
        };
        let saved = creds.as_ref().map(Creds::enter);
        let old_umask = sys::umask(umask);
        let r = if canonical.starts_with(b"/proc/") {
            // Magic links under /proc name the tracee's own files: follow them.
            sys::openat(None, &c, flags | libc::O_CLOEXEC, mode)
        } else {
            let how = sys::OpenHow {
                // flags is a non-negative int here (or has the sign bit of an unknown flag).
                flags: (flags | libc::O_CLOEXEC) as u32 as u64,
                mode: if flags & libc::O_CREAT != 0 || flags & libc::O_TMPFILE == libc::O_TMPFILE {
                    u64::from(mode)
                } else {
                    0
                },
                // SECURITY: the canonical path has no symlinks left (but a final one that is not
                // followed): any symlink swapped in after the check makes the open fail.
                resolve: libc::RESOLVE_NO_SYMLINKS,
            };
            sys::openat2(None, &c, &how)
        };
        sys::umask(old_umask);
        if let Some(s) = saved {
            s.leave();
        }
        let fd = match r {
            Ok(fd) => fd,
            Err(err) => return Reply::Answer(Answer::Errno(err)),
        };
        let cloexec = if flags & libc::O_CLOEXEC != 0 {
            libc::O_CLOEXEC as u32
        } else {
            0
        };
        match sys::notif_addfd(&self.listener, n.id, &fd, AddFd::Send, cloexec) {
            Ok(_) => Reply::Sent,
            Err(Errno(libc::EINVAL)) => {
                self.addfd_send = false;
                // SECURITY: the kernel lacks ADDFD_FLAG_SEND; see above.
                Reply::Answer(Answer::Continue)
            }
            Err(err) => Reply::Answer(Answer::Errno(err)),
        }
    }

    fn openat2(&mut self, n: &Notif, call: &Call, tracee: &Tracee, tgid: i32) -> Reply {
        // struct open_how { u64 flags; u64 mode; u64 resolve; } at a2, size a3.
        let size = arg(n, 3);
        let mut how = [0u8; 24];
        if size >= 24 {
            if let Err(err) = mem::read_exact(self.method, n.pid, arg(n, 2), &mut how) {
                return Reply::Answer(Answer::Errno(err));
            }
            if !self.valid(n) {
                return Reply::Answer(Answer::Errno(Errno(e::ESRCH)));
            }
        }
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(how.get(i * 8..i * 8 + 8).unwrap_or(&[0; 8]));
            u64::from_ne_bytes(w)
        };
        let (flags, mode, resolve) = (word(0), word(1), word(2));
        let pa = PathArg {
            path: 1,
            dirfd: Some(0),
            resolve: syd_core::syscall::Resolve::Exist,
            follow: syd_core::syscall::Follow::Yes,
            follow_flag: None,
            empty_path: None,
            null_is_dirfd: false,
            check: TypeCheck::None,
        };
        if resolve != 0 {
            // The supervisor cannot reproduce every RESOLVE_* rule on its own path; check as
            // usual and let the kernel apply them to its own resolution.
            let r = self.open(n, call, tracee, tgid, &pa, flags, mode, resolve);
            return match r {
                // SECURITY: openat2 with RESOLVE_* flags is continued after the check; the
                // kernel enforces the flags but re-reads the path (race as for other paths).
                Reply::Sent => Reply::Sent,
                other => other,
            };
        }
        self.open(n, call, tracee, tgid, &pa, flags, mode, 0)
    }

    fn access(
        &mut self,
        n: &Notif,
        call: &Call,
        tracee: &Tracee,
        tgid: i32,
        pa: &PathArg,
        mode_arg: u8,
    ) -> Reply {
        let mode = arg(n, mode_arg) & 0xffff_ffff;
        let policy = self.policy(tgid);
        let write = mode & 2 != 0 && policy.mode(Cap::Write) != Mode::Off;
        let read = policy.mode(Cap::Read) != Mode::Off;
        for (cap, needed) in [(Cap::Write, write), (Cap::Read, read)] {
            if !needed {
                continue;
            }
            let mut out = PathBuf::new();
            if let Check::Denied(a) = self.path_check(
                n,
                call,
                tracee,
                tgid,
                cap,
                pa,
                Some(e::EACCES),
                e::EACCES,
                &mut out,
            ) {
                return Reply::Answer(a);
            }
        }
        // SECURITY: access only tells whether a checked path is accessible.
        Reply::Answer(Answer::Continue)
    }

    fn chdir_confined(
        &mut self,
        n: &Notif,
        call: &Call,
        tracee: &Tracee,
        target: &[u8],
    ) -> Option<Answer> {
        let prefix = self.chdir_prefix.as_ref()?;
        let tgid = tracee.tgid.0;
        if !self.policy(tgid).mode(Cap::Read).is_user() {
            return None;
        }
        let inside = target == prefix.as_slice()
            || (target.starts_with(prefix)
                && (prefix == b"/" || target.get(prefix.len()) == Some(&b'/')));
        if inside {
            return None;
        }
        let t = target.to_vec();
        Some(self.deny(n, call, tracee, Verdict::Deny, e::EACCES, || {
            SubjectBuf::path(call.name, 0, &t, None)
        }))
    }

    fn fchdir(&mut self, n: &Notif, call: &Call, tracee: &Tracee, tgid: i32) -> Reply {
        if self.policy(tgid).mode(Cap::Read) == Mode::Off && self.chdir_prefix.is_none() {
            // SECURITY: read sandboxing is off and no -D confinement: nothing to check.
            return Reply::Answer(Answer::Continue);
        }
        // The fd is a C int.
        let fd = (arg(n, 0) as u32).cast_signed();
        let mut out = PathBuf::new();
        if let Err(err) = path::fd_path(tracee, fd, &mut out) {
            return Reply::Answer(self.fail(n, call, tracee, err, None));
        }
        if self.policy(tgid).mode(Cap::Read) != Mode::Off {
            let verdict = self.check(tgid, Cap::Read, out.as_bytes());
            if verdict != Verdict::Allow {
                let a = self.deny(n, call, tracee, verdict, e::EACCES, SubjectBuf::fchdir);
                return Reply::Answer(a);
            }
        }
        if let Some(a) = self.chdir_confined(n, call, tracee, out.as_bytes()) {
            return Reply::Answer(a);
        }
        // SECURITY: fchdir takes an fd, which the tracee cannot swap for a path.
        Reply::Answer(Answer::Continue)
    }

    fn uname(&mut self, n: &Notif, _call: &Call) -> Reply {
        if !self.global.restrict_system_info {
            // SECURITY: uname is only answered when system_info asks for it.
            return Reply::Answer(Answer::Continue);
        }
        // struct new_utsname: six fields of 65 bytes.
        let mut u = [0u8; 6 * 65];
        let fields: [&[u8]; 6] = [
            "☮".as_bytes(),
            "sydb☮x".as_bytes(),
            b"2.2.0",
            b"#2",
            "♡".as_bytes(),
            "exherb☮.♡rg".as_bytes(),
        ];
        for (i, f) in fields.iter().enumerate() {
            if let Some(d) = u.get_mut(i * 65..i * 65 + f.len()) {
                d.copy_from_slice(f);
            }
        }
        match mem::write(self.method, n.pid, arg(n, 0), &u) {
            Ok(()) => Reply::Answer(Answer::Value(0)),
            Err(_) => Reply::Answer(Answer::Errno(Errno(e::EFAULT))),
        }
    }
}

/// Argument `i` of a notification.
pub(crate) fn arg(n: &Notif, i: u8) -> u64 {
    n.args.get(usize::from(i)).copied().unwrap_or(0)
}

/// An owned copy of a report's subject, made only when a violation is reported.
pub struct SubjectBuf {
    kind: u8,
    name: &'static str,
    index: usize,
    path: Vec<u8>,
    prefix: Option<Vec<u8>>,
}

impl SubjectBuf {
    fn path(name: &'static str, index: usize, path: &[u8], prefix: Option<&[u8]>) -> Self {
        SubjectBuf {
            kind: 0,
            name,
            index,
            path: path.to_vec(),
            prefix: prefix.map(<[u8]>::to_vec),
        }
    }

    fn exec(name: &'static str, path: &[u8]) -> Self {
        SubjectBuf {
            kind: 1,
            name,
            index: 0,
            path: path.to_vec(),
            prefix: None,
        }
    }

    fn fchdir() -> Self {
        SubjectBuf {
            kind: 2,
            name: "fchdir",
            index: 0,
            path: Vec::new(),
            prefix: None,
        }
    }

    fn subject(&self) -> Subject<'_> {
        match self.kind {
            0 => Subject::Path {
                name: self.name,
                index: self.index,
                path: &self.path,
                prefix: self.prefix.as_deref(),
            },
            1 => Subject::Exec {
                name: self.name,
                path: &self.path,
            },
            _ => Subject::Fchdir,
        }
    }
}

/// The report subject of a path argument: `name(?, ..., `path')`, with the dirfd's path as
/// prefix for relative paths of `*at` calls.
fn path_subject(call: &Call, pa: &PathArg, raw: &[u8], n: &Notif, tracee: &Tracee) -> SubjectBuf {
    let index = usize::from(pa.path).saturating_sub(usize::from(pa.dirfd.is_some()));
    let mut prefix = None;
    if let Some(d) = pa.dirfd {
        if raw.first() != Some(&b'/') {
            if let Base::Fd(fd) = Base::from_dirfd(arg(n, d)) {
                let mut p = PathBuf::new();
                if path::fd_path(tracee, fd, &mut p).is_ok() {
                    prefix = Some(p.as_bytes().to_vec());
                }
            }
        }
    }
    SubjectBuf::path(call.name, index, raw, prefix.as_deref())
}

/// The type-check errno of a denied path, if the object exists and fails the check.
fn type_errno(
    canonical: &[u8],
    check: TypeCheck,
    follow: syd_core::syscall::Follow,
    _n: &Notif,
    _t: &Tracee,
    _pa: &PathArg,
) -> Option<i32> {
    if check == TypeCheck::None {
        return None;
    }
    let c = crate::setup::cstring(canonical).ok()?;
    let nofollow = if follow == syd_core::syscall::Follow::No {
        libc::AT_SYMLINK_NOFOLLOW
    } else {
        0
    };
    let st = sys::fstatat(None, &c, nofollow).ok()?;
    let kind = st.mode & libc::S_IFMT;
    let is_dir = kind == libc::S_IFDIR;
    match check {
        TypeCheck::MustNotExist => Some(e::EEXIST),
        TypeCheck::NotDir if is_dir => Some(e::EISDIR),
        TypeCheck::EmptyDir if !is_dir => Some(e::ENOTDIR),
        TypeCheck::EmptyDir if !dir_is_empty(&c) => Some(e::ENOTEMPTY),
        _ => None,
    }
}

fn open_type_errno(canonical: &[u8], check: OpenCheck, _n: &Notif, _t: &Tracee) -> Option<i32> {
    if check == OpenCheck::None {
        return None;
    }
    let c = crate::setup::cstring(canonical).ok()?;
    let st = sys::fstatat(None, &c, libc::AT_SYMLINK_NOFOLLOW).ok()?;
    let kind = st.mode & libc::S_IFMT;
    match check {
        OpenCheck::MustNotExist => Some(e::EEXIST),
        OpenCheck::NoSymlink if kind == libc::S_IFLNK => Some(e::ELOOP),
        OpenCheck::MustBeDir => {
            let st = sys::fstatat(None, &c, 0).ok()?;
            (st.mode & libc::S_IFMT != libc::S_IFDIR).then_some(e::ENOTDIR)
        }
        _ => None,
    }
}

fn dir_is_empty(dir: &CStr) -> bool {
    let Ok(fd) = sys::open(dir, libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC, 0) else {
        return true;
    };
    let mut buf = [0u8; 1024];
    let Ok(n) = sys::getdents(&fd, &mut buf) else {
        return true;
    };
    let empty = sys::dirents(buf.get(..n).unwrap_or(&[])).all(|name| name == b"." || name == b"..");
    empty
}

/// Reads `/proc/<pid><suffix>` into `buf`.
pub fn read_proc_file(pid: Pid, suffix: &[u8], buf: &mut [u8]) -> Result<usize, Errno> {
    let mut path = [0u8; 64];
    let len = mem::fmt_proc(&mut path, pid, suffix);
    let c = CStr::from_bytes_with_nul(path.get(..=len).unwrap_or(&[]))
        .map_err(|_| Errno(libc::EINVAL))?;
    crate::setup::read_small(c, buf)
}

/// The value of a `Name:` line of `/proc/<pid>/status`, as its first number.
fn status_field(status: &[u8], name: &[u8]) -> Option<u64> {
    status.split(|&b| b == b'\n').find_map(|line| {
        let rest = line.strip_prefix(name)?;
        let digits = rest.trim_ascii_start();
        let end = digits
            .iter()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(digits.len());
        core::str::from_utf8(digits.get(..end)?).ok()?.parse().ok()
    })
}

fn read_status_ids(tid: Pid) -> Option<(i32, i32)> {
    let mut buf = [0u8; 2048];
    let n = read_proc_file(tid, b"/status", &mut buf).ok()?;
    let s = buf.get(..n)?;
    let tgid = i32::try_from(status_field(s, b"Tgid:")?).ok()?;
    let ppid = i32::try_from(status_field(s, b"PPid:")?).ok()?;
    Some((tgid, ppid))
}

fn read_umask(tid: Pid) -> Option<u32> {
    let mut buf = [0u8; 2048];
    let n = read_proc_file(tid, b"/status", &mut buf).ok()?;
    let s = buf.get(..n)?;
    let line = s
        .split(|&b| b == b'\n')
        .find_map(|l| l.strip_prefix(b"Umask:"))?;
    let digits = line.trim_ascii();
    let mut v = 0u32;
    for &d in digits {
        if !(b'0'..=b'7').contains(&d) {
            return None;
        }
        v = v * 8 + u32::from(d - b'0');
    }
    Some(v)
}

/// The filesystem identity of a tracee, taken on for an emulated call.
struct Creds {
    fsuid: u32,
    fsgid: u32,
    groups: Vec<u32>,
}

/// What [`Creds::enter`] replaced.
struct Saved {
    fsuid: u32,
    fsgid: u32,
}

impl Creds {
    fn of(tid: Pid) -> Option<Creds> {
        let mut buf = [0u8; 4096];
        let n = read_proc_file(tid, b"/status", &mut buf).ok()?;
        let s = buf.get(..n)?;
        let fourth = |name: &[u8]| -> Option<u32> {
            let line = s
                .split(|&b| b == b'\n')
                .find_map(|l| l.strip_prefix(name))?;
            let v = line
                .split(|b| b.is_ascii_whitespace())
                .filter(|w| !w.is_empty())
                .nth(3)?;
            core::str::from_utf8(v).ok()?.parse().ok()
        };
        let fsuid = fourth(b"Uid:")?;
        let fsgid = fourth(b"Gid:")?;
        if fsuid == 0 && fsgid == 0 {
            return None;
        }
        let groups = s
            .split(|&b| b == b'\n')
            .find_map(|l| l.strip_prefix(b"Groups:"))
            .map(|l| {
                l.split(|b| b.is_ascii_whitespace())
                    .filter_map(|w| core::str::from_utf8(w).ok()?.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        Some(Creds {
            fsuid,
            fsgid,
            groups,
        })
    }

    fn enter(&self) -> Saved {
        let _ = sys::setgroups_thread(&self.groups);
        let fsgid = sys::setfsgid(self.fsgid);
        let fsuid = sys::setfsuid(self.fsuid);
        Saved { fsuid, fsgid }
    }
}

impl Saved {
    fn leave(self) {
        sys::setfsuid(self.fsuid);
        sys::setfsgid(self.fsgid);
        let _ = sys::setgroups_thread(&[]);
    }
}

/// The exit status of the run (SPEC §1.5).
pub fn exit_status(status: Status, violation: bool, exit_code: i32) -> i32 {
    let base = match status {
        Status::Exited(c) => c,
        Status::Signaled(s) => 128 + s,
        _ => 1,
    };
    if violation && exit_code > 0 {
        exit_code & 0xff
    } else if violation && exit_code == 0 && base < 128 {
        128 + base
    } else {
        base
    }
}
