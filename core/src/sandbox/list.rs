//! Ordered rule lists in fixed-capacity pools: path patterns and address patterns.
//!
//! A list keeps its rules in insertion order and the text of its patterns in one byte pool, so a
//! list never allocates and its size is known at compile time. Removing a rule compacts the pool.

use core::fmt;

use crate::addr::{AddrPattern, Case, PortRange, SockAddr};
use crate::limits::{MAX_LIST_RULES, MAX_LIST_TEXT};
use crate::wildmatch::{wildmatch, wildmatch_casefold};

/// What a matching rule decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An allowlist entry: a match allows.
    Allow,
    /// A denylist entry: a match denies.
    Deny,
}

/// A list that is full: names the list and the limit that was hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Full {
    /// Which limit: `"rules"` or `"pattern bytes"`.
    pub what: &'static str,
    /// The limit's value.
    pub limit: usize,
}

impl fmt::Display for Full {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "list full: at most {} {}", self.limit, self.what)
    }
}

/// A span of bytes in a list's text pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    start: u16,
    len: u16,
}

/// The byte pool shared by the rules of one list.
#[derive(Clone)]
struct Pool {
    bytes: heapless::Vec<u8, MAX_LIST_TEXT>,
}

// MAX_LIST_TEXT must fit the u16 offsets of `Span`.
const _: () = assert!(MAX_LIST_TEXT <= u16::MAX as usize);

impl Pool {
    const fn new() -> Self {
        Pool {
            bytes: heapless::Vec::new(),
        }
    }

    fn get(&self, span: Span) -> &[u8] {
        let start = usize::from(span.start);
        self.bytes
            .get(start..start + usize::from(span.len))
            .unwrap_or(&[])
    }

    /// Stores `parts` concatenated and returns their span.
    fn push(&mut self, parts: &[&[u8]]) -> Result<Span, Full> {
        let full = Full {
            what: "pattern bytes",
            limit: MAX_LIST_TEXT,
        };
        let start = self.bytes.len();
        for part in parts {
            if self.bytes.extend_from_slice(part).is_err() {
                self.bytes.truncate(start);
                return Err(full);
            }
        }
        // Both fit in u16: the pool holds at most MAX_LIST_TEXT <= u16::MAX bytes.
        let len = u16::try_from(self.bytes.len() - start).map_err(|_| full)?;
        let start = u16::try_from(start).map_err(|_| full)?;
        Ok(Span { start, len })
    }

    /// Removes the bytes of `span`; spans after it must be shifted with `shift`.
    fn remove(&mut self, span: Span) {
        let start = usize::from(span.start);
        let len = usize::from(span.len);
        let total = self.bytes.len();
        if start + len > total {
            return;
        }
        self.bytes.copy_within(start + len..total, start);
        self.bytes.truncate(total - len);
    }

    fn shift(removed: Span, span: &mut Span) {
        if span.start > removed.start {
            span.start -= removed.len;
        }
    }
}

/// One rule of a path list.
#[derive(Clone, Copy, Debug)]
struct PathRule {
    kind: Kind,
    text: Span,
}

/// How many bytes of a pattern's literal prefix [`head_admits`] compares.
const HEAD: usize = 4;

/// Whether `path` agrees with the first bytes of `pattern`'s literal prefix (before its first
/// `*`, `?`, `[` or `\`, at most [`HEAD`]) on every byte both have, in the list's case; a path
/// shorter than that is left to the matcher (`/a/***` matches `/a`). A literal matches only
/// itself, so a rule refused here cannot match: the matcher would refuse it the same way (its
/// own literal-prefix test), only later and at the cost of a call. With hundreds of rules, most
/// are refused here.
#[inline]
fn head_admits(pattern: &[u8], path: &[u8], case: Case) -> bool {
    for (&b, &c) in pattern.iter().zip(path).take(HEAD) {
        if matches!(b, b'*' | b'?' | b'[' | b'\\') {
            return true;
        }
        if b != c && !(case == Case::Insensitive && b.eq_ignore_ascii_case(&c)) {
            return false;
        }
    }
    true
}

/// Patterns that match every absolute path, whatever the case setting: `**` matches any
/// string, `/` and all (rsync's wildmatch; a trailing `/***` also matches the bare prefix).
pub const MATCH_ALL: [&[u8]; 2] = [b"/***", b"/**"];

