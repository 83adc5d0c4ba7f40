"""pipguard: a drop-in front-end for pip that installs the right PyTorch build."""

__version__ = "0.1.0"
