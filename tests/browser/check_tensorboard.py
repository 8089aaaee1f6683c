"""TensorBoard itself showing a kerastools run next to a Keras `TensorBoard` run, in headless Chromium.

Run by `make test-browser` (not by pytest):

    .venv/bin/python tests/browser/check_tensorboard.py [--screenshot PATH]

It runs examples/tensorboard_logging.py on the TensorFlow backend with
`--with-keras` (the same model logged by `kt.callbacks.standard(tensorboard=...)`
and by `keras.callbacks.TensorBoard`), starts the real `tensorboard` server on
127.0.0.1 (a free port), checks through its HTTP API that both runs' `epoch_loss`
are there, then Debian's Chromium (/usr/bin/chromium, `apt-get install chromium`)
takes a screenshot of the Time Series page filtered to `epoch_loss` and
`epoch_accuracy` (docs/images/tensorboard.png by default). The charts are drawn
as SVG (`forceSVG`): headless Chromium has no WebGL. The server is stopped at
the end; nothing but loopback is reached. Exits non-zero with a message on failure.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "tensorboard_logging.py"
DEFAULT_SCREENSHOT = ROOT / "docs" / "images" / "tensorboard.png"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--proxy-server=127.0.0.1:9",  # anything but loopback fails
]
EPOCHS = 8
RUNS = ("kerastools/train", "kerastools/validation", "keras/train", "keras/validation")
MIN_CHART_PIXELS = 1500  # two cards with four curves each; empty cards have none
PAGE = "/?forceSVG=true&tagFilter=epoch_(loss%7Caccuracy)&runFilter=%5Ekeras&smoothing=0#timeseries"


class CheckFailed(Exception):
    """TensorBoard did not show what it should."""


def make_logs(workdir: Path) -> Path:
    env = dict(os.environ, KERAS_BACKEND="tensorflow", MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, str(EXAMPLE), "--output-dir", str(workdir), "--with-keras",
                    "--epochs", str(EPOCHS)], check=True, env=env, stdout=subprocess.DEVNULL)
    return workdir / "tensorboard"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch(url: str) -> object:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
        return json.loads(response.read())


def wait_for_runs(base: str, server: subprocess.Popen, timeout: float = 120.0) -> dict[str, list]:
    """`epoch_loss` of every run, once the server reads them all."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CheckFailed(f"tensorboard exited with {server.returncode}")
        try:
            found = {}
            for run in RUNS:
                query = urllib.parse.urlencode({"run": run, "tag": "epoch_loss"})
                found[run] = fetch(f"{base}/data/plugin/scalars/scalars?{query}")
            if all(len(points) == EPOCHS for points in found.values()):
                return found
        except (urllib.error.URLError, ConnectionError, json.JSONDecodeError):
            pass
        time.sleep(1)
    raise CheckFailed(f"tensorboard did not serve epoch_loss of {RUNS} within {timeout:.0f} s")


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    if header[:8] != b"\x89PNG\r\n\x1a\n":
        raise CheckFailed(f"{path} is not a PNG")
    return struct.unpack(">II", header[16:24])


def chart_pixels(path: Path) -> int:
    """Coloured pixels in the two chart cards: their lines and the run colours of their tables."""
    from matplotlib import image

    pixels = image.imread(str(path))[170:560, 290:1130, :3]  # the cards, at --window-size=1400,1000
    return int(((pixels.max(axis=2) - pixels.min(axis=2)) > 0.25).sum())


def screenshot(url: str, target: Path, profile: Path, tries: int = 4) -> int:
    """Screenshot `url` until the charts are drawn (TensorBoard fills its cards when their data
    arrives, which may be after Chromium's virtual time ran out); return their coloured pixels."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, tries + 1):
        command = [CHROMIUM, *CHROMIUM_ARGS, f"--user-data-dir={profile}-{attempt}",
                   "--window-size=1400,1000", "--virtual-time-budget=30000",
                   f"--screenshot={target.resolve()}", url]
        result = subprocess.run(command, capture_output=True, text=True, timeout=180)
        if result.returncode != 0:
            raise CheckFailed(f"chromium failed ({result.returncode}): {result.stderr[-2000:]}")
        drawn = chart_pixels(target)
        if drawn >= MIN_CHART_PIXELS:
            return drawn
        time.sleep(2)
    raise CheckFailed(f"the charts stayed empty in {tries} screenshots ({drawn} coloured pixels)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", type=Path, default=DEFAULT_SCREENSHOT)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"check_tensorboard: {CHROMIUM} not found (apt-get install chromium)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as temporary:
        workdir = Path(temporary)
        logs = make_logs(workdir)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with open(workdir / "server.log", "wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "tensorboard.main", "--logdir", str(logs), "--host", "127.0.0.1",
                 "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
        try:
            losses = wait_for_runs(base, server)
            drawn = screenshot(base + PAGE, args.screenshot, workdir / "profile")
            width, height = png_size(args.screenshot)
        except CheckFailed as failure:
            print(f"check_tensorboard: FAILED: {failure}\n{(workdir / 'server.log').read_text()[-2000:]}",
                  file=sys.stderr)
            return 1
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    last = {run: points[-1][2] for run, points in losses.items()}
    print(f"check_tensorboard: OK: {', '.join(RUNS)} served ({EPOCHS} epochs; last epoch_loss {last}); "
          f"screenshot {args.screenshot} ({width}x{height}, {drawn} coloured chart pixels)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
