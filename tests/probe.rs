//! Tests of the `syd-test-probe` helper itself, run natively (no sandbox): each call gives the
//! result and errno the kernel gives, so that a different answer under `syd` is syd's doing.
//!
//! Expected lines are matched token by token; a `*` token matches any one token (such as a
//! descriptor number or an address).

// Test code: clippy.toml's allowances cover only #[test] functions, not their helpers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::TempDir;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};

/// Whether `line` matches `want` token by token (`*` matches any one token).
fn matches(line: &str, want: &str) -> bool {
    let (l, w): (Vec<_>, Vec<_>) = (
        line.split_whitespace().collect(),
        want.split_whitespace().collect(),
    );
    l.len() == w.len() && l.iter().zip(&w).all(|(a, b)| *b == "*" || a == b)
}

/// Runs the probe with `args` and returns its output.
fn run(args: &[&str]) -> common::Output {
    common::probe(args).run()
}

/// Runs each `(args, expected line)`: the output must be that one line, and the exit status 0
/// for an `ok` line and 1 for an `err` line.
fn check(table: &[(Vec<String>, String)]) {
    for (args, want) in table {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&args);
        let line = out.stdout.strip_suffix('\n').unwrap_or(&out.stdout);
        assert!(
            !line.contains('\n') && matches(line, want),
            "{args:?}: want {want:?}, got {out:?}"
        );
        let code = if want.starts_with("ok") { 0 } else { 1 };
        assert_eq!(out.code(), Some(code), "{args:?}: {out:?}");
    }
}

/// Builds a table row from words.
fn row(args: &[&str], want: &str) -> (Vec<String>, String) {
    (
        args.iter().map(|s| (*s).to_owned()).collect(),
        want.to_owned(),
    )
}

/// A directory with `f` (mode 0640, 3 bytes), `d/g`, and `l` -> `f`.
fn fixture(name: &str) -> TempDir {
    let t = TempDir::new(name);
    std::fs::write(t.0.join("f"), "abc").unwrap();
    std::fs::set_permissions(t.0.join("f"), std::fs::Permissions::from_mode(0o640)).unwrap();
    std::fs::create_dir(t.0.join("d")).unwrap();
    std::fs::write(t.0.join("d/g"), "").unwrap();
    symlink(t.p("f"), t.0.join("l")).unwrap();
    t
}

