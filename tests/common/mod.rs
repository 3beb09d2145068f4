//! Helpers shared by the black-box tests: run the built `syd` with a time limit and captured
//! output, skip (or fail) when the kernel lacks a feature, and run as an unprivileged user.
// Each test crate uses its own subset of these helpers.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

/// Default time limit of one run: a hang fails the test instead of blocking CI.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// Read sandboxing on with every path readable, yet checked by syd: a deny rule that never
/// matches follows the allow-all rule. Without it the list would allow every path, and syd
/// would leave the opens to the kernel instead of checking and emulating them.
pub const READ_ALL_CHECKED: [&str; 6] = [
    "-m",
    "core/sandbox/read:deny",
    "-m",
    "allowlist/read+/***",
    "-m",
    "denylist/read+/nonexistent/syd-test/***",
];

/// The uid and gid of `nobody`, used for the tests that must hold for ordinary users.
pub const NOBODY: u32 = 65534;

/// Path of the `syd` binary cargo built for these tests.
pub fn syd_path() -> &'static str {
    env!("CARGO_BIN_EXE_syd")
}

/// Path of the `syd-test-probe` helper cargo built for these tests: it makes one named raw
/// system call and prints `ok <ret>` or `err <ERRNO>` (see tests/probe/probe.rs).
pub fn probe_path() -> &'static str {
    env!("CARGO_BIN_EXE_syd-test-probe")
}

/// Starts setting up a run of `syd-test-probe` with `args`, outside any sandbox.
pub fn probe(args: &[&str]) -> Run {
    Run::new(probe_path(), args)
}

/// `original`, or when the build directory is private (such as under root's home) a copy of it
/// in a world-readable temporary directory, so that `nobody` can run it. `cell` caches the
/// answer for one binary.
fn path_for_everyone(original: &str, cell: &'static OnceLock<PathBuf>) -> &'static PathBuf {
    cell.get_or_init(|| {
        let original = PathBuf::from(original);
        // Everyone may run it if the file and every directory above it have their "other x" bit.
        let open_to_all = original.ancestors().all(|p| {
            p.as_os_str().is_empty() || std::fs::metadata(p).is_ok_and(|m| m.mode() & 0o001 != 0)
        });
        if open_to_all {
            return original;
        }
        let dir = std::env::temp_dir().join(format!("syd-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
            .expect("chmod the temporary directory");
        let path = dir.join(original.file_name().expect("a binary has a file name"));
        std::fs::copy(&original, &path).expect("copy the binary");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("chmod the copy");
        path
    })
}

/// `syd`, copied where `nobody` can run it if need be (see [`path_for_everyone`]).
fn syd_path_for_everyone() -> &'static PathBuf {
    static COPY: OnceLock<PathBuf> = OnceLock::new();
    path_for_everyone(syd_path(), &COPY)
}

/// `syd-test-probe`, copied where `nobody` can run it if need be (see [`path_for_everyone`]).
pub fn probe_path_for_everyone() -> &'static PathBuf {
    static COPY: OnceLock<PathBuf> = OnceLock::new();
    path_for_everyone(probe_path(), &COPY)
}

/// Whether the tests run as root (the owner of `/proc/self` is the effective uid).
pub fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// What a finished run left behind.
#[derive(Debug)]
pub struct Output {
    /// How the process ended.
    pub status: ExitStatus,
    /// Everything it wrote to standard output (lossy UTF-8).
    pub stdout: String,
    /// Everything it wrote to standard error (lossy UTF-8).
    pub stderr: String,
}

impl Output {
    /// The exit code, or `None` if a signal ended the process.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }
}

/// A run of a program (by default `syd`) being set up.
pub struct Run {
    cmd: Command,
    what: String,
    stdin: Vec<u8>,
    timeout: Duration,
}

/// Starts setting up a run of `syd` with `args`.
pub fn syd(args: &[&str]) -> Run {
    Run::new(syd_path(), args)
}

impl Run {
    /// A run of `program` with `args`, standard input empty, the environment inherited.
    pub fn new(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Run {
        let mut cmd = Command::new(program.as_ref());
        cmd.args(args);
        let what = format!("{} {}", program.as_ref().to_string_lossy(), args.join(" "));
        Run {
            cmd,
            what,
            stdin: Vec::new(),
            timeout: TIMEOUT,
        }
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: &str, value: &str) -> Run {
        self.cmd.env(key, value);
        self
    }

    /// Removes an environment variable.
    pub fn env_remove(mut self, key: &str) -> Run {
        self.cmd.env_remove(key);
        self
    }

    /// Feeds `data` to standard input (which is then closed).
    pub fn stdin(mut self, data: &[u8]) -> Run {
        self.stdin = data.to_vec();
        self
    }

    /// Changes the time limit.
    pub fn timeout(mut self, limit: Duration) -> Run {
        self.timeout = limit;
        self
    }

    /// Runs as uid and gid [`NOBODY`] with no supplementary groups (std drops them when root
    /// sets a uid), from `/`. When the tests are not root they already are an ordinary user and
    /// the run is unchanged. The program and any argument naming `syd` or `syd-test-probe` use
    /// a world-readable copy of that binary.
    pub fn unprivileged(mut self) -> Run {
        if !is_root() {
            return self;
        }
        let for_everyone = |a: &std::ffi::OsStr| {
            if a == syd_path() {
                syd_path_for_everyone().as_os_str().to_owned()
            } else if a == probe_path() {
                probe_path_for_everyone().as_os_str().to_owned()
            } else {
                a.to_owned()
            }
        };
        let program = for_everyone(self.cmd.get_program());
        let args: Vec<_> = self.cmd.get_args().map(for_everyone).collect();
        let envs: Vec<_> = self
            .cmd
            .get_envs()
            .map(|(k, v)| (k.to_owned(), v.map(|v| v.to_owned())))
            .collect();
        let mut cmd = Command::new(program);
        cmd.args(args);
        for (k, v) in envs {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd.uid(NOBODY).gid(NOBODY).current_dir("/");
        self.cmd = cmd;
        self.what = format!("{} (as uid {NOBODY})", self.what);
        self
    }

    /// The command, to add what the other methods do not cover (such as `pre_exec`).
    pub fn command(&mut self) -> &mut Command {
        &mut self.cmd
    }

    /// Runs to completion and captures the output. Panics if the program cannot start or is
    /// still running after the time limit; it is then killed with its whole process group.
    pub fn run(mut self) -> Output {
        self.cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = self
            .cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.what));
        let mut stdin = child.stdin.take().expect("piped stdin");
        let data = std::mem::take(&mut self.stdin);
        thread::spawn(move || {
            let _ = stdin.write_all(&data); // the program may not read it all
        });
        let stdout = collect(child.stdout.take().expect("piped stdout"));
        let stderr = collect(child.stderr.take().expect("piped stderr"));

        let deadline = Instant::now() + self.timeout;
        let status = loop {
            if let Some(st) = child.try_wait().expect("try_wait") {
                break st;
            }
            if Instant::now() >= deadline {
                kill_group(child.id());
                let _ = child.wait();
                panic!(
                    "{} still running after {:?}: killed\nstdout:\n{}\nstderr:\n{}",
                    self.what,
                    self.timeout,
                    stdout
                        .recv_timeout(Duration::from_secs(1))
                        .unwrap_or_default(),
                    stderr
                        .recv_timeout(Duration::from_secs(1))
                        .unwrap_or_default(),
                );
            }
            thread::sleep(Duration::from_millis(10));
        };
        // A descendant left behind could hold the pipes open: do not wait for it forever.
        let grace = Duration::from_secs(5);
        Output {
            status,
            stdout: stdout.recv_timeout(grace).unwrap_or_default(),
            stderr: stderr.recv_timeout(grace).unwrap_or_default(),
        }
    }
}

/// Reads `r` to its end on a thread; the text arrives on the returned channel.
fn collect(mut r: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        let _ = tx.send(String::from_utf8_lossy(&buf).into_owned());
    });
    rx
}

