"""Value rules shared by rlzoo's argument checks (hyperparameters, env kwargs, ``train``'s arguments).

A rule takes a value and returns ``None`` when it is valid, else what a valid value is
(``"must be an int >= 1"``), so each caller raises its own error class with the key and
the value in the message. Booleans are not numbers here: ``True`` is no batch size.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

from rlzoo.errors import ArgumentError

#: The largest seed: NumPy, torch and TensorFlow all accept seeds in [0, 2**32 - 1].
MAX_SEED = 2**32 - 1

Rule = Callable[[Any], "str | None"]


def shown(value: Any) -> str:
    """``value`` for an error message: its type and a short repr."""
    text = repr(value)
    return f"{type(value).__name__} {text[:80] + '...' if len(text) > 80 else text}"


def is_int(value: Any) -> bool:
    """An integer (Python's or NumPy's), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A real number (int or float, Python's or NumPy's), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def integer(low: int = 0) -> Rule:
    """An int >= ``low``."""

    def rule(value: Any) -> str | None:
        return None if is_int(value) and value >= low else f"must be an int >= {low}"

    return rule


def number(low: float | None = None, high: float | None = None, *, above: float | None = None, finite: bool = True) -> Rule:
    """A real number in ``[low, high]`` (either bound optional), ``> above`` if given; finite unless told."""
    bounds = []
    if low is not None and high is not None:
        bounds.append(f"in [{low:g}, {high:g}]")
    elif low is not None:
        bounds.append(f">= {low:g}")
    elif high is not None:
        bounds.append(f"<= {high:g}")
    if above is not None:
        bounds.append(f"> {above:g}")
    wanted = f"must be a {'finite ' if finite else ''}number" + (" " + " and ".join(bounds) if bounds else "")

    def rule(value: Any) -> str | None:
        if not is_number(value) or math.isnan(value) or (finite and math.isinf(value)):
            return wanted
        if (low is not None and value < low) or (high is not None and value > high) or (above is not None and value <= above):
            return wanted
        return None

    return rule


def boolean(value: Any) -> str | None:
    """``True`` or ``False`` (not ``"false"``, not 0 or 1)."""
    return None if isinstance(value, bool) else "must be true or false (a bool)"


def one_of(choices: Iterable[str]) -> Rule:
    """One of ``choices``."""
    choices = list(choices)

    def rule(value: Any) -> str | None:
        return None if isinstance(value, str) and value in choices else f"must be one of {', '.join(repr(c) for c in choices)}"

    return rule


def optional(inner: Rule) -> Rule:
    """``None``, or a value ``inner`` accepts."""

    def rule(value: Any) -> str | None:
        problem = None if value is None else inner(value)
        return None if problem is None else f"{problem}, or None"

    return rule


def list_of(inner: Rule, what: str) -> Rule:
    """A list or tuple whose every item ``inner`` accepts; ``what`` names the items (``"ints >= 1"``)."""

    def rule(value: Any) -> str | None:
        if isinstance(value, (list, tuple)) and all(inner(item) is None for item in value):
            return None
        return f"must be a list of {what}"

    return rule


def ordered_pair(positive: bool = False, strict: bool = False) -> Rule:
    """A ``[low, high]`` pair of finite numbers with ``low <= high`` (``<`` when ``strict``), both > 0 if ``positive``."""
    wanted = f"must be a pair [low, high] of finite{' positive' if positive else ''} numbers with low {'<' if strict else '<='} high"

    def rule(value: Any) -> str | None:
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            return wanted
        low, high = value
        if any(not is_number(v) or not math.isfinite(v) or (positive and v <= 0) for v in (low, high)):
            return wanted
        return None if (low < high if strict else low <= high) else wanted

    return rule


def seed_problem(seed: Any) -> str | None:
    """What is wrong with ``seed`` (``None`` when it is ``None`` or an int in [0, :data:`MAX_SEED`])."""
    if seed is None or (is_int(seed) and 0 <= seed <= MAX_SEED):
        return None
    return f"must be None or an int from 0 to 2**32 - 1, got {shown(seed)}"


def check_seed(seed: Any) -> int | None:
    """``seed`` as a Python int (or ``None``), checked: the one seed check every entry point uses.

    Parameters
    ----------
    seed:
        ``None`` or an int in [0, :data:`MAX_SEED`] (Python's or NumPy's).

    Returns
    -------
    int or None
        A plain ``int`` (Python's ``random.seed`` refuses NumPy ints).

    Raises
    ------
    ArgumentError
        Anything else.
    """
    problem = seed_problem(seed)
    if problem is not None:
        raise ArgumentError(f"seed {problem}")
    return None if seed is None else int(seed)


def json_depth(value: Any) -> int:
    """How deeply ``value`` (parsed JSON or YAML) nests lists and dicts, counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def excerpt(text: str | bytes, limit: int = 40) -> str:
    """Untrusted text (a file's contents) for an error message: escaped, at most ``limit`` characters."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "backslashreplace")
    shown_text = repr(text[:limit])
    return shown_text + ("..." if len(text) > limit else "")
