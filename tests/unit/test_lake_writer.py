"""The lake writer: one complete file per commit and day, its manifest, and the single
writer's answers (a submission that does not fit fails alone)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from lake.layout import REQUESTS
from lake.manifest import read_manifests
from lake.query import lake_connection
from lake.store import LakeStore
from lake.writer import LakeWriter
from tests.unit.test_writer import T0_US, req, table

DAY_US = 86_400_000_000


def test_a_commit_is_one_file_per_day_and_the_manifest_counts_it(tmp_path: Path) -> None:
    store = LakeStore(str(tmp_path / "lake"))
    writer = LakeWriter(store, node="n1")
    writer.start()
    rows = table(req("a"), req("b", started_at=T0_US + DAY_US), req("c", started_at=None))
    assert writer.submit(rows).result(10).rows == 3
    writer.stop()
    days = store.list_dirs(REQUESTS)
    assert len(days) == 3 and "day=unknown" in days
    files = store.list_files(REQUESTS)
    assert len(files) == 3 and all("-n1-00000001.parquet" in f.name for f in files)
    assert not [p for p in (tmp_path / "lake").rglob(".*") if p.is_file()]  # no temp files
    [manifest] = read_manifests(store)
    assert (manifest.node, manifest.commits, manifest.request_rows) == ("n1", 1, 3)
    assert manifest.stopped_at is not None
    con = lake_connection(store)
    assert con.sql("SELECT count(*) FROM requests_raw").fetchall() == [(3,)]
    assert con.sql("SELECT node FROM lake_nodes").fetchall() == [("n1",)]


def test_a_submission_that_does_not_fit_fails_alone(tmp_path: Path) -> None:
    store = LakeStore(str(tmp_path / "lake"))
    writer = LakeWriter(store)
    bad = pa.table({"request_id": ["x"], "started_at": ["not a time"]})
    good = writer.submit(table(req("a")))
    wrong = writer.submit(bad)
    writer.start()
    assert good.result(10).rows == 1
    with pytest.raises((pa.ArrowInvalid, ValueError, TypeError)):
        wrong.result(10)
    writer.stop()
    assert writer.stats.failed_rows == 1 and writer.stats.stored_rows == 1
