#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the azure_automation.hybrid_worker collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: log_analytics_solution
short_description: Enable or disable a solution (intelligence pack) on a Log Analytics workspace
version_added: 0.1.0
description:
  - Turns a workspace intelligence pack on or off, by default C(AzureAutomation), the pack agent-based hybrid
    workers download their worker components through.
  - Uses the workspace's intelligence pack API, which toggles the same pack as an C(AzureAutomation(<workspace>))
    solution resource.
options:
  name:
    description: The intelligence pack name, matched case-insensitively (for example V(AzureAutomation), V(Updates)).
    type: str
    default: AzureAutomation
  workspace_name:
    description: The Log Analytics workspace.
    type: str
    required: true
  resource_group:
    description: The resource group of the workspace.
    type: str
    required: true
  state:
    description: V(present) enables the pack, V(absent) disables it.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - azure_automation.hybrid_worker.azure.modules
attributes:
  check_mode:
    support: full
    description: Reports whether the pack would be enabled or disabled without doing it.
  diff_mode:
    support: full
    description: Shows the pack's enabled flag before and after.
seealso:
  - module: azure_automation.hybrid_worker.log_analytics_workspace
author:
  - Hybrid worker collection maintainers (@azure-automation)
"""

EXAMPLES = r"""
- name: Enable the Azure Automation solution on the workspace
  azure_automation.hybrid_worker.log_analytics_solution:
    workspace_name: law-hybrid-workers
    resource_group: rg-automation

- name: Disable Update Management data collection
  azure_automation.hybrid_worker.log_analytics_solution:
    name: Updates
    workspace_name: law-hybrid-workers
    resource_group: rg-automation
    state: absent
"""

RETURN = r"""
solution:
  description: The intelligence pack after the change (or as it would be, in check mode).
  returned: always
  type: dict
  contains:
    name:
      description: The pack name as the service spells it.
      type: str
      returned: always
      sample: AzureAutomation
    enabled:
      description: Whether the pack is enabled.
      type: bool
      returned: always
      sample: true
    display_name:
      description: The pack's display name.
      type: str
      returned: when the service gives one
      sample: Automation
"""

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure import AzureModule
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure_rules import (
    collect_errors,
    validate_resource_group,
    validate_workspace_name,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.log_analytics import (  # noqa: F401 pylint: disable=unused-import
    ensure_solution,
    find_pack,
)


def validate_params(params):
    errors = [validate_workspace_name(params["workspace_name"]), validate_resource_group(params["resource_group"])]
    if not params["name"] or not params["name"].replace("_", "").isalnum():
        errors.append("name '%s' is not an intelligence pack name (letters, digits and '_')" % params["name"])
    return collect_errors(*errors)


def main():
    argument_spec = dict(
        name=dict(type="str", default="AzureAutomation"),
        workspace_name=dict(type="str", required=True),
        resource_group=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AzureModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    error = validate_params(params)
    if error:
        module.fail_json(msg="Invalid arguments for Log Analytics solution: %s" % error)

    client = module.client("loganalytics")
    changed, before, after = ensure_solution(module, client, params["resource_group"], params["workspace_name"],
                                             params["name"], params["state"])
    result = dict(changed=changed, solution=after)
    if module.diff_mode:
        result["diff"] = dict(before=dict(name=before["name"], enabled=before["enabled"]), after=dict(name=after["name"], enabled=after["enabled"]))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
