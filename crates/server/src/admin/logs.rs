//! The request log over HTTP, behind admin keys: `GET /admin/logs` (filters, cursor pages),
//! `GET /admin/logs/{id}` (one record with its feedback), `GET /admin/logs/export` (JSONL or
//! CSV, streamed page by page) and `GET /admin/analytics`.

use super::params::{self, check_known, get};
use crate::error::GatewayError;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::header;
use serde_json::json;
use std::sync::Arc;
use switchyard_store::batch::FIELDS;
use switchyard_store::{Cursor, Filter, GroupBy, Record, Store};
use switchyard_tenants::access::Access;

/// Default and largest page.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;
/// Records per store read while exporting.
const EXPORT_PAGE: usize = 1000;

fn store_error(e: switchyard_store::StoreError) -> GatewayError {
    GatewayError::StoreUnavailable { detail: e.0 }
}

fn json_response(v: &serde_json::Value) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response()
}

pub(crate) async fn store(state: &AppState) -> Result<&Store, GatewayError> {
    state.log.store().await.map_err(store_error)
}

/// `GET /admin/logs`.
pub async fn list(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let (req, _) = req.into_parts();
    let access = match super::access(&s, &req.headers).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    run(async {
        let pairs = params::pairs(req.uri.query());
        check_known(&pairs, &["limit", "cursor"])?;
        let filter = narrow(&access, params::filter(&pairs)?)?;
        let limit = match get(&pairs, "limit") {
            None => DEFAULT_LIMIT,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| GatewayError::BadRequest {
                    message: format!("limit must be a number from 1 to {MAX_LIMIT}"),
                    param: Some("limit".into()),
                })?,
        };
        let cursor = match get(&pairs, "cursor") {
            None => None,
            Some(c) => Some(Cursor::decode(c).ok_or_else(|| GatewayError::BadRequest {
                message: "cursor is not one this API gave out (pass next_cursor as it came)".into(),
                param: Some("cursor".into()),
            })?),
        };
        let page = store(&s)
            .await?
            .list(&filter, cursor.as_ref(), limit)
            .await
            .map_err(store_error)?;
        Ok(json_response(&json!({
            "object": "list",
            "data": page.data,
            "has_more": page.next_cursor.is_some(),
            "next_cursor": page.next_cursor,
        })))
    })
    .await
}

/// `GET /admin/logs/{id}`: by record id or request id, with the feedback given for it.
pub async fn one(
    State(s): State<Arc<AppState>>,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
    req: Request,
) -> Response {
    let (req, _) = req.into_parts();
    let access = match super::access(&s, &req.headers).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    run(async {
        // axum's own rejection is plain text.
        let Path(id) = id.map_err(|_| GatewayError::BadRequest {
            message: "the id in the path is not valid UTF-8 once percent-decoded".into(),
            param: Some("id".into()),
        })?;
        let store = store(&s).await?;
        let record = store
            .get(&id)
            .await
            .map_err(store_error)?
            .ok_or(GatewayError::NotFound {
                what: "request record",
                id: id.clone(),
            })?;
        // Another workspace's record is not there for a workspace-scoped caller.
        let readable = access.org_admin()
            || record
                .workspace
                .as_deref()
                .is_some_and(|w| access.role_in(w).is_some());
        if !readable {
            return Err(GatewayError::NotFound {
                what: "request record",
                id: id.clone(),
            });
        }
        let feedback = store
            .feedback(&record.request_id, &record.trace_id)
            .await
            .map_err(store_error)?;
        let mut v = serde_json::to_value(&record).unwrap_or_default();
        v["feedback"] = json!(feedback);
        Ok(json_response(&v))
    })
    .await
}

/// The CSV columns of an export: a stored record's fields, in their order.
fn csv_columns() -> impl Iterator<Item = &'static str> {
    FIELDS.iter().copied()
}

/// One CSV field, quoted when it must be (RFC 4180).
fn csv_field(out: &mut String, v: &serde_json::Value) {
    let mut text = match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    // A caller's text that starts like a formula (a model name, metadata, an error) must not run
    // as one in a spreadsheet: it is prefixed with a quote, as OWASP advises for CSV exports.
    if v.is_string() && text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        text.insert(0, '\'');
    }
    if text.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&text);
    }
}

fn csv_row(r: &Record) -> String {
    let v = serde_json::to_value(r).unwrap_or_default();
    let mut out = String::new();
    for (i, c) in csv_columns().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(&mut out, &v[c]);
    }
    out.push_str("\r\n");
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Jsonl,
    Csv,
}

