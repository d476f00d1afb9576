use super::*;
use crate::model::{Mode, RawLimit};
use crate::store::memory::MemoryStore;

fn rule(id: &str, scope: &str, dimension: Dimension, amount: f64, window: &str) -> Limit {
    RawLimit {
        id: id.into(),
        scope: scope.into(),
        dimension,
        amount,
        window: Some(window.into()),
        time_zone: None,
        mode: Mode::Enforce,
    }
    .resolve()
    .unwrap()
}

fn gate(rules: Vec<Limit>, unpriced: UnpricedPolicy) -> (Gate, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    let g = Gate::new(
        store.clone(),
        rules,
        std::time::Duration::from_secs(60),
        unpriced,
    );
    (g, store)
}

const NOW: i64 = 1_800_000_000_000_000;

#[test]
fn scopes_pick_the_requests_they_name_and_each_value_separately() {
    let (g, _) = gate(
        vec![
            rule("org", "org", Dimension::Requests, 100.0, "minute"),
            rule("ws", "workspace:ws-1", Dimension::Requests, 10.0, "minute"),
            rule(
                "each-user",
                "end_user:*",
                Dimension::Requests,
                5.0,
                "minute",
            ),
            rule(
                "team",
                "metadata.team:*",
                Dimension::Requests,
                5.0,
                "minute",
            ),
            rule("batch", "tag:batch", Dimension::Requests, 5.0, "minute"),
            rule(
                "gpt",
                "model:openai/gpt-4o",
                Dimension::Requests,
                5.0,
                "minute",
            ),
            rule(
                "prov",
                "provider:anthropic",
                Dimension::Requests,
                5.0,
                "minute",
            ),
        ],
        UnpricedPolicy::TokensOnly,
    );
    let meta: Map<String, Value> = serde_json::from_str(r#"{"team": "ml"}"#).unwrap();
    let tags = vec!["batch".to_owned(), "nightly".to_owned()];
    let r = Request {
        workspace: Some("ws-1"),
        end_user: Some("alice"),
        metadata: Some(&meta),
        tags: &tags,
        model: "openai/gpt-4o",
        provider: Some("openai"),
        ..Request::default()
    };
    let met: Vec<(String, String)> = g
        .applicable(&r, &[])
        .into_iter()
        .map(|m| (m.limit.id.clone(), m.scope_value))
        .collect();
    let want = [
        ("org", "org"),
        ("ws", "ws-1"),
        ("each-user", "alice"),
        ("team", "ml"),
        ("batch", "batch"),
        ("gpt", "openai/gpt-4o"),
    ];
    assert_eq!(
        met,
        want.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    );
    let other = Request {
        workspace: Some("ws-2"),
        model: "x",
        ..Request::default()
    };
    assert_eq!(g.applicable(&other, &[]).len(), 1);
}

#[tokio::test]
async fn a_budget_reserves_the_worst_case_and_charges_what_was_used() {
    let (g, store) = gate(
        vec![rule(
            "key-month",
            "key:k1",
            Dimension::CostUsd,
            1.0,
            "month",
        )],
        UnpricedPolicy::TokensOnly,
    );
    let r = Request {
        key: Some("k1"),
        model: "m",
        ..Request::default()
    };
    let est = Estimate {
        input_tokens: 100,
        output_tokens: 100,
        cost_micros: Some(600_000),
    };
    let a = g.admit(&r, &[], &est, NOW).await.unwrap().unwrap();
    assert_eq!(a.states[0].remaining, 400_000);
    // A second worst case does not fit while the first is open.
    let Err(Refusal::Limited { met, denied, .. }) = g.admit(&r, &[], &est, NOW).await else {
        panic!("expected a refusal");
    };
    assert_eq!(met.limit.id, "key-month");
    assert_eq!(denied.retry_after_us, None);
    // 2026-12-31 → 2027-01-01 UTC.
    assert!(denied.reset_us > 0);
    g.settle(
        &a,
        &Used {
            input_tokens: 10,
            output_tokens: 10,
            cost_micros: Some(50_000),
        },
        NOW,
    )
    .await
    .unwrap();
    let key = format!(
        "key-month|k1|{}",
        crate::algo::calendar::period(crate::model::Calendar::Month, &jiff::tz::TimeZone::UTC, NOW)
            .unwrap()
            .2
    );
    let c = store.counter(&key).unwrap();
    assert_eq!((c.used, c.reserved), (50_000, 0));
    assert!(g.admit(&r, &[], &est, NOW).await.unwrap().is_some());
}

#[tokio::test]
async fn an_unpriced_model_under_a_cost_limit_is_refused_or_counted_as_tokens_only() {
    let rules = || vec![rule("cost", "org", Dimension::CostUsd, 5.0, "day")];
    let r = Request {
        model: "mystery",
        ..Request::default()
    };
    let est = Estimate {
        input_tokens: 10,
        output_tokens: 10,
        cost_micros: None,
    };
    let (deny, _) = gate(rules(), UnpricedPolicy::Deny);
    assert!(matches!(
        deny.admit(&r, &[], &est, NOW).await,
        Err(Refusal::Unpriced { .. })
    ));
    let (count, _) = gate(rules(), UnpricedPolicy::TokensOnly);
    assert!(count.admit(&r, &[], &est, NOW).await.unwrap().is_none());
}

#[tokio::test]
async fn token_rates_refund_unused_tokens_at_settlement() {
    let (g, _) = gate(
        vec![rule("tpm", "org", Dimension::TotalTokens, 1000.0, "minute")],
        UnpricedPolicy::TokensOnly,
    );
    let r = Request {
        model: "m",
        ..Request::default()
    };
    let est = Estimate {
        input_tokens: 200,
        output_tokens: 600,
        cost_micros: Some(1),
    };
    let a = g.admit(&r, &[], &est, NOW).await.unwrap().unwrap();
    assert_eq!(a.states[0].remaining, 200);
    assert!(g.admit(&r, &[], &est, NOW).await.is_err());
    g.settle(
        &a,
        &Used {
            input_tokens: 150,
            output_tokens: 50,
            cost_micros: Some(1),
        },
        NOW,
    )
    .await
    .unwrap();
    let b = g.admit(&r, &[], &est, NOW).await.unwrap().unwrap();
    assert_eq!(b.states[0].remaining, 0);
}
