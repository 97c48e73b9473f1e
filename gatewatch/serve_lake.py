"""`gatewatch serve --lake DIR|s3://...`: a stateless ingest node.

The same ingest API (OTLP/HTTP, request logs, OTLP/gRPC, auth, limits, /metrics) as `serve`,
with the lake's writer in place of the database's: every acknowledged row is in a complete,
fsynced Parquet segment of the lake. No database, no jobs, no dashboard: any number of nodes
can run on one lake (`gatewatch lake jobs` computes the metrics from it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import uvicorn

from gatewatch.errors import GatewatchError
from gatewatch.serve import ingest_server_config, ingest_settings
from ingest.app import create_app as create_ingest_app
from ingest.grpc_server import start_grpc_receiver
from ingest.metrics import IngestMetrics
from ingest.prepare_pool import make_preparer
from lake.manifest import LakeFormatError, new_node_id
from lake.store import LakeStore
from lake.writer import LakeWriter


@dataclass(frozen=True, slots=True)
class LakeNodeOptions:
    lake: str
    host: str
    ingest_port: int
    grpc_port: int  # 0 = off
    max_body_bytes: int
    ingest_workers: int
    node: str | None = None  # a name for the node id (default: the host name)


def serve_lake_node(options: LakeNodeOptions, *, say: Callable[[str], None] = print) -> None:
    settings = ingest_settings(options.max_body_bytes)
    try:
        store = LakeStore(options.lake)
    except (ValueError, OSError) as e:  # e.g. an S3 option pyarrow does not know
        raise GatewatchError(f"lake URI: {e}") from e
    writer = LakeWriter(store, node=new_node_id(options.node))
    try:
        writer.start()
    except (LakeFormatError, OSError) as e:  # e.g. no such bucket, no credentials
        raise GatewatchError(f"lake {store.shown}: {e}") from e
    metrics = IngestMetrics(writer)  # type: ignore[arg-type]  # the writer's interface
    preparer = make_preparer(options.ingest_workers)
    app = create_ingest_app(
        writer,  # type: ignore[arg-type]
        settings,
        health=lambda: {
            "lake": store.shown,
            "node": writer.node,
            "stored_rows": writer.stats.stored_rows,
        },
        metrics=metrics,
        preparer=preparer,
    )
    config = ingest_server_config(app, options.host, options.ingest_port)
    server = uvicorn.Server(config)
    grpc_receiver = None
    try:
        socket = config.bind_socket()
        if options.grpc_port:
            try:
                grpc_receiver = start_grpc_receiver(
                    writer,  # type: ignore[arg-type]
                    settings,
                    metrics,
                    host=options.host,
                    port=options.grpc_port,
                    preparer=preparer,
                )
            except RuntimeError as e:
                raise GatewatchError(
                    f"OTLP/gRPC port {options.host}:{options.grpc_port}: {e}"
                ) from e
        say(f"ingest     http://{options.host}:{options.ingest_port}  (OTLP/HTTP, /v1/requests)")
        if grpc_receiver is not None:
            say(f"ingest     grpc://{options.host}:{grpc_receiver.port}  (OTLP/gRPC)")
        say(f"lake       {store.shown} (node {writer.node})")
        server.run(sockets=[socket])
    finally:
        if grpc_receiver is not None:
            grpc_receiver.stop()
        preparer.close()
        writer.stop()
