//! `syd`: run a command in a seccomp sandbox.
#![no_std]
#![no_main]

#[allow(unsafe_code)]
#[macro_use]
mod sys;

mod path;
mod selftest;

/// Entry point called by the C runtime's start code.
pub fn run(args: &sys::Args, env: &sys::Env) -> i32 {
    if let Some(b"-t" | b"--test") = args.get(1) {
        return selftest::run();
    }
    let mut out = sys::Out::<256>::new(sys::STDOUT);
    let _ = core::fmt::Write::write_fmt(
        &mut out,
        format_args!("syd {}\n", env!("CARGO_PKG_VERSION")),
    );
    let _ = env;
    0
}
