//! The query language of `conditional` routes, a subset of MongoDB's: field tests
//! `{"metadata.tier": {"$eq": "pro"}}` (a bare value means `$eq`), several fields or operators in
//! one object all must hold, and `$and` / `$or` over lists of queries. Fields live in three
//! places: `metadata.*` (the `x-switchyard-metadata` header), `params.*` (the request body) and
//! `headers.*` (request headers, lower-case names).

use serde_json::Value;

/// Where a field is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Metadata,
    Params,
    Headers,
}

/// A field reference: its source and the path inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub source: Source,
    pub path: Vec<String>,
}

impl Field {
    /// Parses `metadata.user.tier`, `params.temperature`, `headers.x-team`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (head, rest) = text.split_once('.').ok_or_else(|| {
            format!("field \"{text}\" must start with metadata., params. or headers.")
        })?;
        let source = match head {
            "metadata" => Source::Metadata,
            "params" => Source::Params,
            "headers" => Source::Headers,
            other => {
                return Err(format!(
                    "field \"{text}\": unknown source \"{other}\" (metadata, params or headers)"
                ))
            }
        };
        let path: Vec<String> = match source {
            // Header names contain dots rarely but never nest.
            Source::Headers => vec![rest.to_ascii_lowercase()],
            _ => rest.split('.').map(str::to_owned).collect(),
        };
        if path.iter().any(String::is_empty) {
            return Err(format!("field \"{text}\" has an empty part"));
        }
        Ok(Self { source, path })
    }
}

/// What a request offers conditions and sticky keys.
pub trait Lookup {
    fn get(&self, field: &Field) -> Option<Value>;
}

#[derive(Debug)]
pub enum Op {
    Eq(Value),
    Ne(Value),
    Gt(Value),
    Gte(Value),
    Lt(Value),
    Lte(Value),
    In(Vec<Value>),
    Nin(Vec<Value>),
    Regex(regex_lite::Regex),
}

/// A compiled query.
#[derive(Debug)]
pub enum Condition {
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Test(Field, Op),
}

fn list(v: &Value, op: &str, at: &str) -> Result<Vec<Value>, String> {
    v.as_array()
        .cloned()
        .ok_or_else(|| format!("{at}: {op} takes a list"))
}

fn operator(name: &str, v: &Value, at: &str) -> Result<Op, String> {
    Ok(match name {
        "$eq" => Op::Eq(v.clone()),
        "$ne" => Op::Ne(v.clone()),
        "$gt" => Op::Gt(v.clone()),
        "$gte" => Op::Gte(v.clone()),
        "$lt" => Op::Lt(v.clone()),
        "$lte" => Op::Lte(v.clone()),
        "$in" => Op::In(list(v, name, at)?),
        "$nin" => Op::Nin(list(v, name, at)?),
        "$regex" => {
            let pattern = v
                .as_str()
                .ok_or_else(|| format!("{at}: $regex takes a string"))?;
            Op::Regex(
                regex_lite::Regex::new(pattern)
                    .map_err(|e| format!("{at}: invalid $regex: {e}"))?,
            )
        }
        other => {
            return Err(format!(
                "{at}: unknown operator \"{other}\" ($eq $ne $gt $gte $lt $lte $in $nin $regex)"
            ))
        }
    })
}

impl Condition {
    /// Compiles a query; `at` names it in errors.
    pub fn compile(q: &Value, at: &str) -> Result<Self, String> {
        let obj = q
            .as_object()
            .ok_or_else(|| format!("{at}: a condition must be an object"))?;
        let mut all = Vec::new();
        for (k, v) in obj {
            match k.as_str() {
                "$and" | "$or" => {
                    let parts = list(v, k, at)?
                        .iter()
                        .enumerate()
                        .map(|(i, p)| Condition::compile(p, &format!("{at}.{k}[{i}]")))
                        .collect::<Result<Vec<_>, _>>()?;
                    all.push(if k == "$and" {
                        Condition::All(parts)
                    } else {
                        Condition::Any(parts)
                    });
                }
                key if key.starts_with('$') => {
                    return Err(format!(
                        "{at}: unknown operator \"{key}\" at the top of a query"
                    ))
                }
                field => {
                    let f = Field::parse(field).map_err(|e| format!("{at}: {e}"))?;
                    match v
                        .as_object()
                        .filter(|o| o.keys().all(|k| k.starts_with('$')))
                    {
                        Some(ops) if !ops.is_empty() => {
                            for (name, arg) in ops {
                                all.push(Condition::Test(
                                    f.clone(),
                                    operator(name, arg, &format!("{at}.{field}"))?,
                                ));
                            }
                        }
                        _ => all.push(Condition::Test(f, Op::Eq(v.clone()))),
                    }
                }
            }
        }
        Ok(Condition::All(all))
    }

