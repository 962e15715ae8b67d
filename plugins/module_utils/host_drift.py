# -*- coding: utf-8 -*-
# Copyright: (c) 2026, azure_automation.hybrid_worker maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare a win_hybrid_worker_info result with the desired settings: which concerns need their module.

The rules repeat, on the controller, the decisions win_log_analytics_agent and win_hybrid_runbook_worker make on the
host before they change anything, so that a concern the probe finds right is skipped without a module call, and a
concern that is wrong (or that the module would refuse, such as missing prerequisites) still reaches its module.
Used by the hybrid_worker_drift filter and the win_hybrid_worker_converge action.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

MINIMUM_DOTNET_RELEASE = 394802  # .NET Framework 4.6.2, as win_log_analytics_agent checks it
ACCOUNT_URL = re.compile(r"^https://[^/]+(/.*)?/accounts/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                         r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12})/?$")


def _version(text):
    parts = str(text or "").strip().split(".")
    if not all(part.isdigit() for part in parts):
        return None
    return tuple(int(part) for part in parts)


def _prerequisite_problems(prerequisites, fix_tls_settings):
    problems = []
    if (_version(prerequisites.get("powershell_version")) or (0,))[:2] < (5, 1):
        problems.append("Windows PowerShell 5.1 missing (found %s)" % prerequisites.get("powershell_version"))
    release = prerequisites.get("dotnet_release")
    if release is None or int(release) < MINIMUM_DOTNET_RELEASE:
        problems.append(".NET Framework 4.6.2 missing (release %s)" % release)
    if not prerequisites.get("is_64bit_process", True):
        problems.append("not a 64-bit PowerShell process")
    if not (prerequisites.get("tls12_enabled") and prerequisites.get("strong_crypto")):
        problems.append("TLS 1.2 not usable" + (" (the agent module enables it)" if fix_tls_settings else ""))
    return problems


def agent_drift(probe, desired):
    """Reasons the agent module must run, and observations no module corrects (e.g. a workspace not connected)."""
    agent = probe.get("agent") or {}
    reasons, notes = [], []
    if desired.get("state", "present") == "absent":
        if agent.get("installed"):
            reasons.append("Log Analytics agent %s installed" % agent.get("version"))
        return reasons, notes
    reasons.extend(_prerequisite_problems(probe.get("prerequisites") or {}, desired.get("fix_tls_settings", False)))
    if not agent.get("installed"):
        reasons.append("Log Analytics agent not installed")
        return reasons, notes
    minimum = desired.get("minimum_version") or ""
    if minimum and _version(minimum) is None:
        # The module refuses it with its own message; let it say so.
        reasons.append("minimum_version %s is not a version number" % minimum)
    elif minimum and (_version(agent.get("version")) or (0,)) < _version(minimum):
        reasons.append("Log Analytics agent %s older than %s" % (agent.get("version"), minimum))
    attached = dict((str(w.get("id", "")).lower(), w) for w in agent.get("workspaces") or [])
    wanted = []
    for workspace in desired.get("workspaces") or []:
        workspace_id = str(workspace.get("id", "")).lower()
        wanted.append(workspace_id)
        cloud = workspace.get("cloud") or "AzureCloud"
        found = attached.get(workspace_id)
        if found is None:
            reasons.append("workspace %s not attached to the agent" % workspace_id)
        elif found.get("cloud", "AzureCloud") != cloud:
            reasons.append("workspace %s attached in %s instead of %s" % (workspace_id, found.get("cloud"), cloud))
        elif not found.get("connected"):
            notes.append("workspace %s attached but not connected (status %s)"
                         % (workspace_id, found.get("connection_status")))
    if desired.get("remove_unlisted_workspaces"):
        for workspace_id in sorted(set(attached) - set(wanted)):
            reasons.append("workspace %s attached but not listed" % workspace_id)
    proxy_url = desired.get("proxy_url") or ""
    if proxy_url and proxy_url != (agent.get("proxy_url") or ""):
        reasons.append("agent proxy %s instead of %s" % (agent.get("proxy_url") or "(none)", proxy_url))
    if agent.get("service") != "Running":
        reasons.append("agent service HealthService not running")
    return reasons, notes


