"""The simulated Windows server: its observable state and the transitions that change it.

No PowerShell runs in the lab. A host is a plain JSON document (``DIR/windows/hosts/<name>.json``) that holds what a
real server exposes to the collection's modules, and :class:`Host` wraps it with read helpers and *transition*
methods, one per step of the reference (windows-host reference, section 7 "Facts a test double of a Windows host must
model"). Module models (``tests/lab/windows/models/``) only read and change a host through this class, so that every
model agrees on what a step does.

State layout (keys of the JSON document)::

    name, computer_name, address, profile
    os            {caption, version, build, is_64bit}          -> Win32_OperatingSystem / [Environment]::Is64Bit*
    powershell    {version}                                     -> $PSVersionTable.PSVersion
    registry      {lower-case key path: {path, values{}}}       -> HKLM keys this lab models (see REGISTRY below)
    services      {name: {display_name, status, start_type}}    -> Get-Service (HealthService, HybridWorkerService)
    files         {lower-case path: {path, type, sha256, size, source_url, manifest, last_write_time}}
    agent         {workspaces: [{workspace_id, key, cloud_type, connection_status, solutions}], proxy}
                                                                -> AgentConfigManager.MgmtSvcCfg (COM)
    pending_solutions [{workspace_id, version, due}]            -> HybridRegistration push not arrived yet
    psmodules     [{name, version, repository, path}]          -> Get-Module -ListAvailable
    processes     [{command_line, exit_code, time}]             -> process creation log (installers)
    heartbeat     {last_ods, last_ping}                         -> what the lab's heartbeat loop last sent
    faults        {kind: value}                                 -> injected faults (see FAULT_KINDS)
    settings      {hybrid_registration_delay, hybrid_registration_version}

Registry paths are written exactly as a real host shows them (``HKLM:\\SOFTWARE\\Microsoft\\...``); lookups are
case-insensitive like the Windows registry.

Errors: a transition that fails on a real host raises :class:`WindowsError` carrying the message Windows (or the
cmdlet) prints, plus an optional exit code / HTTP status, so a model can put it into its result the way the real
PowerShell module would.
"""
import contextlib
import copy
import datetime
import fcntl
import hashlib
import importlib.util
import json
import os
import re
import threading
import time
import uuid

from . import azure_client

# --- registry paths (windows-host reference, sections 2.5, 3.3, 3.5, 3.8, 5.2, 7) ---------------------------------
UNINSTALL_KEY = "HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall"
MOM_SETUP_KEY = "HKLM:\\SOFTWARE\\Microsoft\\Microsoft Operations Manager\\3.0\\Setup"
SERVICE_CONNECTOR_KEY = (
    "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\HealthService\\Parameters\\Service Connector Services"
)
HRW_KEY = "HKLM:\\SOFTWARE\\Microsoft\\HybridRunbookWorker"
HRW_V2_KEY = "HKLM:\\SOFTWARE\\Microsoft\\HybridRunbookWorkerV2"
SCHANNEL_TLS12 = "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2"
NETFX_STRONG_CRYPTO = (
    "HKLM:\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319",
    "HKLM:\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319",
)
NDP_FULL_KEY = "HKLM:\\SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v4\\Full"

MMA_DISPLAY_NAME = "Microsoft Monitoring Agent"
MMA_SERVICE = "HealthService"
AGENT_DIR = "C:\\Program Files\\Microsoft Monitoring Agent\\Agent"
AUTOMATION_DIR = AGENT_DIR + "\\AzureAutomation"
PSMODULE_DIR = "C:\\Program Files\\WindowsPowerShell\\Modules"

# Azure Connected Machine (Arc) agent and the extension-based (V2) worker (reference 5.2, 7 items 3 and 7).
ARC_DISPLAY_NAME = "Azure Connected Machine Agent"
ARC_INSTALL_DIR = "C:\\Program Files\\AzureConnectedMachineAgent"
AZCMAGENT = ARC_INSTALL_DIR + "\\azcmagent.exe"
ARC_DATA_DIR = "C:\\ProgramData\\AzureConnectedMachineAgent"
ARC_SERVICES = {"himds": "Azure Hybrid Instance Metadata Service", "GCArcService": "Guest Configuration Arc Service",
                "ExtensionService": "Guest Configuration Extension Service"}
AZURE_HYBRID_WORKER_KEY = "HKLM:\\SOFTWARE\\Microsoft\\Azure\\HybridWorker"
HYBRID_WORKER_SERVICE = "HybridWorkerService"
HYBRID_WORKER_HANDLER = "Microsoft.Azure.Automation.HybridWorker.HybridWorkerForWindows"
HYBRID_WORKER_PLUGIN_DIR = "C:\\Packages\\Plugins\\" + HYBRID_WORKER_HANDLER
# The lab's Azure models the public cloud only.
ARC_CLOUDS = ("AzureCloud",)

# Lab-chosen codes for the workspace registry mirror's `Connection Status` (only 0 = connected is documented).
CONNECTION_OK = 0
CONNECTION_AUTH_FAILED = 1
CONNECTION_UNREACHABLE = 2

# Faults a host can carry (`labctl fault HOST KIND [VALUE]`); value in brackets is the default.
FAULT_KINDS = {
    "unreachable": "the WinRM listener is closed (connection refused)",
    "slow": "latency per WinRM operation in milliseconds [1000]",
    "slow-command": "each command runs this many milliseconds before it answers [30000]",
    "wrong-credentials": "the host's password changed: every request gets 401",
    "installer-exit": "the agent installer exits with this code [1603]",
    "download-failure": "downloads fail like an unreachable server",
    "checksum-mismatch": "downloaded bytes are corrupted (one byte flipped)",
    "registration": "agent service answers registration with this HTTP status [401]",
    "hybrid-registration-never": "the HybridRegistration solution push never arrives",
    "arc-connect": "azcmagent connect cannot reach Azure Arc (network failure)",
}

DEFAULT_SETTINGS = {"hybrid_registration_delay": 2.0, "hybrid_registration_version": "7.3.1722.0"}


class WindowsError(Exception):  # pylint: disable=redefined-builtin
    """A step failed the way it fails on Windows; ``str(exc)`` is the Windows/cmdlet message."""

    def __init__(self, message, exit_code=None, status=None):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.status = status


def _now():
    return time.time()


def _iso(timestamp):
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def version_tuple(text):
    return tuple(int(p) for p in re.findall(r"\d+", str(text)))


# --- the state document ------------------------------------------------------------------------------------------

