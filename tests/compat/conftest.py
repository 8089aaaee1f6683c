"""The compatibility suite draws its plots to files, as a script would."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _plots_to_files(monkeypatch):
    # The test session turns LivePlot off; here the plot file is part of what is checked.
    monkeypatch.delenv("KERASTOOLS_LIVEPLOT", raising=False)
