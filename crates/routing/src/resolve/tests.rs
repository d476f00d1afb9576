use super::*;
use std::collections::HashMap;

fn cfg(yaml: &str, env: &[(&str, &str)]) -> Config {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    switchyard_config::from_yaml(yaml, &env).unwrap()
}

fn name_of<'a>(c: &'a Config, r: &Resolved<'_>) -> &'a str {
    &c.providers[r.provider].name
}

#[test]
fn provider_prefix_and_bare_names() {
    let c = cfg(
        "",
        &[
            ("OPENAI_API_KEY", "x"),
            ("GROQ_API_KEY", "y"),
            ("XAI_API_KEY", "z"),
        ],
    );
    let ix = ModelIndex::build(&c).unwrap();
    let r = ix.resolve("openai/gpt-4o-mini").unwrap();
    assert_eq!((name_of(&c, &r), r.model), ("openai", "gpt-4o-mini"));
    let r = ix.resolve("gpt-4o-mini").unwrap();
    assert_eq!((name_of(&c, &r), r.model), ("openai", "gpt-4o-mini"));
    let r = ix.resolve("groq/llama-3.3-70b-versatile").unwrap();
    assert_eq!(
        (name_of(&c, &r), r.model),
        ("groq", "llama-3.3-70b-versatile")
    );
    // Listed in Groq's preset models.
    let r = ix.resolve("llama-3.1-8b-instant").unwrap();
    assert_eq!(name_of(&c, &r), "groq");
    // Claimed by xAI's prefix.
    let r = ix.resolve("grok-9-future").unwrap();
    assert_eq!(name_of(&c, &r), "xai");
    // Nobody claims it, and there are three providers.
    assert_eq!(ix.resolve("mystery-model"), Err(ResolveError::UnknownModel));
}

#[test]
fn model_names_with_slashes_that_are_not_providers() {
    let c = cfg("", &[("TOGETHER_API_KEY", "x"), ("OPENAI_API_KEY", "y")]);
    let ix = ModelIndex::build(&c).unwrap();
    let r = ix
        .resolve("together/meta-llama/Llama-3.3-70B-Instruct-Turbo")
        .unwrap();
    assert_eq!(
        (name_of(&c, &r), r.model),
        ("together", "meta-llama/Llama-3.3-70B-Instruct-Turbo")
    );
    let r = ix
        .resolve("meta-llama/Llama-3.3-70B-Instruct-Turbo")
        .unwrap();
    assert_eq!(name_of(&c, &r), "together");
    assert_eq!(ix.resolve("openai/"), Err(ResolveError::UnknownModel));
}

#[test]
fn single_provider_takes_everything() {
    let c = cfg("", &[("OPENAI_API_KEY", "x")]);
    let ix = ModelIndex::build(&c).unwrap();
    let r = ix.resolve("some-new-model").unwrap();
    assert_eq!((r.provider, r.model), (0, "some-new-model"));
}

#[test]
fn no_providers() {
    let c = cfg("", &[]);
    let ix = ModelIndex::build(&c).unwrap();
    assert_eq!(ix.resolve("gpt-4o"), Err(ResolveError::NoProviders));
}

#[test]
fn configured_models_win_over_preset_lists_and_order_breaks_ties() {
    let yaml =
        "providers:\n  - name: proxy\n    base_url: http://127.0.0.1:1/v1\n    models: [gpt-4o]\n";
    let c = cfg(yaml, &[("OPENAI_API_KEY", "x")]);
    let ix = ModelIndex::build(&c).unwrap();
    assert_eq!(name_of(&c, &ix.resolve("gpt-4o").unwrap()), "proxy");
    assert_eq!(name_of(&c, &ix.resolve("gpt-4o-mini").unwrap()), "openai");
}

#[test]
fn aliases_resolve_through_chains() {
    let yaml = "aliases:\n  fast: groq/llama-3.1-8b-instant\n  default: fast\n  smart: gpt-4o\n";
    let c = cfg(yaml, &[("OPENAI_API_KEY", "x"), ("GROQ_API_KEY", "y")]);
    let ix = ModelIndex::build(&c).unwrap();
    let r = ix.resolve("default").unwrap();
    assert_eq!((name_of(&c, &r), r.model), ("groq", "llama-3.1-8b-instant"));
    let r = ix.resolve("smart").unwrap();
    assert_eq!((name_of(&c, &r), r.model), ("openai", "gpt-4o"));
}

#[test]
fn bad_aliases_are_config_errors() {
    let yaml = "aliases:\n  a: b\n  b: a\n  c: nobody/knows\n";
    let c = cfg(yaml, &[("OPENAI_API_KEY", "x"), ("GROQ_API_KEY", "y")]);
    let errs: Vec<String> = ModelIndex::build(&c)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        errs,
        vec![
            "aliases.a: alias chain starting here loops or is deeper than 8",
            "aliases.b: alias chain starting here loops or is deeper than 8",
            "aliases.c: target \"nobody/knows\" matches no configured provider; write it as provider/model",
        ]
    );
}

#[test]
fn listing_has_aliases_bare_and_qualified_ids() {
    let yaml = "aliases:\n  fast: groq/llama-3.1-8b-instant\n";
    let c = cfg(yaml, &[("OPENAI_API_KEY", "x"), ("GROQ_API_KEY", "y")]);
    let ix = ModelIndex::build(&c).unwrap();
    let ids: Vec<String> = ix.listing(&c).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids[0], "fast");
    assert!(ids.contains(&"gpt-4o-mini".to_string()));
    assert!(ids.contains(&"openai/gpt-4o-mini".to_string()));
    assert!(ids.contains(&"groq/llama-3.1-8b-instant".to_string()));
    assert!(ids.contains(&"llama-3.1-8b-instant".to_string()));
}
