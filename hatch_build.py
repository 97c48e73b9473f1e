"""Build hook: compile the fast OTLP decoder (`ingest/otlp_scan.pyx`) with Cython.

The extension is optional: where no C compiler is found the build goes on without it and
ingest uses the reference decoder (`ingest.otlp.decode_traces_protobuf_reference`), slower
but equal in every answer. An editable install compiles it in place beside its source.
"""

from __future__ import annotations

import os
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = "ingest/otlp_scan.pyx"
MODULE = "ingest.otlp_scan"


class FastDecoderBuild(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        root = Path(self.root)
        try:
            built = _compile(root)
        except Exception as e:  # no compiler, no headers: the reference decoder serves
            self.app.display_warning(
                f"gatewatch: the fast OTLP decoder was not built ({type(e).__name__}: {e}); "
                "ingest uses the reference decoder"
            )
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":
            build_data["force_include"][str(built)] = str(built.relative_to(root))


def _compile(root: Path) -> Path:
    from Cython.Build import cythonize
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    cwd = os.getcwd()
    os.chdir(root)  # setuptools builds relative to the project
    try:
        extension = Extension(MODULE, [SOURCE], extra_compile_args=["-O2"])
        distribution = Distribution({"ext_modules": cythonize([extension], quiet=True)})
        command = build_ext(distribution)
        command.inplace = True
        command.build_temp = str(root / "build" / "otlp_scan")
        command.ensure_finalized()
        command.run()
        return root / command.get_ext_filename(MODULE)
    finally:
        os.chdir(cwd)
