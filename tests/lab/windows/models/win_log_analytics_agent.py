"""Model of ``azure_automation.hybrid_worker.win_log_analytics_agent`` (``plugins/modules/win_log_analytics_agent.ps1``).

Same contract as the PowerShell module: options from its ``.yml`` sidecar, the same order of checks, the same
messages (:data:`MESSAGES`, kept equal to the ``FailJson``/``Warn`` sentences of the ``.ps1`` by
``tests/integration/roles/test_windows_module_models.py``), the same result keys (the sidecar's RETURN) and the same
check-mode and diff behaviour. Host facts and transitions come from :mod:`windows.host` (windows-host reference
sections 3 and 7).
"""
import os
import uuid

import yaml

from . import MODULES_DIR, fetch_installer, is_base64, register
from .. import host as hostmod

FQCN = "azure_automation.hybrid_worker.win_log_analytics_agent"
# Options the .ps1 $spec marks no_log (the doc schema cannot say so; the contract test compares with the .ps1).
NO_LOG_OPTIONS = ("workspaces.key", "proxy_password")

# The sentences of win_log_analytics_agent.ps1, with its interpolations written as {placeholders}.
MESSAGES = {
    "bad_minimum_version": "minimum_version '{value}' is not a version number such as 10.20.18029.0.",
    "bad_checksum": "installer_checksum must be the installer's SHA-256 as 64 hexadecimal characters.",
    "checksum_required": "installer_checksum is required to download the agent from installer_url; give the "
                         "installer's SHA-256 or set validate_installer_checksum to false.",
    "bad_workspace_id": "Workspace id '{id}' is not a workspace ID (a GUID, the workspace's customer id).",
    "duplicate_workspace": "Workspace id '{id}' is listed more than once in workspaces.",
    "bad_workspace_key": "workspaces: the key of workspace '{id}' is not a Log Analytics workspace key: expected the "
                         "workspace's primary or secondary shared key, a Base64 string (letters, digits, + and / with = "
                         "padding).",
    "proxy_credentials": "proxy_username and proxy_password need proxy_url.",
    "com_unavailable": "The Log Analytics agent {version} is installed but its configuration object "
                       "AgentConfigManager.MgmtSvcCfg cannot be created: {error}",
    "uninstall_failed": "Removing the Log Analytics agent {version} failed: msiexec exited with code {code}.",
    "prerequisites": "The host does not meet the Log Analytics agent prerequisites, missing: {missing}.",
    "missing_powershell": "Windows PowerShell 5.1 (found {version})",
    "missing_dotnet": ".NET Framework 4.6.2 or later (release {minimum}, found {found})",
    "missing_64bit": "a 64-bit PowerShell process",
    "missing_tls": "TLS 1.2 (SCHANNEL TLS 1.2 client enabled, and SchUseStrongCrypto=1 for .NET before 4.7; set "
                   "fix_tls_settings to true to configure them)",
    "tls_fix_failed": "Failed to enable TLS 1.2 in the registry: {error}",
    "installer_path_missing": "installer_path '{path}' does not exist or is not a file.",
    "download_failed": "Failed to download the Log Analytics agent installer from '{url}': {error}",
    "checksum_mismatch": "The Log Analytics agent installer '{path}' has SHA-256 {actual}, not the expected "
                         "installer_checksum {expected}.",
    "extract_failed": "Extracting the Log Analytics agent installer '{path}' failed (exit code {code}).",
    "upgrade_uninstall_failed": "Removing the Log Analytics agent {version} before the upgrade failed: msiexec "
                                "exited with code {code}.",
    "upgrade_dropped_workspaces": "Upgrading the Log Analytics agent detached workspace(s) not listed in "
                                  "workspaces: {ids}.",
    "setup_failed": "The Log Analytics agent setup failed with exit code {code}; its logs are in "
                    "C:\\Windows\\System32\\config\\systemprofile\\AppData\\Local\\SCOM\\Logs.",
    "setup_no_product": "The Log Analytics agent setup reported success but no 'Microsoft Monitoring Agent' product "
                        "is installed.",
    "setup_too_old": "The installer provided the Log Analytics agent {version}, older than minimum_version {minimum}.",
    "com_unavailable_after_install": "The Log Analytics agent {version} was installed but its configuration object "
                                     "AgentConfigManager.MgmtSvcCfg cannot be created: {error}",
    "configure_failed": "Failed to update the Log Analytics agent's workspaces or proxy through "
                        "AgentConfigManager.MgmtSvcCfg: {error}",
    "service_missing": "The Log Analytics agent is installed but its HealthService service does not exist.",
    "service_start_failed": "Failed to start the HealthService service: {error}",
}

