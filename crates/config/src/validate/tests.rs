use crate::{from_env, from_yaml, ConfigErrors, Origin};
use std::collections::HashMap;
use switchyard_providers::AuthStyle;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn errs(text: &str, e: &HashMap<String, String>) -> Vec<String> {
    let ConfigErrors(list) = from_yaml(text, e).unwrap_err();
    list.iter().map(ToString::to_string).collect()
}

#[test]
fn zero_config_discovers_openai_with_base_url() {
    let c = from_env(&env(&[
        ("OPENAI_API_KEY", "x"),
        ("OPENAI_BASE_URL", "http://127.0.0.1:9000/v1/"),
    ]))
    .unwrap();
    assert_eq!(c.providers.len(), 1);
    let p = &c.providers[0];
    assert_eq!(p.name, "openai");
    assert_eq!(p.base_url, "http://127.0.0.1:9000/v1");
    assert_eq!(p.api_key.as_ref().unwrap().expose(), "x");
    assert_eq!(p.origin, Origin::Env);
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert!(c.client_keys.is_empty());
}

#[test]
fn zero_config_with_nothing_has_no_providers() {
    let c = from_env(&env(&[])).unwrap();
    assert!(c.providers.is_empty());
}

#[test]
fn local_presets_need_their_base_url_and_no_key() {
    let c = from_env(&env(&[("OLLAMA_BASE_URL", "http://127.0.0.1:11434/v1")])).unwrap();
    assert_eq!(c.providers[0].name, "ollama");
    assert!(c.providers[0].api_key.is_none());
}

#[test]
fn bad_env_base_url_is_reported() {
    let e = from_env(&env(&[("GROQ_API_KEY", "k"), ("GROQ_BASE_URL", "ftp://x")])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "GROQ_BASE_URL: \"ftp://x\" must be an http:// or https:// URL"
    );
}

#[test]
fn full_file_parses() {
    let text = r#"
server:
  listen: 0.0.0.0:9999
  max_body_bytes: 1000
  drain_timeout_secs: 5
  discover_env: false
providers:
  - name: groq
    api_key: ${GROQ_KEY}
  - name: local
    base_url: http://127.0.0.1:9000/v1/
    auth_header: api-key
    api_key: literal-key
    headers: { X-Team: blue }
    models: [m1, m2]
    timeouts: { connect_ms: 50, first_byte_ms: 60, idle_ms: 70, total_ms: 80 }
aliases:
  fast: groq/llama-3.1-8b-instant
client_keys:
  - name: team
    key: ${TEAM_KEY}
  - name: hashed
    key_sha256: "0000000000000000000000000000000000000000000000000000000000000000"
"#;
    let e = env(&[
        ("GROQ_KEY", "gk"),
        ("TEAM_KEY", "team-key-123"),
        ("OPENAI_API_KEY", "ignored"),
    ]);
    let c = from_yaml(text, &e).unwrap();
    assert_eq!(c.listen.to_string(), "0.0.0.0:9999");
    assert_eq!(c.max_body_bytes, 1000);
    assert_eq!(c.drain_timeout.as_secs(), 5);
    assert_eq!(c.providers.len(), 2, "discover_env: false keeps OpenAI out");
    assert_eq!(c.providers[0].base_url, "https://api.groq.com/openai/v1");
    assert_eq!(c.providers[0].preset, Some("groq"));
    assert_eq!(c.providers[0].api_key.as_ref().unwrap().expose(), "gk");
    let l = &c.providers[1];
    assert_eq!(l.base_url, "http://127.0.0.1:9000/v1");
    assert_eq!(l.auth, AuthStyle::Header("api-key".into()));
    assert_eq!(l.headers, vec![("X-Team".to_string(), "blue".to_string())]);
    assert_eq!(l.models, vec!["m1", "m2"]);
    assert!(l.models_configured);
    assert_eq!(l.timeouts.total.as_millis(), 80);
    assert_eq!(c.aliases["fast"], "groq/llama-3.1-8b-instant");
    assert_eq!(c.client_keys.len(), 2);
    assert_eq!(
        c.client_keys[0].sha256,
        crate::validate::hash_key("team-key-123")
    );
}

