"""GET /metrics: Prometheus text with received, stored, duplicate and rejected counts, warnings,
queue depth and commit latency, per app."""

from __future__ import annotations

import gzip

import orjson
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from ingest.app import IngestSettings, create_app
from ingest.auth import parse_tokens
from ingest.record import records_to_table
from ingest.writer import BatchWriter
from tests.unit.test_ingest_api import JS, PB, RESOURCE, SPANS, canonical, llm
from tests.unit.test_otlp_decode import json_body, protobuf_body
from warehouse.db import Warehouse

LIMIT = 1024 * 1024


def scrape(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of /metrics, keyed by (sample name, labels)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(client: TestClient, name: str, **labels: str) -> float:
    return scrape(client).get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def client(writer: BatchWriter) -> TestClient:
    return TestClient(create_app(writer, IngestSettings(max_body_bytes=LIMIT)))


def test_metrics_are_prometheus_text_with_help_for_every_family(client: TestClient) -> None:
    client.post("/v1/traces", content=json_body((RESOURCE, SPANS)), headers=JS)
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    assert set(families) >= {
        "gatewatch_ingest_received",
        "gatewatch_ingest_rejected_records",
        "gatewatch_ingest_rejected_requests",
        "gatewatch_ingest_warnings",
        "gatewatch_ingest_stored_rows",
        "gatewatch_ingest_duplicate_rows",
        "gatewatch_ingest_failed_rows",
        "gatewatch_ingest_queue_depth_rows",
        "gatewatch_ingest_batch_commit_seconds",
        "gatewatch_ingest_stage_cpu_seconds",
    }
    for name, family in families.items():
        assert name.startswith("gatewatch_ingest_")
        assert family.documentation, name


def test_received_stored_and_duplicate_counts(client: TestClient) -> None:
    body = protobuf_body((RESOURCE, SPANS))
    for _ in range(2):
        assert client.post("/v1/traces", content=body, headers=PB).status_code == 200
    assert client.post("/v1/requests", content=canonical("r1")).status_code == 200
    samples = scrape(client)
    assert samples[("gatewatch_ingest_received_total", frozenset({("endpoint", "traces")}))] == 4
    assert samples[("gatewatch_ingest_received_total", frozenset({("endpoint", "requests")}))] == 1
    assert samples[("gatewatch_ingest_stored_rows_total", frozenset())] == 3
    assert samples[("gatewatch_ingest_duplicate_rows_total", frozenset())] == 2
    assert samples[("gatewatch_ingest_queue_depth_rows", frozenset())] == 0
    assert samples[("gatewatch_ingest_batch_commit_seconds_count", frozenset())] == 3
    assert samples[("gatewatch_ingest_batch_commit_seconds_sum", frozenset())] > 0


def test_cpu_seconds_per_preparation_stage_are_counted(client: TestClient) -> None:
    body = protobuf_body((RESOURCE, SPANS * 200))
    assert client.post("/v1/traces", content=body, headers=PB).status_code == 200
    samples = scrape(client)
    stages = {
        dict(labels)["stage"]: seconds
        for (name, labels), seconds in samples.items()
        if name == "gatewatch_ingest_stage_cpu_seconds_total"
    }
    assert set(stages) == {"decode", "map", "arrow"}
    assert stages["decode"] > 0 and stages["map"] > 0


def test_bad_records_inside_a_readable_body_are_counted(client: TestClient) -> None:
    body = orjson.loads(json_body((RESOURCE, SPANS)))
    body["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["spanId"] = "short"
    assert client.post("/v1/traces", content=orjson.dumps(body), headers=JS).status_code == 200
    assert client.post("/v1/requests", content=canonical("r1") + b"\n[1]\n").status_code == 200
    assert value(client, "gatewatch_ingest_rejected_records_total", endpoint="traces") == 1
    assert value(client, "gatewatch_ingest_rejected_records_total", endpoint="requests") == 1
    assert value(client, "gatewatch_ingest_received_total", endpoint="traces") == 2


@pytest.mark.parametrize(
    ("path", "body", "headers", "reason", "status"),
    [
        ("/v1/traces", b"{", JS, "decode_error", 400),
        ("/v1/traces", b"\x0a\xff", PB, "decode_error", 400),
        ("/v1/traces", b"{}", {"Content-Type": "text/plain"}, "unsupported_media", 415),
        ("/v1/traces", b"{}", {**JS, "Content-Encoding": "br"}, "unsupported_media", 415),
        ("/v1/requests", b"{}", {"Content-Encoding": "zstd"}, "unsupported_media", 415),
        (
            "/v1/traces",
            gzip.compress(b" " * (LIMIT + 1)),
            {**JS, "Content-Encoding": "gzip"},
            "too_large",
            413,
        ),
        ("/v1/requests", b" " * (LIMIT + 1), {}, "too_large", 413),
        ("/v1/requests", b"x", {"Content-Encoding": "gzip"}, "decode_error", 400),
    ],
)
def test_refused_requests_are_counted_by_reason(
    client: TestClient,
    path: str,
    body: bytes,
    headers: dict[str, str],
    reason: str,
    status: int,
) -> None:
    assert client.post(path, content=body, headers=headers).status_code == status
    endpoint = path.rsplit("/", 1)[-1]
    samples = scrape(client)
    refused = {
        dict(labels)["reason"]: n
        for (name, labels), n in samples.items()
        if name == "gatewatch_ingest_rejected_requests_total"
        and dict(labels)["endpoint"] == endpoint
    }
    assert refused == {reason: 1}


def test_unauthorized_and_overloaded_are_counted(warehouse: Warehouse) -> None:
    writer = BatchWriter(warehouse, max_queued_rows=1)  # not started: the queue stays full
    writer.submit(records_to_table([{"request_id": "queued", "status": "ok"}]))
    settings = IngestSettings(tokens=parse_tokens("team-a:secret"))
    client = TestClient(create_app(writer, settings))
    assert client.post("/v1/traces", content=b"{}", headers=JS).status_code == 401
    authorized = {**JS, "Authorization": "Bearer secret"}
    body = json_body((RESOURCE, SPANS))
    assert client.post("/v1/traces", content=body, headers=authorized).status_code == 503
    assert client.get("/metrics").status_code == 200  # open without a token
    for reason in ("unauthorized", "overloaded"):
        refused = value(
            client, "gatewatch_ingest_rejected_requests_total", endpoint="traces", reason=reason
        )
        assert refused == 1, reason
    assert value(client, "gatewatch_ingest_queue_depth_rows") == 1


def test_warnings_are_counted_by_kind(client: TestClient) -> None:
    spans = [
        llm("a000000000000001", **{"gen_ai.usage.input_tokens": "many"}),
        llm("a000000000000002", **{"gen_ai.usage.input_tokens": -5, "big": "x" * 70_000}),
    ]
    assert client.post("/v1/traces", content=json_body((RESOURCE, spans)), headers=JS).is_success
    samples = scrape(client)
    warnings = {
        dict(labels)["kind"]: n
        for (name, labels), n in samples.items()
        if name == "gatewatch_ingest_warnings_total"
    }
    assert warnings == {
        "invalid gen_ai.usage.input_tokens": 2,
        "attribute value over the length limit": 1,
    }


def test_each_app_has_its_own_registry(writer: BatchWriter) -> None:
    first = TestClient(create_app(writer))
    second = TestClient(create_app(writer))
    assert first.post("/v1/requests", content=b"[1]").status_code == 400
    assert value(first, "gatewatch_ingest_received_total", endpoint="requests") == 1
    assert value(second, "gatewatch_ingest_received_total", endpoint="requests") == 0
