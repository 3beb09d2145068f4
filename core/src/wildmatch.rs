//! rsync-style wildmatch (SPEC §3.1): the matcher behind every path list.
//!
//! Patterns match the whole text (anchored at both ends), byte by byte, with no locale:
//! `?` is one byte other than `/`, `*` any run without `/`, `**` (or more stars) any run,
//! `[set]`/`[!set]`/`[^set]` one byte in or not in the set (never `/`), `\c` the byte `c`.
//! Sets hold bytes, ranges `a-z` and ASCII classes `[:alpha:]`; an unterminated set, an unknown
//! class or a lone trailing `\` make the whole pattern match nothing.
//!
//! A pattern ending in the bytes `/***` also matches the directory itself: `/a/***` matches
//! `/a`, `/a/` and everything under `/a/`, but not `/ab`. It is exactly the same as matching
//! either `/a` or `/a/**`, the split that SPEC §3.2 makes on the text of a pattern added to a
//! list (so `x\/***` only means `x\/**`: its directory part `x\` is malformed). `***` anywhere
//! else is `**`.
//!
//! Work is bounded: the pattern runs as an NFA whose states are pattern offsets, kept in a
//! fixed bitset, so a match costs O(pattern length × text length) time and constant memory,
//! whatever the pattern (no backtracking, no recursion). Patterns longer than
//! [`MAX_PATTERN_LEN`] bytes never match, so the layer that stores patterns should refuse them;
//! texts may be any length.

use crate::limits::MAX_PATTERN_LEN;

#[cfg(any(test, feature = "reference"))]
pub mod reference;

/// Returns whether `pattern` matches all of `text`, byte for byte (SPEC §3.1).
///
/// A malformed pattern (an unterminated `[` set, an unknown `[:class:]`, a lone trailing `\`)
/// matches nothing, and so does a pattern longer than [`MAX_PATTERN_LEN`] bytes. Never panics;
/// runs in O(`pattern.len()` × `text.len()`) time with fixed memory.
#[must_use]
pub fn wildmatch(pattern: &[u8], text: &[u8]) -> bool {
    run(pattern, text, Case::Sensitive)
}

/// Like [`wildmatch`], but ASCII letters match either case (SPEC §3.3, "fold both").
///
/// Both pattern and text are folded: a literal letter matches either case, and a byte matches
/// a set (byte, range or class) when it or its other-case form is a member, before any `!`/`^`
/// negation. Bytes outside ASCII are never folded. Same limits as [`wildmatch`].
#[must_use]
pub fn wildmatch_casefold(pattern: &[u8], text: &[u8]) -> bool {
    run(pattern, text, Case::Fold)
}

/// Whether letters compare exactly or ASCII case-insensitively.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Case {
    Sensitive,
    Fold,
}

/// The pattern is malformed and can match nothing.
struct Malformed;

/// One element of a bracket set.
#[derive(Clone, Copy)]
enum Item {
    Byte(u8),
    Range(u8, u8),
    Class(Class),
}

/// The `[:name:]` classes of a bracket set, with ASCII (C locale) semantics.
#[derive(Clone, Copy)]
enum Class {
    Alnum,
    Alpha,
    Blank,
    Cntrl,
    Digit,
    Graph,
    Lower,
    Print,
    Punct,
    Space,
    Upper,
    Xdigit,
}

impl Class {
    fn named(name: &[u8]) -> Option<Self> {
        Some(match name {
            b"alnum" => Self::Alnum,
            b"alpha" => Self::Alpha,
            b"blank" => Self::Blank,
            b"cntrl" => Self::Cntrl,
            b"digit" => Self::Digit,
            b"graph" => Self::Graph,
            b"lower" => Self::Lower,
            b"print" => Self::Print,
            b"punct" => Self::Punct,
            b"space" => Self::Space,
            b"upper" => Self::Upper,
            b"xdigit" => Self::Xdigit,
            _ => return None,
        })
    }

    fn contains(self, c: u8) -> bool {
        match self {
            Self::Alnum => c.is_ascii_alphanumeric(),
            Self::Alpha => c.is_ascii_alphabetic(),
            Self::Blank => matches!(c, b' ' | b'\t'),
            Self::Cntrl => c.is_ascii_control(),
            Self::Digit => c.is_ascii_digit(),
            Self::Graph => c.is_ascii_graphic(),
            Self::Lower => c.is_ascii_lowercase(),
            Self::Print => matches!(c, b' '..=b'~'),
            Self::Punct => c.is_ascii_punctuation(),
            // C's isspace() includes \v (0x0b), which u8::is_ascii_whitespace() leaves out.
            Self::Space => matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'),
            Self::Upper => c.is_ascii_uppercase(),
            Self::Xdigit => c.is_ascii_hexdigit(),
        }
    }
}

