//! Network address patterns and socket addresses (SPEC §3.5, §4.3, §4.4, §7.3).
//!
//! A pattern is `unix:PATTERN`, `unix-abstract:PATTERN`, `inet:ADDR4[/MASK]@PORTS`,
//! `inet6:ADDR6[/MASK]@PORTS`, or one of the aliases `LOOPBACK@PORTS`, `LOOPBACK6@PORTS`,
//! `LOCAL@PORTS`, `LOCAL6@PORTS`, which expand to up to [`MAX_ALIAS_EXPANSION`] patterns.
//! `PORTS` is a port or an inclusive range `BEGIN-END`, each side a decimal number or a
//! services(5) name resolved through a caller-supplied [`Services`] lookup (the core does no I/O).
//!
//! Socket addresses arrive as the raw `struct sockaddr` bytes the binary read from the tracee
//! ([`parse_sockaddr`]); a non-abstract UNIX path must be canonicalized by the binary before it
//! can be matched, which the [`RawSockAddr::UnixPath`] / [`SockAddr`] split enforces.
//!
//! Text is formatted (both patterns and addresses) with valid, printable UTF-8 passed through and
//! every invalid byte and every byte of a control character written as `\xNN`, so a hostile
//! socket path can neither break a report line nor make formatting fail.

use core::fmt;

use arrayvec::ArrayVec;

use crate::limits::MAX_ALIAS_EXPANSION;

/// `AF_UNIX` (`<sys/socket.h>`): local sockets, `struct sockaddr_un`.
pub const AF_UNIX: u16 = 1;
/// `AF_INET` (`<sys/socket.h>`): IPv4, `struct sockaddr_in`.
pub const AF_INET: u16 = 2;
/// `AF_INET6` (`<sys/socket.h>`): IPv6, `struct sockaddr_in6`.
pub const AF_INET6: u16 = 10;

/// Why an address pattern or a socket address could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddrError {
    /// The text starts with none of the known prefixes or aliases.
    UnknownPrefix,
    /// An `inet:`/`inet6:` pattern or an alias has no `@PORTS` part.
    MissingPort,
    /// `unix:` or `unix-abstract:` with nothing after it.
    EmptyUnixPattern,
    /// The address of an `inet:` pattern is not a dotted quad as `inet_pton(AF_INET)` accepts.
    BadIpv4,
    /// The address of an `inet6:` pattern is not IPv6 text as `inet_pton(AF_INET6)` accepts.
    BadIpv6,
    /// The netmask after `/` is empty or not a decimal number.
    BadMask,
    /// The netmask exceeds the address width.
    MaskTooLarge {
        /// The netmask given (saturated at `u32::MAX`).
        mask: u32,
        /// 32 for `inet:`, 128 for `inet6:`.
        max: u8,
    },
    /// A port (or one side of a port range) is empty.
    EmptyPort,
    /// A numeric port range does not have the form `BEGIN-END`.
    BadPortRange,
    /// A decimal number has a leading zero (upstream reads such numbers as octal).
    LeadingZero {
        /// `"port"` or `"netmask"`.
        what: &'static str,
    },
    /// A decimal port exceeds 65535.
    PortTooLarge {
        /// The port given (saturated at `u32::MAX`).
        value: u32,
    },
    /// A port range whose beginning is after its end.
    ReversedRange {
        /// The beginning of the range.
        first: u16,
        /// The end of the range.
        last: u16,
    },
    /// A non-numeric port is not a name or alias in the services database.
    UnknownService,
    /// An alias expanded to more patterns than the expansion holds.
    TooManyPatterns {
        /// The capacity ([`MAX_ALIAS_EXPANSION`]).
        limit: usize,
    },
    /// A socket address shorter than its 2-byte family field (the kernel rejects it).
    SockaddrTooShort {
        /// The usable length.
        len: usize,
    },
    /// A socket address too short for the fields of its family (the kernel rejects it).
    SockaddrTruncated {
        /// The address family.
        family: u16,
        /// The usable length.
        len: usize,
        /// The length needed to read the port and address.
        need: usize,
    },
}

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::UnknownPrefix => f.write_str(
                "unknown address prefix (expected unix:, unix-abstract:, inet:, inet6:, \
                 LOOPBACK@, LOOPBACK6@, LOCAL@ or LOCAL6@)",
            ),
            Self::MissingPort => f.write_str("missing @PORT"),
            Self::EmptyUnixPattern => f.write_str("empty unix socket pattern"),
            Self::BadIpv4 => f.write_str("invalid IPv4 address"),
            Self::BadIpv6 => f.write_str("invalid IPv6 address"),
            Self::BadMask => f.write_str("invalid netmask (expected a decimal number)"),
            Self::MaskTooLarge { mask, max } => write!(f, "netmask {mask} exceeds {max}"),
            Self::EmptyPort => f.write_str("empty port"),
            Self::BadPortRange => f.write_str("invalid port range (expected BEGIN-END)"),
            Self::LeadingZero { what } => {
                write!(
                    f,
                    "{what} has a leading zero (ambiguous: upstream reads it as octal)"
                )
            }
            Self::PortTooLarge { value } => write!(f, "port {value} exceeds 65535"),
            Self::ReversedRange { first, last } => {
                write!(f, "reversed port range {first}-{last}")
            }
            Self::UnknownService => f.write_str("unknown service name"),
            Self::TooManyPatterns { limit } => {
                write!(
                    f,
                    "address expands to more than {limit} patterns (MAX_ALIAS_EXPANSION)"
                )
            }
            Self::SockaddrTooShort { len } => {
                write!(f, "socket address too short ({len} bytes, need at least 2)")
            }
            Self::SockaddrTruncated { family, len, need } => write!(
                f,
                "{} socket address too short ({len} bytes, need {need})",
                family_name(family)
            ),
        }
    }
}

/// An inclusive port range `first..=last`; a single port has `first == last`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    /// The lowest port in the range.
    pub first: u16,
    /// The highest port in the range.
    pub last: u16,
}

impl PortRange {
    /// Whether `port` lies in the range (an empty range, `first > last`, contains nothing).
    pub fn contains(&self, port: u16) -> bool {
        self.first <= port && port <= self.last
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

/// One parsed address pattern; UNIX pattern text is borrowed from the caller's storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddrPattern<'a> {
    /// `unix:PATTERN`: a wildmatch pattern for canonical, non-abstract UNIX socket paths.
    Unix(&'a [u8]),
    /// `unix-abstract:PATTERN`: a wildmatch pattern for abstract socket names (no leading NUL).
    UnixAbstract(&'a [u8]),
    /// `inet:ADDR/MASK@PORTS`.
    Inet {
        /// The address in network order; bits beyond `mask` are ignored when matching.
        addr: [u8; 4],
        /// How many leading bits must match, 0..=32.
        mask: u8,
        /// The ports that match.
        ports: PortRange,
    },
    /// `inet6:ADDR/MASK@PORTS`.
    Inet6 {
        /// The address in network order; bits beyond `mask` are ignored when matching.
        addr: [u8; 16],
        /// How many leading bits must match, 0..=128.
        mask: u8,
        /// The ports that match.
        ports: PortRange,
    },
}

/// Whether UNIX pattern text is matched case-sensitively (`core/match/case_sensitive`, §3.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    /// Bytes compare exactly.
    Sensitive,
    /// ASCII letters compare case-insensitively (in both pattern and text).
    Insensitive,
}

impl AddrPattern<'_> {
    /// Whether `addr` matches this pattern (§3.5), with UNIX text compared by rsync wildmatch.
    ///
    /// The family must be equal (no IPv4-mapped translation), the first `mask` bits of the
    /// address must agree and the port must lie in the range; an unnamed UNIX address matches
    /// `unix-abstract:` patterns as the empty name.
    pub fn matches(&self, addr: &SockAddr<'_>, case: Case) -> bool {
        match case {
            Case::Sensitive => self.matches_with(addr, &crate::wildmatch::wildmatch),
            Case::Insensitive => self.matches_with(addr, &crate::wildmatch::wildmatch_casefold),
        }
    }

    /// [`AddrPattern::matches`] with the UNIX text matcher given as `unix_match(pattern, text)`.
    pub fn matches_with(
        &self,
        addr: &SockAddr<'_>,
        unix_match: &dyn Fn(&[u8], &[u8]) -> bool,
    ) -> bool {
        match (*self, *addr) {
            (Self::Unix(pattern), SockAddr::Unix(path)) => unix_match(pattern, path),
            (Self::UnixAbstract(pattern), SockAddr::UnixAbstract(name)) => {
                unix_match(pattern, name)
            }
            // SPEC §4.3 UNDETERMINED: an unnamed address is an abstract address with no name.
            (Self::UnixAbstract(pattern), SockAddr::Unnamed) => unix_match(pattern, b""),
            (Self::Inet { addr, mask, ports }, SockAddr::Inet { addr: a, port }) => {
                let bits = u32::from(mask.min(32));
                let keep = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
                let (p, a) = (u32::from_be_bytes(addr), u32::from_be_bytes(a));
                (p ^ a) & keep == 0 && ports.contains(port)
            }
            (Self::Inet6 { addr, mask, ports }, SockAddr::Inet6 { addr: a, port }) => {
                let bits = u32::from(mask.min(128));
                let keep = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
                let (p, a) = (u128::from_be_bytes(addr), u128::from_be_bytes(a));
                (p ^ a) & keep == 0 && ports.contains(port)
            }
            _ => false,
        }
    }
}

impl fmt::Display for AddrPattern<'_> {
    /// Canonical text that parses back to an equal pattern: the mask is omitted when it is
    /// the full width, a single port is written alone, IPv6 follows RFC 5952. UNIX text
    /// round-trips when it is UTF-8 without control characters (others are `\xNN`-escaped).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Unix(text) => write!(f, "unix:{}", Escaped(text)),
            Self::UnixAbstract(text) => write!(f, "unix-abstract:{}", Escaped(text)),
            Self::Inet { addr, mask, ports } => {
                write!(f, "inet:{}", Ipv4Text(addr))?;
                if mask != 32 {
                    write!(f, "/{mask}")?;
                }
                write!(f, "@{ports}")
            }
            Self::Inet6 { addr, mask, ports } => {
                write!(f, "inet6:{}", Ipv6Text(addr))?;
                if mask != 128 {
                    write!(f, "/{mask}")?;
                }
                write!(f, "@{ports}")
            }
        }
    }
}

/// The 1..=[`MAX_ALIAS_EXPANSION`] patterns one pattern text stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expanded<'a> {
    items: ArrayVec<AddrPattern<'a>, MAX_ALIAS_EXPANSION>,
}

