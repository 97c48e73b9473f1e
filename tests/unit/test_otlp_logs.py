"""OTLP logs: decoding (protobuf and OTLP JSON give the same LogView), GenAI events → records,
the merge of event records into their span's row (real DuckDB), and the /v1/logs API."""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs

from gatewatch.files import payloads
from gatewatch.local_ingest import LocalIngest
from ingest.app import IngestSettings, create_app
from ingest.logs import SOURCE, map_logs
from ingest.otlp import PayloadError
from ingest.otlp_logs import DecodedLogs, LogView, decode_logs_json, decode_logs_protobuf
from ingest.payloads import JSON, prepare_logs, prepare_traces
from ingest.record import records_to_table
from ingest.writer import BatchWriter
from tests.unit.test_otlp_decode import (
    START_NS,
    TRACE,
    SpanSpec,
    json_attributes,
    json_value,
    pb_attributes,
    pb_value,
    protobuf_body,
)
from tests.unit.test_otlp_decode import json_body as traces_json_body
from warehouse.db import Warehouse

SPAN = "a000000000000001"
EVENT_NS = START_NS + 1_500_000_000  # emitted when the response is complete
T0_US = START_NS // 1000
RESOURCE = {"service.name": "billing-bot"}
CANARY = "CANARY-7f3a"
DETAILS = "gen_ai.client.inference.operation.details"
PB = {"Content-Type": "application/x-protobuf"}
JS = {"Content-Type": "application/json"}
EXAMPLES = Path(__file__).parents[2] / "sample_data" / "examples" / "conventions" / "logs"


@dataclass
class LogSpec:
    """One log record, written to both encodings by `logs_protobuf_body` / `logs_json_body`."""

    event_name: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    trace_id: str = TRACE
    span_id: str = SPAN
    time_ns: int = EVENT_NS
    severity_number: int = 9
    severity_text: str = "INFO"
    legacy_name: bool = False  # named by an `event.name` attribute (before LogRecord field 12)

    def named_attributes(self) -> dict[str, Any]:
        if self.legacy_name:
            return {"event.name": self.event_name, **self.attributes}
        return self.attributes


LogResource = tuple[dict[str, Any], list[LogSpec]]


def pb_record(spec: LogSpec) -> LogRecord:
    record = LogRecord(
        time_unix_nano=spec.time_ns,
        observed_time_unix_nano=spec.time_ns + 1000,
        severity_number=spec.severity_number,  # type: ignore[arg-type]
        severity_text=spec.severity_text,
        attributes=pb_attributes(spec.named_attributes()),
        trace_id=bytes.fromhex(spec.trace_id),
        span_id=bytes.fromhex(spec.span_id),
        event_name="" if spec.legacy_name else spec.event_name,
    )
    if spec.body is not None:
        record.body.CopyFrom(pb_value(spec.body))
    return record


def logs_protobuf_body(*resources: LogResource) -> bytes:
    request = ExportLogsServiceRequest()
    for resource, specs in resources:
        rl = ResourceLogs()
        rl.resource.attributes.extend(pb_attributes(resource))
        rl.scope_logs.append(ScopeLogs(log_records=[pb_record(s) for s in specs]))
        request.resource_logs.append(rl)
    return request.SerializeToString()


def json_record(spec: LogSpec) -> dict[str, Any]:
    record: dict[str, Any] = {
        "timeUnixNano": str(spec.time_ns),
        "observedTimeUnixNano": str(spec.time_ns + 1000),
        "severityNumber": spec.severity_number,
        "severityText": spec.severity_text,
        "attributes": json_attributes(spec.named_attributes()),
    }
    if spec.trace_id:
        record["traceId"] = spec.trace_id
    if spec.span_id:
        record["spanId"] = spec.span_id
    if not spec.legacy_name and spec.event_name:
        record["eventName"] = spec.event_name
    if spec.body is not None:
        record["body"] = json_value(spec.body)
    return record


