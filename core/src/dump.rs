//! Dump records (`-d`, SPEC §7.5): one JSON object per line, written as bytes to a sink.
//!
//! Every record but the first carries `"id"` (a sequence number), `"ts"` (Unix seconds) and
//! `"event":{"id":N,"name":"..."}`.

use crate::report::{put_cmdline, put_int, put_subject, Sink, Subject};

/// Writes `b` as a JSON string (with quotes). Bytes that are not UTF-8 are written as
/// `\u00XX` escapes of their byte value, so the line stays valid JSON.
pub fn put_json_str(out: &mut dyn Sink, b: &[u8]) {
    out.put(b"\"");
    put_json_chars(out, b);
    out.put(b"\"");
}

/// Writes `b` JSON-escaped, without the quotes (see [`put_json_str`]). Text written in pieces
/// stays valid as long as no piece splits a UTF-8 sequence.
pub fn put_json_chars(out: &mut dyn Sink, b: &[u8]) {
    let hex = b"0123456789abcdef";
    let esc = |out: &mut dyn Sink, c: u8| {
        let e = [
            b'\\',
            b'u',
            b'0',
            b'0',
            hex.get(usize::from(c >> 4)).copied().unwrap_or(b'0'),
            hex.get(usize::from(c & 15)).copied().unwrap_or(b'0'),
        ];
        out.put(&e);
    };
    for chunk in b.utf8_chunks() {
        let valid = chunk.valid().as_bytes();
        let mut start = 0;
        for (i, &c) in valid.iter().enumerate() {
            let special: Option<&[u8]> = match c {
                b'"' => Some(b"\\\""),
                b'\\' => Some(b"\\\\"),
                b'\n' => Some(b"\\n"),
                b'\t' => Some(b"\\t"),
                b'\r' => Some(b"\\r"),
                _ => None,
            };
            if special.is_some() || c < 0x20 {
                out.put(valid.get(start..i).unwrap_or(&[]));
                match special {
                    Some(s) => out.put(s),
                    None => esc(out, c),
                }
                start = i + 1;
            }
        }
        out.put(valid.get(start..).unwrap_or(&[]));
        for &c in chunk.invalid() {
            esc(out, c);
        }
    }
}

/// The event of a record (SPEC §7.5 table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// 7 `startup`.
    Startup,
    /// 15, the violation record.
    Oops,
    /// 9 `exit`.
    Exit,
    /// 19 `kill`.
    Kill,
    /// 4 `intr`: a signal received by syd.
    Intr,
    /// 8 `sys`: a checked syscall.
    Sys,
}

impl Event {
    /// The event number and name.
    pub const fn id_name(self) -> (i64, &'static str) {
        match self {
            Event::Startup => (7, "startup"),
            Event::Oops => (15, "\u{262e}\u{262e}ps"),
            Event::Exit => (9, "exit"),
            Event::Kill => (19, "kill"),
            Event::Intr => (4, "intr"),
            Event::Sys => (8, "sys"),
        }
    }
}

/// Writes the opening of a record: `{"id":N,"ts":T,"event":{"id":E,"name":"..."}`.
pub fn open(out: &mut dyn Sink, id: u64, ts: i64, event: Event) {
    let (eid, name) = event.id_name();
    out.put(b"{\"id\":");
    // Record numbers stay far below i64::MAX.
    put_int(out, id as i64);
    out.put(b",\"ts\":");
    put_int(out, ts);
    out.put(b",\"event\":{\"id\":");
    put_int(out, eid);
    out.put(b",\"name\":");
    put_json_str(out, name.as_bytes());
    out.put(b"}");
}

/// Writes `,"key":<integer>`.
pub fn field_int(out: &mut dyn Sink, key: &str, v: i64) {
    out.put(b",\"");
    out.put(key.as_bytes());
    out.put(b"\":");
    put_int(out, v);
}

/// Writes `,"key":"<string>"`.
pub fn field_str(out: &mut dyn Sink, key: &str, v: &[u8]) {
    out.put(b",\"");
    out.put(key.as_bytes());
    out.put(b"\":");
    put_json_str(out, v);
}

/// Closes a record with `}` and a newline.
// Out of line: inlined, it made the `syd` binary bigger (size budget).
#[inline(never)]
pub fn close(out: &mut dyn Sink) {
    out.put(b"}\n");
}

/// Writes `,"key":"` then what `f` writes, JSON-escaped, then `"`.
fn field_with(out: &mut dyn Sink, key: &str, f: impl FnOnce(&mut dyn Sink)) {
    out.put(b",\"");
    out.put(key.as_bytes());
    out.put(b"\":\"");
    f(&mut |b: &[u8]| put_json_chars(out, b));
    out.put(b"\"");
}

