CREATE MATERIALIZED VIEW code_suggestion_events_daily_new_mv TO code_suggestion_events_daily_new
(
    `namespace_path` String,
    `user_id` UInt64,
    `date` Date,
    `event` UInt16,
    `ide_name` LowCardinality(String),
    `language` LowCardinality(String),
    `suggestions_size_sum` UInt64,
    `occurrences` UInt8
)
AS SELECT
    namespace_path AS namespace_path,
    user_id AS user_id,
    toDate(timestamp) AS date,
    event AS event,
    toLowCardinality(JSONExtractString(extras, 'ide_name')) AS ide_name,
    toLowCardinality(JSONExtractString(extras, 'language')) AS language,
    JSONExtractUInt(extras, 'suggestion_size') AS suggestions_size_sum,
    1 AS occurrences
FROM ai_usage_events
WHERE event IN (1, 2, 3, 4, 5);
