"""Malformed and hostile bodies through the real app: exact answers, the field named, the good
records stored (read back from DuckDB), and never a 500."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from google.rpc.status_pb2 import Status

from ingest.app import IngestSettings, create_app
from ingest.limits import ValueLimits, applied
from ingest.otlp import decode_traces_json, decode_traces_protobuf
from ingest.writer import BatchWriter
from tests.unit.test_ingest_api import JS, PB, RESOURCE, canonical, llm, pb_answer
from tests.unit.test_metrics_endpoint import scrape
from tests.unit.test_otlp_decode import (
    START_NS,
    TRACE,
    SpanSpec,
    json_body,
    pb_span,
    protobuf_body,
    to_json,
)
from warehouse.db import Warehouse

SMALL_LIMIT = 1024 * 1024
GOOD = "a000000000000001"
BAD = "a000000000000002"


@pytest.fixture
def client(writer: BatchWriter) -> TestClient:
    return TestClient(create_app(writer))


@pytest.fixture
def small(writer: BatchWriter) -> TestClient:
    return TestClient(create_app(writer, IngestSettings(max_body_bytes=SMALL_LIMIT)))


def rows(warehouse: Warehouse, columns: str = "request_id") -> list[tuple[Any, ...]]:
    query = f"SELECT {columns} FROM requests ORDER BY request_id"
    return warehouse.cursor().execute(query).fetchall()


def warnings(client: TestClient) -> dict[str, float]:
    return {
        dict(labels)["kind"]: n
        for (name, labels), n in scrape(client).items()
        if name == "gatewatch_ingest_warnings_total"
    }


def span_id(spec: SpanSpec) -> str:
    return f"{TRACE}:{spec.span_id}"


# --- transport: encoding, compression, size ----------------------------------------------------


def test_truncated_protobuf_is_400(client: TestClient, warehouse: Warehouse) -> None:
    body = protobuf_body((RESOURCE, [llm(GOOD)]))
    response = client.post("/v1/traces", content=body[:-7], headers=PB)
    assert response.status_code == 400
    status = Status.FromString(response.content)
    assert status.code == 3
    assert status.message.startswith("body is not a protobuf ExportTraceServiceRequest: ")
    assert rows(warehouse) == []


@pytest.mark.parametrize(
    "content_type",
    ["application/grpc", "application/x-www-form-urlencoded", "text/plain", "json", ""],
)
def test_wrong_content_type_is_415(client: TestClient, content_type: str) -> None:
    body = json_body((RESOURCE, [llm(GOOD)]))
    response = client.post("/v1/traces", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 415
    assert response.json()["message"].startswith("Content-Type ")


@pytest.mark.parametrize(
    ("path", "headers", "answer"),
    [
        (
            "/v1/traces",
            JS,
            {"code": 8, "message": f"body exceeds {SMALL_LIMIT} bytes after decompression"},
        ),
        ("/v1/requests", {}, {"error": f"body exceeds {SMALL_LIMIT} bytes after decompression"}),
    ],
)
def test_gzip_bomb_is_413(
    small: TestClient, path: str, headers: dict[str, str], answer: dict[str, Any]
) -> None:
    bomb = gzip.compress(b"[" + b" " * (64 * SMALL_LIMIT) + b"]", compresslevel=9)
    assert len(bomb) < SMALL_LIMIT // 4  # small on the wire, 64 times the limit inflated
    response = small.post(path, content=bomb, headers={**headers, "Content-Encoding": "gzip"})
    assert (response.status_code, response.json()) == (413, answer)


@pytest.mark.parametrize(
    ("path", "headers", "key"),
    [("/v1/traces", JS, "message"), ("/v1/requests", {}, "error")],
)
def test_body_claiming_gzip_that_is_not_gzip_is_400(
    client: TestClient, warehouse: Warehouse, path: str, headers: dict[str, str], key: str
) -> None:
    body = json_body((RESOURCE, [llm(GOOD)])) if path == "/v1/traces" else canonical("r1")
    response = client.post(path, content=body, headers={**headers, "Content-Encoding": "gzip"})
    assert response.status_code == 400
    assert response.json()[key].startswith("body is not valid gzip: ")
    assert rows(warehouse) == []


# --- OTLP JSON with wrong types ----------------------------------------------------------------


def mutated(change: Callable[[dict[str, Any]], None]) -> bytes:
    """A body of one good span and one span (the second) changed by `change`."""
    body = to_json((RESOURCE, [llm(GOOD), llm(BAD, name="bad")]))
    change(body["resourceSpans"][0]["scopeSpans"][0]["spans"][1])
    return orjson.dumps(body)


def setter(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda span: span.__setitem__(key, value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (setter("attributes", {"gen_ai.request.model": "x"}), "attributes must be an array"),
        (setter("status", [2, "boom"]), "status must be an object"),
        (
            setter("status", {"code": "ERROR"}),
            "status.code is not an unsigned 64-bit integer: 'ERROR'",
        ),
        (
            setter("kind", "SPAN_KIND_CLIENT"),
            "kind is not an unsigned 64-bit integer: 'SPAN_KIND_CLIENT'",
        ),
        (
            setter("startTimeUnixNano", 1.5),
            "startTimeUnixNano is not an unsigned 64-bit integer: 1.5",
        ),
        (
            setter("startTimeUnixNano", "yesterday"),
            "startTimeUnixNano is not an unsigned 64-bit integer: 'yesterday'",
        ),
        (
            setter("endTimeUnixNano", "-1"),
            "endTimeUnixNano is not an unsigned 64-bit integer: '-1'",
        ),
        (
            setter("startTimeUnixNano", str(2**70)),
            f"startTimeUnixNano is not an unsigned 64-bit integer: '{2**70}'",
        ),
        (setter("spanId", "a0"), "spanId must be 16 hex characters"),
        (setter("spanId", 12345), "spanId must be 16 hex characters"),
        (setter("traceId", "z" * 32), f"traceId is not hex: '{'z' * 32}'"),
        (setter("traceId", None), "traceId is missing"),
        (setter("parentSpanId", "0" * 15), "parentSpanId must be 16 hex characters"),
    ],
)
def test_a_span_with_a_wrong_typed_field_is_rejected_by_name_and_the_rest_stored(
    client: TestClient,
    warehouse: Warehouse,
    change: Callable[[dict[str, Any]], None],
    message: str,
) -> None:
    response = client.post("/v1/traces", content=mutated(change), headers=JS)
    assert response.status_code == 200
    assert response.json() == {
        "partialSuccess": {"rejectedSpans": "1", "errorMessage": f"span 'bad': {message}"}
    }
    assert rows(warehouse) == [(f"{TRACE}:{GOOD}",)]


def test_a_span_that_is_not_an_object_is_rejected(client: TestClient) -> None:
    body = to_json((RESOURCE, [llm(GOOD)]))
    body["resourceSpans"][0]["scopeSpans"][0]["spans"].append("span")
    response = client.post("/v1/traces", content=orjson.dumps(body), headers=JS)
    assert response.json() == {
        "partialSuccess": {"rejectedSpans": "1", "errorMessage": "span None: span is not an object"}
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"resourceSpans": "spans"}, "resourceSpans must be an array"),
        ({"resourceSpans": [[]]}, "resourceSpans[] entries must be objects"),
        ({"resourceSpans": [{"resource": "r"}]}, "resourceSpans[].resource must be an object"),
        (
            {"resourceSpans": [{"resource": {"attributes": {"service.name": "x"}}}]},
            "resourceSpans[].resource.attributes must be an array",
        ),
        ({"resourceSpans": [{"scopeSpans": {}}]}, "resourceSpans[].scopeSpans must be an array"),
        ({"resourceSpans": [{"scopeSpans": [7]}]}, "scopeSpans[] entries must be objects"),
        (
            {"resourceSpans": [{"scopeSpans": [{"spans": "s"}]}]},
            "scopeSpans[].spans must be an array",
        ),
        ([{"resourceSpans": []}], "body must be a JSON object (ExportTraceServiceRequest)"),
    ],
)
def test_wrong_typed_envelope_is_400_naming_the_field(
    client: TestClient, body: Any, message: str
) -> None:
    response = client.post("/v1/traces", content=orjson.dumps(body), headers=JS)
    assert (response.status_code, response.json()) == (400, {"code": 3, "message": message})


def test_attribute_values_of_the_wrong_type_become_null_and_are_counted(
    client: TestClient, warehouse: Warehouse
) -> None:
    body = to_json((RESOURCE, [llm(GOOD)]))
    attributes = body["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"]
    wrong = {
        "gen_ai.request.model": {"stringValue": 42},
        "gen_ai.usage.input_tokens": {"intValue": "many"},
        "gen_ai.usage.output_tokens": {"intValue": 2.5},
        "gen_ai.response.time_to_first_chunk": {"doubleValue": "soon"},
    }
    for attribute in attributes:
        attribute["value"] = wrong.get(attribute["key"], attribute["value"])
    attributes += [{"key": k, "value": v} for k, v in wrong.items() if k not in str(attributes)]
    response = client.post("/v1/traces", content=orjson.dumps(body), headers=JS)
    assert (response.status_code, response.json()) == (200, {})
    assert rows(warehouse, "model, input_tokens, output_tokens, ttft_ms") == [
        (None, None, None, None)
    ]
    assert warnings(client) == {"attribute value does not match its type": 4}


# --- nesting and recursion ---------------------------------------------------------------------


def test_ten_thousand_deep_json_is_400_on_every_endpoint(client: TestClient) -> None:
    deep = b'{"resourceSpans":' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    traces = client.post("/v1/traces", content=deep, headers=JS)
    assert traces.status_code == 400
    assert traces.json()["message"].startswith("body is not valid JSON: depth limit exceeded")
    logs = client.post("/v1/requests", content=deep)
    assert logs.status_code == 400
    assert logs.json()["rejected"][0]["error"].startswith(
        "record 0: not valid JSON: depth limit exceeded"
    )


def nested_arrays(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def pb_field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field, written by hand (deeper than the SDK will build)."""
    length, size = b"", len(payload)
    while True:
        byte, size = size & 0x7F, size >> 7
        length += bytes([byte | (0x80 if size else 0)])
        if not size:
            return bytes([number << 3 | 2]) + length + payload


