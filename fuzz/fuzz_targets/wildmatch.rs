//! Fuzz target for `wildmatch`: never panics on any bytes, and agrees with the reference
//! matcher on short inputs.
//!
//! Input: the first byte picks how many of the remaining bytes form the pattern (modulo their
//! count plus one); the rest is the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use syd_core::wildmatch::{reference, wildmatch, wildmatch_casefold};

/// Longest pattern and text checked against the exponential reference matcher.
const REF_PATTERN_MAX: usize = 12;
const REF_TEXT_MAX: usize = 16;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let (pattern, text) = rest.split_at(usize::from(split) % (rest.len() + 1));
    let exact = wildmatch(pattern, text);
    let folded = wildmatch_casefold(pattern, text);
    if pattern.len() <= REF_PATTERN_MAX && text.len() <= REF_TEXT_MAX {
        assert_eq!(exact, reference::wildmatch(pattern, text), "exact");
        assert_eq!(
            folded,
            reference::wildmatch_casefold(pattern, text),
            "casefold"
        );
    }
});
