//! The semantic index: prompt embeddings of cached entries, grouped in buckets (one per
//! bucket body, see `prompt`), searched for the entry whose prompt is closest to a new one.
//! A small bucket is scanned whole; a larger one is searched through hash tables (`lsh`) and
//! only the vectors sharing a cell with the query are compared. Bounded by a number of entries:
//! past it, the entry that expires first goes.

use super::lsh::{self, Lsh};
use super::vector::{dot, unit};
use crate::key::Key;
use std::collections::{BTreeSet, HashMap};
use std::sync::{PoisonError, RwLock, Weak};

/// Buckets up to this size are scanned whole; past it they get hash tables.
const SCAN_MAX: usize = 64;
/// A bucket with hash tables that shrinks to this size drops them.
const SCAN_AGAIN: usize = SCAN_MAX / 2;

/// The in-process index.
pub struct SemanticIndex {
    max_entries: usize,
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    buckets: HashMap<Key, Bucket>,
    /// Where each entry is.
    entries: HashMap<Key, Slot>,
    /// Every entry by when it expires, then by when it came: the order entries are evicted in.
    by_expiry: BTreeSet<(i64, u64, Key)>,
    /// Counts insertions, for the order of entries that expire together.
    seq: u64,
    /// The hyperplanes of each dimension, while a bucket uses them.
    planes: HashMap<usize, Weak<[f32]>>,
}

/// An entry's place.
struct Slot {
    bucket: Key,
    /// Its position in the bucket.
    pos: u32,
    expires_ms: i64,
    seq: u64,
}

/// The entries of one bucket, position by position.
struct Bucket {
    /// Taken from the first vector: vectors of another length are not taken.
    dim: usize,
    keys: Vec<Key>,
    /// Unit vectors, `dim` numbers each.
    vectors: Vec<f32>,
    expires_ms: Vec<i64>,
    /// Hash tables, once the bucket is larger than `SCAN_MAX`.
    lsh: Option<Lsh>,
}

impl Bucket {
    fn len(&self) -> usize {
        self.keys.len()
    }

    fn vector(&self, pos: usize) -> &[f32] {
        &self.vectors[pos * self.dim..(pos + 1) * self.dim]
    }

    /// Takes out the entry at `pos`; the key of the last one, which moves into its place.
    fn swap_remove(&mut self, pos: usize) -> Option<Key> {
        let last = self.len() - 1;
        if let Some(lsh) = &mut self.lsh {
            lsh.swap_remove(pos as u32, last as u32);
        }
        self.keys.swap_remove(pos);
        self.expires_ms.swap_remove(pos);
        if pos != last {
            let (head, tail) = self.vectors.split_at_mut(last * self.dim);
            head[pos * self.dim..(pos + 1) * self.dim].copy_from_slice(&tail[..self.dim]);
        }
        self.vectors.truncate(last * self.dim);
        if self.len() <= SCAN_AGAIN {
            self.lsh = None;
        }
        // A bucket that shrank a lot gives back what it no longer needs.
        if self.len() * 4 < self.keys.capacity() {
            let keep = self.len() * 2;
            self.keys.shrink_to(keep);
            self.expires_ms.shrink_to(keep);
            self.vectors.shrink_to(keep * self.dim);
        }
        (pos != last).then(|| self.keys[pos])
    }

    /// The most similar live entry at `threshold` or above: its position and similarity.
    fn nearest(&self, v: &[f32], threshold: f32, now_ms: i64) -> Option<(usize, f32)> {
        let mut best: Option<(usize, f32)> = None;
        let mut consider = |pos: usize| {
            if now_ms >= self.expires_ms[pos] {
                return;
            }
            let s = dot(self.vector(pos), v).clamp(-1.0, 1.0);
            if s >= threshold && best.is_none_or(|(_, b)| s > b) {
                best = Some((pos, s));
            }
        };
        match &self.lsh {
            None => (0..self.len()).for_each(&mut consider),
            Some(lsh) => lsh
                .candidates(v)
                .into_iter()
                .for_each(|p| consider(p as usize)),
        }
        best
    }

    fn bytes(&self) -> u64 {
        (std::mem::size_of::<Bucket>()
            + std::mem::size_of::<Key>()
            + self.keys.capacity() * std::mem::size_of::<Key>()
            + self.vectors.capacity() * 4
            + self.expires_ms.capacity() * 8) as u64
            + self.lsh.as_ref().map_or(0, Lsh::bytes)
    }
}

