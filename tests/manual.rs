//! The manual page `syd.1`: it renders with `man` without a single groff warning, documents every
//! option that `syd -h` lists and has one entry per magic command key of
//! `syd_core::magic::KEYS`, in the common entry format and with the operations the key accepts.
// Test code: clippy.toml's allowances cover only #[test] functions, not their helpers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::process::Command;

use syd_core::magic::{Type, KEYS};

/// The manual page's roff source.
fn source() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/syd.1");
    std::fs::read_to_string(path).expect("read syd.1")
}

/// The source with the escapes this page uses for plain characters replaced by those characters
/// and font changes removed, so that `\-\-dry\-run` reads `--dry-run`.
fn plain(src: &str) -> String {
    let mut s = src.to_owned();
    for (from, to) in [
        ("\\fB", ""),
        ("\\fI", ""),
        ("\\fR", ""),
        ("\\fP", ""),
        ("\\-", "-"),
        ("\\(ga", "`"),
        ("\\(aq", "'"),
        ("\\(ha", "^"),
        ("\\(dq", "\""),
        ("\\(rs", "\\"),
        ("\\e", "\\"),
        ("\\&", ""),
    ] {
        s = s.replace(from, to);
    }
    s
}

/// Whether `text` contains the option `opt` (`-x` or `--name`) as a word of its own: not inside
/// a longer option, file name or word.
fn mentions_option(text: &str, opt: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '/';
    text.match_indices(opt).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + opt.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

/// The options a usage text lists: every `--name`, and every short option, whether alone
/// (`[-d fd]`) or in a cluster (`[-hvblt]`).
fn usage_options(usage: &str) -> Vec<String> {
    let mut out = Vec::new();
    for token in usage.split(|c: char| c.is_whitespace() || c == '[' || c == ']') {
        if let Some(long) = token.strip_prefix("--") {
            let name: String = long
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if !name.is_empty() {
                out.push(format!("--{name}"));
            }
        } else if let Some(shorts) = token.strip_prefix('-') {
            if !shorts.is_empty() && shorts.chars().all(|c| c.is_ascii_alphanumeric()) {
                out.extend(shorts.chars().map(|c| format!("-{c}")));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn usage_options_parses_clusters_and_long_options() {
    let got = usage_options("usage: syd [-hv] [--dry-run] [-d fd|path] [--] cmd [arg...]");
    assert_eq!(got, ["--dry-run", "-d", "-h", "-v"]);
}

#[test]
fn renders_without_warnings() {
    let man = Command::new("man").arg("--version").output();
    if !common::skip_unless(
        man.is_ok_and(|o| o.status.success()),
        "man is not installed (.ci/deps installs man-db)",
    ) {
        return;
    }
    let out = Command::new("man")
        .args([
            "--warnings",
            "-l",
            concat!(env!("CARGO_MANIFEST_DIR"), "/syd.1"),
        ])
        .env("MANWIDTH", "80")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("run man");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "man failed: {stderr}");
    assert!(stderr.is_empty(), "man printed warnings:\n{stderr}");
    let text = String::from_utf8_lossy(&out.stdout);
    for heading in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "SANDBOXING",
        "NETWORK SANDBOXING",
        "PATTERN MATCHING",
        "ADDRESS MATCHING",
        "MAGIC COMMANDS",
        "MAGIC STAT",
        "MAGIC LOCK",
        "CMD/EXEC",
        "CONFIGURATION FILES",
        "RESTRICTIONS",
        "VIOLATIONS",
        "DUMP",
        "SIGNALS",
        "EXIT STATUS",
        "ENVIRONMENT",
        "FILES",
        "SECURITY",
        "EXAMPLES",
        "DIFFERENCES FROM SYDBOX 2.2.0",
        "SEE ALSO",
    ] {
        assert!(
            text.lines().any(|l| l == heading),
            "rendered page lacks the section {heading}"
        );
    }
}

#[test]
fn documents_every_option_of_the_usage() {
    let out = common::syd(&["-h"]).run();
    assert_eq!(out.code(), Some(0), "syd -h: {}", out.stderr);
    let options = usage_options(&out.stdout);
    // The usage must list options at all, or this test would check nothing.
    assert!(options.len() >= 20, "few options in the usage: {options:?}");
    assert!(options.iter().any(|o| o.starts_with("--")));
    let text = plain(&source());
    let lines: Vec<&str> = text.lines().collect();
    for opt in &options {
        assert!(
            mentions_option(&text, opt),
            "syd.1 does not document {opt} (listed by syd -h)"
        );
        // Each option has an entry: a `.TP` whose tag line names it.
        let entry = lines
            .windows(2)
            .any(|w| w[0].starts_with(".TP") && mentions_option(w[1], opt));
        assert!(entry, "syd.1 has no entry (.TP tag) for {opt}");
    }
}

/// The lines of the manual's entry for `key`: from its `.B key` tag line after a `.TP` to the
/// next `.TP` at the same level (the `.IP` description included).
fn entry<'a>(lines: &[&'a str], key: &str) -> Option<Vec<&'a str>> {
    let tag = format!(".B {key}");
    let start = lines
        .windows(2)
        .position(|w| w[0] == ".TP" && w[1] == tag)?;
    let body = &lines[start + 2..];
    let end = body
        .iter()
        .position(|l| *l == ".TP" || l.starts_with(".SH") || l.starts_with(".SS"))
        .unwrap_or(body.len());
    Some(body[..end].to_vec())
}

#[test]
fn documents_every_magic_key() {
    let text = plain(&source());
    let lines: Vec<&str> = text.lines().collect();
    for (i, info) in KEYS.iter().enumerate() {
        let body = entry(&lines, info.name)
            .unwrap_or_else(|| panic!("syd.1 has no entry `.TP` / `.B {}`", info.name));
        let joined = body.join("\n");
        // A second spelling of an earlier key only points to the first.
        if let Some(first) = KEYS[..i].iter().find(|k| k.key == info.key) {
            assert!(
                joined.contains(first.name),
                "the entry of {} does not name {}",
                info.name,
                first.name
            );
            continue;
        }
        // The common format: type, default, operations, scope, in this order.
        let mut at = 0;
        for field in ["Type:", "Default:", "Operations:", "Scope:"] {
            let found = joined[at..]
                .find(field)
                .unwrap_or_else(|| panic!("entry {}: no `{field}` after offset {at}", info.name));
            at += found + field.len();
        }
        let ops_line = body.iter().find(|l| l.starts_with("Operations:")).unwrap();
        let expected: &[&str] = match info.ty {
            Type::Paths | Type::Addrs => &["+ (add)", "- (remove)"],
            Type::Command => &["! (run)"],
            Type::Bool | Type::Int { .. } | Type::Word(_) if info.query => {
                &[": (set)", "? (query)"]
            }
            Type::Bool | Type::Int { .. } | Type::Word(_) => &[": (set)"],
        };
        for op in expected {
            assert!(
                ops_line.contains(op),
                "entry {}: operations `{ops_line}` lack `{op}`",
                info.name
            );
        }
        assert_eq!(
            ops_line.matches(" (").count(),
            expected.len(),
            "entry {}: operations `{ops_line}` list more than {expected:?}",
            info.name
        );
        // Fixed words: each value is named in the entry.
        if let Type::Word(words) = info.ty {
            for w in words {
                assert!(
                    joined.contains(w),
                    "entry {}: value {w} not documented",
                    info.name
                );
            }
        }
    }
}
