# cython: language_level=3, boundscheck=False, wraparound=False
"""The fast path of span mapping: decoded spans → request rows (tuples in the order of
`ingest.record.REQUEST_SCHEMA`), ready for one Arrow array per column.

The reference (`ingest.spans.map_spans`) builds a `SpanFields` and a record dict per request,
which Arrow then reads row by row: most of ingest's CPU at tens of thousands of spans a second.
Here a span the generic GenAI convention reads (most OTLP traffic) is read in one pass over its
attributes into slots and becomes its row directly. Every other span goes the reference way, in
its place: one another convention could claim (a key, name or resource that convention looks
for), one with output messages or tool definitions to read, or one with an attribute whose value
is empty. Rows come out in span order, with the warnings the reference counts.
`tests/unit/test_span_rows.py` holds both to the same tables and warnings.
"""

from libc.math cimport isfinite

from ingest.coerce import MAX_COUNT, to_bool, to_count, to_float, to_text
from ingest.conventions import genai, litellm_otel, openinference, openllmetry, vercel
from ingest.conventions.span_record import (
    AttributeReader,
    build_record,
    exception_signals,
    span_times,
)
from ingest.normalize import (
    classify_error,
    normalize_finish_reason,
    normalize_model,
    normalize_provider,
)
from ingest.otlp import STATUS_CODE_ERROR
from ingest.record import REQUEST_SCHEMA
from ingest.spans import convention_of

# The attribute groups the GenAI reading takes (first present key of a group wins), in slots.
cdef tuple GROUPS = (
    ("gen_ai.operation.name",),
    genai.PROVIDER_KEYS,
    genai.MODEL_KEYS,
    genai.INPUT_TOKEN_KEYS,
    genai.OUTPUT_TOKEN_KEYS,
    genai.REASONING_KEYS,
    genai.CACHE_READ_KEYS,
    genai.CACHE_WRITE_KEYS,
    genai.TTFT_SECONDS_KEYS,
    ("gen_ai.response.id",),
    ("error.type",),
    genai.HTTP_STATUS_KEYS,
    genai.USER_KEYS,
    genai.SESSION_KEYS,
    (genai.REASONING_LEVEL_KEY,),
    (genai.STREAM_KEY,),
    (genai.SERVER_ADDRESS_KEY,),
    ("gen_ai.response.finish_reasons",),
)
cdef enum:
    OPERATION, PROVIDER, MODEL, INPUT, OUTPUT, REASONING, CACHE_READ, CACHE_WRITE, TTFT
    RESPONSE_ID, ERROR_TYPE, HTTP_STATUS, USER, SESSION, REASONING_LEVEL, STREAM, SERVER
    FINISH_REASONS, GROUP_COUNT

# A key equal to or starting with one of these may let a convention ahead of the generic one
# claim the span (`ingest.spans.CONVENTIONS`): such a span goes the reference way.
CLAIM_KEY_PREFIXES = (
    openinference.KIND,
    vercel.LEGACY_KEY,
    *vercel.SDK_KEY_PREFIXES,
    litellm_otel.STREAMING_KEY,
    litellm_otel.METADATA_PREFIX,
    openllmetry.REQUEST_TYPE_KEY,
    *openllmetry.MARKER_PREFIXES,
)
# Keys whose reading needs the reference (messages, tool definitions, the singular finish).
REFERENCE_KEYS = ("gen_ai.output.messages", "gen_ai.tool.definitions", "gen_ai.response.finish_reason")


def _slot_table():
    """key → (group, position in the group); -1 for a key only the reference reads."""
    table = {}
    for group, keys in enumerate(GROUPS):
        for position, key in enumerate(keys):
            if not key.startswith(CLAIM_KEY_PREFIXES):
                table[key] = (group, position)
    for key in REFERENCE_KEYS:
        table[key] = -1
    return table


cdef dict SLOT_OF = _slot_table()
cdef tuple LLM_MARKER_SLOTS = tuple(SLOT_OF[key] for key in genai.LLM_MARKERS)
cdef frozenset LLM_OPERATIONS = genai.LLM_OPERATIONS
cdef str TOOL_OPERATION = genai.TOOL_OPERATION
cdef frozenset SDK_FINISH_SPELLINGS = vercel.SDK_FINISH_SPELLINGS
cdef object OPENROUTER_SERVICE = "openrouter"
cdef tuple COLUMN_NAMES = tuple(REQUEST_SCHEMA.names)
cdef object SOURCE = genai.SOURCE
cdef object MAX_COUNT_ = MAX_COUNT

cdef enum Role:
    NOT_A_REQUEST, LLM, TOOL


