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

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure import (
    AzureModule,
    as_rest_dict,
    azure_call,
    get_or_none,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure_rules import (
    collect_errors,
    validate_resource_group,
    validate_workspace_name,
)


def validate_params(params):
    errors = [validate_workspace_name(params["workspace_name"]), validate_resource_group(params["resource_group"])]
    if not params["name"] or not params["name"].replace("_", "").isalnum():
        errors.append("name '%s' is not an intelligence pack name (letters, digits and '_')" % params["name"])
    return collect_errors(*errors)


def find_pack(packs, name):
    """The pack called ``name`` (case-insensitive) from the list the service returned, as a view; None if absent."""
    for pack in packs:
        pack = as_rest_dict(pack)
        if (pack.get("name") or "").lower() == name.lower():
            view = dict(name=pack.get("name"), enabled=bool(pack.get("enabled")))
            if pack.get("displayName"):
                view["display_name"] = pack["displayName"]
            return view
    return None


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
    rg, workspace = params["resource_group"], params["workspace_name"]
    what = "list the solutions of Log Analytics workspace '%s' in resource group '%s'" % (workspace, rg)
    if module.check_mode:
        # In check mode the workspace a previous task would create does not exist yet; a new workspace has the
        # pack off, so enabling it is the change to report.
        found = get_or_none(module, lambda: dict(value=list(client.intelligence_packs.list(rg, workspace))), what)
        packs = found["value"] if found is not None else [dict(name=params["name"], enabled=False)]
    else:
        packs = azure_call(module, lambda: client.intelligence_packs.list(rg, workspace), what)
    before = find_pack(packs or [], params["name"])
    if before is None:
        module.fail_json(msg="Solution '%s' is not offered by Log Analytics workspace '%s' (known: %s)"
                         % (params["name"], workspace, ", ".join(sorted(as_rest_dict(p).get("name") or "" for p in packs or []))))

    wanted = params["state"] == "present"
    changed = before["enabled"] != wanted
    after = dict(before, enabled=wanted)
    if changed and not module.check_mode:
        operation = client.intelligence_packs.enable if wanted else client.intelligence_packs.disable
        azure_call(module, lambda: operation(rg, workspace, before["name"]),
                   "%s solution '%s' on Log Analytics workspace '%s'" % ("enable" if wanted else "disable", before["name"], workspace))

    result = dict(changed=changed, solution=after)
    if module.diff_mode:
        result["diff"] = dict(before=dict(name=before["name"], enabled=before["enabled"]), after=dict(name=after["name"], enabled=after["enabled"]))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
