"""Lake mode: stateless ingest nodes write Parquet segments to shared storage, and the batch
jobs run per ISO week on Ray over those segments (see `docs/scaling.md`).

Layout of a lake (a local folder or an `s3://` URL):

    _lake.json                          format marker, written once by whoever comes first
    requests/day=YYYY-MM-DD/*.parquet   request rows, one file per commit and day
    tool_spans/day=YYYY-MM-DD/*.parquet tool-execution spans, likewise
    _nodes/<node>.json                  each ingest node's manifest (its own file: no lock)
    _views/requests/week=YYYY-MM-DD/part.parquet
                                        the deduplicated rows of a week, written by the jobs
"""
