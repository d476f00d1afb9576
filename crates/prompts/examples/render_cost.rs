//! What rendering a 2 KB prompt template costs: `cargo run --release -p switchyard-prompts
//! --example render_cost [iterations]`. Two templates of 2 KB with 20 variables: one with only
//! variables (filled without the engine), one with a list section and a partial too (the
//! Mustache engine); each figure is the mean over the iterations after a warm-up.

#![allow(clippy::panic)]

use serde_json::json;
use std::collections::HashMap;
use std::time::Instant;
use switchyard_prompts::template::Template;

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let mut src = String::from("You are {{assistant}}, the support agent of {{company}}.\n");
    for i in 0..18 {
        src.push_str(&format!(
            "Rule {i}: when the customer mentions {{{{topic_{i}}}}}, answer plainly and cite the policy on the matter; never invent facts.\n"
        ));
    }
    src.push_str("{{#orders}}\n- order {{id}}: {{status}}\n{{/orders}}\n{{> signature}}\n");
    while src.len() < 2048 {
        src.push_str("Keep answers short and polite. ");
    }
    let plain_src: String = src.replace(
        "{{#orders}}\n- order {{id}}: {{status}}\n{{/orders}}\n{{> signature}}\n",
        "",
    );
    let plain = Template::compile(&plain_src).unwrap_or_else(|e| panic!("{e}"));
    let t = Template::compile(&src).unwrap_or_else(|e| panic!("{e}"));
    let mut partials = HashMap::new();
    partials.insert(
        "signature".to_owned(),
        Template::compile("-- {{company}} support").unwrap_or_else(|e| panic!("{e}")),
    );
    let mut vars = serde_json::Map::new();
    vars.insert("assistant".into(), json!("Ada"));
    vars.insert("company".into(), json!("Acme"));
    for i in 0..18 {
        vars.insert(format!("topic_{i}"), json!(format!("topic number {i}")));
    }
    vars.insert(
        "orders".into(),
        json!([{"id": 1, "status": "shipped"}, {"id": 2, "status": "packed"}]),
    );
    let vars = serde_json::Value::Object(vars);
    for (what, t, len) in [
        ("variables only", &plain, plain_src.len()),
        ("with a section and a partial", &t, src.len()),
    ] {
        let mut bytes = 0;
        for _ in 0..1000 {
            bytes += t.render(&vars, &partials).map_or(0, |s| s.len());
        }
        let start = Instant::now();
        for _ in 0..n {
            bytes += t.render(&vars, &partials).map_or(0, |s| s.len());
        }
        let per = start.elapsed().as_secs_f64() * 1e6 / f64::from(n);
        println!(
            "{what}: template {len} bytes, rendered {} bytes: {per:.2} µs per render (mean of {n}; {bytes} bytes in all)",
            t.render(&vars, &partials).map_or(0, |s| s.len())
        );
    }
}
