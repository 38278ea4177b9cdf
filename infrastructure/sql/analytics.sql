-- Analytics read models: documented SQL views for reporting tools, read as the role agentmem_analytics.
--
-- Every view is a security_invoker view: it runs with the reader's rights, so the row-level security of the
-- tables beneath applies to the reader. A login role in agentmem_analytics sees the rows of the
-- organizations listed for it in analytics_tenants; a member of agentmem_analytics_platform sees every
-- organization. The reader may select only the columns named in infrastructure/analytics.py (never memory
-- text, metadata, prompts or embeddings).
--
-- {memories} and {messages} are the serving generations of the searchable read models; these views are
-- re-created in the same transaction that switches a rebuilt generation in.
--
-- Coming features add their views here: extraction jobs and agent runs.

-- One row per memory (deleted ones too), without its text: the type, the narrowest scope it is filed
-- under (run, agent, user, or the whole organization), its version and when it was created and last changed.
CREATE OR REPLACE VIEW analytics_memories WITH (security_invoker = true) AS
SELECT id, tenant_id, memory_type,
       CASE WHEN run_id IS NOT NULL THEN 'run' WHEN agent_id IS NOT NULL THEN 'agent'
            WHEN user_id IS NOT NULL THEN 'user' ELSE 'organization' END AS scope,
       user_id, agent_id, run_id, version, deleted, created_at, updated_at
FROM {memories};

-- Memories created per UTC day, by organization, type and scope; how many of them are live now.
CREATE OR REPLACE VIEW analytics_memories_daily WITH (security_invoker = true) AS
SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date AS day, memory_type, scope,
       count(*) AS created, count(*) FILTER (WHERE NOT deleted) AS live
FROM analytics_memories
GROUP BY tenant_id, day, memory_type, scope;

-- Every change per UTC day, by organization, aggregate type and action (e.g. Memory.Updated), with the
-- number of distinct actors (users and API keys) that made them. From the audit trail.
CREATE OR REPLACE VIEW analytics_events_daily WITH (security_invoker = true) AS
SELECT tenant_id, (timestamp AT TIME ZONE 'UTC')::date AS day, aggregate_type, action,
       count(*) AS events, count(DISTINCT actor_id) AS actors
FROM audit_log
GROUP BY tenant_id, day, aggregate_type, action;

-- One row per agent, without its system prompt or model settings: name, tags, how many blocks and tools
-- it has, its version and lifetime.
CREATE OR REPLACE VIEW analytics_agents WITH (security_invoker = true) AS
SELECT id, tenant_id, name, tags, cardinality(block_ids) AS blocks, cardinality(tool_ids) AS tools,
       version, deleted, created_at, updated_at
FROM agents;

-- Conversation messages appended per UTC day, by organization and agent.
CREATE OR REPLACE VIEW analytics_messages_daily WITH (security_invoker = true) AS
SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date AS day, agent_id, count(*) AS messages
FROM {messages}
WHERE NOT deleted
GROUP BY tenant_id, day, agent_id;

-- Language-model calls per UTC day, by organization, provider, model and purpose (chat, extraction, ...):
-- calls, failed calls, tokens, cost (null when the model has no price) and mean latency. From the usage meter.
CREATE OR REPLACE VIEW analytics_llm_usage_daily WITH (security_invoker = true) AS
SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date AS day, provider, model, purpose,
       count(*) AS calls, count(*) FILTER (WHERE outcome <> 'ok') AS errors,
       sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cached_tokens) AS cached_tokens,
       sum(cost_usd) AS cost_usd, avg(latency_ms) AS mean_latency_ms
FROM llm_usage
GROUP BY tenant_id, day, provider, model, purpose;

-- Tool runs per UTC day, by organization, tool and status (ok, error, timeout, killed): runs, how many had
-- their output cut, mean and longest duration. Never the arguments, outputs or return values.
CREATE OR REPLACE VIEW analytics_tool_runs_daily WITH (security_invoker = true) AS
SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date AS day, tool_id, status,
       count(*) AS runs, count(*) FILTER (WHERE truncated) AS truncated,
       avg(duration_ms) AS mean_duration_ms, max(duration_ms) AS max_duration_ms
FROM tool_runs
GROUP BY tenant_id, day, tool_id, status;
