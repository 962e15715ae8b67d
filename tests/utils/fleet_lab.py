"""Run the fleet playbooks against a lab: start the lab, give the playbooks what a user's inventory would hold, run
them, and read their results (play recap, summary lines). Used by ``make demo`` (``tests/utils/demo.py``) and by the
fleet tests (``tests/integration/fleet``).
"""
import glob
import json
import os
import re
import subprocess
import sys
import threading

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LABCTL = os.path.join(ROOT, "tests", "lab", "labctl")
COLLECTIONS = os.path.join(ROOT, ".build", "collections")
RECAP_LINE = re.compile(r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)\s+"
                        r"failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)",
                        re.MULTILINE)


def labctl(lab_dir, *args, check=True):
    """Run ``labctl`` with this Python; returns its stdout (parsed when it is JSON)."""
    # `--dir` right after the command: `fault` takes the rest of the line as its options.
    proc = subprocess.run([sys.executable, LABCTL, args[0], "--dir", lab_dir] + list(args[1:]), capture_output=True,
                          text=True, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError("labctl %s failed (%d): %s" % (" ".join(args), proc.returncode, proc.stderr.strip()))
    try:
        return json.loads(proc.stdout)
    except ValueError:
        return proc.stdout


def read_lab(lab_dir):
    with open(os.path.join(lab_dir, "lab.json"), encoding="utf-8") as handle:
        return json.load(handle)


def start(lab_dir, hosts, groups, heartbeat_interval=2.0, extra_vars=None, worker_type="agent"):
    """Start (or restart) the lab with a Windows fleet and write the inventory variables the playbooks need."""
    labctl(lab_dir, "up", "--hosts", str(hosts), "--groups", ",".join(groups),
           "--heartbeat-interval", str(heartbeat_interval), "--hybrid-registration-delay", "0.5")
    write_fleet_vars(lab_dir, extra_vars, worker_type)
    return read_lab(lab_dir)


def write_fleet_vars(lab_dir, extra_vars=None, worker_type="agent"):
    """``DIR/fleet-vars.yml``: the lab's timings (its workers are seen within seconds) and the worker type.

    labctl's ``DIR/inventory.yml`` already holds what a user's inventory holds for the whole fleet (Azure names,
    installer sources, the Arc onboarding service principal). This second inventory source (``-i DIR/inventory.yml
    -i DIR/fleet-vars.yml``) sets ``all`` variables on top: ``hybrid_worker_type`` (agent-based unless told
    otherwise, as the agent-based fleet tests expect; ``worker_type=None`` leaves the playbooks' default, extension)
    and ``extra_vars``. Host and group variables of labctl's inventory still win.
    """
    variables = {
        # The lab's HybridRegistration arrives within a second and agents beat every few seconds.
        "hybrid_runbook_worker_wait_timeout": 60,
        "hybrid_worker_heartbeat_retries": 30,
        "hybrid_worker_heartbeat_delay": 1,
        # The lab's extension operations finish within a second or two unless the host's handler hangs.
        "hybrid_worker_extension_wait_timeout": 15,
        "hybrid_worker_extension_retry_delay": 2,
    }
    if worker_type:
        variables["hybrid_worker_type"] = worker_type
    variables.update(extra_vars or {})
    path = os.path.join(lab_dir, "fleet-vars.yml")
    # Readable by its owner only, like lab.json and labctl's inventory (extra_vars may hold a secret).
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        # JSON is YAML: no YAML library needed here.
        json.dump({"all": {"vars": variables}}, handle, indent=2, sort_keys=True)
    return path


def lab_secrets(lab_dir):
    """Every secret the lab holds (client secret, account and workspace keys, host passwords), for the leak checks:
    values of at least 12 characters under a key naming a key or a secret in the Azure lab's state."""
    found = {read_lab(lab_dir)["azure"]["env"]["AZURE_SECRET"]}
    with open(os.path.join(lab_dir, "azure", "state.json"), encoding="utf-8") as handle:
        state = json.load(handle)

    def walk(node, secret):
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, secret or "key" in key.lower() or "secret" in key.lower())
        elif isinstance(node, list):
            for child in node:
                walk(child, secret)
        elif secret and isinstance(node, str) and len(node) >= 12:
            found.add(node)
    walk(state, False)
    with open(os.path.join(lab_dir, "windows", "fleet.json"), encoding="utf-8") as handle:
        found.update(h["password"] for h in json.load(handle)["hosts"])
    return found


def playbook_env(lab_dir, forks=25):
    """The environment a user would run the playbooks in: the lab's Azure variables, this checkout as the collection."""
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("AZURE_", "ANSIBLE_")))
    env.update(read_lab(lab_dir)["azure"]["env"])
    env.update(
        PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""),
        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
        ANSIBLE_FORKS=str(forks),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_CALLBACK_RESULT_FORMAT="json",
        ANSIBLE_LOCAL_TEMP=os.path.join(lab_dir, "ansible-tmp"),
        ANSIBLE_HOME=os.path.join(lab_dir, "ansible-home"),
    )
    return env


class PlaybookRun:
    def __init__(self, args, proc):
        self.args = args
        self.rc = proc.returncode
        self.output = proc.stdout + proc.stderr
        self.recap = parse_recap(proc.stdout)

    def messages(self, task_name):
        return debug_messages(self.output, task_name)

    def changed_hosts(self):
        return sorted(h for h, counts in self.recap.items() if counts["changed"])

    def describe(self):
        return "ansible-playbook %s -> rc %d\n%s" % (" ".join(self.args), self.rc, self.output[-6000:])


