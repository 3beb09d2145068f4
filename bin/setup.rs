//! Start-up (SPEC §1.4): options, `-m` magic commands and `-c` configuration files applied in
//! order, `SYDBOX_CONFIG`, the environment, the command lookup; then the run.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ffi::CStr;

use syd_core::addr::ServicesFile;
use syd_core::arch::{self, Arch};
use syd_core::cli::{CliError, Dump, Export, Ionice, Opt, Parser};
use syd_core::magic::config::{self, apply_config};
use syd_core::magic::{self, Context, Origin};
use syd_core::sandbox::{Cap, Lock, Mode, Sandbox};

use crate::sys::{self, Args, Env, Errno};

/// Where `@NAME` configuration files live (`$sharedir/sydbox/`), unless `SYD_SHAREDIR` is set.
pub const SHAREDIR: &str = "/usr/share";

/// The version the manual's `-v` reports first.
pub const VERSION: &str = "2.2.0";

/// Everything the options and configuration decided.
pub struct Config {
    /// The policy at start-up.
    pub sandbox: Box<Sandbox>,
    /// `-b`.
    pub bpf_only: bool,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `-l`.
    pub lock: bool,
    /// `-a`, in order; empty means native plus compatible ABIs.
    pub arches: Vec<&'static Arch>,
    /// `-C`.
    pub chroot: Option<&'static [u8]>,
    /// `-D`: the directory given, or the one `-D tmp` created.
    pub chdir: Option<Vec<u8>>,
    /// `-I`.
    pub ionice: Option<Ionice>,
    /// `-N`.
    pub nice: Option<i32>,
    /// `-B`.
    pub background: bool,
    /// `-1`.
    pub stdout: Option<&'static [u8]>,
    /// `-2`.
    pub stderr: Option<&'static [u8]>,
    /// `-A`.
    pub startas: Option<&'static [u8]>,
    /// `-K`.
    pub umask: Option<u32>,
    /// `-U`.
    pub uid: Option<u32>,
    /// `-G`.
    pub gid: Option<u32>,
    /// `-e`.
    pub export: Option<Export<'static>>,
    /// `-d`.
    pub dump: Option<Dump<'static>>,
    /// The environment of the command: `NAME=value` entries, each NUL-terminated.
    pub env: Vec<Vec<u8>>,
    /// Index in argv of the command's first word.
    pub command: usize,
}

/// What to do after the options.
pub enum Next {
    /// Exit with this status (help, version, test, errors).
    Exit(i32),
    /// Run the command.
    Run(Box<Config>),
}

/// Prints a start-up error with the `sydbox: ` prefix.
macro_rules! fail {
    ($($arg:tt)*) => {
        $crate::setup::fail_args(format_args!($($arg)*))
    };
}

/// What `fail!` expands to: one function, so that each of its many call sites costs a call
/// rather than an inlined 256-byte writer (the binary has a size budget). The prefix, message
/// and newline leave in one `write(2)` when they fit in 256 bytes.
#[inline(never)]
pub fn fail_args(args: core::fmt::Arguments<'_>) {
    let mut o = sys::Out::<256>::new(sys::STDERR);
    o.bytes(b"sydbox: ");
    let _ = core::fmt::Write::write_fmt(&mut o, args);
    o.bytes(b"\n");
}

pub(crate) use fail;

fn usage(to_stderr: bool) {
    let text = "usage: syd [-hvblt] [--dry-run] [-d fd|path|tmp] [-e bpf|pfc[:file]] [-M 0..3]\n\
    \x20          [-a arch]... [-c pathspec]... [-m magic]... [-C dir] [-D dir|tmp]\n\
    \x20          [-E var[=val]]... [-I class[:data]] [-N level] [-B] [-1 logfile]\n\
    \x20          [-2 logfile] [-A name] [-K mode] [-U uid] [-G gid] [--] command [arg...]\n\
    \x20      syd [-e bpf|pfc[:file]] [-a arch]... [-c pathspec]... [-m magic]... noexec\n\
    \x20      syd --test\n\
    \x20      syd format exec [--] command [arg...]\n";
    let fd = if to_stderr { sys::STDERR } else { sys::STDOUT };
    let _ = sys::write_raw(fd, text.as_bytes());
}

/// A byte string shown in a message, lossily.
pub struct Show<'a>(pub &'a [u8]);

