"""examples/tutorial.ipynb: executed in a real Jupyter kernel (nbclient) with the short budget, its outputs free of framework noise.

The committed notebook carries the outputs of a full-length run (``RLZOO_TUTORIAL_BUDGET=full``);
CI runs the same cells with ``RLZOO_TUTORIAL_BUDGET=short`` (under a minute on 2 cores here).
"""

from __future__ import annotations

import pathlib
import re

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = pathlib.Path(__file__).resolve().parent.parent / "examples" / "tutorial.ipynb"

#: What framework noise looks like: TensorFlow's and absl's start-up lines, Python warnings, ANSI colours.
NOISE = re.compile(r"tensorflow|absl|cuInit|cudart|oneDNN|Warning|WARN|XDG_RUNTIME_DIR|IProgress|\x1b\[", re.IGNORECASE)


def output_texts(notebook: nbformat.NotebookNode) -> list[tuple[int, str, str]]:
    """Every output's text as (cell index, output kind, text): streams, plain-text results and errors."""
    texts = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                texts.append((index, output.name, output.text))
            elif output.output_type == "error":
                texts.append((index, "error", f"{output.ename}: {output.evalue}"))
            else:
                texts.append((index, output.output_type, output.get("data", {}).get("text/plain", "")))
    return texts


def check_story(notebook: nbformat.NotebookNode) -> None:
    """No error, no stderr, no noise; and the rich outputs the story needs."""
    texts = output_texts(notebook)
    assert [t for t in texts if t[1] in ("error", "stderr")] == []
    assert [t for t in texts if NOISE.search(t[2])] == []
    kinds = {mime for cell in notebook.cells for output in cell.get("outputs", []) for mime in output.get("data", {})}
    assert {"text/html", "image/png", "application/vnd.jupyter.widget-view+json"} <= kinds  # reprs, figures, progress bars
    html = "".join(o["data"].get("text/html", "") for c in notebook.cells for o in c.get("outputs", []) if "data" in o)
    assert "rlzoo Agent" in html and "EvalResult" in html and "rlzoo report" in html and "<video" in html


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> nbformat.NotebookNode:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    workdir = tmp_path_factory.mktemp("tutorial")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RLZOO_TUTORIAL_BUDGET", "short")  # the kernel inherits this process's environment
        patch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)  # as a user's kernel starts (conftest sets one)
        NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}).execute()
    return notebook


def test_the_tutorial_runs_in_a_kernel_with_the_short_budget_and_no_noise(executed: nbformat.NotebookNode) -> None:
    assert "budget short" in executed.cells[1].outputs[0].text
    check_story(executed)


def test_the_committed_tutorial_has_a_full_length_runs_outputs_and_no_noise() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert "budget full" in notebook.cells[1].outputs[0].text
    check_story(notebook)
