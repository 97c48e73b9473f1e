"""Synthetic LLM traffic with planted, known trends (see `truths.py` and the README).

`generate` returns the canonical rows the pipeline must store after ingesting the written
files (`SampleTraffic.requests`, exactly `ingest.record.REQUEST_SCHEMA`, `ingested_at` NULL) and
a parallel table of what only the wire formats carry (`SampleTraffic.wire`). Everything is drawn
column-wise with numpy from one seeded generator, so a seed always gives the same traffic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ingest.record import REQUEST_SCHEMA
from ingest.tool_quality import QUALITY_COLUMNS
from sample_data.catalogue import (
    APPS,
    MODELS,
    NATIVE_FINISH,
    PROVIDERS,
)
from sample_data.truths import TRUTHS, PlantedTruths
from sample_data.wire_fields import (
    HEX,
    agents,
    error_wire,
    lookup,
    people,
    random_text,
    raw_models,
    request_ids,
    tools,
)

OTLP_SOURCE = "otlp:genai"
JSONL_SOURCE = "requests:canonical"
US_PER_DAY = 86_400_000_000
US_PER_HOUR = 3_600_000_000
LENGTH_SHARE = 0.02  # of ok answers cut at max tokens
CONTENT_FILTER_SHARE = 0.003

WIRE_SCHEMA = pa.schema(
    [
        ("channel", pa.string()),  # 'otlp' or 'jsonl'
        ("provider_key", pa.string()),  # gen_ai.provider.name or gen_ai.system (otlp only)
        ("request_model", pa.string()),
        ("response_model", pa.string()),  # NULL on error spans
        ("start_ns", pa.int64()),
        ("end_ns", pa.int64()),
        ("streaming", pa.bool_()),
        ("ttft_s", pa.float64()),  # the double written as gen_ai.response.time_to_first_chunk
        ("error_name", pa.string()),  # error.type as written
        ("error_message", pa.string()),
        ("tool_names", pa.list_(pa.string())),
        ("tool_span_ids", pa.list_(pa.string())),
        ("tool_durations_ns", pa.list_(pa.int64())),
        ("agent_name", pa.string()),  # invoke_agent parent span, when wrapped
    ]
)


@dataclass(frozen=True)
class SampleTraffic:
    requests: pa.Table  # expected canonical rows, REQUEST_SCHEMA
    wire: pa.Table  # row-aligned with `requests`, WIRE_SCHEMA
    start: dt.date
    end: dt.date
    seed: int
    truths: PlantedTruths


def generate(
    days: int = 90,
    *,
    end: dt.date | None = None,
    seed: int = 7,
    requests_per_day: int = 1500,
    truths: PlantedTruths = TRUTHS,
) -> SampleTraffic:
    """Traffic for the `days` days ending at `end` (inclusive; default today, UTC)."""
    if days < 1 or requests_per_day < 1:
        raise ValueError("days and requests_per_day must be at least 1")
    end = end or dt.datetime.now(dt.UTC).date()
    start = end - dt.timedelta(days=days - 1)
    rng = np.random.default_rng(seed)
    t = truths

    day, started_us, app = _arrivals(rng, t, start, days, requests_per_day)
    n = len(day)
    window_fraction = day / max(days - 1, 1)
    model = _pick_by_group(rng, app, {a.name: a.models for a in APPS.values()})
    provider = _pick_by_group(rng, model, {m.model: m.providers for m in MODELS.values()})
    family = lookup(model, {m.model: m.family for m in MODELS.values()})
    error_type = _errors(rng, t, day, days, started_us, provider)
    ok = error_type == ""

    finish, tool_calls = _finish_reasons(rng, t, window_fraction, day, ok, app, model, provider)
    tokens = _tokens(rng, t, window_fraction, ok, model, provider, family)
    timing = _timing(rng, t, ok, error_type, model, provider, tokens["output_tokens"])

    channel = lookup(app, {a.name: a.channel for a in APPS.values()})
    otlp = channel == "otlp"
    deprecated = otlp & (rng.random(n) < t.deprecated_system_share)
    trace_id = random_text(rng, n, 32, HEX)
    span_id = random_text(rng, n, 16, HEX)
    agent_name, agent_span_id = agents(rng, app, otlp)

    request_model, response_model = raw_models(model, provider)
    provider_raw = np.where(
        otlp,
        np.where(
            deprecated,
            lookup(provider, {k: p.deprecated_name for k, p in PROVIDERS.items()}),
            lookup(provider, {k: p.otel_name for k, p in PROVIDERS.items()}),
        ),
        lookup(provider, {k: p.gateway_name for k, p in PROVIDERS.items()}),
    )
    request_id = request_ids(rng, started_us, otlp, ok, family, provider, trace_id, span_id)
    error_name, http_status, error_message = error_wire(error_type, family)
    user_id, session_id = people(rng, t, app, day, start, days)
    native = np.array([NATIVE_FINISH[f].get(r, "") for f, r in zip(family, finish, strict=True)])
    duration_ns = timing["duration_ns"]
    start_ns = started_us * 1000 + np.where(otlp, rng.integers(0, 1000, n), 0)
    tool_columns = tools(rng, app, tool_calls)

    order = np.argsort(start_ns, kind="stable")
    requests = pa.table(
        {
            "request_id": _strings(request_id),
            "trace_id": _strings(trace_id, otlp),
            "span_id": _strings(span_id, otlp),
            "parent_span_id": _strings(agent_span_id, agent_span_id != ""),
            "started_at": pa.array(started_us, pa.timestamp("us", tz="UTC")),
            "duration_ms": pa.array(duration_ns / 1e6),
            "ttft_ms": pa.array(timing["ttft_s"] * 1000.0, mask=np.isnan(timing["ttft_s"])),
            "provider": _strings(provider),
            "provider_raw": _strings(provider_raw),
            "model": _strings(model),
            "model_raw": _strings(np.where(ok, response_model, request_model)),
            "finish_reason": _strings(np.where(ok, finish, "error")),
            "native_finish_reason": _strings(native, ok),
            **{k: pa.array(v, pa.int64(), mask=v < 0) for k, v in tokens.items()},
            "tool_calls": pa.array(tool_calls, pa.int32()),
            "status": _strings(np.where(ok, "ok", "error")),
            "error_type": _strings(error_type, ~ok),
            "http_status": pa.array(http_status, pa.int32(), mask=http_status < 0),
            "app": _strings(app),
            "user_id": _strings(user_id, user_id != ""),
            "session_id": _strings(session_id, session_id != ""),
            "tenant": pa.nulls(n, pa.string()),
            "source": _strings(np.where(otlp, OTLP_SOURCE, JSONL_SOURCE)),
            "ingested_at": pa.nulls(n, pa.timestamp("us", tz="UTC")),
            **{column: pa.nulls(n, pa.int32()) for column in QUALITY_COLUMNS},
            "cost_usd": pa.nulls(n, pa.float64()),
            "reasoning_level": pa.nulls(n, pa.string()),
            # written as `gen_ai.request.stream` on spans and `stream` in request logs
            "stream": pa.array(timing["streaming"]),
            "server_address": pa.nulls(n, pa.string()),
        },
        schema=REQUEST_SCHEMA,
    ).take(order)
    wire = pa.table(
        {
            "channel": _strings(channel),
            "provider_key": _strings(
                np.where(deprecated, "gen_ai.system", "gen_ai.provider.name"), otlp
            ),
            "request_model": _strings(request_model),
            "response_model": _strings(response_model, ok),
            "start_ns": pa.array(start_ns),
            "end_ns": pa.array(start_ns + duration_ns),
            "streaming": pa.array(timing["streaming"]),
            "ttft_s": pa.array(timing["ttft_s"], mask=np.isnan(timing["ttft_s"])),
            "error_name": _strings(error_name, ~ok),
            "error_message": _strings(error_message, ~ok),
            **tool_columns,
            "agent_name": _strings(agent_name, agent_name != ""),
        },
        schema=WIRE_SCHEMA,
    ).take(order)
    return SampleTraffic(requests, wire, start, end, seed, truths)


def _arrivals(
    rng: np.random.Generator, t: PlantedTruths, start: dt.date, days: int, per_day: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Day index, start time (µs since epoch) and app of every request, in arrival order."""
    first_us = int(dt.datetime.combine(start, dt.time(), dt.UTC).timestamp()) * 1_000_000
    day_index = np.arange(days)
    weekday = np.array([(start + dt.timedelta(days=int(d))).weekday() for d in day_index])
    weight = np.where(weekday >= 5, t.weekend_factor, 1.0)
    weight = weight * (1 + t.interactive_growth * day_index / max(days - 1, 1))
    interactive_total = (1 - t.batch_share) * per_day * days
    interactive_counts = rng.poisson(interactive_total * weight / weight.sum())
    batch_counts = rng.poisson(np.full(days, t.batch_share * per_day))

    hours = np.arange(24) + 0.5
    diurnal = 0.12 + np.exp(-0.5 * ((hours - t.diurnal_peak_hour) / 3.5) ** 2)
    n_int = int(interactive_counts.sum())
    int_day = np.repeat(day_index, interactive_counts)
    int_hour = rng.choice(24, size=n_int, p=diurnal / diurnal.sum())
    int_us = int_hour * US_PER_HOUR + rng.integers(0, US_PER_HOUR, n_int)
    interactive = [a for a in APPS.values() if a.name != t.batch_app]
    shares = np.array([a.share for a in interactive])
    int_app = np.array([a.name for a in interactive])[
        rng.choice(len(interactive), size=n_int, p=shares / shares.sum())
    ]

    n_batch = int(batch_counts.sum())
    batch_day = np.repeat(day_index, batch_counts)
    batch_len = (t.batch_end_hour - t.batch_start_hour) * US_PER_HOUR
    batch_us = t.batch_start_hour * US_PER_HOUR + rng.integers(0, batch_len, n_batch)

    day = np.concatenate([int_day, batch_day])
    started_us = first_us + day * US_PER_DAY + np.concatenate([int_us, batch_us])
    app = np.concatenate([int_app, np.full(n_batch, t.batch_app)])
    return day, started_us.astype(np.int64), app


