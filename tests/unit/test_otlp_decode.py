"""OTLP/HTTP trace bodies → SpanViews: protobuf and OTLP JSON give the same view of a span.

The builders here write one span description both ways (`opentelemetry.proto` messages and an
OTLP-JSON dict: hex ids, int64s as decimal strings, enums as integers); the mapping and API
tests reuse them.
"""

from __future__ import annotations

import base64
import math
import re
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from ingest.otlp import (
    DecodedSpans,
    PayloadError,
    SpanView,
    decode_traces_json,
    decode_traces_protobuf,
)

TRACE = "5b8efff798038103d269b633813fc60c"
START_NS = 1_762_160_400_000_000_000  # 2025-11-03T09:00:00Z
KIND_CLIENT = 3
KIND_INTERNAL = 1


@dataclass
class SpanSpec:
    """One span, written to both encodings by `to_protobuf` / `to_json`."""

    span_id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    name: str = "chat gpt-4o"
    trace_id: str = TRACE
    parent_span_id: str = ""
    kind: int = KIND_CLIENT
    start_ns: int = START_NS
    end_ns: int = START_NS + 1_250_000_000
    status_code: int = 0
    status_message: str = ""
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


Resource = tuple[dict[str, Any], list[SpanSpec]]


# --- protobuf ------------------------------------------------------------------------------


def pb_value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, bytes):
        return AnyValue(bytes_value=value)
    out = AnyValue()
    if isinstance(value, list):
        out.array_value.SetInParent()  # an empty array is still an array
        out.array_value.values.extend(pb_value(v) for v in value)
    elif isinstance(value, dict):
        out.kvlist_value.SetInParent()
        out.kvlist_value.values.extend(pb_attributes(value))
    else:
        raise TypeError(value)
    return out


def pb_attributes(attributes: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=k, value=pb_value(v)) for k, v in attributes.items()]


def pb_span(spec: SpanSpec) -> Span:
    span = Span(
        trace_id=bytes.fromhex(spec.trace_id),
        span_id=bytes.fromhex(spec.span_id),
        parent_span_id=bytes.fromhex(spec.parent_span_id),
        name=spec.name,
        kind=spec.kind,  # type: ignore[arg-type]
        start_time_unix_nano=spec.start_ns,
        end_time_unix_nano=spec.end_ns,
        attributes=pb_attributes(spec.attributes),
        status=Status(code=spec.status_code, message=spec.status_message),  # type: ignore[arg-type]
    )
    for name, attributes in spec.events:
        span.events.add(
            name=name, time_unix_nano=spec.start_ns, attributes=pb_attributes(attributes)
        )
    return span


def to_protobuf(*resources: Resource) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    for resource, specs in resources:
        rs = ResourceSpans()
        rs.resource.attributes.extend(pb_attributes(resource))
        rs.scope_spans.append(ScopeSpans(spans=[pb_span(s) for s in specs]))
        request.resource_spans.append(rs)
    return request


def protobuf_body(*resources: Resource) -> bytes:
    return to_protobuf(*resources).SerializeToString()


# --- OTLP JSON -----------------------------------------------------------------------------


def json_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}  # int64 as a decimal string
    if isinstance(value, float):
        if math.isnan(value):
            return {"doubleValue": "NaN"}
        if math.isinf(value):
            return {"doubleValue": "Infinity" if value > 0 else "-Infinity"}
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode()}
    if isinstance(value, list):
        return {"arrayValue": {"values": [json_value(v) for v in value]}}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": json_attributes(value)}}
    raise TypeError(value)


def json_attributes(attributes: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": json_value(v)} for k, v in attributes.items()]


def json_span(spec: SpanSpec) -> dict[str, Any]:
    span: dict[str, Any] = {
        "traceId": spec.trace_id,
        "spanId": spec.span_id,
        "name": spec.name,
        "kind": spec.kind,
        "startTimeUnixNano": str(spec.start_ns),
        "endTimeUnixNano": str(spec.end_ns),
        "attributes": json_attributes(spec.attributes),
        "status": {"code": spec.status_code, "message": spec.status_message}
        if spec.status_code
        else {},
    }
    if spec.parent_span_id:
        span["parentSpanId"] = spec.parent_span_id
    if spec.events:
        span["events"] = [
            {"name": n, "timeUnixNano": str(spec.start_ns), "attributes": json_attributes(a)}
            for n, a in spec.events
        ]
    return span


def to_json(*resources: Resource) -> dict[str, Any]:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": json_attributes(resource)},
                "scopeSpans": [{"scope": {"name": "test"}, "spans": [json_span(s) for s in specs]}],
            }
            for resource, specs in resources
        ]
    }


