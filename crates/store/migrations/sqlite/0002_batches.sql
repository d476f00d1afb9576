-- Records are kept in batches: one row per batch, its records one JSON array (see batch.rs).
CREATE TABLE request_batches (
    seq INTEGER PRIMARY KEY,
    -- The smallest and largest record id in the batch (ids begin with their record's time).
    min_id TEXT NOT NULL,
    max_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    records TEXT NOT NULL
);
CREATE INDEX request_batches_max_id ON request_batches (max_id);
-- Request and trace ids that came from callers, and the batch that holds each.
CREATE TABLE request_keys (
    key TEXT NOT NULL,
    seq INTEGER NOT NULL
);
CREATE INDEX request_keys_key ON request_keys (key);
-- Rows from 0001's one-row-per-record table, in batches of about a minute.
INSERT INTO request_batches (min_id, max_id, n, records)
SELECT MIN(id), MAX(id), COUNT(*), json_group_array(json(record))
FROM (
    SELECT id, json_object(
        'id', id, 'request_id', request_id, 'trace_id', trace_id, 'span_id', span_id,
        'parent_span_id', parent_span_id, 'ts_ms', ts_ms, 'end_ms', end_ms,
        'operation', operation, 'caller', caller, 'route', route,
        'requested_model', requested_model, 'provider', provider, 'model', model,
        'stream', json(CASE WHEN stream THEN 'true' ELSE 'false' END), 'status', status,
        'outcome', outcome, 'input_tokens', input_tokens, 'output_tokens', output_tokens,
        'cached_tokens', cached_tokens, 'cache_write_tokens', cache_write_tokens,
        'reasoning_tokens', reasoning_tokens, 'cost_usd', cost_usd,
        'latency_ms', latency_ms, 'ttft_ms', ttft_ms, 'upstream_ms', upstream_ms,
        'cache', cache, 'metadata', json(metadata), 'attempts', json(attempts),
        'error', error, 'request_body', request_body, 'response_body', response_body
    ) AS record
    FROM requests ORDER BY id
)
GROUP BY substr(id, 1, 8);
INSERT INTO request_keys (key, seq)
SELECT DISTINCT k, b.seq FROM (
    SELECT request_id AS k, id FROM requests WHERE own_request_id = 0
    UNION ALL
    SELECT trace_id AS k, id FROM requests WHERE own_trace_id = 0
) r JOIN request_batches b ON substr(r.id, 1, 8) = substr(b.min_id, 1, 8);
DROP TABLE requests;
-- One row per record, for reading the log with SQL.
CREATE VIEW requests AS
SELECT
    r.value ->> '$.id' AS id,
    r.value ->> '$.request_id' AS request_id,
    r.value ->> '$.trace_id' AS trace_id,
    r.value ->> '$.ts_ms' AS ts_ms,
    r.value ->> '$.operation' AS operation,
    r.value ->> '$.caller' AS caller,
    r.value ->> '$.provider' AS provider,
    r.value ->> '$.model' AS model,
    r.value ->> '$.status' AS status,
    r.value ->> '$.outcome' AS outcome,
    r.value ->> '$.input_tokens' AS input_tokens,
    r.value ->> '$.output_tokens' AS output_tokens,
    r.value ->> '$.cost_usd' AS cost_usd,
    r.value ->> '$.latency_ms' AS latency_ms,
    r.value ->> '$.ttft_ms' AS ttft_ms,
    r.value AS record
FROM request_batches b, json_each(b.records) r;
