"""Lab fleets for the extension-based worker tests, driven as a user drives the collection: the inventory sets
``hybrid_worker_type: extension`` (tests/utils/fleet_lab.py) and the Arc onboarding variables labctl's inventory
holds.

A heartbeat pump stands in for the hosts' background activity (Arc agents reporting, extensions picking up their goal
state, workers being seen), one round per second.
"""
import glob
import json
import os
import sys
import threading

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "utils"))

# pylint: disable=wrong-import-position
import fleet_lab  # noqa: E402

# The acceptance scale: 20 hosts onboard as extension-based workers, a 10-host agent-based fleet migrates.
HOSTS = int(os.environ.get("EXTENSION_TEST_HOSTS", "20"))
MIGRATE_HOSTS = int(os.environ.get("EXTENSION_TEST_MIGRATE_HOSTS", "10"))
GROUPS = ("east", "west")
HEARTBEAT_SECONDS = float(os.environ.get("EXTENSION_TEST_HEARTBEAT_SECONDS", "1"))
AA_API = "2024-10-23"
HC_API = "2026-07-15"


class Fleet(fleet_lab.LabFleet):
    def __init__(self, lab_dir):
        super().__init__(lab_dir, HEARTBEAT_SECONDS)
        self.azure = None
        # When the heartbeat pump was paused for the max-age test.
        self.silent_since = None

    def use_extension(self):
        """Set hybrid_worker_type: extension for the whole fleet (the Arc variables are in labctl's inventory)."""
        fleet_lab.write_fleet_vars(self.dir, worker_type="extension")

    def resources(self, kind):
        return [r for r in self.labctl("azure")["resources"] if r["kind"] == kind]

    def workers(self):
        """{group: sorted [(workerType, vm resource name or computer name)]} of the Azure lab's worker records."""
        found = {}
        for worker in self.resources("worker"):
            vm_name = (worker.get("vmResourceId") or "").rsplit("/", 1)[-1] or worker["workerName"]
            found.setdefault(worker["group"], []).append((worker["workerType"], vm_name.lower()))
        return dict((group, sorted(entries)) for group, entries in found.items())

    def arm(self, method, path, api_version, body=None):
        """An ARM call on a path under the lab's resource group."""
        lab = self.lab["azure"]
        base = "/subscriptions/%s/resourceGroups/%s" % (lab["subscription_id"], lab["resource_group"])
        return self.arm_call(method, base + path, api_version, body)

    def arm_call(self, method, path, api_version=None, body=None):
        if self.azure is None:
            from ansible_collections.azure_automation.hybrid_worker.tests.lab.windows.testing import AzureSide  # pylint: disable=import-outside-toplevel
            self.azure = AzureSide(self.lab)
        return self.azure.call(method, path, api_version, body)

    def logs(self):
        """What the lab logs and records: request logs, server logs, and the hosts' recorded process command lines."""
        texts = []
        for path in [os.path.join(self.dir, "azure", "requests.jsonl"), os.path.join(self.dir, "azure", "server.log"),
                     os.path.join(self.dir, "windows", "server.log")]:
            if os.path.exists(path):
                with open(path, encoding="utf-8", errors="replace") as handle:
                    texts.append(handle.read())
        for path in glob.glob(os.path.join(self.dir, "windows", "hosts", "*.json")):
            with open(path, encoding="utf-8") as handle:
                texts.extend(p.get("command_line") or "" for p in json.load(handle).get("processes", []))
        return "\n".join(texts)


class WorkerKindsObserver:
    """Polls the worker listing of each group through ARM, as a user watching the portal would, while a playbook
    runs, and records per host the worker kinds Azure listed for it, in the order they changed.

    ``timeline()`` -> ``{host: [("HybridV1",), ("HybridV1", "HybridV2"), ("HybridV2",)]}`` (consecutive duplicates
    folded; a host missing from every group shows as ``()``).
    """

    def __init__(self, fleet, seconds=0.2):
        self.fleet = fleet
        self.seconds = seconds
        self.samples = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.errors = []

    def listing(self):
        lab = self.fleet.lab["azure"]
        kinds = dict((host, set()) for host in self.fleet.hosts)
        for group in sorted(set(self.fleet.group_of(h) for h in self.fleet.hosts)):
            path = ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Automation/automationAccounts/%s/"
                    "hybridRunbookWorkerGroups/%s/hybridRunbookWorkers" % (lab["subscription_id"], lab["resource_group"],
                                                                           lab["automation_account"], group))
            status, page = self.fleet.arm_call("GET", path, AA_API)
            while True:
                assert status == 200, page
                for worker in page["value"]:
                    properties = worker["properties"]
                    name = ((properties.get("vmResourceId") or "").rsplit("/", 1)[-1] or properties["workerName"]).lower()
                    if name in kinds:
                        kinds[name].add(properties["workerType"])
                if not page.get("nextLink"):
                    break
                status, page = self.fleet.arm_call("GET", page["nextLink"][len(lab["url"].rstrip("/")):])
        return dict((host, tuple(sorted(found))) for host, found in kinds.items())

    def loop(self):
        while not self.stopping.is_set():
            try:
                self.samples.append(self.listing())
            except Exception as exc:  # pylint: disable=broad-except
                self.errors.append(repr(exc))
            self.stopping.wait(self.seconds)

    def __enter__(self):
        self.samples.append(self.listing())
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopping.set()
        self.thread.join(60)
        self.samples.append(self.listing())

    def timeline(self):
        result = {}
        for host in self.fleet.hosts:
            steps = []
            for sample in self.samples:
                if not steps or steps[-1] != sample[host]:
                    steps.append(sample[host])
            result[host] = steps
        return result


def start_fleet(tmp_path_factory, name, hosts, worker_type):
    lab_dir = str(tmp_path_factory.mktemp(name))
    fleet_lab.start(lab_dir, hosts, GROUPS, heartbeat_interval=3600)
    lab = Fleet(lab_dir)
    if worker_type == "extension":
        lab.use_extension()
    lab.pump.start()
    return lab
