"""A warehouse file filled with generated sample traffic (the expected canonical rows, as
ingest stores them) and the batch jobs run: the planted truths of `sample_data.truths`
are then in every derived table."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa

from analytics.jobs import run_jobs
from sample_data.generator import SampleTraffic, generate
from sample_data.truths import TRUTHS, PlantedTruths
from warehouse.db import Warehouse

END = dt.date(2026, 3, 1)


def planted_warehouse(
    path: Path | str, *, days: int, seed: int, per_day: int, truths: PlantedTruths = TRUTHS
) -> SampleTraffic:
    traffic = generate(days, end=END, seed=seed, requests_per_day=per_day, truths=truths)
    stamped = traffic.requests.set_column(
        traffic.requests.schema.get_field_index("ingested_at"),
        "ingested_at",
        pa.array(
            [dt.datetime.combine(END, dt.time(23, 59), dt.UTC)] * traffic.requests.num_rows,
            pa.timestamp("us", tz="UTC"),
        ),
    )
    warehouse = Warehouse.open(path)
    try:
        warehouse.connection.register("generated", stamped)
        warehouse.connection.execute("INSERT INTO requests BY NAME SELECT * FROM generated")
        warehouse.connection.unregister("generated")
        run_jobs(warehouse.connection)
    finally:
        warehouse.close()
    return traffic
