"""The subcommands of the ``gametheory`` command line, one module each (:mod:`gametheory.cli` lists them)."""

__all__ = ["assess", "fit", "profiles", "reproduce"]
