"""``python -m pipguard``."""

import sys

from pipguard.cli import main

sys.exit(main())
