//! Dump records (`-d`, SPEC §7.5): one JSON object per line, written as bytes to a sink.
//!
//! Every record but the first carries `"id"` (a sequence number), `"ts"` (Unix seconds) and
//! `"event":{"id":N,"name":"..."}`.

use crate::report::{put_int, Sink};

/// Writes `b` as a JSON string (with quotes). Bytes that are not UTF-8 are written as
/// `\u00XX` escapes of their byte value, so the line stays valid JSON.
pub fn put_json_str(out: &mut dyn Sink, b: &[u8]) {
    out.put(b"\"");
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
    out.put(b"\"");
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
pub fn close(out: &mut dyn Sink) {
    out.put(b"}\n");
}

/// The first record: `{"id":0,"syd":2,"cmd":{...},"arch":[...]}`.
pub fn init(out: &mut dyn Sink, name: &[u8], path: &[u8], startas: &[u8], arches: &[&str]) {
    out.put(b"{\"id\":0,\"syd\":2,\"cmd\":{\"name\":");
    put_json_str(out, name);
    out.put(b",\"path\":");
    put_json_str(out, path);
    out.put(b",\"as\":");
    put_json_str(out, startas);
    out.put(b",\"hash\":\"\"},\"arch\":[");
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
        let init = text(|o| init(o, b"sh", b"/bin/sh", b"", &["x86_64", "x86"]));
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
}