impl<'a> Expanded<'a> {
    fn new() -> Self {
        Self {
            items: ArrayVec::new(),
        }
    }

    /// Appends a pattern; `TooManyPatterns` when [`MAX_ALIAS_EXPANSION`] are already held.
    fn push(&mut self, pattern: AddrPattern<'a>) -> Result<(), AddrError> {
        self.items
            .try_push(pattern)
            .map_err(|_| AddrError::TooManyPatterns {
                limit: MAX_ALIAS_EXPANSION,
            })
    }

    /// The patterns, in the order the alias lists them.
    pub fn as_slice(&self) -> &[AddrPattern<'a>] {
        &self.items
    }

    /// Iterates over the patterns in order.
    pub fn iter(&self) -> core::slice::Iter<'_, AddrPattern<'a>> {
        self.items.iter()
    }

    /// How many patterns the text expanded to (1..=[`MAX_ALIAS_EXPANSION`]).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there is no pattern (never true for a parse result).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl<'e, 'a> IntoIterator for &'e Expanded<'a> {
    type Item = &'e AddrPattern<'a>;
    type IntoIter = core::slice::Iter<'e, AddrPattern<'a>>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

/// Resolves services(5) names to port numbers; supplied by the caller, so the core does no I/O.
pub trait Services {
    /// The port of the service called `name` (name or alias, any protocol), if known.
    fn port(&self, name: &[u8]) -> Option<u16>;
}

impl<F: Fn(&[u8]) -> Option<u16>> Services for F {
    fn port(&self, name: &[u8]) -> Option<u16> {
        self(name)
    }
}

/// A services database that knows no names: every service name is an error.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoServices;

impl Services for NoServices {
    fn port(&self, _name: &[u8]) -> Option<u16> {
        None
    }
}

/// A services database backed by the text of a services(5) file (see [`lookup_service`]).
#[derive(Clone, Copy, Debug)]
pub struct ServicesFile<'a>(pub &'a [u8]);

impl Services for ServicesFile<'_> {
    fn port(&self, name: &[u8]) -> Option<u16> {
        lookup_service(self.0, name)
    }
}

/// Looks `name` up in services(5) text: lines `name port/proto [aliases...]`, `#` comments.
///
/// The first line whose name or one of whose aliases equals `name` (case-sensitively) gives the
/// port, whatever the protocol. Lines without a valid `port/proto` field (port 0..=65535) are
/// skipped. An empty `name` never matches.
pub fn lookup_service(services_file: &[u8], name: &[u8]) -> Option<u16> {
    if name.is_empty() {
        return None;
    }
    for line in services_file.split(|&b| b == b'\n') {
        let line = line.split(|&b| b == b'#').next().unwrap_or_default();
        let mut fields = line
            .split(|b| b.is_ascii_whitespace())
            .filter(|field| !field.is_empty());
        let (Some(service), Some(port_proto)) = (fields.next(), fields.next()) else {
            continue;
        };
        let mut parts = port_proto.splitn(2, |&b| b == b'/');
        let (Some(port), Some(proto)) = (parts.next(), parts.next()) else {
            continue;
        };
        let Some(port) = parse_decimal(port).and_then(|p| u16::try_from(p).ok()) else {
            continue;
        };
        if proto.is_empty() {
            continue;
        }
        if service == name || fields.any(|alias| alias == name) {
            return Some(port);
        }
    }
    None
}

/// An alias target: one network with the alias's own netmask.
#[derive(Clone, Copy)]
enum AliasNet {
    V4([u8; 4], u8),
    V6([u8; 16], u8),
}

const V6_LOOPBACK: [u8; 16] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const V6_FE80: [u8; 16] = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const V6_FC00: [u8; 16] = [0xfc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const V6_FEC0: [u8; 16] = [0xfe, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

/// The aliases of §3.5 (seed manual page, "Address Matching"); `LOOPBACK6` is `::1/8` verbatim.
const ALIASES: [(&[u8], &[AliasNet]); 4] = [
    (b"LOOPBACK", &[AliasNet::V4([127, 0, 0, 0], 8)]),
    (b"LOOPBACK6", &[AliasNet::V6(V6_LOOPBACK, 8)]),
    (
        b"LOCAL",
        &[
            AliasNet::V4([127, 0, 0, 0], 8),
            AliasNet::V4([10, 0, 0, 0], 8),
            AliasNet::V4([172, 16, 0, 0], 12),
            AliasNet::V4([192, 168, 0, 0], 16),
        ],
    ),
    (
        b"LOCAL6",
        &[
            AliasNet::V6(V6_LOOPBACK, 128),
            AliasNet::V6(V6_FE80, 7),
            AliasNet::V6(V6_FC00, 7),
            AliasNet::V6(V6_FEC0, 7),
        ],
    ),
];

/// Parses one address pattern (§3.5), expanding aliases; UNIX pattern text borrows from `text`.
///
/// Service names in ports are resolved through `services` now, at insertion time. Every
/// malformed input is an error naming the problem: unknown prefix, missing `@PORT`, empty UNIX
/// pattern, bad address, bad or too large netmask, bad, too large or leading-zero port, reversed
/// range, unknown service. The UNIX pattern is returned as given (normalization, §3.2, is the
/// caller's job).
pub fn parse_addr_pattern<'a>(
    text: &'a [u8],
    services: &dyn Services,
) -> Result<Expanded<'a>, AddrError> {
    let mut out = Expanded::new();
    if let Some(pattern) = text.strip_prefix(b"unix:") {
        if pattern.is_empty() {
            return Err(AddrError::EmptyUnixPattern);
        }
        out.push(AddrPattern::Unix(pattern))?;
    } else if let Some(pattern) = text.strip_prefix(b"unix-abstract:") {
        if pattern.is_empty() {
            return Err(AddrError::EmptyUnixPattern);
        }
        out.push(AddrPattern::UnixAbstract(pattern))?;
    } else if let Some(rest) = text.strip_prefix(b"inet:") {
        let parts = split_inet(rest)?;
        let addr = parse_ipv4(parts.addr).ok_or(AddrError::BadIpv4)?;
        let mask = parse_mask(parts.mask, 32)?;
        let ports = parse_ports(parts.ports, services)?;
        out.push(AddrPattern::Inet { addr, mask, ports })?;
    } else if let Some(rest) = text.strip_prefix(b"inet6:") {
        let parts = split_inet(rest)?;
        let addr = parse_ipv6(parts.addr).ok_or(AddrError::BadIpv6)?;
        let mask = parse_mask(parts.mask, 128)?;
        let ports = parse_ports(parts.ports, services)?;
        out.push(AddrPattern::Inet6 { addr, mask, ports })?;
    } else {
        let (head, ports) = match rsplit_once(text, b'@') {
            Some(split) => split,
            None if ALIASES.iter().any(|(name, _)| *name == text) => {
                return Err(AddrError::MissingPort)
            }
            None => return Err(AddrError::UnknownPrefix),
        };
        let (_, nets) = ALIASES
            .iter()
            .find(|(name, _)| *name == head)
            .ok_or(AddrError::UnknownPrefix)?;
        let ports = parse_ports(ports, services)?;
        for net in nets.iter() {
            out.push(match *net {
                AliasNet::V4(addr, mask) => AddrPattern::Inet { addr, mask, ports },
                AliasNet::V6(addr, mask) => AddrPattern::Inet6 { addr, mask, ports },
            })?;
        }
    }
    Ok(out)
}

/// The three texts of `ADDR[/MASK]@PORTS`.
struct InetParts<'a> {
    addr: &'a [u8],
    mask: Option<&'a [u8]>,
    ports: &'a [u8],
}

/// Splits `ADDR[/MASK]@PORTS` at the last `@` and the last `/` before it.
fn split_inet(rest: &[u8]) -> Result<InetParts<'_>, AddrError> {
    let (head, ports) = rsplit_once(rest, b'@').ok_or(AddrError::MissingPort)?;
    Ok(match rsplit_once(head, b'/') {
        Some((addr, mask)) => InetParts {
            addr,
            mask: Some(mask),
            ports,
        },
        None => InetParts {
            addr: head,
            mask: None,
            ports,
        },
    })
}

/// Splits at the last `sep`: the bytes before it and after it.
fn rsplit_once(text: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let at = text.iter().rposition(|&b| b == sep)?;
    let (head, tail) = text.split_at(at);
    Some((head, tail.get(1..).unwrap_or_default()))
}

/// A decimal number without sign; `None` unless all bytes are digits (saturates at `u32::MAX`).
fn parse_decimal(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits.iter().fold(0u32, |acc, &d| {
        acc.saturating_mul(10).saturating_add(u32::from(d - b'0'))
    }))
}

/// A netmask of at most `max` bits; `None` (omitted) means `max`.
fn parse_mask(mask: Option<&[u8]>, max: u8) -> Result<u8, AddrError> {
    let Some(mask) = mask else {
        return Ok(max);
    };
    let value = parse_decimal(mask).ok_or(AddrError::BadMask)?;
    if mask.len() > 1 && mask.first() == Some(&b'0') {
        return Err(AddrError::LeadingZero { what: "netmask" });
    }
    match u8::try_from(value) {
        Ok(bits) if bits <= max => Ok(bits),
        _ => Err(AddrError::MaskTooLarge { mask: value, max }),
    }
}

/// A decimal port: no sign, no leading zero, at most 65535.
fn parse_port_number(digits: &[u8]) -> Result<u16, AddrError> {
    let value = parse_decimal(digits).ok_or(AddrError::BadPortRange)?;
    if digits.len() > 1 && digits.first() == Some(&b'0') {
        return Err(AddrError::LeadingZero { what: "port" });
    }
    u16::try_from(value).map_err(|_| AddrError::PortTooLarge { value })
}

/// One side of a port range: a decimal port, or else a service name.
fn parse_port(side: &[u8], services: &dyn Services) -> Result<u16, AddrError> {
    if side.is_empty() {
        Err(AddrError::EmptyPort)
    } else if side.iter().all(u8::is_ascii_digit) {
        parse_port_number(side)
    } else {
        services.port(side).ok_or(AddrError::UnknownService)
    }
}

