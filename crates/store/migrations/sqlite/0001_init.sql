CREATE TABLE requests (
    -- Begins with the record's time: the key is also the time index (see query::record_id).
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL,
    trace_id TEXT NOT NULL,
    span_id TEXT NOT NULL,
    parent_span_id TEXT,
    ts_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL,
    operation TEXT NOT NULL,
    caller TEXT,
    route TEXT,
    requested_model TEXT,
    provider TEXT,
    model TEXT,
    stream INTEGER NOT NULL,
    status INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cached_tokens INTEGER,
    cache_write_tokens INTEGER,
    reasoning_tokens INTEGER,
    cost_usd REAL,
    latency_ms REAL NOT NULL,
    ttft_ms REAL,
    upstream_ms REAL,
    cache TEXT,
    metadata TEXT NOT NULL,
    attempts TEXT NOT NULL,
    error TEXT,
    request_body TEXT,
    response_body TEXT,
    -- The gateway made this request id / trace id (time-ordered, starting at the record's time):
    -- found through the primary key's time range, so only ids from callers are indexed.
    own_request_id INTEGER NOT NULL,
    own_trace_id INTEGER NOT NULL
);
CREATE INDEX requests_trace ON requests (trace_id) WHERE own_trace_id = 0;
CREATE INDEX requests_request_id ON requests (request_id) WHERE own_request_id = 0;
CREATE TABLE feedback (
    id TEXT PRIMARY KEY,
    ts_ms INTEGER NOT NULL,
    request_id TEXT,
    trace_id TEXT,
    score REAL,
    metadata TEXT NOT NULL,
    caller TEXT
);
CREATE INDEX feedback_request ON feedback (request_id);
CREATE INDEX feedback_trace ON feedback (trace_id);
