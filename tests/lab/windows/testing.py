"""Test helpers for the Windows fleet lab, for any test folder.

Import it through the collection path (on ``PYTHONPATH`` under ``make``), never by putting ``tests/lab`` on
``sys.path`` in a process that also uses the Azure SDKs (the Azure lab's ``azure`` package would hide theirs)::

    from ansible_collections.azure_automation.hybrid_worker.tests.lab.windows.testing import WindowsLab

    lab = WindowsLab.start(tmp_dir, hosts=3, groups="g1,g2", profile="2019,2016+agent-old")
    result = lab.run_play([{"ansible.windows.win_ping": {}}])      # one play against group `windows`
    assert result.ok("win-001", 0)
    state = lab.host("win-001")                                      # what `labctl host` prints
    lab.fault("win-002", "unreachable"); lab.fault("win-002", "clear")
    lab.drift("win-001", "stop-service")
    lab.stats(reset=True)
    lab.stop()

Everything goes through ``labctl`` (so tests exercise the same commands people use) and the real ``ansible-playbook``
with the inventory ``labctl up`` wrote; results come from the ``ansible.posix.json`` callback.
"""
import contextlib
import json
import os
import subprocess
import sys
import tempfile

LAB_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT_ROOT = os.path.dirname(os.path.dirname(LAB_ROOT))
LABCTL = os.path.join(LAB_ROOT, "labctl")


def ansible_env(extra=None):
    """Environment for ansible-playbook: the checkout as the collection, JSON results, no host key/retry files."""
    bin_dir = os.path.dirname(sys.executable)
    collections = os.path.join(PROJECT_ROOT, ".build", "collections")
    env = dict(os.environ)
    env.update({
        "PATH": bin_dir + os.pathsep + env.get("PATH", ""),
        "ANSIBLE_COLLECTIONS_PATH": collections,
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "ANSIBLE_HOST_KEY_CHECKING": "false",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_DEPRECATION_WARNINGS": "false",
        "ANSIBLE_LOCAL_TEMP": os.path.join(tempfile.gettempdir(), "ansible-local-%d" % os.getuid()),
    })
    env.update(extra or {})
    return env


class PlayResult:
    """Per-host task results of one ``ansible-playbook`` run (``ansible.posix.json`` callback)."""

    def __init__(self, returncode, data, stderr):
        self.returncode = returncode
        self.data = data
        self.stderr = stderr

    def tasks(self, play=0):
        return self.data["plays"][play]["tasks"]

    def result(self, host, task=0, play=0):
        return self.tasks(play)[task]["hosts"].get(host)

    def ok(self, host, task=0, play=0):
        res = self.result(host, task, play)
        return res is not None and not res.get("failed") and not res.get("unreachable")

    @property
    def stats(self):
        return self.data.get("stats", {})


class WindowsLab:
    def __init__(self, lab_dir):
        self.dir = lab_dir

    @classmethod
    def start(cls, lab_dir, hosts=2, groups="hrw-group-1", profile="2019", transport="ntlm", extra=()):
        lab = cls(lab_dir)
        lab.labctl("up", "--hosts", str(hosts), "--groups", groups, "--profile", profile, "--transport", transport,
                   *extra)
        return lab

    # --- labctl ---------------------------------------------------------------------------------------------------
    def labctl(self, *args, check=True):
        # `--dir` right after the command: `fault` takes the rest of the line as its options.
        proc = subprocess.run([sys.executable, LABCTL, args[0], "--dir", self.dir] + list(args[1:]), capture_output=True,
                              text=True, check=False, timeout=300)
        if check and proc.returncode != 0:
            raise AssertionError("labctl %s failed (%d): %s%s"
                                 % (" ".join(args), proc.returncode, proc.stdout, proc.stderr))
        return proc

    def _json(self, *args):
        return json.loads(self.labctl(*args).stdout)

    def stop(self):
        self.labctl("down", check=False)

    @property
    def lab_json(self):
        with open(os.path.join(self.dir, "lab.json"), encoding="utf-8") as handle:
            return json.load(handle)

    @property
    def inventory(self):
        return os.path.join(self.dir, "inventory.yml")

    def host(self, name):
        return self._json("host", name)

    def drift(self, name, kind, argument=None):
        return self._json("drift", name, kind, *([argument] if argument else []))

    def fault(self, name, kind, value=None):
        return self._json("fault", name, kind, *([str(value)] if value is not None else []))

    def stats(self, reset=False):
        return self._json("stats", *(["--reset"] if reset else []))["windows"]

    def heartbeat(self):
        """Run one heartbeat round now (instead of waiting for the interval); returns the heartbeat counters."""
        return self._json("heartbeat")

    @contextlib.contextmanager
    def locked_host(self, name):
        """Change a host directly through the host model (for transitions no module drives yet)."""
        from . import host as hostmod  # pylint: disable=import-outside-toplevel
        with hostmod.locked_host(self.dir, name, hostmod.LabContext.from_lab(self.dir, self.lab_json)) as host:
            yield host

    # --- ansible --------------------------------------------------------------------------------------------------
    def run_play(self, tasks, hosts="windows", check=False, diff=False, extra_vars=None, forks=5, env=None,
                 gather_facts=False, timeout=300, play_options=None):
        """Run one play of ``tasks`` (list of task dicts) and return a :class:`PlayResult`.

        ``play_options``: more play keywords (for example ``{"gather_subset": ["!all"]}``).
        """
        play = [dict({"name": "lab play", "hosts": hosts, "gather_facts": gather_facts, "tasks": tasks},
                     **(play_options or {}))]
        fd, path = tempfile.mkstemp(suffix=".yml", dir=self.dir)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(play, handle)
        try:
            return self.run_playbook(path, check=check, diff=diff, extra_vars=extra_vars, forks=forks, env=env,
                                     timeout=timeout)
        finally:
            os.unlink(path)

    def run_playbook(self, path, check=False, diff=False, extra_vars=None, forks=5, env=None, timeout=300,
                     inventory=None):
        cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory or self.inventory,
               "--forks", str(forks), path]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if extra_vars:
            cmd += ["-e", json.dumps(extra_vars)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=ansible_env(env), check=False,
                              timeout=timeout, cwd=self.dir)
        try:
            data = json.loads(proc.stdout[proc.stdout.index("{"):])
        except ValueError:
            raise AssertionError("ansible-playbook gave no JSON (rc %d): %s\n%s" % (
                proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])) from None
        return PlayResult(proc.returncode, data, proc.stderr)


