#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, azure_automation.hybrid_worker maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds the documentation only: the work is done by the action plugin of the same name on the controller.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: hybrid_worker_extension_fleet_summary
short_description: Verify an extension-based fleet run in Azure and work out its summary per worker group
version_added: 0.2.0
description:
  - Runs once on the controller at the end of a fleet run (C(run_once), delegated to C(localhost)). Takes each
    host's outcome from its registered M(azure_automation.hybrid_worker.win_hybrid_worker_extension_converge) result
    and, for a host the Azure-side play ran for, from that play's record (O(azure_result_var)); a host without a
    result was unreachable.
  - A worker is verified once Azure has seen it in its group (its C(lastSeenDateTime) after its registration). When
    no host changed and the worker listing read before the host play in the same run (O(before)) shows every
    onboarded host's worker as seen, that listing is the verification and nothing is read. Otherwise it lists the
    groups again with M(azure_automation.hybrid_worker.hybrid_worker_group_info), once per attempt, until every
    onboarded host's worker has been seen (not in check mode).
  - The Azure module gets the play's C(module_defaults) for C(group/azure_automation.hybrid_worker.azure).
options:
  hosts:
    description: The hosts the run targeted.
    type: list
    elements: str
    required: true
  before:
    description:
      - "The worker index read before the host play: C({workers: {<lower-case Arc machine id>: [{group, id,
        registered, last_seen}]}}), as the C(azure_listing) tasks of the
        P(azure_automation.hybrid_worker.hybrid_worker_extension#role) role set it."
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
  retries:
    description: How many times to list the groups again while some worker has not been seen.
    type: int
    default: 10
  delay:
    description: Seconds between two listings.
    type: float
    default: 30
  result_var:
    description: The variable each host registered its win_hybrid_worker_extension_converge result in.
    type: str
    default: hybrid_worker_converged
  azure_result_var:
    description:
      - The variable holding, for a host the Azure-side play ran for, C({status, changed, task, message}) (status
        V(done) or V(failed)).
    type: str
    default: hybrid_worker_azure_side
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Nothing is verified; the lines say what would be onboarded.
  diff_mode:
    support: none
  platform:
    platforms: all
seealso:
  - module: azure_automation.hybrid_worker.win_hybrid_worker_extension_converge
  - module: azure_automation.hybrid_worker.hybrid_worker_group_info
author:
  - Hybrid worker collection maintainers (@azure-automation)
"""

EXAMPLES = r"""
- name: Verify the run and work out the summary
  azure_automation.hybrid_worker.hybrid_worker_extension_fleet_summary:
    hosts: "{{ ansible_play_hosts_all }}"
    before: "{{ hostvars['localhost'].hybrid_worker_extension_azure }}"
    resource_group: rg-automation
    automation_account: aa-hybrid-workers
  run_once: true
  delegate_to: localhost
  register: summary

- name: Summary per worker group
  ansible.builtin.debug:
    msg: "{{ summary.lines }}"
  run_once: true
"""

RETURN = r"""
lines:
  description: One line per worker group.
  returned: always
  type: list
  elements: str
  sample: ["east: 6/7 onboarded (extension-based), 1 changed (win-004), failed: win-001"]
onboarded:
  description: The hosts that are onboarded (and verified, outside check mode).
  returned: always
  type: list
  elements: str
problems:
  description: The hosts that are not onboarded, each with its group, status (failed, unreachable, unverified) and detail.
  returned: always
  type: dict
read_again:
  description: Whether Azure was read again (some host changed, or a worker was not seen before).
  returned: always
  type: bool
"""
