//! Verification of allowed execs once they have happened (the exec race of SPEC §9 #1).
//!
//! The supervisor checks the path of `execve`/`execveat` and answers CONTINUE: the kernel then
//! reads the path again, and a thread (or a process sharing the memory) that rewrites it in
//! between makes the process run a program that was never checked. The supervisor cannot run
//! the exec for the tracee, so it verifies the result instead:
//!
//! * When an exec is allowed while exec sandboxing is on or `exec/kill_if_match` has patterns,
//!   [`Supervisor::pend_exec`] records the thread, a pidfd of its thread group (signals go
//!   through it, so a recycled pid cannot be hit), the `(dev, ino)` of the checked file and,
//!   for a `#!` script, of its chain of interpreters (read as the kernel reads them; they are
//!   not checked, SPEC §2.11), and the `(dev, ino)` of the group's current `/proc/<tgid>/exe`.
//!   A thread is in one exec at a time: at most one entry per thread, at most
//!   [`MAX_PENDING_EXECS`] in all (a further exec fails with `EAGAIN`).
//! * [`Supervisor::verify_execs`] runs at every notification (before it is handled) and, while
//!   entries are pending, every [`POLL_MS`] from the main loop. It reads `/proc/<tgid>/exe` (a
//!   non-leader thread takes the leader's pid when it execs): still the old file: not happened
//!   yet, or failed (this comes first, as an exec of the running file looks the same before
//!   and after); the checked file or one of its interpreters: verified; anything else: the
//!   exec reached another file, whose canonical path is checked like an exec (policy, then
//!   `kill_if_match`). A denied one is stopped, reported as a denied exec is (filters,
//!   `--dry-run` and `core/violation/decision` apply as for a denial), and its thread group
//!   killed with SIGKILL; a notification of that group is refused.
//! * An entry is dropped once verified, once its process is gone, or once the exec is known to
//!   be over with the old file still in place: the same thread makes its next notification, or
//!   its thread id is gone (a non-leader exec retires it) while another thread of the group
//!   still waits in a valid notification (an exec kills every other thread before it retires
//!   the id, so that thread would be dead).
//!
//! Residual risk: between the exec and the kill (a notification or a [`POLL_MS`] tick later;
//! about 1 ms, a few under load) the unchecked program runs; every notified call it makes is
//! refused (verification comes first), but it can run unnotified calls: write to inherited
//! descriptors, map memory, and fork (children are not killed). A flip to the file the process
//! already runs is not seen (it could run that file anyway), nor one to an interpreter of the
//! checked script run directly, with other arguments. Fail-closed cases kill legitimate
//! programs: an executable the supervisor cannot read (an unprivileged supervisor, and an exec
//! of an unreadable file, which makes the process undumpable), a `binfmt_misc` handler or an
//! interpreter named by a relative path that the policy does not allow.

use core::ffi::CStr;

use syd_core::limits::MAX_PENDING_EXECS;
use syd_core::report::Subject;
use syd_core::sandbox::{check_path, Cap, Decision, Mode, Verdict};
use syd_core::shebang::{parse_interpreter, BINPRM_BUF_SIZE, BINPRM_MAX_RECURSION};

use crate::path::{self, Base, Follow, PathBuf, Resolve, Tracee};
use crate::supervise::{Call, Supervisor};
use crate::sys::{self, Errno, Fd, Notif, Pid};

/// How often (milliseconds) the main loop verifies while execs are pending.
pub const POLL_MS: i32 = 1;

/// A file's identity: `(st_dev, st_ino)`.
type Id = (u64, u64);

/// An allowed exec whose outcome is not verified yet.
pub(crate) struct PendingExec {
    /// The thread that called exec.
    tid: i32,
    /// Its thread group: whose `/proc/<tgid>/exe` is read.
    tgid: i32,
    /// A pidfd of the thread group, to tell that it is gone and to signal it.
    pidfd: Fd,
    /// The notification, for the report (its `pid` becomes the group's).
    notif: Notif,
    /// The exec call, for the report.
    call: Call,
    /// The checked file.
    checked: Option<Id>,
    /// The interpreters of the checked file if it is a `#!` script: its own, that one's if it
    /// is a script too, and so on.
    interp: [Option<Id>; BINPRM_MAX_RECURSION],
    /// `/proc/<tgid>/exe` before the exec.
    old: Result<Id, Errno>,
}

/// What verifying an entry found.
enum Fate {
    /// Not decided yet: keep the entry.
    Keep,
    /// Verified, or nothing left to verify.
    Done,
    /// The thread group was killed.
    Killed,
}

