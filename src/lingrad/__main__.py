"""``python -m lingrad``: the same as the ``lingrad`` command."""

import sys

from lingrad.cli import main

sys.exit(main())
