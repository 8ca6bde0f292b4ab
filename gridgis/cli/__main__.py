"""``python -m gridgis.cli``: the same as the ``gridgis`` command."""

from . import console

console()
