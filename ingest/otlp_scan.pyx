# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The fast path of OTLP/protobuf trace decoding: one pass over the wire bytes straight into
`SpanView`s, without a protobuf message object per span, attribute and value.

It covers the bodies exporters send: well-formed, every span with 16/8-byte ids, every value
within the limits. Anything else (a truncated or unusual message, invalid UTF-8, a field
repeated where the reference would merge, a value a limit would cut, an id of the wrong size)
raises `Unusual`, and the caller decodes the body with the reference decoder
(`ingest.otlp.decode_traces_protobuf` over upb), which owns every error, rejection and cut.
`tests/unit/test_otlp_scan.py` holds both to the same views.
"""

from libc.string cimport memcpy


class Unusual(Exception):
    """Not a body for the fast path; the reference decoder reads it."""


cdef object UNUSUAL = Unusual
# Well below protobuf's own recursion limit (100 messages), which the reference enforces.
cdef int MAX_DEPTH = 64


cdef inline unsigned long long _varint(const unsigned char* b, Py_ssize_t* pos, Py_ssize_t end) except? 0xFFFFFFFFFFFFFFFF:
    cdef unsigned long long result = 0
    cdef int shift = 0
    cdef unsigned char byte
    while True:
        if pos[0] >= end or shift > 63:
            raise UNUSUAL()
        byte = b[pos[0]]
        pos[0] += 1
        result |= (<unsigned long long>(byte & 0x7F)) << shift
        if not (byte & 0x80):
            return result
        shift += 7


cdef inline unsigned long long _tag(const unsigned char* b, Py_ssize_t* pos, Py_ssize_t end) except? 0xFFFFFFFFFFFFFFFF:
    """A field's tag (number << 3 | wire type); field 0 and numbers past 2^29 are invalid."""
    cdef unsigned long long tag = _varint(b, pos, end)
    if (tag >> 3) == 0 or tag > 0xFFFFFFFF:
        raise UNUSUAL()
    return tag


cdef inline unsigned long long _fixed64(const unsigned char* b, Py_ssize_t* pos, Py_ssize_t end) except? 0xFFFFFFFFFFFFFFFF:
    cdef unsigned long long value
    if pos[0] + 8 > end:
        raise UNUSUAL()
    memcpy(&value, b + pos[0], 8)  # little-endian on the platforms we build for
    pos[0] += 8
    return value


cdef inline Py_ssize_t _length(const unsigned char* b, Py_ssize_t* pos, Py_ssize_t end) except -1:
    """The end of a length-delimited field that starts at pos."""
    cdef unsigned long long n = _varint(b, pos, end)
    if n > <unsigned long long>(end - pos[0]):
        raise UNUSUAL()
    return pos[0] + <Py_ssize_t>n


cdef inline int _skip(const unsigned char* b, Py_ssize_t* pos, Py_ssize_t end, int wire) except -1:
    if wire == 0:
        _varint(b, pos, end)
    elif wire == 1:
        if pos[0] + 8 > end:
            raise UNUSUAL()
        pos[0] += 8
    elif wire == 2:
        pos[0] = _length(b, pos, end)
    elif wire == 5:
        if pos[0] + 4 > end:
            raise UNUSUAL()
        pos[0] += 4
    else:
        raise UNUSUAL()  # groups: never in OTLP
    return 0


cdef inline str _text(const unsigned char* b, Py_ssize_t start, Py_ssize_t stop, Py_ssize_t max_chars):
    cdef str value
    try:
        value = (<const char*>b)[start:stop].decode("utf-8")
    except UnicodeDecodeError:
        raise UNUSUAL()
    if len(value) > max_chars:
        raise UNUSUAL()
    return value


cdef class _Limits:
    cdef Py_ssize_t max_attributes
    cdef int max_depth
    cdef Py_ssize_t max_chars