#[test]
fn file_providers_win_over_discovered_ones_and_env_adds_the_rest() {
    let text =
        "providers:\n  - name: openai\n    base_url: http://127.0.0.1:1/v1\n    api_key: a\n";
    let c = from_yaml(
        text,
        &env(&[("OPENAI_API_KEY", "b"), ("GROQ_API_KEY", "g")]),
    )
    .unwrap();
    let names: Vec<_> = c.providers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, vec!["openai", "groq"]);
    assert_eq!(c.providers[0].api_key.as_ref().unwrap().expose(), "a");
}

#[test]
fn every_error_is_reported_with_path_and_line() {
    let text = r#"server:
  listen: nowhere
providers:
  - name: a
    preset: opneai
  - name: b
  - name: a
    base_url: not a url
    timeouts:
      idle_ms: 0
client_keys:
  - name: k
    key: short
  - name: k2
    key_sha256: zz
"#;
    assert_eq!(
        errs(text, &env(&[])),
        vec![
            "line 2: server.listen: invalid address \"nowhere\": expected IP:PORT such as 127.0.0.1:8080",
            "line 5: providers[0].preset: unknown preset \"opneai\" (did you mean \"openai\"?); see docs/providers.md for the list",
            "line 6: providers[1].base_url: required: no preset is named \"b\", so set base_url or preset",
            "line 7: providers[2].name: duplicate provider name \"a\"",
            "line 8: providers[2].base_url: \"not a url\" is not a valid URL: relative URL without a base",
            "line 10: providers[2].timeouts.idle_ms: must be greater than 0",
            "line 13: client_keys[0].key: keys must be at least 8 characters",
            "line 15: client_keys[1].key_sha256: must be 64 hexadecimal characters",
        ]
    );
}

#[test]
fn unknown_fields_are_errors_in_every_section() {
    let text = r#"servr:
  listen: 127.0.0.1:1
providers:
  - name: x
    base_url: http://127.0.0.1:1
    baseurl: http://typo
  - name: y
    base_url: http://127.0.0.1:2
    timeouts: { conect_ms: 5 }
client_keys:
  - name: k
    kee: abcdefgh
limits:
  rules:
    - {id: spend, scope: org, dimension: cost_usd, amount: 10, window: month}
  reservaton_ttl_secs: 60
"#;
    let got = errs(text, &env(&[]));
    assert_eq!(got.len(), 5, "{got:#?}");
    assert_eq!(
        got[0],
        "line 1: servr: unknown field (did you mean \"server\"?); expected one of: server, providers, aliases, client_keys, routes, catalog, limits, guardrails, cache"
    );
    assert!(
        got[1]
            .starts_with("line 6: providers[0].baseurl: unknown field `baseurl`, expected one of"),
        "{}",
        got[1]
    );
    assert!(
        got[2].starts_with("line 9: providers[1].timeouts.conect_ms: unknown field `conect_ms`"),
        "{}",
        got[2]
    );
    assert!(
        got[3].starts_with("line 12: client_keys[0].kee: unknown field `kee`"),
        "{}",
        got[3]
    );
    // A valid section beside bad ones is not reported; a typo in it is.
    assert!(
        got[4].starts_with("line 16: limits.reservaton_ttl_secs: unknown field"),
        "{}",
        got[4]
    );
}

#[test]
fn wrong_types_name_the_field() {
    let got = errs("server:\n  max_body_bytes: lots\n", &env(&[]));
    assert_eq!(
        got,
        vec!["line 2: server.max_body_bytes: invalid type: string \"lots\", expected u64"]
    );
}

