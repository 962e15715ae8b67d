#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the azure_automation.hybrid_worker collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: automation_registration_info
short_description: Read an Automation account's agent registration URL and keys
version_added: 0.1.0
description:
  - Returns what a machine needs to register as a Hybrid Runbook Worker of the account - the agent registration
    URL and its primary and secondary keys - plus the hybrid service URL extension-based workers use.
  - The keys are secrets; set C(no_log) on the task that calls this module.
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
- name: Read the registration endpoint and key for the workers
  azure_automation.hybrid_worker.automation_registration_info:
    resource_group: rg-automation
    automation_account: aa-hybrid-workers
  register: registration
  no_log: true
"""

RETURN = r"""
account_resource_id:
  description: The Automation account's resource id.
  returned: always
  type: str
  sample: /subscriptions/0000/resourceGroups/rg-automation/providers/Microsoft.Automation/automationAccounts/aa1
account_id:
  description: The account's GUID (the last segment of the registration URL).
  returned: always
  type: str
  sample: 8f2a2c1e-1111-4a5b-9c8d-0123456789ab
registration_url:
  description: The agent registration endpoint that agent-based workers register with.
  returned: always
  type: str
  sample: https://westeurope-agentservice-prod-1.azure-automation.net/accounts/8f2a2c1e-1111-4a5b-9c8d-0123456789ab
automation_hybrid_service_url:
  description: The hybrid service URL that the extension-based worker needs.
  returned: when the account reports it
  type: str
  sample: https://8f2a2c1e-1111-4a5b-9c8d-0123456789ab.jrds.westeurope.azure-automation.net/automationAccounts/8f2a2c1e-1111-4a5b-9c8d-0123456789ab
primary_key:
  description: The primary agent registration key. Secret.
  returned: always
  type: str
secondary_key:
  description: The secondary agent registration key. Secret.
  returned: always
  type: str
"""

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure import AzureModule
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure_rules import (
    collect_errors,
    validate_automation_account,
    validate_resource_group,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.hybrid_workers import (  # noqa: F401 pylint: disable=unused-import
    account_argument_spec,
    read_registration,
    registration_result,
    require_account,
)


def main():
    argument_spec = account_argument_spec()
    module = AzureModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    error = collect_errors(validate_resource_group(params["resource_group"]), validate_automation_account(params["automation_account"]))
    if error:
        module.fail_json(msg="Invalid arguments for Automation registration info: %s" % error)

    client = module.client("automation")
    rg, account_name = params["resource_group"], params["automation_account"]
    account = require_account(module, client, rg, account_name)
    module.exit_json(changed=False, **read_registration(module, client, rg, account_name, account))


if __name__ == "__main__":
    main()
