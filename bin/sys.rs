//! All `unsafe` code of the binary: the entry symbol, the argv walk and raw system calls.

use core::ffi::{c_char, c_int, CStr};

/// The command line as the C runtime handed it over.
pub struct Args {
    argc: usize,
    argv: *const *const c_char,
}

impl Args {
    /// Argument `i` as bytes, if it exists.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        if i >= self.argc {
            return None;
        }
        // SAFETY: the C runtime guarantees argv[0..argc] are valid NUL-terminated strings that
        // live for the whole process, and i < argc was checked above.
        unsafe { Some(CStr::from_ptr(*self.argv.add(i)).to_bytes()) }
    }
}

/// Standard output as a `core::fmt::Write` sink.
pub struct Stdout;

impl core::fmt::Write for Stdout {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let mut buf = s.as_bytes();
        while !buf.is_empty() {
            // SAFETY: buf points to buf.len() initialised bytes owned by this frame.
            let n = unsafe { libc::write(1, buf.as_ptr().cast(), buf.len()) };
            if n <= 0 {
                return Err(core::fmt::Error);
            }
            buf = buf.get(n as usize..).unwrap_or(&[]);
        }
        Ok(())
    }
}

// The libc crate only names libc when built inside std; a no_std binary links it itself.
#[link(name = "c")]
extern "C" {}

#[no_mangle]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    let args = Args {
        argc: usize::try_from(argc).unwrap_or(0),
        argv,
    };
    crate::run(&args)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // SAFETY: abort(3) takes no arguments and never returns.
    unsafe { libc::abort() }
}

/// The precompiled `core` of an unoptimised build still names the unwinding personality routine,
/// although this binary is built with `panic = "abort"` and never unwinds; an empty one satisfies
/// the linker (release builds drop the reference entirely).
#[no_mangle]
extern "C" fn rust_eh_personality() {}
