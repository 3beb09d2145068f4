//! Every option of the manual through the real binary (SPEC §1.3, §1.6, §7.4–§7.6, §8): the
//! process options (`-C -D -E -I -N -B -1 -2 -A -K -U -G`), `-M`, `-a`, `-b`, `-l`, `-h`, `-v`,
//! `--dry-run` and the dump (`-d`), the export (`-e`) with `noexec`, the profiles and their
//! directory, `syd format exec`, and SIGUSR1/SIGUSR2.
#![cfg(target_arch = "x86_64")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
mod fscommon;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{probe_path, syd, Output};
use fscommon::Tree;

const WRITE_DENY: &str = "core/sandbox/write:deny";

/// `syd -m write:deny [opts...] -- sh -c script`.
fn sh(opts: &[&str], script: &str) -> Output {
    let mut args = vec!["-m", WRITE_DENY];
    args.extend_from_slice(opts);
    args.extend_from_slice(&["--", "sh", "-c", script]);
    syd(&args).run()
}

/// `syd [args...]` run from `dir`.
fn syd_at(dir: &Path, args: &[&str]) -> Output {
    let mut r = syd(args);
    r.command().current_dir(dir);
    r.run()
}

// ---------------------------------------------------------------------------------------------
// A minimal JSON reader for the dump records.

/// A JSON value.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(i64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// Parses one JSON text (integers only, as the dump writes). Panics on anything else.
    fn parse(text: &str) -> Json {
        let mut p = JsonParser {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value();
        p.ws();
        assert_eq!(p.i, p.s.len(), "trailing bytes after JSON in {text:?}");
        v
    }

    /// The member `key` of an object.
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value at a path of keys.
    fn at(&self, path: &[&str]) -> &Json {
        path.iter().fold(self, |v, k| {
            v.get(k)
                .unwrap_or_else(|| panic!("no {k:?} in {self:?} (path {path:?})"))
        })
    }

    fn int(&self, path: &[&str]) -> i64 {
        match self.at(path) {
            Json::Num(n) => *n,
            v => panic!("{path:?} is not a number: {v:?}"),
        }
    }

    fn str(&self, path: &[&str]) -> &str {
        match self.at(path) {
            Json::Str(s) => s,
            v => panic!("{path:?} is not a string: {v:?}"),
        }
    }

    /// The record's `event.id`, or `None` for the init record.
    fn event(&self) -> Option<i64> {
        self.get("event").map(|_| self.int(&["event", "id"]))
    }
}

struct JsonParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl JsonParser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) {
        self.ws();
        assert_eq!(
            self.s.get(self.i),
            Some(&c),
            "expected {:?} at {}",
            c as char,
            self.i
        );
        self.i += 1;
    }

    fn value(&mut self) -> Json {
        self.ws();
        match self.s[self.i] {
            b'{' => {
                self.i += 1;
                let mut m = Vec::new();
                self.ws();
                if self.s[self.i] == b'}' {
                    self.i += 1;
                    return Json::Obj(m);
                }
                loop {
                    self.ws();
                    let k = self.string();
                    self.eat(b':');
                    m.push((k, self.value()));
                    self.ws();
                    self.i += 1;
                    match self.s[self.i - 1] {
                        b',' => {}
                        b'}' => return Json::Obj(m),
                        c => panic!("bad byte {:?} in object", c as char),
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut v = Vec::new();
                self.ws();
                if self.s[self.i] == b']' {
                    self.i += 1;
                    return Json::Arr(v);
                }
                loop {
                    v.push(self.value());
                    self.ws();
                    self.i += 1;
                    match self.s[self.i - 1] {
                        b',' => {}
                        b']' => return Json::Arr(v),
                        c => panic!("bad byte {:?} in array", c as char),
                    }
                }
            }
            b'"' => Json::Str(self.string()),
            b'n' => self.word("null", Json::Null),
            b't' => self.word("true", Json::Bool(true)),
            b'f' => self.word("false", Json::Bool(false)),
            _ => {
                let start = self.i;
                while self
                    .s
                    .get(self.i)
                    .is_some_and(|c| *c == b'-' || c.is_ascii_digit())
                {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.i]).unwrap();
                Json::Num(t.parse().unwrap_or_else(|_| panic!("bad number {t:?}")))
            }
        }
    }

    fn word(&mut self, w: &str, v: Json) -> Json {
        assert!(self.s[self.i..].starts_with(w.as_bytes()));
        self.i += w.len();
        v
    }

    fn string(&mut self) -> String {
        assert_eq!(self.s[self.i], b'"');
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let c = self.s[self.i];
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).unwrap(),
                b'\\' => {
                    let e = self.s[self.i];
                    self.i += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'u' => {
                            let h = std::str::from_utf8(&self.s[self.i..self.i + 4]).unwrap();
                            self.i += 4;
                            let ch = char::from_u32(u32::from_str_radix(h, 16).unwrap()).unwrap();
                            out.extend_from_slice(ch.to_string().as_bytes());
                        }
                        _ => panic!("bad escape {:?}", e as char),
                    }
                }
                c if c < 0x20 => panic!("raw control byte in a JSON string"),
                c => out.push(c),
            }
        }
    }
}

/// The records of a dump: every line must be one JSON object; ids count from 0.
fn records(text: &str) -> Vec<Json> {
    let recs: Vec<Json> = text.lines().map(Json::parse).collect();
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(r.int(&["id"]), i as i64, "record ids count up: {text}");
        if i > 0 {
            assert!(r.int(&["ts"]) > 1_600_000_000, "{r:?}");
        }
    }
    recs
}

