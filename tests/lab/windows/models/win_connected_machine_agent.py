"""Model of ``azure_automation.hybrid_worker.win_connected_machine_agent`` (``plugins/modules/win_connected_machine_agent.ps1``).

Same contract as the PowerShell module: options from its ``.yml`` sidecar, the same order of checks, the same
messages (:data:`MESSAGES`, kept equal to the ``.ps1`` sentences by ``tests/integration/arc/test_arc_contract.py``),
the same result keys and the same check-mode and diff behaviour. Host facts and transitions come from
:mod:`windows.host` (the Arc agent and the extension-based worker's on-host state, windows-host reference 5.2).
"""
import json
import re
import uuid

from . import fetch_installer, register
from .. import host as hostmod
from .win_log_analytics_agent import sidecar_spec

FQCN = "azure_automation.hybrid_worker.win_connected_machine_agent"
NO_LOG_OPTIONS = ("service_principal_secret",)
REQUIRED_IF = [["state", "present", ["tenant_id", "subscription_id", "resource_group", "location",
                                     "service_principal_id"]]]

MESSAGES = {
    "bad_checksum": "installer_checksum must be the installer's SHA-256 as 64 hexadecimal characters.",
    "checksum_required": "installer_checksum is required to download the agent from installer_url; give the "
                         "installer's SHA-256 or set validate_installer_checksum to false.",
    "bad_guid": "{option} '{value}' is not a GUID.",
    "bad_resource_name": "resource_name '{value}' is not a valid Azure Arc machine name (1 to 54 letters, digits, "
                         "'-', '_' or '.').",
    "absent_needs_principal": "Disconnecting deletes the Azure Arc machine '{name}' and needs service_principal_id "
                              "and service_principal_secret; set force_local_only to true to only reset the agent.",
    "show_failed": "azcmagent show failed: {error}",
    "installer_path_missing": "installer_path '{path}' does not exist or is not a file.",
    "download_failed": "Failed to download the Azure Connected Machine agent installer from '{url}': {error}",
    "checksum_mismatch": "The Azure Connected Machine agent installer '{path}' has SHA-256 {actual}, not the "
                         "expected installer_checksum {expected}.",
    "install_failed": "The Azure Connected Machine agent installer exited with code {code}; its log is {log}.",
    "install_no_product": "The Azure Connected Machine agent installer reported success but no 'Azure Connected "
                          "Machine Agent' product is installed.",
    "uninstall_failed": "Removing the Azure Connected Machine agent failed: msiexec exited with code {code}.",
    "connected_elsewhere": "The Azure Connected Machine agent is connected as {current}, not {desired}; set reconnect "
                           "to true to disconnect it from there and connect it as {desired}.",
    "secret_required": "Connecting the Azure Connected Machine agent as {desired} needs service_principal_secret, "
                       "which is not set.",
    "connect_failed": "azcmagent connect failed with exit code {code}: {output}",
    "disconnect_failed": "azcmagent disconnect failed with exit code {code}: {output}",
    "stale_keys_failed": "Failed to remove the stale extension-based worker registry keys: {error}",
    "machine": "'{name}' in resource group '{resource_group}' of subscription '{subscription_id}' ({location})",
}

SUCCESS_EXIT_CODES = (0, 3010)
MSIEXEC = "C:\\Windows\\System32\\msiexec.exe"
MODULE_TMPDIR = "C:\\Windows\\TEMP\\ansible-moduletmp-{}"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
MACHINE_NAME = re.compile(r"^[a-zA-Z0-9\-_\.]{1,54}$")
SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def message(which, **values):
    return MESSAGES[which].format(**values)


def _location_key(value):
    return re.sub(r"\s", "", value or "").lower()


def _describe(subscription_id, resource_group, name, location):
    return message("machine", name=name, resource_group=resource_group, subscription_id=subscription_id,
                   location=location)


def _resource_id(subscription_id, resource_group, name):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.HybridCompute/machines/%s" % (
        subscription_id, resource_group, name)


def _validate(call, params):
    checksum = params["installer_checksum"]
    if checksum and not SHA256.match(checksum):
        call.fail(message("bad_checksum"))
    if (params["state"] == "present" and not params["installer_path"] and not checksum
            and params["validate_installer_checksum"]):
        call.fail(message("checksum_required"))
    for option in ("tenant_id", "subscription_id"):
        if params[option] and not GUID.match(params[option]):
            call.fail(message("bad_guid", option=option, value=params[option]))
    if params["resource_name"] and not MACHINE_NAME.match(params["resource_name"]):
        call.fail(message("bad_resource_name", value=params["resource_name"]))


