"""Real-browser check of RunReport's report.html: Debian's headless Chromium opens it, offline.

Run by `make test-browser` (not by pytest):

    .venv/bin/python tests/browser/check_run_report.py [--report DIR] [--screenshot PATH]

Without `--report` it runs examples/run_report.py into a temporary directory
first. Chromium (/usr/bin/chromium, `apt-get install chromium`) opens the
page with the network off, from a `file://` URL; the check reads the DOM
Chromium built (`--dump-dom`): one curves image decoded from its embedded
`data:` URL, the status and the checkpoint table, no `http` resource. Then it
saves a screenshot (docs/images/run-report.png by default). Chromium is
driven from its command line, so this check needs no Playwright. Exits
non-zero with a message on failure.
"""

from __future__ import annotations

import argparse
import os
import re
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "run_report.py"
DEFAULT_SCREENSHOT = ROOT / "docs" / "images" / "run-report.png"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
    "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",  # any fetch out fails
]


class CheckFailed(Exception):
    """The page did not render as RunReport promises."""


def make_report(workdir: Path) -> Path:
    env = dict(os.environ, MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, str(EXAMPLE), "--output-dir", str(workdir)], check=True,
                   env=env, stdout=subprocess.DEVNULL)
    return workdir / "run_report" / "checkpoints" / "report"


def chromium(*args: str, profile: Path) -> str:
    command = [CHROMIUM, *CHROMIUM_ARGS, f"--user-data-dir={profile}", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise CheckFailed(f"chromium failed ({result.returncode}): {result.stderr[-2000:]}")
    return result.stdout


def check_dom(dom: str) -> None:
    images = re.findall(r'<img[^>]*src="([^"]{0,40})', dom)
    if len(images) != 1 or not images[0].startswith("data:image/png;base64,"):
        raise CheckFailed(f"expected one embedded PNG, found image sources {images}")
    for needed in ("Run report", "Training curves", "Checkpoints", "sha256", "THRESHOLD_REACHED"):
        if needed not in dom:
            raise CheckFailed(f"the page lacks {needed!r}")
    if re.search(r'(src|href)="https?:', dom):
        raise CheckFailed("the page loads something from the network")


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    if header[:8] != b"\x89PNG\r\n\x1a\n":
        raise CheckFailed(f"{path} is not a PNG")
    return struct.unpack(">II", header[16:24])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, help="a RunReport directory; default: run the example")
    parser.add_argument("--screenshot", type=Path, default=DEFAULT_SCREENSHOT)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"check_run_report: {CHROMIUM} not found (apt-get install chromium)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as temporary:
        workdir = Path(temporary)
        report = args.report or make_report(workdir)
        url = (report / "report.html").resolve().as_uri()
        try:
            check_dom(chromium("--dump-dom", url, profile=workdir / "profile-dom"))
            args.screenshot.parent.mkdir(parents=True, exist_ok=True)
            chromium(f"--screenshot={args.screenshot.resolve()}", "--window-size=1100,1500", url,
                     profile=workdir / "profile-shot")
            width, height = png_size(args.screenshot)
        except CheckFailed as failure:
            print(f"check_run_report: FAILED: {failure}", file=sys.stderr)
            return 1
    print(f"check_run_report: OK: {url} rendered; screenshot {args.screenshot} ({width}x{height})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
