//! The supervisor: receives notifications, decides with the core, answers (SPEC §2.7 and on).

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
use crate::vecmap::VecMap;

#[path = "emulate.rs"]
mod emulate;

/// errno values as this build's ABI numbers them: mips and parisc differ from asm-generic from
/// 35 on, and every ABI a host runs shares its host's numbering.
pub(crate) mod e {
    pub const EPERM: i32 = libc::EPERM;
    pub const ENOENT: i32 = libc::ENOENT;
    pub const ESRCH: i32 = libc::ESRCH;
    pub const EBADF: i32 = libc::EBADF;
    pub const EACCES: i32 = libc::EACCES;
    pub const EFAULT: i32 = libc::EFAULT;
    pub const EEXIST: i32 = libc::EEXIST;
    pub const ENOTDIR: i32 = libc::ENOTDIR;
    pub const EISDIR: i32 = libc::EISDIR;
    pub const ENOSYS: i32 = libc::ENOSYS;
    pub const ENOTEMPTY: i32 = libc::ENOTEMPTY;
    pub const ELOOP: i32 = libc::ELOOP;
    pub const EAFNOSUPPORT: i32 = libc::EAFNOSUPPORT;
    pub const EADDRNOTAVAIL: i32 = libc::EADDRNOTAVAIL;
    pub const ENOTCONN: i32 = libc::ENOTCONN;
    pub const ECONNREFUSED: i32 = libc::ECONNREFUSED;
}

/// The asm-generic errno `generic` of the core's syscall table as this build's ABI numbers it:
/// the entry of the x86_64 table (asm-generic) that has it, read in the native one (both list
/// the same names in the same order). An errno outside the tables' list stays as it is.
fn native_errno(generic: i32) -> i32 {
    let asm_generic = syd_core::arch::X86_64.consts.errnos();
    let native = crate::setup::native().consts.errnos();
    asm_generic
        .zip(native)
        .find(|&((_, g), _)| i32::try_from(g) == Ok(generic))
        .and_then(|(_, (_, v))| i32::try_from(v).ok())
        .unwrap_or(generic)
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
    /// Start time of the group leader (/proc/PID/stat field 22): tells the group from a later
    /// one that got the same recycled pid.
    start: u64,
}

/// A known thread (SPEC §2.2).
struct Thread {
    tgid: i32,
    /// Start time of the thread (/proc/TID/stat field 22).
    start: u64,
    /// `/proc/<tid>/comm`, kept open while the descriptor budget allows: see `tgid`.
    stat: Option<Fd>,
    /// `/proc/<tid>/status`, opened when the thread is first seen (for its group and parent)
    /// and kept likewise: the identity of its emulated calls is read from it.
    status: Option<Fd>,
    /// The identity an emulated call of this thread runs with (`Some(None)`: the supervisor's
    /// own), once read; forgotten when the thread changes its ids, groups, capabilities or
    /// user namespace (all routed: `Handler::Identity`) or its thread group execs.
    creds: Option<Option<Creds>>,
}

impl Thread {
    /// How many descriptors the entry keeps.
    fn fds(&self) -> usize {
        usize::from(self.stat.is_some()) + usize::from(self.status.is_some())
    }
}

impl Thread {
    /// Whether the thread still is the one this entry was made for: a read of the kept
    /// descriptor succeeds (see `Supervisor::tgid`), else its start time is unchanged.
    fn alive(&self, tid: i32) -> bool {
        match &self.stat {
            Some(fd) => sys::pread(fd, &mut [0u8; 32], 0).is_ok(),
            None => read_start_time(Pid(tid)) == Some(self.start),
        }
    }
}

/// What was decided for a notification.
pub(crate) enum Reply {
    /// Answer with this.
    Answer(Answer),
    /// Already answered (an fd was installed with ADDFD_FLAG_SEND).
    Sent,
    /// Left unanswered for now: an emulated call that would block, answered once it completes
    /// (bin/netemu.rs).
    Pending,
}

