//! The argument cursor: numbers, symbolic words, paths and descriptors of one call.

use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use crate::names;

/// Why a call could not be made: the caller's mistake, or a preparatory step that failed.
#[derive(Debug)]
pub enum Fail {
    /// Bad command line (exit 2).
    Usage(String),
    /// A step before the call under test failed (exit 3): what it was and its errno.
    Setup(String, i32),
}

/// A pointer argument built from a path word: a string, or a deliberately bad pointer.
pub enum Ptr {
    /// `NULL`: the null pointer.
    Null,
    /// `BADPTR`: an address the kernel refuses with `EFAULT` (a kernel-half address).
    Bad,
    /// Any other word: that string, NUL-terminated.
    Str(CString),
}

impl Ptr {
    /// The address to pass to the kernel; valid while `self` lives.
    pub fn addr(&self) -> usize {
        match self {
            Ptr::Null => 0,
            Ptr::Bad => usize::MAX - 4095,
            Ptr::Str(s) => s.as_ptr() as usize,
        }
    }
}

/// Parses a number: decimal, `0x` hex, `0o` or leading-`0` octal, optionally negative, or a
/// symbolic word; several joined by `|` are OR-ed. `None` if any part is neither.
pub fn parse_int(s: &str) -> Option<i64> {
    let mut acc = 0i64;
    for part in s.split('|') {
        acc |= parse_one(part.trim())?;
    }
    Some(acc)
}

fn parse_one(s: &str) -> Option<i64> {
    if let Some(v) = names::symbol(s) {
        return Some(v);
    }
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let magnitude = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        u64::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = digits.strip_prefix("0o") {
        u64::from_str_radix(oct, 8).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        u64::from_str_radix(digits, 8).ok()?
    } else {
        digits.parse::<u64>().ok()?
    };
    // Reinterpreting as two's complement on purpose: 0xffffffffffffffff is -1 to the kernel.
    let v = magnitude as i64;
    Some(if neg { v.wrapping_neg() } else { v })
}

/// The words of one call, consumed left to right.
pub struct Args {
    words: Vec<OsString>,
    pos: usize,
}

impl Args {
    /// A cursor over `words` (the call name already removed).
    pub fn new(words: Vec<OsString>) -> Args {
        Args { words, pos: 0 }
    }

    fn next(&mut self, what: &str) -> Result<&OsStr, Fail> {
        let w = self
            .words
            .get(self.pos)
            .ok_or_else(|| Fail::Usage(format!("missing argument {what}")))?;
        self.pos += 1;
        Ok(w.as_os_str())
    }

    /// Whether words remain.
    pub fn more(&self) -> bool {
        self.pos < self.words.len()
    }

    /// The next word as UTF-8 text.
    pub fn text(&mut self, what: &str) -> Result<String, Fail> {
        let w = self.next(what)?;
        w.to_str()
            .map(str::to_owned)
            .ok_or_else(|| Fail::Usage(format!("{what}: not UTF-8: {w:?}")))
    }

    /// The next word as a number or symbolic words (see [`parse_int`]).
    pub fn int(&mut self, what: &str) -> Result<i64, Fail> {
        let t = self.text(what)?;
        parse_int(&t).ok_or_else(|| Fail::Usage(format!("{what}: not a number or known word: {t}")))
    }

    /// The next word as a number if there is one, else `default`.
    pub fn opt_int(&mut self, what: &str, default: i64) -> Result<i64, Fail> {
        if self.more() {
            self.int(what)
        } else {
            Ok(default)
        }
    }

    /// The next word as raw bytes.
    pub fn bytes(&mut self, what: &str) -> Result<Vec<u8>, Fail> {
        Ok(self.next(what)?.as_bytes().to_vec())
    }

    /// The next word as a path pointer: `NULL`, `BADPTR`, or the string itself.
    pub fn path(&mut self, what: &str) -> Result<Ptr, Fail> {
        let w = self.next(what)?;
        match w.as_bytes() {
            b"NULL" => Ok(Ptr::Null),
            b"BADPTR" => Ok(Ptr::Bad),
            b => cstring(b, what).map(Ptr::Str),
        }
    }

    /// The next word as a file descriptor: a number or word (`AT_FDCWD`), or one the probe
    /// opens first: `open:PATH` (`O_PATH|O_DIRECTORY`), `path:PATH` (`O_PATH`), `read:PATH`
    /// (`O_RDONLY`) or `write:PATH` (`O_WRONLY`). Opening is a setup step (raw `openat`).
    pub fn fd(&mut self, what: &str) -> Result<i64, Fail> {
        let w = self.next(what)?.as_bytes().to_vec();
        let prefixes: [(&[u8], libc::c_int); 4] = [
            (b"open:", libc::O_PATH | libc::O_DIRECTORY),
            (b"path:", libc::O_PATH),
            (b"read:", libc::O_RDONLY),
            (b"write:", libc::O_WRONLY),
        ];
        for (prefix, flags) in prefixes {
            if let Some(p) = w.strip_prefix(prefix) {
                let c = cstring(p, what)?;
                return crate::open_setup(&c, flags);
            }
        }
        let t = String::from_utf8(w).map_err(|_| Fail::Usage(format!("{what}: not UTF-8")))?;
        parse_int(&t).ok_or_else(|| Fail::Usage(format!("{what}: not a descriptor: {t}")))
    }

    /// All remaining words.
    pub fn rest(&mut self) -> Vec<OsString> {
        let r = self.words.get(self.pos..).unwrap_or_default().to_vec();
        self.pos = self.words.len();
        r
    }

    /// Fails if words remain unused.
    pub fn done(&self) -> Result<(), Fail> {
        match self.words.get(self.pos) {
            None => Ok(()),
            Some(w) => Err(Fail::Usage(format!("unexpected argument {w:?}"))),
        }
    }
}

/// `b` as a C string; a NUL inside is a usage error.
pub fn cstring(b: &[u8], what: &str) -> Result<CString, Fail> {
    CString::new(b).map_err(|_| Fail::Usage(format!("{what}: contains a NUL byte")))
}