SUCCESS_EXIT_CODES = (0, 3010)
MINIMUM_DOTNET_RELEASE = 394802  # .NET Framework 4.6.2
STRONG_CRYPTO_DEFAULT_RELEASE = 460798  # .NET Framework 4.7 offers TLS 1.2 without SchUseStrongCrypto
CLOUD_CODES = {"AzureCloud": 0, "AzureUSGovernment": 1}
CLOUD_NAMES = {0: "AzureCloud", 1: "AzureUSGovernment"}
GUID_CHARS = "0123456789abcdef"
SETUP_ARGUMENTS = "/qn NOAPM=1 ADD_OPINSIGHTS_WORKSPACE=0 AcceptEndUserLicenseAgreement=1"
MSIEXEC = "C:\\Windows\\System32\\msiexec.exe"
MODULE_TMPDIR = "C:\\Windows\\TEMP\\ansible-moduletmp-{}"


def message(name, **values):
    return MESSAGES[name].format(**values)


def _doc_option_spec(option):
    spec = {"type": option.get("type", "str")}
    for field in ("required", "default", "choices", "aliases", "elements"):
        if field in option:
            spec[field] = option[field]
    if option.get("suboptions"):
        spec["options"] = {name: _doc_option_spec(sub) for name, sub in option["suboptions"].items()}
    return spec


def sidecar_spec(short_name, no_log_options):
    """The argument spec Ansible.Basic enforces: the sidecar's options (nested ones included) plus no_log flags."""
    with open(os.path.join(MODULES_DIR, short_name + ".yml"), encoding="utf-8") as handle:
        options = yaml.safe_load(handle)["DOCUMENTATION"]["options"]
    spec = {name: _doc_option_spec(option) for name, option in options.items()}
    for dotted in no_log_options:
        *parents, leaf = dotted.split(".")
        level = spec
        for parent in parents:
            level = level[parent]["options"]
        level[leaf]["no_log"] = True
    return spec


def _is_guid(text):
    parts = (text or "").lower().split("-")
    return [len(p) for p in parts] == [8, 4, 4, 4, 12] and all(c in GUID_CHARS for p in parts for c in p)


def _is_sha256(text):
    return len(text) == 64 and all(c in GUID_CHARS for c in text.lower())


def _parse_version(text):
    parts = (text or "").strip().split(".")
    if not 2 <= len(parts) <= 4 or not all(p.isdigit() for p in parts):
        return None
    return tuple(int(p) for p in parts)


def _agent(host):
    """Get-MonitoringAgentInstallation (MonitoringAgent.psm1)."""
    entry = host.installed_product(hostmod.MMA_DISPLAY_NAME)
    directory = (host.reg_value(hostmod.MOM_SETUP_KEY, "InstallDirectory") or hostmod.AGENT_DIR).rstrip("\\")
    if entry is None:
        return {"installed": False, "version": None, "product_code": None, "install_directory": directory}
    return {"installed": True, "version": entry.get("DisplayVersion"), "product_code": entry["product_code"],
            "install_directory": directory}


def _workspaces(host):
    """Get-MonitoringAgentWorkspace: COM list + the registry mirror's connection status and cloud type."""
    result = []
    for workspace in host.cloud_workspaces():
        mirror = "%s\\Log Analytics - %s" % (hostmod.SERVICE_CONNECTOR_KEY, workspace["workspace_id"])
        status = host.reg_value(mirror, "Connection Status")
        cloud = "AzureUSGovernment" if str(host.reg_value(mirror, "Azure Cloud Type")) == "1" else "AzureCloud"
        result.append({"id": workspace["workspace_id"].lower(), "connection_status": status,
                       "connected": status == 0, "cloud": cloud})
    return result


def _proxy_url(host):
    proxy = host.state["agent"].get("proxy") or {}
    return proxy.get("url") or ""


def _prerequisites(host):
    facts = host.prerequisites()
    client = facts["tls12_client"]
    tls12_enabled = not (client["Enabled"] == 0 or (client["DisabledByDefault"] not in (None, 0)))
    release = facts["dotnet_release"]
    strong = facts["sch_use_strong_crypto"][0] == 1 or (release is not None and release >= STRONG_CRYPTO_DEFAULT_RELEASE)
    return {"powershell_version": facts["powershell_version"], "dotnet_release": release,
            "is_64bit_process": facts["is_64bit_process"], "tls12_enabled": tls12_enabled, "strong_crypto": strong}


def _fix_tls(host):
    """Set-TlsSetting: SCHANNEL client keys and SchUseStrongCrypto in both registry views."""
    client = hostmod.SCHANNEL_TLS12 + "\\Client"
    host.reg_set(client, "Enabled", 1)
    host.reg_set(client, "DisabledByDefault", 0)
    for path in hostmod.NETFX_STRONG_CRYPTO:
        host.reg_set(path, "SchUseStrongCrypto", 1)


