"""The commands: each takes a parsed command line and returns an exit code and a result."""
