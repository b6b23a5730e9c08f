import sys

from gametheory.cli import main

sys.exit(main())