cdef object _any_value(const unsigned char* b, Py_ssize_t pos, Py_ssize_t end, int depth, _Limits limits):
    """AnyValue: the last oneof member on the wire wins, as in protobuf."""
    cdef object value = None
    cdef unsigned long long key, raw
    cdef int field, wire
    cdef Py_ssize_t stop
    cdef double number
    cdef long long signed_value
    while pos < end:
        key = _tag(b, &pos, end)
        field = <int>(key >> 3)
        wire = <int>(key & 7)
        if field == 1 and wire == 2:
            stop = _length(b, &pos, end)
            value = _text(b, pos, stop, limits.max_chars)
            pos = stop
        elif field == 2 and wire == 0:
            value = _varint(b, &pos, end) != 0
        elif field == 3 and wire == 0:
            raw = _varint(b, &pos, end)
            signed_value = <long long>raw
            value = signed_value
        elif field == 4 and wire == 1:
            raw = _fixed64(b, &pos, end)
            memcpy(&number, &raw, 8)
            value = number
        elif (field == 5 or field == 6) and wire == 2:
            if depth >= limits.max_depth:
                raise UNUSUAL()  # the reference cuts it and counts the cut
            stop = _length(b, &pos, end)
            value = _array(b, pos, stop, depth + 1, limits) if field == 5 else _attributes(b, pos, stop, depth + 1, limits)
            pos = stop
        elif field == 7 and wire == 2:
            stop = _length(b, &pos, end)
            if stop - pos > limits.max_chars:
                raise UNUSUAL()
            value = (<const char*>b)[pos:stop]
            pos = stop
        elif field <= 7:
            raise UNUSUAL()  # a known field with the wrong wire type
        else:
            _skip(b, &pos, end, wire)
    return value


cdef list _array(const unsigned char* b, Py_ssize_t pos, Py_ssize_t end, int depth, _Limits limits):
    cdef list values = []
    cdef unsigned long long key
    cdef Py_ssize_t stop
    while pos < end:
        key = _tag(b, &pos, end)
        if key == (1 << 3 | 2):
            stop = _length(b, &pos, end)
            values.append(_any_value(b, pos, stop, depth, limits))
            pos = stop
        elif (key >> 3) == 1:
            raise UNUSUAL()
        else:
            _skip(b, &pos, end, <int>(key & 7))
    if len(values) > limits.max_attributes:
        raise UNUSUAL()
    return values


cdef int _key_value(const unsigned char* b, Py_ssize_t pos, Py_ssize_t end, int depth, _Limits limits, dict out) except -1:
    """One KeyValue message into `out` (a repeated key: the last wins, as the reference's dict)."""
    cdef unsigned long long inner
    cdef Py_ssize_t stop, value_start = 0, value_stop = 0
    cdef str name = ""
    cdef bint has_value = False
    while pos < end:
        inner = _tag(b, &pos, end)
        if inner == (1 << 3 | 2):
            stop = _length(b, &pos, end)
            name = _text(b, pos, stop, 1 << 30)
            pos = stop
        elif inner == (2 << 3 | 2):
            if has_value:
                raise UNUSUAL()  # a repeated message field: protobuf would merge the two
            value_stop = _length(b, &pos, end)
            value_start = pos
            pos = value_stop
            has_value = True
        elif (inner >> 3) <= 2:
            raise UNUSUAL()
        else:
            _skip(b, &pos, end, <int>(inner & 7))
    out[name] = _any_value(b, value_start, value_stop, depth, limits) if has_value else None
    return 0


cdef dict _attributes(const unsigned char* b, Py_ssize_t pos, Py_ssize_t end, int depth, _Limits limits, bint resource=False):
    """A message whose field 1 is `repeated KeyValue` (KeyValueList, Resource) → dict. A
    Resource's entity references (field 3) hold strings protobuf checks: the slow way."""
    cdef dict out = {}
    cdef Py_ssize_t count = 0, stop
    cdef unsigned long long key
    while pos < end:
        key = _tag(b, &pos, end)
        if key == (1 << 3 | 2):
            stop = _length(b, &pos, end)
            count += 1
            if count > limits.max_attributes:
                raise UNUSUAL()  # the reference keeps the first ones and counts the cut
            _key_value(b, pos, stop, depth, limits, out)
            pos = stop
        elif (key >> 3) == 1 or (resource and (key >> 3) >= 3):
            raise UNUSUAL()
        else:
            _skip(b, &pos, end, <int>(key & 7))
    return out


