#![allow(clippy::unwrap_used)]

use super::*;
use crate::model::{MessageTemplate, PartialVersion, VersionBody};

fn doc(labels: &[(&str, u32)]) -> PromptDoc {
    PromptDoc {
        id: "greet".into(),
        workspace: "ws".into(),
        description: None,
        labels: labels.iter().map(|(l, n)| ((*l).to_owned(), *n)).collect(),
        latest: 3,
        created_ms: 0,
        updated_ms: 0,
    }
}

fn version(n: u32, text: &str) -> (String, String, Version) {
    let mut v = Version {
        version: n,
        body: VersionBody {
            messages: vec![MessageTemplate {
                role: "user".into(),
                content: Value::String(text.into()),
            }],
            ..VersionBody::default()
        },
        partials: BTreeMap::new(),
        created_ms: 0,
        created_by: "t".into(),
    };
    if text.contains("{{> sig}}") {
        v.partials.insert("sig".into(), 2);
    }
    ("ws".into(), "greet".into(), v)
}

fn text_of(c: &Chosen) -> String {
    c.compiled.render(&Map::new()).unwrap().messages[0]["content"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn explicit_version_then_label_then_production_then_latest() {
    let versions = vec![version(1, "one"), version(2, "two"), version(3, "three")];
    let (c, errors) = Catalog::build(
        vec![doc(&[("production", 1), ("staging", 2)])],
        versions.clone(),
        &[],
    );
    assert!(errors.is_empty());
    let r = |version, label: Option<&str>| PromptRef {
        id: "greet".into(),
        version,
        label: label.map(str::to_owned),
        variables: Map::new(),
    };
    let got = c.choose("ws", &r(Some(3), None)).unwrap();
    assert_eq!((text_of(&got), got.label), ("three".into(), None));
    let got = c.choose("ws", &r(None, Some("staging"))).unwrap();
    assert_eq!(
        (text_of(&got), got.label.as_deref()),
        ("two".into(), Some("staging"))
    );
    let got = c.choose("ws", &r(None, None)).unwrap();
    assert_eq!(
        (text_of(&got), got.label.as_deref()),
        ("one".into(), Some("production"))
    );
    let (c, _) = Catalog::build(vec![doc(&[])], versions, &[]);
    let got = c.choose("ws", &r(None, None)).unwrap();
    assert_eq!((text_of(&got), got.label), ("three".into(), None));
    assert_eq!(
        c.choose("ws", &r(Some(9), None)).unwrap_err(),
        LookupError::NoVersion("greet".into(), 9)
    );
    assert_eq!(
        c.choose("ws", &r(None, Some("qa"))).unwrap_err(),
        LookupError::NoLabel("greet".into(), "qa".into())
    );
    assert_eq!(
        c.choose("other", &r(None, None)).unwrap_err(),
        LookupError::NoPrompt("greet".into())
    );
}

#[test]
fn a_version_renders_the_partial_version_it_pinned() {
    let partial = PartialDoc {
        name: "sig".into(),
        workspace: "ws".into(),
        versions: vec![
            PartialVersion {
                version: 1,
                template: "old".into(),
                created_ms: 0,
                created_by: "t".into(),
            },
            PartialVersion {
                version: 2,
                template: "pinned".into(),
                created_ms: 0,
                created_by: "t".into(),
            },
            PartialVersion {
                version: 3,
                template: "newer".into(),
                created_ms: 0,
                created_by: "t".into(),
            },
        ],
        updated_ms: 0,
    };
    let (c, errors) = Catalog::build(vec![doc(&[])], vec![version(1, "Hi {{> sig}}")], &[partial]);
    assert!(errors.is_empty(), "{errors:?}");
    let got = c.get("ws", "greet").unwrap().choose(None, None).unwrap();
    assert_eq!(text_of(&got), "Hi pinned");
    // Without the partial, the version is left out and named.
    let (c, errors) = Catalog::build(vec![doc(&[])], vec![version(1, "Hi {{> sig}}")], &[]);
    assert_eq!(errors.len(), 1);
    assert!(c.get("ws", "greet").unwrap().versions.is_empty());
}