impl core::fmt::Display for Show<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for chunk in self.0.utf8_chunks() {
            f.write_str(chunk.valid())?;
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

/// Reads a whole file (or standard input for `-`).
fn read_file(path: &[u8]) -> Result<Vec<u8>, Errno> {
    let fd = if path == b"-" {
        None
    } else {
        let c = cstring(path)?;
        Some(sys::open(&c, libc::O_RDONLY | libc::O_CLOEXEC, 0)?)
    };
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = match &fd {
            Some(fd) => sys::read(fd, &mut buf)?,
            None => sys::read_raw(0, &mut buf)?,
        };
        if n == 0 {
            break;
        }
        out.extend_from_slice(buf.get(..n).unwrap_or(&[]));
    }
    Ok(out)
}

/// An owned NUL-terminated copy of `b`. Errors: EINVAL if `b` holds a NUL.
pub fn cstring(b: &[u8]) -> Result<alloc::ffi::CString, Errno> {
    alloc::ffi::CString::new(b).map_err(|_| Errno(libc::EINVAL))
}

struct Loader {
    /// Whether a configuration file was already applied (the first is the initial one).
    loaded_config: bool,
    services: Option<Vec<u8>>,
    /// `$sharedir`: `SYD_SHAREDIR` if set and not empty, else [`SHAREDIR`].
    sharedir: &'static [u8],
}

impl Loader {
    fn services(&mut self) -> &[u8] {
        self.services
            .get_or_insert_with(|| read_file(b"/etc/services").unwrap_or_default())
    }

    fn magic(&mut self, sb: &mut Sandbox, cmd: &[u8]) -> Result<(), ()> {
        let services = ServicesFile(self.services());
        let ctx = Context {
            origin: Origin::CommandLine,
            services: &services,
        };
        let parsed =
            magic::parse(cmd).and_then(|c| magic::apply(&mut sb.global, &mut sb.task, &c, &ctx));
        parsed.map(drop).map_err(|e| {
            fail!("invalid magic: `{}': {}", Show(cmd), e);
        })
    }

    fn config(&mut self, sb: &mut Sandbox, spec: &[u8]) -> Result<(), ()> {
        let mut path: Vec<u8> = Vec::new();
        let builtin = if let Some(name) = spec.strip_prefix(b"@") {
            path.extend_from_slice(self.sharedir);
            path.extend_from_slice(b"/sydbox/");
            path.extend_from_slice(name);
            if !name.ends_with(b"syd-2") {
                path.extend_from_slice(b".syd-2");
            }
            crate::profiles::builtin(name)
        } else {
            path.extend_from_slice(spec);
            None
        };
        if spec != b"-" {
            match config::check_name(&path) {
                Ok(()) => {}
                Err(config::NameError::NoApi) => {
                    fail!(
                        "no API information in file name `{}', current API is 2",
                        Show(&path)
                    );
                    return Err(());
                }
                Err(config::NameError::Mismatch) => {
                    // The API the name gives: what follows the last `.syd-`.
                    let api = path
                        .rsplit(|&b| b == b'.')
                        .next()
                        .and_then(|ext| ext.strip_prefix(b"syd-"))
                        .unwrap_or_default();
                    fail!(
                        "config file name `{}' API mismatch: {} != 2",
                        Show(&path),
                        Show(api)
                    );
                    return Err(());
                }
            }
        }
        let text = match read_file(&path) {
            Ok(t) => t,
            Err(Errno(libc::ENOENT)) if builtin.is_some() => {
                builtin.unwrap_or_default().concat().into_bytes()
            }
            Err(e) => {
                fail!("fopen(`{}'): {}", Show(&path), e);
                return Err(());
            }
        };
        let origin = if self.loaded_config {
            Origin::LaterConfig
        } else {
            Origin::InitialConfig
        };
        self.loaded_config = true;
        let services = ServicesFile(self.services());
        let ctx = Context {
            origin,
            services: &services,
        };
        apply_config(&mut sb.global, &mut sb.task, &text, &ctx)
            .map(drop)
            .map_err(|e| {
                fail!(
                    "invalid magic in file `{}' on line {}: `{}': {}",
                    Show(&path),
                    e.line,
                    Show(e.text),
                    e.error
                );
            })
    }
}

/// The environment as owned entries.
fn env_entries(env: &Env) -> Vec<Vec<u8>> {
    env.iter().map(|c| c.to_bytes().to_vec()).collect()
}

