"""Fixtures shared by the ingest unit tests: a real DuckDB file and a started writer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
