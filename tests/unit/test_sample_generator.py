"""The sample traffic generator: determinism, every planted truth measured on the expected rows,
and the written wire formats (OTLP JSON, OTLP protobuf, JSONL request logs)."""

from __future__ import annotations

import datetime as dt
import gzip
import re
from pathlib import Path

import orjson
import polars as pl
import pyarrow as pa
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ingest.normalize import normalize_model, normalize_provider
from ingest.payloads import prepare_request_logs, prepare_traces
from ingest.record import REQUEST_SCHEMA
from sample_data.generator import SampleTraffic, generate, outage_day_index
from sample_data.truths import TRUTHS
from sample_data.writers import sample_command, write_examples, write_sample

END = dt.date(2026, 3, 1)
EXAMPLES = Path(__file__).resolve().parents[2] / "sample_data" / "examples"
HEX_32 = re.compile(r"^[0-9a-f]{32}$")
HEX_16 = re.compile(r"^[0-9a-f]{16}$")


@pytest.fixture(scope="module")
def traffic() -> SampleTraffic:
    return generate(90, end=END, seed=7)


@pytest.fixture(scope="module")
def frame(traffic: SampleTraffic) -> pl.DataFrame:
    requests = pl.from_arrow(traffic.requests)
    wire = pl.from_arrow(traffic.wire.select(["channel", "streaming"]))
    return pl.concat([requests, wire], how="horizontal").with_columns(
        day=pl.col("started_at").dt.date(),
        hour=pl.col("started_at").dt.hour().cast(pl.Int32),
        minute_of_day=pl.col("started_at").dt.hour().cast(pl.Int32) * 60
        + pl.col("started_at").dt.minute().cast(pl.Int32),
    )


def _week(frame: pl.DataFrame, first_day: dt.date) -> pl.DataFrame:
    return frame.filter(pl.col("day").is_between(first_day, first_day + dt.timedelta(days=6)))


def _tool_call_rate(frame: pl.DataFrame) -> float:
    ok = frame.filter(pl.col("status") == "ok")
    return ok.filter(pl.col("finish_reason") == "tool_calls").height / ok.height


def _reasoning_share(frame: pl.DataFrame) -> float:
    reporting = frame.filter((pl.col("status") == "ok") & pl.col("reasoning_tokens").is_not_null())
    return reporting["reasoning_tokens"].sum() / reporting["output_tokens"].sum()


def test_same_seed_gives_the_same_traffic() -> None:
    first, second = generate(4, end=END, seed=3), generate(4, end=END, seed=3)
    assert first.requests.equals(second.requests)
    assert first.wire.equals(second.wire)
    assert not first.requests.equals(generate(4, end=END, seed=4).requests)


def test_window_ends_today_by_default() -> None:
    traffic = generate(2, requests_per_day=20)
    assert traffic.end == dt.datetime.now(dt.UTC).date()
    assert traffic.start == traffic.end - dt.timedelta(days=1)


def test_requests_are_canonical_rows(traffic: SampleTraffic, frame: pl.DataFrame) -> None:
    assert traffic.requests.schema.equals(REQUEST_SCHEMA)
    assert traffic.wire.num_rows == traffic.requests.num_rows
    assert 120_000 < frame.height < 150_000  # 90 days at the default 1,500 a day
    assert frame["request_id"].n_unique() == frame.height
    assert frame["ingested_at"].null_count() == frame.height
    assert frame["day"].min() == traffic.start == END - dt.timedelta(days=89)
    assert frame["day"].max() == END


def test_tool_call_rate_rises_from_five_to_over_twenty_five_percent(
    traffic: SampleTraffic, frame: pl.DataFrame
) -> None:
    first = _tool_call_rate(_week(frame, traffic.start))
    last = _tool_call_rate(_week(frame, END - dt.timedelta(days=6)))
    assert first == pytest.approx(0.05, abs=0.02)
    assert last >= 0.25