#[test]
fn json_reader_reads_what_the_dump_writes() {
    let v = Json::parse(r#"{"a":[1,-2,"x\"\u262e"],"b":{"c":null,"d":true}}"#);
    assert_eq!(
        v.at(&["a"]),
        &Json::Arr(vec![
            Json::Num(1),
            Json::Num(-2),
            Json::Str("x\"\u{262e}".into())
        ])
    );
    assert_eq!(v.at(&["b", "c"]), &Json::Null);
    assert_eq!(v.at(&["b", "d"]), &Json::Bool(true));
    assert_eq!(v.event(), None);
    let r = std::panic::catch_unwind(|| Json::parse("{\"a\":1} x"));
    assert!(r.is_err(), "trailing bytes are refused");
}

// ---------------------------------------------------------------------------------------------
// C helpers built with gcc.

/// Compiles `src` with gcc (once per test process) into the tests' temporary directory.
fn cc(name: &str, src: &str, cell: &'static OnceLock<Option<PathBuf>>) -> Option<&'static Path> {
    cell.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        std::fs::create_dir_all(&dir).unwrap();
        let c = dir.join(format!("options-{name}.c"));
        let exe = dir.join(format!("options-{name}"));
        std::fs::write(&c, src).unwrap();
        let ok = std::process::Command::new("gcc")
            .args(["-O1", "-o"])
            .arg(&exe)
            .arg(&c)
            .status()
            .is_ok_and(|s| s.success());
        let _ = std::fs::remove_file(&c);
        ok.then_some(exe)
    })
    .as_deref()
}

/// Loads the BPF program in the file `argv[1]` with no_new_privs and
/// `seccomp(SECCOMP_SET_MODE_FILTER, 0)` (no listener), then executes `argv[2..]`.
const LOADER: &str = r#"
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
static unsigned char buf[8 * 4096 + 8];
int main(int argc, char **argv) {
    if (argc < 3) return 2;
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) { perror("open"); return 2; }
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n <= 0 || n % 8 != 0 || n > 8 * 4096) { fprintf(stderr, "bad size %zd\n", n); return 2; }
    struct sock_fprog prog = { .len = (unsigned short)(n / 8), .filter = (struct sock_filter *)buf };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) { perror("prctl"); return 3; }
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) { perror("seccomp"); return 3; }
    execv(argv[2], argv + 2);
    perror("execv");
    return 4;
}
"#;

/// Calls i386 getpid through `int 0x80` from a 64-bit process and prints `ok <pid>`.
const INT80: &str = r#"
#include <stdio.h>
int main(void) {
    long r;
    __asm__ volatile ("int $0x80" : "=a"(r) : "a"(20L) : "memory");
    printf("ok %ld\n", r);
    return 0;
}
"#;

fn loader() -> Option<&'static Path> {
    static CELL: OnceLock<Option<PathBuf>> = OnceLock::new();
    cc("loader", LOADER, &CELL)
}

fn int80() -> Option<&'static Path> {
    static CELL: OnceLock<Option<PathBuf>> = OnceLock::new();
    cc("int80", INT80, &CELL)
}

// ---------------------------------------------------------------------------------------------
// syd format exec

