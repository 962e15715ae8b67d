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

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure import (
    AzureModule,
    azure_call,
    get_or_none,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure_rules import (
    collect_errors,
    same_id,
    validate_automation_account,
    validate_resource_group,
    validate_workspace_name,
)

LINK_NAME = "Automation"


def validate_params(params):
    errors = [validate_workspace_name(params["workspace_name"]), validate_resource_group(params["resource_group"])]
    if params["state"] == "present":
        if not params.get("automation_account"):
            errors.append("automation_account is required with state=present")
        else:
            errors.append(validate_automation_account(params["automation_account"]))
    if params.get("automation_account_resource_group"):
        errors.append(validate_resource_group(params["automation_account_resource_group"]))
    return collect_errors(*errors)


def link_view(link):
    if not link:
        return {}
    properties = link.get("properties") or {}
    return dict(
        id=link.get("id"),
        name=link.get("name"),
        resource_id=properties.get("resourceId"),
        provisioning_state=properties.get("provisioningState"),
    )


def is_lingering(link):
    """A link the service is still deleting counts as gone: it will disappear without another request."""
    state = ((link or {}).get("properties") or {}).get("provisioningState") or ""
    return state.lower() == "deleting"


def read_link(module, client, params):
    link = get_or_none(
        module,
        lambda: client.linked_services.get(params["resource_group"], params["workspace_name"], LINK_NAME),
        "the Automation link of Log Analytics workspace '%s'" % params["workspace_name"])
    return link


def wait_until_gone(module, client, params):
    module.wait_for(lambda: read_link(module, client, params), lambda link: link is None,
                    "the Automation link of workspace '%s' to be deleted" % params["workspace_name"])


def require_workspace(module, client, params, missing_ok=False):
    workspace = get_or_none(
        module,
        lambda: client.workspaces.get(params["resource_group"], params["workspace_name"]),
        "Log Analytics workspace '%s'" % params["workspace_name"])
    if workspace is None and not missing_ok:
        module.fail_json(msg="Log Analytics workspace '%s' was not found in resource group '%s'" % (params["workspace_name"], params["resource_group"]))
    return workspace


def require_account(module, params):
    account_rg = params.get("automation_account_resource_group") or params["resource_group"]
    automation = module.client("automation")
    account = get_or_none(
        module,
        lambda: automation.automation_account.get(account_rg, params["automation_account"]),
        "Automation account '%s'" % params["automation_account"])
    if account is None:
        module.fail_json(msg="Automation account '%s' was not found in resource group '%s'" % (params["automation_account"], account_rg))
    return account["id"]


def ensure_present(module, client, params):
    # In check mode the workspace a previous task would create does not exist yet: the link would be new.
    workspace = require_workspace(module, client, params, missing_ok=module.check_mode)
    account_id = require_account(module, params)
    current = read_link(module, client, params) if workspace is not None else None
    if current is not None and is_lingering(current):
        if not module.check_mode:
            wait_until_gone(module, client, params)
        current = None
    before = link_view(current)
    if current is not None and same_id(before.get("resource_id"), account_id):
        return False, before, before
    after = dict(name="%s/%s" % (params["workspace_name"], LINK_NAME), resource_id=account_id)
    if not module.check_mode:
        what = "link Log Analytics workspace '%s' to Automation account '%s'" % (params["workspace_name"], params["automation_account"])
        poller = azure_call(module, lambda: client.linked_services.begin_create_or_update(
            params["resource_group"], params["workspace_name"], LINK_NAME, {"properties": {"resourceId": account_id}}), what)
        azure_call(module, lambda: poller.result(timeout=module.params["wait_timeout"]), what)
        after = link_view(read_link(module, client, params))
    return True, before, after


def ensure_absent(module, client, params):
    require_workspace(module, client, params)
    current = read_link(module, client, params)
    if current is None:
        return False, {}, {}
    before = link_view(current)
    if is_lingering(current):
        if not module.check_mode:
            wait_until_gone(module, client, params)
        return False, {}, {}
    if not module.check_mode:
        what = "remove the Automation link of Log Analytics workspace '%s'" % params["workspace_name"]
        poller = azure_call(module, lambda: client.linked_services.begin_delete(params["resource_group"], params["workspace_name"], LINK_NAME), what)
        azure_call(module, lambda: poller.result(timeout=module.params["wait_timeout"]), what)
        wait_until_gone(module, client, params)
    return True, before, {}


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
        changed, before, after = ensure_present(module, client, params)
    else:
        changed, before, after = ensure_absent(module, client, params)
    result = dict(changed=changed, linked_service=after)
    if module.diff_mode:
        result["diff"] = dict(before=dict(resource_id=before.get("resource_id")) if before else {},
                              after=dict(resource_id=after.get("resource_id")) if after else {})
    module.exit_json(**result)


if __name__ == "__main__":
    main()
