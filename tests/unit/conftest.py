"""Fixtures shared by the ingest unit tests: a real DuckDB file, a started writer, and the
normalization tables put back after a test extends them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest import normalize
from ingest.writer import BatchWriter
from warehouse.db import Warehouse


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    wh = Warehouse.open(tmp_path / "unit.duckdb")
    yield wh
    wh.close()


@pytest.fixture
def writer(warehouse: Warehouse) -> Iterator[BatchWriter]:
    w = BatchWriter(warehouse)
    w.start()
    yield w
    w.stop()


@pytest.fixture
def restore_alias_tables() -> Iterator[None]:
    tables = (normalize.PROVIDER_ALIASES, normalize.MODEL_ALIASES, normalize.APP_ALIASES)
    saved = [dict(table) for table in tables]
    yield
    for table, before in zip(tables, saved, strict=True):
        table.clear()
        table.update(before)
    normalize.normalize_provider.cache_clear()
    normalize.normalize_model.cache_clear()