def _show(call, host):
    """Get-ConnectedMachineAgent + azcmagent show -j, as _ConnectedMachineAgent.psm1 reads them."""
    product = host.installed_product(hostmod.ARC_DISPLAY_NAME)
    if product is None:
        return {"installed": False, "product_code": None, "agent_version": None, "status": None,
                "resource_name": None, "resource_group": None, "subscription_id": None, "location": None,
                "tenant_id": None, "cloud": None}
    try:
        shown = host.arc_show()
    except hostmod.WindowsError as exc:
        call.fail(message("show_failed", error=exc.message))
    return {"installed": True, "product_code": product["product_code"], "agent_version": shown["agentVersion"],
            "status": shown["status"], "resource_name": shown["resourceName"] or None,
            "resource_group": shown["resourceGroup"] or None, "subscription_id": shown["subscriptionId"] or None,
            "location": shown["location"] or None, "tenant_id": shown["tenantId"] or None,
            "cloud": shown["cloud"] or None}


def _diff_view(agent, stale_keys):
    return {"installed": agent["installed"], "agent_version": agent["agent_version"], "status": agent["status"],
            "subscription_id": agent["subscription_id"], "resource_group": agent["resource_group"],
            "resource_name": agent["resource_name"], "location": agent["location"],
            "stale_hybrid_worker_keys": list(stale_keys)}


def _install(call, result):
    host = call.host
    work_dir = MODULE_TMPDIR.format(uuid.uuid4().hex[:12]) + "\\connected-machine-agent"
    try:
        installer, entry = fetch_installer(call, result, work_dir + "\\AzureConnectedMachineAgent.msi", message)
        log = work_dir + "\\install.log"
        command = '"%s" /i "%s" /qn /norestart /l*v "%s"' % (MSIEXEC, installer, log)
        build = entry.get("manifest") or {}
        if build.get("product") != hostmod.ARC_DISPLAY_NAME:
            # msiexec: ERROR_INSTALL_PACKAGE_OPEN_FAILED for a file that is not this product's package.
            host.run_process(command, 1619)
            exit_code = 1619
        else:
            exit_code = host.install_arc_agent(build["version"], build["product_code"], command)
        if exit_code not in SUCCESS_EXIT_CODES:
            call.fail(message("install_failed", code=exit_code, log=log), **result)
        if exit_code == 3010:
            result["reboot_required"] = True
    finally:
        host.remove_path(work_dir.rsplit("\\", 1)[0])
    if host.installed_product(hostmod.ARC_DISPLAY_NAME) is None:
        call.fail(message("install_no_product"), **result)


def _with_config_file(host, config, run):
    """Write the connect/disconnect configuration (secret inside) to the module's temporary folder, run, delete."""
    work_dir = MODULE_TMPDIR.format(uuid.uuid4().hex[:12])
    path = work_dir + "\\azcmagent-config.json"
    host.add_secret_file(path, len(json.dumps(config)))
    try:
        return run('"%s" %%s --config "%s"' % (hostmod.AZCMAGENT, path))
    finally:
        host.remove_path(work_dir)


def _disconnect(call, result, agent, local_only):
    host, params = call.host, call.params
    try:
        if local_only:
            host.arc_disconnect('"%s" disconnect --force-local-only' % hostmod.AZCMAGENT)
        else:
            config = {"service-principal-id": params["service_principal_id"],
                      "service-principal-secret": params["service_principal_secret"]}
            principal = (agent["tenant_id"], params["service_principal_id"], params["service_principal_secret"])
            _with_config_file(host, config, lambda line: host.arc_disconnect(line % "disconnect", principal))
    except hostmod.WindowsError as exc:
        call.fail(message("disconnect_failed", code=exc.exit_code if exc.exit_code is not None else 1,
                          output=exc.message), **result)


def _connect(call, result, name):
    host, params = call.host, call.params
    config = {"tenant-id": params["tenant_id"], "subscription-id": params["subscription_id"],
              "resource-group": params["resource_group"], "location": params["location"], "cloud": params["cloud"],
              "resource-name": name, "service-principal-id": params["service_principal_id"],
              "service-principal-secret": params["service_principal_secret"]}
    if params["tags"]:
        # The same form as the --tags flag: key=value pairs joined by commas.
        config["tags"] = ",".join("%s=%s" % (k, v) for k, v in sorted(params["tags"].items()))
    try:
        _with_config_file(host, config, lambda line: host.arc_connect(line % "connect", config))
    except hostmod.WindowsError as exc:
        call.fail(message("connect_failed", code=exc.exit_code if exc.exit_code is not None else 1,
                          output=exc.message), **result)


def _set_results(result, agent):
    for key in ("installed", "agent_version", "status", "resource_name", "resource_group", "subscription_id",
                "location", "tenant_id", "cloud"):
        result[key] = agent[key]
    result["resource_id"] = (_resource_id(agent["subscription_id"], agent["resource_group"], agent["resource_name"])
                             if agent["status"] == "Connected" else None)


def _hybrid_worker(host, removed):
    state = host.hybrid_worker_v2()
    return {"service": state["service"], "registry_keys": state["registry_keys"], "stale": state["stale"],
            "removed_registry_keys": list(removed)}


@register(FQCN, argument_spec=sidecar_spec("win_connected_machine_agent", NO_LOG_OPTIONS),
          mutually_exclusive=[["installer_url", "installer_path"]], required_if=REQUIRED_IF)
