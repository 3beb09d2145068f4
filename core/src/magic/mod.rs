//! Magic commands (SPEC §5): parse `section/of/option OP value` into a typed [`Command`], apply it
//! to the policy, answer queries. Configuration files are lines of magic commands ([`config`]).

pub mod config;

use core::fmt;

use crate::addr::{parse_addr_pattern, AddrError, AddrPattern, Services};
use crate::limits::MAX_PATTERN_LEN;
use crate::sandbox::list::{Full, Kind};
use crate::sandbox::{Cap, Decision, Global, Lock, Mode, Net, NoWildcard, TaskPolicy};

/// The prefix of magic paths used by magic stat(2).
pub const PREFIX: &[u8] = b"/dev/sydbox";

/// The magic command API version (the `2` probe node, `SYDBOX_API_VERSION`).
pub const API_VERSION: u32 = 2;

/// If `path` is a magic path, the command after the prefix (empty for the bare prefix).
///
/// The raw string is compared, as SPEC §5.4 says: `/dev/sydbox` alone is the empty command,
/// `/dev/sydbox/X` is command `X`, anything else (including `/dev/sydboxes`) is not magic.
pub fn strip_prefix(path: &[u8]) -> Option<&[u8]> {
    let rest = path.strip_prefix(PREFIX)?;
    if rest.is_empty() {
        return Some(rest);
    }
    rest.strip_prefix(b"/")
}

/// Every magic command key (SPEC §5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // Each variant is the key of the same name in KEYS.
pub enum Key {
    SandboxExec,
    SandboxRead,
    SandboxWrite,
    SandboxNetwork,
    RestrictGeneral,
    RestrictIdentityChange,
    RestrictIoControl,
    RestrictMemoryMap,
    RestrictSharedMemoryWritable,
    RestrictSystemInfo,
    AllowlistPerProcessDirectories,
    AllowlistSuccessfulBind,
    AllowlistUnsupportedSocketFamilies,
    ViolationDecision,
    ViolationExitCode,
    ViolationRaiseFail,
    ViolationRaiseSafe,
    TraceMagicLock,
    TraceMemoryAccess,
    TraceProgramChecksum,
    TraceUseToolongHack,
    MatchCaseSensitive,
    MatchNoWildcard,
    ExecKillIfMatch,
    FilterExec,
    FilterRead,
    FilterWrite,
    FilterNetwork,
    AllowlistExec,
    AllowlistRead,
    AllowlistWrite,
    AllowlistNetworkBind,
    AllowlistNetworkConnect,
    DenylistExec,
    DenylistRead,
    DenylistWrite,
    DenylistNetworkBind,
    DenylistNetworkConnect,
    CmdExec,
}

/// The type of a key's value (SPEC §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// `1 0 t f true false`, letters case-insensitive.
    Bool,
    /// A C `strtol` base-0 integer within the range.
    Int {
        /// Smallest accepted value.
        min: i32,
        /// Largest accepted value.
        max: i32,
    },
    /// One of fixed words.
    Word(&'static [&'static str]),
    /// A list of path patterns.
    Paths,
    /// A list of address patterns.
    Addrs,
    /// A command run with `!`.
    Command,
}

/// One row of the key table.
#[derive(Clone, Copy, Debug)]
pub struct KeyInfo {
    /// The key as written, e.g. `core/sandbox/read`.
    pub name: &'static str,
    /// The key.
    pub key: Key,
    /// Its value type.
    pub ty: Type,
    /// Whether `?` is allowed.
    pub query: bool,
}

const MODES: &[&str] = &["off", "bpf", "deny", "allow"];

const fn row(name: &'static str, key: Key, ty: Type, query: bool) -> KeyInfo {
    KeyInfo {
        name,
        key,
        ty,
        query,
    }
}

/// The key table (SPEC §5.3), in the manual's order. `core/restrict/id_change` is upstream's
/// spelling of `core/restrict/identity_change` and accepted as an alias.
pub const KEYS: &[KeyInfo] = &[
    row(
        "core/sandbox/exec",
        Key::SandboxExec,
        Type::Word(MODES),
        true,
    ),
    row(
        "core/sandbox/read",
        Key::SandboxRead,
        Type::Word(MODES),
        true,
    ),
    row(
        "core/sandbox/write",
        Key::SandboxWrite,
        Type::Word(MODES),
        true,
    ),
    row(
        "core/sandbox/network",
        Key::SandboxNetwork,
        Type::Word(MODES),
        true,
    ),
    row(
        "core/restrict/general",
        Key::RestrictGeneral,
        Type::Int { min: 0, max: 3 },
        true,
    ),
    row(
        "core/restrict/identity_change",
        Key::RestrictIdentityChange,
        Type::Bool,
        true,
    ),
    row(
        "core/restrict/id_change",
        Key::RestrictIdentityChange,
        Type::Bool,
        true,
    ),
    row(
        "core/restrict/io_control",
        Key::RestrictIoControl,
        Type::Bool,
        true,
    ),
    row(
        "core/restrict/memory_map",
        Key::RestrictMemoryMap,
        Type::Bool,
        true,
    ),
    row(
        "core/restrict/shared_memory_writable",
        Key::RestrictSharedMemoryWritable,
        Type::Bool,
        true,
    ),
    row(
        "core/restrict/system_info",
        Key::RestrictSystemInfo,
        Type::Bool,
        true,
    ),
    row(
        "core/allowlist/per_process_directories",
        Key::AllowlistPerProcessDirectories,
        Type::Bool,
        true,
    ),
    row(
        "core/allowlist/successful_bind",
        Key::AllowlistSuccessfulBind,
        Type::Bool,
        true,
    ),
    row(
        "core/allowlist/unsupported_socket_families",
        Key::AllowlistUnsupportedSocketFamilies,
        Type::Bool,
        true,
    ),
    row(
        "core/violation/decision",
        Key::ViolationDecision,
        Type::Word(&["deny", "kill", "killall", "noop", "bpf"]),
        false,
    ),
    row(
        "core/violation/exit_code",
        Key::ViolationExitCode,
        Type::Int {
            min: i32::MIN,
            max: i32::MAX,
        },
        false,
    ),
    row(
        "core/violation/raise_fail",
        Key::ViolationRaiseFail,
        Type::Bool,
        true,
    ),
    row(
        "core/violation/raise_safe",
        Key::ViolationRaiseSafe,
        Type::Bool,
        true,
    ),
    row(
        "core/trace/magic_lock",
        Key::TraceMagicLock,
        Type::Word(&["off", "on", "exec"]),
        false,
    ),
    row(
        "core/trace/memory_access",
        Key::TraceMemoryAccess,
        Type::Int { min: 0, max: 3 },
        true,
    ),
    row(
        "core/trace/program_checksum",
        Key::TraceProgramChecksum,
        Type::Int { min: 0, max: 2 },
        true,
    ),
    row(
        "core/trace/use_toolong_hack",
        Key::TraceUseToolongHack,
        Type::Bool,
        true,
    ),
    row(
        "core/match/case_sensitive",
        Key::MatchCaseSensitive,
        Type::Bool,
        true,
    ),
    row(
        "core/match/no_wildcard",
        Key::MatchNoWildcard,
        Type::Word(&["literal", "prefix"]),
        false,
    ),
    row(
        "exec/kill_if_match",
        Key::ExecKillIfMatch,
        Type::Paths,
        false,
    ),
    row("filter/exec", Key::FilterExec, Type::Paths, false),
    row("filter/read", Key::FilterRead, Type::Paths, false),
    row("filter/write", Key::FilterWrite, Type::Paths, false),
    row("filter/network", Key::FilterNetwork, Type::Addrs, false),
    row("allowlist/exec", Key::AllowlistExec, Type::Paths, false),
    row("allowlist/read", Key::AllowlistRead, Type::Paths, false),
    row("allowlist/write", Key::AllowlistWrite, Type::Paths, false),
    row(
        "allowlist/network/bind",
        Key::AllowlistNetworkBind,
        Type::Addrs,
        false,
    ),
    row(
        "allowlist/network/connect",
        Key::AllowlistNetworkConnect,
        Type::Addrs,
        false,
    ),
    row("denylist/exec", Key::DenylistExec, Type::Paths, false),
    row("denylist/read", Key::DenylistRead, Type::Paths, false),
    row("denylist/write", Key::DenylistWrite, Type::Paths, false),
    row(
        "denylist/network/bind",
        Key::DenylistNetworkBind,
        Type::Addrs,
        false,
    ),
    row(
        "denylist/network/connect",
        Key::DenylistNetworkConnect,
        Type::Addrs,
        false,
    ),
    row("cmd/exec", Key::CmdExec, Type::Command, false),
];

