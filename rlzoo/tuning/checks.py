"""What ``rlzoo.tune`` checks before any worker starts: its arguments, the search space, the
storage URL and the study it would join.

Each check raises one kind of :class:`rlzoo.errors.RLZooError` with what would be right:
:class:`~rlzoo.errors.ArgumentError` for an argument of the wrong type or range,
:class:`~rlzoo.errors.SearchSpaceError` for a malformed space, and
:class:`~rlzoo.errors.StudyError` for a storage that cannot hold the study or a study that is
not this tuning's. A study records the agent and env it tunes (its ``rlzoo`` user attribute),
so joining it by name for another agent or env, or joining a study that minimises or has
several objectives, is refused unless ``force``.
"""

from __future__ import annotations

import os
import pathlib
import stat
from typing import Any

from rlzoo import checks, yamlfile
from rlzoo.errors import ArgumentError, SearchSpaceError, StudyError

#: The user attribute where a study records what it tunes.
STUDY_ATTR = "rlzoo"
#: Optuna stores study names in a VARCHAR(512).
MAX_STUDY_NAME = 512
MAX_JOBS = 1024
MAX_SEEDS_PER_TRIAL = 1000
MAX_SPACE_DEPTH = 32
_SPEC_KEYS = {"float": {"type", "low", "high", "log", "step", "when"}, "int": {"type", "low", "high", "log", "step", "when"}}
_SPEC_KEYS["categorical"] = {"type", "choices", "when"}
_DRIVERS = {"postgresql": "psycopg2-binary", "mysql": "pymysql (mysql+pymysql://...)", "mssql": "pyodbc", "oracle": "oracledb"}


def check_arguments(values: dict[str, Any], sampler: Any, pruner: Any, samplers: tuple[str, ...], pruners: tuple[str, ...]) -> None:
    """Check ``rlzoo.tune``'s numbers, seed, sampler and pruner.

    Parameters
    ----------
    values:
        ``trials``, ``steps``, ``timeout``, ``seeds_per_trial``, ``n_jobs``, ``eval_every``,
        ``eval_episodes``, ``seed``, ``force``, ``enqueue``, ``confirm_top`` and ``confirm_seeds`` as given.
    sampler, pruner:
        Names, or Optuna sampler and pruner objects.
    samplers, pruners:
        The valid names.

    Raises
    ------
    ArgumentError
        The first wrong value, with what a valid one is.
    """
    rules = {
        "trials": checks.optional(checks.integer(1)),
        "steps": checks.optional(checks.integer(1)),
        "timeout": checks.optional(checks.number(above=0)),
        "seeds_per_trial": checks.integer(1),
        "n_jobs": checks.integer(1),
        "eval_every": checks.optional(checks.integer(1)),
        "eval_episodes": checks.optional(checks.integer(1)),
        "force": checks.boolean,
        "confirm_top": checks.integer(0),
        "confirm_seeds": checks.integer(1),
    }
    for name, rule in rules.items():
        problem = rule(values[name])
        if problem is not None:
            raise ArgumentError(f"tune(): {name}={checks.shown(values[name])}: {problem}")
    if values["seeds_per_trial"] > MAX_SEEDS_PER_TRIAL or values["n_jobs"] > MAX_JOBS:
        raise ArgumentError(f"tune(): seeds_per_trial must be at most {MAX_SEEDS_PER_TRIAL} and n_jobs at most {MAX_JOBS}")
    checks.check_seed(values["seed"])
    enqueue = values.get("enqueue")
    if enqueue is not None and (not isinstance(enqueue, (list, tuple)) or not all(isinstance(point, dict) for point in enqueue)):
        raise ArgumentError(f"tune(): enqueue must be a list of mappings from parameter names to values, got {checks.shown(enqueue)}")
    import optuna  # heavy: the tune extra, imported by tune() already

    for name, given, valid, base in (
        ("sampler", sampler, samplers, optuna.samplers.BaseSampler),
        ("pruner", pruner, pruners, optuna.pruners.BasePruner),
    ):
        if not (isinstance(given, str) and given in valid) and not isinstance(given, base):
            raise ArgumentError(
                f"tune(): {name}={checks.shown(given)}: must be one of {', '.join(map(repr, valid))} or an optuna {base.__name__}"
            )


def check_out(out: Any) -> pathlib.Path:
    """``out`` as a path: a non-empty str or PathLike that is not a file."""
    if not isinstance(out, (str, os.PathLike)) or isinstance(os.fspath(out), bytes) or not os.fspath(out).strip():
        raise ArgumentError(f"tune(): out must be a folder path (a non-empty str or pathlib.Path), got {checks.shown(out)}")
    path = pathlib.Path(out)
    if path.exists() and not path.is_dir():
        raise ArgumentError(f"out {str(path)!r} is a file, not a folder: give a folder (it is created if missing)")
    return path


