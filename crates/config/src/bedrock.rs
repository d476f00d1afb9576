//! Bedrock settings: region and AWS credentials, from the provider's fields or the standard AWS
//! environment variables.

use crate::error::ConfigError;
use crate::runtime::{AwsCredentials, BedrockSettings};
use crate::{EnvSource, Secret};
use switchyard_providers::bedrock::default_base_url;

/// The region used when none is configured.
pub const DEFAULT_REGION: &str = "us-east-1";

/// What the provider's config says about Bedrock.
pub(crate) struct Wanted<'a> {
    pub region: Option<&'a str>,
    pub access_key_id: Option<&'a str>,
    pub secret_access_key: Option<&'a str>,
    pub session_token: Option<&'a str>,
    /// A Bedrock API key (sent as Bearer) was given: no signing keys needed.
    pub has_api_key: bool,
}

/// Resolves the settings and the default base URL; errors are reported under `path`.
pub(crate) fn settings(
    w: &Wanted<'_>,
    path: &str,
    env: &dyn EnvSource,
    errors: &mut Vec<ConfigError>,
) -> Option<(BedrockSettings, String)> {
    let region = w
        .region
        .map(str::to_owned)
        .or_else(|| env.var("AWS_REGION"))
        .or_else(|| env.var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| DEFAULT_REGION.to_owned());
    let ok_region = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok_region {
        errors.push(ConfigError::new(
            format!("{path}.region"),
            format!("\"{region}\" is not an AWS region name"),
        ));
        return None;
    }
    let key = w
        .access_key_id
        .map(str::to_owned)
        .or_else(|| env.var("AWS_ACCESS_KEY_ID"));
    let secret = w
        .secret_access_key
        .map(str::to_owned)
        .or_else(|| env.var("AWS_SECRET_ACCESS_KEY"));
    let token = w
        .session_token
        .map(str::to_owned)
        .or_else(|| env.var("AWS_SESSION_TOKEN"));
    let credentials = match (key, secret) {
        (Some(k), Some(s)) => Some(AwsCredentials {
            access_key_id: k,
            secret_access_key: Secret::new(s),
            session_token: token.map(Secret::new),
        }),
        _ if w.has_api_key => None,
        (Some(_), None) => {
            errors.push(ConfigError::new(
                format!("{path}.aws_secret_access_key"),
                "required with an access key id: set it or AWS_SECRET_ACCESS_KEY",
            ));
            return None;
        }
        (None, _) => {
            errors.push(ConfigError::new(
                format!("{path}.aws_access_key_id"),
                "Bedrock needs credentials: aws_access_key_id and aws_secret_access_key (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or api_key set to a Bedrock API key",
            ));
            return None;
        }
    };
    let base = default_base_url(&region);
    Some((
        BedrockSettings {
            region,
            credentials,
        },
        base,
    ))
}
