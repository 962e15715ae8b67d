"""State of the Azure lab: resources persisted in the lab folder, plus the in-memory counters, faults and request log.

Everything lives under ``DIR/azure/``:

* ``state.json``: identities, settings and every resource (rewritten atomically after each change, so killing the
  process never leaves half a file and a restart finds the resources again);
* ``heartbeats.jsonl``: the Heartbeat rows, one JSON line each, appended as they arrive and compacted at start;
* ``requests.jsonl``: one JSON line per request (method, path, status, duration, surface, operation; never headers,
  bodies, or query parameters other than the few listed in ``LOGGED_QUERY_PARAMETERS``);
* ``admin.token``: the token that guards the lab's own ``/_lab/`` control endpoints (mode 0600).
"""
import base64
import copy
import datetime
import json
import os
import secrets
import tempfile
import threading
import time
import uuid

STATE_FILE = "state.json"
# Heartbeat rows are appended here instead of rewriting state.json for each one (fleets send many).
HEARTBEAT_FILE = "heartbeats.jsonl"
REQUEST_LOG = "requests.jsonl"
ADMIN_TOKEN_FILE = "admin.token"
PID_FILE = "server.pid"
READY_FILE = "ready.json"
SERVER_LOG = "server.log"

# Query parameters that carry no secret and help reading the request log; anything else is dropped from the log.
LOGGED_QUERY_PARAMETERS = ("api-version", "$filter", "$skiptoken", "force")

DEFAULT_SETTINGS = {
    # Workspace create/delete LROs finish after this many polls of the Location URL, or after this many seconds
    # (whichever comes first), so a caller that re-GETs instead of polling also sees them finish.
    "lro_polls": 1,
    "lro_seconds": 1.0,
    # Retry-After sent with 202 LRO answers; the SDK waits that long between polls (real services say 15-60 s).
    "lro_retry_after": 0,
    # Items per page of the Automation list operations (nextLink paging).
    "page_size": 100,
    # A deleted linked service is still returned by GET (provisioningState Deleting) for this long.
    "linked_service_linger_seconds": 0.5,
    "token_lifetime_seconds": 3599,
}

SETTING_TYPES = {
    "lro_polls": int, "lro_seconds": float, "lro_retry_after": int, "page_size": int,
    "linked_service_linger_seconds": float, "token_lifetime_seconds": int,
}

# Kept per workspace; the oldest heartbeats go first.
MAX_HEARTBEATS_PER_WORKSPACE = 5000


def azure_dir(lab_dir):
    return os.path.join(lab_dir, "azure")


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def iso(value=None):
    return (value or utcnow()).strftime("%Y-%m-%dT%H:%M:%S.%f") + "+00:00"


def random_key(size=64):
    return base64.b64encode(secrets.token_bytes(size)).decode("ascii")


def new_uuid():
    return str(uuid.uuid4())


