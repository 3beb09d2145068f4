//! Conformance: every vector of rsync's `wildtest.txt` must hold for `wildmatch`.
//!
//! The file is shared, not copied into the repository: it is read from
//! `$SYD_SHARED/vectors/wildtest.txt` when `SYD_SHARED` is set, else from
//! `<workspace>/../shared/vectors/wildtest.txt`. A missing file fails the test.

use std::path::PathBuf;

use syd_core::wildmatch::wildmatch;

fn vector_file() -> PathBuf {
    let shared = match std::env::var_os("SYD_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join("../shared"),
    };
    shared.join("vectors/wildtest.txt")
}

/// Splits a line into whitespace-separated items; an item that starts with `'`, `"` or `` ` ``
/// runs to the next such quote and may hold whitespace (or be empty).
fn items(mut line: &[u8]) -> Result<Vec<&[u8]>, &'static str> {
    let mut out = Vec::new();
    loop {
        line = line.trim_ascii_start();
        let (item, rest) = match line {
            [] => return Ok(out),
            [quote @ (b'\'' | b'"' | b'`'), inner @ ..] => {
                let len = inner
                    .iter()
                    .position(|b| b == quote)
                    .ok_or("unterminated quote")?;
                let (item, rest) = inner.split_at(len);
                (item, rest.get(1..).unwrap_or_default())
            }
            _ => line.split_at(
                line.iter()
                    .position(|b| b.is_ascii_whitespace())
                    .unwrap_or(line.len()),
            ),
        };
        out.push(item);
        line = rest;
    }
}

#[test]
fn rsync_wildtest_vectors() {
    let path = vector_file();
    let data = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the rsync wildmatch vectors at {} ({e}); set SYD_SHARED to the \
             directory holding vectors/wildtest.txt",
            path.display()
        )
    });
    let mut count = 0;
    let mut failures = Vec::new();
    for (number, line) in data.split(|&b| b == b'\n').enumerate() {
        let number = number + 1;
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() || trimmed.starts_with(b"#") {
            continue;
        }
        let fields = items(trimmed).unwrap_or_else(|e| panic!("line {number}: {e}"));
        let [expected, _fnmatch_same, text, pattern] = fields[..] else {
            panic!("line {number}: want 4 items, got {}", fields.len());
        };
        let expected = match expected {
            b"1" => true,
            b"0" => false,
            _ => panic!("line {number}: MATCH must be 0 or 1"),
        };
        count += 1;
        if wildmatch(pattern, text) != expected {
            failures.push(format!(
                "line {number}: pattern {:?} text {:?}: expected {expected}",
                String::from_utf8_lossy(pattern),
                String::from_utf8_lossy(text),
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Guard against a parser that silently skips everything.
    assert!(
        count > 100,
        "only {count} vectors parsed from {}",
        path.display()
    );
}

#[test]
fn item_splitting() {
    let rows: &[(&[u8], &[&[u8]])] = &[
        (b"1 1 foo\t\tfoo", &[b"1", b"1", b"foo", b"foo"]),
        (b"1 1 ''\t\"\"", &[b"1", b"1", b"", b""]),
        (b"1 1 ' '\t'[ --]'", &[b"1", b"1", b" ", b"[ --]"]),
        (b"0 1 `a b` \\", &[b"0", b"1", b"a b", b"\\"]),
        (b"1 1 a\"b x", &[b"1", b"1", b"a\"b", b"x"]),
    ];
    for &(line, want) in rows {
        assert_eq!(
            items(line).unwrap(),
            want,
            "{:?}",
            String::from_utf8_lossy(line)
        );
    }
    assert!(items(b"1 1 'open").is_err());
}