#[test]
fn wrong_shapes_are_told_in_the_files_words_not_rusts() {
    let text = "server:\n  discover_env: false\nproviders:\n  - name: openai\n    base_url: http://127.0.0.1:1\n    api_key: x\nroutes:\n  r: [{model: openai/a}]\n  s: \"openai/b\"\n  t: {targets: [[1]]}\n  u: []\n";
    assert_eq!(
        errs(text, &env(&[])),
        vec![
            "line 8: routes.r: expected a route object (with model, route, targets or conditions), found a list",
            "line 9: routes.s: expected a route object (with model, route, targets or conditions), found a string",
            "line 10: routes.t.targets[0]: expected a route object (with model, route, targets or conditions), found a list",
            "line 11: routes.u: expected a route object (with model, route, targets or conditions), found a list",
        ]
    );
    let got = errs("providers: [[]]\n", &env(&[]));
    assert_eq!(
        got,
        vec!["line 1: providers[0]: expected a provider object (with name, and base_url or preset), found a list"]
    );
    for text in ["server: [1]\n", "routes:\n  r: {strategy: [1], model: a}\n"] {
        for e in errs(text, &env(&[])) {
            assert!(!e.contains("Raw") && !e.contains("elements"), "{e}");
        }
    }
}

#[test]
fn missing_env_reference_and_missing_key() {
    let text = "providers:\n  - name: groq\n  - name: mistral\n    api_key: ${MISSING}\n";
    assert_eq!(
        errs(text, &env(&[])),
        vec!["line 4: providers[1].api_key: environment variable MISSING is not set"]
    );
    let text = "providers:\n  - name: groq\n";
    assert_eq!(
        errs(text, &env(&[])),
        vec!["line 2: providers[0].api_key: no API key: set api_key (e.g. \"${GROQ_API_KEY}\") or the GROQ_API_KEY environment variable"]
    );
}

#[test]
fn invalid_names_headers_and_auth_header() {
    let text = "providers:\n  - name: My/Prov\n    base_url: http://h\n    auth_header: \"bad header\"\n    headers: { \"x y\": v }\n";
    assert_eq!(
        errs(text, &env(&[])),
        vec![
            "line 2: providers[0].name: invalid provider name \"My/Prov\": use lowercase letters, digits, '-' and '_'",
            "line 4: providers[0].auth_header: \"bad header\" is not a valid header name",
            "line 5: providers[0].headers.x y: not a valid HTTP header name and value",
        ]
    );
}

#[test]
fn client_key_needs_exactly_one_form_and_unique_names() {
    let text = "client_keys:\n  - name: a\n  - name: a\n    key: \"12345678\"\n";
    assert_eq!(
        errs(text, &env(&[])),
        vec![
            "line 2: client_keys[0]: give exactly one of key and key_sha256",
            "line 3: client_keys[1].name: client key names must be unique and non-empty (\"a\")",
        ]
    );
}

#[test]
fn switchyard_api_keys_env_adds_keys() {
    let c = from_env(&env(&[("SWITCHYARD_API_KEYS", "k1-aaaaaa, k2-bbbbbb")])).unwrap();
    assert_eq!(c.client_keys.len(), 2);
    assert_eq!(c.client_keys[1].name, "env-2");
    assert_eq!(
        c.client_keys[1].sha256,
        crate::validate::hash_key("k2-bbbbbb")
    );
}

#[test]
fn keys_from_the_environment_need_eight_characters_like_the_files() {
    for var in ["SWITCHYARD_API_KEYS", "SWITCHYARD_ADMIN_KEYS"] {
        let ConfigErrors(list) =
            from_env(&env(&[(var, "long-enough-1, abc, long-enough-2")])).unwrap_err();
        let got: Vec<String> = list.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            vec![format!(
                "{var}: key 2 of the list is 3 characters long; keys must be at least 8 characters"
            )]
        );
    }
    let c = from_env(&env(&[("SWITCHYARD_ADMIN_KEYS", "12345678")])).unwrap();
    assert_eq!(c.admin_keys.len(), 1);
}

#[test]
fn yaml_syntax_error_has_a_line() {
    let got = errs("providers:\n  - name: a\n   bad: [\n", &env(&[]));
    assert_eq!(got.len(), 1);
    assert!(got[0].starts_with("line "), "{}", got[0]);
    assert!(got[0].contains("invalid YAML"), "{}", got[0]);
}

#[test]
fn non_mapping_document() {
    assert_eq!(
        errs("- a\n- b\n", &env(&[])),
        vec!["line 1: the config file must be a YAML mapping"]
    );
}

