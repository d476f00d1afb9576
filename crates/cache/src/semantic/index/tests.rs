#![allow(clippy::unwrap_used)]

use super::*;

fn key(i: u64) -> Key {
    let mut k = [0u8; 32];
    k[..8].copy_from_slice(&i.to_le_bytes());
    Key(k)
}

fn bucket(i: u64) -> Key {
    let mut k = key(i);
    k.0[31] = 0xbb;
    k
}

/// A random direction, its numbers roughly normal.
fn random_vector(rng: &mut fastrand::Rng, dim: usize) -> Vec<f32> {
    let v: Vec<f32> = (0..dim)
        .map(|_| (0..4).map(|_| rng.f32() * 2.0 - 1.0).sum())
        .collect();
    unit(&v).unwrap()
}

/// A unit vector at cosine `cos` from the unit vector `v`.
fn perturbed(rng: &mut fastrand::Rng, v: &[f32], cos: f32) -> Vec<f32> {
    let n = random_vector(rng, v.len());
    let along = dot(&n, v);
    let side: Vec<f32> = n.iter().zip(v).map(|(x, y)| x - along * y).collect();
    let side = unit(&side).unwrap();
    let sin = (1.0 - cos * cos).sqrt();
    v.iter()
        .zip(&side)
        .map(|(x, s)| cos * x + sin * s)
        .collect()
}

/// The best match of `q` among `stored`, comparing every one.
fn brute_force(stored: &[(Key, Vec<f32>)], q: &[f32]) -> (Key, f32) {
    let q = unit(q).unwrap();
    stored
        .iter()
        .map(|(k, v)| (*k, dot(v, &q)))
        .fold((key(u64::MAX), f32::MIN), |best, c| {
            if c.1 > best.1 {
                c
            } else {
                best
            }
        })
}

#[test]
fn is_send_and_sync() {
    fn both<T: Send + Sync>() {}
    both::<SemanticIndex>();
}

#[test]
fn a_near_duplicate_is_found_with_its_similarity() {
    let ix = SemanticIndex::new(100);
    ix.insert(bucket(1), key(1), &[1.0, 0.0, 0.0], 1_000);
    ix.insert(bucket(1), key(2), &[0.0, 1.0, 0.0], 1_000);
    // Lengths do not matter, only directions.
    let (k, s) = ix.nearest(&bucket(1), &[10.0, 1.0, 0.0], 0.9, 0).unwrap();
    assert_eq!(k, key(1));
    assert!((s - 10.0 / 101f32.sqrt()).abs() < 1e-5, "{s}");
    let (k, s) = ix.nearest(&bucket(1), &[0.0, 3.0, 0.0], 0.9, 0).unwrap();
    assert_eq!(k, key(2));
    assert!((s - 1.0).abs() < 1e-6);
}

#[test]
fn below_the_threshold_is_none() {
    let ix = SemanticIndex::new(100);
    ix.insert(bucket(1), key(1), &[1.0, 0.0], 1_000);
    // cos 45° ≈ 0.707
    assert!(ix.nearest(&bucket(1), &[1.0, 1.0], 0.8, 0).is_none());
    assert!(ix.nearest(&bucket(1), &[1.0, 1.0], 0.7, 0).is_some());
}

#[test]
fn another_bucket_is_none() {
    let ix = SemanticIndex::new(100);
    ix.insert(bucket(1), key(1), &[1.0, 0.0], 1_000);
    assert!(ix.nearest(&bucket(2), &[1.0, 0.0], 0.5, 0).is_none());
}

#[test]
fn expired_is_none_and_swept() {
    let ix = SemanticIndex::new(100);
    ix.insert(bucket(1), key(1), &[1.0, 0.0], 1_000);
    ix.insert(bucket(1), key(2), &[0.0, 1.0], 2_000);
    assert!(ix.nearest(&bucket(1), &[1.0, 0.0], 0.9, 999).is_some());
    assert!(ix.nearest(&bucket(1), &[1.0, 0.0], 0.9, 1_000).is_none());
    assert_eq!(ix.len(), 2);
    assert_eq!(ix.sweep(1_500), 1);
    assert_eq!(ix.len(), 1);
    assert_eq!(ix.sweep(1_500), 0);
    assert_eq!(ix.sweep(2_000), 1);
    assert!(ix.is_empty());
}