impl Item {
    fn contains(self, c: u8) -> bool {
        match self {
            Self::Byte(b) => b == c,
            Self::Range(lo, hi) => (lo..=hi).contains(&c),
            Self::Class(class) => class.contains(c),
        }
    }
}

/// The other case of an ASCII letter; any other byte unchanged.
fn swap_case(c: u8) -> u8 {
    if c.is_ascii_lowercase() {
        c.to_ascii_uppercase()
    } else {
        c.to_ascii_lowercase()
    }
}

fn same_byte(pattern_byte: u8, c: u8, case: Case) -> bool {
    pattern_byte == c || (case == Case::Fold && pattern_byte.eq_ignore_ascii_case(&c))
}

/// Whether a byte of the pattern's literal prefix (before its first `*`, `?`, `[` or `\`)
/// differs from the text's byte at the same place: a literal matches only itself, so the
/// pattern cannot match, and a list of hundreds of patterns is mostly refused here, without
/// the automaton. A text shorter than the prefix is left to the automaton (`/a/***` matches
/// `/a`).
fn literal_prefix_differs(p: &[u8], text: &[u8], case: Case) -> bool {
    for (&b, &c) in p.iter().zip(text) {
        if matches!(b, b'*' | b'?' | b'[' | b'\\') {
            return false;
        }
        if !same_byte(b, c, case) {
            return true;
        }
    }
    false
}

/// Parses the bracket set whose body starts at `start` (just after the `[`).
///
/// Returns whether a byte for which `member` holds for some item is accepted (negation
/// applied), and the offset just past the closing `]`. Every item is parsed even after a hit, so
/// a malformed tail is always reported.
fn scan_set(
    p: &[u8],
    start: usize,
    member: impl Fn(Item) -> bool,
) -> Result<(bool, usize), Malformed> {
    let negated = matches!(p.get(start), Some(b'!' | b'^'));
    let mut i = if negated { start + 1 } else { start };
    let mut hit = false;
    // The byte that may start a range: none at the start, after a range or after a class.
    let mut prev: Option<u8> = None;
    let mut first = true;
    loop {
        let b = *p.get(i).ok_or(Malformed)?;
        // A `]` first in the set (after any negation) is a member, not the end.
        if b == b']' && !first {
            return Ok((hit != negated, i + 1));
        }
        first = false;
        let next = p.get(i + 1).copied();
        // `-` between a previous member and anything but `]` makes a range; otherwise literal.
        let range_lo = match (b, prev, next) {
            (b'-', Some(lo), Some(n)) if n != b']' => Some(lo),
            _ => None,
        };
        let item = if let Some(lo) = range_lo {
            let (hi, len) = if next == Some(b'\\') {
                (*p.get(i + 2).ok_or(Malformed)?, 3)
            } else {
                (next.ok_or(Malformed)?, 2)
            };
            prev = None;
            i += len;
            Item::Range(lo, hi)
        } else if b == b'\\' {
            let e = next.ok_or(Malformed)?;
            prev = Some(e);
            i += 2;
            Item::Byte(e)
        } else if b == b'[' && next == Some(b':') {
            let name_start = i + 2;
            let close = p
                .get(name_start..)
                .and_then(|rest| rest.iter().position(|&x| x == b']'))
                .ok_or(Malformed)?
                + name_start;
            // `[:` closed by `:]` before the next `]` (the `:`s distinct) is a class; anything
            // else leaves the `[` an ordinary member and the `:` is read next.
            if close > name_start && p.get(close - 1) == Some(&b':') {
                let name = p.get(name_start..close - 1).ok_or(Malformed)?;
                prev = None;
                i = close + 1;
                Item::Class(Class::named(name).ok_or(Malformed)?)
            } else {
                prev = Some(b'[');
                i += 1;
                Item::Byte(b'[')
            }
        } else {
            prev = Some(b);
            i += 1;
            Item::Byte(b)
        };
        hit = hit || member(item);
    }
}

/// The next pattern element at offset `o`, for the validation walk.
enum Token {
    Byte(u8),
    Other,
    /// A run of `n` stars.
    Stars(usize),
}

/// Parses the element at `o`: `None` at the end, else the element and the offset after it.
fn token_at(p: &[u8], o: usize) -> Result<Option<(Token, usize)>, Malformed> {
    let Some(&b) = p.get(o) else {
        return Ok(None);
    };
    Ok(Some(match b {
        b'*' => {
            let n = star_run(p, o);
            (Token::Stars(n), o + n)
        }
        b'\\' => (Token::Byte(*p.get(o + 1).ok_or(Malformed)?), o + 2),
        b'[' => (Token::Other, scan_set(p, o + 1, |_| false)?.1),
        b'?' => (Token::Other, o + 1),
        _ => (Token::Byte(b), o + 1),
    }))
}