impl Key {
    /// The key's table row (its canonical spelling comes first in the table).
    pub fn info(self) -> &'static KeyInfo {
        // Every key has a row; the fallback is never taken.
        KEYS.iter()
            .find(|k| k.key == self)
            .unwrap_or(&KEYS_FALLBACK)
    }

    /// The key as written.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// Whether this is a `core/*` key (only the initial configuration file may change those).
    pub fn is_core(self) -> bool {
        self.name().starts_with("core/")
    }

    /// The key named `name` exactly, if any.
    pub fn lookup(name: &[u8]) -> Option<&'static KeyInfo> {
        KEYS.iter().find(|k| k.name.as_bytes() == name)
    }
}

const KEYS_FALLBACK: KeyInfo = row("cmd/exec", Key::CmdExec, Type::Command, false);

/// A magic command operation (SPEC §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `:` set a value.
    Set,
    /// `?` query.
    Query,
    /// `+` append to a list.
    Append,
    /// `-` remove from a list.
    Remove,
    /// `!` run a command.
    Exec,
}

impl Op {
    /// The operation character.
    pub const fn char(self) -> char {
        match self {
            Op::Set => ':',
            Op::Query => '?',
            Op::Append => '+',
            Op::Remove => '-',
            Op::Exec => '!',
        }
    }

    fn parse(b: u8) -> Option<Op> {
        Some(match b {
            b':' => Op::Set,
            b'?' => Op::Query,
            b'+' => Op::Append,
            b'-' => Op::Remove,
            b'!' => Op::Exec,
            _ => return None,
        })
    }
}

/// A sandbox type as named by `core/sandbox/*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SandboxType {
    /// A path type.
    Path(Cap),
    /// Network sandboxing.
    Network,
}

/// A boolean setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // Each variant is the boolean key of the same name.
pub enum Flag {
    RestrictIdentityChange,
    RestrictIoControl,
    RestrictMemoryMap,
    RestrictSharedMemoryWritable,
    RestrictSystemInfo,
    AllowlistPerProcessDirectories,
    AllowlistSuccessfulBind,
    AllowlistUnsupportedSocketFamilies,
    ViolationRaiseFail,
    ViolationRaiseSafe,
    TraceUseToolongHack,
    MatchCaseSensitive,
}

/// A validated `:` setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    /// `core/sandbox/*`.
    Sandbox(SandboxType, Mode),
    /// `core/restrict/general`.
    RestrictGeneral(u8),
    /// A boolean key.
    Flag(Flag, bool),
    /// `core/violation/decision`.
    Decision(Decision),
    /// `core/violation/exit_code`.
    ExitCode(i32),
    /// `core/trace/magic_lock`.
    MagicLock(Lock),
    /// `core/trace/memory_access`.
    MemoryAccess(u8),
    /// `core/trace/program_checksum`.
    ProgramChecksum(u8),
    /// `core/match/no_wildcard`.
    NoWildcard(NoWildcard),
}

