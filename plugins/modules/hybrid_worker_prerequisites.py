#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the azure_automation.hybrid_worker collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: hybrid_worker_prerequisites
short_description: Everything Azure must have for Hybrid Runbook Workers, in one run
version_added: 0.2.0
description:
  - Makes sure the Log Analytics workspace exists (with the SKU and retention given), the C(AzureAutomation)
    solution is enabled on it, the workspace is linked to the Automation account and every worker group given
    exists; changes only what differs, so a converged run writes nothing.
  - Then reads what the Windows hosts need - the workspace ID and key, the account's agent registration URL and
    key - and what a fleet run compares them with - the workers Azure lists in each group and, optionally, the
    last agent heartbeat of the given computers.
  - Extension-based workers need no workspace - leave out O(workspace_name) and the module touches no workspace,
    solution or link; it still makes sure the groups exist (unless O(create_groups=false)), lists their workers and
    returns the account's hybrid service URL (RV(registration.automation_hybrid_service_url)) that the Hybrid Worker
    extension is configured with.
  - One module start and one credential for all of it, so the cost of a fleet run's Azure side stays the same
    whatever the number of hosts. Each part is also available as its own module
    (M(azure_automation.hybrid_worker.log_analytics_workspace) and the others under I(seealso)).
  - The result holds secrets (C(workspace_key), C(registration.primary_key)); set C(no_log) on the task.
extends_documentation_fragment:
  - azure_automation.hybrid_worker.automation_account
  - azure_automation.hybrid_worker.azure.modules
options:
  workspace_name:
    description:
      - The Log Analytics workspace the agents report to (agent-based workers).
      - Not given, no workspace, solution or link is read or written, and the workspace options
        (O(workspace_resource_group), O(location), O(workspace_sku), O(workspace_retention_in_days),
        O(link_workspace), O(heartbeat_computers), O(heartbeat_max_age_minutes)) do not matter; giving
        O(workspace_resource_group), O(location) or O(heartbeat_computers) without it fails before any request.
    type: str
  workspace_resource_group:
    description: The workspace's resource group; I(resource_group) when not given. Only with O(workspace_name).
    type: str
  location:
    description:
      - The Azure region a new workspace is created in (an existing workspace cannot move).
      - Required with O(workspace_name), refused without it.
    type: str
  workspace_sku:
    description: The workspace pricing tier. Only matters with O(workspace_name).
    type: str
    default: PerGB2018
  workspace_retention_in_days:
    description: Days the workspace keeps data. Only matters with O(workspace_name).
    type: int
    default: 30
  link_workspace:
    description:
      - Link the workspace to the Automation account (agent-based workers need the link). Only matters with
        O(workspace_name).
    type: bool
    default: true
  groups:
    description:
      - The hybrid worker groups that must exist. Each is created when missing (see O(create_groups)) and its
        workers are listed.
    type: list
    elements: str
    default: []
  create_groups:
    description:
      - Create the groups of O(groups) that do not exist.
      - V(false) only reads - a missing group is reported in RV(missing_groups) and left out of RV(groups).
    type: bool
    default: true
  group_credential:
    description:
      - Name of an Automation credential the groups' jobs run as; an empty string clears it, not given leaves
        each group's credential alone.
    type: str
  agent_registration:
    description:
      - Read the account's agent registration information - the URL and keys agent-based workers register with (one
        request).
      - Extension-based workers need neither - with V(false) the request is not made and RV(registration) holds only
        what the account itself says (its id and hybrid service URL), without keys.
    type: bool
    default: true
  stale_after_minutes:
    description: A listed worker whose last report is older than this many minutes is marked stale.
    type: int
    default: 60
  heartbeat_computers:
    description:
      - Computer names whose last agent heartbeat to read (one query for all of them). Not given, no query.
      - Needs O(workspace_name) (the heartbeats are in its workspace).
    type: list
    elements: str
  heartbeat_max_age_minutes:
    description: Heartbeats older than this count as missing. Only matters with O(heartbeat_computers).
    type: int
    default: 30
attributes:
  check_mode:
    support: full
    description: Reports what would be created or changed; reads what exists.
  diff_mode:
    support: full
    description: The workspace, solution, link and groups before and after.
