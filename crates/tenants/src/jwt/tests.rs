use super::*;
use crate::model::Workspace;
use serde_json::json;
use switchyard_mock::idp::Idp;

const NOW: i64 = 1_800_000_000;

fn idp() -> Idp {
    Idp::new().expect("the mock identity provider's keys")
}

fn keys(idp: &Idp) -> KeySet {
    KeySet::parse(idp.jwks().to_string().as_bytes()).expect("a usable key set")
}

fn rules() -> Rules {
    Rules {
        issuer: None,
        audience: None,
        leeway_secs: 60,
    }
}

fn check(keys: &KeySet, rules: &Rules, token: &str) -> Result<Claims, JwtError> {
    decode(token)?.verify(keys, rules, NOW)
}

fn names() -> ClaimNames {
    ClaimNames {
        subject: "sub".into(),
        workspace: "switchyard_workspace".into(),
        models: "switchyard_models".into(),
        org_role: "switchyard_role".into(),
        workspace_roles: "switchyard_workspaces".into(),
    }
}

#[test]
fn rs256_and_es256_tokens_verify_and_give_their_claims() {
    let idp = idp();
    let set = keys(&idp);
    assert_eq!(set.len(), 2);
    for alg in ["RS256", "ES256"] {
        let t = idp
            .mint(alg, None, &json!({"sub": "ana", "exp": NOW + 60}))
            .unwrap();
        assert!(looks_like_jwt(&t), "{alg}");
        let claims = check(&set, &rules(), &t).unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(claims["sub"], "ana");
    }
}

#[test]
fn a_token_signed_by_another_key_or_altered_is_refused() {
    let (ours, theirs) = (idp(), idp());
    let set = keys(&ours);
    // Same kid (`ec-1`), another provider's key.
    let forged = theirs
        .mint("ES256", None, &json!({"sub": "x", "exp": NOW + 60}))
        .unwrap();
    assert_eq!(check(&set, &rules(), &forged), Err(JwtError::Signature));
    // A payload swapped under a valid signature.
    let good = ours
        .mint("RS256", None, &json!({"sub": "x", "exp": NOW + 60}))
        .unwrap();
    let other = ours
        .mint("RS256", None, &json!({"sub": "admin", "exp": NOW + 60}))
        .unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    let swapped = format!(
        "{}.{}.{}",
        parts[0],
        other.split('.').nth(1).unwrap(),
        parts[2]
    );
    assert_eq!(check(&set, &rules(), &swapped), Err(JwtError::Signature));
}

#[test]
fn only_asymmetric_algorithms_are_accepted() {
    let set = keys(&idp());
    for alg in ["none", "HS256", "RS512"] {
        let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","kid":"rsa-1"}}"#));
        let body = URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"x","exp":{}}}"#, NOW + 60));
        let t = format!("{header}.{body}.c2ln");
        assert_eq!(
            check(&set, &rules(), &t),
            Err(JwtError::Algorithm(alg.into())),
            "{alg}"
        );
    }
    assert!(matches!(
        check(&set, &rules(), "eyJ.nope"),
        Err(JwtError::Malformed(_))
    ));
}

#[test]
fn expiry_not_before_issuer_and_audience_are_checked() {
    let idp = idp();
    let set = keys(&idp);
    let t = |claims: Value| idp.mint("ES256", None, &claims).unwrap();
    assert_eq!(
        check(&set, &rules(), &t(json!({"exp": NOW - 61}))),
        Err(JwtError::Expired)
    );
    // Inside the leeway.
    assert!(check(&set, &rules(), &t(json!({"exp": NOW - 30}))).is_ok());
    assert_eq!(
        check(
            &set,
            &rules(),
            &t(json!({"exp": NOW + 600, "nbf": NOW + 120}))
        ),
        Err(JwtError::NotYetValid)
    );
    // Without `exp` the mock fills one in; a token with an explicit null has none.
    assert_eq!(
        check(&set, &rules(), &t(json!({"exp": null}))),
        Err(JwtError::NoExpiry)
    );
    let strict = Rules {
        issuer: Some("https://idp.test".into()),
        audience: Some("switchyard".into()),
        leeway_secs: 0,
    };
    let ok = t(json!({"exp": NOW + 60, "iss": "https://idp.test", "aud": ["other", "switchyard"]}));
    assert!(check(&set, &strict, &ok).is_ok());
    let wrong_iss = t(json!({"exp": NOW + 60, "iss": "https://evil.test", "aud": "switchyard"}));
    assert_eq!(check(&set, &strict, &wrong_iss), Err(JwtError::Issuer));
    let wrong_aud = t(json!({"exp": NOW + 60, "iss": "https://idp.test", "aud": "other"}));
    assert_eq!(check(&set, &strict, &wrong_aud), Err(JwtError::Audience));
}