def check_study_name(name: Any, out: pathlib.Path, folder: pathlib.Path) -> str:
    """``name`` checked: a non-empty str of at most 512 characters whose folder stays inside ``out``.

    Parameters
    ----------
    name:
        The study name.
    out:
        The output root.
    folder:
        The study's folder (``out/<name, made safe>``).

    Returns
    -------
    str
    """
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_STUDY_NAME:
        raise StudyError(f"study_name must be a non-empty string of at most {MAX_STUDY_NAME} characters, got {checks.shown(name)}")
    if folder.resolve().parent != out.resolve():
        raise StudyError(
            f"study name {name!r} would write outside {str(out)!r} (its folder is {str(folder)!r}): "
            "choose a name with a letter or digit, such as 'ppo-cartpole'"
        )
    return name


def checked_space(space: Any) -> dict[str, Any] | None:
    """The user's search space as a dict, every spec checked (read first if it is a file).

    Parameters
    ----------
    space:
        ``None``, a YAML file (str or PathLike) or a dict of entries.

    Returns
    -------
    dict or None
        What :func:`rlzoo.tuning.spaces.space_for` merges over the built-in space.
    """
    if space is None:
        return None
    source = "the search space"
    if isinstance(space, (str, os.PathLike)) and not isinstance(os.fspath(space), bytes):
        source = f"the search space file {os.fspath(space)}"
        space = yamlfile.load(space, "search space file", extra="tune") or {}
    elif not isinstance(space, dict):
        raise ArgumentError(f"tune(): space must be a YAML file path or a dict of entries, got {checks.shown(space)}")
    if not isinstance(space, dict):
        raise SearchSpaceError(f"{source}: a search space is a mapping of hyperparameter names to specs, not a {type(space).__name__}")
    if checks.json_depth(space) > MAX_SPACE_DEPTH:
        raise SearchSpaceError(f"{source}: nested more than {MAX_SPACE_DEPTH} levels deep")
    seen: set[str] = set()
    for name, spec in space.items():
        if not isinstance(name, str) or not name:
            raise SearchSpaceError(f"{source}: entry names are hyperparameter names (strings), got {checks.shown(name)}")
        if isinstance(spec, dict) and "type" in spec:
            problem = _spec_problem(spec, seen)
            if problem is not None:
                raise SearchSpaceError(f"{source}: {name}: {problem}")
        seen.add(name)
    return space


def _spec_problem(spec: dict[str, Any], earlier: set[str]) -> str | None:
    kind = spec["type"]
    if kind not in _SPEC_KEYS:
        return f"unknown type {checks.shown(kind)}: valid types are float, int, categorical"
    unknown = set(spec) - _SPEC_KEYS[kind]
    if unknown:
        return f"unknown keys {sorted(map(str, unknown))} for a {kind}: valid keys are {', '.join(sorted(_SPEC_KEYS[kind]))}"
    when = spec.get("when", {})
    if not isinstance(when, dict):
        return f"'when' must be a mapping {{earlier_entry: value or [values]}}, got {checks.shown(when)}"
    for other in when:
        if other not in earlier:
            return f"'when' names {other!r}, which must be an entry listed before it"
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, (list, dict)) or not choices:
            return "a categorical needs a non-empty list or mapping of choices (e.g. {type: categorical, choices: [32, 64]})"
        if isinstance(choices, list) and not all(c is None or isinstance(c, (bool, int, float, str)) for c in choices):
            return "a list of choices holds plain values (numbers, strings, true/false, null): give lists as a mapping label: value"
        return None
    number = checks.integer(-(2**62)) if kind == "int" else checks.number()
    wanted = "whole numbers" if kind == "int" else "finite numbers"
    low: Any = spec.get("low")
    high: Any = spec.get("high")
    if number(low) is not None or number(high) is not None or not low <= high:
        example = f"{{type: {kind}, low: 1, high: 10}}"
        return f"a {kind} needs low and high, {wanted} with low <= high (e.g. {example}), got low={low!r}, high={high!r}"
    if checks.boolean(spec.get("log", False)) is not None:
        return f"log must be true or false, got {checks.shown(spec['log'])}"
    if spec.get("log") and low <= 0:
        return f"a log scale needs low > 0, got low={low!r}"
    step = spec.get("step")
    step_rule = checks.integer(1) if kind == "int" else checks.number(above=0)
    if step is not None and step_rule(step) is not None:
        return f"step must be {'an int >= 1' if kind == 'int' else 'a number > 0'}, got {checks.shown(step)}"
    if step is not None and spec.get("log"):
        return "step and log cannot be used together (Optuna samples a log scale without steps)"
    return None


