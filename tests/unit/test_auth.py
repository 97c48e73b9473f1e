"""Bearer-token auth on the ingest routes: the token table format, 401 answers, tenants on rows,
open health and metrics, and the wiring from the environment through `gatewatch serve`."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from google.rpc.status_pb2 import Status
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult

from gatewatch import config
from gatewatch.errors import GatewatchError
from gatewatch.serve import ingest_settings
from ingest.app import IngestSettings, create_app
from ingest.auth import TokenTable, Unauthorized, bearer_token, parse_tokens
from ingest.limits import ValueLimits
from ingest.writer import BatchWriter
from tests.integration.server import start_serve
from tests.unit.test_ingest_api import JS, PB, RESOURCE, SPANS, canonical
from tests.unit.test_otlp_decode import TRACE, json_body, protobuf_body
from warehouse.db import Warehouse

TOKENS = "team-a:tok-a, team-b:tok:with:colons ,bare-token"


def tenants(warehouse: Warehouse) -> list[tuple[str, str | None]]:
    rows = warehouse.cursor().execute("SELECT request_id, tenant FROM requests ORDER BY 1")
    return rows.fetchall()


# --- the token table ---------------------------------------------------------------------------


def test_tokens_name_their_tenant_or_none() -> None:
    table = parse_tokens(TOKENS)
    assert isinstance(table, TokenTable)
    assert table.tenant_of("tok-a") == "team-a"
    assert table.tenant_of("tok:with:colons") == "team-b"
    assert table.tenant_of("bare-token") is None


@pytest.mark.parametrize("token", ["tok", "tok-a ", "TOK-A", "tok-ab", "", "team-a:tok-a"])
def test_near_misses_are_refused(token: str) -> None:
    with pytest.raises(Unauthorized, match="invalid bearer token"):
        parse_tokens(TOKENS).tenant_of(token)  # type: ignore[union-attr]


def test_token_file_has_one_entry_per_line_with_comments(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text("# ingest tokens\nteam-a:tok-a  # billing\n\n  tok-plain\n")
    table = parse_tokens(f"@{path}")
    assert table is not None
    assert (table.tenant_of("tok-a"), table.tenant_of("tok-plain")) == ("team-a", None)


@pytest.mark.parametrize("spec", ["", "  ", None])
def test_no_tokens_means_no_auth(spec: str | None) -> None:
    assert parse_tokens(spec or "") is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("team-a:", "GATEWATCH_INGEST_TOKENS: entry 'team-a:' has an empty token"),
        ("a:tok,b:tok", "GATEWATCH_INGEST_TOKENS: one token is given for two tenants"),
        (",,", "GATEWATCH_INGEST_TOKENS lists no token"),
        ("@/nonexistent/tokens", "cannot read the ingest token file /nonexistent/tokens: "),
    ],
)
def test_bad_token_specs_are_refused(spec: str, message: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_tokens(spec)
    assert str(error.value).startswith(message)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing Authorization: Bearer <token> header"),
        ("", "missing Authorization: Bearer <token> header"),
        ("Basic dXNlcjpwYXNz", "the Authorization header must be 'Bearer <token>'"),
        ("Bearer", "the Authorization header must be 'Bearer <token>'"),
        ("Bearer   ", "the Authorization header must be 'Bearer <token>'"),
    ],
)
def test_malformed_authorization_headers(header: str | None, message: str) -> None:
    with pytest.raises(Unauthorized, match=message):
        bearer_token(header)


def test_bearer_scheme_is_case_insensitive() -> None:
    assert bearer_token("bearer  tok-a ") == "tok-a"


# --- the API -----------------------------------------------------------------------------------


@pytest.fixture
def client(writer: BatchWriter) -> TestClient:
    return TestClient(create_app(writer, IngestSettings(tokens=parse_tokens(TOKENS))))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_traces_without_a_token_are_401_in_json(client: TestClient, warehouse: Warehouse) -> None:
    response = client.post("/v1/traces", content=json_body((RESOURCE, SPANS)), headers=JS)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {
        "code": 16,
        "message": "missing Authorization: Bearer <token> header",
    }
    assert tenants(warehouse) == []


def test_traces_with_a_wrong_token_are_401_in_protobuf(
    client: TestClient, warehouse: Warehouse
) -> None:
    body = protobuf_body((RESOURCE, SPANS))
    response = client.post("/v1/traces", content=body, headers={**PB, **bearer("nope")})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/x-protobuf"
    assert Status.FromString(response.content) == Status(code=16, message="invalid bearer token")
    assert tenants(warehouse) == []


def test_request_logs_without_a_token_are_401(client: TestClient) -> None:
    response = client.post("/v1/requests", content=canonical("r1"), headers=bearer("tok"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"error": "invalid bearer token"}


def test_auth_comes_before_the_body_is_judged(client: TestClient) -> None:
    response = client.post("/v1/traces", content=b"{", headers={"Content-Type": "text/plain"})
    assert response.status_code == 401


def test_the_tokens_tenant_is_stored_on_every_row(client: TestClient, warehouse: Warehouse) -> None:
    spans = client.post(
        "/v1/traces", content=protobuf_body((RESOURCE, SPANS)), headers={**PB, **bearer("tok-a")}
    )
    logs = client.post("/v1/requests", content=canonical("r1"), headers=bearer("tok:with:colons"))
    plain = client.post("/v1/requests", content=canonical("r2"), headers=bearer("bare-token"))
    assert (spans.status_code, logs.status_code, plain.status_code) == (200, 200, 200)
    assert tenants(warehouse) == [
        (f"{TRACE}:a000000000000001", "team-a"),
        ("chatcmpl-2", "team-a"),
        ("r1", "team-b"),
        ("r2", None),
    ]


def test_health_and_metrics_stay_open(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 200


def test_without_tokens_no_header_is_needed(writer: BatchWriter, warehouse: Warehouse) -> None:
    client = TestClient(create_app(writer))
    assert client.post("/v1/requests", content=canonical("r1")).status_code == 200
    assert tenants(warehouse) == [("r1", None)]


# --- wiring from the environment -------------------------------------------------------------


def test_ingest_settings_read_tokens_and_limits_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(config.GATEWATCH_INGEST_TOKENS, "team-a:tok-a")
    monkeypatch.setenv(config.GATEWATCH_MAX_ATTRIBUTES, "16")
    monkeypatch.setenv(config.GATEWATCH_MAX_ATTRIBUTE_DEPTH, "3")
    monkeypatch.setenv(config.GATEWATCH_MAX_ATTRIBUTE_CHARS, "256")
    settings = ingest_settings(1234)
    assert settings.max_body_bytes == 1234
    assert settings.value_limits == ValueLimits(max_attributes=16, max_depth=3, max_chars=256)
    assert settings.tokens is not None and settings.tokens.tenant_of("tok-a") == "team-a"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (config.GATEWATCH_INGEST_TOKENS, "a:", "GATEWATCH_INGEST_TOKENS: entry 'a:' has an empty"),
        (config.GATEWATCH_MAX_ATTRIBUTES, "0", "max_attributes must be at least 1"),
        (config.GATEWATCH_MAX_ATTRIBUTE_CHARS, "lots", "GATEWATCH_MAX_ATTRIBUTE_CHARS must be an"),
    ],
)
def test_bad_settings_are_one_line_errors(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(GatewatchError, match=message):
        ingest_settings(1234)


def export_one_span_with_the_sdk(endpoint: str) -> bool:
    """One GenAI span through the real OTel SDK exporter, configured from the environment."""
    provider = TracerProvider(resource=Resource.create({"service.name": "sdk-app"}))
    exporter = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces")
    try:
        tracer = provider.get_tracer("test")
        attributes = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"}
        with tracer.start_as_current_span("chat gpt-4o", attributes=attributes) as span:
            spans = [span]
        return exporter.export(spans) == SpanExportResult.SUCCESS  # type: ignore[arg-type]
    finally:
        exporter.shutdown()
        provider.shutdown()


@pytest.mark.integration
def test_a_real_serve_requires_the_token_from_its_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(config.GATEWATCH_INGEST_TOKENS, "acme:s3cret")
    served = start_serve(tmp_path / "gatewatch.duckdb")
    try:
        url = f"{served.ingest_url}/v1/requests"
        assert httpx.post(url, content=canonical("r1")).status_code == 401
        answer = httpx.post(url, content=canonical("r1"), headers=bearer("s3cret"))
        assert (answer.status_code, answer.json()) == (200, {"accepted": 1, "rejected": []})
        assert httpx.get(f"{served.ingest_url}/metrics").status_code == 200
        # An SDK exporter sends the token the way the README says (URL-encoded header value).
        assert not export_one_span_with_the_sdk(served.ingest_url)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Bearer%20s3cret")
        assert export_one_span_with_the_sdk(served.ingest_url)
    finally:
        served.stop()
    warehouse = Warehouse.open(tmp_path / "gatewatch.duckdb")
    try:
        stored = warehouse.cursor().execute("SELECT app, tenant FROM requests ORDER BY 1")
        assert stored.fetchall() == [("sdk-app", "acme"), (None, "acme")]
    finally:
        warehouse.close()