/// Number of consecutive `*` starting at `o`.
fn star_run(p: &[u8], o: usize) -> usize {
    p.get(o..)
        .map_or(0, |rest| rest.iter().take_while(|&&b| b == b'*').count())
}

/// Checks the whole pattern once, so that the NFA never meets a malformed element.
///
/// Returns the offset of the `/` of a final `/***` (those four bytes, unescaped): reaching
/// that offset with the text used up is a match too (the directory itself).
fn validate(p: &[u8]) -> Result<Option<usize>, Malformed> {
    let mut o = 0;
    let mut slash_before: Option<usize> = None;
    let mut dir_accept = None;
    while let Some((token, next)) = token_at(p, o)? {
        dir_accept = match token {
            Token::Stars(3) if next == p.len() => slash_before,
            _ => None,
        };
        // Only a bare `/` counts: with `\/***` the directory part would end in a lone `\`,
        // which matches nothing (the same as splitting the text of the pattern, SPEC §3.2).
        slash_before = (matches!(token, Token::Byte(b'/')) && next == o + 1).then_some(o);
        o = next;
    }
    Ok(dir_accept)
}

/// Bits per word of [`States`].
const WORD_BITS: usize = 64;
/// Words for one bit per pattern offset `0..=MAX_PATTERN_LEN` (the last one is "matched").
const WORDS: usize = MAX_PATTERN_LEN / WORD_BITS + 1;

/// A set of NFA states: the pattern offsets at which a match may continue.
struct States {
    words: [u64; WORDS],
    /// Words in use: those holding offsets `0..=pattern.len()`.
    used: usize,
}

impl States {
    /// An empty set for offsets `0..=len`; `len` is at most `MAX_PATTERN_LEN`.
    fn new(len: usize) -> Self {
        Self {
            words: [0; WORDS],
            used: (len / WORD_BITS + 1).min(WORDS),
        }
    }

    fn live(&self) -> &[u64] {
        self.words.get(..self.used).unwrap_or(&self.words)
    }

    fn clear(&mut self) {
        let used = self.used;
        if let Some(words) = self.words.get_mut(..used) {
            words.fill(0);
        }
    }

    fn insert(&mut self, o: usize) {
        if let Some(w) = self.words.get_mut(o / WORD_BITS) {
            *w |= 1 << (o % WORD_BITS);
        }
    }

    fn contains(&self, o: usize) -> bool {
        self.live()
            .get(o / WORD_BITS)
            .is_some_and(|w| w & (1 << (o % WORD_BITS)) != 0)
    }

    fn is_empty(&self) -> bool {
        self.live().iter().all(|&w| w == 0)
    }

    /// The smallest state `>= from`, reading the set as it is now (so states inserted ahead
    /// during a walk are visited too).
    fn next_from(&self, from: usize) -> Option<usize> {
        let live = self.live();
        let mut index = from / WORD_BITS;
        // Clear the bits below `from` in its own word.
        let mut word = live.get(index)? & (u64::MAX << (from % WORD_BITS));
        loop {
            if word != 0 {
                // trailing_zeros() < 64 here: widening u32 to usize loses nothing.
                return Some(index * WORD_BITS + word.trailing_zeros() as usize);
            }
            index += 1;
            word = *live.get(index)?;
        }
    }

    /// Adds the states reachable without reading a byte: a star run may match nothing.
    fn close(&mut self, p: &[u8]) {
        let mut from = 0;
        while let Some(o) = self.next_from(from) {
            let n = star_run(p, o);
            if n > 0 {
                self.insert(o + n);
            }
            from = o + 1;
        }
    }
}

/// The state after reading `c` in state `o`, if the element at `o` accepts it.
fn step(p: &[u8], o: usize, c: u8, case: Case) -> Option<usize> {
    match *p.get(o)? {
        // One star stays put on anything but `/`; a run of two or more stays put on anything.
        b'*' => (c != b'/' || p.get(o + 1) == Some(&b'*')).then_some(o),
        b'?' => (c != b'/').then_some(o + 1),
        b'[' => {
            let member = |item: Item| {
                item.contains(c) || (case == Case::Fold && item.contains(swap_case(c)))
            };
            let (accepted, next) = scan_set(p, o + 1, member).ok()?;
            (accepted && c != b'/').then_some(next)
        }
        b'\\' => same_byte(*p.get(o + 1)?, c, case).then_some(o + 2),
        b => same_byte(b, c, case).then_some(o + 1),
    }
}

