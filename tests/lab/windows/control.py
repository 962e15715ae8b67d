"""labctl component ``windows``: start/stop the simulated Windows fleet and look at or change its hosts.

``labctl up --hosts N [--groups g1,g2] [--profile P] [--transport ntlm|basic]`` starts the fleet process (nothing
when N is 0, the default), writes ``DIR/inventory.yml`` and fills ``lab["windows"]`` and ``lab["installers"]``.
``labctl host NAME`` prints a host's state (secrets fingerprinted), ``labctl drift NAME KIND [ARG]`` changes a host
behind Ansible's back, ``labctl fault NAME KIND [VALUE]`` / ``labctl fault NAME clear [KIND]`` injects faults,
``labctl stats`` adds the WinRM counters (``--reset`` clears them).
"""
import hashlib
import http.client
import json
import os
import secrets
import signal
import ssl
import subprocess
import sys
import time
import urllib.parse

from common import certs, labdir

from . import host as hostmod
from . import profiles

NAME = "windows"
LAB_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_USER = "labadmin"
INSTALLERS = {
    # key in lab.json `installers` -> (path under /installers/, build, platform)
    "mma_x64": ("MMASetup-AMD64.exe", profiles.MMA_CURRENT, "AMD64"),
    "mma_x86": ("MMASetup-i386.exe", profiles.MMA_CURRENT, "i386"),
    "mma_x64_old": ("old/MMASetup-AMD64.exe", profiles.MMA_OLD, "AMD64"),
    "arc_agent": ("AzureConnectedMachineAgent.msi", profiles.ARC_CURRENT, "AMD64"),
}
DRIFT_KINDS = ("stop-service", "uninstall-agent", "remove-workspace", "unregister", "move-group",
               "delete-azure-worker", "remove-psmodule", "arc-disconnect", "stale-v2-keys")


# --- paths ---------------------------------------------------------------------------------------------------------

def _wdir(lab_dir):
    return os.path.join(lab_dir, "windows")


def _fleet_path(lab_dir):
    return os.path.join(_wdir(lab_dir), "fleet.json")


def _runtime_path(lab_dir):
    return os.path.join(_wdir(lab_dir), "runtime.json")


def _read_json(path, default=None):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return default


def _write_private(path, data):
    labdir.write_json_atomic(path, data)
    os.chmod(path, 0o600)


# --- registration with labctl --------------------------------------------------------------------------------------

def register(subparsers, commands, with_dir):
    up = commands["up"]
    up.add_argument("--hosts", type=int, default=0, help="number of simulated Windows hosts (0: no fleet)")
    up.add_argument("--groups", default="hrw-group-1", help="comma-separated Hybrid Runbook Worker groups to spread "
                    "the hosts over (inventory variable hybrid_runbook_worker_group)")
    up.add_argument("--profile", default=profiles.DEFAULT_PROFILE,
                    help="profile of new hosts: names joined by '+' (%s); several profiles separated by ',' are "
                    "dealt to the hosts in turn" % ", ".join(profiles.PROFILE_NAMES))
    up.add_argument("--transport", choices=("ntlm", "basic"), default="ntlm", help="ansible_winrm_transport")
    up.add_argument("--heartbeat-interval", type=float, default=60.0, help="seconds between heartbeat rounds")
    up.add_argument("--hybrid-registration-delay", type=float, default=2.0,
                    help="seconds until HybridRegistration arrives after the agent connects")
    commands["stats"].add_argument("--reset", action="store_true", help="zero the counters after printing them")

    host = with_dir(subparsers.add_parser("host", help="JSON state of one simulated Windows host"))
    host.add_argument("name")
    host.set_defaults(handler=host_command)

    drift = with_dir(subparsers.add_parser("drift", help="change a Windows host behind Ansible's back: %s"
                                           % ", ".join(DRIFT_KINDS)))
    drift.add_argument("name")
    drift.add_argument("kind", choices=DRIFT_KINDS)
    drift.add_argument("argument", nargs="?", help="workspace id (remove-workspace), group (move-group), "
                       "module name (remove-psmodule)")
    drift.set_defaults(handler=drift_command)

    beat = with_dir(subparsers.add_parser("heartbeat", help="run one Windows heartbeat round now (agents and workers)"))
    beat.set_defaults(handler=heartbeat_command)