def worker_drift(probe, desired):
    """Reasons the worker module must run (the module's own 'converged' test, done on the controller)."""
    found = probe.get("worker_registrations") or []
    groups = ", ".join(sorted(str(r.get("group")) for r in found))
    if desired.get("state", "present") == "absent":
        return ["registered in group %s" % groups] if found else []
    match = ACCOUNT_URL.match(desired.get("registration_url") or "")
    if not match:
        # The module refuses such a URL with its own message; let it say so.
        return ["registration URL is not an Automation account registration URL"]
    account_id = match.group(2).lower()
    group = desired.get("group")
    if not found:
        return ["not registered as a Hybrid Runbook Worker"]
    if len(found) > 1:
        return ["registered in several groups (%s) instead of %s" % (groups, group)]
    current = found[0]
    if current.get("group") != group:
        return ["registered in group %s instead of %s" % (current.get("group"), group)]
    if current.get("account_id") not in (None, account_id):
        return ["registered in Automation account %s instead of %s" % (current.get("account_id"), account_id)]
    return []


def powershell_modules_drift(probe, desired):
    """The requested modules (as given, with version/repository) that are missing on the host."""
    installed = dict((str(m.get("name", "")).lower(), list(m.get("versions") or []))
                     for m in probe.get("powershell_modules") or [])
    missing = []
    for module in desired or []:
        versions = installed.get(str(module.get("name", "")).lower(), [])
        version = module.get("version") or ""
        if not versions or (version and version not in versions):
            missing.append(module)
    return missing


def host_drift(probe, agent=None, worker=None, powershell_modules=None):
    """What differs between the probe result and the desired settings of each concern that is given.

    ``agent``: ``{state, workspaces, remove_unlisted_workspaces, minimum_version, proxy_url, fix_tls_settings}``;
    ``worker``: ``{state, group, registration_url}``; ``powershell_modules``: ``[{name, version, repository}]``.
    """
    if isinstance(probe, dict) and (probe.get("failed") or probe.get("skipped")):
        raise ValueError("hybrid_worker_drift needs a successful win_hybrid_worker_info result, got a %s one"
                         % ("failed" if probe.get("failed") else "skipped"))
    if not isinstance(probe, dict) or "agent" not in probe:
        raise ValueError("hybrid_worker_drift expects the result of win_hybrid_worker_info, got %s"
                         % type(probe).__name__)
    result = {"agent": [], "worker": [], "powershell_modules": [], "notes": [], "concerns": [], "drift": []}
    if agent is not None:
        result["agent"], result["notes"] = agent_drift(probe, agent)
    if worker is not None:
        result["worker"] = worker_drift(probe, worker)
    if powershell_modules is not None:
        result["powershell_modules"] = powershell_modules_drift(probe, powershell_modules)
    result["concerns"] = [name for name in ("agent", "worker", "powershell_modules") if result[name]]
    result["drift"] = result["agent"] + result["worker"] + [
        "PowerShell module %s%s missing" % (m["name"], " " + m["version"] if m.get("version") else "")
        for m in result["powershell_modules"]] + result["notes"]
    return result


def agent_settings(agent_args):
    """The settings host_drift compares, from win_log_analytics_agent's arguments (missing ones at its defaults)."""
    agent_args = agent_args or {}
    return {
        "state": agent_args.get("state") or "present",
        "workspaces": agent_args.get("workspaces") or [],
        "remove_unlisted_workspaces": bool(agent_args.get("remove_unlisted_workspaces")),
        "minimum_version": agent_args.get("minimum_version") or "",
        "proxy_url": agent_args.get("proxy_url") or "",
        "fix_tls_settings": bool(agent_args.get("fix_tls_settings")),
    }


def worker_settings(worker_args):
    """The settings host_drift compares, from win_hybrid_runbook_worker's arguments."""
    worker_args = worker_args or {}
    return {"state": worker_args.get("state") or "present", "group": worker_args.get("group_name"),
            "registration_url": worker_args.get("url") or ""}


def forgotten_by_azure(probe, worker_args, azure_workers, computer_name):
    """True when the host holds a registration in the right group but Azure no longer lists it there (deleted in
    the portal or pruned): the worker module then sees nothing to do, and only registering again brings it back.

    ``azure_workers`` are the computer names Azure lists in the host's group, None when the group was not listed.
    """
    if azure_workers is None or not computer_name or (worker_args or {}).get("state", "present") != "present":
        return False
    registrations = probe.get("worker_registrations") or []
    if len(registrations) != 1 or registrations[0].get("group") != (worker_args or {}).get("group_name"):
        return False
    return computer_name.upper() not in set(str(name).upper() for name in azure_workers)


