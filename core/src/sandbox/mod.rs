//! The sandbox policy: states per sandbox type, ordered allow/deny lists, filters, and the pure
//! decision functions [`check_path`] and [`check_addr`].
//!
//! Per SPEC §2.2 the policy has two parts. [`TaskPolicy`] is per task (copied to children): the
//! four states, the allow/deny lists and the magic lock. [`Global`] is shared by all tasks:
//! restrictions, violation handling, matching options, filters, `exec/kill_if_match` and the
//! addresses learned from successful binds.

pub mod list;

use core::fmt;

use crate::addr::{AddrPattern, Case, SockAddr};
use list::{AddrList, Full, Kind, PathList};

/// State of one sandbox type (SPEC §2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Not checked; everything allowed.
    Off,
    /// Denied in the kernel by the BPF filter (EPERM), decided at start-up.
    Bpf,
    /// Denied unless the last matching rule is an allowlist entry.
    Deny,
    /// Allowed unless the last matching rule is a denylist entry.
    Allow,
}

impl Mode {
    /// The word used by magic commands.
    pub const fn name(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::Bpf => "bpf",
            Mode::Deny => "deny",
            Mode::Allow => "allow",
        }
    }

    /// Parses a magic command word (`off`, `bpf`, `deny`, `allow`; exact, case-sensitive).
    pub fn parse(word: &[u8]) -> Option<Mode> {
        [Mode::Off, Mode::Bpf, Mode::Deny, Mode::Allow]
            .into_iter()
            .find(|m| m.name().as_bytes() == word)
    }

    /// Whether user space decides (the states that consult lists).
    pub const fn is_user(self) -> bool {
        matches!(self, Mode::Deny | Mode::Allow)
    }
}

/// A path sandbox type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cap {
    /// Read sandboxing.
    Read,
    /// Write sandboxing.
    Write,
    /// execve(2) sandboxing.
    Exec,
}

impl Cap {
    /// All path types, in index order.
    pub const ALL: [Cap; 3] = [Cap::Read, Cap::Write, Cap::Exec];

    const fn index(self) -> usize {
        match self {
            Cap::Read => 0,
            Cap::Write => 1,
            Cap::Exec => 2,
        }
    }
}

/// A network group (SPEC §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Net {
    /// bind(2).
    Bind,
    /// connect(2), sendto(2), sendmsg(2), recvmsg(2).
    Connect,
}

/// The magic lock of a task (SPEC §5.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lock {
    /// Magic commands are allowed.
    Off,
    /// No magic commands.
    On,
    /// Becomes `On` when the task completes a successful exec.
    Exec,
}

impl Lock {
    /// The word used by magic commands.
    pub const fn name(self) -> &'static str {
        match self {
            Lock::Off => "off",
            Lock::On => "on",
            Lock::Exec => "exec",
        }
    }
}

/// What to do when a violation is reported (`core/violation/decision`, SPEC §7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Deny the call; the task continues.
    Deny,
    /// Deny, then kill the offending thread group.
    Kill,
    /// Deny, kill every task, and exit.
    KillAll,
    /// Upstream's alias of `deny`.
    Noop,
    /// The seed's value under `-b`; behaves as `deny` in user space.
    Bpf,
}

impl Decision {
    /// The word used by magic commands.
    pub const fn name(self) -> &'static str {
        match self {
            Decision::Deny => "deny",
            Decision::Kill => "kill",
            Decision::KillAll => "killall",
            Decision::Noop => "noop",
            Decision::Bpf => "bpf",
        }
    }
}

/// How patterns without `*` or `?` are matched (`core/match/no_wildcard`, SPEC §3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoWildcard {
    /// Literally.
    Literal,
    /// As a prefix: `/***` is appended at insertion.
    Prefix,
}

impl NoWildcard {
    /// The word used by magic commands.
    pub const fn name(self) -> &'static str {
        match self {
            NoWildcard::Literal => "literal",
            NoWildcard::Prefix => "prefix",
        }
    }
}

/// The per-task part of the policy (SPEC §2.2): copied to children.
#[derive(Clone)]
pub struct TaskPolicy {
    /// States of read, write, exec.
    pub paths: [Mode; 3],
    /// State of network sandboxing.
    pub network: Mode,
    /// The magic lock.
    pub lock: Lock,
    path_lists: [PathList; 3],
    net_lists: [AddrList; 2],
}