def json_body(*resources: Resource) -> bytes:
    return orjson.dumps(to_json(*resources))


def decode_both(*resources: Resource) -> tuple[DecodedSpans, DecodedSpans]:
    return decode_traces_protobuf(protobuf_body(*resources)), decode_traces_json(
        json_body(*resources)
    )


# --- tests ---------------------------------------------------------------------------------

ALL_VALUE_KINDS: dict[str, Any] = {
    "gen_ai.operation.name": "chat",
    "gen_ai.usage.input_tokens": 1200,
    "big.int": 9_007_199_254_740_993,  # > 2**53: exact only as a decimal string in JSON
    "negative.int": -7,
    "gen_ai.response.time_to_first_chunk": 0.25,
    "gen_ai.request.stream": True,
    "flag.false": False,
    "gen_ai.response.finish_reasons": ["stop", "length"],
    "nested": {"a": 1, "b": ["x", 2.5, False], "c": {"d": "e"}},
    "empty.array": [],
}


def test_every_value_kind_decodes_identically_from_protobuf_and_json() -> None:
    parent = "eee19b7ec3c1b174"
    spec = SpanSpec(
        span_id="a000000000000001",
        parent_span_id=parent,
        attributes=ALL_VALUE_KINDS,
        status_code=2,
        status_message="boom",
        events=[("exception", {"exception.type": "RateLimitError", "attempt": 2})],
    )
    resource = {"service.name": "billing-bot", "deployment.count": 3}
    pb, js = decode_both((resource, [spec]))
    expected = SpanView(
        trace_id=TRACE,
        span_id="a000000000000001",
        parent_span_id=parent,
        name="chat gpt-4o",
        kind=KIND_CLIENT,
        start_ns=START_NS,
        end_ns=START_NS + 1_250_000_000,
        status_code=2,
        status_message="boom",
        attributes=ALL_VALUE_KINDS,
        resource=resource,
        events=[("exception", {"exception.type": "RateLimitError", "attempt": 2})],
    )
    assert pb == DecodedSpans(spans=[expected])
    assert js == DecodedSpans(spans=[expected])


def test_missing_parent_id_is_empty_string_in_both_encodings() -> None:
    pb, js = decode_both(({}, [SpanSpec(span_id="a000000000000001")]))
    assert pb.spans[0].parent_span_id == ""
    assert js.spans[0].parent_span_id == ""
    assert pb.spans[0].events == [] and js.spans[0].events == []
    assert pb == js


def test_spans_of_several_resources_keep_their_own_resource() -> None:
    pb, js = decode_both(
        ({"service.name": "a"}, [SpanSpec(span_id="a000000000000001")]),
        (
            {"service.name": "b"},
            [SpanSpec(span_id="b000000000000001"), SpanSpec(span_id="b000000000000002")],
        ),
    )
    for decoded in (pb, js):
        assert [(s.span_id, s.resource) for s in decoded.spans] == [
            ("a000000000000001", {"service.name": "a"}),
            ("b000000000000001", {"service.name": "b"}),
            ("b000000000000002", {"service.name": "b"}),
        ]
    assert pb == js


