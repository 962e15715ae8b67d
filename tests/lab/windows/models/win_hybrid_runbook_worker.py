"""Model of ``azure_automation.hybrid_worker.win_hybrid_runbook_worker`` (``plugins/modules/win_hybrid_runbook_worker.ps1``).

Same contract as the PowerShell module: options from its ``.yml`` sidecar, the same order of checks and the same
messages (:data:`MESSAGES`, kept equal to the ``.ps1`` sentences by ``tests/integration/roles/test_windows_module_models.py``),
the result keys of the sidecar's RETURN, and its check-mode and diff behaviour. Registry detection, registration and
deregistration go through :mod:`windows.host` (windows-host reference sections 2.2-2.6 and 7).
"""
import re
import time

from . import is_base64, register
from .. import host as hostmod
from .win_log_analytics_agent import sidecar_spec

FQCN = "azure_automation.hybrid_worker.win_hybrid_runbook_worker"
NO_LOG_OPTIONS = ("key",)

MESSAGES = {
    "bad_url": "url '{url}' is not an Automation account registration URL (https://.../accounts/<account id>).",
    "bad_wait_timeout": "wait_timeout must be 0 or more seconds.",
    "bad_key": "key is not an Automation account registration key: expected the account's primary or secondary access "
               "key, a Base64 string (letters, digits, + and / with = padding).",
    "bad_group": "group_name '{group}' is not a valid Hybrid Runbook Worker group name (1 to 128 characters, none of "
                 "<>*%&:\\?/+).",
    "agent_missing": "The Log Analytics agent is not installed; install it and attach a workspace that has the "
                     "AzureAutomation solution before registering a Hybrid Runbook Worker.",
    "service_not_running": "The HealthService service (Log Analytics agent) is not running; start it before "
                           "registering a Hybrid Runbook Worker.",
    "registration_module_missing": "The HybridRegistration module did not arrive in {directory}\\AzureAutomation within "
                                   "{timeout} seconds. Likely causes: the workspace does not have the AzureAutomation "
                                   "solution enabled, or the agent is not connected to it (attached workspaces: "
                                   "{workspaces}; status 0 means connected).",
    "workspace_status": "{id} status {status}",
    "import_failed": "Failed to import the HybridRegistration module from '{path}': {error}",
    "remove_failed": "Remove-HybridRunbookWorker failed to remove this machine from group '{group}': {error}; {hint}.",
    "other_account": "This machine was registered in Automation account {old}; only the key of account {new} is "
                     "known, so the old account keeps a stale entry until the service drops it (30 days without a "
                     "ping).",
    "cleanup_failed": "Failed to clear the leftover Hybrid Runbook Worker registration in the registry: {error}",
    "add_failed": "Add-HybridRunbookWorker failed to register this machine in group '{group}': {error}; {hint}.",
    "hint_unauthorized": "the registration key is wrong or was regenerated, or the URL belongs to another Automation "
                         "account",
    "hint_forbidden": "the machine clock may be more than 15 minutes off, or the agent service refuses this machine "
                      "(see the Hybrid Runbook Worker troubleshooting guide)",
    "hint_other": "see the Microsoft-SMA and Operations Manager event logs on the host",
}

URL_PATTERN = re.compile(r"^https://[^/]+(/.*)?/accounts/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                         r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12})/?$")
GROUP_PATTERN = re.compile(r"^[^<>*%&:\\?/+]{1,128}$")
# The .ps1 polls every 5 s; the model looks more often so lab runs stay fast. The outcome is the same.
POLL_SECONDS = 0.1


def message(name, **values):
    return MESSAGES[name].format(**values)


def failure_hint(error):
    """Get-RegistrationFailureHint."""
    if re.search(r"401|Unauthorized", error, re.I):
        return message("hint_unauthorized")
    if re.search(r"403|Forbidden", error, re.I):
        return message("hint_forbidden")
    return message("hint_other")


def registrations(host):
    """Get-HybridWorkerRegistration (HybridWorkerRegistry.psm1): legacy value first, else user workers."""
    registry = host.hrw_registry()
    if registry["legacy_group"]:
        return [{"group": registry["legacy_group"], "account_id": None, "layout": "legacy"}]
    return [{"group": w["group"], "account_id": w["account_id"].lower(), "layout": "current"}
            for w in registry["user_workers"]]


def _connections(host):
    try:
        workspaces = host.cloud_workspaces()
    except hostmod.WindowsError:
        workspaces = []
    listed = []
    for workspace in workspaces:
        mirror = "%s\\Log Analytics - %s" % (hostmod.SERVICE_CONNECTOR_KEY, workspace["workspace_id"])
        status = host.reg_value(mirror, "Connection Status")
        listed.append(message("workspace_status", id=workspace["workspace_id"].lower(),
                              status="" if status is None else status))
    return listed or ["none"]