def _pick_by_group(
    rng: np.random.Generator, group: np.ndarray, options: dict[str, dict[str, float]]
) -> np.ndarray:
    out = np.empty(len(group), dtype=object)
    for key, weights in options.items():
        rows = np.flatnonzero(group == key)
        names = np.array(list(weights), dtype=object)
        p = np.array(list(weights.values()))
        out[rows] = names[rng.choice(len(names), size=len(rows), p=p / p.sum())]
    return out.astype(str)


def _errors(
    rng: np.random.Generator,
    t: PlantedTruths,
    day: np.ndarray,
    days: int,
    started_us: np.ndarray,
    provider: np.ndarray,
) -> np.ndarray:
    """Canonical error type per request ('' = ok): baseline rates plus the planted outage."""
    n = len(day)
    u = rng.random(n)
    provider_err = np.array(["rate_limit", "server_error", "timeout"])[
        rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    ]
    client_err = np.array(["client_error", "context_length"])[rng.choice(2, size=n, p=[0.6, 0.4])]
    p_rate, c_rate = t.baseline_provider_error_rate, t.baseline_client_error_rate
    error = np.where(u < p_rate, provider_err, np.where(u < p_rate + c_rate, client_err, ""))
    outage_day = outage_day_index(t, days)
    minute = (started_us % US_PER_DAY) // 60_000_000
    in_window = (
        (day == outage_day)
        & (provider == t.outage_provider)
        & (minute >= t.outage_start_minute)
        & (minute < t.outage_end_minute)
    )
    window_rows = np.flatnonzero(in_window)
    failing = rng.permutation(window_rows)[
        : int(np.ceil(t.outage_failure_share * len(window_rows)))
    ]
    error = error.astype("U16")
    error[window_rows] = ""
    error[failing] = "overloaded"
    return error


