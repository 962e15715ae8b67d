#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, azure_automation.hybrid_worker maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds the documentation only: the work is done by the action plugin of the same name on the controller.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: hybrid_worker_fleet_summary
short_description: Verify an agent-based fleet run in Azure and summarise it per worker group
version_added: 0.2.0
description:
  - Runs once on the controller at the end of a fleet run (C(run_once), delegated to C(localhost)). Takes each
    host's outcome from its registered M(azure_automation.hybrid_worker.win_hybrid_worker_converge) result; a host
    without one was unreachable.
  - When no host changed, the worker listing and heartbeats read before the host play in the same run (O(before))
    are the verification, as nothing touched the workers since. Otherwise, or when a host's heartbeat was missing
    then, it lists the groups again with M(azure_automation.hybrid_worker.hybrid_worker_group_info) and waits for
    the heartbeats with M(azure_automation.hybrid_worker.log_analytics_heartbeat_info) (not in check mode).
  - Deletes the older worker records of hosts that registered anew (M(azure_automation.hybrid_worker.hybrid_worker)).
  - Returns one summary line per worker group and one line per host that is not onboarded, printed like
    M(ansible.builtin.debug) prints its message.
  - The Azure modules get the play's C(module_defaults) for C(group/azure_automation.hybrid_worker.azure).
options:
  hosts:
    description: The hosts the run targeted.
    type: list
    elements: str
    required: true
  result_var:
    description: The variable each host registered its win_hybrid_worker_converge result in.
    type: str
    default: hybrid_worker_converged
  before:
    description: The M(azure_automation.hybrid_worker.hybrid_worker_prerequisites) result read before the host play.
    type: dict
    required: true
  resource_group:
    description: The resource group of the Automation account.
    type: str
    required: true
  automation_account:
    description: The Automation account.
    type: str
    required: true
  max_age_minutes:
    description: A heartbeat older than this counts as missing.
    type: int
    default: 30
  heartbeat_retries:
    description: How many times to query the heartbeats again while some are missing, after changes.
    type: int
    default: 10
  heartbeat_delay:
    description: Seconds between two heartbeat queries.
    type: float
    default: 30
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads only; the older records it would delete are reported as changes.
  diff_mode:
    support: none
  platform:
    platforms: all
seealso:
  - module: azure_automation.hybrid_worker.win_hybrid_worker_converge
  - module: azure_automation.hybrid_worker.hybrid_worker_prerequisites
author:
  - Hybrid worker collection maintainers (@azure-automation)
"""

EXAMPLES = r"""
- name: Summary per worker group
  azure_automation.hybrid_worker.hybrid_worker_fleet_summary:
    hosts: "{{ hybrid_worker_targeted_hosts }}"
    before: "{{ automation_prerequisites_azure }}"
    resource_group: rg-automation
    automation_account: aa-hybrid-workers
  run_once: true
  delegate_to: localhost
  register: summary
"""

RETURN = r"""
msg:
  description: One line per worker group, then one line per host that is not onboarded.
  returned: always
  type: list
  elements: str
  sample: ["east: 6/7 onboarded, 1 changed (win-004), failed: win-001", "win-001 failed: failed in \"Log Analytics agent\": ..."]
problems:
  description: The hosts that are not onboarded, each with its group, status (failed, unreachable, unverified) and detail.
  returned: always
  type: dict
automation_account:
  description: The Automation account the run was verified against, as C(resource group/account).
  returned: always
  type: str
  sample: rg-automation/aa-hybrid-workers
read_again:
  description: Whether Azure was read again (some host changed, or a heartbeat was missing before).
  returned: always
  type: bool
deleted_records:
  description: The older worker records deleted (or, in check mode, that would be).
  returned: always
  type: list
  elements: dict
"""
