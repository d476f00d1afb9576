//! OpenAI-compatible hosts as data: base URL, auth style, environment variables and the model
//! names each one claims. Sources and dates for every row are in docs/providers.md.

use crate::ProviderKind;

/// How a preset sends its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresetAuth {
    /// `Authorization: Bearer <key>`; a key is required.
    Bearer,
    /// `Authorization: Bearer <key>` when a key is set; local servers that accept none.
    OptionalBearer,
    /// The key alone in the named header; a key is required.
    Header(&'static str),
}

impl PresetAuth {
    /// How requests carry the key.
    pub fn style(self) -> crate::AuthStyle {
        match self {
            PresetAuth::Bearer | PresetAuth::OptionalBearer => crate::AuthStyle::Bearer,
            PresetAuth::Header(h) => crate::AuthStyle::Header(h.to_owned()),
        }
    }

    /// Whether a provider from this preset needs a key to be usable.
    pub fn key_required(self) -> bool {
        !matches!(self, PresetAuth::OptionalBearer)
    }
}

/// One known host.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    /// The provider name used in `provider/model` and in config.
    pub name: &'static str,
    pub display: &'static str,
    pub kind: ProviderKind,
    pub base_url: &'static str,
    pub auth: PresetAuth,
    /// Environment variable holding the API key.
    pub key_env: &'static str,
    /// Environment variable overriding the base URL.
    pub base_url_env: &'static str,
    /// Bare model names starting with one of these route here when no alias or model list matches.
    pub model_prefixes: &'static [&'static str],
    /// Models listed by GET /v1/models when the config gives no list of its own.
    pub models: &'static [&'static str],
    /// Azure OpenAI: deployment URLs and an api-version. Its base URL has no default.
    pub azure: bool,
}

const fn hosted(
    name: &'static str,
    display: &'static str,
    base_url: &'static str,
    key_env: &'static str,
    base_url_env: &'static str,
    model_prefixes: &'static [&'static str],
    models: &'static [&'static str],
) -> Preset {
    Preset {
        name,
        display,
        kind: ProviderKind::OpenAiCompatible,
        base_url,
        auth: PresetAuth::Bearer,
        key_env,
        base_url_env,
        model_prefixes,
        models,
        azure: false,
    }
}

const fn local(
    name: &'static str,
    display: &'static str,
    base_url: &'static str,
    key_env: &'static str,
    base_url_env: &'static str,
) -> Preset {
    Preset {
        name,
        display,
        kind: ProviderKind::OpenAiCompatible,
        base_url,
        auth: PresetAuth::OptionalBearer,
        key_env,
        base_url_env,
        model_prefixes: &[],
        models: &[],
        azure: false,
    }
}

