"""``tools/release.py`` loaded as a module, for the tests of the release machinery."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]


def load_release_tool() -> ModuleType:
    path = REPO / "tools" / "release.py"
    spec = importlib.util.spec_from_file_location("release_tool_module", path)
    if spec is None or spec.loader is None:
        raise ImportError(path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


release = load_release_tool()
