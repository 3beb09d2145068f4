//! Emulated network calls through the real binary (bin/netemu.rs): the address race of SPEC
//! §9 #1 for connect and sendto, connects that cannot complete at once, and the errors that
//! pass through.
//!
//! The race tests run a sandboxed thread that flips its socket address between an allowed and
//! a denied one (one byte apart) while the main thread connects or sends thousands of times;
//! the denied listener or receiver belongs to the test, outside the sandbox, and counts what
//! reaches it: nothing may. Only loopback and temporary-directory sockets are used.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::ErrorKind;
use std::net::{TcpListener, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use common::{probe_path, require_kernel, skip_unless, syd, Output, TempDir};

const DENY: &str = "core/sandbox/network:deny";

/// Something that counts what reaches it on a thread of the test, until stopped.
struct Counter {
    count: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Counter {
    /// Runs `poll` (one non-blocking attempt: `true` if something arrived) until stopped, then
    /// once more until nothing is left.
    fn start(mut poll: impl FnMut() -> bool + Send + 'static) -> Counter {
        let count = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (Arc::clone(&count), Arc::clone(&stop));
        let thread = std::thread::spawn(move || loop {
            if poll() {
                c.fetch_add(1, Ordering::Relaxed);
            } else if s.load(Ordering::Relaxed) {
                break;
            } else {
                std::thread::sleep(Duration::from_micros(200));
            }
        });
        Counter {
            count,
            stop,
            thread: Some(thread),
        }
    }

    /// Stops counting and returns the count.
    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        self.count.load(Ordering::Relaxed)
    }

    fn tcp(l: TcpListener) -> Counter {
        l.set_nonblocking(true).unwrap();
        Counter::start(move || match l.accept() {
            Ok(_) => true,
            Err(e) if e.kind() == ErrorKind::WouldBlock => false,
            Err(e) => panic!("accept: {e}"),
        })
    }

    fn unix(l: UnixListener) -> Counter {
        l.set_nonblocking(true).unwrap();
        Counter::start(move || match l.accept() {
            Ok(_) => true,
            Err(e) if e.kind() == ErrorKind::WouldBlock => false,
            Err(e) => panic!("accept: {e}"),
        })
    }

    fn udp(s: UdpSocket) -> Counter {
        s.set_nonblocking(true).unwrap();
        Counter::start(move || {
            let mut b = [0u8; 16];
            match s.recv(&mut b) {
                Ok(_) => true,
                Err(e) if e.kind() == ErrorKind::WouldBlock => false,
                Err(e) => panic!("recv: {e}"),
            }
        })
    }
}

/// Two free loopback ports one byte apart (`p` and `p + 1`, same high byte), bound with `bind`.
fn port_pair<T>(bind: impl Fn(u16) -> std::io::Result<T>) -> (T, u16, T, u16) {
    for _ in 0..200 {
        let probe = TcpListener::bind("127.0.0.1:0").unwrap();
        let p = probe.local_addr().unwrap().port();
        drop(probe);
        if p % 256 == 255 {
            continue;
        }
        if let (Ok(a), Ok(b)) = (bind(p), bind(p + 1)) {
            return (a, p, b, p + 1);
        }
    }
    panic!("no two adjacent free ports");
}

/// The number after `key` on a line of the probe's output.
fn count(out: &Output, key: &str) -> u64 {
    out.stdout
        .lines()
        .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {out:#?}"))
}

/// `-m` for each magic command, then `--` and the probe with `args`.
fn run(magic: &[String], args: &[&str]) -> Output {
    let mut v: Vec<&str> = Vec::new();
    for m in magic {
        v.extend(["-m", m]);
    }
    v.push("--");
    v.push(probe_path());
    v.extend_from_slice(args);
    syd(&v).timeout(Duration::from_secs(120)).run()
}

/// Asserts the outcome of a race run: nothing reached the denied side, both outcomes happened
/// (the race really ran), and every success reached the allowed side.
#[track_caller]
fn assert_race(out: &Output, key: &str, allowed: u64, denied: u64) {
    assert_eq!(denied, 0, "the denied side was reached: {out:#?}");
    let ok = count(out, key);
    assert!(ok > 0 && count(out, "failed ") > 0, "{out:#?}");
    assert_eq!(ok, allowed, "{out:#?}");
    assert!(!out.stderr.contains("Access Violation"), "{out:#?}");
    assert_eq!(out.code(), Some(0), "{out:#?}");
}

#[test]
fn racing_thread_never_connects_to_the_denied_port() {
    if !require_kernel() {
        return;
    }
    let (a, pa, b, pb) = port_pair(|p| TcpListener::bind(("127.0.0.1", p)));
    let (allowed, denied) = (Counter::tcp(a), Counter::tcp(b));
    let magic = [
        DENY.to_owned(),
        format!("allowlist/network/connect+inet:127.0.0.1@{pa}"),
        format!("filter/network+inet:127.0.0.1@{pb}"),
    ];
    let (sa, sb) = (format!("127.0.0.1:{pa}"), format!("127.0.0.1:{pb}"));
    let out = run(&magic, &["race-connect", "inet", &sa, "inet", &sb, "4000"]);
    assert_race(&out, "connected ", allowed.finish(), denied.finish());
}

#[test]
fn racing_thread_never_connects_to_the_denied_unix_path() {
    if !require_kernel() {
        return;
    }
    let t = TempDir::new("unix");
    std::fs::create_dir(t.0.join("a")).unwrap();
    std::fs::create_dir(t.0.join("b")).unwrap();
    let (pa, pb) = (t.p("a/s"), t.p("b/s"));
    let allowed = Counter::unix(UnixListener::bind(&pa).unwrap());
    let denied = Counter::unix(UnixListener::bind(&pb).unwrap());
    let magic = [
        DENY.to_owned(),
        format!("allowlist/network/connect+unix:{pa}"),
        format!("filter/network+unix:{pb}"),
    ];
    let out = run(&magic, &["race-connect", "unix", &pa, "unix", &pb, "4000"]);
    assert_race(&out, "connected ", allowed.finish(), denied.finish());
}

#[test]
fn racing_thread_never_sends_to_the_denied_port() {
    if !require_kernel() {
        return;
    }
    for call in ["race-sendto", "race-sendmsg", "race-sendmsg-tos"] {
        race_datagrams(call);
    }
}

/// Runs the datagram race with the probe's `call`.
fn race_datagrams(call: &str) {
    let (a, pa, b, pb) = port_pair(|p| UdpSocket::bind(("127.0.0.1", p)));
    let (allowed, denied) = (Counter::udp(a), Counter::udp(b));
    let magic = [
        DENY.to_owned(),
        format!("allowlist/network/connect+inet:127.0.0.1@{pa}"),
        format!("filter/network+inet:127.0.0.1@{pb}"),
    ];
    let (sa, sb) = (format!("127.0.0.1:{pa}"), format!("127.0.0.1:{pb}"));
    let out = run(&magic, &[call, "inet", &sa, "inet", &sb, "10000"]);
    // Loopback drops nothing while the receiver keeps up; allow for a few drops all the same.
    let (got, denied) = (allowed.finish(), denied.finish());
    assert_eq!(
        denied, 0,
        "{call}: the denied receiver got datagrams: {out:#?}"
    );
    let sent = count(&out, "sent ");
    assert!(sent > 0 && count(&out, "failed ") > 0, "{out:#?}");
    assert!(got > 0 && got <= sent, "received {got} of {sent}: {out:#?}");
    assert_eq!(out.code(), Some(0), "{out:#?}");
}

/// Accepts the filler of [`full_listener`] and checks that no other connection arrives.
fn only_the_filler_arrives(l: &UnixListener) {
    let _a = l.accept().unwrap();
    l.set_nonblocking(true).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        matches!(l.accept(), Err(e) if e.kind() == ErrorKind::WouldBlock),
        "a connection arrived"
    );
}

/// A UNIX listener at `path` whose backlog (0) is already full: the next blocking connect
/// waits until the test accepts. Returns the listener and the connection that fills it.
fn full_listener(path: &str) -> (UnixListener, UnixStream) {
    let l = UnixListener::bind(path).unwrap();
    // SAFETY: listen(2) on a listening socket only changes its backlog.
    #[allow(unsafe_code)]
    let r = unsafe { libc::listen(l.as_raw_fd(), 0) };
    assert_eq!(r, 0);
    let filler = UnixStream::connect(path).unwrap();
    (l, filler)
}

#[test]
fn a_connect_that_waits_does_not_stall_the_supervisor() {
    if !require_kernel() {
        return;
    }
    let t = TempDir::new("full");
    let sock = t.p("s");
    let (l, _filler) = full_listener(&sock);
    let (other, port) = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let p = l.local_addr().unwrap().port();
        (l, p)
    };
    // The test accepts the filler and the waiting connection only after 2 s.
    let acceptor = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        let a = l.accept().unwrap();
        let b = l.accept().unwrap();
        (a, b)
    });
    let magic = [
        "-m",
        DENY,
        "-m",
        &format!("allowlist/network/connect+unix:{sock}"),
        "-m",
        &format!("allowlist/network/connect+inet:127.0.0.1@{port}"),
    ]
    .map(str::to_owned);
    let inet = format!("127.0.0.1:{port}");
    let script =
        r#""$P" connect unix "$1" & sleep 0.5; "$P" connect inet "$2"; echo second-done; wait"#;
    let mut v: Vec<&str> = magic.iter().map(String::as_str).collect();
    v.extend(["--", "/bin/sh", "-c", script, "sh", &sock, &inet]);
    let start = std::time::Instant::now();
    let out = syd(&v).env("P", probe_path()).run();
    let _conns = acceptor.join().unwrap();
    drop(other);
    // The second process was answered while the first connect waited; the first completed
    // once the test accepted.
    assert_eq!(out.stdout, "ok 0\nsecond-done\nok 0\n", "{out:#?}");
    assert!(start.elapsed() >= Duration::from_secs(2), "{out:#?}");
    assert_eq!(out.code(), Some(0), "{out:#?}");
}

