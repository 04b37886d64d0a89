"""``rlzoo report --html``: one self-contained report.html, opened in a real browser (the OS's Chromium, driven by Playwright).

The browser test never skips: without Chromium it fails and says how to install it.
"""

from __future__ import annotations

import pathlib
import re
import shutil
import subprocess
import sys

import pytest
from report_cases import AGENTS, ENVS, write_results

from rlzoo.experiments import report
from rlzoo.experiments.report import Report

REPS = 100
#: The figures report.html draws, by the PNG each replaces.
FIGURES = ("aggregate.png", "performance_profile.png", "probability_of_improvement.png", "sample_efficiency.png")


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return report(write_results(tmp_path_factory.mktemp("results")), reps=REPS, html=True)


@pytest.fixture(scope="module")
def page_file(written: Report) -> pathlib.Path:
    assert written.html is not None
    return written.html


def test_the_report_object_shows_its_table_and_figures_in_a_notebook(written: Report) -> None:
    frame = written.to_dataframe()
    assert len(frame) == len(AGENTS) * len(ENVS) and set(frame["agent"]) == set(AGENTS)
    shown = written._repr_html_()
    assert shown.count("data:image/png;base64,") == 4 and "<table" in shown and "report.html" in shown
    assert written.table in repr(written)


def test_the_html_report_is_one_file_with_no_external_script_style_or_image(page_file: pathlib.Path) -> None:
    page = page_file.read_text()
    assert not re.search(r"<(script|img|iframe)[^>]*\ssrc=", page), "every script and image must be inline"
    assert not re.search(r"<link[^>]*href=", page), "every style must be inline"
    assert "cdn." not in page.split("<body>")[1], "no CDN links in the page's own markup"
    assert page_file.stat().st_size < 5.5e6  # plotly.js is 4.8 MB of it


def test_the_html_report_has_the_markdown_reports_tables_sortable(page_file: pathlib.Path) -> None:
    page = page_file.read_text()
    markdown = (page_file.parent / "report.md").read_text()
    tables = sum(1 for block in re.split(r"\n\n", markdown) if block.startswith("| "))
    assert page.count('<table class="sortable">') == tables >= 4
    for figure in FIGURES:
        assert f'data-figure="{figure}"' in page


def test_cli_report_html_writes_report_html_beside_report_md(page_file: pathlib.Path, tmp_path: pathlib.Path) -> None:
    results = page_file.parent.parent
    done = subprocess.run(
        [sys.executable, "-m", "rlzoo.cli", "report", str(results), "--out", str(tmp_path), "--reps", "20", "--html"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "report.html").is_file() and (tmp_path / "report.md").is_file()


def chromium() -> str:
    """The OS's Chromium, or a failure that says how to get it (this test never skips)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("the browser test needs Chromium from the OS's packages: apt-get install -y chromium (.ci/run installs it)")
    return path


def test_the_html_report_renders_offline_in_chromium_with_hover_and_legend_toggles(page_file: pathlib.Path, tmp_path: pathlib.Path) -> None:
    from playwright.sync_api import sync_playwright

    url = page_file.as_uri()
    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
            context.route("**/*", lambda route: route.continue_() if route.request.url == url else route.abort())
            page = context.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(url, wait_until="load")
            for figure in FIGURES:  # each figure drew its SVG
                page.wait_for_selector(f'[data-figure="{figure}"] .js-plotly-plot .main-svg', timeout=10_000)
            # Hover one point of the aggregate: its values show (force: plotly's drag layer takes the pointer events).
            page.locator('[data-figure="aggregate.png"] .scatterlayer .point').first.hover(force=True)
            hover = page.wait_for_selector('[data-figure="aggregate.png"] .hoverlayer .hovertext', timeout=5_000)
            assert hover is not None and AGENTS[0] in hover.text_content()
            # A legend click hides an agent; the per-seed curves are hidden until their entry is clicked.
            curves = '[data-figure="sample_efficiency.png"] .js-plotly-plot'

            def visible(name: str) -> list[object]:
                return page.evaluate(f"n => document.querySelector('{curves}').data.filter(t => t.name === n).map(t => t.visible)", name)

            def click_legend(name: str, then: object) -> None:
                entry = page.locator(f"{curves} .legend .traces", has_text=re.compile(f"^{re.escape(name)}$"))
                entry.locator(".legendtoggle").click(force=True)
                for _ in range(30):  # plotly waits out its double-click delay before it toggles
                    if set(visible(name)) == {then}:
                        return
                    page.wait_for_timeout(100)
                assert set(visible(name)) == {then}

            assert set(visible(f"{AGENTS[0]}: each seed")) == {"legendonly"}
            click_legend(f"{AGENTS[0]}: each seed", True)
            click_legend(AGENTS[1], "legendonly")
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert errors == [], f"console errors: {errors}"
    assert requests == [url], f"the page asked for more than itself: {requests}"
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_cli_report_help_says_95_percent_once() -> None:
    done = subprocess.run([sys.executable, "-m", "rlzoo.cli", "report", "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "95%" in done.stdout and "%%" not in done.stdout
    assert "--html" in done.stdout
