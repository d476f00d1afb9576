//! Sign-random-projection hashing for the index's larger buckets. Each of [`TABLES`] tables
//! puts a vector in the cell named by the signs of its dot products with [`BITS`]
//! hyperplanes: vectors at a small angle share a cell in most tables, unrelated ones seldom
//! do. The hyperplanes come from a fixed seed and the dimension alone, so every process
//! draws the same ones.

use super::vector::dot;
use std::collections::HashMap;
use std::sync::{Arc, Weak};

/// Tables, each a separate chance for a near vector to share a cell with the query.
pub const TABLES: usize = 8;
/// Hyperplanes per table: a cell is named by one byte.
pub const BITS: usize = 8;
const CELLS: usize = 1 << BITS;
const SEED: u64 = 0x5377_6974_6368_7961;

/// The hyperplanes (`TABLES * BITS` rows of `dim` numbers) for vectors of `dim`, shared by
/// every bucket of that dimension while one uses them.
pub fn planes(shared: &mut HashMap<usize, Weak<[f32]>>, dim: usize) -> Arc<[f32]> {
    if let Some(p) = shared.get(&dim).and_then(Weak::upgrade) {
        return p;
    }
    let mut state = SEED ^ (dim as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut uniform = || {
        // Uniform in [-1, 1): 53 random bits, exactly representable.
        (splitmix64(&mut state) >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    };
    // A sum of four uniforms is close enough to normal for the directions to be spread evenly;
    // it takes only additions, so every platform gets the very same numbers.
    let p: Arc<[f32]> = (0..TABLES * BITS * dim)
        .map(|_| (uniform() + uniform() + uniform() + uniform()) as f32)
        .collect();
    shared.insert(dim, Arc::downgrade(&p));
    p
}

/// The next number of the splitmix64 sequence.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The tables of one bucket, over the positions of its vectors.
pub struct Lsh {
    planes: Arc<[f32]>,
    dim: usize,
    /// Each position's cell in each table (`TABLES` bytes a position).
    codes: Vec<u8>,
    /// The positions in each cell, `CELLS` cells a table.
    cells: Vec<Vec<u32>>,
}

impl Lsh {
    /// Tables over `vectors` (`dim` numbers each, position by position).
    pub fn new(planes: Arc<[f32]>, dim: usize, vectors: &[f32]) -> Lsh {
        let mut lsh = Lsh {
            planes,
            dim,
            codes: Vec::new(),
            cells: vec![Vec::new(); TABLES * CELLS],
        };
        for (pos, v) in vectors.chunks_exact(dim.max(1)).enumerate() {
            lsh.add(pos as u32, v);
        }
        lsh
    }

    /// The cell of `v` in each table.
    fn code(&self, v: &[f32]) -> [u8; TABLES] {
        let mut code = [0u8; TABLES];
        let mut rows = self.planes.chunks_exact(self.dim.max(1));
        for c in &mut code {
            for bit in 0..BITS {
                if rows.next().is_some_and(|plane| dot(plane, v) >= 0.0) {
                    *c |= 1 << bit;
                }
            }
        }
        code
    }

    /// Adds `v` at `pos`, the next position.
    pub fn add(&mut self, pos: u32, v: &[f32]) {
        let code = self.code(v);
        for (t, c) in code.iter().enumerate() {
            self.cells[t * CELLS + usize::from(*c)].push(pos);
        }
        self.codes.extend_from_slice(&code);
    }

    /// Takes `pos` out, and moves the last position, `last`, into its place (as
    /// `Vec::swap_remove` does with the vectors).
    pub fn swap_remove(&mut self, pos: u32, last: u32) {
        let at = |p: u32, t: usize| (p as usize) * TABLES + t;
        for t in 0..TABLES {
            let cell = &mut self.cells[t * CELLS + usize::from(self.codes[at(pos, t)])];
            if let Some(i) = cell.iter().position(|&p| p == pos) {
                cell.swap_remove(i);
            }
        }
        if pos != last {
            for t in 0..TABLES {
                let cell = &mut self.cells[t * CELLS + usize::from(self.codes[at(last, t)])];
                if let Some(p) = cell.iter_mut().find(|p| **p == last) {
                    *p = pos;
                }
                self.codes[at(pos, t)] = self.codes[at(last, t)];
            }
        }
        self.codes.truncate(last as usize * TABLES);
    }

    /// The positions sharing a cell with `v` in some table, each once.
    pub fn candidates(&self, v: &[f32]) -> Vec<u32> {
        let mut found = Vec::new();
        for (t, c) in self.code(v).iter().enumerate() {
            found.extend_from_slice(&self.cells[t * CELLS + usize::from(*c)]);
        }
        found.sort_unstable();
        found.dedup();
        found
    }

    /// Bytes held (the hyperplanes are counted once, apart).
    pub fn bytes(&self) -> u64 {
        let cells: usize = self.cells.iter().map(|c| c.capacity() * 4).sum();
        (std::mem::size_of::<Lsh>()
            + self.codes.capacity()
            + self.cells.len() * std::mem::size_of::<Vec<u32>>()
            + cells) as u64
    }
}