def test_reasoning_share_rises_to_half(traffic: SampleTraffic, frame: pl.DataFrame) -> None:
    assert _reasoning_share(_week(frame, traffic.start)) < 0.25
    assert _reasoning_share(_week(frame, END - dt.timedelta(days=6))) == pytest.approx(
        0.5, abs=0.05
    )
    silent = frame.filter(
        pl.col("provider").is_in(TRUTHS.providers_without_reasoning)
        | pl.col("model").is_in(TRUTHS.models_without_reasoning)
    )
    assert silent.height > 0
    assert silent["reasoning_tokens"].null_count() == silent.height
    reporting = frame.filter(pl.col("reasoning_tokens").is_not_null())
    assert (reporting["reasoning_tokens"] <= reporting["output_tokens"]).all()


def test_deepinfra_calls_tools_half_as_often_for_the_same_model(frame: pl.DataFrame) -> None:
    qwen = frame.filter(pl.col("model") == TRUTHS.divergent_model)
    rates = {
        provider: _tool_call_rate(qwen.filter(pl.col("provider") == provider))
        for provider in qwen["provider"].unique()
    }
    peers = _tool_call_rate(qwen.filter(pl.col("provider").is_in(TRUTHS.divergent_peers)))
    assert rates[TRUTHS.divergent_provider] / peers == pytest.approx(0.5, abs=0.1)
    assert rates["together"] / rates["fireworks"] == pytest.approx(1.0, abs=0.15)


def test_outage_hits_one_provider_for_a_few_hours(
    traffic: SampleTraffic, frame: pl.DataFrame
) -> None:
    outage_day = traffic.start + dt.timedelta(days=outage_day_index(TRUTHS, 90))
    assert outage_day == END - dt.timedelta(days=TRUTHS.outage_days_before_end)
    in_window = (pl.col("day") == outage_day) & pl.col("minute_of_day").is_between(
        TRUTHS.outage_start_minute, TRUTHS.outage_end_minute, closed="left"
    )
    window = frame.filter(in_window)
    hit = window.filter(pl.col("provider") == TRUTHS.outage_provider)
    overloaded = hit.filter(pl.col("error_type") == "overloaded")
    assert hit.height >= 20
    assert overloaded.height / hit.height >= 0.8
    assert set(overloaded["http_status"]) == {529}
    others = window.filter(pl.col("provider") != TRUTHS.outage_provider)
    assert others.filter(pl.col("status") == "error").height / others.height < 0.05
    assert frame.filter(~in_window & (pl.col("error_type") == "overloaded")).height == 0
    provider_errors = frame.filter(
        ~in_window & pl.col("error_type").is_in(["rate_limit", "server_error", "timeout"])
    )
    assert provider_errors.height / frame.height == pytest.approx(0.005, abs=0.002)


def test_nightly_batch_bursts_over_a_diurnal_weekday_curve(frame: pl.DataFrame) -> None:
    batch = frame.filter(pl.col("app") == TRUTHS.batch_app)
    assert batch["hour"].is_between(TRUTHS.batch_start_hour, TRUTHS.batch_end_hour - 1).all()
    assert set(batch["model"]) <= set(TRUTHS.small_models)
    hourly = frame.group_by("day", "hour").len()
    burst = hourly.filter(pl.col("hour").is_between(1, 2))["len"].mean()
    assert burst >= 4 * frame.height / (90 * 24)
    interactive = frame.filter(pl.col("app") != TRUTHS.batch_app).group_by("day").len()
    weekend = pl.col("day").dt.weekday() >= 6
    assert interactive.filter(~weekend)["len"].mean() > interactive.filter(weekend)["len"].mean()
    by_hour = frame.filter(pl.col("app") != TRUTHS.batch_app).group_by("hour").len()
    assert by_hour.sort("len")["hour"][-1] in range(12, 18)


def test_frontier_and_small_models_are_mixed(frame: pl.DataFrame) -> None:
    models = set(frame["model"])
    assert set(TRUTHS.frontier_models) <= models
    assert set(TRUTHS.small_models) <= models
    for app in ("support-agent", "coding-agent", "search-api"):
        app_models = set(frame.filter(pl.col("app") == app)["model"])
        assert app_models & set(TRUTHS.frontier_models)
        assert app_models & set(TRUTHS.small_models)