/// What a violation record (event 15) says about the caller.
#[derive(Clone, Copy, Debug)]
pub struct Oops<'a> {
    /// The thread that made the call.
    pub pid: i32,
    /// Its thread group.
    pub tgid: i32,
    /// Its parent process.
    pub ppid: i32,
    /// The system call name.
    pub sys: &'a str,
    /// What was denied: the context of the report.
    pub subject: Subject<'a>,
    /// `/proc/<pid>/comm`, without the newline.
    pub comm: &'a [u8],
    /// `/proc/<pid>/cmdline` as read (NUL separated).
    pub cmdline: &'a [u8],
    /// The caller's current directory.
    pub cwd: &'a [u8],
}

/// The violation record: `pid`, `sys`, `syd` (the report's context), `comm`, `cmd` (the command
/// line as the report shows it), `cwd`, `ppid`, `tgid`, and `proc` with `ppid`, `tgid` and
/// `cwd` (the same values: syd reads them all from /proc).
// Out of line: inlined into its caller it made the `syd` binary bigger (size budget).
#[inline(never)]
pub fn oops(out: &mut dyn Sink, id: u64, ts: i64, o: &Oops<'_>) {
    open(out, id, ts, Event::Oops);
    field_int(out, "pid", i64::from(o.pid));
    field_str(out, "sys", o.sys.as_bytes());
    field_with(out, "syd", |s| put_subject(s, &o.subject));
    field_str(out, "comm", o.comm);
    field_with(out, "cmd", |s| put_cmdline(s, o.cmdline));
    field_str(out, "cwd", o.cwd);
    field_int(out, "ppid", i64::from(o.ppid));
    field_int(out, "tgid", i64::from(o.tgid));
    out.put(b",\"proc\":{\"ppid\":");
    put_int(out, i64::from(o.ppid));
    out.put(b",\"tgid\":");
    put_int(out, i64::from(o.tgid));
    out.put(b",\"cwd\":");
    put_json_str(out, o.cwd);
    out.put(b"}");
    close(out);
}

/// The startup record: the eldest process and its command line (arguments separated by
/// spaces).
pub fn startup(out: &mut dyn Sink, id: u64, ts: i64, pid: i32, cmd: &[u8]) {
    open(out, id, ts, Event::Startup);
    field_int(out, "pid", i64::from(pid));
    field_str(out, "cmd", cmd);
    close(out);
}

/// Process counts of the exit record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Procs {
    /// Processes (thread groups) seen.
    pub total: u64,
    /// Of those, still running.
    pub alive: u64,
    /// Of those, exited but not reaped.
    pub zombie: u64,
}

/// The exit record: the eldest process, its exit code and the process counts.
pub fn exit(out: &mut dyn Sink, id: u64, ts: i64, pid: i32, code: i32, procs: Procs) {
    open(out, id, ts, Event::Exit);
    field_int(out, "pid", i64::from(pid));
    field_int(out, "code", i64::from(code));
    // The counts are numbers of processes, far below i64::MAX.
    out.put(b",\"proc\":{\"total\":");
    put_int(out, procs.total as i64);
    out.put(b",\"alive\":");
    put_int(out, procs.alive as i64);
    out.put(b",\"zombie\":");
    put_int(out, procs.zombie as i64);
    out.put(b"}");
    close(out);
}

/// The kill record: a process syd killed, its name and the signal.
pub fn kill(out: &mut dyn Sink, id: u64, ts: i64, pid: i32, comm: &[u8], sig: i32) {
    open(out, id, ts, Event::Kill);
    field_int(out, "pid", i64::from(pid));
    field_str(out, "comm", comm);
    field_int(out, "sig", i64::from(sig));
    close(out);
}

/// The intr record: a signal syd received and what it did about it (`op`); `name` is null.
pub fn intr(out: &mut dyn Sink, id: u64, ts: i64, sig: i32, op: &str) {
    open(out, id, ts, Event::Intr);
    field_int(out, "sig", i64::from(sig));
    field_str(out, "op", op.as_bytes());
    out.put(b",\"name\":null");
    close(out);
}

