"""Query results to the terminal or a pipe: an aligned table, CSV or JSON lines."""

from __future__ import annotations

from typing import TextIO

import orjson
import polars as pl
import pyarrow as pa


def write_table(table: pa.Table, output_format: str, out: TextIO) -> None:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    if output_format == "csv":
        out.write(frame.write_csv())
    elif output_format == "json":
        for row in frame.iter_rows(named=True):
            out.write(orjson.dumps(row, default=str).decode() + "\n")
    else:
        with pl.Config(
            tbl_rows=1000,
            tbl_cols=-1,
            tbl_width_chars=200,
            fmt_str_lengths=80,
            tbl_hide_dataframe_shape=True,
            tbl_hide_column_data_types=False,
        ):
            out.write(f"{frame}\n")
