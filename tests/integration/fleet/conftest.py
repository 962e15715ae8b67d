"""One 20-host lab fleet for the fleet playbook tests, driven the way a user drives the collection.

The Windows lab starts with its own heartbeat timer off; a pump runs a heartbeat round every second instead, so a
test can stop the hosts' background activity (agents reporting, workers pinging) and compare the lab's state files
byte for byte.
"""
import glob
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

    def azure_workers(self):
        """{computer name: [groups]} of the worker records in the Azure lab."""
        found = {}
        for resource in self.labctl("azure")["resources"]:
            if resource["kind"] == "worker":
                found.setdefault(resource["workerName"].lower(), []).append(resource["group"])
        return found

    def heartbeat_computers(self):
        """Computers whose agent heartbeats the Azure lab received (its ingestion store)."""
        with open(os.path.join(self.dir, "azure", "heartbeats.jsonl"), encoding="utf-8") as handle:
            return set(json.loads(line)["row"]["Computer"].lower() for line in handle if line.strip())

    def state_files(self):
        """The lab's persisted state: every simulated host and the Azure lab, as bytes."""
        paths = sorted(glob.glob(os.path.join(self.dir, "windows", "hosts", "*.json")))
        paths += [os.path.join(self.dir, "azure", "state.json"), os.path.join(self.dir, "azure", "heartbeats.jsonl")]
        snapshot = {}
        for path in paths:
            with open(path, "rb") as handle:
                snapshot[os.path.relpath(path, self.dir)] = handle.read()
        return snapshot

    def set_inventory_group(self, host, group):
        """Change a host's worker group in the inventory, as a user editing it would."""
        path = os.path.join(self.dir, "inventory.yml")
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().split("\n")
        start = lines.index("        %s:" % host)
        for index in range(start + 1, len(lines)):
            if lines[index].strip().startswith("hybrid_runbook_worker_group:"):
                lines[index] = "          hybrid_runbook_worker_group: %s" % json.dumps(group)
                break
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines))
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
        lab.pump.stop()
        fleet_lab.labctl(lab_dir, "down", check=False)
