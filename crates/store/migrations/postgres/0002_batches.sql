-- Records are kept in batches: one row per batch, its records one JSON array (see batch.rs).
CREATE TABLE request_batches (
    seq BIGSERIAL PRIMARY KEY,
    -- The smallest and largest record id in the batch (ids begin with their record's time).
    min_id TEXT COLLATE "C" NOT NULL,
    max_id TEXT COLLATE "C" NOT NULL,
    n INTEGER NOT NULL,
    -- json, not jsonb: stored and sent back as written, with no conversion either way.
    records JSON NOT NULL
);
CREATE INDEX request_batches_max_id ON request_batches (max_id, min_id);
-- Request and trace ids that came from callers, and the batch that holds each.
CREATE TABLE request_keys (
    key TEXT NOT NULL,
    seq BIGINT NOT NULL
);
CREATE INDEX request_keys_key ON request_keys (key);
-- Rows from 0001's one-row-per-record table, in batches of about a minute. Each record is a JSON
-- array in the order of batch::FIELDS.
INSERT INTO request_batches (min_id, max_id, n, records)
SELECT MIN(id), MAX(id), COUNT(*), jsonb_agg(record ORDER BY id)::json
FROM (
    SELECT id, jsonb_build_array(
        id, request_id, trace_id, span_id, parent_span_id, ts_ms, end_ms, operation, caller,
        route, requested_model, provider, model, stream, status, outcome, input_tokens,
        output_tokens, cached_tokens, cache_write_tokens, reasoning_tokens, cost_usd,
        latency_ms, ttft_ms, upstream_ms, cache, metadata,
        (SELECT COALESCE(jsonb_agg(jsonb_build_array(
            a ->> 'provider', a ->> 'model', (a ->> 'status')::int, a ->> 'outcome',
            (a ->> 'latency_ms')::double precision)), '[]'::jsonb)
         FROM jsonb_array_elements(attempts) a),
        error, request_body, response_body
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
-- One row per record, with 0001's columns, for reading the log with SQL.
CREATE VIEW requests AS
SELECT
    r ->> 0 AS id,
    r ->> 1 AS request_id,
    r ->> 2 AS trace_id,
    r ->> 3 AS span_id,
    r ->> 4 AS parent_span_id,
    (r ->> 5)::bigint AS ts_ms,
    (r ->> 6)::bigint AS end_ms,
    r ->> 7 AS operation,
    r ->> 8 AS caller,
    r ->> 9 AS route,
    r ->> 10 AS requested_model,
    r ->> 11 AS provider,
    r ->> 12 AS model,
    (r ->> 13)::boolean AS stream,
    (r ->> 14)::int AS status,
    r ->> 15 AS outcome,
    (r ->> 16)::bigint AS input_tokens,
    (r ->> 17)::bigint AS output_tokens,
    (r ->> 18)::bigint AS cached_tokens,
    (r ->> 19)::bigint AS cache_write_tokens,
    (r ->> 20)::bigint AS reasoning_tokens,
    (r ->> 21)::double precision AS cost_usd,
    (r ->> 22)::double precision AS latency_ms,
    (r ->> 23)::double precision AS ttft_ms,
    (r ->> 24)::double precision AS upstream_ms,
    r ->> 25 AS cache,
    r -> 26 AS metadata,
    r -> 27 AS attempts,
    r ->> 28 AS error,
    r ->> 29 AS request_body,
    r ->> 30 AS response_body
FROM request_batches b, json_array_elements(b.records) r;
