use crate::tree::{Kind, Strategy};
use crate::Router;
use std::collections::HashMap;
use std::time::Duration;

fn router(yaml: &str) -> Result<Router, Vec<String>> {
    let base = "server: {discover_env: false}\nproviders:\n  - {name: a, base_url: 'http://a/v1', api_key: k, models: [m1, m2]}\n  - {name: b, base_url: 'http://b/v1', api_key: k, models: [m3]}\naliases: {fast: b/m3}\n";
    let cfg = switchyard_config::from_yaml(&format!("{base}{yaml}"), &HashMap::new())
        .map_err(|e| e.0.iter().map(ToString::to_string).collect::<Vec<_>>())?;
    Router::build(&cfg).map_err(|e| e.iter().map(ToString::to_string).collect())
}

#[test]
fn trees_resolve_models_nest_and_inline_routes() {
    let r = router(
        "routes:\n  main:\n    strategy: fallback\n    timeouts: {first_token_ms: 500}\n    targets:\n      - model: m1\n        params: {max_tokens: 10}\n      - strategy: loadbalance\n        targets:\n          - {model: fast, weight: 3}\n          - {route: other}\n  other:\n    model: a/m2\n    retry: {attempts: 2}\n",
    )
    .unwrap();
    let main = r.route("main").unwrap();
    assert_eq!(main.timeouts.first_token, Some(Duration::from_millis(500)));
    let Kind::Pick { strategy, children } = &main.kind else {
        panic!()
    };
    assert_eq!(*strategy, Strategy::Fallback);
    let Kind::Target(t) = &children[0].kind else {
        panic!()
    };
    assert_eq!(
        (t.provider, t.model.as_str(), t.key.as_str()),
        (0, "m1", "a/m1")
    );
    assert_eq!(children[0].params.as_ref().unwrap()["max_tokens"], 10);
    let Kind::Pick {
        strategy,
        children: lb,
    } = &children[1].kind
    else {
        panic!()
    };
    assert_eq!(*strategy, Strategy::LoadBalance);
    assert_eq!(lb[0].weight, 3.0);
    let keys: Vec<&str> = main.targets().iter().map(|t| t.key.as_str()).collect();
    assert_eq!(keys, ["a/m1", "b/m3", "a/m2"]);
    assert_eq!(r.route_names(), ["main", "other"]);
}

#[test]
fn every_mistake_is_reported_with_its_path() {
    let e = router(
        "routes:\n  r:\n    targets:\n      - model: nope/x\n      - {model: m1, route: other}\n      - {route: missing}\n      - {strategy: loadbalance, targets: [{model: m1, weight: -1}]}\n      - {strategy: conditional, conditions: [{when: {tier: pro}, then: {model: m1}}]}\n      - {strategy: lowest-cost, targets: [{model: m1}]}\n      - {model: m1, sticky: {key: metadata.user}}\n      - {model: m1, on_status: [999], timeouts: {idle_ms: 0}}\n  loop1: {route: loop2}\n  loop2: {route: loop1}\n",
    )
    .unwrap_err();
    let has = |path: &str, says: &str| {
        assert!(
            e.iter().any(|m| m.contains(path) && m.contains(says)),
            "no error at {path} saying {says}: {e:#?}"
        );
    };
    has(
        "routes.r.targets[0].model",
        "matches no configured provider",
    );
    has("routes.r.targets[1]", "one of: model, route");
    has("routes.r.targets[2].route", "no route is named \"missing\"");
    has("routes.r.targets[3].targets[0].weight", "at least 0");
    has(
        "routes.r.targets[4].conditions[0].when",
        "metadata., params. or headers.",
    );
    has(
        "routes.r.targets[5].targets[0].price",
        "lowest-cost needs a price",
    );
    has("routes.r.targets[6].sticky", "sticky applies to");
    has("routes.r.targets[7].on_status", "999 is not an HTTP status");
    has("routes.r.targets[7].timeouts.idle_ms", "greater than 0");
    has("routes.loop2.route", "refers back to itself");
    // Unknown keys are caught when the file is read.
    let e = router("routes:\n  r: {model: m1, wieght: 2}\n").unwrap_err();
    assert!(
        e.iter()
            .any(|m| m.contains("routes.r") && m.contains("wieght")),
        "{e:?}"
    );
}

#[test]
fn lowest_cost_takes_prices_from_the_catalog_and_config_overrides_it() {
    // Provider `a` is OpenAI-compatible without a preset: catalog namespace `openai`.
    let yaml = "catalog:\n  openai/m2: {input: 0.5, output: 1}\nroutes:\n  cheap:\n    strategy: lowest-cost\n    targets:\n      - {model: a/m2}\n      - {model: a/m1, price: {input: 9, output: 9}}\n";
    let r = router(yaml).unwrap();
    let Kind::Pick { children, .. } = &r.route("cheap").unwrap().kind else {
        panic!()
    };
    let prices: Vec<_> = children
        .iter()
        .map(|c| c.price.map(|p| (p.input, p.output)))
        .collect();
    assert_eq!(prices, [Some((0.5, 1.0)), Some((9.0, 9.0))]);
    // A model of the shipped catalog is priced with no config at all.
    let shipped = "routes:\n  r: {strategy: lowest-cost, targets: [{model: a/gpt-6-luna}]}\n";
    let r = router(shipped).unwrap();
    let Kind::Pick { children, .. } = &r.route("r").unwrap().kind else {
        panic!()
    };
    assert_eq!(children[0].price.map(|p| p.input), Some(0.1));
}

#[test]
fn bad_catalog_entries_point_at_the_key() {
    let e = router("catalog:\n  openai/m2: {input: -1, output: 1}\n").unwrap_err();
    assert!(
        e.iter()
            .any(|e| e.contains("catalog.openai/m2") && e.contains("input")),
        "{e:?}"
    );
    let e = router("catalog:\n  nonamespace: {input: 1, output: 1}\n").unwrap_err();
    assert!(e.iter().any(|e| e.contains("namespace")), "{e:?}");
    let e = router("catalog:\n  openai/m2: {inptu: 1}\n").unwrap_err();
    assert!(
        e.iter()
            .any(|e| e.contains("catalog.openai/m2") && e.contains("inptu")),
        "{e:?}"
    );
}