def run_playbook(lab_dir, playbook, *args, log=None, forks=25):
    """Run a playbook of the collection by its FQCN (as a user of the installed collection would) on the lab."""
    inventory = ["-i", os.path.join(lab_dir, "inventory.yml"), "-i", os.path.join(lab_dir, "fleet-vars.yml")]
    argv = inventory + ["azure_automation.hybrid_worker." + playbook] + list(args)
    proc = subprocess.run(["ansible-playbook"] + argv, env=playbook_env(lab_dir, forks), cwd=lab_dir,
                          capture_output=True, text=True, check=False)
    if log:
        with open(log, "w", encoding="utf-8") as handle:
            handle.write(proc.stdout + proc.stderr)
    return PlaybookRun(argv, proc)


def parse_recap(output):
    recap = output[output.rfind("PLAY RECAP"):] if "PLAY RECAP" in output else ""
    return dict((m.group("host"), dict((k, int(v)) for k, v in m.groupdict().items() if k != "host"))
                for m in RECAP_LINE.finditer(recap))


def debug_messages(output, task_name):
    """The ``msg`` list a debug task printed (default callback, JSON result format); [] when it did not run."""
    start = output.find("TASK [%s]" % task_name)
    if start < 0:
        return []
    body = output[start:]
    brace = body.find("=> {")
    end = body.find("\n}\n", brace)
    if brace < 0 or end < 0:
        return []
    return json.loads(body[brace + 3:end + 2]).get("msg", [])


class HeartbeatPump:
    """A lab heartbeat round (agents report, workers ping) every ``seconds`` until paused or stopped.

    Start the lab with a long ``--heartbeat-interval`` and pump instead: while the pump is paused nothing changes the
    lab's state in the background, so state files can be compared byte for byte.
    """

    def __init__(self, lab_dir, seconds=1.0):
        self.lab_dir = lab_dir
        self.seconds = seconds
        self.running = threading.Event()
        self.stopping = threading.Event()
        self.idle = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self):
        while not self.stopping.is_set():
            if self.running.is_set():
                self.idle.clear()
                labctl(self.lab_dir, "heartbeat", check=False)
            self.idle.set()
            self.stopping.wait(self.seconds)

    def start(self):
        self.running.set()
        self.thread.start()

    def pause(self):
        self.running.clear()
        self.idle.clear()
        self.idle.wait(60)

    def resume(self):
        self.running.set()

    def stop(self):
        self.stopping.set()
        self.thread.join(60)


def state_files(lab_dir):
    """The lab's persisted state: every simulated host and the Azure lab, as bytes (pause the heartbeat pump first)."""
    paths = sorted(glob.glob(os.path.join(lab_dir, "windows", "hosts", "*.json")))
    paths += [os.path.join(lab_dir, "azure", "state.json"), os.path.join(lab_dir, "azure", "heartbeats.jsonl")]
    snapshot = {}
    for path in paths:
        with open(path, "rb") as handle:
            snapshot[os.path.relpath(path, lab_dir)] = handle.read()
    return snapshot


def workers_by_computer(resources):
    """{computer name (lower case): [groups]} of the worker records among the Azure lab's resources."""
    found = {}
    for resource in resources:
        if resource["kind"] == "worker":
            found.setdefault(resource["workerName"].lower(), []).append(resource["group"])
    return found


def inventory_with_group(text, host, group):
    """labctl's inventory text with ``host``'s hybrid_runbook_worker_group set to ``group``, or removed (None)."""
    lines = text.split("\n")
    start = lines.index("        %s:" % host)
    for index in range(start + 1, len(lines)):
        if lines[index].strip().startswith("hybrid_runbook_worker_group:"):
            if group is None:
                del lines[index]
            else:
                lines[index] = "          hybrid_runbook_worker_group: %s" % json.dumps(group)
            break
    return "\n".join(lines)


class LabFleet:
    """A running lab fleet as the playbook tests drive it: its hosts and groups, playbook runs (each run's output kept
    in the lab folder as NN-<playbook>.log), labctl, the hosts' state, the lab's counters and secrets, and a heartbeat
    pump for the hosts' background activity."""

    def __init__(self, lab_dir, heartbeat_seconds):
        self.dir = lab_dir
        self.lab = read_lab(lab_dir)
        self.hosts = sorted(self.lab["windows"]["hosts"])
        self.pump = HeartbeatPump(lab_dir, heartbeat_seconds)
        self.runs = 0

    def group_of(self, host):
        return self.lab["windows"]["hosts"][host]["group"]

    def run(self, playbook, *args):
        self.runs += 1
        return run_playbook(self.dir, playbook, *args, log=os.path.join(self.dir, "%02d-%s.log" % (self.runs, playbook)))

    def labctl(self, *args):
        return labctl(self.dir, *args)

    def host(self, name):
        return self.labctl("host", name)["summary"]

    def stats(self, reset=False):
        return self.labctl("stats", *(["--reset"] if reset else []))

    def secrets(self):
        """Secrets the lab holds (client secret, account and workspace keys, host passwords)."""
        return lab_secrets(self.dir)

    def azure_workers(self):
        """{computer name (lower case): [groups]} of the worker records in the Azure lab."""
        return workers_by_computer(self.labctl("azure")["resources"])

    def state_files(self):
        return state_files(self.dir)

    def stop(self):
        """Stop the heartbeat pump (if it runs) and the lab."""
        if self.pump.thread.is_alive():
            self.pump.stop()
        labctl(self.dir, "down", check=False)