#[test]
fn format_exec_prints_the_magic_path() {
    let magic = "/dev/sydbox/cmd/exec!echo\u{1f}hello\u{1f}world";
    for args in [
        &["format", "exec", "echo", "hello", "world"][..],
        &["format", "exec", "--", "echo", "hello", "world"],
    ] {
        let out = syd(args).run();
        assert_eq!(out.code(), Some(0), "{out:?}");
        assert_eq!(out.stdout, magic, "no newline at the end: {out:?}");
    }
    // A binary named syd-format takes `exec ...` directly.
    let t = Tree::empty("fmt");
    let link = t.root.join("syd-format");
    std::os::unix::fs::symlink(common::syd_path(), &link).unwrap();
    let out = common::Run::new(&link, &["exec", "true"]).run();
    assert_eq!(out.stdout, "/dev/sydbox/cmd/exec!true", "{out:?}");
    // Usage errors.
    for args in [
        &["format"][..],
        &["format", "exec"],
        &["format", "run", "x"],
    ] {
        let out = syd(args).run();
        assert_eq!(out.code(), Some(1), "{args:?}: {out:?}");
        assert!(out.stderr.contains("usage: syd format exec"), "{out:?}");
        assert_eq!(out.stdout, "");
    }
    // `format` after an option or `--` is a command name.
    for args in [
        &["--", "format", "exec", "x"][..],
        &["-m", WRITE_DENY, "format", "exec"],
    ] {
        let out = syd(args).run();
        assert_eq!(out.code(), Some(1), "{out:?}");
        assert!(out.stderr.contains("can't exec `format'"), "{out:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Process options

#[test]
fn chroot_then_chdir_inside_it() {
    if !common::require_kernel() || !common::skip_unless(common::is_root(), "chroot needs root") {
        return;
    }
    let t = Tree::empty("chroot");
    std::fs::create_dir_all(t.root.join("bin")).unwrap();
    std::fs::create_dir_all(t.root.join("build/sub")).unwrap();
    std::fs::copy(probe_path(), t.root.join("bin/probe")).unwrap();
    let root = t.s();
    let allow = "allowlist/write+/build/***";
    let run = |opts: &[&str], argv: &[&str]| {
        let mut args = vec!["-C", &root, "-m", WRITE_DENY, "-m", allow];
        args.extend_from_slice(opts);
        args.push("--");
        args.extend_from_slice(argv);
        syd(&args).env("PATH", "/bin").run()
    };
    // The command is looked up in PATH inside the root; -D is relative to the root.
    let out = run(
        &["-D", "build"],
        &["probe", "open", "new", "O_WRONLY|O_CREAT", "0600"],
    );
    assert!(out.stdout.starts_with("ok "), "{out:?}");
    assert!(t.root.join("build/new").exists());
    let out = run(
        &["-D", "/build/sub"],
        &["probe", "open", "f", "O_WRONLY|O_CREAT", "0600"],
    );
    assert!(out.stdout.starts_with("ok "), "{out:?}");
    assert!(t.root.join("build/sub/f").exists());
    // Without -D the command starts at the new root.
    let out = run(
        &[],
        &["/bin/probe", "open", "top", "O_WRONLY|O_CREAT", "0600"],
    );
    assert_eq!(out.stdout, "err EPERM\n", "{out:?}");
    assert_eq!(fscommon::contexts(&out.stderr), ["open(`top')"]);
    // A -D that does not exist in the root is fatal.
    let out = run(&["-D", "/nowhere"], &["/bin/probe", "getpid"]);
    assert_eq!(out.code(), Some(1), "{out:?}");
    assert!(out.stderr.contains("chdir failed"), "{out:?}");
    // Read sandboxing confines chdir to the -D directory as the command sees it.
    let out = run(
        &["-D", "/build", "-m", "core/sandbox/read:allow"],
        &["/bin/probe", "chdir", "/bin"],
    );
    assert_eq!(out.stdout, "err EACCES\n", "{out:?}");
    assert_eq!(fscommon::contexts(&out.stderr), ["chdir(`/bin')"]);
    let out = run(
        &["-D", "/build", "-m", "core/sandbox/read:allow"],
        &["/bin/probe", "chdir", "/build/sub"],
    );
    assert_eq!(out.stdout, "ok 0\n", "{out:?}");
}

/// The directories `-D tmp` made for syd's with pid `pid`.
fn tmp_dirs_of(pid: u32) -> Vec<PathBuf> {
    let prefix = format!("syd-2-{}-{pid}-", own_uid());
    std::fs::read_dir("/tmp")
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name().into_string().ok()?;
            name.strip_prefix(&prefix)
                .is_some_and(|r| r.len() == 6 && r.bytes().all(|b| b.is_ascii_alphanumeric()))
                .then(|| e.path())
        })
        .collect()
}

/// The uid of the tests (the owner of /proc/self; the tests do not run set-uid).
fn own_uid() -> u32 {
    std::fs::metadata("/proc/self").map(|m| m.uid()).unwrap()
}

#[test]
fn chdir_tmp_makes_a_private_directory() {
    if !common::require_kernel() {
        return;
    }
    // The command prints its cwd and syd's pid (its parent), then lists the directory.
    let out = sh(&["-D", "tmp"], "pwd; echo $PPID; ls -A; readlink sydbox");
    assert_eq!(out.code(), Some(0), "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    let (cwd, ppid) = (lines[0], lines[1].parse::<u32>().unwrap());
    assert_eq!(&lines[2..], ["sydbox", "/dev/sydbox"], "{out:?}");
    let dirs = tmp_dirs_of(ppid);
    assert_eq!(dirs, [PathBuf::from(cwd)], "{out:?}");
    let meta = std::fs::metadata(cwd).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o700);
    assert_eq!(meta.uid(), own_uid());
    // Not removed at exit.
    assert!(Path::new(cwd).is_dir());
    let _ = std::fs::remove_dir_all(cwd);

    // With read sandboxing, the command may not leave it.
    let out = sh(
        &[
            "-D",
            "tmp",
            "-m",
            "core/sandbox/read:allow",
            "-m",
            "core/sandbox/write:allow",
        ],
        "mkdir d && cd d && cd .. && echo in; cd / || echo out; echo $PPID",
    );
    let ppid = out.stdout.lines().nth(2).unwrap().parse::<u32>().unwrap();
    for d in tmp_dirs_of(ppid) {
        let _ = std::fs::remove_dir_all(d);
    }
    assert_eq!(out.stdout, format!("in\nout\n{ppid}\n"), "{out:?}");
    assert_eq!(fscommon::contexts(&out.stderr), ["chdir(`/')"]);
    // Without it, chdir is free.
    let out = sh(&["-D", "tmp"], "cd / && pwd; echo $PPID");
    assert!(out.stdout.starts_with("/\n"), "{out:?}");
    let ppid = out.stdout.lines().nth(1).unwrap().parse::<u32>().unwrap();
    for d in tmp_dirs_of(ppid) {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn chdir_confinement_compares_canonical_paths() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::empty("chdir");
    std::fs::create_dir_all(t.root.join("real/sub")).unwrap();
    std::fs::create_dir_all(t.root.join("other")).unwrap();
    std::os::unix::fs::symlink("real", t.root.join("link")).unwrap();
    let script = format!(
        "pwd; cd sub && echo rel; cd {0}/real/sub && echo abs; cd {0}/link && echo link; \
         cd {0}/other && echo escaped",
        t.s()
    );
    let out = syd_at(
        &t.root,
        &[
            "-m",
            "core/sandbox/read:allow",
            "-D",
            "link",
            "--",
            "sh",
            "-c",
            &script,
        ],
    );
    let want = format!("{}/real\nrel\nabs\nlink\n", t.s());
    assert_eq!(out.stdout, want, "{out:?}");
    assert_eq!(
        fscommon::contexts(&out.stderr),
        [format!("chdir(`{}/other')", t.s())]
    );
}

#[test]
fn env_sets_and_unsets() {
    if !common::require_kernel() {
        return;
    }
    let out = syd(&[
        "-m",
        WRITE_DENY,
        "-E",
        "A=1",
        "-E",
        "B",
        "-E",
        "C=x=y",
        "--",
        "sh",
        "-c",
        "echo \"${A-unset} ${B-unset} ${C-unset} $SYDBOX_API_VERSION\"",
    ])
    .env("B", "was set")
    .run();
    assert_eq!(out.stdout, "1 unset x=y 2\n", "{out:?}");
    // -E affects the lookup of the command in PATH.
    let out = syd(&["-m", WRITE_DENY, "-E", "PATH=/nonexistent", "--", "true"]).run();
    assert_eq!(out.code(), Some(1), "{out:?}");
    assert!(out.stderr.contains("can't exec `true'"), "{out:?}");
}

#[test]
fn ionice_sets_the_io_priority() {
    if !common::require_kernel()
        || !common::skip_unless(
            std::process::Command::new("ionice")
                .arg("-p")
                .arg(std::process::id().to_string())
                .output()
                .is_ok_and(|o| o.status.success()),
            "ionice(1) is not available",
        )
    {
        return;
    }
    let mut cases = vec![
        ("3", "idle"),
        ("2:5", "best-effort: prio 5"),
        ("2", "best-effort: prio 0"),
    ];
    if common::is_root() {
        cases.push(("1:4", "realtime: prio 4"));
    }
    for (arg, want) in cases {
        let out = sh(&["-I", arg], "ionice -p $$");
        assert_eq!(out.stdout.trim(), want, "-I {arg}: {out:?}");
        assert_eq!(out.code(), Some(0));
    }
}

/// The niceness of the calling process (field 19 of /proc/self/stat).
fn own_nice() -> i32 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    after.split(' ').nth(16).unwrap().parse().unwrap()
}

#[test]
fn nice_adds_to_the_niceness() {
    if !common::require_kernel() {
        return;
    }
    let base = own_nice();
    let out = sh(&["-N", "5"], "nice");
    assert_eq!(out.stdout.trim(), (base + 5).min(19).to_string(), "{out:?}");
    // Lowering it without privilege: a warning, and the command still runs.
    let out = syd(&["-m", WRITE_DENY, "-N", "-5", "--", "sh", "-c", "nice"])
        .unprivileged()
        .run();
    if common::is_root() {
        assert!(out.stderr.contains("nice failed, continuing"), "{out:?}");
        assert_eq!(out.stdout.trim(), base.to_string(), "{out:?}");
    }
    assert_eq!(out.code(), Some(0), "{out:?}");
}

#[test]
fn background_and_log_files() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::empty("bg");
    let (o, e) = (t.p("out.log"), t.p("err.log"));
    std::fs::write(&o, "before\n").unwrap();
    // -B: stdin is /dev/null, the command has its own session, output goes to the files
    // (appended).
    let script = "cat; echo out; echo err >&2; sid=$(cut -d' ' -f6 /proc/$$/stat); \
                  [ \"$sid\" = $$ ] && echo own-session";
    let out = syd(&[
        "-m", WRITE_DENY, "-B", "-1", &o, "-2", &e, "--", "sh", "-c", script,
    ])
    .stdin(b"stdin data\n")
    .run();
    assert_eq!(out.code(), Some(0), "{out:?}");
    assert_eq!(out.stdout, "", "{out:?}");
    assert_eq!(
        std::fs::read_to_string(&o).unwrap(),
        "before\nout\nown-session\n"
    );
    assert_eq!(std::fs::read_to_string(&e).unwrap(), "err\n");
    let mode = std::fs::metadata(&e).unwrap().mode() & 0o777;
    assert_eq!(
        mode & !0o660,
        0,
        "created with mode 0660 less the umask: {mode:o}"
    );
    // -B alone: everything to /dev/null.
    let out = sh(&["-B"], "echo out; echo err >&2");
    assert_eq!((out.stdout.as_str(), out.code()), ("", Some(0)), "{out:?}");
    assert!(!out.stderr.contains("err"), "{out:?}");
    // -1/-2 without -B: redirected, stdin kept.
    let o2 = t.p("o2.log");
    let out = syd(&[
        "-m",
        WRITE_DENY,
        "-1",
        &o2,
        "--",
        "sh",
        "-c",
        "cat; echo err >&2",
    ])
    .stdin(b"piped\n")
    .run();
    assert_eq!(std::fs::read_to_string(&o2).unwrap(), "piped\n", "{out:?}");
    assert_eq!(out.stderr, "err\n");
    // A log file that cannot be opened is fatal.
    let out = sh(&["-1", "/nonexistent/dir/log"], "echo never");
    assert_eq!(out.code(), Some(1), "{out:?}");
    assert!(
        out.stderr.contains("redirect standard streams failed"),
        "{out:?}"
    );
}