#[test]
fn ca_file_must_exist_and_hold_a_certificate() {
    let dir = std::env::temp_dir().join(format!("sy-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junk = dir.join("junk.pem");
    std::fs::write(&junk, "not a cert").unwrap();
    let text = format!(
        "providers:\n  - name: a\n    base_url: https://h\n    ca_file: {}\n  - name: b\n    base_url: https://h\n    ca_file: /nonexistent/ca.pem\n",
        junk.display()
    );
    let got = errs(&text, &env(&[]));
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(
        got[0],
        format!(
            "line 4: providers[0].ca_file: {} holds no PEM certificate",
            junk.display()
        )
    );
    assert!(
        got[1].starts_with("line 7: providers[1].ca_file: cannot read /nonexistent/ca.pem:"),
        "{}",
        got[1]
    );
}

#[test]
fn azure_from_env_and_file() {
    let c = from_env(&env(&[("AZURE_OPENAI_API_KEY", "k")])).unwrap();
    assert!(
        c.providers.is_empty(),
        "an Azure key alone is not enough: the endpoint is per resource"
    );
    let c = from_env(&env(&[
        ("AZURE_OPENAI_API_KEY", "k"),
        ("AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com/"),
        ("OPENAI_API_VERSION", "2025-01-01-preview"),
    ]))
    .unwrap();
    let p = &c.providers[0];
    assert_eq!(
        (p.name.as_str(), p.base_url.as_str()),
        ("azure", "https://res.openai.azure.com")
    );
    assert_eq!(p.auth, AuthStyle::Header("api-key".into()));
    assert_eq!(p.azure_api_version.as_deref(), Some("2025-01-01-preview"));
    let text = "providers:\n  - name: eastus\n    type: azure\n    base_url: https://east.openai.azure.com\n    api_key: k\n    auth_header: api-key\n";
    let c = from_yaml(text, &env(&[])).unwrap();
    assert_eq!(
        c.providers[0].azure_api_version.as_deref(),
        Some("2024-10-21")
    );
    assert_eq!(
        errs("providers:\n  - name: azure\n    api_key: k\n", &env(&[])),
        vec!["line 2: providers[0].base_url: required: preset \"azure\" has no default URL; set base_url or AZURE_OPENAI_ENDPOINT"]
    );
    assert_eq!(
        errs("providers:\n  - name: groq\n    api_key: k\n    api_version: x\n", &env(&[])),
        vec!["line 4: providers[0].api_version: only Azure providers (type: azure) take an api_version"]
    );
}

const SA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/vertex-service-account.json"
);

#[test]
fn vertex_from_a_key_file_and_from_env() {
    let text = format!(
        "server: {{discover_env: false}}\nproviders:\n  - name: gcp\n    type: vertex\n    location: europe-west4\n    credentials_file: {SA}\n"
    );
    let c = from_yaml(&text, &env(&[])).unwrap();
    let p = &c.providers[0];
    assert_eq!(p.base_url, "https://europe-west4-aiplatform.googleapis.com");
    let v = p.vertex.as_ref().unwrap();
    assert_eq!(
        v.location.project, "switchyard-test",
        "project from the key file"
    );
    assert_eq!(v.location.location, "europe-west4");
    let sa = v.service_account.as_ref().unwrap();
    assert_eq!(
        sa.client_email,
        "gateway@switchyard-test.iam.gserviceaccount.com"
    );
    assert_eq!(sa.token_url, "https://oauth2.googleapis.com/token");
    assert!(p.api_key.is_none());

    // Zero-config: the key file variable, with the project and region from the environment.
    let c = from_env(&env(&[
        ("GOOGLE_APPLICATION_CREDENTIALS", SA),
        ("GOOGLE_CLOUD_PROJECT", "other-proj"),
        ("GOOGLE_CLOUD_LOCATION", "global"),
    ]))
    .unwrap();
    let p = c.providers.iter().find(|p| p.name == "vertex").unwrap();
    assert_eq!(p.base_url, "https://aiplatform.googleapis.com");
    assert_eq!(p.vertex.as_ref().unwrap().location.project, "other-proj");
}

#[test]
fn vertex_errors_name_the_field() {
    let e = errs(
        "providers:\n  - name: gcp\n    type: vertex\n    credentials_file: /nonexistent.json\n",
        &env(&[]),
    );
    assert!(
        e.iter()
            .any(|m| m.contains("providers[0].credentials_file") && m.contains("cannot read")),
        "{e:?}"
    );
    let e = errs("providers:\n  - name: gcp\n    type: vertex\n", &env(&[]));
    assert!(
        e.iter()
            .any(|m| m.contains("providers[0].credentials_file")),
        "{e:?}"
    );
    // An access token instead of a key file: only the project is missing.
    let e = errs(
        "providers:\n  - name: gcp\n    type: vertex\n    api_key: ya29.x\n",
        &env(&[]),
    );
    assert!(
        e.iter().any(|m| m.contains("providers[0].project")),
        "{e:?}"
    );
    let e = errs(
        "providers:\n  - name: o\n    base_url: http://x\n    project: p\n",
        &env(&[]),
    );
    assert!(
        e.iter()
            .any(|m| m.contains("providers[0].project") && m.contains("only Vertex")),
        "{e:?}"
    );
}

#[test]
fn bedrock_from_fields_env_and_api_key() {
    let text = "server: {discover_env: false}\nproviders:\n  - name: aws\n    type: bedrock\n    region: eu-central-1\n    aws_access_key_id: AKID\n    aws_secret_access_key: s3cret\n";
    let c = from_yaml(text, &env(&[])).unwrap();
    let p = &c.providers[0];
    assert_eq!(
        p.base_url,
        "https://bedrock-runtime.eu-central-1.amazonaws.com"
    );
    let b = p.bedrock.as_ref().unwrap();
    assert_eq!(b.region, "eu-central-1");
    let creds = b.credentials.as_ref().unwrap();
    assert_eq!(creds.access_key_id, "AKID");
    assert_eq!(creds.secret_access_key.expose(), "s3cret");
    assert!(
        p.api_key.is_none(),
        "the key id is never sent as a bearer key"
    );

    // Zero-config from the standard AWS variables, endpoint from the SDKs' own variable.
    let c = from_env(&env(&[
        ("AWS_ACCESS_KEY_ID", "AKID2"),
        ("AWS_SECRET_ACCESS_KEY", "s2"),
        ("AWS_SESSION_TOKEN", "tok"),
        ("AWS_REGION", "ap-south-1"),
        ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://127.0.0.1:9000"),
    ]))
    .unwrap();
    let p = c.providers.iter().find(|p| p.name == "bedrock").unwrap();
    assert_eq!(p.base_url, "http://127.0.0.1:9000");
    let b = p.bedrock.as_ref().unwrap();
    assert_eq!(b.region, "ap-south-1");
    assert_eq!(
        b.credentials
            .as_ref()
            .unwrap()
            .session_token
            .as_ref()
            .unwrap()
            .expose(),
        "tok"
    );

    // A Bedrock API key alone.
    let c = from_env(&env(&[("AWS_BEARER_TOKEN_BEDROCK", "bk-1")])).unwrap();
    let p = c.providers.iter().find(|p| p.name == "bedrock").unwrap();
    assert_eq!(p.api_key.as_ref().unwrap().expose(), "bk-1");
    assert!(p.bedrock.as_ref().unwrap().credentials.is_none());
    assert_eq!(
        p.base_url,
        "https://bedrock-runtime.us-east-1.amazonaws.com"
    );
}

#[test]
fn bedrock_errors_name_the_field() {
    let e = errs("providers:\n  - name: aws\n    type: bedrock\n", &env(&[]));
    assert!(
        e.iter()
            .any(|m| m.contains("providers[0].aws_access_key_id")),
        "{e:?}"
    );
    let e = errs(
        "providers:\n  - name: aws\n    type: bedrock\n    aws_access_key_id: A\n    region: Not_A_Region\n",
        &env(&[]),
    );
    assert!(e.iter().any(|m| m.contains("providers[0].region")), "{e:?}");
    let e = errs(
        "providers:\n  - name: aws\n    type: bedrock\n    aws_access_key_id: A\n",
        &env(&[]),
    );
    assert!(
        e.iter()
            .any(|m| m.contains("providers[0].aws_secret_access_key")),
        "{e:?}"
    );
    let e = errs(
        "providers:\n  - name: o\n    base_url: http://x\n    region: us-east-1\n",
        &env(&[]),
    );
    assert!(
        e.iter()
            .any(|m| m.contains("providers[0].region") && m.contains("only Bedrock")),
        "{e:?}"
    );
}

#[test]
fn image_fetch_limits() {
    let c = from_yaml(
        "server:\n  image_fetch: {max_bytes: 1000, timeout_ms: 50, allow_private_addresses: true}\n",
        &env(&[]),
    )
    .unwrap();
    assert_eq!(c.image_fetch.max_bytes, 1000);
    assert_eq!(c.image_fetch.timeout, std::time::Duration::from_millis(50));
    assert!(c.image_fetch.allow_private_addresses);
    assert!(
        !from_env(&env(&[]))
            .unwrap()
            .image_fetch
            .allow_private_addresses
    );
    let e = errs("server:\n  image_fetch: {max_bytes: 0}\n", &env(&[]));
    assert!(
        e.iter().any(|m| m.contains("server.image_fetch.max_bytes")),
        "{e:?}"
    );
    let e = errs("server:\n  image_fetch: {max_byts: 5}\n", &env(&[]));
    assert!(e.iter().any(|m| m.contains("max_byts")), "{e:?}");
}

#[test]
fn request_log_and_otel_settings() {
    let c = from_yaml("server:\n  discover_env: false\n", &env(&[])).unwrap();
    assert_eq!(c.log, crate::LogSettings::default());
    assert!(c.otel.is_none());
    let text = "server:\n  discover_env: false\n  log:\n    postgres_url: postgres://root@127.0.0.1/test\n    retention_days: 0\n    bodies: true\n  otel:\n    endpoint: http://127.0.0.1:4318/\n";
    let c = from_yaml(text, &env(&[])).unwrap();
    assert_eq!(
        c.log.store,
        crate::LogStore::Postgres("postgres://root@127.0.0.1/test".into())
    );
    assert_eq!((c.log.retention, c.log.bodies), (None, true));
    let otel = c.otel.unwrap();
    assert_eq!(otel.endpoint, "http://127.0.0.1:4318/v1/traces");
    assert_eq!(otel.service_name, "switchyard");
    let c = from_yaml(
        "server:\n  discover_env: false\n",
        &env(&[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://collector:4318/v1/traces",
        )]),
    )
    .unwrap();
    assert_eq!(c.otel.unwrap().endpoint, "http://collector:4318/v1/traces");
}

