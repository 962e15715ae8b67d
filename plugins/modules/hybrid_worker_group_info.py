#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the azure_automation.hybrid_worker collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: hybrid_worker_group_info
short_description: List the Hybrid Runbook Worker groups of an Automation account with their workers
version_added: 0.1.0
description:
  - Returns every worker group of an Automation account (or the named ones) with their workers, each worker's
    type, address, registration and heartbeat times, and whether it is stale.
  - Reads one page of groups plus one list per group, whatever the number of workers.
options:
  name:
    description: Only these groups. A name that does not exist is reported in RV(missing) instead of failing.
    type: list
    elements: str
  stale_after_minutes:
    description: Workers whose last heartbeat is older than this are flagged RV(groups[].workers[].stale).
    type: int
    default: 60
extends_documentation_fragment:
  - azure_automation.hybrid_worker.automation_account
  - azure_automation.hybrid_worker.azure.modules
attributes:
  check_mode:
    support: full
    description: Reads only.
  diff_mode:
    support: none
    description: Changes nothing, so there is nothing to compare.
seealso:
  - module: azure_automation.hybrid_worker.hybrid_worker_group
author:
  - Hybrid worker collection maintainers (@azure-automation)
"""

EXAMPLES = r"""
- name: Read every worker group
  azure_automation.hybrid_worker.hybrid_worker_group_info:
    resource_group: rg-automation
    automation_account: aa-hybrid-workers
  register: worker_groups

- name: Fail when a worker stopped reporting
  ansible.builtin.assert:
    that: worker_groups.groups | map(attribute='workers') | flatten | selectattr('stale') | list | length == 0
"""

RETURN = r"""
groups:
  description: The groups, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The group's resource id.
      type: str
      returned: always
    name:
      description: The group name.
      type: str
      returned: always
      sample: windows-workers
    group_type:
      description: V(User) or V(System).
      type: str
      returned: always
      sample: User
    credential:
      description: The credential asset name, null when none is set.
      type: str
      returned: always
    workers:
      description: The group's workers, sorted by name.
      type: list
      elements: dict
      returned: always
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
          description: Whether the last heartbeat is older than O(stale_after_minutes) (or missing).
          type: bool
          returned: always
missing:
  description: Names from O(name) that are not groups of the account.
  returned: always
  type: list
  elements: str
  sample: []
"""

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure import AzureModule
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure_rules import (
    collect_errors,
    utc_now,
    validate_automation_account,
    validate_group_name,
    validate_at_least_one,
    validate_resource_group,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.hybrid_workers import (
    account_argument_spec,
    group_view,
    list_groups,
    list_workers,
    require_account,
    worker_view,
)


def validate_params(params):
    errors = [validate_resource_group(params["resource_group"]), validate_automation_account(params["automation_account"])]
    for name in params.get("name") or []:
        errors.append(validate_group_name(name))
    errors.append(validate_at_least_one(params["stale_after_minutes"], "stale_after_minutes"))
    return collect_errors(*errors)


def select_groups(groups, names):
    """(groups to report, requested names not found); names compare case-insensitively like ARM."""
    if names is None:
        return sorted(groups, key=lambda g: (g.get("name") or "").lower()), []
    by_name = dict(((g.get("name") or "").lower(), g) for g in groups)
    chosen = [by_name[n.lower()] for n in names if n.lower() in by_name]
    missing = [n for n in names if n.lower() not in by_name]
    return chosen, missing


def main():
    argument_spec = account_argument_spec(
        name=dict(type="list", elements="str"),
        stale_after_minutes=dict(type="int", default=60),
    )
    module = AzureModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    error = validate_params(params)
    if error:
        module.fail_json(msg="Invalid arguments for hybrid worker group info: %s" % error)

    client = module.client("automation")
    rg, account = params["resource_group"], params["automation_account"]
    require_account(module, client, rg, account)
    chosen, missing = select_groups(list_groups(module, client, rg, account), params.get("name"))
    now = utc_now()
    groups = []
    for group in chosen:
        view = group_view(group)
        workers = [worker_view(w, now, params["stale_after_minutes"]) for w in list_workers(module, client, rg, account, view["name"])]
        view["workers"] = sorted(workers, key=lambda w: (w["name"] or "").lower())
        groups.append(view)
    module.exit_json(changed=False, groups=groups, missing=missing)


if __name__ == "__main__":
    main()