impl Default for TaskPolicy {
    fn default() -> Self {
        TaskPolicy {
            // SPEC §2.3: exec off, read off (project decision), write bpf, network bpf.
            paths: [Mode::Off, Mode::Bpf, Mode::Off],
            network: Mode::Bpf,
            lock: Lock::Off,
            path_lists: [PathList::new(), PathList::new(), PathList::new()],
            net_lists: [AddrList::new(), AddrList::new()],
        }
    }
}

impl TaskPolicy {
    /// The state of path type `cap`.
    pub fn mode(&self, cap: Cap) -> Mode {
        self.paths.get(cap.index()).copied().unwrap_or(Mode::Off)
    }

    /// Whether [`check_path`] allows every path of type `cap` under this policy, whatever the
    /// path and the global settings: the type is off, or its list allows every path. The
    /// supervisor then has nothing to check for this type, and nothing to race with.
    pub fn allows_every_path(&self, cap: Cap) -> bool {
        match self.mode(cap) {
            Mode::Off => true,
            Mode::Bpf => false,
            m => self.list(cap).allows_every_path(m == Mode::Allow),
        }
    }

    /// Sets the state of path type `cap`.
    pub fn set_mode(&mut self, cap: Cap, mode: Mode) {
        if let Some(m) = self.paths.get_mut(cap.index()) {
            *m = mode;
        }
    }

    /// The allow/deny list of path type `cap`.
    pub fn list(&self, cap: Cap) -> &PathList {
        // The index is always in range: Cap has three values and the array three lists.
        match &self.path_lists {
            [r, w, x] => match cap {
                Cap::Read => r,
                Cap::Write => w,
                Cap::Exec => x,
            },
        }
    }

    /// The allow/deny list of path type `cap`, mutable.
    pub fn list_mut(&mut self, cap: Cap) -> &mut PathList {
        match &mut self.path_lists {
            [r, w, x] => match cap {
                Cap::Read => r,
                Cap::Write => w,
                Cap::Exec => x,
            },
        }
    }

    /// The allow/deny list of network group `net`.
    pub fn net_list(&self, net: Net) -> &AddrList {
        match &self.net_lists {
            [b, c] => match net {
                Net::Bind => b,
                Net::Connect => c,
            },
        }
    }

    /// The allow/deny list of network group `net`, mutable.
    pub fn net_list_mut(&mut self, net: Net) -> &mut AddrList {
        match &mut self.net_lists {
            [b, c] => match net {
                Net::Bind => b,
                Net::Connect => c,
            },
        }
    }
}

/// Settings shared by all tasks (SPEC §2.2, §5.3 scopes G and S).
#[derive(Clone)]
pub struct Global {
    /// `core/restrict/general`: 0..=3.
    pub restrict_general: u8,
    /// `core/restrict/identity_change`.
    pub restrict_identity_change: bool,
    /// `core/restrict/io_control`.
    pub restrict_io_control: bool,
    /// `core/restrict/memory_map`.
    pub restrict_memory_map: bool,
    /// `core/restrict/shared_memory_writable`.
    pub restrict_shared_memory_writable: bool,
    /// `core/restrict/system_info`.
    pub restrict_system_info: bool,
    /// `core/allowlist/per_process_directories`.
    pub allow_per_process_directories: bool,
    /// `core/allowlist/successful_bind`.
    pub allow_successful_bind: bool,
    /// `core/allowlist/unsupported_socket_families`.
    pub allow_unsupported_socket_families: bool,
    /// `core/violation/decision`.
    pub decision: Decision,
    /// `core/violation/exit_code`.
    pub exit_code: i32,
    /// `core/violation/raise_fail`.
    pub raise_fail: bool,
    /// `core/violation/raise_safe`.
    pub raise_safe: bool,
    /// `core/trace/memory_access`: 0..=3.
    pub memory_access: u8,
    /// `core/trace/program_checksum`: 0..=2.
    pub program_checksum: u8,
    /// `core/trace/use_toolong_hack`.
    pub use_toolong_hack: bool,
    /// `core/match/case_sensitive`.
    pub case_sensitive: bool,
    /// `core/match/no_wildcard`.
    pub no_wildcard: NoWildcard,
    /// `filter/read`, `filter/write`, `filter/exec` (only deny rules are used).
    filters: [PathList; 3],
    /// `filter/network`.
    pub filter_network: AddrList,
    /// `exec/kill_if_match`.
    pub kill_if_match: PathList,
    /// Addresses of successful binds, allowed for the connect group (SPEC §4.5).
    pub bound: AddrList,
}