#[test]
fn a_waiting_connect_of_a_killed_process_is_dropped() {
    if !require_kernel() {
        return;
    }
    let t = TempDir::new("killed");
    let sock = t.p("s");
    let (l, _filler) = full_listener(&sock);
    let allow = format!("allowlist/network/connect+unix:{sock}");
    let script = r#""$P" connect unix "$1" & p=$!; sleep 0.5; kill -KILL $p; wait $p; echo "killed $?"; sleep 0.3; "$P" connect unix "$1.no""#;
    let out = syd(&[
        "-m", DENY, "-m", &allow, "--", "/bin/sh", "-c", script, "sh", &sock,
    ])
    .env("P", probe_path())
    .run();
    // A later notified call is answered (denied, as its path is not allowed).
    assert_eq!(out.stdout, "killed 137\nerr ECONNREFUSED\n", "{out:#?}");
    // Only the filler is queued: the dropped call never connected.
    only_the_filler_arrives(&l);
}

#[test]
fn a_signal_interrupts_a_waiting_connect() {
    if !require_kernel() {
        return;
    }
    let t = TempDir::new("intr");
    let sock = t.p("s");
    let (l, _filler) = full_listener(&sock);
    let m = [
        DENY.to_owned(),
        format!("allowlist/network/connect+unix:{sock}"),
    ];
    let out = run(&m, &["connect-intr", "unix", &sock]);
    assert_eq!(out.stdout, "err EINTR\n", "{out:#?}");
    // The interrupted call was dropped: once the filler is accepted, nothing else arrives.
    only_the_filler_arrives(&l);
}