#[test]
fn path_calls_give_the_kernels_answer() {
    let t = fixture("paths");
    let (f, d, l) = (t.p("f"), t.p("d"), t.p("l"));
    let (missing, under_file) = (t.p("missing"), t.p("f/x"));
    let open_d = format!("open:{d}");
    let read_f = format!("read:{f}");
    let long = format!("{}/{}", t.p(""), "n".repeat(300));
    let link_target = format!("ok {} target={f}", f.len());
    let table = [
        row(&["openat", "AT_FDCWD", &missing, "O_RDONLY"], "err ENOENT"),
        row(&["openat", "AT_FDCWD", &f, "O_RDONLY"], "ok *"),
        row(&["openat", "-100", &f, "0"], "ok *"),
        row(
            &["openat", "AT_FDCWD", &f, "O_RDONLY|O_DIRECTORY"],
            "err ENOTDIR",
        ),
        row(
            &["openat", "AT_FDCWD", &under_file, "O_RDONLY"],
            "err ENOTDIR",
        ),
        row(&["openat", "AT_FDCWD", &d, "O_WRONLY"], "err EISDIR"),
        row(
            &["openat", "AT_FDCWD", &l, "O_RDONLY|O_NOFOLLOW"],
            "err ELOOP",
        ),
        row(
            &["openat", "AT_FDCWD", &f, "O_WRONLY|O_CREAT|O_EXCL", "0600"],
            "err EEXIST",
        ),
        row(
            &["openat", "AT_FDCWD", &long, "O_RDONLY"],
            "err ENAMETOOLONG",
        ),
        row(&["openat", "AT_FDCWD", "NULL", "O_RDONLY"], "err EFAULT"),
        row(&["openat", "AT_FDCWD", "BADPTR", "O_RDONLY"], "err EFAULT"),
        row(&["openat", "999", "g", "O_RDONLY"], "err EBADF"),
        row(&["openat", &open_d, "g", "O_RDONLY"], "ok *"),
        row(&["openat", &open_d, "missing", "O_RDONLY"], "err ENOENT"),
        row(&["openat2", "AT_FDCWD", &f, "O_RDONLY", "0", "0"], "ok *"),
        row(
            &[
                "openat2",
                &open_d,
                "../f",
                "O_RDONLY",
                "0",
                "RESOLVE_BENEATH",
            ],
            "err EXDEV",
        ),
        row(
            &["openat2", &open_d, "g", "O_RDONLY", "0", "RESOLVE_BENEATH"],
            "ok *",
        ),
        row(&["mkdirat", "AT_FDCWD", &d, "0755"], "err EEXIST"),
        row(
            &["unlinkat", "AT_FDCWD", &d, "AT_REMOVEDIR"],
            "err ENOTEMPTY",
        ),
        row(&["unlinkat", "AT_FDCWD", &d, "0"], "err EISDIR"),
        row(&["faccessat", "AT_FDCWD", &f, "F_OK"], "ok 0"),
        row(&["faccessat", "AT_FDCWD", &missing, "F_OK"], "err ENOENT"),
        row(
            &["newfstatat", "AT_FDCWD", &f, "0"],
            "ok 0 mode=0o100640 * * size=3",
        ),
        row(
            &["newfstatat", "AT_FDCWD", &l, "0"],
            "ok 0 mode=0o100640 * * size=3",
        ),
        row(
            &["newfstatat", "AT_FDCWD", &l, "AT_SYMLINK_NOFOLLOW"],
            "ok 0 mode=0o120777 * * *",
        ),
        row(
            &["newfstatat", &read_f, "", "AT_EMPTY_PATH"],
            "ok 0 mode=0o100640 * * size=3",
        ),
        row(
            &["statx", "AT_FDCWD", &f, "0", "STATX_BASIC_STATS"],
            "ok 0 mode=0o100640 * *",
        ),
        row(&["readlinkat", "AT_FDCWD", &l], &link_target),
        row(&["readlinkat", "AT_FDCWD", &f], "err EINVAL"),
        row(&["utimensat", &read_f, "NULL", "0"], "ok 0"),
        row(&["utimensat", "AT_FDCWD", "NULL", "0"], "err EFAULT"),
        row(&["fchownat", "AT_FDCWD", &f, "-1", "-1", "0"], "ok 0"),
        row(&["truncate", &f, "3"], "ok 0"),
        row(&["truncate", &d, "0"], "err EISDIR"),
        row(&["chdir", &d], "ok 0"),
        row(&["chdir", &f], "err ENOTDIR"),
        row(&["fchdir", &open_d], "ok 0"),
    ];
    check(&table);
}

#[test]
fn numbers_accept_every_notation() {
    let t = fixture("numbers");
    let f = t.p("f");
    for (mode, want) in [
        ("0x1a0", "0o100640"),
        ("0o600", "0o100600"),
        ("0644", "0o100644"),
        ("420", "0o100644"),
        ("0600|044", "0o100644"),
        ("S_IRUSR", "0o100400"),
    ] {
        let out = run(&["fchmodat", "AT_FDCWD", &f, mode]);
        if mode == "S_IRUSR" {
            // Not a word the probe knows: a usage error.
            assert_eq!(out.code(), Some(2), "{out:?}");
            continue;
        }
        assert_eq!(out.stdout, "ok 0\n", "{mode}: {out:?}");
        let out = run(&["newfstatat", "AT_FDCWD", &f, "0"]);
        assert!(
            out.stdout.starts_with(&format!("ok 0 mode={want} ")),
            "{mode}: {out:?}"
        );
    }
}