/// The supervisor's state.
pub struct Supervisor {
    pub(crate) listener: Fd,
    pub(crate) global: Global,
    startup: Rc<TaskPolicy>,
    startup_lock: Lock,
    pub(crate) tasks: VecMap<i32, Task>,
    /// Thread id -> what is known of the thread.
    tids: VecMap<i32, Thread>,
    inserted: usize,
    /// How many `/proc` descriptors the `tids` entries keep open.
    kept: usize,
    /// At most this many are kept (half the descriptor limit; the rest serve the calls).
    keep_max: usize,
    calls: Vec<Call>,
    /// The command's first process.
    pub eldest: Pid,
    initial_exec_done: bool,
    /// Whether a magic command was ever run: until then, every task's policy and lock are the
    /// start-up ones, and a call the start-up policy lets through needs no caller entry.
    magic_used: bool,
    /// Whether a violation was reported.
    pub violation: bool,
    pub(crate) dry_run: bool,
    pub(crate) method: Method,
    chdir_prefix: Option<Vec<u8>>,
    /// Whether the kernel installs fds and answers in one step (SECCOMP_ADDFD_FLAG_SEND).
    addfd_send: bool,
    root: bool,
    /// The supervisor's capabilities when it runs as root (read once: only `Creds` changes
    /// them, and restores them).
    caps: Option<sys::Caps>,
    /// The supervisor's user namespace link (`/proc/self/ns/user`), read once.
    user_ns: Vec<u8>,
    /// Set by `killall`: exit at once with this status.
    pub exit_now: Option<i32>,
    /// Binds left to the kernel, learned once confirmed (bin/net.rs).
    pub(crate) binds: Vec<crate::net::PendingBind>,
    /// Emulated network calls waiting to complete (bin/netemu.rs).
    pub(crate) pending: Vec<crate::netemu::Pending>,
    /// Allowed execs whose outcome is still to be verified (bin/execcheck.rs).
    pub(crate) execs: Vec<crate::execcheck::PendingExec>,
    /// `-d`: where violations and kills are recorded.
    pub dump: Option<crate::dump::Dumper>,
    /// How many thread groups were seen, for the dump's exit record.
    pub seen: u64,
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
        crate::vecmap::sort_by_key(&mut calls, |c| (c.audit, c.nr));
        calls.dedup_by_key(|c| (c.audit, c.nr));
        let _ = sys::notif_set_sync_wake_up(&listener);
        // The -D directory as the command sees it: the eldest's cwd, canonical, so that the
        // confinement compares canonical paths (a relative or symlinked -D, or one inside a
        // -C root, included). The eldest is between its set-up and its exec: its cwd is the
        // -D directory.
        let chdir_prefix = chdir_prefix.map(|given| {
            let mut cwd = PathBuf::new();
            let eldest_tracee = Tracee {
                tid: eldest,
                tgid: eldest,
            };
            match path::canonicalize(
                &eldest_tracee,
                Base::Cwd,
                b".",
                path::Resolve::Exist,
                Follow::Yes,
                &mut cwd,
            ) {
                Ok(_) => cwd.as_bytes().to_vec(),
                Err(_) => given,
            }
        });
        let root = sys::geteuid() == 0;
        Supervisor {
            listener,
            global: sandbox.global.clone(),
            startup: Rc::new(sandbox.task.clone()),
            startup_lock: sandbox.task.lock,
            tasks: VecMap::new(),
            tids: VecMap::new(),
            inserted: 0,
            kept: 0,
            keep_max: sys::raise_nofile_limit() / 2,
            calls,
            eldest,
            initial_exec_done: false,
            magic_used: false,
            violation: false,
            dry_run,
            method: Method::of(sandbox.global.memory_access),
            chdir_prefix,
            addfd_send: true,
            root,
            caps: if root { sys::capget().ok() } else { None },
            user_ns: if root {
                user_ns(b"/proc/self/ns/user\0")
            } else {
                Vec::new()
            },
            exit_now: None,
            binds: Vec::new(),
            pending: Vec::new(),
            execs: Vec::new(),
            dump: None,
            seen: 0,
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
    ///
    /// SECURITY: pids are recycled. An entry is trusted only while the start time of its
    /// thread (and of its group leader) is unchanged; otherwise it belonged to a dead task,
    /// whose relaxed or unlocked state must not pass to the newcomer. The entry keeps
    /// `/proc/<tid>/comm` open, so that the check is one small pread instead of open, read,
    /// close of `/proc/<tid>/stat` (whose formatting costs microseconds per notification).
    /// A procfs descriptor pins the task's `struct pid`, not its number: once that task is
    /// reaped, reading the descriptor fails (ESRCH), even after the number went to a new
    /// task, and a successful read names the same task. The descriptor is opened before the
    /// start time is read by path; should the number change hands in between, the pinned
    /// task is gone and the next check starts over. An exec by a non-leader thread moves that
    /// thread to the leader's pid, with the leader's start time: the same thread group, as
    /// before. When the descriptor budget is spent, an entry keeps no descriptor and the
    /// start time is read by path each time, as it was.
    fn tgid(&mut self, tid: i32) -> Option<i32> {
        if let Some(t) = self.tids.get(&tid) {
            if t.alive(tid) {
                return Some(t.tgid);
            }
            if let Some(old) = self.tids.remove(&tid) {
                self.forget(old);
            }
        }
        if self.inserted % 256 == 255 || self.kept >= self.keep_max {
            self.prune();
        }
        let stat = if self.kept < self.keep_max {
            open_proc(Pid(tid), b"/comm").ok()
        } else {
            None
        };
        let start = read_start_time(Pid(tid))?;
        // The status is kept open too (budget allowing): the identity is read from it later.
        let status = if stat.is_some() && self.kept + 1 < self.keep_max {
            open_proc(Pid(tid), b"/status").ok()
        } else {
            None
        };
        let mut buf = [0u8; 2048];
        let len = match &status {
            Some(fd) => sys::pread(fd, &mut buf, 0).ok()?,
            None => read_proc_record(Pid(tid), b"/status", &mut buf).ok()?,
        };
        let (tgid, ppid) = status_ids(buf.get(..len)?)?;
        let leader_start = if tgid == tid {
            start
        } else {
            read_start_time(Pid(tgid))?
        };
        if self
            .tasks
            .get(&tgid)
            .is_none_or(|t| t.start != leader_start)
        {
            let parent = self
                .tasks
                .get(&ppid)
                .filter(|p| self.leader_is(ppid, p.start));
            let (policy, lock) = match parent {
                Some(p) => (p.policy.clone(), p.lock),
                None => (self.startup.clone(), self.startup_lock),
            };
            let task = Task {
                policy,
                lock,
                start: leader_start,
            };
            self.tasks.insert(tgid, task);
            self.seen += 1;
        }
        let entry = Thread {
            tgid,
            start,
            stat,
            status,
            creds: None,
        };
        self.kept += entry.fds();
        if let Some(old) = self.tids.insert(tid, entry) {
            self.forget(old);
        }
        self.inserted += 1;
        Some(tgid)
    }

    /// Whether the thread group `pid` is still the one whose leader started at `start`: a
    /// read of the leader's kept descriptor if its entry has one (see `tgid`), else the start
    /// time read by path.
    fn leader_is(&self, pid: i32, start: u64) -> bool {
        match self.tids.get(&pid) {
            Some(t) if t.stat.is_some() && t.tgid == pid && t.start == start => t.alive(pid),
            _ => read_start_time(Pid(pid)) == Some(start),
        }
    }

    /// Drops a thread entry and its descriptor.
    fn forget(&mut self, t: Thread) {
        self.kept = self.kept.saturating_sub(t.fds());
    }

    /// Reads `/proc/<tid>/status` of a known thread into `buf`: a pread of the entry's kept
    /// descriptor (opened now if the budget allows), else a read of the path.
    fn read_status(&mut self, tid: Pid, buf: &mut [u8]) -> Option<usize> {
        let room = self.kept < self.keep_max;
        let Some(t) = self.tids.get_mut(&tid.0) else {
            return read_proc_file(tid, b"/status", buf).ok();
        };
        if t.status.is_none() && room {
            t.status = open_proc(tid, b"/status").ok();
            self.kept += usize::from(t.status.is_some());
        }
        match &t.status {
            Some(fd) => sys::pread(fd, buf, 0).ok(),
            None => read_proc_record(tid, b"/status", buf).ok(),
        }
    }

    /// What an emulated call of `tid` runs as: the identity (`None`: the supervisor's own, or
    /// an unprivileged supervisor, which has its tracees' identity), and with `umask` the
    /// umask (else 0). One read of `/proc/<tid>/status` serves both; the identity is
    /// remembered in the thread's entry, the umask is read each time it is asked for (threads
    /// share it and umask(2) is not routed).
    ///
    /// `in_proc`: the call reaches a `/proc/<pid>` entry, whose ptrace access check looks at
    /// CAP_SYS_PTRACE (which the command lacks: bin/child.rs); such an identity is computed
    /// afresh, not remembered.
    ///
    /// When syd runs as root and the status cannot be read (the tracee is gone), the call runs
    /// as the supervisor with the default umask, as it did before the identity was cached;
    /// [`Self::identity_of`] tells that case apart.
    fn identity(&mut self, tid: Pid, umask: bool, in_proc: bool) -> (Option<Creds>, u32) {
        self.identity_of(tid, umask, in_proc)
            .unwrap_or((None, if umask { 0o022 } else { 0 }))
    }

    /// [`Self::identity`], with `ESRCH` when syd runs as root and the identity is neither
    /// remembered nor readable.
    fn identity_of(
        &mut self,
        tid: Pid,
        umask: bool,
        in_proc: bool,
    ) -> Result<(Option<Creds>, u32), Errno> {
        let cached = self
            .tids
            .get(&tid.0)
            .filter(|_| self.root && !in_proc)
            .and_then(|t| t.creds.clone());
        if !umask {
            if let Some(c) = cached {
                return Ok((c, 0));
            }
            if !self.root {
                return Ok((None, 0));
            }
        }
        let mut buf = [0u8; 4096];
        let len = self.read_status(tid, &mut buf).unwrap_or(0);
        let status = buf.get(..len).unwrap_or(&[]);
        let creds = match (&self.caps, cached) {
            (_, Some(c)) => c,
            (Some(ours), None) if self.root => {
                if status.is_empty() {
                    return Err(Errno(e::ESRCH));
                }
                let c = Creds::of(tid, status, ours, &self.user_ns, in_proc);
                if len > 0 && !in_proc {
                    if let Some(t) = self.tids.get_mut(&tid.0) {
                        t.creds = Some(c.clone());
                    }
                }
                c
            }
            _ => None,
        };
        let mask = if umask {
            parse_umask(status).unwrap_or(0o022)
        } else {
            0
        };
        Ok((creds, mask))
    }

    /// Forgets tasks that no longer exist.
    fn prune(&mut self) {
        let mut kept = 0;
        self.tids.retain(|&tid, t| {
            let live = t.alive(tid);
            if live {
                kept += t.fds();
            }
            live
        });
        self.kept = kept;
        let live: Vec<i32> = self.tids.values().map(|t| t.tgid).collect();
        self.tasks.retain(|tgid, _| live.contains(tgid));
    }

    fn handle(&mut self, n: &Notif) -> Reply {
        let Some(call) = self.call(n) else {
            // SECURITY: the filter only routes calls that have handlers; anything else is refused.
            return Reply::Answer(Answer::Errno(Errno(e::ENOSYS)));
        };
        if let Handler::Stat { path, .. } = call.handler {
            if let Some(reply) = self.stat_not_magic(n, path) {
                return reply;
            }
        }
        if let Some(reply) = self.nothing_to_check(n, &call) {
            return reply;
        }
        let tid = n.pid.0;
        let Some(tgid) = self.tgid(tid) else {
            return Reply::Answer(Answer::Errno(Errno(e::ESRCH)));
        };
        let tracee = Tracee {
            tid: n.pid,
            tgid: Pid(tgid),
        };
        if self.verify_execs(Some((n, tgid))) {
            // SECURITY: the caller's process was killed for an exec that reached a file it may
            // not run: its call must have no effect.
            return Reply::Answer(Answer::Errno(Errno(e::EACCES)));
        }
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
                let (safe, errno) = (safe.map(native_errno), native_errno(errno));
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
                let (mut second, mut out2) = (second, PathBuf::new());
                if let Some(second) = &mut second {
                    if second.check == TypeCheck::RenameTarget {
                        second.check = rename_target_check(out.as_bytes());
                    }
                    if let Check::Denied(a) = self
                        .path_check(n, &call, &tracee, tgid, cap, second, safe, errno, &mut out2)
                    {
                        return Reply::Answer(a);
                    }
                }
                // The checked objects, acted on by the supervisor (bin/emulate.rs).
                let first = emulate::Checked {
                    pa: &first,
                    path: out.as_bytes(),
                };
                let second = second.as_ref().map(|pa| emulate::Checked {
                    pa,
                    path: out2.as_bytes(),
                });
                self.emulate_path(n, &call, &tracee, cap, &first, second.as_ref())
            }
            Handler::Fchdir => self.fchdir(n, &call, &tracee, tgid),
            Handler::Net(net) => self.net(n, &call, &tracee, tgid, net),
            Handler::Uname => self.uname(n, &call),
            Handler::Identity => {
                if let Some(t) = self.tids.get_mut(&tid) {
                    t.creds = None;
                }
                // SECURITY: the in-kernel identity rules already ran; the call only makes the
                // remembered identity of the caller stale.
                Reply::Answer(Answer::Continue)
            }
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
        in_root: bool,
        root: &mut Option<Fd>,
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
        let (r, f) = (path_resolve(resolve), path_follow(follow));
        let mut p = raw.get(..len).unwrap_or(&[]);
        if in_root {
            // RESOLVE_IN_ROOT: an absolute path starts at the dirfd, not at the root. (A `..`
            // above the dirfd or an absolute symlink is resolved differently by the kernel; the
            // supervisor's open then reaches another object and is refused.)
            let start = p.iter().position(|&b| b != b'/').unwrap_or(p.len());
            p = p.get(start..).filter(|r| !r.is_empty()).unwrap_or(b".");
        }
        path::canonicalize_at(tracee, base, p, r, f, out, root)?;
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
        let policy = self.policy(tgid);
        if policy.mode(cap) == Mode::Off
            || (policy.allows_every_path(cap) && !self.confines_chdir(call))
        {
            return Check::Allowed;
        }
        let mut raw = [0u8; syd_core::limits::PATH_MAX];
        let follow = pa.follow_for(&n.args);
        let len = match self.resolve(
            n, tracee, pa, pa.resolve, follow, &mut raw, out, false, &mut None,
        ) {
            Ok(len) => len,
            Err(err) => return Check::Denied(self.fail(n, call, tracee, err, None)),
        };
        let verdict = self.check(tgid, cap, out.as_bytes());
        if verdict == Verdict::Allow {
            return Check::Allowed;
        }
        // Type checks (SPEC §2.7 step 7): the errno the kernel would give anyway.
        let typed = type_errno(out.as_bytes(), pa.check_for(&n.args), follow);
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
        let traced = |id: u32| self.traced(id);
        check_path(&self.global, self.policy(tgid), cap, path, &traced)
    }