/// Sends `sig` to the thread group of `p` through its pidfd (never to a recycled pid).
#[inline(never)] // one copy for the three callers: the binary's size budget
fn signal(p: &PendingExec, sig: i32) {
    let _ = sys::pidfd_send_signal(&p.pidfd, sig);
}

/// The identity of a file status.
fn id(st: &sys::Stat) -> Id {
    (st.dev, st.ino)
}

/// The identity of the executable of process `tgid` (`stat` of `/proc/<tgid>/exe`). Errors:
/// `ENOENT` when it has no memory map (a zombie group leader), `EACCES` when the supervisor may
/// not see it (the process is not dumpable), `ESRCH` or `ENOENT` once it is gone.
fn exe_id(tgid: i32) -> Result<Id, Errno> {
    let mut p = [0u8; 64];
    let len = crate::mem::fmt_proc(&mut p, Pid(tgid), b"/exe");
    let c =
        CStr::from_bytes_with_nul(p.get(..=len).unwrap_or(&[])).map_err(|_| Errno(libc::EINVAL))?;
    sys::fstatat(None, c, 0).map(|s| id(&s))
}

/// Whether the thread group behind `pidfd` has exited (its pidfd is readable). A failed poll
/// counts as alive: the entry is kept.
fn exited(pidfd: &Fd) -> bool {
    sys::poll_in(pidfd, 0).unwrap_or(false)
}

/// Flags to read a file that must not block the supervisor (a FIFO swapped in after a stat).
const READ_FLAGS: i32 = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC;

/// Opens `rel`, looked up from the tracee's root `root`, for reading if it is a regular file
/// (checked first, so that no device is opened): its descriptor and identity. Absolute symlinks
/// on the way resolve from the supervisor's root: inside a chroot, such a name may miss.
///
/// SECURITY: a file swapped in between the stat and the open only changes which interpreters
/// are accepted; whoever can write such a file can run any interpreter through a script of
/// their own anyway, as interpreters are not checked (SPEC §2.11).
fn open_regular(root: &Fd, rel: &CStr) -> Option<(Fd, Id)> {
    let st = sys::fstatat(Some(root), rel, 0).ok()?;
    if st.kind() != libc::S_IFREG {
        return None;
    }
    let fd = sys::openat(Some(root), rel, READ_FLAGS, 0).ok()?;
    Some((fd, id(&st)))
}

/// The identities of the interpreters of the file open as `fd` if it is a `#!` script: its
/// own, that one's if it is a script too, and so on as far as the kernel follows them, each
/// looked up from the tracee's root `root` (see [`open_regular`]). A relative interpreter name
/// (the kernel looks it up from the cwd) ends the chain.
fn interpreters(root: &Fd, mut fd: Fd) -> [Option<Id>; BINPRM_MAX_RECURSION] {
    let mut chain = [None; BINPRM_MAX_RECURSION];
    for slot in &mut chain {
        // One byte more than the kernel reads, for the NUL after a name that ends the read.
        let mut head = [0u8; BINPRM_BUF_SIZE + 1];
        let Ok(n) = sys::pread(&fd, head.get_mut(..BINPRM_BUF_SIZE).unwrap_or_default(), 0) else {
            break;
        };
        // The name, from after its leading `/`, NUL-terminated in place.
        let Some(name) = head.get(..n).and_then(parse_interpreter) else {
            break;
        };
        let Some(end) = head.get_mut(name.end) else {
            break;
        };
        *end = 0;
        let Some((next, i)) = head
            .get(name.start..=name.end)
            .and_then(|z| z.strip_prefix(b"/"))
            .and_then(|z| CStr::from_bytes_with_nul(z).ok())
            .and_then(|c| open_regular(root, c))
        else {
            break;
        };
        *slot = Some(i);
        fd = next;
    }
    chain
}