#[test]
fn changing_calls_change_the_file_system() {
    let t = fixture("changes");
    let (f, d) = (t.p("f"), t.p("d"));
    let (new, fifo, sym, hard, moved) = (
        t.p("new"),
        t.p("fifo"),
        t.p("sym"),
        t.p("hard"),
        t.p("moved"),
    );
    let open_dir = format!("open:{}", t.p(""));
    check(&[
        row(&["mkdirat", "AT_FDCWD", &new, "0700"], "ok 0"),
        row(&["mkdirat", "AT_FDCWD", &new, "0700"], "err EEXIST"),
        row(&["unlinkat", "AT_FDCWD", &new, "AT_REMOVEDIR"], "ok 0"),
        row(
            &["unlinkat", "AT_FDCWD", &new, "AT_REMOVEDIR"],
            "err ENOENT",
        ),
        row(&["mknodat", "AT_FDCWD", &fifo, "S_IFIFO|0600", "0"], "ok 0"),
        row(
            &["newfstatat", "AT_FDCWD", &fifo, "0"],
            "ok 0 mode=0o10600 * * size=0",
        ),
        row(&["symlinkat", &f, &open_dir, "sym"], "ok 0"),
        row(&["symlinkat", &f, "AT_FDCWD", &sym], "err EEXIST"),
        row(&["linkat", "AT_FDCWD", &f, "AT_FDCWD", &hard, "0"], "ok 0"),
        row(
            &[
                "renameat2",
                "AT_FDCWD",
                &hard,
                "AT_FDCWD",
                &f,
                "RENAME_NOREPLACE",
            ],
            "err EEXIST",
        ),
        row(
            &["renameat2", "AT_FDCWD", &hard, "AT_FDCWD", &moved, "0"],
            "ok 0",
        ),
        row(
            &["renameat", "AT_FDCWD", &moved, "AT_FDCWD", &d],
            "err EISDIR",
        ),
        row(&["unlinkat", "AT_FDCWD", &moved, "0"], "ok 0"),
        row(&["unlinkat", "AT_FDCWD", &moved, "0"], "err ENOENT"),
        row(&["fchmodat", "AT_FDCWD", &f, "0600"], "ok 0"),
    ]);
    assert!(Path::new(&sym).is_symlink());
    // Extended attributes: tmpfs (and most disks) have user.*; some file systems refuse them.
    let out = run(&["setxattr", &f, "user.probe", "v1"]);
    if out.stdout == "err ENOTSUP\n" {
        check(&[row(&["listxattr", &f], "err ENOTSUP")]);
        return;
    }
    assert_eq!(out.stdout, "ok 0\n", "{out:?}");
    check(&[
        row(
            &["setxattr", &f, "user.probe", "v2", "XATTR_CREATE"],
            "err EEXIST",
        ),
        row(&["getxattr", &f, "user.probe"], "ok 2 value=v1"),
        row(&["listxattr", &f], "ok 11 names=user.probe"),
        row(&["removexattr", &f, "user.probe"], "ok 0"),
        row(&["removexattr", &f, "user.probe"], "err ENODATA"),
        row(&["getxattr", &f, "user.missing"], "err ENODATA"),
    ]);
}

