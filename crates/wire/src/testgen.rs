//! Seeded generators for the property tests: inputs built from fragments that matter to a
//! parser mixed with arbitrary bytes, and arbitrary splits of an input into reads.

/// Cases per property: enough to reach the corners, few enough for `cargo test` in seconds.
pub const CASES: u64 = 400;

/// A generator for case `case` of a property; the seed names the case in a failure message.
pub fn rng(case: u64) -> fastrand::Rng {
    fastrand::Rng::with_seed(0x5717_c4a2_0000 + case)
}

/// Up to `max` pieces, each one of `fragments` or a few arbitrary bytes, joined.
pub fn from_fragments(rng: &mut fastrand::Rng, fragments: &[&[u8]], max: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.usize(0..=max) {
        if rng.u8(..) < 24 {
            out.extend((0..rng.usize(1..4)).map(|_| rng.u8(..)));
        } else {
            out.extend_from_slice(fragments[rng.usize(..fragments.len())]);
        }
    }
    out
}

/// `input` cut at arbitrary points (empty reads included).
pub fn split<'a>(rng: &mut fastrand::Rng, input: &'a [u8]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = (0..rng.usize(0..=input.len().min(40)))
        .map(|_| rng.usize(0..=input.len()))
        .collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut at = 0;
    for c in cuts {
        out.push(&input[at..c]);
        at = c;
    }
    out.push(&input[at..]);
    out
}

/// The smallest of three timings of `f`, so a busy machine's pauses count less.
pub fn best_of_three(mut f: impl FnMut()) -> std::time::Duration {
    (0..3)
        .map(|_| {
            let t = std::time::Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}