    /// Whether `id` is a thread group being sandboxed now (for per-process directories): a
    /// known group whose leader has the start time it had when first seen.
    pub(crate) fn traced(&self, id: u32) -> bool {
        i32::try_from(id).is_ok_and(|id| {
            self.tasks
                .get(&id)
                .is_some_and(|t| read_start_time(Pid(id)) == Some(t.start))
        })
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
        self.apply_decision(tracee);
        Answer::Errno(Errno(errno))
    }

    /// Carries out `core/violation/decision` after a reported violation of `tracee` (SPEC
    /// §7.1): `kill` kills its thread group, `killall` every task (before the offender sees its
    /// answer; the tasks never seen are killed by the final sweep) and makes syd exit.
    pub(crate) fn apply_decision(&mut self, tracee: &Tracee) {
        match self.global.decision {
            Decision::Kill => {
                self.kill(tracee.tgid);
            }
            Decision::KillAll => {
                // The offender waits for its answer: it goes last, so that its death wakes
                // nobody who is still alive (a parent in wait() would run on).
                let others: Vec<i32> = self
                    .tasks
                    .keys()
                    .copied()
                    .filter(|&t| t != tracee.tgid.0)
                    .collect();
                for t in others {
                    self.kill(Pid(t));
                }
                self.kill(tracee.tgid);
                let code = if self.global.exit_code > 0 {
                    self.global.exit_code & 0xff
                } else {
                    137
                };
                self.exit_now = Some(code);
            }
            Decision::Deny | Decision::Noop | Decision::Bpf => {}
        }
    }

