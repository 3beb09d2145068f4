//! Real programs under `syd` (SPEC §1.5): a parallel `make` build with gcc under write
//! sandboxing, a shell pipeline, concurrent children and threads, tracees killed mid-run, the
//! eldest's exit status (N, and 128 + N for a signal), and leftover processes at the end.
#![cfg(target_arch = "x86_64")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
mod fscommon;

use std::time::{Duration, Instant};

use fscommon::{syd_sh, Tree};

/// Whether `prog` is found in PATH.
fn have(prog: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {prog}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn make_builds_under_write_sandboxing() {
    // As root, make's posix_spawn (POSIX_SPAWN_RESETIDS) calls setresuid(-1, 0, -1), which the
    // default identity restriction refuses (uid <= 11, SPEC §6.2) even though nothing changes.
    make_build(&["core/restrict/identity_change:false"], &[]);
}

#[test]
fn make_as_root_with_the_identity_pinned() {
    // With the identity restriction on, root pins itself with -U 0 -G 0 (the manual says so):
    // a no-op change to the pinned ids is allowed, any other is refused.
    if !common::is_root() {
        return;
    }
    make_build(&[], &["-U", "0", "-G", "0"]);
}

fn make_build(extra: &[&str], opts: &[&str]) {
    if !common::require_kernel()
        || !common::skip_unless(
            have("make") && have("gcc"),
            "make and gcc are not installed",
        )
    {
        return;
    }
    let t = Tree::empty("make");
    let build = t.root.join("build");
    std::fs::create_dir_all(t.root.join("tmp")).unwrap();
    std::fs::create_dir_all(&build).unwrap();
    for (name, body) in [
        ("a.c", "int a(void) { return 1; }\n"),
        ("b.c", "int b(void) { return 2; }\n"),
        ("c.c", "int c(void) { return 3; }\n"),
        (
            "main.c",
            "#include <stdio.h>\nint a(void); int b(void); int c(void);\n\
             int main(void) { printf(\"%d\\n\", a() + b() + c()); return 0; }\n",
        ),
        (
            "Makefile",
            "prog: main.o a.o b.o c.o\n\t$(CC) -o $@ $^\n%.o: %.c\n\t$(CC) -c -o $@ $<\n",
        ),
    ] {
        std::fs::write(build.join(name), body).unwrap();
    }
    let mut magic = vec![
        "core/sandbox/write:deny".to_owned(),
        format!("allowlist/write+{}/build/***", t.s()),
        format!("allowlist/write+{}/tmp/***", t.s()),
        "allowlist/write+/dev/null".to_owned(),
    ];
    magic.extend(extra.iter().map(|m| (*m).to_owned()));
    let magic: Vec<&str> = magic.iter().map(String::as_str).collect();
    let script = format!(
        "export TMPDIR={}/tmp; make -s -j2 -C build && ./build/prog; echo made=$?; \
         echo x > {}/outside; echo outside=$?",
        t.s(),
        t.s()
    );
    let opts: Vec<String> = opts.iter().map(|o| (*o).to_owned()).collect();
    let magic: Vec<String> = magic.iter().map(|m| (*m).to_owned()).collect();
    let cmd = ["sh".to_owned(), "-c".to_owned(), script];
    let out = fscommon::syd_in(&t.root, &opts, &magic, &cmd);
    assert!(out.stdout.starts_with("6\nmade=0\n"), "{out:?}");
    assert!(out.stdout.ends_with("outside=2\n"), "{out:?}");
    assert!(!t.root.join("outside").exists());
    assert_eq!(
        fscommon::contexts(&out.stderr),
        [format!("openat(`{}/outside')", t.s())],
        "{out:?}"
    );
    assert_eq!(out.code(), Some(0), "{out:?}");
}

#[test]
fn pipeline_and_concurrency() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::new("pipe");
    let w = [
        "core/sandbox/write:deny".to_owned(),
        format!("allowlist/write+{}/ok/***", t.s()),
        "allowlist/write+/dev/null".to_owned(),
    ];
    let w: Vec<&str> = w.iter().map(String::as_str).collect();
    let out = syd_sh(
        &t.root,
        &w,
        "printf 'b\\na\\nc\\n' | sort | tr a-z A-Z | tee ok/out | wc -l",
    );
    assert_eq!(out.stdout.trim(), "3", "{out:?}");
    assert_eq!(std::fs::read_to_string(t.p("ok/out")).unwrap(), "A\nB\nC\n");
    // mkdir -p of an existing tree succeeds silently (EEXIST is a safe denial, SPEC §2.12).
    let out = syd_sh(
        &t.root,
        &w,
        "mkdir -p no/full && mkdir -p ok/new/sub && echo made",
    );
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("made\n", ""),
        "{out:?}"
    );
    // Concurrent children, some denied.
    let p = common::probe_path();
    let script = t.subst(&format!(
        "for i in 1 2 3 4 5 6 7 8; do {p} mkdir {{T}}/ok/d$i 0755 >/dev/null & \
         {p} mkdir {{T}}/no/d$i 0755 >/dev/null & done; wait; ls ok | grep -c '^d[0-9]'"
    ));
    let out = syd_sh(&t.root, &w, &script);
    assert_eq!(out.stdout, "8\n", "{out:?}");
    assert_eq!(fscommon::contexts(&out.stderr).len(), 8, "{out:?}");
    // Threads: the probe's second thread runs while the first makes checked calls.
    let out = fscommon::syd_in(
        &t.root,
        &[],
        &w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
        &[
            p.to_owned(),
            "race-open".to_owned(),
            t.p("ok/x"),
            t.p("ok/file"),
            "2000".to_owned(),
        ],
    );
    // Every open is allowed (mixed paths included: all in ok/), so none may fail.
    assert!(out.stdout.contains("failed 0\n"), "{out:?}");
}

