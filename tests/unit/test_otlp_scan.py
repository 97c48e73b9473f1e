"""The compiled fast path of protobuf trace decoding gives exactly the reference decoder's views,
or hands the body to it: on generated GenAI bodies (values of every type, limits cut or not),
on the sample's exports in every span wire, on SDK-encoded batches and on mutated bytes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.genai_batches import genai_batch
from ingest import otlp
from ingest.limits import ValueLimits, applied
from ingest.otlp import PayloadError, SpanView, decode_traces_protobuf_reference
from sample_data.otlp_encoding import otlp_proto
from sample_data.wires import WIRES
from tests.unit.test_ingest_api import llm
from tests.unit.test_ingest_properties import RESOURCE, genai_spans, mutate
from tests.unit.test_otlp_decode import protobuf_body
from tests.unit.test_wire_equivalence import GROUPS

scan = otlp.otlp_scan
LIMITS = [ValueLimits(), ValueLimits(max_attributes=6, max_depth=2, max_chars=12)]


def fast_or_none(body: bytes, limits: ValueLimits) -> list[SpanView] | None:
    try:
        return scan.decode_traces(body, limits, SpanView)
    except scan.Unusual:
        return None


def reference(body: bytes, limits: ValueLimits) -> tuple[Any, ...]:
    with applied(limits) as cuts:
        try:
            decoded = decode_traces_protobuf_reference(body)
        except PayloadError:
            return ("refused",)
    return (decoded.spans, decoded.rejected, dict(cuts))


def agrees(body: bytes, limits: ValueLimits) -> bool:
    """The fast path either declines the body or reads what the reference reads, with no
    rejection and no cut (those are the reference's to make)."""
    fast = fast_or_none(body, limits)
    # repr: NaN values are equal in it, as they are in the views' meaning
    return fast is None or repr(reference(body, limits)) == repr((fast, 0, {}))


def test_the_fast_decoder_is_built_here() -> None:
    assert scan is not None, "ingest/otlp_scan.pyx was not compiled at install"


@settings(max_examples=200, deadline=None)
@given(resource=RESOURCE, spans=genai_spans(), strict=st.booleans())
def test_generated_bodies_read_as_the_reference_reads_them(
    resource: dict[str, Any], spans: list[Any], strict: bool
) -> None:
    assert agrees(protobuf_body((resource, spans)), LIMITS[strict])


@settings(max_examples=200, deadline=None)
@given(
    spans=genai_spans(max_spans=2),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4),
    cut=st.integers(0, 10_000),
)
def test_damaged_bodies_are_declined_or_read_as_the_reference_reads_them(
    spans: list[Any], edits: list[tuple[int, int]], cut: int
) -> None:
    body = mutate(protobuf_body(({"service.name": "svc"}, spans)), edits, cut)
    assert agrees(body, LIMITS[0])


@pytest.mark.parametrize("wire", [w for w in WIRES if w.path == "traces"], ids=lambda w: w.name)
def test_every_span_wire_of_the_sample_takes_the_fast_path(wire: Any) -> None:
    rows = [group[0] for group in GROUPS.values() if wire.applies(group[0])]
    exports = [wire.emit(row) for row in rows]
    merged: dict[str, list[Any]] = {}
    for export in exports:
        for app, spans in export.items():
            merged.setdefault(app, []).extend(spans)
    body = otlp_proto(merged).SerializeToString()
    fast = fast_or_none(body, LIMITS[0])
    assert fast is not None
    assert reference(body, LIMITS[0]) == (fast, 0, {})


def test_sdk_encoded_batches_take_the_fast_path() -> None:
    for number in range(3):
        body, _ = genai_batch(64, batch_number=number)
        fast = fast_or_none(body, LIMITS[0])
        assert fast is not None and len(fast) == 64
        assert reference(body, LIMITS[0]) == (fast, 0, {})


def test_values_a_limit_would_cut_go_the_reference_way() -> None:
    body = protobuf_body(({"service.name": "x" * 40}, [llm("a000000000000001")]))
    assert fast_or_none(body, ValueLimits(max_chars=16)) is None
    assert fast_or_none(body, ValueLimits()) is not None
