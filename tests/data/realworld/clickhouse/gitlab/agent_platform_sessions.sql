CREATE TABLE agent_platform_sessions
(
    `user_id` UInt64,
    `namespace_path` String,
    `project_id` UInt64,
    `session_id` UInt64,
    `flow_type` String,
    `environment` String,
    `session_year` UInt16,
    `created_event_at` AggregateFunction(anyIf, Nullable(DateTime64(6, 'UTC')), UInt8),
    `started_event_at` AggregateFunction(anyIf, Nullable(DateTime64(6, 'UTC')), UInt8),
    `finished_event_at` AggregateFunction(anyIf, Nullable(DateTime64(6, 'UTC')), UInt8),
    `dropped_event_at` AggregateFunction(anyIf, Nullable(DateTime64(6, 'UTC')), UInt8),
    `stopped_event_at` AggregateFunction(anyIf, Nullable(DateTime64(6, 'UTC')), UInt8),
    `resumed_event_at` AggregateFunction(anyIf, Nullable(DateTime64(6, 'UTC')), UInt8)
)
ENGINE = AggregatingMergeTree
PARTITION BY session_year
ORDER BY (namespace_path, user_id, session_id, flow_type)
SETTINGS index_granularity = 8192;
