"""Plain HTML tables for the pages, and the cell formats they share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dash import html

Row = dict[str, Any]

MISSING = "—"


@dataclass(frozen=True, slots=True)
class Column:
    label: str
    render: Callable[[Row], Any]
    numeric: bool = False


def data_table(
    table_id: str,
    columns: Sequence[Column],
    rows: Sequence[Row],
    *,
    row_class: Callable[[Row], str | None] | None = None,
) -> html.Table:
    """A header row and one row per record; numeric columns are right-aligned."""

    def cell(tag: type[html.Th] | type[html.Td], column: Column, content: Any) -> Any:
        return tag(content, className="num" if column.numeric else None)

    header = html.Tr([cell(html.Th, column, column.label) for column in columns])
    body = [
        html.Tr(
            [cell(html.Td, column, column.render(row)) for column in columns],
            className=row_class(row) if row_class else None,
        )
        for row in rows
    ]
    return html.Table([html.Thead(header), html.Tbody(body)], id=table_id, className="data-table")


def format_ms(value: float | None) -> str:
    return MISSING if value is None else f"{value:,.0f} ms"


def format_number(value: float | None, digits: int = 0) -> str:
    return MISSING if value is None else f"{value:,.{digits}f}"


def format_minute(value: datetime | None) -> str:
    return MISSING if value is None else f"{value:%Y-%m-%d %H:%M}"
