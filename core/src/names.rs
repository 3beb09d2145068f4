//! [`Names`]: lists of names packed into one string, for the tables of syscall, ioctl, signal
//! and address family names. The `syd` binary has a 200 KiB budget, and a `&'static str` per
//! name costs 16 bytes of pointer and length on 64-bit targets where [`Names`] costs 2.

/// Builds a [`Names`] from string literals at compile time: one string holds them all and
/// const evaluation computes where each ends.
macro_rules! names {
    ($($name:literal),* $(,)?) => {{
        const LENS: &[usize] = &[$($name.len()),*];
        const ENDS: [u16; LENS.len()] = $crate::names::name_ends(LENS);
        $crate::names::Names {
            blob: concat!($($name),*),
            ends: &ENDS,
        }
    }};
}

/// A list of names packed into one string: a `&'static str` per name would cost 16 bytes of
/// pointer and length each. Built by `names!`; at most `u16::MAX` bytes in all.
#[derive(Debug, PartialEq, Eq)]
pub struct Names {
    /// The names, one after the other.
    pub(crate) blob: &'static str,
    /// Where each name ends in `blob` (it starts where the previous one ends).
    pub(crate) ends: &'static [u16],
}

impl Names {
    /// Number of names.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The name at position `i`, or `None` past the end.
    pub fn get(&self, i: usize) -> Option<&'static str> {
        let start = match i.checked_sub(1) {
            Some(prev) => usize::from(*self.ends.get(prev)?),
            None => 0,
        };
        let end = usize::from(*self.ends.get(i)?);
        self.blob.get(start..end)
    }

    /// The names in order.
    pub fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        (0..self.len()).map_while(|i| self.get(i))
    }

    /// Whether `name` is in the list (a linear scan).
    pub fn contains(&self, name: &str) -> bool {
        self.iter().any(|n| n == name)
    }

    /// Position of `name` in a list sorted by bytes (binary search), or `None` if absent; on an
    /// unsorted list the answer is meaningless.
    pub fn search(&self, name: &str) -> Option<usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.get(mid)?.cmp(name) {
                core::cmp::Ordering::Less => lo = mid + 1,
                core::cmp::Ordering::Greater => hi = mid,
                core::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }
}

/// End offset of each name from the lengths of the names, for `names!` (const evaluation: a
/// list longer than `u16::MAX` bytes, or of the wrong length, stops the build).
#[allow(clippy::indexing_slicing)] // const evaluation: an index out of range stops the build
pub(crate) const fn name_ends<const N: usize>(lens: &[usize]) -> [u16; N] {
    assert!(lens.len() == N, "names!: wrong number of names");
    let mut ends = [0u16; N];
    let mut end = 0usize;
    let mut i = 0;
    while i < N {
        end += lens[i];
        assert!(end <= u16::MAX as usize, "names!: more than u16::MAX bytes");
        // The assertion above keeps `end` within u16.
        ends[i] = end as u16;
        i += 1;
    }
    ends
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_and_unpack() {
        static THREE: Names = names!["b", "", "abc"];
        static EMPTY: Names = names![];
        assert_eq!((THREE.len(), THREE.is_empty()), (3, false));
        let cases: &[(usize, Option<&str>)] = &[
            (0, Some("b")),
            (1, Some("")),
            (2, Some("abc")),
            (3, None),
            (usize::MAX, None),
        ];
        for &(i, want) in cases {
            assert_eq!(THREE.get(i), want, "{i}");
        }
        assert!(THREE.iter().eq(["b", "", "abc"]));
        assert_eq!(
            (EMPTY.len(), EMPTY.is_empty(), EMPTY.get(0)),
            (0, true, None)
        );
        assert_eq!(EMPTY.iter().count(), 0);
        assert_eq!(EMPTY.search("a"), None);
    }

    #[test]
    fn contains_and_search() {
        static SORTED: Names = names!["a", "ab", "b", "ba", "c"];
        for (i, n) in ["a", "ab", "b", "ba", "c"].into_iter().enumerate() {
            assert!(SORTED.contains(n), "{n}");
            assert_eq!(SORTED.search(n), Some(i), "{n}");
        }
        for n in ["", "aa", "abc", "bb", "d", "A"] {
            assert!(!SORTED.contains(n), "{n}");
            assert_eq!(SORTED.search(n), None, "{n}");
        }
    }
}
