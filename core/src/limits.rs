//! Every capacity of the core, each with the reason for its value.
//!
//! Exceeding one is an error that names the limit; nothing is truncated or dropped silently.

/// Longest path the kernel accepts, including the terminating NUL (`PATH_MAX`).
pub const PATH_MAX: usize = 4096;

/// Symlinks followed while resolving one path before `ELOOP`: the kernel's own `MAXSYMLINKS`
/// (include/linux/namei.h), so a path the kernel resolves is never refused for its links.
pub const MAX_SYMLINKS: usize = 40;
