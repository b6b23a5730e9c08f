"""``python -m gametheory``: the command line (:mod:`gametheory.cli`).

References
----------
.. [1] Python documentation, "__main__ - Top-level code environment": a package's ``__main__.py`` runs
   under ``python -m package``.
"""

import sys

from gametheory.cli import main

__all__: list[str] = []

sys.exit(main())