def test_rows_are_internally_consistent(frame: pl.DataFrame) -> None:
    ok, failed = frame.filter(pl.col("status") == "ok"), frame.filter(pl.col("status") == "error")
    tools = ok.filter(pl.col("finish_reason") == "tool_calls")
    assert tools["tool_calls"].is_between(1, 4).all()
    assert (frame.filter(pl.col("finish_reason") != "tool_calls")["tool_calls"] == 0).all()
    assert (failed["finish_reason"] == "error").all()
    assert failed["output_tokens"].null_count() == failed.height
    assert ok["ttft_ms"].is_null().eq(~ok["streaming"]).all()
    assert failed["ttft_ms"].null_count() == failed.height
    assert (ok["ttft_ms"].drop_nulls() < ok.filter(pl.col("streaming"))["duration_ms"]).all()
    otlp_failed = failed.filter(pl.col("channel") == "otlp")
    assert (
        otlp_failed["request_id"] == otlp_failed["trace_id"] + ":" + otlp_failed["span_id"]
    ).all()
    cached = ok.filter(pl.col("cached_input_tokens").is_not_null())
    assert (cached["cached_input_tokens"] <= cached["input_tokens"]).all()
    assert set(frame["finish_reason"]) == {
        "stop",
        "length",
        "tool_calls",
        "content_filter",
        "error",
    }


def test_raw_spellings_normalize_to_the_expected_canonical_ids(frame: pl.DataFrame) -> None:
    pairs = frame.select("provider", "provider_raw", "model", "model_raw").unique()
    for row in pairs.iter_rows(named=True):
        assert normalize_provider(row["provider_raw"]) == row["provider"]
        assert normalize_model(row["model_raw"]) == row["model"]
    assert {"gcp.vertex_ai", "vertex_ai", "azure.ai.openai", "az.ai.openai"} <= set(
        pairs["provider_raw"]
    )