notes:
  - Reads per run, whatever the number of hosts - the account, the workspace, its solutions, its link, each group
    and its workers once, the shared keys, the registration information and one heartbeat query. Without
    O(workspace_name) - the account, each group and its workers once, and the registration information unless
    O(agent_registration=false).
seealso:
  - module: azure_automation.hybrid_worker.log_analytics_workspace
  - module: azure_automation.hybrid_worker.log_analytics_solution
  - module: azure_automation.hybrid_worker.log_analytics_linked_service
  - module: azure_automation.hybrid_worker.hybrid_worker_group
  - module: azure_automation.hybrid_worker.hybrid_worker_group_info
  - module: azure_automation.hybrid_worker.automation_registration_info
  - module: azure_automation.hybrid_worker.log_analytics_heartbeat_info
author:
  - Hybrid worker collection maintainers (@azure-automation)
"""

EXAMPLES = r"""
- name: Azure side of the fleet, and what the hosts need
  azure_automation.hybrid_worker.hybrid_worker_prerequisites:
    resource_group: rg-automation
    automation_account: aa-hybrid-workers
    workspace_name: law-hybrid-workers
    location: westeurope
    groups: [east, west]
    heartbeat_computers: [WEB01, WEB02]
  register: prerequisites
  no_log: true

- name: Hand the workspace and registration details to the hosts
  ansible.builtin.set_fact:
    workspace_id: "{{ prerequisites.workspace.customer_id }}"
    workspace_key: "{{ prerequisites.workspace_key }}"
    registration_url: "{{ prerequisites.registration.registration_url }}"
    registration_key: "{{ prerequisites.registration.primary_key }}"
  no_log: true

- name: Extension-based workers - no workspace; the groups, their workers and the hybrid service URL
  azure_automation.hybrid_worker.hybrid_worker_prerequisites:
    resource_group: rg-automation
    automation_account: aa-hybrid-workers
    groups: [east, west]
    stale_after_minutes: 30
    # No agent registration keys: extension-based workers do not use them.
    agent_registration: false
  register: extension_side

- name: The extension-based workers Azure lists, by Arc machine id
  ansible.builtin.set_fact:
    hybrid_service_url: "{{ extension_side.registration.automation_hybrid_service_url }}"
    workers_by_machine: "{{ extension_side.groups | azure_automation.hybrid_worker.hybrid_worker_index }}"

- name: Read-only - report missing groups instead of creating them
  azure_automation.hybrid_worker.hybrid_worker_prerequisites:
    resource_group: rg-automation
    automation_account: aa-hybrid-workers
    groups: [east, west]
    create_groups: false
  register: listing
  no_log: true
"""

RETURN = r"""
workspace:
  description: The workspace after the run (empty in check mode when it would be created).
  returned: when O(workspace_name) is given
  type: dict
  sample: {"name": "law-hybrid-workers", "customer_id": "0f3c...", "sku": "PerGB2018", "retention_in_days": 30}
workspace_key:
  description: The workspace's primary shared key. Secret. Empty when the workspace does not exist yet (check mode).
  returned: when O(workspace_name) is given
  type: str
solution:
  description: The AzureAutomation solution after the run.
  returned: when O(workspace_name) is given
  type: dict
  sample: {"name": "AzureAutomation", "enabled": true}
linked_service:
  description: The workspace's Automation link after the run.
  returned: when O(workspace_name) is given and O(link_workspace=true)
  type: dict
