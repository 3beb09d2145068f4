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
