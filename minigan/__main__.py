"""``python -m minigan`` is the ``minigan`` command."""
import sys

from .program.cli import main

sys.exit(main())
