"""labctl component ``azure``: start/stop the Azure lab server, seed it, and talk to its control API.

``labctl up`` starts the server in the background (pid in ``DIR/azure/server.pid``, log in ``DIR/azure/server.log``),
waits until it answers, seeds a subscription, resource group and Automation account, and fills ``lab["azure"]``.
``labctl azure`` dumps the resources (keys masked), ``labctl fault azure KIND key=value...`` injects faults,
``labctl stats`` reports the counters. See ``tests/lab/README.md``.
"""
import json
import os
import signal
import subprocess
import sys
import time

from common import certs

from . import client
from . import store as lab_store

NAME = "azure"
LAB_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAULT_KINDS = ("throttle", "error", "latency", "lro-failed", "token-down", "clear")
FAULT_OPTIONS = {"every": int, "count": int, "retry_after": int, "status": int, "ms": float, "operation": str,
                 "surface": str}
SETTING_OPTIONS = {
    "lro_polls": "--azure-lro-polls", "lro_seconds": "--azure-lro-seconds", "lro_retry_after": "--azure-lro-retry-after",
    "page_size": "--azure-page-size", "linked_service_linger_seconds": "--azure-linked-service-linger",
    "token_lifetime_seconds": "--azure-token-lifetime",
}


def register(subparsers, commands, with_dir):
    up = commands["up"]
    group = up.add_argument_group("Azure lab")
    group.add_argument("--azure-location", default="westeurope", help="region of the seeded resources")
    group.add_argument("--azure-resource-group", default="rg-hybrid-worker-lab", help="seeded resource group")
    group.add_argument("--azure-automation-account", default="aa-hybrid-worker-lab", help="seeded Automation account")
    group.add_argument("--azure-subscription-id", help="seeded subscription id (default: a new GUID, kept in DIR)")
    group.add_argument("--azure-extra-subscriptions", type=int, default=0,
                       help="more (empty) subscriptions the same lab serves")
    for key, option in SETTING_OPTIONS.items():
        group.add_argument(option, dest="azure_" + key, type=lab_store.SETTING_TYPES[key], default=None,
                           help="lab setting %s (default %s)" % (key, lab_store.DEFAULT_SETTINGS[key]))

    azure = with_dir(subparsers.add_parser("azure", help="JSON dump of the Azure lab's resources (keys masked)"))
    azure.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="change a lab setting while running (%s)" % ", ".join(SETTING_OPTIONS))
    azure.add_argument("--add-subscription", nargs="?", const="", default=None, metavar="ID",
                       help="add a subscription (a new GUID when no ID is given)")
    azure.add_argument("--reset-stats", action="store_true", help="zero the Azure counters")
    azure.set_defaults(handler=azure_command)

    arc = with_dir(subparsers.add_parser("azure-arc", help="set an Arc machine's status or its extension handlers' outcome"))
    arc.add_argument("machine_id", help="the machine's resource id")
    arc.add_argument("--status", choices=("Connected", "Disconnected", "Error", "AwaitingConnection"))
    arc.add_argument("--handler", dest="handler_outcomes", action="append", default=[], metavar="PUBLISHER.TYPE=OUTCOME[:MESSAGE]",
                     help="what the host's extension handler does with the next operation (succeed, fail, hang)")
    arc.set_defaults(handler=arc_command)

    age = with_dir(subparsers.add_parser("azure-age-worker", help="make a Hybrid Runbook Worker look silent for DAYS "
                                         "(its lastSeenDateTime, which only the service sets, moves back)"))
    age.add_argument("worker", help="the worker's resource id, worker id (machine id) or computer name")
    age.add_argument("--days", type=float, required=True, help="how many days ago it was last seen")
    age.set_defaults(handler=age_worker_command)

    serve = with_dir(subparsers.add_parser("azure-serve", help="run the Azure lab server in the foreground"))
    serve.set_defaults(handler=serve_command)


def _adir(lab_dir):
    return lab_store.azure_dir(lab_dir)