groups:
  description:
    - Each group given, after the run, with the workers Azure lists in it (none for a group check mode would create).
    - The groups and workers have the shape M(azure_automation.hybrid_worker.hybrid_worker_group_info) returns.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "east", "credential": null, "workers": [{"name": "WEB01", "id": "...", "stale": false}]}]
  contains:
    id:
      description: The group's resource id (missing for a group check mode would create).
      type: str
    name:
      description: The group name.
      type: str
    group_type:
      description: V(User) or V(System).
      type: str
    credential:
      description: The credential asset name, null when none is set.
      type: str
    workers:
      description: The group's workers, sorted by name.
      type: list
      elements: dict
      contains:
        id:
          description: The worker id (a GUID).
          type: str
        name:
          description: The worker (computer) name.
          type: str
        type:
          description: V(V1) (agent-based) or V(V2) (extension-based).
          type: str
        ip:
          description: The worker's IP address.
          type: str
        registered_date_time:
          description: When the worker registered.
          type: str
        last_seen_date_time:
          description: The worker's last heartbeat.
          type: str
        last_seen_minutes_ago:
          description: Minutes since the last heartbeat (null if it never reported).
          type: float
        vm_resource_id:
          description: The Azure VM or Arc machine id of an extension-based worker (null for agent-based ones).
          type: str
        stale:
          description: Whether the last heartbeat is older than O(stale_after_minutes) (or missing).
          type: bool
missing_groups:
  description: The groups of O(groups) that do not exist and were not created (O(create_groups=false)).
  returned: always
  type: list
  elements: str
  sample: []
registration:
  description:
    - The account's agent registration details; C(primary_key) and C(secondary_key) are secrets.
    - With O(agent_registration=false), C(registration_url), C(account_id) and the keys are null.
  returned: always
  type: dict
  sample: {"registration_url": "https://.../accounts/8f2a...", "account_id": "8f2a...", "primary_key": "...",
           "automation_hybrid_service_url": "https://8f2a....jrds.westeurope.azure-automation.net/automationAccounts/8f2a..."}
  contains:
    account_resource_id:
      description: The Automation account's resource id.
      type: str
    account_id:
      description: The account's GUID (the last segment of the registration URL).
      type: str
    registration_url:
      description: The agent registration endpoint that agent-based workers register with.
      type: str
    automation_hybrid_service_url:
      description:
        - The account's C(automationHybridServiceUrl), which the Hybrid Worker extension of extension-based workers
          is configured with; read with the account, no request of its own. Null when the account does not report it.
      type: str
    primary_key:
      description: The primary agent registration key. Secret.
      type: str
    secondary_key:
      description: The secondary agent registration key. Secret.
      type: str
heartbeats:
  description: The last heartbeat of each computer that sent one within I(heartbeat_max_age_minutes).
  returned: when I(heartbeat_computers) is given and the workspace exists
  type: list
  elements: dict
heartbeat_missing:
  description: The computers of I(heartbeat_computers) without a recent heartbeat.
  returned: when I(heartbeat_computers) is given and the workspace exists
  type: list
  elements: str
changes:
  description: What was (or in check mode would be) created or changed, one entry per concern.
  returned: always
  type: list
  elements: str
  sample: ["workspace law-hybrid-workers created", "worker group east created"]
