//! A workspace's own provider credentials from the vault, applied in place of the configured
//! ones: an API key as the provider's auth header, AWS keys as a SigV4 signer (Bedrock), a
//! Google service account as an access-token source (Vertex). Each is prepared once per
//! provider and secret and kept (a Google token is fetched once per lifetime, not per request);
//! the cache is keyed by a hash of the secret, so a rotated credential gets a fresh entry.

use super::aws_sign::AwsSigner;
use super::google_auth::GoogleAuth;
use crate::error::GatewayError;
use http::{HeaderName, HeaderValue};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use switchyard_config::{AwsCredentials, BedrockSettings, Provider, Secret};
use switchyard_providers::endpoint::{auth_name, auth_value};
use switchyard_tenants::directory::ProviderSecret;

/// Prepared credentials kept per provider; past this many, the cache starts again.
const MAX_ENTRIES: usize = 1024;

/// A vault credential made ready to use.
pub enum VaultAuth {
    Header(HeaderName, HeaderValue),
    Aws(AwsSigner),
    Google(Box<GoogleAuth>),
}

#[derive(Default)]
pub struct VaultCache {
    entries: RwLock<HashMap<[u8; 32], Arc<VaultAuth>>>,
}

fn fingerprint(secret: &ProviderSecret) -> [u8; 32] {
    let mut h = Sha256::new();
    match secret {
        ProviderSecret::ApiKey(k) => {
            h.update(b"key\0");
            h.update(k.as_bytes());
        }
        ProviderSecret::Aws {
            access_key_id,
            secret_access_key,
            session_token,
        } => {
            h.update(b"aws\0");
            for part in [
                access_key_id.as_str(),
                secret_access_key,
                session_token.as_deref().unwrap_or(""),
            ] {
                h.update(part.as_bytes());
                h.update(b"\0");
            }
        }
        ProviderSecret::Gcp(json) => {
            h.update(b"gcp\0");
            h.update(json.as_bytes());
        }
    }
    h.finalize().into()
}

fn refuse(provider: &str, why: &str) -> GatewayError {
    GatewayError::BadRequest {
        message: format!("the workspace's credential for provider '{provider}' {why}"),
        param: None,
    }
}

impl VaultCache {
    /// The prepared form of `secret` for provider `p`, made on first use.
    pub fn get(
        &self,
        p: &Provider,
        tls: &super::TlsConfig,
        secret: &ProviderSecret,
    ) -> Result<Arc<VaultAuth>, GatewayError> {
        let key = fingerprint(secret);
        if let Some(a) = self
            .entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
        {
            return Ok(Arc::clone(a));
        }
        let made = Arc::new(prepare(p, tls, secret)?);
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        Ok(Arc::clone(entries.entry(key).or_insert(made)))
    }
}

fn prepare(
    p: &Provider,
    tls: &super::TlsConfig,
    secret: &ProviderSecret,
) -> Result<VaultAuth, GatewayError> {
    match secret {
        ProviderSecret::ApiKey(key) => {
            let (Some(name), Some(mut value)) = (auth_name(&p.auth), auth_value(&p.auth, key))
            else {
                return Err(refuse(
                    &p.name,
                    "cannot be sent (the provider takes no API key, or the key is not a valid header value)",
                ));
            };
            value.set_sensitive(true);
            Ok(VaultAuth::Header(name, value))
        }
        ProviderSecret::Aws {
            access_key_id,
            secret_access_key,
            session_token,
        } => {
            let Some(b) = &p.bedrock else {
                return Err(refuse(
                    &p.name,
                    "is an AWS credential, and the provider is not Amazon Bedrock",
                ));
            };
            let settings = BedrockSettings {
                region: b.region.clone(),
                credentials: Some(AwsCredentials {
                    access_key_id: access_key_id.clone(),
                    secret_access_key: Secret::new(secret_access_key.clone()),
                    session_token: session_token.clone().map(Secret::new),
                }),
            };
            AwsSigner::new(&p.name, &settings)
                .map(VaultAuth::Aws)
                .ok_or_else(|| refuse(&p.name, "holds no AWS keys"))
        }
        ProviderSecret::Gcp(json) => {
            if p.vertex.is_none() {
                return Err(refuse(
                    &p.name,
                    "is a Google credential, and the provider is not Vertex AI",
                ));
            }
            let sa = switchyard_config::service_account_from_json(json)
                .map_err(|e| refuse(&p.name, &format!("is {e}")))?;
            GoogleAuth::new(p, &sa, tls)
                .map(|g| VaultAuth::Google(Box::new(g)))
                .map_err(|e| refuse(&p.name, &format!("cannot be used: {e}")))
        }
    }
}
