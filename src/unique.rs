//! De-duplication in linear time. Render keeps the first of equal items in config order; a
//! stack of thousands of apps must not compare each item with every one before it (that made
//! `render` of 2,000 apps take seconds).

use std::collections::HashMap;
use std::hash::Hash;

/// A list that keeps the first of equal items, in order. Each item comes with a hashable key
/// (the item itself, or the cheap part that tells items apart, e.g. an object's kind, namespace
/// and name) and is compared only with the items of the same key.
#[derive(Debug)]
pub(crate) struct Unique<T, K> {
    items: Vec<T>,
    by_key: HashMap<K, Vec<usize>>,
}

impl<T, K> Default for Unique<T, K> {
    fn default() -> Self {
        Unique {
            items: Vec::new(),
            by_key: HashMap::new(),
        }
    }
}

impl<T: PartialEq, K: Hash + Eq> Unique<T, K> {
    /// Adds `item` unless an equal one is there; whether it was added.
    pub fn push(&mut self, key: K, item: T) -> bool {
        let same_key = self.by_key.entry(key).or_default();
        if same_key.iter().any(|&i| self.items[i] == item) {
            return false;
        }
        same_key.push(self.items.len());
        self.items.push(item);
        true
    }

    pub fn into_vec(self) -> Vec<T> {
        self.items
    }
}

impl<T: PartialEq + Clone + Hash + Eq> Unique<T, T> {
    /// `push` with the item as its own key.
    pub fn add(&mut self, item: T) -> bool {
        self.push(item.clone(), item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_of_equal_items_in_order() {
        let mut u = Unique::default();
        for s in ["b", "a", "b", "c", "a"] {
            u.add(s.to_string());
        }
        assert_eq!(u.into_vec(), ["b", "a", "c"]);
        // Same key, different items: both kept; an equal one is not.
        let mut u = Unique::default();
        assert!(u.push("k", 1));
        assert!(u.push("k", 2));
        assert!(!u.push("k", 1));
        assert!(u.push("j", 1));
        assert_eq!(u.into_vec(), [1, 2, 1]);
    }
}
