"""``python -m pipguard``."""

from pipguard.cli import entry

entry()