/// Prints the two `callback_exec:` lines of an `exec/kill_if_match` kill of `tracee` (SPEC
/// §2.11): `pattern` matched the exec of `path`; `abi` is the index of the caller's ABI.
pub(crate) fn print_kill_if_match(tracee: &Tracee, abi: usize, pattern: &[u8], path: &[u8]) {
    let mut o = sys::Out::<4096>::new(sys::STDERR);
    let t = sys::realtime_secs().unwrap_or(0);
    let _ = core::fmt::Write::write_fmt(
        &mut o,
        format_args!(
            "sydbox@{t}: callback_exec: kill_if_match pattern=`{}' matches execve path=`{}'\n",
            crate::setup::Show(pattern),
            crate::setup::Show(path)
        ),
    );
    let mut cwd = PathBuf::new();
    let _ = path::canonicalize(
        tracee,
        Base::Cwd,
        b".",
        Resolve::Exist,
        Follow::Yes,
        &mut cwd,
    );
    let _ = core::fmt::Write::write_fmt(
        &mut o,
        format_args!(
            "sydbox@{t}: callback_exec: killing process:{} [abi:{abi} cwd:`{}']\n",
            tracee.tgid.0,
            crate::setup::Show(cwd.as_bytes())
        ),
    );
}

impl Supervisor {
    /// The poll timeout of the main loop when no other timer runs: [`POLL_MS`] while execs
    /// wait for verification, else none (-1).
    pub fn exec_poll_ms(&self) -> i32 {
        if self.execs.is_empty() {
            -1
        } else {
            POLL_MS
        }
    }

    /// Records the exec `n` of `tracee`, allowed for the canonical `file`, for verification
    /// (see the module documentation); the caller skips it when exec sandboxing is off and
    /// `exec/kill_if_match` is empty (nothing to verify). Errors (the exec is then refused with it): `EAGAIN` when
    /// [`MAX_PENDING_EXECS`] execs are pending; those of `pidfd_open`; `ESRCH` if the
    /// notification is no longer valid.
    pub(crate) fn pend_exec(
        &mut self,
        n: &Notif,
        call: &Call,
        tracee: &Tracee,
        file: &mut PathBuf,
    ) -> Result<(), Errno> {
        let tgid = tracee.tgid.0;
        if self.execs.len() >= MAX_PENDING_EXECS {
            return Err(Errno(libc::EAGAIN));
        }
        let pidfd = sys::pidfd_open(tracee.tgid)?;
        let root = crate::supervise::open_root(tracee.tid).ok();
        let st = root
            .as_ref()
            .and_then(|r| path::stat_canonical(r, file).ok());
        let checked = st.as_ref().map(id);
        // The checked file, open for reading its `#!` line (if it is still that file).
        // SECURITY: as for `open_regular`, the file may be swapped since the stat.
        let first = match &root {
            Some(r) if st.as_ref().is_some_and(|s| s.kind() == libc::S_IFREG) => {
                path::open_canonical(r, file, READ_FLAGS).ok()
            }
            _ => None,
        };
        let interp = match (&root, first) {
            (Some(r), Some(fd)) => interpreters(r, fd),
            _ => [None; BINPRM_MAX_RECURSION],
        };
        let old = exe_id(tgid);
        // SECURITY: `old` must be the executable before this exec. Another thread's exec that
        // completed before the read would have killed the caller first, which the check below
        // sees; and while the caller waits, `tgid` and the pidfd name its process.
        if !self.valid(n) {
            return Err(Errno(libc::ESRCH));
        }
        self.execs.push(PendingExec {
            tid: tracee.tid.0,
            tgid,
            pidfd,
            notif: *n,
            call: *call,
            checked,
            interp,
            old,
        });
        Ok(())
    }

    /// Verifies the pending execs (see the module documentation); `caller` is the notification
    /// being handled and its thread group, `None` on the main loop's timer. Returns whether the
    /// caller's thread group was killed (its call must then have no effect).
    pub(crate) fn verify_execs(&mut self, caller: Option<(&Notif, i32)>) -> bool {
        if self.execs.is_empty() {
            return false;
        }
        // Another entry of a group just killed is skipped (its process is gone at the next
        // pass); a group's entries are next to each other unless several were recorded apart.
        let mut killed = None;
        let mut caller_killed = false;
        for p in core::mem::take(&mut self.execs) {
            if killed == Some(p.tgid) {
                continue;
            }
            match self.verify_exec(&p, caller) {
                Fate::Keep => self.execs.push(p),
                Fate::Done => {}
                Fate::Killed => {
                    killed = Some(p.tgid);
                    caller_killed |= caller.is_some_and(|(_, tgid)| tgid == p.tgid);
                }
            }
        }
        caller_killed
    }