#[test]
fn startas_umask() {
    if !common::require_kernel() {
        return;
    }
    let out = sh(&["-A", "renamed"], "echo $0");
    assert_eq!(out.stdout, "renamed\n", "{out:?}");
    // The program is still the one found for the command word.
    let out = syd(&[
        "-m",
        WRITE_DENY,
        "-A",
        "other",
        "--",
        probe_path(),
        "getpid",
    ])
    .run();
    assert!(out.stdout.starts_with("ok "), "{out:?}");
    for (k, want) in [("027", "0027"), ("0", "0000"), ("777", "0777")] {
        let out = sh(&["-K", k], "umask");
        assert_eq!(out.stdout.trim(), want, "-K {k}: {out:?}");
    }
}

#[test]
fn uid_gid_drop_and_pin_the_identity() {
    if !common::require_kernel() || !common::skip_unless(common::is_root(), "-U/-G need root") {
        return;
    }
    let n = common::NOBODY.to_string();
    let out = sh(&["-U", &n, "-G", &n], "id -u; id -g; id -G");
    assert_eq!(out.stdout, format!("{n}\n{n}\n{n}\n"), "{out:?}");
    // Identity restriction: without -U/-G the threshold applies (uid <= 11, gid <= 14 refused
    // with EINVAL); with them the ids are pinned (anything else refused with EPERM).
    let p = probe_path();
    let run = |opts: &[&str], argv: &[&str]| {
        let mut args = vec!["-m", WRITE_DENY];
        args.extend_from_slice(opts);
        args.push("--");
        args.push(p);
        args.extend_from_slice(argv);
        syd(&args).run().stdout
    };
    assert_eq!(run(&[], &["setuid", "5"]), "err EINVAL\n");
    assert_eq!(run(&[], &["setuid", "1000"]), "ok 0\n");
    assert_eq!(run(&[], &["setgid", "14"]), "err EINVAL\n");
    assert_eq!(
        run(&["-U", "0", "-G", "0"], &["setuid", "1000"]),
        "err EPERM\n"
    );
    assert_eq!(run(&["-U", "0", "-G", "0"], &["setuid", "0"]), "ok 0\n");
    assert_eq!(
        run(&["-U", "0", "-G", "0"], &["setgid", "1000"]),
        "err EPERM\n"
    );
    assert_eq!(run(&["-G", "0"], &["setuid", "1000"]), "ok 0\n");
    assert_eq!(run(&["-U", &n, "-G", &n], &["setuid", &n]), "ok 0\n");
}