cdef class _Span:
    """One GenAI request span read into its slots (each group's values by position)."""
    cdef object view
    cdef list slots  # per group: None, or a list of the group's values by key position
    cdef list reasons


cdef class _Reference:
    """A request span the reference convention reads."""
    cdef object view
    cdef object convention


cdef inline object _first(list slots, int group):
    """The group's first present value, as `AttributeReader.first` finds it."""
    cdef object values = slots[group]
    if values is None:
        return None
    for value in <list>values:
        if value is not None:
            return value
    return None


cdef inline object _text(list slots, int group):
    cdef object value = _first(slots, group)
    if value is None:
        return None
    if type(value) is str:
        return value if value else None
    return to_text(value)


cdef inline object _converted(int group, object raw, object convert, object warnings):
    value = convert(raw)
    if value is None:
        warnings["invalid " + (<tuple>GROUPS[group])[0]] += 1
    return value


cdef inline object _count(list slots, int group, object warnings):
    cdef object raw = _first(slots, group)
    if raw is None:
        return None
    if type(raw) is int and 0 <= raw <= MAX_COUNT_:
        return raw
    return _converted(group, raw, to_count, warnings)


cdef inline object _seconds_as_ms(list slots, int group, object warnings):
    cdef object raw = _first(slots, group)
    cdef double seconds
    if raw is None:
        return None
    if type(raw) is float:
        seconds = raw
        if isfinite(seconds) and seconds >= 0:
            return seconds * 1000.0
    value = _converted(group, raw, to_float, warnings)
    return value * 1000.0 if value is not None else None


cdef inline object _flag(list slots, int group, object warnings):
    cdef object raw = _first(slots, group)
    if raw is None:
        return None
    if type(raw) is bool:
        return raw
    return _converted(group, raw, to_bool, warnings)


cdef list _finish_reasons(object raw, dict attributes):
    if raw is None:
        return []
    if type(raw) is list:
        return [str(r) for r in <list>raw if r is not None and r != ""]
    return genai.finish_reasons(attributes)


cdef bint _reference_name(str name, dict memo):
    """Whether a span name alone lets a convention ahead of the generic one claim the span."""
    known = memo.get(name)
    if known is None:
        known = memo[name] = (
            name.startswith(vercel.LEGACY_NAME_PREFIX)
            or name == litellm_otel.SPAN_NAME
            or openllmetry.vendor_span_name(name)
        )
    return known


cdef object _read(object view, dict name_memo):
    """For a span the generic GenAI reading takes as the reference would: a `_Span` (its
    slots) when it is a request, else its role (TOOL or NOT_A_REQUEST). None when the
    reference must read the span."""
    cdef dict attributes = view.attributes
    cdef list slots = [None] * GROUP_COUNT
    cdef object where, values
    cdef int group, position
    cdef str name = view.name
    if _reference_name(name, name_memo):
        return None
    if view.resource.get("service.name") == OPENROUTER_SERVICE:
        return None
    for key, value in attributes.items():
        where = SLOT_OF.get(key)
        if where is None:
            # (a NUL in a key could match a prefix in `SpanView.has_key_prefix`'s joined keys)
            if (<str>key).startswith(CLAIM_KEY_PREFIXES) or "\0" in <str>key:
                return None
            continue
        if where == -1 or value is None:
            return None  # read by the reference only; an empty value: a key present as None
        group, position = <tuple>where
        values = slots[group]
        if values is None:
            values = slots[group] = [None] * len(<tuple>GROUPS[group])
        (<list>values)[position] = value
    operation = _first(slots, OPERATION)
    if operation is not None and type(operation) is not str:
        return None
    reasons = _finish_reasons(_first(slots, FINISH_REASONS), attributes)
    if not SDK_FINISH_SPELLINGS.isdisjoint(reasons):
        return None  # the AI SDK's spellings: its GenAI integration claims the span
    cdef Role role = NOT_A_REQUEST
    if operation == TOOL_OPERATION or name.startswith("execute_tool"):
        role = TOOL
    elif operation in LLM_OPERATIONS:
        role = LLM
    elif operation is None:
        for group, position in LLM_MARKER_SLOTS:
            values = slots[group]
            if values is not None and (<list>values)[position] is not None:
                role = LLM
                break
    if role != LLM:
        return role
    span = _Span()
    span.view = view
    span.slots = slots
    span.reasons = reasons
    return span


