//! AWS Signature Version 4 for Bedrock requests, with the `aws-sigv4` crate: the method, URI,
//! headers and a hash of the body are signed with the account's secret key for the `bedrock`
//! service in the provider's region; the signature goes in `Authorization` with `x-amz-date`
//! (and `x-amz-security-token` for temporary credentials).

use crate::error::GatewayError;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http::Request;
use std::time::SystemTime;
use switchyard_config::BedrockSettings;

/// The signing name of Bedrock's runtime API.
const SERVICE: &str = "bedrock";

pub struct AwsSigner {
    provider: String,
    region: String,
    identity: Identity,
}

impl AwsSigner {
    /// A signer for `b`'s keys, or `None` when the provider uses a Bedrock API key instead.
    pub fn new(provider: &str, b: &BedrockSettings) -> Option<Self> {
        let c = b.credentials.as_ref()?;
        let creds = Credentials::new(
            c.access_key_id.clone(),
            c.secret_access_key.expose().to_owned(),
            c.session_token.as_ref().map(|t| t.expose().to_owned()),
            None,
            "switchyard-config",
        );
        Some(Self {
            provider: provider.to_owned(),
            region: b.region.clone(),
            identity: creds.into(),
        })
    }

    fn fail(&self, e: impl std::fmt::Display) -> GatewayError {
        GatewayError::UpstreamCredentials {
            provider: self.provider.clone(),
            detail: format!("signing the request failed: {e}"),
        }
    }

    /// Signs `req` as it will be sent (every header already set, body final).
    pub fn sign(&self, req: &mut Request<Bytes>, at: SystemTime) -> Result<(), GatewayError> {
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name(SERVICE)
            .time(at)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| self.fail(e))?
            .into();
        let uri = req.uri().to_string();
        let headers: Vec<(&str, &str)> = req
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
            .collect();
        let signable = SignableRequest::new(
            req.method().as_str(),
            &uri,
            headers.into_iter(),
            SignableBody::Bytes(req.body()),
        )
        .map_err(|e| self.fail(e))?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| self.fail(e))?
            .into_parts();
        instructions.apply_to_request_http1x(req);
        Ok(())
    }
}
