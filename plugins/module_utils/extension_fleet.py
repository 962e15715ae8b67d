# -*- coding: utf-8 -*-
# Copyright: (c) 2026, azure_automation.hybrid_worker maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules of an extension-based fleet run, on plain values: the Arc agent's arguments from a host's variables,
what Azure lacks for a host after its agent was read, whether Azure has seen a worker, and the run's report and
summary lines. Used by the win_hybrid_worker_extension_converge and hybrid_worker_extension_fleet_summary actions.

The rules are those of the arc_agent and hybrid_worker_extension roles (tasks/main.yml of arc_agent, "Work out what
Azure lacks for this host" in present.yml of hybrid_worker_extension), so that the playbook and the roles decide
alike.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# What the arc_agent role asserts before it connects a host (state present), in its order.
ARC_INPUTS = ("arc_agent_tenant_id", "arc_agent_subscription_id", "arc_agent_resource_group", "arc_agent_location",
              "arc_agent_service_principal_id", "arc_agent_service_principal_secret")
UNREACHABLE_DETAIL = "unreachable or stopped before finishing; a re-run completes it"


def missing_arc_inputs(values, prefix="arc_agent_"):
    """The ARC_INPUTS that are empty or unset in ``values``: {variable name: value}, or with ``prefix=""``
    win_connected_machine_agent's arguments ({option: value})."""
    return [name for name in ARC_INPUTS if values.get(name[len("arc_agent_"):] if not prefix else name) in (None, "")]


def arc_inputs_message(missing):
    """The arc_agent role's sentence for missing inputs (state present)."""
    return "arc_agent needs %s to connect the host to Azure Arc (state present)." % ", ".join(missing)


def arc_agent_arguments(variable, with_secret=True):
    """win_connected_machine_agent's arguments (state present) from a host's arc_agent_* variables.

    ``variable(name)`` returns the host's templated value of ``name`` or raises KeyError when it is not set; the
    defaults are those of the arc_agent role, and empty values are left out as the role leaves them out (the module
    then applies its own defaults). A local installer path wins over the download URL. With ``with_secret=False``
    the service principal secret is neither read nor given: the module asks for it only when the agent must connect.
    """

    def value(name, default=""):
        try:
            found = variable(name)
        except KeyError:
            return default
        return default if found is None else found

    installer_path = value("arc_agent_installer_path")
    arguments = dict(
        state="present",
        installer_url="" if installer_path else value("arc_agent_installer_url", "https://aka.ms/AzureConnectedMachineAgent"),
        installer_path=installer_path,
        installer_checksum=value("arc_agent_installer_checksum"),
        validate_installer_checksum=value("arc_agent_validate_installer_checksum", True),
        tenant_id=value("arc_agent_tenant_id"),
        subscription_id=value("arc_agent_subscription_id"),
        resource_group=value("arc_agent_resource_group"),
        location=value("arc_agent_location"),
        cloud=value("arc_agent_cloud", "AzureCloud"),
        resource_name=value("arc_agent_resource_name"),
        tags=value("arc_agent_tags", {}) or "",
        service_principal_id=value("arc_agent_service_principal_id"),
        service_principal_secret=value("arc_agent_service_principal_secret") if with_secret else "",
        reconnect=value("arc_agent_reconnect", False),
        force_local_only=value("arc_agent_force_local_only", False),
        uninstall=value("arc_agent_uninstall", False),
        remove_stale_hybrid_worker_keys=value("arc_agent_remove_stale_hybrid_worker_keys", True),
    )
    return dict((key, found) for key, found in arguments.items() if found != "")


def azure_work(agent, group, azure, check_mode=False):
    """What Azure lacks for a host whose win_connected_machine_agent result is ``agent``.

    ``group``: the host's worker group; ``azure``: the index the playbook's first play read
    (``{workers: {<lower-case machine id>: [{group, id, ...}]}}``, ``{}`` when unknown).

    Returns ``{needed, machine_id, records, remove, record, check_all, reasons}``: ``records`` are the listed records
    of the machine, ``remove`` those in other groups (a machine can be in one group only), ``record`` whether the
    record in ``group`` must be written, ``check_all`` whether the controller modules must look at everything (an
    unknown listing, a reconnected agent or a worker service that is not running: let the modules decide).
    In check mode a host whose agent would change needs nothing more: its Arc machine may not exist before the run
    applies, so the controller modules could not tell what they would do (the host already shows as changing).
    """
    azure = azure if isinstance(azure, dict) else {}
    known = azure.get("workers") or {}
    machine_id = agent.get("resource_id") or ""
    records = list(known.get(machine_id.lower(), [])) if machine_id else []
    service = (agent.get("hybrid_worker") or {}).get("service")
    reasons = []
    if not known and "workers" not in azure:
        reasons.append("the worker listing is unknown")
    if agent.get("changed"):
        reasons.append("the Azure Connected Machine agent changed")
    if service != "Running":
        reasons.append("worker service HybridWorkerService %s" % ("missing" if service is None else service))
    check_all = bool(reasons)
    remove = [record for record in records if record.get("group") != group]
    for record in remove:
        reasons.append("worker record in group %s" % record.get("group"))
    in_group = group in [record.get("group") for record in records]
    if not in_group:
        reasons.append("no worker record in group %s" % group)
    work = dict(machine_id=machine_id, records=records, remove=remove, record=check_all or not in_group,
                check_all=check_all, reasons=reasons if machine_id else [])
    # Without a connected machine (check mode on a new host) there is nothing Azure can be asked about.
    work["needed"] = bool(machine_id) and not (check_mode and agent.get("changed")) and (check_all or bool(remove) or not in_group)
    return work


def index_workers(groups):
    """The index azure_work() and worker_seen() read (the hybrid_worker_index filter, for the playbooks), from the
    ``groups`` of hybrid_worker_group_info or hybrid_worker_prerequisites: ``{workers: {<lower-case Arc machine id>:
    [{group, id, name, type, registered, last_seen, minutes_ago, stale}]}}``. Workers without an Arc machine
    (agent-based ones) are left out."""
    workers = {}
    for group in groups or []:
        for worker in group.get("workers") or []:
            if worker.get("vm_resource_id"):
                workers.setdefault(worker["vm_resource_id"].lower(), []).append({
                    "group": group.get("name"), "id": worker.get("id"), "name": worker.get("name"),
                    "type": worker.get("type"), "registered": worker.get("registered_date_time"),
                    "last_seen": worker.get("last_seen_date_time"), "minutes_ago": worker.get("last_seen_minutes_ago"),
                    "stale": worker.get("stale")})
    return {"workers": workers}


def worker_seen(azure, machine_id, group):
    """True when the index lists the machine's worker in ``group`` and Azure has seen it since it was registered
    (the extension on the host reported in: lastSeen moves past registration)."""
    for record in ((azure or {}).get("workers") or {}).get((machine_id or "").lower(), []):
        if record.get("group") == group and (record.get("last_seen") or "") > (record.get("registered") or ""):
            return True
    return False


def host_outcome(converged, azure_side=None):
    """A host's outcome from its converge result and, when the Azure play ran for it, that play's record
    (``{status: done|failed, changed, task, message}``)."""
    if not converged or converged.get("unreachable"):
        return {"status": "unreachable", "changed": False}
    if "outcome" not in converged:
        return {"status": "failed", "changed": False, "task": "Onboard the host",
                "message": converged.get("msg") or "see the task output above"}
    outcome = dict(converged["outcome"])
    if outcome.get("status") == "onboarded" and azure_side:
        if azure_side.get("status") == "failed":
            outcome.update(status="failed", changed=False, task=azure_side.get("task"), message=azure_side.get("message"))
        elif azure_side.get("changed"):
            outcome["changed"] = True
    return outcome


def unseen_hosts(hosts, azure):
    """The onboarded hosts of ``hosts`` ({host: {outcome, group}}) whose worker the index does not show as seen."""
    return sorted(host for host, entry in hosts.items() if entry["outcome"].get("status") == "onboarded"
                  and not worker_seen(azure, entry["outcome"].get("machine_id"), entry["group"]))


def build_report(hosts, check_mode, azure, listing_error=None):
    """{host: {group, status, changed, detail}}: ``hosts`` is {host: {outcome, group}}; ``azure`` the index the
    verification reads (in check mode nothing is verified); ``listing_error`` the message of a listing that failed."""
    report = {}
    for host in sorted(hosts):
        outcome, group = hosts[host]["outcome"], hosts[host]["group"]
        if outcome["status"] == "unreachable":
            entry = {"status": "unreachable", "changed": False, "detail": UNREACHABLE_DETAIL}
        elif outcome["status"] == "failed":
            entry = {"status": "failed", "changed": False,
                     "detail": 'failed in "%s": %s' % (outcome.get("task") or "", outcome.get("message") or "")}
        else:
            seen = check_mode or worker_seen(azure, outcome.get("machine_id"), group)
            entry = {"status": "onboarded" if seen else "unverified", "changed": bool(outcome.get("changed")),
                     "detail": "" if seen else "worker not seen by Azure in group %s%s" % (
                         group, "; the worker listing failed: %s" % listing_error if listing_error else "")}
        entry["group"] = group
        report[host] = entry
    return report


def summary_lines(report, check_mode):
    """One line per worker group."""
    lines = []
    verb = "would be onboarded" if check_mode else "onboarded"
    for group in sorted(set(entry["group"] for entry in report.values())):
        members = sorted(host for host, entry in report.items() if entry["group"] == group)
        onboarded = [host for host in members if report[host]["status"] == "onboarded"]
        changed = [host for host in members if report[host]["changed"]]
        text = "%s: %d/%d %s (extension-based), %d %s" % (
            group, len(onboarded), len(members), verb, len(changed), "would change" if check_mode else "changed")
        if 0 < len(changed) <= 10:
            text += " (%s)" % ", ".join(changed)
        for status in ("failed", "unreachable", "unverified"):
            named = [host for host in members if report[host]["status"] == status]
            if named:
                text += ", %s: %s" % (status, ", ".join(named))
        lines.append(text)
    return lines
