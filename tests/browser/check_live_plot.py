"""Real-browser check of LivePlot: JupyterLab + Debian's Chromium, driven by Playwright.

Run by `make test-browser` (not by pytest):

    .venv/bin/python tests/browser/check_live_plot.py [--epochs 80] [--screenshot PATH]

It copies examples/live_plot.ipynb to a temporary directory, starts JupyterLab
on 127.0.0.1 with a random token, opens the notebook in /usr/bin/chromium
(headless; Playwright never downloads a browser here), runs all cells and
watches the training cell while it runs. It checks that the cell shows exactly
one plot image, whose `src` changes during training (updated in place, not
appended), and that the text printed before and during training stays. Then
it saves a screenshot (docs/images/live-plot-jupyter.png by default).

Needs: `pip install -e '.[browser]'` (jupyterlab, playwright) and
`apt-get install chromium`. Exits non-zero with a message on failure.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "examples" / "live_plot.ipynb"
DEFAULT_SCREENSHOT = ROOT / "docs" / "images" / "live-plot-jupyter.png"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
KERNEL_IDLE = """() => {
    const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = widget && widget.sessionContext && widget.sessionContext.session
        && widget.sessionContext.session.kernel;
    return Boolean(kernel) && kernel.status === "idle";
}"""


class CheckFailed(Exception):
    """The page did not behave as LivePlot promises."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_lab_settings(settings_dir: Path) -> None:
    # No news or update pop-ups over the screenshot; nothing is fetched anyway.
    target = settings_dir / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))


def start_lab(workdir: Path, port: int, token: str, epochs: int, log: Path) -> subprocess.Popen:
    settings = workdir / ".lab-settings"
    write_lab_settings(settings)
    env = dict(os.environ)
    env.pop("KERASTOOLS_LIVEPLOT", None)  # the notebook's own default: auto -> notebook
    env.update(
        LIVE_PLOT_EPOCHS=str(epochs),
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(workdir / ".lab-workspaces"),
        JUPYTER_RUNTIME_DIR=str(workdir / ".jupyter-runtime"),
        JUPYTER_CONFIG_DIR=str(workdir / ".jupyter-config"),
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    command = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={workdir}",
        "--LabApp.expose_app_in_browser=True",
        "--ServerApp.open_browser=False",
        "--LabApp.extension_manager=readonly",  # no PyPI queries
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI runners often are root
    return subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=workdir)