/// An ordered list of path patterns, each an allow or a deny rule.
///
/// Limits: [`MAX_LIST_RULES`] rules and [`MAX_LIST_TEXT`] bytes of pattern text.
#[derive(Clone)]
pub struct PathList {
    rules: heapless::Vec<PathRule, MAX_LIST_RULES>,
    pool: Pool,
    /// What [`Self::allows_every_path`] answers, kept up to date by every change of the rules
    /// (the supervisor asks at nearly every notification): `Some(true)` when the last rule
    /// matching every path allows and no deny rule follows it, `Some(false)` after a deny
    /// rule, `None` while neither (the answer is then the state's default).
    every: Option<bool>,
}

impl Default for PathList {
    fn default() -> Self {
        Self::new()
    }
}

impl PathList {
    /// An empty list.
    pub const fn new() -> Self {
        PathList {
            rules: heapless::Vec::new(),
            pool: Pool::new(),
            every: None,
        }
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether the list has no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Appends a rule whose pattern is `parts` concatenated. Errors when a limit is hit.
    pub fn push(&mut self, kind: Kind, parts: &[&[u8]]) -> Result<(), Full> {
        if self.rules.is_full() {
            return Err(Full {
                what: "rules",
                limit: MAX_LIST_RULES,
            });
        }
        let text = self.pool.push(parts)?;
        // Cannot fail: fullness was checked above.
        let _ = self.rules.push(PathRule { kind, text });
        self.every = Self::every_after(self.every, kind, self.pool.get(text));
        Ok(())
    }

    /// Checks that `rules` more rules with `text` more pattern bytes would fit.
    pub fn reserve_check(&self, rules: usize, text: usize) -> Result<(), Full> {
        reserve_check(self.rules.len(), self.pool.bytes.len(), rules, text)
    }

    /// Removes the first rule of `kind` whose pattern is exactly `pattern`. Returns whether one was
    /// found.
    pub fn remove(&mut self, kind: Kind, pattern: &[u8]) -> bool {
        let pos = self
            .rules
            .iter()
            .position(|r| r.kind == kind && self.pool.get(r.text) == pattern);
        let Some(pos) = pos else { return false };
        let removed = self.rules.remove(pos);
        self.pool.remove(removed.text);
        for r in self.rules.iter_mut() {
            Pool::shift(removed.text, &mut r.text);
        }
        self.every = self.rules.iter().fold(None, |e, r| {
            Self::every_after(e, r.kind, self.pool.get(r.text))
        });
        true
    }

    /// [`Self::every`] once a rule of `kind` with `pattern` follows the rules that gave `every`.
    fn every_after(every: Option<bool>, kind: Kind, pattern: &[u8]) -> Option<bool> {
        match kind {
            Kind::Deny => Some(false),
            Kind::Allow if MATCH_ALL.contains(&pattern) => Some(true),
            Kind::Allow => every,
        }
    }

    /// The kind of the last rule whose pattern matches `path`, if any (last match wins).
    pub fn last_match(&self, path: &[u8], case: Case) -> Option<Kind> {
        self.rules
            .iter()
            .rev()
            .find(|r| {
                let pattern = self.pool.get(r.text);
                head_admits(pattern, path, case) && path_matches(pattern, path, case)
            })
            .map(|r| r.kind)
    }

    /// Whether every absolute path gets the verdict allow from this list: its last rule that
    /// matches every path ([`MATCH_ALL`]) allows and no deny rule follows it; without such a
    /// rule, when no rule denies and a path no rule matches is allowed (`default_allow`).
    pub fn allows_every_path(&self, default_allow: bool) -> bool {
        self.every.unwrap_or(default_allow)
    }

    /// The pattern of the first rule that matches `path`, if any.
    pub fn first_match(&self, path: &[u8], case: Case) -> Option<&[u8]> {
        self.iter()
            .map(|(_, p)| p)
            .find(|p| path_matches(p, path, case))
    }

    /// The rules in order, as (kind, pattern).
    pub fn iter(&self) -> impl Iterator<Item = (Kind, &[u8])> + '_ {
        self.rules.iter().map(|r| (r.kind, self.pool.get(r.text)))
    }
}