def test_deep_protobuf_is_400(client: TestClient) -> None:
    value = pb_field(1, b"leaf")  # AnyValue.string_value
    for _ in range(200):
        value = pb_field(5, pb_field(1, value))  # AnyValue.array_value.values[0]
    span = pb_span(llm(GOOD)).SerializeToString() + pb_field(
        9, pb_field(1, b"deep") + pb_field(2, value)
    )
    body = pb_field(1, pb_field(2, pb_field(2, span)))  # resource_spans.scope_spans.spans
    response = client.post("/v1/traces", content=body, headers=PB)
    assert response.status_code == 400
    assert Status.FromString(response.content).message.startswith(
        "body is not a protobuf ExportTraceServiceRequest: "
    )


def alternating(depth: int) -> Any:
    """kvlist → array → kvlist → … `depth` containers deep."""
    value: Any = "leaf"
    for level in range(depth):
        value = {"k": value} if level % 2 else [value]
    return value


@pytest.mark.parametrize("depth", [8, 9, 30])
def test_kvlist_in_array_chains_stop_at_the_depth_limit_in_both_encodings(depth: int) -> None:
    spec = llm(GOOD, chain=alternating(depth))
    results = []
    for decode, body in (
        (decode_traces_protobuf, protobuf_body((RESOURCE, [spec]))),
        (decode_traces_json, json_body((RESOURCE, [spec]))),
    ):
        with applied(ValueLimits(max_depth=8)) as cuts:
            chain = decode(body).spans[0].attributes["chain"]
        results.append((chain, dict(cuts)))
    expected = alternating(depth) if depth <= 8 else cut_at(alternating(depth), 8)
    expected_cuts = {} if depth <= 8 else {"attribute value nested too deep": 1}
    assert results == [(expected, expected_cuts)] * 2