def logs_json(*resources: LogResource) -> dict[str, Any]:
    return {
        "resourceLogs": [
            {
                "resource": {"attributes": json_attributes(resource)},
                "scopeLogs": [
                    {"scope": {"name": "test"}, "logRecords": [json_record(s) for s in specs]}
                ],
            }
            for resource, specs in resources
        ]
    }


def logs_json_body(*resources: LogResource) -> bytes:
    return orjson.dumps(logs_json(*resources))


def details(span_id: str = SPAN, **attributes: Any) -> LogSpec:
    return LogSpec(
        event_name=DETAILS,
        span_id=span_id,
        attributes={
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 120,
            "gen_ai.usage.output_tokens": 30,
            "gen_ai.usage.reasoning.output_tokens": 8,
            "gen_ai.output.messages": [
                {
                    "role": "assistant",
                    "parts": [
                        {"type": "text", "content": CANARY},
                        {
                            "type": "tool_call",
                            "id": "c1",
                            "name": "lookup",
                            "arguments": {"q": CANARY},
                        },
                        {
                            "type": "tool_call",
                            "id": "c2",
                            "name": "lookup",
                            "arguments": {"q": "x"},
                        },
                    ],
                    "finish_reason": "tool_call",
                }
            ],
            "gen_ai.input.messages": [
                {"role": "user", "parts": [{"type": "text", "content": CANARY}]}
            ],
            **attributes,
        },
    )


def choice(span_id: str = SPAN, body: Any = None, legacy_name: bool = True) -> LogSpec:
    return LogSpec(
        event_name="gen_ai.choice",
        span_id=span_id,
        legacy_name=legacy_name,
        attributes={"gen_ai.system": "openai"},
        body=body
        if body is not None
        else {
            "index": 0,
            "finish_reason": "tool_calls",
            "message": {
                "role": "assistant",
                "content": CANARY,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": CANARY},
                    }
                ],
            },
        },
    )


def span(span_id: str = SPAN, reasons: tuple[str, ...] = ("stop",), **attributes: Any) -> SpanSpec:
    return SpanSpec(
        span_id=span_id,
        attributes={
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.response.finish_reasons": list(reasons),
            **attributes,
        },
    )


def decode_both(*resources: LogResource) -> tuple[DecodedLogs, DecodedLogs]:
    return (
        decode_logs_protobuf(logs_protobuf_body(*resources)),
        decode_logs_json(logs_json_body(*resources)),
    )


def mapped_rows(*specs: LogSpec) -> list[dict[str, Any]]:
    mapped = map_logs(
        decode_logs_json(logs_json_body((RESOURCE, list(specs)))), ingested_at_us=T0_US
    )
    return records_to_table(mapped.records).to_pylist()


def row(**values: Any) -> dict[str, Any]:
    """A full stored row: every column NULL unless given."""
    return {**dict.fromkeys(records_to_table([]).schema.names), **values}


# --- decoding --------------------------------------------------------------------------------


def test_both_encodings_decode_to_the_same_log_views() -> None:
    specs = [
        details(),
        choice(legacy_name=True),
        LogSpec(body="plain application log", trace_id="", span_id="", severity_text="WARN"),
    ]
    pb, js = decode_both((RESOURCE, specs))
    expected = [
        LogView(
            index=i,
            trace_id=s.trace_id,
            span_id=s.span_id,
            event_name=s.event_name,
            time_ns=EVENT_NS,
            severity_number=9,
            severity_text=s.severity_text,
            body=s.body,
            attributes=s.named_attributes(),
            resource=RESOURCE,
        )
        for i, s in enumerate(specs)
    ]
    assert pb == js == DecodedLogs(records=expected, received=3)


