-- Records are kept in batches: one row per batch, its records one JSON array (see batch.rs).
CREATE TABLE request_batches (
    seq BIGSERIAL PRIMARY KEY,
    -- The smallest and largest record id in the batch (ids begin with their record's time).
    min_id TEXT COLLATE "C" NOT NULL,
    max_id TEXT COLLATE "C" NOT NULL,
    n INTEGER NOT NULL,
    records JSONB NOT NULL
);
CREATE INDEX request_batches_max_id ON request_batches (max_id);
-- Request and trace ids that came from callers, and the batch that holds each.
CREATE TABLE request_keys (
    key TEXT NOT NULL,
    seq BIGINT NOT NULL
);
CREATE INDEX request_keys_key ON request_keys (key);
-- Rows from 0001's one-row-per-record table, in batches of about a minute.
INSERT INTO request_batches (min_id, max_id, n, records)
SELECT MIN(id), MAX(id), COUNT(*), jsonb_agg(record ORDER BY id)
FROM (
    SELECT id, jsonb_build_object(
        'id', id, 'request_id', request_id, 'trace_id', trace_id, 'span_id', span_id,
        'parent_span_id', parent_span_id, 'ts_ms', ts_ms, 'end_ms', end_ms,
        'operation', operation, 'caller', caller, 'route', route,
        'requested_model', requested_model, 'provider', provider, 'model', model,
        'stream', stream, 'status', status, 'outcome', outcome,
        'input_tokens', input_tokens, 'output_tokens', output_tokens,
        'cached_tokens', cached_tokens, 'cache_write_tokens', cache_write_tokens,
        'reasoning_tokens', reasoning_tokens, 'cost_usd', cost_usd,
        'latency_ms', latency_ms, 'ttft_ms', ttft_ms, 'upstream_ms', upstream_ms,
        'cache', cache, 'metadata', metadata, 'attempts', attempts,
        'error', error, 'request_body', request_body, 'response_body', response_body
    ) AS record
    FROM requests
) r
GROUP BY left(id, 8);
INSERT INTO request_keys (key, seq)
SELECT DISTINCT k, b.seq FROM (
    SELECT request_id AS k, id FROM requests WHERE NOT own_request_id
    UNION ALL
    SELECT trace_id AS k, id FROM requests WHERE NOT own_trace_id
) r JOIN request_batches b ON left(r.id, 8) = left(b.min_id, 8);
DROP TABLE requests;
-- One row per record, for reading the log with SQL.
CREATE VIEW requests AS
SELECT
    r ->> 'id' AS id,
    r ->> 'request_id' AS request_id,
    r ->> 'trace_id' AS trace_id,
    (r ->> 'ts_ms')::bigint AS ts_ms,
    r ->> 'operation' AS operation,
    r ->> 'caller' AS caller,
    r ->> 'provider' AS provider,
    r ->> 'model' AS model,
    (r ->> 'status')::int AS status,
    r ->> 'outcome' AS outcome,
    (r ->> 'input_tokens')::bigint AS input_tokens,
    (r ->> 'output_tokens')::bigint AS output_tokens,
    (r ->> 'cost_usd')::double precision AS cost_usd,
    (r ->> 'latency_ms')::double precision AS latency_ms,
    (r ->> 'ttft_ms')::double precision AS ttft_ms,
    r AS record
FROM request_batches b, jsonb_array_elements(b.records) r;
