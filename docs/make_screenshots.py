"""Generate the README's screenshots with headless Chromium (the OS's package, driven by Playwright).

    python docs/make_screenshots.py --sweep runs/tutorial/sweep

- ``docs/screenshots/notebook.png``: examples/tutorial.ipynb as committed (its full-length run's
  outputs), rendered by nbconvert;
- ``docs/screenshots/report_html.png``: benchmarks/results/cartpole/report.html;
- ``docs/screenshots/tensorboard_hparams.png``: TensorBoard's HParams dashboard on ``--sweep``'s runs
  (written by ``rlzoo sweep --tensorboard``'s writer), served on 127.0.0.1 only, waited for at most
  60 s, then stopped.

Each PNG is cropped to the viewport and kept small (under 300 KB).
"""

from __future__ import annotations

import argparse
import contextlib
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator

from playwright.sync_api import Page, sync_playwright

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"


def notebook(page: Page, scratch: pathlib.Path) -> None:
    import nbconvert
    import nbformat

    notebook = nbformat.read(ROOT / "examples" / "tutorial.ipynb", as_version=4)
    body, _ = nbconvert.HTMLExporter(template_name="classic").from_notebook_node(notebook)
    page_file = scratch / "tutorial.html"
    page_file.write_text(body)
    page.set_viewport_size({"width": 1000, "height": 1100})
    page.goto(page_file.as_uri(), wait_until="load")
    target = page.locator("h2", has_text="The keras-rl2 recipe").first
    page.evaluate("el => el.scrollIntoView()", target.element_handle())
    page.screenshot(path=str(OUT / "notebook.png"))


def report(page: Page) -> None:
    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto((ROOT / "benchmarks" / "results" / "cartpole" / "report.html").as_uri(), wait_until="load")
    heading = page.locator("h2", has_text="Across envs").first
    page.locator('[data-figure="aggregate.png"] .main-svg').first.wait_for()
    page.evaluate("el => el.scrollIntoView()", heading.element_handle())
    page.locator('[data-figure="aggregate.png"] .scatterlayer .point').nth(4).hover(force=True)  # a hover label
    page.wait_for_timeout(500)
    page.screenshot(path=str(OUT / "report_html.png"))


@contextlib.contextmanager
def tensorboard(log_dir: pathlib.Path) -> Iterator[str]:
    """TensorBoard on 127.0.0.1 and a free port; stopped on exit."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [str(pathlib.Path(sys.executable).parent / "tensorboard"), "--logdir", str(log_dir)]
    command += ["--host", "127.0.0.1", "--port", str(port)]  # this machine only
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"TensorBoard did not answer at {url} within 60 s") from None
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def hparams(page: Page, sweep: pathlib.Path, scratch: pathlib.Path) -> None:
    from rlzoo.experiments.hparams import write_hparams

    log_dir = scratch / "tb"
    write_hparams(sweep, log_dir)
    with tensorboard(log_dir) as url:
        page.set_viewport_size({"width": 1800, "height": 560})
        page.goto(f"{url}/#hparams", wait_until="networkidle")
        page.get_by_text("rlzoo/final_mean").first.wait_for(timeout=30_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(OUT / "tensorboard_hparams.png"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", required=True, type=pathlib.Path, help="a results directory written by rlzoo sweep")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("needs Chromium from the OS's packages: apt-get install -y chromium")
    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            notebook(page, pathlib.Path(scratch))
            report(page)
            hparams(page, args.sweep, pathlib.Path(scratch))
        finally:
            browser.close()
    for png in sorted(OUT.glob("*.png")):
        print(png.relative_to(ROOT), f"{png.stat().st_size / 1000:.0f} KB")


if __name__ == "__main__":
    main()