#[test]
fn bad_request_log_settings_name_the_field() {
    let text = "server:\n  discover_env: false\n  log:\n    postgres_url: mysql://x\n    queue_capacity: 0\n  otel:\n    endpoint: collector\n";
    let mut got = errs(text, &env(&[]));
    got.sort();
    assert_eq!(
        got,
        vec![
            "line 4: server.log.postgres_url: must start with postgres:// or postgresql://",
            "line 5: server.log.queue_capacity: must be greater than 0",
            "line 7: server.otel.endpoint: \"collector\" is not an http(s) URL",
        ]
    );
}

#[test]
fn jwt_settings_default_from_the_env_and_name_their_bad_fields() {
    let none = env(&[]);
    let c = crate::from_yaml(
        "server:\n  tenants:\n    jwt:\n      jwks_url: https://idp.test/keys\n      claims: {org_role: realm_access.roles}\n",
        &none,
    )
    .unwrap();
    let j = c.tenants.jwt.unwrap();
    assert_eq!(j.jwks_url, "https://idp.test/keys");
    assert_eq!((j.leeway.as_secs(), j.refresh.as_secs()), (60, 300));
    assert!(j.callers && j.admins);
    assert_eq!(j.org_role_claim, "realm_access.roles");
    assert_eq!(j.workspace_claim, "switchyard_workspace");
    // Off without a URL; the environment can give one.
    assert!(crate::from_yaml("{}", &none).unwrap().tenants.jwt.is_none());
    let from_env = crate::from_yaml(
        "{}",
        &env(&[("SWITCHYARD_JWKS_URL", "http://127.0.0.1:9/j")]),
    );
    assert_eq!(
        from_env.unwrap().tenants.jwt.unwrap().jwks_url,
        "http://127.0.0.1:9/j"
    );
    let e = errs(
        "server:\n  tenants:\n    enabled: false\n    jwt:\n      jwks_url: ftp://idp.test/keys\n      refresh_secs: 0\n      claims: {workspace: \"\"}\n",
        &none,
    );
    for field in [
        "server.tenants.jwt.jwks_url",
        "server.tenants.jwt.refresh_secs",
        "server.tenants.jwt.claims.workspace",
        "server.tenants.jwt:",
    ] {
        assert!(e.iter().any(|m| m.contains(field)), "{field}: {e:?}");
    }
}