def _write_json_atomic(path, data, mode=0o600):
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    os.chmod(tmp, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
        handle.write("\n")
    os.replace(tmp, path)


def read_state(lab_dir):
    try:
        with open(os.path.join(azure_dir(lab_dir), STATE_FILE), encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None


def new_state(tenant_id=None, client_id=None):
    return {
        "version": 1,
        "tenant_id": tenant_id or new_uuid(),
        "client_id": client_id or new_uuid(),
        "client_secret": secrets.token_urlsafe(30),
        "token_signing_key": secrets.token_urlsafe(48),
        "port": 0,
        "settings": dict(DEFAULT_SETTINGS),
        "subscriptions": {},
        "resources": {},
        "operations": {},
        "heartbeats": {},
    }


def write_state(lab_dir, state):
    os.makedirs(azure_dir(lab_dir), mode=0o700, exist_ok=True)
    _write_json_atomic(os.path.join(azure_dir(lab_dir), STATE_FILE),
                       {k: v for k, v in state.items() if k != "heartbeats"})


def ensure_admin_token(lab_dir):
    path = os.path.join(azure_dir(lab_dir), ADMIN_TOKEN_FILE)
    if not os.path.exists(path):
        os.makedirs(azure_dir(lab_dir), mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    with open(path, encoding="ascii") as handle:
        return handle.read().strip()


class Store:
    """The running server's view of the state; every method that changes it persists it before returning."""

    def __init__(self, lab_dir):
        self.lab_dir = lab_dir
        self.lock = threading.RLock()
        self.state = read_state(lab_dir) or new_state()
        for key, value in DEFAULT_SETTINGS.items():
            self.state["settings"].setdefault(key, value)
        self.state["heartbeats"] = self._load_heartbeats()
        self.counters = {}
        self.faults = []
        self.fault_hits = 0
        self._log_lock = threading.Lock()
        self.reset_counters()

    # ---- persistence -------------------------------------------------------------------------------------------
    def save(self):
        with self.lock:
            write_state(self.lab_dir, self.state)

    def _heartbeat_path(self):
        return os.path.join(azure_dir(self.lab_dir), HEARTBEAT_FILE)

    def _load_heartbeats(self):
        """Read the appended rows back, keep those of existing workspaces (newest first to go), compact the file."""
        live = {r["customerId"] for r in self.state["resources"].values() if r["kind"] == "workspace"}
        rows = {}
        try:
            with open(self._heartbeat_path(), encoding="utf-8") as handle:
                for line in handle:
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        continue  # a line cut short by a kill
                    if entry.get("customer_id") in live:
                        rows.setdefault(entry["customer_id"], []).append(entry["row"])
        except FileNotFoundError:
            pass
        for customer_id in rows:
            del rows[customer_id][:-MAX_HEARTBEATS_PER_WORKSPACE]
        os.makedirs(azure_dir(self.lab_dir), mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=azure_dir(self.lab_dir), prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for customer_id, items in rows.items():
                for row in items:
                    handle.write(json.dumps({"customer_id": customer_id, "row": row}) + "\n")
        os.replace(tmp, self._heartbeat_path())
        return rows

    def append_heartbeats(self, customer_id, new_rows):
        rows = self.state["heartbeats"].setdefault(customer_id, [])
        rows.extend(new_rows)
        del rows[:-MAX_HEARTBEATS_PER_WORKSPACE]
        with open(self._heartbeat_path(), "a", encoding="utf-8") as handle:
            for row in new_rows:
                handle.write(json.dumps({"customer_id": customer_id, "row": row}) + "\n")

    @property
    def settings(self):
        return self.state["settings"]

    # ---- resources (keyed by lower-case resource id) -----------------------------------------------------------
    def get(self, resource_id):
        return self.state["resources"].get(resource_id.lower())

    def put(self, resource_id, record):
        self.state["resources"][resource_id.lower()] = record

    def delete(self, resource_id):
        return self.state["resources"].pop(resource_id.lower(), None)

    def children(self, parent_id, kind):
        prefix = parent_id.lower() + "/"
        return [r for k, r in self.state["resources"].items() if k.startswith(prefix) and r["kind"] == kind]

    def delete_tree(self, resource_id):
        prefix = resource_id.lower()
        for key in [k for k in self.state["resources"] if k == prefix or k.startswith(prefix + "/")]:
            del self.state["resources"][key]

    def find(self, kind, **match):
        return [
            r for r in self.state["resources"].values()
            if r["kind"] == kind and all(r.get(k) == v for k, v in match.items())
        ]

    # ---- accounting --------------------------------------------------------------------------------------------
    def reset_counters(self):
        with self._log_lock:
            self.counters = {
                "requests_total": 0,
                "faults_injected": 0,
                "arm": {"reads": 0, "writes": 0, "by_operation": {}, "by_status": {}},
                "token": {"requests": 0, "failures": 0, "discovery": 0},
                "agentsvc": {"register": 0, "deregister": 0, "ping": 0, "failures": 0},
                "arcagent": {"connect": 0, "disconnect": 0, "heartbeat": 0, "goal_state": 0, "failures": 0},
                "ods": {"posts": 0, "records": 0, "failures": 0},
                "oms": {"configuration": 0, "failures": 0},
                "query": {"requests": 0, "failures": 0},
            }

    def count(self, surface, operation, status, write=False, records=0):
        with self._log_lock:
            c = self.counters
            c["requests_total"] += 1
            if surface == "arm":
                c["arm"]["writes" if write else "reads"] += 1
                c["arm"]["by_operation"][operation] = c["arm"]["by_operation"].get(operation, 0) + 1
                c["arm"]["by_status"][str(status)] = c["arm"]["by_status"].get(str(status), 0) + 1
            elif surface == "token":
                if operation == "OpenIdConfiguration":
                    c["token"]["discovery"] += 1
                else:
                    c["token"]["requests"] += 1
                    if status >= 400:
                        c["token"]["failures"] += 1
            elif surface == "agentsvc":
                key = {"AgentService_Register": "register", "AgentService_Deregister": "deregister",
                       "AgentService_Ping": "ping"}.get(operation)
                if key and status < 400:
                    c["agentsvc"][key] += 1
                if status >= 400:
                    c["agentsvc"]["failures"] += 1
            elif surface == "arcagent":
                key = {"ArcAgent_Connect": "connect", "ArcAgent_Disconnect": "disconnect",
                       "ArcAgent_Heartbeat": "heartbeat", "ArcAgent_GoalState": "goal_state"}.get(operation)
                if key and status < 400:
                    c["arcagent"][key] += 1
                if status >= 400:
                    c["arcagent"]["failures"] += 1
            elif surface == "ods":
                if status < 400:
                    c["ods"]["posts"] += 1
                    c["ods"]["records"] += records
                else:
                    c["ods"]["failures"] += 1
            elif surface == "oms":
                c["oms"]["failures" if status >= 400 else "configuration"] += 1
            elif surface == "query":
                c["query"]["requests"] += 1
                if status >= 400:
                    c["query"]["failures"] += 1

    def snapshot_counters(self):
        with self._log_lock:
            return copy.deepcopy(self.counters)

    def log_request(self, entry):
        line = json.dumps(entry, sort_keys=True)
        with self._log_lock:
            with open(os.path.join(azure_dir(self.lab_dir), REQUEST_LOG), "a", encoding="utf-8") as handle:
                handle.write(line + "\n")

    # ---- faults ------------------------------------------------------------------------------------------------
    def add_fault(self, fault):
        with self._log_lock:
            fault = dict(fault)
            fault["seen"] = 0
            fault["fired"] = 0
            self.faults.append(fault)
            return fault

    def clear_faults(self):
        with self._log_lock:
            self.faults = []

    def pick_fault(self, surface, operation, kinds):
        """The first active fault of ``kinds`` that matches this request and fires now (every Nth, up to count)."""
        with self._log_lock:
            for fault in self.faults:
                if fault["kind"] not in kinds:
                    continue
                if fault.get("surface") and fault["surface"] != surface:
                    continue
                if fault.get("operation") and fault["operation"].lower() != (operation or "").lower():
                    continue
                if fault.get("count") is not None and fault["fired"] >= fault["count"]:
                    continue
                fault["seen"] += 1
                if fault["seen"] % max(1, int(fault.get("every") or 1)) != 0:
                    continue
                fault["fired"] += 1
                self.counters["faults_injected"] += 1
                return fault
        return None

    def list_faults(self):
        with self._log_lock:
            return copy.deepcopy(self.faults)


def monotonic():
    return time.monotonic()