# --- up / down / status --------------------------------------------------------------------------------------------

def _address_base(lab_dir):
    # Each lab folder gets its own 127.N.0.0/16 so that labs of different people do not share addresses.
    return 16 + int(hashlib.sha256(lab_dir.encode()).hexdigest(), 16) % 200


def _address(base, index):
    return "127.%d.%d.%d" % (base, index // 250, index % 250 + 2)


def _installer_bytes(build, platform):
    manifest = {"product": build.get("product", hostmod.MMA_DISPLAY_NAME), "version": build["version"],
                "product_code": build["product_code"], "platform": platform, "package": build.get("package", "IExpress"),
                "contains": build.get("contains", ["setup.exe", "MOMAgent.msi"])}
    head = b"HYBRID-WORKER-LAB STAND-IN INSTALLER\n" + json.dumps(manifest, sort_keys=True).encode() + b"\n"
    filler = hashlib.sha256(head).digest() * 2048  # 64 KiB of deterministic padding: a download worth the name
    return head + filler


def _write_installers(lab_dir, service_url):
    published = {}
    for key, (rel, build, platform) in INSTALLERS.items():
        path = os.path.join(_wdir(lab_dir), "installers", *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        data = _installer_bytes(build, platform)
        with open(path, "wb") as handle:
            handle.write(data)
        published[key] = {"url": service_url + "/installers/" + rel, "sha256": hashlib.sha256(data).hexdigest(),
                          "version": build["version"], "product_code": build["product_code"],
                          "platform": platform, "file": rel.rsplit("/", maxsplit=1)[-1]}
    return published


def _server_alive(lab_dir):
    runtime = _read_json(_runtime_path(lab_dir))
    if not runtime:
        return None
    try:
        os.kill(runtime["pid"], 0)
    except OSError:
        return None
    return runtime


def up(args, lab):
    if getattr(args, "hosts", 0) <= 0:
        return
    host_profiles = [p for p in args.profile.split(",") if p] or [profiles.DEFAULT_PROFILE]
    for profile in host_profiles:
        profiles.validate(profile)
    lab_dir = args.dir
    if _server_alive(lab_dir):
        down(args, lab)
    certs.ensure_ca(lab_dir)
    os.makedirs(_wdir(lab_dir), mode=0o700, exist_ok=True)
    fleet = _read_json(_fleet_path(lab_dir), {}) or {}
    known = {h["name"]: h for h in fleet.get("hosts", [])}
    base = _address_base(lab_dir)
    groups = [g for g in args.groups.split(",") if g]
    hosts = []
    settings = {"hybrid_registration_delay": args.hybrid_registration_delay}
    for index in range(args.hosts):
        name = "win-%03d" % (index + 1)
        entry = known.get(name) or {"name": name, "address": _address(base, index), "port": 0,
                                    "username": DEFAULT_USER, "password": secrets.token_urlsafe(12)}
        entry["group"] = groups[index % len(groups)] if groups else None
        hosts.append(entry)
        if not os.path.exists(hostmod.state_path(lab_dir, name)):
            profile = host_profiles[index % len(host_profiles)]
            hostmod.save_state(lab_dir, hostmod.new_state(name, entry["address"], profile, settings))
    fleet = {
        "hosts": hosts,
        "control_token": fleet.get("control_token") or secrets.token_hex(16),
        "service_port": fleet.get("service_port", 0),
        "transport": args.transport,
        "settings": {"heartbeat_interval": args.heartbeat_interval, "receive_timeout_cap": 20.0,
                     "workers": 16},
    }
    _write_private(_fleet_path(lab_dir), fleet)
    runtime = _start_server(lab_dir)
    for entry in hosts:
        entry["port"] = runtime["ports"][entry["name"]]
        entry["http_port"] = runtime["http_ports"][entry["name"]]
    fleet["service_port"] = int(runtime["service_url"].rsplit(":", 1)[1])
    _write_private(_fleet_path(lab_dir), fleet)
    lab["installers"] = _write_installers(lab_dir, runtime["service_url"])
    inventory = write_inventory(lab_dir, fleet, fleet_vars(lab))
    lab["windows"] = {
        "pid": runtime["pid"],
        "service_url": runtime["service_url"],
        "inventory": inventory,
        "ca_bundle": certs.ca_paths(lab_dir)[0],
        "transport": args.transport,
        "hosts": {h["name"]: {"address": h["address"], "port": h["port"], "http_port": h["http_port"],
                              "group": h["group"]} for h in hosts},
        "groups": groups,
    }


def _start_server(lab_dir):
    runtime_path = _runtime_path(lab_dir)
    if os.path.exists(runtime_path):
        os.unlink(runtime_path)
    log = open(os.path.join(_wdir(lab_dir), "server.log"), "ab")  # pylint: disable=consider-using-with
    env = dict(os.environ, PYTHONPATH=LAB_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, "-m", "windows.server", "--dir", lab_dir], cwd=LAB_ROOT, stdout=log, stderr=log,
        stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        runtime = _read_json(runtime_path)
        if runtime and runtime.get("pid") == proc.pid:
            return runtime
        if proc.poll() is not None:
            sys.exit("labctl: the Windows lab process exited with %s; see %s" % (
                proc.returncode, os.path.join(_wdir(lab_dir), "server.log")))
        time.sleep(0.05)
    proc.terminate()
    sys.exit("labctl: the Windows lab process did not become ready")


# The workspace the fleet's agents report to; the Azure lab creates it on the first onboarding, as Azure would.
LAB_WORKSPACE_NAME = "law-hybrid-workers"


# The lab's Arc onboarding service principal is its Azure client: the secret comes from the environment at run time.
ARC_SECRET_FROM_ENVIRONMENT = "{{ lookup('ansible.builtin.env', 'AZURE_SECRET') }}"


def fleet_vars(lab):
    """What a user's inventory holds for the whole fleet: the Azure names, the Arc onboarding service principal and
    the agents' installer sources.

    With these in ``DIR/inventory.yml``, the fleet playbooks need nothing else than the ``azure.env`` variables: the
    default ``hybrid_worker_type`` (extension) connects the hosts to Azure Arc with the ``arc_agent_*`` variables, and
    ``hybrid_worker_type: agent`` uses the Log Analytics agent installer. The service principal's secret is not
    copied here (a user keeps it in Ansible Vault): it is read from ``AZURE_SECRET`` of the exported ``azure.env``
    when a task needs it, so lab.json stays the lab's only store of it. The inventory holds the hosts' WinRM
    passwords, so it is written with mode 0600 like lab.json.
    """
    installers = lab.get("installers") or {}
    azure, installer, arc = lab.get("azure"), installers.get("mma_x64"), installers.get("arc_agent")
    if not azure or not installer or not arc:
        return {}
    return {
        "automation_prerequisites_resource_group": azure["resource_group"],
        "automation_prerequisites_automation_account": azure["automation_account"],
        "automation_prerequisites_workspace_name": LAB_WORKSPACE_NAME,
        "automation_prerequisites_location": azure["location"],
        "log_analytics_agent_installer_url": installer["url"],
        "log_analytics_agent_installer_checksum": installer["sha256"],
        "arc_agent_installer_url": arc["url"],
        "arc_agent_installer_checksum": arc["sha256"],
        "arc_agent_tenant_id": azure["env"]["AZURE_TENANT"],
        "arc_agent_subscription_id": azure["subscription_id"],
        "arc_agent_resource_group": azure["resource_group"],
        "arc_agent_location": azure["location"],
        "arc_agent_service_principal_id": azure["env"]["AZURE_CLIENT_ID"],
        "arc_agent_service_principal_secret": ARC_SECRET_FROM_ENVIRONMENT,
    }


def write_inventory(lab_dir, fleet, all_vars=None):
    """``DIR/inventory.yml``: every host with its WinRM connection variables (certificate validation on), and the
    fleet-wide ``all_vars``."""
    ca_bundle = certs.ca_paths(lab_dir)[0]
    lines = ["# Written by labctl: the simulated Windows fleet of this lab folder.", "all:"]
    if all_vars:
        lines += ["  vars:"] + ["    %s: %s" % (name, json.dumps(value)) for name, value in sorted(all_vars.items())]
    lines += ["  children:",
              "    windows:", "      vars:",
              "        ansible_connection: winrm",
              "        ansible_winrm_scheme: https",
              "        ansible_winrm_transport: %s" % fleet.get("transport", "ntlm"),
              "        ansible_winrm_server_cert_validation: validate",
              "        ansible_winrm_ca_trust_path: %s" % json.dumps(ca_bundle),
              "      hosts:"]
    for entry in fleet["hosts"]:
        lines += ["        %s:" % entry["name"],
                  "          ansible_host: %s" % entry["address"],
                  "          ansible_port: %d" % entry["port"],
                  "          ansible_user: %s" % entry["username"],
                  "          ansible_password: %s" % json.dumps(entry["password"])]
        if entry.get("group"):
            lines.append("          hybrid_runbook_worker_group: %s" % json.dumps(entry["group"]))
    path = os.path.join(lab_dir, "inventory.yml")
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    os.replace(path + ".tmp", path)
    return path


def down(args, lab):
    runtime = _server_alive(args.dir)
    if not runtime:
        return
    try:
        _control(args.dir, "stop", {})
    except (OSError, http.client.HTTPException):
        os.kill(runtime["pid"], signal.SIGTERM)
    deadline = time.time() + 15
    while time.time() < deadline:
        try:
            os.kill(runtime["pid"], 0)
        except OSError:
            break
        time.sleep(0.05)
    else:
        os.kill(runtime["pid"], signal.SIGKILL)
    if "windows" in lab:
        lab["windows"]["pid"] = None
        labdir.write_lab_json(args.dir, lab)


def status(args, lab):
    runtime = _server_alive(args.dir)
    fleet = _read_json(_fleet_path(args.dir), {}) or {}
    return {"running": bool(runtime), "pid": runtime and runtime["pid"],
            "service_url": runtime and runtime["service_url"], "hosts": len(fleet.get("hosts", [])),
            "inventory": (lab.get("windows") or {}).get("inventory")}


def _control(lab_dir, op, body):
    runtime = _read_json(_runtime_path(lab_dir))
    fleet = _read_json(_fleet_path(lab_dir))
    if not runtime or not fleet:
        raise OSError("the Windows lab is not running")
    parts = urllib.parse.urlsplit(runtime["service_url"])
    context = ssl.create_default_context(cafile=certs.ca_paths(lab_dir)[0])
    conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=60, context=context)
    try:
        conn.request("POST", "/control/" + op, body=json.dumps(body),
                     headers={"X-Lab-Token": fleet["control_token"], "Content-Type": "application/json"})
        response = conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise OSError("control %s answered %d" % (op, response.status))
        return json.loads(data or b"{}")
    finally:
        conn.close()


def stats(args, lab):
    if not _server_alive(args.dir):
        return {"running": False, "commands_total": 0, "commands_per_host": {}, "module_calls_per_host": {}}
    return _control(args.dir, "stats", {"reset": bool(getattr(args, "reset", False))})


def owns_fault_target(target):
    return target.startswith("win-")


def refresh(lab_dir, names):
    if _server_alive(lab_dir):
        _control(lab_dir, "refresh", {"hosts": names})


def set_fault(lab_dir, name, kind, value=None):
    """Inject (or with kind ``clear`` remove) a fault; the running lab applies it at once."""
    with hostmod.locked_host(lab_dir, name) as host:
        if kind == "clear":
            if value:
                host.state["faults"].pop(value, None)
            else:
                host.state["faults"] = {}
        else:
            if kind not in hostmod.FAULT_KINDS:
                raise ValueError("unknown fault %r; known: clear, %s" % (kind, ", ".join(hostmod.FAULT_KINDS)))
            defaults = {"slow": 1000, "slow-command": 30000, "installer-exit": 1603, "registration": 401}
            host.state["faults"][kind] = value if value not in (None, "") else defaults.get(kind, True)
            if kind in defaults:
                host.state["faults"][kind] = int(host.state["faults"][kind])
        faults = dict(host.state["faults"])
    refresh(lab_dir, [name])
    return faults


def fault(args, lab):
    value = args.options[0] if args.options else None
    try:
        faults = set_fault(args.dir, args.target, args.kind, value)
    except (KeyError, ValueError) as exc:
        sys.exit("labctl: %s" % exc)
    print(json.dumps({"host": args.target, "faults": faults}, indent=2, sort_keys=True))


def host_command(args, lab):
    try:
        with hostmod.locked_host(args.dir, args.name, hostmod.LabContext.from_lab(args.dir, lab)) as host:
            view = host.public_view()
    except KeyError as exc:
        sys.exit("labctl: %s" % exc.args[0])
    print(json.dumps(view, indent=2, sort_keys=True))


def drift(lab_dir, lab, name, kind, argument=None):
    """Change host ``name`` the way an operator or a failure would (see DRIFT_KINDS); returns a summary."""
    context = hostmod.LabContext.from_lab(lab_dir, lab)
    with hostmod.locked_host(lab_dir, name, context) as host:
        if kind == "stop-service":
            changed = host.set_service(hostmod.MMA_SERVICE, "Stopped")
        elif kind == "uninstall-agent":
            changed = host.uninstall_mma()
        elif kind == "remove-workspace":
            ids = [argument] if argument else [w["workspace_id"] for w in host.state["agent"]["workspaces"]]
            changed = False
            for workspace_id in ids:
                changed |= host.remove_cloud_workspace(workspace_id)
        elif kind == "unregister":
            # The support procedure for a stuck worker (TSV1): delete the local registration, restart the agent.
            changed = host.remove_user_worker_keys()
            if host.service(hostmod.MMA_SERVICE):
                host.restart_service()
        elif kind == "arc-disconnect":
            # An operator ran `azcmagent disconnect` (the Azure resource goes with the lab's own identity).
            agent = host.arc_agent()
            if not agent or not agent["resource_name"]:
                raise ValueError("%s has no connected Arc agent" % name)
            changed = host.arc_disconnect('"%s" disconnect' % hostmod.AZCMAGENT, context.machine_identity)
        elif kind == "stale-v2-keys":
            # The extension was removed through Azure while the host was away: service and plugin folder gone, the
            # V2 registry keys stay (reference 5.2).
            if not host.hybrid_worker_v2()["registry_keys"]:
                host.install_hybrid_worker_extension("1.1.13", "https://%s.jrds.invalid/automationAccounts/%s"
                                                     % (profiles.FOREIGN_ACCOUNT, profiles.FOREIGN_ACCOUNT), "")
            changed = host.uninstall_hybrid_worker_extension()
        elif kind == "remove-psmodule":
            if not argument:
                raise ValueError("remove-psmodule needs the module name")
            changed = host.uninstall_psmodule(argument)
        elif kind in ("delete-azure-worker", "move-group"):
            secret = host.state.get("worker_secret")
            if not secret:
                raise ValueError("%s is not registered as a worker" % name)
            # The account key the worker registered with (a regenerated key makes this drift fail, as it would).
            key = secret["key"]
            if kind == "delete-azure-worker":
                # The worker leaves its group in Azure (portal "Delete"); the host keeps its registry (EXT).
                host.context.agentsvc_deregister(secret["url"], key, secret["machine_id"])
                changed = True
            else:
                if not argument:
                    raise ValueError("move-group needs the new group name")
                host.deregister_v1_worker(secret["url"], key)
                host.remove_user_worker_keys()
                host.register_v1_worker(argument, secret["url"], key)
                changed = True
        else:
            raise ValueError("unknown drift %r" % kind)
        summary = host.public_view()["summary"]
    return {"host": name, "drift": kind, "changed": bool(changed), "summary": summary}


def drift_command(args, lab):
    try:
        result = drift(args.dir, lab, args.name, args.kind, args.argument)
    except (KeyError, ValueError, hostmod.WindowsError) as exc:
        sys.exit("labctl: drift %s on %s failed: %s" % (args.kind, args.name, exc))
    print(json.dumps(result, indent=2, sort_keys=True))


def heartbeat_command(args, lab):
    try:
        print(json.dumps(_control(args.dir, "heartbeat", {}), indent=2, sort_keys=True))
    except (OSError, http.client.HTTPException) as exc:
        sys.exit("labctl: %s" % exc)