#[test]
fn a_datagram_send_that_waits_does_not_stall_the_supervisor() {
    if !require_kernel() {
        return;
    }
    let t = TempDir::new("dgram");
    let path = t.p("r");
    let rx = UnixDatagram::bind(&path).unwrap();
    // Fill the receiver's queue (net.unix.max_dgram_qlen) from the test.
    let tx = UnixDatagram::unbound().unwrap();
    tx.set_nonblocking(true).unwrap();
    let mut queued = 0;
    while tx.send_to(b"f", &path).is_ok() {
        queued += 1;
        assert!(queued < 100_000, "the receiver's queue never fills");
    }
    let (other, port) = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let p = l.local_addr().unwrap().port();
        (l, p)
    };
    // The test drains the queue only after 2 s.
    let drain = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        let mut b = [0u8; 8];
        for _ in 0..=queued {
            rx.recv(&mut b).unwrap();
        }
        b[0]
    });
    let allow_rx = format!("allowlist/network/connect+unix:{path}");
    let allow_tcp = format!("allowlist/network/connect+inet:127.0.0.1@{port}");
    let inet = format!("127.0.0.1:{port}");
    let script =
        r#""$P" sendto unix "$1" & sleep 0.5; "$P" connect inet "$2"; echo second-done; wait"#;
    let out = syd(&[
        "-m", DENY, "-m", &allow_rx, "-m", &allow_tcp, "--", "/bin/sh", "-c", script, "sh", &path,
        &inet,
    ])
    .env("P", probe_path())
    .run();
    // The last datagram received is the sandboxed one.
    assert_eq!(drain.join().unwrap(), b'x');
    drop(other);
    assert_eq!(out.stdout, "ok 0\nsecond-done\nok 1\n", "{out:#?}");
    assert_eq!(out.code(), Some(0), "{out:#?}");
}

