CREATE TABLE requests (
    -- Begins with the record's time: the key is also the time index (see query::record_id).
    id TEXT COLLATE "C" PRIMARY KEY,
    request_id TEXT NOT NULL,
    trace_id TEXT NOT NULL,
    span_id TEXT NOT NULL,
    parent_span_id TEXT,
    ts_ms BIGINT NOT NULL,
    end_ms BIGINT NOT NULL,
    operation TEXT NOT NULL,
    caller TEXT,
    route TEXT,
    requested_model TEXT,
    provider TEXT,
    model TEXT,
    stream BOOLEAN NOT NULL,
    status BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    input_tokens BIGINT,
    output_tokens BIGINT,
    cached_tokens BIGINT,
    cache_write_tokens BIGINT,
    reasoning_tokens BIGINT,
    cost_usd DOUBLE PRECISION,
    latency_ms DOUBLE PRECISION NOT NULL,
    ttft_ms DOUBLE PRECISION,
    upstream_ms DOUBLE PRECISION,
    cache TEXT,
    metadata JSONB NOT NULL,
    attempts JSONB NOT NULL,
    error TEXT,
    request_body TEXT,
    response_body TEXT,
    -- The gateway made this request id / trace id (time-ordered, starting at the record's time):
    -- found through the primary key's time range, so only ids from callers are indexed.
    own_request_id BOOLEAN NOT NULL,
    own_trace_id BOOLEAN NOT NULL
);
CREATE INDEX requests_trace ON requests (trace_id) WHERE own_trace_id = FALSE;
CREATE INDEX requests_request_id ON requests (request_id) WHERE own_request_id = FALSE;
CREATE TABLE feedback (
    id TEXT PRIMARY KEY,
    ts_ms BIGINT NOT NULL,
    request_id TEXT,
    trace_id TEXT,
    score DOUBLE PRECISION,
    metadata JSONB NOT NULL,
    caller TEXT
);
CREATE INDEX feedback_request ON feedback (request_id);
CREATE INDEX feedback_trace ON feedback (trace_id);