#[test]
fn keys_are_found_by_kid_or_as_the_only_one_of_their_type() {
    let mut idp = idp();
    let before = keys(&idp);
    idp.rotate().unwrap();
    let after = keys(&idp);
    let t = idp.mint("ES256", None, &json!({"exp": NOW + 60})).unwrap();
    // Signed with `ec-2`, which the old set lacks.
    let u = decode(&t).unwrap();
    assert!(!u.key_known(&before) && u.key_known(&after));
    assert_eq!(check(&before, &rules(), &t), Err(JwtError::UnknownKey));
    assert!(check(&after, &rules(), &t).is_ok());
    // No kid: the only RSA key is used; with two P-256 keys, none can be picked.
    let rsa = idp.mint_no_kid("RS256", &json!({"exp": NOW + 60})).unwrap();
    assert!(check(&after, &rules(), &rsa).is_ok());
    let ec = idp.mint_no_kid("ES256", &json!({"exp": NOW + 60})).unwrap();
    assert_eq!(check(&after, &rules(), &ec), Err(JwtError::UnknownKey));
}

trait NoKid {
    fn mint_no_kid(&self, alg: &str, claims: &Value) -> Option<String>;
}

impl NoKid for Idp {
    fn mint_no_kid(&self, alg: &str, claims: &Value) -> Option<String> {
        self.mint(alg, Some(""), claims)
    }
}

#[test]
fn key_sets_skip_what_they_cannot_use() {
    let doc = json!({"keys": [
        {"kty": "oct", "k": "c2VjcmV0"},
        {"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"},
        {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"},
    ]});
    assert!(KeySet::parse(doc.to_string().as_bytes()).is_err());
    assert!(KeySet::parse(b"{}").is_err());
    assert!(KeySet::parse(b"not json").is_err());
}

fn snapshot() -> Snapshot {
    let ws = |id: &str| Workspace {
        id: id.into(),
        name: format!("{id} team"),
        metadata: Map::new(),
        created_ms: 0,
    };
    Snapshot::build(1, vec![ws("default"), ws("search")], vec![], vec![], None).unwrap()
}

fn claims(v: Value) -> Claims {
    v.as_object().cloned().unwrap()
}

#[test]
fn a_caller_token_names_an_existing_workspace_and_may_limit_models() {
    let snap = snapshot();
    let p = principal(
        &snap,
        &claims(json!({"sub": "svc-1", "switchyard_workspace": "search",
            "switchyard_models": ["gpt-4o*"]})),
        &names(),
    )
    .unwrap();
    assert_eq!(p.workspace, "search");
    assert_eq!(p.workspace_name, "search team");
    assert_eq!(p.key_name, "jwt:svc-1");
    assert!(p.key_id.is_none());
    assert!(p.allows("gpt-4o-mini") && !p.allows("claude-sonnet-4"));
    let any = principal(
        &snap,
        &claims(json!({"sub": "svc-1", "switchyard_workspace": "default"})),
        &names(),
    )
    .unwrap();
    assert!(any.allows("claude-sonnet-4"));
    let e = principal(&snap, &claims(json!({"sub": "x"})), &names()).unwrap_err();
    assert!(e.contains("switchyard_workspace"), "{e}");
    let e = principal(
        &snap,
        &claims(json!({"switchyard_workspace": "nope"})),
        &names(),
    )
    .unwrap_err();
    assert!(e.contains("'nope' does not exist"), "{e}");
    let e = principal(
        &snap,
        &claims(json!({"switchyard_workspace": "search", "switchyard_models": "gpt-4o"})),
        &names(),
    )
    .unwrap_err();
    assert!(e.contains("not a list"), "{e}");
}

#[test]
fn admin_roles_come_from_the_configured_claims() {
    let a = access(
        &claims(json!({"sub": "ana", "switchyard_role": ["member", "admin", "wizard"]})),
        &names(),
    );
    assert_eq!((a.org, a.actor.as_str()), (OrgRole::Admin, "jwt:ana"));
    let m = access(
        &claims(json!({"sub": "bo", "switchyard_workspaces": {"search": "viewer", "ads": "boss"}})),
        &names(),
    );
    assert_eq!(m.org, OrgRole::Member);
    assert_eq!(m.role_in("search"), Some(WsRole::Viewer));
    assert_eq!(m.role_in("ads"), None);
    let listed = access(
        &claims(json!({"switchyard_workspaces": ["search:viewer", "search:admin", "ads:member"]})),
        &names(),
    );
    assert_eq!(listed.role_in("search"), Some(WsRole::Admin));
    assert_eq!(listed.role_in("ads"), Some(WsRole::Member));
    // Dotted paths reach into nested claims (Keycloak's `realm_access.roles`).
    let nested = ClaimNames {
        org_role: "realm_access.roles".into(),
        ..names()
    };
    let k = access(
        &claims(json!({"realm_access": {"roles": ["offline_access", "owner"]}})),
        &nested,
    );
    assert_eq!(k.org, OrgRole::Owner);
}