/// A parsed magic command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command<'a> {
    /// The bare prefix or the API node `2`: succeeds without doing anything.
    Probe,
    /// `key:value`.
    Set(Key, Setting),
    /// `key?`.
    Query(Key),
    /// `list+value`.
    Append(Key, &'a [u8]),
    /// `list-value`.
    Remove(Key, &'a [u8]),
    /// `cmd/exec!args`, arguments separated by the unit separator (0x1F).
    Exec(&'a [u8]),
}

/// Why a magic command failed. The caller prints the command itself next to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MagicError {
    /// No such key.
    InvalidKey,
    /// The key has no operation character after it.
    MissingOperation {
        /// The key.
        key: &'static str,
    },
    /// The operation is not allowed on this key.
    InvalidOperation {
        /// The key.
        key: &'static str,
        /// The operation.
        op: Op,
    },
    /// The value is not one the key accepts.
    InvalidValue {
        /// The key.
        key: &'static str,
        /// What the key accepts.
        expected: &'static str,
    },
    /// An address pattern did not parse.
    InvalidAddress {
        /// The key.
        key: &'static str,
        /// What was wrong.
        error: AddrError,
    },
    /// A `core/*` key in a configuration file other than the initial one.
    NoPermission {
        /// The key.
        key: &'static str,
    },
    /// A list is full.
    Full {
        /// The key.
        key: &'static str,
        /// Which limit.
        full: Full,
    },
}

impl MagicError {
    /// The errno a magic stat(2) answers with (SPEC §5.4).
    pub fn errno(self) -> i32 {
        match self {
            MagicError::NoPermission { .. } => 1, // EPERM
            MagicError::Full { .. } => 12,        // ENOMEM
            _ => 22,                              // EINVAL
        }
    }
}

impl fmt::Display for MagicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            MagicError::InvalidKey => f.write_str("invalid key"),
            MagicError::MissingOperation { key } => {
                write!(f, "invalid operation: {key} needs one of : ? + - !")
            }
            MagicError::InvalidOperation { key, op } => {
                write!(
                    f,
                    "invalid operation: `{}' is not allowed on {key}",
                    op.char()
                )
            }
            MagicError::InvalidValue { key, expected } => {
                write!(f, "invalid value for {key}: expected {expected}")
            }
            MagicError::InvalidAddress { key, error } => {
                write!(f, "invalid value for {key}: {error}")
            }
            MagicError::NoPermission { key } => write!(
                f,
                "no permission: only the initial configuration file may change {key}"
            ),
            MagicError::Full { key, full } => write!(f, "{key}: {full}"),
        }
    }
}

/// Parses a boolean value (SPEC §5.2).
pub fn parse_bool(v: &[u8]) -> Option<bool> {
    const TRUE: [&[u8]; 3] = [b"1", b"t", b"true"];
    const FALSE: [&[u8]; 3] = [b"0", b"f", b"false"];
    if TRUE.iter().any(|w| w.eq_ignore_ascii_case(v)) {
        Some(true)
    } else if FALSE.iter().any(|w| w.eq_ignore_ascii_case(v)) {
        Some(false)
    } else {
        None
    }
}

/// Parses an integer like C `strtol(v, &end, 0)` requiring the whole string to be consumed and
/// the value to fit a 32-bit signed int (SPEC §5.2).
pub fn parse_int(v: &[u8]) -> Option<i32> {
    let (neg, rest) = match v.split_first() {
        Some((b'-', r)) => (true, r),
        Some((b'+', r)) => (false, r),
        _ => (false, v),
    };
    let (radix, digits) = if let Some(h) = rest
        .strip_prefix(b"0x")
        .or_else(|| rest.strip_prefix(b"0X"))
    {
        (16, h)
    } else if rest.len() > 1 && rest.first() == Some(&b'0') {
        (8, rest.get(1..)?)
    } else {
        (10, rest)
    };
    if digits.is_empty() {
        return None;
    }
    let mut n: i64 = 0;
    for &d in digits {
        let digit = char::from(d).to_digit(radix)?;
        n = n
            .checked_mul(i64::from(radix))?
            .checked_add(i64::from(digit))?;
        if n > i64::from(i32::MAX) + 1 {
            return None;
        }
    }
    i32::try_from(if neg { -n } else { n }).ok()
}

fn expected(ty: Type) -> &'static str {
    match ty {
        Type::Bool => "a boolean (1, 0, t, f, true, false)",
        Type::Int { min: 0, max: 3 } => "an integer from 0 to 3",
        Type::Int { min: 0, max: 2 } => "an integer from 0 to 2",
        Type::Int { .. } => "a 32-bit integer",
        Type::Word(w) if w.len() == 4 => "one of off, bpf, deny, allow",
        Type::Word(w) if w.len() == 5 => "one of deny, kill, killall, noop, bpf",
        Type::Word(w) if w.len() == 3 => "one of off, on, exec",
        Type::Word(_) => "one of literal, prefix",
        Type::Paths => "a non-empty path pattern",
        Type::Addrs => "an address pattern",
        Type::Command => "a command",
    }
}

fn parse_setting(info: &KeyInfo, v: &[u8]) -> Result<Setting, MagicError> {
    let bad = MagicError::InvalidValue {
        key: info.name,
        expected: expected(info.ty),
    };
    let word = |words: &[&str]| words.iter().position(|w| w.as_bytes() == v).ok_or(bad);
    let int = |min: i32, max: i32| parse_int(v).filter(|n| (min..=max).contains(n)).ok_or(bad);
    let flag = |f: Flag| parse_bool(v).map(|b| Setting::Flag(f, b)).ok_or(bad);
    let small = |n: i32| u8::try_from(n).map_err(|_| bad);
    Ok(match info.key {
        Key::SandboxExec | Key::SandboxRead | Key::SandboxWrite | Key::SandboxNetwork => {
            let ty = match info.key {
                Key::SandboxExec => SandboxType::Path(Cap::Exec),
                Key::SandboxRead => SandboxType::Path(Cap::Read),
                Key::SandboxWrite => SandboxType::Path(Cap::Write),
                _ => SandboxType::Network,
            };
            Setting::Sandbox(ty, Mode::parse(v).ok_or(bad)?)
        }
        Key::RestrictGeneral => Setting::RestrictGeneral(small(int(0, 3)?)?),
        Key::RestrictIdentityChange => flag(Flag::RestrictIdentityChange)?,
        Key::RestrictIoControl => flag(Flag::RestrictIoControl)?,
        Key::RestrictMemoryMap => flag(Flag::RestrictMemoryMap)?,
        Key::RestrictSharedMemoryWritable => flag(Flag::RestrictSharedMemoryWritable)?,
        Key::RestrictSystemInfo => flag(Flag::RestrictSystemInfo)?,
        Key::AllowlistPerProcessDirectories => flag(Flag::AllowlistPerProcessDirectories)?,
        Key::AllowlistSuccessfulBind => flag(Flag::AllowlistSuccessfulBind)?,
        Key::AllowlistUnsupportedSocketFamilies => flag(Flag::AllowlistUnsupportedSocketFamilies)?,
        Key::ViolationDecision => {
            Setting::Decision(match word(&["deny", "kill", "killall", "noop", "bpf"])? {
                0 => Decision::Deny,
                1 => Decision::Kill,
                2 => Decision::KillAll,
                3 => Decision::Noop,
                _ => Decision::Bpf,
            })
        }
        Key::ViolationExitCode => Setting::ExitCode(int(i32::MIN, i32::MAX)?),
        Key::ViolationRaiseFail => flag(Flag::ViolationRaiseFail)?,
        Key::ViolationRaiseSafe => flag(Flag::ViolationRaiseSafe)?,
        Key::TraceMagicLock => Setting::MagicLock(match word(&["off", "on", "exec"])? {
            0 => Lock::Off,
            1 => Lock::On,
            _ => Lock::Exec,
        }),
        Key::TraceMemoryAccess => Setting::MemoryAccess(small(int(0, 3)?)?),
        Key::TraceProgramChecksum => Setting::ProgramChecksum(small(int(0, 2)?)?),
        Key::TraceUseToolongHack => flag(Flag::TraceUseToolongHack)?,
        Key::MatchCaseSensitive => flag(Flag::MatchCaseSensitive)?,
        Key::MatchNoWildcard => Setting::NoWildcard(match word(&["literal", "prefix"])? {
            0 => NoWildcard::Literal,
            _ => NoWildcard::Prefix,
        }),
        _ => return Err(bad),
    })
}

