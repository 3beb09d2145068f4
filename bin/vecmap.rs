//! A map kept as a vector sorted by key: the few operations the supervisor's task tables need,
//! with less code than a B-tree (the binary has a size budget). Lookups are binary searches;
//! inserts shift, which is cheap for tables of a few hundred live tasks.

use alloc::vec::Vec;

/// A map from `K` to `V` in a sorted vector.
pub struct VecMap<K, V> {
    items: Vec<(K, V)>,
}

impl<K: Ord + Copy, V> VecMap<K, V> {
    /// An empty map.
    pub const fn new() -> Self {
        VecMap { items: Vec::new() }
    }

    fn find(&self, k: &K) -> Result<usize, usize> {
        self.items.binary_search_by(|(key, _)| key.cmp(k))
    }

    /// The value of `k`.
    pub fn get(&self, k: &K) -> Option<&V> {
        let i = self.find(k).ok()?;
        self.items.get(i).map(|(_, v)| v)
    }

    /// The value of `k`, mutable.
    pub fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        let i = self.find(k).ok()?;
        self.items.get_mut(i).map(|(_, v)| v)
    }

    /// Sets the value of `k`, returning the old one.
    // Out of line: inlined, it made the `syd` binary bigger (size budget).
    #[inline(never)]
    pub fn insert(&mut self, k: K, v: V) -> Option<V> {
        match self.find(&k) {
            Ok(i) => self
                .items
                .get_mut(i)
                .map(|slot| core::mem::replace(&mut slot.1, v)),
            Err(i) => {
                self.items.insert(i, (k, v));
                None
            }
        }
    }

    /// Removes `k`, returning its value.
    pub fn remove(&mut self, k: &K) -> Option<V> {
        let i = self.find(k).ok()?;
        Some(self.items.remove(i).1)
    }

    /// Keeps only the entries for which `f` is true.
    pub fn retain(&mut self, mut f: impl FnMut(&K, &mut V) -> bool) {
        self.items.retain_mut(|(k, v)| f(k, v));
    }

    /// The keys in ascending order.
    pub fn keys(&self) -> impl Iterator<Item = &K> + '_ {
        self.items.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    pub fn values(&self) -> impl Iterator<Item = &V> + '_ {
        self.items.iter().map(|(_, v)| v)
    }

    /// The values, mutable, in key order.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> + '_ {
        self.items.iter_mut().map(|(_, v)| v)
    }
}

/// Sorts `v` by `key`, stably, by insertion: quadratic, but a few lines of code where the
/// library's sort is 2 KiB (the binary has a size budget). For the supervisor's table of
/// handled syscalls, built once, a few hundred entries.
pub fn sort_by_key<T, K: Ord>(v: &mut [T], key: impl Fn(&T) -> K) {
    for i in 1..v.len() {
        let mut j = i;
        while let (Some(prev), Some(cur)) = (j.checked_sub(1).and_then(|p| v.get(p)), v.get(j)) {
            if key(prev) <= key(cur) {
                break;
            }
            v.swap(j - 1, j);
            j -= 1;
        }
    }
}
