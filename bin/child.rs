//! The sandboxed child between fork and exec (SPEC §1.4 step 9): process options, no_new_privs,
//! the filter, the listener handed to the parent, exec.
//!
//! Everything the child needs is built before fork ([`Plan`]); the child only makes system calls.
//! A failure is sent to the parent as a step number and an errno, then the child exits.

use alloc::ffi::CString;
use alloc::vec::Vec;

use crate::sys::{self, CStrArray, Errno, Fd};

/// Most arguments and environment entries passed to the command.
pub const MAX_ARGS: usize = 4096;

/// A setup step; its number travels to the parent when it fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Step {
    /// chroot(2) of `-C`.
    Chroot = 1,
    /// chdir(2) of `-D`.
    Chdir = 2,
    /// The `-B`/`-1`/`-2` redirections.
    Redirect = 3,
    /// prctl(PR_SET_NO_NEW_PRIVS).
    NoNewPrivs = 4,
    /// seccomp(2).
    Filter = 5,
    /// Handing the listener to the parent.
    Listener = 6,
    /// execve(2).
    Exec = 7,
}

impl Step {
    /// The step with this number.
    pub fn from_u8(b: u8) -> Option<Step> {
        Some(match b {
            1 => Step::Chroot,
            2 => Step::Chdir,
            3 => Step::Redirect,
            4 => Step::NoNewPrivs,
            5 => Step::Filter,
            6 => Step::Listener,
            7 => Step::Exec,
            _ => return None,
        })
    }

    /// What the step does, for messages.
    pub fn what(self) -> &'static str {
        match self {
            Step::Chroot => "chroot",
            Step::Chdir => "chdir",
            Step::Redirect => "redirect standard streams",
            Step::NoNewPrivs => "set no_new_privs",
            Step::Filter => "load seccomp filters",
            Step::Listener => "pass the notification listener",
            Step::Exec => "execv",
        }
    }
}

/// The first byte of the child's success message (steps are 1..=7).
pub const READY: u8 = 0xff;

/// Everything the child does, prepared before fork.
pub struct Plan {
    /// The filter program.
    pub filter: Vec<libc::sock_filter>,
    /// Whether user notification is used (a listener is created and sent).
    pub notify: bool,
    /// The executable.
    pub path: CString,
    /// argv (with `-A` applied).
    pub argv: Vec<CString>,
    /// The environment.
    pub env: Vec<CString>,
    /// `-K`.
    pub umask: Option<u32>,
    /// `-N`.
    pub nice: Option<i32>,
    /// `-I`: the ioprio value (class << 13 | data).
    pub ioprio: Option<i32>,
    /// `-C`.
    pub chroot: Option<CString>,
    /// `-D`.
    pub chdir: Option<CString>,
    /// `-G`.
    pub gid: Option<u32>,
    /// `-U`.
    pub uid: Option<u32>,
    /// `-B`.
    pub background: bool,
    /// `-1`.
    pub stdout: Option<CString>,
    /// `-2`.
    pub stderr: Option<CString>,
    /// `-e`: the file (None: standard error) and its bytes.
    pub export: Option<(Option<CString>, Vec<u8>, bool)>,
    /// `noexec`: exit with this status instead of exec.
    pub noexec: Option<i32>,
}

fn fail(sock: &Fd, step: Step, e: Errno) -> ! {
    let mut msg = [0u8; 5];
    msg[0] = step as u8;
    if let Some(tail) = msg.get_mut(1..) {
        tail.copy_from_slice(&e.0.to_ne_bytes());
    }
    let _ = sys::write_all(sock, &msg);
    sys::exit_now(1)
}

fn warn(what: &[u8]) {
    let _ = sys::write_raw(sys::STDERR, b"sydbox: warning: ");
    let _ = sys::write_raw(sys::STDERR, what);
    let _ = sys::write_raw(sys::STDERR, b" failed, continuing...\n");
}

fn redirect(path: &CString, target: libc::c_int, flags: libc::c_int) -> Result<(), Errno> {
    let fd = sys::open(path, flags | libc::O_CLOEXEC, 0o660)?;
    sys::dup2(&fd, target)
}