#[test]
fn connect_results_pass_through() {
    if !require_kernel() {
        return;
    }
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let closed = {
        let c = TcpListener::bind("127.0.0.1:0").unwrap();
        c.local_addr().unwrap().port()
    };
    let magic = [
        DENY.to_owned(),
        format!("allowlist/network/connect+inet:127.0.0.1@{port}"),
        format!("allowlist/network/connect+inet:127.0.0.1@{closed}"),
    ];
    let a = format!("127.0.0.1:{port}");
    // Non-blocking: EINPROGRESS at once, then connected.
    let out = run(&magic, &["connect-nonblock", "inet", &a]);
    assert_eq!(out.stdout, "first EINPROGRESS\nthen 0\n", "{out:#?}");
    // A second connect of a connected socket: EISCONN.
    let out = run(&magic, &["connect-twice", "inet", &a]);
    assert_eq!(out.stdout, "ok 0\nerr EISCONN\n", "{out:#?}");
    // Nobody listens: the kernel's ECONNREFUSED, and no report.
    let c = format!("127.0.0.1:{closed}");
    let out = run(&magic, &["connect", "inet", &c]);
    assert_eq!(out.stdout, "err ECONNREFUSED\n", "{out:#?}");
    assert!(!out.stderr.contains("Access Violation"), "{out:#?}");
    // Denied: the policy's errno, reported.
    let out = run(&[DENY.to_owned()], &["connect", "inet", &a]);
    assert_eq!(out.stdout, "err ECONNREFUSED\n", "{out:#?}");
    assert!(
        out.stderr
            .contains(&format!("connect(3, inet:127.0.0.1@{port})")),
        "{out:#?}"
    );
    // A UNIX listener with a full backlog: a non-blocking connect gets EAGAIN at once.
    let t = TempDir::new("eagain");
    let sock = t.p("s");
    let (_l, _filler) = full_listener(&sock);
    let m = [
        DENY.to_owned(),
        format!("allowlist/network/connect+unix:{sock}"),
    ];
    let out = run(&m, &["connect-nonblock", "unix", &sock]);
    assert_eq!(out.stdout, "first EAGAIN\n", "{out:#?}");
    drop(l);
}

/// Root runs syd and the command runs as nobody (UNIX calls are then checked and continued),
/// or syd itself runs as nobody (they are emulated): either way the socket file's permissions
/// are the caller's.
#[test]
fn emulated_unix_connect_keeps_the_callers_permissions() {
    if !require_kernel() {
        return;
    }
    if !skip_unless(common::is_root(), "needs root to run the command as nobody") {
        return;
    }
    let t = TempDir::new("perm");
    std::fs::set_permissions(&t.0, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let sock = t.p("s");
    let l = UnixListener::bind(&sock).unwrap();
    let u = common::NOBODY.to_string();
    let probe = common::probe_path_for_everyone()
        .to_str()
        .unwrap()
        .to_owned();
    let allow = format!("allowlist/network/connect+unix:{sock}");
    let as_nobody = || {
        syd(&[
            "-U", &u, "-G", &u, "-m", DENY, "-m", &allow, "--", &probe, "connect", "unix", &sock,
        ])
        .run()
    };
    // The socket file is root's, mode 0755: nobody may not write it, so may not connect.
    std::fs::set_permissions(&sock, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = as_nobody();
    assert_eq!(out.stdout, "err EACCES\n", "{out:#?}");
    // The same with syd itself running as nobody: the tracee has the supervisor's identity,
    // so the supervisor connects for it, with the same permissions.
    let all_nobody = || {
        syd(&[
            "-m",
            DENY,
            "-m",
            &allow,
            "--",
            probe_path(),
            "connect",
            "unix",
            &sock,
        ])
        .unprivileged()
        .run()
    };
    let out = all_nobody();
    assert_eq!(out.stdout, "err EACCES\n", "{out:#?}");
    // Mode 0777: it may.
    std::fs::set_permissions(&sock, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let out = as_nobody();
    assert_eq!(out.stdout, "ok 0\n", "{out:#?}");
    let out = all_nobody();
    assert_eq!(out.stdout, "ok 0\n", "{out:#?}");
    drop(l);
}
