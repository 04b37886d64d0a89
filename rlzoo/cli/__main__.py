"""``python -m rlzoo.cli``: the ``rlzoo`` command."""

import sys

from rlzoo.cli import main

sys.exit(main())