    pub fn matches(&self, l: &dyn Lookup) -> bool {
        match self {
            Condition::All(c) => c.iter().all(|c| c.matches(l)),
            Condition::Any(c) => c.iter().any(|c| c.matches(l)),
            Condition::Test(field, op) => test(l.get(field).as_ref(), op),
        }
    }
}

/// Numbers compare as numbers, strings as strings; anything else does not order.
fn order(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        // Header and metadata values are strings: compare a numeric string with a number.
        (Value::String(x), Value::Number(y)) => x.parse::<f64>().ok()?.partial_cmp(&y.as_f64()?),
        _ => None,
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    a == b || order(a, b) == Some(std::cmp::Ordering::Equal)
}

fn test(value: Option<&Value>, op: &Op) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match (op, value) {
        (Op::Ne(x), None) => !x.is_null(),
        (Op::Nin(_), None) => true,
        (_, None) => false,
        (Op::Eq(x), Some(v)) => equal(v, x),
        (Op::Ne(x), Some(v)) => !equal(v, x),
        (Op::Gt(x), Some(v)) => order(v, x) == Some(Greater),
        (Op::Gte(x), Some(v)) => matches!(order(v, x), Some(Greater | Equal)),
        (Op::Lt(x), Some(v)) => order(v, x) == Some(Less),
        (Op::Lte(x), Some(v)) => matches!(order(v, x), Some(Less | Equal)),
        (Op::In(xs), Some(v)) => xs.iter().any(|x| equal(v, x)),
        (Op::Nin(xs), Some(v)) => !xs.iter().any(|x| equal(v, x)),
        (Op::Regex(r), Some(Value::String(s))) => r.is_match(s),
        (Op::Regex(_), Some(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct L(Value);
    impl Lookup for L {
        fn get(&self, f: &Field) -> Option<Value> {
            let root = match f.source {
                Source::Metadata => &self.0["metadata"],
                Source::Params => &self.0["params"],
                Source::Headers => &self.0["headers"],
            };
            let mut v = root;
            for p in &f.path {
                v = v.get(p)?;
            }
            Some(v.clone())
        }
    }

    fn check(q: Value, req: &L) -> bool {
        Condition::compile(&q, "when").unwrap().matches(req)
    }

    #[test]
    fn every_operator() {
        let r = L(
            json!({"metadata": {"tier": "pro", "region": "eu", "n": "7"},
            "params": {"temperature": 0.2, "max_tokens": 500, "model": "gpt-4o"},
            "headers": {"x-team": "blue"}}),
        );
        assert!(check(json!({"metadata.tier": "pro"}), &r));
        assert!(check(json!({"metadata.tier": {"$eq": "pro"}}), &r));
        assert!(!check(json!({"metadata.tier": {"$ne": "pro"}}), &r));
        assert!(check(json!({"metadata.missing": {"$ne": "x"}}), &r));
        assert!(check(
            json!({"params.max_tokens": {"$gt": 100, "$lte": 500}}),
            &r
        ));
        assert!(!check(json!({"params.max_tokens": {"$gte": 501}}), &r));
        assert!(check(json!({"params.temperature": {"$lt": 0.5}}), &r));
        assert!(
            check(json!({"metadata.n": {"$gt": 5}}), &r),
            "numeric strings compare as numbers"
        );
        assert!(check(json!({"metadata.region": {"$in": ["eu", "uk"]}}), &r));
        assert!(check(json!({"metadata.region": {"$nin": ["us"]}}), &r));
        assert!(check(json!({"params.model": {"$regex": "^gpt-4"}}), &r));
        assert!(!check(json!({"params.max_tokens": {"$regex": "5"}}), &r));
        assert!(check(json!({"headers.X-Team": "blue"}), &r));
        assert!(check(
            json!({"$or": [{"metadata.tier": "free"}, {"headers.x-team": "blue"}]}),
            &r
        ));
        assert!(!check(
            json!({"$and": [{"metadata.tier": "pro"}, {"metadata.region": "us"}]}),
            &r
        ));
        assert!(
            !check(json!({"metadata.tier": "pro", "metadata.region": "us"}), &r),
            "implicit and"
        );
        assert!(!check(json!({"metadata.absent": {"$gt": 1}}), &r));
    }

    #[test]
    fn bad_queries_name_the_problem() {
        for (q, says) in [
            (json!({"tier": "pro"}), "metadata., params. or headers."),
            (json!({"body.x": 1}), "unknown source"),
            (
                json!({"metadata.x": {"$like": 1}}),
                "unknown operator \"$like\"",
            ),
            (json!({"metadata.x": {"$in": 1}}), "$in takes a list"),
            (json!({"metadata.x": {"$regex": "("}}), "invalid $regex"),
            (json!({"$nor": []}), "unknown operator"),
            (json!([1]), "must be an object"),
        ] {
            let e = Condition::compile(&q, "routes.r.conditions[0].when").unwrap_err();
            assert!(e.contains(says), "{e}");
            assert!(e.starts_with("routes.r.conditions[0].when"), "{e}");
        }
    }
}