/// `putenv` semantics: `NAME=value` sets, `NAME` unsets.
pub fn env_set(env: &mut Vec<Vec<u8>>, entry: &[u8]) {
    let name = match entry.iter().position(|&b| b == b'=') {
        Some(i) => entry.get(..i).unwrap_or(entry),
        None => entry,
    };
    env.retain(|e| !(e.starts_with(name) && e.get(name.len()) == Some(&b'=')));
    if entry.contains(&b'=') {
        env.push(entry.to_vec());
    }
}

/// The value of `name` in `env`.
pub fn env_get<'e>(env: &'e [Vec<u8>], name: &[u8]) -> Option<&'e [u8]> {
    env.iter().find_map(|e| {
        e.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(b"="))
    })
}

/// Parses the command line and configuration into a [`Config`].
pub fn parse(args: &Args, env: &Env) -> Next {
    let mut sb = Box::<Sandbox>::default();
    let mut loader = Loader {
        loaded_config: false,
        services: None,
        sharedir: env
            .get(b"SYD_SHAREDIR")
            .filter(|s| !s.is_empty())
            .unwrap_or(SHAREDIR.as_bytes()),
    };
    let mut cfg = Config {
        sandbox: Box::default(),
        bpf_only: false,
        dry_run: false,
        lock: false,
        arches: Vec::new(),
        chroot: None,
        chdir: None,
        ionice: None,
        nice: None,
        background: false,
        stdout: None,
        stderr: None,
        startas: None,
        umask: None,
        uid: None,
        gid: None,
        export: None,
        dump: None,
        env: env_entries(env),
        command: 0,
    };
    // SYDBOX_CONFIG is the initial configuration file unless a -c or --profile is given.
    let has_config = Parser::new(args).any(|o| matches!(o, Ok(Opt::Config(_) | Opt::Profile(_))));
    if !has_config {
        if let Some(spec) = env.get(b"SYDBOX_CONFIG").filter(|s| !s.is_empty()) {
            if loader.config(&mut sb, spec).is_err() {
                return Next::Exit(1);
            }
        }
    }
    let mut parser = Parser::new(args);
    for opt in parser.by_ref() {
        let opt = match opt {
            Ok(o) => o,
            Err(e) => {
                report_cli(&e);
                usage(true);
                return Next::Exit(1);
            }
        };
        let ok = match opt {
            Opt::Help => {
                usage(false);
                return Next::Exit(0);
            }
            Opt::Version => {
                let mut o = sys::Out::<256>::new(sys::STDOUT);
                let _ = core::fmt::Write::write_fmt(
                    &mut o,
                    format_args!("sydbox-{VERSION} (syd {})\n", env!("CARGO_PKG_VERSION")),
                );
                return Next::Exit(0);
            }
            Opt::Test => return Next::Exit(crate::selftest::run()),
            Opt::BpfOnly => {
                cfg.bpf_only = true;
                Ok(())
            }
            Opt::DryRun => {
                cfg.dry_run = true;
                Ok(())
            }
            Opt::Lock => {
                cfg.lock = true;
                Ok(())
            }
            Opt::Background => {
                cfg.background = true;
                Ok(())
            }
            Opt::Dump(d) => {
                cfg.dump = Some(d);
                Ok(())
            }
            Opt::Export(e) => {
                cfg.export = Some(e);
                Ok(())
            }
            Opt::MemAccess(m) => {
                sb.global.memory_access = m;
                Ok(())
            }
            Opt::Arch(name) => add_arch(&mut cfg.arches, name),
            Opt::Config(spec) => loader.config(&mut sb, spec),
            Opt::Profile(name) => {
                let mut spec = Vec::from(&b"@"[..]);
                spec.extend_from_slice(name);
                loader.config(&mut sb, &spec)
            }
            Opt::Magic(cmd) => loader.magic(&mut sb, cmd),
            Opt::Chroot(d) => {
                cfg.chroot = Some(d);
                Ok(())
            }
            Opt::Chdir(b"tmp") => match chdir_tmp() {
                Ok(d) => {
                    cfg.chdir = Some(d);
                    Ok(())
                }
                Err(e) => {
                    fail!("cannot create a temporary directory for -D tmp: {e}");
                    Err(())
                }
            },
            Opt::Chdir(d) => {
                cfg.chdir = Some(d.to_vec());
                Ok(())
            }
            Opt::Env(e) => {
                env_set(&mut cfg.env, e);
                Ok(())
            }
            Opt::Ionice(i) => {
                cfg.ionice = Some(i);
                Ok(())
            }
            Opt::Nice(n) => {
                cfg.nice = Some(n);
                Ok(())
            }
            Opt::Stdout(p) => {
                cfg.stdout = Some(p);
                Ok(())
            }
            Opt::Stderr(p) => {
                cfg.stderr = Some(p);
                Ok(())
            }
            Opt::StartAs(n) => {
                cfg.startas = Some(n);
                Ok(())
            }
            Opt::Umask(m) => {
                cfg.umask = Some(m);
                Ok(())
            }
            Opt::Uid(u) => {
                cfg.uid = Some(u);
                Ok(())
            }
            Opt::Gid(g) => {
                cfg.gid = Some(g);
                Ok(())
            }
        };
        if ok.is_err() {
            return Next::Exit(1);
        }
    }
    cfg.command = parser.command();
    if args.get(cfg.command).is_none() {
        fail!("no command given");
        usage(true);
        return Next::Exit(1);
    }
    if cfg.lock {
        sb.task.lock = Lock::On;
    }
    if cfg.bpf_only && sb.global.decision == syd_core::sandbox::Decision::Deny {
        sb.global.decision = syd_core::sandbox::Decision::Bpf;
    }
    // The refusal check (SPEC §1.4 step 5).
    let all_off =
        Cap::ALL.iter().all(|&c| sb.task.mode(c) == Mode::Off) && sb.task.network == Mode::Off;
    if sb.global.restrict_general == 0 && all_off {
        fail!("All restrict and sandbox options are off.");
        fail!(
            "Refusing to run the program `{}'.",
            Show(args.get(cfg.command).unwrap_or(b""))
        );
        return Next::Exit(1);
    }
    cfg.sandbox = sb;
    for (name, value) in [
        (&b"SYDBOX"[..], &b"syd"[..]),
        (b"SYDBOX_VERSION", VERSION.as_bytes()),
        (b"SYDBOX_API_VERSION", b"2"),
        (b"SYDBOX_ACTIVE", b"1"),
    ] {
        let mut e = name.to_vec();
        e.push(b'=');
        e.extend_from_slice(value);
        env_set(&mut cfg.env, &e);
    }
    Next::Run(Box::new(cfg))
}