    /// Verifies one pending exec.
    fn verify_exec(&mut self, p: &PendingExec, caller: Option<(&Notif, i32)>) -> Fate {
        let now = exe_id(p.tgid);
        // After the read: a group that has not exited still holds its pid, so `now` is its.
        if exited(&p.pidfd) {
            return Fate::Done;
        }
        match now {
            // Unchanged (ENOENT: a zombie leader whose threads live on has no executable). This
            // comes first: for an exec of the file the process runs already (or of a script
            // whose interpreter it runs), "done" and "not yet" look alike, and only the end of
            // the exec tells them apart.
            _ if now == p.old || now == Err(Errno(libc::ENOENT)) => {
                if self.exec_over(p, caller) {
                    Fate::Done
                } else {
                    Fate::Keep
                }
            }
            Ok(i) if Some(i) == p.checked || p.interp.contains(&Some(i)) => Fate::Done,
            // SECURITY: another file, or one the supervisor may no longer see (an exec of an
            // unreadable file makes the process undumpable): checked by its path, which fails
            // closed when it cannot be read.
            _ => self.check_exe(p),
        }
    }

    /// Whether the exec of `p` is over (with the old executable still in place): see the
    /// module documentation.
    fn exec_over(&self, p: &PendingExec, caller: Option<(&Notif, i32)>) -> bool {
        let Some((n, tgid)) = caller else {
            return false;
        };
        if tgid != p.tgid {
            return false;
        }
        n.pid.0 == p.tid || (sys::kill(Pid(p.tid), 0) == Err(Errno(libc::ESRCH)) && self.valid(n))
    }

    /// Checks the executable of `p`'s group, which is neither the checked file nor the old
    /// one, as an exec of its path; kills the group if it is denied or matches
    /// `exec/kill_if_match`.
    fn check_exe(&mut self, p: &PendingExec) -> Fate {
        let tracee = Tracee {
            tid: Pid(p.tgid),
            tgid: Pid(p.tgid),
        };
        // The magic link, resolved as the kernel reports its object (in the tracee's view, the
        // ` (deleted)` suffix of an unlinked file dropped).
        let mut link = [0u8; 64];
        let len = crate::mem::fmt_proc(&mut link, Pid(p.tgid), b"/exe");
        let mut exe = PathBuf::new();
        let read = path::canonicalize(
            &tracee,
            Base::Cwd,
            link.get(..len).unwrap_or(&[]),
            Resolve::Exist,
            Follow::Yes,
            &mut exe,
        );
        if exited(&p.pidfd) {
            return Fate::Done;
        }
        let path: &[u8] = if read.is_ok() { exe.as_bytes() } else { b"?" };
        let verdict = if read.is_err() {
            Verdict::Deny
        } else if self.policy(p.tgid).mode(Cap::Exec) == Mode::Off {
            Verdict::Allow
        } else {
            let traced = |id: u32| self.traced(id);
            check_path(&self.global, self.policy(p.tgid), Cap::Exec, path, &traced)
        };
        if verdict != Verdict::Allow {
            return self.deny_exe(p, &tracee, verdict, path);
        }
        let Some(pattern) = self.global.kill_if_match(path).map(<[u8]>::to_vec) else {
            return Fate::Done;
        };
        // Stopped first: the lines below may block on standard error.
        signal(p, libc::SIGSTOP);
        print_kill_if_match(&tracee, p.call.abi, &pattern, path);
        self.kill_exec(p);
        Fate::Killed
    }

    /// A denied executable: as `deny` does for a denied exec, but the exec has happened, so
    /// the thread group is stopped, reported, and killed.
    fn deny_exe(
        &mut self,
        p: &PendingExec,
        tracee: &Tracee,
        verdict: Verdict,
        path: &[u8],
    ) -> Fate {
        // SECURITY: filters only silence the report; the program is killed all the same.
        let reported = verdict != Verdict::DenyFiltered;
        if !self.dry_run {
            // Stopped first: the report may block on standard error.
            signal(p, libc::SIGSTOP);
        }
        if reported {
            let n = Notif {
                pid: Pid(p.tgid),
                ..p.notif
            };
            let subject = Subject::Exec {
                name: p.call.name,
                path,
            };
            self.report(&n, &p.call, tracee, subject);
            self.violation = true;
        }
        if self.dry_run {
            // SECURITY: --dry-run reports and never kills, by definition.
            return Fate::Done;
        }
        self.kill_exec(p);
        if reported && self.global.decision == Decision::KillAll {
            // `kill` is done already (through the pidfd); `killall` kills every other task.
            self.apply_decision(tracee);
        }
        Fate::Killed
    }

    /// SIGKILLs the thread group of `p` through its pidfd, recorded in the dump.
    fn kill_exec(&mut self, p: &PendingExec) {
        self.dump_kill(Pid(p.tgid));
        signal(p, libc::SIGKILL);
    }
}
