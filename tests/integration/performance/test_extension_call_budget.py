"""The cost of an extension-based fleet (the default worker type) in WinRM module calls and Azure requests, counted by
the lab, not timed.

A converged host costs one call (win_connected_machine_agent, which reads the Arc agent and the worker service) and no
Azure request of its own; a host whose agent must connect costs two (the first call finds that out without the
service principal secret, the second connects with it), and only those hosts are sent the secret; a host Azure lacks
something for costs Azure requests for that host only; bad inventory inputs stop the run before any request.
onboard.yml runs as a user runs it.
"""
import json
import os
import re
import subprocess
import sys
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "utils"))

# pylint: disable=wrong-import-position
import fleet_lab  # noqa: E402

HOSTS = ("win-001", "win-002", "win-003", "win-004")
GROUPS = ("east", "west")
ARC = "azure_automation.hybrid_worker.win_connected_machine_agent"
AA_API = "2024-10-23"
EXTENSION_PATH = "/providers/Microsoft.HybridCompute/machines/%s/extensions/HybridWorkerExtension"
MACHINE_IN_PATH = re.compile(r"/machines/([^/?]+)", re.IGNORECASE)


class Budget:
    def __init__(self, lab_dir):
        self.dir = lab_dir
        self.lab = fleet_lab.read_lab(lab_dir)
        self.requests_log = os.path.join(lab_dir, "azure", "requests.jsonl")
        self.azure = None

    def onboard(self, *args, expect_rc=0):
        """Run onboard.yml; (run, lab counters, the ARM requests of the run)."""
        fleet_lab.labctl(self.dir, "stats", "--reset")
        offset = os.path.getsize(self.requests_log) if os.path.exists(self.requests_log) else 0
        run = fleet_lab.run_playbook(self.dir, "onboard", *args, forks=len(HOSTS))
        assert (run.rc == 0) == (expect_rc == 0), run.describe()
        stats = fleet_lab.labctl(self.dir, "stats")
        requests = []
        if os.path.exists(self.requests_log):
            with open(self.requests_log, encoding="utf-8") as handle:
                handle.seek(offset)
                requests = [json.loads(line) for line in handle if line.strip()]
        return run, stats, [r for r in requests if r.get("surface") == "arm"]

    def arm(self, method, path, api_version):
        if self.azure is None:
            from ansible_collections.azure_automation.hybrid_worker.tests.lab.windows.testing import AzureSide  # pylint: disable=import-outside-toplevel
            self.azure = AzureSide(self.lab)
        base = "/subscriptions/%s/resourceGroups/%s" % (self.lab["azure"]["subscription_id"], self.lab["azure"]["resource_group"])
        return self.azure.call(method, base + path, api_version)

    def host(self, name):
        return fleet_lab.labctl(self.dir, "host", name)["summary"]

    def worker_records(self, host):
        return [r for r in fleet_lab.labctl(self.dir, "azure")["resources"]
                if r["kind"] == "worker" and (r.get("vmResourceId") or "").lower().endswith("/" + host)]

    def delete_worker_record(self, host):
        """Delete the host's worker record in Azure (portal "Delete"), the extension staying."""
        [worker] = self.worker_records(host)
        status, answer = self.arm("DELETE", "/providers/Microsoft.Automation/automationAccounts/%s/hybridRunbookWorkerGroups/%s/"
                                  "hybridRunbookWorkers/%s" % (self.lab["azure"]["automation_account"], self.group_of(host),
                                                               worker["name"]), AA_API)
        assert status == 200, answer

    def group_of(self, host):
        return self.lab["windows"]["hosts"][host]["group"]


@pytest.fixture(scope="module")
def budget(tmp_path_factory):
    lab_dir = str(tmp_path_factory.mktemp("extension-budget"))
    # worker_type=None: the playbooks' default, extension-based workers.
    fleet_lab.start(lab_dir, len(HOSTS), GROUPS, heartbeat_interval=1, worker_type=None)
    try:
        yield Budget(lab_dir)
    finally:
        fleet_lab.labctl(lab_dir, "down", check=False)


def calls(stats):
    return stats["windows"]["module_calls_per_host"]


def sent_the_secret(stats):
    """{host: {module: calls that carried the service principal secret}}."""
    return stats["windows"]["secret_arguments_per_host"]


def machines(requests):
    return sorted(set(m.group(1).lower() for r in requests for m in MACHINE_IN_PATH.finditer(r["path"])))


