"""examples/live_plot.ipynb in a real Jupyter kernel: one plot output, updated in place.

The kernel receives `display_data` once and `update_display_data` afterwards;
nbclient applies the updates to the saved outputs like a front end does, so
the training cell must end with exactly one image and every line of text the
cell printed before and during training.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "live_plot.ipynb"
RECIPE = ROOT / "docs" / "recipes" / "live-plot-jupyter.md"


def training_cell(notebook):
    return next(cell for cell in notebook.cells if cell.get("id") == "train")


def test_notebook_shows_one_plot_and_keeps_printed_text(monkeypatch, tmp_path):
    # conftest turns LivePlot off for the test session; the kernel inherits
    # this environment, so put the notebook back in its default mode.
    monkeypatch.setenv("KERASTOOLS_LIVEPLOT", "auto")
    monkeypatch.setenv("LIVE_PLOT_EPOCHS", "12")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()

    outputs = training_cell(notebook).outputs
    images = [output for output in outputs if "image/png" in output.get("data", {})]
    assert len(images) == 1, [output.get("output_type") for output in outputs]
    assert images[0]["output_type"] == "display_data"
    assert images[0]["data"]["image/png"].startswith("iVBORw0KGgo")  # base64 of the PNG signature
    text = "".join(output.get("text", "") for output in outputs if output["output_type"] == "stream")
    assert "Training starts; the plot below updates in place." in text  # printed before fit
    epoch_lines = re.findall(r"^Epoch (\d+)/12$", text, flags=re.MULTILINE)  # printed during fit
    assert epoch_lines == [str(epoch) for epoch in range(1, 13)]
    assert re.search(r"Done: 12 epochs, \d+ redraws\.", text)
    assert not any(output["output_type"] == "error" for cell in notebook.cells for output in cell.get("outputs", []))
    assert list(tmp_path.iterdir()) == []  # in a notebook, no live_plot.png lands in the working directory


def test_recipe_shows_the_notebook_training_cell():
    # The docs page quotes the cell; keep the two identical.
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert training_cell(notebook).source.strip() in RECIPE.read_text()