/// The calls only x86_64 has: here they work, elsewhere they print `err ENOSYS`.
#[test]
fn legacy_path_calls() {
    let t = fixture("legacy");
    let (f, d, l, missing) = (t.p("f"), t.p("d"), t.p("l"), t.p("missing"));
    let (c, n, s, m) = (t.p("c"), t.p("n"), t.p("s"), t.p("m"));
    if !cfg!(target_arch = "x86_64") {
        check(&[
            row(&["open", &f, "O_RDONLY"], "err ENOSYS"),
            row(&["stat", &f], "err ENOSYS"),
        ]);
        return;
    }
    check(&[
        row(&["open", &missing, "O_RDONLY"], "err ENOENT"),
        row(&["open", &f, "O_RDONLY"], "ok *"),
        row(&["creat", &c, "0600"], "ok *"),
        row(&["access", &f, "R_OK"], "ok 0"),
        row(&["access", &missing, "F_OK"], "err ENOENT"),
        row(&["mkdir", &n, "0700"], "ok 0"),
        row(&["mkdir", &n, "0700"], "err EEXIST"),
        row(&["rmdir", &d], "err ENOTEMPTY"),
        row(&["rmdir", &n], "ok 0"),
        row(&["mknod", &m, "S_IFIFO|0600", "0"], "ok 0"),
        row(&["symlink", &f, &s], "ok 0"),
        row(&["stat", &s], "ok 0 mode=0o100640 * * size=3"),
        row(&["lstat", &l], "ok 0 mode=0o120777 * * *"),
        row(&["link", &f, &n], "ok 0"),
        row(&["rename", &n, &c], "ok 0"),
        row(&["unlink", &c], "ok 0"),
        row(&["unlink", &c], "err ENOENT"),
        row(&["chmod", &f, "0600"], "ok 0"),
        row(&["chown", &f, "-1", "-1"], "ok 0"),
        row(&["lchown", &l, "-1", "-1"], "ok 0"),
        row(&["utime", &f], "ok 0"),
        row(&["utimes", &f], "ok 0"),
        row(&["futimesat", "AT_FDCWD", &f], "ok 0"),
        row(&["readlink", &l], "ok * *"),
    ]);
}

#[test]
fn exec_calls_replace_the_probe() {
    let t = fixture("exec");
    let probe = common::probe_path();
    let ppid = format!("ok {}", std::process::id());
    let path_probe = format!("path:{probe}");
    // getppid after the exec still names this test process: the exec happened in place.
    let out = run(&["execve", probe, "getppid"]);
    assert_eq!(out.stdout, format!("{ppid}\n"), "{out:?}");
    let out = run(&["execveat", "AT_FDCWD", probe, "0", "getppid"]);
    assert_eq!(out.stdout, format!("{ppid}\n"), "{out:?}");
    let out = run(&["execveat", &path_probe, "", "AT_EMPTY_PATH", "getppid"]);
    assert_eq!(out.stdout, format!("{ppid}\n"), "{out:?}");
    check(&[
        row(&["execve", &t.p("missing")], "err ENOENT"),
        row(&["execve", &t.p("f")], "err EACCES"),
        row(&["execve", &t.p("d")], "err EACCES"),
    ]);
}