cdef object _span(const unsigned char* b, Py_ssize_t pos, Py_ssize_t end, dict resource, _Limits limits, object view):
    cdef bytes trace_id = b"", span_id = b"", parent_id = b""
    cdef str name = "", status_message = ""
    cdef long long kind = 0, status_code = 0
    cdef unsigned long long start_ns = 0, end_ns = 0, key, inner
    cdef dict attributes = {}
    cdef Py_ssize_t attribute_count = 0
    cdef list events = []
    cdef int field, wire
    cdef Py_ssize_t stop, inner_pos, inner_stop
    cdef bint seen_status = False
    while pos < end:
        key = _tag(b, &pos, end)
        field = <int>(key >> 3)
        wire = <int>(key & 7)
        if wire == 2 and (field == 1 or field == 2 or field == 4 or field == 5 or field == 9 or field == 11 or field == 15):
            stop = _length(b, &pos, end)
            if field == 9:
                attribute_count += 1
                if attribute_count > limits.max_attributes:
                    raise UNUSUAL()
                _key_value(b, pos, stop, 0, limits, attributes)
            elif field == 1:
                trace_id = (<const char*>b)[pos:stop]
            elif field == 2:
                span_id = (<const char*>b)[pos:stop]
            elif field == 4:
                parent_id = (<const char*>b)[pos:stop]
            elif field == 5:
                name = _text(b, pos, stop, 1 << 30)
            elif field == 11:
                events.append(_event(b, pos, stop, limits))
            else:
                if seen_status:
                    raise UNUSUAL()
                seen_status = True
                inner_pos = pos
                while inner_pos < stop:
                    inner = _tag(b, &inner_pos, stop)
                    if inner == (2 << 3 | 2):
                        inner_stop = _length(b, &inner_pos, stop)
                        status_message = _text(b, inner_pos, inner_stop, 1 << 30)
                        inner_pos = inner_stop
                    elif inner == (3 << 3 | 0):
                        status_code = <long long>_varint(b, &inner_pos, stop)
                    elif (inner >> 3) == 2 or (inner >> 3) == 3:
                        raise UNUSUAL()
                    else:
                        _skip(b, &inner_pos, stop, <int>(inner & 7))
            pos = stop
        elif field == 3 and wire == 2:  # trace_state: not read, but a string protobuf checks
            stop = _length(b, &pos, end)
            _text(b, pos, stop, 1 << 30)
            pos = stop
        elif field == 13:
            raise UNUSUAL()  # links carry attributes of their own: the reference checks them
        elif field == 6 and wire == 0:
            kind = <long long>_varint(b, &pos, end)
        elif field == 7 and wire == 1:
            start_ns = _fixed64(b, &pos, end)
        elif field == 8 and wire == 1:
            end_ns = _fixed64(b, &pos, end)
        elif field == 1 or field == 2 or (4 <= field <= 9) or field == 11 or field == 15:
            raise UNUSUAL()
        else:
            _skip(b, &pos, end, wire)
    if len(trace_id) != 16 or len(span_id) != 8 or (len(parent_id) != 0 and len(parent_id) != 8):
        raise UNUSUAL()  # the reference rejects such a span by name
    if kind < -2147483648 or kind > 2147483647 or status_code < -2147483648 or status_code > 2147483647:
        raise UNUSUAL()
    return view(
        trace_id.hex(),
        span_id.hex(),
        parent_id.hex(),
        name,
        <int>kind,
        start_ns,
        end_ns,
        <int>status_code,
        status_message,
        attributes,
        resource,
        events,
    )


cdef tuple _event(const unsigned char* b, Py_ssize_t pos, Py_ssize_t end, _Limits limits):
    cdef str name = ""
    cdef dict attributes = {}
    cdef Py_ssize_t count = 0, stop
    cdef unsigned long long key
    while pos < end:
        key = _tag(b, &pos, end)
        if key == (2 << 3 | 2):
            stop = _length(b, &pos, end)
            name = _text(b, pos, stop, 1 << 30)
            pos = stop
        elif key == (3 << 3 | 2):
            stop = _length(b, &pos, end)
            count += 1
            if count > limits.max_attributes:
                raise UNUSUAL()
            _key_value(b, pos, stop, 0, limits, attributes)
            pos = stop
        elif (key >> 3) == 2 or (key >> 3) == 3:
            raise UNUSUAL()
        else:
            _skip(b, &pos, end, <int>(key & 7))
    return (name, attributes)