/// Parses a magic command without the `/dev/sydbox/` prefix (SPEC §5.1).
///
/// Errors: unknown key, missing or disallowed operation, invalid value for `:`. List values
/// (`+`, `-`) are checked when applied, since address patterns need the services database.
pub fn parse(cmd: &[u8]) -> Result<Command<'_>, MagicError> {
    if cmd.is_empty() || cmd == b"2" {
        return Ok(Command::Probe);
    }
    let Some(at) = cmd.iter().position(|&b| Op::parse(b).is_some()) else {
        return Err(match Key::lookup(cmd) {
            Some(info) => MagicError::MissingOperation { key: info.name },
            None => MagicError::InvalidKey,
        });
    };
    let (name, rest) = cmd.split_at(at);
    let info = Key::lookup(name).ok_or(MagicError::InvalidKey)?;
    let (&op_byte, value) = rest.split_first().ok_or(MagicError::InvalidKey)?;
    let op = Op::parse(op_byte).ok_or(MagicError::InvalidKey)?;
    let invalid_op = MagicError::InvalidOperation { key: info.name, op };
    let list = matches!(info.ty, Type::Paths | Type::Addrs);
    match op {
        Op::Set if !list && info.ty != Type::Command => {
            Ok(Command::Set(info.key, parse_setting(info, value)?))
        }
        Op::Query if info.query => Ok(Command::Query(info.key)),
        Op::Append | Op::Remove if list => {
            if value.is_empty() {
                return Err(MagicError::InvalidValue {
                    key: info.name,
                    expected: expected(info.ty),
                });
            }
            Ok(if op == Op::Append {
                Command::Append(info.key, value)
            } else {
                Command::Remove(info.key, value)
            })
        }
        Op::Exec if info.ty == Type::Command => Ok(Command::Exec(value)),
        _ => Err(invalid_op),
    }
}

/// Where a magic command comes from; decides what it may change (SPEC §5.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `-m` on the command line.
    CommandLine,
    /// The initial configuration file (the first `-c`, or `SYDBOX_CONFIG`).
    InitialConfig,
    /// A later configuration file: `core/*` keys are refused.
    LaterConfig,
    /// A magic stat(2) from a sandboxed task: `cmd/exec` is allowed.
    Runtime,
}

/// The result of applying a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// The command took effect (or was a probe).
    Done,
    /// A query's answer.
    Answer(bool),
    /// `cmd/exec`: the caller runs these arguments (separated by 0x1F) outside the sandbox.
    Exec(&'a [u8]),
}

/// The answer to `key?`.
pub fn query(global: &Global, task: &TaskPolicy, key: Key) -> bool {
    match key {
        Key::SandboxExec => task.mode(Cap::Exec) != Mode::Off,
        Key::SandboxRead => task.mode(Cap::Read) != Mode::Off,
        Key::SandboxWrite => task.mode(Cap::Write) != Mode::Off,
        Key::SandboxNetwork => task.network != Mode::Off,
        Key::RestrictGeneral => global.restrict_general > 0,
        Key::RestrictIdentityChange => global.restrict_identity_change,
        Key::RestrictIoControl => global.restrict_io_control,
        Key::RestrictMemoryMap => global.restrict_memory_map,
        Key::RestrictSharedMemoryWritable => global.restrict_shared_memory_writable,
        Key::RestrictSystemInfo => global.restrict_system_info,
        Key::AllowlistPerProcessDirectories => global.allow_per_process_directories,
        Key::AllowlistSuccessfulBind => global.allow_successful_bind,
        Key::AllowlistUnsupportedSocketFamilies => global.allow_unsupported_socket_families,
        Key::ViolationRaiseFail => global.raise_fail,
        Key::ViolationRaiseSafe => global.raise_safe,
        Key::TraceMemoryAccess => global.memory_access != 0,
        Key::TraceProgramChecksum => global.program_checksum != 0,
        Key::TraceUseToolongHack => global.use_toolong_hack,
        Key::MatchCaseSensitive => global.case_sensitive,
        _ => false,
    }
}

fn set(global: &mut Global, task: &mut TaskPolicy, s: Setting) {
    match s {
        Setting::Sandbox(SandboxType::Path(cap), mode) => task.set_mode(cap, mode),
        Setting::Sandbox(SandboxType::Network, mode) => task.network = mode,
        Setting::RestrictGeneral(n) => global.restrict_general = n,
        Setting::Flag(flag, b) => {
            *match flag {
                Flag::RestrictIdentityChange => &mut global.restrict_identity_change,
                Flag::RestrictIoControl => &mut global.restrict_io_control,
                Flag::RestrictMemoryMap => &mut global.restrict_memory_map,
                Flag::RestrictSharedMemoryWritable => &mut global.restrict_shared_memory_writable,
                Flag::RestrictSystemInfo => &mut global.restrict_system_info,
                Flag::AllowlistPerProcessDirectories => &mut global.allow_per_process_directories,
                Flag::AllowlistSuccessfulBind => &mut global.allow_successful_bind,
                Flag::AllowlistUnsupportedSocketFamilies => {
                    &mut global.allow_unsupported_socket_families
                }
                Flag::ViolationRaiseFail => &mut global.raise_fail,
                Flag::ViolationRaiseSafe => &mut global.raise_safe,
                Flag::TraceUseToolongHack => &mut global.use_toolong_hack,
                Flag::MatchCaseSensitive => &mut global.case_sensitive,
            } = b
        }
        Setting::Decision(d) => global.decision = d,
        Setting::ExitCode(n) => global.exit_code = n,
        Setting::MagicLock(l) => task.lock = l,
        Setting::MemoryAccess(n) => global.memory_access = n,
        Setting::ProgramChecksum(n) => global.program_checksum = n,
        Setting::NoWildcard(n) => global.no_wildcard = n,
    }
}

