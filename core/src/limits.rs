//! Every capacity of the core, each with the reason for its value.
//!
//! Exceeding one is an error that names the limit; nothing is truncated or dropped silently.

/// Longest path the kernel accepts, including the terminating NUL (`PATH_MAX`).
pub const PATH_MAX: usize = 4096;

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
