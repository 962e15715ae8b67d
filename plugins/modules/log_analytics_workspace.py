#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the azure_automation.hybrid_worker collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: log_analytics_workspace
short_description: Create, update or delete a Log Analytics workspace
version_added: 0.1.0
description:
  - Makes sure a Log Analytics workspace exists with the given pricing tier, retention, daily cap and tags, or that
    it does not exist.
  - Creating a workspace waits until its provisioning state is C(Succeeded); deleting waits until it is gone.
  - The tier is compared case-insensitively, because the service reports it in lower case.
options:
  name:
    description: The workspace name (4-63 letters, digits or hyphens, starting and ending with a letter or digit).
    type: str
    required: true
  resource_group:
    description: The resource group of the workspace. It must exist.
    type: str
    required: true
  state:
    description: Whether the workspace should exist.
    type: str
    choices: [present, absent]
    default: present
  location:
    description:
      - The Azure region, for example C(westeurope). Required to create the workspace.
      - A workspace cannot move; a different region than the existing workspace's is an error.
    type: str
  sku:
    description:
      - The pricing tier, one of C(Free), C(Standard), C(Premium), C(PerNode), C(PerGB2018), C(Standalone),
        C(CapacityReservation), in any letter case (the service reports it in lower case).
      - When omitted, a new workspace gets V(PerGB2018) and an existing one keeps its tier.
    type: str
  retention_in_days:
    description:
      - How long data is kept, 30 to 730 days. The V(Free) tier always keeps 7 days.
      - When omitted, the service default applies to a new workspace and an existing one keeps its value.
    type: int
  daily_quota_gb:
    description: The daily ingestion cap in GB; V(-1) means no cap. When omitted, the current value is kept.
    type: float
  tags:
    description: Tags of the workspace. When omitted, the tags are left alone.
    type: dict
  purge_tags:
    description: Remove tags that are not in O(tags). Only used when O(tags) is given.
    type: bool
    default: true
  force_delete:
    description: Delete the workspace permanently instead of keeping it recoverable for 14 days.
    type: bool
    default: false
  return_shared_keys:
    description:
      - Add the workspace's primary and secondary shared keys to the result (RV(shared_keys)).
      - The keys are secrets; set C(no_log) on the task.
    type: bool
    default: false
extends_documentation_fragment:
  - azure_automation.hybrid_worker.azure.modules
attributes:
  check_mode:
    support: full
    description: Reports what would change without creating, updating or deleting anything.
  diff_mode:
    support: full
    description: Shows the workspace's settings before and after (never the keys).
seealso:
  - module: azure_automation.hybrid_worker.log_analytics_solution
  - module: azure_automation.hybrid_worker.log_analytics_linked_service
author:
  - Hybrid worker collection maintainers (@azure-automation)
"""

EXAMPLES = r"""
- name: Make sure the workspace for the hybrid workers exists
  azure_automation.hybrid_worker.log_analytics_workspace:
    name: law-hybrid-workers
    resource_group: rg-automation
    location: westeurope
    sku: PerGB2018
    retention_in_days: 30
    tags:
      purpose: hybrid-workers

- name: Read the workspace id and keys the agents need
  azure_automation.hybrid_worker.log_analytics_workspace:
    name: law-hybrid-workers
    resource_group: rg-automation
    location: westeurope
    return_shared_keys: true
  register: workspace
  no_log: true

- name: Delete the workspace
  azure_automation.hybrid_worker.log_analytics_workspace:
    name: law-hybrid-workers
    resource_group: rg-automation
    state: absent
"""

RETURN = r"""
workspace:
  description: The workspace after the change (or as it would be, in check mode). Empty when it is absent.
  returned: always
  type: dict
  contains:
    id:
      description: The workspace's resource id.
      type: str
      returned: when the workspace exists
      sample: /subscriptions/0000/resourceGroups/rg-automation/providers/Microsoft.OperationalInsights/workspaces/law1
    name:
      description: The workspace name.
      type: str
      returned: when the workspace exists
      sample: law1
    customer_id:
      description: The workspace ID (a GUID) that agents use to send data.
      type: str
      returned: when the workspace exists
      sample: 6f1c2d3e-0000-4a5b-9c8d-112233445566
    location:
      description: The region.
      type: str
      returned: when the workspace exists
      sample: westeurope
    sku:
      description: The pricing tier.
      type: str
      returned: when the workspace exists
      sample: PerGB2018
    retention_in_days:
      description: The data retention in days.
      type: int
      returned: when the workspace exists
      sample: 30
    daily_quota_gb:
      description: The daily ingestion cap in GB (-1 for none).
      type: float
      returned: when the workspace exists
      sample: -1.0
    provisioning_state:
      description: The provisioning state.
      type: str
      returned: when the workspace exists
      sample: Succeeded
    tags:
      description: The tags.
      type: dict
      returned: when the workspace exists
      sample: {purpose: hybrid-workers}
shared_keys:
  description: The workspace's shared keys. Secret.
  returned: when O(return_shared_keys=true) and the workspace exists (not in check mode before creation)
  type: dict
  contains:
    primary_shared_key:
      description: The primary key.
      type: str
      returned: always
    secondary_shared_key:
      description: The secondary key.
      type: str
      returned: always
"""

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure import AzureModule
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure_rules import WORKSPACE_SKUS, canonical_choice
# The workspace logic lives in module_utils, shared with hybrid_worker_prerequisites; the names below are this
# module's own API (and what its unit tests call).
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.log_analytics import (  # noqa: F401 pylint: disable=unused-import
    creation_body,
    ensure_workspace_absent as ensure_absent,
    ensure_workspace_present as ensure_present,
    location_conflict,
    read_shared_keys,
    update_patch,
    validate_workspace_params as validate_params,
    workspace_diff_view as diff_view,
    workspace_view,
)


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        resource_group=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        location=dict(type="str"),
        sku=dict(type="str"),
        retention_in_days=dict(type="int"),
        daily_quota_gb=dict(type="float"),
        tags=dict(type="dict"),
        purge_tags=dict(type="bool", default=True),
        force_delete=dict(type="bool", default=False),
        return_shared_keys=dict(type="bool", default=False, no_log=False),
    )
    module = AzureModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    error = validate_params(params)
    if error:
        module.fail_json(msg="Invalid arguments for Log Analytics workspace: %s" % error)
    if params.get("sku"):
        params["sku"] = canonical_choice(params["sku"], WORKSPACE_SKUS)

    client = module.client("loganalytics")
    if params["state"] == "present":
        changed, before, after = ensure_present(module, client, params)
    else:
        changed, before, after = ensure_absent(module, client, params)

    result = dict(changed=changed, workspace=after)
    if module.diff_mode:
        result["diff"] = dict(before=diff_view(before), after=diff_view(after))
    if params["return_shared_keys"] and after.get("id") and params["state"] == "present":
        result["shared_keys"] = read_shared_keys(module, client, params)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