#[test]
fn empty_zero_and_other_length_vectors_are_ignored() {
    let ix = SemanticIndex::new(100);
    ix.insert(bucket(1), key(1), &[], 1_000);
    ix.insert(bucket(1), key(2), &[0.0, 0.0], 1_000);
    ix.insert(bucket(1), key(3), &[f32::NAN, 1.0], 1_000);
    assert!(ix.is_empty());
    ix.insert(bucket(1), key(4), &[1.0, 0.0], 1_000);
    ix.insert(bucket(1), key(5), &[1.0, 0.0, 0.0], 1_000);
    assert_eq!(ix.len(), 1);
    assert!(ix.nearest(&bucket(1), &[1.0, 0.0, 0.0], 0.5, 0).is_none());
    assert!(ix.nearest(&bucket(1), &[0.0, 0.0], 0.5, 0).is_none());
    // Another bucket takes its own length from its first vector.
    ix.insert(bucket(2), key(5), &[1.0, 0.0, 0.0], 1_000);
    assert_eq!(
        ix.nearest(&bucket(2), &[1.0, 0.0, 0.0], 0.5, 0).unwrap().0,
        key(5)
    );
}

#[test]
fn insert_replaces_an_entry_even_across_buckets() {
    let ix = SemanticIndex::new(100);
    ix.insert(bucket(1), key(1), &[1.0, 0.0], 1_000);
    ix.insert(bucket(1), key(1), &[0.0, 1.0], 1_000);
    assert_eq!(ix.len(), 1);
    assert!(ix.nearest(&bucket(1), &[1.0, 0.0], 0.5, 0).is_none());
    ix.insert(bucket(2), key(1), &[0.0, 1.0], 1_000);
    assert_eq!(ix.len(), 1);
    assert!(ix.nearest(&bucket(1), &[0.0, 1.0], 0.5, 0).is_none());
    assert!(ix.nearest(&bucket(2), &[0.0, 1.0], 0.5, 0).is_some());
}

#[test]
fn remove_takes_an_entry_out() {
    let ix = SemanticIndex::new(100);
    ix.insert(bucket(1), key(1), &[1.0, 0.0], 1_000);
    ix.insert(bucket(1), key(2), &[0.9, 0.1], 1_000);
    assert!(ix.remove(&key(1)));
    assert!(!ix.remove(&key(1)));
    assert_eq!(
        ix.nearest(&bucket(1), &[1.0, 0.0], 0.5, 0).unwrap().0,
        key(2)
    );
    assert!(ix.remove(&key(2)));
    assert!(ix.is_empty());
    assert!(ix.nearest(&bucket(1), &[1.0, 0.0], 0.5, 0).is_none());
}

#[test]
fn the_bound_holds_and_the_first_to_expire_goes() {
    let max = 50;
    let ix = SemanticIndex::new(max);
    let mut rng = fastrand::Rng::with_seed(7);
    for i in 0..10 * max as u64 {
        let v = random_vector(&mut rng, 16);
        ix.insert(bucket(i % 3), key(i), &v, 1_000 + rng.i64(0..10_000));
        assert!(ix.len() <= max);
    }
    assert_eq!(ix.len(), max);
    // Entries expiring together go oldest first; one expiring before all others goes first.
    let ix = SemanticIndex::new(2);
    ix.insert(bucket(1), key(1), &[1.0, 0.0], 5_000);
    ix.insert(bucket(1), key(2), &[0.0, 1.0], 5_000);
    ix.insert(bucket(1), key(3), &[1.0, 1.0], 9_000);
    assert!(!ix.remove(&key(1)));
    // Back, it is now newer than 2, which goes in its stead.
    ix.insert(bucket(1), key(1), &[1.0, 0.0], 5_000);
    assert!(!ix.remove(&key(2)));
    ix.insert(bucket(1), key(4), &[-1.0, 0.0], 1_000);
    // It expires before every other: it is the one that goes.
    assert!(!ix.remove(&key(4)));
    assert_eq!(ix.len(), 2);
    assert!(SemanticIndex::new(0).is_empty());
}

