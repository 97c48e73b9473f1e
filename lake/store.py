"""Where a lake lives: a local folder (atomic rename + fsync) or an object store through
pyarrow's filesystems (`s3://bucket/prefix`: an object appears whole when its upload ends).

Every writer puts a file under its final name only once it is complete, so a reader never
sees half a segment; names starting with `.` are files still being written and are skipped.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

PARQUET_COMPRESSION = "zstd"


@dataclass(frozen=True, slots=True)
class StoredFile:
    path: str  # the filesystem's path: absolute for a local lake, bucket/key for S3
    size: int

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


class LakeStore:
    """`uri`: a folder, or `s3://bucket/prefix` with pyarrow's S3 URI options as query
    parameters — for an S3-compatible store (MinIO, R2, ...)
    `?endpoint_override=host:port&scheme=http&region=...`; credentials from the AWS
    environment variables or config files, or `s3://KEY:SECRET@bucket/...`."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        if "://" in uri and not uri.startswith("file://"):
            fs, root = pafs.FileSystem.from_uri(uri)
            self.fs: pafs.FileSystem = fs
            self.local = False
        else:
            root = os.path.abspath(uri.removeprefix("file://"))
            self.fs = pafs.LocalFileSystem()
            self.local = True
        self.root = root.rstrip("/")

    @property
    def shown(self) -> str:
        """The URI without credentials, for logs, errors and `/healthz`."""
        scheme, sep, rest = self.uri.partition("://")
        if not sep:
            return self.uri
        authority, slash, tail = rest.partition("/")
        return f"{scheme}://{authority.rpartition('@')[2]}{slash}{tail}"

    def path(self, relative: str) -> str:
        return f"{self.root}/{relative}" if relative else self.root

    # --- writing --------------------------------------------------------------------------

    def write_parquet(self, relative: str, table: pa.Table) -> int:
        """Write `table` durably under `relative`; returns the file's size in bytes."""
        if self.local:
            return self._write_local(relative, lambda f: pq.write_table(table, f, **_OPTIONS))
        with self.fs.open_output_stream(self.path(relative)) as out:
            pq.write_table(table, out, **_OPTIONS)
            return out.tell()

    def write_bytes(self, relative: str, data: bytes) -> None:
        if self.local:
            self._write_local(relative, lambda f: f.write(data))
            return
        with self.fs.open_output_stream(self.path(relative)) as out:
            out.write(data)

    def _write_local(self, relative: str, write) -> int:  # type: ignore[no-untyped-def]
        """Temp file in the target folder → fsync → rename → fsync the folder: after this
        returns, the file survives a crash of the process and of the machine."""
        target = Path(self.path(relative))
        _make_dirs(target.parent)
        temp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            with open(temp, "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
                size = f.tell()
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        return size

    # --- reading and listing --------------------------------------------------------------

    def read_bytes(self, relative: str) -> bytes | None:
        try:
            with self.fs.open_input_stream(self.path(relative)) as f:
                return f.read()
        except FileNotFoundError:
            return None

    def exists(self, relative: str) -> bool:
        return self.fs.get_file_info(self.path(relative)).type != pafs.FileType.NotFound

    def list_files(self, relative: str, suffix: str = ".parquet") -> list[StoredFile]:
        """Complete files under `relative` (recursively), sorted by path."""
        selector = pafs.FileSelector(self.path(relative), recursive=True, allow_not_found=True)
        return sorted(
            (
                StoredFile(info.path, info.size or 0)
                for info in self.fs.get_file_info(selector)
                if info.type == pafs.FileType.File
                and info.path.endswith(suffix)
                and not info.base_name.startswith(".")
            ),
            key=lambda f: f.path,
        )

    def list_dirs(self, relative: str) -> list[str]:
        """Names of the folders directly under `relative`."""
        selector = pafs.FileSelector(self.path(relative), allow_not_found=True)
        return sorted(
            info.base_name
            for info in self.fs.get_file_info(selector)
            if info.type == pafs.FileType.Directory
        )

    def read_table(self, files: list[StoredFile], schema: pa.Schema | None = None) -> pa.Table:
        """The rows of `files`, columns missing from older files as NULL when `schema` is
        given."""
        if not files:
            return (schema or pa.schema([])).empty_table()
        return self.dataset(files, schema).to_table()

    def dataset(
        self,
        files: list[StoredFile],
        schema: pa.Schema | None = None,
        *,
        partitioning: ds.Partitioning | None = None,
        partitions_under: str | None = None,
    ) -> ds.Dataset:
        """`files` as a lazy dataset (DuckDB scans a registered one with projection and filter
        pushdown, fetching only what a query needs); with `partitioning`, the hive folders
        below `partitions_under` become columns, as DuckDB's own reader makes them."""
        return ds.dataset(
            [f.path for f in files],
            schema=schema,
            format="parquet",
            filesystem=self.fs,
            partitioning=partitioning,
            partition_base_dir=self.path(partitions_under) if partitions_under else None,
        )

    # --- removing -------------------------------------------------------------------------

    def delete_files(self, files: list[StoredFile]) -> None:
        for f in files:
            try:
                self.fs.delete_file(f.path)
            except FileNotFoundError:  # another compaction or retention run got there first
                pass
        if self.local:
            for folder in {str(Path(f.path).parent) for f in files}:
                _fsync_dir(Path(folder))

    def delete_dir(self, relative: str) -> None:
        try:
            self.fs.delete_dir(self.path(relative))
        except FileNotFoundError:
            pass


_OPTIONS = {"compression": PARQUET_COMPRESSION}


def _make_dirs(folder: Path) -> None:
    """Create `folder` and fsync the parent of each folder created, so the new entries are
    durable too."""
    missing: list[Path] = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for created in reversed(missing):
        try:
            created.mkdir()
        except FileExistsError:  # another node made it at the same moment
            pass
        _fsync_dir(created.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
