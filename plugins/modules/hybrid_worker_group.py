#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the azure_automation.hybrid_worker collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: hybrid_worker_group
short_description: Manage a Hybrid Runbook Worker group of an Automation account
version_added: 0.1.0
description:
  - Creates or deletes a user Hybrid Runbook Worker group, sets, changes or clears the credential asset its jobs
    run as, and optionally removes workers that stopped reporting or are no longer wanted.
  - Returns the group and its workers.
options:
  name:
    description: The group name.
    type: str
    required: true
  state:
    description:
      - Whether the group should exist.
      - Deleting a group first removes its worker records, as the service refuses to delete a group that has workers.
    type: str
    choices: [present, absent]
    default: present
  credential:
    description:
      - The name of an Automation credential asset that runbooks in this group run as.
      - An empty string clears it (jobs run as the worker's local system account). When omitted, it is left alone.
    type: str
  prune_last_seen_days:
    description:
      - Delete the group's workers whose last heartbeat is older than this many days (or that never reported).
    type: int
  prune_except:
    description:
      - Delete the group's workers whose name (the computer name) is not in this list. Names compare
        case-insensitively. An empty list deletes every worker of the group.
      - With O(prune_last_seen_days) as well, a worker is deleted when either rule selects it.
    type: list
    elements: str
  stale_after_minutes:
    description: Workers whose last heartbeat is older than this are flagged RV(workers[].stale) in the result.
    type: int
    default: 60
extends_documentation_fragment:
  - azure_automation.hybrid_worker.automation_account
  - azure_automation.hybrid_worker.azure.modules
attributes:
  check_mode:
    support: full
    description: Reports what would be created, changed or pruned without doing it.
  diff_mode:
    support: full
    description: Shows the group's credential and worker names before and after.
seealso:
  - module: azure_automation.hybrid_worker.hybrid_worker_group_info
  - module: azure_automation.hybrid_worker.hybrid_worker
author:
  - Hybrid worker collection maintainers (@azure-automation)
"""

EXAMPLES = r"""
- name: Create the group, jobs run as the credential asset svc-runbooks
  azure_automation.hybrid_worker.hybrid_worker_group:
    name: windows-workers
    resource_group: rg-automation
    automation_account: aa-hybrid-workers
    credential: svc-runbooks

- name: Keep only the servers of the inventory and drop workers silent for a week
  azure_automation.hybrid_worker.hybrid_worker_group:
    name: windows-workers
    resource_group: rg-automation
    automation_account: aa-hybrid-workers
    prune_last_seen_days: 7
    prune_except: "{{ groups['hybrid_workers'] | map('extract', hostvars, 'inventory_hostname_short') | list }}"

- name: Delete the group
  azure_automation.hybrid_worker.hybrid_worker_group:
    name: windows-workers
    resource_group: rg-automation
    automation_account: aa-hybrid-workers
    state: absent
"""

RETURN = r"""
group:
  description: The group after the change (or as it would be, in check mode). Empty when it is absent.
  returned: always
  type: dict
  contains:
    id:
      description: The group's resource id.
      type: str
      returned: when the group exists and was read from Azure
      sample: /subscriptions/0000/resourceGroups/rg/providers/Microsoft.Automation/automationAccounts/aa1/hybridRunbookWorkerGroups/g1
    name:
      description: The group name.
      type: str
      returned: when the group exists
      sample: windows-workers
    group_type:
      description: V(User) or V(System).
      type: str
      returned: when the group exists and was read from Azure
      sample: User
    credential:
      description: The credential asset name, null when none is set.
      type: str
      returned: when the group exists
      sample: svc-runbooks
workers:
  description: The group's workers after pruning.
  returned: when O(state=present)
  type: list
  elements: dict
  contains:
    id:
      description: The worker id (a GUID).
      type: str
      returned: always
    name:
      description: The worker (computer) name.
      type: str
      returned: always
    type:
      description: V(V1) (agent-based) or V(V2) (extension-based).
      type: str
      returned: always
    ip:
      description: The worker's IP address.
      type: str
      returned: always
    registered_date_time:
      description: When the worker registered.
      type: str
      returned: always
    last_seen_date_time:
      description: The worker's last heartbeat.
      type: str
      returned: always
    last_seen_minutes_ago:
      description: Minutes since the last heartbeat (null if it never reported).
      type: float
      returned: always
    vm_resource_id:
      description: The Azure VM or Arc server id of an extension-based worker.
      type: str
      returned: always
    stale:
      description: Whether the last heartbeat is older than O(stale_after_minutes).
      type: bool
      returned: always
pruned:
  description: The workers deleted (or that would be, in check mode), each with a RV(pruned[].prune_reason).
  returned: when O(state=present)
  type: list
  elements: dict
  contains:
    id:
      description: The worker id.
      type: str
      returned: always
    name:
      description: The worker (computer) name.
      type: str
      returned: always
      sample: OLDSRV01
    prune_reason:
      description: Why the worker was selected.
      type: str
      returned: always
      sample: last seen more than 7 days ago
"""

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure import (
    AzureModule,
    azure_call,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure_rules import (
    collect_errors,
    utc_now,
    validate_automation_account,
    validate_group_name,
    validate_at_least_one,
    validate_resource_group,
)
# The group logic lives in module_utils, shared with hybrid_worker_prerequisites.
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.hybrid_workers import (  # noqa: F401 pylint: disable=unused-import
    account_argument_spec,
    credential_body,
    credential_change,
    ensure_group_present as ensure_present,
    group_diff_view as diff_view,
    group_view,
    list_workers,
    read_group,
    require_account,
    worker_view,
)


def validate_params(params):
    errors = [
        validate_group_name(params["name"]),
        validate_resource_group(params["resource_group"]),
        validate_automation_account(params["automation_account"]),
    ]
    if params.get("prune_last_seen_days") is not None:
        errors.append(validate_at_least_one(params["prune_last_seen_days"], "prune_last_seen_days"))
    if params.get("prune_except") is not None and any(not name for name in params["prune_except"]):
        errors.append("prune_except must not contain empty names")
    errors.append(validate_at_least_one(params["stale_after_minutes"], "stale_after_minutes"))
    return collect_errors(*errors)


def ensure_absent(module, client, params, now):
    rg, account, name = params["resource_group"], params["automation_account"], params["name"]
    current = read_group(module, client, rg, account, name)
    if current is None:
        return False, {}, {}, dict(group={})
    workers = [worker_view(w, now, params["stale_after_minutes"]) for w in list_workers(module, client, rg, account, name)]
    before = diff_view(group_view(current), workers)
    if not module.check_mode:
        for worker in workers:
            azure_call(module, lambda w=worker: client.hybrid_runbook_workers.delete(rg, account, name, w["id"]),
                       "remove worker '%s' (%s) from hybrid worker group '%s'" % (worker["name"], worker["id"], name))
        azure_call(module, lambda: client.hybrid_runbook_worker_group.delete(rg, account, name),
                   "delete hybrid worker group '%s' of Automation account '%s'" % (name, account))
    return True, before, {}, dict(group={})


def main():
    argument_spec = account_argument_spec(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        credential=dict(type="str", no_log=False),
        prune_last_seen_days=dict(type="int"),
        prune_except=dict(type="list", elements="str"),
        stale_after_minutes=dict(type="int", default=60),
    )
    module = AzureModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    error = validate_params(params)
    if error:
        module.fail_json(msg="Invalid arguments for hybrid worker group: %s" % error)

    client = module.client("automation")
    require_account(module, client, params["resource_group"], params["automation_account"])
    now = utc_now()
    if params["state"] == "present":
        changed, before, after, result = ensure_present(module, client, params, now)
    else:
        changed, before, after, result = ensure_absent(module, client, params, now)
    result["changed"] = changed
    if module.diff_mode:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