cdef tuple _row(_Span span, int children, long long ingested_at_us, object tenant, object warnings):
    """`span_record.build_record` over `genai.fields`, for a span `_read` took."""
    cdef list slots = span.slots
    view = span.view
    # In the reference's order, so that warnings are counted in the same order.
    provider_raw = _text(slots, PROVIDER)
    model_raw = _text(slots, MODEL)
    input_tokens = _count(slots, INPUT, warnings)
    output_tokens = _count(slots, OUTPUT, warnings)
    reasoning_tokens = _count(slots, REASONING, warnings)
    cached_input_tokens = _count(slots, CACHE_READ, warnings)
    cache_write_tokens = _count(slots, CACHE_WRITE, warnings)
    ttft_ms = _seconds_as_ms(slots, TTFT, warnings)
    response_id = _text(slots, RESPONSE_ID)
    error_signal = _text(slots, ERROR_TYPE)
    http_status = _count(slots, HTTP_STATUS, warnings)
    user_id = _text(slots, USER)
    session_id = _text(slots, SESSION)
    reasoning_level = _text(slots, REASONING_LEVEL)
    stream = _flag(slots, STREAM, warnings)
    server_address = _text(slots, SERVER)
    started_at, duration_ms = span_times(view, ingested_at_us * 1000, warnings)
    if view.events:
        event_signals, exception_failed = exception_signals(view)
    else:
        event_signals, exception_failed = (), False
    cdef bint is_error = (
        view.status_code == STATUS_CODE_ERROR
        or exception_failed
        or bool(error_signal)
        or (http_status is not None and http_status >= 400)
    )
    native = span.reasons[0] if span.reasons else None
    finish_reason = normalize_finish_reason(native, has_tool_calls=children > 0, is_error=is_error)
    trace_id = view.trace_id
    span_id = view.span_id
    return (
        response_id or f"{trace_id}:{span_id}",
        trace_id,
        span_id,
        view.parent_span_id or None,
        started_at,
        duration_ms,
        ttft_ms,
        normalize_provider(provider_raw),
        provider_raw,
        normalize_model(model_raw),
        model_raw,
        finish_reason,
        native,
        input_tokens,
        output_tokens,
        reasoning_tokens,
        cached_input_tokens,
        cache_write_tokens,
        None if children == 0 and finish_reason == "tool_calls" else children,
        "error" if is_error else "ok",
        classify_error(error_signal, *event_signals, http_status=http_status) if is_error else None,
        http_status,
        to_text(view.resource.get("service.name")),
        user_id,
        session_id,
        tenant,
        SOURCE,
        ingested_at_us,
        None,  # tool_calls_valid: the generic reading reports no calls without output messages
        None,
        None,
        None,
        None,  # cost_usd
        reasoning_level,
        stream,
        server_address,
    )


def request_rows(list views, long long ingested_at_us, object tenant, object warnings):
    """(request rows in span order, tool-execution spans, how many of the rows the reference
    read) as `ingest.spans.map_spans` maps `views`, its warnings counted into `warnings`."""
    cdef list requests = []
    cdef list tool_spans = []
    cdef dict name_memo = {}
    cdef dict children = {}
    cdef _Reference reference
    cdef Py_ssize_t by_reference = 0
    for view in views:
        read = _read(view, name_memo)
        if read is None:
            convention = convention_of(view)
            role = convention.role(view)
            if role == "llm":
                reference = _Reference()
                reference.view = view
                reference.convention = convention
                requests.append(reference)
                by_reference += 1
                continue
            read = TOOL if role == "tool" else NOT_A_REQUEST
        if type(read) is _Span:
            requests.append(read)
        elif read == TOOL and view.parent_span_id:
            start_ns = view.start_ns
            tool_spans.append(
                {
                    "trace_id": view.trace_id,
                    "span_id": view.span_id,
                    "parent_span_id": view.parent_span_id,
                    "started_at": start_ns // 1000 if start_ns > 0 else None,
                }
            )
            # Tool executions count toward the request span that triggered them (their parent).
            parent = (view.trace_id, view.parent_span_id)
            children[parent] = children.get(parent, 0) + 1
    cdef list rows = []
    for request in requests:
        view = (<_Span>request).view if type(request) is _Span else (<_Reference>request).view
        count = children.get((view.trace_id, view.span_id), 0) if children else 0
        if type(request) is _Span:
            rows.append(_row(<_Span>request, count, ingested_at_us, tenant, warnings))
            continue
        reference = <_Reference>request
        record = build_record(
            view,
            reference.convention.fields(view, AttributeReader(view.attributes, warnings)),
            count,
            warnings,
            ingested_at_us=ingested_at_us,
        )
        if tenant is not None:
            record["tenant"] = tenant
        rows.append(tuple(map(record.get, COLUMN_NAMES)))
    return rows, tool_spans, by_reference