def _hybrid_registration(host, agent):
    path = host.newest_hybrid_registration() if agent["installed"] else None
    if not path:
        return None, None
    return path, path.split("\\AzureAutomation\\", 1)[1].split("\\", 1)[0]


def _validate_input(call, params):
    if params["minimum_version"] and _parse_version(params["minimum_version"]) is None:
        call.fail(message("bad_minimum_version", value=params["minimum_version"]))
    checksum = params["installer_checksum"]
    if checksum and not _is_sha256(checksum):
        call.fail(message("bad_checksum"))
    if (params["state"] == "present" and not params["installer_path"] and not checksum
            and params["validate_installer_checksum"]):
        call.fail(message("checksum_required"))
    seen = []
    for workspace in params["workspaces"]:
        if not _is_guid(workspace["id"]):
            call.fail(message("bad_workspace_id", id=workspace["id"]))
        workspace["id"] = workspace["id"].lower()
        if workspace["id"] in seen:
            call.fail(message("duplicate_workspace", id=workspace["id"]))
        seen.append(workspace["id"])
        if not is_base64(workspace["key"]):
            call.fail(message("bad_workspace_key", id=workspace["id"]))
    if (params["proxy_username"] or params["proxy_password"]) and params["proxy_url"] is None:
        call.fail(message("proxy_credentials"))
    return seen


def _check_prerequisites(call, result):
    prerequisites = _prerequisites(call.host)
    missing = []
    if (_parse_version(prerequisites["powershell_version"]) or (0, 0))[:2] < (5, 1):
        missing.append(message("missing_powershell", version=prerequisites["powershell_version"]))
    release = prerequisites["dotnet_release"]
    if release is None or release < MINIMUM_DOTNET_RELEASE:
        missing.append(message("missing_dotnet", minimum=MINIMUM_DOTNET_RELEASE, found="" if release is None else release))
    if not prerequisites["is_64bit_process"]:
        missing.append(message("missing_64bit"))
    tls_needs_fix = not prerequisites["tls12_enabled"] or not prerequisites["strong_crypto"]
    if tls_needs_fix and not call.params["fix_tls_settings"]:
        missing.append(message("missing_tls"))
    if missing:
        result["prerequisites"] = prerequisites
        call.fail(message("prerequisites", missing="; ".join(missing)), **result)
    if tls_needs_fix:
        if not call.check_mode:
            _fix_tls(call.host)
            result["reboot_required"] = True
        result["changed"] = True
        prerequisites["tls12_enabled"] = True
        prerequisites["strong_crypto"] = True
    result["prerequisites"] = prerequisites


def _install(call, result, agent, current_workspaces, listed_ids):
    """Download (only now), extract, remove an older build, run setup.exe without any workspace."""
    host, params = call.host, call.params
    work_dir = MODULE_TMPDIR.format(uuid.uuid4().hex[:12]) + "\\log-analytics-agent"
    try:
        installer, entry = fetch_installer(call, result, work_dir + "\\MMASetup-AMD64.exe", message)
        extract_dir = work_dir + "\\extracted"
        build = entry.get("manifest") or {}
        if not build.get("version") or not build.get("product_code"):
            # Not a self-extractor the lab knows: Start-Process refuses it like Windows refuses a non-executable.
            raise hostmod.WindowsError("This command cannot be run due to the error: %1 is not a valid Win32 application.")
        host.run_process('"%s" /c /t:"%s" /q' % (installer, extract_dir), 0)
        host.add_file(extract_dir + "\\setup.exe", b"lab stand-in setup.exe")
        host.add_file(extract_dir + "\\MOMAgent.msi", b"lab stand-in MOMAgent.msi")
        if agent["installed"]:
            host.uninstall_mma('"%s" /x %s /qn /norestart' % (MSIEXEC, agent["product_code"]))
            dropped = [w["id"] for w in current_workspaces if w["id"] not in listed_ids]
            if dropped:
                call.warn(message("upgrade_dropped_workspaces", ids=", ".join(dropped)))
        try:
            exit_code = host.install_mma(build["version"], build["product_code"],
                                         '"%s\\setup.exe" %s' % (extract_dir, SETUP_ARGUMENTS))
        except hostmod.WindowsError as exc:
            exit_code = exc.exit_code if exc.exit_code is not None else 1603
        if exit_code not in SUCCESS_EXIT_CODES:
            call.fail(message("setup_failed", code=exit_code), **result)
        if exit_code == 3010:
            result["reboot_required"] = True
    finally:
        host.remove_path(work_dir.rsplit("\\", 1)[0])
    installed = _agent(host)
    if not installed["installed"]:
        call.fail(message("setup_no_product"), **result)
    minimum = params["minimum_version"]
    if minimum and _parse_version(installed["version"]) < _parse_version(minimum):
        call.fail(message("setup_too_old", version=installed["version"], minimum=minimum), **result)
    return installed