/// SIGKILLs the process group led by the (not yet reaped) child `pid`.
#[allow(unsafe_code)]
fn kill_group(pid: u32) {
    let Ok(pgid) = i32::try_from(pid) else { return };
    // SAFETY: kill(2) takes two integers; the group exists because its leader is not reaped.
    unsafe { libc::kill(-pgid, libc::SIGKILL) };
}

/// Prints `skip: <reason>` and returns `false`, or panics if `SYD_TEST_REQUIRE_KERNEL=1` asks
/// for every test to run. Use as `if !common::skip_unless(ok, "why") { return; }`.
pub fn skip_unless(available: bool, reason: &str) -> bool {
    if available {
        return true;
    }
    if std::env::var_os("SYD_TEST_REQUIRE_KERNEL").is_some_and(|v| v == "1") {
        panic!("SYD_TEST_REQUIRE_KERNEL=1 but {reason}");
    }
    println!("skip: {reason}");
    false
}

/// Whether the running kernel can host `syd` at all: Linux 5.6 or newer with seccomp, judged
/// from `/proc` without running `syd`. Otherwise prints `skip: <reason>` and returns `false`
/// (or panics under `SYD_TEST_REQUIRE_KERNEL=1`).
pub fn require_kernel() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut nums = release
        .trim()
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let version = (nums.next().unwrap_or(0), nums.next().unwrap_or(0));
    if !skip_unless(
        version >= (5, 6),
        &format!("kernel {} is older than 5.6", release.trim()),
    ) {
        return false;
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    skip_unless(
        status.lines().any(|l| l.starts_with("Seccomp:")),
        "the kernel has no seccomp (CONFIG_SECCOMP)",
    )
}

/// A fresh empty directory under the system's temporary directory (canonical), removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// `syd-test-PID-name` under the temporary directory, emptied first.
    pub fn new(name: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("syd-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d.canonicalize().unwrap())
    }

    /// `name` inside the directory, as text.
    pub fn p(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_owned()
    }

    /// The directory, as text.
    pub fn s(&self) -> String {
        self.0.to_str().unwrap().to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Builds the libc-free i386 program `tests/<src>` (`cc -m32 -nostdlib`, raw `int $0x80`) as
/// `bin`, and returns `bin` once running it with `arg` printed `want`; prints `skip:` and
/// returns `None` when no C compiler builds i386 code or the kernel cannot run it.
pub fn build_i386(src: &str, bin: &str, arg: &str, want: &[u8]) -> Option<String> {
    let src = format!("{}/tests/{src}", env!("CARGO_MANIFEST_DIR"));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let built = Command::new(&cc)
        .args([
            "-m32",
            "-nostdlib",
            "-static",
            "-ffreestanding",
            "-fno-pie",
            "-no-pie",
            "-fno-stack-protector",
            "-fno-tree-loop-distribute-patterns",
            "-O1",
            "-o",
            bin,
            &src,
        ])
        .output();
    let ok = matches!(&built, Ok(o) if o.status.success());
    if !skip_unless(
        ok,
        &format!("{cc} -m32 -nostdlib cannot build i386 code: {built:?}"),
    ) {
        return None;
    }
    let native = Command::new(bin).arg(arg).output();
    let runs = matches!(&native, Ok(o) if o.stdout == want);
    skip_unless(
        runs,
        &format!("the kernel cannot run i386 programs: {native:?}"),
    )
    .then(|| bin.to_owned())
}