impl Default for Global {
    fn default() -> Self {
        Global {
            restrict_general: 0,
            restrict_identity_change: true,
            restrict_io_control: false,
            restrict_memory_map: false,
            restrict_shared_memory_writable: false,
            restrict_system_info: false,
            allow_per_process_directories: true,
            allow_successful_bind: true,
            allow_unsupported_socket_families: true,
            decision: Decision::Deny,
            exit_code: -1,
            raise_fail: false,
            raise_safe: false,
            memory_access: 0,
            program_checksum: 1,
            use_toolong_hack: false,
            case_sensitive: true,
            no_wildcard: NoWildcard::Literal,
            filters: [PathList::new(), PathList::new(), PathList::new()],
            filter_network: AddrList::new(),
            kill_if_match: PathList::new(),
            bound: AddrList::new(),
        }
    }
}

impl Global {
    /// The filter list of path type `cap`.
    pub fn filter(&self, cap: Cap) -> &PathList {
        match &self.filters {
            [r, w, x] => match cap {
                Cap::Read => r,
                Cap::Write => w,
                Cap::Exec => x,
            },
        }
    }

    /// The filter list of path type `cap`, mutable.
    pub fn filter_mut(&mut self, cap: Cap) -> &mut PathList {
        match &mut self.filters {
            [r, w, x] => match cap {
                Cap::Read => r,
                Cap::Write => w,
                Cap::Exec => x,
            },
        }
    }

    /// Whether matching folds ASCII case.
    pub fn case(&self) -> Case {
        if self.case_sensitive {
            Case::Sensitive
        } else {
            Case::Insensitive
        }
    }

    /// The first `exec/kill_if_match` pattern matching `path`, if any.
    pub fn kill_if_match(&self, path: &[u8]) -> Option<&[u8]> {
        self.kill_if_match.first_match(path, self.case())
    }

    /// Records the address of a successful bind for the connect group. Already known addresses
    /// are not added twice. Errors when the list is full.
    pub fn learn_bind(&mut self, addr: &SockAddr<'_>) -> Result<(), Full> {
        let exact = match *addr {
            SockAddr::Unix(path) => AddrPattern::Unix(path),
            SockAddr::UnixAbstract(name) => AddrPattern::UnixAbstract(name),
            SockAddr::Inet { addr, port } => AddrPattern::Inet {
                addr,
                mask: 32,
                ports: crate::addr::PortRange {
                    first: port,
                    last: port,
                },
            },
            SockAddr::Inet6 { addr, port } => AddrPattern::Inet6 {
                addr,
                mask: 128,
                ports: crate::addr::PortRange {
                    first: port,
                    last: port,
                },
            },
            SockAddr::Unnamed | SockAddr::Other { .. } => return Ok(()),
        };
        if self.bound.contains(Kind::Allow, &exact) {
            return Ok(());
        }
        // Unix paths are stored as literal patterns: escape the wildcard bytes.
        if let AddrPattern::Unix(text) | AddrPattern::UnixAbstract(text) = exact {
            let mut escaped = heapless::Vec::<u8, { crate::limits::PATH_MAX * 2 }>::new();
            for &b in text {
                if matches!(b, b'*' | b'?' | b'[' | b'\\') {
                    let _ = escaped.push(b'\\');
                }
                let _ = escaped.push(b);
            }
            let pat = match exact {
                AddrPattern::Unix(_) => AddrPattern::Unix(&escaped),
                _ => AddrPattern::UnixAbstract(&escaped),
            };
            if self.bound.contains(Kind::Allow, &pat) {
                return Ok(());
            }
            return self.bound.push(Kind::Allow, &pat);
        }
        self.bound.push(Kind::Allow, &exact)
    }
}

/// The whole policy as configured at start-up: the global part and the first task's part.
#[derive(Clone, Default)]
pub struct Sandbox {
    /// Settings shared by all tasks.
    pub global: Global,
    /// The policy the eldest task starts with.
    pub task: TaskPolicy,
}

/// The outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The access is allowed.
    Allow,
    /// The access is denied and reported as a violation.
    Deny,
    /// The access is denied without a report (a `filter/*` pattern matched).
    DenyFiltered,
    /// The socket family cannot be named by patterns and unsupported families are not allowed
    /// (EAFNOSUPPORT, always reported).
    DenyFamily,
}