def win_connected_machine_agent(call):
    host, params = call.host, call.params
    # What the agent did on its own since the last call: report in, apply its extensions' goal state.
    host.arc_sync()
    result = {"changed": False, "reboot_required": False}
    _validate(call, params)
    agent = _show(call, host)
    before_stale = host.hybrid_worker_v2()
    stale_keys = before_stale["registry_keys"] if before_stale["stale"] else []
    before = _diff_view(agent, stale_keys)
    after = dict(before)
    removed = []
    _set_results(result, agent)
    result["hybrid_worker"] = _hybrid_worker(host, removed)

    if params["state"] == "absent":
        if agent["installed"] and (agent["status"] == "Connected" or agent["resource_name"]):
            if not params["force_local_only"] and not (params["service_principal_id"] and params["service_principal_secret"]):
                call.fail(message("absent_needs_principal", name=agent["resource_name"]), **result)
            result["changed"] = True
            if not call.check_mode:
                _disconnect(call, result, agent, params["force_local_only"])
            after.update(status="Disconnected", subscription_id=None, resource_group=None, resource_name=None,
                         location=None)
        if agent["installed"] and params["uninstall"]:
            result["changed"] = True
            if not call.check_mode:
                exit_code = host.uninstall_arc_agent('"%s" /x %s /qn /norestart' % (MSIEXEC, agent["product_code"]))
                if exit_code not in SUCCESS_EXIT_CODES:
                    call.fail(message("uninstall_failed", code=exit_code), **result)
                result["reboot_required"] = exit_code == 3010
            after.update(installed=False, agent_version=None, status=None)
        if not call.check_mode:
            agent = _show(call, host)
        else:
            agent = dict(agent, installed=after["installed"], agent_version=after["agent_version"],
                         status=after["status"], subscription_id=after["subscription_id"],
                         resource_group=after["resource_group"], resource_name=after["resource_name"],
                         location=after["location"])
        _set_results(result, agent)
        if call.diff:
            result["diff"] = {"before": before, "after": after}
        return result

    # Connected elsewhere: refuse before changing anything, unless asked to move.
    name = params["resource_name"] or host.computer_name
    desired = (params["subscription_id"].lower(), params["resource_group"].lower(), name.lower(),
               _location_key(params["location"]))
    desired_text = _describe(params["subscription_id"], params["resource_group"], name, params["location"])
    current = None
    if agent["status"] == "Connected":
        current = ((agent["subscription_id"] or "").lower(), (agent["resource_group"] or "").lower(),
                   (agent["resource_name"] or "").lower(), _location_key(agent["location"]))
    if current is not None and current != desired and not params["reconnect"]:
        call.fail(message("connected_elsewhere",
                          current=_describe(agent["subscription_id"], agent["resource_group"], agent["resource_name"],
                                            agent["location"]),
                          desired=desired_text), **result)

    # The secret is needed only to connect; without it the module refuses before any change and says so.
    if current != desired and not params["service_principal_secret"]:
        call.fail(message("secret_required", desired=desired_text), secret_required=True, **result)

    # Stale extension-based worker keys make the next extension install hang in Transitioning (reference 5.2).
    if stale_keys and params["remove_stale_hybrid_worker_keys"]:
        result["changed"] = True
        if call.check_mode:
            removed = list(stale_keys)
        else:
            try:
                removed = host.remove_stale_hybrid_worker_keys()
            except hostmod.WindowsError as exc:
                call.fail(message("stale_keys_failed", error=exc.message), **result)
        after["stale_hybrid_worker_keys"] = []

    if not agent["installed"]:
        result["changed"] = True
        after.update(installed=True, status="Disconnected")
        if not call.check_mode:
            _install(call, result)
            agent = _show(call, host)
            after["agent_version"] = agent["agent_version"]
            _set_results(result, agent)

    if current != desired:
        result["changed"] = True
        if not call.check_mode:
            if current is not None:
                _disconnect(call, result, agent, False)
            elif agent["resource_name"]:
                # Configured but no longer connected (its Azure resource was deleted): reset locally first.
                _disconnect(call, result, agent, True)
            _connect(call, result, name)
            agent = _show(call, host)
        else:
            agent = dict(agent, installed=True, status="Connected", subscription_id=params["subscription_id"],
                         resource_group=params["resource_group"], resource_name=name, location=params["location"],
                         tenant_id=params["tenant_id"], cloud=params["cloud"])
        after.update(status="Connected", subscription_id=agent["subscription_id"],
                     resource_group=agent["resource_group"], resource_name=agent["resource_name"],
                     location=agent["location"])

    _set_results(result, agent)
    result["hybrid_worker"] = _hybrid_worker(host, removed)
    if call.check_mode and removed:
        result["hybrid_worker"].update(registry_keys=[], stale=False)
    if call.diff:
        result["diff"] = {"before": before, "after": after}
    return result
