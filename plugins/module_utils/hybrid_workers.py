# -*- coding: utf-8 -*-
# Copyright: contributors to the azure_automation.hybrid_worker collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Automation account, hybrid worker group and worker functions shared by the account-scoped modules."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure import (
    as_rest_dict,
    azure_call,
    get_or_none,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure_rules import (
    age_minutes,
    is_stale,
)

WORKER_TYPES = {"hybridv1": "V1", "hybridv2": "V2"}


def account_argument_spec(**options):
    """The options of the ``automation_account`` doc fragment, plus a module's own."""
    spec = dict(
        resource_group=dict(type="str", required=True),
        automation_account=dict(type="str", required=True),
    )
    spec.update(options)
    return spec


def require_account(module, client, resource_group, account):
    """The Automation account (REST dict); a missing one fails with a sentence naming it.

    Reading the account first tells "account missing" apart from "group missing": the Automation provider answers
    both with the same flat 404.
    """
    found = get_or_none(module, lambda: client.automation_account.get(resource_group, account), "Automation account '%s'" % account)
    if found is None:
        module.fail_json(msg="Automation account '%s' was not found in resource group '%s'" % (account, resource_group))
    return found


def read_group(module, client, resource_group, account, name):
    return get_or_none(
        module,
        lambda: client.hybrid_runbook_worker_group.get(resource_group, account, name),
        "hybrid worker group '%s' of Automation account '%s'" % (name, account))


def list_groups(module, client, resource_group, account):
    return azure_call(
        module,
        lambda: [as_rest_dict(g) for g in client.hybrid_runbook_worker_group.list_by_automation_account(resource_group, account)],
        "list the hybrid worker groups of Automation account '%s'" % account)


def list_workers(module, client, resource_group, account, group):
    return azure_call(
        module,
        lambda: [as_rest_dict(w) for w in client.hybrid_runbook_workers.list_by_hybrid_runbook_worker_group(resource_group, account, group)],
        "list the workers of hybrid worker group '%s'" % group)


def group_view(group):
    if not group:
        return {}
    properties = group.get("properties") or {}
    credential = (properties.get("credential") or {}).get("name") or None
    return dict(
        id=group.get("id"),
        name=group.get("name"),
        group_type=properties.get("groupType"),
        credential=credential,
    )


def worker_view(worker, now, stale_after_minutes):
    """The module's view of a worker REST body, with its heartbeat age and a stale flag."""
    properties = worker.get("properties") or {}
    last_seen = properties.get("lastSeenDateTime")
    worker_type = properties.get("workerType") or ""
    return dict(
        id=worker.get("name"),
        name=properties.get("workerName") or worker.get("name"),
        type=WORKER_TYPES.get(worker_type.lower(), worker_type or None),
        ip=properties.get("ip"),
        registered_date_time=properties.get("registeredDateTime"),
        last_seen_date_time=last_seen,
        last_seen_minutes_ago=age_minutes(last_seen, now),
        vm_resource_id=properties.get("vmResourceId") or None,
        stale=is_stale(last_seen, now, stale_after_minutes),
    )


def workers_to_prune(workers, now, prune_last_seen_days=None, prune_except=None):
    """Worker views to delete: not seen for more than N days, or (when a list is given) not named in it.

    Names compare case-insensitively: Windows computer names are.
    """
    keep = None if prune_except is None else set(name.lower() for name in prune_except)
    selected = []
    for worker in workers:
        reasons = []
        if prune_last_seen_days is not None:
            age = age_minutes(worker.get("last_seen_date_time"), now)
            if age is None or age > prune_last_seen_days * 24 * 60:
                reasons.append("last seen more than %s days ago" % prune_last_seen_days)
        if keep is not None and (worker.get("name") or "").lower() not in keep:
            reasons.append("not in prune_except")
        if reasons:
            selected.append(dict(worker, prune_reason=", ".join(reasons)))
    return selected