/// A path pattern normalized for insertion (SPEC §3.2): one or two patterns.
struct Normalized {
    buf: heapless::Vec<u8, { MAX_PATTERN_LEN + 4 }>,
    /// Set when the pattern ended in `/***`: the length of the part before it.
    split: Option<usize>,
}

impl Normalized {
    /// The patterns to insert or remove, in order.
    fn patterns(&self) -> impl Iterator<Item = &[u8]> {
        let (first, second) = match self.split {
            Some(at) => (
                self.buf.get(..at).unwrap_or(&[]),
                // `prefix/***` becomes `prefix` and `prefix/**`.
                self.buf.get(..at + 3).unwrap_or(&[]),
            ),
            None => (self.buf.as_slice(), &[][..]),
        };
        core::iter::once(first).chain((self.split.is_some()).then_some(second))
    }
}

fn normalize(
    pattern: &[u8],
    no_wildcard: NoWildcard,
    key: &'static str,
) -> Result<Normalized, MagicError> {
    let too_long = MagicError::InvalidValue {
        key,
        expected: "a pattern of at most 4096 bytes",
    };
    let mut buf = heapless::Vec::<u8, { MAX_PATTERN_LEN + 4 }>::new();
    let prefix =
        no_wildcard == NoWildcard::Prefix && !pattern.iter().any(|&b| b == b'*' || b == b'?');
    let suffix: &[u8] = if prefix { b"/***" } else { b"" };
    for &b in pattern.iter().chain(suffix) {
        // Collapse runs of `/`.
        if b == b'/' && buf.last() == Some(&b'/') {
            continue;
        }
        buf.push(b).map_err(|_| too_long)?;
    }
    // Drop a trailing `/`, but keep a lone one.
    if buf.len() > 1 && buf.last() == Some(&b'/') {
        buf.pop();
    }
    if buf.len() > MAX_PATTERN_LEN {
        return Err(too_long);
    }
    let split = buf.ends_with(b"/***").then(|| buf.len() - 4);
    Ok(Normalized { buf, split })
}

/// The context of [`apply`]: what the command may change and how services are looked up.
pub struct Context<'s> {
    /// Where the command comes from.
    pub origin: Origin,
    /// Port lookup for service names in address patterns.
    pub services: &'s dyn Services,
}

/// Applies a parsed command to the policy (the global part and the calling task's part).
///
/// Errors: `core/*` keys from a later configuration file (no permission), `cmd/exec` outside
/// magic stat (invalid operation), invalid list values, full lists. A failed append leaves the
/// list as it was.
pub fn apply<'a>(
    global: &mut Global,
    task: &mut TaskPolicy,
    cmd: &Command<'a>,
    ctx: &Context<'_>,
) -> Result<Outcome<'a>, MagicError> {
    let key = match *cmd {
        Command::Probe => return Ok(Outcome::Done),
        Command::Set(key, _)
        | Command::Query(key)
        | Command::Append(key, _)
        | Command::Remove(key, _) => key,
        Command::Exec(_) => Key::CmdExec,
    };
    if ctx.origin == Origin::LaterConfig && key.is_core() {
        if let Command::Query(_) = cmd {
        } else {
            return Err(MagicError::NoPermission { key: key.name() });
        }
    }
    match *cmd {
        Command::Probe => Ok(Outcome::Done),
        Command::Set(_, s) => {
            set(global, task, s);
            Ok(Outcome::Done)
        }
        Command::Query(key) => Ok(Outcome::Answer(query(global, task, key))),
        Command::Exec(args) => {
            if ctx.origin == Origin::Runtime {
                Ok(Outcome::Exec(args))
            } else {
                Err(MagicError::InvalidOperation {
                    key: key.name(),
                    op: Op::Exec,
                })
            }
        }
        Command::Append(key, value) => {
            edit_list(global, task, key, value, true, ctx)?;
            Ok(Outcome::Done)
        }
        Command::Remove(key, value) => {
            edit_list(global, task, key, value, false, ctx)?;
            Ok(Outcome::Done)
        }
    }
}

fn edit_list(
    global: &mut Global,
    task: &mut TaskPolicy,
    key: Key,
    value: &[u8],
    append: bool,
    ctx: &Context<'_>,
) -> Result<(), MagicError> {
    let name = key.name();
    let full = |full| MagicError::Full { key: name, full };
    let no_wildcard = global.no_wildcard;
    let path = |cap| (Kind::Allow, cap);
    // Path lists.
    let target = match key {
        Key::AllowlistRead => Some((path(Cap::Read), true)),
        Key::AllowlistWrite => Some((path(Cap::Write), true)),
        Key::AllowlistExec => Some((path(Cap::Exec), true)),
        Key::DenylistRead => Some(((Kind::Deny, Cap::Read), true)),
        Key::DenylistWrite => Some(((Kind::Deny, Cap::Write), true)),
        Key::DenylistExec => Some(((Kind::Deny, Cap::Exec), true)),
        Key::FilterRead => Some(((Kind::Deny, Cap::Read), false)),
        Key::FilterWrite => Some(((Kind::Deny, Cap::Write), false)),
        Key::FilterExec => Some(((Kind::Deny, Cap::Exec), false)),
        _ => None,
    };
    if let Some(((kind, cap), per_task)) = target {
        let norm = normalize(value, no_wildcard, name)?;
        let list = if per_task {
            task.list_mut(cap)
        } else {
            global.filter_mut(cap)
        };
        return edit_paths(list, kind, &norm, append).map_err(full);
    }
    if key == Key::ExecKillIfMatch {
        let norm = normalize(value, no_wildcard, name)?;
        return edit_paths(&mut global.kill_if_match, Kind::Deny, &norm, append).map_err(full);
    }
    // Address lists.
    let (kind, list) = match key {
        Key::AllowlistNetworkBind => (Kind::Allow, task.net_list_mut(Net::Bind)),
        Key::AllowlistNetworkConnect => (Kind::Allow, task.net_list_mut(Net::Connect)),
        Key::DenylistNetworkBind => (Kind::Deny, task.net_list_mut(Net::Bind)),
        Key::DenylistNetworkConnect => (Kind::Deny, task.net_list_mut(Net::Connect)),
        Key::FilterNetwork => (Kind::Deny, &mut global.filter_network),
        _ => {
            return Err(MagicError::InvalidOperation {
                key: name,
                op: if append { Op::Append } else { Op::Remove },
            })
        }
    };
    let expanded = parse_addr_pattern(value, ctx.services)
        .map_err(|error| MagicError::InvalidAddress { key: name, error })?;
    // Check capacity first so that a multi-entry append is all or nothing.
    if append {
        let mut need_rules = 0;
        let mut need_text = 0;
        for p in expanded.iter() {
            match p {
                AddrPattern::Unix(t) | AddrPattern::UnixAbstract(t) => {
                    let n = normalize(t, no_wildcard, name)?;
                    for part in n.patterns() {
                        need_rules += 1;
                        need_text += part.len();
                    }
                }
                _ => need_rules += 1,
            }
        }
        list.reserve_check(need_rules, need_text).map_err(full)?;
    }
    for p in expanded.iter() {
        match *p {
            AddrPattern::Unix(t) | AddrPattern::UnixAbstract(t) => {
                let n = normalize(t, no_wildcard, name)?;
                for part in n.patterns() {
                    let pat = match p {
                        AddrPattern::Unix(_) => AddrPattern::Unix(part),
                        _ => AddrPattern::UnixAbstract(part),
                    };
                    if append {
                        list.push(kind, &pat).map_err(full)?;
                    } else {
                        list.remove(kind, &pat);
                    }
                }
            }
            _ => {
                if append {
                    list.push(kind, p).map_err(full)?;
                } else {
                    list.remove(kind, p);
                }
            }
        }
    }
    Ok(())
}