def test_json_accepts_snake_case_keys_and_numbers_for_int64() -> None:
    body = {
        "resource_logs": [
            {
                "scope_logs": [
                    {
                        "log_records": [
                            {
                                "time_unix_nano": EVENT_NS,
                                "trace_id": TRACE.upper(),
                                "span_id": SPAN,
                                "event_name": "gen_ai.choice",
                                "severity_number": 9,
                                "body": {"kvlist_value": {"values": []}},
                            }
                        ]
                    }
                ]
            }
        ]
    }
    [log] = decode_logs_json(orjson.dumps(body)).records
    assert (log.trace_id, log.span_id, log.event_name, log.time_ns, log.body) == (
        TRACE,
        SPAN,
        "gen_ai.choice",
        EVENT_NS,
        {},
    )


def test_observed_time_stands_in_for_a_missing_time() -> None:
    record = json_record(LogSpec())
    del record["timeUnixNano"]
    body = {"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]}
    assert decode_logs_json(orjson.dumps(body)).records[0].time_ns == EVENT_NS + 1000


def test_all_zero_ids_mean_no_trace_context() -> None:
    spec = LogSpec(trace_id="0" * 32, span_id="0" * 16)
    for decoded in decode_both(({}, [spec])):
        assert (decoded.records[0].trace_id, decoded.records[0].span_id) == ("", "")


def test_bad_json_records_are_rejected_by_index_and_the_rest_kept() -> None:
    body = logs_json(({}, [LogSpec(), LogSpec(), LogSpec(), LogSpec()]))
    records = body["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
    records[1]["traceId"] = "not-hex-" * 4
    records[3] = "not a record"
    decoded = decode_logs_json(orjson.dumps(body))
    assert [r.index for r in decoded.records] == [0, 2]
    assert (decoded.received, decoded.rejected) == (4, 2)
    assert decoded.errors[0].startswith("log record 1: traceId is not hex")
    assert decoded.errors[1] == "log record 3: log record is not an object"


def test_protobuf_record_with_a_bad_id_length_is_rejected_alone() -> None:
    request = ExportLogsServiceRequest.FromString(logs_protobuf_body(({}, [LogSpec(), LogSpec()])))
    request.resource_logs[0].scope_logs[0].log_records[0].span_id = b"\x01\x02"
    decoded = decode_logs_protobuf(request.SerializeToString())
    assert [r.index for r in decoded.records] == [1]
    assert decoded.errors == ["log record 0: traceId/spanId must be 16/8 bytes (or absent)"]


@pytest.mark.parametrize("body", [b"", b"  ", b"{}", b'{"resourceLogs": []}'])
def test_empty_json_bodies_decode_to_no_records(body: bytes) -> None:
    assert decode_logs_json(body) == DecodedLogs(records=[])


@pytest.mark.parametrize(
    "body", [b"{nope", b"[]", b'{"resourceLogs": {"a": 1}}', b'{"resourceLogs": [1]}']
)
def test_undecodable_json_bodies_are_bad_data(body: bytes) -> None:
    with pytest.raises(PayloadError):
        decode_logs_json(body)


def test_undecodable_protobuf_body_is_bad_data() -> None:
    with pytest.raises(PayloadError, match="ExportLogsServiceRequest"):
        decode_logs_protobuf(b"\xff\xff\xff")


# --- events → records ----------------------------------------------------------------------


def test_operation_details_event_maps_to_its_request_row() -> None:
    # One call's arguments break the declared schema (the canary is longer than 3 characters).
    schema = {"type": "object", "properties": {"q": {"type": "string", "maxLength": 3}}}
    definitions = [{"type": "function", "name": "lookup", "parameters": schema}]
    spec = details(**{"gen_ai.response.id": "chatcmpl-9", "gen_ai.tool.definitions": definitions})
    [stored] = mapped_rows(spec)
    assert stored == row(
        request_id="chatcmpl-9",
        trace_id=TRACE,
        span_id=SPAN,
        started_at=stored["started_at"],
        provider="openai",
        provider_raw="openai",
        model="openai/gpt-4o",
        model_raw="gpt-4o",
        finish_reason="tool_calls",
        native_finish_reason="tool_call",
        input_tokens=120,
        output_tokens=30,
        reasoning_tokens=8,
        tool_calls=2,
        status="ok",
        app="billing-bot",
        source=SOURCE,
        ingested_at=stored["ingested_at"],
        tool_calls_valid=1,
        tool_calls_invalid_json=0,
        tool_calls_unknown_tool=0,
        tool_calls_schema_mismatch=1,
    )


def test_choice_event_maps_to_its_request_row() -> None:
    [stored] = mapped_rows(choice())
    assert stored == row(
        request_id=f"{TRACE}:{SPAN}",
        trace_id=TRACE,
        span_id=SPAN,
        started_at=stored["started_at"],
        provider="openai",
        provider_raw="openai",
        finish_reason="tool_calls",
        native_finish_reason="tool_calls",
        tool_calls=1,
        status="ok",
        app="billing-bot",
        source=SOURCE,
        ingested_at=stored["ingested_at"],
    )
    assert stored["started_at"].timestamp() * 1e9 == pytest.approx(EVENT_NS)


def test_choice_without_a_finish_reason_is_an_error_and_top_level_tool_calls_count() -> None:
    body = {"index": 0, "message": {"role": "assistant"}, "tool_calls": [{"id": "a"}, {"id": "b"}]}
    [stored] = mapped_rows(choice(body=body))
    assert (stored["finish_reason"], stored["native_finish_reason"]) == ("tool_calls", "error")
    assert (stored["tool_calls"], stored["status"], stored["error_type"]) == (2, "error", "other")
    [plain] = mapped_rows(choice(body={"index": 0, "message": {"role": "assistant"}}))
    assert (plain["finish_reason"], plain["tool_calls"], plain["status"]) == ("error", 0, "error")


def test_only_the_first_choice_makes_a_row() -> None:
    assert mapped_rows(choice(body={"index": 1, "finish_reason": "stop"})) == []


def test_other_events_and_plain_logs_are_received_without_rows() -> None:
    specs = [
        LogSpec(event_name="gen_ai.user.message", body={"content": CANARY}),
        LogSpec(event_name="gen_ai.system.message", legacy_name=True, body={"content": "x"}),
        LogSpec(body="GET /health 200", trace_id="", span_id=""),
        details(**{"gen_ai.operation.name": "embeddings"}),
    ]
    mapped = map_logs(decode_logs_json(logs_json_body((RESOURCE, specs))), ingested_at_us=T0_US)
    assert (mapped.records, mapped.received, mapped.rejected) == ([], 4, 0)


def test_event_without_trace_context_gets_a_stable_id_unless_it_has_a_response_id() -> None:
    lone = details(span_id="")
    lone.trace_id = ""
    first, again = mapped_rows(lone), mapped_rows(lone)
    assert first[0]["request_id"].startswith("otlp-log:")
    assert first[0]["request_id"] == again[0]["request_id"]
    assert (first[0]["trace_id"], first[0]["span_id"]) == (None, None)
    other = details(span_id="", **{"gen_ai.usage.input_tokens": 121})
    other.trace_id = ""
    assert mapped_rows(other)[0]["request_id"] != first[0]["request_id"]
    lone.attributes["gen_ai.response.id"] = "chatcmpl-1"
    assert mapped_rows(lone)[0]["request_id"] == "chatcmpl-1"


def test_choice_body_that_is_not_a_map_is_rejected_by_index() -> None:
    specs = [details(), choice(body="just text")]
    prepared = prepare_logs(logs_json_body((RESOURCE, specs)), JSON)
    assert (prepared.table.num_rows, prepared.received, prepared.rejected) == (1, 2, 1)
    assert prepared.errors == ["log record 1: gen_ai.choice body must be an object (a map)"]


# --- merging with the span's row (real DuckDB) -----------------------------------------------


def traces_table(*specs: SpanSpec) -> pa.Table:
    return prepare_traces(traces_json_body((RESOURCE, list(specs))), JSON).table


def logs_table(*specs: LogSpec) -> pa.Table:
    return prepare_logs(logs_json_body((RESOURCE, list(specs))), JSON).table


MERGED_COLUMNS = (
    "request_id, source, model, finish_reason, native_finish_reason, tool_calls, "
    "input_tokens, output_tokens, reasoning_tokens, duration_ms, status"
)
# The span's values win; the event fills what the span lacks (tokens) and reports two tool
# calls, which make the finish reason `tool_calls` (the mapper's precedence).
MERGED = (
    f"{TRACE}:{SPAN}",
    "otlp:genai",
    "openai/gpt-4o",
    "tool_calls",
    "stop",
    2,
    120,
    30,
    8,
    1250.0,
    "ok",
)


def stored_rows(warehouse: Warehouse, columns: str = MERGED_COLUMNS) -> list[tuple[Any, ...]]:
    return warehouse.cursor().execute(f"SELECT {columns} FROM requests ORDER BY 1").fetchall()


def submit(writer: BatchWriter, *tables: pa.Table) -> None:
    writer.submit(pa.concat_tables(tables)).result(10)


ORDERS = {
    "span, then event": lambda s, e: [[s], [e]],
    "event, then span": lambda s, e: [[e], [s]],
    "one batch": lambda s, e: [[s, e]],
    "one batch, event first": lambda s, e: [[e, s]],
}


@pytest.mark.parametrize("order", ORDERS)
def test_span_and_event_make_exactly_one_row_in_any_order(
    order: str, writer: BatchWriter, warehouse: Warehouse
) -> None:
    batches = ORDERS[order](traces_table(span()), logs_table(details()))
    for tables in batches + batches:  # and re-sending everything changes nothing
        submit(writer, *tables)
    assert stored_rows(warehouse) == [MERGED]


@pytest.mark.parametrize("order", ORDERS)
def test_span_request_id_wins_over_the_events_response_id(
    order: str, writer: BatchWriter, warehouse: Warehouse
) -> None:
    event = details(**{"gen_ai.response.id": "chatcmpl-9"})
    for tables in ORDERS[order](traces_table(span()), logs_table(event)):
        submit(writer, *tables)
    assert stored_rows(warehouse) == [MERGED]


def test_event_alone_is_a_row_and_sending_it_twice_keeps_one(
    writer: BatchWriter, warehouse: Warehouse
) -> None:
    submit(writer, logs_table(details()))
    submit(writer, logs_table(details()), logs_table(details()))
    assert stored_rows(warehouse) == [
        (
            f"{TRACE}:{SPAN}",
            SOURCE,
            "openai/gpt-4o",
            "tool_calls",
            "tool_call",
            2,
            120,
            30,
            8,
            None,
            "ok",
        )
    ]


def test_choice_and_details_events_and_the_span_fold_into_one_row(
    writer: BatchWriter, warehouse: Warehouse
) -> None:
    submit(writer, logs_table(choice()))
    submit(writer, logs_table(details(**{"gen_ai.response.id": "chatcmpl-9"})))
    assert stored_rows(warehouse, "request_id, native_finish_reason, tool_calls, input_tokens") == [
        (f"{TRACE}:{SPAN}", "tool_calls", 2, 120)
    ]
    submit(writer, traces_table(span()))
    assert stored_rows(warehouse) == [MERGED]


def test_a_cancelled_span_stays_cancelled_when_an_event_reports_tool_calls(
    writer: BatchWriter, warehouse: Warehouse
) -> None:
    submit(writer, traces_table(span(reasons=("cancelled",))))
    submit(writer, logs_table(details()))
    assert stored_rows(warehouse, "finish_reason, tool_calls") == [("cancelled", 2)]


def test_span_status_keeps_its_error_type(writer: BatchWriter, warehouse: Warehouse) -> None:
    failed = span(reasons=(), **{"error.type": "RateLimitError"})
    submit(writer, logs_table(details()))
    submit(writer, traces_table(failed))
    assert stored_rows(warehouse, "status, error_type, finish_reason, input_tokens") == [
        ("error", "rate_limit", "tool_calls", 120)
    ]


def test_events_of_other_spans_and_without_ids_stay_separate(
    writer: BatchWriter, warehouse: Warehouse
) -> None:
    lone = details()
    lone.trace_id = lone.span_id = ""
    submit(writer, traces_table(span()), logs_table(details("a000000000000002"), lone))
    submit(writer, logs_table(lone))
    rows = stored_rows(warehouse, "source, span_id")
    assert sorted(rows, key=str) == sorted(
        [("otlp:genai", SPAN), (SOURCE, "a000000000000002"), (SOURCE, None)], key=str
    )
    assert writer.stats.stored_rows == 3


# --- content is never stored -------------------------------------------------------------------


def test_message_content_is_never_stored(writer: BatchWriter, warehouse: Warehouse) -> None:
    plain = LogSpec(body=CANARY, severity_text=CANARY, attributes={"note": CANARY})
    submit(writer, logs_table(details(), choice("a000000000000002"), plain))
    rows = warehouse.cursor().execute("SELECT * FROM requests").fetchall()
    assert len(rows) == 2
    assert CANARY not in repr(rows)


# --- /v1/logs --------------------------------------------------------------------------------


@pytest.fixture
def client(writer: BatchWriter) -> TestClient:
    return TestClient(create_app(writer, IngestSettings(max_body_bytes=64 * 1024)))


def count(warehouse: Warehouse) -> int:
    return warehouse.cursor().execute("SELECT count(*) FROM requests").fetchone()[0]


def test_logs_are_stored_and_answered_in_the_requests_encoding(
    client: TestClient, warehouse: Warehouse
) -> None:
    response = client.post(
        "/v1/logs", content=logs_protobuf_body((RESOURCE, [details()])), headers=PB
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-protobuf"
    assert not ExportLogsServiceResponse.FromString(response.content).HasField("partial_success")
    response = client.post("/v1/logs", content=logs_json_body((RESOURCE, [choice()])), headers=JS)
    assert (response.status_code, response.json()) == (200, {})
    assert count(warehouse) == 1


def test_rejected_records_are_reported_as_partial_success(
    client: TestClient, warehouse: Warehouse
) -> None:
    body = logs_json((RESOURCE, [details(), LogSpec()]))
    body["resourceLogs"][0]["scopeLogs"][0]["logRecords"][1]["spanId"] = "xyz"
    response = client.post("/v1/logs", content=orjson.dumps(body), headers=JS)
    assert response.status_code == 200
    assert response.json() == {
        "partialSuccess": {
            "rejectedLogRecords": "1",
            "errorMessage": "log record 1: spanId must be 16 hex characters",
        }
    }
    request = ExportLogsServiceRequest.FromString(logs_protobuf_body((RESOURCE, [LogSpec()])))
    request.resource_logs[0].scope_logs[0].log_records[0].trace_id = b"\x01"
    response = client.post("/v1/logs", content=request.SerializeToString(), headers=PB)
    partial = ExportLogsServiceResponse.FromString(response.content).partial_success
    assert (response.status_code, partial.rejected_log_records) == (200, 1)
    assert count(warehouse) == 1


@pytest.mark.parametrize("headers", [PB, JS])
def test_empty_body_and_connection_test_answer_200(client: TestClient, headers: dict) -> None:
    assert client.post("/v1/logs", content=b"", headers=headers).status_code == 200
    test = {**headers, "X-Test-Connection": "true"}
    assert client.post("/v1/logs", content=b"", headers=test).status_code == 200


def test_gzip_body_is_decompressed(client: TestClient, warehouse: Warehouse) -> None:
    body = gzip.compress(logs_protobuf_body((RESOURCE, [details()])))
    response = client.post("/v1/logs", content=body, headers={**PB, "Content-Encoding": "gzip"})
    assert response.status_code == 200
    assert count(warehouse) == 1


def test_bad_requests_answer_415_413_and_400(client: TestClient) -> None:
    assert (
        client.post("/v1/logs", content=b"{}", headers={"Content-Type": "text/plain"}).status_code
        == 415
    )
    huge = gzip.compress(b" " * (64 * 1024 + 1))
    response = client.post("/v1/logs", content=huge, headers={**JS, "Content-Encoding": "gzip"})
    assert response.status_code == 413
    response = client.post("/v1/logs", content=b"{nope", headers=JS)
    assert (response.status_code, response.json()["code"]) == (400, 3)


# --- files: logs told from traces by content -------------------------------------------------


def test_gatewatch_ingest_tells_log_exports_from_trace_exports(tmp_path: Path) -> None:
    files = {
        "logs.json": logs_json_body((RESOURCE, [details()])),
        "logs.pb": logs_protobuf_body((RESOURCE, [choice()])),
        "traces.pb": protobuf_body((RESOURCE, [span()])),
        "mixed.jsonl": traces_json_body((RESOURCE, [span()]))
        + b"\n"
        + logs_json_body((RESOURCE, [details()])),
    }
    kinds = {}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        kinds[name] = [p.kind for p in payloads(tmp_path / name)]
    assert kinds == {
        "logs.json": ["logs-json"],
        "logs.pb": ["logs-protobuf"],
        "traces.pb": ["traces-protobuf"],
        "mixed.jsonl": ["traces-json", "logs-json"],
    }


def test_local_ingest_of_log_exports_merges_with_spans(
    tmp_path: Path, warehouse: Warehouse
) -> None:
    (tmp_path / "events.pb").write_bytes(logs_protobuf_body((RESOURCE, [details()])))
    (tmp_path / "spans.json").write_bytes(traces_json_body((RESOURCE, [span()])))
    local = LocalIngest(warehouse)
    for name in ("events.pb", "spans.json"):
        for payload in payloads(tmp_path / name):
            local.ingest(payload)
    local.close()
    assert stored_rows(warehouse) == [MERGED]


# --- committed examples ------------------------------------------------------------------------


EXAMPLE_ROWS = {
    # request_id, model, finish_reason, tool_calls, input/output tokens, valid tool calls
    "inference_operation_details.json": [
        ("chatcmpl-A1b2C3", "openai/gpt-4o", "tool_calls", 1, 312, 41, 1)
    ],
    "gen_ai_choice.json": [
        (
            "5b8efff798038103d269b633813fc60c:a000000000000002",
            None,
            "tool_calls",
            1,
            None,
            None,
            None,
        )
    ],
}


@pytest.mark.parametrize("name", EXAMPLE_ROWS)
def test_example_files_map_to_their_rows(name: str) -> None:
    prepared = prepare_logs((EXAMPLES / name).read_bytes(), JSON)
    assert prepared.rejected == 0
    columns = (
        "request_id, model, finish_reason, tool_calls, input_tokens, output_tokens, "
        "tool_calls_valid"
    ).split(", ")
    got = [tuple(r[c] for c in columns) for r in prepared.table.to_pylist()]
    assert got == EXAMPLE_ROWS[name]
    assert sorted(p.name for p in EXAMPLES.glob("*.json")) == sorted(EXAMPLE_ROWS)


def test_an_event_logged_days_after_its_span_never_overwrites_the_spans_row(
    writer: BatchWriter, warehouse: Warehouse
) -> None:
    # Outside the merge window the span row is not folded with the event: it must stay as it
    # was (the event, under the same request id, is a duplicate), never be replaced by it.
    submit(writer, traces_table(span()))
    before = stored_rows(warehouse)
    late = replace(details(), time_ns=EVENT_NS + 2 * 86_400 * 10**9)
    submit(writer, logs_table(late))
    assert stored_rows(warehouse) == before
