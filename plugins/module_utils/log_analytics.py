# -*- coding: utf-8 -*-
# Copyright: contributors to the azure_automation.hybrid_worker collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Log Analytics workspace, solution, Automation link and heartbeat functions shared by the Log Analytics modules
and hybrid_worker_prerequisites (which does all of them in one run, with one credential)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure import (
    AzureError,
    as_rest_dict,
    azure_call,
    get_or_none,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure_rules import (
    FREE_TIER_RETENTION,
    RETENTION_RANGE,
    WORKSPACE_SKUS,
    age_minutes,
    canonical_choice,
    collect_errors,
    normalize_location,
    same_id,
    tags_changes,
    utc_now,
    validate_automation_account,
    validate_location,
    validate_resource_group,
    validate_workspace_name,
)

# -- workspace -------------------------------------------------------------------------------------------------------

DEFAULT_SKU = "PerGB2018"


def validate_workspace_params(params):
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


def workspace_diff_view(view):
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


def ensure_workspace_present(module, client, params):
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


def ensure_workspace_absent(module, client, params):
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


# -- solution (intelligence pack) ------------------------------------------------------------------------------------
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


def ensure_solution(module, client, resource_group, workspace, name, state="present"):
    """(changed, before, after) of solution ``name`` on ``workspace``: enabled for present, disabled for absent."""
    what = "list the solutions of Log Analytics workspace '%s' in resource group '%s'" % (workspace, resource_group)
    if module.check_mode:
        # In check mode the workspace a previous step would create does not exist yet; a new workspace has the
        # pack off, so enabling it is the change to report.
        found = get_or_none(module, lambda: dict(value=list(client.intelligence_packs.list(resource_group, workspace))), what)
        packs = found["value"] if found is not None else [dict(name=name, enabled=False)]
    else:
        packs = azure_call(module, lambda: client.intelligence_packs.list(resource_group, workspace), what)
    before = find_pack(packs or [], name)
    if before is None:
        module.fail_json(msg="Solution '%s' is not offered by Log Analytics workspace '%s' (known: %s)"
                         % (name, workspace, ", ".join(sorted(as_rest_dict(p).get("name") or "" for p in packs or []))))
    wanted = state == "present"
    changed = before["enabled"] != wanted
    after = dict(before, enabled=wanted)
    if changed and not module.check_mode:
        operation = client.intelligence_packs.enable if wanted else client.intelligence_packs.disable
        azure_call(module, lambda: operation(resource_group, workspace, before["name"]),
                   "%s solution '%s' on Log Analytics workspace '%s'" % ("enable" if wanted else "disable", before["name"], workspace))
    return changed, before, after


# -- Automation link (linked service) --------------------------------------------------------------------------------

LINK_NAME = "Automation"


def validate_link_params(params):
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


def require_linked_workspace(module, client, params, missing_ok=False):
    workspace = get_or_none(
        module,
        lambda: client.workspaces.get(params["resource_group"], params["workspace_name"]),
        "Log Analytics workspace '%s'" % params["workspace_name"])
    if workspace is None and not missing_ok:
        module.fail_json(msg="Log Analytics workspace '%s' was not found in resource group '%s'" % (params["workspace_name"], params["resource_group"]))
    return workspace


def linked_account_id(module, params):
    account_rg = params.get("automation_account_resource_group") or params["resource_group"]
    automation = module.client("automation")
    account = get_or_none(
        module,
        lambda: automation.automation_account.get(account_rg, params["automation_account"]),
        "Automation account '%s'" % params["automation_account"])
    if account is None:
        module.fail_json(msg="Automation account '%s' was not found in resource group '%s'" % (params["automation_account"], account_rg))
    return account["id"]


def ensure_link_present(module, client, params, account_id=None):
    """(changed, before, after) of the workspace's Automation link; ``account_id`` saves the account read when known."""
    # In check mode the workspace a previous task would create does not exist yet: the link would be new.
    workspace = require_linked_workspace(module, client, params, missing_ok=module.check_mode)
    account_id = account_id or linked_account_id(module, params)
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


def ensure_link_absent(module, client, params):
    require_linked_workspace(module, client, params)
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


# -- heartbeats (query API) ------------------------------------------------------------------------------------------
def heartbeat_query(computers, max_age_minutes):
    """The KQL for the last heartbeat per computer; names were validated, so quoting them is safe."""
    stages = ['Heartbeat', 'where Category == "Direct Agent"', "where TimeGenerated > ago(%dm)" % max_age_minutes]
    if computers:
        stages.append("where Computer in~ (%s)" % ", ".join('"%s"' % c for c in computers))
    stages.append("summarize arg_max(TimeGenerated, *) by Computer")
    return " | ".join(stages)


def heartbeat_views(rows, computers, now):
    """(heartbeats sorted by computer, requested computers without one)."""
    views = []
    for row in rows:
        view = dict(computer=row.get("Computer"), last_heartbeat=row.get("TimeGenerated"), minutes_ago=age_minutes(row.get("TimeGenerated"), now))
        for source, key in (("ComputerIP", "computer_ip"), ("OSType", "os_type"), ("Version", "version")):
            if row.get(source) not in (None, ""):
                view[key] = row[source]
        views.append(view)
    views.sort(key=lambda v: (v["computer"] or "").lower())
    seen = set((v["computer"] or "").lower() for v in views)
    missing = [c for c in computers or [] if c.lower() not in seen]
    return views, missing


def read_heartbeats(module, workspace_id, computers, max_age_minutes):
    """(query, heartbeats, computers without one) from one query for all ``computers``."""
    query = heartbeat_query(computers, max_age_minutes)
    try:
        rows = module.query_log_analytics(workspace_id, query)
    except AzureError as exc:
        module.fail_azure(exc, "Failed to query the heartbeats of Log Analytics workspace %s" % workspace_id)
    heartbeats, missing = heartbeat_views(rows, computers, utc_now())
    return query, heartbeats, missing