#[test]
fn process_calls_give_the_kernels_answer() {
    let t = fixture("process");
    let read_f = format!("read:{}", t.p("f"));
    let me = std::process::id().to_string();
    let ppid = format!("ok {me}");
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let uname = format!("ok 0 sysname=Linux release={}", release.trim());
    let fsuid = if common::is_root() { "ok 0" } else { "ok *" };
    check(&[
        row(&["getppid"], &ppid),
        row(&["kill", "self", "0"], "ok 0"),
        row(&["kill", "parent", "0"], "ok 0"),
        row(&["kill", "2147483647", "SIGKILL"], "err ESRCH"),
        row(&["kill", "self", "100"], "err EINVAL"),
        row(&["tgkill", "self", "self", "0"], "ok 0"),
        row(&["tkill", "2147483647", "0"], "err ESRCH"),
        row(&["uname"], &uname),
        row(&["mmap", "PROT_READ", "MAP_PRIVATE|MAP_ANONYMOUS"], "ok *"),
        row(&["mmap", "PROT_READ", "MAP_ANONYMOUS"], "err EINVAL"),
        row(&["mmap", "PROT_READ", "MAP_PRIVATE", "999"], "err EBADF"),
        row(&["mmap", "PROT_READ", "MAP_PRIVATE", &read_f], "ok *"),
        row(&["mprotect", "PROT_READ"], "ok 0"),
        row(&["ioctl", &read_f, "FIONREAD"], "ok 0"),
        row(&["ioctl", &read_f, "TIOCGWINSZ"], "err ENOTTY"),
        row(&["ioctl", "999", "FIONREAD"], "err EBADF"),
        row(&["unshare", "0"], "ok 0"),
        row(&["unshare", "0x1"], "err EINVAL"),
        row(&["setresuid", "-1", "-1", "-1"], "ok 0"),
        row(&["setresgid", "-1", "-1", "-1"], "ok 0"),
        row(&["setfsuid", "-1"], fsuid),
        row(&["ptrace", "PTRACE_PEEKDATA", "2147483647"], "err ESRCH"),
        row(&["socket", "inet", "SOCK_DGRAM"], "ok *"),
        row(&["socket", "12345", "SOCK_STREAM"], "err EAFNOSUPPORT"),
    ]);
    // getpid names the probe itself.
    let child = Command::new(common::probe_path())
        .arg("getpid")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("ok {pid}\n"));
    // io_uring may be switched off (kernel.io_uring_disabled), but never silently.
    let out = run(&["io_uring_setup", "1"]);
    assert!(
        ["ok", "err EPERM", "err ENOSYS"]
            .iter()
            .any(|w| out.stdout.starts_with(w)),
        "{out:?}"
    );
}

/// A loopback TCP port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn network_calls_give_the_kernels_answer() {
    let t = TempDir::new("net");
    let refused = format!("127.0.0.1:{}", closed_port());
    let (sock, missing) = (t.p("sock"), t.p("missing"));
    let abstract_name = format!("syd-probe-{}-none", std::process::id());
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let udp_addr = udp.local_addr().unwrap().to_string();
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let tcp_addr = tcp.local_addr().unwrap().to_string();
    check(&[
        row(&["connect", "inet", &refused], "err ECONNREFUSED"),
        row(&["connect-dgram", "inet", &refused], "ok 0"),
        row(&["connect", "unix", &missing], "err ENOENT"),
        row(
            &["connect", "unix-abstract", &abstract_name],
            "err ECONNREFUSED",
        ),
        row(&["bind", "inet", "127.0.0.1:0"], "ok 0 *"),
        row(&["bind-dgram", "inet", "127.0.0.1:0"], "ok 0 *"),
        row(&["bind", "inet", "192.0.2.1:0"], "err EADDRNOTAVAIL"),
        row(&["bind", "unix", &sock], "ok 0"),
        row(&["bind", "unix", &sock], "err EADDRINUSE"),
        row(&["connect", "unix", &sock], "err ECONNREFUSED"),
        row(&["sendto", "inet", &udp_addr], "ok 1"),
        row(&["sendmsg", "inet", &udp_addr], "ok 1"),
        row(&["sendto", "unix", &missing], "err ENOENT"),
        row(&["sendto-null"], "ok 1"),
        row(&["connect-send", "inet", &tcp_addr], "ok 1"),
        row(&["sendmsg-noname"], "ok 1"),
        row(&["recvmsg", "inet", "127.0.0.1:0"], "ok 1 namelen=16"),
        row(&["connect-family", "16"], "ok 0"),
    ]);
    // The two datagrams sent to `udp` arrived.
    let mut buf = [0u8; 4];
    for _ in 0..2 {
        assert_eq!(udp.recv(&mut buf).unwrap(), 1);
        assert_eq!(buf[0], b'x');
    }
    // The port printed is the one the kernel chose.
    let out = run(&["bind", "inet", "127.0.0.1:0"]);
    let port: u16 = out
        .stdout
        .trim()
        .strip_prefix("ok 0 port=")
        .unwrap()
        .parse()
        .unwrap();
    assert_ne!(port, 0);
    // AF_PACKET: as root connect on a packet socket is not supported; otherwise the socket is
    // refused and the probe connects an AF_INET socket with an AF_PACKET address.
    let out = run(&["connect-family", "AF_PACKET"]);
    assert!(
        out.stdout == "err ENOTSUP\n" || out.stdout == "err EAFNOSUPPORT\n",
        "{out:?}"
    );
}