def cut_at(value: Any, levels: int) -> Any:
    """`value` with the containers below `levels` levels replaced by None."""
    if not isinstance(value, list | dict):
        return value
    if levels == 0:
        return None
    if isinstance(value, list):
        return [cut_at(v, levels - 1) for v in value]
    return {k: cut_at(v, levels - 1) for k, v in value.items()}


def test_an_over_deep_attribute_keeps_its_span(client: TestClient, warehouse: Warehouse) -> None:
    depth = 300  # three JSON levels each: within the JSON parser's limit, far past ours
    deep = b'{"arrayValue":{"values":[' * depth + b'{"stringValue":"leaf"}' + b"]}}" * depth
    body = json_body((RESOURCE, [llm(GOOD, deep="DEEP")])).replace(b'{"stringValue":"DEEP"}', deep)
    response = client.post("/v1/traces", content=body, headers=JS)
    assert (response.status_code, response.json()) == (200, {})
    assert rows(warehouse, "request_id, model") == [(f"{TRACE}:{GOOD}", "openai/gpt-4o")]
    assert warnings(client) == {"attribute value nested too deep": 1}


# --- sizes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("encode", [json_body, protobuf_body], ids=["json", "protobuf"])
def test_a_hundred_thousand_attributes_keep_the_span_and_drop_the_excess(
    client: TestClient, warehouse: Warehouse, encode: Callable[..., bytes]
) -> None:
    crowded = llm(GOOD, **{f"extra.{i}": i for i in range(100_000)})
    headers = JS if encode is json_body else PB
    response = client.post("/v1/traces", content=encode((RESOURCE, [crowded])), headers=headers)
    assert response.status_code == 200
    columns = "request_id, model, input_tokens, output_tokens"
    assert rows(warehouse, columns) == [(f"{TRACE}:{GOOD}", "openai/gpt-4o", 100, 20)]
    assert warnings(client) == {"attributes over the count limit dropped": 1}