def _wait_for_registration_module(host, timeout):
    deadline = time.monotonic() + timeout
    path = host.newest_hybrid_registration()
    while not path and time.monotonic() < deadline:
        time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        path = host.newest_hybrid_registration()
    return path


def _clear_leftovers(call, result):
    try:
        call.host.remove_user_worker_keys()
        call.host.restart_service(hostmod.MMA_SERVICE)
    except hostmod.WindowsError as exc:
        call.fail(message("cleanup_failed", error=exc.message), **result)


@register(FQCN, argument_spec=sidecar_spec("win_hybrid_runbook_worker", NO_LOG_OPTIONS),
          required_if=[["state", "present", ["group_name"]]])
def win_hybrid_runbook_worker(call):
    return _run(call)


def _set_diff(call, result, before, after):
    # Ansible.Basic only returns the diff when the task runs with --diff.
    if call.diff:
        result["diff"] = {"before": before, "after": after}


def _run(call):  # pylint: disable=too-many-branches,too-many-statements
    host, params = call.host, call.params
    state, group, url, key = params["state"], params["group_name"], params["url"], params["key"]
    result = {"changed": False, "registered": False, "group": None, "previous_group": None, "account_id": None}

    match = URL_PATTERN.match(url)
    if not match:
        call.fail(message("bad_url", url=url), **result)
    account_id = match.group(2).lower()
    if params["wait_timeout"] < 0:
        call.fail(message("bad_wait_timeout"), **result)
    if state == "present" and not GROUP_PATTERN.match(group or ""):
        call.fail(message("bad_group", group=group), **result)
    if not is_base64(key):
        call.fail(message("bad_key"), **result)

    found = registrations(host)
    current = found[0] if found else None
    if current:
        result.update(registered=True, group=current["group"], account_id=current["account_id"])
    before = {"registered": bool(current), "group": result["group"], "account_id": result["account_id"]}

    if state == "absent":
        converged = not found
    else:
        converged = (len(found) == 1 and current["group"] == group
                     and current["account_id"] in (None, account_id))
    if converged:
        _set_diff(call, result, before, dict(before))
        return result

    result["changed"] = True
    if state == "absent":
        after = {"registered": False, "group": None, "account_id": None}
    else:
        after = {"registered": True, "group": group, "account_id": account_id}
    _set_diff(call, result, before, after)
    if current and (state == "absent" or current["group"] != group or current["account_id"] != account_id):
        result["previous_group"] = current["group"]
    if call.check_mode:
        result.update(after)
        return result

    agent = host.installed_product(hostmod.MMA_DISPLAY_NAME)
    if agent is None:
        call.fail(message("agent_missing"), **result)
    service = host.service(hostmod.MMA_SERVICE)
    if service is None or service["status"] != "Running":
        call.fail(message("service_not_running"), **result)
    if not _wait_for_registration_module(host, params["wait_timeout"]):
        directory = (host.reg_value(hostmod.MOM_SETUP_KEY, "InstallDirectory") or hostmod.AGENT_DIR).rstrip("\\")
        call.fail(message("registration_module_missing", directory=directory, timeout=params["wait_timeout"],
                          workspaces=", ".join(_connections(host))), **result)

    if found:
        if any(r["account_id"] in (None, account_id) for r in found):
            try:
                host.deregister_v1_worker(url, key)
            except hostmod.WindowsError as exc:
                # The service already forgot this machine (a registration left behind on the host).
                if not re.search(r"not registered|404|NotFound", exc.message):
                    call.fail(message("remove_failed", group=current["group"], error=exc.message,
                                      hint=failure_hint(exc.message)), **result)
        else:
            call.warn(message("other_account", old=current["account_id"], new=account_id))
        if registrations(host):
            _clear_leftovers(call, result)

    if state == "absent":
        result.update(registered=False, group=None, account_id=None)
        return result

    attempt = 0
    while True:
        attempt += 1
        try:
            host.register_v1_worker(group, url, key)
            break
        except hostmod.WindowsError as exc:
            if attempt == 1 and "already registered" in exc.message:
                _clear_leftovers(call, result)
                continue
            call.fail(message("add_failed", group=group, error=exc.message, hint=failure_hint(exc.message)), **result)

    registered = registrations(host)
    result.update(registered=True, group=group, account_id=account_id)
    if registered and registered[0]["account_id"]:
        result["account_id"] = registered[0]["account_id"]
    return result