def test_missing_arc_inputs_stop_the_run_before_any_request(budget):
    run, stats, requests = budget.onboard("-e", json.dumps({"arc_agent_location": ""}), expect_rc=2)
    assert ("win-001, win-002, win-003, win-004: arc_agent_location empty; connecting a host to Azure Arc needs it, set it "
            "in the inventory (a host or group variable; keep arc_agent_service_principal_secret in a vault). "
            "Nothing was changed.") in run.output
    assert requests == [] and stats["azure"]["arm"]["reads"] == 0
    assert stats["windows"]["commands_total"] == 0


def test_first_onboarding_costs_two_calls_per_host_and_the_secret_goes_in_the_second(budget):
    run, stats, _requests = budget.onboard()
    assert run.changed_hosts() == list(HOSTS)
    assert calls(stats) == dict((host, {ARC: 2}) for host in HOSTS)
    assert sent_the_secret(stats) == dict((host, {ARC: 1}) for host in HOSTS)
    # Azure sees a worker once the machine reports with its extension provisioned; the lab host installs the
    # extension locally in the same sync, just after that report, so its service may start a moment after the run.
    deadline = time.monotonic() + 30
    for host in HOSTS:
        while budget.host(host)["hybrid_worker_v2"]["service"] != "Running":
            assert time.monotonic() < deadline, "%s has no running worker service after its onboarding" % host
            time.sleep(0.5)


def test_converged_host_costs_one_call_no_secret_and_no_azure_request_of_its_own(budget):
    run, stats, requests = budget.onboard()
    assert run.changed_hosts() == []
    assert calls(stats) == dict((host, {ARC: 1}) for host in HOSTS)
    # The agent is connected as asked: the secret (a lookup in the lab's inventory) stays on the controller.
    assert sent_the_secret(stats) == {}
    assert stats["azure"]["arm"]["writes"] == 0, stats["azure"]["arm"]["by_operation"]
    # Nothing per host or machine: the listings per group of the first play are the verification too.
    assert machines(requests) == []
    operations = stats["azure"]["arm"]["by_operation"]
    assert not [op for op in operations if op.startswith(("Machine", "HybridRunbookWorkers_Get", "HybridCompute"))], operations
    # Extension-based workers do not use the agent registration keys: they are not read.
    assert "AgentRegistrationInformation_Get" not in operations, operations
    assert operations["HybridRunbookWorkers_ListByHybridRunbookWorkerGroup"] <= 2 * len(GROUPS), operations
    assert run.messages("Summary per worker group") == ["east: 2/2 onboarded (extension-based), 0 changed",
                                                        "west: 2/2 onboarded (extension-based), 0 changed"]
    # Every host is fine: the play ends without a task per host.
    assert "TASK [Fail each host" not in run.output
    assert "TASK [Worker record and Hybrid Worker extension" not in run.output


def test_what_azure_lacks_is_written_for_that_host_only(budget):
    # win-002: its extension deleted in Azure (the host drops the worker service at its next report);
    # win-003: its worker record deleted.
    status, answer = budget.arm("DELETE", EXTENSION_PATH % "win-002", "2026-09-01")
    assert status in (200, 202, 204), answer
    budget.delete_worker_record("win-003")
    deadline = time.monotonic() + 30
    while budget.host("win-002")["hybrid_worker_v2"]["service"] == "Running":
        assert time.monotonic() < deadline, "win-002 kept its worker service after its extension was deleted"
        time.sleep(0.5)

    run, stats, requests = budget.onboard()
    assert run.changed_hosts() == ["win-002", "win-003"]
    assert calls(stats) == dict((host, {ARC: 1}) for host in HOSTS)
    assert sent_the_secret(stats) == {}
    writes = dict((op, n) for op, n in stats["azure"]["arm"]["by_operation"].items()
                  if op in ("HybridRunbookWorkers_Create", "HybridRunbookWorkers_Delete", "MachineExtensions_CreateOrUpdate",
                            "MachineExtensions_Delete"))
    # win-002 gets its extension again, win-003 its record; nothing is written for the other hosts.
    assert writes == {"HybridRunbookWorkers_Create": 1, "MachineExtensions_CreateOrUpdate": 1}, stats["azure"]["arm"]["by_operation"]
    assert stats["azure"]["arm"]["writes"] == 2
    assert machines(requests) == ["win-002", "win-003"]
    assert [r["path"] for r in requests if r["method"] == "PUT" and "/extensions/" in r["path"].lower()] == [
        next(r["path"] for r in requests if r["method"] == "PUT" and "win-002" in r["path"].lower())]
    assert run.messages("Summary per worker group") == [
        "east: 2/2 onboarded (extension-based), 1 changed (win-003)", "west: 2/2 onboarded (extension-based), 1 changed (win-002)"]

    again, stats, requests = budget.onboard()
    assert again.changed_hosts() == []
    assert stats["azure"]["arm"]["writes"] == 0 and machines(requests) == []