    /// SIGKILLs the thread group `tgid` for a decision, recorded in the dump.
    fn kill(&mut self, tgid: Pid) {
        self.dump_kill(tgid);
        let _ = sys::kill(tgid, libc::SIGKILL);
    }

    /// Records in the dump (if any) that the thread group `tgid` is SIGKILLed.
    pub(crate) fn dump_kill(&mut self, tgid: Pid) {
        if let Some(d) = &mut self.dump {
            let mut comm = [0u8; 64];
            let len = read_proc_file(tgid, b"/comm", &mut comm).unwrap_or(0);
            let comm = comm.get(..len).unwrap_or(&[]);
            d.kill(
                tgid.0,
                comm.strip_suffix(b"\n").unwrap_or(comm),
                libc::SIGKILL,
            );
        }
    }

    /// Prints the table of sandboxed processes on standard error (SIGUSR1, SIGUSR2): per
    /// thread group its id, parent, name and current directory, then their number.
    pub fn print_tasks(&self) {
        let mut o = sys::Out::<4096>::new(sys::STDERR);
        let mut count = 0;
        for &tgid in self.tasks.keys() {
            let pid = Pid(tgid);
            let Some((_, ppid)) = read_status_ids(pid) else {
                continue;
            };
            count += 1;
            let mut comm = [0u8; 64];
            let len = read_proc_file(pid, b"/comm", &mut comm).unwrap_or(0);
            let comm = comm.get(..len).unwrap_or(&[]);
            let mut cwd = PathBuf::new();
            let tracee = Tracee {
                tid: pid,
                tgid: pid,
            };
            let _ = path::canonicalize(
                &tracee,
                Base::Cwd,
                b".",
                path::Resolve::Exist,
                Follow::Yes,
                &mut cwd,
            );
            let mut line = Vec::from(&b"sydbox: -- pid="[..]);
            crate::setup::push_int(&mut line, i64::from(tgid));
            line.extend_from_slice(b" ppid=");
            crate::setup::push_int(&mut line, i64::from(ppid));
            line.extend_from_slice(b" comm=`");
            line.extend_from_slice(comm.strip_suffix(b"\n").unwrap_or(comm));
            line.extend_from_slice(b"' cwd=`");
            line.extend_from_slice(cwd.as_bytes());
            line.extend_from_slice(b"'\n");
            o.bytes(&line);
        }
        let mut last = Vec::from(&b"sydbox: Tracing "[..]);
        crate::setup::push_int(&mut last, count);
        last.extend_from_slice(b" process(es)\n");
        o.bytes(&last);
    }