/// `PORT` or `BEGIN-END`, each a decimal port or a service name (names may contain `-`).
///
/// A token of digits and `-` only is numeric and must be `N` or `N-M`. Otherwise the whole
/// token is tried as a service name first, then each `-` from the left as the range separator;
/// the first split whose two sides resolve wins, and the first split's error is reported if
/// none does.
fn parse_ports(token: &[u8], services: &dyn Services) -> Result<PortRange, AddrError> {
    if token.is_empty() {
        return Err(AddrError::EmptyPort);
    }
    let range = |first: u16, last: u16| {
        if first <= last {
            Ok(PortRange { first, last })
        } else {
            Err(AddrError::ReversedRange { first, last })
        }
    };
    if token.iter().all(|&b| b.is_ascii_digit() || b == b'-') {
        return match token.iter().position(|&b| b == b'-') {
            None => parse_port_number(token).map(|port| PortRange {
                first: port,
                last: port,
            }),
            Some(at) => {
                let (first, last) = token.split_at(at);
                let last = last.get(1..).unwrap_or_default();
                if last.contains(&b'-') {
                    return Err(AddrError::BadPortRange);
                }
                range(parse_port(first, services)?, parse_port(last, services)?)
            }
        };
    }
    if let Some(port) = services.port(token) {
        return Ok(PortRange {
            first: port,
            last: port,
        });
    }
    let mut first_error = AddrError::UnknownService;
    let mut seen_split = false;
    for (at, _) in token.iter().enumerate().filter(|(_, &b)| b == b'-') {
        let (first, last) = token.split_at(at);
        let last = last.get(1..).unwrap_or_default();
        let sides =
            parse_port(first, services).and_then(|f| parse_port(last, services).map(|l| (f, l)));
        match sides {
            Ok((first, last)) => return range(first, last),
            Err(e) if !seen_split => {
                first_error = e;
                seen_split = true;
            }
            Err(_) => {}
        }
    }
    Err(first_error)
}

/// IPv4 dotted quad as `inet_pton(AF_INET)` accepts it (glibc and musl agree): exactly four
/// decimal parts of 1..=3 digits, each at most 255, no sign, and no leading zero ("01" is
/// rejected, "0" is fine).
fn parse_ipv4(text: &[u8]) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = text.split(|&b| b == b'.');
    for byte in out.iter_mut() {
        let part = parts.next()?;
        if part.len() > 3 || (part.len() > 1 && part.first() == Some(&b'0')) {
            return None;
        }
        *byte = u8::try_from(parse_decimal(part)?).ok()?;
    }
    match parts.next() {
        Some(_) => None,
        None => Some(out),
    }
}

/// IPv6 text as `inet_pton(AF_INET6)` accepts it: eight groups of 1..=4 hex digits (any case),
/// at most one `::` standing for one or more zero groups, and an optional trailing dotted quad
/// for the last 32 bits. No zone id (`%eth0`), no brackets.
// Out of line: inlined into its caller it made the `syd` binary bigger (size budget).
#[inline(never)]
fn parse_ipv6(text: &[u8]) -> Option<[u8; 16]> {
    let mut groups = [0u16; 8];
    let mut count = 0usize;
    let mut gap: Option<usize> = None;
    let mut rest = text;
    if let Some(after) = rest.strip_prefix(b"::") {
        gap = Some(0);
        rest = after;
    } else if rest.first() == Some(&b':') {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        if rest.get(digits) == Some(&b'.') {
            // Embedded IPv4: the rest of the text is a dotted quad filling the last 32 bits.
            let v4 = parse_ipv4(rest)?;
            for pair in v4.chunks_exact(2) {
                let (hi, lo) = (pair.first().copied()?, pair.get(1).copied()?);
                *groups.get_mut(count)? = u16::from_be_bytes([hi, lo]);
                count = count.checked_add(1)?;
            }
            break;
        }
        if digits == 0 || digits > 4 {
            return None;
        }
        let (hex, after) = rest.split_at(digits);
        let value = hex
            .iter()
            .try_fold(0u16, |acc, &h| Some((acc << 4) | u16::from(hex_value(h)?)))?;
        *groups.get_mut(count)? = value;
        count = count.checked_add(1)?;
        rest = after;
        let Some(after) = rest.strip_prefix(b":") else {
            // Not a colon: either the end, or a byte that belongs to no group.
            if rest.is_empty() {
                break;
            }
            return None;
        };
        if let Some(after) = after.strip_prefix(b":") {
            if gap.is_some() {
                return None;
            }
            gap = Some(count);
            rest = after;
        } else if after.is_empty() {
            return None; // A single trailing colon.
        } else {
            rest = after;
        }
    }
    match gap {
        // `::` stands for at least one group (RFC 4291 §2.2; glibc and musl reject it otherwise).
        Some(_) if count >= 8 => return None,
        Some(at) => {
            let tail = groups.get(at..count)?.len();
            let mut expanded = [0u16; 8];
            for (dst, src) in expanded.iter_mut().zip(groups.get(..at)?) {
                *dst = *src;
            }
            for (dst, src) in expanded
                .iter_mut()
                .skip(8usize.saturating_sub(tail))
                .zip(groups.get(at..count)?)
            {
                *dst = *src;
            }
            groups = expanded;
        }
        None if count != 8 => return None,
        None => {}
    }
    let mut out = [0u8; 16];
    for (pair, group) in out.chunks_exact_mut(2).zip(groups) {
        pair.copy_from_slice(&group.to_be_bytes());
    }
    Some(out)
}

fn hex_value(h: u8) -> Option<u8> {
    match h {
        b'0'..=b'9' => Some(h - b'0'),
        b'a'..=b'f' => Some(h - b'a' + 10),
        b'A'..=b'F' => Some(h - b'A' + 10),
        _ => None,
    }
}

/// Byte order of the `sa_family` field: the caller's ABI's, not necessarily the host's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endian {
    /// Least significant byte first (x86, arm, riscv, ppc64le...).
    Little,
    /// Most significant byte first (s390x, mips, ppc, parisc...).
    Big,
}

/// A socket address ready for matching; a non-abstract UNIX path is already canonical.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SockAddr<'a> {
    /// `AF_UNIX` with a path, canonicalized by the binary (§2.8).
    Unix(&'a [u8]),
    /// `AF_UNIX` abstract name, without the leading NUL.
    UnixAbstract(&'a [u8]),
    /// `AF_UNIX` without a name (length 2 or an empty path); matched as the empty abstract name.
    Unnamed,
    /// `AF_INET` address and port, host-order port.
    Inet {
        /// The address in network order.
        addr: [u8; 4],
        /// The port.
        port: u16,
    },
    /// `AF_INET6` address and port (flow info and scope id are ignored).
    Inet6 {
        /// The address in network order.
        addr: [u8; 16],
        /// The port.
        port: u16,
    },
    /// Any other family (§4.4): never matched by a pattern.
    Other {
        /// The `sa_family` value.
        family: u16,
    },
}

impl SockAddr<'_> {
    /// The `sa_family` value this address came with.
    pub fn family(&self) -> u16 {
        match *self {
            Self::Unix(_) | Self::UnixAbstract(_) | Self::Unnamed => AF_UNIX,
            Self::Inet { .. } => AF_INET,
            Self::Inet6 { .. } => AF_INET6,
            Self::Other { family } => family,
        }
    }
}

impl fmt::Display for SockAddr<'_> {
    /// The violation report form (§7.3): `unix:<path>`, `unix-abstract:<name>`,
    /// `inet:<dotted quad>@<port>`, `inet6:<RFC 5952>@<port>`, and `?:<AF_NAME>` for other
    /// families. An unnamed address prints as `unix-abstract:` (the empty name it matches as).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Unix(path) => write!(f, "unix:{}", Escaped(path)),
            Self::UnixAbstract(name) => write!(f, "unix-abstract:{}", Escaped(name)),
            Self::Unnamed => f.write_str("unix-abstract:"),
            Self::Inet { addr, port } => write!(f, "inet:{}@{port}", Ipv4Text(addr)),
            Self::Inet6 { addr, port } => write!(f, "inet6:{}@{port}", Ipv6Text(addr)),
            Self::Other { family } => write!(f, "?:{}", family_name(family)),
        }
    }
}

/// A decoded `struct sockaddr`: either ready to match, or a UNIX path still to canonicalize.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawSockAddr<'a> {
    /// `AF_UNIX` non-abstract path as the tracee passed it (up to the first NUL, non-empty):
    /// the binary canonicalizes it and matches [`SockAddr::Unix`] with the result.
    UnixPath(&'a [u8]),
    /// Any other address, ready to match.
    Addr(SockAddr<'a>),
}

/// Decodes the first `min(len, buf.len())` bytes of `buf` as a `struct sockaddr` (§4.3).
///
/// `len` is the length the tracee claimed; `buf` holds what the binary could read.
/// The family field is read in `family_order` (the caller's ABI); ports and addresses are in
/// network order. `AF_UNIX`: abstract if the first path byte is NUL and the second exists and
/// is not, the name running to the next NUL or the end; otherwise the path runs to the first
/// NUL and an empty one is [`SockAddr::Unnamed`]. Errors: `SockaddrTooShort` below 2 bytes,
/// `SockaddrTruncated` when an `AF_INET` (8) or `AF_INET6` (24) address lacks its port or
/// address bytes; the kernel rejects both (EINVAL), so nothing is hidden from matching.
pub fn parse_sockaddr(
    buf: &[u8],
    len: usize,
    family_order: Endian,
) -> Result<RawSockAddr<'_>, AddrError> {
    let len = len.min(buf.len());
    let raw = buf.get(..len).unwrap_or_default();
    let [f0, f1, rest @ ..] = raw else {
        return Err(AddrError::SockaddrTooShort { len });
    };
    let family = match family_order {
        Endian::Little => u16::from_le_bytes([*f0, *f1]),
        Endian::Big => u16::from_be_bytes([*f0, *f1]),
    };
    let truncated = |need| AddrError::SockaddrTruncated { family, len, need };
    let addr = match family {
        AF_UNIX => return Ok(parse_sun_path(rest)),
        AF_INET => {
            // struct sockaddr_in: family, port (network order), 4-byte address, padding.
            let [p0, p1, a0, a1, a2, a3, ..] = *rest else {
                return Err(truncated(8));
            };
            SockAddr::Inet {
                addr: [a0, a1, a2, a3],
                port: u16::from_be_bytes([p0, p1]),
            }
        }
        AF_INET6 => {
            // struct sockaddr_in6: family, port, 4-byte flow info, 16-byte address, scope id.
            let (Some(&[p0, p1]), Some(addr)) = (
                rest.get(..2).and_then(|p| <&[u8; 2]>::try_from(p).ok()),
                rest.get(6..22).and_then(|a| <[u8; 16]>::try_from(a).ok()),
            ) else {
                return Err(truncated(24));
            };
            SockAddr::Inet6 {
                addr,
                port: u16::from_be_bytes([p0, p1]),
            }
        }
        family => SockAddr::Other { family },
    };
    Ok(RawSockAddr::Addr(addr))
}

