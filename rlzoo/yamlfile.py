"""The one YAML reader: preset files, sweep grids, search spaces and ``--set`` values, with YAML 1.2 numbers.

PyYAML follows YAML 1.1, where ``1e-3`` and ``1E5`` are strings (a float needs a dot
there), ``010`` is octal and ``no``/``on`` are booleans, so ``learning_rate: 1e-3`` in a
preset would reach the agent as the string ``"1e-3"``. Everything rlzoo reads as YAML goes
through :func:`parse`, which resolves plain scalars by the YAML 1.2 core schema: numbers
read the way Python reads them (``1e-3``, ``1E5``, ``.5``, ``-2``, ``.inf`` and ``inf``),
only ``true``/``false`` are booleans, and quoted values stay strings. Files are read by
:func:`load`, which takes regular files of a bounded size only, so a FIFO or a device
cannot hang a run and a huge file cannot exhaust memory.
"""

from __future__ import annotations

import functools
import os
import re
import stat
from typing import Any

from rlzoo.errors import MissingDependencyError, RLZooError

#: The largest YAML file :func:`load` reads by default: config files are a few KiB.
MAX_CONFIG_BYTES = 1 << 20


@functools.lru_cache(maxsize=1)
def _core_schema_loader() -> type:
    """A PyYAML ``SafeLoader`` that resolves plain scalars by the YAML 1.2 core schema."""
    import yaml  # PyYAML comes with the extras (sb3, kerasrl2, experiments, tune), not with the core

    class CoreSchemaLoader(yaml.SafeLoader):
        pass

    replaced = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
    CoreSchemaLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in replaced]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    resolvers = [
        ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
        ("tag:yaml.org,2002:int", r"^[-+]?[0-9]+$", "-+0123456789"),
        ("tag:yaml.org,2002:int", r"^0o[0-7]+$|^0x[0-9a-fA-F]+$", "0"),
        (
            "tag:yaml.org,2002:float",
            r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$"
            r"|^[-+]?\.?(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$",
            "-+.0123456789iIn",
        ),
    ]
    for tag, pattern, first in resolvers:
        CoreSchemaLoader.add_implicit_resolver(tag, re.compile(pattern), list(first))

    def construct_int(loader: Any, node: Any) -> int:
        text = loader.construct_scalar(node)
        if text.startswith(("0o", "0x")):
            return int(text, 0)
        return int(text, 10)  # "010" is ten, not YAML 1.1's octal eight

    def construct_float(loader: Any, node: Any) -> float:
        text = loader.construct_scalar(node).lower()
        return float(text.replace(".inf", "inf").replace(".nan", "nan"))

    CoreSchemaLoader.add_constructor("tag:yaml.org,2002:int", construct_int)
    CoreSchemaLoader.add_constructor("tag:yaml.org,2002:float", construct_float)
    return CoreSchemaLoader


def parse(text: str, source: str, extra: str | None = None) -> Any:
    """YAML text as Python values, numbers by the YAML 1.2 core schema.

    Parameters
    ----------
    text:
        The YAML document.
    source:
        What the text is, for errors (``"the preset file agents/presets/sb3-dqn.yml"``,
        ``"--set learning_rate"``).
    extra:
        The rlzoo extra that brings PyYAML for this use, named when it is missing.

    Returns
    -------
    Any
        ``None`` for an empty document.

    Raises
    ------
    RLZooError
        The text is not valid YAML, or uses a tag such as ``!!python/object`` (only plain
        data is read): one line saying where and what.
    MissingDependencyError
        PyYAML is not installed.
    """
    try:
        import yaml  # PyYAML comes with the extras (sb3, kerasrl2, experiments, tune), not with the core
    except ImportError as exc:
        raise MissingDependencyError(f"reading {source}", extra) from exc
    try:
        return yaml.load(text, Loader=_core_schema_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise RLZooError(f"cannot read {source}: {_problem(exc)}") from None


def _problem(exc: Any) -> str:
    """A YAML error in one line: where, and what is wrong."""
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
    tag = re.search(r"constructor for the tag '([^']*)'", problem)
    if tag is not None:
        name = tag.group(1).replace("tag:yaml.org,2002:", "!!")
        return f"{where}the tag {name} is not allowed: only plain YAML data is read (numbers, strings, lists, mappings)"
    return f"{where}not valid YAML: {problem}"


def load(path: str | os.PathLike[str], what: str, extra: str | None = None, max_bytes: int = MAX_CONFIG_BYTES) -> Any:
    """Read a YAML file with :func:`parse`: a regular file of at most ``max_bytes``, UTF-8.

    Parameters
    ----------
    path:
        The file.
    what:
        What the file is, for errors (``"preset file"``, ``"grid file"``, ``"search space file"``).
    extra:
        The rlzoo extra that brings PyYAML for this use, named when it is missing.
    max_bytes:
        The largest file read; a bigger one is an error before anything is parsed.

    Returns
    -------
    Any
        ``None`` for an empty file.

    Raises
    ------
    RLZooError
        The file cannot be opened, is not a regular file (a folder, FIFO or device), is
        bigger than ``max_bytes``, is not UTF-8, or is not valid YAML: one line saying which.
    MissingDependencyError
        PyYAML is not installed.
    """
    source = f"the {what} {os.fspath(path)}"
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise RLZooError(f"cannot read {source}: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise RLZooError(f"cannot read {source}: it is not a regular file (a folder, pipe or device): give a YAML file")
        with open(fd, "rb", closefd=False) as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise RLZooError(f"cannot read {source}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise RLZooError(f"cannot read {source}: it is larger than {max_bytes} bytes, the most a {what} may have: check the path")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RLZooError(f"cannot read {source}: it is not UTF-8 text (byte {exc.start}): give a YAML file") from None
    return parse(text, source, extra)
