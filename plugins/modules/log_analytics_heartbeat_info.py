#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the azure_automation.hybrid_worker collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: log_analytics_heartbeat_info
short_description: Last Log Analytics agent heartbeat per computer
version_added: 0.1.0
description:
  - Asks the Log Analytics query API for the last C(Heartbeat) record of each directly connected agent
    (C(Category == "Direct Agent")) within O(max_age_minutes), optionally only for some computers.
  - Reports which of the requested computers sent no heartbeat in that time, so a play can fail on them.
  - The query is
    C(Heartbeat | where Category == "Direct Agent" | where TimeGenerated > ago(<max_age_minutes>m)
    | where Computer in~ (...) | summarize arg_max(TimeGenerated, *) by Computer).
options:
  workspace_id:
    description:
      - The workspace ID (customer id, a GUID) to query. Either this or O(workspace_name) is required.
    type: str
  workspace_name:
    description: The workspace name; its workspace ID is read from Resource Manager. Needs O(resource_group).
    type: str
  resource_group:
    description: The resource group of O(workspace_name).
    type: str
  computers:
    description:
      - Only these computers (as the agent reports them, usually the short host name), matched case-insensitively.
      - When omitted, every computer with a heartbeat in the time window is returned and RV(missing) is empty.
    type: list
    elements: str
  max_age_minutes:
    description: How far back to look.
    type: int
    default: 30
extends_documentation_fragment:
  - azure_automation.hybrid_worker.azure.modules
attributes:
  check_mode:
    support: full
    description: Reads only.
  diff_mode:
    support: none
    description: Changes nothing, so there is nothing to compare.
seealso:
  - module: azure_automation.hybrid_worker.log_analytics_workspace
author:
  - Hybrid worker collection maintainers (@azure-automation)
"""

EXAMPLES = r"""
- name: Check that every worker's agent reported in the last 30 minutes
  azure_automation.hybrid_worker.log_analytics_heartbeat_info:
    workspace_name: law-hybrid-workers
    resource_group: rg-automation
    computers: "{{ groups['hybrid_workers'] | map('extract', hostvars, 'inventory_hostname_short') | list }}"
  register: heartbeats
  failed_when: heartbeats.missing | length > 0
"""

RETURN = r"""
workspace_id:
  description: The workspace ID that was queried.
  returned: always
  type: str
  sample: 6f1c2d3e-0000-4a5b-9c8d-112233445566
query:
  description: The KQL query that was sent.
  returned: always
  type: str
heartbeats:
  description: The last heartbeat of each computer found, sorted by computer name.
  returned: always
  type: list
  elements: dict
  contains:
    computer:
      description: The computer name.
      type: str
      returned: always
      sample: WEB01
    last_heartbeat:
      description: The time of the last heartbeat (TimeGenerated).
      type: str
      returned: always
      sample: "2026-01-01T10:00:00Z"
    minutes_ago:
      description: Minutes since that heartbeat.
      type: float
      returned: always
      sample: 1.5
    computer_ip:
      description: The address the agent reported from.
      type: str
      returned: when the record has it
    os_type:
      description: The agent's OS type.
      type: str
      returned: when the record has it
    version:
      description: The agent version.
      type: str
      returned: when the record has it
missing:
  description: Computers of O(computers) without a heartbeat in the time window.
  returned: always
  type: list
  elements: str
  sample: [WEB02]
"""

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure import (
    AzureModule,
    get_or_none,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure_rules import (
    GUID_PATTERN,
    collect_errors,
    validate_computer_name,
    validate_heartbeat_max_age,
    validate_resource_group,
    validate_workspace_name,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.log_analytics import (  # noqa: F401 pylint: disable=unused-import
    heartbeat_query,
    heartbeat_views,
    read_heartbeats,
)


def validate_params(params):
    errors = []
    if params.get("workspace_id"):
        if not GUID_PATTERN.match(params["workspace_id"]):
            errors.append("workspace_id '%s' is not a GUID (the workspace ID, not its resource id)" % params["workspace_id"])
    else:
        errors.append(validate_workspace_name(params["workspace_name"]))
        errors.append(validate_resource_group(params.get("resource_group")))
    for computer in params.get("computers") or []:
        errors.append(validate_computer_name(computer))
    errors.append(validate_heartbeat_max_age(params["max_age_minutes"]))
    return collect_errors(*errors)


def resolve_workspace_id(module, params):
    if params.get("workspace_id"):
        return params["workspace_id"]
    client = module.client("loganalytics")
    workspace = get_or_none(
        module,
        lambda: client.workspaces.get(params["resource_group"], params["workspace_name"]),
        "Log Analytics workspace '%s'" % params["workspace_name"])
    if workspace is None:
        module.fail_json(msg="Log Analytics workspace '%s' was not found in resource group '%s'" % (params["workspace_name"], params["resource_group"]))
    return (workspace.get("properties") or {}).get("customerId")


def main():
    argument_spec = dict(
        workspace_id=dict(type="str"),
        workspace_name=dict(type="str"),
        resource_group=dict(type="str"),
        computers=dict(type="list", elements="str"),
        max_age_minutes=dict(type="int", default=30),
    )
    module = AzureModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_one_of=[("workspace_id", "workspace_name")],
        mutually_exclusive=[("workspace_id", "workspace_name")],
        required_by={"workspace_name": "resource_group"},
    )
    params = module.params
    error = validate_params(params)
    if error:
        module.fail_json(msg="Invalid arguments for heartbeat query: %s" % error)

    workspace_id = resolve_workspace_id(module, params)
    query, heartbeats, missing = read_heartbeats(module, workspace_id, params.get("computers"), params["max_age_minutes"])
    module.exit_json(changed=False, workspace_id=workspace_id, query=query, heartbeats=heartbeats, missing=missing)


if __name__ == "__main__":
    main()
