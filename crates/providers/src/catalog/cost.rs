//! What a request cost, from its token counts ([`Usage`]) and the model's prices.

use super::Pricing;
use crate::usage::Usage;

const PER: f64 = 1_000_000.0;

/// The cost in USD of `usage` at `pricing`. Cached and cache-written tokens without a price of
/// their own are billed as plain input; reasoning without a price of its own as output. Counts
/// that exceed their totals (a provider reporting more cached tokens than input) are clamped, so
/// a cost is never negative.
pub fn cost(pricing: &Pricing, usage: &Usage) -> f64 {
    // A prompt past the long-context threshold bills at that tier's prices.
    let long = pricing
        .long_context
        .filter(|l| usage.input > l.above_tokens);
    let pricing = &match long {
        Some(l) => Pricing {
            input: l.input,
            output: l.output.unwrap_or(pricing.output),
            cached_input: l.cached_input.or(pricing.cached_input),
            ..*pricing
        },
        None => *pricing,
    };
    let cached = usage.cached_input.min(usage.input);
    let written = usage.cache_write.min(usage.input - cached);
    let plain_input = usage.input - cached - written;
    let reasoning = usage.reasoning.min(usage.output);
    let plain_output = usage.output - reasoning;
    let price = |n: u64, p: f64| n as f64 * p / PER;
    price(plain_input, pricing.input)
        + price(cached, pricing.cached_input.unwrap_or(pricing.input))
        + price(written, pricing.cache_write.unwrap_or(pricing.input))
        + price(plain_output, pricing.output)
        + price(reasoning, pricing.reasoning.unwrap_or(pricing.output))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pricing() -> Pricing {
        Pricing {
            input: 3.0,
            output: 15.0,
            cached_input: Some(0.3),
            cache_write: Some(3.75),
            reasoning: None,
            long_context: None,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn plain_input_and_output_at_their_prices() {
        let u = Usage {
            input: 1_000_000,
            output: 100_000,
            ..Usage::default()
        };
        assert!(close(cost(&pricing(), &u), 3.0 + 1.5));
    }

    #[test]
    fn cached_tokens_at_the_cache_read_price() {
        let u = Usage {
            input: 1_000_000,
            cached_input: 800_000,
            ..Usage::default()
        };
        // 200k plain at $3, 800k cached at $0.30.
        assert!(close(cost(&pricing(), &u), 0.6 + 0.24));
    }

    #[test]
    fn cache_writes_at_the_cache_write_price() {
        let u = Usage {
            input: 1_000_000,
            cache_write: 400_000,
            cached_input: 100_000,
            ..Usage::default()
        };
        // 500k plain at $3, 100k cached at $0.30, 400k written at $3.75.
        assert!(close(cost(&pricing(), &u), 1.5 + 0.03 + 1.5));
    }

    #[test]
    fn reasoning_is_output_unless_priced_apart() {
        let u = Usage {
            output: 1_000_000,
            reasoning: 600_000,
            ..Usage::default()
        };
        assert!(close(cost(&pricing(), &u), 15.0));
        let apart = Pricing {
            reasoning: Some(5.0),
            ..pricing()
        };
        // 400k plain output at $15, 600k reasoning at $5.
        assert!(close(cost(&apart, &u), 6.0 + 3.0));
    }

    #[test]
    fn missing_cache_prices_bill_as_plain_input() {
        let flat = Pricing {
            cached_input: None,
            cache_write: None,
            ..pricing()
        };
        let u = Usage {
            input: 1_000_000,
            cached_input: 500_000,
            cache_write: 500_000,
            ..Usage::default()
        };
        assert!(close(cost(&flat, &u), 3.0));
    }

    #[test]
    fn inconsistent_counts_never_go_negative() {
        let u = Usage {
            input: 10,
            cached_input: 50,
            cache_write: 50,
            output: 1,
            reasoning: 9,
        };
        let c = cost(&pricing(), &u);
        // All 10 input tokens count as cached, the one output token as reasoning (output price).
        assert!(close(c, (10.0 * 0.3 + 15.0) / PER));
    }
}

#[cfg(test)]
mod long_context_tests {
    use super::*;
    use crate::catalog::LongContext;

    #[test]
    fn a_prompt_past_the_threshold_bills_every_token_at_the_long_context_tier() {
        let p = Pricing {
            input: 1.25,
            output: 10.0,
            cached_input: None,
            cache_write: None,
            reasoning: None,
            long_context: Some(LongContext {
                above_tokens: 200_000,
                input: 2.5,
                output: Some(15.0),
                cached_input: None,
            }),
        };
        let at = |input: u64| Usage {
            input,
            output: 1_000_000,
            ..Usage::default()
        };
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(cost(&p, &at(200_000)), 0.25 + 10.0));
        assert!(close(cost(&p, &at(200_001)), 200_001.0 * 2.5 / 1e6 + 15.0));
    }
}
