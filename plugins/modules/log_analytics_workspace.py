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

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure import (
    AzureModule,
    azure_call,
    get_or_none,
    as_rest_dict,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure_rules import (
    FREE_TIER_RETENTION,
    RETENTION_RANGE,
    WORKSPACE_SKUS,
    canonical_choice,
    collect_errors,
    normalize_location,
    tags_changes,
    validate_location,
    validate_resource_group,
    validate_workspace_name,
)

DEFAULT_SKU = "PerGB2018"


def validate_params(params):
    """Every argument error, before any request (None if all are fine)."""
    errors = [
        validate_workspace_name(params["name"], "name"),
        validate_resource_group(params["resource_group"]),
    ]
    if params["state"] == "present":
        if params.get("sku") and canonical_choice(params["sku"], WORKSPACE_SKUS) not in WORKSPACE_SKUS:
            errors.append("sku '%s' is not one of %s" % (params["sku"], ", ".join(WORKSPACE_SKUS)))
        if params.get("location"):
            errors.append(validate_location(params["location"]))
        retention = params.get("retention_in_days")
        free_tier = canonical_choice(params.get("sku"), WORKSPACE_SKUS) == "Free"
        if retention is not None:
            if free_tier and retention != FREE_TIER_RETENTION:
                errors.append("retention_in_days must be %d for the Free tier, got %d" % (FREE_TIER_RETENTION, retention))
            elif not free_tier and not RETENTION_RANGE[0] <= retention <= RETENTION_RANGE[1]:
                errors.append("retention_in_days must be between %d and %d, got %d" % (RETENTION_RANGE + (retention,)))
        quota = params.get("daily_quota_gb")
        if quota is not None and quota != -1 and quota <= 0:
            errors.append("daily_quota_gb must be -1 (no cap) or a positive number, got %s" % quota)
    return collect_errors(*errors)


def workspace_view(workspace):
    """The module's view of a workspace REST body (None when absent)."""
    if not workspace:
        return {}
    properties = workspace.get("properties") or {}
    quota = (properties.get("workspaceCapping") or {}).get("dailyQuotaGb")
    return dict(
        id=workspace.get("id"),
        name=workspace.get("name"),
        location=workspace.get("location"),
        customer_id=properties.get("customerId"),
        sku=canonical_choice((properties.get("sku") or {}).get("name"), WORKSPACE_SKUS),
        retention_in_days=properties.get("retentionInDays"),
        daily_quota_gb=float(quota) if quota is not None else None,
        provisioning_state=properties.get("provisioningState"),
        tags=dict(workspace.get("tags") or {}),
    )


def diff_view(view):
    """What --diff shows: the settings the module manages."""
    keys = ("name", "location", "sku", "retention_in_days", "daily_quota_gb", "tags")
    return dict((key, view.get(key)) for key in keys if key in view)


def creation_body(params):
    properties = dict(sku=dict(name=params.get("sku") or DEFAULT_SKU))
    if params.get("retention_in_days") is not None:
        properties["retentionInDays"] = params["retention_in_days"]
    if params.get("daily_quota_gb") is not None:
        properties["workspaceCapping"] = dict(dailyQuotaGb=params["daily_quota_gb"])
    body = dict(location=normalize_location(params["location"]), properties=properties)
    if params.get("tags"):
        body["tags"] = params["tags"]
    return body


def expected_after_create(params, name):
    body = creation_body(params)
    return dict(
        name=name,
        location=body["location"],
        sku=body["properties"]["sku"]["name"],
        retention_in_days=params.get("retention_in_days"),
        daily_quota_gb=params.get("daily_quota_gb"),
        tags=dict(params.get("tags") or {}),
        provisioning_state="Succeeded",
    )


def update_patch(current, params):
    """The PATCH body that brings ``current`` (a view) to the params, or None when it already matches."""
    properties = {}
    if params.get("sku") and (current.get("sku") or "").lower() != params["sku"].lower():
        properties["sku"] = dict(name=params["sku"])
    if params.get("retention_in_days") is not None and current.get("retention_in_days") != params["retention_in_days"]:
        properties["retentionInDays"] = params["retention_in_days"]
    quota = params.get("daily_quota_gb")
    if quota is not None and (current.get("daily_quota_gb") is None or abs(current["daily_quota_gb"] - quota) > 1e-9):
        properties["workspaceCapping"] = dict(dailyQuotaGb=quota)
    patch = {}
    if properties:
        patch["properties"] = properties
    tags = tags_changes(current.get("tags"), params.get("tags"), params.get("purge_tags", True))
    if tags is not None:
        patch["tags"] = tags
    return patch or None


def apply_patch_to_view(view, patch):
    after = dict(view)
    properties = patch.get("properties", {})
    if "sku" in properties:
        after["sku"] = properties["sku"]["name"]
    if "retentionInDays" in properties:
        after["retention_in_days"] = properties["retentionInDays"]
    if "workspaceCapping" in properties:
        after["daily_quota_gb"] = properties["workspaceCapping"]["dailyQuotaGb"]
    if "tags" in patch:
        after["tags"] = dict(patch["tags"])
    return after


def location_conflict(current, params):
    if params.get("location") and normalize_location(current.get("location")) != normalize_location(params["location"]):
        return ("Workspace '%s' is in %s; a workspace cannot move to %s (delete it first or keep its location)"
                % (params["name"], current.get("location"), params["location"]))
    return None


IN_PROGRESS_STATES = ("creating", "updating", "provisioningaccount")
FAILED_STATES = ("failed", "canceled")


def before_state(workspace):
    return (((workspace or {}).get("properties") or {}).get("provisioningState") or "").lower()


def read_workspace(module, client, params):
    return get_or_none(
        module,
        lambda: client.workspaces.get(params["resource_group"], params["name"]),
        "Log Analytics workspace '%s' in resource group '%s'" % (params["name"], params["resource_group"]))


def wait_until_succeeded(module, client, params, what):
    """A 200 from the Location poll only says the request was accepted; the workspace must reach Succeeded."""
    def is_done(workspace):
        state = ((workspace or {}).get("properties") or {}).get("provisioningState") or ""
        if state.lower() in ("failed", "canceled"):
            module.fail_json(msg="Failed to %s: provisioning ended in state %s" % (what, state))
        return state.lower() == "succeeded"
    return module.wait_for(lambda: read_workspace(module, client, params), is_done, "workspace '%s' to be Succeeded" % params["name"])


def ensure_present(module, client, params):
    current = read_workspace(module, client, params)
    what = "workspace '%s'" % params["name"]
    if current is None:
        if not params.get("location"):
            module.fail_json(msg="location is required to create Log Analytics workspace '%s'" % params["name"])
        after = expected_after_create(params, params["name"])
        if not module.check_mode:
            poller = azure_call(
                module,
                lambda: client.workspaces.begin_create_or_update(params["resource_group"], params["name"], creation_body(params)),
                "create Log Analytics " + what)
            azure_call(module, lambda: poller.result(timeout=module.params["wait_timeout"]), "create Log Analytics " + what)
            after = workspace_view(wait_until_succeeded(module, client, params, "create Log Analytics " + what))
        return True, {}, after

    if before_state(current) in FAILED_STATES:
        # A create that ended Failed leaves the workspace behind; the agents cannot use it until it is provisioned
        # again, which another PUT of the same workspace does.
        before = workspace_view(current)
        located = dict(params, location=params.get("location") or current.get("location"))
        after = expected_after_create(located, params["name"])
        if not module.check_mode:
            body = creation_body(located)
            poller = azure_call(
                module,
                lambda: client.workspaces.begin_create_or_update(params["resource_group"], params["name"], body),
                "provision again Log Analytics " + what)
            azure_call(module, lambda: poller.result(timeout=module.params["wait_timeout"]), "provision again Log Analytics " + what)
            after = workspace_view(wait_until_succeeded(module, client, params, "provision again Log Analytics " + what))
        return True, before, after

    if (before_state(current) in IN_PROGRESS_STATES) and not module.check_mode:
        # A workspace another run left half-created: let it settle before comparing.
        current = wait_until_succeeded(module, client, params, "provision Log Analytics " + what)
    before = workspace_view(current)
    conflict = location_conflict(before, params)
    if conflict:
        module.fail_json(msg=conflict)
    patch = update_patch(before, params)
    if patch is None:
        return False, before, before
    after = apply_patch_to_view(before, patch)
    if not module.check_mode:
        updated = azure_call(
            module,
            lambda: client.workspaces.update(params["resource_group"], params["name"], patch),
            "update Log Analytics " + what)
        after = workspace_view(as_rest_dict(updated))
    return True, before, after


def ensure_absent(module, client, params):
    current = read_workspace(module, client, params)
    if current is None:
        return False, {}, {}
    before = workspace_view(current)
    if not module.check_mode:
        what = "delete Log Analytics workspace '%s'" % params["name"]
        force = True if params["force_delete"] else None
        poller = azure_call(module, lambda: client.workspaces.begin_delete(params["resource_group"], params["name"], force=force), what)
        azure_call(module, lambda: poller.result(timeout=module.params["wait_timeout"]), what)
        module.wait_for(lambda: read_workspace(module, client, params), lambda ws: ws is None, "workspace '%s' to be deleted" % params["name"])
    return True, before, {}


def read_shared_keys(module, client, params):
    keys = azure_call(
        module,
        lambda: client.shared_keys.get_shared_keys(params["resource_group"], params["name"]),
        "read the shared keys of Log Analytics workspace '%s'" % params["name"])
    keys = as_rest_dict(keys)
    return dict(primary_shared_key=keys.get("primarySharedKey"), secondary_shared_key=keys.get("secondarySharedKey"))


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