fn run(p: &[u8], text: &[u8], case: Case) -> bool {
    if p.len() > MAX_PATTERN_LEN || literal_prefix_differs(p, text, case) {
        return false;
    }
    let Ok(dir_accept) = validate(p) else {
        return false;
    };
    let mut states = States::new(p.len());
    let mut next = States::new(p.len());
    states.insert(0);
    states.close(p);
    for &c in text {
        next.clear();
        let mut from = 0;
        while let Some(o) = states.next_from(from) {
            if let Some(to) = step(p, o, c, case) {
                next.insert(to);
            }
            from = o + 1;
        }
        next.close(p);
        if next.is_empty() {
            return false;
        }
        core::mem::swap(&mut states, &mut next);
    }
    states.contains(p.len()) || dir_accept.is_some_and(|o| states.contains(o))
}

#[cfg(test)]
mod tests {
    use super::{reference, wildmatch, wildmatch_casefold};
    use crate::limits::MAX_PATTERN_LEN;
    use core::fmt;

    /// Shows bytes as an escaped string in failure messages.
    struct Shown<'a>(&'a [u8]);

    impl fmt::Display for Shown<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "\"")?;
            for &b in self.0 {
                write!(f, "{}", core::ascii::escape_default(b))?;
            }
            write!(f, "\"")
        }
    }

    /// Checks both case modes of the matcher and of the reference against the expectation.
    fn check(pattern: &[u8], text: &[u8], sensitive: bool, fold: bool) {
        let (p, t) = (Shown(pattern), Shown(text));
        assert_eq!(wildmatch(pattern, text), sensitive, "wildmatch({p}, {t})");
        assert_eq!(
            wildmatch_casefold(pattern, text),
            fold,
            "casefold({p}, {t})"
        );
        assert_eq!(
            reference::wildmatch(pattern, text),
            sensitive,
            "ref({p}, {t})"
        );
        let got = reference::wildmatch_casefold(pattern, text);
        assert_eq!(got, fold, "ref casefold({p}, {t})");
    }

    /// (pattern, text, match, match when case-folded)
    type Row = (&'static [u8], &'static [u8], bool, bool);

    #[test]
    fn literal_prefixes_refuse_early_and_only_on_a_real_difference() {
        // (pattern, text, case-sensitive result, case-folded result)
        let table: &[(&[u8], &[u8], bool, bool)] = &[
            (b"/a/***", b"/a", true, true),
            (b"/a/***", b"/ab", false, false),
            (b"/a/***", b"/a/b/c", true, true),
            (b"/A/b", b"/a/b", false, true),
            (b"abc", b"ab", false, false),
            (b"ab", b"abc", false, false),
            (b"a\\*", b"a*", true, true),
            (b"a\\*", b"ab", false, false),
            (b"a[b]c", b"abc", true, true),
            (b"/x/*", b"/y/z", false, false),
            (b"/x/*", b"/X/z", false, true),
            (b"", b"", true, true),
            (b"/nonexistent/1/**/*.[ch]", b"/tmp/data/file", false, false),
        ];
        for &(p, t, sensitive, fold) in table {
            check(p, t, sensitive, fold);
        }
    }

    #[test]
    fn spec_vectors_not_in_the_rsync_file() {
        let rows: &[Row] = &[
            (b"/a/**/b", b"/a/b", false, false),
            (b"/a/**/b", b"/a/x/b", true, true),
            (b"/a/**/b", b"/a//b", true, true),
            (b"/a/**/b", b"/a/x/y/b", true, true),
            (b"foo\\*bar", b"foobar", false, false),
            (b"foo\\*bar", b"foo*bar", true, true),
        ];
        for &(p, t, yes, fold) in rows {
            check(p, t, yes, fold);
        }
    }

    #[test]
    fn triple_star_suffix_matches_the_directory_and_below() {
        let rows: &[Row] = &[
            (b"/a/***", b"/a", true, true),
            (b"/a/***", b"/a/", true, true),
            (b"/a/***", b"/a/b", true, true),
            (b"/a/***", b"/a/b/c", true, true),
            (b"/a/***", b"/ab", false, false),
            (b"/a/***", b"/", false, false),
            (b"/a/***", b"", false, false),
            (b"/a/***", b"/b/a", false, false),
            // `/***` alone: the empty directory part matches only the empty text.
            (b"/***", b"/", true, true),
            (b"/***", b"/x/y", true, true),
            (b"/***", b"", true, true),
            (b"/***", b"x", false, false),
            // `\/***` splits into `/a\` (malformed: matches nothing) and `/a\/**`.
            (b"/a\\/***", b"/a", false, false),
            (b"/a\\/***", b"/a/", true, true),
            (b"/a\\/***", b"/a/b", true, true),
            // An escaped backslash before the `/` is a literal `\`.
            (b"/a\\\\/***", b"/a\\", true, true),
            (b"/a\\\\/***", b"/a", false, false),
            // An escaped star is not part of the suffix.
            (b"/a/\\***", b"/a", false, false),
            (b"/a/\\***", b"/a/*", true, true),
            (b"/a/\\***", b"/a/*x/y", true, true),
            // Four stars are just `**`, and `***` elsewhere too.
            (b"/a/****", b"/a", false, false),
            (b"/a/****", b"/a/b/c", true, true),
            (b"/a/***/b", b"/a/x/y/b", true, true),
            (b"/a/***/b", b"/a/b", false, false),
            (b"a***", b"a/b/c", true, true),
            (b"***", b"/x/y", true, true),
            // Wildcards in the directory part.
            (b"/a/*/***", b"/a/b", true, true),
            (b"/a/*/***", b"/a/b/c/d", true, true),
            (b"/a/*/***", b"/a", false, false),
            (b"/a*/***", b"/a/b", true, true),
            (b"/a*/***", b"/abc", true, true),
            (b"/a?/***", b"/ab", true, true),
            (b"/[ab]/***", b"/b", true, true),
            // Not a `/` before the stars.
            (b"/a[/]***", b"/a", false, false),
            (b"/a-***", b"/a", false, false),
            // Case folding applies to the directory part too.
            (b"/TMP/***", b"/tmp", false, true),
            (b"/TMP/***", b"/tmp/x", false, true),
            (b"/tmp/***", b"/TMP/X/Y", false, true),
        ];
        for &(p, t, yes, fold) in rows {
            check(p, t, yes, fold);
        }
    }

    #[test]
    fn casefold_folds_pattern_text_sets_and_classes() {
        let rows: &[Row] = &[
            (b"/TMP/***", b"/tmp/x", false, true),
            (b"abc", b"ABC", false, true),
            (b"ABC", b"abc", false, true),
            (b"aBc", b"AbC", false, true),
            (b"\\A", b"a", false, true),
            (b"[A-Z]", b"q", false, true),
            (b"[a-z]", b"Q", false, true),
            (b"[^A-Z]", b"q", true, false),
            (b"[!a]", b"A", true, false),
            (b"[!a]", b"a", false, false),
            (b"[ab]", b"B", false, true),
            (b"[[:upper:]]", b"a", false, true),
            (b"[[:lower:]]", b"A", false, true),
            (b"[![:lower:]]", b"A", true, false),
            (b"[[:digit:]]", b"7", true, true),
            // `Z` is in Z-a, so `z` matches folded; `z` (0x7a) itself is above `a` (0x61).
            (b"[Z-a]", b"z", false, true),
            (b"[Z-a]", b"_", true, true),
            // Only letters fold: `@` (0x40) and `` ` `` (0x60) differ by the case bit but are not
            // letters, nor are bytes above 0x7f.
            (b"@", b"`", false, false),
            (b"[@]", b"`", false, false),
            (b"[[]", b"{", false, false),
            (b"\xc9", b"\xe9", false, false),
            (b"[\xc0-\xcf]", b"\xe9", false, false),
            (b"*.TXT", b"/a/b.txt", false, false),
            (b"**.TXT", b"/a/b.txt", false, true),
            (b"?", b"/", false, false),
        ];
        for &(p, t, yes, fold) in rows {
            check(p, t, yes, fold);
        }
    }

    #[test]
    fn escapes_nul_and_non_utf8_bytes() {
        let rows: &[Row] = &[
            (b"\\*", b"*", true, true),
            (b"\\*", b"a", false, false),
            (b"\\?", b"a", false, false),
            (b"\\?", b"?", true, true),
            (b"\\[", b"[", true, true),
            (b"\\\\", b"\\", true, true),
            (b"\\/", b"/", true, true),
            // A lone trailing backslash matches nothing, not even a NUL or a backslash.
            (b"a\\", b"a", false, false),
            (b"a\\", b"a\\", false, false),
            (b"a\\", b"a\0", false, false),
            (b"\\", b"", false, false),
            (b"*\\", b"abc", false, false),
            (b"**\\", b"", false, false),
            // NUL is an ordinary byte on both sides.
            (b"a\0b", b"a\0b", true, true),
            (b"a\0b", b"a\0c", false, false),
            (b"?", b"\0", true, true),
            (b"*", b"\0\0", true, true),
            (b"[\0]", b"\0", true, true),
            (b"[!\0]", b"\0", false, false),
            (b"[\0-\x02]", b"\x01", true, true),
            (b"\\\0", b"\0", true, true),
            (b"a*", b"a\0/", false, false),
            // Bytes above 0x7f are ordinary bytes, never class members.
            (b"\xff*", b"\xff\xfe", true, true),
            (b"?", b"\xff", true, true),
            (b"[\x80-\xff]", b"\x90", true, true),
            (b"[\x80-\xff]", b"\x7f", false, false),
            (b"[[:alpha:]]", b"\xe9", false, false),
            (b"[[:print:][:graph:][:punct:]]", b"\xa0", false, false),
            (
                b"[^[:alnum:][:alpha:][:blank:][:cntrl:][:digit:][:graph:][:lower:][:print:]\
                  [:punct:][:space:][:upper:][:xdigit:]]",
                b"\x85",
                true,
                true,
            ),
            (b"/\xc3\xa9t\xc3\xa9/*", b"/\xc3\xa9t\xc3\xa9/x", true, true),
            (b"/caf?", b"/caf\xe9", true, true),
            (b"/caf?", b"/caf\xc3\xa9", false, false),
        ];
        for &(p, t, yes, fold) in rows {
            check(p, t, yes, fold);
        }
    }

    #[test]
    fn classes_follow_the_c_locale() {
        // (class, test for its members); every byte of 0..=255 is checked.
        type Member = fn(u8) -> bool;
        let classes: &[(&[u8], Member)] = &[
            (b"alnum", |c| c.is_ascii_alphanumeric()),
            (b"alpha", |c| c.is_ascii_alphabetic()),
            (b"blank", |c| c == b' ' || c == b'\t'),
            (b"cntrl", |c| c < 0x20 || c == 0x7f),
            (b"digit", |c| c.is_ascii_digit()),
            (b"graph", |c| (0x21..=0x7e).contains(&c)),
            (b"lower", |c| c.is_ascii_lowercase()),
            (b"print", |c| (0x20..=0x7e).contains(&c)),
            (b"punct", |c| c.is_ascii_punctuation()),
            (b"space", |c| {
                matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
            }),
            (b"upper", |c| c.is_ascii_uppercase()),
            (b"xdigit", |c| c.is_ascii_hexdigit()),
        ];
        for &(name, member) in classes {
            let mut pattern = [0u8; 16];
            let len = name.len() + 6;
            pattern[..3].copy_from_slice(b"[[:");
            pattern[3..3 + name.len()].copy_from_slice(name);
            pattern[len - 3..len].copy_from_slice(b":]]");
            let pattern = &pattern[..len];
            for c in 0..=255u8 {
                let expected = member(c) && c != b'/';
                let shown = Shown(pattern);
                assert_eq!(wildmatch(pattern, &[c]), expected, "{shown} vs {c:#x}");
                assert_eq!(
                    reference::wildmatch(pattern, &[c]),
                    expected,
                    "ref {shown} {c:#x}"
                );
            }
        }
    }

    #[test]
    fn malformed_patterns_match_nothing() {
        let rows: &[(&[u8], &[u8])] = &[
            (b"[", b"["),
            (b"[!", b"!"),
            (b"[^", b"^"),
            (b"[a-", b"a"),
            (b"[a-\\", b"a"),
            (b"[\\", b"\\"),
            (b"[]", b"]"),
            (b"[[:alpha:]", b"a"),
            (b"[[:alpha:]]x[", b"ax"),
            (b"[[:foo:]]", b"f"),
            (b"[[:foo:]a]", b"a"),
            (b"[a[:foo:]]", b"a"),
            (b"[[::]]", b":"),
            (b"[[:ALPHA:]]", b"a"),
            (b"*[[:foo:]]", b"abc"),
            (b"**[", b"a/b["),
            (b"*[[:nope:]]*", b"x"),
            (b"a[b", b"a[b"),
        ];
        for &(p, t) in rows {
            check(p, t, false, false);
        }
    }

    #[test]
    fn stars_questions_and_slashes() {
        let rows: &[Row] = &[
            (b"", b"", true, true),
            (b"", b"a", false, false),
            (b"*", b"", true, true),
            (b"**", b"", true, true),
            (b"?", b"", false, false),
            (b"/a/*", b"/a/b", true, true),
            (b"/a/*", b"/a/", true, true),
            (b"/a/*", b"/a/b/", false, false),
            (b"/a/**", b"/a/b/", true, true),
            (b"/a/**", b"/a", false, false),
            (b"/a/*/c", b"/a/b/c", true, true),
            (b"/a/*/c", b"/a/b/x/c", false, false),
            (b"/a/**/c", b"/a/b/x/c", true, true),
            (b"*/", b"abc/", true, true),
            (b"*?", b"", false, false),
            (b"*?", b"/", false, false),
            (b"**?", b"a/b", true, true),
            (b"**/", b"a/b/", true, true),
            (b"a*b*c", b"aXbYc", true, true),
            (b"a*b*c", b"aXb/c", false, false),
        ];
        for &(p, t, yes, fold) in rows {
            check(p, t, yes, fold);
        }
    }

    /// Fills `buf` with `unit` repeated up to `len` bytes and returns that prefix.
    fn repeat<'a>(buf: &'a mut [u8], unit: &[u8], len: usize) -> &'a [u8] {
        for (i, b) in buf[..len].iter_mut().enumerate() {
            *b = unit[i % unit.len()];
        }
        &buf[..len]
    }

    #[test]
    fn pathological_patterns_finish() {
        let mut text = [b'a'; 10_001];
        text[10_000] = b'b';
        let a_only = &text[..10_000];
        let a_then_b = &text[..];
        let rows: &[(&[u8], bool, bool)] = &[
            // (pattern, matches 10,000 a, matches 10,000 a + b)
            (b"*a*a*a*a*a*a*a*a*a*b", false, true),
            (b"**a**a**a**a**a**a**a**a**a**b", false, true),
            (b"*a*a*a*a*a*a*a*a*a*a*", true, true),
            (b"?*?*?*?*?*?*?*?*?*?*c", false, false),
            (b"[a-z]*[a-z]*[a-z]*[a-z]*[!a]", false, true),
        ];
        for &(p, a, ab) in rows {
            for (t, expected) in [(a_only, a), (a_then_b, ab)] {
                assert_eq!(wildmatch(p, t), expected, "{}", Shown(p));
                assert_eq!(wildmatch_casefold(p, t), expected, "fold {}", Shown(p));
            }
        }
        // The longest allowed pattern, all stars and bytes: 2,048 `*a` against as many `a`s.
        let mut pattern = [0u8; MAX_PATTERN_LEN];
        let pattern = repeat(&mut pattern, b"*a", MAX_PATTERN_LEN);
        let mut text = [b'a'; MAX_PATTERN_LEN / 2];
        assert!(wildmatch(pattern, &text));
        text[0] = b'/';
        assert!(!wildmatch(pattern, &text));
        assert!(!wildmatch(pattern, &text[1..]));
    }

    #[test]
    fn very_long_texts() {
        let mut text = [b'a'; 100_000];
        text[0] = b'/';
        let rows: &[(&[u8], bool)] = &[
            (b"/*", true),
            (b"/*b", false),
            (b"**a", true),
            (b"/a*a", true),
            (b"/***", true),
            (b"/*/***", true),
            (b"?", false),
        ];
        for &(p, expected) in rows {
            assert_eq!(wildmatch(p, &text), expected, "{}", Shown(p));
        }
        text[99_999] = b'/';
        assert!(!wildmatch(b"/*", &text));
        assert!(wildmatch(b"/*/", &text));
        assert!(wildmatch(b"/*/***", &text));
    }

    #[test]
    fn pattern_length_limit() {
        let mut buf = [0u8; MAX_PATTERN_LEN + 1];
        let mut text = [0u8; MAX_PATTERN_LEN + 1];
        // Patterns of exactly MAX_PATTERN_LEN bytes work, whatever they are made of.
        for (unit, text_unit) in [(&b"a"[..], &b"a"[..]), (b"?", b"x"), (b"\\*", b"*")] {
            let n = MAX_PATTERN_LEN / unit.len();
            let at_limit = repeat(&mut buf, unit, n * unit.len());
            let t = repeat(&mut text, text_unit, n);
            assert!(wildmatch(at_limit, t), "{} x {n}", Shown(unit));
            assert!(wildmatch_casefold(at_limit, t), "{} x {n}", Shown(unit));
        }
        // One byte more never matches, not even the same text.
        let t = repeat(&mut text, b"a", MAX_PATTERN_LEN + 1);
        let over = repeat(&mut buf, b"a", MAX_PATTERN_LEN + 1);
        assert!(!wildmatch(over, t));
        assert!(!wildmatch_casefold(over, t));
        assert!(!reference::wildmatch(over, t));
        let at_limit = &over[..MAX_PATTERN_LEN];
        assert!(wildmatch(at_limit, &t[..MAX_PATTERN_LEN]));
        assert!(!wildmatch(at_limit, t));
        // All stars: matches anything at the limit, nothing above it.
        assert!(wildmatch(repeat(&mut buf, b"*", MAX_PATTERN_LEN), b"x/y"));
        assert!(!wildmatch(
            repeat(&mut buf, b"*", MAX_PATTERN_LEN + 1),
            b"x/y"
        ));
        // A `/***` suffix still works at the limit, and not past it.
        for len in [MAX_PATTERN_LEN, MAX_PATTERN_LEN + 1] {
            buf[..len].fill(b'a');
            buf[len - 4..len].copy_from_slice(b"/***");
            let dir = &buf[..len - 4];
            let expected = len <= MAX_PATTERN_LEN;
            assert_eq!(wildmatch(&buf[..len], dir), expected, "len {len}");
            assert_eq!(
                wildmatch(&buf[..len], &buf[..len - 2]),
                expected,
                "len {len}"
            );
        }
    }

    /// xorshift64*: a fixed-seed generator for the randomized comparison.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            // n is small: the remainder fits any usize.
            (self.next() % n as u64) as usize
        }

        fn pick<'a>(&mut self, items: &[&'a [u8]]) -> &'a [u8] {
            items[self.below(items.len())]
        }
    }

    /// A short byte string built from pieces, at most `N` bytes.
    struct Buf<const N: usize> {
        bytes: [u8; N],
        len: usize,
    }

    impl<const N: usize> Buf<N> {
        fn new() -> Self {
            Self {
                bytes: [0; N],
                len: 0,
            }
        }

        /// Appends `piece` if it fits; returns whether it did.
        fn push(&mut self, piece: &[u8]) -> bool {
            let end = self.len + piece.len();
            if end > N {
                return false;
            }
            self.bytes[self.len..end].copy_from_slice(piece);
            self.len = end;
            true
        }

        fn get(&self) -> &[u8] {
            &self.bytes[..self.len]
        }
    }

    /// Pattern pieces that stress the syntax: wildcards, set delimiters, escapes, classes.
    const PATTERN_PIECES: &[&[u8]] = &[
        b"a",
        b"b",
        b"A",
        b"B",
        b"/",
        b"/",
        b"*",
        b"*",
        b"**",
        b"?",
        b"[",
        b"[",
        b"]",
        b"]",
        b"!",
        b"^",
        b"-",
        b"-",
        b"\\",
        b"\\",
        b":",
        b"[:alpha:]",
        b"[:upper:]",
        b"[:lower:]",
        b"[:punct:]",
        b"[:bogus:]",
        b"[:",
        b":]",
        b"/***",
        b"\0",
        b"\xff",
        b"Z",
        b"`",
    ];

    /// Text bytes: the same alphabet, so that sets and escapes have something to match.
    const TEXT_PIECES: &[&[u8]] = &[
        b"a", b"b", b"A", b"B", b"/", b"/", b"-", b"]", b"[", b"\\", b":", b"^", b"!", b"*", b"?",
        b"\0", b"\xff", b"z", b"_",
    ];

    #[test]
    fn agrees_with_reference_on_random_inputs() {
        const SEED: u64 = 0x5eed_f00d_da7a_b1e5;
        const CASES: usize = 100_000;
        let mut rng = Rng(SEED);
        let mut matched = 0;
        for case in 0..CASES {
            let mut pattern = Buf::<24>::new();
            for _ in 0..rng.below(9) {
                pattern.push(rng.pick(PATTERN_PIECES));
            }
            let mut text = Buf::<16>::new();
            if rng.below(3) == 0 {
                // Derive the text from the pattern, so that matches are common.
                for &b in pattern.get() {
                    match b {
                        b'*' => text.push(rng.pick(&[b"", b"a", b"ab", b"a/", b"/"])),
                        b'?' | b'[' | b']' | b'\\' => text.push(rng.pick(TEXT_PIECES)),
                        _ => text.push(&[b]),
                    };
                }
            } else {
                for _ in 0..rng.below(9) {
                    text.push(rng.pick(TEXT_PIECES));
                }
            }
            let (p, t) = (pattern.get(), text.get());
            let (ps, ts) = (Shown(p), Shown(t));
            let got = wildmatch(p, t);
            let want = reference::wildmatch(p, t);
            assert_eq!(
                got, want,
                "seed {SEED:#x} case {case}: pattern {ps} text {ts}"
            );
            let folded = wildmatch_casefold(p, t);
            let want = reference::wildmatch_casefold(p, t);
            assert_eq!(
                folded, want,
                "seed {SEED:#x} case {case}: casefold {ps} text {ts}"
            );
            matched += usize::from(got) + usize::from(folded);
            // `p/***` is exactly `p` or `p/**` (SPEC §3.2 splits it that way), in both modes.
            // (Unless `p` itself ends in `/***`: inside `p/***` that one is just `/**`.)
            if p.ends_with(b"/***") {
                continue;
            }
            let (mut dir_all, mut dir_below) = (Buf::<28>::new(), Buf::<28>::new());
            dir_all.push(p);
            dir_all.push(b"/***");
            dir_below.push(p);
            dir_below.push(b"/**");
            let (all, below) = (dir_all.get(), dir_below.get());
            let split = wildmatch(p, t) || wildmatch(below, t);
            assert_eq!(wildmatch(all, t), split, "case {case}: {ps}/*** vs {ts}");
            let split = wildmatch_casefold(p, t) || wildmatch_casefold(below, t);
            let whole = wildmatch_casefold(all, t);
            assert_eq!(whole, split, "case {case}: casefold {ps}/*** vs {ts}");
        }
        // The generator must produce both outcomes in earnest, or the comparison proves little.
        assert!(
            matched > CASES / 20,
            "only {matched} matches in {CASES} cases"
        );
        assert!(
            matched < CASES * 2 - CASES / 20,
            "{matched} matches in {CASES} cases"
        );
    }
}