"""

import threading
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure import AzureModule
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure_rules import (
    collect_errors,
    utc_now,
    validate_automation_account,
    validate_computer_name,
    validate_group_name,
    validate_heartbeat_max_age,
    validate_at_least_one,
    validate_resource_group,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.hybrid_workers import (
    account_argument_spec,
    account_registration,
    ensure_group_present,
    read_registration,
    require_account,
)
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.log_analytics import (
    ensure_link_present,
    ensure_solution,
    ensure_workspace_present,
    read_heartbeats,
    read_shared_keys,
    validate_workspace_params,
    workspace_diff_view,
)

SOLUTION = "AzureAutomation"


def workspace_params(params):
    """The arguments log_analytics_workspace would get for this workspace."""
    return dict(name=params["workspace_name"], resource_group=params["workspace_resource_group"] or params["resource_group"],
                state="present", location=params["location"], sku=params["workspace_sku"],
                retention_in_days=params["workspace_retention_in_days"], daily_quota_gb=None, tags=None, purge_tags=True)


def link_params(params):
    return dict(workspace_name=params["workspace_name"], resource_group=params["workspace_resource_group"] or params["resource_group"],
                automation_account=params["automation_account"], automation_account_resource_group=params["resource_group"],
                state="present")


def group_params(params, name):
    return dict(name=name, resource_group=params["resource_group"], automation_account=params["automation_account"],
                credential=params.get("group_credential"), stale_after_minutes=params["stale_after_minutes"],
                prune_last_seen_days=None, prune_except=None, create_missing=params.get("create_groups", True))


# The options that describe a workspace and have no default: given without workspace_name, they are half a workspace.
WORKSPACE_ONLY_OPTIONS = ("workspace_resource_group", "location", "heartbeat_computers")


def missing_workspace_arguments(params):
    """The message for a workspace without its location: the one the module gave when both were required options."""
    if params.get("workspace_name") is not None and params.get("location") is None:
        return "missing required arguments: location"
    return None


def workspace_error(params):
    """The sentence for workspace options given without workspace_name (None when there is none)."""
    if params.get("workspace_name") is not None:
        return None
    given = [name for name in WORKSPACE_ONLY_OPTIONS if params.get(name) is not None]
    if given:
        listed = given[0] if len(given) == 1 else "%s and %s" % (", ".join(given[:-1]), given[-1])
        return "%s %s only with workspace_name, which is not given" % (listed, "is used" if len(given) == 1 else "are used")
    return None


def validate_params(params):
    """Every argument error, before any request (None if all are fine)."""
    errors = [workspace_error(params), validate_resource_group(params["resource_group"]),
              validate_automation_account(params["automation_account"])]
    if params.get("workspace_name") is not None:
        errors.append(validate_workspace_params(workspace_params(params)))
    errors.extend(validate_group_name(name, "groups") for name in params["groups"])
    errors.extend(validate_computer_name(name) for name in params.get("heartbeat_computers") or [])
    errors.append(validate_at_least_one(params["stale_after_minutes"], "stale_after_minutes"))
    errors.append(validate_heartbeat_max_age(params["heartbeat_max_age_minutes"], "heartbeat_max_age_minutes"))
    return collect_errors(*errors)


def unique_groups(names):
    """The group names once each, in the order given; ARM compares them case-insensitively."""
    seen, unique = set(), []
    for name in names:
        if name.lower() not in seen:
            seen.add(name.lower())
            unique.append(name)
    return unique


class StepFailed(Exception):
    """A step run in a worker thread failed; the main thread reports it (a thread must not end the module)."""

    def __init__(self, result):
        super().__init__(result.get("msg"))
        self.result = result


class PrerequisitesModule(AzureModule):
    """AzureModule whose failures in worker threads become StepFailed, so that one failure is reported, once."""

    def fail_json(self, **kwargs):
        if threading.current_thread() is not threading.main_thread():
            raise StepFailed(kwargs)
        super().fail_json(**kwargs)


def wait_all(module, futures):
    """The futures' results in order; the first failure (in that order) fails the module."""
    results, failure = [], None
    for future in futures:
        try:
            results.append(future.result())
        except StepFailed as exc:
            failure = failure or exc.result
            results.append(None)
    if failure:
        module.fail_json(**failure)
    return results


