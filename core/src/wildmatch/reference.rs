//! Test oracle for [`wildmatch`](super::wildmatch): plain recursive backtracking, written
//! straight from the rules of SPEC §3.1 and independently of the real matcher.
//!
//! Exponential in the worst case and recursive as deep as the pattern is long: use it only on
//! short inputs, to cross-check the real matcher in tests and fuzz targets (feature `reference`).

use crate::limits::MAX_PATTERN_LEN;

/// Reference answer for [`wildmatch`](super::wildmatch): whether `pattern` matches all of `text`.
///
/// Malformed patterns and patterns longer than `MAX_PATTERN_LEN` match nothing. Exponential
/// time: keep inputs short.
#[must_use]
pub fn wildmatch(pattern: &[u8], text: &[u8]) -> bool {
    pattern.len() <= MAX_PATTERN_LEN && split_matches(pattern, text, false)
}

/// Reference answer for [`wildmatch_casefold`](super::wildmatch_casefold): ASCII letters of
/// pattern and text match either case. Same limits as [`wildmatch`].
#[must_use]
pub fn wildmatch_casefold(pattern: &[u8], text: &[u8]) -> bool {
    pattern.len() <= MAX_PATTERN_LEN && split_matches(pattern, text, true)
}

/// `dir/***` means `dir` or `dir/**`, split on the text of the pattern as SPEC §3.2 does.
fn split_matches(pattern: &[u8], text: &[u8], fold: bool) -> bool {
    if let Some(dir) = pattern.strip_suffix(b"/***") {
        let below = pattern.get(..pattern.len() - 1).unwrap_or_default();
        return matches(dir, text, fold) == Outcome::Match
            || matches(below, text, fold) == Outcome::Match;
    }
    matches(pattern, text, fold) == Outcome::Match
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Outcome {
    Match,
    NoMatch,
    /// The pattern is malformed: nothing can match, stop searching.
    Abort,
}

fn other_case(c: u8) -> u8 {
    if c.is_ascii_uppercase() {
        c + 32
    } else if c.is_ascii_lowercase() {
        c - 32
    } else {
        c
    }
}

/// Whether `c` (or, folding, its other case) satisfies `test`.
fn either_case(c: u8, fold: bool, test: impl Fn(u8) -> bool) -> bool {
    test(c) || (fold && test(other_case(c)))
}

fn in_class(name: &[u8], c: u8) -> Option<bool> {
    let upper = c.is_ascii_uppercase();
    let lower = c.is_ascii_lowercase();
    let digit = c.is_ascii_digit();
    let graph = (0x21..=0x7e).contains(&c);
    Some(match name {
        b"alnum" => upper || lower || digit,
        b"alpha" => upper || lower,
        b"blank" => c == b' ' || c == b'\t',
        b"cntrl" => c < 0x20 || c == 0x7f,
        b"digit" => digit,
        b"graph" => graph,
        b"lower" => lower,
        b"print" => graph || c == b' ',
        b"punct" => graph && !(upper || lower || digit),
        b"space" => c == b' ' || (0x09..=0x0d).contains(&c),
        b"upper" => upper,
        b"xdigit" => digit || (b'a'..=b'f').contains(&c) || (b'A'..=b'F').contains(&c),
        _ => return None,
    })
}

/// Reads the bracket set `body` (what follows the `[`) against byte `c`.
///
/// Returns `None` for a malformed set, else whether `c` is accepted (negation applied, `/`
/// not yet excluded) and the pattern after the closing `]`.
fn bracket(body: &[u8], c: u8, fold: bool) -> Option<(bool, &[u8])> {
    let (negated, mut rest) = match body {
        [b'!' | b'^', after @ ..] => (true, after),
        _ => (false, body),
    };
    let mut hit = false;
    let mut range_start: Option<u8> = None;
    let mut at_start = true;
    loop {
        match rest {
            [] | [b'\\'] => return None,
            [b']', after @ ..] if !at_start => return Some((hit != negated, after)),
            [b'\\', x, after @ ..] => {
                hit |= either_case(c, fold, |d| d == *x);
                range_start = Some(*x);
                rest = after;
            }
            [b'-', hi, after @ ..] if range_start.is_some() && *hi != b']' => {
                let (hi, after) = match (hi, after) {
                    (b'\\', [x, more @ ..]) => (*x, more),
                    (b'\\', []) => return None,
                    _ => (*hi, after),
                };
                let lo = range_start.unwrap_or(0);
                hit |= either_case(c, fold, |d| lo <= d && d <= hi);
                range_start = None;
                rest = after;
            }
            [b'[', b':', after @ ..] => {
                let close = after.iter().position(|&b| b == b']')?;
                match after.split_at_checked(close)? {
                    ([name @ .., b':'], [_, more @ ..]) => {
                        in_class(name, 0)?;
                        hit |= either_case(c, fold, |d| in_class(name, d) == Some(true));
                        range_start = None;
                        rest = more;
                    }
                    _ => {
                        hit |= either_case(c, fold, |d| d == b'[');
                        range_start = Some(b'[');
                        rest = rest.get(1..).unwrap_or_default();
                    }
                }
            }
            [x, after @ ..] => {
                hit |= either_case(c, fold, |d| d == *x);
                range_start = Some(*x);
                rest = after;
            }
        }
        at_start = false;
    }
}

fn matches(p: &[u8], t: &[u8], fold: bool) -> Outcome {
    if let [b'*', ..] = p {
        let stars = p.iter().take_while(|&&b| b == b'*').count();
        let rest = p.get(stars..).unwrap_or_default();
        let crosses_slash = stars >= 2;
        if rest.is_empty() {
            return if crosses_slash || !t.contains(&b'/') {
                Outcome::Match
            } else {
                Outcome::NoMatch
            };
        }
        // Let the stars eat 0, 1, 2, ... bytes of the text.
        for eaten in 0..=t.len() {
            let outcome = matches(rest, t.get(eaten..).unwrap_or_default(), fold);
            if outcome != Outcome::NoMatch {
                return outcome;
            }
            if !crosses_slash && t.get(eaten) == Some(&b'/') {
                break;
            }
        }
        return Outcome::NoMatch;
    }
    if p.is_empty() {
        return if t.is_empty() {
            Outcome::Match
        } else {
            Outcome::NoMatch
        };
    }
    let [c, t_rest @ ..] = t else {
        return Outcome::NoMatch;
    };
    let c = *c;
    let (ok, p_rest) = match p {
        [b'?', after @ ..] => (c != b'/', after),
        [b'[', body @ ..] => match bracket(body, c, fold) {
            Some((accepted, after)) => (accepted && c != b'/', after),
            None => return Outcome::Abort,
        },
        [b'\\'] => return Outcome::Abort,
        [b'\\', x, after @ ..] | [x, after @ ..] => (either_case(c, fold, |d| d == *x), after),
        [] => return Outcome::NoMatch,
    };
    if ok {
        matches(p_rest, t_rest, fold)
    } else {
        Outcome::NoMatch
    }
}