impl Inner {
    fn remove(&mut self, key: &Key) -> bool {
        let Some(slot) = self.entries.remove(key) else {
            return false;
        };
        self.by_expiry.remove(&(slot.expires_ms, slot.seq, *key));
        if let Some(bucket) = self.buckets.get_mut(&slot.bucket) {
            if let Some(moved) = bucket.swap_remove(slot.pos as usize) {
                if let Some(s) = self.entries.get_mut(&moved) {
                    s.pos = slot.pos;
                }
            }
            if bucket.len() == 0 {
                self.buckets.remove(&slot.bucket);
            }
        }
        true
    }

    fn insert(&mut self, bucket: Key, key: Key, v: Vec<f32>, expires_ms: i64) {
        let dim = v.len();
        if self.buckets.get(&bucket).is_some_and(|b| b.dim != dim) {
            return;
        }
        self.remove(&key);
        let b = self.buckets.entry(bucket).or_insert_with(|| Bucket {
            dim,
            keys: Vec::new(),
            vectors: Vec::new(),
            expires_ms: Vec::new(),
            lsh: None,
        });
        let pos = b.len() as u32;
        b.keys.push(key);
        b.vectors.extend_from_slice(&v);
        b.expires_ms.push(expires_ms);
        let large = b.len() > SCAN_MAX;
        match &mut b.lsh {
            Some(lsh) => lsh.add(pos, &v),
            None if large => {
                let planes = lsh::planes(&mut self.planes, dim);
                b.lsh = Some(Lsh::new(planes, dim, &b.vectors));
            }
            None => {}
        }
        self.seq += 1;
        let seq = self.seq;
        self.entries.insert(
            key,
            Slot {
                bucket,
                pos,
                expires_ms,
                seq,
            },
        );
        self.by_expiry.insert((expires_ms, seq, key));
    }

    /// The key of the entry that goes first.
    fn first(&self) -> Option<(i64, Key)> {
        self.by_expiry.first().map(|(e, _, k)| (*e, *k))
    }
}

impl SemanticIndex {
    /// An index holding at most `max_entries` vectors.
    pub fn new(max_entries: usize) -> SemanticIndex {
        SemanticIndex {
            max_entries,
            inner: RwLock::new(Inner::default()),
        }
    }

    /// Adds (or replaces) the vector of the entry stored under `key`, in the group `bucket`
    /// (the key of the bucket body). Vectors are normalised here; empty or zero vectors, and
    /// vectors of another length than the bucket's, are ignored. When full, the entry that
    /// expires first (or, of those expiring together, the oldest) goes: it may be this one.
    pub fn insert(&self, bucket: Key, key: Key, vector: &[f32], expires_ms: i64) {
        let Some(v) = unit(vector) else {
            return;
        };
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        inner.insert(bucket, key, v, expires_ms);
        while inner.entries.len() > self.max_entries {
            let Some((_, k)) = inner.first() else {
                break;
            };
            inner.remove(&k);
        }
    }

    /// The entry in `bucket` whose vector is most similar to `vector` (cosine) at `threshold`
    /// or above, not expired at `now_ms`: its key and the similarity. In a large bucket the
    /// search is approximate: a match that shares no hash cell with `vector` is missed.
    pub fn nearest(
        &self,
        bucket: &Key,
        vector: &[f32],
        threshold: f32,
        now_ms: i64,
    ) -> Option<(Key, f32)> {
        let v = unit(vector)?;
        let inner = self.read();
        let b = inner.buckets.get(bucket).filter(|b| b.dim == v.len())?;
        let (pos, similarity) = b.nearest(&v, threshold, now_ms)?;
        Some((b.keys[pos], similarity))
    }

    /// Takes out the entry under `key`; whether it was there.
    pub fn remove(&self, key: &Key) -> bool {
        self.inner
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key)
    }

    /// Drops the expired ones; how many went.
    pub fn sweep(&self, now_ms: i64) -> usize {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let mut gone = 0;
        while let Some((_, k)) = inner.first().filter(|(e, _)| now_ms >= *e) {
            inner.remove(&k);
            gone += 1;
        }
        gone
    }

    pub fn len(&self) -> usize {
        self.read().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held (vectors and bookkeeping), approximately.
    pub fn bytes(&self) -> u64 {
        let inner = self.read();
        let buckets: u64 = inner.buckets.values().map(Bucket::bytes).sum();
        // An entry's place, its key in the map and in the eviction order, with some room for
        // the tables' own overhead.
        let per_entry = (2 * std::mem::size_of::<Key>()
            + std::mem::size_of::<Slot>()
            + std::mem::size_of::<(i64, u64, Key)>()
            + 32) as u64;
        let planes: u64 = inner
            .planes
            .values()
            .filter_map(Weak::upgrade)
            .map(|p| p.len() as u64 * 4)
            .sum();
        buckets
            + inner.entries.len() as u64 * per_entry
            + planes
            + std::mem::size_of::<Self>() as u64
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests;
