//! Violation reports in the seed's format (SPEC §7.3), written as bytes to a caller's sink.
//!
//! ```text
//! sydbox@<T>: -- Access Violation! --
//! sydbox@<T>: process id=<tid> (abi=<abi> name:`<comm>')
//! sydbox@<T>: cwd: `<cwd>'
//! sydbox@<T>: cmdline: `<cmdline>'
//! sydbox@<T>: <context>
//! ```

use crate::addr::{family_name, SockAddr};

/// Longest command line shown in a report, in bytes (SPEC §7.3).
pub const MAX_CMDLINE: usize = 124;

/// What a violation was about: the last line of the report.
#[derive(Clone, Copy, Debug)]
pub enum Subject<'a> {
    /// A path argument: `name(?, `path')` with `?, ` for each argument before it, and the dirfd's
    /// path as `prefix` for relative paths of `*at` calls.
    Path {
        /// Syscall name.
        name: &'a str,
        /// Index of the path argument, counting only from the dirfd (if any) on.
        index: usize,
        /// The path as the task passed it.
        path: &'a [u8],
        /// The directory a relative path is relative to, when it is a dirfd.
        prefix: Option<&'a [u8]>,
    },
    /// `fchdir(?)`.
    Fchdir,
    /// An exec: `name(`canonical path')`.
    Exec {
        /// Syscall name.
        name: &'a str,
        /// The canonical path.
        path: &'a [u8],
    },
    /// A network address: `name(fd, address)`.
    Net {
        /// Syscall name.
        name: &'a str,
        /// The socket.
        fd: i64,
        /// The address.
        addr: SockAddr<'a>,
    },
    /// A family patterns cannot name: `name(fd, ?:AF_NAME)`.
    Family {
        /// Syscall name.
        name: &'a str,
        /// The socket.
        fd: i64,
        /// The family number.
        family: u16,
    },
    /// A failure reported under `raise_fail`: `name()` or `name(`path')`.
    Fail {
        /// Syscall name.
        name: &'a str,
        /// The path, if one was read.
        path: Option<&'a [u8]>,
    },
}

/// One violation report.
#[derive(Clone, Copy, Debug)]
pub struct Report<'a> {
    /// Unix time in seconds.
    pub time: i64,
    /// The caller's thread id.
    pub tid: i32,
    /// Index of the caller's ABI among the filter's ABIs (0 = native).
    pub abi: usize,
    /// `/proc/<tid>/comm`, without the newline.
    pub comm: &'a [u8],
    /// The caller's cwd.
    pub cwd: &'a [u8],
    /// `/proc/<pid>/cmdline` as read (NUL separated), if readable.
    pub cmdline: Option<&'a [u8]>,
    /// What was denied.
    pub subject: Subject<'a>,
}

/// A byte sink for reports; implemented for closures.
pub trait Sink {
    /// Appends bytes.
    fn put(&mut self, b: &[u8]);
}

impl<F: FnMut(&[u8])> Sink for F {
    fn put(&mut self, b: &[u8]) {
        self(b)
    }
}

/// Writes an integer in decimal.
pub fn put_int(out: &mut dyn Sink, n: i64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        if let Some(slot) = buf.get_mut(i) {
            // v % 10 < 10 fits a u8.
            *slot = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if n < 0 {
        out.put(b"-");
    }
    out.put(buf.get(i..).unwrap_or(&[]));
}

/// Writes bytes with control characters escaped as `\xNN`, so that a hostile path cannot forge
/// report lines.
pub fn put_escaped(out: &mut dyn Sink, b: &[u8]) {
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        if c < 0x20 || c == 0x7f {
            out.put(b.get(start..i).unwrap_or(&[]));
            let hex = b"0123456789abcdef";
            let esc = [
                b'\\',
                b'x',
                hex.get(usize::from(c >> 4)).copied().unwrap_or(b'0'),
                hex.get(usize::from(c & 15)).copied().unwrap_or(b'0'),
            ];
            out.put(&esc);
            start = i + 1;
        }
    }
    out.put(b.get(start..).unwrap_or(&[]));
}

/// Writes a command line as reports show it: printable bytes only, NUL separators as single
/// spaces, no trailing space, at most [`MAX_CMDLINE`] bytes.
pub fn put_cmdline(out: &mut dyn Sink, cmdline: &[u8]) {
    let mut buf = [0u8; MAX_CMDLINE];
    let mut n = 0;
    let trimmed = match cmdline.iter().rposition(|&b| b != 0) {
        Some(last) => cmdline.get(..=last).unwrap_or(&[]),
        None => &[],
    };
    for &c in trimmed {
        let c = if c == 0 { b' ' } else { c };
        if !(0x20..0x7f).contains(&c) {
            continue;
        }
        let Some(slot) = buf.get_mut(n) else { break };
        *slot = c;
        n += 1;
    }
    out.put(buf.get(..n).unwrap_or(&[]));
}

fn line(out: &mut dyn Sink, time: i64) {
    out.put(b"sydbox@");
    put_int(out, time);
    out.put(b": ");
}

