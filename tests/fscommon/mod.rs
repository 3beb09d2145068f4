//! Helpers of the file system sandboxing tests: a fresh directory tree per case, runs of
//! `syd-test-probe` under `syd` with magic commands, violation reports parsed from standard
//! error, and table-driven cases that collect every mismatch before failing.
// Each test crate uses its own subset of these helpers.
#![allow(dead_code)]

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::{self, Output, Run};

/// A fresh directory under the system's temporary directory, removed on drop.
pub struct Tree {
    /// Its absolute path.
    pub root: PathBuf,
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

impl Tree {
    /// An empty directory whose name holds `tag`, the test process id and a sequence number.
    pub fn empty(tag: &str) -> Tree {
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let root = std::env::temp_dir().join(format!("syd-fs-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
        Tree { root }
    }

    /// The standard layout: `ok/` and `no/`, each holding `file` (with the extended attribute
    /// `user.a`), an empty `dir/`, a non-empty `full/` (with `x`), `link` -> `file`,
    /// `dangling` -> `missing` and `fifo`; plus `ok/link_to_no` -> `../no/file`,
    /// `no/link_to_ok` -> `../ok/file`, `ok/dirlink_to_no` -> `../no`.
    pub fn new(tag: &str) -> Tree {
        let t = Tree::empty(tag);
        for side in ["ok", "no"] {
            let d = t.root.join(side);
            std::fs::create_dir(&d).unwrap();
            std::fs::write(d.join("file"), "data\n").unwrap();
            let _ = set_xattr(&d.join("file"), "user.a", "v");
            std::fs::create_dir(d.join("dir")).unwrap();
            std::fs::create_dir(d.join("full")).unwrap();
            std::fs::write(d.join("full/x"), "").unwrap();
            symlink("file", d.join("link")).unwrap();
            symlink("missing", d.join("dangling")).unwrap();
        }
        symlink("../no/file", t.root.join("ok/link_to_no")).unwrap();
        symlink("../ok/file", t.root.join("no/link_to_ok")).unwrap();
        symlink("../no", t.root.join("ok/dirlink_to_no")).unwrap();
        t
    }

    /// Adds `ok/probe` and `no/probe` (hard links to, or copies of, `syd-test-probe`) and
    /// `ok/probe_link_to_no` -> `../no/probe`, for exec tests.
    pub fn add_probes(&self) {
        for side in ["ok", "no"] {
            let dst = self.root.join(side).join("probe");
            if std::fs::hard_link(common::probe_path(), &dst).is_err() {
                std::fs::copy(common::probe_path(), &dst).unwrap();
            }
        }
        symlink("../no/probe", self.root.join("ok/probe_link_to_no")).unwrap();
    }

    /// The tree's path as text.
    pub fn s(&self) -> String {
        self.root.to_str().unwrap().to_owned()
    }

    /// `rel` inside the tree, as text.
    pub fn p(&self, rel: &str) -> String {
        self.root.join(rel).to_str().unwrap().to_owned()
    }

    /// `text` with every `{T}` replaced by the tree's path and every `{P}` by the probe's.
    pub fn subst(&self, text: &str) -> String {
        text.replace("{T}", &self.s())
            .replace("{P}", common::probe_path())
    }

    /// Makes the whole tree owned by `uid`:`gid` (for runs as an ordinary user).
    pub fn chown_all(&self, uid: u32, gid: u32) {
        fn walk(p: &Path, uid: u32, gid: u32) {
            let _ = std::os::unix::fs::lchown(p, Some(uid), Some(gid));
            if p.is_dir() && !p.is_symlink() {
                for e in std::fs::read_dir(p).unwrap() {
                    walk(&e.unwrap().path(), uid, gid);
                }
            }
        }
        walk(&self.root, uid, gid);
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Sets an extended attribute with the `setfattr`-free raw call (through the probe).
fn set_xattr(path: &Path, name: &str, value: &str) -> bool {
    common::probe(&["setxattr", path.to_str().unwrap(), name, value])
        .run()
        .stdout
        .starts_with("ok")
}

/// The `syd` arguments `-m M` for each magic command.
pub fn magic_args(magic: &[String]) -> Vec<String> {
    magic
        .iter()
        .flat_map(|m| ["-m".to_owned(), m.clone()])
        .collect()
}

/// Runs `syd [opts] -m M... -- cmd...` from the directory `cwd`.
pub fn syd_in(cwd: &Path, opts: &[String], magic: &[String], cmd: &[String]) -> Output {
    let mut args: Vec<String> = opts.to_vec();
    args.extend(magic_args(magic));
    args.push("--".to_owned());
    args.extend(cmd.iter().cloned());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut r = common::syd(&refs);
    r.command().current_dir(cwd);
    r.run()
}

/// Runs `syd -m M... -- sh -c script` from `cwd`.
pub fn syd_sh(cwd: &Path, magic: &[&str], script: &str) -> Output {
    let magic: Vec<String> = magic.iter().map(|s| (*s).to_owned()).collect();
    syd_in(
        cwd,
        &[],
        &magic,
        &["sh".to_owned(), "-c".to_owned(), script.to_owned()],
    )
}

/// Splits a probe command line on blanks; the word `''` stands for the empty string.
pub fn words(s: &str) -> Vec<String> {
    s.split_whitespace()
        .map(|w| {
            if w == "''" {
                String::new()
            } else {
                w.to_owned()
            }
        })
        .collect()
}

/// One violation report (SPEC §7.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// `process id=N`.
    pub tid: i32,
    /// `abi=N`.
    pub abi: u32,
    /// `name:`.
    pub comm: String,
    /// `cwd:`.
    pub cwd: String,
    /// `cmdline:`, if the line is there.
    pub cmdline: Option<String>,
    /// The context line, such as ``mkdir(`/x')``.
    pub context: String,
}

/// Splits off the `sydbox@<digits>: ` prefix of a line.
fn report_body(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("sydbox@")?;
    let (digits, body) = rest.split_once(": ")?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(body)
}

/// The violation reports in `stderr`, in order. Panics on a malformed report.
pub fn reports(stderr: &str) -> Vec<Report> {
    let mut out = Vec::new();
    let mut lines = stderr.lines().peekable();
    while let Some(line) = lines.next() {
        if report_body(line) != Some("-- Access Violation! --") {
            continue;
        }
        let mut next = |what: &str| {
            lines
                .next()
                .and_then(report_body)
                .unwrap_or_else(|| panic!("report without {what} line:\n{stderr}"))
                .to_owned()
        };
        let id = next("process");
        let rest = id
            .strip_prefix("process id=")
            .unwrap_or_else(|| panic!("bad process line {id:?}"));
        let (tid, rest) = rest.split_once(" (abi=").unwrap();
        let (abi, rest) = rest.split_once(" name:`").unwrap();
        let comm = rest.strip_suffix("')").unwrap();
        let cwd = next("cwd");
        let cwd = cwd
            .strip_prefix("cwd: `")
            .and_then(|c| c.strip_suffix('\''))
            .unwrap_or_else(|| panic!("bad cwd line {cwd:?}"))
            .to_owned();
        let mut context = next("context");
        let mut cmdline = None;
        if let Some(c) = context.strip_prefix("cmdline: `") {
            cmdline = Some(c.strip_suffix('\'').unwrap().to_owned());
            context = next("context");
        }
        out.push(Report {
            tid: tid.parse().unwrap(),
            abi: abi.parse().unwrap(),
            comm: comm.to_owned(),
            cwd,
            cmdline,
            context,
        });
    }
    out
}

/// The context lines of the reports in `stderr`.
pub fn contexts(stderr: &str) -> Vec<String> {
    reports(stderr).into_iter().map(|r| r.context).collect()
}

/// Whether `line` matches `want` token by token (`*` matches any one token).
pub fn matches(line: &str, want: &str) -> bool {
    let (l, w): (Vec<_>, Vec<_>) = (
        line.split_whitespace().collect(),
        want.split_whitespace().collect(),
    );
    l.len() == w.len() && l.iter().zip(&w).all(|(a, b)| *b == "*" || a == b)
}

/// A table row: extra magic commands, the probe's command line, its expected output line, and
/// the expected report contexts. All may contain `{T}` (the case's tree) and `{P}` (the probe).
pub struct Case {
    /// Magic commands added to the table's base.
    pub magic: &'static [&'static str],
    /// The probe's words (see [`words`]).
    pub argv: &'static str,
    /// `ok 0`, `ok *`, `err EPERM`...
    pub want: &'static str,
    /// The context lines of the expected reports; a trailing `*` makes one a prefix.
    pub reports: &'static [&'static str],
}

/// A [`Case`] without extra magic.
pub const fn c(argv: &'static str, want: &'static str, reports: &'static [&'static str]) -> Case {
    Case {
        magic: &[],
        argv,
        want,
        reports,
    }
}

/// A [`Case`] with extra magic.
pub const fn cm(
    magic: &'static [&'static str],
    argv: &'static str,
    want: &'static str,
    reports: &'static [&'static str],
) -> Case {
    Case {
        magic,
        argv,
        want,
        reports,
    }
}

