"""Per-request details that only the wire formats carry: ids, raw spellings, error names,
who sent it, invoke_agent wrappers and execute_tool children. Column-wise, like the generator."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from sample_data.catalogue import APPS, DEFAULT_ERROR_NAMES, ERRORS, RAW_MODEL_NAMES
from sample_data.truths import PlantedTruths

HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
ALNUM = np.frombuffer(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", dtype=np.uint8
)


def lookup(values: np.ndarray, mapping: dict) -> np.ndarray:
    """`mapping[value]` for every element, vectorised; every value must be a key."""
    keys = np.array(list(mapping))
    order = np.argsort(keys)
    position = np.searchsorted(keys, values, sorter=order).clip(0, len(keys) - 1)
    found = order[position]
    if len(values) and not (keys[found] == values).all():
        raise KeyError(f"no entry for {set(np.asarray(values)[keys[found] != values])}")
    return np.array(list(mapping.values()))[found]


def random_text(rng: np.random.Generator, n: int, length: int, alphabet: np.ndarray) -> np.ndarray:
    codes = alphabet[rng.integers(0, len(alphabet), size=(n, length))]
    return codes.view(f"S{length}").ravel().astype(f"U{length}")


def raw_models(model: np.ndarray, provider: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pair = np.char.add(np.char.add(model.astype(str), "|"), provider.astype(str))
    names = {f"{m}|{p}": raw for (m, p), raw in RAW_MODEL_NAMES.items()}
    return (
        lookup(pair, {k: v[0] for k, v in names.items()}),
        lookup(pair, {k: v[1] for k, v in names.items()}),
    )


def request_ids(
    rng: np.random.Generator,
    started_us: np.ndarray,
    otlp: np.ndarray,
    ok: np.ndarray,
    family: np.ndarray,
    provider: np.ndarray,
    trace_id: np.ndarray,
    span_id: np.ndarray,
) -> np.ndarray:
    """Provider response ids on ok spans, `trace_id:span_id` on failed ones, gateway ids
    (`gen-<unix seconds>-<random>`) on request-log rows."""
    n = len(ok)
    token = random_text(rng, n, 24, ALNUM)
    response_id = np.where(
        family == "anthropic",
        np.char.add(np.where(provider == "amazon-bedrock", "msg_bdrk_", "msg_"), token),
        np.where(family == "gemini", token, np.char.add("chatcmpl-", token)),
    )
    gateway_id = np.char.add(
        np.char.add("gen-", (started_us // 1_000_000).astype(str)), np.char.add("-", token)
    )
    span_ref = np.char.add(np.char.add(trace_id, ":"), span_id)
    return np.where(otlp, np.where(ok, response_id, span_ref), gateway_id)


def error_wire(error_type: np.ndarray, family: np.ndarray) -> tuple[np.ndarray, ...]:
    """`error.type` as the family's SDK spells it, http status (-1 = none) and status message
    of each failed request ('' for ok ones)."""
    names, statuses, messages = [], [], []
    for e, f in zip(error_type, family, strict=True):
        if e == "":
            names.append("")
            statuses.append(-1)
            messages.append("")
            continue
        by_family, status, message = ERRORS[e]
        names.append(by_family.get(f, DEFAULT_ERROR_NAMES.get(e, "")))
        statuses.append(-1 if status is None else status)
        messages.append(message)
    return np.array(names), np.array(statuses, dtype=np.int32), np.array(messages)


def agents(
    rng: np.random.Generator, app: np.ndarray, otlp: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """invoke_agent wrapper (name, span id) for a share of each agent app's spans."""
    n = len(app)
    share = lookup(app, {a.name: a.agent_share for a in APPS.values()})
    name = lookup(app, {a.name: a.agent or "" for a in APPS.values()})
    wrapped = otlp & (rng.random(n) < share)
    span_id = random_text(rng, n, 16, HEX)
    return np.where(wrapped, name, ""), np.where(wrapped, span_id, "")


def people(
    rng: np.random.Generator,
    t: PlantedTruths,
    app: np.ndarray,
    day: np.ndarray,
    start: dt.date,
    days: int,
) -> tuple[np.ndarray, np.ndarray]:
    """User and session ids ('' = not sent): users from a shared pool, a fresh session per
    interactive request, one session per night for the batch."""
    n = len(app)
    user_share = lookup(app, {a.name: a.user_share for a in APPS.values()})
    session_share = lookup(app, {a.name: a.session_share for a in APPS.values()})
    users = np.char.add("user-", np.char.zfill(rng.integers(1, 500, n).astype(str), 4))
    sessions = np.char.add("sess-", random_text(rng, n, 12, HEX))
    batch_dates = np.array([str(start + dt.timedelta(days=int(d))) for d in range(days)])
    sessions = np.where(app == t.batch_app, np.char.add("batch-", batch_dates[day]), sessions)
    user_id = np.where(rng.random(n) < user_share, users, "")
    session_id = np.where(rng.random(n) < session_share, sessions, "")
    return user_id, session_id


def _strings(values: np.ndarray) -> pa.Array:
    """One string array: pyarrow converts a large numpy string array in chunks (2 M items
    already), and a list array's values must be one array."""
    array = pa.array(values, pa.string())
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def tools(rng: np.random.Generator, app: np.ndarray, tool_calls: np.ndarray) -> dict[str, pa.Array]:
    """Name, span id and duration of each execute_tool child span, as list columns."""
    offsets = np.concatenate([[0], np.cumsum(tool_calls)]).astype(np.int32)
    total = int(offsets[-1])
    owner = np.repeat(np.arange(len(app)), tool_calls)
    names = np.empty(total, dtype=object)
    for spec in APPS.values():
        rows = np.flatnonzero(app[owner] == spec.name)
        names[rows] = np.array(spec.tools, dtype=object)[
            rng.integers(0, len(spec.tools), len(rows))
        ]
    span_ids = random_text(rng, total, 16, HEX)
    durations = (np.round(rng.lognormal(np.log(120), 0.9, total) * 1000) * 1000).astype(np.int64)
    return {
        "tool_names": pa.ListArray.from_arrays(offsets, _strings(names)),
        "tool_span_ids": pa.ListArray.from_arrays(offsets, _strings(span_ids)),
        "tool_durations_ns": pa.ListArray.from_arrays(offsets, pa.array(durations, pa.int64())),
    }
