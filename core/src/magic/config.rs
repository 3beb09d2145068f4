//! Configuration files (SPEC §5.7): one magic command per line, `#` comments, blank lines.

use core::fmt;

use super::{apply, parse, Context, MagicError};
use crate::sandbox::{Global, TaskPolicy};

/// The API version in configuration file names (`*.syd-2`).
pub const FILE_API: &[u8] = b"2";

/// A bad line of a configuration file: its number (from 1), its text and what was wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigError<'t> {
    /// Line number, counting from 1.
    pub line: usize,
    /// The offending line, without its line ending.
    pub text: &'t [u8],
    /// What was wrong with it.
    pub error: MagicError,
}

impl fmt::Display for ConfigError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: `", self.line)?;
        for chunk in self.text.utf8_chunks() {
            f.write_str(chunk.valid())?;
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        write!(f, "': {}", self.error)
    }
}

/// The command lines of a configuration file, as (line number, text): line endings (`\n`, a
/// `\r` before it) stripped, empty, whitespace-only and `#` comment lines skipped. Every other
/// line is taken verbatim (no trimming).
pub fn lines(text: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    text.split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix(b"\r").unwrap_or(l)))
        .filter(|(_, l)| !(l.first() == Some(&b'#') || l.iter().all(|b| b.is_ascii_whitespace())))
}

/// Applies every command of a configuration file, in order; stops at the first bad line.
///
/// `ctx.origin` says whether this is the initial file (which alone may change `core/*`).
pub fn apply_config<'t>(
    global: &mut Global,
    task: &mut TaskPolicy,
    text: &'t [u8],
    ctx: &Context<'_>,
) -> Result<usize, ConfigError<'t>> {
    let mut n = 0;
    for (line, cmd) in lines(text) {
        let fail = |error| ConfigError {
            line,
            text: cmd,
            error,
        };
        let parsed = parse(cmd).map_err(fail)?;
        apply(global, task, &parsed, ctx).map_err(fail)?;
        n += 1;
    }
    Ok(n)
}

/// Why a configuration file name was refused (SPEC §5.7 API check).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameError {
    /// The name has no `.syd-N` extension.
    NoApi,
    /// The extension names another API version.
    Mismatch,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameError::NoApi => "no API information in file name, current API is 2",
            NameError::Mismatch => "config file name API mismatch, current API is 2",
        })
    }
}

/// Checks that a configuration file name ends in `.syd-2` (its last `.` extension).
pub fn check_name(name: &[u8]) -> Result<(), NameError> {
    let base = name.rsplit(|&b| b == b'/').next().unwrap_or(name);
    let dot = base
        .iter()
        .rposition(|&b| b == b'.')
        .ok_or(NameError::NoApi)?;
    let ext = base.get(dot + 1..).unwrap_or(&[]);
    let api = ext.strip_prefix(b"syd-").ok_or(NameError::NoApi)?;
    if api.is_empty() {
        return Err(NameError::NoApi);
    }
    if api == FILE_API {
        Ok(())
    } else {
        Err(NameError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::NoServices;
    use crate::magic::Origin;
    use crate::sandbox::{Cap, Mode, Sandbox};
    use std::boxed::Box;

    fn ctx(origin: Origin) -> Context<'static> {
        Context {
            origin,
            services: &NoServices,
        }
    }

    #[test]
    fn lines_skip_comments_and_blanks() {
        let text = b"# c\n\ncore/sandbox/read:deny\r\n  \n\tx\nlast";
        let v: std::vec::Vec<_> = lines(text).collect();
        assert_eq!(
            v,
            [
                (3, &b"core/sandbox/read:deny"[..]),
                (5, b"\tx"),
                (6, b"last")
            ]
        );
    }

    #[test]
    fn applies_and_reports_line_numbers() {
        let mut sb = Box::<Sandbox>::default();
        let text = b"# profile\ncore/sandbox/write:deny\nallowlist/write+/tmp/***\n";
        let n = apply_config(
            &mut sb.global,
            &mut sb.task,
            text,
            &ctx(Origin::InitialConfig),
        )
        .unwrap();
        assert_eq!(n, 2);
        assert_eq!(sb.task.mode(Cap::Write), Mode::Deny);
        assert_eq!(sb.task.list(Cap::Write).len(), 2);

        let bad = b"core/sandbox/read:deny\n\n core/sandbox/read:deny\n";
        let err = apply_config(
            &mut sb.global,
            &mut sb.task,
            bad,
            &ctx(Origin::InitialConfig),
        )
        .unwrap_err();
        assert_eq!(err.line, 3);
        assert_eq!(err.text, b" core/sandbox/read:deny");
        assert_eq!(err.error, MagicError::InvalidKey);
        let msg = std::format!("{err}");
        assert_eq!(msg, "line 3: ` core/sandbox/read:deny': invalid key");
    }

    #[test]
    fn later_files_cannot_change_core() {
        let mut sb = Box::<Sandbox>::default();
        let err = apply_config(
            &mut sb.global,
            &mut sb.task,
            b"allowlist/read+/x\ncore/sandbox/read:allow\n",
            &ctx(Origin::LaterConfig),
        )
        .unwrap_err();
        assert_eq!(err.line, 2);
        assert!(matches!(err.error, MagicError::NoPermission { .. }));
        assert_eq!(sb.task.mode(Cap::Read), Mode::Off);
        // Non-core keys are fine in later files.
        assert_eq!(sb.task.list(Cap::Read).len(), 1);
    }

    #[test]
    fn file_names() {
        assert_eq!(check_name(b"/usr/share/sydbox/paludis.syd-2"), Ok(()));
        assert_eq!(check_name(b"a.b.syd-2"), Ok(()));
        assert_eq!(check_name(b"paludis"), Err(NameError::NoApi));
        assert_eq!(check_name(b"x.conf"), Err(NameError::NoApi));
        assert_eq!(check_name(b"x.syd-"), Err(NameError::NoApi));
        assert_eq!(check_name(b"x.syd-1"), Err(NameError::Mismatch));
        assert_eq!(check_name(b"x.syd-22"), Err(NameError::Mismatch));
        assert_eq!(check_name(b"dir.syd-2/file"), Err(NameError::NoApi));
    }
}
