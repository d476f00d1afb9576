//! Reading a published, machine-readable price list into catalog entries. The format read is
//! LiteLLM's `model_prices_and_context_window.json` (MIT-licensed data: per-token prices in US
//! dollars, context windows, capabilities, keyed by model with a `litellm_provider`), the most
//! complete public list; each model lands under the namespace of the gateway's preset or native
//! provider that serves it. Modes other than chat, completion, responses and embeddings (images,
//! audio, moderation, rerank) are left out, as are entries without a price.

use super::{Entry, LongContext};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// LiteLLM's provider name → the catalog namespace (a preset's or a native format's name).
const NAMESPACES: &[(&str, &str)] = &[
    ("openai", "openai"),
    ("text-completion-openai", "openai"),
    ("anthropic", "anthropic"),
    ("gemini", "gemini"),
    ("vertex_ai", "vertex"),
    ("vertex_ai-language-models", "vertex"),
    ("vertex_ai-anthropic_models", "vertex"),
    ("vertex_ai-embedding-models", "vertex"),
    ("vertex_ai-text-models", "vertex"),
    ("vertex_ai-chat-models", "vertex"),
    ("vertex_ai-mistral_models", "vertex"),
    ("vertex_ai-llama_models", "vertex"),
    ("vertex_ai-ai21_models", "vertex"),
    ("vertex_ai-deepseek_models", "vertex"),
    ("vertex_ai-qwen_models", "vertex"),
    ("vertex_ai-openai_models", "vertex"),
    ("bedrock", "bedrock"),
    ("bedrock_converse", "bedrock"),
    ("azure", "azure"),
    ("azure_ai", "azure"),
    ("cohere", "cohere"),
    ("cohere_chat", "cohere"),
    ("groq", "groq"),
    ("together_ai", "together"),
    ("fireworks_ai", "fireworks"),
    ("fireworks_ai-embedding-models", "fireworks"),
    ("deepseek", "deepseek"),
    ("mistral", "mistral"),
    ("codestral", "mistral"),
    ("xai", "xai"),
    ("perplexity", "perplexity"),
    ("openrouter", "openrouter"),
    ("cerebras", "cerebras"),
    ("deepinfra", "deepinfra"),
    ("sambanova", "sambanova"),
    ("nvidia_nim", "nvidia"),
    ("hyperbolic", "hyperbolic"),
    ("novita", "novita"),
    ("nebius", "nebius"),
    ("lambda_ai", "lambda"),
    ("moonshot", "moonshot"),
    ("dashscope", "dashscope"),
    ("ollama", "ollama"),
    ("voyage", "voyage"),
    ("ai21", "ai21"),
    ("featherless_ai", "featherless"),
    ("github_copilot", "github"),
    ("databricks", "databricks"),
    ("watsonx", "watsonx"),
    ("cloudflare", "cloudflare"),
    ("replicate", "replicate"),
    ("baseten", "baseten"),
    ("snowflake", "snowflake"),
    ("vercel_ai_gateway", "vercel"),
];

/// The modes kept.
const MODES: &[&str] = &["chat", "completion", "responses", "embedding"];

fn namespace(provider: &str) -> Option<&'static str> {
    NAMESPACES
        .iter()
        .find(|(p, _)| *p == provider)
        .map(|(_, ns)| *ns)
}

/// Per-token dollars → dollars per million tokens, rounded to a millionth of a cent.
fn per_million(v: Option<&Value>) -> Option<f64> {
    let x = v?.as_f64()?;
    (x.is_finite() && x >= 0.0).then(|| (x * 1e6 * 1e8).round() / 1e8)
}

/// The long-context tier: LiteLLM's `*_above_<N>k_tokens` prices with the smallest N.
fn long_context(m: &Map<String, Value>) -> Option<LongContext> {
    let mut best: Option<(u64, String)> = None;
    for k in m.keys() {
        let Some(rest) = k.strip_prefix("input_cost_per_token_above_") else {
            continue;
        };
        let Some(num) = rest.strip_suffix("k_tokens") else {
            continue;
        };
        let Ok(n) = num.parse::<u64>() else {
            continue;
        };
        if best.as_ref().is_none_or(|(b, _)| n < *b) {
            best = Some((n, format!("above_{num}k_tokens")));
        }
    }
    let (n, suffix) = best?;
    Some(LongContext {
        above_tokens: n * 1000,
        input: per_million(m.get(&format!("input_cost_per_token_{suffix}")))?,
        output: per_million(m.get(&format!("output_cost_per_token_{suffix}"))),
        cached_input: per_million(m.get(&format!("cache_read_input_token_cost_{suffix}"))),
    })
}

/// The model's name under its provider: LiteLLM's key without the provider's own prefix
/// (`groq/llama-3.3-70b` → `llama-3.3-70b`; `vertex_ai/gemini-2.5-pro` → `gemini-2.5-pro`).
fn model_name<'a>(key: &'a str, provider: &str) -> &'a str {
    for prefix in [provider, provider.split('-').next().unwrap_or(provider)] {
        if let Some(rest) = key.strip_prefix(prefix).and_then(|r| r.strip_prefix('/')) {
            return rest;
        }
    }
    key
}