#[test]
fn memory_access_modes() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::empty("mem");
    let f = t.p("f");
    for m in ["0", "1", "2", "3"] {
        // Reading the path from memory: the denial names it.
        let out = syd(&[
            "-M",
            m,
            "-m",
            WRITE_DENY,
            "--",
            probe_path(),
            "open",
            &f,
            "O_WRONLY|O_CREAT",
        ])
        .run();
        assert_eq!(out.stdout, "err EPERM\n", "-M {m}: {out:?}");
        assert_eq!(
            fscommon::contexts(&out.stderr),
            [format!("open(`{f}')")],
            "-M {m}"
        );
        // Writing to memory: the magic stat buffer.
        let out = syd(&[
            "-M",
            m,
            "-m",
            WRITE_DENY,
            "--",
            probe_path(),
            "stat",
            "/dev/sydbox",
        ])
        .run();
        assert!(
            out.stdout.starts_with("ok 0 mode=0o20666"),
            "-M {m}: {out:?}"
        );
        // The same through the setting.
        let set = format!("core/trace/memory_access:{m}");
        let out = syd(&[
            "-m",
            &set,
            "-m",
            WRITE_DENY,
            "--",
            probe_path(),
            "open",
            &f,
            "O_WRONLY|O_CREAT",
        ])
        .run();
        assert_eq!(out.stdout, "err EPERM\n", "{set}: {out:?}");
    }
    assert!(!Path::new(&f).exists());
}

#[test]
fn arch_selects_the_filtered_abis() {
    if !common::require_kernel() {
        return;
    }
    let Some(int80) = int80() else {
        common::skip_unless(false, "gcc cannot build the int 0x80 helper");
        return;
    };
    let int80 = int80.to_str().unwrap();
    let run = |arches: &[&str]| {
        let mut args = vec!["-m", WRITE_DENY];
        for a in arches {
            args.extend_from_slice(&["-a", a]);
        }
        args.extend_from_slice(&["--", int80]);
        syd(&args).run()
    };
    for arches in [
        &[][..],
        &["x86_64", "x86"],
        &["native", "x86"],
        &["x86", "x86_64", "x32"],
    ] {
        let out = run(arches);
        assert!(out.stdout.starts_with("ok "), "{arches:?}: {out:?}");
        assert_eq!(out.code(), Some(0));
    }
    // An i386 call without the x86 filter kills the caller (SIGSYS).
    for arches in [&["x86_64"][..], &["native"], &["native", "x32"]] {
        let out = run(arches);
        assert_eq!(out.stdout, "", "{arches:?}: {out:?}");
        assert_eq!(out.code(), Some(128 + libc::SIGSYS), "{arches:?}: {out:?}");
    }
    // ABIs this host cannot run are refused with a warning and ignored.
    let out = run(&["mips", "x86_64"]);
    assert!(
        out.stderr
            .contains("architecture `mips' is unknown or not supported"),
        "{out:?}"
    );
    assert_eq!(out.code(), Some(128 + libc::SIGSYS), "{out:?}");
    let out = run(&["nonsense"]);
    assert!(out.stderr.contains("`nonsense'"), "{out:?}");
    assert!(
        out.stdout.starts_with("ok "),
        "no ABI left: the default set: {out:?}"
    );
    // The dump's init record lists the ABIs.
    let out = syd(&[
        "-a", "x86_64", "-a", "x32", "-d", "1", "-m", WRITE_DENY, "--", "true",
    ])
    .run();
    let first = Json::parse(out.stdout.lines().next().unwrap());
    assert_eq!(
        first.at(&["arch"]),
        &Json::Arr(vec![Json::Str("x86_64".into()), Json::Str("x32".into())])
    );
}

#[test]
fn bpf_only_denies_in_the_kernel() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::empty("bpf");
    let x = t.p("x");
    for opt in ["-b", "--bpf-only", "--bpf"] {
        let script = format!("echo > {x}; echo $?; cat {x}; true");
        let out = syd(&[opt, "-d", "1", "-m", WRITE_DENY, "--", "sh", "-c", &script]).run();
        assert!(
            out.stderr.contains("Operation not permitted"),
            "{opt}: {out:?}"
        );
        assert!(
            !out.stderr.contains("Access Violation"),
            "{opt}: no report: {out:?}"
        );
        assert!(!Path::new(&x).exists());
        // No violation record either: init, startup, output, exit.
        let recs: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with('{')).collect();
        let recs = records(&recs.join("\n"));
        let events: Vec<Option<i64>> = recs.iter().map(Json::event).collect();
        assert_eq!(events, [None, Some(7), Some(9)], "{out:?}");
        assert_eq!(out.code(), Some(0));
    }
    // Read opens still work, and the probe sees EPERM from the kernel.
    let out = syd(&[
        "-b",
        "-m",
        WRITE_DENY,
        "--",
        probe_path(),
        "open",
        &x,
        "O_WRONLY|O_CREAT",
    ])
    .run();
    assert_eq!(out.stdout, "err EPERM\n", "{out:?}");
    let out = syd(&[
        "-b",
        "-m",
        WRITE_DENY,
        "--",
        probe_path(),
        "open",
        "/etc/passwd",
        "O_RDONLY",
    ])
    .run();
    assert!(out.stdout.starts_with("ok "), "{out:?}");
}

