"""The canonical request record as the ingest path builds it: a dict per request, batched
into an Arrow table whose schema is derived from `warehouse.schema.REQUESTS_COLUMNS`."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from ingest.limits import VALUE_OUT_OF_RANGE, count_cut
from ingest.normalize import APP_ALIASES
from warehouse.schema import REQUESTS_COLUMNS

_ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "DOUBLE": pa.float64(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "BOOLEAN": pa.bool_(),
}

REQUEST_SCHEMA: pa.Schema = pa.schema(
    [pa.field(c.name, _ARROW_TYPES[c.sql_type]) for c in REQUESTS_COLUMNS]
)

TOOL_SPAN_SCHEMA: pa.Schema = pa.schema(
    [
        pa.field("trace_id", pa.string(), nullable=False),
        pa.field("span_id", pa.string(), nullable=False),
        pa.field("parent_span_id", pa.string(), nullable=False),
        pa.field("started_at", pa.timestamp("us", tz="UTC")),
    ]
)

# A record is a plain dict keyed by column name; missing keys are NULL. Timestamps are
# integer microseconds since the epoch (UTC), which Arrow takes without conversion.
Record = dict[str, Any]


_INTEGER_BOUNDS: dict[str, tuple[int, int]] = {
    f.name: (-(2 ** (f.type.bit_width - 1)), 2 ** (f.type.bit_width - 1) - 1)
    for f in REQUEST_SCHEMA
    if pa.types.is_signed_integer(f.type)
}


def records_to_table(records: list[Record]) -> pa.Table:
    try:
        table = pa.Table.from_pylist(records, schema=REQUEST_SCHEMA)
    except (pa.ArrowInvalid, OverflowError):  # a number too large: `rows_to_table` fits it
        return rows_to_table([tuple(map(r.get, REQUEST_SCHEMA.names)) for r in records])
    return _map_apps(table) if APP_ALIASES and table.num_rows else table


def rows_to_table(rows: list[tuple[Any, ...]]) -> pa.Table:
    """Rows (one tuple per request, in `REQUEST_SCHEMA`'s column order) → the table."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(REQUEST_SCHEMA)
    try:
        arrays = [pa.array(c, type=f.type) for c, f in zip(columns, REQUEST_SCHEMA, strict=True)]
    except (pa.ArrowInvalid, OverflowError):
        # A number too large for its column costs that field (NULL, counted), not the batch.
        arrays = [
            pa.array(_fitted(c, f.name), type=f.type)
            for c, f in zip(columns, REQUEST_SCHEMA, strict=True)
        ]
    table = pa.Table.from_arrays(arrays, schema=REQUEST_SCHEMA)
    return _map_apps(table) if APP_ALIASES and table.num_rows else table


def _map_apps(table: pa.Table) -> pa.Table:
    """The user's app mappings, once per distinct app name in the batch."""
    encoded = table["app"].combine_chunks().dictionary_encode()
    names = [APP_ALIASES.get(name, name) for name in encoded.dictionary.to_pylist()]
    mapped = pa.DictionaryArray.from_arrays(encoded.indices, pa.array(names, pa.string()))
    index = table.schema.get_field_index("app")
    return table.set_column(index, table.schema.field(index), mapped.cast(pa.string()))


def _fitted(column: tuple[Any, ...], name: str) -> tuple[Any, ...]:
    bounds = _INTEGER_BOUNDS.get(name)
    if bounds is None:
        return column
    low, high = bounds
    fitted = []
    for value in column:
        if isinstance(value, int) and not low <= value <= high:
            value = None
            count_cut(VALUE_OUT_OF_RANGE)
        fitted.append(value)
    return tuple(fitted)


def tool_spans_to_table(tool_spans: list[Record]) -> pa.Table:
    return pa.Table.from_pylist(tool_spans, schema=TOOL_SPAN_SCHEMA)