class AzureSide:
    """What a Windows-lab test needs from the Azure lab, over its public HTTP surfaces (Entra ID token, ARM REST).

    ``workspace(name, solutions)`` creates (or reads) a workspace with the given gallery solutions and returns
    ``(customer_id, primary_key)``; ``registration()`` returns the Automation account's ``(endpoint, primary_key)``;
    ``workers(group)`` lists the group's workers (properties plus ``name``); ``heartbeat_computers(customer_id)`` queries the Heartbeat table.
    """

    OI = "2025-07-01"
    AA = "2024-10-23"
    OM = "2015-11-01-preview"

    def __init__(self, lab_json):
        self.info = lab_json["azure"]
        self.env = self.info["env"]
        self.url = self.info["url"].rstrip("/")
        self.ca = self.info["ca_bundle"]
        self._tokens = {}

    def token(self, scope="https://management.azure.com/.default"):
        from urllib.parse import urlencode  # pylint: disable=import-outside-toplevel
        from . import azure_client  # pylint: disable=import-outside-toplevel
        if scope not in self._tokens:
            body = urlencode({"grant_type": "client_credentials", "client_id": self.env["AZURE_CLIENT_ID"],
                              "client_secret": self.env["AZURE_SECRET"], "scope": scope}).encode()
            status, data = azure_client.request(
                "POST", "%s/%s/oauth2/v2.0/token" % (self.url, self.env["AZURE_TENANT"]), self.ca, body,
                {"Content-Type": "application/x-www-form-urlencoded"})
            assert status == 200, data
            self._tokens[scope] = json.loads(data)["access_token"]
        return self._tokens[scope]

    def call(self, method, path, api_version=None, body=None, scope="https://management.azure.com/.default"):
        from . import azure_client  # pylint: disable=import-outside-toplevel
        url = self.url + path + ("?api-version=" + api_version if api_version else "")
        payload = json.dumps(body).encode() if body is not None else None
        status, data = azure_client.request(method, url, self.ca, payload, {
            "Authorization": "Bearer " + self.token(scope), "Content-Type": "application/json"})
        return status, (json.loads(data) if data else None)

    @property
    def rg_path(self):
        return "/subscriptions/%s/resourceGroups/%s" % (self.info["subscription_id"], self.info["resource_group"])

    @property
    def account_path(self):
        return self.rg_path + "/providers/Microsoft.Automation/automationAccounts/" + self.info["automation_account"]

    def workspace(self, name, solutions=("AzureAutomation",)):
        path = self.rg_path + "/providers/Microsoft.OperationalInsights/workspaces/" + name
        status, answer = self.call("PUT", path, self.OI, {"location": self.info["location"],
                                                          "properties": {"sku": {"name": "PerGB2018"}}})
        assert status in (200, 201, 202), answer
        import time as _time  # pylint: disable=import-outside-toplevel
        for dummy in range(200):
            status, answer = self.call("GET", path, self.OI)
            if status == 200 and answer["properties"].get("provisioningState") == "Succeeded":
                break
            _time.sleep(0.05)
        customer_id = answer["properties"]["customerId"]
        status, keys = self.call("POST", path + "/sharedKeys", self.OI)
        assert status == 200, keys
        for pack in solutions:
            solution = "%s(%s)" % (pack, name)
            status, answer = self.call(
                "PUT", self.rg_path + "/providers/Microsoft.OperationsManagement/solutions/" + solution, self.OM,
                {"location": self.info["location"],
                 "plan": {"name": solution, "publisher": "Microsoft", "product": "OMSGallery/" + pack,
                          "promotionCode": ""},
                 "properties": {"workspaceResourceId": path}})
            assert status in (200, 201), answer
        return customer_id, keys["primarySharedKey"]

    def registration(self):
        status, answer = self.call("GET", self.account_path + "/agentRegistrationInformation", self.AA)
        assert status == 200, answer
        return answer["endpoint"], answer["keys"]["primary"]

    def workers(self, group):
        status, answer = self.call("GET", self.account_path + "/hybridRunbookWorkerGroups/%s/hybridRunbookWorkers"
                                   % group, self.AA)
        if status == 404:
            return []
        assert status == 200, answer
        return [dict(w["properties"], name=w["name"]) for w in answer.get("value", [])]

    def heartbeat_computers(self, customer_id):
        status, answer = self.call("POST", "/v1/workspaces/%s/query" % customer_id, None,
                                   {"query": "Heartbeat"}, scope="https://api.loganalytics.io/.default")
        assert status == 200, answer
        table = answer["tables"][0]
        column = [c["name"] for c in table["columns"]].index("Computer")
        counts = {}
        for row in table["rows"]:
            counts[row[column]] = counts.get(row[column], 0) + 1
        return counts