#[test]
fn lock_help_version() {
    if !common::require_kernel() {
        return;
    }
    let script = "test -e /dev/sydbox/core/sandbox/write:off; echo > /dev/null/x 2>&1; \
                  touch ./x 2>/dev/null && echo wrote; test -e /dev/sydbox && echo magic";
    let t = Tree::empty("lock");
    let unlocked = syd_at(&t.root, &["-m", WRITE_DENY, "--", "sh", "-c", script]);
    assert_eq!(unlocked.stdout, "wrote\nmagic\n", "{unlocked:?}");
    let _ = std::fs::remove_file(t.root.join("x"));
    let locked = syd_at(&t.root, &["-l", "-m", WRITE_DENY, "--", "sh", "-c", script]);
    assert_eq!(locked.stdout, "", "{locked:?}");
    assert!(!t.root.join("x").exists());

    let out = syd(&["-h"]).run();
    assert_eq!(out.code(), Some(0));
    assert!(out.stdout.starts_with("usage: syd "), "{out:?}");
    assert!(out.stdout.contains("syd format exec"), "{out:?}");
    let out = syd(&["--version"]).run();
    assert_eq!(out.code(), Some(0));
    assert!(out.stdout.starts_with("sydbox-2.2.0"), "{out:?}");
    // Options after -h are not processed.
    let out = syd(&["-v", "--no-such-option"]).run();
    assert_eq!(out.code(), Some(0), "{out:?}");
}

// ---------------------------------------------------------------------------------------------
// Dry run and dump

/// The path `-d tmp` announced: ``sydbox: <verb> core `<path>' for inspection.``
fn announced(stderr: &str, verb: &str) -> Option<String> {
    let head = format!("sydbox: {verb} core `");
    stderr.lines().find_map(|l| {
        l.strip_prefix(&head)?
            .strip_suffix("' for inspection.")
            .map(str::to_owned)
    })
}

#[test]
fn dry_run_with_dump_tmp_records_the_violation() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::empty("dump");
    let f = t.p("denied");
    let script = format!("echo data > {f} && echo wrote; exit 3");
    let out = syd(&[
        "--dry-run",
        "-d",
        "tmp",
        "-m",
        WRITE_DENY,
        "--",
        "sh",
        "-c",
        &script,
    ])
    .env_remove("SHOEBOX")
    .run();
    // Nothing denied: the command finishes normally.
    assert_eq!(out.stdout, "wrote\n", "{out:?}");
    assert_eq!(out.code(), Some(3), "{out:?}");
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "data\n");
    // The violation is still reported.
    assert_eq!(fscommon::contexts(&out.stderr), [format!("openat(`{f}')")]);
    let start = announced(&out.stderr, "dumping").expect("announced at start");
    let end = announced(&out.stderr, "dumped").expect("announced at exit");
    assert_eq!(start, end);
    assert!(out.stderr.starts_with("sydbox: dumping core"), "{out:?}");
    assert!(
        out.stderr.trim_end().ends_with("for inspection."),
        "{out:?}"
    );
    let path = PathBuf::from(&start);
    assert_eq!(path.file_name().unwrap(), "sydcore");
    let dir = path.parent().unwrap();
    let name = dir.file_name().unwrap().to_str().unwrap();
    assert!(dir.starts_with("/tmp") && name.starts_with("sydbox-") && name.len() == 13);
    assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_dir_all(dir);

    let recs = records(&text);
    let events: Vec<Option<i64>> = recs.iter().map(Json::event).collect();
    assert_eq!(events, [None, Some(7), Some(15), Some(9)], "{text}");
    let (init, startup, oops, exit) = (&recs[0], &recs[1], &recs[2], &recs[3]);
    assert_eq!(init.int(&["syd"]), 2);
    assert_eq!(init.str(&["cmd", "name"]), "sh");
    assert!(init.str(&["cmd", "path"]).ends_with("/sh"), "{text}");
    assert_eq!(init.str(&["cmd", "as"]), "");
    assert_eq!(startup.str(&["event", "name"]), "startup");
    assert_eq!(startup.str(&["cmd"]), format!("sh -c {script}"));
    let pid = startup.int(&["pid"]);
    assert_eq!(oops.str(&["event", "name"]), "\u{262e}\u{262e}ps");
    assert_eq!(oops.int(&["pid"]), pid);
    assert_eq!(oops.int(&["tgid"]), pid);
    assert_eq!(oops.str(&["sys"]), "openat");
    assert_eq!(oops.str(&["syd"]), format!("openat(`{f}')"));
    assert_eq!(oops.str(&["comm"]), "sh");
    assert_eq!(oops.str(&["cmd"]), format!("sh -c {script}"));
    assert_eq!(
        oops.str(&["cwd"]),
        std::env::current_dir().unwrap().to_str().unwrap()
    );
    assert_eq!(oops.str(&["proc", "cwd"]), oops.str(&["cwd"]));
    assert_eq!(oops.int(&["proc", "tgid"]), pid);
    assert!(oops.int(&["ppid"]) > 0);
    assert_eq!(oops.int(&["proc", "ppid"]), oops.int(&["ppid"]));
    assert_eq!(exit.int(&["pid"]), pid);
    assert_eq!(exit.int(&["code"]), 3);
    assert!(exit.int(&["proc", "total"]) >= 1);

    // The exit_code rules still apply in a dry run: a violation with exit_code 0 gives 128 + 3.
    let out = syd(&[
        "--dry-run",
        "-m",
        WRITE_DENY,
        "-m",
        "core/violation/exit_code:0",
        "--",
        "sh",
        "-c",
        &script,
    ])
    .run();
    assert_eq!(
        (out.stdout.as_str(), out.code()),
        ("wrote\n", Some(131)),
        "{out:?}"
    );
}