fn edit_paths(
    list: &mut crate::sandbox::list::PathList,
    kind: Kind,
    norm: &Normalized,
    append: bool,
) -> Result<(), Full> {
    if append {
        let need_text: usize = norm.patterns().map(<[u8]>::len).sum();
        list.reserve_check(norm.patterns().count(), need_text)?;
        for p in norm.patterns() {
            list.push(kind, &[p])?;
        }
    } else {
        for p in norm.patterns() {
            list.remove(kind, p);
        }
    }
    Ok(())
}

/// Writes `cmd` as magic command text (without prefix) into `out`, byte by byte; parsing the
/// output gives back an equal command.
pub fn encode(cmd: &Command<'_>, out: &mut dyn FnMut(&[u8])) {
    match *cmd {
        Command::Probe => out(b"2"),
        Command::Set(key, s) => {
            out(key.name().as_bytes());
            out(b":");
            let mut num = itoa::Buf::new();
            match s {
                Setting::Sandbox(_, m) => out(m.name().as_bytes()),
                Setting::RestrictGeneral(n)
                | Setting::MemoryAccess(n)
                | Setting::ProgramChecksum(n) => out(num.format(i64::from(n))),
                Setting::Flag(_, b) => out(if b { b"true" } else { b"false" }),
                Setting::Decision(d) => out(d.name().as_bytes()),
                Setting::ExitCode(n) => out(num.format(i64::from(n))),
                Setting::MagicLock(l) => out(l.name().as_bytes()),
                Setting::NoWildcard(n) => out(n.name().as_bytes()),
            }
        }
        Command::Query(key) => {
            out(key.name().as_bytes());
            out(b"?");
        }
        Command::Append(key, v) => {
            out(key.name().as_bytes());
            out(b"+");
            out(v);
        }
        Command::Remove(key, v) => {
            out(key.name().as_bytes());
            out(b"-");
            out(v);
        }
        Command::Exec(v) => {
            out(b"cmd/exec!");
            out(v);
        }
    }
}

mod itoa {
    /// A tiny decimal formatter for `encode`.
    pub struct Buf {
        bytes: [u8; 20],
    }

    impl Buf {
        pub fn new() -> Self {
            Buf { bytes: [0; 20] }
        }

        pub fn format(&mut self, n: i64) -> &[u8] {
            let mut i = self.bytes.len();
            let mut v = n.unsigned_abs();
            loop {
                i -= 1;
                if let Some(slot) = self.bytes.get_mut(i) {
                    // v % 10 < 10 fits a u8.
                    *slot = b'0' + (v % 10) as u8;
                }
                v /= 10;
                if v == 0 {
                    break;
                }
            }
            if n < 0 {
                i -= 1;
                if let Some(slot) = self.bytes.get_mut(i) {
                    *slot = b'-';
                }
            }
            self.bytes.get(i..).unwrap_or(&[])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::{NoServices, SockAddr};
    use crate::sandbox::{check_path, NoneTraced, Sandbox, Verdict};
    use std::boxed::Box;
    use std::vec::Vec;

    fn run(sb: &mut Sandbox, cmd: &str, origin: Origin) -> Result<Outcome<'static>, MagicError> {
        let cmd: &'static [u8] = std::boxed::Box::leak(cmd.as_bytes().to_vec().into_boxed_slice());
        let parsed = parse(cmd)?;
        let ctx = Context {
            origin,
            services: &NoServices,
        };
        apply(&mut sb.global, &mut sb.task, &parsed, &ctx)
    }

    fn ok(sb: &mut Sandbox, cmd: &str) {
        assert_eq!(
            run(sb, cmd, Origin::CommandLine),
            Ok(Outcome::Done),
            "{cmd}"
        );
    }

    fn ask(sb: &mut Sandbox, cmd: &str) -> bool {
        match run(sb, cmd, Origin::Runtime) {
            Ok(Outcome::Answer(b)) => b,
            other => panic!("{cmd}: {other:?}"),
        }
    }

    #[test]
    fn prefix() {
        assert_eq!(strip_prefix(b"/dev/sydbox"), Some(&b""[..]));
        assert_eq!(strip_prefix(b"/dev/sydbox/2"), Some(&b"2"[..]));
        assert_eq!(
            strip_prefix(b"/dev/sydbox/core/sandbox/read:deny"),
            Some(&b"core/sandbox/read:deny"[..])
        );
        assert_eq!(strip_prefix(b"/dev/sydboxes"), None);
        assert_eq!(strip_prefix(b"/dev/sydbo"), None);
        assert_eq!(strip_prefix(b"/dev/./sydbox/2"), None);
    }

