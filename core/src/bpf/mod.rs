//! Classic BPF as data: instructions, a builder with symbolic labels, a verifier, an interpreter
//! and a disassembler.
//!
//! This module knows nothing of seccomp: return values are plain `u32` and the data a program
//! reads is a byte slice whose length the caller names. The `seccomp` module builds on it.
//!
//! The life of a program: [`Builder`] appends instructions that jump to [`Label`]s,
//! [`Builder::finish`] resolves every label in one backward pass (inserting `ja` trampolines
//! where a conditional jump cannot reach), then runs [`verify()`] on the result, which repeats the
//! kernel's checks. [`run()`] executes a program over the bytes of one input in a chosen byte order,
//! and [`disasm()`] prints it.

pub mod builder;
pub mod disasm;
pub mod insn;
pub mod interp;
#[cfg(any(test, feature = "reference"))]
pub mod reference;
pub mod verify;

pub use builder::{AluOp, Builder, Cmp, Label, Program, Target};
pub use disasm::{disasm, disasm_insn};
pub use insn::{program_bytes, ByteOrder, Insn};
pub use interp::{run, run_counted, InterpError, InterpErrorKind};
pub use verify::{verify, VerifyError, VerifyErrorKind};

use core::fmt;

/// Everything that can go wrong while building or exporting a BPF program.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BpfError {
    /// The builder already holds `limit` instructions ([`crate::limits::MAX_BUILDER_INSNS`]).
    BuilderFull {
        /// The capacity that was exceeded.
        limit: usize,
    },
    /// The builder already made `limit` labels ([`crate::limits::MAX_LABELS`]).
    TooManyLabels {
        /// The capacity that was exceeded.
        limit: usize,
    },
    /// The label was not made by this builder.
    UnknownLabel {
        /// The label's number.
        label: u16,
    },
    /// A jump uses a label that is never bound.
    UnboundLabel {
        /// The label's number.
        label: u16,
    },
    /// `bind` was called twice for the same label.
    LabelBoundTwice {
        /// The label's number.
        label: u16,
    },
    /// A label is bound after the last instruction: it names no instruction.
    LabelAtEnd {
        /// The label's number.
        label: u16,
    },
    /// A jump targets a label already bound, at or before the jump: BPF only jumps forward.
    BackwardJump {
        /// The label's number.
        label: u16,
        /// Index of the jump among the builder's instructions (before resolution).
        at: usize,
    },
    /// A shift count of 32 or more (the kernel rejects it).
    ShiftTooFar {
        /// The shift count.
        k: u32,
    },
    /// A scratch memory slot outside `0..BPF_MEMWORDS`.
    BadSlot {
        /// The slot asked for.
        slot: u32,
        /// Number of slots (`BPF_MEMWORDS`, 16).
        limit: u32,
    },
    /// A 32-bit load at an offset the verifier would reject (misaligned, or past the data).
    BadLoad {
        /// The offset asked for.
        offset: u32,
        /// Length of the data the program runs over.
        data_len: u32,
    },
    /// The resolved program is longer than the kernel accepts.
    TooLong {
        /// Length of the resolved program, trampolines included.
        len: usize,
        /// The kernel's limit ([`crate::limits::MAX_INSNS`]).
        max: usize,
    },
    /// The output buffer cannot hold the exported program.
    OutputTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        len: usize,
    },
    /// The resolved program fails verification.
    Verify(VerifyError),
}

impl From<VerifyError> for BpfError {
    fn from(e: VerifyError) -> Self {
        BpfError::Verify(e)
    }
}

impl fmt::Display for BpfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            BpfError::BuilderFull { limit } => {
                write!(f, "BPF builder full (limit {limit} instructions)")
            }
            BpfError::TooManyLabels { limit } => {
                write!(f, "too many BPF labels (limit {limit})")
            }
            BpfError::UnknownLabel { label } => {
                write!(f, "BPF label {label} was not made by this builder")
            }
            BpfError::UnboundLabel { label } => {
                write!(f, "BPF label {label} is used but never bound")
            }
            BpfError::LabelBoundTwice { label } => write!(f, "BPF label {label} bound twice"),
            BpfError::LabelAtEnd { label } => {
                write!(f, "BPF label {label} is bound after the last instruction")
            }
            BpfError::BackwardJump { label, at } => write!(
                f,
                "BPF jump at {at} targets label {label}, which is not after it"
            ),
            BpfError::ShiftTooFar { k } => write!(f, "BPF shift by {k} (must be below 32)"),
            BpfError::BadSlot { slot, limit } => {
                write!(f, "BPF scratch slot {slot} out of range (limit {limit})")
            }
            BpfError::BadLoad { offset, data_len } => write!(
                f,
                "BPF load at offset {offset} is misaligned or past the {data_len}-byte data"
            ),
            BpfError::TooLong { len, max } => {
                write!(f, "BPF program too long: {len} instructions (max {max})")
            }
            BpfError::OutputTooSmall { needed, len } => {
                write!(f, "BPF export needs {needed} bytes, buffer has {len}")
            }
            BpfError::Verify(e) => write!(f, "{e}"),
        }
    }
}