/// The first record: `{"id":0,"syd":2,"cmd":{...},"arch":[...]}`.
pub fn init(
    out: &mut dyn Sink,
    name: &[u8],
    path: &[u8],
    startas: &[u8],
    hash: &[u8],
    arches: &[&str],
) {
    out.put(b"{\"id\":0,\"syd\":2,\"cmd\":{\"name\":");
    put_json_str(out, name);
    out.put(b",\"path\":");
    put_json_str(out, path);
    out.put(b",\"as\":");
    put_json_str(out, startas);
    out.put(b",\"hash\":");
    put_json_str(out, hash);
    out.put(b"},\"arch\":[");
    for (i, a) in arches.iter().enumerate() {
        if i > 0 {
            out.put(b",");
        }
        put_json_str(out, a.as_bytes());
    }
    out.put(b"]}\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    fn text(f: impl FnOnce(&mut dyn Sink)) -> String {
        let mut v = Vec::new();
        f(&mut |b: &[u8]| v.extend_from_slice(b));
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn strings_are_json() {
        assert_eq!(
            text(|o| put_json_str(o, b"a\"b\\c\nd\x01")),
            r#""a\"b\\c\nd\u0001""#
        );
        assert_eq!(text(|o| put_json_str(o, b"x\xffy")), r#""x\u00ffy""#);
        assert_eq!(text(|o| put_json_str(o, "☮".as_bytes())), "\"☮\"");
    }

    #[test]
    fn records() {
        let init = text(|o| init(o, b"sh", b"/bin/sh", b"", b"", &["x86_64", "x86"]));
        assert_eq!(
            init,
            "{\"id\":0,\"syd\":2,\"cmd\":{\"name\":\"sh\",\"path\":\"/bin/sh\",\"as\":\"\",\
             \"hash\":\"\"},\"arch\":[\"x86_64\",\"x86\"]}\n"
        );
        let oops = text(|o| {
            open(o, 3, 100, Event::Oops);
            field_int(o, "pid", 42);
            field_str(o, "sys", b"openat");
            close(o);
        });
        assert_eq!(
            oops,
            "{\"id\":3,\"ts\":100,\"event\":{\"id\":15,\"name\":\"☮☮ps\"},\"pid\":42,\
             \"sys\":\"openat\"}\n"
        );
    }

    #[test]
    fn event_records() {
        let oops_line = text(|o| {
            oops(
                o,
                1,
                5,
                &Oops {
                    pid: 11,
                    tgid: 10,
                    ppid: 9,
                    sys: "openat",
                    subject: Subject::Path {
                        name: "openat",
                        index: 0,
                        path: b"/a\"b\n",
                        prefix: None,
                    },
                    comm: b"cat",
                    cmdline: b"cat\0/a\0",
                    cwd: b"/t",
                },
            )
        });
        assert_eq!(
            oops_line,
            "{\"id\":1,\"ts\":5,\"event\":{\"id\":15,\"name\":\"☮☮ps\"},\"pid\":11,\
             \"sys\":\"openat\",\"syd\":\"openat(`/a\\\"b\\\\x0a')\",\"comm\":\"cat\",\
             \"cmd\":\"cat /a\",\"cwd\":\"/t\",\"ppid\":9,\"tgid\":10,\
             \"proc\":{\"ppid\":9,\"tgid\":10,\"cwd\":\"/t\"}}\n"
        );
        let table: [(String, &str); 4] = [
            (
                text(|o| startup(o, 1, 5, 42, b"sh -c x")),
                "{\"id\":1,\"ts\":5,\"event\":{\"id\":7,\"name\":\"startup\"},\"pid\":42,\
                 \"cmd\":\"sh -c x\"}\n",
            ),
            (
                text(|o| {
                    let p = Procs {
                        total: 3,
                        alive: 1,
                        zombie: 0,
                    };
                    exit(o, 7, 6, 42, 130, p)
                }),
                "{\"id\":7,\"ts\":6,\"event\":{\"id\":9,\"name\":\"exit\"},\"pid\":42,\
                 \"code\":130,\"proc\":{\"total\":3,\"alive\":1,\"zombie\":0}}\n",
            ),
            (
                text(|o| kill(o, 2, 5, 43, b"sh", 9)),
                "{\"id\":2,\"ts\":5,\"event\":{\"id\":19,\"name\":\"kill\"},\"pid\":43,\
                 \"comm\":\"sh\",\"sig\":9}\n",
            ),
            (
                text(|o| intr(o, 3, 5, 15, "forward")),
                "{\"id\":3,\"ts\":5,\"event\":{\"id\":4,\"name\":\"intr\"},\"sig\":15,\
                 \"op\":\"forward\",\"name\":null}\n",
            ),
        ];
        for (got, want) in table {
            assert_eq!(got, want);
        }
        let noexec = text(|o| init(o, b"noexec", b"", b"", b"<noexec>", &[]));
        assert!(
            noexec.contains("\"hash\":\"<noexec>\"},\"arch\":[]}"),
            "{noexec}"
        );
    }
}
