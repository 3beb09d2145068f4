//! `syd-bench`: runs generated workloads natively, under a floor supervisor and under `syd`,
//! and prints medians, ratios to native and to the floor, the extra time per call, the
//! supervisors' peak RSS and syd's binary size. See `bench/README.md`; `bench/run` builds and
//! runs it. It is not part of `cargo test`.
//!
//! The floor supervisor is this binary run as `syd-bench __floor FILE -- CMD...`: it loads the
//! BPF program in FILE (exported by `syd ... -e bpf:FILE noexec`, so it is byte for byte the
//! filter syd would load) with a new listener, and answers every notification with
//! `SECCOMP_USER_NOTIF_FLAG_CONTINUE` in one thread.

#[allow(unsafe_code)]
mod sys;

mod stats;
mod work;

use std::env;
use std::ffi::{CString, OsString};
use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use stats::{cell, extra_us, json_num, json_str, ratio, summarize, Summary};

const USAGE: &str = "\
usage: syd-bench [--quick] [--only W1,W3,...] [--reps N] [--json FILE] [--syd PATH] [--keep]
  --quick      small sizes and one repetition: a smoke run of a few seconds
  --only LIST  run only these workloads (W1..W5, or a row key such as W1-stat); repeatable
  --reps N     repetitions per mode (default 4, quick 1)
  --json FILE  also write every sample and summary as JSON lines to FILE
  --syd PATH   the syd binary (default: `syd` next to this program)
  --keep       keep the temporary directory (its path is printed)
  --pin CPU    run everything on that one CPU (sched_setaffinity), to separate the cost of
               waking a process on another CPU from the work itself
  --floor-threads N
               the floor answers with N threads (default 1): what several supervisor
               threads could gain at best";

/// Command-line options.
#[derive(Clone, Debug, Default, PartialEq)]
struct Opts {
    /// Small sizes and one repetition.
    quick: bool,
    /// Workload groups or row keys to run; empty means all.
    only: Vec<String>,
    /// Repetitions per mode, overriding the default.
    reps: Option<usize>,
    /// Where to write JSON lines.
    json: Option<PathBuf>,
    /// The syd binary.
    syd: Option<PathBuf>,
    /// Keep the temporary directory.
    keep: bool,
    /// Run everything on this CPU.
    pin: Option<usize>,
    /// Threads of the floor supervisor (1 when not given).
    floor_threads: Option<usize>,
}

/// Parses the command line (without the program name). Errors name the bad argument.
fn parse_opts(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match a.as_str() {
            "--quick" => o.quick = true,
            "--keep" => o.keep = true,
            "--only" => o.only.extend(
                value("--only")?
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_ascii_uppercase),
            ),
            "--reps" => {
                let v = value("--reps")?;
                let n = v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("--reps {v}: not a positive number"))?;
                o.reps = Some(n);
            }
            "--json" => o.json = Some(PathBuf::from(value("--json")?)),
            "--syd" => o.syd = Some(PathBuf::from(value("--syd")?)),
            "--pin" => {
                let v = value("--pin")?;
                let cpu = v
                    .parse::<usize>()
                    .ok()
                    .filter(|&c| c < 1024)
                    .ok_or_else(|| format!("--pin {v}: not a CPU number below 1024"))?;
                o.pin = Some(cpu);
            }
            "--floor-threads" => {
                let v = value("--floor-threads")?;
                let n = v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=64).contains(n))
                    .ok_or_else(|| format!("--floor-threads {v}: not a number from 1 to 64"))?;
                o.floor_threads = Some(n);
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}'")),
        }
    }
    Ok(o)
}

/// Workload sizes.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    /// Iterations of each W1 microbenchmark.
    calls: u64,
    /// Files in the W2 tarball.
    files: usize,
    /// C files in the W3/W5 build.
    c_files: usize,
    /// `/bin/true` executions in W4.
    execs: u64,
    /// Repetitions per mode.
    reps: usize,
}

/// The sizes the issue asks for: each workload runs for a few seconds.
const FULL: Sizes = Sizes {
    calls: 200_000,
    files: 5_000,
    c_files: 40,
    execs: 2_000,
    reps: 4,
};

/// A tenth of everything and one repetition: checks that every cell works.
const QUICK: Sizes = Sizes {
    calls: 20_000,
    files: 500,
    c_files: 4,
    execs: 200,
    reps: 1,
};

/// How a workload is run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Directly, without any filter.
    Native,
    /// Under the floor supervisor with syd's exported filter.
    Floor,
    /// Under syd.
    Syd,
}

impl Mode {
    /// The name used in the table and the JSON lines.
    fn name(self) -> &'static str {
        match self {
            Mode::Native => "native",
            Mode::Floor => "floor",
            Mode::Syd => "syd",
        }
    }
}

/// Every mode, in the order each repetition runs them.
const MODES: [Mode; 3] = [Mode::Native, Mode::Floor, Mode::Syd];