/// `GET /admin/logs/export?format=jsonl|csv`: every matching record, newest first, streamed.
pub async fn export(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let state = s.clone();
    let (req, _) = req.into_parts();
    let query = req.uri.query().map(str::to_owned);
    let access = match super::access(&s, &req.headers).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let narrowed =
        params::filter(&params::pairs(query.as_deref())).and_then(|f| narrow(&access, f));
    run(async move {
        let pairs = params::pairs(query.as_deref());
        check_known(&pairs, &["format"])?;
        let filter = narrowed?;
        let format = match get(&pairs, "format").unwrap_or("jsonl") {
            "jsonl" => Format::Jsonl,
            "csv" => Format::Csv,
            other => {
                return Err(GatewayError::BadRequest {
                    message: format!("format must be jsonl or csv, not \"{other}\""),
                    param: Some("format".into()),
                })
            }
        };
        // Fail before the headers when the store is down.
        store(&state).await?;
        let header_row = (format == Format::Csv)
            .then(|| format!("{}\r\n", csv_columns().collect::<Vec<_>>().join(",")));
        let pages = futures_util::stream::unfold(
            (state, filter, None::<Cursor>, false, header_row),
            move |(state, filter, cursor, done, header_row)| async move {
                if let Some(h) = header_row {
                    return Some((Ok(Bytes::from(h)), (state, filter, cursor, done, None)));
                }
                if done {
                    return None;
                }
                let page = match state.log.store().await {
                    Ok(st) => st.list(&filter, cursor.as_ref(), EXPORT_PAGE).await,
                    Err(e) => Err(e),
                };
                let page = match page {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::warn!(error = %e, "log export failed mid-way");
                        return Some((
                            Err(std::io::Error::other(e.0)),
                            (state, filter, None, true, None),
                        ));
                    }
                };
                let mut chunk = String::new();
                for r in &page.data {
                    match format {
                        Format::Jsonl => {
                            chunk.push_str(&serde_json::to_string(r).unwrap_or_default());
                            chunk.push('\n');
                        }
                        Format::Csv => chunk.push_str(&csv_row(r)),
                    }
                }
                let next = page.next_cursor.as_deref().and_then(Cursor::decode);
                let done = next.is_none();
                Some((Ok(Bytes::from(chunk)), (state, filter, next, done, None)))
            },
        );
        let (ctype, name) = match format {
            Format::Jsonl => ("application/x-ndjson", "switchyard-logs.jsonl"),
            Format::Csv => ("text/csv; charset=utf-8", "switchyard-logs.csv"),
        };
        Ok((
            [
                (header::CONTENT_TYPE, ctype.to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            Body::from_stream(pages),
        )
            .into_response())
    })
    .await
}

/// `GET /admin/analytics?group_by=...&bucket=...` plus the log filters.
pub async fn analytics(State(s): State<Arc<AppState>>, req: Request) -> Response {
    let (req, _) = req.into_parts();
    let access = match super::access(&s, &req.headers).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    run(async {
        let pairs = params::pairs(req.uri.query());
        check_known(&pairs, &["group_by", "bucket", "totals"])?;
        let filter: Filter = narrow(&access, params::filter(&pairs)?)?;
        let group = get(&pairs, "group_by")
            .unwrap_or("none")
            .parse::<GroupBy>()
            .map_err(|message| GatewayError::BadRequest {
                message,
                param: Some("group_by".into()),
            })?;
        let bucket = match get(&pairs, "bucket") {
            None => 0,
            Some(b) => params::bucket_ms(b).ok_or_else(|| GatewayError::BadRequest {
                message: format!("bucket must be a width such as 30s, 5m, 1h or 1d, not \"{b}\""),
                param: Some("bucket".into()),
            })?,
        };
        let totals = match get(&pairs, "totals") {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(GatewayError::BadRequest {
                    message: format!("totals must be true or false, not \"{other}\""),
                    param: Some("totals".into()),
                })
            }
        };
        let a = store(&s)
            .await?
            .analytics(&filter, &group, bucket, totals)
            .await
            .map_err(store_error)?;
        let mut body = json!({
            "object": "analytics",
            "group_by": get(&pairs, "group_by").unwrap_or("none"),
            "bucket_ms": (bucket > 0).then_some(bucket),
            "data": a.data,
            "truncated": a.truncated,
        });
        if let Some(t) = a.totals {
            body["totals"] = json!(t);
        }
        if let Some(g) = a.groups {
            body["groups"] = json!(g);
        }
        Ok(json_response(&body))
    })
    .await
}

/// Runs a handler admitted by `super::access`; errors become OpenAI-shaped replies.
/// Organisation admins read every record; a workspace-scoped caller only its workspaces'
/// (`narrow`).
async fn run(f: impl std::future::Future<Output = Result<Response, GatewayError>>) -> Response {
    f.await.unwrap_or_else(IntoResponse::into_response)
}

/// Narrows `filter` to what the caller may read: every record for organisation admins; for a
/// workspace-scoped caller, the workspace it names (one of its own, else a 404) or, when it
/// names none, its only workspace (with several, it must say which).
fn narrow(access: &Access, mut filter: Filter) -> Result<Filter, GatewayError> {
    if access.org_admin() {
        return Ok(filter);
    }
    let mine = access.readable().unwrap_or_default();
    match &filter.workspace {
        Some(w) if mine.contains(&w.as_str()) => {}
        Some(w) => {
            return Err(GatewayError::Missing {
                message: format!("no workspace '{w}'"),
            })
        }
        None => match mine.as_slice() {
            [only] => filter.workspace = Some((*only).to_owned()),
            [] => {
                return Err(GatewayError::Forbidden {
                    message: "Your role does not allow reading request records.".into(),
                    param: None,
                })
            }
            _ => {
                return Err(GatewayError::BadRequest {
                    message: "name the workspace to read: workspace=<id>".into(),
                    param: Some("workspace".into()),
                })
            }
        },
    }
    Ok(filter)
}

#[cfg(test)]
mod tests {
    use super::csv_field;
    use serde_json::json;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        let field = |v| {
            let mut out = String::new();
            csv_field(&mut out, &v);
            out
        };
        assert_eq!(field(json!("plain")), "plain");
        assert_eq!(field(json!("a,b")), "\"a,b\"");
        assert_eq!(field(json!("say \"hi\"")), "\"say \"\"hi\"\"\"");
        assert_eq!(field(json!("=HYPERLINK(1)")), "'=HYPERLINK(1)");
        assert_eq!(field(json!("@SUM(1,2)")), "\"'@SUM(1,2)\"");
        // Numbers are numbers, negative ones included.
        assert_eq!(field(json!(-1.5)), "-1.5");
        assert_eq!(field(json!(null)), "");
    }
}