#[test]
fn dump_targets_and_records() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::empty("dumpto");
    // SHOEBOX names the -d tmp file.
    let shoebox = t.p("shoebox.json");
    let out = sh(
        &["-d", "tmp", "-E", &format!("SHOEBOX={shoebox}")],
        "exit 4",
    );
    assert_eq!(out.code(), Some(4), "{out:?}");
    assert_eq!(
        announced(&out.stderr, "dumping").as_deref(),
        Some(shoebox.as_str())
    );
    assert_eq!(
        announced(&out.stderr, "dumped").as_deref(),
        Some(shoebox.as_str())
    );
    let recs = records(&std::fs::read_to_string(&shoebox).unwrap());
    assert_eq!(recs.last().unwrap().int(&["code"]), 4);

    // A path: created 0600, appended to; a kill decision writes a kill record.
    let file = t.p("dump.json");
    std::fs::write(&file, "").unwrap();
    let script = format!("echo > {}/x", t.s());
    let out = sh(
        &["-d", &file, "-m", "core/violation/decision:kill"],
        &script,
    );
    assert_eq!(out.code(), Some(128 + 9), "{out:?}");
    let recs = records(&std::fs::read_to_string(&file).unwrap());
    let events: Vec<Option<i64>> = recs.iter().map(Json::event).collect();
    assert_eq!(
        events,
        [None, Some(7), Some(15), Some(19), Some(9)],
        "{recs:?}"
    );
    let pid = recs[1].int(&["pid"]);
    assert_eq!(recs[3].int(&["pid"]), pid);
    assert_eq!(recs[3].str(&["comm"]), "sh");
    assert_eq!(recs[3].int(&["sig"]), 9);
    assert_eq!(recs[4].int(&["code"]), 137);
    // A path that cannot be opened is fatal.
    let out = sh(&["-d", "/nonexistent/dir/dump"], "echo never");
    assert_eq!((out.stdout.as_str(), out.code()), ("", Some(1)), "{out:?}");
    // A symbolic link is refused.
    let link = t.p("link.json");
    std::os::unix::fs::symlink(&file, &link).unwrap();
    let out = sh(&["-d", &link], "echo never");
    assert_eq!(out.code(), Some(1), "{out:?}");

    // A descriptor that is not open is fatal.
    let out = sh(&["-d", "77"], "echo never");
    assert_eq!((out.stdout.as_str(), out.code()), ("", Some(1)), "{out:?}");
    assert!(
        out.stderr.contains("cannot dump to descriptor 77"),
        "{out:?}"
    );
    // A descriptor by number: standard output here, with noexec.
    let out = syd(&["-d", "1", "-m", WRITE_DENY, "noexec"]).run();
    let recs = records(&out.stdout);
    assert_eq!(recs[0].str(&["cmd", "name"]), "noexec");
    assert_eq!(recs[0].str(&["cmd", "hash"]), "<noexec>");
    assert_eq!(recs.last().unwrap().int(&["code"]), 0);
    // -A is the init record's "as".
    let out = syd(&["-d", "1", "-A", "alias", "-m", WRITE_DENY, "--", "true"]).run();
    let recs = records(&out.stdout);
    assert_eq!(recs[0].str(&["cmd", "as"]), "alias");
    assert_eq!(recs[1].str(&["cmd"]), "alias");
}

// ---------------------------------------------------------------------------------------------
// Export and noexec

#[test]
fn export_bpf_runs_in_an_independent_loader() {
    if !common::require_kernel() {
        return;
    }
    let Some(loader) = loader() else {
        common::skip_unless(false, "gcc cannot build the filter loader");
        return;
    };
    let t = Tree::empty("export");
    let prog = t.p("filter.bpf");
    let spec = format!("bpf:{prog}");
    let out = syd(&[
        "-b", "-a", "x86_64", "-m", WRITE_DENY, "-e", &spec, "noexec",
    ])
    .run();
    assert_eq!(out.code(), Some(0), "{out:?}");
    let bytes = std::fs::read(&prog).unwrap();
    assert!(
        !bytes.is_empty() && bytes.len().is_multiple_of(8),
        "{} bytes",
        bytes.len()
    );
    assert_eq!(std::fs::metadata(&prog).unwrap().mode() & 0o777, 0o600);
    // The last instruction returns (BPF_RET).
    assert_eq!(bytes[bytes.len() - 8] & 0x07, 0x06);

    std::fs::write(t.p("file"), "x").unwrap();
    let file = t.p("file");
    let run = |argv: &[&str]| {
        let mut args = vec![prog.as_str(), probe_path()];
        args.extend_from_slice(argv);
        common::Run::new(loader, &args).run()
    };
    let out = run(&["open", &file, "O_WRONLY"]);
    assert_eq!(out.stdout, "err EPERM\n", "{out:?}");
    let out = run(&["open", &file, "O_RDONLY"]);
    assert!(out.stdout.starts_with("ok "), "{out:?}");
    let out = run(&["openat", "AT_FDCWD", &file, "O_RDWR"]);
    assert_eq!(out.stdout, "err EPERM\n", "{out:?}");
    let out = run(&["mount", "none", &t.s(), "tmpfs"]);
    assert_eq!(out.stdout, "err ECANCELED\n", "{out:?}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");

    // The bpf export refuses to overwrite a file: a warning, and the command still runs.
    let out = syd(&["-b", "-m", WRITE_DENY, "-e", &spec, "--", "true"]).run();
    assert_eq!(out.code(), Some(0), "{out:?}");
    assert!(out.stderr.contains("export failed, continuing"), "{out:?}");
    assert_eq!(std::fs::read(&prog).unwrap(), bytes);
    // A relative file name is relative to the -D directory.
    let out = syd(&[
        "-b",
        "-m",
        WRITE_DENY,
        "-D",
        &t.s(),
        "-e",
        "bpf:rel.bpf",
        "noexec",
    ])
    .run();
    assert_eq!(out.code(), Some(0), "{out:?}");
    assert!(t.root.join("rel.bpf").exists());
}

/// Whether `text` has the line `a` immediately followed by the line `b`.
fn has_pair(text: &str, a: &str, b: &str) -> bool {
    let lines: Vec<&str> = text.lines().collect();
    lines.windows(2).any(|w| w[0] == a && w[1] == b)
}