/// Letters of the random part of a temporary name (as mkdtemp(3) uses).
const TEMP_CHARS: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Creates a new directory named `prefix` and six random letters, mode 0700, like mkdtemp(3);
/// returns its path. Errors: the errno of getrandom(2) or mkdir(2) (EEXIST after 100 names
/// that were all taken).
pub fn mkdtemp(prefix: &[u8]) -> Result<Vec<u8>, Errno> {
    for _ in 0..100 {
        let mut r = [0u8; 6];
        sys::getrandom(&mut r)?;
        let mut p = prefix.to_vec();
        p.extend(r.iter().map(|b| {
            TEMP_CHARS
                .get(usize::from(*b) % 62)
                .copied()
                .unwrap_or(b'X')
        }));
        match sys::mkdir(&cstring(&p)?, 0o700) {
            Ok(()) => return Ok(p),
            Err(Errno(libc::EEXIST)) => {}
            Err(e) => return Err(e),
        }
    }
    Err(Errno(libc::EEXIST))
}

/// Appends the decimal `n` to `v`.
pub fn push_int(v: &mut Vec<u8>, n: i64) {
    syd_core::report::put_int(&mut |b: &[u8]| v.extend_from_slice(b), n);
}

/// `-D tmp` (SPEC §8.2): a new private directory `/tmp/syd-2-<uid>-<pid>-XXXXXX` holding the
/// symbolic link `sydbox` -> `/dev/sydbox`, created in syd's own root.
fn chdir_tmp() -> Result<Vec<u8>, Errno> {
    let mut prefix = b"/tmp/syd-2-".to_vec();
    push_int(&mut prefix, i64::from(sys::getuid()));
    prefix.push(b'-');
    push_int(&mut prefix, i64::from(sys::getpid().0));
    prefix.push(b'-');
    let dir = mkdtemp(&prefix)?;
    let mut link = dir.clone();
    link.extend_from_slice(b"/sydbox");
    sys::symlink(c"/dev/sydbox", &cstring(&link)?)?;
    Ok(dir)
}

fn report_cli(e: &CliError<'_>) {
    fail!("{e}");
}