fn reserve_check(
    rules: usize,
    bytes: usize,
    more_rules: usize,
    more_bytes: usize,
) -> Result<(), Full> {
    if rules + more_rules > MAX_LIST_RULES {
        return Err(Full {
            what: "rules",
            limit: MAX_LIST_RULES,
        });
    }
    if bytes + more_bytes > MAX_LIST_TEXT {
        return Err(Full {
            what: "pattern bytes",
            limit: MAX_LIST_TEXT,
        });
    }
    Ok(())
}

fn path_matches(pattern: &[u8], path: &[u8], case: Case) -> bool {
    if case == Case::Insensitive {
        wildmatch_casefold(pattern, path)
    } else {
        wildmatch(pattern, path)
    }
}

/// An address pattern as stored: the text of unix patterns lives in the list's pool.
#[derive(Clone, Copy, Debug)]
enum StoredAddr {
    Unix(Span),
    UnixAbstract(Span),
    Inet {
        addr: [u8; 4],
        mask: u8,
        ports: PortRange,
    },
    Inet6 {
        addr: [u8; 16],
        mask: u8,
        ports: PortRange,
    },
}

/// One rule of an address list.
#[derive(Clone, Copy, Debug)]
struct AddrRule {
    kind: Kind,
    addr: StoredAddr,
}

/// An ordered list of address patterns, each an allow or a deny rule.
///
/// Limits: [`MAX_LIST_RULES`] rules and [`MAX_LIST_TEXT`] bytes of unix pattern text.
#[derive(Clone)]
pub struct AddrList {
    rules: heapless::Vec<AddrRule, MAX_LIST_RULES>,
    pool: Pool,
}

impl Default for AddrList {
    fn default() -> Self {
        Self::new()
    }
}

impl AddrList {
    /// An empty list.
    pub const fn new() -> Self {
        AddrList {
            rules: heapless::Vec::new(),
            pool: Pool::new(),
        }
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether the list has no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Appends a rule. Errors when a limit is hit.
    pub fn push(&mut self, kind: Kind, pattern: &AddrPattern<'_>) -> Result<(), Full> {
        if self.rules.is_full() {
            return Err(Full {
                what: "rules",
                limit: MAX_LIST_RULES,
            });
        }
        let addr = match *pattern {
            AddrPattern::Unix(text) => StoredAddr::Unix(self.pool.push(&[text])?),
            AddrPattern::UnixAbstract(text) => StoredAddr::UnixAbstract(self.pool.push(&[text])?),
            AddrPattern::Inet { addr, mask, ports } => StoredAddr::Inet { addr, mask, ports },
            AddrPattern::Inet6 { addr, mask, ports } => StoredAddr::Inet6 { addr, mask, ports },
        };
        // Cannot fail: fullness was checked above.
        let _ = self.rules.push(AddrRule { kind, addr });
        Ok(())
    }

    /// Checks that `rules` more rules with `text` more unix pattern bytes would fit.
    pub fn reserve_check(&self, rules: usize, text: usize) -> Result<(), Full> {
        reserve_check(self.rules.len(), self.pool.bytes.len(), rules, text)
    }

    fn pattern(&self, addr: &StoredAddr) -> AddrPattern<'_> {
        match *addr {
            StoredAddr::Unix(span) => AddrPattern::Unix(self.pool.get(span)),
            StoredAddr::UnixAbstract(span) => AddrPattern::UnixAbstract(self.pool.get(span)),
            StoredAddr::Inet { addr, mask, ports } => AddrPattern::Inet { addr, mask, ports },
            StoredAddr::Inet6 { addr, mask, ports } => AddrPattern::Inet6 { addr, mask, ports },
        }
    }

    /// Removes the first rule of `kind` equal to `pattern`. Returns whether one was found.
    pub fn remove(&mut self, kind: Kind, pattern: &AddrPattern<'_>) -> bool {
        let pos = self
            .rules
            .iter()
            .position(|r| r.kind == kind && self.pattern(&r.addr) == *pattern);
        let Some(pos) = pos else { return false };
        let removed = self.rules.remove(pos);
        let span = match removed.addr {
            StoredAddr::Unix(span) | StoredAddr::UnixAbstract(span) => span,
            StoredAddr::Inet { .. } | StoredAddr::Inet6 { .. } => return true,
        };
        self.pool.remove(span);
        for r in self.rules.iter_mut() {
            if let StoredAddr::Unix(s) | StoredAddr::UnixAbstract(s) = &mut r.addr {
                Pool::shift(span, s);
            }
        }
        true
    }