/// One row of the table.
struct Workload {
    /// A unique key (`W1-open-r`): `--only` takes it or its group (`W1`); JSON lines use it.
    key: &'static str,
    /// The row label.
    title: String,
    /// Calls (or loop iterations) to divide the extra time by.
    calls: Option<u64>,
    /// The command and its arguments.
    cmd: Vec<OsString>,
    /// Its working directory.
    cwd: PathBuf,
    /// syd's options before `--` (also used to export the floor's filter).
    policy: Vec<String>,
    /// The command prints its own loop time in nanoseconds: use it instead of the wall time.
    micro: bool,
    /// A build directory to clean before each run, which must hold `prog` afterwards.
    build: Option<PathBuf>,
    /// A directory the command creates, removed before each run in case a failed run left it.
    scratch: Option<PathBuf>,
}

/// One measurement.
#[derive(Clone, Copy, Debug)]
struct Sample {
    /// Wall-clock seconds from spawn to reaping.
    wall: f64,
    /// The microbenchmark's own loop time in seconds.
    inner: Option<f64>,
    /// The supervisor's `VmHWM` in KiB, read at its exit stop.
    rss_kib: Option<u64>,
    /// The supervisor's own CPU time (user + system, all its threads) in seconds, read at its
    /// exit stop.
    cpu_s: Option<f64>,
}

impl Sample {
    /// The time the table reports: the loop time for microbenchmarks, else the wall time.
    fn time(&self) -> f64 {
        self.inner.unwrap_or(self.wall)
    }
}

/// The measurements of one workload in one mode.
#[derive(Default)]
struct Cell {
    /// Successful samples.
    samples: Vec<Sample>,
    /// Why the mode failed, if it did (later repetitions are skipped).
    failed: Option<String>,
    /// The first line syd or the floor wrote to stderr in a successful run, if any.
    stderr: Option<String>,
}

impl Cell {
    /// Median, minimum and maximum of the reported times.
    fn summary(&self) -> Option<Summary> {
        let t: Vec<f64> = self.samples.iter().map(Sample::time).collect();
        summarize(&t)
    }

    /// Median and maximum of the peak RSS over the runs.
    fn rss(&self) -> Option<Summary> {
        let r: Vec<f64> = self
            .samples
            .iter()
            .filter_map(|s| s.rss_kib)
            // KiB counts are far below 2^53: exact in an f64.
            .map(|k| k as f64)
            .collect();
        summarize(&r)
    }

    /// Median and maximum of the supervisor's CPU time as a share of the wall time, in percent.
    fn busy(&self) -> Option<Summary> {
        let r: Vec<f64> = self
            .samples
            .iter()
            .filter_map(|s| Some(100.0 * s.cpu_s? / s.wall))
            .collect();
        summarize(&r)
    }
}

/// Paths shared by every run.
struct Ctx {
    /// The temporary directory; everything the workloads write is below it.
    root: PathBuf,
    /// The syd binary.
    syd: PathBuf,
    /// This program (the floor supervisor).
    me: PathBuf,
    /// Threads of the floor supervisor.
    floor_threads: usize,
}

