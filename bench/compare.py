"""Source trees of two commits for `bench/ingest.py --compare REV_A REV_B`.

Each revision is checked out as a detached `git worktree` in a temporary directory and served
by the project's `.venv` interpreter with the worktree first on `sys.path` (see
`bench.server`), so both sides share this checkout's installed dependencies: a revision that
needs a dependency the venv lacks fails to start. `.` stands for this checkout as it is,
uncommitted changes included. The worktrees are removed when the comparison ends.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CURRENT = "."


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def _build_extensions(source: Path) -> None:
    """Compile a revision's fast OTLP decoder in place, as its install would (a plain
    worktree has none, and would be measured on the reference decoder)."""
    if not (source / "hatch_build.py").exists():
        return
    build = "import pathlib, hatch_build; hatch_build._compile(pathlib.Path('.'))"
    done = subprocess.run([sys.executable, "-c", build], cwd=source, capture_output=True, text=True)
    if done.returncode != 0:
        print(
            f"warning: {source}: the fast decoder did not build, this revision is served with "
            f"the reference decoder: {done.stderr.strip()[-300:]}",
            file=sys.stderr,
        )


def _check_imports(source: Path) -> None:
    """The server started from `source` must import that tree's code, not this checkout's."""
    probe = "import gatewatch.cli, ingest.app; print(ingest.app.__file__)"
    env = {**os.environ, "PYTHONPATH": str(source)}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=source, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"{source}: the venv cannot import it: {done.stderr.strip()[-300:]}")
    if not Path(done.stdout.strip()).resolve().is_relative_to(source.resolve()):
        raise RuntimeError(f"{source}: imports {done.stdout.strip()}, not the worktree's code")


@contextmanager
def source_trees(root: Path, revs: list[str]) -> Iterator[list[tuple[str, Path]]]:
    """(label, source tree) per revision: `A 1a2b3c4`, `B .`; worktrees removed afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix="gatewatch-bench-compare-"))
    made: list[Path] = []
    try:
        trees = []
        for side, rev in zip("AB", revs, strict=False):
            if rev == CURRENT:
                trees.append((f"{side} .", root))
                continue
            commit = _git(root, "rev-parse", "--verify", "--short", f"{rev}^{{commit}}")
            path = tmp / side
            _git(root, "worktree", "add", "--detach", str(path), commit)
            made.append(path)
            _build_extensions(path)
            _check_imports(path)
            trees.append((f"{side} {commit}", path))
        yield trees
    finally:
        for path in made:
            try:
                _git(root, "worktree", "remove", "--force", str(path))
            except RuntimeError as e:
                print(f"warning: {e}", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