impl Verdict {
    /// Whether the access is allowed.
    pub fn allowed(self) -> bool {
        self == Verdict::Allow
    }
}

/// Which `/proc/<id>` directories belong to traced tasks: answers for the per-process directory
/// rule (SPEC §6.6). The binary knows the live tasks; the core only asks.
pub trait Traced {
    /// Whether `id` is the TID or PID of a task currently traced.
    fn is_traced(&self, id: u32) -> bool;
}

impl<F: Fn(u32) -> bool> Traced for F {
    fn is_traced(&self, id: u32) -> bool {
        self(id)
    }
}

/// No task is traced (for callers that have none, e.g. tests and dry evaluation).
pub struct NoneTraced;

impl Traced for NoneTraced {
    fn is_traced(&self, _: u32) -> bool {
        false
    }
}

/// If `path` is `/proc/<digits>` or below it, the number.
fn proc_id(path: &[u8]) -> Option<u32> {
    let rest = path.strip_prefix(b"/proc/")?;
    let end = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
    let digits = rest.get(..end)?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits.iter().try_fold(0u32, |n, &d| {
        n.checked_mul(10)?.checked_add(u32::from(d - b'0'))
    })
}

/// Decides a path access of type `cap` to the canonical `path` (SPEC §2.7 step 4 and 8).
///
/// Pure: the caller canonicalized the path; `traced` answers for the per-process directory rule.
pub fn check_path(
    global: &Global,
    task: &TaskPolicy,
    cap: Cap,
    path: &[u8],
    traced: &dyn Traced,
) -> Verdict {
    let mode = task.mode(cap);
    let case = global.case();
    let allowed = match mode {
        Mode::Off => true,
        // A type switched to bpf at run time whose call still reaches user space: deny without
        // consulting the lists (SPEC §2.2, UNDETERMINED reading).
        Mode::Bpf => false,
        Mode::Allow | Mode::Deny => match task.list(cap).last_match(path, case) {
            Some(kind) => kind == Kind::Allow,
            None => {
                mode == Mode::Allow
                    || (cap != Cap::Exec
                        && global.allow_per_process_directories
                        && proc_id(path).is_some_and(|id| traced.is_traced(id)))
            }
        },
    };
    if allowed {
        Verdict::Allow
    } else if global.filter(cap).first_match(path, case).is_some() {
        Verdict::DenyFiltered
    } else {
        Verdict::Deny
    }
}

