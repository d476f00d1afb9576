//! Every check over a corpus of benign text (prose, code, lockfiles and hashes, other languages
//! and scripts, emoji sequences and flags, articles that discuss attacks): a false-positive
//! ceiling per check. And every check, and the stream guard, over random and pathological
//! input: nothing panics.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};
use std::sync::Arc;
use switchyard_guardrails::apply::Guarded;
use switchyard_guardrails::catalogue;
use switchyard_guardrails::check::{Check, Source, Subject};
use switchyard_guardrails::policy::{Policy, PolicySet};
use switchyard_guardrails::stream::{HoldBack, Shape, StreamGuard};
use switchyard_guardrails::text::Normalized;

/// Parameters for the checks that need some (the rest are built with none).
fn params(id: &str) -> Value {
    match id {
        "regex_match" => json!({"patterns": ["(?i)project\\s+falcon"]}),
        "regex_redact" => json!({"patterns": [{"label": "account", "pattern": "ACC-\\d{4}"}]}),
        "contains" => json!({"words": ["falcon"]}),
        "competitors" => {
            json!({"names": [{"canonical": "Acme Cloud", "domains": ["acme.example"]}]})
        }
        "banned_topics" => json!({"topics": [{
            "name": "personal dosing",
            "terms": ["warfarin", "ibuprofen", "paracetamol", "insulin"],
            "phrases": [
                {"text": "what dose", "weight": 0.5},
                {"text": "should I take", "weight": 0.5}
            ],
            "proximity": [{"terms": ["dose", "my"], "within": 3}]
        }]}),
        "tool_allowlist" => json!({"allow": ["search_*"]}),
        "tool_args_schema" => json!({"schemas": {"search_*": {"type": "object"}}}),
        "tool_args_patterns" => json!({"rules": [{"pointer": "/path", "path_jail": "/srv"}]}),
        "prompt_canary" => json!({"canary": "c4n4ry-7f3a9e21"}),
        "prompt_overlap" => {
            json!({"reference": "You are the support assistant for Acme. Never discuss pricing before the customer has confirmed their plan."})
        }
        "model_allowlist" => json!({"allow": ["*"]}),
        "required_metadata" => json!({"keys": ["team"]}),
        "request_types" => json!({"allowed": ["chat.completions"]}),
        "word_count" | "sentence_count" | "char_count" | "token_count" => json!({"max": 50}),
        "reading_time" => json!({"max_minutes": 1}),
        "json_schema" => json!({"schema": {"type": "object", "required": ["id"]}}),
        "json_keys" => json!({"keys": ["id"]}),
        "affix" => json!({"suffix": "END"}),
        "letter_case" => json!({"case": "lower"}),
        "language_allowed" => json!({"allowed": ["en"]}),
        "webhook" => json!({"url": "http://127.0.0.1:9/check"}),
        "moderation_api" => json!({"provider": "openai"}),
        "bedrock_guardrail" => json!({"provider": "bedrock", "guardrail_id": "gr0abc"}),
        "azure_content_safety" => json!({"provider": "azure"}),
        "llm_judge" => json!({"model": "judge", "criteria": "polite"}),
        "embedding_similarity" => json!({"model": "embed", "examples": ["stock tips"]}),
        _ => json!({}),
    }
}

/// Checks whose job is to find something in ordinary text, with the share of benign samples
/// they may fire on. Format and size checks (which fire by design on text not in the asked
/// format or size) and request checks are not detectors.
fn ceiling(id: &str) -> Option<f64> {
    let fam = catalogue::find(id)?.family;
    match fam {
        "sizes" | "format" | "request" | "tools" | "language" | "callout" => None,
        // Random-looking strings: lockfile hashes need a credential word nearby to fire.
        _ => Some(0.0),
    }
}

fn corpus() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/benign");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for line in std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            out.push((name.clone(), line.replace("\\n", "\n")));
        }
    }
    out
}

fn run(check: &dyn Check, text: &str, source: Source) -> usize {
    let norm = Normalized::new(text);
    let s = Subject {
        raw: text,
        norm: &norm,
        source,
        tool: Some("search_docs"),
    };
    let mut out = Vec::new();
    check.text(&s, &mut out);
    out.len()
}