def outage_day_index(t: PlantedTruths, days: int) -> int:
    """Day of the planted outage within the window (0 = first day)."""
    return days - 1 - t.outage_days_before_end if days > t.outage_days_before_end else days // 2


def _finish_reasons(
    rng: np.random.Generator,
    t: PlantedTruths,
    window_fraction: np.ndarray,
    day: np.ndarray,
    ok: np.ndarray,
    app: np.ndarray,
    model: np.ndarray,
    provider: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Canonical finish reason and tool-call count per request.

    Per-request tool-call odds = planted daily rate × propensity / mean propensity of the
    day's ok requests, so the overall daily expectation is exactly the planted line."""
    propensity = (
        lookup(app, {a.name: a.tool_factor for a in APPS.values()})
        * lookup(model, {m.model: m.tool_factor for m in MODELS.values()})
        * np.where(
            (provider == t.divergent_provider) & (model == t.divergent_model),
            t.divergent_tool_call_factor,
            1.0,
        )
    )
    n_days = int(day.max()) + 1 if len(day) else 0
    ok_sum = np.bincount(day[ok], weights=propensity[ok], minlength=n_days)
    ok_count = np.bincount(day[ok], minlength=n_days)
    mean = np.where(ok_count > 0, ok_sum / np.maximum(ok_count, 1), 1.0)
    p_tool = t.tool_call_rate_at(window_fraction) * propensity / mean[day]
    p_tool = np.clip(p_tool, 0, 0.95)
    u = rng.random(len(day))
    length_below = p_tool + LENGTH_SHARE
    filter_below = length_below + CONTENT_FILTER_SHARE
    finish = np.select(
        [u < p_tool, u < length_below, u < filter_below],
        ["tool_calls", "length", "content_filter"],
        "stop",
    )
    finish = np.where(ok, finish, "")
    count = rng.choice(np.arange(1, 5), size=len(day), p=[0.5, 0.25, 0.15, 0.1])
    tool_calls = np.where(finish == "tool_calls", count, 0).astype(np.int32)
    return finish, tool_calls


def _tokens(
    rng: np.random.Generator,
    t: PlantedTruths,
    window_fraction: np.ndarray,
    ok: np.ndarray,
    model: np.ndarray,
    provider: np.ndarray,
    family: np.ndarray,
) -> dict[str, np.ndarray]:
    """Token columns per request; -1 marks NULL (errors report no usage)."""
    n = len(model)
    in_median = lookup(model, {m.model: m.input_median for m in MODELS.values()})
    out_median = lookup(model, {m.model: m.output_median for m in MODELS.values()})
    input_tokens = np.round(in_median * rng.lognormal(0, 0.9, n)).astype(np.int64) + 20
    output_tokens = np.round(out_median * rng.lognormal(0, 0.8, n)).astype(np.int64) + 1

    reports = ok & ~np.isin(provider, t.providers_without_reasoning)
    reports &= ~np.isin(model, t.models_without_reasoning)
    fraction = np.clip(
        t.reasoning_share_at(window_fraction) + rng.normal(0, t.reasoning_share_spread, n), 0, 0.95
    )
    reasoning = np.where(reports, np.round(output_tokens * fraction), -1).astype(np.int64)

    cache_reporting = [k for k, p in PROVIDERS.items() if p.reports_cache_reads]
    hit = rng.random(n) < 0.45
    cached = np.where(hit, np.round(input_tokens * rng.uniform(0.3, 0.9, n)), 0)
    cached = np.where(ok & np.isin(provider, cache_reporting), cached, -1).astype(np.int64)
    # Anthropic-family responses report cache writes too; they fit beside the reads.
    room = input_tokens - np.maximum(cached, 0)
    written = np.where(rng.random(n) < 0.15, np.round(room * rng.uniform(0.2, 0.6, n)), 0)
    cache_write = np.where(ok & (family == "anthropic"), written, -1).astype(np.int64)
    return {
        "input_tokens": np.where(ok, input_tokens, -1),
        "output_tokens": np.where(ok, output_tokens, -1),
        "reasoning_tokens": reasoning,
        "cached_input_tokens": cached,
        "cache_write_tokens": cache_write,
    }


_ERROR_LATENCY_MS = {
    "overloaded": 350.0,
    "rate_limit": 120.0,
    "server_error": 1500.0,
    "timeout": 60_000.0,
    "client_error": 150.0,
    "context_length": 200.0,
}


def _timing(
    rng: np.random.Generator,
    t: PlantedTruths,
    ok: np.ndarray,
    error_type: np.ndarray,
    model: np.ndarray,
    provider: np.ndarray,
    output_tokens: np.ndarray,
) -> dict[str, np.ndarray]:
    """Duration (ns, whole µs plus a sub-µs part) and streaming TTFT (s, whole µs)."""
    n = len(model)
    slow = lookup(provider, {k: p.latency_factor for k, p in PROVIDERS.items()})
    ttft_ms = (
        lookup(model, {m.model: m.ttft_median_ms for m in MODELS.values()})
        * slow
        * rng.lognormal(0, 0.35, n)
    )
    tps = lookup(model, {m.model: m.tokens_per_second for m in MODELS.values()}) / slow
    generation_ms = np.maximum(output_tokens, 1) / tps * 1000 * rng.lognormal(0, 0.2, n)
    error_ms = np.array([_ERROR_LATENCY_MS.get(e, 0.0) for e in error_type])
    error_ms = np.where(error_type == "timeout", error_ms, error_ms * rng.lognormal(0, 0.4, n))
    duration_ms = np.where(ok, ttft_ms + generation_ms, error_ms)
    duration_ns = np.maximum(np.round(duration_ms * 1000), 1).astype(np.int64) * 1000
    duration_ns += rng.integers(0, 1000, n)
    streaming = rng.random(n) < t.streaming_share
    ttft_s = np.where(ok & streaming, np.round(ttft_ms * 1000) / 1e6, np.nan)
    return {"duration_ns": duration_ns, "streaming": streaming, "ttft_s": ttft_s}


def _strings(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array(values, pa.string(), mask=None if valid is None else ~valid)