/// Decides a network access of group `net` to `addr` (SPEC §4.1, §4.4, §4.5).
///
/// Pure: unix paths in `addr` are already canonical; `traced` answers for the per-process
/// directory rule, which applies to non-abstract unix paths only.
pub fn check_addr(
    global: &Global,
    task: &TaskPolicy,
    net: Net,
    addr: &SockAddr<'_>,
    traced: &dyn Traced,
) -> Verdict {
    let mode = task.network;
    if mode == Mode::Off {
        return Verdict::Allow;
    }
    if let SockAddr::Other { .. } = addr {
        return if global.allow_unsupported_socket_families {
            Verdict::Allow
        } else {
            Verdict::DenyFamily
        };
    }
    let case = global.case();
    let allowed = match mode {
        Mode::Off => true,
        Mode::Bpf => false,
        Mode::Allow | Mode::Deny => {
            let found = task.net_list(net).last_match(addr, case).or_else(|| {
                if net == Net::Connect {
                    global.bound.last_match(addr, case)
                } else {
                    None
                }
            });
            match found {
                Some(kind) => kind == Kind::Allow,
                None => {
                    mode == Mode::Allow
                        || match addr {
                            SockAddr::Unix(path) => {
                                global.allow_per_process_directories
                                    && proc_id(path).is_some_and(|id| traced.is_traced(id))
                            }
                            _ => false,
                        }
                }
            }
        }
    };
    if allowed {
        Verdict::Allow
    } else if global.filter_network.last_match(addr, case).is_some() {
        Verdict::DenyFiltered
    } else {
        Verdict::Deny
    }
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("paths", &self.task.paths)
            .field("network", &self.task.network)
            .field("lock", &self.task.lock)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::NoServices;
    use crate::magic::{apply, parse, Context, Origin};
    use std::boxed::Box;

    fn sandbox(cmds: &[&str]) -> Box<Sandbox> {
        let mut sb = Box::<Sandbox>::default();
        let ctx = Context {
            origin: Origin::CommandLine,
            services: &NoServices,
        };
        for c in cmds {
            let cmd = parse(c.as_bytes()).unwrap();
            apply(&mut sb.global, &mut sb.task, &cmd, &ctx).unwrap();
        }
        sb
    }

    fn path(sb: &Sandbox, cap: Cap, p: &str) -> Verdict {
        let traced = |id: u32| id == 42;
        check_path(&sb.global, &sb.task, cap, p.as_bytes(), &traced)
    }

    fn inet(a: [u8; 4], port: u16) -> SockAddr<'static> {
        SockAddr::Inet { addr: a, port }
    }

    fn net(sb: &Sandbox, n: Net, a: &SockAddr<'_>) -> Verdict {
        check_addr(&sb.global, &sb.task, n, a, &NoneTraced)
    }

    #[test]
    fn states() {
        let sb = sandbox(&["core/sandbox/read:off"]);
        assert_eq!(path(&sb, Cap::Read, "/etc/shadow"), Verdict::Allow);
        let sb = sandbox(&["core/sandbox/read:allow", "denylist/read+/etc/shadow"]);
        assert_eq!(path(&sb, Cap::Read, "/etc/shadow"), Verdict::Deny);
        assert_eq!(path(&sb, Cap::Read, "/etc/passwd"), Verdict::Allow);
        let sb = sandbox(&["core/sandbox/read:deny", "allowlist/read+/lib64/***"]);
        assert_eq!(path(&sb, Cap::Read, "/lib64"), Verdict::Allow);
        assert_eq!(path(&sb, Cap::Read, "/lib64/libc.so.6"), Verdict::Allow);
        assert_eq!(path(&sb, Cap::Read, "/lib"), Verdict::Deny);
        // A state switched to bpf at run time denies whatever reaches user space.
        let sb = sandbox(&["core/sandbox/read:bpf", "allowlist/read+/***"]);
        assert_eq!(path(&sb, Cap::Read, "/x"), Verdict::Deny);
    }

    #[test]
    fn filters_only_silence() {
        let sb = sandbox(&[
            "core/sandbox/write:deny",
            "filter/write+/tmp/***",
            "allowlist/write+/tmp/ok",
        ]);
        assert_eq!(path(&sb, Cap::Write, "/tmp/x"), Verdict::DenyFiltered);
        assert_eq!(path(&sb, Cap::Write, "/tmp/ok"), Verdict::Allow);
        assert_eq!(path(&sb, Cap::Write, "/etc/x"), Verdict::Deny);
        // Filters of one type do not silence another.
        let sb = sandbox(&["core/sandbox/read:deny", "filter/write+/***"]);
        assert_eq!(path(&sb, Cap::Read, "/x"), Verdict::Deny);
    }

    #[test]
    fn per_process_directories() {
        let sb = sandbox(&["core/sandbox/read:deny"]);
        assert_eq!(path(&sb, Cap::Read, "/proc/42"), Verdict::Allow);
        assert_eq!(path(&sb, Cap::Read, "/proc/42/status"), Verdict::Allow);
        assert_eq!(path(&sb, Cap::Read, "/proc/43/status"), Verdict::Deny);
        assert_eq!(path(&sb, Cap::Read, "/proc/42x/status"), Verdict::Deny);
        assert_eq!(path(&sb, Cap::Read, "/proc/"), Verdict::Deny);
        // Never for exec, never over a denylist entry, and off when the option is off.
        let sb = sandbox(&["core/sandbox/exec:deny"]);
        assert_eq!(path(&sb, Cap::Exec, "/proc/42/exe"), Verdict::Deny);
        let sb = sandbox(&["core/sandbox/read:deny", "denylist/read+/proc/*/mem"]);
        assert_eq!(path(&sb, Cap::Read, "/proc/42/mem"), Verdict::Deny);
        let sb = sandbox(&[
            "core/sandbox/read:deny",
            "core/allowlist/per_process_directories:false",
        ]);
        assert_eq!(path(&sb, Cap::Read, "/proc/42/status"), Verdict::Deny);
        assert_eq!(proc_id(b"/proc/99999999999"), None);
    }

    #[test]
    fn case_folding() {
        let sb = sandbox(&["core/sandbox/write:deny", "allowlist/write+/TMP/***"]);
        assert_eq!(path(&sb, Cap::Write, "/tmp/x"), Verdict::Deny);
        let sb = sandbox(&[
            "core/sandbox/write:deny",
            "core/match/case_sensitive:false",
            "allowlist/write+/TMP/***",
        ]);
        assert_eq!(path(&sb, Cap::Write, "/tmp/x"), Verdict::Allow);
        assert_eq!(path(&sb, Cap::Write, "/Tmp"), Verdict::Allow);
    }

    #[test]
    fn kill_if_match() {
        let sb = sandbox(&["exec/kill_if_match+/usr/bin/*torrent"]);
        assert_eq!(
            sb.global.kill_if_match(b"/usr/bin/ktorrent"),
            Some(&b"/usr/bin/*torrent"[..])
        );
        assert_eq!(sb.global.kill_if_match(b"/usr/bin/true"), None);
    }

    #[test]
    fn network() {
        let sb = sandbox(&[
            "core/sandbox/network:deny",
            "allowlist/network/connect+LOOPBACK@80-90",
            "denylist/network/connect+inet:127.0.0.1@85",
            "allowlist/network/bind+LOOPBACK@0",
        ]);
        assert_eq!(
            net(&sb, Net::Connect, &inet([127, 0, 0, 2], 80)),
            Verdict::Allow
        );
        assert_eq!(
            net(&sb, Net::Connect, &inet([127, 0, 0, 1], 85)),
            Verdict::Deny
        );
        assert_eq!(
            net(&sb, Net::Connect, &inet([127, 0, 0, 2], 85)),
            Verdict::Allow
        );
        assert_eq!(
            net(&sb, Net::Connect, &inet([10, 0, 0, 1], 80)),
            Verdict::Deny
        );
        // Bind and connect lists are separate.
        assert_eq!(
            net(&sb, Net::Bind, &inet([127, 0, 0, 1], 80)),
            Verdict::Deny
        );
        assert_eq!(
            net(&sb, Net::Bind, &inet([127, 0, 0, 1], 0)),
            Verdict::Allow
        );
        // Families the patterns cannot name follow unsupported_socket_families.
        let other = SockAddr::Other { family: 16 };
        assert_eq!(net(&sb, Net::Connect, &other), Verdict::Allow);
        let sb2 = sandbox(&[
            "core/sandbox/network:deny",
            "core/allowlist/unsupported_socket_families:false",
            "filter/network+LOOPBACK@0-65535",
        ]);
        assert_eq!(net(&sb2, Net::Connect, &other), Verdict::DenyFamily);
        assert_eq!(
            net(&sb2, Net::Connect, &inet([127, 0, 0, 1], 1)),
            Verdict::DenyFiltered
        );
        // Off allows everything.
        let sb3 = sandbox(&["core/sandbox/network:off"]);
        assert_eq!(
            net(&sb3, Net::Connect, &inet([8, 8, 8, 8], 53)),
            Verdict::Allow
        );
    }

    #[test]
    fn learned_binds_allow_connect_only() {
        let mut sb = sandbox(&["core/sandbox/network:deny"]);
        let a = inet([127, 0, 0, 1], 40000);
        assert_eq!(net(&sb, Net::Connect, &a), Verdict::Deny);
        sb.global.learn_bind(&a).unwrap();
        sb.global.learn_bind(&a).unwrap();
        assert_eq!(sb.global.bound.len(), 1);
        assert_eq!(net(&sb, Net::Connect, &a), Verdict::Allow);
        assert_eq!(net(&sb, Net::Bind, &a), Verdict::Deny);
        assert_eq!(
            net(&sb, Net::Connect, &inet([127, 0, 0, 1], 40001)),
            Verdict::Deny
        );
        // A task denylist entry wins over the learned list.
        let mut sb = sandbox(&[
            "core/sandbox/network:deny",
            "denylist/network/connect+LOOPBACK@0-65535",
        ]);
        sb.global.learn_bind(&a).unwrap();
        assert_eq!(net(&sb, Net::Connect, &a), Verdict::Deny);
        // Unix paths are learned literally, wildcards included.
        let mut sb = sandbox(&["core/sandbox/network:deny"]);
        sb.global.learn_bind(&SockAddr::Unix(b"/tmp/s*ck")).unwrap();
        assert_eq!(
            net(&sb, Net::Connect, &SockAddr::Unix(b"/tmp/s*ck")),
            Verdict::Allow
        );
        assert_eq!(
            net(&sb, Net::Connect, &SockAddr::Unix(b"/tmp/sock")),
            Verdict::Deny
        );
    }
}
