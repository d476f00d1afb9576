# Writes docs/openapi.json (the admin API's OpenAPI document): python3 scripts/openapi.py > docs/openapi.json.
# The server builds the document in and a test checks it against the routes it serves.
import json

def ref(n): return {"$ref": f"#/components/schemas/{n}"}
def lst(n): return {"type": "object", "required": ["object", "data"], "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": ref(n)}}}
def ok(desc, schema): return {"description": desc, "content": {"application/json": {"schema": schema}}}
ERR = {"$ref": "#/components/responses/Error"}
def errs(*codes): return {str(c): ERR for c in codes}
def body(schema, required=True): return {"required": required, "content": {"application/json": {"schema": schema}}}
ID = lambda what: {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}, "description": f"The {what}'s id."}

s_str = {"type": "string"}
s_int = {"type": "integer", "format": "int64"}
meta = {"type": "object", "additionalProperties": True, "description": "Free-form JSON object, at most 16 KiB."}

schemas = {
  "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["message", "type"], "properties": {
      "message": s_str, "type": s_str, "param": {"type": ["string", "null"]}, "code": {"type": ["string", "null"]}}}}},
  "Workspace": {"type": "object", "required": ["id", "object", "name", "metadata", "created_ms"], "properties": {
      "id": s_str, "object": {"const": "workspace"}, "name": s_str, "metadata": meta, "created_ms": s_int}},
  "NewWorkspace": {"type": "object", "additionalProperties": False, "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 128}, "metadata": meta}},
  "WorkspacePatch": {"type": "object", "additionalProperties": False, "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 128}, "metadata": meta}},
  "VirtualKey": {"type": "object", "required": ["id", "object", "workspace", "name", "disabled", "models", "metadata", "tags", "created_ms", "last_used_ms"], "properties": {
      "id": {"type": "string", "description": "The public id: the 12 characters after `sk-sy-`."}, "object": {"const": "virtual_key"},
      "workspace": s_str, "name": s_str, "disabled": {"type": "boolean"},
      "models": {"type": "array", "items": s_str, "description": "Model patterns the key may use (`*` matches any run of characters); empty: any model."},
      "metadata": meta, "tags": {"type": "array", "items": s_str},
      "expires_ms": {"type": ["integer", "null"], "format": "int64"},
      "previous_valid_until_ms": {"type": ["integer", "null"], "format": "int64", "description": "Until when the secret before the last rotation still works."},
      "created_ms": s_int, "last_used_ms": {"type": ["integer", "null"], "format": "int64"}}},
  "CreatedKey": {"allOf": [ref("VirtualKey"), {"type": "object", "required": ["key"], "properties": {"key": {"type": "string", "description": "The key itself: shown only in this answer."}}}]},
  "NewKey": {"type": "object", "additionalProperties": False, "required": ["name"], "properties": {
      "name": {"type": "string", "minLength": 1, "maxLength": 128}, "models": {"type": "array", "maxItems": 64, "items": {"type": "string", "minLength": 1, "maxLength": 256}},
      "metadata": meta, "tags": {"type": "array", "maxItems": 64, "items": {"type": "string", "minLength": 1, "maxLength": 256}}, "expires_ms": s_int}},
  "KeyPatch": {"type": "object", "additionalProperties": False, "properties": {
      "name": {"type": "string", "minLength": 1, "maxLength": 128}, "models": {"type": "array", "items": s_str}, "metadata": meta,
      "tags": {"type": "array", "items": s_str}, "expires_ms": {"type": ["integer", "null"], "format": "int64", "description": "`null` removes the expiry."},
      "disabled": {"type": "boolean"}}},
  "Rotate": {"type": "object", "additionalProperties": False, "properties": {"grace_ms": {"type": "integer", "format": "int64", "minimum": 0, "maximum": 2592000000, "description": "How long the old secret keeps working. Default one day."}}},
  "Credential": {"type": "object", "required": ["id", "object", "provider", "name", "kind", "created_ms", "updated_ms"], "properties": {
      "id": s_str, "object": {"const": "credential"}, "workspace": {"type": ["string", "null"], "description": "Absent or null: shared by the organisation."},
      "provider": s_str, "name": s_str, "kind": {"enum": ["api_key", "aws", "gcp"]}, "created_ms": s_int, "updated_ms": s_int}},
  "NewCredential": {"type": "object", "additionalProperties": False, "required": ["provider", "name"], "description": "Exactly one of `api_key`, `aws`, `gcp_service_account`.", "properties": {
      "provider": {"type": "string", "description": "A configured provider's name."}, "workspace": s_str, "name": s_str,
      "api_key": s_str, "aws": ref("AwsCredential"), "gcp_service_account": {"type": "object", "description": "A service account's JSON key file."}}},
  "CredentialPatch": {"type": "object", "additionalProperties": False, "properties": {
      "name": s_str, "api_key": s_str, "aws": ref("AwsCredential"), "gcp_service_account": {"type": "object"}}},
  "AwsCredential": {"type": "object", "additionalProperties": False, "required": ["access_key_id", "secret_access_key"], "properties": {
      "access_key_id": s_str, "secret_access_key": s_str, "session_token": s_str}},
  "AuditEvent": {"type": "object", "required": ["id", "object", "ts_ms", "actor", "action", "target"], "properties": {
      "id": {"type": "integer", "description": "Position in the log; pass the last one as `cursor` for the next page."},
      "object": {"const": "audit_event"}, "ts_ms": s_int, "actor": s_str,
      "action": {"type": "string", "description": "`workspace.create|update|delete`, `key.create|update|disable|enable|rotate|delete`, `credential.create|update|delete`, `user.create|update|delete`, `admin_key.create|delete`, `end_user.create|block|unblock|delete`, `limit.create|update|delete`, `guardrail_policy.create|update|delete`, `prompt.create|update|delete`, `prompt.version.create`, `prompt.label.set|delete`, `partial.put|delete`, `experiment.create|delete|stop|promote|conclude`, `dataset.create|delete`, `run.create|cancel|delete`, `vault.rotate_kek`."},
      "target": s_str, "workspace": {"type": ["string", "null"]}, "before": {}, "after": {},
      "source_ip": {"type": ["string", "null"]}, "request_id": {"type": ["string", "null"]}}},
  "AuditPage": {"type": "object", "required": ["object", "data", "has_more"], "properties": {
      "object": {"const": "list"}, "data": {"type": "array", "items": ref("AuditEvent")}, "has_more": {"type": "boolean"}, "next_cursor": {"type": ["string", "null"]}}},
  "User": {"type": "object", "required": ["id", "object", "email", "role", "workspaces", "created_ms"], "properties": {
      "id": s_str, "object": {"const": "user"}, "email": s_str, "name": s_str, "role": {"enum": ["owner", "admin", "member"]},
      "workspaces": {"type": "object", "additionalProperties": {"enum": ["admin", "member", "viewer"]}, "description": "Workspace id → role there."},
      "created_ms": s_int}},
  "NewUser": {"type": "object", "additionalProperties": False, "required": ["email"], "properties": {
      "email": s_str, "name": s_str, "role": {"enum": ["owner", "admin", "member"], "default": "member"},
      "workspaces": {"type": "object", "additionalProperties": {"enum": ["admin", "member", "viewer"]}}}},
  "UserPatch": {"type": "object", "additionalProperties": False, "properties": {
      "name": s_str, "role": {"enum": ["owner", "admin", "member"]},
      "workspaces": {"type": "object", "additionalProperties": {"enum": ["admin", "member", "viewer"]}, "description": "Replaces the user's workspace roles."}}},
  "AdminKey": {"type": "object", "required": ["id", "object", "user", "name", "created_ms"], "properties": {
      "id": s_str, "object": {"const": "admin_key"}, "user": s_str, "name": s_str, "created_ms": s_int}},
  "CreatedAdminKey": {"allOf": [ref("AdminKey"), {"type": "object", "required": ["key"], "properties": {"key": {"type": "string", "description": "The admin key (`sk-sya-...`): shown only in this answer."}}}]},
  "NewAdminKey": {"type": "object", "additionalProperties": False, "required": ["name"], "properties": {"name": s_str}},
  "LimitSpec": {"type": "object", "additionalProperties": False, "required": ["id", "scope", "dimension", "amount"], "properties": {
      "id": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"},
      "scope": {"type": "string", "description": "org, or KIND:VALUE: workspace, key, user, end_user, tag, metadata.FIELD, model, provider; VALUE `*` counts each one separately."},
      "dimension": {"enum": ["requests", "input_tokens", "output_tokens", "total_tokens", "cost_usd", "concurrent"]},
      "amount": {"type": "number", "minimum": 0, "description": "Requests, tokens, US dollars or requests at once."},
      "window": {"enum": ["second", "minute", "hour", "day", "calendar_day", "week", "calendar_week", "month", "calendar_month"], "default": "minute"},
      "time_zone": {"type": "string", "description": "IANA time zone of calendar windows. Default UTC."},
      "mode": {"enum": ["enforce", "shadow"], "default": "enforce"}}},
  "Limit": {"type": "object", "required": ["id", "object", "source", "scope", "dimension", "amount"], "properties": {
      "id": s_str, "object": {"const": "limit"}, "source": {"enum": ["config", "api"]}, "scope": s_str, "dimension": s_str,
      "amount": {"type": "number"}, "window": s_str, "time_zone": s_str, "mode": s_str, "workspace": {"type": ["string", "null"]},
      "created_ms": {"type": "integer"}, "updated_ms": {"type": "integer"},
      "state": {"type": ["object", "null"], "description": "GET one: the counter now (for `*` scopes, the value given as ?scope_value=).", "properties": {
          "scope_value": s_str, "used": {"type": "number"}, "reserved": {"type": "number"}, "remaining": {"type": "number"},
          "resets_in_ms": {"type": "integer"}, "resets_at_ms": {"type": "integer"}}}}},
  "EndUser": {"type": "object", "required": ["workspace", "id", "object", "blocked", "first_seen_ms", "last_seen_ms"], "properties": {
      "workspace": s_str, "id": s_str, "object": {"const": "end_user"}, "blocked": {"type": "boolean"}, "first_seen_ms": s_int, "last_seen_ms": s_int}},
  "Deleted": {"type": "object", "required": ["id", "object", "deleted"], "properties": {"id": s_str, "object": s_str, "deleted": {"const": True}}},
  "Record": {"type": "object", "description": "One request record: fields in docs/observability.md.", "additionalProperties": True},
  "GuardrailCheck": {"type": "object", "required": ["object", "id", "family", "summary"], "properties": {
      "object": {"const": "guardrail_check"}, "id": s_str, "family": s_str, "summary": s_str}},
  "GuardrailAttach": {"type": "object", "additionalProperties": False, "description": "Where a policy set through the API applies. A workspace's policy applies only to that workspace's requests: all of them when it names no key and no route, else those of the keys and routes named. An organisation's applies where this says, and otherwise only to requests naming it in `x-switchyard-guardrails`.", "properties": {
      "org": {"type": "boolean", "default": False, "description": "Every request (organisation's policies only)."},
      "keys": {"type": "array", "maxItems": 64, "items": {"type": "string", "minLength": 1, "maxLength": 128}, "description": "Virtual key ids or key names."},
      "routes": {"type": "array", "maxItems": 64, "items": {"type": "string", "minLength": 1, "maxLength": 128}, "description": "Route names (configured routes)."}}},
  "NewGuardrailPolicy": {"type": "object", "additionalProperties": False, "required": ["id", "checks"], "description": "A policy as the config file defines one (docs/guardrails.md), with its owner and where it applies.", "properties": {
      "id": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"},
      "checks": {"type": "array", "minItems": 1, "items": {"type": "object", "description": "`{check: <id>, sources?: [...], ...parameters}`"}},
      "action": {"enum": ["flag", "redact", "retry", "fallback", "deny"], "default": "flag"},
      "stages": {"type": ["array", "null"], "items": {"enum": ["input", "output"]}},
      "on_error": {"enum": ["closed", "open"], "default": "closed"}, "refusal": {"type": ["string", "null"]}, "reversible": {"type": "boolean", "default": False},
      "max_retries": {"type": ["integer", "null"], "minimum": 0}, "description": {"type": ["string", "null"]},
      "workspace": {"type": ["string", "null"], "description": "The workspace that owns it (its admins manage it; it applies to its requests only); absent or null: the organisation's."},
      "attach": ref("GuardrailAttach")}},
  "GuardrailPolicy": {"type": "object", "description": "A policy (docs/guardrails.md): the config file's (`source: config`, with where the config attaches it) or one set through the API (`source: api`, with its `workspace` and `attach`).", "required": ["object", "id", "source", "checks", "action", "stages"], "properties": {
      "object": {"const": "guardrail_policy"}, "source": {"enum": ["config", "api"]}, "id": s_str,
      "checks": {"type": "array", "items": {"type": "object", "description": "`{check: <id>, sources?: [...], ...parameters}`"}},
      "action": {"enum": ["flag", "redact", "retry", "fallback", "deny"]},
      "stages": {"type": "array", "items": {"enum": ["input", "output"]}},
      "on_error": {"enum": ["closed", "open"]}, "refusal": {"type": ["string", "null"]}, "reversible": {"type": "boolean"},
      "max_retries": {"type": ["integer", "null"]}, "description": {"type": ["string", "null"]},
      "attached": {"type": "object", "description": "The config file's policies: where the config attaches it.", "properties": {"org": {"type": "boolean"}, "workspaces": {"type": "array", "items": s_str},
          "keys": {"type": "array", "items": s_str}, "routes": {"type": "array", "items": s_str}}},
      "workspace": {"type": ["string", "null"], "description": "Set through the API: the owning workspace; null: the organisation's."},
      "attach": ref("GuardrailAttach"), "created_ms": s_int, "updated_ms": s_int}},
  "GuardrailTest": {"type": "object", "required": ["text"], "properties": {
      "text": s_str, "policies": {"type": "array", "items": s_str, "description": "Policies by id: the config file's, or set through the API."},
      "policy": {"type": "object", "description": "A policy definition to try (not saved)."},
      "stage": {"enum": ["input", "output"]}, "source": {"enum": ["input", "output", "tool_call", "tool_result"]}, "tool": s_str}},
  "GuardrailTestResult": {"type": "object", "required": ["object", "verdicts"], "properties": {
      "object": {"const": "guardrail_test"}, "action": {"enum": ["flag", "redact", "retry", "fallback", "deny", None]},
      "decided_by": {"type": ["object", "null"], "properties": {"policy": s_str, "check": s_str, "label": s_str}},
      "redacted": {"type": ["string", "null"], "description": "The text with redact policies' findings masked."},
      "verdicts": {"type": "array", "items": {"type": "object", "description": "policy, check, stage, fired, action, score, spans, labels, latency_us"}}}},
  "CacheStats": {"type": "object", "required": ["object", "backend", "requests", "entries"], "description": "This replica's counters since it started, and what the store holds.", "properties": {
      "object": {"const": "cache_stats"}, "backend": {"enum": ["memory", "redis"]},
      "requests": {"type": "object", "properties": {"hit": {"type": "integer"}, "semantic_hit": {"type": "integer"}, "miss": {"type": "integer"}, "bypass": {"type": "integer"}}},
      "hit_rate": {"type": ["number", "null"], "description": "Hits (exact and semantic) over requests looked up."},
      "stored": {"type": "integer"}, "errors": {"type": "integer", "description": "Lookups the store could not answer (served uncached)."},
      "saved_usd": {"type": "number", "description": "What the answers served from the cache cost when they were made."},
      "entries": {"type": "integer", "description": "Answers held (with Redis: all replicas', counted by a scan)."},
      "memory_bytes": {"type": "integer"}, "memory_max_bytes": {"type": "integer"},
      "semantic": {"type": ["object", "null"], "properties": {"vectors": {"type": "integer"}, "bytes": {"type": "integer"}, "threshold": {"type": "number"}}}}},
  "CachePurge": {"type": "object", "additionalProperties": False, "description": "Which entries go: every condition given must hold. With none, `all: true` is required.", "properties": {
      "workspace": {"type": "string", "description": "The workspace whose entries go, its namespaces included. Required for a workspace admin."},
      "namespace": {"type": "string", "description": "A namespace within `workspace` (`x-switchyard-cache-namespace`)."},
      "key_id": {"type": "string", "description": "Entries stored by requests with this virtual key id or static key name."},
      "cache_key": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$", "description": "One entry: the `x-switchyard-cache-key` of its answer."},
      "older_than_secs": {"type": "integer", "minimum": 0, "description": "Entries made more than this many seconds ago."},
      "all": {"type": "boolean", "description": "Purge every entry (only needed with no other condition)."}}},
  "CachePurged": {"type": "object", "required": ["object", "purged"], "properties": {"object": {"const": "cache_purge"}, "purged": {"type": "integer", "description": "Entries removed."}}},
  "RecordPage": {"type": "object", "required": ["object", "data", "has_more"], "properties": {
      "object": {"const": "list"}, "data": {"type": "array", "items": ref("Record")}, "has_more": {"type": "boolean"}, "next_cursor": {"type": ["string", "null"]}}},
  "MessageTemplate": {"type": "object", "additionalProperties": False, "required": ["role", "content"], "properties": {
      "role": {"enum": ["system", "developer", "user", "assistant"]},
      "content": {"description": "A Mustache template string, or content parts whose string fields are templates (`{\"type\": \"text\", \"text\": ...}`, `image_url` parts).", "oneOf": [s_str, {"type": "array", "items": {"type": "object"}}]}}},
  "PromptVariable": {"type": "object", "additionalProperties": False, "required": ["name"], "properties": {
      "name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,63}$"},
      "type": {"enum": ["string", "number", "integer", "boolean", "object", "array", "content"], "default": "string", "description": "`content`: a content part (an image) or an array of them, placed where the variable stands."},
      "required": {"type": "boolean", "default": False}, "default": {}, "description": s_str}},
  "NewPromptVersion": {"type": "object", "required": ["messages"], "description": "A version's content (docs/prompts.md). Templates are Mustache without HTML escaping.", "properties": {
      "messages": {"type": "array", "minItems": 1, "items": ref("MessageTemplate")},
      "model": {"type": "string", "description": "A model or route; the caller's `model` wins."},
      "params": {"type": "object", "description": "Request parameters (`temperature`, `max_tokens`, ...); the caller's win."},
      "tools": {"type": "array", "items": {"type": "object"}}, "tool_choice": {}, "response_format": {"type": "object"},
      "variables": {"type": "array", "items": ref("PromptVariable")},
      "strict": {"type": "boolean", "default": False, "description": "Refuse variables the version does not declare (or use)."},
      "note": s_str,
      "labels": {"type": "array", "items": s_str, "description": "Labels to point at the new version (`production` needs a workspace admin)."}}},
  "PromptVersion": {"allOf": [ref("NewPromptVersion"), {"type": "object", "required": ["object", "prompt", "workspace", "version", "created_ms", "created_by"], "properties": {
      "object": {"const": "prompt_version"}, "prompt": s_str, "workspace": s_str, "version": {"type": "integer", "minimum": 1},
      "partials": {"type": "object", "additionalProperties": {"type": "integer"}, "description": "The partial versions it includes, pinned when it was made."},
      "created_ms": s_int, "created_by": s_str}}]},
  "Prompt": {"type": "object", "required": ["object", "id", "workspace", "labels", "latest", "created_ms", "updated_ms"], "properties": {
      "object": {"const": "prompt"}, "id": s_str, "workspace": s_str, "description": s_str,
      "labels": {"type": "object", "additionalProperties": {"type": "integer"}, "description": "Label → version."},
      "latest": {"type": "integer"}, "created_ms": s_int, "updated_ms": s_int,
      "versions": {"type": "array", "items": {"type": "object"}, "description": "On `GET /prompts/{id}`: each version's number, author, time and note."}}},
  "NewPrompt": {"type": "object", "additionalProperties": False, "required": ["id"], "properties": {
      "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,63}$"}, "workspace": {"type": "string", "default": "default"}, "description": s_str,
      "version": ref("NewPromptVersion"), "labels": {"type": "array", "items": s_str}}},
  "PromptRender": {"type": "object", "required": ["object", "prompt", "version", "messages"], "properties": {
      "object": {"const": "prompt_render"}, "prompt": s_str, "version": {"type": "integer"}, "label": {"type": ["string", "null"]},
      "messages": {"type": "array", "items": {"type": "object"}}, "model": s_str, "params": {"type": "object"}, "tools": {}, "tool_choice": {}, "response_format": {}}},
  "PromptDiff": {"type": "object", "required": ["object", "from", "to", "messages", "settings"], "properties": {
      "object": {"const": "prompt_diff"}, "from": {"type": "integer"}, "to": {"type": "integer"},
      "messages": {"type": "array", "items": {"type": "object", "description": "`{index, role: {from, to}, changed, lines: [{op: = | - | +, line}]}`"}},
      "settings": {"type": "object", "description": "Each setting that differs: `{from, to}`."}}},
  "Partial": {"type": "object", "required": ["object", "name", "workspace", "versions"], "properties": {
      "object": {"const": "partial"}, "name": s_str, "workspace": s_str, "updated_ms": s_int,
      "versions": {"type": "array", "items": {"type": "object", "properties": {"version": {"type": "integer"}, "template": s_str, "created_ms": s_int, "created_by": s_str}}}}},
  "ExperimentVariant": {"type": "object", "additionalProperties": False, "required": ["name"], "properties": {
      "name": s_str, "version": {"type": "integer", "description": "The prompt version it serves (prompt experiments)."},
      "weight": {"type": "number", "default": 1, "description": "Its share in a fixed split (normalised)."},
      "model": {"type": "string", "description": "A model that replaces the version's and the caller's."},
      "params": {"type": "object", "description": "Parameters that replace the version's and the caller's."}}},
  "NewExperiment": {"type": "object", "additionalProperties": False, "required": ["id", "variants"], "description": "A prompt (and label) or a route.", "properties": {
      "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,63}$"}, "workspace": {"type": "string", "default": "default"}, "description": s_str,
      "prompt": s_str, "label": {"type": "string", "default": "production", "description": "The label whose traffic is split (running on `production` needs a workspace admin)."},
      "route": {"type": "string", "description": "Instead of a prompt: a route or model name whose requests are split between the variants' models (workspace admins)."},
      "variants": {"type": "array", "minItems": 2, "items": ref("ExperimentVariant")},
      "unit": {"enum": ["end_user", "session", "key"], "default": "end_user", "description": "Who keeps one variant (falling back to the key)."},
      "metric": {"enum": ["rate", "mean"], "default": "rate", "description": "Feedback scores as yes/no (above 0 is yes) or as numbers."},
      "mode": {"enum": ["fixed", "adaptive"], "default": "fixed"},
      "confidence": {"type": "number", "default": 0.95}, "floor": {"type": "number", "default": 0.05}, "min_samples": {"type": "integer", "default": 100}}},
  "Experiment": {"allOf": [ref("NewExperiment"), {"type": "object", "required": ["object", "status", "started_ms", "updated_ms", "created_by"], "properties": {
      "object": {"const": "experiment"}, "status": {"enum": ["running", "stopped", "concluded"]}, "winner": {"type": ["string", "null"]},
      "started_ms": s_int, "updated_ms": s_int, "created_by": s_str}}]},
  "ExperimentResults": {"type": "object", "required": ["object", "experiment", "status", "observations", "variants", "weights"], "properties": {
      "object": {"const": "experiment_results"}, "experiment": s_str, "status": s_str, "winner": {"type": ["string", "null"]},
      "observations": {"type": "integer"}, "weights": {"type": "array", "items": {"type": "number"}, "description": "The shares requests are assigned with now."},
      "variants": {"type": "array", "items": {"type": "object", "description": "`{name, n, mean, interval: [lo, hi] (Wilson or t), anytime: [lo, hi] (confidence sequence), difference: [d, lo, hi] (Welch, against the first), p_best, allocation, requests, error_rate, cost_usd, latency_ms: {p50, p95}}`"}}}},
  "DatasetRow": {"type": "object", "additionalProperties": False, "properties": {"variables": {"type": "object"}, "expected": s_str}},
  "NewDataset": {"type": "object", "additionalProperties": False, "required": ["id"], "description": "Rows from `rows`, `jsonl` (one row per line) and `from_logs` together; at most 10,000.", "properties": {
      "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,63}$"}, "workspace": {"type": "string", "default": "default"}, "description": s_str,
      "rows": {"type": "array", "items": ref("DatasetRow")}, "jsonl": s_str,
      "from_logs": {"type": "object", "additionalProperties": False, "description": "Logged chat requests as rows: `variables.input` is the last user message, `expected` the answer's text (the log must keep bodies).",
        "properties": {"filter": {"type": "object", "description": "The logs API's filters (`model`, `status`, `from`, ...)."}, "limit": {"type": "integer", "default": 1000}}}}},
  "Dataset": {"type": "object", "required": ["object", "id", "workspace", "rows", "created_ms", "created_by"], "properties": {
      "object": {"const": "dataset"}, "id": s_str, "workspace": s_str, "description": {"type": ["string", "null"]},
      "rows": {"type": "integer"}, "data": {"type": "array", "items": ref("DatasetRow"), "description": "On `GET /datasets/{id}`."}, "created_ms": s_int, "created_by": s_str}},
  "RunEvaluator": {"type": "object", "required": ["type"], "description": "`exact` and `similarity` against the row's `expected`; `check`: a guardrail check on the output, 1 when it does not fire (`expect: fire`: when it does); `judge`: `model` rates the output from 0 to `scale` (10).", "properties": {
      "type": {"enum": ["exact", "similarity", "check", "judge"]}, "name": s_str, "check": {"type": "object"}, "expect": {"enum": ["pass", "fire"]},
      "model": s_str, "rubric": s_str, "scale": {"type": "number"}, "params": {"type": "object", "description": "The judge request's parameters."}}},
  "NewRun": {"type": "object", "additionalProperties": False, "required": ["dataset", "prompt", "variants"], "properties": {
      "id": s_str, "workspace": {"type": "string", "default": "default"}, "dataset": s_str, "prompt": s_str,
      "variants": {"type": "array", "minItems": 2, "items": {"type": "object", "additionalProperties": False, "required": ["name"], "properties": {
          "name": s_str, "version": {"type": "integer"}, "label": s_str, "model": s_str, "params": {"type": "object"}}}},
      "evaluators": {"type": "array", "items": ref("RunEvaluator")},
      "concurrency": {"type": "integer", "minimum": 1, "maximum": 32, "default": 4}, "confidence": {"type": "number", "default": 0.95},
      "dry_run": {"type": "boolean", "default": False, "description": "Answer the cost estimate; run nothing."}}},
  "Run": {"type": "object", "required": ["object", "id", "workspace", "dataset", "prompt", "status", "total", "done", "failed", "estimate"], "properties": {
      "object": {"const": "run"}, "id": s_str, "workspace": s_str, "dataset": s_str, "prompt": s_str, "variants": {"type": "array", "items": {"type": "object"}},
      "evaluators": {"type": "array", "items": ref("RunEvaluator")}, "concurrency": {"type": "integer"}, "confidence": {"type": "number"},
      "status": {"enum": ["estimate", "running", "done", "cancelled"]}, "total": {"type": "integer"}, "done": {"type": "integer"}, "failed": {"type": "integer"},
      "estimate": {"type": "object", "description": "`{requests, input_tokens, output_tokens_at_most, cost_usd_at_most}`"},
      "summary": {"type": "object", "description": "When done: per variant, `{requests, errors, input_tokens, output_tokens, cost_usd, latency_ms: {p50, p95}, evaluators: {name: {n, mean, interval}}}`."},
      "created_ms": s_int, "ended_ms": s_int, "created_by": s_str}},
}