def check_storage(url: Any) -> str:
    """``url`` checked as a storage every worker can open and write.

    Parameters
    ----------
    url:
        ``journal:PATH`` or ``PATH.log`` (a journal file), or an SQLAlchemy URL.

    Returns
    -------
    str
        The URL.

    Raises
    ------
    StudyError
        Not a str; garbage; an unknown dialect or a missing driver; an in-memory SQLite
        database (each worker would have its own); a path that is a device, pipe or folder,
        or that cannot be written.
    """
    if not isinstance(url, str) or not url.strip():
        raise StudyError(
            f"storage must be a URL such as 'sqlite:///runs/tune/study.db' or 'journal:runs/tune/study.log', got {checks.shown(url)}"
        )
    if url.startswith("journal:") or url.endswith(".log"):
        _writable_file(url, pathlib.Path(url.removeprefix("journal:")), "journal file")
        return url
    if "://" not in url:
        return url  # make_storage says what a storage looks like
    import sqlalchemy.engine  # heavy: comes with Optuna, the tune extra
    import sqlalchemy.exc

    try:
        parsed = sqlalchemy.engine.make_url(url)
        dialect = parsed.get_dialect()
    except sqlalchemy.exc.NoSuchModuleError:  # an ArgumentError too: caught first
        raise StudyError(
            f"storage {_excerpt(url)}: unknown database dialect {url.split('://')[0]!r}: use sqlite, postgresql, mysql, mssql or oracle"
        ) from None
    except sqlalchemy.exc.ArgumentError:
        raise StudyError(
            f"storage {_excerpt(url)} is not a valid SQLAlchemy URL: write it as dialect://user:password@host/database"
        ) from None
    try:
        dialect.import_dbapi()
    except ImportError:
        driver = _DRIVERS.get(parsed.get_backend_name(), "its Python driver")
        raise StudyError(f"storage {_excerpt(url)}: the database driver is not installed: pip install {driver}") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or parsed.query.get("mode") == "memory":
            raise StudyError(
                f"storage {_excerpt(url)} is an in-memory SQLite database, which worker processes cannot share: "
                "give a file, such as sqlite:///runs/tune/study.db"
            )
        _writable_file(url, pathlib.Path(database), "SQLite database")
    return url


def _writable_file(url: str, path: pathlib.Path, what: str) -> None:
    """Refuse a storage file that is a device, pipe or folder, or that cannot be written."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        parent = next((p for p in path.absolute().parents if p.exists()), None)
        if parent is None or not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
            raise StudyError(f"storage {_excerpt(url)}: cannot create the {what} {str(path)!r} there (not writable)") from None
        return
    except OSError as exc:
        raise StudyError(f"storage {_excerpt(url)}: cannot use the {what} {str(path)!r}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise StudyError(f"storage {_excerpt(url)}: {str(path)!r} is not a regular file (a folder, pipe or device): give a {what} path")
    if not os.access(path, os.R_OK | os.W_OK) or not os.access(path.absolute().parent, os.W_OK | os.X_OK):
        raise StudyError(f"storage {_excerpt(url)}: the {what} {str(path)!r} or its folder is read-only: give one you can write")
    if what == "SQLite database" and os.stat(path).st_size:
        with open(path, "rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                raise StudyError(
                    f"storage {_excerpt(url)}: {str(path)!r} is not an SQLite database: give a new path, or the study's own .db file"
                )


def open_storage(url: str, make_storage: Any) -> Any:
    """``make_storage(url)``, any database error as one :class:`StudyError` line."""
    import sqlalchemy.exc  # heavy: comes with Optuna, the tune extra

    try:
        return make_storage(url)
    except (sqlalchemy.exc.SQLAlchemyError, OSError, ValueError, RuntimeError) as exc:
        first = " ".join(str(exc).split())[:200]
        raise StudyError(f"storage {_excerpt(url)} cannot be opened: {type(exc).__name__}: {first}") from None


def check_study(storage: Any, name: str, agent: str, env: str, force: bool) -> None:
    """Refuse to join an existing study that is not this tuning's, unless ``force``; record
    the agent and env on the study the first time.

    Parameters
    ----------
    storage:
        The opened Optuna storage.
    name:
        The study name.
    agent, env:
        What this call tunes.
    force:
        Join anyway (the mismatch is then the user's choice).
    """
    import optuna  # heavy: the tune extra

    wanted = {"agent": agent, "env": env}
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        study = optuna.create_study(storage=storage, study_name=name, direction="maximize", load_if_exists=True)
        study.set_user_attr(STUDY_ATTR, wanted)
        return
    problems = []
    if len(study.directions) != 1:
        problems.append(f"it has {len(study.directions)} objectives, rlzoo tune maximises one")
    elif study.direction != optuna.study.StudyDirection.MAXIMIZE:
        problems.append("it minimises its objective, rlzoo tune maximises the mean return")
    recorded = study.user_attrs.get(STUDY_ATTR)
    if isinstance(recorded, dict) and recorded != wanted:
        problems.append(f"it tunes {recorded.get('agent')!r} on {recorded.get('env')!r}, not {agent!r} on {env!r}")
    elif not isinstance(recorded, dict) and study.get_trials(deepcopy=False):
        problems.append("it was not started by rlzoo tune for this agent and env (it records no agent and env)")
    if problems and not force:
        raise StudyError(
            f"study {name!r} exists in the storage and {'; '.join(problems)}: its trials would mix with these. "
            "Choose another --study-name, or pass --force to join it anyway"
        )
    if not isinstance(recorded, dict) and not problems:
        study.set_user_attr(STUDY_ATTR, wanted)


def _excerpt(text: str) -> str:
    """A URL for a message: escaped, at most 80 characters, and without its password."""
    if "@" in text and "://" in text:
        scheme, rest = text.split("://", 1)
        text = f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    shown = repr(text)
    return shown if len(shown) <= 80 else shown[:77] + "..."
