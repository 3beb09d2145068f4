//! Every capacity of the core, each with the reason for its value.
//!
//! Exceeding one is an error that names the limit; nothing is truncated or dropped silently.

/// Longest path the kernel accepts, including the terminating NUL (`PATH_MAX`).
pub const PATH_MAX: usize = 4096;

/// Longest wildmatch pattern, in bytes; a longer one never matches. Patterns are paths, so
/// `PATH_MAX` bounds them; it also fixes the matcher's state set at 4097 bits.
pub const MAX_PATTERN_LEN: usize = PATH_MAX;

/// Most patterns one address argument expands to: the `LOCAL` and `LOCAL6` aliases are four ranges.
pub const MAX_ALIAS_EXPANSION: usize = 4;

/// Rules per allow/deny/filter list: far above real profiles (the paludis profile has about 50
/// after expansion) and enough for a 500-entry allowlist, at 8 bytes a rule.
pub const MAX_LIST_RULES: usize = 1024;

/// Bytes of pattern text per list: a 500-entry allowlist of typical paths fits, and the offsets
/// stay 16-bit. Ten lists of this size keep a whole policy near 400 KiB.
pub const MAX_LIST_TEXT: usize = 32 * 1024;

/// Longest classic BPF program the kernel loads (`BPF_MAXINSNS` in linux/bpf_common.h).
pub const MAX_INSNS: usize = 4096;

/// Instructions a BPF builder holds before label resolution: twice [`MAX_INSNS`], because
/// resolution only ever adds instructions (trampolines), so no input above [`MAX_INSNS`] can
/// succeed, but an oversized policy still fits far enough for `finish()` to report its real
/// length (`TooLong { len }`, telling the user how much to cut) instead of a bare "builder full".
pub const MAX_BUILDER_INSNS: usize = 2 * MAX_INSNS;

/// Symbolic labels of one BPF builder: one label per two instructions of the largest loadable
/// program, more than a seccomp policy needs (a few per dispatch node and per argument chain).
pub const MAX_LABELS: usize = MAX_INSNS / 2;

/// Syscalls with rules in one architecture's filter: above the largest table (x86, 420 calls).
pub const MAX_FILTER_SYSCALLS: usize = 512;

/// Rule layers in one architecture's filter: the built-in policy needs about 60 at most.
pub const MAX_FILTER_LAYERS: usize = 512;

/// Rules in one architecture's filter: the ioctl list (70), the pidfd signal list (27) and the
/// memory-map table (7) dominate; the built-in policy needs about 200 at most.
pub const MAX_FILTER_RULES: usize = 512;

/// Argument comparisons in one rule: two suffice for every built-in rule (prot and flags, or an
/// id and -1); a third leaves room without making every rule larger.
pub const MAX_RULE_CMPS: usize = 3;

/// Symlinks followed while resolving one path before `ELOOP`: the kernel's own `MAXSYMLINKS`
/// (include/linux/namei.h), so a path the kernel resolves is never refused for its links.
pub const MAX_SYMLINKS: usize = 40;

/// Allowed execs whose outcome the supervisor still has to verify (bin/execcheck.rs): one per
/// thread that is inside execve, or whose exec failed and that has not called again; each
/// keeps a pidfd, so the number stays far below the descriptor limit.
pub const MAX_PENDING_EXECS: usize = 128;

/// Largest `struct open_how` read: openat2 refuses sizes above `PAGE_SIZE` (fs/open.c) with
/// `E2BIG`, and 4 KiB is the smallest page; a 64 KiB-page kernel's larger zero-padded sizes are
/// refused too (fail closed: no libc passes more than the 24 known bytes).
pub const MAX_OPEN_HOW: usize = 4096;

/// Bytes of a socket address read from the tracee: `sizeof(struct sockaddr_storage)`, the most
/// bind and connect accept and what the kernel truncates a msghdr's `msg_namelen` to.
pub const MAX_SOCKADDR: usize = 128;