#[test]
fn killed_tracees_and_exit_status() {
    if !common::require_kernel() {
        return;
    }
    let t = Tree::new("status");
    std::fs::write(t.p("ok/y"), "").unwrap();
    let p = common::probe_path();
    let w = ["core/sandbox/write:deny"];
    for (script, want) in [
        ("exit 0", 0),
        ("exit 42", 42),
        ("kill -TERM $$", 128 + 15),
        ("kill -SEGV $$", 128 + 11),
        ("kill -KILL $$", 128 + 9),
        // A child killed while it makes checked calls; the shell goes on.
        (
            &*format!(
                "{p} race-open {{T}}/ok/x {{T}}/ok/y 1000000 & sleep 0.3; kill -9 $!; wait $!; \
                 echo status=$? >&2; exit 5"
            ),
            5,
        ),
    ] {
        let start = Instant::now();
        let out = syd_sh(&t.root, &w, &t.subst(script));
        assert_eq!(out.code(), Some(want), "{script}: {out:?}");
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{script}: {out:?}"
        );
        if want == 5 {
            assert!(out.stderr.contains("status=137"), "{out:?}");
        }
    }
    // Processes left behind when the eldest exits are killed: syd does not wait for them.
    let start = Instant::now();
    let out = syd_sh(&t.root, &w, "sleep 30 & echo $!; exit 7");
    assert_eq!(out.code(), Some(7), "{out:?}");
    assert!(start.elapsed() < Duration::from_secs(10), "{out:?}");
    let pid = out.stdout.trim();
    let alive =
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "));
    assert!(!alive, "sleep {pid} outlived the sandbox");
}

/// A signal to syd goes to every task, which gets a moment to act on it; syd exits 128 + N
/// (SPEC §1.5, §7.6), and a task ignoring it is killed.
#[test]
fn signals_to_syd_are_forwarded() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::{Command, Stdio};
    if !common::require_kernel() {
        return;
    }
    for (script, want) in [
        (
            "trap 'echo got-term; exit 3' TERM; echo ready; sleep 20 & wait",
            "got-term\n",
        ),
        ("trap '' TERM; echo ready; sleep 20", ""),
        // A grandchild whose calls all passed without syd looking at the caller (the exec
        // of a type that is off): it is no known task, and gets the signal all the same.
        (
            "sh -c \"trap 'echo got-term; exit 3' TERM; echo ready; sleep 20 & wait\" & wait",
            "got-term\n",
        ),
    ] {
        let start = Instant::now();
        let mut child = Command::new(common::syd_path())
            .args(["-m", "core/sandbox/write:deny", "--", "sh", "-c", script])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert_eq!(line, "ready\n");
        let st = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        let mut rest = String::new();
        out.read_to_string(&mut rest).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(rest, want, "{script}");
        assert_eq!(status.code(), Some(128 + 15), "{script}");
        assert!(start.elapsed() < Duration::from_secs(10), "{script}");
    }
}