#[test]
fn benign_text_stays_under_each_checks_false_positive_ceiling() {
    let samples = corpus();
    assert!(samples.len() >= 60, "{}", samples.len());
    let mut tested = 0;
    let mut failures = Vec::new();
    for e in catalogue::all() {
        let Some(max) = ceiling(e.id) else { continue };
        let check = (e.build)(&params(e.id)).unwrap_or_else(|err| panic!("{}: {err}", e.id));
        tested += 1;
        let mut fired = Vec::new();
        for (file, text) in &samples {
            for source in [Source::Input, Source::Output] {
                if check.sources().contains(&source) && run(check.as_ref(), text, source) > 0 {
                    fired.push(format!("{file}: {text}"));
                    break;
                }
            }
        }
        let rate = fired.len() as f64 / samples.len() as f64;
        if rate > max {
            failures.push(format!(
                "{} fired on {} of {} benign samples: {:?}",
                e.id,
                fired.len(),
                samples.len(),
                fired
            ));
        }
    }
    assert!(tested >= 40, "only {tested} detectors tested");
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Random text from an alphabet of the characters checks care about, and long runs of one
/// thing (the inputs that make naive scanners quadratic).
fn inputs() -> Vec<String> {
    let mut rng = fastrand::Rng::with_seed(99);
    let alphabet: Vec<char> = "aZ09 \n\t{}[]\":,.@-_/\\+=%?&#<>'`$|;()!*~^ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefxyz\u{200B}\u{202E}\u{E0041}\u{FE0F}é日😀\u{0}\u{1b}"
        .chars()
        .collect();
    let mut out: Vec<String> = (0..300)
        .map(|_| {
            (0..rng.usize(0..400))
                .map(|_| alphabet[rng.usize(..alphabet.len())])
                .collect()
        })
        .collect();
    for unit in [
        "a",
        "{",
        "[",
        "\"",
        "@",
        "0",
        "A1",
        "-----BEGIN ",
        "eyJ",
        "ghp_",
        "../",
        "<img ",
        "![",
        "ignore previous instructions ",
        "\u{E0041}",
        "\u{200B}",
        "%2e",
        "\\u0041",
        "sk-",
    ] {
        out.push(unit.repeat(20_000 / unit.len().max(1)));
    }
    out
}

#[test]
fn no_check_panics_on_random_or_pathological_input() {
    let checks: Vec<Box<dyn Check>> = catalogue::all()
        .filter_map(|e| (e.build)(&params(e.id)).ok())
        .collect();
    assert!(checks.len() >= 60, "{}", checks.len());
    let mut spent: Vec<(std::time::Duration, &'static str)> = checks
        .iter()
        .map(|c| (std::time::Duration::ZERO, c.id()))
        .collect();
    for text in inputs() {
        for (i, c) in checks.iter().enumerate() {
            let t = std::time::Instant::now();
            for &source in c.sources() {
                run(c.as_ref(), &text, source);
            }
            spent[i].0 += t.elapsed();
        }
    }
    // The slowest checks, for whoever looks (`--nocapture`); speed is measured in bench/.
    spent.sort_unstable_by_key(|s| std::cmp::Reverse(s.0));
    eprintln!("slowest checks over the fuzz inputs: {:?}", &spent[..5]);
}

#[test]
fn the_stream_guard_survives_random_streams() {
    let policies: Vec<Arc<Policy>> = catalogue::all()
        .filter(|e| (e.build)(&params(e.id)).is_ok())
        .filter(|e| e.family != "request")
        .map(|e| {
            let mut check = params(e.id);
            check["check"] = json!(e.id);
            let raw = json!({"id": format!("p-{}", e.id), "action": "flag", "stages": ["output"], "checks": [check]});
            Arc::new(Policy::build(serde_json::from_value(raw).unwrap()).unwrap())
        })
        .collect();
    let mut rng = fastrand::Rng::with_seed(5);
    for text in inputs().into_iter().step_by(4).take(60) {
        let mut g = Guarded {
            set: PolicySet {
                policies: policies.clone(),
            },
            ..Guarded::default()
        };
        for hold in [HoldBack::Window, HoldBack::None] {
            let mut guard = StreamGuard::new(&g, Shape::Chat, hold).unwrap();
            let mut stream = Vec::new();
            let chars: Vec<char> = text.chars().collect();
            for piece in chars.chunks(rng.usize(1..40)) {
                let s: String = piece.iter().collect();
                let ev = json!({"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": s}, "finish_reason": null}]});
                stream.extend_from_slice(format!("data: {ev}\n\n").as_bytes());
            }
            stream.extend_from_slice(b"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
            // Fed in random byte pieces, some cutting UTF-8 characters.
            let mut at = 0;
            while at < stream.len() {
                let end = (at + rng.usize(1..200)).min(stream.len());
                guard.feed(&mut g, &stream[at..end]);
                at = end;
            }
            guard.finish(&mut g);
        }
    }
}

#[test]
fn every_check_builds_with_the_parameters_used_here() {
    let failed: Vec<String> = catalogue::all()
        .filter_map(|e| {
            (e.build)(&params(e.id))
                .err()
                .map(|err| format!("{}: {err}", e.id))
        })
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
}