def _alive(pid):
    """True while ``pid`` runs; an exited process waiting for its parent to reap it (a zombie) counts as gone."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii") as handle:
            return handle.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True


def _pid(lab_dir):
    try:
        with open(os.path.join(_adir(lab_dir), lab_store.PID_FILE), encoding="ascii") as handle:
            pid = int(handle.read().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if _alive(pid) else None


def _running(lab_dir):
    pid = _pid(lab_dir)
    ready = client.read_ready(lab_dir)
    if pid and ready and ready.get("pid") == pid and client.AdminClient(lab_dir).healthy():
        return pid
    return None


def _start(lab_dir):
    ready_path = os.path.join(_adir(lab_dir), lab_store.READY_FILE)
    if os.path.exists(ready_path):
        os.unlink(ready_path)
    log_path = os.path.join(_adir(lab_dir), lab_store.SERVER_LOG)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, "-m", "azure.server", "--dir", lab_dir], cwd=LAB_ROOT, stdout=log, stderr=log,
            stdin=subprocess.DEVNULL, start_new_session=True)
    with open(os.path.join(_adir(lab_dir), lab_store.PID_FILE), "w", encoding="ascii") as handle:
        handle.write(str(proc.pid))
    deadline = time.time() + 30
    while time.time() < deadline:
        ready = client.read_ready(lab_dir)
        if ready and ready.get("pid") == proc.pid and client.AdminClient(lab_dir).healthy():
            return
        if proc.poll() is not None:
            sys.exit("labctl: the Azure lab process exited with %s; see %s" % (proc.returncode, log_path))
        time.sleep(0.05)
    proc.terminate()
    sys.exit("labctl: the Azure lab process did not become ready; see %s" % log_path)


def up(args, lab):
    lab_dir = args.dir
    os.makedirs(_adir(lab_dir), mode=0o700, exist_ok=True)
    certs.ensure_ca(lab_dir)
    state = lab_store.read_state(lab_dir)
    settings = {key: getattr(args, "azure_" + key) for key in SETTING_OPTIONS if getattr(args, "azure_" + key) is not None}
    if _running(lab_dir):
        admin = client.AdminClient(lab_dir)
        if settings:
            admin.call("PATCH", "settings", settings)
    else:
        if state is None:
            state = lab_store.new_state()
        state["settings"].update(settings)
        lab_store.write_state(lab_dir, state)
        _start(lab_dir)
        admin = client.AdminClient(lab_dir)
    seed = admin.call("POST", "seed", {
        "subscription_id": args.azure_subscription_id, "location": args.azure_location,
        "resource_group": args.azure_resource_group, "automation_account": args.azure_automation_account,
    })
    known = admin.call("GET", "resources")["subscriptions"]
    for extra in range(max(0, args.azure_extra_subscriptions - (len(known) - 1))):
        admin.call("POST", "subscriptions", {})
    lab["azure"] = describe(lab_dir, admin.url, seed)


def describe(lab_dir, url, seed):
    """The ``lab.json`` ``azure`` entry (the client secret included: lab.json is the lab's secret store, mode 0600)."""
    ca_bundle = certs.ca_paths(lab_dir)[0]
    return {
        "url": url,
        "ca_bundle": ca_bundle,
        "pid": _pid(lab_dir),
        "subscription_id": seed["subscription_id"],
        "resource_group": seed["resource_group"],
        "automation_account": seed["automation_account"],
        "location": seed["location"],
        "tenant_id": seed["tenant_id"],
        "client_id": seed["client_id"],
        "request_log": os.path.join(_adir(lab_dir), lab_store.REQUEST_LOG),
        "env": {
            "AZURE_TENANT": seed["tenant_id"],
            "AZURE_CLIENT_ID": seed["client_id"],
            "AZURE_SECRET": seed["client_secret"],
            "AZURE_SUBSCRIPTION_ID": seed["subscription_id"],
            "AZURE_AUTHORITY_HOST": url,
            "AZURE_RESOURCE_MANAGER_URL": url,
            "AZURE_LOG_ANALYTICS_URL": url,
            "AZURE_CA_BUNDLE": ca_bundle,
        },
    }


def down(args, lab):
    pid = _pid(args.dir)
    if pid:
        os.kill(pid, signal.SIGTERM)
        deadline = time.time() + 10
        while time.time() < deadline and _alive(pid):
            time.sleep(0.02)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    for name in (lab_store.PID_FILE, lab_store.READY_FILE):
        try:
            os.unlink(os.path.join(_adir(args.dir), name))
        except FileNotFoundError:
            pass
    if "azure" in lab:
        lab["azure"]["pid"] = None


def status(args, lab):
    pid = _running(args.dir)
    ready = client.read_ready(args.dir) or {}
    return {"running": bool(pid), "pid": pid, "url": ready.get("url") if pid else None,
            "state": os.path.join(_adir(args.dir), lab_store.STATE_FILE)}


def stats(args, lab):
    if not _running(args.dir):
        return {"running": False}
    admin = client.AdminClient(args.dir)
    counters = admin.call("GET", "stats")
    # `--reset` belongs to the shared `stats` command (added by whichever component registers it).
    if getattr(args, "reset", False):
        admin.call("POST", "stats/reset")
    return counters


def owns_fault_target(target):
    return target == NAME


def parse_fault(kind, options):
    if kind not in FAULT_KINDS:
        raise ValueError("unknown Azure fault %r (one of: %s)" % (kind, ", ".join(FAULT_KINDS)))
    fault = {"kind": kind.replace("-", "_")}
    for option in options:
        key, sep, value = option.partition("=")
        key = key.lstrip("-").replace("-", "_")
        if not sep or key not in FAULT_OPTIONS:
            raise ValueError("fault option %r: use key=value with key one of %s" % (option, ", ".join(FAULT_OPTIONS)))
        fault[key] = FAULT_OPTIONS[key](value)
    return fault


def fault(args, lab):
    try:
        spec = parse_fault(args.kind, args.options)
    except ValueError as exc:
        sys.exit("labctl: %s" % exc)
    answer = client.AdminClient(args.dir).call("POST", "faults", spec)
    print(json.dumps(answer, indent=2, sort_keys=True))


def azure_command(args, lab):
    if not _running(args.dir):
        sys.exit("labctl: the Azure lab in %s is not running (labctl up --dir %s)" % (args.dir, args.dir))
    admin = client.AdminClient(args.dir)
    if args.set:
        changes = {}
        for item in args.set:
            key, sep, value = item.partition("=")
            changes[key] = value
        admin.call("PATCH", "settings", changes)
    if args.add_subscription is not None:
        admin.call("POST", "subscriptions", {"subscription_id": args.add_subscription or None})
    if args.reset_stats:
        admin.call("POST", "stats/reset")
    print(json.dumps(admin.call("GET", "resources"), indent=2, sort_keys=True))


def arc_command(args, lab):
    if not _running(args.dir):
        sys.exit("labctl: the Azure lab in %s is not running (labctl up --dir %s)" % (args.dir, args.dir))
    handlers = {}
    for item in args.handler_outcomes:
        key, sep, rest = item.partition("=")
        outcome, unused, message = rest.partition(":")
        if not sep or not key:
            sys.exit("labctl: --handler takes PUBLISHER.TYPE=OUTCOME[:MESSAGE], got %r" % item)
        handlers[key] = {"outcome": outcome, "message": message or None}
    try:
        answer = client.AdminClient(args.dir).call("POST", "arc/machine", {
            "machine_id": args.machine_id, "status": args.status, "extension_handlers": handlers or None})
    except ValueError as exc:
        sys.exit("labctl: %s" % exc)
    print(json.dumps({"id": answer["id"], "status": answer["properties"]["status"]}, indent=2, sort_keys=True))


def age_worker_command(args, lab):
    if not _running(args.dir):
        sys.exit("labctl: the Azure lab in %s is not running (labctl up --dir %s)" % (args.dir, args.dir))
    try:
        answer = client.AdminClient(args.dir).call("POST", "workers/last-seen", {"worker": args.worker, "days": args.days})
    except ValueError as exc:
        sys.exit("labctl: %s" % exc)
    print(json.dumps(answer, indent=2, sort_keys=True))


def serve_command(args, lab):
    from . import server  # pylint: disable=import-outside-toplevel
    server.serve(args.dir)