def _result_workspaces(host, installed, after_ids, known, desired):
    if installed:
        return _workspaces(host)
    listed = []
    for workspace_id in after_ids:
        if workspace_id in known:
            listed.append(dict(known[workspace_id]))
        else:
            cloud = next(w["cloud"] for w in desired if w["id"] == workspace_id)
            listed.append({"id": workspace_id, "connection_status": None, "connected": False, "cloud": cloud})
    return listed


@register(FQCN, argument_spec=sidecar_spec("win_log_analytics_agent", NO_LOG_OPTIONS),
          mutually_exclusive=[["installer_url", "installer_path"]])
def win_log_analytics_agent(call):
    return _run(call)


def _set_diff(call, result, before, after):
    # Ansible.Basic only returns the diff when the task runs with --diff.
    if call.diff:
        result["diff"] = {"before": before, "after": after}


def _run(call):
    host, params = call.host, call.params
    result = {"changed": False, "reboot_required": False, "hybrid_registration_path": None,
              "hybrid_registration_version": None, "workspaces": [], "proxy_url": None}
    listed_ids = _validate_input(call, params)
    desired = params["workspaces"]

    agent = _agent(host)
    result["version"] = agent["version"]
    before = {"installed": agent["installed"], "version": agent["version"], "workspaces": [], "proxy_url": None}
    current = []
    if agent["installed"]:
        current = _workspaces(host)
        before["workspaces"] = sorted(w["id"] for w in current)
        before["proxy_url"] = _proxy_url(host)
    after = dict(before)
    current_proxy = before["proxy_url"]

    if params["state"] == "absent":
        if agent["installed"]:
            if not call.check_mode:
                host.uninstall_mma('"%s" /x %s /qn /norestart' % (MSIEXEC, agent["product_code"]))
            result["changed"] = True
            result["version"] = None
            after = {"installed": False, "version": None, "workspaces": [], "proxy_url": None}
        _set_diff(call, result, before, after)
        return result

    _check_prerequisites(call, result)

    minimum = _parse_version(params["minimum_version"]) if params["minimum_version"] else None
    installed_version = _parse_version(agent["version"])
    if not agent["installed"] or (minimum and (installed_version is None or installed_version < minimum)):
        result["changed"] = True
        after["installed"] = True
        after["version"] = params["minimum_version"]
        if not call.check_mode:
            agent = _install(call, result, agent, current, listed_ids)
            after["version"] = agent["version"]
            result["version"] = agent["version"]
            current = _workspaces(host)
            current_proxy = _proxy_url(host)

    known = {w["id"]: w for w in current}
    to_add = [w for w in desired if w["id"] not in known or known[w["id"]]["cloud"] != w["cloud"]]
    to_remove = [w["id"] for w in current if w["id"] not in listed_ids] if params["remove_unlisted_workspaces"] else []
    to_reattach = [w["id"] for w in to_add if w["id"] in known]
    proxy_changes = params["proxy_url"] is not None and params["proxy_url"] != (current_proxy or "")
    if to_add or to_remove or proxy_changes:
        result["changed"] = True
        if not call.check_mode:
            for workspace_id in to_remove + to_reattach:
                host.remove_cloud_workspace(workspace_id)
            for workspace in to_add:
                host.add_cloud_workspace(workspace["id"], workspace["key"], CLOUD_CODES[workspace["cloud"]])
            if proxy_changes:
                host.state["agent"]["proxy"] = {"url": params["proxy_url"], "username": params["proxy_username"] or ""}
            host.refresh_agent_configuration()
    after_ids = [w["id"] for w in current if w["id"] not in to_remove] + [w["id"] for w in to_add]
    after["workspaces"] = sorted(set(after_ids))
    after["proxy_url"] = params["proxy_url"] if proxy_changes else current_proxy
    result["proxy_url"] = after["proxy_url"]

    if agent["installed"] or not call.check_mode:
        service = host.service(hostmod.MMA_SERVICE)
        if service is None and not call.check_mode:
            call.fail(message("service_missing"), **result)
        if service is None or service["status"] != "Running":
            if not call.check_mode:
                host.set_service(hostmod.MMA_SERVICE, "Running")
            result["changed"] = True

    result["workspaces"] = _result_workspaces(host, agent["installed"] and not call.check_mode, after["workspaces"],
                                              known, desired)
    result["hybrid_registration_path"], result["hybrid_registration_version"] = _hybrid_registration(host, agent)
    _set_diff(call, result, before, after)
    return result
