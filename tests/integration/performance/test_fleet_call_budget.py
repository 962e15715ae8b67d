"""The fleet's cost in WinRM module calls (counted by the lab, not timed).

A converged host costs one call (the read-only win_hybrid_worker_info probe); a drifted concern costs its own
module on that host only; a first onboarding costs at most three calls per host. onboard.yml runs as a user runs it.
"""
import json
import os
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "utils"))

# pylint: disable=wrong-import-position
import fleet_lab  # noqa: E402

HOSTS = ("win-001", "win-002", "win-003", "win-004")
PREFIX = "azure_automation.hybrid_worker."
PROBE = PREFIX + "win_hybrid_worker_info"
AGENT = PREFIX + "win_log_analytics_agent"
WORKER = PREFIX + "win_hybrid_runbook_worker"
PSMODULE = "community.windows.win_psmodule"
MODULES_VAR = json.dumps({"hybrid_runbook_worker_powershell_modules": [{"name": "Az.Accounts", "version": "2.19.0"}]})


class Budget:
    def __init__(self, lab_dir):
        self.dir = lab_dir

    def onboard(self, *args):
        fleet_lab.labctl(self.dir, "stats", "--reset")
        run = fleet_lab.run_playbook(self.dir, "onboard", *args, forks=len(HOSTS))
        assert run.rc == 0, run.describe()
        stats = fleet_lab.labctl(self.dir, "stats")
        return run, stats

    def other_group(self, host):
        group = fleet_lab.read_lab(self.dir)["windows"]["hosts"][host]["group"]
        return "west" if group == "east" else "east"

    def drift(self, host, kind, argument=None):
        fleet_lab.labctl(self.dir, "drift", host, kind, *([argument] if argument else []))


@pytest.fixture(scope="module")
def budget(tmp_path_factory):
    lab_dir = str(tmp_path_factory.mktemp("call-budget"))
    fleet_lab.start(lab_dir, len(HOSTS), ("east", "west"), heartbeat_interval=1)
    try:
        yield Budget(lab_dir)
    finally:
        fleet_lab.labctl(lab_dir, "down", check=False)


def calls(stats):
    return stats["windows"]["module_calls_per_host"]


def test_first_onboarding_costs_at_most_three_calls_per_host(budget):
    run, stats = budget.onboard()
    assert run.changed_hosts() == list(HOSTS)
    for host in HOSTS:
        assert calls(stats)[host] == {PROBE: 1, AGENT: 1, WORKER: 1}, host


def test_converged_host_costs_one_call_and_azure_is_not_written(budget):
    run, stats = budget.onboard()
    assert run.changed_hosts() == []
    assert calls(stats) == dict((host, {PROBE: 1}) for host in HOSTS)
    assert stats["windows"]["commands_total"] > 0
    assert stats["azure"]["arm"]["writes"] == 0, stats["azure"]["arm"]["by_operation"]


def test_a_drifted_concern_runs_only_its_module_on_that_host(budget):
    # Each drift on its own host, in one run; the inventory also starts to list a PowerShell module, which every
    # host lacks, so that concern runs everywhere and nothing else does.
    budget.drift("win-002", "stop-service")
    budget.drift("win-004", "move-group", budget.other_group("win-004"))
    run, stats = budget.onboard("-e", MODULES_VAR)
    assert run.changed_hosts() == list(HOSTS)
    expected = dict((host, {PROBE: 1, PSMODULE: 1}) for host in HOSTS)
    expected["win-002"] = {PROBE: 1, AGENT: 1, PSMODULE: 1}
    expected["win-004"] = {PROBE: 1, WORKER: 1, PSMODULE: 1}
    assert calls(stats) == expected

    budget.drift("win-001", "remove-workspace")
    budget.drift("win-003", "remove-psmodule", "Az.Accounts")
    run, stats = budget.onboard("-e", MODULES_VAR)
    assert run.changed_hosts() == ["win-001", "win-003"]
    expected = dict((host, {PROBE: 1}) for host in HOSTS)
    expected["win-001"] = {PROBE: 1, AGENT: 1}
    expected["win-003"] = {PROBE: 1, PSMODULE: 1}
    assert calls(stats) == expected
    assert stats["azure"]["arm"]["writes"] == 0, stats["azure"]["arm"]["by_operation"]


def test_a_worker_azure_forgot_costs_two_worker_calls_on_that_host_only(budget):
    budget.drift("win-003", "delete-azure-worker")
    run, stats = budget.onboard()
    assert run.changed_hosts() == ["win-003"]
    expected = dict((host, {PROBE: 1}) for host in HOSTS)
    # Leave the group on the host, then register again: the worker module's two calls.
    expected["win-003"] = {PROBE: 1, WORKER: 2}
    assert calls(stats) == expected


def test_converged_run_reads_azure_once_and_does_not_read_it_again(budget):
    run, stats = budget.onboard()
    assert run.changed_hosts() == []
    by_operation = stats["azure"]["arm"]["by_operation"]
    # One listing per group (east, west) and one heartbeat query, all before the host play; with no host changed
    # they are the verification, so nothing is listed or queried a second time.
    assert by_operation["HybridRunbookWorkers_ListByHybridRunbookWorkerGroup"] == 2, by_operation
    assert stats["azure"]["query"]["requests"] == 1
    # One credential for the whole Azure side: one token per audience (ARM, Log Analytics query API).
    assert stats["azure"]["token"]["requests"] == 2
    assert "Summary per worker group" in run.output
    assert run.messages("Summary per worker group") == ["east: 2/2 onboarded, 0 changed", "west: 2/2 onboarded, 0 changed"]
