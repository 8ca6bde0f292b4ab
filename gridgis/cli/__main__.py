"""``python -m gridgis.cli``: the same as the ``gridgis`` command."""

import sys

from . import main

sys.exit(main())
