#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, azure_automation.hybrid_worker maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds the documentation only: the work is done by the action plugin of the same name on the controller.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: win_hybrid_worker_converge
short_description: Bring a Windows host to its agent-based Hybrid Runbook Worker state at the cost of one read
version_added: 0.2.0
description:
  - Reads the host once with M(azure_automation.hybrid_worker.win_hybrid_worker_info), compares the result with the
    desired agent, worker and PowerShell module settings (the same rules as the
    C(azure_automation.hybrid_worker.hybrid_worker_drift) filter) and runs, on this host only, the modules of the
    concerns that differ - M(azure_automation.hybrid_worker.win_log_analytics_agent),
    M(azure_automation.hybrid_worker.win_hybrid_runbook_worker), M(community.windows.win_psmodule) per missing
    PowerShell module. A converged host costs one WinRM module call.
  - A worker whose registration the host still holds but that Azure no longer lists in its group (see
    O(azure_workers)) is registered again.
  - A module that fails does not fail the task; RV(outcome) says which step failed and why, so that a fleet run can
    finish the other hosts and report the failure at the end. A host that cannot be reached fails as unreachable.
options:
  agent:
    description:
      - The arguments of M(azure_automation.hybrid_worker.win_log_analytics_agent). Keys set to V(null) or an empty
        string are left out, so the module's defaults apply. Not given, the agent is not looked at.
    type: dict
  worker:
    description:
      - The arguments of M(azure_automation.hybrid_worker.win_hybrid_runbook_worker) (C(state), C(group_name),
        C(url), C(key), C(wait_timeout)). Not given, the worker is not looked at.
    type: dict
  powershell_modules:
    description: PowerShell modules runbooks need; the missing ones are installed.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The module name.
        type: str
        required: true
      version:
        description: The version that must be installed; any version when not given.
        type: str
      repository:
        description: The PowerShell repository to install from.
        type: str
  azure_workers:
    description:
      - The computer names Azure lists as workers of the host's group, as read in the same run. When the host is
        registered in that group but its computer name is not in the list, the worker is registered again.
      - Not given, the Azure side is not compared.
    type: list
    elements: str
  computer_name:
    description: The name Azure lists the host's worker by (its computer name); needed with O(azure_workers).
    type: str
  report_only:
    description: Only read and compare; run no other module (RV(drift) tells what would change).
    type: bool
    default: false
  from_variables:
    description:
      - Take the options not given from the host's variables, as the collection's C(onboard.yml) does - O(agent)
        from the C(log_analytics_agent_*) variables of the C(azure_automation.hybrid_worker.log_analytics_agent) role,
        with the same defaults (the workspace ID and key default to the C(automation_prerequisites_workspace_id) and
        C(automation_prerequisites_workspace_key) facts), O(worker) from C(hybrid_runbook_worker_group),
        C(hybrid_runbook_worker_registration_url) and C(hybrid_runbook_worker_registration_key) (by default the
        C(automation_prerequisites_registration_url) and C(automation_prerequisites_registration_key) facts) and
        C(hybrid_runbook_worker_wait_timeout), O(powershell_modules) from C(hybrid_runbook_worker_powershell_modules),
        O(azure_workers) from the host group's entry in C(hybrid_worker_azure_workers_before), O(computer_name) from
        C(hybrid_worker_computer_name) (default the short inventory name), in upper case.
      - Only the variables a host sets are templated, which costs the controller less than an expression per option.
      - Fails when C(hybrid_runbook_worker_group) or the registration URL or key are not set.
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The modules of the drifted concerns run in check mode.
  diff_mode:
    support: full
    details: The diffs of the modules that ran.
  platform:
    platforms:
      - windows
notes:
  - First onboarding of a bare host costs three module calls (the read, the agent, the worker) plus one per missing
    PowerShell module.
  - The secrets in O(agent) and O(worker) reach only their modules, which do not return them.
seealso:
  - module: azure_automation.hybrid_worker.win_hybrid_worker_info
  - module: azure_automation.hybrid_worker.hybrid_worker_prerequisites
author:
  - Hybrid worker collection maintainers (@azure-automation)
"""

EXAMPLES = r"""
- name: Onboard the host, or correct only what drifted
  azure_automation.hybrid_worker.win_hybrid_worker_converge:
    agent:
      workspaces:
        - id: "{{ workspace_id }}"
          key: "{{ workspace_key }}"
      installer_checksum: 8b8a4c4d6b4c07e5f4f8a7b4f1c1a5b9e0f2d3c4b5a69788796a5b4c3d2e1f00
    worker:
      group_name: east
      url: "{{ registration_url }}"
      key: "{{ registration_key }}"
    powershell_modules:
      - name: Az.Accounts
        version: 2.19.0
  register: converged

- name: Only report how the host differs
  azure_automation.hybrid_worker.win_hybrid_worker_converge:
    worker:
      group_name: east
      url: "{{ registration_url }}"
      key: "{{ registration_key }}"
    report_only: true
  register: drift
"""

RETURN = r"""
outcome:
  description: The host's outcome for a fleet summary.
  returned: always
  type: dict
  contains:
    status:
      description: C(onboarded), or C(failed) when a step failed.
      type: str
    group:
      description: The worker group asked for.
      type: str
    changed:
      description: Whether anything on the host changed (or would, in check mode).
      type: bool
    previous_group:
      description: The group the worker module moved the host from, if it did.
      type: str
    registered_group:
      description: The group the host was registered in when read (V(null) when none or several).
      type: str
    task:
      description: The step that failed.
      type: str
      returned: when status is failed
    message:
      description: The failed module's message.
      type: str
      returned: when status is failed
drift:
  description: How the host differed from the desired settings, one sentence each.
  returned: always
  type: list
  elements: str
  sample: ["agent service HealthService not running"]
concerns:
  description: The concerns that needed their module (C(agent), C(worker), C(powershell_modules), C(reregister)).
  returned: always
  type: list
  elements: str
steps:
  description: The module calls made, in order, each with its module name, C(changed) and, on failure, C(msg).
  returned: always
  type: list
  elements: dict
"""