    #[test]
    fn values() {
        for (v, b) in [
            ("1", true),
            ("t", true),
            ("T", true),
            ("true", true),
            ("TRUE", true),
            ("tRuE", true),
            ("0", false),
            ("f", false),
            ("F", false),
            ("false", false),
            ("False", false),
        ] {
            assert_eq!(parse_bool(v.as_bytes()), Some(b), "{v}");
        }
        for v in ["", "yes", "no", "2", "tru", "true ", " 1", "on"] {
            assert_eq!(parse_bool(v.as_bytes()), None, "{v}");
        }
        for (v, n) in [
            ("0", Some(0)),
            ("7", Some(7)),
            ("-1", Some(-1)),
            ("+3", Some(3)),
            ("0x1f", Some(31)),
            ("0X1F", Some(31)),
            ("010", Some(8)),
            ("-0x10", Some(-16)),
            ("2147483647", Some(i32::MAX)),
            ("-2147483648", Some(i32::MIN)),
            ("2147483648", None),
            ("-2147483649", None),
            ("99999999999999999999", None),
            ("08", None),
            ("0x", None),
            ("", None),
            ("-", None),
            ("1 ", None),
            ("1a", None),
        ] {
            assert_eq!(parse_int(v.as_bytes()), n, "{v}");
        }
    }