#[test]
fn oidc_sign_in_needs_its_endpoints_and_client_and_takes_the_secret_from_the_env() {
    let yaml = "server:\n  tenants:\n    jwt:\n      jwks_url: https://idp.test/keys\n      oidc:\n        authorization_url: https://idp.test/authorize\n        token_url: https://idp.test/token\n        client_id: console\n";
    let c = crate::from_yaml(yaml, &env(&[("SWITCHYARD_OIDC_CLIENT_SECRET", "s3cret")])).unwrap();
    let o = c.tenants.jwt.unwrap().oidc.unwrap();
    assert_eq!(o.token_url, "https://idp.test/token");
    assert_eq!(o.scopes, "openid profile email");
    assert_eq!(o.client_secret.as_ref().map(|s| s.expose()), Some("s3cret"));
    assert!(!o.use_access_token && o.redirect_url.is_none());
    // Off unless configured.
    let plain = "server:\n  tenants:\n    jwt:\n      jwks_url: https://idp.test/keys\n";
    assert!(crate::from_yaml(plain, &env(&[]))
        .unwrap()
        .tenants
        .jwt
        .unwrap()
        .oidc
        .is_none());
    let e = errs(
        "server:\n  tenants:\n    jwt:\n      jwks_url: https://idp.test/keys\n      oidc:\n        authorization_url: idp.test/authorize\n        scopes: profile\n        token: access_token\n",
        &env(&[]),
    );
    for field in [
        "server.tenants.jwt.oidc.authorization_url: must be an http",
        "server.tenants.jwt.oidc.token_url: is required",
        "server.tenants.jwt.oidc.client_id: is required",
        "server.tenants.jwt.oidc.scopes: must include openid",
    ] {
        assert!(e.iter().any(|m| m.contains(field)), "{field}: {e:?}");
    }
}

