//! Address patterns and socket addresses: parse, format, re-parse, decode and match.
//!
//! Input: one control byte (bit 0: family byte order; bit 1: the claimed length exceeds the
//! buffer; bits 2..: by how much it differs), the pattern text up to the first `\n`, then the raw
//! `struct sockaddr` bytes. Nothing may panic; a parsed pattern must format to text that parses
//! back to the same pattern; inet matching must agree with a bit-by-bit reference.
#![no_main]

use libfuzzer_sys::fuzz_target;
use syd_core::addr::{
    parse_addr_pattern, parse_sockaddr, AddrPattern, Case, Endian, NoServices, RawSockAddr,
    ServicesFile, SockAddr,
};

const SERVICES: &[u8] = b"http 80/tcp www\nhttps 443/tcp\nnetbios-ns 137/udp\nx-y 100/tcp\n";

/// Whether the first `mask` bits of `a` and `b` agree, one bit at a time.
fn prefix_equal(a: &[u8], b: &[u8], mask: u8) -> bool {
    (0..usize::from(mask).min(a.len() * 8)).all(|bit| {
        let shift = 7 - bit % 8;
        (a[bit / 8] >> shift) & 1 == (b[bit / 8] >> shift) & 1
    })
}

/// Reference verdict for inet patterns; `None` for UNIX patterns (wildmatch has its own target).
fn reference(pattern: &AddrPattern<'_>, addr: &SockAddr<'_>) -> Option<bool> {
    Some(match (pattern, addr) {
        (
            AddrPattern::Inet {
                addr: p,
                mask,
                ports,
            },
            SockAddr::Inet { addr: a, port },
        ) => prefix_equal(p, a, *mask) && ports.first <= *port && *port <= ports.last,
        (
            AddrPattern::Inet6 {
                addr: p,
                mask,
                ports,
            },
            SockAddr::Inet6 { addr: a, port },
        ) => prefix_equal(p, a, *mask) && ports.first <= *port && *port <= ports.last,
        (AddrPattern::Unix(_) | AddrPattern::UnixAbstract(_), _) => return None,
        _ => false,
    })
}

/// UNIX text round-trips only when it is printable UTF-8 (the rest is `\xNN`-escaped).
fn printable(text: &[u8]) -> bool {
    std::str::from_utf8(text).is_ok_and(|s| !s.chars().any(char::is_control))
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let (text, raw) = match rest.iter().position(|&b| b == b'\n') {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &[][..]),
    };
    let services = ServicesFile(SERVICES);
    let patterns = parse_addr_pattern(text, &services);
    if let Ok(expanded) = &patterns {
        assert!((1..=4).contains(&expanded.len()));
        for pattern in expanded {
            let shown = pattern.to_string();
            let round_trips = match pattern {
                AddrPattern::Unix(t) | AddrPattern::UnixAbstract(t) => printable(t),
                _ => true,
            };
            if round_trips {
                let back = parse_addr_pattern(shown.as_bytes(), &NoServices)
                    .unwrap_or_else(|e| panic!("{shown:?} does not parse back: {e}"));
                assert_eq!(back.as_slice(), &[*pattern], "{shown:?}");
            }
        }
    } else if let Err(e) = &patterns {
        let _ = e.to_string();
    }

    let order = if control & 1 == 0 {
        Endian::Little
    } else {
        Endian::Big
    };
    let delta = usize::from(control >> 2);
    let len = if control & 2 == 0 {
        raw.len().saturating_sub(delta)
    } else {
        raw.len() + delta
    };
    let addr = match parse_sockaddr(raw, len, order) {
        Ok(RawSockAddr::Addr(addr)) => addr,
        // The binary would canonicalize the path first; the raw bytes stand in for it here.
        Ok(RawSockAddr::UnixPath(path)) => {
            assert!(!path.is_empty() && !path.contains(&0));
            SockAddr::Unix(path)
        }
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let shown = addr.to_string();
    if let SockAddr::Inet { .. } | SockAddr::Inet6 { .. } = addr {
        // The report text of an inet address is itself a pattern that matches exactly it.
        let own = parse_addr_pattern(shown.as_bytes(), &NoServices)
            .unwrap_or_else(|e| panic!("{shown:?} does not parse: {e}"));
        assert!(
            own.iter().all(|p| p.matches(&addr, Case::Sensitive)),
            "{shown:?}"
        );
    }
    if let Ok(expanded) = &patterns {
        for pattern in expanded {
            let got = pattern.matches(&addr, Case::Sensitive);
            let _ = pattern.matches(&addr, Case::Insensitive);
            if let Some(want) = reference(pattern, &addr) {
                assert_eq!(got, want, "{pattern} vs {shown}");
            }
        }
    }
});