    #[test]
    fn parse_table() {
        use MagicError as E;
        let cases: &[(&str, Result<Command<'_>, MagicError>)] = &[
            ("", Ok(Command::Probe)),
            ("2", Ok(Command::Probe)),
            ("1", Err(E::InvalidKey)),
            ("0", Err(E::InvalidKey)),
            ("core", Err(E::InvalidKey)),
            ("core:x", Err(E::InvalidKey)),
            ("/dev/sydbox/core/sandbox/read:deny", Err(E::InvalidKey)),
            (
                "core/sandbox/read",
                Err(E::MissingOperation {
                    key: "core/sandbox/read",
                }),
            ),
            (
                "core/sandbox/read:deny",
                Ok(Command::Set(
                    Key::SandboxRead,
                    Setting::Sandbox(SandboxType::Path(Cap::Read), Mode::Deny),
                )),
            ),
            (
                "core/sandbox/network:allow",
                Ok(Command::Set(
                    Key::SandboxNetwork,
                    Setting::Sandbox(SandboxType::Network, Mode::Allow),
                )),
            ),
            (
                "core/sandbox/read:Deny",
                Err(E::InvalidValue {
                    key: "core/sandbox/read",
                    expected: "one of off, bpf, deny, allow",
                }),
            ),
            ("core/sandbox/read?", Ok(Command::Query(Key::SandboxRead))),
            // Anything after `?` is ignored.
            (
                "core/sandbox/read?junk",
                Ok(Command::Query(Key::SandboxRead)),
            ),
            (
                "core/restrict/general:3",
                Ok(Command::Set(
                    Key::RestrictGeneral,
                    Setting::RestrictGeneral(3),
                )),
            ),
            (
                "core/restrict/general:4",
                Err(E::InvalidValue {
                    key: "core/restrict/general",
                    expected: "an integer from 0 to 3",
                }),
            ),
            (
                "core/restrict/id_change:0",
                Ok(Command::Set(
                    Key::RestrictIdentityChange,
                    Setting::Flag(Flag::RestrictIdentityChange, false),
                )),
            ),
            (
                "core/violation/exit_code:-1",
                Ok(Command::Set(Key::ViolationExitCode, Setting::ExitCode(-1))),
            ),
            (
                "core/violation/decision?",
                Err(E::InvalidOperation {
                    key: "core/violation/decision",
                    op: Op::Query,
                }),
            ),
            (
                "core/violation/decision:killall",
                Ok(Command::Set(
                    Key::ViolationDecision,
                    Setting::Decision(Decision::KillAll),
                )),
            ),
            (
                "core/trace/magic_lock:exec",
                Ok(Command::Set(
                    Key::TraceMagicLock,
                    Setting::MagicLock(Lock::Exec),
                )),
            ),
            (
                "core/trace/memory_access:3",
                Ok(Command::Set(
                    Key::TraceMemoryAccess,
                    Setting::MemoryAccess(3),
                )),
            ),
            (
                "core/match/no_wildcard:prefix",
                Ok(Command::Set(
                    Key::MatchNoWildcard,
                    Setting::NoWildcard(NoWildcard::Prefix),
                )),
            ),
            (
                "core/sandbox/read+x",
                Err(E::InvalidOperation {
                    key: "core/sandbox/read",
                    op: Op::Append,
                }),
            ),
            (
                "allowlist/read:x",
                Err(E::InvalidOperation {
                    key: "allowlist/read",
                    op: Op::Set,
                }),
            ),
            (
                "allowlist/read+/a:b@c",
                Ok(Command::Append(Key::AllowlistRead, b"/a:b@c")),
            ),
            (
                "allowlist/read+",
                Err(E::InvalidValue {
                    key: "allowlist/read",
                    expected: "a non-empty path pattern",
                }),
            ),
            (
                "denylist/network/connect-inet:1.2.3.4@80",
                Ok(Command::Remove(
                    Key::DenylistNetworkConnect,
                    b"inet:1.2.3.4@80",
                )),
            ),
            ("cmd/exec!echo\x1fhi", Ok(Command::Exec(b"echo\x1fhi"))),
            (
                "cmd/exec:x",
                Err(E::InvalidOperation {
                    key: "cmd/exec",
                    op: Op::Set,
                }),
            ),
            (
                "allowlist/read!x",
                Err(E::InvalidOperation {
                    key: "allowlist/read",
                    op: Op::Exec,
                }),
            ),
        ];
        for (cmd, want) in cases {
            assert_eq!(parse(cmd.as_bytes()), *want, "{cmd}");
        }
    }

    #[test]
    fn every_key_round_trips_and_is_documented() {
        for info in KEYS {
            assert_eq!(
                Key::lookup(info.name.as_bytes()).map(|i| i.name),
                Some(info.name)
            );
            let sample: &[u8] = match info.ty {
                Type::Bool => b"true",
                Type::Int { .. } => b"1",
                Type::Word(w) => w[0].as_bytes(),
                Type::Paths => b"/x/***",
                Type::Addrs => b"unix:/x",
                Type::Command => b"a\x1fb",
            };
            let op = match info.ty {
                Type::Paths | Type::Addrs => b'+',
                Type::Command => b'!',
                _ => b':',
            };
            let mut text = info.name.as_bytes().to_vec();
            text.push(op);
            text.extend_from_slice(sample);
            let cmd = parse(&text).unwrap();
            let mut out = Vec::new();
            encode(&cmd, &mut |b| out.extend_from_slice(b));
            assert_eq!(parse(&out).unwrap(), cmd, "{}", info.name);
        }
    }

    #[test]
    fn defaults_and_queries() {
        let mut sb = Box::<Sandbox>::default();
        assert!(!ask(&mut sb, "core/sandbox/read?"));
        assert!(ask(&mut sb, "core/sandbox/write?"));
        assert!(!ask(&mut sb, "core/sandbox/exec?"));
        assert!(ask(&mut sb, "core/sandbox/network?"));
        assert!(ask(&mut sb, "core/restrict/identity_change?"));
        assert!(!ask(&mut sb, "core/restrict/general?"));
        assert!(ask(&mut sb, "core/allowlist/per_process_directories?"));
        assert!(ask(&mut sb, "core/match/case_sensitive?"));
        ok(&mut sb, "core/sandbox/read:deny");
        assert!(ask(&mut sb, "core/sandbox/read?"));
        ok(&mut sb, "core/restrict/general:2");
        assert!(ask(&mut sb, "core/restrict/general?"));
        ok(&mut sb, "core/restrict/id_change:f");
        assert!(!ask(&mut sb, "core/restrict/identity_change?"));
        ok(&mut sb, "core/violation/exit_code:0");
        assert_eq!(sb.global.exit_code, 0);
        ok(&mut sb, "core/trace/magic_lock:on");
        assert_eq!(sb.task.lock, Lock::On);
    }

    #[test]
    fn exec_only_at_runtime() {
        let mut sb = Box::<Sandbox>::default();
        assert_eq!(
            run(&mut sb, "cmd/exec!true", Origin::Runtime),
            Ok(Outcome::Exec(b"true"))
        );
        assert_eq!(
            run(&mut sb, "cmd/exec!true", Origin::CommandLine),
            Err(MagicError::InvalidOperation {
                key: "cmd/exec",
                op: Op::Exec
            })
        );
    }

    #[test]
    fn insertion_normalizes_and_expands() {
        let mut sb = Box::<Sandbox>::default();
        ok(&mut sb, "allowlist/write+//home//u///***");
        let v: Vec<_> = sb
            .task
            .list(Cap::Write)
            .iter()
            .map(|(_, p)| p.to_vec())
            .collect();
        assert_eq!(v, [b"/home/u".to_vec(), b"/home/u/**".to_vec()]);
        ok(&mut sb, "allowlist/write-/home/u/***");
        assert!(sb.task.list(Cap::Write).is_empty());
        // A lone `/` stays; a trailing `/` goes.
        ok(&mut sb, "allowlist/write+/");
        ok(&mut sb, "allowlist/write+/tmp/");
        let v: Vec<_> = sb
            .task
            .list(Cap::Write)
            .iter()
            .map(|(_, p)| p.to_vec())
            .collect();
        assert_eq!(v, [b"/".to_vec(), b"/tmp".to_vec()]);
        // `/***` alone matches every path.
        let mut sb = Box::<Sandbox>::default();
        ok(&mut sb, "allowlist/read+/***");
        let v: Vec<_> = sb
            .task
            .list(Cap::Read)
            .iter()
            .map(|(_, p)| p.to_vec())
            .collect();
        assert_eq!(v, [b"".to_vec(), b"/**".to_vec()]);
    }

    #[test]
    fn no_wildcard_prefix_is_read_at_insertion() {
        let mut sb = Box::<Sandbox>::default();
        ok(&mut sb, "core/match/no_wildcard:prefix");
        ok(&mut sb, "allowlist/write+/dev/null");
        ok(&mut sb, "allowlist/write+/dev/tty*");
        ok(&mut sb, "core/match/no_wildcard:literal");
        ok(&mut sb, "allowlist/write+/srv");
        let v: Vec<_> = sb
            .task
            .list(Cap::Write)
            .iter()
            .map(|(_, p)| p.to_vec())
            .collect();
        assert_eq!(
            v,
            [
                b"/dev/null".to_vec(),
                b"/dev/null/**".to_vec(),
                b"/dev/tty*".to_vec(),
                b"/srv".to_vec()
            ]
        );
    }

    #[test]
    fn policy_example_of_spec_3_4() {
        let mut sb = Box::<Sandbox>::default();
        ok(&mut sb, "core/sandbox/read:deny");
        ok(&mut sb, "allowlist/read+/home/***");
        ok(&mut sb, "denylist/read+/home/*/.ssh/***");
        ok(&mut sb, "allowlist/read+/home/u/.ssh/known_hosts");
        let check =
            |p: &str| check_path(&sb.global, &sb.task, Cap::Read, p.as_bytes(), &NoneTraced);
        assert_eq!(check("/home/u/x"), Verdict::Allow);
        assert_eq!(check("/home/u/.ssh/id_rsa"), Verdict::Deny);
        assert_eq!(check("/home/u/.ssh/known_hosts"), Verdict::Allow);
        assert_eq!(check("/etc/passwd"), Verdict::Deny);
    }

    #[test]
    fn address_lists() {
        let mut sb = Box::<Sandbox>::default();
        ok(&mut sb, "allowlist/network/connect+unix:/run/x/***");
        assert_eq!(sb.task.net_list(Net::Connect).len(), 2);
        ok(&mut sb, "allowlist/network/connect-unix:/run/x/***");
        assert!(sb.task.net_list(Net::Connect).is_empty());
        assert!(matches!(
            run(
                &mut sb,
                "allowlist/network/connect+bogus",
                Origin::CommandLine
            ),
            Err(MagicError::InvalidAddress { .. })
        ));
        let _ = SockAddr::Unnamed;
    }

    #[test]
    fn full_list_is_an_error_naming_the_key() {
        let mut sb = Box::<Sandbox>::default();
        for i in 0..crate::limits::MAX_LIST_RULES {
            ok(&mut sb, &std::format!("allowlist/read+/{i}"));
        }
        let err = run(&mut sb, "allowlist/read+/x", Origin::CommandLine).unwrap_err();
        assert_eq!(
            std::format!("{err}"),
            "allowlist/read: list full: at most 1024 rules"
        );
        assert_eq!(err.errno(), 12);
        // A two-entry expansion that only half fits adds nothing.
        ok(&mut sb, "allowlist/read-/0");
        assert!(run(&mut sb, "allowlist/read+/y/***", Origin::CommandLine).is_err());
        assert_eq!(
            sb.task.list(Cap::Read).len(),
            crate::limits::MAX_LIST_RULES - 1
        );
    }
}
