//! Configuration files: never panic; an error names a line that exists and holds the text shown.
#![no_main]

use libfuzzer_sys::fuzz_target;
use syd_core::addr::NoServices;
use syd_core::magic::config::{apply_config, lines};
use syd_core::magic::{Context, Origin};
use syd_core::sandbox::Sandbox;

fuzz_target!(|data: &[u8]| {
    let mut sb = Box::<Sandbox>::default();
    let ctx = Context {
        origin: Origin::InitialConfig,
        services: &NoServices,
    };
    match apply_config(&mut sb.global, &mut sb.task, data, &ctx) {
        Ok(n) => assert_eq!(n, lines(data).count()),
        Err(e) => {
            let line = data.split(|&b| b == b'\n').nth(e.line - 1).expect("line exists");
            assert!(line.starts_with(e.text), "error text is the line");
        }
    }
});