cdef int _scope(const unsigned char* b, Py_ssize_t pos, Py_ssize_t end) except -1:
    """InstrumentationScope: its name and version must be UTF-8; attributes go the slow way."""
    cdef unsigned long long key
    cdef Py_ssize_t stop
    while pos < end:
        key = _tag(b, &pos, end)
        if key == (1 << 3 | 2) or key == (2 << 3 | 2):
            stop = _length(b, &pos, end)
            _text(b, pos, stop, 1 << 30)
            pos = stop
        elif (key >> 3) <= 3:
            raise UNUSUAL()
        else:
            _skip(b, &pos, end, <int>(key & 7))
    return 0


def decode_traces(bytes body, object limits, object view):
    """`ExportTraceServiceRequest` bytes → a list of `view(...)` (SpanView) in wire order;
    raises `Unusual` for any body the reference decoder must read."""
    cdef const unsigned char* b = <const unsigned char*>body
    cdef Py_ssize_t end = len(body), pos = 0, stop, rs_pos, ss_pos, ss_stop, span_stop, r_stop
    cdef unsigned long long key, inner
    cdef _Limits lim = _Limits()
    cdef list spans = []
    cdef list scopes
    cdef dict resource
    cdef bint seen_resource
    if limits.max_depth > MAX_DEPTH:
        raise UNUSUAL()  # protobuf's own nesting limit would answer first
    lim.max_attributes = limits.max_attributes
    lim.max_depth = limits.max_depth
    lim.max_chars = limits.max_chars
    while pos < end:
        key = _tag(b, &pos, end)
        if key != (1 << 3 | 2):
            if (key >> 3) == 1:
                raise UNUSUAL()
            _skip(b, &pos, end, <int>(key & 7))
            continue
        stop = _length(b, &pos, end)
        # ResourceSpans: its resource (field 1) may come after its scopes on the wire.
        resource = {}
        seen_resource = False
        scopes = []
        rs_pos = pos
        while rs_pos < stop:
            inner = _tag(b, &rs_pos, stop)
            if inner == (1 << 3 | 2):
                if seen_resource:
                    raise UNUSUAL()
                seen_resource = True
                r_stop = _length(b, &rs_pos, stop)
                resource = _attributes(b, rs_pos, r_stop, 0, lim, True)
                rs_pos = r_stop
            elif inner == (2 << 3 | 2):
                ss_stop = _length(b, &rs_pos, stop)
                scopes.append((rs_pos, ss_stop))
                rs_pos = ss_stop
            elif inner == (3 << 3 | 2):  # schema_url
                r_stop = _length(b, &rs_pos, stop)
                _text(b, rs_pos, r_stop, 1 << 30)
                rs_pos = r_stop
            elif (inner >> 3) <= 3:
                raise UNUSUAL()
            else:
                _skip(b, &rs_pos, stop, <int>(inner & 7))
        for ss_pos, ss_stop in scopes:
            while ss_pos < ss_stop:
                inner = _tag(b, &ss_pos, ss_stop)
                if inner == (2 << 3 | 2):
                    span_stop = _length(b, &ss_pos, ss_stop)
                    spans.append(_span(b, ss_pos, span_stop, resource, lim, view))
                    ss_pos = span_stop
                elif inner == (1 << 3 | 2):  # the scope: not read, but checked as protobuf does
                    span_stop = _length(b, &ss_pos, ss_stop)
                    _scope(b, ss_pos, span_stop)
                    ss_pos = span_stop
                elif inner == (3 << 3 | 2):  # schema_url
                    span_stop = _length(b, &ss_pos, ss_stop)
                    _text(b, ss_pos, span_stop, 1 << 30)
                    ss_pos = span_stop
                elif (inner >> 3) <= 3:
                    raise UNUSUAL()
                else:
                    _skip(b, &ss_pos, ss_stop, <int>(inner & 7))
        pos = stop
    return spans
