"""One 20-host lab fleet for the fleet playbook tests, driven the way a user drives the collection.

The Windows lab starts with its own heartbeat timer off; a pump runs a heartbeat round every second instead, so a
test can stop the hosts' background activity (agents reporting, workers pinging) and compare the lab's state files
byte for byte.
"""
import json
import os
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "utils"))

# pylint: disable=wrong-import-position
import fleet_lab  # noqa: E402

HOSTS = 20
GROUPS = ("east", "west", "sql")
HEARTBEAT_SECONDS = float(os.environ.get("FLEET_TEST_HEARTBEAT_SECONDS", "1"))


class Fleet(fleet_lab.LabFleet):
    def __init__(self, lab_dir):
        super().__init__(lab_dir, HEARTBEAT_SECONDS)
        # WinRM module calls of one converged host, as the converged re-run measured them.
        self.converged_calls = None

    def heartbeat_computers(self):
        """Computers whose agent heartbeats the Azure lab received (its ingestion store)."""
        with open(os.path.join(self.dir, "azure", "heartbeats.jsonl"), encoding="utf-8") as handle:
            return set(json.loads(line)["row"]["Computer"].lower() for line in handle if line.strip())

    def set_inventory_group(self, host, group):
        """Change a host's worker group in the inventory, as a user editing it would."""
        path = os.path.join(self.dir, "inventory.yml")
        with open(path, encoding="utf-8") as handle:
            text = fleet_lab.inventory_with_group(handle.read(), host, group)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        self.lab["windows"]["hosts"][host]["group"] = group


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    lab_dir = str(tmp_path_factory.mktemp("fleet"))
    # One PowerShell module for the runbooks, so that the module concern is onboarded and can drift too.
    fleet_lab.start(lab_dir, HOSTS, GROUPS, heartbeat_interval=3600,
                    extra_vars={"hybrid_runbook_worker_powershell_modules": [{"name": "Az.Accounts", "version": "2.19.0"}]})
    lab = Fleet(lab_dir)
    lab.pump.start()
    try:
        yield lab
    finally:
        lab.stop()