#[test]
fn export_pfc_has_the_required_lines() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::empty("pfc");
    for (level, default) in [
        ("0", "action ALLOW;"),
        ("1", "action ERRNO(1);"),
        ("2", "action ERRNO(1);"),
        ("3", "action ERRNO(1);"),
    ] {
        let set = format!("core/restrict/general:{level}");
        // To standard error (`pfc` and `pfc:` alike), and to a file.
        for spec in ["pfc", "pfc:"] {
            let out = syd(&["-m", &set, "-m", WRITE_DENY, "-e", spec, "noexec"]).run();
            assert_eq!(out.code(), Some(0), "{out:?}");
            let text = out.stderr;
            assert!(text.starts_with("# pseudo filter code start\n"), "{text}");
            assert!(text.ends_with("# pseudo filter code end\n"), "{text}");
            assert!(has_pair(
                &text,
                "# invalid architecture action",
                "action KILL;"
            ));
            assert!(
                has_pair(&text, "# default action", default),
                "level {level}: {text}"
            );
        }
        let file = t.p(&format!("level{level}.pfc"));
        let spec = format!("pfc:{file}");
        let out = syd(&["-m", &set, "-m", WRITE_DENY, "-e", &spec, "noexec"]).run();
        assert_eq!((out.code(), out.stderr.as_str()), (Some(0), ""), "{out:?}");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(has_pair(&text, "# default action", default), "{text}");
    }
}

#[test]
fn noexec_exit_status() {
    if !common::require_kernel() {
        return;
    }
    let run = |env: Option<&str>, opts: &[&str]| {
        let mut args = vec!["-m", WRITE_DENY];
        args.extend_from_slice(opts);
        args.push("noexec");
        let r = syd(&args);
        let r = match env {
            Some(v) => r.env("SYDBOX_NOEXEC", v),
            None => r.env_remove("SYDBOX_NOEXEC"),
        };
        r.run()
    };
    for (env, want) in [
        (None, 0),
        (Some("7"), 7),
        (Some("300"), 44),
        (Some("-5"), 251),
        (Some("12abc"), 12),
        (Some("abc"), 0),
        (Some(""), 0),
    ] {
        let out = run(env, &[]);
        assert_eq!(out.code(), Some(want), "SYDBOX_NOEXEC={env:?}: {out:?}");
        assert_eq!(out.stdout, "");
    }
    let out = run(Some("1"), &["-E", "SYDBOX_NOEXEC=9"]);
    assert_eq!(out.code(), Some(9), "{out:?}");
}

// ---------------------------------------------------------------------------------------------
// Profiles

#[test]
fn profile_files_take_precedence_over_the_built_in_ones() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::empty("share");
    let dir = t.root.join("share/sydbox");
    std::fs::create_dir_all(&dir).unwrap();
    let target = t.p("written");
    let script = format!("echo > {target} && echo wrote");
    let run = |opts: &[&str]| {
        let mut args = opts.to_vec();
        args.extend_from_slice(&["--", "sh", "-c", &script]);
        let out = syd(&args).env("SYD_SHAREDIR", &t.p("share")).run();
        let _ = std::fs::remove_file(&target);
        out
    };
    // No file: the built-in profiles (paludis allows /tmp).
    for opts in [
        &["-c", "@paludis"][..],
        &["--profile", "paludis"],
        &["-c", "@paludis.syd-2"],
    ] {
        let out = run(opts);
        assert_eq!(out.stdout, "wrote\n", "{opts:?}: {out:?}");
    }
    // A file there wins.
    std::fs::write(dir.join("paludis.syd-2"), "core/sandbox/write:deny\n").unwrap();
    for opts in [&["-c", "@paludis"][..], &["--profile", "paludis"]] {
        let out = run(opts);
        assert_eq!(out.stdout, "", "{opts:?}: {out:?}");
        assert_eq!(
            fscommon::contexts(&out.stderr),
            [format!("openat(`{target}')")]
        );
    }
    // Any other name needs its file.
    let out = run(&["-c", "@mine"]);
    assert_eq!(out.code(), Some(1), "{out:?}");
    assert!(out.stderr.contains("/share/sydbox/mine.syd-2"), "{out:?}");
    std::fs::write(dir.join("mine.syd-2"), "core/sandbox/write:deny\n").unwrap();
    let out = run(&["-c", "@mine"]);
    assert_eq!(out.stdout, "", "{out:?}");
    // An empty SYD_SHAREDIR means the compiled-in directory.
    let out = syd(&["-c", "@paludis", "--", "sh", "-c", &script])
        .env("SYD_SHAREDIR", "")
        .run();
    let builtin_or_system = out.stdout == "wrote\n" || Path::new("/usr/share/sydbox").exists();
    assert!(builtin_or_system, "{out:?}");
    let _ = std::fs::remove_file(&target);
}

// ---------------------------------------------------------------------------------------------
// Signals

#[test]
fn sigusr_prints_the_task_table_and_does_not_kill_syd() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::empty("usr");
    let started = t.p("started");
    let script = format!("touch {started}; sleep 1; echo done");
    let mut cmd = std::process::Command::new(common::syd_path());
    let opts = [
        "-d",
        "2",
        "-m",
        "core/sandbox/read:allow",
        "-m",
        "core/sandbox/write:allow",
    ];
    cmd.args(opts)
        .args(["--", "sh", "-c", &script])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !Path::new(&started).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    for sig in [libc::SIGUSR1, libc::SIGUSR2] {
        // SAFETY: kill(2) takes two integers; the child is not reaped yet.
        #[allow(unsafe_code)]
        let r = unsafe { libc::kill(child.id() as i32, sig) };
        assert_eq!(r, 0);
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "done\n");
    let tables = stderr
        .lines()
        .filter(|l| l.starts_with("sydbox: Tracing "))
        .count();
    assert_eq!(tables, 2, "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("sydbox: -- pid=") && l.contains("comm=`sh'")),
        "{stderr}"
    );
    let intr: Vec<i64> = stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(Json::parse)
        .filter(|r| r.event() == Some(4))
        .map(|r| r.int(&["sig"]))
        .collect();
    assert_eq!(
        intr,
        [i64::from(libc::SIGUSR1), i64::from(libc::SIGUSR2)],
        "{stderr}"
    );
}
