"""A module of bench/ (a folder of scripts, not a package), loaded by its file for the tests of its pure parts."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from tests.support.subprocess_env import ROOT


def bench_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module
