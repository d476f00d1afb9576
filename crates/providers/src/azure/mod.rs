//! Azure OpenAI: OpenAI's wire format at deployment-based URLs,
//! `{endpoint}/openai/deployments/{deployment}/{operation}?api-version={version}`, with the key in
//! an `api-key` header (or a Microsoft Entra token as Bearer). The model name is the deployment.

use crate::Operation;

/// The latest GA data-plane inference version in Azure's REST reference.
pub const DEFAULT_API_VERSION: &str = "2024-10-21";

/// Deployment names are letters, digits, `-`, `_` and `.`; anything else could alter the URL.
pub fn valid_deployment(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The request path for an operation on a deployment; `None` for operations Azure lacks here.
pub fn path(op: Operation, deployment: &str, api_version: &str) -> Option<String> {
    if op == Operation::Responses {
        // The Responses API is served on Azure's v1 surface, the deployment named in the body.
        return Some("/openai/v1/responses".to_owned());
    }
    let tail = crate::openai_compat::path(op)?;
    Some(format!(
        "/openai/deployments/{deployment}{tail}?api-version={api_version}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_paths() {
        assert_eq!(
            path(Operation::ChatCompletions, "gpt-4o", "2024-10-21").as_deref(),
            Some("/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21")
        );
        assert_eq!(
            path(Operation::Embeddings, "emb-3", "2024-10-21").as_deref(),
            Some("/openai/deployments/emb-3/embeddings?api-version=2024-10-21")
        );
        assert_eq!(path(Operation::Messages, "x", "v"), None);
        assert_eq!(
            path(Operation::Responses, "gpt-5", "2024-10-21").as_deref(),
            Some("/openai/v1/responses")
        );
        assert!(valid_deployment("gpt-4o.mini_2"));
        assert!(!valid_deployment("a/b") && !valid_deployment("a?b") && !valid_deployment(""));
    }
}
