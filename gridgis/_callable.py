"""Modules that are also functions: ``gridgis.validate(...)`` next to ``import gridgis.validate``.

The top-level names ``gridgis.validate``, ``gridgis.repair`` and ``gridgis.assign`` are functions
(resolved lazily by ``gridgis.__getattr__``), but importing the submodule of the same name binds
the module object to that attribute. Giving the module a ``__call__`` keeps both spellings
working.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any


def make_module_callable(module_name: str, func: Callable[..., Any]) -> None:
    """Make ``sys.modules[module_name]`` callable as ``func``."""

    class _CallableModule(types.ModuleType):
        __doc__ = func.__doc__

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

    sys.modules[module_name].__class__ = _CallableModule