@pytest.mark.parametrize("encode", [json_body, protobuf_body], ids=["json", "protobuf"])
def test_megabyte_strings_become_null_and_the_row_keeps_the_rest(
    client: TestClient, warehouse: Warehouse, encode: Callable[..., bytes]
) -> None:
    megabyte = "m" * 1_000_000
    spans = [
        llm(GOOD, **{"gen_ai.request.model": megabyte}),
        llm(BAD, **{"gen_ai.request.model": "gpt-4o", "user.note": megabyte}),
    ]
    headers = JS if encode is json_body else PB
    response = client.post("/v1/traces", content=encode((RESOURCE, spans)), headers=headers)
    assert response.status_code == 200
    assert rows(warehouse, "request_id, model, model_raw, input_tokens") == [
        (f"{TRACE}:{GOOD}", None, None, 100),
        (f"{TRACE}:{BAD}", "openai/gpt-4o", "gpt-4o", 100),
    ]
    assert warnings(client) == {"attribute value over the length limit": 2}


# --- field values ------------------------------------------------------------------------------

FAR_FUTURE_NS = 16_725_225_600 * 10**9  # 2500-01-01T00:00:00Z


def test_timestamps_zero_far_future_and_end_before_start(
    client: TestClient, warehouse: Warehouse
) -> None:
    spans = [
        SpanSpec("a000000000000001", llm("x").attributes, start_ns=0, end_ns=0),
        SpanSpec(
            "a000000000000002", llm("x").attributes, start_ns=FAR_FUTURE_NS, end_ns=FAR_FUTURE_NS
        ),
        SpanSpec("a000000000000003", llm("x").attributes, start_ns=START_NS, end_ns=START_NS - 1),
    ]
    response = client.post("/v1/traces", content=json_body((RESOURCE, spans)), headers=JS)
    assert (response.status_code, response.json()) == (200, {})
    stored = rows(warehouse, "span_id, year(started_at), duration_ms")
    assert stored == [
        ("a000000000000001", None, None),
        ("a000000000000002", None, None),  # year 2500: a clock or unit error, not a start
        ("a000000000000003", 2025, None),
    ]
    assert warnings(client) == {"invalid span start time": 1, "span ends before it starts": 1}


