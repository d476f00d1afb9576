//! docs/guardrails.md documents every check in the catalogue.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[test]
fn every_check_has_a_section_in_the_guide() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/guardrails.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let missing: Vec<&str> = switchyard_guardrails::catalogue::all()
        .map(|e| e.id)
        .filter(|id| !doc.contains(&format!("#### `{id}`")))
        .collect();
    assert!(missing.is_empty(), "not in docs/guardrails.md: {missing:?}");
    let documented = doc.matches("\n#### `").count();
    let checks = switchyard_guardrails::catalogue::all().count();
    assert_eq!(
        documented, checks,
        "a section for a check the catalogue does not have"
    );
}