def wait_for_lab(port: int, token: str, server: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/api/status?token={token}"
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CheckFailed(f"JupyterLab exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (localhost)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise CheckFailed(f"JupyterLab did not answer on port {port} within {timeout:.0f} s")


# The training cell is the code cell that creates the LivePlot.
TRAINING_MARK = "kt.callbacks.LivePlot("
# Installed before the cells run: records every image source the training
# cell shows and the most images it held at once, whatever the polling rate.
OBSERVER = """(TRAINING) => {
    const seen = {sources: [], maxImages: 0, text: ""};
    window.__livePlotSeen = seen;
    const notebook = window.jupyterapp.shell.currentWidget.content;
    const record = () => {
        const widget = notebook.widgets.find(
            (candidate) => candidate.model.type === "code" && candidate.model.sharedModel.getSource().includes(TRAINING));
        if (!widget) return;
        const cell = widget.node;
        const images = cell.querySelectorAll(".jp-OutputArea-output img");
        seen.maxImages = Math.max(seen.maxImages, images.length);
        for (const image of images) {
            const source = image.getAttribute("src") || "";
            const key = source.length + ":" + source.slice(-80);
            if (source && seen.sources[seen.sources.length - 1] !== key) seen.sources.push(key);
        }
        seen.finalImages = images.length;
        seen.text = cell.querySelector(".jp-OutputArea")?.innerText || "";
    };
    new MutationObserver(record).observe(document.body, {
        subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["src"],
    });
}"""


def watch_training(page, timeout: float) -> dict:
    """Wait until the training cell prints 'Done:'; return what the observer saw."""
    try:
        page.wait_for_function("() => (window.__livePlotSeen.text || '').includes('Done:')", timeout=timeout * 1000)
    except Exception as error:  # Playwright's TimeoutError
        text = page.evaluate("() => window.__livePlotSeen.text")
        raise CheckFailed(f"training did not finish within {timeout:.0f} s; output so far:\n{text[-2000:]}") from error
    seen = page.evaluate("() => window.__livePlotSeen")
    return {"sources": seen["sources"], "max_images": seen["maxImages"],
            "final_images": seen.get("finalImages", 0), "text": seen["text"]}


SCROLL_TO_TRAINING = """async (TRAINING) => {
    window.jupyterapp.shell.collapseLeft();
    const notebook = window.jupyterapp.shell.currentWidget.content;
    const index = notebook.widgets.findIndex(
        (cell) => cell.model.type === "code" && cell.model.sharedModel.getSource().includes(TRAINING));
    notebook.activeCellIndex = index;
    await notebook.scrollToCell(notebook.widgets[index], "start");
}"""


def run_check(epochs: int, screenshot: Path, timeout: float) -> dict:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        raise CheckFailed(f"{CHROMIUM} not found: apt-get install -y chromium")
    workdir = Path(tempfile.mkdtemp(prefix="kerastools-browser-"))
    shutil.copy(NOTEBOOK, workdir / NOTEBOOK.name)
    port, token = free_port(), secrets.token_hex(16)
    log = workdir / "jupyterlab.log"
    server = start_lab(workdir, port, token, epochs, log)
    try:
        wait_for_lab(port, token, server)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/lab/tree/{NOTEBOOK.name}?token={token}")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            try:
                # Run only once the notebook's kernel is started and idle.
                page.wait_for_function(KERNEL_IDLE, timeout=120_000)
                page.evaluate(OBSERVER, TRAINING_MARK)
                page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
                seen = watch_training(page, timeout)
            except (CheckFailed, PlaywrightError) as error:
                page.screenshot(path=str(workdir / "failure.png"))
                raise CheckFailed(f"{error}\n(page: {workdir / 'failure.png'}, server log: {log})") from error
            # Frame the training cell: its code, the text above the plot and the plot.
            page.evaluate(SCROLL_TO_TRAINING, TRAINING_MARK)
            page.wait_for_timeout(1000)
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot))
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    shutil.rmtree(workdir, ignore_errors=True)  # kept only on failure, for its log and page
    return seen


def verify(seen: dict, epochs: int) -> list[str]:
    problems = []
    if seen["max_images"] != 1 or seen["final_images"] != 1:
        problems.append(f"expected exactly one plot image, saw at most {seen['max_images']}, {seen['final_images']} at the end")
    distinct = {source for source in seen["sources"] if source}
    # The first redraw, at least one while training runs, and the final one.
    if len(distinct) < 3:
        problems.append(f"the image src changed too rarely during training ({len(distinct)} distinct, want >= 3)")
    text = seen["text"]
    for expected in ("Training starts; the plot below updates in place.", "Epoch 1/", f"Epoch {epochs}/{epochs}", "Done:"):
        if expected not in text:
            problems.append(f"missing text in the training cell: {expected!r}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=80, help="training length in the notebook")
    parser.add_argument("--screenshot", type=Path, default=DEFAULT_SCREENSHOT)
    parser.add_argument("--timeout", type=float, default=300, help="seconds for the training cell")
    args = parser.parse_args(argv)
    try:
        seen = run_check(args.epochs, args.screenshot, args.timeout)
    except CheckFailed as error:
        print(f"FAIL: {error}", file=sys.stderr)
        return 1
    problems = verify(seen, args.epochs)
    distinct = len({source for source in seen["sources"] if source})
    print(f"plot images in the training cell: {seen['final_images']} (most at once: {seen['max_images']})")
    print(f"distinct image sources seen while training: {distinct}")
    print("last lines of the training cell:", *seen["text"].strip().splitlines()[-2:], sep="\n  ")
    print(f"screenshot: {args.screenshot}")
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    if not problems:
        print("OK: one plot, updated in place; printed text kept")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
