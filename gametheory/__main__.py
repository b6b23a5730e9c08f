"""``python -m gametheory``: the command line (:mod:`gametheory.cli`)."""

import sys

from gametheory.cli import main

__all__: list[str] = []

sys.exit(main())
