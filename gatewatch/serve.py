"""`gatewatch serve`: one process that owns the database and runs everything against it —
ingest API, single writer, scheduled batch jobs, dashboard."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from werkzeug.serving import BaseWSGIServer, make_server

from analytics.settings import AnalyticsSettings
from dashboard.app import create_app as create_dashboard
from dashboard.auth import DashboardAccess
from dashboard.auth.settings import AuthSettings
from gatewatch import config
from gatewatch.admin import admin_router
from gatewatch.alerts.rules import AlertRule
from gatewatch.alerts.service import AlertHook
from gatewatch.dashboard_access import plan_access
from gatewatch.errors import GatewatchError
from gatewatch.jobs import JobRunner
from gatewatch.metric_gauges import WarehouseGauges
from gatewatch.weekly_reports import WeeklyReportSchedule
from ingest.app import IngestSettings
from ingest.app import create_app as create_ingest_app
from ingest.auth import parse_tokens
from ingest.grpc_server import GrpcReceiver, start_grpc_receiver
from ingest.limits import (
    DEFAULT_MAX_ATTRIBUTES,
    DEFAULT_MAX_VALUE_CHARS,
    DEFAULT_MAX_VALUE_DEPTH,
    ValueLimits,
)
from ingest.metrics import IngestMetrics
from ingest.prepare_pool import (
    Preparer,
    ProcessPreparer,
    freeze_startup_objects,
    make_preparer,
)
from ingest.writer import BatchWriter
from warehouse.db import Warehouse
from warehouse.ownership import new_admin_token, publish_owner, withdraw_owner
from warehouse.retention_settings import RetentionSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServeOptions:
    db: str
    host: str
    ingest_port: int
    dashboard_port: int
    grpc_port: int  # OTLP/gRPC; 0 = off
    jobs_every_seconds: float
    max_body_bytes: int
    ingest_workers: int  # processes decoding bodies; 0 = in the serving process
    reports_dir: Path  # where the weekly report is written every Monday
    analytics: AnalyticsSettings = field(default_factory=AnalyticsSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)  # dashboard sign-in
    retention: RetentionSettings = field(default_factory=RetentionSettings)  # old rows deleted
    alerts: tuple[AlertRule, ...] = ()  # [[alerts]]: evaluated after every jobs run
    # the writer checkpoints past this WAL size
    checkpoint_wal_bytes: int = config.DEFAULT_CHECKPOINT_WAL_MB << 20


def _start_dashboard(
    warehouse: Warehouse, host: str, port: int, access: DashboardAccess | None
) -> BaseWSGIServer:
    app = create_dashboard(warehouse, access=access)
    server = make_server(host, port, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, name="gatewatch-dashboard", daemon=True).start()
    return server


def _start_grpc(
    writer: BatchWriter,
    settings: IngestSettings,
    metrics: IngestMetrics,
    preparer: Preparer,
    options: ServeOptions,
) -> GrpcReceiver | None:
    if not options.grpc_port:
        return None
    try:
        return start_grpc_receiver(
            writer, settings, metrics, host=options.host, port=options.grpc_port, preparer=preparer
        )
    except RuntimeError as e:  # gRPC's way of saying the port cannot be bound
        raise GatewatchError(f"OTLP/gRPC port {options.host}:{options.grpc_port}: {e}") from e


def _retention_summary(settings: RetentionSettings) -> str:
    kept = [
        f"{table} {days} days" if days else f"{table} forever"
        for table, days in (
            ("requests", settings.requests_days),
            ("tool_spans", settings.tool_spans_days),
            ("alert_events", settings.alert_events_days),
        )
    ]
    return f"{', '.join(kept)}; metric tables forever (checked every {settings.every_hours}h)"


def _alert_hook(options: ServeOptions, warehouse: Warehouse) -> AlertHook | None:
    if not options.alerts:
        return None
    # The delivery thread records outcomes on a cursor of its own.
    return AlertHook(options.alerts, options.analytics, lambda: warehouse.connection.cursor())


def _alerts_summary(rules: tuple[AlertRule, ...]) -> str:
    targets = sorted({t.kind for rule in rules for t in rule.targets})
    return f"{len(rules)} rule(s), evaluated after every jobs run → {', '.join(targets)}"


def ingest_server_config(app: FastAPI, host: str, port: int) -> uvicorn.Config:
    """The ingest API's HTTP server (`serve` and a lake node's): quiet, keep-alive 30 s."""
    return uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, timeout_keep_alive=30
    )


def ingest_settings(max_body_bytes: int) -> IngestSettings:
    """The ingest API's settings: the body limit given, the rest from the environment."""
    try:
        tokens = parse_tokens(config.env_or(config.GATEWATCH_INGEST_TOKENS, ""))
        limits = ValueLimits(
            max_attributes=config.env_int(config.GATEWATCH_MAX_ATTRIBUTES, DEFAULT_MAX_ATTRIBUTES),
            max_depth=config.env_int(config.GATEWATCH_MAX_ATTRIBUTE_DEPTH, DEFAULT_MAX_VALUE_DEPTH),
            max_chars=config.env_int(config.GATEWATCH_MAX_ATTRIBUTE_CHARS, DEFAULT_MAX_VALUE_CHARS),
        )
    except ValueError as e:
        raise GatewatchError(str(e)) from e
    return IngestSettings(max_body_bytes=max_body_bytes, value_limits=limits, tokens=tokens)


