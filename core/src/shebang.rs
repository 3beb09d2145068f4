//! The interpreter line of a `#!` script, read as the kernel's `binfmt_script` reads it
//! (fs/binfmt_script.c, Linux 5.1 and later): the first [`BINPRM_BUF_SIZE`] bytes of the file,
//! `#!`, optional blanks, then the interpreter up to a blank, a NUL or the end of the line.

/// How many bytes of a file the kernel looks at to pick a binary format (`BINPRM_BUF_SIZE`,
/// include/uapi/linux/binfmts.h, 256 since Linux 5.1).
pub const BINPRM_BUF_SIZE: usize = 256;

/// How many interpreters the kernel follows for one exec, a script naming a script and so on
/// (`BINPRM_MAX_RECURSION`, include/linux/binfmts.h): one more fails with `ELOOP`.
pub const BINPRM_MAX_RECURSION: usize = 4;

/// Where in `head` (a file's first bytes, at most [`BINPRM_BUF_SIZE`] of them count) the
/// interpreter of a `#!` script is named, or `None` if `head` is no `#!` script the kernel
/// would run: no `#!`, an empty interpreter, or an interpreter name that runs to the end of a
/// full buffer without a newline (the kernel refuses a possibly truncated name with
/// `ENOEXEC`). The name ends before `head.len()` or at it, below [`BINPRM_BUF_SIZE`].
pub fn parse_interpreter(head: &[u8]) -> Option<core::ops::Range<usize>> {
    let head = head.get(..BINPRM_BUF_SIZE).unwrap_or(head);
    if !head.starts_with(b"#!") {
        return None;
    }
    let blank = |b: u8| b == b' ' || b == b'\t';
    let mut start = 2;
    while head.get(start).is_some_and(|&b| blank(b)) {
        start += 1;
    }
    let mut end = start;
    while head
        .get(end)
        .is_some_and(|&b| !blank(b) && b != 0 && b != b'\n')
    {
        end += 1;
    }
    // A name that reaches the end of a full buffer may be cut short.
    (end > start && end < BINPRM_BUF_SIZE).then_some(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn interpreters() {
        let cases: &[(&[u8], Option<&[u8]>)] = &[
            (b"#!/bin/sh\necho", Some(b"/bin/sh")),
            (b"#! /bin/sh -e\n", Some(b"/bin/sh")),
            (b"#!\t/usr/bin/env python3\n", Some(b"/usr/bin/env")),
            (b"#!/bin/sh", Some(b"/bin/sh")),
            (b"#!/bin/sh\0junk\n", Some(b"/bin/sh")),
            (b"#!rel\n", Some(b"rel")),
            (b"#!\n/bin/sh\n", None),
            (b"#!   \n", None),
            (b"#!", None),
            (b"# !/bin/sh\n", None),
            (b"\x7fELF", None),
            (b"", None),
        ];
        for (head, want) in cases {
            let got = parse_interpreter(head).map(|r| &head[r]);
            assert_eq!(got, *want, "{head:?}");
        }
    }

    #[test]
    fn full_buffer_without_newline() {
        // A name that fills the buffer may be truncated: refused, as the kernel does.
        let mut long = Vec::from(&b"#!/"[..]);
        long.resize(BINPRM_BUF_SIZE + 10, b'x');
        assert_eq!(parse_interpreter(&long), None);
        // A name that ends before the end of a full buffer is whole, newline or not.
        let mut ok = Vec::from(&b"#!/bin/sh "[..]);
        ok.resize(BINPRM_BUF_SIZE, b'a');
        assert_eq!(parse_interpreter(&ok), Some(2..9));
        // Only the first BINPRM_BUF_SIZE bytes count: a newline after them does not help.
        long.push(b'\n');
        assert_eq!(parse_interpreter(&long), None);
    }
}
