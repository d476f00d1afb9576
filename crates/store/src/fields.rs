//! What filters and groups read from a record, whether it was decoded whole (`Record`) or only
//! in the fields reads need (`Light`, borrowed from the batch's JSON): a read decodes every record
//! it looks at, and most of them only to be counted or passed over.

use crate::query::metadata_text;

/// The strings of a JSON array (`tags`); nothing for anything else.
fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
use crate::record::Record;
use serde::de::{Deserializer, IgnoredAny, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// The fields filters and groups look at.
pub trait Fields {
    fn id(&self) -> &str;
    fn request_id(&self) -> &str;
    fn trace_id(&self) -> &str;
    fn operation(&self) -> &str;
    fn caller(&self) -> Option<&str>;
    fn provider(&self) -> Option<&str>;
    fn model(&self) -> Option<&str>;
    fn requested_model(&self) -> Option<&str>;
    fn status(&self) -> u16;
    /// Metadata field `key` as filters compare it (`query::metadata_text`).
    fn metadata_text(&self, key: &str) -> Option<String>;
    /// The strings in metadata field `key` when it is an array (`tags`).
    fn metadata_list(&self, key: &str) -> Vec<String>;
    fn workspace(&self) -> Option<&str>;
    fn key_id(&self) -> Option<&str>;
    fn end_user(&self) -> Option<&str>;
    /// Usage was read but the model has no price.
    fn unpriced(&self) -> bool;
    /// Response cache status.
    fn cache(&self) -> Option<&str>;
}

impl Fields for Record {
    fn id(&self) -> &str {
        &self.id
    }
    fn request_id(&self) -> &str {
        &self.request_id
    }
    fn trace_id(&self) -> &str {
        &self.trace_id
    }
    fn operation(&self) -> &str {
        &self.operation
    }
    fn caller(&self) -> Option<&str> {
        self.caller.as_deref()
    }
    fn provider(&self) -> Option<&str> {
        self.provider.as_deref()
    }
    fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }
    fn requested_model(&self) -> Option<&str> {
        self.requested_model.as_deref()
    }
    fn status(&self) -> u16 {
        self.status
    }
    fn metadata_text(&self, key: &str) -> Option<String> {
        self.metadata.get(key).and_then(metadata_text)
    }
    fn metadata_list(&self, key: &str) -> Vec<String> {
        strings(self.metadata.get(key))
    }
    fn workspace(&self) -> Option<&str> {
        self.workspace.as_deref()
    }
    fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }
    fn end_user(&self) -> Option<&str> {
        self.end_user.as_deref()
    }
    fn unpriced(&self) -> bool {
        self.unpriced
    }
    fn cache(&self) -> Option<&str> {
        self.cache.as_deref()
    }
}

/// A string borrowed from the JSON when it has no escapes, copied when it has.
#[derive(Debug)]
pub struct Text<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// A stored record decoded only in what filters, groups and analytics read (positions as in
/// `batch::FIELDS`; the rest is skipped unparsed).
#[derive(Debug, Deserialize)]
pub struct Light<'a>(
    #[serde(borrow)] pub Text<'a>,
    #[serde(borrow)] pub Text<'a>,
    #[serde(borrow)] pub Text<'a>,
    IgnoredAny,
    IgnoredAny,
    pub i64,
    IgnoredAny,
    #[serde(borrow)] pub Text<'a>,
    #[serde(borrow)] pub Option<Text<'a>>,
    IgnoredAny,
    #[serde(borrow)] pub Option<Text<'a>>,
    #[serde(borrow)] pub Option<Text<'a>>,
    #[serde(borrow)] pub Option<Text<'a>>,
    IgnoredAny,
    pub u16,
    IgnoredAny,
    pub Option<i64>,
    pub Option<i64>,
    pub Option<i64>,
    IgnoredAny,
    IgnoredAny,
    pub Option<f64>,
    pub f64,
    pub Option<f64>,
    IgnoredAny,
    #[serde(borrow)] pub Option<Text<'a>>,
    #[serde(borrow)] pub &'a RawValue,
    IgnoredAny,
    IgnoredAny,
    IgnoredAny,
    IgnoredAny,
    // Workspace, key id and end user: absent from records written before the tenants.
    #[serde(borrow, default)] pub Option<Text<'a>>,
    #[serde(borrow, default)] pub Option<Text<'a>>,
    #[serde(borrow, default)] pub Option<Text<'a>>,
    // Unpriced: absent from records written before the limits.
    #[serde(default)] pub bool,
    // Guardrail verdicts, when policies ran (or `null` before cache fields).
    #[serde(default)] IgnoredAny,
    // Cache similarity and saved cost, for hits only. A field added after them needs a place
    // here too, or records holding it fail to read.
    #[serde(default)] IgnoredAny,
    #[serde(default)] pub Option<f64>,
    // The prompt a request used (`{id, version, label?, ...}`), when it used one.
    #[serde(borrow, default)] pub Option<&'a RawValue>,
);

