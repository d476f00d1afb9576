use super::*;

const SAMPLE: &str = r#"{
  "sources": {"openai": "test"},
  "models": {
    "openai/gpt-x": {"input": 2.5, "output": 10, "cached_input": 1.25, "context_window": 128000,
                     "capabilities": ["chat", "tools"]},
    "azure/gpt-x": {"input": 2.75, "output": 11},
    "anthropic/claude-y": {"input": 3, "output": 15, "cached_input": 0.3, "cache_write": 3.75}
  }
}"#;

#[test]
fn exact_key_wins_over_the_same_model_elsewhere() {
    let c = Catalog::from_json(SAMPLE).unwrap();
    let (key, e) = c.lookup("azure", "gpt-x").unwrap();
    assert_eq!(key, "azure/gpt-x");
    assert_eq!(e.input, Some(2.75));
}

#[test]
fn dated_names_find_the_undated_entry() {
    let c = Catalog::from_json(SAMPLE).unwrap();
    assert_eq!(
        c.lookup("anthropic", "claude-y-20250929").unwrap().0,
        "anthropic/claude-y"
    );
    assert_eq!(
        c.lookup("openai", "gpt-x-2024-08-06").unwrap().0,
        "openai/gpt-x"
    );
    assert!(c.lookup("openai", "gpt-x-2024-08").is_none());
}

#[test]
fn knows_a_model_under_any_namespace_dated_or_not() {
    let c = Catalog::from_json(SAMPLE).unwrap();
    assert!(c.knows("gpt-x") && c.knows("claude-y-20250929") && c.knows("gpt-x-2024-08-06"));
    assert!(!c.knows("gpt-x-2024-08") && !c.knows("openai/gpt-x") && !c.knows("made-up"));
}

#[test]
fn an_unknown_namespace_falls_back_to_the_model_name() {
    let c = Catalog::from_json(SAMPLE).unwrap();
    // First key in order that carries the model: azure/ sorts before openai/.
    assert_eq!(c.lookup("openrouter", "gpt-x").unwrap().0, "azure/gpt-x");
    assert!(c.lookup("openai", "nothing-like-it").is_none());
}

#[test]
fn config_overrides_single_fields_and_adds_entries() {
    let mut c = Catalog::from_json(SAMPLE).unwrap();
    let patch = Entry {
        input: Some(1.0),
        ..Entry::default()
    };
    c.add("openai/gpt-x", &patch).unwrap();
    let e = c.lookup("openai", "gpt-x").unwrap().1;
    assert_eq!(
        (e.input, e.output, e.cached_input),
        (Some(1.0), Some(10.0), Some(1.25))
    );
    assert_eq!(e.context_window, Some(128000));

    c.add(
        "local/my-model",
        &Entry {
            input: Some(0.0),
            output: Some(0.0),
            ..Entry::default()
        },
    )
    .unwrap();
    let p = c.lookup("local", "my-model").unwrap().1.pricing().unwrap();
    assert_eq!(p.input, 0.0);
    assert_eq!(c.len(), 4);
}

#[test]
fn an_entry_without_both_prices_has_no_pricing() {
    let mut c = Catalog::default();
    c.add(
        "x/m",
        &Entry {
            input: Some(1.0),
            ..Entry::default()
        },
    )
    .unwrap();
    assert!(c.lookup("x", "m").unwrap().1.pricing().is_none());
}

#[test]
fn bad_keys_and_prices_are_refused_with_the_key() {
    let mut c = Catalog::default();
    let err = c.add("no-slash", &Entry::default()).unwrap_err();
    assert!(err.contains("no-slash"), "{err}");
    let err = c
        .add(
            "x/m",
            &Entry {
                output: Some(-1.0),
                ..Entry::default()
            },
        )
        .unwrap_err();
    assert!(err.contains("x/m.output"), "{err}");
}

#[test]
fn unknown_fields_in_the_data_file_point_at_the_field() {
    let text = r#"{"sources": {}, "models": {"a/b": {"inptu": 1}}}"#;
    let err = Catalog::from_json(text).unwrap_err();
    assert!(err.contains("models.a/b") && err.contains("inptu"), "{err}");
}

#[test]
fn strip_date_only_takes_dates() {
    assert_eq!(
        strip_date("claude-3-5-sonnet-20241022"),
        "claude-3-5-sonnet"
    );
    assert_eq!(strip_date("gpt-4o-2024-08-06"), "gpt-4o");
    assert_eq!(strip_date("gpt-4o"), "gpt-4o");
    assert_eq!(
        strip_date("text-embedding-3-large"),
        "text-embedding-3-large"
    );
    assert_eq!(strip_date("é-12345678"), "é");
    assert_eq!(strip_date("ééééééééé"), "ééééééééé");
}

#[test]
fn the_shipped_catalog_is_valid_and_priced() {
    let c = Catalog::builtin().unwrap();
    assert!(c.len() >= 500, "{} models", c.len());
    let mut with_window = 0;
    let mut chat = 0;
    for (key, e) in c.entries() {
        let p = e
            .pricing()
            .unwrap_or_else(|| panic!("{key} has no input/output price"));
        assert!(p.input >= 0.0 && p.output >= 0.0, "{key}");
        let caps = e.capabilities.as_deref().unwrap_or_default();
        assert!(!caps.is_empty(), "{key}: no capabilities");
        if !caps.iter().any(|c| c == "embeddings") {
            chat += 1;
            with_window += usize::from(e.context_window.is_some());
        }
    }
    // Nine in ten chat models at least say how long a prompt may be.
    assert!(with_window * 100 >= chat * 90, "{with_window} of {chat}");
    // Every native provider and the common presets have their own price list.
    for ns in [
        "openai",
        "anthropic",
        "gemini",
        "vertex",
        "bedrock",
        "azure",
        "cohere",
        "groq",
        "together",
        "fireworks",
        "deepseek",
        "mistral",
        "xai",
        "perplexity",
        "deepinfra",
        "cerebras",
    ] {
        let n = c
            .entries()
            .filter(|(k, _)| k.starts_with(&format!("{ns}/")))
            .count();
        assert!(n > 0, "no models under {ns}");
    }
    // What people run is priced.
    for (ns, model) in [("openai", "gpt-4o-mini"), ("anthropic", "claude-haiku-4-5")] {
        assert!(
            c.lookup(ns, model).and_then(|(_, e)| e.pricing()).is_some(),
            "{ns}/{model}"
        );
    }
}