/// Decodes `sun_path` (the bytes after the family field, bounded by the address length).
fn parse_sun_path(path: &[u8]) -> RawSockAddr<'_> {
    match path {
        [0, second, ..] if *second != 0 => {
            let name = until_nul(path.get(1..).unwrap_or_default());
            RawSockAddr::Addr(SockAddr::UnixAbstract(name))
        }
        _ => match until_nul(path) {
            [] => RawSockAddr::Addr(SockAddr::Unnamed),
            cstr => RawSockAddr::UnixPath(cstr),
        },
    }
}

/// The bytes before the first NUL, or all of them.
fn until_nul(bytes: &[u8]) -> &[u8] {
    bytes.split(|&b| b == 0).next().unwrap_or_default()
}

/// Address family names by number (§4.4, `<linux/socket.h>` order).
static FAMILY_NAMES: crate::names::Names = names![
    "AF_UNSPEC",
    "AF_UNIX",
    "AF_INET",
    "AF_AX25",
    "AF_IPX",
    "AF_APPLETALK",
    "AF_NETROM",
    "AF_BRIDGE",
    "AF_ATMPVC",
    "AF_X25",
    "AF_INET6",
    "AF_ROSE",
    "AF_DECnet",
    "AF_NETBEUI",
    "AF_SECURITY",
    "AF_KEY",
    "AF_NETLINK",
    "AF_PACKET",
    "AF_ASH",
    "AF_ECONET",
    "AF_ATMSVC",
    "AF_RDS",
    "AF_SNA",
    "AF_IRDA",
    "AF_PPPOX",
    "AF_WANPIPE",
    "AF_LLC",
    "AF_IB",
    "AF_MPLS",
    "AF_CAN",
    "AF_TIPC",
    "AF_BLUETOOTH",
    "AF_IUCV",
    "AF_RXRPC",
    "AF_ISDN",
    "AF_PHONET",
    "AF_IEEE802154",
    "AF_CAIF",
    "AF_ALG",
    "AF_NFC",
    "AF_VSOCK",
    "AF_KCM",
    "AF_QIPCRTR",
    "AF_SMC",
    "AF_XDP",
];

/// The name of address family `family` as reports print it (§4.4): `AF_UNSPEC`..`AF_XDP`,
/// `AF_???` for any other number.
pub fn family_name(family: u16) -> &'static str {
    FAMILY_NAMES.get(usize::from(family)).unwrap_or("AF_???")
}

/// Dotted-quad text of an IPv4 address.
struct Ipv4Text([u8; 4]);

impl fmt::Display for Ipv4Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "{a}.{b}.{c}.{d}")
    }
}

/// RFC 5952 text of an IPv6 address: lowercase hex without leading zeros, the longest run of
/// two or more zero groups (the first on ties) written `::`, IPv4-mapped as `::ffff:a.b.c.d`.
struct Ipv6Text([u8; 16]);

impl fmt::Display for Ipv6Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d] = self.0 {
            return write!(f, "::ffff:{}", Ipv4Text([a, b, c, d]));
        }
        let mut groups = [0u16; 8];
        for (group, pair) in groups.iter_mut().zip(self.0.chunks_exact(2)) {
            let (Some(&hi), Some(&lo)) = (pair.first(), pair.get(1)) else {
                return Err(fmt::Error);
            };
            *group = u16::from_be_bytes([hi, lo]);
        }
        // Longest run of zero groups: (start, length); only runs of 2+ are compressed.
        let (mut best, mut run) = ((0usize, 0usize), (0usize, 0usize));
        for (i, group) in groups.iter().enumerate() {
            if *group == 0 {
                if run.1 == 0 {
                    run.0 = i;
                }
                run.1 += 1;
                if run.1 > best.1 {
                    best = run;
                }
            } else {
                run.1 = 0;
            }
        }
        let write_groups = |f: &mut fmt::Formatter<'_>, groups: &[u16]| -> fmt::Result {
            for (i, group) in groups.iter().enumerate() {
                if i > 0 {
                    f.write_str(":")?;
                }
                write!(f, "{group:x}")?;
            }
            Ok(())
        };
        if best.1 < 2 {
            return write_groups(f, &groups);
        }
        let (head, tail) = groups.split_at(best.0);
        write_groups(f, head)?;
        f.write_str("::")?;
        write_groups(f, tail.get(best.1..).unwrap_or_default())
    }
}

/// Bytes as text: valid printable UTF-8 verbatim; invalid bytes and control characters
/// (C0, DEL, C1) as `\xNN` per byte, so output is always valid and cannot carry a newline.
struct Escaped<'a>(&'a [u8]);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            for c in chunk.valid().chars() {
                if c.is_control() {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        write!(f, "\\x{b:02x}")?;
                    }
                } else {
                    write!(f, "{c}")?;
                }
            }
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use core::cell::RefCell;
    use std::string::ToString;
    use std::vec::Vec;

    use super::*;

    /// A services(5) snippet: comments, tabs, aliases, names with `-`, a duplicate, bad lines.
    const SERVICES: &[u8] = b"# Network services, Internet style
tcpmux\t\t1/tcp\t\t\t# TCP port service multiplexer
domain\t\t53/udp
http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP
https\t\t443/tcp
netbios-ns\t137/udp
http-alt\t8080/tcp\twebcache
x-y\t\t100/tcp
x\t\t1/tcp
y\t\t2/tcp
http\t\t81/udp
broken\t\tnotaport/tcp
huge\t\t70000/tcp
noproto\t\t9/
  indented 7/tcp echo-alias # leading blanks
