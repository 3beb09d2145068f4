//! Magic command parsing and application: never panics; parse -> encode -> parse round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use syd_core::addr::NoServices;
use syd_core::magic::{apply, encode, parse, Context, Origin};
use syd_core::sandbox::Sandbox;

fuzz_target!(|data: &[u8]| {
    let Ok(cmd) = parse(data) else { return };
    let mut text = Vec::new();
    encode(&cmd, &mut |b| text.extend_from_slice(b));
    assert_eq!(parse(&text), Ok(cmd), "round trip of {text:?}");
    // Apply to a fresh policy with every origin: must not panic, whatever the outcome.
    static BASE: OnceLock<Box<Sandbox>> = OnceLock::new();
    let base = BASE.get_or_init(Box::default);
    for origin in [
        Origin::CommandLine,
        Origin::InitialConfig,
        Origin::LaterConfig,
        Origin::Runtime,
    ] {
        let mut sb = base.clone();
        let ctx = Context {
            origin,
            services: &NoServices,
        };
        let _ = apply(&mut sb.global, &mut sb.task, &cmd, &ctx);
    }
});
