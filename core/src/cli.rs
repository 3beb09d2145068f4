//! The command line (SPEC §1.2, §1.3): GNU-style options parsed left to right into a sequence of
//! [`Opt`]s, plus the parsers of option values. Pure: the binary applies the options in order.

use core::fmt;

/// One option, in the order given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opt<'a> {
    /// `-h`, `--help`.
    Help,
    /// `-v`, `--version`.
    Version,
    /// `-t`, `--test`.
    Test,
    /// `-b`, `--bpf-only` (also `--bpf`).
    BpfOnly,
    /// `--dry-run`.
    DryRun,
    /// `-l`, `--lock`.
    Lock,
    /// `-B`, `--background`.
    Background,
    /// `-d`, `--dump`.
    Dump(Dump<'a>),
    /// `-e`, `--export`.
    Export(Export<'a>),
    /// `-M`, `--memaccess`: 0..=3.
    MemAccess(u8),
    /// `-a`, `--arch`: an architecture name (checked by the caller against the table).
    Arch(&'a [u8]),
    /// `-c`, `--config`: a pathspec.
    Config(&'a [u8]),
    /// `--profile NAME`: the same as `-c @NAME`.
    Profile(&'a [u8]),
    /// `-m`, `--magic`: a magic command.
    Magic(&'a [u8]),
    /// `-C`, `--chroot`.
    Chroot(&'a [u8]),
    /// `-D`, `--chdir`: a directory, or `tmp`.
    Chdir(&'a [u8]),
    /// `-E`, `--env`: `var=val` sets, `var` unsets.
    Env(&'a [u8]),
    /// `-I`, `--ionice`.
    Ionice(Ionice),
    /// `-N`, `--nice`: -20..=19.
    Nice(i32),
    /// `-1`, `--stdout`.
    Stdout(&'a [u8]),
    /// `-2`, `--stderr`.
    Stderr(&'a [u8]),
    /// `-A`, `--startas`.
    StartAs(&'a [u8]),
    /// `-K`, `--umask`: octal.
    Umask(u32),
    /// `-U`, `--uid`.
    Uid(u32),
    /// `-G`, `--gid`.
    Gid(u32),
}

/// Where `-d` dumps to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dump<'a> {
    /// An already open file descriptor.
    Fd(i32),
    /// A file.
    Path(&'a [u8]),
    /// A new temporary file whose path is printed on start and exit.
    Tmp,
}

/// The format of `-e`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// Raw program bytes as the kernel takes them.
    Bpf,
    /// A readable listing.
    Pfc,
}

/// `-e FORMAT[:FILE]`: without a file, standard error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Export<'a> {
    /// The format.
    pub format: ExportFormat,
    /// The output file, if one was named.
    pub file: Option<&'a [u8]>,
}

/// `-I CLASS[:DATA]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ionice {
    /// 0 none, 1 real time, 2 best effort, 3 idle.
    pub class: u8,
    /// 0..=7.
    pub data: u8,
}

/// A command-line error: names the option and what was wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CliError<'a> {
    /// No such option.
    Unknown(&'a [u8]),
    /// A long option prefix that fits several options.
    Ambiguous(&'a [u8]),
    /// The option needs an argument and none was given.
    MissingArgument(&'static str),
    /// A long option that takes no argument was given one.
    UnexpectedArgument(&'static str),
    /// The argument is not valid for the option.
    InvalidArgument {
        /// The option's long name.
        option: &'static str,
        /// The argument.
        arg: &'a [u8],
        /// What it must be.
        expected: &'static str,
    },
}

fn write_bytes(f: &mut fmt::Formatter<'_>, b: &[u8]) -> fmt::Result {
    for chunk in b.utf8_chunks() {
        f.write_str(chunk.valid())?;
        for x in chunk.invalid() {
            write!(f, "\\x{x:02x}")?;
        }
    }
    Ok(())
}

impl fmt::Display for CliError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            CliError::Unknown(o) => {
                f.write_str("unknown option `")?;
                write_bytes(f, o)?;
                f.write_str("'")
            }
            CliError::Ambiguous(o) => {
                f.write_str("ambiguous option `")?;
                write_bytes(f, o)?;
                f.write_str("'")
            }
            CliError::MissingArgument(o) => write!(f, "option --{o} needs an argument"),
            CliError::UnexpectedArgument(o) => write!(f, "option --{o} takes no argument"),
            CliError::InvalidArgument {
                option,
                arg,
                expected,
            } => {
                write!(f, "invalid argument `")?;
                write_bytes(f, arg)?;
                write!(f, "' to --{option}: expected {expected}")
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Id {
    Help,
    Version,
    Test,
    BpfOnly,
    DryRun,
    Lock,
    Background,
    Dump,
    Export,
    MemAccess,
    Arch,
    Config,
    Profile,
    Magic,
    Chroot,
    Chdir,
    Env,
    Ionice,
    Nice,
    Stdout,
    Stderr,
    StartAs,
    Umask,
    Uid,
    Gid,
}

struct Spec {
    long: &'static str,
    short: Option<u8>,
    arg: bool,
    id: Id,
}

const fn spec(long: &'static str, short: Option<u8>, arg: bool, id: Id) -> Spec {
    Spec {
        long,
        short,
        arg,
        id,
    }
}

const SPECS: &[Spec] = &[
    spec("help", Some(b'h'), false, Id::Help),
    spec("version", Some(b'v'), false, Id::Version),
    spec("test", Some(b't'), false, Id::Test),
    spec("bpf-only", Some(b'b'), false, Id::BpfOnly),
    // Upstream's spelling of --bpf-only.
    spec("bpf", None, false, Id::BpfOnly),
    spec("dry-run", None, false, Id::DryRun),
    spec("lock", Some(b'l'), false, Id::Lock),
    spec("background", Some(b'B'), false, Id::Background),
    spec("dump", Some(b'd'), true, Id::Dump),
    spec("export", Some(b'e'), true, Id::Export),
    spec("memaccess", Some(b'M'), true, Id::MemAccess),
    spec("arch", Some(b'a'), true, Id::Arch),
    spec("config", Some(b'c'), true, Id::Config),
    spec("profile", None, true, Id::Profile),
    spec("magic", Some(b'm'), true, Id::Magic),
    spec("chroot", Some(b'C'), true, Id::Chroot),
    spec("chdir", Some(b'D'), true, Id::Chdir),
    spec("env", Some(b'E'), true, Id::Env),
    spec("ionice", Some(b'I'), true, Id::Ionice),
    spec("nice", Some(b'N'), true, Id::Nice),
    spec("stdout", Some(b'1'), true, Id::Stdout),
    spec("stderr", Some(b'2'), true, Id::Stderr),
    spec("startas", Some(b'A'), true, Id::StartAs),
    spec("umask", Some(b'K'), true, Id::Umask),
    spec("uid", Some(b'U'), true, Id::Uid),
    spec("gid", Some(b'G'), true, Id::Gid),
];

fn find_long(name: &[u8]) -> Result<&'static Spec, CliError<'_>> {
    if let Some(s) = SPECS.iter().find(|s| s.long.as_bytes() == name) {
        return Ok(s);
    }
    let mut found: Option<&'static Spec> = None;
    for s in SPECS.iter().filter(|s| s.long.as_bytes().starts_with(name)) {
        match found {
            Some(f) if f.id != s.id => return Err(CliError::Ambiguous(name)),
            _ => found = Some(s),
        }
    }
    found.ok_or(CliError::Unknown(name))
}

/// A source of command-line arguments by index (argv without re-allocation).
pub trait ArgSource<'a> {
    /// Argument `i`, if there is one.
    fn arg(&self, i: usize) -> Option<&'a [u8]>;
}

impl<'a> ArgSource<'a> for &[&'a [u8]] {
    fn arg(&self, i: usize) -> Option<&'a [u8]> {
        self.get(i).copied()
    }
}

/// Parses options left to right. Iterate it for the options; then [`Parser::command`] is the
/// index of the first argument of the command (option processing stops at `--` or at the first
/// argument that is not an option).
pub struct Parser<'a, A: ArgSource<'a>> {
    args: A,
    /// Index of the next argument.
    next: usize,
    /// Inside a cluster of short options: the rest of it.
    cluster: &'a [u8],
    done: bool,
}

impl<'a, A: ArgSource<'a>> Parser<'a, A> {
    /// A parser over `args`, starting after `argv[0]`.
    pub fn new(args: A) -> Self {
        Parser {
            args,
            next: 1,
            cluster: &[],
            done: false,
        }
    }

    /// The index of the command's first argument, once the iteration has returned `None`.
    pub fn command(&self) -> usize {
        self.next
    }

    fn value(
        &mut self,
        s: &'static Spec,
        attached: Option<&'a [u8]>,
    ) -> Result<Opt<'a>, CliError<'a>> {
        let arg = if !s.arg {
            if attached.is_some() {
                return Err(CliError::UnexpectedArgument(s.long));
            }
            &[][..]
        } else if let Some(a) = attached {
            a
        } else {
            let a = self
                .args
                .arg(self.next)
                .ok_or(CliError::MissingArgument(s.long))?;
            self.next += 1;
            a
        };
        let bad = |expected| CliError::InvalidArgument {
            option: s.long,
            arg,
            expected,
        };
        Ok(match s.id {
            Id::Help => Opt::Help,
            Id::Version => Opt::Version,
            Id::Test => Opt::Test,
            Id::BpfOnly => Opt::BpfOnly,
            Id::DryRun => Opt::DryRun,
            Id::Lock => Opt::Lock,
            Id::Background => Opt::Background,
            Id::Dump => Opt::Dump(parse_dump(arg).ok_or(bad("fd, path or tmp"))?),
            Id::Export => Opt::Export(parse_export(arg).ok_or(bad("bpf[:file] or pfc[:file]"))?),
            Id::MemAccess => Opt::MemAccess(
                parse_decimal(arg)
                    .and_then(|n| u8::try_from(n).ok())
                    .filter(|&n| n <= 3)
                    .ok_or(bad("0, 1, 2 or 3"))?,
            ),
            Id::Arch => Opt::Arch(nonempty(arg).ok_or(bad("an architecture name"))?),
            Id::Config => Opt::Config(nonempty(arg).ok_or(bad("a pathspec"))?),
            Id::Profile => Opt::Profile(nonempty(arg).ok_or(bad("a profile name"))?),
            Id::Magic => Opt::Magic(arg),
            Id::Chroot => Opt::Chroot(nonempty(arg).ok_or(bad("a directory"))?),
            Id::Chdir => Opt::Chdir(nonempty(arg).ok_or(bad("a directory or tmp"))?),
            Id::Env => Opt::Env(
                nonempty(arg)
                    .filter(|a| a.first() != Some(&b'='))
                    .ok_or(bad("var=val or var"))?,
            ),
            Id::Ionice => {
                Opt::Ionice(parse_ionice(arg).ok_or(bad("class 0-3, optionally :data 0-7"))?)
            }
            Id::Nice => Opt::Nice(parse_nice(arg).ok_or(bad("an integer from -20 to 19"))?),
            Id::Stdout => Opt::Stdout(nonempty(arg).ok_or(bad("a log file"))?),
            Id::Stderr => Opt::Stderr(nonempty(arg).ok_or(bad("a log file"))?),
            Id::StartAs => Opt::StartAs(arg),
            Id::Umask => Opt::Umask(parse_umask(arg).ok_or(bad("an octal mode from 0 to 777"))?),
            Id::Uid => Opt::Uid(parse_id(arg).ok_or(bad("a numeric user id"))?),
            Id::Gid => Opt::Gid(parse_id(arg).ok_or(bad("a numeric group id"))?),
        })
    }
}

impl<'a, A: ArgSource<'a>> Iterator for Parser<'a, A> {
    type Item = Result<Opt<'a>, CliError<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if let Some((&c, rest)) = self.cluster.split_first() {
            let Some(s) = SPECS.iter().find(|s| s.short == Some(c)) else {
                self.done = true;
                return Some(Err(CliError::Unknown(self.cluster.get(..1).unwrap_or(&[]))));
            };
            self.cluster = rest;
            let attached = if s.arg && !rest.is_empty() {
                self.cluster = &[];
                Some(rest)
            } else {
                None
            };
            let r = self.value(s, attached);
            self.done = r.is_err();
            return Some(r);
        }
        let arg = self.args.arg(self.next)?;
        if arg == b"--" {
            self.next += 1;
            self.done = true;
            return None;
        }
        if let Some(long) = arg.strip_prefix(b"--") {
            self.next += 1;
            let (name, attached) = match long.iter().position(|&b| b == b'=') {
                Some(eq) => (
                    long.get(..eq).unwrap_or(&[]),
                    Some(long.get(eq + 1..).unwrap_or(&[])),
                ),
                None => (long, None),
            };
            let r = find_long(name).and_then(|s| self.value(s, attached));
            self.done = r.is_err();
            return Some(r);
        }
        match arg.strip_prefix(b"-") {
            Some(shorts) if !shorts.is_empty() => {
                self.next += 1;
                self.cluster = shorts;
                self.next()
            }
            // The first non-option argument (or a lone `-`) starts the command.
            _ => {
                self.done = true;
                None
            }
        }
    }
}

fn nonempty(a: &[u8]) -> Option<&[u8]> {
    (!a.is_empty()).then_some(a)
}

fn parse_decimal(a: &[u8]) -> Option<u64> {
    if a.is_empty() || a.len() > 19 || !a.iter().all(u8::is_ascii_digit) {
        return None;
    }
    a.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// Parses the `-d` argument: `tmp`, a file descriptor number (at most `i32::MAX`), or a path.
pub fn parse_dump(a: &[u8]) -> Option<Dump<'_>> {
    if a == b"tmp" {
        Some(Dump::Tmp)
    } else if !a.is_empty() && a.iter().all(u8::is_ascii_digit) {
        parse_decimal(a)
            .and_then(|n| i32::try_from(n).ok())
            .map(Dump::Fd)
    } else {
        nonempty(a).map(Dump::Path)
    }
}

/// Parses the `-e` argument: `bpf` or `pfc`, optionally followed by `:FILE` (an empty file means
/// standard error).
pub fn parse_export(a: &[u8]) -> Option<Export<'_>> {
    let format = match a.get(..3)? {
        b"bpf" => ExportFormat::Bpf,
        b"pfc" => ExportFormat::Pfc,
        _ => return None,
    };
    let file = match a.get(3..)? {
        [] => None,
        [b':', file @ ..] => nonempty(file),
        _ => return None,
    };
    Some(Export { format, file })
}

/// Parses `-I CLASS[:DATA]`: class 0..=3, data 0..=7 (default 0).
pub fn parse_ionice(a: &[u8]) -> Option<Ionice> {
    let (class, data) = match a.iter().position(|&b| b == b':') {
        Some(i) => (a.get(..i)?, Some(a.get(i + 1..)?)),
        None => (a, None),
    };
    let class = u8::try_from(parse_decimal(class)?)
        .ok()
        .filter(|&c| c <= 3)?;
    let data = match data {
        Some(d) => u8::try_from(parse_decimal(d)?).ok().filter(|&d| d <= 7)?,
        None => 0,
    };
    Some(Ionice { class, data })
}

/// Parses `-N LEVEL`: a decimal integer from -20 to 19.
pub fn parse_nice(a: &[u8]) -> Option<i32> {
    let (neg, digits) = match a.split_first()? {
        (b'-', r) => (true, r),
        (b'+', r) => (false, r),
        _ => (false, a),
    };
    let n = i32::try_from(parse_decimal(digits)?).ok()?;
    let n = if neg { -n } else { n };
    (-20..=19).contains(&n).then_some(n)
}

/// Parses `-K MODE`: octal, 0 to 0777.
pub fn parse_umask(a: &[u8]) -> Option<u32> {
    if a.is_empty() || a.len() > 4 || !a.iter().all(|&b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    let n = a.iter().fold(0u32, |n, &d| n * 8 + u32::from(d - b'0'));
    (n <= 0o777).then_some(n)
}

/// Parses `-U`/`-G`: a decimal id below 2^32 - 1 (which means "unchanged" to the kernel).
pub fn parse_id(a: &[u8]) -> Option<u32> {
    u32::try_from(parse_decimal(a)?)
        .ok()
        .filter(|&n| n != u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn parse_all<'a>(args: &'a [&'a [u8]]) -> (Vec<Result<Opt<'a>, CliError<'a>>>, usize) {
        let mut p = Parser::new(args);
        let v: Vec<_> = p.by_ref().collect();
        (v, p.command())
    }

    #[test]
    fn options_table() {
        type Case<'a> = (&'a [&'a str], &'a [Result<Opt<'a>, CliError<'a>>], usize);
        let cases: &[Case<'_>] = &[
            (&["syd", "true"], &[], 1),
            (&["syd", "--", "-x"], &[], 2),
            (
                &["syd", "-bl", "cmd"],
                &[Ok(Opt::BpfOnly), Ok(Opt::Lock)],
                2,
            ),
            (
                &[
                    "syd",
                    "-mcore/sandbox/read:deny",
                    "-m",
                    "x",
                    "sh",
                    "-c",
                    "y",
                ],
                &[
                    Ok(Opt::Magic(b"core/sandbox/read:deny")),
                    Ok(Opt::Magic(b"x")),
                ],
                4,
            ),
            (
                &["syd", "--magic=a", "--magic", "b", "--mag=c"],
                &[
                    Ok(Opt::Magic(b"a")),
                    Ok(Opt::Magic(b"b")),
                    Ok(Opt::Magic(b"c")),
                ],
                5,
            ),
            (
                &["syd", "--bpf", "--bpf-only"],
                &[Ok(Opt::BpfOnly), Ok(Opt::BpfOnly)],
                3,
            ),
            (
                &["syd", "--dry-run", "-t"],
                &[Ok(Opt::DryRun), Ok(Opt::Test)],
                3,
            ),
            (&["syd", "--d"], &[Err(CliError::Ambiguous(b"d"))], 2),
            (&["syd", "--bogus"], &[Err(CliError::Unknown(b"bogus"))], 2),
            (&["syd", "-x"], &[Err(CliError::Unknown(b"x"))], 2),
            (
                &["syd", "-m"],
                &[Err(CliError::MissingArgument("magic"))],
                2,
            ),
            (
                &["syd", "--lock=1"],
                &[Err(CliError::UnexpectedArgument("lock"))],
                2,
            ),
            (
                &["syd", "-lm", "x", "-d2", "cmd"],
                &[
                    Ok(Opt::Lock),
                    Ok(Opt::Magic(b"x")),
                    Ok(Opt::Dump(Dump::Fd(2))),
                ],
                4,
            ),
            (
                &["syd", "--dump", "tmp", "--dump=/x", "-d", "007"],
                &[
                    Ok(Opt::Dump(Dump::Tmp)),
                    Ok(Opt::Dump(Dump::Path(b"/x"))),
                    Ok(Opt::Dump(Dump::Fd(7))),
                ],
                6,
            ),
            (
                &["syd", "-e", "pfc:out", "-ebpf", "noexec"],
                &[
                    Ok(Opt::Export(Export {
                        format: ExportFormat::Pfc,
                        file: Some(b"out"),
                    })),
                    Ok(Opt::Export(Export {
                        format: ExportFormat::Bpf,
                        file: None,
                    })),
                ],
                4,
            ),
            (
                &["syd", "-e", "elf"],
                &[Err(CliError::InvalidArgument {
                    option: "export",
                    arg: b"elf",
                    expected: "bpf[:file] or pfc[:file]",
                })],
                3,
            ),
            (
                &["syd", "-M", "4"],
                &[Err(CliError::InvalidArgument {
                    option: "memaccess",
                    arg: b"4",
                    expected: "0, 1, 2 or 3",
                })],
                3,
            ),
            (
                &[
                    "syd", "-M3", "-I2:7", "-N", "-5", "-K022", "-U65534", "-G", "65534",
                ],
                &[
                    Ok(Opt::MemAccess(3)),
                    Ok(Opt::Ionice(Ionice { class: 2, data: 7 })),
                    Ok(Opt::Nice(-5)),
                    Ok(Opt::Umask(0o22)),
                    Ok(Opt::Uid(65534)),
                    Ok(Opt::Gid(65534)),
                ],
                9,
            ),
            (
                &[
                    "syd", "-E", "A=b", "-EA", "-A", "name", "-C/r", "-D", "tmp", "-B", "-1", "/o",
                    "-2/e",
                ],
                &[
                    Ok(Opt::Env(b"A=b")),
                    Ok(Opt::Env(b"A")),
                    Ok(Opt::StartAs(b"name")),
                    Ok(Opt::Chroot(b"/r")),
                    Ok(Opt::Chdir(b"tmp")),
                    Ok(Opt::Background),
                    Ok(Opt::Stdout(b"/o")),
                    Ok(Opt::Stderr(b"/e")),
                ],
                13,
            ),
            (
                &[
                    "syd",
                    "-a",
                    "x86_64",
                    "--arch=x86",
                    "-c",
                    "@paludis",
                    "--profile",
                    "default",
                ],
                &[
                    Ok(Opt::Arch(b"x86_64")),
                    Ok(Opt::Arch(b"x86")),
                    Ok(Opt::Config(b"@paludis")),
                    Ok(Opt::Profile(b"default")),
                ],
                8,
            ),
            // A lone `-` is a command name, not an option.
            (&["syd", "-", "x"], &[], 1),
        ];
        for (args, want, cmd) in cases {
            let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
            let (got, at) = parse_all(&bytes);
            assert_eq!(&got[..], *want, "{args:?}");
            if want.iter().all(Result::is_ok) {
                assert_eq!(at, *cmd, "{args:?}");
            }
        }
    }

    #[test]
    fn value_parsers() {
        assert_eq!(parse_dump(b"2147483647"), Some(Dump::Fd(i32::MAX)));
        assert_eq!(parse_dump(b"2147483648"), None);
        assert_eq!(parse_dump(b""), None);
        assert_eq!(
            parse_export(b"bpf:"),
            Some(Export {
                format: ExportFormat::Bpf,
                file: None
            })
        );
        assert_eq!(parse_export(b"bpfx"), None);
        assert_eq!(parse_export(b"pf"), None);
        assert_eq!(parse_ionice(b"3"), Some(Ionice { class: 3, data: 0 }));
        assert_eq!(parse_ionice(b"4"), None);
        assert_eq!(parse_ionice(b"1:8"), None);
        assert_eq!(parse_ionice(b"1:"), None);
        assert_eq!(parse_nice(b"19"), Some(19));
        assert_eq!(parse_nice(b"-20"), Some(-20));
        assert_eq!(parse_nice(b"20"), None);
        assert_eq!(parse_nice(b"-21"), None);
        assert_eq!(parse_nice(b"x"), None);
        assert_eq!(parse_umask(b"0"), Some(0));
        assert_eq!(parse_umask(b"777"), Some(0o777));
        assert_eq!(parse_umask(b"0777"), Some(0o777));
        assert_eq!(parse_umask(b"1000"), None);
        assert_eq!(parse_umask(b"8"), None);
        assert_eq!(parse_id(b"0"), Some(0));
        assert_eq!(parse_id(b"4294967294"), Some(u32::MAX - 1));
        assert_eq!(parse_id(b"4294967295"), None);
        assert_eq!(parse_id(b"-1"), None);
        assert_eq!(parse_id(b"nobody"), None);
    }

    #[test]
    fn errors_name_the_option() {
        let e = CliError::InvalidArgument {
            option: "nice",
            arg: b"x\xff",
            expected: "an integer from -20 to 19",
        };
        assert_eq!(
            std::format!("{e}"),
            "invalid argument `x\\xff' to --nice: expected an integer from -20 to 19"
        );
        assert_eq!(
            std::format!("{}", CliError::Unknown(b"q")),
            "unknown option `q'"
        );
    }
}