/// Removes the temporary directory when dropped, unless `--keep` was given.
struct Cleanup {
    /// The directory.
    root: PathBuf,
    /// Keep it.
    keep: bool,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("syd-bench: kept {}", self.root.display());
        } else if let Err(e) = fs::remove_dir_all(&self.root) {
            eprintln!("syd-bench: removing {}: {e}", self.root.display());
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("__floor") {
        return floor_main(args.get(1..).unwrap_or_default());
    }
    let opts = match parse_opts(&args) {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("syd-bench: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(if e.is_empty() { 0 } else { 2 });
        }
    };
    if let Some(cpu) = opts.pin {
        // Inherited by every process the harness starts: native, floor and syd alike.
        if let Err(e) = sys::pin_to_cpu(cpu) {
            eprintln!("syd-bench: --pin {cpu}: {e}");
            return ExitCode::from(2);
        }
    }
    match bench(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("syd-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Parses an exported BPF program (8 bytes per instruction in native byte order, the layout of
/// `struct sock_filter`). Errors: a length that is not a multiple of 8, or an empty program.
fn parse_bpf(bytes: &[u8]) -> Result<Vec<libc::sock_filter>, String> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(sys::INSN_SIZE) {
        return Err(format!(
            "BPF program of {} bytes: not a non-zero multiple of {}",
            bytes.len(),
            sys::INSN_SIZE
        ));
    }
    Ok(bytes
        .chunks_exact(sys::INSN_SIZE)
        .filter_map(|c| match *c {
            [c0, c1, jt, jf, k0, k1, k2, k3] => Some(libc::sock_filter {
                code: u16::from_ne_bytes([c0, c1]),
                jt,
                jf,
                k: u32::from_ne_bytes([k0, k1, k2, k3]),
            }),
            _ => None,
        })
        .collect())
}

/// The floor supervisor: `__floor FILE -- CMD...`. Exits with the command's exit code, or
/// 128 + the signal that killed it, or 127 if it could not be started.
fn floor_main(args: &[String]) -> ExitCode {
    let (Some(file), Some(threads), Some("--")) = (
        args.first(),
        args.get(1).and_then(|t| t.parse::<usize>().ok()),
        args.get(2).map(String::as_str),
    ) else {
        eprintln!("usage: syd-bench __floor BPF-FILE THREADS -- COMMAND [ARG...]");
        return ExitCode::from(2);
    };
    let filter = match fs::read(file)
        .map_err(|e| format!("{file}: {e}"))
        .and_then(|b| parse_bpf(&b))
    {
        Ok(f) => f,
        Err(e) => {
            eprintln!("syd-bench floor: {e}");
            return ExitCode::from(127);
        }
    };
    let argv: Result<Vec<CString>, _> = args
        .get(3..)
        .unwrap_or_default()
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect();
    let Ok(argv) = argv else {
        eprintln!("syd-bench floor: NUL byte in the command");
        return ExitCode::from(127);
    };
    let sync = std::env::var_os("SYD_BENCH_FLOOR_NO_SYNC").is_none();
    let status = sys::spawn_filtered(&filter, &argv).and_then(|f| {
        if sync {
            // Best effort, as in syd: kernels before 6.6 refuse the flag.
            let _ = sys::notif_set_sync_wake_up(&f.listener);
        }
        sys::serve_continue(&f, threads)
    });
    match status {
        Ok(s) if libc::WIFEXITED(s) => {
            ExitCode::from(u8::try_from(libc::WEXITSTATUS(s)).unwrap_or(1))
        }
        Ok(s) => ExitCode::from(u8::try_from(128 + libc::WTERMSIG(s)).unwrap_or(255)),
        Err(e) => {
            eprintln!("syd-bench floor: {e}");
            ExitCode::from(127)
        }
    }
}

/// Builds the workloads' inputs under `root` and returns the selected rows.
fn setup(root: &Path, sizes: Sizes, only: &[String]) -> Result<Vec<Workload>, String> {
    let wanted = |group: &str, key: &str| {
        only.is_empty()
            || only
                .iter()
                .any(|o| o == group || o.eq_ignore_ascii_case(key))
    };
    let root_s = root.to_string_lossy().into_owned();
    // Everything readable, but checked: a deny rule that never matches follows the allow-all
    // rule, without which syd would see that no path can be denied and check nothing.
    let read_deny = vec![
        "-m".to_string(),
        "core/sandbox/read:deny".to_string(),
        "-m".to_string(),
        "allowlist/read+/***".to_string(),
        "-m".to_string(),
        "denylist/read+/nonexistent/syd-bench/***".to_string(),
    ];
    let write_deny = vec![
        "-m".to_string(),
        "core/sandbox/write:deny".to_string(),
        "-m".to_string(),
        format!("allowlist/write+{root_s}/***"),
    ];
    // Read and write sandboxing on, everything readable, only the temporary directory writable.
    // identity_change:false as in the paludis profile: make's posix_spawn calls
    // setresuid(-1, getuid(), -1), which the default restriction refuses for uids 0 to 11.
    let mut build_policy = read_deny.clone();
    build_policy.extend(write_deny.iter().cloned());
    build_policy.extend([
        "-m".to_string(),
        "core/restrict/identity_change:false".to_string(),
    ]);

    let mut rows = Vec::new();
    let n = sizes.calls;
    // 500 read patterns: the one that allows comes first and 499 that never match follow it,
    // so that last-match-wins has to look at every one of them.
    let mut read_deny_500 = read_deny.clone();
    for i in 1..500 {
        read_deny_500.push("-m".to_string());
        read_deny_500.push(format!(
            "allowlist/read+/nonexistent/syd-bench/{i}/**/*.[ch]"
        ));
    }
    let micro_rows: [(&str, &str, &str, Vec<String>); 4] = [
        (
            "W1-open-r",
            "open-r",
            "open(O_RDONLY)+close, read:deny",
            read_deny.clone(),
        ),
        (
            "W1-open-r500",
            "open-r",
            "open(O_RDONLY)+close, 500 patterns",
            read_deny_500,
        ),
        (
            "W1-open-w",
            "open-w",
            "open(O_WRONLY)+close, write:deny",
            write_deny.clone(),
        ),
        ("W1-stat", "stat", "stat, syd defaults", Vec::new()),
    ];
    if micro_rows.iter().any(|(k, ..)| wanted("W1", k)) {
        let bin = root.join("bin");
        work::mkdir(&bin)?;
        let micro = work::build_micro(&bin)?;
        let data = root.join("data");
        work::mkdir(&data)?;
        let file = data.join("file");
        fs::write(&file, b"syd-bench\n").map_err(|e| format!("{}: {e}", file.display()))?;
        for (key, mode, title, policy) in micro_rows {
            if !wanted("W1", key) {
                continue;
            }
            rows.push(Workload {
                key,
                title: format!("W1 {n} x {title}"),
                calls: Some(n),
                cmd: vec![
                    micro.clone().into(),
                    mode.into(),
                    file.clone().into(),
                    n.to_string().into(),
                ],
                cwd: root.to_path_buf(),
                policy,
                micro: true,
                build: None,
                scratch: None,
            });
        }
    }
    let sh =
        |script: String| -> Vec<OsString> { vec!["/bin/sh".into(), "-c".into(), script.into()] };
    if wanted("W2", "W2-tar") {
        let dir = root.join("w2");
        work::mkdir(&dir)?;
        work::build_tarball(&dir, sizes.files)?;
        rows.push(Workload {
            key: "W2-tar",
            title: format!("W2 tar -x {} files + rm -rf, write:deny", sizes.files),
            calls: None,
            cmd: sh("mkdir x && tar -xf src.tar -C x && rm -rf x".to_string()),
            cwd: dir.clone(),
            policy: write_deny.clone(),
            micro: false,
            build: None,
            scratch: Some(dir.join("x")),
        });
    }
    let c_dir = root.join("w3");
    let w3_keys = ["W3-make", "W3-make-w", "W3-make-wl"];
    if w3_keys.iter().any(|k| wanted("W3", k)) || wanted("W5", "W5-paludis") {
        work::build_c_tree(&c_dir, sizes.c_files)?;
    }
    let make = || -> Vec<OsString> { vec!["make".into(), "-s".into(), "-j2".into()] };
    if wanted("W3", "W3-make") {
        rows.push(Workload {
            key: "W3-make",
            title: format!(
                "W3 make -j2, {} C files, read+write:deny",
                sizes.c_files + 1
            ),
            calls: None,
            cmd: make(),
            cwd: c_dir.clone(),
            policy: build_policy.clone(),
            micro: false,
            build: Some(c_dir.clone()),
            scratch: None,
        });
    }
    // The issue's own W3 policy ("writing only to the build dir"): write sandboxing alone,
    // with the magic commands open (stat and exec routed) and locked (`-l`: neither routed).
    let build_write = {
        let mut p = write_deny.clone();
        p.extend([
            "-m".to_string(),
            "core/restrict/identity_change:false".to_string(),
        ]);
        p
    };
    let mut build_write_locked = build_write.clone();
    build_write_locked.push("-l".to_string());
    for (key, what, policy) in [
        ("W3-make-w", "write:deny", &build_write),
        ("W3-make-wl", "write:deny, -l", &build_write_locked),
    ] {
        if wanted("W3", key) {
            rows.push(Workload {
                key,
                title: format!("W3 make -j2, {} C files, {what}", sizes.c_files + 1),
                calls: None,
                cmd: make(),
                cwd: c_dir.clone(),
                policy: policy.clone(),
                micro: false,
                build: Some(c_dir.clone()),
                scratch: None,
            });
        }
    }
    let exec_loop = || {
        sh(format!(
            "i=0; while [ $i -lt {} ]; do /bin/true; i=$((i+1)); done",
            sizes.execs
        ))
    };
    if wanted("W4", "W4-exec") {
        rows.push(Workload {
            key: "W4-exec",
            title: format!("W4 sh: {} x exec /bin/true, read+write:deny", sizes.execs),
            calls: Some(sizes.execs),
            cmd: exec_loop(),
            cwd: root.to_path_buf(),
            policy: build_policy.clone(),
            micro: false,
            build: None,
            scratch: None,
        });
    }
    for (key, what, policy) in [
        ("W4-exec-w", "write:deny", &build_write),
        ("W4-exec-wl", "write:deny, -l", &build_write_locked),
    ] {
        if wanted("W4", key) {
            rows.push(Workload {
                key,
                title: format!("W4 sh: {} x exec /bin/true, {what}", sizes.execs),
                calls: Some(sizes.execs),
                cmd: exec_loop(),
                cwd: root.to_path_buf(),
                policy: policy.clone(),
                micro: false,
                build: None,
                scratch: None,
            });
        }
    }
    if wanted("W5", "W5-paludis") {
        rows.push(Workload {
            key: "W5-paludis",
            title: format!("W5 make -j2, {} C files, -c @paludis", sizes.c_files + 1),
            calls: None,
            cmd: make(),
            cwd: c_dir.clone(),
            policy: vec!["-c".to_string(), "@paludis".to_string()],
            micro: false,
            build: Some(c_dir),
            scratch: None,
        });
    }
    Ok(rows)
}

/// Exports the filter syd loads under `w.policy` (`-e bpf:FILE noexec`) and returns its path.
fn export_bpf(ctx: &Ctx, w: &Workload) -> Result<PathBuf, String> {
    let file = ctx.root.join("bpf").join(format!("{}.bpf", w.key));
    let out = Command::new(&ctx.syd)
        .args(&w.policy)
        .arg("-e")
        .arg(format!("bpf:{}", file.display()))
        .arg("noexec")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{}: {e}", ctx.syd.display()))?;
    if !out.status.success() {
        return Err(format!(
            "syd -e bpf: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let bytes = fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    parse_bpf(&bytes)?;
    Ok(file)
}

/// Reads `VmHWM` (the peak resident set size, in KiB) from `/proc/PID/status`.
fn read_hwm(pid: i32) -> Option<u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Reads the user + system CPU time of `pid` itself (fields 14 and 15 of `/proc/PID/stat`,
/// all its threads, not its children) in seconds.
fn read_cpu(pid: i32) -> Option<f64> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which ends at the last ')': state is field 3.
    let rest = text.get(text.rfind(')')? + 2..)?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    let hz = sys::clock_ticks_per_second();
    // Tick counts of a benchmark run are far below 2^53: exact in an f64.
    (hz > 0).then(|| ticks as f64 / hz as f64)
}

/// Reaps `pid`. If it is traced, resumes its ptrace stops and reads its `VmHWM` and CPU time
/// at the exit stop, while it still exists. Returns the raw wait status, the peak RSS and the
/// CPU time.
fn reap(pid: i32) -> Result<(i32, Option<u64>, Option<f64>), String> {
    let (mut hwm, mut cpu) = (None, None);
    loop {
        let status = sys::waitpid(pid).map_err(|e| format!("waitpid: {e}"))?;
        let Some(stop) = sys::classify(status) else {
            return Ok((status, hwm, cpu));
        };
        let sig = match stop {
            sys::Stop::Exit => {
                hwm = read_hwm(pid);
                cpu = read_cpu(pid);
                0
            }
            sys::Stop::Group => 0,
            sys::Stop::Signal(s) => s,
        };
        sys::ptrace_cont(pid, sig).map_err(|e| format!("ptrace(PTRACE_CONT): {e}"))?;
    }
}

/// The last lines of a log file, for error messages.
fn tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(3);
    lines.get(from..).unwrap_or_default().join(" | ")
}

/// Runs `w` once in `mode` and measures it. Errors describe why the run failed.
fn run_once(
    ctx: &Ctx,
    w: &Workload,
    mode: Mode,
    bpf: Option<&Path>,
) -> Result<(Sample, Option<String>), String> {
    if let Some(dir) = &w.build {
        work::clean_c_tree(dir)?;
    }
    if let Some(dir) = w.scratch.as_ref().filter(|d| d.exists()) {
        fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let (prog, rest) = w.cmd.split_first().ok_or("empty command")?;
    let mut cmd = match mode {
        Mode::Native => {
            let mut c = Command::new(prog);
            c.args(rest);
            c
        }
        Mode::Floor => {
            let bpf = bpf.ok_or("no exported filter")?;
            let mut c = Command::new(&ctx.me);
            c.arg("__floor")
                .arg(bpf)
                .arg(ctx.floor_threads.to_string())
                .arg("--")
                .args(&w.cmd);
            c
        }
        Mode::Syd => {
            let mut c = Command::new(&ctx.syd);
            c.args(&w.policy).arg("--").args(&w.cmd);
            c
        }
    };
    let logs = ctx.root.join("log");
    let out_path = logs.join("stdout");
    let err_path = logs.join("stderr");
    let out = File::create(&out_path).map_err(|e| format!("{}: {e}", out_path.display()))?;
    let err = File::create(&err_path).map_err(|e| format!("{}: {e}", err_path.display()))?;
    // A clean environment: `cargo run` puts LD_LIBRARY_PATH (four directories) in the
    // harness's, and the dynamic loader of every program a workload starts would then try
    // each of them for each library: failed opens that native runs pay little for and the
    // sandboxed runs pay a notification each for.
    cmd.env_clear();
    for keep in ["PATH", "HOME"] {
        if let Some(v) = env::var_os(keep) {
            cmd.env(keep, v);
        }
    }
    cmd.current_dir(&w.cwd)
        .env("TMPDIR", ctx.root.join("tmp"))
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    let start = Instant::now();
    let child = cmd.spawn().map_err(|e| format!("spawn: {e}"))?;
    let pid = i32::try_from(child.id()).map_err(|_| "pid out of range")?;
    // The supervisor (syd or the floor) is seized for its exit stop only: no syscall stops.
    if mode != Mode::Native {
        if let Err(e) = sys::ptrace_seize_exit(pid) {
            eprintln!("syd-bench: ptrace(PTRACE_SEIZE): {e}: no RSS for this run");
        }
    }
    let (status, rss_kib, cpu_s) = reap(pid)?;
    let wall = start.elapsed().as_secs_f64();
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        let how = if libc::WIFEXITED(status) {
            format!("exit status {}", libc::WEXITSTATUS(status))
        } else {
            format!("killed by signal {}", libc::WTERMSIG(status))
        };
        return Err(format!("{how}: {}", tail(&err_path)));
    }
    if let Some(dir) = &w.build {
        if !dir.join("prog").exists() {
            return Err("the build produced no `prog`".to_string());
        }
    }
    let inner = if w.micro {
        let text = fs::read_to_string(&out_path).unwrap_or_default();
        let ns: u64 = text
            .trim()
            .parse()
            .map_err(|_| format!("microbenchmark printed {:?}", text.trim()))?;
        // Nanosecond counts of a few seconds are far below 2^53: exact in an f64.
        Some(ns as f64 / 1e9)
    } else {
        None
    };
    let stderr = fs::read_to_string(&err_path)
        .ok()
        .and_then(|t| t.lines().next().map(str::to_string));
    Ok((
        Sample {
            wall,
            inner,
            rss_kib,
            cpu_s,
        },
        stderr,
    ))
}

/// Runs everything and prints the report.
fn bench(opts: &Opts) -> Result<(), String> {
    let mut sizes = if opts.quick { QUICK } else { FULL };
    if let Some(r) = opts.reps {
        sizes.reps = r;
    }
    let me = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let syd = match &opts.syd {
        Some(p) => p.clone(),
        None => me.with_file_name("syd"),
    };
    if !syd.is_file() {
        return Err(format!(
            "{}: no syd binary: run `cargo build --release` first, or pass --syd PATH",
            syd.display()
        ));
    }
    let root = std::env::temp_dir().join(format!("syd-bench.{}", std::process::id()));
    fs::create_dir(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    let root = fs::canonicalize(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    let _cleanup = Cleanup {
        root: root.clone(),
        keep: opts.keep,
    };
    for sub in ["tmp", "log", "bpf"] {
        work::mkdir(&root.join(sub))?;
    }
    let ctx = Ctx {
        root,
        syd,
        me,
        floor_threads: opts.floor_threads.unwrap_or(1),
    };
    let load_start = loadavg();
    let rows = setup(&ctx.root, sizes, &opts.only)?;
    if rows.is_empty() {
        return Err(format!("--only {}: no such workload", opts.only.join(",")));
    }
    let mut json = match &opts.json {
        Some(p) => Some(File::create(p).map_err(|e| format!("{}: {e}", p.display()))?),
        None => None,
    };
    let mut results: Vec<[Cell; 3]> = Vec::new();
    for w in &rows {
        let mut cells: [Cell; 3] = Default::default();
        let bpf = export_bpf(&ctx, w);
        if let (Err(e), Some(c)) = (&bpf, cells.get_mut(1)) {
            c.failed = Some(format!("exporting the filter: {e}"));
        }
        if !opts.quick {
            // Warm the page cache (compiler, headers, tarball); not recorded.
            let _ = run_once(&ctx, w, Mode::Native, None);
        }
        for rep in 0..sizes.reps {
            for (mode, c) in MODES.iter().zip(cells.iter_mut()) {
                if c.failed.is_some() {
                    continue;
                }
                let r = run_once(&ctx, w, *mode, bpf.as_deref().ok());
                let line = match &r {
                    Ok((s, stderr)) => {
                        eprintln!(
                            "[{}] rep {}/{} {:6} {:.3} s",
                            w.key,
                            rep + 1,
                            sizes.reps,
                            mode.name(),
                            s.time()
                        );
                        if c.stderr.is_none() && *mode != Mode::Native {
                            c.stderr.clone_from(stderr);
                        }
                        c.samples.push(*s);
                        format!(
                            "{{\"type\":\"sample\",\"workload\":{},\"title\":{},\"mode\":\"{}\",\
                             \"rep\":{rep},\"ok\":true,\"wall_s\":{},\"loop_s\":{},\"calls\":{},\
                             \"rss_kib\":{}}}",
                            json_str(w.key),
                            json_str(&w.title),
                            mode.name(),
                            s.wall,
                            json_num(s.inner),
                            json_num(w.calls),
                            json_num(s.rss_kib)
                        )
                    }
                    Err(e) => {
                        eprintln!(
                            "[{}] rep {}/{} {:6} failed: {e}",
                            w.key,
                            rep + 1,
                            sizes.reps,
                            mode.name()
                        );
                        c.failed = Some(e.clone());
                        format!(
                            "{{\"type\":\"sample\",\"workload\":{},\"mode\":\"{}\",\"rep\":{rep},\
                             \"ok\":false,\"error\":{}}}",
                            json_str(w.key),
                            mode.name(),
                            json_str(e)
                        )
                    }
                };
                if let Some(f) = json.as_mut() {
                    writeln!(f, "{line}").map_err(|e| format!("--json: {e}"))?;
                }
            }
        }
        if let Some(f) = json.as_mut() {
            for (mode, c) in MODES.iter().zip(cells.iter()) {
                let s = c.summary();
                writeln!(
                    f,
                    "{{\"type\":\"summary\",\"workload\":{},\"mode\":\"{}\",\"n\":{},\
                     \"failed\":{},\"med_s\":{},\"min_s\":{},\"max_s\":{},\"rss_kib_max\":{}}}",
                    json_str(w.key),
                    mode.name(),
                    c.samples.len(),
                    c.failed.is_some(),
                    json_num(s.map(|s| s.med)),
                    json_num(s.map(|s| s.min)),
                    json_num(s.map(|s| s.max)),
                    json_num(c.rss().map(|r| r.max))
                )
                .map_err(|e| format!("--json: {e}"))?;
            }
        }
        results.push(cells);
    }
    let size = binary_size(&ctx);
    let load = (load_start, loadavg());
    if let Some(f) = json.as_mut() {
        writeln!(
            f,
            "{{\"type\":\"binary\",\"path\":{},\"bytes\":{},\"stripped_bytes\":{}}}",
            json_str(&ctx.syd.to_string_lossy()),
            json_num(size.0),
            json_num(size.1)
        )
        .map_err(|e| format!("--json: {e}"))?;
        writeln!(
            f,
            "{{\"type\":\"run\",\"reps\":{},\"loadavg_start\":{},\"loadavg_end\":{}}}",
            sizes.reps,
            json_str(&load.0),
            json_str(&load.1)
        )
        .map_err(|e| format!("--json: {e}"))?;
    }
    print_report(&ctx, sizes, &rows, &results, size, &load);
    Ok(())
}

/// The 1-minute load average (`/proc/loadavg`), to judge how quiet the machine was.
fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".to_string())
}

/// syd's size as built and after `strip` of a copy (`None` if `strip` is missing or fails).
fn binary_size(ctx: &Ctx) -> (Option<u64>, Option<u64>) {
    let built = fs::metadata(&ctx.syd).ok().map(|m| m.len());
    let copy = ctx.root.join("syd.stripped");
    let stripped = Command::new("strip")
        .arg("-o")
        .arg(&copy)
        .arg(&ctx.syd)
        .stderr(Stdio::null())
        .status()
        .ok()
        .filter(|s| s.success())
        .and_then(|_| fs::metadata(&copy).ok())
        .map(|m| m.len());
    (built, stripped)
}

/// Prints rows as a table with left-aligned first column and right-aligned others.
fn print_table(rows: &[Vec<String>]) {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                if i == 0 {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect();
        println!("{}", line.join(" | ").trim_end());
    }
}

/// Prints the timing table, the RSS table, the binary size and any failures.
fn print_report(
    ctx: &Ctx,
    sizes: Sizes,
    rows: &[Workload],
    results: &[[Cell; 3]],
    size: (Option<u64>, Option<u64>),
    load: &(String, String),
) {
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    println!();
    println!(
        "syd-bench: {} repetition(s) per mode, kernel {}, {cpus} CPU(s), load average {} at \
         the start and {} at the end",
        sizes.reps,
        kernel.trim(),
        load.0,
        load.1
    );
    if ctx.floor_threads > 1 {
        println!("the floor answers with {} threads", ctx.floor_threads);
    }
    println!("times in seconds, median (min-max)");
    let mut table = vec![vec![
        "workload".to_string(),
        "native".to_string(),
        "floor".to_string(),
        "syd".to_string(),
        "syd/native".to_string(),
        "syd/floor".to_string(),
        "floor/native".to_string(),
        "extra us/call syd".to_string(),
        "extra us/call floor".to_string(),
    ]];
    for (w, [n, f, s]) in rows.iter().zip(results) {
        let (ns, fs_, ss) = (n.summary(), f.summary(), s.summary());
        let ok = |c: &Cell, x: Option<Summary>| if c.failed.is_some() { None } else { x };
        let (fs_ok, ss_ok) = (ok(f, fs_), ok(s, ss));
        table.push(vec![
            w.title.clone(),
            cell(ns, n.failed.is_some()),
            cell(fs_, f.failed.is_some()),
            cell(ss, s.failed.is_some()),
            ratio(ss_ok, ns),
            ratio(ss_ok, fs_ok),
            ratio(fs_ok, ns),
            extra_us(ss_ok, ns, w.calls),
            extra_us(fs_ok, ns, w.calls),
        ]);
    }
    print_table(&table);
    println!();
    println!("supervisor peak RSS (VmHWM of the supervisor process at its exit stop), KiB, median (max);");
    println!(
        "supervisor busy: its own CPU time (user + system) in % of the wall time, median (max):"
    );
    let mut rss = vec![vec![
        "workload".to_string(),
        "syd".to_string(),
        "floor".to_string(),
        "syd busy %".to_string(),
        "floor busy %".to_string(),
    ]];
    let busy = |c: &Cell| match c.busy() {
        _ if c.failed.is_some() => "failed".to_string(),
        Some(r) => format!("{:.0} ({:.0})", r.med, r.max),
        None => "-".to_string(),
    };
    let kib = |c: &Cell| match c.rss() {
        _ if c.failed.is_some() => "failed".to_string(),
        Some(r) => format!("{:.0} ({:.0})", r.med, r.max),
        None => "-".to_string(),
    };
    for (w, [_, f, s]) in rows.iter().zip(results) {
        rss.push(vec![w.title.clone(), kib(s), kib(f), busy(s), busy(f)]);
    }
    print_table(&rss);
    println!();
    let show = |v: Option<u64>| v.map_or_else(|| "?".to_string(), |b| b.to_string());
    println!(
        "syd binary {}: {} bytes as built, {} bytes stripped",
        ctx.syd.display(),
        show(size.0),
        show(size.1)
    );
    for (w, cells) in rows.iter().zip(results) {
        for (mode, c) in MODES.iter().zip(cells) {
            if let Some(e) = &c.failed {
                println!("{} {}: failed: {e}", w.key, mode.name());
            } else if let Some(line) = &c.stderr {
                println!("{} {}: wrote to stderr: {line}", w.key, mode.name());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn options() {
        let cases: &[(&[&str], Result<Opts, &str>)] = &[
            (&[], Ok(Opts::default())),
            (
                &[
                    "--quick", "--only", "w1,W3", "--only", "W5", "--reps", "3", "--keep",
                ],
                Ok(Opts {
                    quick: true,
                    only: strings(&["W1", "W3", "W5"]),
                    reps: Some(3),
                    keep: true,
                    ..Opts::default()
                }),
            ),
            (
                &["--json", "x.json", "--syd", "/s"],
                Ok(Opts {
                    json: Some(PathBuf::from("x.json")),
                    syd: Some(PathBuf::from("/s")),
                    ..Opts::default()
                }),
            ),
            (
                &["--pin", "1"],
                Ok(Opts {
                    pin: Some(1),
                    ..Opts::default()
                }),
            ),
            (&["--pin", "x"], Err("--pin x: not a CPU number below 1024")),
            (
                &["--floor-threads", "4"],
                Ok(Opts {
                    floor_threads: Some(4),
                    ..Opts::default()
                }),
            ),
            (
                &["--floor-threads", "0"],
                Err("--floor-threads 0: not a number from 1 to 64"),
            ),
            (&["--reps", "0"], Err("--reps 0: not a positive number")),
            (&["--reps"], Err("--reps needs a value")),
            (&["--bogus"], Err("unknown argument `--bogus'")),
            (&["--help"], Err("")),
        ];
        for (args, want) in cases {
            let got = parse_opts(&strings(args));
            assert_eq!(got, want.clone().map_err(str::to_string), "args {args:?}");
        }
    }

    #[test]
    fn bpf_bytes() {
        let insn = |code: u16, jt: u8, jf: u8, k: u32| {
            let mut b = code.to_ne_bytes().to_vec();
            b.extend([jt, jf]);
            b.extend(k.to_ne_bytes());
            b
        };
        let mut bytes = insn(0x20, 0, 0, 4);
        bytes.extend(insn(0x06, 1, 2, 0x7fff_0000));
        let prog = parse_bpf(&bytes).unwrap();
        let got: Vec<(u16, u8, u8, u32)> = prog.iter().map(|i| (i.code, i.jt, i.jf, i.k)).collect();
        assert_eq!(got, vec![(0x20, 0, 0, 4), (0x06, 1, 2, 0x7fff_0000)]);
        for bad in [0usize, 7, 9] {
            assert!(parse_bpf(&vec![0u8; bad]).is_err(), "{bad} bytes");
        }
    }

    #[test]
    fn stops() {
        // Raw statuses as waitpid(2) builds them: stopped = (sig << 8) | 0x7f, plus the
        // PTRACE_EVENT in bits 16..24.
        let stopped = |sig: i32, event: i32| (event << 16) | (sig << 8) | 0x7f;
        let cases = [
            (0, None), // exited 0
            (9, None), // killed by SIGKILL
            (
                stopped(libc::SIGTRAP, libc::PTRACE_EVENT_EXIT),
                Some(sys::Stop::Exit),
            ),
            (stopped(libc::SIGSTOP, 128), Some(sys::Stop::Group)),
            (
                stopped(libc::SIGCHLD, 0),
                Some(sys::Stop::Signal(libc::SIGCHLD)),
            ),
        ];
        for (status, want) in cases {
            assert_eq!(sys::classify(status), want, "status {status:#x}");
        }
    }
}
