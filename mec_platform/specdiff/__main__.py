"""``python -m mec_platform.specdiff OURS THEIRS ...`` runs the spec-diff command."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
