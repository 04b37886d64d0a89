"""rlzoo's own agent backends (installed as ``rlzoo.agents``).

Each backend module imports its framework at the top, so import one only when its agent is
used: ``rlzoo.make_agent`` does this through the ``rlzoo.agents`` entry points.
"""

import pathlib

PRESETS_DIR = pathlib.Path(__file__).parent / "presets"
