"""Where a preset came from: the ``provenance:`` section of a preset entry.

A preset is evidence only together with the seeds it was chosen and confirmed on. Every
entry ``rlzoo tune`` writes, and every entry rlzoo ships, says so::

    CartPole-v1:
      train: {...}
      hyperparams: {...}
      provenance:
        confirmed: true
        search_seeds: [0]                       # the seeds the search trained on
        confirmation_seeds: [2000, ..., 2009]   # fresh seeds, disjoint from the search's
        confirmed_iqm: 487.2
        confirmed_ci: [461.0, 500.0]            # rliable's 95% stratified bootstrap CI
        train: {total_timesteps: 50000, ...}    # the resolved settings every run trained with
        study: {name: sb3-ppo__CartPole-v1, storage: sqlite:////abs/study.db, trial: 12}
        versions: {rlzoo: 0.1.0, stable-baselines3: 2.9.2, ...}
        date: '2026-12-02'

An entry never confirmed on seeds disjoint from those it was chosen on says
``confirmed: false`` and why (``reason``), with the seeds it was chosen on in
``search_seeds`` and, if its published numbers come from other seeds, ``published_seeds``.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from rlzoo.errors import RLZooError

#: Fields every provenance block has.
REQUIRED = ("confirmed", "search_seeds", "confirmation_seeds")
#: Fields a confirmed block has besides :data:`REQUIRED`.
CONFIRMED = ("confirmed_iqm", "confirmed_ci", "train", "study", "versions", "date")
#: Every valid field.
FIELDS = (*REQUIRED, "reason", *CONFIRMED, "published_seeds")


class ProvenanceError(RLZooError, ValueError):
    """A provenance block with a missing, unknown or malformed field."""


@dataclasses.dataclass(frozen=True)
class Provenance:
    """One preset entry's evidence (see the module's docstring for the fields).

    Attributes
    ----------
    confirmed: whether the entry was confirmed on seeds disjoint from those it was chosen on.
    search_seeds: the seeds it was searched, screened or chosen on.
    confirmation_seeds: the fresh seeds it was confirmed on (empty when not confirmed).
    reason: why it is not confirmed (required then), or a note.
    confirmed_iqm, confirmed_ci: the IQM of the confirmation seeds' final scores and its 95% CI.
    train: the resolved training settings of the confirmation runs.
    study: the study's ``name`` and ``storage`` (and ``trial``, the candidate's number).
    versions: rlzoo's and the backend's package versions.
    date: ISO date of the confirmation.
    published_seeds: seeds other numbers about the entry (its YAML comments) come from.
    """

    confirmed: bool
    search_seeds: tuple[int, ...]
    confirmation_seeds: tuple[int, ...]
    reason: str | None = None
    confirmed_iqm: float | None = None
    confirmed_ci: tuple[float, float] | None = None
    train: dict[str, Any] | None = None
    study: dict[str, Any] | None = None
    versions: dict[str, str] | None = None
    date: str | None = None
    published_seeds: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The block as YAML/JSON values, fields that are not set left out."""
        out: dict[str, Any] = {}
        for field in FIELDS:
            value = getattr(self, field)
            if value is None or (field == "published_seeds" and not value):
                continue
            out[field] = list(value) if isinstance(value, tuple) else value
        return out


def read_provenance(data: Any, where: str) -> Provenance:
    """Check a ``provenance:`` block and return it as a :class:`Provenance`.

    Parameters
    ----------
    data:
        The parsed block.
    where:
        The file and entry, for the messages.

    Returns
    -------
    Provenance

    Raises
    ------
    ProvenanceError: naming the field, what it held and what is valid.
    """
    if not isinstance(data, Mapping):
        raise ProvenanceError(f"{where}: provenance must be a mapping with {', '.join(REQUIRED)}, got {data!r}")
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise ProvenanceError(f"{where}: provenance has unknown fields {sorted(unknown)}: valid are {', '.join(FIELDS)}")
    missing = [field for field in REQUIRED if field not in data]
    if data.get("confirmed") is True:
        missing += [field for field in CONFIRMED if field not in data]
    elif not data.get("reason"):
        missing.append("reason")
    if missing:
        raise ProvenanceError(f"{where}: provenance lacks {', '.join(missing)} (confirmed: {data.get('confirmed')!r})")
    if not isinstance(data["confirmed"], bool):
        raise ProvenanceError(f"{where}: provenance confirmed must be true or false, got {data['confirmed']!r}")
    search = _seeds(data["search_seeds"], "search_seeds", where)
    confirmation = _seeds(data["confirmation_seeds"], "confirmation_seeds", where)
    if data["confirmed"] and not confirmation:
        raise ProvenanceError(f"{where}: a confirmed provenance names its confirmation_seeds, got none")
    shared = sorted(set(search) & set(confirmation))
    if shared:
        raise ProvenanceError(f"{where}: confirmation_seeds must be disjoint from search_seeds; both have {shared}")
    ci = data.get("confirmed_ci")
    if ci is not None and (not isinstance(ci, Sequence) or len(ci) != 2 or not all(isinstance(x, int | float) for x in ci)):
        raise ProvenanceError(f"{where}: provenance confirmed_ci must be [low, high], got {ci!r}")
    for field in ("train", "study", "versions"):
        if data.get(field) is not None and not isinstance(data[field], Mapping):
            raise ProvenanceError(f"{where}: provenance {field} must be a mapping, got {data[field]!r}")
    date = data.get("date")
    return Provenance(
        confirmed=data["confirmed"],
        search_seeds=search,
        confirmation_seeds=confirmation,
        reason=None if data.get("reason") is None else str(data["reason"]),
        confirmed_iqm=None if data.get("confirmed_iqm") is None else float(data["confirmed_iqm"]),
        confirmed_ci=None if ci is None else (float(ci[0]), float(ci[1])),
        train=None if data.get("train") is None else dict(data["train"]),
        study=None if data.get("study") is None else dict(data["study"]),
        versions=None if data.get("versions") is None else {str(k): str(v) for k, v in data["versions"].items()},
        date=date.isoformat() if isinstance(date, datetime.date) else None if date is None else str(date),
        published_seeds=_seeds(data.get("published_seeds") or [], "published_seeds", where),
    )


def _seeds(value: Any, field: str, where: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0 for seed in value):
        raise ProvenanceError(f"{where}: provenance {field} must be a list of seeds (ints >= 0), got {value!r}")
    return tuple(value)
