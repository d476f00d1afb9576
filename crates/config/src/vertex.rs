//! Vertex AI settings: project, region and credentials, from the provider's fields, the standard
//! Google Cloud environment variables and the service-account key file.

use crate::error::ConfigError;
use crate::runtime::{ServiceAccount, VertexSettings};
use crate::{EnvSource, Secret};
use serde::Deserialize;
use switchyard_providers::vertex::{default_base_url, Location, DEFAULT_LOCATION};

/// Google's token endpoint, used when the key file names none.
pub const DEFAULT_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";

/// The fields of a service-account key file that signing a token request needs.
#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: Option<String>,
    project_id: Option<String>,
    private_key_id: Option<String>,
    private_key: String,
    client_email: String,
    token_uri: Option<String>,
}

/// A service account from the text of its key file (as the credential vault stores it): its
/// email, key and token endpoint (`token_uri`, else Google's).
pub fn service_account_from_json(text: &str) -> Result<ServiceAccount, String> {
    let k: KeyFile =
        serde_json::from_str(text).map_err(|e| format!("not a service-account key file: {e}"))?;
    if k.kind.as_deref().is_some_and(|t| t != "service_account") {
        return Err(format!(
            "a \"{}\" credential; Vertex needs a service-account key file",
            k.kind.unwrap_or_default()
        ));
    }
    Ok(ServiceAccount {
        client_email: k.client_email,
        private_key_id: k.private_key_id,
        private_key_pem: Secret::new(k.private_key),
        token_url: k.token_uri.unwrap_or_else(|| DEFAULT_TOKEN_URL.to_owned()),
    })
}

/// What the provider's config says about Vertex.
pub(crate) struct Wanted<'a> {
    pub project: Option<&'a str>,
    pub location: Option<&'a str>,
    pub credentials_file: Option<&'a str>,
    pub token_url: Option<&'a str>,
    /// An access token given directly (api_key): no service account needed.
    pub has_static_token: bool,
}

fn read_key_file(file: &str, at: &str, errors: &mut Vec<ConfigError>) -> Option<KeyFile> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            errors.push(ConfigError::new(at, format!("cannot read {file}: {e}")));
            return None;
        }
    };
    match serde_json::from_str::<KeyFile>(&text) {
        Ok(k) if k.kind.as_deref().is_none_or(|t| t == "service_account") => Some(k),
        Ok(k) => {
            errors.push(ConfigError::new(
                at,
                format!(
                    "{file} is a \"{}\" credential; Vertex needs a service-account key file",
                    k.kind.unwrap_or_default()
                ),
            ));
            None
        }
        Err(e) => {
            errors.push(ConfigError::new(
                at,
                format!("{file} is not a service-account key file: {e}"),
            ));
            None
        }
    }
}

/// Resolves the settings and the default base URL; errors are reported under `path`.
pub(crate) fn settings(
    w: &Wanted<'_>,
    path: &str,
    env: &dyn EnvSource,
    errors: &mut Vec<ConfigError>,
) -> Option<(VertexSettings, String)> {
    let start = errors.len();
    let file = w
        .credentials_file
        .map(str::to_owned)
        .or_else(|| env.var("GOOGLE_APPLICATION_CREDENTIALS"));
    let key = match (&file, w.has_static_token) {
        (Some(f), _) => read_key_file(f, &format!("{path}.credentials_file"), errors),
        (None, true) => None,
        (None, false) => {
            errors.push(ConfigError::new(
                format!("{path}.credentials_file"),
                "Vertex needs credentials: set credentials_file (or GOOGLE_APPLICATION_CREDENTIALS) to a service-account key file, or api_key to an access token",
            ));
            None
        }
    };
    let project = w
        .project
        .map(str::to_owned)
        .or_else(|| env.var("GOOGLE_CLOUD_PROJECT"))
        .or_else(|| key.as_ref().and_then(|k| k.project_id.clone()));
    let Some(project) = project else {
        errors.push(ConfigError::new(
            format!("{path}.project"),
            "required for Vertex: set project (or GOOGLE_CLOUD_PROJECT)",
        ));
        return None;
    };
    let location = w
        .location
        .map(str::to_owned)
        .or_else(|| env.var("GOOGLE_CLOUD_LOCATION"))
        .unwrap_or_else(|| DEFAULT_LOCATION.to_owned());
    for (field, value) in [("project", &project), ("location", &location)] {
        let ok = !value.is_empty()
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            errors.push(ConfigError::new(
                format!("{path}.{field}"),
                format!("\"{value}\" is not a valid Google Cloud {field} id"),
            ));
        }
    }
    if errors.len() > start {
        return None;
    }
    let service_account = key.map(|k| ServiceAccount {
        client_email: k.client_email,
        private_key_id: k.private_key_id,
        private_key_pem: Secret::new(k.private_key),
        token_url: w
            .token_url
            .map(str::to_owned)
            .or(k.token_uri)
            .unwrap_or_else(|| DEFAULT_TOKEN_URL.to_owned()),
    });
    if let Some(sa) = &service_account {
        crate::validate::check_url(&sa.token_url, &format!("{path}.token_url"), errors);
    }
    let base = default_base_url(&location);
    Some((
        VertexSettings {
            location: Location { project, location },
            service_account,
        },
        base,
    ))
}
