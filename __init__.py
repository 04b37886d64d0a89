"""The root of the rlzoo repository; not a package of its own.

When Python runs in the folder that holds a clone named ``rlzoo``, ``import rlzoo`` finds
this folder first: Python's path search tries the working directory before the editable
install's finder is asked. Without this file that would be an empty namespace package (no
envs, no ``rlzoo.list_envs``). Imported under that name, this file puts the real package,
``rlzoo/__init__.py`` beside it, in its place in ``sys.modules`` (which the import system
then returns). Under any other name (pytest imports the repository root as a package named
after its folder) it does nothing.
"""

import importlib.util
import pathlib
import sys

if __name__ == "rlzoo":
    _package = pathlib.Path(__file__).resolve().parent / "rlzoo"
    _spec = importlib.util.spec_from_file_location("rlzoo", _package / "__init__.py", submodule_search_locations=[str(_package)])
    assert _spec is not None and _spec.loader is not None
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["rlzoo"] = _module
    _spec.loader.exec_module(_module)