def _otlp_spans(document: dict) -> list[dict]:
    return [
        span
        for resource in document["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    ]


def _attributes(span: dict) -> dict[str, dict]:
    return {a["key"]: a["value"] for a in span["attributes"]}


def test_written_files_follow_the_otlp_json_rules(tmp_path: Path) -> None:
    traffic = generate(2, end=END, seed=11)
    paths = write_sample(traffic, tmp_path, ["otlp-json", "otlp-proto", "jsonl"])
    rows = pl.from_arrow(traffic.requests).with_columns(
        channel=pl.Series(traffic.wire.column("channel").to_pylist())
    )
    otlp_rows = rows.filter(pl.col("channel") == "otlp")

    documents = [orjson.loads(p.read_bytes()) for p in paths if p.suffix == ".json"]
    spans = [s for d in documents for s in _otlp_spans(d)]
    chat = [s for s in spans if _attributes(s)["gen_ai.operation.name"]["stringValue"] == "chat"]
    tools = [s for s in spans if s["name"].startswith("execute_tool ")]
    assert len(chat) == otlp_rows.height
    assert len(tools) == otlp_rows["tool_calls"].sum()
    for span in spans:
        assert HEX_32.match(span["traceId"]) and HEX_16.match(span["spanId"])
        assert "parentSpanId" not in span or HEX_16.match(span["parentSpanId"])
        assert span["startTimeUnixNano"].isdigit() and span["endTimeUnixNano"].isdigit()
        assert isinstance(span["kind"], int)
        for value in _attributes(span).values():
            assert "intValue" not in value or isinstance(value["intValue"], str)
    failed = [s for s in chat if "status" in s]
    assert failed and all(s["status"]["code"] == 2 for s in failed)
    assert all("gen_ai.response.finish_reasons" not in _attributes(s) for s in failed)
    deprecated = [s for s in chat if "gen_ai.system" in _attributes(s)]
    assert 0.1 < len(deprecated) / len(chat) < 0.3

    protos = [
        ExportTraceServiceRequest.FromString(p.read_bytes()) for p in paths if p.suffix == ".pb"
    ]
    proto_spans = [
        s for r in protos for rs in r.resource_spans for ss in rs.scope_spans for s in ss.spans
    ]
    assert len(proto_spans) == len(spans)
    assert {s.span_id.hex() for s in proto_spans} == {s["spanId"] for s in spans}

    lines = [line for p in paths if p.suffix == ".jsonl" for line in p.read_text().splitlines()]
    assert len(lines) == rows.height - otlp_rows.height
    first = orjson.loads(lines[0])
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", first["started_at"])


@pytest.mark.parametrize("trace_format", ["otlp-json", "otlp-proto"])
def test_ingesting_the_files_stores_exactly_the_expected_rows(
    tmp_path: Path, trace_format: str
) -> None:
    traffic = generate(2, end=END, seed=5)
    tables = []
    for path in write_sample(traffic, tmp_path, [trace_format, "jsonl"]):
        if path.suffix == ".jsonl":
            prepared = prepare_request_logs(path.read_bytes())
        else:
            encoding = "json" if path.suffix == ".json" else "protobuf"
            prepared = prepare_traces(path.read_bytes(), encoding)
        assert prepared.rejected == 0, prepared.errors
        tables.append(prepared.table)
    stored = pl.from_arrow(pa.concat_tables(tables)).drop("ingested_at").sort("request_id")
    expected = pl.from_arrow(traffic.requests).drop("ingested_at").sort("request_id")
    assert stored.equals(expected)


def test_gzip_output_holds_the_same_bytes(tmp_path: Path) -> None:
    traffic = generate(1, end=END, requests_per_day=200)
    plain = write_sample(traffic, tmp_path / "plain")
    zipped = write_sample(traffic, tmp_path / "zipped", gzip=True)
    assert [p.name + ".gz" for p in plain] == [p.name for p in zipped]
    for raw, packed in zip(plain, zipped, strict=True):
        assert gzip.decompress(packed.read_bytes()) == raw.read_bytes()


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown sample format parquet"):
        write_sample(generate(1, end=END, requests_per_day=10), tmp_path, ["parquet"])


def test_sample_command_reports_progress_per_day(tmp_path: Path) -> None:
    messages: list[str] = []
    paths = sample_command(2, tmp_path, ["jsonl"], 7, END, progress=messages.append)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "requests/2026-02-28.jsonl",
        "requests/2026-03-01.jsonl",
    ]
    assert len(messages) == 2 and "2/2" in messages[-1]


def test_committed_examples_are_current(tmp_path: Path) -> None:
    for path in write_examples(tmp_path):
        assert path.read_bytes() == (EXAMPLES / path.name).read_bytes(), path.name
    spans = _otlp_spans(orjson.loads((EXAMPLES / "otlp_traces.json").read_bytes()))
    names = sorted(s["name"].split(" ")[0] for s in spans)
    assert names == ["chat"] * 3 + ["execute_tool"] * 2 + ["invoke_agent"]
    assert len({s["traceId"] for s in spans}) == 1
    assert sum("gen_ai.system" in _attributes(s) for s in spans) == 1
    assert sum("status" in s for s in spans) == 1
    proto = ExportTraceServiceRequest.FromString((EXAMPLES / "otlp_traces.pb").read_bytes())
    assert sum(len(ss.spans) for rs in proto.resource_spans for ss in rs.scope_spans) == 6


def test_tool_columns_are_one_array_at_millions_of_tool_calls() -> None:
    """pyarrow converts a numpy string array of 2 M items or more in chunks; the tool list
    columns need one array (the 10 M-request benchmark warehouse has that many calls)."""
    import numpy as np

    from sample_data.wire_fields import _strings

    many = np.full(2_100_000, "0123456789abcdef")
    assert isinstance(pa.array(many, pa.string()), pa.ChunkedArray)  # what pyarrow does
    strings = _strings(many)
    assert isinstance(strings, pa.Array) and len(strings) == 2_100_000