def test_json_hex_ids_are_case_insensitive_and_stored_lower_case() -> None:
    body = to_json(({}, [SpanSpec(span_id="abcdef0123456789", parent_span_id="00000000000000ff")]))
    span = body["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    span["traceId"] = TRACE.upper()
    span["spanId"] = "ABCDEF0123456789"
    span["parentSpanId"] = "00000000000000FF"
    decoded = decode_traces_json(orjson.dumps(body))
    assert (decoded.spans[0].trace_id, decoded.spans[0].span_id) == (TRACE, "abcdef0123456789")
    assert decoded.spans[0].parent_span_id == "00000000000000ff"


def test_json_accepts_numbers_for_int64_and_snake_case_keys() -> None:
    body = {
        "resource_spans": [
            {
                "scope_spans": [
                    {
                        "spans": [
                            {
                                "trace_id": TRACE,
                                "span_id": "a000000000000001",
                                "name": "chat m",
                                "start_time_unix_nano": START_NS,
                                "end_time_unix_nano": START_NS + 5,
                                "attributes": [
                                    {"key": "n", "value": {"intValue": 42}},
                                    {"key": "f", "value": {"doubleValue": 3}},
                                    {"key": "s", "value": {"int_value": "7"}},
                                ],
                            }
                        ]
                    }
                ]
            }
        ]
    }
    (span,) = decode_traces_json(orjson.dumps(body)).spans
    assert (span.start_ns, span.end_ns) == (START_NS, START_NS + 5)
    assert span.attributes == {"n": 42, "f": 3.0, "s": 7}
    assert isinstance(span.attributes["f"], float)


def test_json_nan_and_infinity_doubles_decode_like_protobuf() -> None:
    spec = SpanSpec(span_id="a000000000000001", attributes={"x": math.nan, "y": math.inf})
    pb, js = decode_both(({}, [spec]))
    for decoded in (pb, js):
        attrs = decoded.spans[0].attributes
        assert math.isnan(attrs["x"])
        assert attrs["y"] == math.inf


def test_json_unreadable_attribute_values_become_none() -> None:
    body = to_json(({}, [SpanSpec(span_id="a000000000000001")]))
    span = body["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    span["attributes"] = [
        {"key": "int.text", "value": {"intValue": "abc"}},
        {"key": "str.number", "value": {"stringValue": 5}},
        {"key": "bool.text", "value": {"boolValue": "true"}},
        {"key": "empty", "value": {}},
        {"key": "no.value"},
        {"key": "bytes", "value": {"bytesValue": "aGk="}},
        {"key": "bad.bytes", "value": {"bytesValue": "%%%"}},
        {"value": {"stringValue": "keyless"}},
        "not an object",
    ]
    (decoded,) = decode_traces_json(orjson.dumps(body)).spans
    assert decoded.attributes == {
        "int.text": None,
        "str.number": None,
        "bool.text": None,
        "empty": None,
        "no.value": None,
        "bytes": b"hi",
        "bad.bytes": None,
    }


def test_protobuf_bytes_value_decodes_like_json_base64() -> None:
    pb, js = decode_both(({}, [SpanSpec(span_id="a000000000000001", attributes={"b": b"\x00hi"})]))
    assert pb.spans[0].attributes == {"b": b"\x00hi"}
    assert pb == js


def test_nesting_deeper_than_the_limit_is_cut_in_both_encodings() -> None:
    value: Any = "leaf"
    for _ in range(12):
        value = [value]
    pb, js = decode_both(({}, [SpanSpec(span_id="a000000000000001", attributes={"deep": value})]))
    cut: Any = None
    for _ in range(8):
        cut = [cut]
    assert pb.spans[0].attributes == {"deep": cut}
    assert pb == js


@pytest.mark.parametrize(
    ("field_name", "value", "message"),
    [
        ("traceId", "abc", "span 'bad': traceId must be 32 hex characters"),
        ("traceId", "z" * 32, f"span 'bad': traceId is not hex: {'z' * 32!r}"),
        ("traceId", None, "span 'bad': traceId is missing"),
        ("spanId", "a00000000000001", "span 'bad': spanId must be 16 hex characters"),
        ("spanId", "g000000000000001", "span 'bad': spanId is not hex: 'g000000000000001'"),
        ("spanId", "", "span 'bad': spanId is missing"),
        ("spanId", 1234, "span 'bad': spanId must be 16 hex characters"),
        ("parentSpanId", "abcd", "span 'bad': parentSpanId must be 16 hex characters"),
    ],
)
def test_json_span_with_a_bad_id_is_rejected_alone(
    field_name: str, value: Any, message: str
) -> None:
    body = to_json(
        (
            {"service.name": "svc"},
            [
                SpanSpec(span_id="a000000000000001", name="good-1"),
                SpanSpec(span_id="a000000000000002", name="bad"),
                SpanSpec(span_id="a000000000000003", name="good-2"),
            ],
        )
    )
    bad = body["resourceSpans"][0]["scopeSpans"][0]["spans"][1]
    if value is None:
        del bad[field_name]
    else:
        bad[field_name] = value
    decoded = decode_traces_json(orjson.dumps(body))
    assert [s.name for s in decoded.spans] == ["good-1", "good-2"]
    assert (decoded.rejected, decoded.errors) == (1, [message])


def test_json_rejection_messages_are_capped_but_all_rejections_counted() -> None:
    specs = [SpanSpec(span_id=f"a00000000000000{i}", name=f"s{i}") for i in range(8)]
    body = to_json(({}, specs))
    for span in body["resourceSpans"][0]["scopeSpans"][0]["spans"][:7]:
        span["traceId"] = "short"
    decoded = decode_traces_json(orjson.dumps(body))
    assert [s.name for s in decoded.spans] == ["s7"]
    assert decoded.rejected == 7
    assert decoded.errors == [f"span 's{i}': traceId must be 32 hex characters" for i in range(5)]


def test_json_span_that_is_not_an_object_is_rejected() -> None:
    body = to_json(({}, [SpanSpec(span_id="a000000000000001")]))
    body["resourceSpans"][0]["scopeSpans"][0]["spans"].append("nope")
    decoded = decode_traces_json(orjson.dumps(body))
    assert len(decoded.spans) == 1
    assert (decoded.rejected, decoded.errors) == (1, ["span None: span is not an object"])


def test_protobuf_span_with_bad_id_length_is_rejected_alone() -> None:
    request = to_protobuf(
        ({}, [SpanSpec(span_id="a000000000000001", name="good"), SpanSpec(span_id="a0", name="x")])
    )
    decoded = decode_traces_protobuf(request.SerializeToString())
    assert [s.name for s in decoded.spans] == ["good"]
    assert (decoded.rejected, decoded.errors) == (
        1,
        ["span 'x': traceId/spanId/parentSpanId must be 16/8/8 bytes"],
    )


def test_protobuf_span_with_bad_parent_id_length_is_rejected_like_json() -> None:
    spec = SpanSpec(span_id="a000000000000001", parent_span_id="abcd", name="bad")
    request = to_protobuf(({}, [spec]))
    decoded = decode_traces_protobuf(request.SerializeToString())
    assert (decoded.spans, decoded.rejected) == ([], 1)


@pytest.mark.parametrize("body", [b"", b"  \n", b"{}", b'{"resourceSpans": []}'])
def test_empty_json_bodies_decode_to_no_spans(body: bytes) -> None:
    assert decode_traces_json(body) == DecodedSpans(spans=[])


def test_empty_protobuf_body_decodes_to_no_spans() -> None:
    assert decode_traces_protobuf(b"") == DecodedSpans(spans=[])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "body is not valid JSON"),
        (b"[1, 2]", "body must be a JSON object (ExportTraceServiceRequest)"),
        (b'{"resourceSpans": 5}', "resourceSpans must be an array"),
        (b'{"resourceSpans": [3]}', "resourceSpans[] entries must be objects"),
    ],
)
def test_undecodable_json_body_raises_payload_error(body: bytes, message: str) -> None:
    with pytest.raises(PayloadError, match=f"^{re.escape(message)}"):
        decode_traces_json(body)


def test_undecodable_protobuf_body_raises_payload_error() -> None:
    with pytest.raises(PayloadError, match="^body is not a protobuf ExportTraceServiceRequest"):
        decode_traces_protobuf(b"\x0a\xff\x01garbage")


def test_json_resource_that_is_not_an_object_is_bad_data() -> None:
    body = b'{"resourceSpans": [{"resource": "svc", "scopeSpans": []}]}'
    with pytest.raises(PayloadError, match=r"^resourceSpans\[\]\.resource must be an object$"):
        decode_traces_json(body)