# commented 5/tcp
crlf 6/tcp\r
";

    fn svc() -> ServicesFile<'static> {
        ServicesFile(SERVICES)
    }

    fn parse(text: &str) -> Result<Expanded<'_>, AddrError> {
        parse_addr_pattern(text.as_bytes(), &svc())
    }

    fn one(text: &str) -> AddrPattern<'_> {
        let expanded = parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(expanded.len(), 1, "{text:?}");
        expanded.as_slice()[0]
    }

    fn v4(text: &str) -> [u8; 4] {
        parse_ipv4(text.as_bytes()).unwrap_or_else(|| panic!("bad test IPv4 {text:?}"))
    }

    fn v6(text: &str) -> [u8; 16] {
        parse_ipv6(text.as_bytes()).unwrap_or_else(|| panic!("bad test IPv6 {text:?}"))
    }

    fn groups(addr: [u8; 16]) -> [u16; 8] {
        let mut out = [0u16; 8];
        for (g, pair) in out.iter_mut().zip(addr.chunks_exact(2)) {
            *g = u16::from_be_bytes([pair[0], pair[1]]);
        }
        out
    }

    fn from_groups(g: [u16; 8]) -> [u8; 16] {
        let mut out = [0u8; 16];
        for (pair, g) in out.chunks_exact_mut(2).zip(g) {
            pair.copy_from_slice(&g.to_be_bytes());
        }
        out
    }

    fn sock(text: &str, port: u16) -> SockAddr<'static> {
        if text.contains(':') {
            SockAddr::Inet6 {
                addr: v6(text),
                port,
            }
        } else {
            SockAddr::Inet {
                addr: v4(text),
                port,
            }
        }
    }

    fn exact(pattern: &[u8], text: &[u8]) -> bool {
        pattern == text
    }

    fn matches(pattern: &str, addr: &SockAddr<'_>) -> bool {
        let expanded = parse(pattern).unwrap_or_else(|e| panic!("{pattern:?}: {e}"));
        expanded.iter().any(|p| p.matches(addr, Case::Sensitive))
    }

    /// SPEC §3.5 vectors (pattern, address, port, result), masks expanded by the loops below.
    #[test]
    fn spec_vectors() {
        let table: &[(&str, &str, u16, bool)] = &[
            ("inet:1.2.3.4@53", "1.2.3.4", 53, true),
            ("inet:1.2.3.4@50-55", "1.2.3.4", 50, true),
            ("inet:1.2.3.4@50-55", "1.2.3.4", 53, true),
            ("inet:1.2.3.4@50-55", "1.2.3.4", 55, true),
            ("inet:1.2.3.4@50-55", "1.2.3.4", 49, false),
            ("inet:1.2.3.4@50-55", "1.2.3.4", 56, false),
            ("inet:1.2.1.4/23@53", "1.2.3.4", 53, false),
            ("inet:1.2.2.4/23@53", "1.2.3.4", 53, true),
            ("inet:1.1.3.4/15@53", "1.2.3.4", 53, false),
            ("inet:1.3.3.4/15@53", "1.2.3.4", 53, true),
            ("inet:0.2.3.4/7@53", "1.2.3.4", 53, true),
            ("inet:3.2.3.4/7@53", "1.2.3.4", 53, false),
            ("inet:1.2.3.253/31@53", "1.2.3.254", 53, false),
            ("inet:1.2.3.255/31@53", "1.2.3.254", 53, true),
            ("inet:1.2.255.255/23@53", "1.2.254.0", 53, true),
            ("inet:255.255.255.255/1@53", "128.0.0.0", 53, true),
            ("inet:255.255.255.255/1@53", "127.0.0.0", 53, false),
            ("inet6:1234:5678::abcf/127@53", "1234:5678::abce", 53, true),
            ("inet6:1234:5678::abcd/127@53", "1234:5678::abce", 53, false),
            ("inet6:123e::ffff/15@53", "123e::", 53, true),
            // Not in the table, but implied: wrong port, wrong family.
            ("inet:1.2.3.4@53", "1.2.3.4", 54, false),
            ("inet:1.2.3.4@53", "::ffff:1.2.3.4", 53, false),
            ("inet6:::ffff:1.2.3.4@53", "1.2.3.4", 53, false),
        ];
        for &(pattern, addr, port, want) in table {
            assert_eq!(
                matches(pattern, &sock(addr, port)),
                want,
                "{pattern} vs {addr}@{port}"
            );
        }
        let addr = sock("1.2.3.4", 53);
        for m in 0..=32u8 {
            let own = std::format!("inet:1.2.3.4/{m}@53");
            assert!(matches(&own, &addr), "{own}");
            let below = std::format!("inet:1.2.3.3/{m}@53");
            assert_eq!(matches(&below, &addr), m <= 29, "{below}");
            let above = std::format!("inet:1.2.3.5/{m}@53");
            assert_eq!(matches(&above, &addr), m <= 31, "{above}");
        }
        assert_eq!(parse("inet:127.0.0.0/8"), Err(AddrError::MissingPort));
    }

    /// Every mask length of both families against an address that differs in exactly one bit.
    #[test]
    fn mask_boundaries() {
        for bit in 0..32u32 {
            let base = 0xc0a8_0102u32;
            let other = base ^ (1 << (31 - bit));
            let addr = SockAddr::Inet {
                addr: other.to_be_bytes(),
                port: 1,
            };
            for m in 0..=32u8 {
                let p = AddrPattern::Inet {
                    addr: base.to_be_bytes(),
                    mask: m,
                    ports: PortRange { first: 1, last: 1 },
                };
                assert_eq!(
                    p.matches_with(&addr, &exact),
                    u32::from(m) <= bit,
                    "bit {bit} mask {m}"
                );
            }
        }
        for bit in 0..128u32 {
            let base = 0x2001_0db8_0000_0000_0000_0000_0000_0001u128;
            let other = base ^ (1 << (127 - bit));
            let addr = SockAddr::Inet6 {
                addr: other.to_be_bytes(),
                port: 1,
            };
            for m in [0u8, 1, 7, 8, 63, 64, 65, 120, 127, 128] {
                let p = AddrPattern::Inet6 {
                    addr: base.to_be_bytes(),
                    mask: m,
                    ports: PortRange { first: 1, last: 1 },
                };
                assert_eq!(
                    p.matches_with(&addr, &exact),
                    u32::from(m) <= bit,
                    "bit {bit} mask {m}"
                );
            }
        }
        // Out-of-range masks built by hand behave as the full width instead of panicking.
        let p = AddrPattern::Inet {
            addr: [1, 2, 3, 4],
            mask: 200,
            ports: PortRange { first: 0, last: 9 },
        };
        assert!(p.matches_with(&sock("1.2.3.4", 5), &exact));
        assert!(!p.matches_with(&sock("1.2.3.5", 5), &exact));
        let p = AddrPattern::Inet6 {
            addr: v6("::1"),
            mask: 255,
            ports: PortRange { first: 0, last: 9 },
        };
        assert!(p.matches_with(&sock("::1", 5), &exact));
        assert!(!p.matches_with(&sock("::2", 5), &exact));
    }

    fn pat4(addr: [u8; 4], mask: u8, first: u16, last: u16) -> AddrPattern<'static> {
        AddrPattern::Inet {
            addr,
            mask,
            ports: PortRange { first, last },
        }
    }

    fn pat6(addr: [u8; 16], mask: u8, first: u16, last: u16) -> AddrPattern<'static> {
        AddrPattern::Inet6 {
            addr,
            mask,
            ports: PortRange { first, last },
        }
    }

    #[test]
    fn parsed_fields() {
        let table: &[(&str, AddrPattern<'static>)] = &[
            ("inet:1.2.3.4@80", pat4([1, 2, 3, 4], 32, 80, 80)),
            ("inet:1.2.3.4/0@0-65535", pat4([1, 2, 3, 4], 0, 0, 65535)),
            ("inet:0.0.0.0/32@65535", pat4([0; 4], 32, 65535, 65535)),
            ("inet:255.255.255.255/24@7-7", pat4([255; 4], 24, 7, 7)),
            ("inet6:::1@53", pat6(V6_LOOPBACK, 128, 53, 53)),
            ("inet6:::1/8@53", pat6(V6_LOOPBACK, 8, 53, 53)),
            ("inet6:fe80::/7@1-2", pat6(V6_FE80, 7, 1, 2)),
            ("inet6:::/0@0", pat6([0; 16], 0, 0, 0)),
            // The port separator is the last `@`, the mask separator the last `/` before it.
            ("unix:/a@b/c@d", AddrPattern::Unix(b"/a@b/c@d")),
            ("unix:x", AddrPattern::Unix(b"x")),
            ("unix:/run/***", AddrPattern::Unix(b"/run/***")),
            ("unix-abstract:@x/y", AddrPattern::UnixAbstract(b"@x/y")),
            ("unix-abstract:unix:", AddrPattern::UnixAbstract(b"unix:")),
        ];
        for (text, want) in table {
            assert_eq!(one(text), *want, "{text}");
        }
    }

    #[test]
    fn aliases() {
        let ports = PortRange {
            first: 80,
            last: 80,
        };
        let inet = |addr, mask| AddrPattern::Inet { addr, mask, ports };
        let inet6 = |addr, mask| AddrPattern::Inet6 { addr, mask, ports };
        let table: &[(&str, &[AddrPattern<'static>])] = &[
            ("LOOPBACK@80", &[inet([127, 0, 0, 0], 8)]),
            ("LOOPBACK6@80", &[inet6(V6_LOOPBACK, 8)]),
            (
                "LOCAL@80",
                &[
                    inet([127, 0, 0, 0], 8),
                    inet([10, 0, 0, 0], 8),
                    inet([172, 16, 0, 0], 12),
                    inet([192, 168, 0, 0], 16),
                ],
            ),
            (
                "LOCAL6@http",
                &[
                    inet6(V6_LOOPBACK, 128),
                    inet6(v6("fe80::"), 7),
                    inet6(v6("fc00::"), 7),
                    inet6(v6("fec0::"), 7),
                ],
            ),
        ];
        for (text, want) in table {
            assert_eq!(parse(text).unwrap().as_slice(), *want, "{text}");
        }
        assert_eq!(parse("LOCAL@80").unwrap().len(), MAX_ALIAS_EXPANSION);
        let range = parse("LOCAL@1000-2000").unwrap();
        assert!(range.iter().all(|p| matches!(
            p,
            AddrPattern::Inet {
                ports: PortRange {
                    first: 1000,
                    last: 2000
                },
                ..
            }
        )));

        let hits: &[(&str, &str, bool)] = &[
            ("LOOPBACK@80", "127.255.0.1", true),
            ("LOOPBACK@80", "128.0.0.1", false),
            ("LOOPBACK@80", "::1", false),
            ("LOOPBACK6@80", "::1", true),
            // §9 #17: the seed's ::1/8 also contains every IPv4-mapped address.
            ("LOOPBACK6@80", "::ffff:8.8.8.8", true),
            ("LOOPBACK6@80", "100::", false),
            ("LOOPBACK6@80", "127.0.0.1", false),
            ("LOCAL@80", "10.9.8.7", true),
            ("LOCAL@80", "172.16.0.0", true),
            ("LOCAL@80", "172.31.255.255", true),
            ("LOCAL@80", "172.32.0.0", false),
            ("LOCAL@80", "192.168.44.1", true),
            ("LOCAL@80", "192.169.0.1", false),
            ("LOCAL@80", "8.8.8.8", false),
            ("LOCAL6@80", "::1", true),
            ("LOCAL6@80", "::2", false),
            ("LOCAL6@80", "fe80::1", true),
            // The seed's fe80::/7 (verbatim) spans fe00:: to ffff:..., multicast included.
            ("LOCAL6@80", "ff02::1", true),
            ("LOCAL6@80", "fb00::1", false),
            ("LOCAL6@80", "fd12:3456::1", true),
            ("LOCAL6@80", "fec0::1", true),
            ("LOCAL6@80", "2001:db8::1", false),
        ];
        for &(pattern, addr, want) in hits {
            assert_eq!(
                matches(pattern, &sock(addr, 80)),
                want,
                "{pattern} vs {addr}"
            );
            assert!(!matches(pattern, &sock(addr, 81)), "{pattern} vs {addr}@81");
        }
    }

    /// Each malformed pattern and the error it gives.
    #[test]
    fn errors() {
        use AddrError as E;
        let table: &[(&str, AddrError)] = &[
            ("", E::UnknownPrefix),
            ("foo:bar", E::UnknownPrefix),
            ("tcp:1.2.3.4@80", E::UnknownPrefix),
            ("UNIX:/x", E::UnknownPrefix),
            ("/run/x", E::UnknownPrefix),
            ("local@80", E::UnknownPrefix),
            ("LOCAL/8@80", E::UnknownPrefix),
            ("LOOPBACK@80@90", E::UnknownPrefix),
            ("LOCAL", E::MissingPort),
            ("LOOPBACK6", E::MissingPort),
            ("inet:1.2.3.4", E::MissingPort),
            ("inet:127.0.0.0/8", E::MissingPort),
            ("inet6:::1", E::MissingPort),
            ("unix:", E::EmptyUnixPattern),
            ("unix-abstract:", E::EmptyUnixPattern),
            ("inet:1.2.3@80", E::BadIpv4),
            ("inet:1.2.3.4.5@80", E::BadIpv4),
            ("inet:256.1.1.1@80", E::BadIpv4),
            ("inet:01.2.3.4@80", E::BadIpv4),
            ("inet:1.2.3.00@80", E::BadIpv4),
            ("inet:1.2.3.0004@80", E::BadIpv4),
            ("inet:+1.2.3.4@80", E::BadIpv4),
            ("inet:1.2.3.4 @80", E::BadIpv4),
            ("inet:1..2.3@80", E::BadIpv4),
            ("inet:0x1.2.3.4@80", E::BadIpv4),
            ("inet:@80", E::BadIpv4),
            ("inet:::1@80", E::BadIpv4),
            ("inet:1.2.3.4/24/8@80", E::BadIpv4),
            ("inet6:1.2.3.4@80", E::BadIpv6),
            ("inet6:1::2::3@80", E::BadIpv6),
            ("inet6:[::1]@80", E::BadIpv6),
            ("inet:1.2.3.4/33@80", E::MaskTooLarge { mask: 33, max: 32 }),
            (
                "inet6:::1/129@80",
                E::MaskTooLarge {
                    mask: 129,
                    max: 128,
                },
            ),
            (
                "inet:1.2.3.4/256@80",
                E::MaskTooLarge { mask: 256, max: 32 },
            ),
            (
                "inet:1.2.3.4/99999999999@80",
                E::MaskTooLarge {
                    mask: u32::MAX,
                    max: 32,
                },
            ),
            ("inet:1.2.3.4/@80", E::BadMask),
            ("inet:1.2.3.4/x@80", E::BadMask),
            ("inet:1.2.3.4/-1@80", E::BadMask),
            ("inet:1.2.3.4/+8@80", E::BadMask),
            ("inet:1.2.3.4/08@80", E::LeadingZero { what: "netmask" }),
            ("inet:1.2.3.4@", E::EmptyPort),
            ("LOCAL@", E::EmptyPort),
            ("inet:1.2.3.4@80-", E::EmptyPort),
            ("inet:1.2.3.4@-80", E::EmptyPort),
            ("inet:1.2.3.4@-", E::EmptyPort),
            ("inet:1.2.3.4@http-", E::EmptyPort),
            ("inet:1.2.3.4@-http", E::EmptyPort),
            ("inet:1.2.3.4@1-2-3", E::BadPortRange),
            ("inet:1.2.3.4@1--3", E::BadPortRange),
            ("inet:1.2.3.4@70000", E::PortTooLarge { value: 70000 }),
            ("inet:1.2.3.4@65536", E::PortTooLarge { value: 65536 }),
            ("inet:1.2.3.4@1-65536", E::PortTooLarge { value: 65536 }),
            ("inet:1.2.3.4@http-70000", E::PortTooLarge { value: 70000 }),
            (
                "inet:1.2.3.4@99999999999",
                E::PortTooLarge { value: u32::MAX },
            ),
            ("inet:1.2.3.4@080", E::LeadingZero { what: "port" }),
            ("inet:1.2.3.4@00", E::LeadingZero { what: "port" }),
            ("inet:1.2.3.4@1-02", E::LeadingZero { what: "port" }),
            (
                "inet:1.2.3.4@90-80",
                E::ReversedRange {
                    first: 90,
                    last: 80,
                },
            ),
            (
                "inet:1.2.3.4@https-http",
                E::ReversedRange {
                    first: 443,
                    last: 80,
                },
            ),
            (
                "LOCAL6@65535-0",
                E::ReversedRange {
                    first: 65535,
                    last: 0,
                },
            ),
            ("inet:1.2.3.4@nosuch", E::UnknownService),
            ("inet:1.2.3.4@0x50", E::UnknownService),
            ("inet:1.2.3.4@+80", E::UnknownService),
            ("inet:1.2.3.4@ 80", E::UnknownService),
            ("inet:1.2.3.4@80a", E::UnknownService),
            ("inet:1.2.3.4@HTTP", E::UnknownService),
            ("inet:1.2.3.4@http-nosuch", E::UnknownService),
            ("inet:1.2.3.4@broken", E::UnknownService),
            ("inet:1.2.3.4@huge", E::UnknownService),
            ("inet:1.2.3.4@noproto", E::UnknownService),
            ("inet:1.2.3.4@commented", E::UnknownService),
        ];
        for &(text, want) in table {
            assert_eq!(parse(text), Err(want), "{text:?}");
        }
    }

    /// The message of each error: what `syd` prints after the failing command.
    #[test]
    fn error_messages() {
        use AddrError as E;
        let table: &[(AddrError, &str)] = &[
            (
                E::UnknownPrefix,
                "unknown address prefix (expected unix:, unix-abstract:, inet:, inet6:, \
                 LOOPBACK@, LOOPBACK6@, LOCAL@ or LOCAL6@)",
            ),
            (E::MissingPort, "missing @PORT"),
            (E::EmptyUnixPattern, "empty unix socket pattern"),
            (E::BadIpv4, "invalid IPv4 address"),
            (E::BadIpv6, "invalid IPv6 address"),
            (E::BadMask, "invalid netmask (expected a decimal number)"),
            (
                E::MaskTooLarge { mask: 33, max: 32 },
                "netmask 33 exceeds 32",
            ),
            (
                E::MaskTooLarge {
                    mask: 129,
                    max: 128,
                },
                "netmask 129 exceeds 128",
            ),
            (E::EmptyPort, "empty port"),
            (E::BadPortRange, "invalid port range (expected BEGIN-END)"),
            (
                E::LeadingZero { what: "port" },
                "port has a leading zero (ambiguous: upstream reads it as octal)",
            ),
            (
                E::LeadingZero { what: "netmask" },
                "netmask has a leading zero (ambiguous: upstream reads it as octal)",
            ),
            (E::PortTooLarge { value: 70000 }, "port 70000 exceeds 65535"),
            (
                E::ReversedRange {
                    first: 90,
                    last: 80,
                },
                "reversed port range 90-80",
            ),
            (E::UnknownService, "unknown service name"),
            (
                E::TooManyPatterns { limit: 4 },
                "address expands to more than 4 patterns (MAX_ALIAS_EXPANSION)",
            ),
            (
                E::SockaddrTooShort { len: 1 },
                "socket address too short (1 bytes, need at least 2)",
            ),
            (
                E::SockaddrTruncated {
                    family: AF_INET6,
                    len: 10,
                    need: 24,
                },
                "AF_INET6 socket address too short (10 bytes, need 24)",
            ),
        ];
        for (e, message) in table {
            assert_eq!(e.to_string(), *message);
        }
    }

    #[test]
    fn service_ports() {
        let table: &[(&str, u16, u16)] = &[
            ("inet:1.2.3.4@http", 80, 80),
            ("inet:1.2.3.4@www", 80, 80),
            ("inet:1.2.3.4@tcpmux", 1, 1),
            ("inet:1.2.3.4@http-https", 80, 443),
            ("inet:1.2.3.4@80-http", 80, 80),
            ("inet:1.2.3.4@domain-1000", 53, 1000),
            ("inet:1.2.3.4@http-alt", 8080, 8080),
            ("inet:1.2.3.4@webcache", 8080, 8080),
            ("inet:1.2.3.4@netbios-ns", 137, 137),
            ("inet:1.2.3.4@domain-netbios-ns", 53, 137),
            ("inet:1.2.3.4@netbios-ns-http-alt", 137, 8080),
            // The whole token as a name wins over splitting it into `x`-`y` (1-2).
            ("inet:1.2.3.4@x-y", 100, 100),
            ("inet:1.2.3.4@x-https", 1, 443),
            ("inet:1.2.3.4@indented", 7, 7),
            ("inet:1.2.3.4@echo-alias", 7, 7),
            ("inet:1.2.3.4@crlf", 6, 6),
            ("inet6:::1@http", 80, 80),
        ];
        for &(text, first, last) in table {
            let want = PortRange { first, last };
            match one(text) {
                AddrPattern::Inet { ports, .. } | AddrPattern::Inet6 { ports, .. } => {
                    assert_eq!(ports, want, "{text}")
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        // A closure is a services database; NoServices knows nothing.
        let closure = |name: &[u8]| (name == b"gopher").then_some(70);
        let got = parse_addr_pattern(b"inet:1.2.3.4@gopher", &closure).unwrap();
        assert_eq!(
            got.as_slice(),
            &[AddrPattern::Inet {
                addr: [1, 2, 3, 4],
                mask: 32,
                ports: PortRange {
                    first: 70,
                    last: 70
                }
            }]
        );
        assert_eq!(
            parse_addr_pattern(b"inet:1.2.3.4@http", &NoServices),
            Err(AddrError::UnknownService)
        );
        assert!(parse_addr_pattern(b"inet:1.2.3.4@80", &NoServices).is_ok());
        // Numeric ports never consult the database, so it cannot redefine them.
        let calls = RefCell::new(0);
        let counting = |_: &[u8]| {
            *calls.borrow_mut() += 1;
            Some(9)
        };
        assert!(parse_addr_pattern(b"LOCAL@80-90", &counting).is_ok());
        assert_eq!(*calls.borrow(), 0);
    }

    #[test]
    fn services_file_lookup() {
        let table: &[(&[u8], Option<u16>)] = &[
            (b"http", Some(80)), // first line wins over `http 81/udp`
            (b"www", Some(80)),
            (b"domain", Some(53)),
            (b"netbios-ns", Some(137)),
            (b"tcpmux", Some(1)),
            (b"indented", Some(7)),
            (b"echo-alias", Some(7)),
            (b"crlf", Some(6)),
            (b"commented", None),
            (b"WorldWideWeb", None),
            (b"HTTP", None),
            (b"htt", None),
            (b"broken", None),
            (b"huge", None),
            (b"noproto", None),
            (b"80/tcp", None),
            (b"#", None),
            (b"", None),
        ];
        for &(name, want) in table {
            assert_eq!(
                lookup_service(SERVICES, name),
                want,
                "{:?}",
                std::str::from_utf8(name)
            );
        }
        assert_eq!(lookup_service(b"", b"http"), None);
        assert_eq!(lookup_service(b"http", b"http"), None);
        assert_eq!(lookup_service(b"a 0/tcp", b"a"), Some(0));
        assert_eq!(lookup_service(b"a 65535/sctp", b"a"), Some(65535));
        assert_eq!(lookup_service(b"a 65536/tcp\na 5/tcp", b"a"), Some(5));
        assert_eq!(lookup_service(b"a 5/tcp/x b", b"b"), Some(5));
    }

    #[test]
    fn ipv4_text() {
        let table: &[(&str, Option<[u8; 4]>)] = &[
            ("0.0.0.0", Some([0, 0, 0, 0])),
            ("255.255.255.255", Some([255; 4])),
            ("1.2.3.4", Some([1, 2, 3, 4])),
            ("10.0.100.200", Some([10, 0, 100, 200])),
            // inet_pton(AF_INET) in glibc and musl rejects leading zeros (no octal ambiguity).
            ("01.2.3.4", None),
            ("1.2.3.04", None),
            ("1.2.3.256", None),
            ("1.2.3", None),
            ("1.2.3.4.", None),
            (".1.2.3.4", None),
            ("1.2.3.4.5", None),
            ("1.2.3.a", None),
            ("1.2.3.-4", None),
            ("1.2.3.1000", None),
            ("1.2.3.4\0", None),
            ("", None),
            ("...", None),
        ];
        for &(text, want) in table {
            assert_eq!(parse_ipv4(text.as_bytes()), want, "{text:?}");
        }
    }

    #[test]
    fn ipv6_text() {
        let table: &[(&str, Option<[u16; 8]>)] = &[
            ("::", Some([0; 8])),
            ("::1", Some([0, 0, 0, 0, 0, 0, 0, 1])),
            ("1::", Some([1, 0, 0, 0, 0, 0, 0, 0])),
            ("1::2", Some([1, 0, 0, 0, 0, 0, 0, 2])),
            ("1:2:3:4:5:6:7:8", Some([1, 2, 3, 4, 5, 6, 7, 8])),
            ("1:2:3:4:5:6:7::", Some([1, 2, 3, 4, 5, 6, 7, 0])),
            ("::2:3:4:5:6:7:8", Some([0, 2, 3, 4, 5, 6, 7, 8])),
            ("1:2:3::6:7:8", Some([1, 2, 3, 0, 0, 6, 7, 8])),
            (
                "ABCD:ef01:0000:0:00:000:FfFf:0001",
                Some([0xabcd, 0xef01, 0, 0, 0, 0, 0xffff, 1]),
            ),
            (
                "::ffff:1.2.3.4",
                Some([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]),
            ),
            ("::1.2.3.4", Some([0, 0, 0, 0, 0, 0, 0x0102, 0x0304])),
            (
                "1:2:3:4:5:6:1.2.3.4",
                Some([1, 2, 3, 4, 5, 6, 0x0102, 0x0304]),
            ),
            (
                "1::6:255.255.255.255",
                Some([1, 0, 0, 0, 0, 6, 0xffff, 0xffff]),
            ),
            ("::ffff:0.0.0.0", Some([0, 0, 0, 0, 0, 0xffff, 0, 0])),
            ("", None),
            (":", None),
            (":::", None),
            ("1:::2", None),
            (":1::", None),
            ("1::2:", None),
            ("1:", None),
            (":1", None),
            ("1::2::3", None),
            ("::1::", None),
            ("1:2:3:4:5:6:7", None),
            ("1:2:3:4:5:6:7:8:9", None),
            ("1:2:3:4:5:6:7:8::", None),
            ("::1:2:3:4:5:6:7:8", None),
            ("1:2:3:4::5:6:7:8", None),
            ("12345::", None),
            ("g::", None),
            ("::x", None),
            ("1.2.3.4", None),
            ("::1.2.3", None),
            ("::1.2.3.4:5", None),
            ("::1.2.3.4.5", None),
            ("::01.2.3.4", None),
            ("::256.2.3.4", None),
            ("::a.2.3.4", None),
            ("1:2:3:4:5:6:7:1.2.3.4", None),
            ("1.2.3.4::", None),
            ("fe80::1%eth0", None),
            ("[::1]", None),
            (" ::1", None),
            ("::1 ", None),
            ("-1::", None),
        ];
        for &(text, want) in table {
            assert_eq!(parse_ipv6(text.as_bytes()).map(groups), want, "{text:?}");
        }
    }

    #[test]
    fn rfc5952_text() {
        let table: &[([u16; 8], &str)] = &[
            ([0; 8], "::"),
            ([0, 0, 0, 0, 0, 0, 0, 1], "::1"),
            ([1, 0, 0, 0, 0, 0, 0, 0], "1::"),
            ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], "2001:db8::1"),
            ([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], "2001:db8::1:0:0:1"), // first of equal runs
            ([0x2001, 0, 0, 1, 0, 0, 0, 1], "2001:0:0:1::1"),         // longest run
            ([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1], "2001:db8:0:1:1:1:1:1"), // one zero stays
            (
                [0x2001, 0xdb8, 0xAB, 0xCDEF, 0, 0, 0, 0x000a],
                "2001:db8:ab:cdef::a",
            ),
            ([1, 2, 3, 4, 5, 6, 7, 8], "1:2:3:4:5:6:7:8"),
            ([0, 1, 2, 3, 4, 5, 6, 0], "0:1:2:3:4:5:6:0"),
            ([0, 0, 1, 2, 3, 4, 0, 0], "::1:2:3:4:0:0"),
            ([1, 0, 0, 2, 0, 0, 0, 0], "1:0:0:2::"),
            ([0xfe80, 0, 0, 0, 0, 0, 0, 1], "fe80::1"),
            ([0xffff; 8], "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
            ([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304], "::ffff:1.2.3.4"),
            ([0, 0, 0, 0, 0, 0xffff, 0, 0], "::ffff:0.0.0.0"),
            ([0, 0, 0, 0, 0, 0, 0x0102, 0x0304], "::102:304"), // IPv4-compatible: plain hex
            ([0, 0, 0, 0, 1, 0xffff, 0x0102, 0x0304], "::1:ffff:102:304"),
        ];
        for &(g, want) in table {
            let addr = from_groups(g);
            assert_eq!(Ipv6Text(addr).to_string(), want, "{g:x?}");
            // The text parses back to the same address.
            assert_eq!(parse_ipv6(want.as_bytes()), Some(addr), "{want}");
        }
    }

    #[test]
    fn round_trip_canonical() {
        let table: &[(&str, &str)] = &[
            ("inet:1.2.3.4@80", "inet:1.2.3.4@80"),
            ("inet:1.2.3.4/32@80", "inet:1.2.3.4@80"),
            ("inet:1.2.3.4/24@80-90", "inet:1.2.3.4/24@80-90"),
            ("inet:1.2.3.4/0@80-80", "inet:1.2.3.4/0@80"),
            ("inet:1.2.3.4@http-https", "inet:1.2.3.4@80-443"),
            ("inet6:0:0::1@53", "inet6:::1@53"),
            ("inet6:::1/128@53", "inet6:::1@53"),
            ("inet6:::FFFF:1.2.3.4/96@1", "inet6:::ffff:1.2.3.4/96@1"),
            (
                "inet6:2001:DB8:0:0:1:0:0:1/64@0-65535",
                "inet6:2001:db8::1:0:0:1/64@0-65535",
            ),
            ("unix:/run/*.sock", "unix:/run/*.sock"),
            (
                "unix-abstract:/tmp/.X11-unix/X[0-9]",
                "unix-abstract:/tmp/.X11-unix/X[0-9]",
            ),
            ("unix:/a@b/c", "unix:/a@b/c"),
            ("unix:/\u{e9}t\u{e9}", "unix:/\u{e9}t\u{e9}"),
        ];
        for &(text, want) in table {
            let first = one(text);
            let shown = first.to_string();
            assert_eq!(shown, want, "{text}");
            assert_eq!(one(&shown), first, "{text} -> {shown}");
        }
        for alias in ["LOCAL@1-2", "LOCAL6@80", "LOOPBACK@0", "LOOPBACK6@65535"] {
            for p in parse(alias).unwrap().iter() {
                let shown = p.to_string();
                assert_eq!(one(&shown), *p, "{alias} -> {shown}");
            }
        }
        // Text that is not printable UTF-8 is escaped, so it does not round-trip (documented).
        assert_eq!(
            AddrPattern::Unix(b"/a\nb\xff").to_string(),
            "unix:/a\\x0ab\\xff"
        );
    }

    /// xorshift64*, fixed seed: random patterns of both families survive format -> parse.
    #[test]
    fn round_trip_random() {
        let seed: u64 = 0x5eed_0000_0000_add5;
        let mut state = seed;
        let mut next = || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_f491_4f6c_dd1d)
        };
        for i in 0..2000 {
            let r = next();
            let a = u16::try_from(r & 0xffff).unwrap();
            let b = u16::try_from((r >> 16) & 0xffff).unwrap();
            let ports = PortRange {
                first: a.min(b),
                last: a.max(b),
            };
            let mut addr = [0u8; 16];
            for chunk in addr.chunks_exact_mut(8) {
                // Zero some bytes so that `::` runs and short groups appear.
                let word = next() & next();
                chunk.copy_from_slice(&word.to_be_bytes());
            }
            let pattern = if r >> 63 == 0 {
                let mask = u8::try_from((r >> 32) % 33).unwrap();
                AddrPattern::Inet {
                    addr: [addr[0], addr[1], addr[2], addr[3]],
                    mask,
                    ports,
                }
            } else {
                let mask = u8::try_from((r >> 32) % 129).unwrap();
                if r & (1 << 62) != 0 {
                    addr[..10].fill(0);
                    addr[10..12].fill(0xff);
                }
                AddrPattern::Inet6 { addr, mask, ports }
            };
            let shown = pattern.to_string();
            let back = parse_addr_pattern(shown.as_bytes(), &NoServices);
            assert_eq!(
                back.map(|e| e.as_slice()[0]),
                Ok(pattern),
                "seed {seed:#x} round {i}: {shown}"
            );
        }
    }

    #[test]
    fn unix_matching() {
        let path = SockAddr::Unix(b"/run/app.sock");
        let abs = SockAddr::UnixAbstract(b"/run/app.sock");
        let table: &[(&str, &SockAddr<'_>, Case, bool)] = &[
            ("unix:/run/app.sock", &path, Case::Sensitive, true),
            ("unix:/run/APP.sock", &path, Case::Sensitive, false),
            ("unix:/run/APP.sock", &path, Case::Insensitive, true),
            ("unix:/run/app.sock", &abs, Case::Sensitive, false),
            (
                "unix:/run/app.sock",
                &SockAddr::Unnamed,
                Case::Sensitive,
                false,
            ),
            ("unix-abstract:/run/app.sock", &abs, Case::Sensitive, true),
            ("unix-abstract:/run/app.sock", &path, Case::Sensitive, false),
            ("unix-abstract:/run/app.soc", &abs, Case::Sensitive, false),
            ("unix-abstract:/RUN/app.sock", &abs, Case::Insensitive, true),
            (
                "unix:/run/app.sock",
                &sock("1.2.3.4", 1),
                Case::Sensitive,
                false,
            ),
            ("inet:1.2.3.4@1", &path, Case::Sensitive, false),
            (
                "inet:1.2.3.4@1",
                &SockAddr::Other { family: AF_INET },
                Case::Sensitive,
                false,
            ),
            (
                "inet6:::@0-65535",
                &SockAddr::Other { family: AF_INET6 },
                Case::Sensitive,
                false,
            ),
        ];
        for &(pattern, addr, case, want) in table {
            let p = one(pattern);
            assert_eq!(
                p.matches(addr, case),
                want,
                "{pattern} vs {addr:?} {case:?}"
            );
        }
        // The matcher sees (pattern, name); an unnamed address is the empty abstract name.
        let seen = RefCell::new(Vec::new());
        let recorder = |p: &[u8], t: &[u8]| {
            seen.borrow_mut().push((p.to_vec(), t.to_vec()));
            p == b"*"
        };
        assert!(one("unix-abstract:*").matches_with(&SockAddr::Unnamed, &recorder));
        assert!(!one("unix-abstract:x").matches_with(&SockAddr::Unnamed, &recorder));
        assert!(!one("unix:*").matches_with(&SockAddr::Unnamed, &recorder));
        assert!(one("unix:*").matches_with(&path, &recorder));
        assert!(!one("inet:1.2.3.4@1").matches_with(&sock("1.2.3.4", 2), &recorder));
        let want: Vec<(Vec<u8>, Vec<u8>)> = std::vec![
            (b"*".to_vec(), Vec::new()),
            (b"x".to_vec(), Vec::new()),
            (b"*".to_vec(), b"/run/app.sock".to_vec())
        ];
        assert_eq!(*seen.borrow(), want);
    }

    fn sun(path: &[u8]) -> Vec<u8> {
        let mut raw = std::vec![1u8, 0];
        raw.extend_from_slice(path);
        raw
    }

    fn ok(addr: SockAddr<'static>) -> Result<RawSockAddr<'static>, AddrError> {
        Ok(RawSockAddr::Addr(addr))
    }

    #[test]
    fn sockaddr_decoding() {
        use AddrError as E;
        use Endian::{Big as B, Little as L};
        let inet_le = [2u8, 0, 0, 53, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0];
        let inet_be = [0u8, 2, 0x1f, 0x90, 10, 0, 0, 1, 9, 9, 9, 9, 9, 9, 9, 9];
        let mut inet6 = std::vec![10u8, 0, 0x01, 0xbb, 0xde, 0xad, 0xbe, 0xef];
        inet6.extend_from_slice(&v6("2001:db8::42"));
        inet6.extend_from_slice(&[7, 7, 7, 7]); // scope id
        let mut inet6_be = inet6.clone();
        inet6_be[..2].copy_from_slice(&[0, 10]);
        let path = sun(b"/tmp/s\0junk");
        let long_path = sun(b"/tmp/sock");
        let abs = sun(b"\0ab\0cd");
        let abs_end = sun(b"\0ab");
        let unnamed = sun(b"");
        let nul = sun(b"\0");
        let nul_nul = sun(b"\0\0x");
        let unix_be = [0u8, 1, b'/', b'x'];
        let netlink = [16u8, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0];
        let unspec = [0u8; 16];
        let v4_53 = SockAddr::Inet {
            addr: [1, 2, 3, 4],
            port: 53,
        };
        let v4_8080 = SockAddr::Inet {
            addr: [10, 0, 0, 1],
            port: 8080,
        };
        let v6_443 = SockAddr::Inet6 {
            addr: v6("2001:db8::42"),
            port: 443,
        };
        let trunc = |family, len, need| Err(E::SockaddrTruncated { family, len, need });
        type Want = Result<RawSockAddr<'static>, AddrError>;
        let table: &[(&[u8], usize, Endian, Want)] = &[
            (&inet_le, 16, L, ok(v4_53)),
            (&inet_le, 8, L, ok(v4_53)),
            (&inet_le, 7, L, trunc(AF_INET, 7, 8)),
            (&inet_le, 16, B, ok(SockAddr::Other { family: 0x0200 })),
            (&inet_be, 16, B, ok(v4_8080)),
            (&inet_be, 16, L, ok(SockAddr::Other { family: 0x0200 })),
            // A length that lies (bigger than what could be read) is bounded by the buffer.
            (&inet_le, 1000, L, ok(v4_53)),
            (&inet_le[..5], 16, L, trunc(AF_INET, 5, 8)),
            (&inet6, 28, L, ok(v6_443)),
            (&inet6, 24, L, ok(v6_443)),
            (&inet6, 23, L, trunc(AF_INET6, 23, 24)),
            (&inet6, 4, L, trunc(AF_INET6, 4, 24)),
            (&inet6_be, 28, B, ok(v6_443)),
            (&inet6_be, 28, L, ok(SockAddr::Other { family: 0x0a00 })),
            (&path, path.len(), L, Ok(RawSockAddr::UnixPath(b"/tmp/s"))),
            (
                &long_path,
                long_path.len(),
                L,
                Ok(RawSockAddr::UnixPath(b"/tmp/sock")),
            ),
            (&long_path, 6, L, Ok(RawSockAddr::UnixPath(b"/tmp"))),
            (&long_path, 500, L, Ok(RawSockAddr::UnixPath(b"/tmp/sock"))),
            (&unix_be, 4, B, Ok(RawSockAddr::UnixPath(b"/x"))),
            (&unix_be, 4, L, ok(SockAddr::Other { family: 0x0100 })),
            (&abs, abs.len(), L, ok(SockAddr::UnixAbstract(b"ab"))),
            (
                &abs_end,
                abs_end.len(),
                L,
                ok(SockAddr::UnixAbstract(b"ab")),
            ),
            (&abs, 4, L, ok(SockAddr::UnixAbstract(b"a"))),
            (&abs, 3, L, ok(SockAddr::Unnamed)),
            (&unnamed, 2, L, ok(SockAddr::Unnamed)),
            (&nul, 3, L, ok(SockAddr::Unnamed)),
            (&nul_nul, nul_nul.len(), L, ok(SockAddr::Unnamed)),
            (&netlink, 12, L, ok(SockAddr::Other { family: 16 })),
            (&unspec, 16, L, ok(SockAddr::Other { family: 0 })),
            (&unspec, 2, B, ok(SockAddr::Other { family: 0 })),
            (&inet_le, 1, L, Err(E::SockaddrTooShort { len: 1 })),
            (&inet_le, 0, L, Err(E::SockaddrTooShort { len: 0 })),
            (&inet_le[..1], 100, L, Err(E::SockaddrTooShort { len: 1 })),
            (&[], 16, B, Err(E::SockaddrTooShort { len: 0 })),
        ];
        for (i, &(buf, len, order, want)) in table.iter().enumerate() {
            let got = parse_sockaddr(buf, len, order);
            assert_eq!(got, want, "row {i}: {buf:?} len {len} {order:?}");
        }
        // A decoded address matches the pattern it was meant for.
        let Ok(RawSockAddr::Addr(a)) = parse_sockaddr(&inet_be, 16, B) else {
            panic!("inet_be does not decode");
        };
        assert!(matches("LOCAL@http-alt", &a));
        assert_eq!(a.family(), AF_INET);
        assert_eq!(SockAddr::Unnamed.family(), AF_UNIX);
        assert_eq!(SockAddr::Other { family: 38 }.family(), 38);
    }

    #[test]
    fn sockaddr_report_text() {
        let table: &[(SockAddr<'_>, &str)] = &[
            (sock("8.8.8.8", 53), "inet:8.8.8.8@53"),
            (sock("0.0.0.0", 0), "inet:0.0.0.0@0"),
            (sock("::1", 80), "inet6:::1@80"),
            (
                sock("2001:DB8::A:0:0:0", 65535),
                "inet6:2001:db8:0:0:a::@65535",
            ),
            (
                sock("::ffff:127.0.0.1", 9050),
                "inet6:::ffff:127.0.0.1@9050",
            ),
            (SockAddr::Unix(b"/run/a b.sock"), "unix:/run/a b.sock"),
            (
                SockAddr::Unix(b"/x\n/y\x7f\x1b[0m"),
                "unix:/x\\x0a/y\\x7f\\x1b[0m",
            ),
            (
                SockAddr::Unix(b"/\xff\xfe\xc3\xa9"),
                "unix:/\\xff\\xfe\u{e9}",
            ),
            (SockAddr::Unix("/\u{85}".as_bytes()), "unix:/\\xc2\\x85"),
            (SockAddr::UnixAbstract(b"dbus-1"), "unix-abstract:dbus-1"),
            (SockAddr::Unnamed, "unix-abstract:"),
            (SockAddr::Other { family: 16 }, "?:AF_NETLINK"),
            (SockAddr::Other { family: 0 }, "?:AF_UNSPEC"),
            (SockAddr::Other { family: 45 }, "?:AF_???"),
        ];
        for (addr, want) in table {
            assert_eq!(addr.to_string(), *want, "{addr:?}");
        }
    }

    /// §4.4's list, as written in SPEC, against the table.
    #[test]
    fn family_names() {
        const SPEC_LIST: &str = "0 AF_UNSPEC, 1 AF_UNIX, 2 AF_INET, 3 AF_AX25, 4 AF_IPX, 5 AF_APPLETALK, \
            6 AF_NETROM, 7 AF_BRIDGE, 8 AF_ATMPVC, 9 AF_X25, 10 AF_INET6, 11 AF_ROSE, 12 AF_DECnet, \
            13 AF_NETBEUI, 14 AF_SECURITY, 15 AF_KEY, 16 AF_NETLINK, 17 AF_PACKET, 18 AF_ASH, \
            19 AF_ECONET, 20 AF_ATMSVC, 21 AF_RDS, 22 AF_SNA, 23 AF_IRDA, 24 AF_PPPOX, 25 AF_WANPIPE, \
            26 AF_LLC, 27 AF_IB, 28 AF_MPLS, 29 AF_CAN, 30 AF_TIPC, 31 AF_BLUETOOTH, 32 AF_IUCV, \
            33 AF_RXRPC, 34 AF_ISDN, 35 AF_PHONET, 36 AF_IEEE802154, 37 AF_CAIF, 38 AF_ALG, 39 AF_NFC, \
            40 AF_VSOCK, 41 AF_KCM, 42 AF_QIPCRTR, 43 AF_SMC, 44 AF_XDP";
        let mut count = 0;
        for entry in SPEC_LIST.split(", ") {
            let (num, name) = entry.split_once(' ').unwrap();
            assert_eq!(family_name(num.parse().unwrap()), name);
            count += 1;
        }
        assert_eq!(count, FAMILY_NAMES.len());
        for family in [45, 46, 255, 1000, u16::MAX] {
            assert_eq!(family_name(family), "AF_???");
        }
    }

    /// MAX_ALIAS_EXPANSION: N patterns fit, N+1 is an error naming the limit.
    #[test]
    fn expansion_limit() {
        let mut e = Expanded::new();
        for _ in 0..MAX_ALIAS_EXPANSION {
            assert_eq!(e.push(AddrPattern::Unix(b"x")), Ok(()));
        }
        assert_eq!(e.len(), MAX_ALIAS_EXPANSION);
        assert_eq!(
            e.push(AddrPattern::Unix(b"x")),
            Err(AddrError::TooManyPatterns {
                limit: MAX_ALIAS_EXPANSION
            })
        );
        assert_eq!(e.len(), MAX_ALIAS_EXPANSION);
        assert!(!e.is_empty() && Expanded::new().is_empty());
        assert_eq!((&e).into_iter().count(), MAX_ALIAS_EXPANSION);
    }

    #[test]
    fn port_range() {
        let r = PortRange {
            first: 10,
            last: 20,
        };
        for (port, want) in [(9, false), (10, true), (15, true), (20, true), (21, false)] {
            assert_eq!(r.contains(port), want, "{port}");
        }
        assert!(!PortRange { first: 5, last: 4 }.contains(4));
        assert!(!PortRange { first: 5, last: 4 }.contains(5));
        assert_eq!(r.to_string(), "10-20");
        assert_eq!(PortRange { first: 7, last: 7 }.to_string(), "7");
    }
}
