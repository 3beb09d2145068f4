//! `syd-core`: everything `syd` decides without a kernel.
//!
//! No I/O, no heap, no clock, no randomness: the same input always gives the same output, so every
//! failing test and fuzz crash reproduces. The binary fetches; the core decides.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

#[macro_use]
pub mod names;

pub mod addr;
pub mod arch;
pub mod bpf;
pub mod cli;
pub mod dump;
pub mod limits;
pub mod magic;
pub mod notify;
pub mod report;
pub mod sandbox;
pub mod seccomp;
pub mod shebang;
pub mod syscall;
pub mod wildmatch;