def serve(
    options: ServeOptions,
    *,
    warehouse: Warehouse | None = None,
    say: Callable[[str], None] = print,
) -> None:
    settings = ingest_settings(options.max_body_bytes)
    warehouse = warehouse or Warehouse.open(options.db)
    access = plan_access(options.auth, options.host, warehouse, options.analytics)
    # Commits never wait for a checkpoint (a file's owner checkpoints on a thread of its own).
    writer = BatchWriter(
        warehouse,
        checkpoint_aside_at=None if warehouse.path == ":memory:" else options.checkpoint_wal_bytes,
    )
    writer.start()
    alerts = _alert_hook(options, warehouse)
    jobs = JobRunner(
        warehouse,
        settings=options.analytics,
        retention=options.retention,
        threads_between_runs=1,  # the writer's commits, on one thread (see JobRunner)
        # Tenant scopes after the warehouse's own tables: a scope run reads their definitions.
        after_run=[*([alerts] if alerts else []), WeeklyReportSchedule(options.reports_dir)]
        + ([access.access.scopes.refresh] if access.access else []),
    )
    token = new_admin_token()
    admin_url = f"http://{options.host}:{options.ingest_port}"

    metrics = IngestMetrics(writer)  # one /metrics for both transports
    metrics.registry.register(WarehouseGauges(warehouse.cursor))
    preparer = make_preparer(options.ingest_workers)  # shared by both transports
    if isinstance(preparer, ProcessPreparer):  # commits gather what the workers are finishing
        writer.more_coming = lambda: preparer.in_flight > 0
    app = create_ingest_app(
        writer,
        settings,
        health=lambda: {
            "db": warehouse.path,
            "stored_rows": writer.stats.stored_rows,
            # acknowledged during a checkpoint, counted in stored_rows once moved into requests
            "aside_rows": writer.aside.pending_rows if writer.aside is not None else 0,
            # write-ahead logs moved aside because they could not be replayed
            "quarantined_wals": [str(p) for p in warehouse.quarantined_wals],
        },
        metrics=metrics,
        preparer=preparer,
    )
    app.include_router(admin_router(token, warehouse, writer, jobs))
    dashboard = _start_dashboard(warehouse, options.host, options.dashboard_port, access.access)
    config = ingest_server_config(app, options.host, options.ingest_port)
    server = uvicorn.Server(config)
    # Bind before announcing ownership, so a client that finds the owner file can connect.
    ingest_socket = config.bind_socket()
    grpc_receiver = _start_grpc(writer, settings, metrics, preparer, options)
    jobs.start_schedule(options.jobs_every_seconds)
    publish_owner(options.db, admin_url, token)
    auth = "bearer token required" if settings.tokens else "off"
    say(f"ingest     http://{options.host}:{options.ingest_port}  (OTLP/HTTP, /v1/requests)")
    if grpc_receiver is not None:
        say(f"ingest     grpc://{options.host}:{grpc_receiver.port}  (OTLP/gRPC)")
    say(f"auth       {auth} (/healthz and /metrics are open)")
    say(f"dashboard  http://{options.host}:{options.dashboard_port}  ({access.summary})")
    say(f"database   {options.db} (read-only snapshot: {options.db}.snapshot)")
    say(f"reports    {options.reports_dir} (weekly, every Monday)")
    say(f"retention  {_retention_summary(options.retention)}")
    if alerts is not None:
        say(f"alerts     {_alerts_summary(options.alerts)}")
        for problem in alerts.unset_environment():
            say(f"alerts     warning: {problem}")
    freeze_startup_objects()
    try:
        server.run(sockets=[ingest_socket])
    finally:
        withdraw_owner(options.db)
        jobs.stop()
        if alerts is not None:
            alerts.stop()
        dashboard.shutdown()
        if grpc_receiver is not None:
            grpc_receiver.stop()  # running exports finish their commits first
        preparer.close()
        writer.stop()
        warehouse.connection.execute("CHECKPOINT")
        warehouse.close()