def new_state(name, address, profile=None, settings=None):
    """A fresh host document for ``profile`` (see :mod:`profiles`)."""
    from . import profiles  # pylint: disable=import-outside-toplevel

    state = {
        "name": name,
        "computer_name": name.upper()[:15],
        "address": address,
        "profile": None,
        "os": {},
        "powershell": {},
        "registry": {},
        "services": {},
        "files": {},
        "agent": {"workspaces": [], "proxy": None},
        "pending_solutions": [],
        "psmodules": [],
        "processes": [],
        "heartbeat": {},
        "faults": {},
        "settings": dict(DEFAULT_SETTINGS, **(settings or {})),
    }
    host = Host(state)
    profiles.apply(host, profile or profiles.DEFAULT_PROFILE)
    return state


class Host:
    """One simulated Windows server. ``host.state`` is the JSON document; ``host.context`` reaches the other labs.

    ``context`` is a :class:`LabContext` (Azure lab URL + CA bundle, installer server CA); transitions that talk to
    Azure raise :class:`WindowsError` when it is missing, like a server without network.
    """

    def __init__(self, state, context=None):
        self.state = state
        self.context = context or LabContext()

    # --- identity ---------------------------------------------------------------------------------------------------
    @property
    def name(self):
        return self.state["name"]

    @property
    def computer_name(self):
        return self.state["computer_name"]

    @property
    def address(self):
        return self.state["address"]

    def fault(self, kind):
        return self.state["faults"].get(kind)

    # --- registry ---------------------------------------------------------------------------------------------------
    def reg_key(self, path):
        """The key's values (a dict, live) or None when the key does not exist."""
        entry = self.state["registry"].get(path.lower())
        return None if entry is None else entry["values"]

    def reg_value(self, path, name, default=None):
        values = self.reg_key(path)
        if values is None:
            return default
        for key, value in values.items():
            if key.lower() == name.lower():
                return value
        return default

    def reg_ensure(self, path):
        """Create the key (and, like New-Item -Force, its parents); return its values dict."""
        parts = path.split("\\")
        for i in range(2, len(parts) + 1):
            sub = "\\".join(parts[:i])
            self.state["registry"].setdefault(sub.lower(), {"path": sub, "values": {}})
        return self.state["registry"][path.lower()]["values"]

    def reg_set(self, path, name, value):
        values = self.reg_ensure(path)
        for key in list(values):
            if key.lower() == name.lower():
                del values[key]
        values[name] = value

    def reg_delete(self, path):
        """Remove-Item -Recurse: the key and every subkey. Returns True if something was removed."""
        prefix = path.lower()
        doomed = [k for k in self.state["registry"] if k == prefix or k.startswith(prefix + "\\")]
        for key in doomed:
            del self.state["registry"][key]
        return bool(doomed)

    def reg_subkeys(self, path):
        """Names of the direct subkeys (Get-ChildItem), in the case they were created with."""
        prefix = path.lower() + "\\"
        names = []
        for key, entry in self.state["registry"].items():
            if key.startswith(prefix) and "\\" not in key[len(prefix):]:
                names.append(entry["path"].split("\\")[-1])
        return sorted(names, key=str.lower)

    # --- prerequisites (reference 3.8 and section 7 "Prereqs") -------------------------------------------------------
    def prerequisites(self):
        client = SCHANNEL_TLS12 + "\\Client"
        server = SCHANNEL_TLS12 + "\\Server"
        return {
            "os_caption": self.state["os"]["caption"],
            "os_version": self.state["os"]["version"],
            "is_64bit_os": self.state["os"]["is_64bit"],
            "is_64bit_process": self.state["os"]["is_64bit"],
            "powershell_version": self.state["powershell"]["version"],
            "dotnet_release": self.reg_value(NDP_FULL_KEY, "Release"),
            "tls12_client": {"Enabled": self.reg_value(client, "Enabled"),
                             "DisabledByDefault": self.reg_value(client, "DisabledByDefault")},
            "tls12_server": {"Enabled": self.reg_value(server, "Enabled"),
                             "DisabledByDefault": self.reg_value(server, "DisabledByDefault")},
            "sch_use_strong_crypto": [self.reg_value(path, "SchUseStrongCrypto") for path in NETFX_STRONG_CRYPTO],
        }

    def tls12_available(self, explicit=True):
        """Can a download from this host's PowerShell use TLS 1.2?

        [I] from reference 3.8: SCHANNEL's TLS 1.2 client must not be disabled, and .NET must know TLS 1.2 (4.5,
        Release 378389). Windows PowerShell is built for .NET 4.5, so unless the script sets
        ``[Net.ServicePointManager]::SecurityProtocol`` to Tls12 itself (``explicit=True``) it only gets TLS 1.2
        with ``SchUseStrongCrypto=1``.
        """
        client = SCHANNEL_TLS12 + "\\Client"
        if self.reg_value(client, "Enabled") == 0 or self.reg_value(client, "DisabledByDefault") == 1:
            return False
        release = self.reg_value(NDP_FULL_KEY, "Release") or 0
        if release < 378389:
            return False
        return explicit or self.reg_value(NETFX_STRONG_CRYPTO[0], "SchUseStrongCrypto") == 1

    # --- installed products (reference 3.3) ------------------------------------------------------------------------
    def installed_products(self):
        """Uninstall entries: [{product_code, DisplayName, DisplayVersion, ...}]."""
        result = []
        for name in self.reg_subkeys(UNINSTALL_KEY):
            values = self.reg_key(UNINSTALL_KEY + "\\" + name)
            result.append(dict(values, product_code=name))
        return result

    def installed_product(self, display_name):
        """The uninstall entry whose DisplayName matches exactly, or None."""
        for entry in self.installed_products():
            if entry.get("DisplayName") == display_name:
                return entry
        return None

    def mma_installed(self):
        return self.installed_product(MMA_DISPLAY_NAME) is not None

    def install_mma(self, version, product_code, command_line, workspace_id=None, workspace_key=None, cloud_type=0):
        """Run the agent's ``setup.exe /qn ...`` (reference 3.2, section 7 table row 3).

        Records ``command_line`` in the process log (so tests can prove no secret went on it), honours the
        ``installer-exit`` fault, refuses to downgrade/reinstall a different version (the installer does not
        upgrade through this path, LAWA21), and returns the exit code (0). With ``workspace_id``/``workspace_key``
        (``ADD_OPINSIGHTS_WORKSPACE=1``) the workspace is added as through the COM object.
        """
        exit_code = int(self.fault("installer-exit") or 0)
        existing = self.installed_product(MMA_DISPLAY_NAME)
        if not exit_code and existing and existing.get("DisplayVersion") != version:
            # MSI: "Another version of this product is already installed." (ERROR_PRODUCT_VERSION)
            exit_code = 1638
        self.run_process(command_line, exit_code)
        if exit_code:
            raise WindowsError("The agent installer exited with code %d" % exit_code, exit_code=exit_code)
        if existing:
            return 0
        key = UNINSTALL_KEY + "\\" + product_code
        self.reg_set(key, "DisplayName", MMA_DISPLAY_NAME)
        self.reg_set(key, "DisplayVersion", version)
        self.reg_set(key, "Publisher", "Microsoft Corporation")
        self.reg_set(MOM_SETUP_KEY, "InstallDirectory", AGENT_DIR + "\\")
        self.reg_set(MOM_SETUP_KEY, "Product", MMA_DISPLAY_NAME)
        self.reg_set(MOM_SETUP_KEY, "AgentVersion", version)
        self.add_dir(AGENT_DIR)
        self.add_file(AGENT_DIR + "\\TestCloudConnection.exe", b"lab stand-in")
        self.add_dir(AGENT_DIR + "\\Health Service State")
        self.state["services"][MMA_SERVICE] = {
            "display_name": MMA_DISPLAY_NAME, "status": "Running", "start_type": "Automatic"}
        if workspace_id:
            self.add_cloud_workspace(workspace_id, workspace_key, cloud_type)
        return 0

    def uninstall_mma(self, command_line=None):
        """``msiexec /x {ProductCode}``: product, service and COM object gone.

        Left behind as on a real host ([U] in the reference: cleanup is not guaranteed): the ``AzureAutomation``
        folder and the Hybrid Runbook Worker registry.
        """
        entry = self.installed_product(MMA_DISPLAY_NAME)
        if entry is None:
            return False
        self.run_process(command_line or "msiexec.exe /x %s /qn" % entry["product_code"], 0)
        self.reg_delete(UNINSTALL_KEY + "\\" + entry["product_code"])
        self.reg_delete(MOM_SETUP_KEY)
        self.reg_delete(SERVICE_CONNECTOR_KEY)
        self.state["services"].pop(MMA_SERVICE, None)
        self.state["agent"] = {"workspaces": [], "proxy": None}
        self.state["pending_solutions"] = []
        for path in list(self.state["files"]):
            if path.startswith(AGENT_DIR.lower()) and not path.startswith(AUTOMATION_DIR.lower()):
                del self.state["files"][path]
        return True

    # --- services (reference 3.4) ----------------------------------------------------------------------------------
    def service(self, name):
        """{display_name, status, start_type} or None when the service does not exist."""
        return self.state["services"].get(name)

    def set_service(self, name, status):
        """Start-Service / Stop-Service. Raises like Windows when the service does not exist."""
        svc = self.state["services"].get(name)
        if svc is None:
            raise WindowsError("Cannot find any service with service name '%s'." % name)
        if status not in ("Running", "Stopped"):
            raise ValueError("status must be Running or Stopped")
        changed = svc["status"] != status
        svc["status"] = status
        if changed and status == "Running" and name == MMA_SERVICE:
            self.refresh_agent_configuration()
        return changed

    def restart_service(self, name=MMA_SERVICE):
        """Restart-Service: ends Running; the agent re-reads its configuration."""
        self.set_service(name, "Stopped")
        self.set_service(name, "Running")
        return True

    # --- files ------------------------------------------------------------------------------------------------------
    def file(self, path):
        return self.state["files"].get(path.lower())

    def add_dir(self, path):
        parts = path.split("\\")
        for i in range(2, len(parts) + 1):
            sub = "\\".join(parts[:i])
            self.state["files"].setdefault(sub.lower(), {"path": sub, "type": "dir", "last_write_time": _now()})

    def add_file(self, path, data, source_url=None):
        self.add_dir(path.rsplit("\\", 1)[0])
        entry = {
            "path": path, "type": "file", "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "sha1": hashlib.sha1(data).hexdigest(), "source_url": source_url, "last_write_time": _now(),
            "manifest": installer_manifest(data),
        }
        self.state["files"][path.lower()] = entry
        self.context.store_blob(entry["sha256"], data)
        return entry

    def file_bytes(self, path):
        """The bytes of a file the lab kept (put_file uploads, downloads), or None."""
        entry = self.file(path)
        if entry is None or entry["type"] != "file":
            return None
        return self.context.load_blob(entry["sha256"])

    def remove_path(self, path):
        prefix = path.lower()
        doomed = [k for k in self.state["files"] if k == prefix or k.startswith(prefix + "\\")]
        for key in doomed:
            del self.state["files"][key]
        return bool(doomed)

    def list_dir(self, path):
        prefix = path.lower().rstrip("\\") + "\\"
        return sorted(e["path"].split("\\")[-1] for k, e in self.state["files"].items()
                      if k.startswith(prefix) and "\\" not in k[len(prefix):])

    def download(self, url, dest, explicit_tls12=True):
        """Invoke-WebRequest/WebClient.DownloadFile: fetch ``url`` for real and store the bytes' facts at ``dest``.

        The host trusts the lab CA (as if it were in its root store). Fails like .NET when TLS 1.2 is not
        available, when the server cannot be reached or answers an error, and honours the ``download-failure`` and
        ``checksum-mismatch`` faults. Returns the file entry (``sha256`` computed from the bytes received).
        """
        if self.fault("download-failure"):
            raise WindowsError("Unable to connect to the remote server")
        if url.lower().startswith("https://") and not self.tls12_available(explicit_tls12):
            raise WindowsError("The underlying connection was closed: An unexpected error occurred on a send.")
        data = self.context.fetch(url)
        if self.fault("checksum-mismatch") and data:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        return self.add_file(dest, data, source_url=url)

    # --- processes --------------------------------------------------------------------------------------------------
    def run_process(self, command_line, exit_code=0):
        """Record a process the host ran (installers, msiexec); tests read it to prove no secret was on it."""
        self.state["processes"].append({"command_line": command_line, "exit_code": exit_code, "time": _iso(_now())})
        del self.state["processes"][:-50]
        return exit_code

    def process_log(self):
        return list(self.state["processes"])

    # --- agent COM object and workspace mirror (reference 3.5) --------------------------------------------------------
    def _require_com(self):
        if not self.mma_installed():
            # New-Object -ComObject on an unregistered ProgID.
            raise WindowsError(
                "Retrieving the COM class factory for component with CLSID {00000000-0000-0000-0000-000000000000} "
                "failed due to the following error: 80040154 Class not registered")

    def cloud_workspaces(self):
        """GetCloudWorkspaces(): [{workspace_id, cloud_type, connection_status}] (keys stay inside the host)."""
        self._require_com()
        return [{"workspace_id": w["workspace_id"], "cloud_type": w["cloud_type"],
                 "connection_status": w["connection_status"]} for w in self.state["agent"]["workspaces"]]

    def cloud_workspace(self, workspace_id):
        for entry in self.state["agent"]["workspaces"]:
            if entry["workspace_id"].lower() == workspace_id.lower():
                return entry
        return None

    def add_cloud_workspace(self, workspace_id, key, cloud_type=0):
        """AddCloudWorkspace(id, key, type) + ReloadConfiguration(); adding an existing id replaces its key."""
        self._require_com()
        if not re.match(r"^[0-9a-fA-F-]{36}$", workspace_id or ""):
            raise WindowsError("Exception calling \"AddCloudWorkspace\" with \"3\" argument(s): \"The parameter is incorrect.\"")
        entry = self.cloud_workspace(workspace_id)
        if entry is None:
            entry = {"workspace_id": workspace_id, "cloud_type": cloud_type}
            self.state["agent"]["workspaces"].append(entry)
        entry.update(key=key, cloud_type=cloud_type, connection_status=CONNECTION_UNREACHABLE, solutions=[])
        mirror = SERVICE_CONNECTOR_KEY + "\\Log Analytics - " + workspace_id
        self.reg_delete(mirror)
        self.reg_set(mirror, "Azure Cloud Type", cloud_type)
        self.reg_set(mirror, "Is Cloud Workspace", 1)
        self.refresh_agent_configuration()
        return entry

    def remove_cloud_workspace(self, workspace_id):
        """RemoveCloudWorkspace(id) + ReloadConfiguration(). Solution bits already pushed stay ([U])."""
        self._require_com()
        entry = self.cloud_workspace(workspace_id)
        if entry is None:
            return False
        self.state["agent"]["workspaces"].remove(entry)
        self.reg_delete(SERVICE_CONNECTOR_KEY + "\\Log Analytics - " + entry["workspace_id"])
        self.state["pending_solutions"] = [
            p for p in self.state["pending_solutions"] if p["workspace_id"].lower() != workspace_id.lower()]
        return True

    def workspace_key_matches(self, workspace_id, key):
        entry = self.cloud_workspace(workspace_id)
        return entry is not None and entry["key"] == key

    def refresh_agent_configuration(self):
        """The agent (if running) contacts each workspace: connection status + enabled solutions.

        Lab stand-in for the management-pack download: ``GET /oms/{id}/agent/configuration`` on the Azure lab, signed
        with the workspace key. A workspace with ``AzureAutomation`` schedules the HybridRegistration push after
        ``settings.hybrid_registration_delay`` seconds (reference 2.1, section 7 "Solution push").
        """
        svc = self.service(MMA_SERVICE)
        if svc is None or svc["status"] != "Running":
            return
        for entry in self.state["agent"]["workspaces"]:
            try:
                solutions = self.context.agent_configuration(entry["workspace_id"], entry["key"])
            except azure_client.AzureLabError as exc:
                entry["connection_status"] = CONNECTION_AUTH_FAILED if exc.status == 403 else CONNECTION_UNREACHABLE
                entry["solutions"] = []
            else:
                entry["connection_status"] = CONNECTION_OK
                entry["solutions"] = solutions
            mirror = SERVICE_CONNECTOR_KEY + "\\Log Analytics - " + entry["workspace_id"]
            self.reg_set(mirror, "Connection Status", entry["connection_status"])
            if "AzureAutomation" in entry["solutions"] and not self.fault("hybrid-registration-never"):
                self._schedule_solution(entry["workspace_id"])

    def _schedule_solution(self, workspace_id):
        version = self.state["settings"]["hybrid_registration_version"]
        if self.file(self._hybrid_registration_psd1(version)):
            return
        if any(p["version"] == version for p in self.state["pending_solutions"]):
            return
        due = _now() + float(self.state["settings"]["hybrid_registration_delay"])
        self.state["pending_solutions"].append({"workspace_id": workspace_id, "version": version, "due": due})

    @staticmethod
    def _hybrid_registration_psd1(version):
        return "%s\\%s\\HybridRegistration\\HybridRegistration.psd1" % (AUTOMATION_DIR, version)

    def deliver_due_solutions(self):
        """Materialise pushes whose delay has passed (called before every read; cheap)."""
        now = _now()
        remaining = []
        for pending in self.state["pending_solutions"]:
            if pending["due"] > now or self.fault("hybrid-registration-never"):
                remaining.append(pending)
                continue
            self.add_hybrid_registration(pending["version"])
        self.state["pending_solutions"] = remaining

    def add_hybrid_registration(self, version):
        """The solution's files for ``version`` (used by the push and by profiles)."""
        base = "%s\\%s" % (AUTOMATION_DIR, version)
        self.add_file(self._hybrid_registration_psd1(version), b"@{ ModuleVersion = '%s' }" % version.encode())
        self.add_file(base + "\\HybridAgent\\Orchestrator.Sandbox.exe", b"lab stand-in")

    def hybrid_registration_versions(self):
        """Version folders under ``AzureAutomation`` that hold ``HybridRegistration\\HybridRegistration.psd1``."""
        self.deliver_due_solutions()
        versions = [v for v in self.list_dir(AUTOMATION_DIR) if self.file(self._hybrid_registration_psd1(v))]
        return sorted(versions, key=version_tuple)

    def newest_hybrid_registration(self):
        """Full path of the newest (by version, not name) HybridRegistration.psd1, or None."""
        versions = self.hybrid_registration_versions()
        return self._hybrid_registration_psd1(versions[-1]) if versions else None

    # --- Hybrid Runbook Worker V1 registry (reference 2.5) ------------------------------------------------------------
    def hrw_registry(self):
        """What ``HKLM:\\SOFTWARE\\Microsoft\\HybridRunbookWorker`` holds, in the reference's detection terms.

        ``{"exists", "layout": absent|empty|legacy|current, "legacy_group", "user_workers": [{account_id, group,
        values}], "system_workers": [{account_id, name}]}``. ``registered_group`` follows the DSC algorithm:
        the legacy value first, else the first ``*\\*`` key with a ``User`` child; a system worker alone is *not*
        a registration.
        """
        result = {"exists": self.reg_key(HRW_KEY) is not None, "layout": "absent", "legacy_group": None,
                  "user_workers": [], "system_workers": [], "registered_group": None}
        if not result["exists"]:
            return result
        result["layout"] = "empty"
        legacy = self.reg_value(HRW_KEY, "RunbookWorkerGroup")
        if legacy is not None:
            result["layout"] = "legacy"
            result["legacy_group"] = legacy
            result["registered_group"] = legacy
        for level1 in self.reg_subkeys(HRW_KEY):
            for level2 in self.reg_subkeys(HRW_KEY + "\\" + level1):
                path = "%s\\%s\\%s" % (HRW_KEY, level1, level2)
                if "User" in self.reg_subkeys(path):
                    result["user_workers"].append(
                        {"account_id": level1, "group": level2, "values": dict(self.reg_key(path))})
                else:
                    result["system_workers"].append({"account_id": level1, "name": level2})
        if result["user_workers"] or result["system_workers"]:
            if result["layout"] != "legacy":
                result["layout"] = "current"
        if result["registered_group"] is None and result["user_workers"]:
            result["registered_group"] = result["user_workers"][0]["group"]
        return result

    def register_v1_worker(self, group, url, key):
        """``Add-HybridRunbookWorker -GroupName group -Url url -Key key`` (reference 2.2, section 7).

        Needs the HybridRegistration module and a running HealthService; refuses when a user registration is
        already in the registry ("Machine is already registered"); then registers with the account's agent service
        (``PUT {url}/HybridV2(MachineId=...)``, ``Shared`` HMAC signed with ``key``) and writes the current-layout
        registry ``<accountId>\\<group>\\User``. Service refusals raise :class:`WindowsError` with the status.
        """
        if self.newest_hybrid_registration() is None:
            raise WindowsError("The term 'Add-HybridRunbookWorker' is not recognized as the name of a cmdlet, "
                               "function, script file, or operable program.")
        svc = self.service(MMA_SERVICE)
        if svc is None or svc["status"] != "Running":
            raise WindowsError("Unable to connect to the Microsoft Monitoring Agent: the HealthService is not running.")
        if self.hrw_registry()["registered_group"] is not None:
            raise WindowsError("Machine is already registered", status=409)
        injected = self.fault("registration")
        if injected:
            raise _registration_error(int(injected))
        machine_id = str(uuid.uuid4())
        body = {
            "RunbookWorkerGroup": group, "MachineName": self.computer_name, "IpAddress": self.address,
            "Thumbprint": hashlib.sha1(machine_id.encode()).hexdigest().upper(),
            "Issuer": "CN=%s" % self.computer_name, "Subject": "CN=%s" % self.computer_name,
            "OperatingSystem": self.state["os"]["caption"], "SMBIOSAssetTag": "", "VirtualMachineId": "",
        }
        try:
            reply = self.context.agentsvc_register(url, key, machine_id, body)
        except azure_client.AzureLabError as exc:
            raise _registration_error(exc.status, exc.message) from None
        account_id = reply.get("AccountId") or azure_client.account_id_from_url(url)
        path = "%s\\%s\\%s" % (HRW_KEY, account_id, group)
        self.reg_set(path, "JobRuntimeDataServiceUri", reply.get("jobRuntimeDataServiceUri", ""))
        # [U] value names below are not documented; the lab keeps what Remove-HybridRunbookWorker needs.
        self.reg_set(path, "MachineId", machine_id)
        self.reg_set(path, "RegistrationUrl", url)
        self.reg_ensure(path + "\\User")
        # The real worker authenticates its pings with a certificate; the lab's ping contract uses the account key,
        # kept here (never shown by `labctl host`).
        self.state["worker_secret"] = {"url": url, "key": key, "machine_id": machine_id}
        return {"machine_id": machine_id, "account_id": account_id, "group": group}

    def deregister_v1_worker(self, url, key):
        """``Remove-HybridRunbookWorker -Url url -Key key``: the cloud entry goes, the registry stays (TSV1)."""
        if self.newest_hybrid_registration() is None:
            raise WindowsError("The term 'Remove-HybridRunbookWorker' is not recognized as the name of a cmdlet, "
                               "function, script file, or operable program.")
        workers = self.hrw_registry()["user_workers"]
        if not workers:
            raise WindowsError("This machine is not registered as a Hybrid Runbook Worker.")
        machine_id = workers[0]["values"].get("MachineId")
        try:
            self.context.agentsvc_deregister(url, key, machine_id)
        except azure_client.AzureLabError as exc:
            raise _registration_error(exc.status, exc.message) from None
        self.state.pop("worker_secret", None)
        return {"machine_id": machine_id}

    def remove_user_worker_keys(self):
        """Delete the user-worker keys (and a legacy root value); a system worker key stays (reference 2.6 caution)."""
        registry = self.hrw_registry()
        changed = False
        for worker in registry["user_workers"]:
            changed |= self.reg_delete("%s\\%s\\%s" % (HRW_KEY, worker["account_id"], worker["group"]))
        if changed:
            self.state.pop("worker_secret", None)
        values = self.reg_key(HRW_KEY)
        if values and "RunbookWorkerGroup" in values:
            for name in list(values):
                del values[name]
            changed = True
        return changed

    def registered_machine_id(self):
        workers = self.hrw_registry()["user_workers"]
        return workers[0]["values"].get("MachineId") if workers else None

    # --- PowerShell modules -----------------------------------------------------------------------------------------
    def psmodules(self, name=None):
        mods = self.state["psmodules"]
        if name is not None:
            mods = [m for m in mods if m["name"].lower() == name.lower()]
        return sorted(mods, key=lambda m: (m["name"].lower(), version_tuple(m["version"])))

    def install_psmodule(self, name, version, repository="PSGallery"):
        """Install-Module: adds ``<PSModulePath>\\name\\version``; an identical name+version is left alone."""
        if any(m["version"] == version for m in self.psmodules(name)):
            return False
        path = "%s\\%s\\%s" % (PSMODULE_DIR, name, version)
        self.state["psmodules"].append({"name": name, "version": version, "repository": repository, "path": path})
        self.add_file(path + "\\%s.psd1" % name, b"@{ ModuleVersion = '%s' }" % version.encode())
        return True

    def uninstall_psmodule(self, name, version=None):
        """Uninstall-Module (every version unless ``version``)."""
        doomed = [m for m in self.psmodules(name) if version is None or m["version"] == version]
        for mod in doomed:
            self.state["psmodules"] = [m for m in self.state["psmodules"] if m is not mod and m != mod]
            self.remove_path(mod["path"])
        return bool(doomed)

    # --- Azure Connected Machine (Arc) agent (lab-modelled; reference 5.2/5.3, azcmagent documentation) -------------
    def arc_agent(self):
        """The agent's local configuration (what ``azcmagent show`` reads), or None when the agent is not installed."""
        if self.installed_product(ARC_DISPLAY_NAME) is None:
            return None
        return self.state.setdefault("arc_agent", _disconnected_arc_state())

    def arc_show(self):
        """``azcmagent show -j``: status, resource coordinates and agent version (keys as the agent prints them)."""
        agent = self.arc_agent()
        if agent is None:
            raise WindowsError("The term '%s' is not recognized as the name of a cmdlet, function, script file, or "
                               "operable program." % AZCMAGENT)
        product = self.installed_product(ARC_DISPLAY_NAME)
        return {"status": agent["status"], "resourceName": agent["resource_name"],
                "resourceGroup": agent["resource_group"], "subscriptionId": agent["subscription_id"],
                "tenantId": agent["tenant_id"], "location": agent["location"], "cloud": agent["cloud"],
                "vmId": agent["vm_uuid"], "agentVersion": product.get("DisplayVersion"),
                "lastHeartbeat": agent.get("last_heartbeat") or ""}

    def install_arc_agent(self, version, product_code, command_line):
        """``msiexec /i AzureConnectedMachineAgent.msi /qn``: product, ``azcmagent.exe``, services ``himds``,
        ``GCArcService``, ``ExtensionService`` running. A newer MSI upgrades in place (MSI major upgrade); the
        ``installer-exit`` fault gives the exit code. Returns the exit code."""
        exit_code = int(self.fault("installer-exit") or 0)
        self.run_process(command_line, exit_code)
        if exit_code:
            return exit_code
        existing = self.installed_product(ARC_DISPLAY_NAME)
        if existing:
            self.reg_delete(UNINSTALL_KEY + "\\" + existing["product_code"])
        key = UNINSTALL_KEY + "\\" + product_code
        self.reg_set(key, "DisplayName", ARC_DISPLAY_NAME)
        self.reg_set(key, "DisplayVersion", version)
        self.reg_set(key, "Publisher", "Microsoft Corporation")
        self.add_file(AZCMAGENT, b"lab stand-in azcmagent.exe")
        self.add_dir(ARC_DATA_DIR + "\\Tokens")
        self.add_dir(ARC_DATA_DIR + "\\Config")
        for name, display in ARC_SERVICES.items():
            self.state["services"][name] = {"display_name": display, "status": "Running", "start_type": "Automatic"}
        self.state.setdefault("arc_agent", _disconnected_arc_state())
        return 0

    def uninstall_arc_agent(self, command_line):
        """``msiexec /x {ProductCode} /qn``: product, services and local configuration gone (the Azure resource stays
        if the agent was still connected, as the uninstall documentation warns)."""
        entry = self.installed_product(ARC_DISPLAY_NAME)
        if entry is None:
            return 0
        exit_code = int(self.fault("installer-exit") or 0)
        self.run_process(command_line, exit_code)
        if exit_code:
            return exit_code
        self.reg_delete(UNINSTALL_KEY + "\\" + entry["product_code"])
        for name in ARC_SERVICES:
            self.state["services"].pop(name, None)
        self.remove_path(ARC_INSTALL_DIR)
        self.remove_path(ARC_DATA_DIR)
        self.state.pop("arc_agent", None)
        return 0

    def add_secret_file(self, path, size):
        """A file whose bytes the lab must not keep (a connect configuration holding a secret): facts only."""
        self.add_dir(path.rsplit("\\", 1)[0])
        self.state["files"][path.lower()] = {"path": path, "type": "file", "size": size, "sha256": None, "sha1": None,
                                             "source_url": None, "last_write_time": _now(), "manifest": None}

    def arc_connect(self, command_line, config):
        """``azcmagent connect --config FILE``; ``config`` = the file's JSON (``tenant-id``, ``subscription-id``,
        ``resource-group``, ``location``, ``cloud``, ``resource-name``, ``tags``, ``service-principal-id``,
        ``service-principal-secret``). The agent signs in as the service principal and creates the machine through
        the Azure lab's Arc agent surface. Failures raise :class:`WindowsError` with exit code 1 and the service's
        code and message."""
        agent = self.arc_agent()
        if agent is None:
            raise WindowsError("The term '%s' is not recognized as the name of a cmdlet, function, script file, or "
                               "operable program." % AZCMAGENT)
        self.run_process(command_line, 0)
        if agent["status"] == "Connected":
            self.state["processes"][-1]["exit_code"] = 1
            raise WindowsError("The machine is already connected to Azure as '%s'; disconnect it first."
                               % agent["resource_name"], exit_code=1)
        cloud = config.get("cloud") or "AzureCloud"
        if cloud not in ARC_CLOUDS:
            self.state["processes"][-1]["exit_code"] = 1
            raise WindowsError("Cloud '%s' is not modelled by the lab." % cloud, exit_code=1)
        if self.fault("arc-connect"):
            self.state["processes"][-1]["exit_code"] = 1
            raise WindowsError("Connection to the Azure Arc endpoints failed: Unable to connect to the remote server",
                               exit_code=1)
        name = config.get("resource-name") or self.computer_name
        vm_uuid = self.state.setdefault("vm_uuid", str(uuid.uuid5(uuid.NAMESPACE_DNS, self.name + "." + self.address)))
        product = self.installed_product(ARC_DISPLAY_NAME)
        try:
            client = self.context.arc_client(config.get("tenant-id"), config.get("service-principal-id"),
                                             config.get("service-principal-secret"))
            machine = client.connect(
                config.get("subscription-id"), config.get("resource-group"), name, config.get("location"),
                tags=_parse_tags(config.get("tags")), vmUuid=vm_uuid, agentVersion=product.get("DisplayVersion"),
                osName=self.state["os"]["caption"], osVersion=self.state["os"]["version"], osType="windows",
                computerName=self.computer_name, ipAddress=self.address,
                extensionHandlers=self._extension_handlers())
        except self.context.arc_errors() as exc:
            self.state["processes"][-1]["exit_code"] = 1
            raise WindowsError(_arc_error_text(exc), exit_code=1) from None
        agent.update(status="Connected", tenant_id=config.get("tenant-id"), subscription_id=machine["id"].split("/")[2],
                     resource_group=machine["id"].split("/")[4], resource_name=machine["name"],
                     location=machine["location"], cloud=cloud, vm_uuid=vm_uuid, resource_id=machine["id"],
                     last_heartbeat=_iso(_now()))
        self._apply_extensions(machine)
        return machine

    def arc_disconnect(self, command_line, service_principal=None):
        """``azcmagent disconnect``: with ``service_principal`` (tenant, id, secret) the Azure resource is deleted
        first; without (``--force-local-only``) only the local configuration is reset."""
        agent = self.arc_agent()
        if agent is None:
            raise WindowsError("The term '%s' is not recognized as the name of a cmdlet, function, script file, or "
                               "operable program." % AZCMAGENT)
        self.run_process(command_line, 0)
        if service_principal is not None and agent["resource_name"]:
            try:
                self.context.arc_client(*service_principal).disconnect(
                    agent["subscription_id"], agent["resource_group"], agent["resource_name"])
            except self.context.arc_errors() as exc:
                self.state["processes"][-1]["exit_code"] = 1
                raise WindowsError(_arc_error_text(exc), exit_code=1) from None
        self.state["arc_agent"] = _disconnected_arc_state()
        return True

    def arc_sync(self):
        """The agent reports in (lab-modelled heartbeat with the lab's own identity standing in for the machine's
        managed identity) and applies what Azure says about its extensions. A deleted resource turns the agent
        Disconnected (its coordinates stay); subscriptions or groups the lab does not know are left alone."""
        agent = self.arc_agent()
        if agent is None or agent["status"] != "Connected" or not self.context.can_sync_arc():
            return None
        try:
            machine = self.context.arc_client().heartbeat(agent["subscription_id"], agent["resource_group"],
                                                          agent["resource_name"],
                                                          extension_handlers=self._extension_handlers())
        except self.context.arc_errors() as exc:
            if exc.status == 404 and exc.code == "ResourceNotFound":
                agent["status"] = "Disconnected"
            return None
        agent["last_heartbeat"] = _iso(_now())
        self._apply_extensions(machine)
        return machine

    def _extension_handlers(self):
        # With stale V2 keys the Hybrid Worker extension's installer never finishes (reference 5.2, 6: Transitioning).
        outcome = "hang" if self.hybrid_worker_v2()["stale"] else "succeed"
        return {HYBRID_WORKER_HANDLER: {"outcome": outcome,
                                        "message": "stale HybridRunbookWorkerV2 registry keys" if outcome == "hang"
                                        else None}}

    # --- extension-based (V2) Hybrid Runbook Worker on the host (reference 5.2, section 7 item 7) ------------------
    def hybrid_worker_v2(self):
        """``{service, registry_keys, plugin_versions, stale}``; stale = V2 registry keys without the service."""
        keys = [path for path in (HRW_V2_KEY, AZURE_HYBRID_WORKER_KEY) if self.reg_key(path) is not None]
        service = self.service(HYBRID_WORKER_SERVICE)
        return {"service": service["status"] if service else None, "registry_keys": keys,
                "plugin_versions": self.list_dir(HYBRID_WORKER_PLUGIN_DIR),
                "stale": bool(keys) and service is None}

    def install_hybrid_worker_extension(self, version, automation_account_url, resource_id):
        """The extension's ``install.ps1``/``enable.ps1``: plugin folder, V2 registry keys, ``HybridWorkerService``."""
        base = "%s\\%s" % (HYBRID_WORKER_PLUGIN_DIR, version)
        if not self.file(base + "\\bin\\install.ps1"):
            for script in ("install.ps1", "enable.ps1", "disable.cmd", "uninstall.ps1",
                           "troubleshooter\\TroubleShootWindowsExtension.ps1", "troubleshooter\\PullLogs.ps1"):
                self.add_file(base + "\\bin\\" + script, b"lab stand-in")
            self.add_file(base + "\\HybridWorkerPackage\\HybridWorkerAgent\\Orchestrator.Sandbox.exe", b"lab stand-in")
        settings = base + "\\RuntimeSettings\\0.settings"
        if not self.file(settings):
            self.add_file(settings, json.dumps({"AutomationAccountURL": automation_account_url}).encode())
        subkey = "%s\\%s" % (HRW_V2_KEY, azure_client.account_id_from_url(automation_account_url) or "default")
        self.reg_set(subkey, "JobRuntimeDataServiceUri", automation_account_url)
        self.reg_set(subkey, "AzureResourceId", resource_id)
        self.reg_set(AZURE_HYBRID_WORKER_KEY, "AutomationAccountURL", automation_account_url)
        service = self.state["services"].get(HYBRID_WORKER_SERVICE)
        if service is None or service["status"] != "Running":
            self.state["services"][HYBRID_WORKER_SERVICE] = {"display_name": "Hybrid Worker Service",
                                                             "status": "Running", "start_type": "Automatic"}

    def uninstall_hybrid_worker_extension(self):
        """The extension removed through Azure: service and plugin folder go, the registry keys stay (reference 5.2,
        azure-powershell#23605), so the next install hangs until they are cleaned."""
        changed = self.state["services"].pop(HYBRID_WORKER_SERVICE, None) is not None
        return self.remove_path(HYBRID_WORKER_PLUGIN_DIR) or changed

    def remove_stale_hybrid_worker_keys(self):
        """The documented manual cleanup (TSV2): both registry keys and any plugin folder left behind; only when the
        service is gone (a working extension is never touched). Returns the removed registry keys."""
        state = self.hybrid_worker_v2()
        if not state["stale"]:
            return []
        for path in state["registry_keys"]:
            self.reg_delete(path)
        self.remove_path(HYBRID_WORKER_PLUGIN_DIR)
        return state["registry_keys"]

    def _apply_extensions(self, machine):
        hybrid = [r for r in machine.get("resources") or []
                  if "%s.%s" % (r["properties"]["publisher"], r["properties"]["type"]) == HYBRID_WORKER_HANDLER]
        if not hybrid:
            if self.service(HYBRID_WORKER_SERVICE) or self.list_dir(HYBRID_WORKER_PLUGIN_DIR):
                self.uninstall_hybrid_worker_extension()
            return
        props = hybrid[0]["properties"]
        if props["provisioningState"] == "Succeeded":
            self.install_hybrid_worker_extension(props["typeHandlerVersion"],
                                                 (props.get("settings") or {}).get("AutomationAccountURL", ""),
                                                 machine["id"])
        elif props["provisioningState"] == "Deleting":
            self.uninstall_hybrid_worker_extension()

    # --- views ------------------------------------------------------------------------------------------------------
    def public_view(self):
        """The state as ``labctl host`` prints it: secrets replaced by a SHA-256 fingerprint."""
        self.deliver_due_solutions()
        view = copy.deepcopy(self.state)
        secret = view.pop("worker_secret", None)
        if secret:
            view["worker_ping"] = {"url": secret["url"], "machine_id": secret["machine_id"]}
        for entry in view["agent"]["workspaces"]:
            entry["key_sha256"] = hashlib.sha256((entry.pop("key", "") or "").encode()).hexdigest()
        view["summary"] = {
            "mma": self.installed_product(MMA_DISPLAY_NAME),
            "health_service": (self.service(MMA_SERVICE) or {}).get("status"),
            "workspaces": [w["workspace_id"] for w in self.state["agent"]["workspaces"]],
            "hybrid_registration_versions": self.hybrid_registration_versions(),
            "hrw": self.hrw_registry(),
            "psmodules": ["%s %s" % (m["name"], m["version"]) for m in self.psmodules()],
            "prerequisites": self.prerequisites(),
            "arc_agent": self.arc_show() if self.arc_agent() is not None else None,
            "hybrid_worker_v2": self.hybrid_worker_v2(),
        }
        return view