fn opt<'b>(t: &'b Option<Text<'_>>) -> Option<&'b str> {
    t.as_ref().map(|t| &*t.0)
}

impl Light<'_> {
    /// The prompt a request used, as stored (JSON), when it used one.
    pub fn prompt(&self) -> Option<&str> {
        self.38.map(RawValue::get)
    }
    pub fn ts_ms(&self) -> i64 {
        self.5
    }
    pub fn input_tokens(&self) -> Option<i64> {
        self.16
    }
    pub fn output_tokens(&self) -> Option<i64> {
        self.17
    }
    pub fn cached_tokens(&self) -> Option<i64> {
        self.18
    }
    pub fn cost_usd(&self) -> Option<f64> {
        self.21
    }
    pub fn latency_ms(&self) -> f64 {
        self.22
    }
    pub fn ttft_ms(&self) -> Option<f64> {
        self.23
    }
    pub fn cache_saved_usd(&self) -> Option<f64> {
        self.37
    }
}

impl Fields for Light<'_> {
    fn id(&self) -> &str {
        &self.0 .0
    }
    fn request_id(&self) -> &str {
        &self.1 .0
    }
    fn trace_id(&self) -> &str {
        &self.2 .0
    }
    fn operation(&self) -> &str {
        &self.7 .0
    }
    fn caller(&self) -> Option<&str> {
        opt(&self.8)
    }
    fn requested_model(&self) -> Option<&str> {
        opt(&self.10)
    }
    fn provider(&self) -> Option<&str> {
        opt(&self.11)
    }
    fn model(&self) -> Option<&str> {
        opt(&self.12)
    }
    fn status(&self) -> u16 {
        self.14
    }
    fn metadata_text(&self, key: &str) -> Option<String> {
        // Parsed only when a filter or group asks for metadata.
        let map: Map<String, Value> = serde_json::from_str(self.26.get()).ok()?;
        map.get(key).and_then(metadata_text)
    }
    fn metadata_list(&self, key: &str) -> Vec<String> {
        let map: Option<Map<String, Value>> = serde_json::from_str(self.26.get()).ok();
        strings(map.as_ref().and_then(|m| m.get(key)))
    }
    fn workspace(&self) -> Option<&str> {
        opt(&self.31)
    }
    fn key_id(&self) -> Option<&str> {
        opt(&self.32)
    }
    fn end_user(&self) -> Option<&str> {
        opt(&self.33)
    }
    fn unpriced(&self) -> bool {
        self.34
    }
    fn cache(&self) -> Option<&str> {
        opt(&self.25)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{decode_one, to_json};

    /// Every field reads the same from a light decode as from a whole one, escapes included.
    #[test]
    fn light_and_whole_records_read_alike() {
        let mut metadata = Map::new();
        metadata.insert("team".into(), serde_json::json!("search \"a\""));
        metadata.insert("beta".into(), serde_json::json!(true));
        let r = Record {
            id: "id-1".into(),
            request_id: "req \\ 1".into(),
            trace_id: "trace\n1".into(),
            operation: "messages".into(),
            caller: Some("al\"ice".into()),
            provider: Some("anthropic".into()),
            model: None,
            requested_model: Some("claude".into()),
            status: 429,
            ts_ms: 17,
            input_tokens: Some(3),
            cost_usd: Some(0.5),
            latency_ms: 2.5,
            ttft_ms: Some(1.5),
            cache: Some("hit".into()),
            metadata,
            ..Record::default()
        };
        let batch = to_json(std::slice::from_ref(&r)).unwrap();
        let one: Vec<&RawValue> = serde_json::from_str(&batch).unwrap();
        let light: Light<'_> = serde_json::from_str(one[0].get()).unwrap();
        let whole = decode_one(one[0].get()).unwrap();
        for f in [&whole as &dyn Fields, &light] {
            assert_eq!(f.id(), "id-1");
            assert_eq!(f.request_id(), "req \\ 1");
            assert_eq!(f.trace_id(), "trace\n1");
            assert_eq!(f.operation(), "messages");
            assert_eq!(f.caller(), Some("al\"ice"));
            assert_eq!(f.provider(), Some("anthropic"));
            assert_eq!((f.model(), f.requested_model()), (None, Some("claude")));
            assert_eq!(f.status(), 429);
            assert_eq!(f.metadata_text("team").as_deref(), Some("search \"a\""));
            assert_eq!(f.metadata_text("beta").as_deref(), Some("true"));
            assert_eq!(f.metadata_text("absent"), None);
        }
        assert!(matches!(light.2 .0, Cow::Owned(_)), "escaped: copied");
        assert!(matches!(light.7 .0, Cow::Borrowed(_)), "plain: borrowed");
        assert_eq!(
            (light.ts_ms(), light.input_tokens(), light.output_tokens()),
            (17, Some(3), None)
        );
        assert_eq!((light.cost_usd(), light.latency_ms()), (Some(0.5), 2.5));
        assert_eq!((light.ttft_ms(), light.cache()), (Some(1.5), Some("hit")));
    }
}