    pub(crate) fn report(&mut self, n: &Notif, call: &Call, tracee: &Tracee, subject: Subject<'_>) {
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
        if let Some(d) = &mut self.dump {
            let ppid = read_status_ids(n.pid).map_or(0, |(_, p)| p);
            d.oops(&syd_core::dump::Oops {
                pid: n.pid.0,
                tgid: tracee.tgid.0,
                ppid,
                sys: call.name,
                subject,
                comm,
                cmdline: cmd_len.and_then(|l| cmdline.get(..l)).unwrap_or(&[]),
                cwd: cwd.as_bytes(),
            });
        }
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

    /// CONTINUE for a call that the start-up policy lets through whatever its path, while no
    /// magic command ran (so every task's policy is the start-up one) and no exec waits for
    /// its verification; `None` otherwise, and the notification is handled as usual. Such a
    /// call needs no entry for its caller: a new process whose calls all pass this way costs
    /// no /proc reads.
    ///
    /// SECURITY: the same decisions as the handlers make with the caller's policy (`open`,
    /// `access`, `exec`, `emulate_path`): a type that is off or allows every path checks
    /// nothing, so nothing can race. A chdir under -D is left out (the confinement checks
    /// its path), and openat2 (its flags are in the caller's memory). An exec forgets the identity of the
    /// caller's group; for a caller without an entry, of every thread.
    fn nothing_to_check(&mut self, n: &Notif, call: &Call) -> Option<Reply> {
        if self.magic_used || !self.initial_exec_done || !self.execs.is_empty() {
            return None;
        }
        let p = &self.startup;
        let passes = match call.handler {
            Handler::Open { flags, .. } => {
                let f = OpenFlags::of(call.arch.consts);
                let class = classify_open(arg(n, flags), &f, false);
                (!class.write || p.allows_every_path(Cap::Write))
                    && (!class.read || p.allows_every_path(Cap::Read))
            }
            Handler::Creat => p.allows_every_path(Cap::Write),
            Handler::Access { mode, .. } => {
                (arg(n, mode) & 2 == 0 || p.allows_every_path(Cap::Write))
                    && p.allows_every_path(Cap::Read)
            }
            Handler::Path { cap, .. } => !self.confines_chdir(call) && p.allows_every_path(cap),
            Handler::Exec { .. } => {
                let pass = p.allows_every_path(Cap::Exec)
                    && self.global.kill_if_match.is_empty()
                    && self.startup_lock != Lock::Exec;
                if pass {
                    let tid = n.pid.0;
                    let group = self.tids.get(&tid).filter(|t| t.alive(tid)).map(|t| t.tgid);
                    for t in self.tids.values_mut() {
                        if group.is_none_or(|g| t.tgid == g) {
                            t.creds = None;
                        }
                    }
                }
                pass
            }
            _ => false,
        };
        passes.then_some(Reply::Answer(Answer::Continue))
    }

    /// Whether `call` is a chdir that -D confines: read sandboxing on, it needs the resolved
    /// path even when no path is denied (`chdir_confined`).
    fn confines_chdir(&self, call: &Call) -> bool {
        call.name == "chdir" && self.chdir_prefix.is_some()
    }

    /// The answer to a stat-family call whose path is no magic path, or `None` when it may be
    /// one (or cannot be read): then the whole notification is handled as usual.
    ///
    /// SECURITY: stat is not a sandboxed call; only the magic paths make it reach the
    /// supervisor (SPEC §5.4). For any other path the answer is CONTINUE whoever asks, so it
    /// needs neither the caller's entry nor a check that the notification is still valid: the
    /// kernel reads the path again and answers as it would without syd. A path that changes
    /// into a magic one after this read is looked up by the kernel, where it does not exist.
    /// With exec verifications pending, the caller goes the usual way (its group may have to
    /// be killed first).
    fn stat_not_magic(&self, n: &Notif, path_arg: u8) -> Option<Reply> {
        if !self.execs.is_empty() {
            return None;
        }
        let mut head = [0u8; magic::PREFIX.len()];
        mem::read_exact(self.method, n.pid, arg(n, path_arg), &mut head).ok()?;
        if head.as_slice() == magic::PREFIX {
            return None;
        }
        Some(Reply::Answer(Answer::Continue))
    }

    fn magic(&mut self, n: &Notif, tgid: i32, cmd: &Command<'_>) -> Answer {
        self.magic_used = true;
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
                let services = crate::net::service_port;
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
        // An exec recomputes capabilities, and one by another thread ends this group's others.
        for t in self.tids.values_mut().filter(|t| t.tgid == tgid) {
            t.creds = None;
        }
        if !self.initial_exec_done && n.pid == self.eldest {
            // The command itself is not checked (SPEC §1.4 step 11).
            self.initial_exec_done = true;
            self.exec_lock(tgid);
            // SECURITY: the initial exec runs the command the user asked for.
            return Reply::Answer(Answer::Continue);
        }
        let policy = self.policy(tgid);
        let mode = policy.mode(Cap::Exec);
        let nothing_to_check =
            policy.allows_every_path(Cap::Exec) && self.global.kill_if_match.is_empty();
        let lock = self.tasks.get(&tgid).map_or(self.startup_lock, |t| t.lock);
        if nothing_to_check && lock != Lock::Exec {
            // SECURITY: exec sandboxing is off, nothing is to be killed and no lock waits for
            // an exec: nothing to check, no path to resolve.
            return Reply::Answer(Answer::Continue);
        }
        let mut raw = [0u8; syd_core::limits::PATH_MAX];
        let mut out = PathBuf::new();
        let follow = pa.follow_for(&n.args);
        if let Err(err) = self.resolve(
            n, tracee, pa, pa.resolve, follow, &mut raw, &mut out, false, &mut None,
        ) {
            if nothing_to_check {
                // SECURITY: nothing to check; the lock waits for an exec that can succeed.
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
            crate::execcheck::print_kill_if_match(tracee, call.abi, pattern, canonical);
            self.kill(tracee.tgid);
            return Reply::Answer(Answer::Errno(Errno(e::EACCES)));
        }
        if !nothing_to_check {
            // Verified once it has happened (bin/execcheck.rs); refused if it cannot be.
            if let Err(err) = self.pend_exec(n, call, tracee, &mut out) {
                return Reply::Answer(Answer::Errno(err));
            }
        }
        self.exec_lock(tgid);
        // SECURITY: the path was checked; a thread flipping it before the kernel reads it again
        // (the exec race of SPEC §9 #1) makes the process run another file, which
        // `verify_execs` finds and kills (bin/execcheck.rs).
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
        let write = class.write && !policy.allows_every_path(Cap::Write);
        let read = class.read && !policy.allows_every_path(Cap::Read);
        if !write && !read {
            // SECURITY: neither type checks this open (off, or every path allowed): the
            // kernel's result is the answer, whatever path it opens.
            return Reply::Answer(Answer::Continue);
        }
        let mut raw = [0u8; syd_core::limits::PATH_MAX];
        let mut out = PathBuf::new();
        // The root descriptor the path is resolved from is the one the open starts at.
        let mut root = None;
        let len = match self.resolve(
            n,
            tracee,
            pa,
            class.resolve,
            class.follow,
            &mut raw,
            &mut out,
            resolve_flags & RESOLVE_IN_ROOT != 0,
            &mut root,
        ) {
            Ok(l) => l,
            Err(err) => return Reply::Answer(self.fail(n, call, tracee, err, None)),
        };
        let raw_path = raw.get(..len).unwrap_or(&[]);
        for (cap, needed) in [(Cap::Write, write), (Cap::Read, read)] {
            if !needed {
                continue;
            }
            let verdict = self.check(tgid, cap, out.as_bytes());
            if verdict == Verdict::Allow {
                continue;
            }
            let typed = open_type_errno(out.as_bytes(), class.check);
            if let Some(t) = typed {
                if !self.global.raise_safe {
                    return Reply::Answer(Answer::Errno(Errno(t)));
                }
            }
            let errno = typed.unwrap_or(e::EPERM);
            let a = self.deny(n, call, tracee, verdict, errno, || {
                path_subject(call, pa, raw_path, n, tracee)
            });
            return Reply::Answer(a);
        }
        let at = if resolve_flags == 0 {
            None
        } else {
            let base = pa.dirfd.map_or(Base::Cwd, |d| Base::from_dirfd(arg(n, d)));
            Some(ResolveAt {
                base,
                raw: raw_path,
                resolve: resolve_flags,
                follow: class.follow,
            })
        };
        self.emulate_open(n, tracee, root, &out, flags, mode, at)
    }

    /// Opens the checked path in the supervisor, as the tracee would, and installs the
    /// descriptor in the tracee: the kernel never reads the tracee's path again.
    ///
    /// Without `at`, the canonical path is opened inside the tracee's root with no symlink
    /// allowed. With `at` (openat2 with `RESOLVE_*` flags), the tracee's own path is opened from
    /// its own dirfd with its flags, as the kernel would; the object opened must then be the one
    /// checked, else the open is refused with EPERM.
    #[allow(clippy::too_many_arguments)]
    fn emulate_open(
        &mut self,
        n: &Notif,
        tracee: &Tracee,
        root: Option<Fd>,
        checked: &PathBuf,
        flags: u64,
        mode: u64,
        at: Option<ResolveAt<'_>>,
    ) -> Reply {
        let canonical = checked.as_bytes();
        // Open flags and mode are C ints: the low 32 bits.
        let flags = (flags & 0xffff_ffff) as u32 as i32;
        let mode = (mode & 0o7777) as u32;
        if !self.addfd_send {
            // SECURITY: without SECCOMP_ADDFD_FLAG_SEND (Linux < 5.14) the kernel opens the
            // path itself: the check-then-use race remains (reported by syd --test).
            return Reply::Answer(Answer::Continue);
        }
        if flags & libc::O_PATH != 0 {
            // SECURITY: SECCOMP_IOCTL_NOTIF_ADDFD refuses O_PATH descriptors (fget() skips
            // them), so the kernel opens the checked path itself. An O_PATH descriptor reads and
            // writes nothing; whatever is done through it (openat, fchdir, execveat, a reopen
            // via /proc/self/fd) is checked again against the object's real path.
            return Reply::Answer(Answer::Continue);
        }
        if is_own_proc(canonical) {
            // SECURITY: the supervisor may open its own /proc entries (mem, fd/*, environ)
            // whatever its dumpable flag; opened for a tracee, they would hand it the
            // supervisor's memory and descriptors. The kernel refuses them to tracees (EACCES).
            return Reply::Answer(Answer::Errno(Errno(e::EACCES)));
        }
        // Every lookup starts at the tracee's root, so that a chrooted tracee (-C) opens what
        // it named: the descriptor the canonical path was resolved from, if one was opened.
        let root = match root.map_or_else(|| open_root(tracee.tid), Ok) {
            Ok(r) => r,
            Err(err) => return Reply::Answer(Answer::Errno(err)),
        };
        let mut rel_buf = [0u8; syd_core::limits::PATH_MAX + 1];
        let rel = relative_cstr(canonical, &mut rel_buf);
        // FIFOs would block the supervisor in open(2): let the kernel open them. The type the
        // canonicalizer just saw serves, unless it was a symlink (not followed there).
        let kind = match checked.kind() {
            Some(k) if k != libc::S_IFLNK => Some(k),
            _ => sys::fstatat(Some(&root), rel, 0)
                .ok()
                .map(|st| st.mode & libc::S_IFMT),
        };
        if kind == Some(libc::S_IFIFO) {
            // SECURITY: a FIFO was checked; the race remains for this open only.
            return Reply::Answer(Answer::Continue);
        }
        // SECURITY: a FIFO renamed over the checked file right after this check would block
        // the supervisor in open(2) until a peer comes, stalling every sandboxed task. Regular
        // files, directories and new files are opened O_NONBLOCK, which changes nothing for
        // them (but a lease: EAGAIN instead of waiting for its break), and the flag is taken
        // off again before the tracee gets the descriptor.
        let nonblock = flags & libc::O_NONBLOCK == 0
            && matches!(kind, None | Some(libc::S_IFREG | libc::S_IFDIR));
        let dir = match &at {
            None => None,
            Some(a) => match open_base(tracee, a.base) {
                Ok(d) => Some(d),
                Err(err) => return Reply::Answer(Answer::Errno(err)),
            },
        };
        let creating = flags & libc::O_CREAT != 0 || flags & libc::O_TMPFILE == libc::O_TMPFILE;
        // Bits the kernel ignores in open(2) but openat2(2) refuses.
        let flags = flags & VALID_OPEN_FLAGS;
        // The umask only matters to a creating open.
        let identity = self.enter_tracee(tracee, creating, canonical.starts_with(b"/proc/"));
        let open_flags = if nonblock {
            flags | libc::O_NONBLOCK
        } else {
            flags
        };
        let how = |resolve: u64| sys::OpenHow {
            // open_flags is a non-negative int here: masked with the valid flags above.
            flags: (open_flags | libc::O_CLOEXEC) as u32 as u64,
            mode: if creating { u64::from(mode) } else { 0 },
            resolve,
        };
        let r = match (&at, &dir) {
            (Some(a), Some(d)) => match crate::setup::cstring(a.raw) {
                Ok(raw) => sys::openat2(Some(d), &raw, &how(a.resolve)),
                Err(err) => Err(err),
            },
            // Magic links under /proc name the tracee's own files: follow them.
            _ if canonical.starts_with(b"/proc/") => {
                sys::openat(Some(&root), rel, open_flags | libc::O_CLOEXEC, mode)
            }
            // SECURITY: the canonical path has no symlinks left (but a final one that is not
            // followed): any symlink swapped in after the check makes the open fail.
            _ => sys::openat2(
                Some(&root),
                rel,
                &how(libc::RESOLVE_NO_SYMLINKS | RESOLVE_IN_ROOT),
            ),
        };
        identity.leave();
        let fd = match r {
            Ok(fd) => fd,
            // A FIFO swapped in, with no reader for a write-only open: what an open of it
            // interrupted by a signal says.
            Err(Errno(libc::ENXIO)) if nonblock => {
                return Reply::Answer(Answer::Errno(Errno(libc::EINTR)))
            }
            Err(err) => return Reply::Answer(Answer::Errno(err)),
        };
        if nonblock {
            // The status flags the tracee asked for (without O_NONBLOCK); a read-only open
            // of a FIFO swapped in then reads as one whose writer left.
            let _ = sys::set_status_flags(&fd, flags);
        }
        if let Some(a) = &at {
            // SECURITY: the kernel's resolution (RESOLVE_* flags) must have reached the object
            // that was checked; anything else (a race, a rule the check did not model) is
            // refused. A file O_CREAT made elsewhere by such a mismatch stays, empty.
            let nofollow = if a.follow == syd_core::syscall::Follow::No {
                libc::AT_SYMLINK_NOFOLLOW
            } else {
                0
            };
            let checked = sys::fstatat(Some(&root), rel, nofollow);
            let same = match (sys::fstat(&fd), checked) {
                (Ok(x), Ok(y)) => (x.dev, x.ino) == (y.dev, y.ino),
                _ => false,
            };
            if !same {
                return Reply::Answer(Answer::Errno(Errno(e::EPERM)));
            }
        }
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
        // struct open_how { u64 flags; u64 mode; u64 resolve; } at a2, size a3. The supervisor
        // opens for the tracee, so it refuses what the kernel's openat2 refuses (fs/open.c
        // build_open_how, copy_struct_from_user) instead of opening something else.
        let tm = mem::TraceeMem {
            method: self.method,
            pid: n.pid,
        };
        let how = match syd_core::notify::read_open_how(&tm, call.arch, arg(n, 2), arg(n, 3)) {
            Ok(how) => how,
            Err(err) => return Reply::Answer(Answer::Errno(mem::errno(err))),
        };
        if !self.valid(n) {
            return Reply::Answer(Answer::Errno(Errno(e::ESRCH)));
        }
        let (flags, mode, resolve) = (how.flags, how.mode, how.resolve);
        let pa = syd_core::notify::OPENAT2_PATH;
        self.open(n, call, tracee, tgid, &pa, flags, mode, resolve)
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
        let write = mode & 2 != 0 && !policy.allows_every_path(Cap::Write);
        let read = !policy.allows_every_path(Cap::Read);
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
        let method = self.method;
        Some(self.deny(n, call, tracee, Verdict::Deny, e::EACCES, || {
            if call.name == "fchdir" {
                return SubjectBuf::fchdir();
            }
            // The report shows the argument as passed (SPEC §7.3).
            let mut raw = [0u8; syd_core::limits::PATH_MAX];
            let shown = mem::read_cstr(method, n.pid, arg(n, 0), &mut raw).unwrap_or(target);
            SubjectBuf::path(call.name, 0, shown, None)
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

/// `RESOLVE_IN_ROOT` (linux/openat2.h).
const RESOLVE_IN_ROOT: u64 = 0x10;

/// The flags open(2) knows (`VALID_OPEN_FLAGS`, include/linux/fcntl.h); the kernel ignores the
/// others in open(2) and openat(2) but openat2(2) refuses them.
const VALID_OPEN_FLAGS: i32 = libc::O_RDONLY
    | libc::O_WRONLY
    | libc::O_RDWR
    | libc::O_CREAT
    | libc::O_EXCL
    | libc::O_NOCTTY
    | libc::O_TRUNC
    | libc::O_APPEND
    | libc::O_NONBLOCK
    | libc::O_DSYNC
    | libc::O_ASYNC
    | libc::O_DIRECT
    | libc::O_LARGEFILE
    | libc::O_DIRECTORY
    | libc::O_NOFOLLOW
    | libc::O_NOATIME
    | libc::O_CLOEXEC
    | libc::O_PATH
    | libc::O_SYNC
    | libc::O_TMPFILE;

/// How an openat2 call with `RESOLVE_*` flags is repeated by the supervisor.
struct ResolveAt<'a> {
    /// The tracee's dirfd (or cwd).
    base: Base,
    /// The path as the tracee passed it.
    raw: &'a [u8],
    /// The `RESOLVE_*` flags.
    resolve: u64,
    /// Whether the final symlink was followed for the check.
    follow: syd_core::syscall::Follow,
}

/// Whether the canonical path `p` is the supervisor's own `/proc/<pid>` directory or lies in
/// it. Only the procfs at `/proc` is recognised: `mount` is denied to tracees, so another one
/// exists only if it was mounted before.
fn is_own_proc(p: &[u8]) -> bool {
    if !p.starts_with(b"/proc/") {
        return false;
    }
    let mut own = [0u8; 32];
    let len = mem::fmt_proc(&mut own, sys::getpid(), b"");
    let own = own.get(..len).unwrap_or(&[]);
    p.strip_prefix(own)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(b"/"))
}

/// An `O_PATH` descriptor of the tracee's root (`/proc/<tid>/root`).
pub(crate) fn open_root(tid: Pid) -> Result<Fd, Errno> {
    let mut p = [0u8; 64];
    let len = mem::fmt_proc(&mut p, tid, b"/root");
    let c =
        CStr::from_bytes_with_nul(p.get(..=len).unwrap_or(&[])).map_err(|_| Errno(libc::EINVAL))?;
    sys::open(c, libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC, 0)
}

/// The tracee's cwd or descriptor as a descriptor of the supervisor's own.
fn open_base(tracee: &Tracee, base: Base) -> Result<Fd, Errno> {
    match base {
        Base::Fd(fd) => {
            let pidfd = sys::pidfd_open(tracee.tgid)?;
            sys::pidfd_getfd(&pidfd, fd).map_err(|err| {
                if err.0 == libc::EBADF {
                    err
                } else {
                    Errno(e::EBADF)
                }
            })
        }
        Base::Cwd | Base::None => {
            let mut p = [0u8; 64];
            let len = mem::fmt_proc(&mut p, tracee.tid, b"/cwd");
            let c = CStr::from_bytes_with_nul(p.get(..=len).unwrap_or(&[]))
                .map_err(|_| Errno(libc::EINVAL))?;
            sys::open(c, libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC, 0)
        }
    }
}

/// A canonical path without its leading `/`, NUL-terminated, for lookups from the root
/// descriptor; `.` for `/`. A path holding a NUL (impossible for a canonical one) becomes `.`.
/// Written into `buf`: no allocation on the way of a notification.
fn relative_cstr<'b>(canonical: &[u8], buf: &'b mut RelBuf) -> &'b CStr {
    let rel = canonical.strip_prefix(b"/").unwrap_or(canonical);
    let rel = if rel.is_empty() { &b"."[..] } else { rel };
    let Some((dst, rest)) = buf.split_at_mut_checked(rel.len()) else {
        return c".";
    };
    dst.copy_from_slice(rel);
    if let Some(nul) = rest.first_mut() {
        *nul = 0;
    }
    CStr::from_bytes_with_nul(buf.get(..=rel.len()).unwrap_or_default()).unwrap_or(c".")
}

/// Room for a canonical path (less than `PATH_MAX` bytes) and its NUL.
pub(crate) type RelBuf = [u8; syd_core::limits::PATH_MAX + 1];

fn path_resolve(r: syd_core::syscall::Resolve) -> Resolve {
    match r {
        syd_core::syscall::Resolve::Exist => Resolve::Exist,
        syd_core::syscall::Resolve::NoLast => Resolve::NoLast,
    }
}

fn path_follow(f: syd_core::syscall::Follow) -> Follow {
    match f {
        syd_core::syscall::Follow::Yes => Follow::Yes,
        syd_core::syscall::Follow::No => Follow::No,
    }
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

/// The type check of `rename`'s second path (SPEC §2.9): when the first path (canonical, its
/// final symlink not followed) is a directory, an existing target must be an empty directory.
fn rename_target_check(first: &[u8]) -> TypeCheck {
    let is_dir = crate::setup::cstring(first)
        .ok()
        .and_then(|c| sys::fstatat(None, &c, libc::AT_SYMLINK_NOFOLLOW).ok())
        .is_some_and(|st| st.mode & libc::S_IFMT == libc::S_IFDIR);
    if is_dir {
        TypeCheck::EmptyDir
    } else {
        TypeCheck::None
    }
}

/// The type-check errno of a denied path, if the object exists and fails the check.
fn type_errno(
    canonical: &[u8],
    check: TypeCheck,
    follow: syd_core::syscall::Follow,
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

fn open_type_errno(canonical: &[u8], check: OpenCheck) -> Option<i32> {
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

/// Opens `/proc/<pid><suffix>` for reading.
fn open_proc(pid: Pid, suffix: &[u8]) -> Result<Fd, Errno> {
    let mut path = [0u8; 64];
    let len = mem::fmt_proc(&mut path, pid, suffix);
    let c = CStr::from_bytes_with_nul(path.get(..=len).unwrap_or(&[]))
        .map_err(|_| Errno(libc::EINVAL))?;
    sys::open(c, libc::O_RDONLY | libc::O_CLOEXEC, 0)
}

/// The start time of `tid` (field 22 of /proc/TID/stat, in clock ticks since boot).
fn read_start_time(tid: Pid) -> Option<u64> {
    let mut buf = [0u8; 1024];
    let n = read_proc_record(tid, b"/stat", &mut buf).ok()?;
    parse_start_time(buf.get(..n)?)
}

/// Field 22 of a `/proc/<tid>/stat` line.
fn parse_start_time(s: &[u8]) -> Option<u64> {
    // "pid (comm) state ppid ...": comm may hold spaces and ')'; fields follow the last ')'.
    let close = s.iter().rposition(|&b| b == b')')?;
    let field = s
        .get(close + 1..)?
        .split(|&b| b == b' ')
        .filter(|f| !f.is_empty())
        .nth(19)?;
    core::str::from_utf8(field).ok()?.parse().ok()
}

/// Reads `/proc/<pid><suffix>`, a file the kernel formats whole at the first read (`stat`,
/// `status`: one seq_file record), into `buf`: one read gives all of it that fits, so no
/// second read looks for the end.
fn read_proc_record(pid: Pid, suffix: &[u8], buf: &mut [u8]) -> Result<usize, Errno> {
    let fd = open_proc(pid, suffix)?;
    sys::read(&fd, buf)
}

/// The `Tgid:` and `PPid:` of `tid`.
fn read_status_ids(tid: Pid) -> Option<(i32, i32)> {
    let mut buf = [0u8; 2048];
    let n = read_proc_record(tid, b"/status", &mut buf).ok()?;
    status_ids(buf.get(..n)?)
}

/// The `Tgid:` and `PPid:` of a `/proc/<tid>/status` text.
fn status_ids(s: &[u8]) -> Option<(i32, i32)> {
    let tgid = i32::try_from(status_field(s, b"Tgid:")?).ok()?;
    let ppid = i32::try_from(status_field(s, b"PPid:")?).ok()?;
    Some((tgid, ppid))
}

/// The `Umask:` of a `/proc/<tid>/status` text.
fn parse_umask(s: &[u8]) -> Option<u32> {
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

/// The filesystem identity of a tracee, taken on for an emulated call: fsuid, fsgid,
/// supplementary groups and effective capabilities.
#[derive(Clone)]
struct Creds {
    fsuid: u32,
    fsgid: u32,
    /// Shared, so that the identity remembered per thread is handed out without copying.
    groups: Rc<[u32]>,
    /// The tracee's effective capabilities, 0 when they belong to another user namespace.
    cap_eff: u64,
}

/// What [`Creds::enter`] replaced.
struct Saved {
    fsuid: u32,
    fsgid: u32,
    caps: Option<sys::Caps>,
}

/// The user namespace link at `path` (NUL-terminated), empty if unreadable.
fn user_ns(path: &[u8]) -> Vec<u8> {
    let mut link = [0u8; 64];
    let n = CStr::from_bytes_with_nul(path)
        .ok()
        .and_then(|p| sys::readlinkat(None, p, &mut link).ok())
        .unwrap_or(0);
    link.get(..n).unwrap_or(&[]).to_vec()
}

/// Whether `tid` lives in the user namespace whose link is `ours` (its capabilities mean the
/// same). The tracee's link is read each time: setns(2) can move it to another namespace.
fn same_user_ns(tid: Pid, ours: &[u8]) -> bool {
    let mut path = [0u8; 64];
    let len = mem::fmt_proc(&mut path, tid, b"/ns/user");
    !ours.is_empty() && user_ns(path.get(..=len).unwrap_or(&[])) == ours
}

impl Creds {
    /// The identity of `tid`, or `None` when it is the supervisor's own (nothing to change).
    /// `s` is its `/proc/<tid>/status`, `ours` the supervisor's capabilities, `our_ns` its user
    /// namespace link. `in_proc`: the open is under `/proc`, where `CAP_SYS_PTRACE` counts.
    fn of(tid: Pid, s: &[u8], ours: &sys::Caps, our_ns: &[u8], in_proc: bool) -> Option<Creds> {
        let field = |name: &[u8]| -> Option<&[u8]> {
            s.split(|&b| b == b'\n').find_map(|l| l.strip_prefix(name))
        };
        let fourth = |name: &[u8]| -> Option<u32> {
            let v = field(name)?
                .split(|b| b.is_ascii_whitespace())
                .filter(|w| !w.is_empty())
                .nth(3)?;
            core::str::from_utf8(v).ok()?.parse().ok()
        };
        let fsuid = fourth(b"Uid:")?;
        let fsgid = fourth(b"Gid:")?;
        let cap_eff = core::str::from_utf8(field(b"CapEff:")?.trim_ascii())
            .ok()
            .and_then(|h| u64::from_str_radix(h, 16).ok())?;
        // SECURITY: capabilities held in another user namespace give nothing here.
        let cap_eff = if same_user_ns(tid, our_ns) {
            cap_eff
        } else {
            0
        };
        // The command runs without CAP_SYS_PTRACE (bin/child.rs), which only the ptrace
        // access checks of /proc/<pid> entries look at: elsewhere its absence is no reason to
        // switch identities for every open.
        let ptrace = if in_proc {
            0
        } else {
            1u64 << sys::CAP_SYS_PTRACE
        };
        if fsuid == 0 && fsgid == 0 && cap_eff | ptrace == ours.effective | ptrace {
            return None;
        }
        let groups: Vec<u32> = field(b"Groups:")
            .map(|l| {
                l.split(|b| b.is_ascii_whitespace())
                    .filter_map(|w| core::str::from_utf8(w).ok()?.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        let groups = Rc::from(groups);
        Some(Creds {
            fsuid,
            fsgid,
            groups,
            cap_eff,
        })
    }

    /// `caps` are the supervisor's (they change only here, and are restored by `leave`).
    fn enter(&self, caps: Option<sys::Caps>) -> Saved {
        let _ = sys::setgroups_thread(&self.groups);
        let fsgid = sys::setfsgid(self.fsgid);
        let fsuid = sys::setfsuid(self.fsuid);
        if let Some(c) = caps {
            // SECURITY: the open runs with no capability the tracee lacks (a root tracee that
            // dropped CAP_DAC_OVERRIDE must not regain it through the supervisor).
            let _ = sys::capset(&sys::Caps {
                effective: self.cap_eff & c.permitted,
                ..c
            });
        }
        Saved { fsuid, fsgid, caps }
    }
}

impl Saved {
    fn leave(self) {
        sys::setfsuid(self.fsuid);
        sys::setfsgid(self.fsgid);
        if let Some(c) = self.caps {
            let _ = sys::capset(&c);
        }
        let _ = sys::setgroups_thread(&[]);
    }
}

impl Supervisor {
    /// Whether `tracee` acts with the supervisor's own identity: syd does not run as root (its
    /// tracees run under `NO_NEW_PRIVS` and cannot gain other ids or capabilities), or the
    /// tracee's fsuid and fsgid are 0 with the supervisor's effective capabilities. A call the
    /// supervisor makes for such a tracee is checked by the kernel as the tracee's would be,
    /// and names the same uid and gid to a peer.
    /// The identity is the one remembered per thread (`identity`); an unreadable one is not
    /// the supervisor's.
    pub(crate) fn same_identity(&mut self, tracee: &Tracee) -> bool {
        matches!(self.identity_of(tracee.tid, false, false), Ok((None, _)))
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
