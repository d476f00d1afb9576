-- Records are kept in batches: one row per batch, its records one JSON array (see batch.rs).
CREATE TABLE request_batches (
    seq INTEGER PRIMARY KEY,
    -- The smallest and largest record id in the batch (ids begin with their record's time).
    min_id TEXT NOT NULL,
    max_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    records TEXT NOT NULL
);
CREATE INDEX request_batches_max_id ON request_batches (max_id, min_id);
-- Request and trace ids that came from callers, and the batch that holds each.
CREATE TABLE request_keys (
    key TEXT NOT NULL,
    seq INTEGER NOT NULL
);
CREATE INDEX request_keys_key ON request_keys (key);
-- Rows from 0001's one-row-per-record table, in batches of about a minute. Each record is a JSON
-- array in the order of batch::FIELDS.
INSERT INTO request_batches (min_id, max_id, n, records)
SELECT MIN(id), MAX(id), COUNT(*), json_group_array(json(record))
FROM (
    SELECT id, json_array(
        id, request_id, trace_id, span_id, parent_span_id, ts_ms, end_ms, operation, caller,
        route, requested_model, provider, model,
        json(CASE WHEN stream THEN 'true' ELSE 'false' END), status, outcome, input_tokens,
        output_tokens, cached_tokens, cache_write_tokens, reasoning_tokens, cost_usd,
        latency_ms, ttft_ms, upstream_ms, cache, json(metadata),
        json((SELECT json_group_array(json_array(
            a.value ->> '$.provider', a.value ->> '$.model', a.value ->> '$.status',
            a.value ->> '$.outcome', a.value ->> '$.latency_ms'))
         FROM json_each(requests.attempts) a)),
        error, request_body, response_body
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
-- One row per record, with 0001's columns, for reading the log with SQL.
CREATE VIEW requests AS
SELECT
    r.value ->> '$[0]' AS id,
    r.value ->> '$[1]' AS request_id,
    r.value ->> '$[2]' AS trace_id,
    r.value ->> '$[3]' AS span_id,
    r.value ->> '$[4]' AS parent_span_id,
    r.value ->> '$[5]' AS ts_ms,
    r.value ->> '$[6]' AS end_ms,
    r.value ->> '$[7]' AS operation,
    r.value ->> '$[8]' AS caller,
    r.value ->> '$[9]' AS route,
    r.value ->> '$[10]' AS requested_model,
    r.value ->> '$[11]' AS provider,
    r.value ->> '$[12]' AS model,
    r.value ->> '$[13]' AS stream,
    r.value ->> '$[14]' AS status,
    r.value ->> '$[15]' AS outcome,
    r.value ->> '$[16]' AS input_tokens,
    r.value ->> '$[17]' AS output_tokens,
    r.value ->> '$[18]' AS cached_tokens,
    r.value ->> '$[19]' AS cache_write_tokens,
    r.value ->> '$[20]' AS reasoning_tokens,
    r.value ->> '$[21]' AS cost_usd,
    r.value ->> '$[22]' AS latency_ms,
    r.value ->> '$[23]' AS ttft_ms,
    r.value ->> '$[24]' AS upstream_ms,
    r.value ->> '$[25]' AS cache,
    r.value -> '$[26]' AS metadata,
    r.value -> '$[27]' AS attempts,
    r.value ->> '$[28]' AS error,
    r.value ->> '$[29]' AS request_body,
    r.value ->> '$[30]' AS response_body
FROM request_batches b, json_each(b.records) r;