def _registration_error(status, message=None):
    if status == 409:
        return WindowsError("Machine is already registered", status=409)
    if status == 403:
        # TSV1 "error 403 on registration".
        return WindowsError("Forbidden: You don't have permission to access / on this server.", status=403)
    if status == 401:
        return WindowsError("Unauthorized: the Automation account key was rejected (401).", status=401)
    return WindowsError("The agent service answered %s: %s" % (status, message or "error"), status=status)


def _disconnected_arc_state():
    return {"status": "Disconnected", "tenant_id": None, "subscription_id": None, "resource_group": None,
            "resource_name": None, "location": None, "cloud": None, "vm_uuid": None, "resource_id": None,
            "last_heartbeat": None}


def _parse_tags(text):
    """``key=value,key2=value2`` (the form of azcmagent's --tags) as a dict."""
    tags = {}
    for pair in (text or "").split(","):
        if pair.strip():
            key, _sep, value = pair.partition("=")
            tags[key.strip()] = value.strip()
    return tags


def _arc_error_text(exc):
    if exc.status is None:
        return "Connection to the Azure Arc endpoints failed: %s" % exc.message
    return "%s: %s" % (exc.code, exc.message)


def _load_arc_agent():
    # Loaded by path like the signing helpers: the lab folder `azure` would hide the Azure SDK's namespace.
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "azure", "arc_agent.py")
    spec = importlib.util.spec_from_file_location("hybrid_worker_lab_arc_agent", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


arc_agent_client = _load_arc_agent()
_ARC_CLIENTS = {}
_ARC_CLIENTS_LOCK = threading.Lock()


def installer_manifest(data):
    """The JSON manifest a lab stand-in installer carries after its marker line, or None for other bytes."""
    marker = b"HYBRID-WORKER-LAB STAND-IN INSTALLER\n"
    if not data.startswith(marker):
        return None
    line = data[len(marker):].split(b"\n", 1)[0]
    try:
        return json.loads(line)
    except ValueError:
        return None


class LabContext:
    """How a host reaches the rest of the lab: the Azure lab (URL + CA bundle) and the lab CA for downloads."""

    def __init__(self, azure_url=None, azure_ca_bundle=None, lab_ca_bundle=None, blob_dir=None, machine_identity=None):
        self.azure_url = azure_url
        self.azure_ca_bundle = azure_ca_bundle
        self.lab_ca_bundle = lab_ca_bundle
        self.blob_dir = blob_dir
        # (tenant, client id, secret) the lab's connected machines report in with, standing in for each machine's
        # own managed identity; never stored in a host's state.
        self.machine_identity = machine_identity

    @classmethod
    def from_lab(cls, lab_dir, lab):
        azure = lab.get("azure") or {}
        env = azure.get("env") or {}
        identity = None
        if env.get("AZURE_CLIENT_ID"):
            identity = (env.get("AZURE_TENANT"), env.get("AZURE_CLIENT_ID"), env.get("AZURE_SECRET"))
        return cls(azure.get("url"), azure.get("ca_bundle"), os.path.join(lab_dir, "certs", "ca.pem"),
                   os.path.join(lab_dir, "windows", "blobs"), identity)

    # --- Azure Arc ---------------------------------------------------------------------------------------------------
    def can_sync_arc(self):
        return bool(self.azure_url and self.machine_identity)

    @staticmethod
    def arc_errors():
        return arc_agent_client.ArcAgentError

    def arc_client(self, tenant_id=None, client_id=None, secret=None):
        """An Arc agent client for the given service principal (default: the machines' stand-in identity); one per
        principal and process, so its token is reused across calls."""
        if not self.azure_url:
            raise arc_agent_client.ArcAgentError(None, "ConnectionFailed", "the Azure lab is not running")
        if client_id is None:
            if not self.machine_identity:
                raise arc_agent_client.ArcAgentError(None, "ConnectionFailed", "the Azure lab is not running")
            tenant_id, client_id, secret = self.machine_identity
        cache_key = (self.azure_url, tenant_id, client_id, hashlib.sha256((secret or "").encode()).hexdigest())
        with _ARC_CLIENTS_LOCK:
            client = _ARC_CLIENTS.get(cache_key)
            if client is None:
                client = arc_agent_client.ArcAgentClient(self.azure_url, self.azure_ca_bundle, tenant_id or "",
                                                         client_id or "", secret or "")
                _ARC_CLIENTS[cache_key] = client
            return client

    def store_blob(self, sha256, data):
        if not self.blob_dir or len(data) > 32 * 1024 * 1024:
            return
        path = os.path.join(self.blob_dir, sha256)
        if not os.path.exists(path):
            os.makedirs(self.blob_dir, exist_ok=True)
            # A temporary name per writer: hosts downloading the same installer at once must not share it.
            tmp = "%s.%s.tmp" % (path, uuid.uuid4().hex)
            with open(tmp, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)

    def load_blob(self, sha256):
        if not self.blob_dir:
            return None
        try:
            with open(os.path.join(self.blob_dir, sha256), "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    def _azure(self):
        if not self.azure_url:
            raise azure_client.AzureLabError(None, "the Azure lab is not running")
        return azure_client.AzureLabClient(self.azure_url, self.azure_ca_bundle)

    def fetch(self, url):
        try:
            return azure_client.https_get(url, self.lab_ca_bundle or self.azure_ca_bundle)
        except azure_client.AzureLabError as exc:
            if exc.status:
                raise WindowsError("The remote server returned an error: (%d) %s." % (exc.status, exc.message),
                                   status=exc.status) from None
            raise WindowsError("Unable to connect to the remote server") from None

    def agent_configuration(self, workspace_id, key):
        return self._azure().agent_configuration(workspace_id, key)

    def agentsvc_register(self, url, key, machine_id, body):
        return azure_client.agentsvc_call(url, key, "PUT", "HybridV2(MachineId='%s')" % machine_id, body,
                                          self.azure_ca_bundle)

    def agentsvc_deregister(self, url, key, machine_id):
        return azure_client.agentsvc_call(url, key, "DELETE", "Hybrid(MachineId='%s')" % machine_id, None,
                                          self.azure_ca_bundle)


# --- persistence ---------------------------------------------------------------------------------------------------

def hosts_dir(lab_dir):
    return os.path.join(lab_dir, "windows", "hosts")


def state_path(lab_dir, name):
    return os.path.join(hosts_dir(lab_dir), name + ".json")


def host_names(lab_dir):
    try:
        return sorted(f[:-5] for f in os.listdir(hosts_dir(lab_dir)) if f.endswith(".json"))
    except FileNotFoundError:
        return []


def save_state(lab_dir, state):
    path = state_path(lab_dir, state["name"])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(state, handle, sort_keys=True)
    os.replace(tmp, path)


def load_state(lab_dir, name):
    try:
        with open(state_path(lab_dir, name), encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise KeyError("no lab host named %r in %s" % (name, lab_dir)) from None


@contextlib.contextmanager
def locked_host(lab_dir, name, context=None, write=True):
    """Load a host under its file lock, yield :class:`Host`, save it back (also when the block raised).

    The lab server and ``labctl host/drift/fault`` both go through this, so they never lose each other's changes.
    """
    lock_path = state_path(lab_dir, name)[:-5] + ".lock"
    os.makedirs(os.path.dirname(lock_path), exist_ok=True)
    with open(lock_path, "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            host = Host(load_state(lab_dir, name), context)
            try:
                yield host
            finally:
                if write:
                    save_state(lab_dir, host.state)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