filters = [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}, "description": d} for n, d in [
    ("from", "`ts_ms` at or after: RFC 3339 or Unix milliseconds."), ("to", "`ts_ms` before."), ("model", "Upstream or requested model."),
    ("provider", "Provider name."), ("status", "A code (`429`) or a class (`5xx`)."), ("key", "The client key's name (also `caller`)."),
    ("trace_id", "Exact."), ("request_id", "Exact."), ("operation", "Exact."),
    ("workspace", "The caller's workspace id."), ("key_id", "The virtual key's public id."), ("end_user", "The caller's own user."),
    ("unpriced", "`true`: only records whose usage was read for a model the catalog does not price; `false`: only the others."),
    ("cache", "Response cache status: `hit`, `semantic-hit`, `miss` or `bypass`.")]]

paths = {
  "/admin/v1/openapi.json": {"get": {"summary": "This document.", "operationId": "openapi", "responses": {"200": ok("The OpenAPI document.", {"type": "object"}), **errs(401)}}},
  "/admin/v1/me": {"get": {"summary": "The caller: who it is and the roles it holds (the console shows what they reach).", "operationId": "me",
    "responses": {"200": ok("The caller.", {"type": "object", "required": ["object", "actor", "org_admin", "workspaces"], "properties": {
      "object": {"const": "me"}, "actor": {"type": "string", "description": "`admin-key:<name>` or `user:<email>`."},
      "org_role": {"enum": ["member", "admin", "owner"]}, "org_admin": {"type": "boolean"},
      "workspaces": {"type": "object", "additionalProperties": {"enum": ["viewer", "member", "admin"]}, "description": "Workspace id to role."}}}), **errs(401)}}},
  "/admin/v1/models": {"get": {"summary": "Every model and route the gateway can send to, with the catalog's prices (USD per million tokens), context windows and capabilities: `/v1/models`' listing, for organisation admins.", "operationId": "listModels",
    "responses": {"200": ok("Models.", {"type": "object", "required": ["object", "data"], "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": {"type": "object"}}}}), **errs(401, 403)}}},
  "/admin/v1/playground/chat": {"post": {"summary": "The console's playground: a chat completion (OpenAI's request and answer, streamed or not) through the whole request path on the admin's behalf, in the workspace named (default `default`); recorded with the admin as caller and `metadata.playground = true`. Organisation admins, or members of the workspace.", "operationId": "playgroundChat",
    "parameters": [{"name": "workspace", "in": "query", "required": False, "schema": s_str}],
    "requestBody": body({"type": "object", "description": "An OpenAI chat completions request."}),
    "responses": {"200": {"description": "OpenAI's chat completion, or its SSE stream.", "content": {"application/json": {"schema": {"type": "object"}}, "text/event-stream": {"schema": {"type": "string"}}}}, **errs(400, 401, 403, 404)}}},
  "/admin/v1/workspaces": {
    "get": {"summary": "List workspaces.", "operationId": "listWorkspaces", "responses": {"200": ok("Workspaces, oldest first.", lst("Workspace")), **errs(401)}},
    "post": {"summary": "Create a workspace.", "operationId": "createWorkspace", "requestBody": body(ref("NewWorkspace")), "responses": {"201": ok("The workspace.", ref("Workspace")), **errs(400, 401, 409)}}},
  "/admin/v1/workspaces/{id}": {"parameters": [ID("workspace")],
    "get": {"summary": "One workspace.", "operationId": "getWorkspace", "responses": {"200": ok("The workspace.", ref("Workspace")), **errs(401, 404)}},
    "patch": {"summary": "Change a workspace's name or metadata.", "operationId": "updateWorkspace", "requestBody": body(ref("WorkspacePatch")), "responses": {"200": ok("The workspace.", ref("Workspace")), **errs(400, 401, 404, 409)}},
    "delete": {"summary": "Delete an empty workspace (409 while it has keys; `default` cannot be deleted).", "operationId": "deleteWorkspace", "responses": {"200": ok("Deleted.", ref("Deleted")), **errs(401, 404, 409)}}},
  "/admin/v1/workspaces/{id}/keys": {"parameters": [ID("workspace")],
    "get": {"summary": "The workspace's virtual keys.", "operationId": "listWorkspaceKeys", "responses": {"200": ok("Keys, oldest first.", lst("VirtualKey")), **errs(401, 404)}},
    "post": {"summary": "Create a virtual key; the answer's `key` is the only time it is shown.", "operationId": "createKey", "requestBody": body(ref("NewKey")), "responses": {"201": ok("The key, with `key`.", ref("CreatedKey")), **errs(400, 401, 404)}}},
  "/admin/v1/keys": {"get": {"summary": "Every virtual key.", "operationId": "listKeys", "responses": {"200": ok("Keys, oldest first.", lst("VirtualKey")), **errs(401)}}},
  "/admin/v1/keys/{id}": {"parameters": [ID("key")],
    "get": {"summary": "One virtual key (never the key itself).", "operationId": "getKey", "responses": {"200": ok("The key.", ref("VirtualKey")), **errs(401, 404)}},
    "patch": {"summary": "Change a key: name, models, metadata, tags, expiry, disabled.", "operationId": "updateKey", "requestBody": body(ref("KeyPatch")), "responses": {"200": ok("The key.", ref("VirtualKey")), **errs(400, 401, 404)}},
    "delete": {"summary": "Delete a key; it is refused at once.", "operationId": "deleteKey", "responses": {"200": ok("Deleted.", ref("Deleted")), **errs(401, 404)}}},
  "/admin/v1/keys/{id}/rotate": {"parameters": [ID("key")],
    "post": {"summary": "A new secret for the key; the old one keeps working for `grace_ms`.", "operationId": "rotateKey", "requestBody": body(ref("Rotate"), False), "responses": {"200": ok("The key, with the new `key`.", ref("CreatedKey")), **errs(400, 401, 404)}}},
  "/admin/v1/credentials": {
    "get": {"summary": "Provider credentials (never their secret).", "operationId": "listCredentials", "responses": {"200": ok("Credentials, oldest first.", lst("Credential")), **errs(401)}},
    "post": {"summary": "Store a provider credential, sealed by the vault.", "operationId": "createCredential", "requestBody": body(ref("NewCredential")), "responses": {"201": ok("The credential.", ref("Credential")), **errs(400, 401, 404, 409)}}},
  "/admin/v1/credentials/{id}": {"parameters": [ID("credential")],
    "get": {"summary": "One credential.", "operationId": "getCredential", "responses": {"200": ok("The credential.", ref("Credential")), **errs(401, 404)}},
    "patch": {"summary": "Rename a credential or replace its secret.", "operationId": "updateCredential", "requestBody": body(ref("CredentialPatch")), "responses": {"200": ok("The credential.", ref("Credential")), **errs(400, 401, 404, 409)}},
    "delete": {"summary": "Delete a credential.", "operationId": "deleteCredential", "responses": {"200": ok("Deleted.", ref("Deleted")), **errs(401, 404)}}},
  "/admin/v1/users": {
    "get": {"summary": "Users and their roles (organisation admins).", "operationId": "listUsers", "responses": {"200": ok("Users, oldest first.", lst("User")), **errs(401, 403)}},
    "post": {"summary": "Create a user; granting admin or owner takes an owner.", "operationId": "createUser", "requestBody": body(ref("NewUser")), "responses": {"201": ok("The user.", ref("User")), **errs(400, 401, 403, 409)}}},
  "/admin/v1/users/{id}": {"parameters": [ID("user")],
    "get": {"summary": "One user.", "operationId": "getUser", "responses": {"200": ok("The user.", ref("User")), **errs(401, 403, 404)}},
    "patch": {"summary": "Change a user's name, organisation role or workspace roles.", "operationId": "updateUser", "requestBody": body(ref("UserPatch")), "responses": {"200": ok("The user.", ref("User")), **errs(400, 401, 403, 404)}},
    "delete": {"summary": "Delete a user and the admin keys acting as them.", "operationId": "deleteUser", "responses": {"200": ok("Deleted.", ref("Deleted")), **errs(401, 403, 404)}}},
  "/admin/v1/users/{id}/admin-keys": {"parameters": [ID("user")],
    "get": {"summary": "The admin keys acting as the user.", "operationId": "listAdminKeys", "responses": {"200": ok("Admin keys.", lst("AdminKey")), **errs(401, 403, 404)}},
    "post": {"summary": "Create an admin key acting with the user's roles; `key` is shown only here.", "operationId": "createAdminKey", "requestBody": body(ref("NewAdminKey")), "responses": {"201": ok("The admin key, with `key`.", ref("CreatedAdminKey")), **errs(400, 401, 403, 404)}}},
  "/admin/v1/admin-keys/{id}": {"parameters": [ID("admin key")],
    "delete": {"summary": "Revoke an admin key.", "operationId": "deleteAdminKey", "responses": {"200": ok("Deleted.", ref("Deleted")), **errs(401, 403, 404)}}},
  "/admin/v1/workspaces/{id}/end-users": {"parameters": [ID("workspace")],
    "get": {"summary": "The workspace's end users (the callers' own users), most recently seen first.", "operationId": "listEndUsers",
      "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}],
      "responses": {"200": ok("End users.", lst("EndUser")), **errs(400, 401, 404)}},
    "post": {"summary": "Record an end user ahead of its first request (blocked or not); end users are also created when first seen.", "operationId": "createEndUser",
      "requestBody": body({"type": "object", "additionalProperties": False, "required": ["id"], "properties": {"id": {"type": "string", "minLength": 1, "maxLength": 256}, "blocked": {"type": "boolean", "default": False}}}),
      "responses": {"201": ok("The end user.", ref("EndUser")), **errs(400, 401, 403, 404, 409)}}},
  "/admin/v1/workspaces/{id}/end-users/{user}": {"parameters": [ID("workspace"), {"name": "user", "in": "path", "required": True, "schema": s_str, "description": "The end user's id."}],
    "get": {"summary": "One end user.", "operationId": "getEndUser",
      "responses": {"200": ok("The end user.", ref("EndUser")), **errs(401, 404)}},
    "patch": {"summary": "Block or unblock an end user: a blocked one's requests are a 403.", "operationId": "blockEndUser",
      "requestBody": body({"type": "object", "additionalProperties": False, "required": ["blocked"], "properties": {"blocked": {"type": "boolean"}}}),
      "responses": {"200": ok("The end user.", ref("EndUser")), **errs(400, 401, 403, 404)}},
    "delete": {"summary": "Forget an end user (unblocking it); it is recorded again when next seen.", "operationId": "deleteEndUser",
      "responses": {"200": ok("Deleted.", {"type": "object"}), **errs(401, 403, 404)}}},
  "/admin/v1/guardrails/checks": {
    "get": {"summary": "Every built-in guardrail check (docs/guardrails.md).", "operationId": "listGuardrailChecks",
      "responses": {"200": ok("Checks.", lst("GuardrailCheck")), **errs(401)}}},
  "/admin/v1/guardrails/policies": {
    "get": {"summary": "The guardrail policies: the config file's, with where each is attached, and those set here that the caller may see (the organisation's, and its workspaces').", "operationId": "listGuardrailPolicies",
      "responses": {"200": ok("Policies.", lst("GuardrailPolicy")), **errs(401)}},
    "post": {"summary": "Set a guardrail policy; it applies from the next request, on every replica within a second. Workspace admins may set their workspace's; the organisation's need an organisation admin. A definition that does not build is a 400 naming the field (`checks[0].words`); an id taken (also by the config file) a 409.", "operationId": "createGuardrailPolicy",
      "requestBody": body(ref("NewGuardrailPolicy")),
      "responses": {"201": ok("The policy.", ref("GuardrailPolicy")), **errs(400, 401, 403, 404, 409)}}},
  "/admin/v1/guardrails/policies/{id}": {"parameters": [ID("policy")],
    "get": {"summary": "One guardrail policy.", "operationId": "getGuardrailPolicy",
      "responses": {"200": ok("The policy.", ref("GuardrailPolicy")), **errs(401, 404)}},
    "patch": {"summary": "Change a policy set here: the fields given replace its own (`null` removes an optional one; within `attach`, each field given replaces its own); not its id. The config file's are changed in the file (409).", "operationId": "updateGuardrailPolicy",
      "requestBody": body({"type": "object"}),
      "responses": {"200": ok("The policy.", ref("GuardrailPolicy")), **errs(400, 401, 403, 404, 409)}},
    "delete": {"summary": "Remove a policy set here; the config file's are removed from the file (409).", "operationId": "deleteGuardrailPolicy",
      "responses": {"200": ok("Deleted.", ref("Deleted")), **errs(401, 403, 404, 409)}}},
  "/admin/v1/guardrails/test": {
    "post": {"summary": "Dry-run a text against configured policies or a policy definition: the verdicts, the action that would be taken, the text as a redaction would leave it. Nothing is sent anywhere.", "operationId": "testGuardrails",
      "requestBody": body(ref("GuardrailTest")),
      "responses": {"200": ok("What the policies found.", ref("GuardrailTestResult")), **errs(400, 401)}}},
  "/admin/v1/limits": {
    "get": {"summary": "Budgets and rate limits: the config file's (organisation admins) and those set here (docs/limits.md).", "operationId": "listLimits",
      "responses": {"200": ok("Limits.", lst("Limit")), **errs(401)}},
    "post": {"summary": "Set a limit. Workspace admins may set limits on their workspace (`workspace:ID`) or its keys (`key:ID`); others need an organisation admin.", "operationId": "createLimit",
      "requestBody": body(ref("LimitSpec")),
      "responses": {"201": ok("The limit.", ref("Limit")), **errs(400, 401, 403, 404, 409)}}},
  "/admin/v1/limits/{id}": {"parameters": [ID("limit")],
    "get": {"summary": "One limit with its current state: used, reserved, remaining and when it resets.", "operationId": "getLimit",
      "parameters": [{"name": "scope_value", "in": "query", "schema": s_str, "description": "For a `*` scope: whose counter to read."}],
      "responses": {"200": ok("The limit.", ref("Limit")), **errs(400, 401, 404, 503)}},
    "patch": {"summary": "Change a limit's fields (not its id); `null` removes an optional one. Config-file limits are changed in the file.", "operationId": "updateLimit",
      "requestBody": body({"type": "object"}),
      "responses": {"200": ok("The limit.", ref("Limit")), **errs(400, 401, 403, 404, 409)}},
    "delete": {"summary": "Remove a limit set here.", "operationId": "deleteLimit",
      "responses": {"200": ok("Deleted.", {"type": "object"}), **errs(401, 403, 404, 409)}}},
  "/admin/v1/audit": {"get": {"summary": "Audit events, newest first.", "operationId": "listAudit", "parameters": [
      {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
      {"name": "cursor", "in": "query", "schema": {"type": "integer"}, "description": "`next_cursor` of the page before."},
      {"name": "workspace", "in": "query", "schema": s_str, "description": "Only this workspace's events."}],
    "responses": {"200": ok("A page of events.", ref("AuditPage")), **errs(400, 401)}}},
  "/admin/v1/logs": {"get": {"summary": "Request records, newest first (docs/observability.md).", "operationId": "listLogs", "parameters": filters + [
      {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
      {"name": "cursor", "in": "query", "schema": s_str}], "responses": {"200": ok("A page of records.", ref("RecordPage")), **errs(400, 401, 503)}}},
  "/admin/v1/logs/export": {"get": {"summary": "Every matching record, streamed as JSONL or CSV.", "operationId": "exportLogs", "parameters": filters + [
      {"name": "format", "in": "query", "schema": {"enum": ["jsonl", "csv"], "default": "jsonl"}}],
    "responses": {"200": {"description": "JSONL (`application/x-ndjson`) or CSV (`text/csv`)."}, **errs(400, 401, 503)}}},
  "/admin/v1/logs/{id}": {"parameters": [ID("record (or request)")], "get": {"summary": "One record with its feedback.", "operationId": "getLog", "responses": {"200": ok("The record.", ref("Record")), **errs(401, 404, 503)}}},
  "/admin/v1/analytics": {"get": {"summary": "Requests, tokens, cost, errors, latency and TTFT in time buckets (docs/observability.md).", "operationId": "analytics", "parameters": filters + [
      {"name": "bucket", "in": "query", "schema": s_str}, {"name": "group_by", "in": "query", "schema": s_str},
      {"name": "totals", "in": "query", "schema": {"type": "boolean"}, "description": "Also `totals` (the whole range, each record once) and, when both grouping and bucketing, `groups` (the whole range per group), from the same read."}],
    "responses": {"200": ok("Buckets.", {"type": "object"}), **errs(400, 401, 503)}}},
  "/admin/v1/prompts": {
    "get": {"summary": "Prompts in the workspaces the caller has a role in (`workspace` narrows).", "operationId": "listPrompts", "parameters": [{"name": "workspace", "in": "query", "schema": s_str}],
      "responses": {"200": ok("The prompts.", lst("Prompt")), **errs(401, 404)}},
    "post": {"summary": "Creates a prompt, with its first version and labels when given. Workspace members.", "operationId": "createPrompt", "requestBody": body(ref("NewPrompt")),
      "responses": {"201": ok("The prompt.", ref("Prompt")), **errs(400, 401, 403, 404, 409)}}},
  "/admin/v1/prompts/{id}": {"parameters": [ID("prompt"), {"name": "workspace", "in": "query", "schema": {"type": "string", "default": "default"}}],
    "get": {"summary": "A prompt with its labels and versions. Workspace viewers.", "operationId": "getPrompt", "responses": {"200": ok("The prompt.", ref("Prompt")), **errs(401, 404)}},
    "patch": {"summary": "Changes the description. Workspace members.", "operationId": "updatePrompt", "requestBody": body({"type": "object", "additionalProperties": False, "properties": {"description": {"type": ["string", "null"]}}}),
      "responses": {"200": ok("The prompt.", ref("Prompt")), **errs(400, 401, 403, 404)}},
    "delete": {"summary": "Deletes a prompt and its versions. Workspace admins.", "operationId": "deletePrompt", "responses": {"200": ok("Deleted.", {"type": "object"}), **errs(401, 403, 404)}}},
  "/admin/v1/prompts/{id}/versions": {"parameters": [ID("prompt"), {"name": "workspace", "in": "query", "schema": {"type": "string", "default": "default"}}],
    "get": {"summary": "Every version, oldest first. Workspace viewers.", "operationId": "listPromptVersions", "responses": {"200": ok("The versions.", lst("PromptVersion")), **errs(401, 404)}},
    "post": {"summary": "Makes the next version (immutable; templates checked, partials pinned) and points `labels` at it. Workspace members (`production`: admins).", "operationId": "createPromptVersion", "requestBody": body(ref("NewPromptVersion")),
      "responses": {"201": ok("The version.", ref("PromptVersion")), **errs(400, 401, 403, 404, 409)}}},
  "/admin/v1/prompts/{id}/versions/{version}": {"parameters": [ID("prompt"), {"name": "version", "in": "path", "required": True, "schema": {"type": "integer"}}, {"name": "workspace", "in": "query", "schema": {"type": "string", "default": "default"}}],
    "get": {"summary": "One version.", "operationId": "getPromptVersion", "responses": {"200": ok("The version.", ref("PromptVersion")), **errs(401, 404)}}},
  "/admin/v1/prompts/{id}/diff": {"parameters": [ID("prompt"), {"name": "workspace", "in": "query", "schema": {"type": "string", "default": "default"}}, {"name": "from", "in": "query", "schema": {"type": "integer"}, "description": "Default: the version before `to`."}, {"name": "to", "in": "query", "schema": {"type": "integer"}, "description": "Default: the latest."}],
    "get": {"summary": "Two versions compared: each message as a line diff, and the settings that differ.", "operationId": "diffPromptVersions", "responses": {"200": ok("The diff.", ref("PromptDiff")), **errs(400, 401, 404)}}},
  "/admin/v1/prompts/{id}/labels/{label}": {"parameters": [ID("prompt"), {"name": "label", "in": "path", "required": True, "schema": s_str}, {"name": "workspace", "in": "query", "schema": {"type": "string", "default": "default"}}],
    "put": {"summary": "Points a label at a version (one audited call; `production` needs a workspace admin).", "operationId": "setPromptLabel", "requestBody": body({"type": "object", "additionalProperties": False, "required": ["version"], "properties": {"version": {"type": "integer"}}}),
      "responses": {"200": ok("The prompt.", ref("Prompt")), **errs(400, 401, 403, 404)}},
    "delete": {"summary": "Removes a label.", "operationId": "deletePromptLabel", "responses": {"200": ok("The prompt.", ref("Prompt")), **errs(401, 403, 404)}}},
  "/admin/v1/prompts/{id}/render": {"parameters": [ID("prompt"), {"name": "workspace", "in": "query", "schema": {"type": "string", "default": "default"}}],
    "post": {"summary": "The version (explicit, else `label`, else `production`, else the latest) filled with `variables`; nothing is sent.", "operationId": "renderPrompt",
      "requestBody": body({"type": "object", "additionalProperties": False, "properties": {"version": {"type": "integer"}, "label": s_str, "variables": {"type": "object"}}}),
      "responses": {"200": ok("The filled request.", ref("PromptRender")), **errs(400, 401, 404)}}},
  "/admin/v1/partials": {
    "get": {"summary": "Partials in the workspaces the caller has a role in.", "operationId": "listPartials", "parameters": [{"name": "workspace", "in": "query", "schema": s_str}],
      "responses": {"200": ok("The partials.", lst("Partial")), **errs(401)}},
    "post": {"summary": "Adds a partial, or its next version when the name exists (versions that include it keep the version they pinned). Workspace members.", "operationId": "putPartial",
      "requestBody": body({"type": "object", "additionalProperties": False, "required": ["name", "template"], "properties": {"name": s_str, "workspace": s_str, "template": s_str}}),
      "responses": {"200": ok("The partial (a new version).", ref("Partial")), "201": ok("The partial (new).", ref("Partial")), **errs(400, 401, 403, 404)}}},
  "/admin/v1/partials/{name}": {"parameters": [{"name": "name", "in": "path", "required": True, "schema": s_str}, {"name": "workspace", "in": "query", "schema": {"type": "string", "default": "default"}}],
    "get": {"summary": "A partial with its versions.", "operationId": "getPartial", "responses": {"200": ok("The partial.", ref("Partial")), **errs(401, 404)}},
    "delete": {"summary": "Deletes a partial no version includes. Workspace admins.", "operationId": "deletePartial", "responses": {"200": ok("Deleted.", {"type": "object"}), **errs(401, 403, 404, 409)}}},
  "/admin/v1/experiments": {
    "get": {"summary": "Experiments in the workspaces the caller has a role in.", "operationId": "listExperiments", "parameters": [{"name": "workspace", "in": "query", "schema": s_str}],
      "responses": {"200": ok("The experiments.", lst("Experiment")), **errs(401)}},
    "post": {"summary": "Starts an experiment on a prompt's label (one per label at a time).", "operationId": "createExperiment", "requestBody": body(ref("NewExperiment")),
      "responses": {"201": ok("The experiment.", ref("Experiment")), **errs(400, 401, 403, 404, 409)}}},
  "/admin/v1/experiments/{id}": {"parameters": [ID("experiment"), {"name": "workspace", "in": "query", "schema": {"type": "string", "default": "default"}}],
    "get": {"summary": "One experiment.", "operationId": "getExperiment", "responses": {"200": ok("The experiment.", ref("Experiment")), **errs(401, 404)}},
    "delete": {"summary": "Deletes an experiment. Workspace admins.", "operationId": "deleteExperiment", "responses": {"200": ok("Deleted.", {"type": "object"}), **errs(401, 403, 404)}}},
  "/admin/v1/experiments/{id}/results": {"parameters": [ID("experiment"), {"name": "workspace", "in": "query", "schema": {"type": "string", "default": "default"}}],
    "get": {"summary": "Per variant: observations, mean outcome with its intervals, probability best, allocation, requests, error rate, cost, latency. Reading them moves an adaptive experiment's allocation and concludes it once a winner is clear.", "operationId": "experimentResults",
      "responses": {"200": ok("The results.", ref("ExperimentResults")), **errs(401, 404, 503)}}},
  "/admin/v1/experiments/{id}/stop": {"parameters": [ID("experiment"), {"name": "workspace", "in": "query", "schema": {"type": "string", "default": "default"}}],
    "post": {"summary": "Stops the experiment: the label serves its own version again.", "operationId": "stopExperiment", "responses": {"200": ok("The experiment.", ref("Experiment")), **errs(401, 403, 404)}}},
  "/admin/v1/experiments/{id}/promote": {"parameters": [ID("experiment"), {"name": "workspace", "in": "query", "schema": {"type": "string", "default": "default"}}],
    "post": {"summary": "Points the label at a variant's version (the winner by default) and stops the experiment, in one audited change.", "operationId": "promoteExperiment",
      "requestBody": body({"type": "object", "additionalProperties": False, "properties": {"variant": s_str}}, False),
      "responses": {"200": ok("The experiment.", ref("Experiment")), **errs(400, 401, 403, 404)}}},
  "/admin/v1/datasets": {
    "get": {"summary": "A workspace's datasets.", "operationId": "listDatasets", "parameters": [{"name": "workspace", "in": "query", "schema": {"type": "string", "default": "default"}}], "responses": {"200": ok("The datasets.", lst("Dataset")), **errs(401, 404)}},
    "post": {"summary": "Uploads a dataset (JSON rows, JSONL, or logged requests). Workspace members; bodies up to 8 MiB.", "operationId": "createDataset", "requestBody": body(ref("NewDataset")),
      "responses": {"201": ok("The dataset.", ref("Dataset")), **errs(400, 401, 403, 404)}}},
  "/admin/v1/datasets/{id}": {"parameters": [ID("dataset"), {"name": "workspace", "in": "query", "schema": {"type": "string", "default": "default"}}],
    "get": {"summary": "A dataset with its rows.", "operationId": "getDataset", "responses": {"200": ok("The dataset.", ref("Dataset")), **errs(401, 404)}},
    "delete": {"summary": "Deletes a dataset.", "operationId": "deleteDataset", "responses": {"200": ok("Deleted.", {"type": "object"}), **errs(401, 403, 404)}}},
  "/admin/v1/runs": {
    "get": {"summary": "A workspace's runs.", "operationId": "listRuns", "parameters": [{"name": "workspace", "in": "query", "schema": {"type": "string", "default": "default"}}], "responses": {"200": ok("The runs.", lst("Run")), **errs(401, 404)}},
    "post": {"summary": "Runs a prompt's variants over a dataset through the gateway's own routes (or, with `dry_run`, estimates what it would cost). Workspace members.", "operationId": "createRun", "requestBody": body(ref("NewRun")),
      "responses": {"200": ok("The estimate (dry run).", ref("Run")), "201": ok("The run, started.", ref("Run")), **errs(400, 401, 403, 404, 409)}}},
  "/admin/v1/runs/{id}": {"parameters": [ID("run"), {"name": "workspace", "in": "query", "schema": {"type": "string", "default": "default"}}],
    "get": {"summary": "A run: progress while it runs (live on the replica running it, every 20 calls on others), the summary when done.", "operationId": "getRun", "responses": {"200": ok("The run.", ref("Run")), **errs(401, 404)}},
    "delete": {"summary": "Deletes a run and its results (cancelling it first).", "operationId": "deleteRun", "responses": {"200": ok("Deleted.", {"type": "object"}), **errs(401, 403, 404)}}},
  "/admin/v1/runs/{id}/results": {"parameters": [ID("run"), {"name": "workspace", "in": "query", "schema": {"type": "string", "default": "default"}}, {"name": "offset", "in": "query", "schema": {"type": "integer"}}, {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 1000}}],
    "get": {"summary": "Rows side by side: each variant's output, error, tokens, cost, latency and scores.", "operationId": "runResults", "responses": {"200": ok("The rows.", {"type": "object"}), **errs(401, 404)}}},
  "/admin/v1/runs/{id}/cancel": {"parameters": [ID("run"), {"name": "workspace", "in": "query", "schema": {"type": "string", "default": "default"}}],
    "post": {"summary": "Cancels a run: no further calls, calls in flight cut.", "operationId": "cancelRun", "responses": {"200": ok("The run.", ref("Run")), **errs(401, 403, 404, 409)}}},
  "/admin/v1/cache/stats": {"get": {"summary": "The response cache: requests by status, hit rate, dollars saved, what the store holds. Organisation admins.", "operationId": "cacheStats",
    "responses": {"200": ok("The figures.", ref("CacheStats")), **errs(401, 403, 404, 503)}}},
  "/admin/v1/cache/purge": {"post": {"summary": "Remove cached answers by workspace, namespace, client key, entry key or age, on every replica. Organisation admins; workspace admins for their workspace. Audited as `cache.purge`.", "operationId": "purgeCache",
    "requestBody": body(ref("CachePurge")),
    "responses": {"200": ok("How many went.", ref("CachePurged")), **errs(400, 401, 403, 404, 503)}}},
  "/admin/v1/health": {"get": {"summary": "Route targets' circuit, load and latency.", "operationId": "health", "responses": {"200": ok("Targets.", {"type": "object"}), **errs(401)}}},
}