/// Converts a LiteLLM price list; entries keyed `<namespace>/<model>`.
pub fn from_litellm(doc: &Value) -> Result<BTreeMap<String, Entry>, String> {
    let all = doc
        .as_object()
        .ok_or("the price list is not a JSON object of models")?;
    let mut out = BTreeMap::new();
    for (key, v) in all {
        let Some(m) = v.as_object() else { continue };
        let Some(ns) = m
            .get("litellm_provider")
            .and_then(Value::as_str)
            .and_then(namespace)
        else {
            continue;
        };
        let mode = m.get("mode").and_then(Value::as_str).unwrap_or("chat");
        if !MODES.contains(&mode) {
            continue;
        }
        let (Some(input), output) = (
            per_million(m.get("input_cost_per_token")),
            per_million(m.get("output_cost_per_token")),
        ) else {
            continue;
        };
        let output = match (output, mode) {
            (Some(o), _) => o,
            (None, "embedding") => 0.0,
            (None, _) => continue,
        };
        let flag = |f: &str| m.get(f).and_then(Value::as_bool).unwrap_or(false);
        let mut caps: Vec<String> = Vec::new();
        if mode == "embedding" {
            caps.push("embeddings".into());
        } else {
            caps.push("chat".into());
        }
        for (field, cap) in [
            ("supports_function_calling", "tools"),
            ("supports_vision", "vision"),
            ("supports_response_schema", "json"),
            ("supports_reasoning", "reasoning"),
            ("supports_prompt_caching", "caching"),
        ] {
            if flag(field) {
                caps.push(cap.into());
            }
        }
        let tokens = |f: &str| m.get(f).and_then(Value::as_u64).filter(|n| *n > 0);
        let entry = Entry {
            input: Some(input),
            output: Some(output),
            cached_input: per_million(m.get("cache_read_input_token_cost")),
            cache_write: per_million(m.get("cache_creation_input_token_cost")),
            reasoning: per_million(m.get("output_cost_per_reasoning_token")),
            batch_input: per_million(m.get("input_cost_per_token_batches")),
            batch_output: per_million(m.get("output_cost_per_token_batches")),
            long_context: long_context(m),
            context_window: tokens("max_input_tokens").or_else(|| tokens("max_tokens")),
            max_output: tokens("max_output_tokens"),
            capabilities: Some(caps),
        };
        let name = model_name(key, m["litellm_provider"].as_str().unwrap_or(""));
        if name.is_empty() {
            continue;
        }
        out.entry(format!("{ns}/{name}")).or_insert(entry);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn litellm_entries_land_under_their_namespaces_in_dollars_per_million() {
        let doc = json!({
            "gpt-4o-mini": {"litellm_provider": "openai", "mode": "chat",
                "input_cost_per_token": 1.5e-7, "output_cost_per_token": 6e-7,
                "cache_read_input_token_cost": 7.5e-8, "input_cost_per_token_batches": 7.5e-8,
                "output_cost_per_token_batches": 3e-7, "max_input_tokens": 128000,
                "max_output_tokens": 16384, "supports_function_calling": true, "supports_vision": true},
            "groq/llama-3.3-70b-versatile": {"litellm_provider": "groq", "mode": "chat",
                "input_cost_per_token": 5.9e-7, "output_cost_per_token": 7.9e-7},
            "vertex_ai/gemini-2.5-pro": {"litellm_provider": "vertex_ai-language-models",
                "mode": "chat", "input_cost_per_token": 1.25e-6, "output_cost_per_token": 1e-5,
                "input_cost_per_token_above_200k_tokens": 2.5e-6,
                "output_cost_per_token_above_200k_tokens": 1.5e-5},
            "text-embedding-3-small": {"litellm_provider": "openai", "mode": "embedding",
                "input_cost_per_token": 2e-8},
            "dall-e-3": {"litellm_provider": "openai", "mode": "image_generation",
                "input_cost_per_pixel": 1e-8},
            "free-model": {"litellm_provider": "openai", "mode": "chat"},
            "sample_spec": {"litellm_provider": "one of ...", "input_cost_per_token": 0.0}
        });
        let got = from_litellm(&doc).unwrap();
        let keys: Vec<&str> = got.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "groq/llama-3.3-70b-versatile",
                "openai/gpt-4o-mini",
                "openai/text-embedding-3-small",
                "vertex/gemini-2.5-pro"
            ]
        );
        let mini = &got["openai/gpt-4o-mini"];
        assert_eq!((mini.input, mini.output), (Some(0.15), Some(0.6)));
        assert_eq!(
            (mini.cached_input, mini.batch_input, mini.batch_output),
            (Some(0.075), Some(0.075), Some(0.3))
        );
        assert_eq!(
            (mini.context_window, mini.max_output),
            (Some(128_000), Some(16_384))
        );
        assert_eq!(
            mini.capabilities.as_deref(),
            Some(&["chat".to_owned(), "tools".to_owned(), "vision".to_owned()][..])
        );
        let pro = &got["vertex/gemini-2.5-pro"];
        assert_eq!(
            pro.long_context,
            Some(LongContext {
                above_tokens: 200_000,
                input: 2.5,
                output: Some(15.0),
                cached_input: None
            })
        );
        assert_eq!(got["openai/text-embedding-3-small"].output, Some(0.0));
    }
}
