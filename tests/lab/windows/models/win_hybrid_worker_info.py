"""Model of ``azure_automation.hybrid_worker.win_hybrid_worker_info`` (``plugins/modules/win_hybrid_worker_info.ps1``).

Same contract as the PowerShell module: options from its ``.yml`` sidecar, the result keys of its RETURN, the one
failure sentence it has (:data:`MESSAGES`), read-only in every mode. The facts come from the same host reads the
agent and worker models use (windows-host reference sections 2.5, 3.5, 3.8 and 5.2), so the probe and the modules
never disagree about a host.
"""
from . import register
from .. import host as hostmod
from .win_hybrid_runbook_worker import registrations
from .win_log_analytics_agent import _agent, _prerequisites, _proxy_url, _workspaces, sidecar_spec

FQCN = "azure_automation.hybrid_worker.win_hybrid_worker_info"
NO_LOG_OPTIONS = ()

MESSAGES = {
    "com_unavailable": "The Log Analytics agent {version} is installed but its configuration object "
                       "AgentConfigManager.MgmtSvcCfg cannot be created: {error}",
}


def _powershell_modules(host, names):
    """Get-Module -ListAvailable -Name: installed versions per requested name (names compare case-insensitively)."""
    listed = []
    for name in names:
        versions = []
        for entry in host.psmodules(name):
            if entry["version"] not in versions:
                versions.append(entry["version"])
        listed.append({"name": name, "versions": versions})
    return listed


def _extension_worker(host):
    state = host.hybrid_worker_v2()
    return {"service": state["service"], "registry_keys": list(state["registry_keys"]), "stale": state["stale"]}


@register(FQCN, argument_spec=sidecar_spec("win_hybrid_worker_info", NO_LOG_OPTIONS))
def win_hybrid_worker_info(call):
    host = call.host
    agent = _agent(host)
    result = {"changed": False}
    workspaces, proxy_url, service, registration = [], None, None, {"path": None, "version": None}
    if agent["installed"]:
        try:
            workspaces = _workspaces(host)
        except hostmod.WindowsError as exc:
            call.fail(MESSAGES["com_unavailable"].format(version=agent["version"], error=exc.message))
        proxy_url = _proxy_url(host)
        entry = host.service(hostmod.MMA_SERVICE)
        service = entry["status"] if entry else None
        path = host.newest_hybrid_registration()
        if path:
            registration = {"path": path, "version": path.split("\\AzureAutomation\\", 1)[1].split("\\", 1)[0]}
    result["agent"] = {"installed": agent["installed"], "version": agent["version"], "service": service,
                       "proxy_url": proxy_url, "workspaces": workspaces}
    result["hybrid_registration"] = registration
    result["worker_registrations"] = registrations(host)
    result["extension_worker"] = _extension_worker(host)
    result["prerequisites"] = _prerequisites(host)
    result["powershell_modules"] = _powershell_modules(host, call.params["powershell_modules"])
    return result