#[test]
fn bytes_grow_with_the_vectors_and_fall_when_they_go() {
    let ix = SemanticIndex::new(1_000);
    let empty = ix.bytes();
    let mut rng = fastrand::Rng::with_seed(3);
    for i in 0..200 {
        ix.insert(bucket(1), key(i), &random_vector(&mut rng, 128), 1_000);
    }
    // The vectors alone are 200 × 128 × 4 bytes.
    assert!(ix.bytes() > empty + 200 * 128 * 4);
    ix.sweep(1_000);
    assert_eq!(ix.bytes(), empty);
}

#[test]
fn large_buckets_stay_consistent_through_removals() {
    let ix = SemanticIndex::new(10_000);
    let mut rng = fastrand::Rng::with_seed(11);
    let stored: Vec<(Key, Vec<f32>)> = (0..300)
        .map(|i| (key(i), random_vector(&mut rng, 64)))
        .collect();
    for (k, v) in &stored {
        ix.insert(bucket(1), *k, v, 1_000);
    }
    for (k, _) in stored.iter().step_by(3) {
        assert!(ix.remove(k));
    }
    for (i, (k, v)) in stored.iter().enumerate() {
        let found = ix.nearest(&bucket(1), v, 0.99, 0);
        if i % 3 == 0 {
            assert!(found.is_none());
        } else {
            // A stored vector always shares all its cells with itself.
            assert_eq!(found.unwrap().0, *k);
        }
    }
    // Down to a few (0, 3, 6 and 9 went before), scanned whole again.
    for (k, _) in stored.iter().skip(10) {
        ix.remove(k);
    }
    assert_eq!(ix.len(), 6);
    for (i, (k, v)) in stored.iter().enumerate() {
        let found = ix.nearest(&bucket(1), v, 0.99, 0).map(|(g, _)| g);
        assert_eq!(found, (i < 10 && i % 3 != 0).then_some(*k));
    }
}

#[test]
fn perturbed_queries_find_their_vector_in_a_large_bucket() {
    let dim = 256;
    let n = 2_000;
    let queries = 500;
    let ix = SemanticIndex::new(n);
    let mut rng = fastrand::Rng::with_seed(42);
    let stored: Vec<(Key, Vec<f32>)> = (0..n as u64)
        .map(|i| (key(i), random_vector(&mut rng, dim)))
        .collect();
    for (k, v) in &stored {
        ix.insert(bucket(1), *k, v, i64::MAX);
    }
    assert_eq!(ix.len(), n);
    // Queries at a cosine anywhere from 0.97 to 1, then all at 0.97, the hardest.
    for fixed in [false, true] {
        let mut found = 0;
        for _ in 0..queries {
            let (k, v) = &stored[rng.usize(0..n)];
            let cos = if fixed { 0.97 } else { 0.97 + 0.03 * rng.f32() };
            let q = perturbed(&mut rng, v, cos);
            assert!(dot(&q, v) >= 0.97 - 1e-4);
            let got = ix.nearest(&bucket(1), &q, 0.9, 0);
            if got.is_some_and(|(g, _)| g == *k) {
                found += 1;
            }
            // Whatever it returns is the best match there is.
            if let Some((g, s)) = got {
                let (best, best_s) = brute_force(&stored, &q);
                assert_eq!(g, best);
                assert!((s - best_s).abs() < 1e-5);
            }
        }
        let recall = f64::from(found) / f64::from(queries);
        let at = if fixed { "= 0.97" } else { "in [0.97, 1]" };
        eprintln!("recall at cosine {at}: {recall:.4} ({found}/{queries})");
        assert!(recall >= 0.95, "recall {recall} at cosine {at}");
    }
}