doc = {
  "openapi": "3.1.0",
  "info": {"title": "Switchyard admin API", "version": "1",
           "description": "Workspaces, virtual keys, provider credentials, users and their roles, the audit log, the request log and health, behind admin keys (`Authorization: Bearer <admin key>`): bootstrap keys from the config act as the organisation's owner, keys made through `/admin/v1/users/{id}/admin-keys` with their user's roles; with `server.tenants.jwt` configured, a JWT from the identity provider acts with the roles its claims carry. docs/governance.md and docs/observability.md describe them. The unversioned paths `/admin/logs`, `/admin/logs/export`, `/admin/logs/{id}`, `/admin/analytics` and `/admin/health` answer as their `/admin/v1` counterparts."},
  "servers": [{"url": "http://127.0.0.1:8080"}],
  "security": [{"adminKey": []}],
  "paths": paths,
  "components": {
    "securitySchemes": {"adminKey": {"type": "http", "scheme": "bearer", "description": "An admin key (server.admin_keys, SWITCHYARD_ADMIN_KEYS)."}},
    "responses": {"Error": {"description": "An error in OpenAI's shape.", "content": {"application/json": {"schema": ref("Error")}}}},
    "schemas": schemas,
  },
}
print(json.dumps(doc, indent=2, sort_keys=False))
