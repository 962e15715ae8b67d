"""A small Windows fleet per test module, reached by the real winrm connection through the inventory labctl wrote."""
import os
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lab"))

# pylint: disable=wrong-import-position
from windows.testing import WindowsLab  # noqa: E402


@pytest.fixture(scope="module")
def windows_lab_factory(tmp_path_factory):
    """Start fleets for the module (``factory(hosts=..., profile=...)``); all are stopped when the module ends."""
    started = []

    def factory(**kwargs):
        lab = WindowsLab.start(str(tmp_path_factory.mktemp("winlab")), **kwargs)
        started.append(lab)
        return lab
    yield factory
    for lab in started:
        lab.stop()
