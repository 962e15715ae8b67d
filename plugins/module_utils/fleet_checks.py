# -*- coding: utf-8 -*-
# Copyright: (c) 2026, azure_automation.hybrid_worker maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of a fleet's inventory that must pass before a playbook changes anything (hybrid_worker_fleet_check).

Every function takes plain values, one entry per host, and returns sentences that say what to fix.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure_rules import validate_group_name

WORKER_TYPES = ("agent", "extension")
TYPE_ADVICE = ("use 'extension' (extension-based workers through Azure Arc) or 'agent' (agent-based workers, retired "
               "by Microsoft)")
NOTHING_CHANGED = "Nothing was changed."


def hosts_by_type(types, default_type="extension"):
    """({type: [hosts]} of the known types, message naming the hosts of an unknown type or None).

    ``types``: {host: hybrid_worker_type or None}; a host without one gets ``default_type``.
    """
    sorted_hosts = dict((kind, []) for kind in WORKER_TYPES)
    unknown = []
    for host in sorted(types):
        kind = types[host] if types[host] not in (None, "") else default_type
        if kind in sorted_hosts:
            sorted_hosts[kind].append(host)
        else:
            unknown.append((host, kind))
    if not unknown:
        return sorted_hosts, None
    host, kind = unknown[0]
    message = "hybrid_worker_type '%s' of %s is not supported: %s. %s" % (kind, host, TYPE_ADVICE, NOTHING_CHANGED)
    if len(unknown) > 1:
        message += " Other hosts with an unsupported hybrid_worker_type: %s." % ", ".join(
            "%s ('%s')" % (other, other_kind) for other, other_kind in unknown[1:])
    return sorted_hosts, message


def name_hosts(hosts, limit=10):
    hosts = sorted(hosts)
    if len(hosts) <= limit:
        return ", ".join(hosts)
    return "%s and %d more" % (", ".join(hosts[:limit]), len(hosts) - limit)


def agent_retirement_warning(agent_hosts):
    """The warning a run over agent-based hosts gives, or None when there are none."""
    if not agent_hosts:
        return None
    return ("%d host(s) use agent-based Hybrid Runbook Workers (hybrid_worker_type 'agent': %s), which Microsoft retired "
            "on 31 August 2024; their jobs stopped running from 1 April 2025. Move them to extension-based workers: set "
            "hybrid_worker_type to 'extension' and run the collection's migrate.yml." % (len(agent_hosts), name_hosts(agent_hosts)))


def group_problems(groups):
    """Hosts without a worker group, and group names Azure refuses; ``groups`` is {host: hybrid_runbook_worker_group}."""
    problems = []
    without_group = [host for host, group in groups.items() if not isinstance(group, str) or not group]
    if without_group:
        problems.append("%s: no hybrid_runbook_worker_group; set the worker group each host joins in the inventory "
                        "(a host or group variable)." % name_hosts(without_group))
    refused = {}
    for host, group in groups.items():
        if isinstance(group, str) and group and validate_group_name(group, "hybrid_runbook_worker_group"):
            refused.setdefault(group, []).append(host)
    for group in sorted(refused):
        problems.append("%s (hosts %s); choose a group name Azure accepts." % (
            validate_group_name(group, "hybrid_runbook_worker_group"), name_hosts(refused[group])))
    return problems


def extension_onboarding_problems(hosts):
    """What stops extension-based onboarding, one sentence per problem.

    ``hosts``: {host: {group, missing}}: the host's worker group (hybrid_worker_extension_group or
    hybrid_runbook_worker_group) and the Azure Arc inputs the arc_agent role needs that the host leaves empty
    (arc_agent_tenant_id, arc_agent_subscription_id, arc_agent_resource_group, arc_agent_location,
    arc_agent_service_principal_id, arc_agent_service_principal_secret).
    """
    problems = group_problems(dict((host, values.get("group")) for host, values in hosts.items()))
    by_missing = {}
    for host, values in hosts.items():
        if values.get("missing"):
            by_missing.setdefault(tuple(values["missing"]), []).append(host)
    for missing in sorted(by_missing, key=lambda names: sorted(by_missing[names])[0]):
        pronoun = "it" if len(missing) == 1 else "them"
        problems.append("%s: %s empty; connecting a host to Azure Arc needs %s, set %s in the inventory (a host or "
                        "group variable; keep arc_agent_service_principal_secret in a vault)." % (
                            name_hosts(by_missing[missing]), ", ".join(missing), pronoun, pronoun))
    return problems


def agent_onboarding_problems(hosts):
    """What stops agent-based onboarding, one sentence per problem.

    ``hosts``: {host: {group, installer_path, installer_checksum, validate_installer_checksum}} with the values of
    hybrid_runbook_worker_group and the log_analytics_agent_installer_* variables (None when not set).
    """
    problems = group_problems(dict((host, values.get("group")) for host, values in hosts.items()))
    unchecked = [host for host, values in hosts.items()
                 if not values.get("installer_path") and not values.get("installer_checksum")
                 and values.get("validate_installer_checksum") is not False]
    if unchecked:
        problems.append("%s: log_analytics_agent_installer_checksum is empty, and the agent is downloaded from "
                        "log_analytics_agent_installer_url, whose installer_checksum (the installer's SHA-256) is "
                        "required; set it, or give log_analytics_agent_installer_path, or set "
                        "log_analytics_agent_validate_installer_checksum to false." % name_hosts(unchecked))
    return problems