fn add_arch(arches: &mut Vec<&'static Arch>, name: &[u8]) -> Result<(), ()> {
    // Only the ABIs this host runs can be filtered: a filter for any other would never see a
    // call (and their tables would only make the binary larger).
    let found = if name == b"native" {
        Some(native())
    } else {
        default_arches()
            .into_iter()
            .find(|a| a.name.as_bytes() == name)
    };
    match found {
        Some(a) => {
            if !arches.iter().any(|x| core::ptr::eq(*x, a)) {
                arches.push(a);
            }
            Ok(())
        }
        None => {
            fail!(
                "architecture `{}' is unknown or not supported on this host, ignored",
                Show(name)
            );
            Ok(())
        }
    }
}

/// The architecture this binary runs as.
pub fn native() -> &'static Arch {
    #[cfg(target_arch = "x86_64")]
    return &arch::X86_64;
    #[cfg(target_arch = "aarch64")]
    return &arch::AARCH64;
    #[cfg(target_arch = "x86")]
    return &arch::X86;
    #[cfg(target_arch = "arm")]
    return &arch::ARM;
    #[cfg(target_arch = "riscv64")]
    return &arch::RISCV64;
    #[cfg(all(target_arch = "mips", target_endian = "big"))]
    return &arch::MIPS;
    #[cfg(all(target_arch = "mips64", target_endian = "big"))]
    return &arch::MIPS64;
    #[cfg(all(target_arch = "mips", target_endian = "little"))]
    return &arch::MIPSEL;
    #[cfg(all(target_arch = "mips64", target_endian = "little"))]
    return &arch::MIPSEL64;
    #[cfg(target_arch = "s390x")]
    return &arch::S390X;
    #[cfg(all(target_arch = "powerpc64", target_endian = "little"))]
    return &arch::PPC64LE;
}

/// The ABIs filtered when no `-a` is given: native plus those the host runs (SPEC §8.10).
pub fn default_arches() -> Vec<&'static Arch> {
    // Targets without a compat ABI never push.
    #[allow(unused_mut)]
    let mut v = Vec::from([native()]);
    #[cfg(target_arch = "x86_64")]
    v.extend([&arch::X86, &arch::X32]);
    #[cfg(target_arch = "aarch64")]
    v.push(&arch::ARM);
    #[cfg(target_arch = "s390x")]
    v.push(&arch::S390);
    // A mips64el kernel runs o32 binaries too (CONFIG_MIPS32_O32).
    #[cfg(all(target_arch = "mips64", target_endian = "little"))]
    v.push(&arch::MIPSEL);
    v
}

/// Finds the command: a name without `/` is searched in `PATH` (an empty element is the current
/// directory); the first regular file with an execute bit wins. With `root` (`-C`), the
/// directories of `PATH` are looked up inside it and the path returned is the one inside.
pub fn find_command(name: &[u8], env: &[Vec<u8>], root: Option<&[u8]>) -> Result<Vec<u8>, Errno> {
    if name.contains(&b'/') {
        return Ok(name.to_vec());
    }
    let path = env_get(env, b"PATH").unwrap_or(b"/usr/local/bin:/bin:/usr/bin");
    for dir in path.split(|&b| b == b':') {
        let mut cand = Vec::new();
        if dir.is_empty() {
            cand.extend_from_slice(b"./");
        } else {
            cand.extend_from_slice(dir);
            cand.push(b'/');
        }
        cand.extend_from_slice(name);
        let mut outside = root.map(<[u8]>::to_vec).unwrap_or_default();
        if root.is_some() && cand.first() != Some(&b'/') {
            // A relative PATH element: taken from the new root (where the command starts
            // when no -D is given).
            outside.push(b'/');
        }
        outside.extend_from_slice(&cand);
        let Ok(c) = cstring(&outside) else { continue };
        if let Ok(st) = sys::fstatat(None, &c, 0) {
            if st.mode & libc::S_IFMT == libc::S_IFREG && st.mode & 0o111 != 0 {
                return Ok(cand);
            }
        }
    }
    Err(Errno(libc::ENOENT))
}

/// Reads a small `/proc` file of the supervisor's own (not the tracee's) into `buf`.
pub fn read_small(path: &CStr, buf: &mut [u8]) -> Result<usize, Errno> {
    let fd = sys::open(path, libc::O_RDONLY | libc::O_CLOEXEC, 0)?;
    let mut n = 0;
    while n < buf.len() {
        let got = sys::read(&fd, buf.get_mut(n..).unwrap_or(&mut []))?;
        if got == 0 {
            break;
        }
        n += got;
    }
    Ok(n)
}

impl<'a> syd_core::cli::ArgSource<'a> for &Args {
    fn arg(&self, i: usize) -> Option<&'a [u8]> {
        self.get(i)
    }
}