def test_check_mode_writes_nothing_and_says_what_would_change(budget):
    fleet_lab.labctl(budget.dir, "drift", "win-004", "arc-disconnect")
    run, stats, requests = budget.onboard("--check", "--diff")
    assert run.changed_hosts() == ["win-004"]
    assert stats["azure"]["arm"]["writes"] == 0 and [r for r in requests if r["method"] != "GET"] == []
    # win-004 must connect: in check mode too the module asks for the secret before it says what it would do.
    assert calls(stats) == dict((host, {ARC: 2 if host == "win-004" else 1}) for host in HOSTS)
    assert sent_the_secret(stats) == {"win-004": {ARC: 1}}
    assert budget.host("win-004")["arc_agent"]["status"] == "Disconnected"
    assert run.messages("Summary per worker group") == [
        "east: 2/2 would be onboarded (extension-based), 0 would change",
        "west: 2/2 would be onboarded (extension-based), 1 would change (win-004)"]


def test_a_failed_or_unreachable_host_is_named_and_the_others_finish(budget):
    # win-004 is still disconnected (previous test) and now cannot reach Azure Arc; win-001 cannot be reached.
    fleet_lab.labctl(budget.dir, "fault", "win-004", "arc-connect")
    fleet_lab.labctl(budget.dir, "fault", "win-001", "unreachable")
    try:
        run, stats, _requests = budget.onboard(expect_rc=2)
    finally:
        fleet_lab.labctl(budget.dir, "fault", "win-004", "clear")
        fleet_lab.labctl(budget.dir, "fault", "win-001", "clear")
    assert run.recap["win-001"]["unreachable"] == 1
    assert run.recap["win-004"]["failed"] == 1 and run.recap["win-002"]["failed"] == 0
    assert dict((host, n) for host, n in calls(stats).items() if host in ("win-002", "win-003", "win-004")) == {
        "win-002": {ARC: 1}, "win-003": {ARC: 1}, "win-004": {ARC: 2}}
    assert run.messages("Summary per worker group") == [
        "east: 1/2 onboarded (extension-based), 0 changed, unreachable: win-001",
        "west: 1/2 onboarded (extension-based), 0 changed, failed: win-004"]
    assert 'win-004 is failed: failed in "Install and connect the Azure Connected Machine agent":' in run.output
    assert ". Fix the cause and run the playbook again" in run.output and ".. Fix the cause" not in run.output
    assert stats["azure"]["arm"]["writes"] == 0

    # Fixed, a re-run completes the host that failed; the others stay unchanged.
    again, stats, requests = budget.onboard()
    assert again.changed_hosts() == ["win-004"]
    assert machines(requests) == ["win-004"]
    assert budget.host("win-004")["arc_agent"]["status"] == "Connected"


def test_the_role_on_its_own_still_writes_what_azure_lacks(budget):
    """The hybrid_worker_extension role, outside the playbook, shares the controller steps with it."""
    budget.delete_worker_record("win-001")
    playbook = os.path.join(os.path.dirname(__file__), "playbooks", "extension_role.yml")
    for expected in ("changed=True", "changed=False"):
        fleet_lab.labctl(budget.dir, "stats", "--reset")
        proc = subprocess.run(["ansible-playbook", "-i", os.path.join(budget.dir, "inventory.yml"), "-i",
                               os.path.join(budget.dir, "fleet-vars.yml"), playbook, "--limit", "win-001,win-002"],
                              env=fleet_lab.playbook_env(budget.dir, 2), cwd=budget.dir, capture_output=True, text=True,
                              check=False)
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
        stats = fleet_lab.labctl(budget.dir, "stats")
        assert "win-001 %s" % expected in proc.stdout and "win-002 changed=False" in proc.stdout
        writes = stats["azure"]["arm"]["writes"]
        assert writes == (1 if expected == "changed=True" else 0), stats["azure"]["arm"]["by_operation"]
    assert len(budget.worker_records("win-001")) == 1
