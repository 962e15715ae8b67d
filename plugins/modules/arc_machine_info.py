#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the azure_automation.hybrid_worker collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: arc_machine_info
short_description: Read Azure Arc-enabled servers
version_added: 0.1.0
description:
  - Reads one Azure Arc-enabled server (C(Microsoft.HybridCompute/machines)) by name, the servers of a resource group,
    or every server of the subscription.
  - A server exists in Azure once its Connected Machine agent has connected; its O(name) is the resource name chosen
    at connect time (by default the computer name).
  - One read for a resource group or the subscription, whatever the number of servers, extensions included, because
    a machine's answer carries its extensions in its read-only C(resources) property (C(Machine.resources) of the
    Microsoft.HybridCompute API). Only for a machine whose answer has no extensions there does
    O(include_extensions=true) read the machine's extensions with a request of its own, to confirm it.
options:
  name:
    description:
      - The Arc machine's resource name. Needs O(resource_group).
      - A machine that does not exist gives an empty RV(machines) list.
    type: str
  resource_group:
    description: The resource group of the machines. Without it, every machine of the subscription is listed.
    type: str
  include_extensions:
    description:
      - Also return each machine's extensions, taken from the machine's C(resources) property.
      - A machine whose answer lists no extension in C(resources) costs one more request, for its extensions.
    type: bool
    default: false
extends_documentation_fragment:
  - azure_automation.hybrid_worker.azure.modules
attributes:
  check_mode:
    support: full
    description: The module only reads.
  diff_mode:
    support: none
    description: Reads only, so there is nothing to compare.
seealso:
  - module: azure_automation.hybrid_worker.arc_machine_extension
author:
  - Hybrid worker collection maintainers (@azure-automation)
"""

EXAMPLES = r"""
- name: Read one Arc-enabled server
  azure_automation.hybrid_worker.arc_machine_info:
    resource_group: rg-servers
    name: web01
  register: arc

- name: Fail unless its agent is connected
  ansible.builtin.assert:
    that:
      - arc.machines | length == 1
      - arc.machines[0].status == 'Connected'

- name: All Arc-enabled servers of a resource group, with their extensions
  azure_automation.hybrid_worker.arc_machine_info:
    resource_group: rg-servers
    include_extensions: true
  register: fleet
"""

RETURN = r"""
machines:
  description: The machines found, sorted by resource id.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The machine's resource id (what C(vm_resource_id) of a worker record takes).
      type: str
      sample: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-servers/providers/Microsoft.HybridCompute/machines/web01
    name:
      description: The resource name.
      type: str
      sample: web01
    resource_group:
      description: The resource group.
      type: str
    location:
      description: The Azure region of the resource.
      type: str
      sample: westeurope
    tags:
      description: The resource tags.
      type: dict
    status:
      description: The agent's status as Azure sees it.
      type: str
      sample: Connected
      choices: [Connected, Disconnected, Error, AwaitingConnection]
    last_status_change:
      description: When the status last changed.
      type: str
    provisioning_state:
      description: The resource's provisioning state.
      type: str
    agent_version:
      description: The Connected Machine agent version.
      type: str
    os_name:
      description: The operating system name.
      type: str
    os_type:
      description: The operating system type (V(windows) or V(linux)).
      type: str
    os_version:
      description: The operating system version.
      type: str
    os_sku:
      description: The operating system product SKU.
      type: str
    computer_name:
      description: The host's computer name.
      type: str
    dns_fqdn:
      description: The host's DNS name.
      type: str
    domain_name:
      description: The host's Windows domain.
      type: str
    vm_id:
      description: The unique id Azure Arc gave the machine.
      type: str
    vm_uuid:
      description: The machine's SMBIOS id.
      type: str
    identity_principal_id:
      description: The principal id of the machine's system-assigned managed identity.
      type: str
    extensions:
      description: The machine's extensions (see RV(azure_automation.hybrid_worker.arc_machine_extension#module:extension)).
      type: list
      elements: dict
      returned: with O(include_extensions=true)
"""

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure import (
    AzureModule,
    as_rest_dict,
    azure_call,
    get_or_none,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure_rules import (
    collect_errors,
    validate_resource_group,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.arc_machines import (
    machine_view,
    validate_machine_name,
)


def validate_params(params):
    errors = []
    if params.get("name") is not None:
        errors.append(validate_machine_name(params["name"], "name"))
        if not params.get("resource_group"):
            errors.append("name needs resource_group")
    if params.get("resource_group") is not None:
        errors.append(validate_resource_group(params["resource_group"]))
    return collect_errors(*errors)


def read_machines(module, client, params):
    rg, name = params.get("resource_group"), params.get("name")
    if name:
        machine = get_or_none(module, lambda: client.machines.get(rg, name), "Arc machine '%s' in resource group '%s'" % (name, rg))
        return [machine] if machine else []
    if rg:
        return azure_call(module, lambda: [as_rest_dict(m) for m in client.machines.list_by_resource_group(rg)],
                          "list the Arc machines of resource group '%s'" % rg)
    return azure_call(module, lambda: [as_rest_dict(m) for m in client.machines.list_by_subscription()],
                      "list the Arc machines of subscription '%s'" % module.subscription_id)


def read_extensions(module, client, machine):
    # Machine.resources is read-only and lists the machine's extensions: it comes with the machine (also in a
    # listing), so a converged fleet costs one request. The spec does not say whether a listing always fills it
    # (its $expand "expands referenced resources"), so an empty or missing list is confirmed by the machine's own
    # extension listing: a machine that looks drifted costs one more read, a wrong "extension missing" none.
    listed = machine.get("resources")
    if isinstance(listed, list) and listed:
        return listed
    view = machine_view(machine)
    return azure_call(
        module, lambda: [as_rest_dict(e) for e in client.machine_extensions.list(view["resource_group"], view["name"])],
        "list the extensions of Arc machine '%s'" % view["name"])


def main():
    module = AzureModule(
        argument_spec=dict(
            name=dict(type="str"),
            resource_group=dict(type="str"),
            include_extensions=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    error = validate_params(params)
    if error:
        module.fail_json(msg="Invalid arguments for Arc machine info: %s" % error)
    client = module.client("hybridcompute")
    machines = sorted(read_machines(module, client, params), key=lambda m: (m.get("id") or "").lower())
    views = []
    for machine in machines:
        extensions = read_extensions(module, client, machine) if params["include_extensions"] else None
        views.append(machine_view(machine, extensions))
    module.exit_json(changed=False, machines=views)


if __name__ == "__main__":
    main()
