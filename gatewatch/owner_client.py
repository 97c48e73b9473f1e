"""Talking to a running owner (`gatewatch serve`) from another process."""

from __future__ import annotations

import httpx
import pyarrow as pa
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from gatewatch.errors import GatewatchError
from gatewatch.files import IngestOutcome, Payload
from warehouse.ownership import Owner

INGEST_PATHS = {
    "traces-protobuf": ("/v1/traces", "application/x-protobuf"),
    "traces-json": ("/v1/traces", "application/json"),
    "logs-protobuf": ("/v1/logs", "application/x-protobuf"),
    "logs-json": ("/v1/logs", "application/json"),
    "request-logs": ("/v1/requests", "application/x-ndjson"),
}


class OwnerClient:
    def __init__(self, owner: Owner, timeout: float = 600.0) -> None:
        self.owner = owner
        self._http = httpx.Client(
            base_url=owner.admin_url,
            headers={"Authorization": f"Bearer {owner.token}"},
            timeout=timeout,
        )

    def close(self) -> None:
        self._http.close()

    def _check(self, response: httpx.Response) -> httpx.Response:
        if response.status_code >= 400:
            try:
                answer = response.json()
                message = answer.get("error") or answer.get("message")
            except ValueError:
                message = response.text[:300]
            raise GatewatchError(f"gatewatch serve (pid {self.owner.pid}) answered: {message}")
        return response

    def sql(self, query: str) -> pa.Table:
        response = self._check(self._http.post("/admin/sql", content=query.encode()))
        return pa.ipc.open_stream(response.content).read_all()

    def run_jobs(self, *, full: bool) -> dict:
        params = {"full": "true"} if full else {}
        return self._check(self._http.post("/admin/jobs", params=params)).json()

    def run_retention(self, *, dry_run: bool) -> dict:
        params = {"dry_run": "true"} if dry_run else {}
        return self._check(self._http.post("/admin/retention", params=params)).json()

    def ingest(self, payload: Payload) -> IngestOutcome:
        path, media = INGEST_PATHS[payload.kind]
        response = self._http.post(path, content=payload.body, headers={"Content-Type": media})
        if response.status_code == 503:
            raise GatewatchError("gatewatch serve is overloaded; try again shortly")
        if payload.kind == "request-logs" and response.status_code in (200, 400):
            answer = response.json()
            rejected = answer["rejected"]
            return IngestOutcome(
                received=answer["accepted"] + len(rejected),
                rejected=len(rejected),
                errors=[r["error"] for r in rejected],
            )
        self._check(response)
        if payload.kind == "traces-protobuf":
            partial = ExportTraceServiceResponse.FromString(response.content).partial_success
            return IngestOutcome(None, partial.rejected_spans, [partial.error_message])
        if payload.kind == "logs-protobuf":
            logs = ExportLogsServiceResponse.FromString(response.content).partial_success
            return IngestOutcome(None, logs.rejected_log_records, [logs.error_message])
        partial = response.json().get("partialSuccess", {})
        rejected = partial.get("rejectedSpans", partial.get("rejectedLogRecords", 0))
        return IngestOutcome(None, int(rejected), [partial.get("errorMessage", "")])
