"""The reliability suite's lab: a small fleet (Azure lab + simulated Windows servers) driven through the fleet
playbooks as a user drives them, with the snapshots the suite compares (host state, Azure resources, secrets)."""
import glob
import json
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "utils"))

# pylint: disable=wrong-import-position
import fleet_lab  # noqa: E402
from ansible_collections.azure_automation.hybrid_worker.tests.lab.azure.testing import LabControl  # noqa: E402

HEARTBEAT_SECONDS = 1.0


# --- the lab ------------------------------------------------------------------------------------------------------

class ReliabilityLab:
    """One lab (Azure + a few simulated Windows servers) and the fleet playbooks run against it as a user runs them."""

    def __init__(self, lab_dir):
        self.dir = lab_dir
        self.lab = fleet_lab.read_lab(lab_dir)
        self.hosts = sorted(self.lab["windows"]["hosts"])
        self.tenant = self.lab["azure"]["env"]["AZURE_TENANT"]
        # A heartbeat round every second; paused, nothing changes the lab's state files in the background.
        self.pump = fleet_lab.HeartbeatPump(lab_dir, HEARTBEAT_SECONDS)
        self.host_vars_path = os.path.join(lab_dir, "reliability-hosts.yml")
        self.set_host_vars({})

    @classmethod
    def start(cls, lab_dir, profiles, groups=("east", "west"), extra_vars=None, pump=True):
        fleet_lab.labctl(lab_dir, "up", "--hosts", str(len(profiles)), "--groups", ",".join(groups),
                         "--profile", ",".join(profiles), "--heartbeat-interval", "3600",
                         "--hybrid-registration-delay", "0.2")
        variables = {"hybrid_runbook_worker_wait_timeout": 5}
        variables.update(extra_vars or {})
        fleet_lab.write_fleet_vars(lab_dir, variables)
        lab = cls(lab_dir)
        if pump:
            lab.pump.start()
        return lab

    def stop(self):
        if self.pump.thread.is_alive():
            self.pump.stop()
        fleet_lab.labctl(self.dir, "down", check=False)

    def group_of(self, host):
        return self.lab["windows"]["hosts"][host]["group"]

    def set_host_vars(self, host_vars):
        """A third inventory source with per-host variables (connection timeouts, remedies), as a user's host_vars."""
        with open(self.host_vars_path, "w", encoding="utf-8") as handle:
            json.dump({"all": {"children": {"windows": {"hosts": host_vars}}}}, handle, indent=2)

    def run(self, playbook, *args, env=None, verbosity=None, inventory=None):
        """ansible-playbook with the collection's playbook (FQCN) or a playbook file, the lab's inventory and env."""
        inventory = ["-i", inventory or os.path.join(self.dir, "inventory.yml"),
                     "-i", os.path.join(self.dir, "fleet-vars.yml"), "-i", self.host_vars_path]
        target = playbook if playbook.endswith(".yml") else "azure_automation.hybrid_worker." + playbook
        argv = inventory + [target] + list(args) + ([verbosity] if verbosity else [])
        environment = fleet_lab.playbook_env(self.dir)
        environment.update(env or {})
        proc = subprocess.run(["ansible-playbook"] + argv, env=environment, cwd=self.dir, capture_output=True,
                              text=True, check=False, timeout=600)
        return fleet_lab.PlaybookRun(argv, proc)

    def labctl(self, *args):
        return fleet_lab.labctl(self.dir, *args)

    def host(self, name):
        return self.labctl("host", name)

    def registered_group(self, name):
        return self.host(name)["summary"]["hrw"]["registered_group"]

    def stats(self, reset=False):
        return self.labctl("stats", *(["--reset"] if reset else []))

    def azure_resources(self):
        return self.labctl("azure")["resources"]

    def azure_workers(self):
        """{computer name (lower case): [groups]} of the worker records in the Azure lab."""
        return fleet_lab.workers_by_computer(self.azure_resources())

    def unfinished_azure_resources(self):
        """Resources left half-made: any provisioning state other than Succeeded."""
        return sorted("%s %s: %s" % (r["kind"], r["name"], r["provisioningState"]) for r in self.azure_resources()
                      if r.get("provisioningState") not in (None, "Succeeded"))

    def state_files(self):
        """Every simulated host's state and the Azure lab's state, as bytes (pause the pump first)."""
        return fleet_lab.state_files(self.dir)

    def host_states(self):
        paths = sorted(glob.glob(os.path.join(self.dir, "windows", "hosts", "*.json")))
        snapshot = {}
        for path in paths:
            with open(path, "rb") as handle:
                snapshot[os.path.basename(path)] = handle.read()
        return snapshot

    def secrets(self):
        """Every secret the lab holds: client secret, account (registration) keys, workspace keys, host passwords."""
        found = set()

        def walk(node):
            if isinstance(node, dict):
                for child in node.values():
                    walk(child)
            elif isinstance(node, list):
                for child in node:
                    walk(child)
            elif isinstance(node, str) and len(node) >= 8:
                found.add(node)
        walk(LabControl(self.dir).secrets())
        with open(os.path.join(self.dir, "windows", "fleet.json"), encoding="utf-8") as handle:
            found.update(h["password"] for h in json.load(handle)["hosts"])
        found.add(self.lab["azure"]["env"]["AZURE_SECRET"])
        return found


def first_failure(run):
    """What the operator reads first: the first ``[ERROR]: Task failed:`` line (shown even for a ``no_log`` task,
    whose result is censored), else the first ``fatal:`` result's msg."""
    match = re.search(r"^\[ERROR\]: Task failed: (?:Module failed: |Action failed: )?(.*?)(?:\nOrigin: |\n\n)",
                      run.output, re.MULTILINE | re.DOTALL)
    if match:
        return " ".join(match.group(1).split())
    found = fatal_messages(run)
    return found[0] if found else None


def fatal_messages(run, host_pattern=r"[^\]]+"):
    """The msg of every ``fatal: [host]`` result in the output (JSON result format, one or more lines)."""
    decoder = json.JSONDecoder()
    found = []
    for match in re.finditer(r"^fatal: \[(%s)\]: (?:UNREACHABLE|FAILED)! => " % host_pattern, run.output, re.MULTILINE):
        result, _end = decoder.raw_decode(run.output, match.end())
        found.append(result.get("msg"))
    return found


def converged(lab, hosts):
    """Problems that keep ``hosts`` from being converged: each registered in its group on the host and in Azure."""
    problems = []
    workers = lab.azure_workers()
    for host in hosts:
        if lab.registered_group(host) != lab.group_of(host):
            problems.append("%s registered in %s on the host" % (host, lab.registered_group(host)))
        if workers.get(host) != [lab.group_of(host)]:
            problems.append("%s listed in Azure groups %s" % (host, workers.get(host)))
    return problems