#[test]
fn bind_listen_accepts_one_connection() {
    let mut child = Command::new(common::probe_path())
        .args(["bind-listen", "inet", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let port: u16 = line
        .trim()
        .strip_prefix("ok 0 port=")
        .unwrap()
        .parse()
        .unwrap();
    let _conn = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "accepted\n");
    assert!(child.wait().unwrap().success());
}

#[test]
fn race_open_counts_every_iteration() {
    let t = TempDir::new("race");
    std::fs::create_dir(t.0.join("a")).unwrap();
    std::fs::create_dir(t.0.join("b")).unwrap();
    std::fs::write(t.0.join("b/f"), "").unwrap();
    let out = run(&["race-open", &t.p("a/f"), &t.p("b/f"), "300"]);
    assert_eq!(out.code(), Some(0), "{out:?}");
    let counts: Vec<(String, u64)> = out
        .stdout
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(' ').unwrap();
            (k.to_owned(), v.parse().unwrap())
        })
        .collect();
    let names: Vec<&str> = counts.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        ["opened-denied", "opened-allowed", "opened-other", "failed"]
    );
    // Every iteration is counted once; the paths differ in one byte, so no open lands anywhere
    // but on one of the two files. (An open may still fail under heavy load, e.g. EINTR.)
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    assert_eq!(total, 300, "{out:?}");
    assert_eq!(counts[2].1, 0, "{out:?}");
    assert!(counts[0].1 + counts[1].1 >= 270, "{out:?}");
    // Which file each open hits depends on scheduling; an allowed open creates the file.
    assert_eq!(t.0.join("a/f").exists(), counts[1].1 > 0, "{out:?}");
}

#[test]
fn bad_command_lines_are_usage_errors() {
    let t = fixture("usage");
    for args in [
        &[][..],
        &["nosuchcall"],
        &["openat"],
        &["openat", "AT_FDCWD", "x", "O_RDONLY", "0", "extra"],
        &["openat", "AT_FDCWD", "x", "O_NOSUCHFLAG"],
        &["connect", "inet", "localhost"],
        &["connect", "ipx", "1"],
        &["-r"],
        &["-r", "x", "getpid"],
    ] {
        let out = run(args);
        assert_eq!(out.code(), Some(2), "{args:?}: {out:?}");
        assert_eq!(out.stdout, "", "{args:?}");
        assert!(
            out.stderr.starts_with("syd-test-probe: "),
            "{args:?}: {out:?}"
        );
    }
    // A failed preparatory step is not the call's result: exit 3, nothing on stdout.
    let out = run(&["openat", &format!("open:{}", t.p("missing")), "g", "0"]);
    assert_eq!((out.code(), out.stdout.as_str()), (Some(3), ""), "{out:?}");
    assert!(out.stderr.contains("setup failed"), "{out:?}");
    let out = run(&["help"]);
    assert_eq!(out.code(), Some(0));
    assert!(out.stdout.contains("race-open"));
    // -r repeats the call, one line each.
    let out = run(&["-r", "3", "getppid"]);
    assert_eq!(
        out.stdout,
        format!("ok {0}\nok {0}\nok {0}\n", std::process::id())
    );
    let out = run(&["-r", "2", "kill", "2147483647", "0"]);
    assert_eq!(
        (out.code(), out.stdout.as_str()),
        (Some(1), "err ESRCH\nerr ESRCH\n")
    );
}
