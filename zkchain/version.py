"""The package version (one place: the CLI, the top-level package and the wheel metadata agree)."""

__version__ = "0.1.0"
