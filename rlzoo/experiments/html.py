"""``rlzoo report --html``: the report as one self-contained ``report.html``.

The page is the Markdown report (the same text and tables, each table sortable by a click on
its header) with every ``![...](figure.png)`` replaced by its interactive Plotly figure
(:mod:`rlzoo.experiments.plots`). Plotly's JavaScript is embedded once and nothing is loaded
from the network, so the file opens anywhere, offline, without a server.

Why Plotly: its Python package ships plotly.js (no CDN needed), its figures give hover,
legend toggling and zoom with no code of ours, and Optuna's visualisations, which rlzoo
users meet in ``rlzoo tune``, are Plotly figures too.
"""

from __future__ import annotations

import dataclasses
import html
import pathlib
import re
from typing import Any

import numpy as np

from rlzoo.experiments import plots
from rlzoo.experiments.cells import Cells, Curve, Improvement
from rlzoo.experiments.stats import Estimate
from rlzoo.files import atomic_write

#: Plotly's configuration: no logo, no link to Plotly's site.
_CONFIG = {"displaylogo": False, "responsive": True}

#: Sorts a table by the clicked column (numbers as numbers: "12.5 [10.1, 14.0]" sorts by 12.5).
_SORT_SCRIPT = """
document.querySelectorAll("table.sortable th").forEach(function (th) {
  th.addEventListener("click", function () {
    var table = th.closest("table"), body = table.tBodies[0], column = th.cellIndex;
    var ascending = th.dataset.order !== "asc";
    table.querySelectorAll("th").forEach(function (h) { delete h.dataset.order; });
    th.dataset.order = ascending ? "asc" : "desc";
    var key = function (row) {
      var text = row.cells[column].textContent.trim(), number = parseFloat(text);
      return isNaN(number) ? text : number;
    };
    Array.from(body.rows).sort(function (a, b) {
      var x = key(a), y = key(b);
      var order = (typeof x === "number" && typeof y === "number") ? x - y : String(x).localeCompare(String(y));
      return ascending ? order : -order;
    }).forEach(function (row) { body.appendChild(row); });
  });
});
"""

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; }
th { background: #f4f4f4; cursor: pointer; user-select: none; }
th[data-order="asc"]::after { content: " \\25B2"; } th[data-order="desc"]::after { content: " \\25BC"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { background: #f4f4f4; padding: 0 0.2em; }
.figure { margin: 1em 0; }
"""


@dataclasses.dataclass(frozen=True)
class Statistics:
    """What the interactive figures draw: what :func:`rlzoo.experiments.report.report` computed (``None`` where it drew nothing).

    Attributes
    ----------
    cells, labels, envs: the grouped runs, every label and every env, sorted.
    estimates: the normalised aggregates per label.
    profiles, taus: the performance profiles and their thresholds.
    pairs: the probabilities of improvement.
    curves: the learning curves per (label, env).
    """

    cells: Cells
    labels: list[str]
    envs: list[str]
    estimates: dict[str, Estimate] | None = None
    profiles: dict[str, Estimate] | None = None
    taus: np.ndarray | None = None
    pairs: list[Improvement] | None = None
    curves: dict[tuple[str, str], Curve] | None = None


def figures(statistics: Statistics) -> dict[str, Any]:
    """The interactive figures, by the name of the PNG each replaces.

    Parameters
    ----------
    statistics:
        What the report computed.

    Returns
    -------
    dict[str, Any]
        ``{"aggregate.png": plotly Figure, ...}``.
    """
    s = statistics
    result = {}
    if s.estimates:
        result["aggregate.png"] = plots.aggregate(s.estimates)
    if s.profiles and s.taus is not None:
        result["performance_profile.png"] = plots.performance_profiles(s.profiles, s.taus)
    if s.pairs:
        result["probability_of_improvement.png"] = plots.improvement(s.pairs)
    if s.curves:
        result["sample_efficiency.png"] = plots.sample_efficiency(s.curves, s.cells, s.labels, s.envs)
    return result


def write(path: pathlib.Path, markdown: list[str], statistics: Statistics) -> pathlib.Path:
    """Write the report as one self-contained HTML file, atomically.

    Parameters
    ----------
    path:
        The file to write (``report.html``).
    markdown:
        The Markdown report's lines.
    statistics:
        What the figures draw.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    page = render(markdown, figures(statistics))
    with atomic_write(path) as handle:
        handle.write(page.encode())
    return path


def render(markdown: list[str], interactive: dict[str, Any]) -> str:
    """The page: ``markdown`` as HTML, each figure image replaced by its interactive figure, plotly.js inline.

    Parameters
    ----------
    markdown:
        The report's lines: headings, paragraphs, pipe tables and ``![alt](file.png)`` images.
    interactive:
        ``{file name: plotly Figure}``; an image without one stays a link to its file.

    Returns
    -------
    str
    """
    from plotly.offline import get_plotlyjs  # plotly comes with the report extra

    body = []
    lines = "\n".join(markdown).split("\n")  # an item may hold several lines (a whole table)
    index = 0
    while index < len(lines):
        line = lines[index]
        image = re.fullmatch(r"!\[(.*)\]\((.+)\)", line.strip())
        if line.startswith("|"):
            block = []
            while index < len(lines) and lines[index].startswith("|"):
                block.append(lines[index])
                index += 1
            body.append(_table(block))
            continue
        if image and image.group(2) in interactive:
            figure = interactive[image.group(2)]
            div = figure.to_html(full_html=False, include_plotlyjs=False, config=_CONFIG, div_id=image.group(2).removesuffix(".png"))
            body.append(f'<div class="figure" data-figure="{html.escape(image.group(2))}">{div}</div>')
        elif image:
            body.append(f'<p><a href="{html.escape(image.group(2))}">{html.escape(image.group(1))}</a></p>')
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            body.append(f"<h{level}>{_inline(line[level:].strip())}</h{level}>")
        elif line.strip():
            body.append(f"<p>{_inline(line)}</p>")
        index += 1
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>rlzoo report</title>\n'
        f"<style>{_STYLE}</style>\n<script>{get_plotlyjs()}</script>\n</head>\n<body>\n"
        + "\n".join(body)
        + f"\n<script>{_SORT_SCRIPT}</script>\n</body>\n</html>\n"
    )


def _table(rows: list[str]) -> str:
    """A Markdown pipe table as a sortable HTML table (right-aligned columns stay right-aligned)."""
    cells = [[c.strip() for c in row.strip().strip("|").split("|")] for row in rows]
    header, align, data = cells[0], cells[1] if len(cells) > 1 else [], cells[2:]
    numeric = [a.endswith(":") for a in align]
    head = "".join(f"<th>{_inline(c)}</th>" for c in header)
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=num' if i < len(numeric) and numeric[i] else ''}>{_inline(c)}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in data
    )
    return f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _inline(text: str) -> str:
    """Markdown's inline code (backticks) as ``<code>``; everything else escaped."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{part}</code>" if i % 2 else part for i, part in enumerate(parts))
