"""The `requests` table: the one canonical record every convention is mapped onto.

This column list is the single source of truth for the DDL (migrations), the Arrow schema
the ingest path builds batches with (`ingest.record`) and the schema documentation
(`docs/schema.md`, checked by a test).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    sql_type: str
    doc: str
    added_by: str | None = None  # the migration that added the column (None: `m001_requests`)


REQUESTS_COLUMNS: tuple[Column, ...] = (
    Column("request_id", "VARCHAR", "gateway/response id, else `trace_id:span_id`; unique"),
    Column("trace_id", "VARCHAR", "hex trace id, when known"),
    Column("span_id", "VARCHAR", "hex span id, when known"),
    Column("parent_span_id", "VARCHAR", "hex parent span id, when known"),
    Column("started_at", "TIMESTAMPTZ", "request start, UTC"),
    Column("duration_ms", "DOUBLE", "total latency in milliseconds"),
    Column("ttft_ms", "DOUBLE", "time to first token in milliseconds (NULL if not reported)"),
    Column("provider", "VARCHAR", "canonical provider slug"),
    Column("provider_raw", "VARCHAR", "provider as received"),
    Column("model", "VARCHAR", "canonical model id `vendor/name`"),
    Column("model_raw", "VARCHAR", "model as received (response model if known, else requested)"),
    Column(
        "finish_reason",
        "VARCHAR",
        "`stop`, `length`, `tool_calls`, `content_filter`, `error`, `cancelled`, `other`",
    ),
    Column("native_finish_reason", "VARCHAR", "finish reason as received"),
    Column("input_tokens", "BIGINT", "all input tokens, including cache reads and writes"),
    Column("output_tokens", "BIGINT", "all output tokens, including reasoning"),
    Column("reasoning_tokens", "BIGINT", "reasoning tokens; NULL = not reported (never 0)"),
    Column("cached_input_tokens", "BIGINT", "cache-read input tokens; NULL = not reported"),
    Column("cache_write_tokens", "BIGINT", "cache-write input tokens; NULL = not reported"),
    Column("tool_calls", "INTEGER", "tool calls in the response (NULL = unknown)"),
    Column("status", "VARCHAR", "`ok` or `error`"),
    Column(
        "error_type",
        "VARCHAR",
        "`rate_limit`, `overloaded`, `server_error`, `timeout`, `connection`, `bad_response`, "
        "`client_error`, `auth`, `context_length`, `content_policy`, `cancelled`, `other`",
    ),
    Column("http_status", "INTEGER", "HTTP status of the provider answer, when known"),
    Column("app", "VARCHAR", "calling application; falls back to the resource's `service.name`"),
    Column("user_id", "VARCHAR", "end user, when known"),
    Column("session_id", "VARCHAR", "session or conversation, when known"),
    Column("tenant", "VARCHAR", "tenant named by the ingest token, when auth is on"),
    Column(
        "source", "VARCHAR", "input path and convention that produced the row, e.g. `otlp:genai`"
    ),
    Column("ingested_at", "TIMESTAMPTZ", "when gatewatch stored the row"),
    *(
        Column(name, "INTEGER", doc, added_by="m004_tool_call_quality")
        for name, doc in (
            (
                "tool_calls_valid",
                "tool calls naming a declared tool with JSON arguments that match its schema; "
                "NULL = not checked (the request carried no tool definitions or no arguments)",
            ),
            ("tool_calls_invalid_json", "tool calls whose arguments are not a JSON object"),
            ("tool_calls_unknown_tool", "tool calls naming a tool that was not declared"),
            (
                "tool_calls_schema_mismatch",
                "tool calls whose JSON arguments fail the declared tool's JSON Schema",
            ),
        )
    ),
    Column(
        "cost_usd",
        "DOUBLE",
        "cost of the request in US dollars as the gateway reported it; NULL = not reported",
        added_by="m005_request_cost",
    ),
    *(
        Column(name, sql_type, doc, added_by="m006_request_details")
        for name, sql_type, doc in (
            (
                "reasoning_level",
                "VARCHAR",
                "reasoning effort the request asked for, as sent (`low`, `medium`, `high`, ...); "
                "NULL = not reported",
            ),
            ("stream", "BOOLEAN", "whether the request streamed its answer; NULL = not reported"),
            (
                "server_address",
                "VARCHAR",
                "the server the client called (`server.address`), as reported: behind a "
                "gateway provider, the upstream hint; NULL = not reported",
            ),
        )
    ),
)

# `error_type` classes that count against a provider's uptime, and those that are the
# caller's fault (they count in `requests` only). Shared by ingest and the metric jobs.
PROVIDER_ERROR_TYPES: tuple[str, ...] = (
    "rate_limit",
    "overloaded",
    "server_error",
    "timeout",
    "connection",
    "bad_response",
)
CLIENT_ERROR_TYPES: tuple[str, ...] = ("client_error", "auth", "context_length", "content_policy")

REQUESTS_COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in REQUESTS_COLUMNS)

# Columns of `requests` that the batch jobs fill in place, after ingest: not part of the
# ingest record (the writer inserts BY NAME and leaves them NULL) nor of its merges.
REQUESTS_JOB_COLUMNS: tuple[Column, ...] = (
    Column(
        "estimated_cost_usd",
        "DOUBLE",
        "**estimated** cost in US dollars from the tokens and the price table "
        "(`model_prices`); NULL = no price for the model, provider and time, or no token counts",
        added_by="m009_estimated_cost",
    ),
)


# Tool executions (`execute_tool` spans), kept so that a tool span arriving in another
# export batch than its parent request span still counts toward the parent's `tool_calls`.
TOOL_SPANS_TABLE_SQL = """
CREATE TABLE tool_spans (
    trace_id VARCHAR NOT NULL,
    span_id VARCHAR NOT NULL,
    parent_span_id VARCHAR NOT NULL,
    started_at TIMESTAMPTZ,
    PRIMARY KEY (trace_id, span_id)
)
"""


# The request ids the writer has stored, as 128-bit MD5 digests: `request_id` stays unique
# through this table's primary key, which costs a fraction of a key on `requests` itself
# (a 16-byte integer in the index instead of a string). `claim` numbers the writer statement
# that stored each key, so the rows a statement claimed are found by a scan of the newest
# row group (see `ingest.writer_sql`). Internal: not part of the documented schema.
REQUEST_KEYS_TABLE = "_gatewatch_request_keys"
REQUEST_KEY_SQL = "md5_number({column})"
REQUEST_KEYS_TABLE_SQL = f"""
CREATE TABLE {REQUEST_KEYS_TABLE} (
    key UHUGEINT PRIMARY KEY,
    claim BIGINT NOT NULL
)
"""


def requests_ddl(table: str = "requests") -> str:
    """The table as `m001_requests` created it; later columns come from their migrations."""
    first = (c for c in REQUESTS_COLUMNS if c.added_by is None)
    cols = ",\n    ".join(f"{c.name} {c.sql_type}" for c in first)
    return f"CREATE TABLE {table} (\n    {cols},\n    PRIMARY KEY (request_id)\n)"