/// Every preset, in the order bare model names are matched against them.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "anthropic",
        display: "Anthropic (Messages API, translated)",
        kind: ProviderKind::Anthropic,
        // Like Anthropic's SDKs, the base URL has no /v1; the adapter appends /v1/messages.
        base_url: "https://api.anthropic.com",
        auth: PresetAuth::Header("x-api-key"),
        key_env: "ANTHROPIC_API_KEY",
        base_url_env: "ANTHROPIC_BASE_URL",
        model_prefixes: &["claude-"],
        models: &["claude-sonnet-4-6", "claude-opus-4-7", "claude-haiku-4-5"],
        azure: false,
    },
    Preset {
        name: "gemini",
        display: "Google Gemini API (translated)",
        kind: ProviderKind::Gemini,
        // As in Google's SDKs, the base URL is the host; the adapter appends /v1beta/models/...
        base_url: "https://generativelanguage.googleapis.com",
        auth: PresetAuth::Header("x-goog-api-key"),
        key_env: "GEMINI_API_KEY",
        base_url_env: "GEMINI_BASE_URL",
        model_prefixes: &["gemini-"],
        models: &[
            "gemini-2.5-pro",
            "gemini-2.5-flash",
            "gemini-2.5-flash-lite",
            "gemini-3-pro-preview",
            "gemini-embedding-001",
        ],
        azure: false,
    },
    Preset {
        name: "cohere",
        display: "Cohere (v2 API, translated)",
        kind: ProviderKind::Cohere,
        // As in Cohere's SDKs, the base URL is the host; the adapter appends /v2/chat, /v2/embed.
        base_url: "https://api.cohere.com",
        auth: PresetAuth::Bearer,
        key_env: "COHERE_API_KEY",
        base_url_env: "COHERE_BASE_URL",
        model_prefixes: &["command-", "c4ai-", "embed-"],
        models: &[
            "command-a-03-2025",
            "command-a-reasoning-08-2025",
            "command-a-vision-07-2025",
            "command-r-plus-08-2024",
            "command-r7b-12-2024",
            "embed-v4.0",
            "embed-english-v3.0",
        ],
        azure: false,
    },
    Preset {
        name: "vertex",
        display: "Google Cloud Vertex AI (Gemini and Claude, translated)",
        kind: ProviderKind::Vertex,
        // No fixed default: `https://{location}-aiplatform.googleapis.com`, from the region.
        base_url: "",
        auth: PresetAuth::Bearer,
        // The service-account key file; GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION as well.
        key_env: "GOOGLE_APPLICATION_CREDENTIALS",
        base_url_env: "VERTEX_BASE_URL",
        model_prefixes: &[],
        models: &[],
        azure: false,
    },
    Preset {
        name: "bedrock",
        display: "Amazon Bedrock (Converse API, translated)",
        kind: ProviderKind::Bedrock,
        // No fixed default: `https://bedrock-runtime.{region}.amazonaws.com`, from AWS_REGION.
        base_url: "",
        auth: PresetAuth::Bearer,
        // With AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN); or AWS_BEARER_TOKEN_BEDROCK alone.
        key_env: "AWS_ACCESS_KEY_ID",
        // The AWS SDKs' own per-service endpoint variable.
        base_url_env: "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
        model_prefixes: &[
            "anthropic.",
            "us.",
            "eu.",
            "apac.",
            "global.",
            "amazon.",
            "meta.",
            "mistral.",
            "cohere.",
            "ai21.",
            "deepseek.",
            "qwen.",
        ],
        models: &[
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "us.anthropic.claude-haiku-4-5-20251001-v1:0",
            "amazon.nova-pro-v1:0",
            "amazon.nova-lite-v1:0",
            "us.meta.llama3-3-70b-instruct-v1:0",
            "mistral.mistral-large-2407-v1:0",
            "cohere.command-r-plus-v1:0",
            "amazon.titan-embed-text-v2:0",
            "cohere.embed-english-v3",
        ],
        azure: false,
    },
    Preset {
        name: "azure",
        display: "Azure OpenAI",
        kind: ProviderKind::OpenAiCompatible,
        // No default: every resource has its own endpoint (AZURE_OPENAI_ENDPOINT).
        base_url: "",
        auth: PresetAuth::Header("api-key"),
        key_env: "AZURE_OPENAI_API_KEY",
        base_url_env: "AZURE_OPENAI_ENDPOINT",
        model_prefixes: &[],
        models: &[],
        azure: true,
    },
    hosted(
        "openai",
        "OpenAI",
        "https://api.openai.com/v1",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        &[
            "gpt-",
            "o1",
            "o3",
            "o4",
            "chatgpt-",
            "text-embedding-",
            "davinci-",
            "babbage-",
            "omni-moderation",
            "codex-",
        ],
        &[
            "gpt-5.5",
            "gpt-5.4-mini",
            "gpt-5-mini",
            "gpt-4o",
            "gpt-4o-mini",
            "gpt-4.1",
            "gpt-4.1-mini",
            "o3",
            "o4-mini",
            "gpt-3.5-turbo-instruct",
            "text-embedding-3-small",
            "text-embedding-3-large",
        ],
    ),
    hosted(
        "groq",
        "Groq",
        "https://api.groq.com/openai/v1",
        "GROQ_API_KEY",
        "GROQ_BASE_URL",
        &[],
        &[
            "llama-3.3-70b-versatile",
            "llama-3.1-8b-instant",
            "openai/gpt-oss-120b",
        ],
    ),
    hosted(
        "deepseek",
        "DeepSeek",
        "https://api.deepseek.com",
        "DEEPSEEK_API_KEY",
        "DEEPSEEK_BASE_URL",
        &["deepseek-"],
        &[
            "deepseek-v4-flash",
            "deepseek-v4-pro",
            "deepseek-chat",
            "deepseek-reasoner",
        ],
    ),
    hosted(
        "mistral",
        "Mistral AI",
        "https://api.mistral.ai/v1",
        "MISTRAL_API_KEY",
        "MISTRAL_BASE_URL",
        &[
            "mistral-",
            "open-mistral",
            "open-mixtral",
            "codestral",
            "pixtral",
            "ministral",
            "magistral",
            "devstral",
        ],
        &[
            "mistral-large-latest",
            "mistral-small-latest",
            "codestral-latest",
            "mistral-embed",
        ],
    ),
    hosted(
        "xai",
        "xAI",
        "https://api.x.ai/v1",
        "XAI_API_KEY",
        "XAI_BASE_URL",
        &["grok-"],
        &["grok-4", "grok-4-fast-reasoning", "grok-code-fast-1"],
    ),
    hosted(
        "together",
        "Together AI",
        "https://api.together.ai/v1",
        "TOGETHER_API_KEY",
        "TOGETHER_BASE_URL",
        &[],
        &[
            "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            "deepseek-ai/DeepSeek-V3",
        ],
    ),
    hosted(
        "fireworks",
        "Fireworks AI",
        "https://api.fireworks.ai/inference/v1",
        "FIREWORKS_API_KEY",
        "FIREWORKS_BASE_URL",
        &["accounts/fireworks/"],
        &["accounts/fireworks/models/llama-v3p3-70b-instruct"],
    ),
    hosted(
        "openrouter",
        "OpenRouter",
        "https://openrouter.ai/api/v1",
        "OPENROUTER_API_KEY",
        "OPENROUTER_BASE_URL",
        &[],
        &["openai/gpt-4o-mini", "anthropic/claude-sonnet-4"],
    ),
    hosted(
        "perplexity",
        "Perplexity",
        "https://api.perplexity.ai",
        "PERPLEXITY_API_KEY",
        "PERPLEXITY_BASE_URL",
        &["sonar"],
        &["sonar", "sonar-pro", "sonar-reasoning-pro"],
    ),
    hosted(
        "cerebras",
        "Cerebras",
        "https://api.cerebras.ai/v1",
        "CEREBRAS_API_KEY",
        "CEREBRAS_BASE_URL",
        &[],
        &["gpt-oss-120b", "llama3.1-8b"],
    ),
    hosted(
        "deepinfra",
        "DeepInfra",
        "https://api.deepinfra.com/v1/openai",
        "DEEPINFRA_API_KEY",
        "DEEPINFRA_BASE_URL",
        &[],
        &["meta-llama/Llama-3.3-70B-Instruct"],
    ),
    hosted(
        "nebius",
        "Nebius Token Factory",
        "https://api.tokenfactory.nebius.com/v1",
        "NEBIUS_API_KEY",
        "NEBIUS_BASE_URL",
        &[],
        &["meta-llama/Llama-3.3-70B-Instruct"],
    ),
    hosted(
        "sambanova",
        "SambaNova Cloud",
        "https://api.sambanova.ai/v1",
        "SAMBANOVA_API_KEY",
        "SAMBANOVA_BASE_URL",
        &[],
        &["Meta-Llama-3.3-70B-Instruct"],
    ),
    hosted(
        "hyperbolic",
        "Hyperbolic",
        "https://api.hyperbolic.xyz/v1",
        "HYPERBOLIC_API_KEY",
        "HYPERBOLIC_BASE_URL",
        &[],
        &["meta-llama/Llama-3.3-70B-Instruct"],
    ),
    hosted(
        "novita",
        "Novita AI",
        "https://api.novita.ai/openai/v1",
        "NOVITA_API_KEY",
        "NOVITA_BASE_URL",
        &[],
        &["meta-llama/llama-3.3-70b-instruct"],
    ),
    hosted(
        "lambda",
        "Lambda Inference",
        "https://api.lambda.ai/v1",
        "LAMBDA_API_KEY",
        "LAMBDA_BASE_URL",
        &[],
        &["llama3.3-70b-instruct-fp8"],
    ),
    hosted(
        "moonshot",
        "Moonshot AI (Kimi)",
        "https://api.moonshot.ai/v1",
        "MOONSHOT_API_KEY",
        "MOONSHOT_BASE_URL",
        &["moonshot-", "kimi-"],
        &["kimi-k2.6", "kimi-k2.5", "moonshot-v1-8k"],
    ),
    hosted(
        "dashscope",
        "Alibaba Cloud Model Studio (Qwen)",
        "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
        "DASHSCOPE_API_KEY",
        "DASHSCOPE_BASE_URL",
        &["qwen-", "qwen3-", "qwq-"],
        &["qwen3-max", "qwen-plus", "qwen-flash"],
    ),
    hosted(
        "zhipu",
        "Zhipu AI (GLM)",
        "https://open.bigmodel.cn/api/paas/v4",
        "ZHIPUAI_API_KEY",
        "ZHIPUAI_BASE_URL",
        &["glm-"],
        &["glm-4.6", "glm-4.5-air"],
    ),
    hosted(
        "zai",
        "Z.ai (GLM, international)",
        "https://api.z.ai/api/paas/v4",
        "ZAI_API_KEY",
        "ZAI_BASE_URL",
        &[],
        &["glm-4.6", "glm-4.5-air"],
    ),
    hosted(
        "featherless",
        "Featherless",
        "https://api.featherless.ai/v1",
        "FEATHERLESS_API_KEY",
        "FEATHERLESS_BASE_URL",
        &[],
        &["Qwen/Qwen2.5-7B-Instruct"],
    ),
    hosted(
        "nvidia",
        "NVIDIA NIM",
        "https://integrate.api.nvidia.com/v1",
        "NVIDIA_API_KEY",
        "NVIDIA_BASE_URL",
        &[],
        &["meta/llama-3.3-70b-instruct"],
    ),
    hosted(
        "github",
        "GitHub Models",
        "https://models.github.ai/inference",
        "GITHUB_TOKEN",
        "GITHUB_MODELS_BASE_URL",
        &[],
        &["openai/gpt-4.1", "openai/gpt-4o-mini"],
    ),
    local(
        "ollama",
        "Ollama",
        "http://localhost:11434/v1",
        "OLLAMA_API_KEY",
        "OLLAMA_BASE_URL",
    ),
    local(
        "vllm",
        "vLLM",
        "http://localhost:8000/v1",
        "VLLM_API_KEY",
        "VLLM_BASE_URL",
    ),
    local(
        "lmstudio",
        "LM Studio",
        "http://localhost:1234/v1",
        "LMSTUDIO_API_KEY",
        "LMSTUDIO_BASE_URL",
    ),
    local(
        "llamacpp",
        "llama.cpp server",
        "http://localhost:8080/v1",
        "LLAMACPP_API_KEY",
        "LLAMACPP_BASE_URL",
    ),
];

/// Looks a preset up by name.
pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_and_env_vars_are_unique() {
        let names: HashSet<_> = PRESETS.iter().map(|p| p.name).collect();
        assert_eq!(names.len(), PRESETS.len());
        let keys: HashSet<_> = PRESETS.iter().map(|p| p.key_env).collect();
        assert_eq!(keys.len(), PRESETS.len());
        assert!(PRESETS.len() >= 25);
        let compatible = PRESETS
            .iter()
            .filter(|p| p.kind == ProviderKind::OpenAiCompatible)
            .count();
        assert!(compatible >= 25);
    }

    #[test]
    fn base_urls_have_no_trailing_slash_and_a_scheme() {
        for p in PRESETS.iter().filter(|p| !p.base_url.is_empty()) {
            assert!(!p.base_url.ends_with('/'), "{}", p.name);
            assert!(p.base_url.starts_with("http"), "{}", p.name);
            assert!(p.base_url_env.ends_with("_BASE_URL"), "{}", p.name);
        }
    }

    #[test]
    fn find_by_name() {
        assert_eq!(find("groq").map(|p| p.key_env), Some("GROQ_API_KEY"));
        assert!(find("opneai").is_none());
    }
}
