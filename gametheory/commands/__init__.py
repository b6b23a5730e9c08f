"""The subcommands of the ``gametheory`` command line, one module each (:mod:`gametheory.cli` lists them).

References
----------
.. [1] Python documentation, ``argparse``, "Sub-commands" (``add_subparsers``): how :mod:`gametheory.cli`
   mounts each module's ``add_arguments`` and ``run``.
"""

__all__ = ["assess", "fit", "profiles", "reproduce"]