def main():
    argument_spec = account_argument_spec(
        workspace_name=dict(type="str"),
        workspace_resource_group=dict(type="str"),
        location=dict(type="str"),
        workspace_sku=dict(type="str", default="PerGB2018"),
        workspace_retention_in_days=dict(type="int", default=30),
        link_workspace=dict(type="bool", default=True),
        groups=dict(type="list", elements="str", default=[]),
        create_groups=dict(type="bool", default=True),
        group_credential=dict(type="str", no_log=False),
        agent_registration=dict(type="bool", default=True),
        stale_after_minutes=dict(type="int", default=60),
        heartbeat_computers=dict(type="list", elements="str"),
        heartbeat_max_age_minutes=dict(type="int", default=30),
    )
    module = PrerequisitesModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    error = missing_workspace_arguments(params)
    if error:
        module.fail_json(msg=error)
    error = validate_params(params)
    if error:
        module.fail_json(msg="Invalid arguments for the hybrid worker prerequisites: %s" % error)

    with_workspace = params.get("workspace_name") is not None
    # Without a workspace the Log Analytics SDK is not even imported.
    analytics = module.client("loganalytics") if with_workspace else None
    automation = module.client("automation")
    rg, account_name = params["resource_group"], params["automation_account"]
    # The first request (and the token) on its own: a wrong credential or a missing account fails here, once.
    account = require_account(module, automation, rg, account_name)
    workspace = workspace_params(params) if with_workspace else None
    names = unique_groups(params["groups"])
    now = utc_now()

    # The concerns are independent reads (and, on drift, writes) of different resources: they run side by side,
    # so the module's time is that of its longest chain, not the sum of its requests.
    solution_future = link_future = keys_future = heartbeat_future = None
    with ThreadPoolExecutor(max_workers=8) as pool:
        group_futures = [pool.submit(ensure_group_present, module, automation, group_params(params, name), now) for name in names]
        registration_future = pool.submit(read_registration, module, automation, rg, account_name, account) \
            if params["agent_registration"] else None
        if with_workspace:
            # Solution, link, keys and heartbeats need the workspace: it comes first, in this thread.
            workspace_changed, workspace_before, workspace_after = ensure_workspace_present(module, analytics, workspace)
            solution_future = pool.submit(ensure_solution, module, analytics, workspace["resource_group"], workspace["name"], SOLUTION)
            link_future = pool.submit(ensure_link_present, module, analytics, link_params(params), account["id"]) \
                if params["link_workspace"] else None
            # A workspace that check mode would create has no id or key yet; the hosts' checks say so.
            keys_future = pool.submit(read_shared_keys, module, analytics, workspace) if workspace_after.get("id") else None
            customer_id = workspace_after.get("customer_id")
            heartbeat_future = pool.submit(read_heartbeats, module, customer_id, params["heartbeat_computers"],
                                           params["heartbeat_max_age_minutes"]) \
                if params.get("heartbeat_computers") is not None and customer_id else None
        steps = [("solution", solution_future), ("link", link_future), ("keys", keys_future), ("heartbeats", heartbeat_future),
                 ("registration", registration_future)]
        steps = [(name, future) for name, future in steps if future is not None]
        done = wait_all(module, [future for _name, future in steps] + group_futures)
    outcomes = dict((name, outcome) for (name, _future), outcome in zip(steps, done))
    group_outcomes = done[len(steps):]
    link_outcome, keys, heartbeats = outcomes.get("link"), outcomes.get("keys"), outcomes.get("heartbeats")
    registration = outcomes["registration"] if registration_future is not None else account_registration(account)

    changes, before, after, result = [], {}, {}, {}
    if with_workspace:
        before["workspace"], after["workspace"] = workspace_diff_view(workspace_before), workspace_diff_view(workspace_after)
        if workspace_changed:
            changes.append("workspace %s %s" % (workspace["name"], "updated" if workspace_before else "created"))
        changed, before["solution"], solution = outcomes["solution"]
        after["solution"] = solution
        if changed:
            changes.append("solution %s enabled" % SOLUTION)
        result.update(workspace=workspace_after, solution=solution)
    if link_outcome is not None:
        changed, link_before, link = link_outcome
        before["linked_service"] = dict(resource_id=link_before.get("resource_id")) if link_before else {}
        after["linked_service"] = dict(resource_id=link.get("resource_id"))
        result["linked_service"] = link
        if changed:
            changes.append("workspace linked to Automation account %s" % account_name)
    result["groups"], result["missing_groups"], before["groups"], after["groups"] = [], [], [], []
    for name, (changed, group_before, group_after, outcome) in zip(names, group_outcomes):
        if outcome.get("missing"):
            result["missing_groups"].append(name)
            continue
        before["groups"].append(group_before)
        after["groups"].append(group_after)
        if changed:
            changes.append("worker group %s %s" % (name, "updated" if group_before else "created"))
        view = dict(outcome["group"])
        view["workers"] = sorted(outcome.get("workers") or [], key=lambda w: (w["name"] or "").lower())
        result["groups"].append(view)
    if with_workspace:
        result["workspace_key"] = keys["primary_shared_key"] if keys else ""
    result["registration"] = registration
    if heartbeats is not None:
        result["heartbeat_query"], result["heartbeats"], result["heartbeat_missing"] = heartbeats
    result["changes"] = changes
    result["changed"] = bool(changes)
    if module.diff_mode:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