@pytest.mark.parametrize(
    "value",
    [
        {"stringValue": "many"},
        {"doubleValue": "NaN"},
        {"intValue": "-5"},
        {"intValue": str(2**70)},
        {"doubleValue": 12.5},
    ],
)
def test_impossible_token_counts_become_null_with_a_warning(
    client: TestClient, warehouse: Warehouse, value: dict[str, Any]
) -> None:
    body = to_json((RESOURCE, [llm(GOOD)]))
    for attribute in body["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"]:
        if attribute["key"] == "gen_ai.usage.input_tokens":
            attribute["value"] = value
    response = client.post("/v1/traces", content=orjson.dumps(body), headers=JS)
    assert (response.status_code, response.json()) == (200, {})
    assert rows(warehouse, "input_tokens, output_tokens") == [(None, 20)]
    assert warnings(client) == {"invalid gen_ai.usage.input_tokens": 1}


# --- mixed batches -----------------------------------------------------------------------------


def test_protobuf_batch_mixing_good_and_bad_spans_stores_the_good(
    client: TestClient, warehouse: Warehouse
) -> None:
    good = [llm(f"a00000000000000{i}") for i in range(1, 4)]
    bad = [llm("a0", name="short id"), llm("a000000000000009", name="bad trace")]
    bad[1].trace_id = "ab" * 4
    body = protobuf_body((RESOURCE, [good[0], bad[0], good[1], bad[1], good[2]]))
    response = client.post("/v1/traces", content=body, headers=PB)
    assert response.status_code == 200
    assert pb_answer(response.content).partial_success.rejected_spans == 2
    assert rows(warehouse) == [(span_id(s),) for s in good]


def test_request_log_jsonl_with_bad_lines_interleaved(
    client: TestClient, warehouse: Warehouse
) -> None:
    lines = [
        canonical("r0"),
        b"{not json",
        canonical("r2"),
        canonical("r3", started_at="last tuesday"),
        canonical("r4"),
        canonical("r5", input_tokens="many"),
        b"[1, 2]",
        b'{"hello": "world"}',
        canonical("r8", output_tokens=-5),
        canonical("r9"),
    ]
    response = client.post("/v1/requests", content=b"\n".join(lines))
    assert response.status_code == 200
    answer = response.json()
    assert answer["accepted"] == 4
    assert [(e["index"], e["field"]) for e in answer["rejected"]] == [
        (1, None),
        (3, "started_at"),
        (5, "input_tokens"),
        (6, None),
        (7, None),
        (8, "output_tokens"),
    ]
    for error in answer["rejected"]:
        assert error["error"].startswith(f"record {error['index']}: ")
        if error["field"]:
            assert error["error"].startswith(f"record {error['index']}: {error['field']}: ")
    assert rows(warehouse) == [("r0",), ("r2",), ("r4",), ("r9",)]


# --- the writer fails --------------------------------------------------------------------------


def test_a_failed_commit_is_503_not_500(tmp_path: Path) -> None:
    warehouse = Warehouse.open(tmp_path / "closing.duckdb")
    writer = BatchWriter(warehouse)
    writer.start()
    warehouse.close()  # every commit now fails inside the writer
    try:
        client = TestClient(create_app(writer))
        response = client.post("/v1/requests", content=canonical("r1"))
        assert response.status_code == 503
        assert response.headers["retry-after"] == "2"
        assert response.json()["error"].startswith("the write failed, retry later: ")
        traces = client.post("/v1/traces", content=json_body((RESOURCE, [llm(GOOD)])), headers=JS)
        assert (traces.status_code, traces.json()["code"]) == (503, 14)
    finally:
        writer.stop()


def test_a_batch_repeating_a_request_id_keeps_every_other_row(
    client: TestClient, warehouse: Warehouse
) -> None:
    twins = [llm(f"a00000000000000{i}", **{"gen_ai.response.id": "chatcmpl-1"}) for i in (1, 3)]
    single = llm("a000000000000002")
    body = json_body((RESOURCE, [twins[0], twins[1], single]))
    assert client.post("/v1/traces", content=body, headers=JS).status_code == 200
    assert rows(warehouse, "request_id, span_id") == [
        (f"{TRACE}:{single.span_id}", single.span_id),
        ("chatcmpl-1", twins[0].span_id),
    ]
