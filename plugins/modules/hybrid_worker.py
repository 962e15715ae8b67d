#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the azure_automation.hybrid_worker collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: hybrid_worker
short_description: Add, move or remove an extension-based Hybrid Runbook Worker record
version_added: 0.1.0
description:
  - Makes sure an Azure VM or Arc-enabled server is a worker of a Hybrid Runbook Worker group (the record the
    Hybrid Worker extension then attaches to), or that it is not.
  - When the machine is already a worker of another group of the account, V(present) moves it.
  - The worker id defaults to a GUID derived from O(vm_resource_id), so re-runs find the same record. A worker of
    the machine created under another id is found by its VM resource id and kept.
options:
  group:
    description: The worker group.
    type: str
    required: true
  vm_resource_id:
    description:
      - The resource id of the Azure VM or Arc-enabled server. Required with O(state=present).
      - It cannot change for an existing worker id.
    type: str
  worker_id:
    description:
      - The worker id (a GUID). Defaults to a name-based UUID (version 5) of the lower-cased O(vm_resource_id).
    type: str
  state:
    description: Whether the machine should be a worker of O(group).
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - azure_automation.hybrid_worker.automation_account
  - azure_automation.hybrid_worker.azure.modules
attributes:
  check_mode:
    support: full
    description: Reports whether the worker would be created, moved or removed without doing it.
  diff_mode:
    support: full
    description: Shows the worker's group and VM before and after.
seealso:
  - module: azure_automation.hybrid_worker.hybrid_worker_group
author:
  - Hybrid worker collection maintainers (@azure-automation)
"""

EXAMPLES = r"""
- name: Make the Arc-enabled server a worker of the group
  azure_automation.hybrid_worker.hybrid_worker:
    group: windows-workers
    resource_group: rg-automation
    automation_account: aa-hybrid-workers
    vm_resource_id: /subscriptions/{{ subscription_id }}/resourceGroups/rg-servers/providers/Microsoft.HybridCompute/machines/web01

- name: Remove it
  azure_automation.hybrid_worker.hybrid_worker:
    group: windows-workers
    resource_group: rg-automation
    automation_account: aa-hybrid-workers
    vm_resource_id: /subscriptions/{{ subscription_id }}/resourceGroups/rg-servers/providers/Microsoft.HybridCompute/machines/web01
    state: absent
"""

RETURN = r"""
worker:
  description: The worker after the change (or as it would be, in check mode). Empty when it is absent.
  returned: always
  type: dict
  contains:
    id:
      description: The worker id.
      type: str
      returned: when the worker exists
      sample: 5b0c3ad4-7d2b-5a1e-9f0e-2f1f3c4d5e6f
    group:
      description: The group it belongs to.
      type: str
      returned: when the worker exists
      sample: windows-workers
    name:
      description: The worker (computer) name, once the extension reported.
      type: str
      returned: when the worker exists
    type:
      description: V(V1) or V(V2).
      type: str
      returned: when the worker exists
      sample: V2
    vm_resource_id:
      description: The machine's resource id.
      type: str
      returned: when the worker exists
    ip:
      description: The worker's IP address, once reported.
      type: str
      returned: when the worker exists
    last_seen_date_time:
      description: The last heartbeat, once reported.
      type: str
      returned: when the worker exists
moved_from:
  description: The group the worker was moved from.
  returned: when a move happened (or would, in check mode)
  type: str
  sample: old-workers
"""

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure import (
    AzureModule,
    as_rest_dict,
    azure_call,
    get_or_none,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure_rules import (
    collect_errors,
    same_id,
    utc_now,
    validate_automation_account,
    validate_group_name,
    validate_resource_group,
    validate_vm_resource_id,
    validate_worker_id,
    worker_id_for_vm,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.hybrid_workers import (
    account_argument_spec,
    list_groups,
    list_workers,
    read_group,
    require_account,
    worker_view,
)


def validate_params(params):
    errors = [
        validate_group_name(params["group"], "group"),
        validate_resource_group(params["resource_group"]),
        validate_automation_account(params["automation_account"]),
    ]
    if params.get("vm_resource_id"):
        errors.append(validate_vm_resource_id(params["vm_resource_id"]))
    elif params["state"] == "present":
        errors.append("vm_resource_id is required with state=present")
    elif not params.get("worker_id"):
        errors.append("state=absent needs vm_resource_id or worker_id")
    if params.get("worker_id"):
        errors.append(validate_worker_id(params["worker_id"]))
    return collect_errors(*errors)


def shaped(worker, group, now):
    view = worker_view(worker, now, 60)
    return dict(id=view["id"], group=group, name=view["name"], type=view["type"], vm_resource_id=view["vm_resource_id"],
                ip=view["ip"], last_seen_date_time=view["last_seen_date_time"])


def matches(worker, worker_id, vm_resource_id):
    """A worker record is this machine's: same id, or (without an explicit id) the same VM."""
    if same_id(worker.get("name"), worker_id):
        return True
    return bool(vm_resource_id) and same_id((worker.get("properties") or {}).get("vmResourceId"), vm_resource_id)