/// How a table is run.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum As {
    /// As the test's user.
    Me,
    /// As `nobody` (when the tests run as root), the tree owned by `nobody`.
    Nobody,
}

/// Runs one case in a fresh [`Tree`]; returns a description of every mismatch.
pub fn run_case(
    tag: &str,
    base: &[&str],
    case: &Case,
    who: As,
    setup: &dyn Fn(&Tree),
) -> Vec<String> {
    let t = Tree::new(tag);
    setup(&t);
    if who == As::Nobody && common::is_root() {
        t.chown_all(common::NOBODY, common::NOBODY);
    }
    // Entries starting with `-` are options of syd's own (such as `-D{T}/ok`).
    let (opts, magic): (Vec<String>, Vec<String>) = base
        .iter()
        .chain(case.magic)
        .map(|m| t.subst(m))
        .partition(|m| m.starts_with('-'));
    let mut args: Vec<String> = opts.clone();
    args.extend(magic_args(&magic));
    args.push("--".to_owned());
    let probe = if who == As::Nobody {
        common::probe_path_for_everyone()
            .to_str()
            .unwrap()
            .to_owned()
    } else {
        common::probe_path().to_owned()
    };
    args.push(probe);
    let argv = t.subst(case.argv);
    // `3<PATH ...`: the probe inherits descriptor 3 open on PATH, opened outside the sandbox.
    let (fd3, argv) = match argv.strip_prefix("3<") {
        Some(rest) => {
            let (path, rest) = rest.split_once(' ').unwrap();
            (Some(path.to_owned()), rest.to_owned())
        }
        None => (None, argv),
    };
    args.extend(words(&argv));
    let mut r: Run = match &fd3 {
        Some(path) => {
            let mut sh: Vec<String> = vec![
                "-c".to_owned(),
                "exec 3<\"$0\"; exec \"$@\"".to_owned(),
                path.clone(),
                common::syd_path().to_owned(),
            ];
            sh.extend(args);
            let refs: Vec<&str> = sh.iter().map(String::as_str).collect();
            Run::new("/bin/sh", &refs)
        }
        None => {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            common::syd(&refs)
        }
    };
    r.command().current_dir(&t.root);
    if who == As::Nobody {
        r = r.unprivileged();
        r.command().current_dir(&t.root);
    }
    let out = r.run();
    let mut bad = Vec::new();
    let what = format!(
        "[{} {}] probe {}",
        opts.join(" "),
        magic.join(" "),
        t.subst(case.argv)
    );
    let line = out.stdout.strip_suffix('\n').unwrap_or(&out.stdout);
    let want = t.subst(case.want);
    if line.contains('\n') || !matches(line, &want) {
        bad.push(format!("{what}: want {want:?}, got {line:?}"));
    }
    let code = if want.starts_with("ok") { 0 } else { 1 };
    if out.code() != Some(code) {
        bad.push(format!("{what}: exit {:?}, want {code}", out.code()));
    }
    let got = reports(&out.stderr);
    let want_r: Vec<String> = case.reports.iter().map(|r| t.subst(r)).collect();
    let same = got.len() == want_r.len()
        && got
            .iter()
            .zip(&want_r)
            .all(|(g, w)| match w.strip_suffix('*') {
                Some(prefix) => g.context.starts_with(prefix),
                None => g.context == *w,
            });
    if !same {
        bad.push(format!(
            "{what}: reports {:?}, want {want_r:?}",
            got.iter().map(|r| &r.context).collect::<Vec<_>>()
        ));
    }
    for g in &got {
        // The cwd is the tree, or below it with -D.
        let in_tree = g.cwd == t.s() || g.cwd.starts_with(&format!("{}/", t.s()));
        if g.comm != "syd-test-probe" || !in_tree || g.abi != 0 {
            bad.push(format!("{what}: report header {g:?}"));
        }
    }
    let leftover: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| report_body(l).is_none())
        .collect();
    if !leftover.is_empty() {
        bad.push(format!("{what}: unexpected stderr {leftover:?}"));
    }
    bad
}

/// Runs every case of a table (each in a fresh tree) and fails listing every mismatch.
pub fn run_table(tag: &str, base: &[&str], cases: &[Case]) {
    run_table_as(tag, base, cases, As::Me);
}

/// [`run_table`] as `who`.
pub fn run_table_as(tag: &str, base: &[&str], cases: &[Case], who: As) {
    run_table_with(tag, base, cases, who, &|_| {});
}

/// [`run_table_as`], with `setup` adding to each case's tree before the run.
pub fn run_table_with(tag: &str, base: &[&str], cases: &[Case], who: As, setup: &dyn Fn(&Tree)) {
    if !common::require_kernel() {
        return;
    }
    let bad: Vec<String> = cases
        .iter()
        .flat_map(|c| run_case(tag, base, c, who, setup))
        .collect();
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