/// Runs in the forked child; never returns.
pub fn run(plan: &Plan, sock: Fd) -> ! {
    sys::reset_signals();
    let _ = sys::sigmask(&sys::SigSet::of(&[]), false);
    let _ = sys::sigmask(&sys::SigSet::of(&crate::SIGNALS), false);
    if let Some(m) = plan.umask {
        sys::umask(m);
    }
    if let Some(n) = plan.nice {
        if sys::nice(n).is_err() {
            warn(b"nice");
        }
    }
    if let Some(p) = plan.ioprio {
        if sys::ioprio_set(p).is_err() {
            warn(b"ionice");
        }
    }
    if let Some(root) = &plan.chroot {
        if let Err(e) = sys::chroot(root).and_then(|()| sys::chdir(c"/")) {
            fail(&sock, Step::Chroot, e);
        }
    }
    if let Some(dir) = &plan.chdir {
        if let Err(e) = sys::chdir(dir) {
            fail(&sock, Step::Chdir, e);
        }
    }
    if let Some(g) = plan.gid {
        if sys::setgroups(&[g]).and_then(|()| sys::setgid(g)).is_err() {
            warn(b"change_group");
        }
    }
    if let Some(u) = plan.uid {
        if sys::setuid(u).is_err() {
            warn(b"change_user");
        }
    }
    let append = libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND;
    if plan.background {
        let r = (|| {
            redirect(&CString::from(c"/dev/null"), 0, libc::O_RDONLY)?;
            if let Ok(tty) = sys::open(c"/dev/tty", libc::O_RDWR | libc::O_CLOEXEC, 0) {
                let _ = sys::ioctl_notty(&tty);
            }
            let null = CString::from(c"/dev/null");
            redirect(
                plan.stdout.as_ref().unwrap_or(&null),
                1,
                libc::O_WRONLY | if plan.stdout.is_some() { append } else { 0 },
            )?;
            redirect(
                plan.stderr.as_ref().unwrap_or(&null),
                2,
                libc::O_WRONLY | if plan.stderr.is_some() { append } else { 0 },
            )?;
            let _ = sys::setsid();
            Ok(())
        })();
        if let Err(e) = r {
            fail(&sock, Step::Redirect, e);
        }
    } else {
        for (file, target) in [(&plan.stdout, 1), (&plan.stderr, 2)] {
            if let Some(f) = file {
                if let Err(e) = redirect(f, target, append) {
                    fail(&sock, Step::Redirect, e);
                }
            }
        }
    }
    if let Some((file, bytes, exclusive)) = &plan.export {
        let r = match file {
            Some(f) => {
                let flags = libc::O_WRONLY
                    | libc::O_CREAT
                    | libc::O_NOFOLLOW
                    | libc::O_CLOEXEC
                    | if *exclusive {
                        libc::O_EXCL
                    } else {
                        libc::O_TRUNC
                    };
                sys::open(f, flags, 0o600).and_then(|fd| sys::write_all(&fd, bytes))
            }
            None => sys::write_raw(sys::STDERR, bytes),
        };
        if r.is_err() {
            warn(b"export");
        }
    }
    if let Err(e) = sys::set_no_new_privs() {
        fail(&sock, Step::NoNewPrivs, e);
    }
    if plan.notify {
        drop_ptrace_capability();
    }
    let flags = if plan.notify {
        libc::SECCOMP_FILTER_FLAG_NEW_LISTENER
    } else {
        0
    };
    // The filter may deny sendmsg (network `bpf`), so the listener is not sent with
    // SCM_RIGHTS: its number is written, the parent takes it with pidfd_getfd and acknowledges.
    match sys::seccomp_set_mode_filter(flags, &plan.filter) {
        Ok(Some(listener)) => {
            let mut msg = [0u8; 5];
            msg[0] = READY;
            if let Some(tail) = msg.get_mut(1..) {
                tail.copy_from_slice(&listener.raw().to_ne_bytes());
            }
            let mut ack = [0u8; 1];
            let r = sys::write_all(&sock, &msg).and_then(|()| sys::read(&sock, &mut ack));
            if r != Ok(1) {
                sys::exit_now(1);
            }
            drop(listener);
        }
        Ok(None) => {
            if sys::write_all(&sock, &[READY, 0xff, 0xff, 0xff, 0xff]).is_err() {
                sys::exit_now(1);
            }
        }
        Err(e) => fail(&sock, Step::Filter, e),
    }
    drop(sock);
    if let Some(code) = plan.noexec {
        sys::exit_now(code);
    }
    let mut argv = CStrArray::<MAX_ARGS>::new();
    let mut envp = CStrArray::<MAX_ARGS>::new();
    for a in &plan.argv {
        let _ = argv.push(a);
    }
    for e in &plan.env {
        let _ = envp.push(e);
    }
    let e = sys::execve(&plan.path, &argv, &envp);
    let _ = sys::write_raw(sys::STDERR, b"sydbox: execv path:\"");
    let _ = sys::write_raw(sys::STDERR, plan.path.as_bytes());
    let _ = sys::write_raw(sys::STDERR, b"\" failed (errno:");
    let mut num = [0u8; 12];
    let n = fmt_errno(&mut num, e.0);
    let _ = sys::write_raw(sys::STDERR, num.get(..n).unwrap_or(&[]));
    let _ = sys::write_raw(sys::STDERR, b" ");
    let _ = sys::write_raw(sys::STDERR, e.text().as_bytes());
    let _ = sys::write_raw(sys::STDERR, b")\n");
    sys::exit_now(1)
}

/// Drops `CAP_SYS_PTRACE` from every capability set and from the bounding set.
///
/// SECURITY: the supervisor is not dumpable, so the kernel lets a task reach its
/// `/proc/<pid>/{mem,environ,fd/*}` only with `CAP_SYS_PTRACE` (ptrace, process_vm_* and
/// pidfd_getfd are denied by the filter). A command run as root would hold it and could write
/// the supervisor's memory. Dropping a capability needs no privilege; the bounding set (which
/// needs `CAP_SETPCAP`, held by root) and `no_new_privs` keep an exec from granting it back.
fn drop_ptrace_capability() {
    let bit = 1u64 << sys::CAP_SYS_PTRACE;
    let _ = sys::capbset_drop(sys::CAP_SYS_PTRACE);
    if let Ok(c) = sys::capget() {
        if (c.permitted | c.inheritable | c.effective) & bit != 0 {
            let _ = sys::capset(&sys::Caps {
                effective: c.effective & !bit,
                permitted: c.permitted & !bit,
                inheritable: c.inheritable & !bit,
            });
        }
    }
}

fn fmt_errno(buf: &mut [u8], n: i32) -> usize {
    let mut len = 0;
    syd_core::report::put_int(
        &mut |b: &[u8]| {
            for &c in b {
                if let Some(s) = buf.get_mut(len) {
                    *s = c;
                    len += 1;
                }
            }
        },
        i64::from(n),
    );
    len
}
