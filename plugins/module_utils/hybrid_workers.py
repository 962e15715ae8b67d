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


def credential_body(credential):
    """The group body for a credential name; an empty name clears it (credential null: no run-as account)."""
    return {"properties": {"credential": {"name": credential} if credential else None}}


def credential_change(current_credential, wanted):
    """True when ``wanted`` (None = leave alone, "" = clear) differs from the current credential name."""
    if wanted is None:
        return False
    return (current_credential or "") != wanted


def group_diff_view(group, workers):
    if not group:
        return {}
    return dict(name=group.get("name"), credential=group.get("credential"), workers=sorted(w["name"] for w in workers))


def ensure_group_present(module, client, params, now):
    """(changed, diff before, diff after, result) of hybrid worker group ``params["name"]``: created when missing,
    its credential set when asked, its workers pruned when asked (``prune_last_seen_days`` / ``prune_except``).

    With ``params["create_missing"]`` false a missing group is only reported: result ``missing`` true, nothing changed.
    """
    rg, account, name = params["resource_group"], params["automation_account"], params["name"]
    current = read_group(module, client, rg, account, name)
    if current is None and not params.get("create_missing", True):
        return False, {}, {}, dict(group={}, workers=[], pruned=[], missing=True)
    before = group_view(current)
    after = dict(before)
    changed = False
    if current is None:
        changed = True
        after = dict(name=name, credential=params.get("credential") or None)
        if not module.check_mode:
            body = credential_body(params["credential"]) if params.get("credential") else {"properties": {}}
            created = azure_call(module, lambda: client.hybrid_runbook_worker_group.create(rg, account, name, body),
                                 "create hybrid worker group '%s' in Automation account '%s'" % (name, account))
            after = group_view(as_rest_dict(created))
    elif credential_change(before.get("credential"), params.get("credential")):
        changed = True
        after = dict(before, credential=params["credential"] or None)
        if not module.check_mode:
            updated = azure_call(module, lambda: client.hybrid_runbook_worker_group.update(rg, account, name, credential_body(params["credential"])),
                                 "set the credential of hybrid worker group '%s'" % name)
            after = group_view(as_rest_dict(updated))

    workers = []
    if current is not None:
        workers = [worker_view(w, now, params["stale_after_minutes"]) for w in list_workers(module, client, rg, account, name)]
    pruned = []
    if params.get("prune_last_seen_days") is not None or params.get("prune_except") is not None:
        pruned = workers_to_prune(workers, now, params.get("prune_last_seen_days"), params.get("prune_except"))
        for worker in pruned:
            if not module.check_mode:
                azure_call(module, lambda w=worker: client.hybrid_runbook_workers.delete(rg, account, name, w["id"]),
                           "remove worker '%s' (%s) from hybrid worker group '%s'" % (worker["name"], worker["id"], name))
        changed = changed or bool(pruned)
    pruned_ids = set(w["id"] for w in pruned)
    remaining = [w for w in workers if w["id"] not in pruned_ids]
    return changed, group_diff_view(before, workers), group_diff_view(after, remaining), dict(group=after, workers=remaining, pruned=pruned)


def registration_result(account, registration):
    """The module result from the account and its agentRegistrationInformation REST bodies."""
    properties = account.get("properties") or {}
    endpoint = registration.get("endpoint") or properties.get("RegistrationUrl")
    keys = registration.get("keys") or {}
    return dict(
        account_resource_id=account.get("id"),
        account_id=(endpoint or "").rstrip("/").rsplit("/", 1)[-1] or None,
        registration_url=endpoint,
        automation_hybrid_service_url=properties.get("automationHybridServiceUrl"),
        primary_key=keys.get("primary"),
        secondary_key=keys.get("secondary"),
    )


def account_registration(account):
    """registration_result() without the agent registration request: what the account's own body says (its id and
    hybrid service URL), no URL or keys to register agents with."""
    return dict(registration_result(account, {}), account_id=None, registration_url=None)


def read_registration(module, client, resource_group, account_name, account):
    """The registration URL and keys of Automation account ``account`` (its REST body, already read)."""
    registration = azure_call(module, lambda: client.agent_registration_information.get(resource_group, account_name),
                              "read the agent registration information of Automation account '%s'" % account_name)
    return registration_result(account, as_rest_dict(registration))
