//! `cmd/exec` (SPEC §5.6): run a command outside the sandbox, with the caller's environment and
//! cwd, and answer the magic stat with its outcome.

use alloc::ffi::CString;
use alloc::vec::Vec;

use crate::child::MAX_ARGS;
use crate::sys::{self, Answer, CStrArray, Errno, Fork, Pid, Status, Wait};

/// `MAX_ARG_STRLEN`: 32 pages.
const MAX_ARG: usize = 32 * 4096;

/// Runs `args` (separated by 0x1F) for the task `pid`; blocks until the command exits.
pub fn run(pid: Pid, args: &[u8]) -> Answer {
    let mut argv = Vec::new();
    for a in args.split(|&b| b == 0x1f) {
        if a.len() >= MAX_ARG {
            return Answer::Errno(Errno(libc::E2BIG));
        }
        match CString::new(a) {
            Ok(c) => argv.push(c),
            Err(_) => return Answer::Errno(Errno(libc::EINVAL)),
        }
    }
    let mut environ = [0u8; 65536];
    let n = crate::supervise::read_proc_file(pid, b"/environ", &mut environ).unwrap_or(0);
    let env: Vec<CString> = environ
        .get(..n)
        .unwrap_or(&[])
        .split(|&b| b == 0)
        .filter(|e| !e.is_empty())
        .filter_map(|e| CString::new(e).ok())
        .collect();
    let mut cwd = [0u8; 64];
    let cwd_len = crate::mem::fmt_proc(&mut cwd, pid, b"/cwd");
    let cwd = core::ffi::CStr::from_bytes_with_nul(cwd.get(..=cwd_len).unwrap_or(&[])).ok();
    let env_bytes: Vec<Vec<u8>> = env.iter().map(|c| c.as_bytes().to_vec()).collect();
    let Some(first) = argv.first() else {
        return Answer::Errno(Errno(libc::EINVAL));
    };
    let path = match crate::setup::find_command(first.as_bytes(), &env_bytes, None) {
        Ok(p) => p,
        Err(err) => {
            return Answer::Errno(if err.0 == libc::ENOENT {
                Errno(libc::EPERM)
            } else {
                err
            })
        }
    };
    let Ok(path) = CString::new(path) else {
        return Answer::Errno(Errno(libc::EINVAL));
    };
    let mut a = CStrArray::<MAX_ARGS>::new();
    let mut e = CStrArray::<MAX_ARGS>::new();
    for x in &argv {
        if a.push(x).is_err() {
            return Answer::Errno(Errno(libc::E2BIG));
        }
    }
    for x in &env {
        let _ = e.push(x);
    }
    match sys::fork() {
        Ok(Fork::Child) => {
            sys::reset_signals();
            let _ = sys::sigmask(
                &sys::SigSet::of(&[
                    libc::SIGCHLD,
                    libc::SIGHUP,
                    libc::SIGINT,
                    libc::SIGQUIT,
                    libc::SIGPIPE,
                    libc::SIGTERM,
                ]),
                false,
            );
            if let Some(c) = cwd {
                let _ = sys::chdir(c);
            }
            let err = sys::execve(&path, &a, &e);
            sys::exit_now(err.0 & 0xff)
        }
        Ok(Fork::Parent(child)) => loop {
            match sys::waitpid(child, Wait::Block) {
                Ok(Some((_, Status::Exited(0)))) => return Answer::Value(0),
                Ok(Some((_, Status::Exited(_)))) => return Answer::Errno(Errno(libc::EPERM)),
                Ok(Some((_, Status::Signaled(_)))) => return Answer::Errno(Errno(libc::ESRCH)),
                Ok(_) => {}
                Err(Errno(libc::EINTR)) => {}
                Err(_) => return Answer::Errno(Errno(libc::ESRCH)),
            }
        },
        Err(err) => Answer::Errno(err),
    }
}
