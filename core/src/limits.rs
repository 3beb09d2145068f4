//! Every capacity of the core, each with the reason for its value.
//!
//! Exceeding one is an error that names the limit; nothing is truncated or dropped silently.

/// Longest path the kernel accepts, including the terminating NUL (`PATH_MAX`).
pub const PATH_MAX: usize = 4096;

/// Longest classic BPF program the kernel loads (`BPF_MAXINSNS` in linux/bpf_common.h).
pub const MAX_INSNS: usize = 4096;
