//! Rolling-window rates: GCRA (the generic cell rate algorithm, "virtual scheduling") for
//! request rates, and the same arithmetic with weights as a token bucket for token and cost
//! rates.
//!
//! A limit of `capacity` per `window` is replenished continuously (as OpenAI describes its own
//! limits): up to `capacity` at once from full, then `capacity / window` per unit of time. The
//! state is one number, the theoretical arrival time (TAT): the moment the bucket would be full
//! again. Admitting `n` moves it `n × window / capacity` later; a request conforms when the new
//! TAT is at most one window ahead of now. Its Retry-After is exact: the time until it would
//! conform. The bucket's level is `capacity - (TAT - now) × capacity / window`.
//!
//! Time is in microseconds; TAT is kept scaled by `capacity` (`tat = µs × capacity`), so every
//! step is integer arithmetic with no rounding, however the window divides by the capacity.
//!
//! Settling gives back what a reservation did not use (TAT moves earlier, never below now: a
//! bucket cannot hold more than full) or charges what it used beyond it (TAT moves later: the
//! bucket goes into debt and the next requests wait for it).

/// One rate counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rate {
    /// The theoretical arrival time, in µs × capacity. 0: never used (full).
    pub tat: i128,
}

/// A rate limit's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Units (requests, tokens, micro-dollars) per window.
    pub capacity: u64,
    pub window_us: i64,
}

/// Why a rate refused, and when to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDenial {
    /// Retry after this many µs: then `n` fits.
    RetryAfter(i64),
    /// `n` is more than the capacity: it never fits.
    TooLarge,
}

impl RateLimit {
    fn now(&self, now_us: i64) -> i128 {
        i128::from(now_us) * i128::from(self.capacity)
    }

    fn cost(&self, n: u64) -> i128 {
        i128::from(n) * i128::from(self.window_us)
    }

    /// The TAT after admitting `n` at `now_us`, or why not.
    pub fn admit(&self, state: Rate, n: u64, now_us: i64) -> Result<Rate, RateDenial> {
        if n > self.capacity {
            return Err(RateDenial::TooLarge);
        }
        let now = self.now(now_us);
        let next = state.tat.max(now) + self.cost(n);
        let limit = now + self.cost(self.capacity);
        if next <= limit {
            return Ok(Rate { tat: next });
        }
        // It conforms once now × capacity ≥ next − window × capacity: round the wait up to
        // the next whole µs.
        let over = next - limit;
        let cap = i128::from(self.capacity.max(1));
        let wait = (over + cap - 1) / cap;
        Err(RateDenial::RetryAfter(
            i64::try_from(wait).unwrap_or(i64::MAX),
        ))
    }

    /// Settles a reservation of `reserved` that used `used`: gives back or charges the
    /// difference.
    pub fn settle(&self, state: Rate, reserved: u64, used: u64, now_us: i64) -> Rate {
        let now = self.now(now_us);
        let tat = state.tat.max(now);
        let tat = if used >= reserved {
            tat + self.cost(used - reserved)
        } else {
            (tat - self.cost(reserved - used)).max(now)
        };
        Rate { tat }
    }

    /// What the bucket holds now (negative in debt).
    pub fn remaining(&self, state: Rate, now_us: i64) -> i64 {
        let now = self.now(now_us);
        let ahead = (state.tat - now).max(0);
        let window = i128::from(self.window_us.max(1));
        let used = (ahead + window - 1) / window;
        i64::try_from(i128::from(self.capacity) - used).unwrap_or(i64::MIN)
    }

    /// µs until the bucket is full again (OpenAI's `x-ratelimit-reset-*`).
    pub fn reset_us(&self, state: Rate, now_us: i64) -> i64 {
        let ahead = (state.tat - self.now(now_us)).max(0);
        let cap = i128::from(self.capacity.max(1));
        i64::try_from((ahead + cap - 1) / cap).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000_000;

    #[test]
    fn a_full_bucket_admits_its_capacity_at_once_then_one_per_interval() {
        let l = RateLimit {
            capacity: 3,
            window_us: MIN,
        };
        let mut s = Rate::default();
        let t0 = 1_000 * MIN;
        for _ in 0..3 {
            s = l.admit(s, 1, t0).unwrap();
        }
        assert_eq!(l.remaining(s, t0), 0);
        // The fourth waits exactly one interval (20 s).
        assert_eq!(l.admit(s, 1, t0), Err(RateDenial::RetryAfter(20_000_000)));
        assert!(l.admit(s, 1, t0 + 20_000_000 - 1).is_err());
        assert!(l.admit(s, 1, t0 + 20_000_000).is_ok());
        assert_eq!(l.reset_us(s, t0), MIN);
        assert_eq!(l.admit(s, 4, t0), Err(RateDenial::TooLarge));
    }

    #[test]
    fn settling_gives_back_or_charges_the_difference() {
        let l = RateLimit {
            capacity: 1000,
            window_us: MIN,
        };
        let t = 50 * MIN;
        let s = l.admit(Rate::default(), 800, t).unwrap();
        assert_eq!(l.remaining(s, t), 200);
        let back = l.settle(s, 800, 300, t);
        assert_eq!(l.remaining(back, t), 700);
        let over = l.settle(s, 800, 1500, t);
        assert_eq!(l.remaining(over, t), -500);
        // In debt, even one token waits until the debt is paid: 501 tokens' worth of time.
        assert_eq!(
            l.admit(over, 1, t),
            Err(RateDenial::RetryAfter(501 * MIN / 1000))
        );
        // A refund never fills past capacity.
        let empty_refund = l.settle(Rate::default(), 10, 0, t);
        assert_eq!(l.remaining(empty_refund, t), 1000);
    }

    /// Property: over random arrivals, weights and windows, the admitted total in any span never
    /// exceeds capacity + span × rate (the bucket's bound), and a refused request's Retry-After
    /// is exact (admitted at that instant, refused one µs before).
    #[test]
    fn random_arrivals_respect_the_bound_and_retry_after_is_exact() {
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..300 {
            let l = RateLimit {
                capacity: rng.u64(1..50),
                window_us: rng.i64(1_000..5_000_000),
            };
            let mut s = Rate::default();
            let mut now = rng.i64(0..1_000_000_000);
            let mut admitted: Vec<(i64, u64)> = Vec::new();
            for _ in 0..200 {
                now += rng.i64(0..l.window_us / 2 + 1);
                let n = rng.u64(1..=l.capacity);
                match l.admit(s, n, now) {
                    Ok(next) => {
                        s = next;
                        admitted.push((now, n));
                    }
                    Err(RateDenial::RetryAfter(w)) => {
                        assert!(w > 0);
                        assert!(l.admit(s, n, now + w).is_ok(), "retry-after too long");
                        assert!(l.admit(s, n, now + w - 1).is_err(), "retry-after too short");
                    }
                    Err(RateDenial::TooLarge) => unreachable!("n <= capacity"),
                }
            }
            for (i, &(start, _)) in admitted.iter().enumerate() {
                let mut total: i128 = 0;
                for &(t, n) in &admitted[i..] {
                    total += i128::from(n);
                    let span = i128::from(t - start);
                    let bound = i128::from(l.capacity)
                        + span * i128::from(l.capacity) / i128::from(l.window_us);
                    assert!(total <= bound, "{total} > {bound}");
                }
            }
        }
    }
}