    /// Whether the list holds a rule of `kind` equal to `pattern`.
    pub fn contains(&self, kind: Kind, pattern: &AddrPattern<'_>) -> bool {
        self.rules
            .iter()
            .any(|r| r.kind == kind && self.pattern(&r.addr) == *pattern)
    }

    /// The kind of the last rule that matches `addr`, if any (last match wins).
    pub fn last_match(&self, addr: &SockAddr<'_>, case: Case) -> Option<Kind> {
        self.rules
            .iter()
            .rev()
            .find(|r| self.pattern(&r.addr).matches(addr, case))
            .map(|r| r.kind)
    }

    /// The rules in order, as (kind, pattern).
    pub fn iter(&self) -> impl Iterator<Item = (Kind, AddrPattern<'_>)> + '_ {
        self.rules.iter().map(|r| (r.kind, self.pattern(&r.addr)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATHS: [&[u8]; 9] = [
        b"/",
        b"/a",
        b"/.hidden",
        b"/etc/passwd",
        b"/a/b/c/d/e/f",
        b"/proc/1/fd/3",
        b"//",
        b"/a b/[x]*?",
        b"/\xff/..",
    ];

    /// What `last_match` must say: the last rule whose pattern matches, by the matcher alone.
    fn naive(l: &PathList, path: &[u8], case: Case) -> Option<Kind> {
        let rules: std::vec::Vec<_> = l.iter().collect();
        rules
            .into_iter()
            .rev()
            .find(|(_, p)| path_matches(p, path, case))
            .map(|(k, _)| k)
    }

    #[test]
    fn heads_refuse_only_what_the_matcher_refuses() {
        let patterns: [&[u8]; 16] = [
            b"/a/***",
            b"/a",
            b"/ab/**",
            b"/AB/c",
            b"/a*",
            b"/[ab]/x",
            b"/\\*x",
            b"?a",
            b"/abcdef/**",
            b"/abcd",
            b"/abc",
            b"",
            b"/",
            b"/x/../a",
            b"**",
            b"/A/***",
        ];
        let paths: [&[u8]; 12] = [
            b"/a",
            b"/A",
            b"/ab",
            b"/ab/x",
            b"/AB/c",
            b"/ab/c",
            b"/abcd",
            b"/abcdef/g",
            b"/*x",
            b"/b/x",
            b"/",
            b"",
        ];
        // Every pattern alone, and all of them in one list, each kind.
        for case in [Case::Sensitive, Case::Insensitive] {
            for (i, p) in patterns.iter().enumerate() {
                let mut l = PathList::new();
                l.push(Kind::Allow, &[p]).unwrap();
                for path in paths {
                    assert_eq!(
                        l.last_match(path, case),
                        naive(&l, path, case),
                        "{p:?} {path:?}"
                    );
                }
                let mut all = PathList::new();
                for (j, q) in patterns.iter().enumerate() {
                    let kind = if (i + j) % 2 == 0 {
                        Kind::Allow
                    } else {
                        Kind::Deny
                    };
                    all.push(kind, &[q]).unwrap();
                }
                for path in paths {
                    assert_eq!(
                        all.last_match(path, case),
                        naive(&all, path, case),
                        "{path:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn match_all_patterns_match_every_path() {
        for p in MATCH_ALL {
            for path in PATHS {
                assert!(path_matches(p, path, Case::Sensitive), "{p:?} {path:?}");
                assert!(path_matches(p, path, Case::Insensitive), "{p:?} {path:?}");
            }
        }
    }

    #[test]
    fn allows_every_path_only_when_no_path_can_be_denied() {
        let list = |rules: &[(Kind, &[u8])]| {
            let mut l = PathList::new();
            for (k, p) in rules {
                l.push(*k, &[p]).unwrap();
            }
            l
        };
        let (a, d) = (Kind::Allow, Kind::Deny);
        // (rules, default allow, expected)
        type Rules<'a> = &'a [(Kind, &'a [u8])];
        let cases: [(Rules, bool, bool); 9] = [
            (&[], false, false),
            (&[], true, true),
            (&[(a, b"/***")], false, true),
            (&[(a, b"/**")], false, true),
            (&[(a, b"/tmp/***")], false, false),
            (&[(a, b"/tmp/***")], true, true),
            (&[(a, b"/***"), (d, b"/etc/shadow")], false, false),
            (
                &[(d, b"/etc/shadow"), (a, b"/***"), (a, b"/x")],
                false,
                true,
            ),
            (&[(a, b"/***"), (d, b"/***")], true, false),
        ];
        // The answer follows removals too.
        let mut l = list(&[(a, b"/***"), (d, b"/etc/shadow"), (a, b"/x")]);
        assert!(!l.allows_every_path(false));
        assert!(l.remove(d, b"/etc/shadow"));
        assert!(l.allows_every_path(false));
        assert!(l.remove(a, b"/***"));
        assert!(!l.allows_every_path(false) && l.allows_every_path(true));
        for (rules, default, want) in cases {
            let l = list(rules);
            assert_eq!(l.allows_every_path(default), want, "{rules:?} {default}");
            if want {
                // The claim holds for real: every path's verdict is allow.
                for path in PATHS {
                    let got = l.last_match(path, Case::Sensitive);
                    assert!(got == Some(Kind::Allow) || (got.is_none() && default));
                }
            }
        }
    }

    #[test]
    fn last_match_wins_and_remove_compacts() {
        let mut l = PathList::new();
        l.push(Kind::Allow, &[b"/home/**"]).unwrap();
        l.push(Kind::Deny, &[b"/home/*/.ssh/**"]).unwrap();
        l.push(Kind::Allow, &[b"/home/u/.ssh/known_hosts"]).unwrap();
        assert_eq!(
            l.last_match(b"/home/u/x", Case::Sensitive),
            Some(Kind::Allow)
        );
        assert_eq!(
            l.last_match(b"/home/u/.ssh/id_rsa", Case::Sensitive),
            Some(Kind::Deny)
        );
        assert_eq!(
            l.last_match(b"/home/u/.ssh/known_hosts", Case::Sensitive),
            Some(Kind::Allow)
        );
        assert_eq!(l.last_match(b"/etc/passwd", Case::Sensitive), None);
        // Removing the middle rule shifts the text of the rule after it.
        assert!(l.remove(Kind::Deny, b"/home/*/.ssh/**"));
        assert!(!l.remove(Kind::Deny, b"/home/*/.ssh/**"));
        assert_eq!(
            l.last_match(b"/home/u/.ssh/id_rsa", Case::Sensitive),
            Some(Kind::Allow)
        );
        let v: std::vec::Vec<_> = l.iter().map(|(k, p)| (k, p.to_vec())).collect();
        assert_eq!(
            v,
            [
                (Kind::Allow, b"/home/**".to_vec()),
                (Kind::Allow, b"/home/u/.ssh/known_hosts".to_vec())
            ]
        );
        // Kind matters for removal.
        assert!(!l.remove(Kind::Deny, b"/home/**"));
        assert!(l.remove(Kind::Allow, b"/home/**"));
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn rule_limit_is_exact() {
        let mut l = PathList::new();
        for _ in 0..MAX_LIST_RULES {
            l.push(Kind::Allow, &[b"/"]).unwrap();
        }
        assert_eq!(
            l.push(Kind::Allow, &[b"/"]),
            Err(Full {
                what: "rules",
                limit: MAX_LIST_RULES
            })
        );
    }

    #[test]
    fn text_limit_is_exact() {
        let mut l = PathList::new();
        let chunk = [b'a'; 64];
        for _ in 0..MAX_LIST_TEXT / 64 {
            l.push(Kind::Allow, &[&chunk]).unwrap();
        }
        let err = l.push(Kind::Allow, &[b"x"]).unwrap_err();
        assert_eq!(err.limit, MAX_LIST_TEXT);
        // A failed push leaves the list unchanged.
        assert_eq!(l.len(), MAX_LIST_TEXT / 64);
        assert!(l.remove(Kind::Allow, &chunk));
        l.push(Kind::Allow, &[b"x"]).unwrap();
    }
}
