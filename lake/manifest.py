"""The lake's small manifest: a format marker at the root and one file per ingest node.

Each node writes only its own `_nodes/<node>.json`, so nodes never contend for a file and need
no lock. The segments themselves are the truth (readers list them); the manifest says who
writes, since when and how much, for operators and for `gatewatch lake status`-style checks.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from dataclasses import asdict, dataclass

import orjson

from lake.layout import FORMAT_VERSION, MARKER, NODES
from lake.store import LakeStore


class LakeFormatError(Exception):
    """The folder is a lake of another format version, or not a lake at all."""


def new_node_id(name: str | None = None) -> str:
    """A node id unique to this process start: a restarted node never reuses a file name."""
    base = "".join(c if c.isalnum() or c in "-_" else "-" for c in (name or socket.gethostname()))
    return f"{base[:40]}-{uuid.uuid4().hex[:8]}"


def ensure_lake(store: LakeStore) -> None:
    """Write the format marker if there is none; refuse a lake of another version. Two nodes
    starting at once write the same bytes, so the race is harmless."""
    found = store.read_bytes(MARKER)
    if found is None:
        store.write_bytes(
            MARKER, orjson.dumps({"format": "gatewatch-lake", "version": FORMAT_VERSION})
        )
        return
    try:
        marker = orjson.loads(found)
    except orjson.JSONDecodeError as e:
        raise LakeFormatError(f"{store.path(MARKER)} is not a gatewatch lake marker") from e
    if marker.get("version") != FORMAT_VERSION:
        raise LakeFormatError(
            f"{store.shown} is a lake of format version {marker.get('version')}; "
            f"this gatewatch reads version {FORMAT_VERSION}"
        )


@dataclass(slots=True)
class NodeManifest:
    node: str
    host: str
    pid: int
    started_at: str
    commits: int = 0
    request_rows: int = 0
    tool_span_rows: int = 0
    segments: int = 0
    bytes: int = 0
    last_commit_at: str | None = None
    stopped_at: str | None = None

    @classmethod
    def start(cls, node: str) -> NodeManifest:
        return cls(node=node, host=socket.gethostname(), pid=os.getpid(), started_at=_now())

    def committed(self, request_rows: int, tool_span_rows: int, segments: int, size: int) -> None:
        self.commits += 1
        self.request_rows += request_rows
        self.tool_span_rows += tool_span_rows
        self.segments += segments
        self.bytes += size
        self.last_commit_at = _now()

    def save(self, store: LakeStore) -> None:
        store.write_bytes(f"{NODES}/{self.node}.json", orjson.dumps(asdict(self)))


def read_manifests(store: LakeStore) -> list[NodeManifest]:
    manifests = []
    for f in store.list_files(NODES, suffix=".json"):
        data = store.read_bytes(f.path.removeprefix(store.root + "/"))
        if data is not None:
            manifests.append(NodeManifest(**orjson.loads(data)))
    return manifests


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
