"""Build hook: compile ingest's fast paths with Cython: the OTLP protobuf decoder
(`ingest/otlp_scan.pyx`) and the span → row mapper (`ingest/span_rows.pyx`).

The extensions are optional: where no C compiler is found the build goes on without them and
ingest uses the reference decoder (`ingest.otlp.decode_traces_protobuf_reference`) and mapper
(`ingest.spans.map_spans`), slower but equal in every answer. An editable install compiles
them in place beside their sources.
"""

from __future__ import annotations

import os
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

MODULES = ("ingest.otlp_scan", "ingest.span_rows")


class FastDecoderBuild(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        root = Path(self.root)
        try:
            built = _compile(root)
        except Exception as e:  # no compiler, no headers: the reference paths serve
            self.app.display_warning(
                f"gatewatch: ingest's fast paths were not built ({type(e).__name__}: {e}); "
                "ingest uses the reference decoder and mapper"
            )
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":
            for path in built:
                build_data["force_include"][str(path)] = str(path.relative_to(root))


def _compile(root: Path) -> list[Path]:
    from Cython.Build import cythonize
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    cwd = os.getcwd()
    os.chdir(root)  # setuptools builds relative to the project
    try:
        extensions = [
            Extension(module, [module.replace(".", "/") + ".pyx"], extra_compile_args=["-O2"])
            for module in MODULES
        ]
        distribution = Distribution({"ext_modules": cythonize(extensions, quiet=True)})
        command = build_ext(distribution)
        command.inplace = True
        command.build_temp = str(root / "build" / "extensions")
        command.ensure_finalized()
        command.run()
        return [root / command.get_ext_filename(module) for module in MODULES]
    finally:
        os.chdir(cwd)
