"""``python -m baselines train|eval|grid|report``."""

import sys

from baselines.cli import main

sys.exit(main())
