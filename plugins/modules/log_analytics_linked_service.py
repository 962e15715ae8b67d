#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the azure_automation.hybrid_worker collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: log_analytics_linked_service
short_description: Link a Log Analytics workspace to an Automation account
version_added: 0.1.0
description:
  - Makes sure the workspace's C(Automation) linked service points at the given Automation account, or that the
    workspace has no such link.
  - A workspace links to at most one Automation account; pointing the link at another account replaces it.
  - Deleting waits until the link is really gone, because the service answers the delete before it is.
options:
  workspace_name:
    description: The Log Analytics workspace.
    type: str
    required: true
  resource_group:
    description: The resource group of the workspace.
    type: str
    required: true
  automation_account:
    description: The Automation account to link. Required with O(state=present).
    type: str
  automation_account_resource_group:
    description: The resource group of the Automation account, when it differs from O(resource_group).
    type: str
  state:
    description: Whether the link should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - azure_automation.hybrid_worker.azure.modules
attributes:
  check_mode:
    support: full
    description: Reports whether the link would be created, changed or deleted without doing it.
  diff_mode:
    support: full
    description: Shows the linked account's resource id before and after.
seealso:
  - module: azure_automation.hybrid_worker.log_analytics_workspace
author:
  - Hybrid worker collection maintainers (@azure-automation)
"""

EXAMPLES = r"""
- name: Link the workspace to the Automation account
  azure_automation.hybrid_worker.log_analytics_linked_service:
    workspace_name: law-hybrid-workers
    resource_group: rg-automation
    automation_account: aa-hybrid-workers

- name: Remove the link
  azure_automation.hybrid_worker.log_analytics_linked_service:
    workspace_name: law-hybrid-workers
    resource_group: rg-automation
    state: absent
"""

RETURN = r"""
linked_service:
  description: The link after the change (or as it would be, in check mode). Empty when it is absent.
  returned: always
  type: dict
  contains:
    id:
      description: The linked service's resource id.
      type: str
      returned: when the link exists and was read from Azure
      sample: /subscriptions/0000/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/law1/linkedServices/Automation
    name:
      description: The linked service name, C(<workspace>/Automation).
      type: str
      returned: when the link exists
      sample: law1/Automation
    resource_id:
      description: The resource id of the linked Automation account.
      type: str
      returned: when the link exists
      sample: /subscriptions/0000/resourceGroups/rg/providers/Microsoft.Automation/automationAccounts/aa1
    provisioning_state:
      description: The link's provisioning state.
      type: str
      returned: when the link exists and was read from Azure
      sample: Succeeded
"""

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure import AzureModule
# The link logic lives in module_utils, shared with hybrid_worker_prerequisites.
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.log_analytics import (  # noqa: F401 pylint: disable=unused-import
    LINK_NAME,
    ensure_link_absent,
    ensure_link_present,
    is_lingering,
    link_view,
    validate_link_params as validate_params,
)


def main():
    argument_spec = dict(
        workspace_name=dict(type="str", required=True),
        resource_group=dict(type="str", required=True),
        automation_account=dict(type="str"),
        automation_account_resource_group=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AzureModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    error = validate_params(params)
    if error:
        module.fail_json(msg="Invalid arguments for Log Analytics linked service: %s" % error)

    client = module.client("loganalytics")
    if params["state"] == "present":
        changed, before, after = ensure_link_present(module, client, params)
    else:
        changed, before, after = ensure_link_absent(module, client, params)
    result = dict(changed=changed, linked_service=after)
    if module.diff_mode:
        result["diff"] = dict(before=dict(resource_id=before.get("resource_id")) if before else {},
                              after=dict(resource_id=after.get("resource_id")) if after else {})
    module.exit_json(**result)


if __name__ == "__main__":
    main()
