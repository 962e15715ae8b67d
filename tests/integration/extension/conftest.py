"""Fixtures of the extension-based worker tests: one 20-host fleet shared by the module's tests, one 10-host
agent-based fleet to migrate (extension_lab.py)."""
import pytest

from extension_lab import HOSTS, MIGRATE_HOSTS, start_fleet  # pylint: disable=import-error


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    lab = start_fleet(tmp_path_factory, "extfleet", HOSTS, "extension")
    try:
        yield lab
    finally:
        lab.stop()


@pytest.fixture(scope="module")
def agent_fleet(tmp_path_factory):
    lab = start_fleet(tmp_path_factory, "migfleet", MIGRATE_HOSTS, "agent")
    try:
        yield lab
    finally:
        lab.stop()
