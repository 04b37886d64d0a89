"""Not a package: the root of the rlzoo repository.

Python reads this file only when it runs in the folder that holds a clone named ``rlzoo``:
then ``./rlzoo`` is this repository, and without this file ``import rlzoo`` would quietly
give an empty namespace package (no envs, no ``rlzoo.list_envs``) instead of the installed
rlzoo, because Python's path search finds the folder before the editable install's finder
is asked. Failing here says what happened instead.
"""

import pathlib

raise ImportError(
    f"`import rlzoo` found the rlzoo repository ({pathlib.Path(__file__).parent}) instead of the rlzoo "
    "package, because Python runs in the folder that holds the clone: run it from any other folder "
    "(for example the clone itself, or your project's folder)"
)