#[test]
fn guardrail_policies_are_built_and_their_errors_name_the_field() {
    let ok = r#"guardrails:
  policies:
    - id: no-falcon
      action: deny
      checks:
        - check: regex_match
          patterns: ["(?i)falcon"]
  attach:
    org: [no-falcon]
    workspaces: {ws-1: [no-falcon]}
"#;
    let c = from_yaml(ok, &env(&[])).unwrap();
    assert_eq!(c.guardrails.org.len(), 1);
    assert_eq!(c.guardrails.workspaces["ws-1"][0].id, "no-falcon");
    assert!(c.guardrails.request_policies);
    let bad = r#"guardrails:
  policies:
    - id: p
      checks:
        - check: regex_match
          patterns: ["ok", "(?<=x)y"]
    - id: q
      checks:
        - check: contians
          words: [a]
  attach:
    org: [p, nope]
    routes: {missing: [p]}
"#;
    let got = errs(bad, &env(&[]));
    assert!(
        got.iter().any(|e| e.contains("guardrails.policies[0].checks[0].patterns[1]: not a valid pattern (look-around is not supported")),
        "{got:#?}"
    );
    assert!(
        got.iter().any(|e| e.contains("guardrails.policies[1].checks[0].check: unknown check \"contians\" (did you mean \"contains\"?)")),
        "{got:#?}"
    );
    assert!(
        got.iter()
            .any(|e| e.contains("guardrails.attach.org[1]: no policy \"nope\"")),
        "{got:#?}"
    );
    assert!(
        got.iter()
            .any(|e| e.contains("guardrails.attach.routes.missing: no route \"missing\"")),
        "{got:#?}"
    );
    assert_eq!(got.len(), 4, "{got:#?}");
}
