"""A small Windows fleet per test module, reached by the real winrm connection through the inventory labctl wrote."""
import pytest

from ansible_collections.azure_automation.hybrid_worker.tests.lab.windows.testing import WindowsLab


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