/// Writes the context line's text (without prefix or newline).
pub fn put_subject(out: &mut dyn Sink, s: &Subject<'_>) {
    match *s {
        Subject::Path {
            name,
            index,
            path,
            prefix,
        } => {
            out.put(name.as_bytes());
            out.put(b"(");
            for _ in 0..index {
                out.put(b"?, ");
            }
            out.put(b"`");
            put_escaped(out, path);
            out.put(b"'");
            if let Some(p) = prefix {
                out.put(b", prefix=`");
                put_escaped(out, p);
                out.put(b"'");
            }
            out.put(b")");
        }
        Subject::Fchdir => out.put(b"fchdir(?)"),
        Subject::Exec { name, path } => {
            out.put(name.as_bytes());
            out.put(b"(`");
            put_escaped(out, path);
            out.put(b"')");
        }
        Subject::Net { name, fd, addr } => {
            out.put(name.as_bytes());
            out.put(b"(");
            put_int(out, fd);
            out.put(b", ");
            let mut text = heapless::String::<{ crate::limits::PATH_MAX * 4 + 64 }>::new();
            if core::fmt::write(&mut text, format_args!("{addr}")).is_ok() {
                out.put(text.as_bytes());
            }
            out.put(b")");
        }
        Subject::Family { name, fd, family } => {
            out.put(name.as_bytes());
            out.put(b"(");
            put_int(out, fd);
            out.put(b", ?:");
            out.put(family_name(family).as_bytes());
            out.put(b")");
        }
        Subject::Fail { name, path } => {
            out.put(name.as_bytes());
            out.put(b"(");
            if let Some(p) = path {
                out.put(b"`");
                put_escaped(out, p);
                out.put(b"'");
            }
            out.put(b")");
        }
    }
}

/// Writes the whole report, each line ending in `\n`.
pub fn write_report(out: &mut dyn Sink, r: &Report<'_>) {
    line(out, r.time);
    out.put(b"-- Access Violation! --\n");
    line(out, r.time);
    out.put(b"process id=");
    put_int(out, i64::from(r.tid));
    out.put(b" (abi=");
    // The ABI index is tiny (at most the number of ABIs).
    put_int(out, r.abi as i64);
    out.put(b" name:`");
    put_escaped(out, r.comm);
    out.put(b"')\n");
    line(out, r.time);
    out.put(b"cwd: `");
    put_escaped(out, r.cwd);
    out.put(b"'\n");
    if let Some(c) = r.cmdline {
        line(out, r.time);
        out.put(b"cmdline: `");
        put_cmdline(out, c);
        out.put(b"'\n");
    }
    line(out, r.time);
    put_subject(out, &r.subject);
    out.put(b"\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    fn render(r: &Report<'_>) -> String {
        let mut v = Vec::new();
        write_report(&mut |b: &[u8]| v.extend_from_slice(b), r);
        String::from_utf8(v).unwrap()
    }

    fn subject(s: Subject<'_>) -> String {
        let mut v = Vec::new();
        put_subject(&mut |b: &[u8]| v.extend_from_slice(b), &s);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn seed_example() {
        let r = Report {
            time: 3141592653,
            tid: 20926,
            abi: 0,
            comm: b"cat",
            cwd: b"/home/alip",
            cmdline: Some(b"cat\0/etc/shadow\0"),
            subject: Subject::Path {
                name: "open",
                index: 0,
                path: b"/etc/shadow",
                prefix: None,
            },
        };
        assert_eq!(
            render(&r),
            "sydbox@3141592653: -- Access Violation! --\n\
             sydbox@3141592653: process id=20926 (abi=0 name:`cat')\n\
             sydbox@3141592653: cwd: `/home/alip'\n\
             sydbox@3141592653: cmdline: `cat /etc/shadow'\n\
             sydbox@3141592653: open(`/etc/shadow')\n"
        );
        // No cmdline line when it could not be read.
        let r = Report { cmdline: None, ..r };
        assert_eq!(render(&r).lines().count(), 4);
    }

    #[test]
    fn subjects() {
        let cases: &[(Subject<'_>, &str)] = &[
            (
                Subject::Path {
                    name: "link",
                    index: 1,
                    path: b"/srv/new",
                    prefix: None,
                },
                "link(?, `/srv/new')",
            ),
            (
                Subject::Path {
                    name: "openat",
                    index: 0,
                    path: b"x",
                    prefix: Some(b"/srv"),
                },
                "openat(`x', prefix=`/srv')",
            ),
            (Subject::Fchdir, "fchdir(?)"),
            (
                Subject::Exec {
                    name: "execve",
                    path: b"/bin/sh",
                },
                "execve(`/bin/sh')",
            ),
            (
                Subject::Net {
                    name: "connect",
                    fd: 3,
                    addr: SockAddr::Inet {
                        addr: [8, 8, 8, 8],
                        port: 53,
                    },
                },
                "connect(3, inet:8.8.8.8@53)",
            ),
            (
                Subject::Family {
                    name: "connect",
                    fd: 4,
                    family: 16,
                },
                "connect(4, ?:AF_NETLINK)",
            ),
            (
                Subject::Fail {
                    name: "open",
                    path: None,
                },
                "open()",
            ),
            (
                Subject::Path {
                    name: "open",
                    index: 0,
                    path: b"/a\nsydbox@1: fake",
                    prefix: None,
                },
                "open(`/a\\x0asydbox@1: fake')",
            ),
        ];
        for (s, want) in cases {
            assert_eq!(subject(*s), *want);
        }
    }

    #[test]
    fn cmdline_rules() {
        let mut v = Vec::new();
        put_cmdline(&mut |b: &[u8]| v.extend_from_slice(b), b"a\0b\x01c\0\0");
        assert_eq!(v, b"a bc");
        let long = [b'x'; 300];
        let mut v = Vec::new();
        put_cmdline(&mut |b: &[u8]| v.extend_from_slice(b), &long);
        assert_eq!(v.len(), MAX_CMDLINE);
        let mut v = Vec::new();
        put_int(&mut |b: &[u8]| v.extend_from_slice(b), i64::MIN);
        assert_eq!(v, b"-9223372036854775808");
    }
}