def find_in_group(workers, worker_id, vm_resource_id):
    by_id = [w for w in workers if same_id(w.get("name"), worker_id)]
    if by_id:
        return by_id[0]
    by_vm = [w for w in workers if matches(w, None, vm_resource_id)]
    return by_vm[0] if by_vm else None


def locate(module, client, params, worker_id):
    """(group name, worker REST dict) of this machine's record anywhere in the account, or (None, None).

    The target group is checked first with one GET, so a converged run costs no list calls.
    """
    rg, account, group = params["resource_group"], params["automation_account"], params["group"]
    direct = get_or_none(module, lambda: client.hybrid_runbook_workers.get(rg, account, group, worker_id),
                         "worker '%s' of hybrid worker group '%s'" % (worker_id, group))
    if direct is not None:
        return group, direct
    if read_group(module, client, rg, account, group) is None:
        module.fail_json(msg="Hybrid worker group '%s' was not found in Automation account '%s'" % (group, account))
    vm_id = params.get("vm_resource_id") if not params.get("worker_id") else None
    if vm_id:
        found = find_in_group(list_workers(module, client, rg, account, group), worker_id, vm_id)
        if found is not None:
            return group, found
    for other in list_groups(module, client, rg, account):
        name = other.get("name")
        if same_id(name, group):
            continue
        found = find_in_group(list_workers(module, client, rg, account, name), worker_id, params.get("vm_resource_id"))
        if found is not None:
            return name, found
    return None, None


def ensure_present(module, client, params, worker_id, now):
    rg, account, group = params["resource_group"], params["automation_account"], params["group"]
    vm_id = params["vm_resource_id"]
    current_group, current = locate(module, client, params, worker_id)
    if current is not None:
        current_vm = (current.get("properties") or {}).get("vmResourceId")
        if current_vm and not same_id(current_vm, vm_id):
            module.fail_json(msg="Worker '%s' in hybrid worker group '%s' belongs to %s; the VM of a worker cannot change"
                             " (remove it first or choose another worker_id)" % (current.get("name"), current_group, current_vm))
        before = shaped(current, current_group, now)
        if same_id(current_group, group):
            return False, before, before, {}
        after = dict(before, group=group)
        if not module.check_mode:
            move_body = {"hybridRunbookWorkerGroupName": group}
            azure_call(module, lambda: client.hybrid_runbook_workers.move(rg, account, current_group, current["name"], move_body),
                       "move worker '%s' from hybrid worker group '%s' to '%s'" % (current["name"], current_group, group))
            moved = get_or_none(module, lambda: client.hybrid_runbook_workers.get(rg, account, group, current["name"]),
                                "worker '%s' of hybrid worker group '%s'" % (current["name"], group))
            after = shaped(moved, group, now) if moved else after
        return True, before, after, dict(moved_from=current_group)

    after = dict(id=worker_id, group=group, name=None, type="V2", vm_resource_id=vm_id, ip=None, last_seen_date_time=None)
    if not module.check_mode:
        created = azure_call(module, lambda: client.hybrid_runbook_workers.create(rg, account, group, worker_id, {"properties": {"vmResourceId": vm_id}}),
                             "add %s as worker '%s' to hybrid worker group '%s'" % (vm_id, worker_id, group))
        after = shaped(as_rest_dict(created), group, now)
    return True, {}, after, {}


def ensure_absent(module, client, params, worker_id, now):
    rg, account, group = params["resource_group"], params["automation_account"], params["group"]
    current = get_or_none(module, lambda: client.hybrid_runbook_workers.get(rg, account, group, worker_id),
                          "worker '%s' of hybrid worker group '%s'" % (worker_id, group))
    if current is None and params.get("vm_resource_id") and not params.get("worker_id"):
        if read_group(module, client, rg, account, group) is None:
            return False, {}, {}, {}
        current = find_in_group(list_workers(module, client, rg, account, group), worker_id, params["vm_resource_id"])
    if current is None:
        return False, {}, {}, {}
    before = shaped(current, group, now)
    if not module.check_mode:
        azure_call(module, lambda: client.hybrid_runbook_workers.delete(rg, account, group, current["name"]),
                   "remove worker '%s' from hybrid worker group '%s'" % (current["name"], group))
    return True, before, {}, {}


def diff_view(view):
    return dict(id=view.get("id"), group=view.get("group"), vm_resource_id=view.get("vm_resource_id")) if view else {}


def main():
    argument_spec = account_argument_spec(
        group=dict(type="str", required=True),
        vm_resource_id=dict(type="str"),
        worker_id=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AzureModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    error = validate_params(params)
    if error:
        module.fail_json(msg="Invalid arguments for hybrid worker: %s" % error)

    worker_id = (params.get("worker_id") or worker_id_for_vm(params["vm_resource_id"])).lower()
    client = module.client("automation")
    require_account(module, client, params["resource_group"], params["automation_account"])
    now = utc_now()
    if params["state"] == "present":
        changed, before, after, extra = ensure_present(module, client, params, worker_id, now)
    else:
        changed, before, after, extra = ensure_absent(module, client, params, worker_id, now)
    result = dict(changed=changed, worker=after, **extra)
    if module.diff_mode:
        result["diff"] = dict(before=diff_view(before), after=diff_view(after))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