def converge_plan(probe, agent_args=None, worker_args=None, powershell_modules=None, azure_workers=None, computer_name=None):
    """What the host needs, from one probe: host_drift's answer plus ``reregister`` (see forgotten_by_azure)."""
    plan = host_drift(probe,
                      agent=agent_settings(agent_args) if agent_args is not None else None,
                      worker=worker_settings(worker_args) if worker_args is not None else None,
                      powershell_modules=powershell_modules if (worker_args or {}).get("state", "present") == "present" else [])
    plan["reregister"] = (worker_args is not None and not plan["worker"]
                          and forgotten_by_azure(probe, worker_args, azure_workers, computer_name))
    if plan["reregister"]:
        plan["drift"].append("worker missing in Azure group %s" % worker_args.get("group_name"))
    return plan


def module_arguments(arguments):
    """A module's arguments without the unset ones (None or ''), so the module applies its own defaults."""
    return dict((key, value) for key, value in (arguments or {}).items() if value is not None and value != "")


UNSET = object()


class MissingVariable(ValueError):
    """A variable the onboarding arguments cannot do without is not set for the host."""


def onboarding_arguments(variable):
    """The converge arguments of the collection's onboard playbook, from a host's variables.

    ``variable(name)`` returns the host's templated value of ``name``, or raises KeyError when it is not set. The
    names and defaults are those of the log_analytics_agent and hybrid_runbook_worker roles, of the facts the
    automation_prerequisites role hands over (workspace and registration details) and of the onboard playbook
    (``hybrid_worker_azure_workers_before``, ``hybrid_worker_computer_name``). Reading them here templates only the
    variables a host sets, where twenty ``default()`` expressions per host cost more controller time than the host's
    own module call.
    """

    def value(name, default=None):
        try:
            return variable(name)
        except KeyError:
            return default

    def required(name, *fallbacks):
        for candidate in (name,) + fallbacks:
            try:
                return variable(candidate)
            except KeyError:
                continue
        raise MissingVariable("%s is not set for this host%s" % (
            name, " (nor %s)" % " or ".join(fallbacks) if fallbacks else ""))

    workspaces = value("log_analytics_agent_workspaces", UNSET)
    if workspaces is UNSET:
        workspaces = [{"id": value("automation_prerequisites_workspace_id", ""), "key": value("automation_prerequisites_workspace_key", "")}]
    installer_path = value("log_analytics_agent_installer_path", "")
    agent = dict(
        state="present",
        workspaces=workspaces,
        remove_unlisted_workspaces=value("log_analytics_agent_remove_unlisted_workspaces", False),
        # A local installer wins over the download.
        installer_url="" if installer_path else value("log_analytics_agent_installer_url", ""),
        installer_path=installer_path,
        installer_checksum=value("log_analytics_agent_installer_checksum", ""),
        validate_installer_checksum=value("log_analytics_agent_validate_installer_checksum", True),
        minimum_version=value("log_analytics_agent_minimum_version", ""),
        proxy_url=value("log_analytics_agent_proxy_url", ""),
        proxy_username=value("log_analytics_agent_proxy_username", ""),
        proxy_password=value("log_analytics_agent_proxy_password", ""),
        fix_tls_settings=value("log_analytics_agent_fix_tls_settings", False),
    )
    group = required("hybrid_runbook_worker_group")
    worker = dict(
        state="present",
        group_name=group,
        url=required("hybrid_runbook_worker_registration_url", "automation_prerequisites_registration_url"),
        key=required("hybrid_runbook_worker_registration_key", "automation_prerequisites_registration_key"),
        wait_timeout=value("hybrid_runbook_worker_wait_timeout", 600),
    )
    listed = value("hybrid_worker_azure_workers_before")
    computer_name = value("hybrid_worker_computer_name", UNSET)
    if computer_name is UNSET:
        computer_name = required("inventory_hostname_short")
    return dict(
        agent=agent,
        worker=worker,
        powershell_modules=value("hybrid_runbook_worker_powershell_modules", []),
        azure_workers=listed.get(group) if isinstance(listed, dict) else None,
        computer_name=str(computer_name).upper(),
    )
