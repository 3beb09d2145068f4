//! The dump (`-d`, SPEC §7.5): opens the target and writes the records of `syd_core::dump`, one
//! `write(2)` per record.

use alloc::vec::Vec;

use syd_core::cli::Dump;
use syd_core::dump::{self, Oops, Procs};

use crate::setup::{cstring, env_get, fail, mkdtemp, Show};
use crate::sys::{self, Fd};

/// An open dump target and the number of the next record.
pub struct Dumper {
    /// The descriptor written to.
    fd: i32,
    /// The file syd opened (none for a descriptor given by number); closed on drop.
    _file: Option<Fd>,
    /// The number of the next record (the init record is 0).
    next: u64,
    /// The file of `-d tmp`, named again at exit.
    tmp: Option<Vec<u8>>,
}

/// Opens `path` for the dump: write only, created with mode 0600, appended to, no symbolic
/// link, closed on exec.
fn open_file(path: &[u8]) -> Result<Fd, ()> {
    let flags =
        libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    cstring(path)
        .and_then(|c| sys::open(&c, flags, 0o600))
        .map_err(|e| fail!("cannot open the dump file `{}': {e}", Show(path)))
}

impl Dumper {
    /// Opens the target of `-d`: a descriptor by number, a file, or for `tmp` the file named by
    /// `SHOEBOX` in `env` or `sydcore` in a new `/tmp/sydbox-XXXXXX` (announced on standard
    /// error). Errors (printed): the descriptor is not open, the file cannot be created or
    /// opened.
    pub fn open(target: Dump<'_>, env: &[Vec<u8>]) -> Result<Dumper, ()> {
        let (fd, file, tmp) = match target {
            Dump::Fd(n) => {
                let f = core::mem::ManuallyDrop::new(Fd::from_raw(n));
                if let Err(e) = sys::fstat(&f) {
                    fail!("cannot dump to descriptor {n}: {e}");
                    return Err(());
                }
                (n, None, None)
            }
            Dump::Path(p) => {
                let f = open_file(p)?;
                (f.raw(), Some(f), None)
            }
            Dump::Tmp => {
                let path = match env_get(env, b"SHOEBOX").filter(|s| !s.is_empty()) {
                    Some(p) => p.to_vec(),
                    None => {
                        let mut dir = mkdtemp(b"/tmp/sydbox-").map_err(|e| {
                            fail!("cannot create a directory for the dump: {e}");
                        })?;
                        dir.extend_from_slice(b"/sydcore");
                        dir
                    }
                };
                let f = open_file(&path)?;
                announce(b"dumping", &path);
                (f.raw(), Some(f), Some(path))
            }
        };
        Ok(Dumper {
            fd,
            _file: file,
            next: 0,
            tmp,
        })
    }

    /// Writes one record built by `f`, given the record's number and the time.
    fn record(&mut self, f: impl FnOnce(&mut dyn syd_core::report::Sink, u64, i64)) {
        let mut line = Vec::new();
        let ts = sys::realtime_secs().unwrap_or(0);
        f(&mut |b: &[u8]| line.extend_from_slice(b), self.next, ts);
        self.next += 1;
        // A dump that cannot be written must not stop the sandbox.
        let _ = sys::write_raw(self.fd, &line);
    }

    /// The init record (always the first).
    pub fn init(
        &mut self,
        name: &[u8],
        path: &[u8],
        startas: &[u8],
        noexec: bool,
        arches: &[&str],
    ) {
        let hash: &[u8] = if noexec { b"<noexec>" } else { b"" };
        self.record(|o, _, _| dump::init(o, name, path, startas, hash, arches));
    }

    /// The startup record of the eldest process.
    pub fn startup(&mut self, pid: i32, cmd: &[u8]) {
        self.record(|o, id, ts| dump::startup(o, id, ts, pid, cmd));
    }

    /// A violation record.
    pub fn oops(&mut self, o: &Oops<'_>) {
        self.record(|out, id, ts| dump::oops(out, id, ts, o));
    }

    /// The exit record.
    pub fn exit(&mut self, pid: i32, code: i32, procs: Procs) {
        self.record(|o, id, ts| dump::exit(o, id, ts, pid, code, procs));
    }

    /// A kill record.
    pub fn kill(&mut self, pid: i32, comm: &[u8], sig: i32) {
        self.record(|o, id, ts| dump::kill(o, id, ts, pid, comm, sig));
    }

    /// An intr record.
    pub fn intr(&mut self, sig: i32, op: &str) {
        self.record(|o, id, ts| dump::intr(o, id, ts, sig, op));
    }

    /// Ends the dump: for `-d tmp`, names the file again on standard error.
    pub fn finish(self) {
        if let Some(p) = &self.tmp {
            announce(b"dumped", p);
        }
    }
}

/// `sydbox: <verb> core `<path>' for inspection.` on standard error.
fn announce(verb: &[u8], path: &[u8]) {
    let mut o = sys::Out::<512>::new(sys::STDERR);
    for part in [
        &b"sydbox: "[..],
        verb,
        b" core `",
        path,
        b"' for inspection.\n",
    ] {
        o.bytes(part);
    }
}
