#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, azure_automation.hybrid_worker maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds the documentation only: the work is done by the action plugin of the same name on the controller.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: win_hybrid_worker_extension_converge
short_description: Arc agent of an extension-based Hybrid Runbook Worker, and what Azure lacks for the host, in one call
version_added: 0.2.0
description:
  - Runs M(azure_automation.hybrid_worker.win_connected_machine_agent) once on the host - it installs and connects
    the Azure Connected Machine agent when needed, removes stale extension-based worker registry keys and reports
    the worker service - then works out on the controller, without an Azure request, what Azure lacks for the host
    compared with O(azure), the worker listing read once for the fleet.
  - The rules are those of the P(azure_automation.hybrid_worker.hybrid_worker_extension#role) role - the worker
    record must be removed from other groups (a machine can be in one group only), written in its group when it is
    missing there, and the controller modules must look at everything (record and C(HybridWorkerForWindows)
    extension) when the listing is unknown, the agent changed, or the worker service is not running on the host.
    RV(azure_work) says so; the Azure modules are not run by this task.
  - A converged host costs one WinRM module call; a host whose agent must connect costs two (see O(from_variables)).
  - A failure does not fail the task; RV(outcome) says which step failed and why, so that a fleet run can finish the
    other hosts and report the failure at the end. A host that cannot be reached fails as unreachable.
options:
  arc_agent:
    description:
      - The arguments of M(azure_automation.hybrid_worker.win_connected_machine_agent). Keys set to V(null) or an
        empty string are left out, so the module's defaults apply.
      - The tenant, subscription, resource group, location, service principal id and secret must be set; without
        them the host's outcome is C(failed) and the module does not run.
    type: dict
  group:
    description: The host's worker group.
    type: str
  azure:
    description:
      - "The workers Azure lists, as the collection's playbooks index them once per run:
        C({workers: {<lower-case Arc machine id>: [{group, id}]}})."
      - Empty or not given means unknown; RV(azure_work) then asks for every controller step (they stay idempotent).
    type: dict
  from_variables:
    description:
      - Take the options not given from the host's variables, as the collection's C(onboard.yml) does - O(arc_agent)
        from the C(arc_agent_*) variables of the P(azure_automation.hybrid_worker.arc_agent#role) role with the same
        meaning and defaults (only the variables a host sets are templated), O(group) from
        C(hybrid_worker_extension_group) or C(hybrid_runbook_worker_group), O(azure) from
        C(hybrid_worker_extension_azure) (the host's fact of that name, which C(onboard.yml) sets on every host
        once for the play; else the fact of that name on C(localhost)).
      - The service principal secret (C(arc_agent_service_principal_secret)) is read only for a host whose agent must
        connect. The module runs first without it; when it answers that the agent must connect (its result
        C(secret_required)), the variable is templated and the module runs again with it. A host whose agent is
        connected as asked is never sent the secret, and a vaulted or looked-up secret is not evaluated for it.
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module runs in check mode.
  diff_mode:
    support: full
    details: The module's diff.
  platform:
    platforms:
      - windows
notes:
  - The service principal secret reaches only the module, which does not return it, and with O(from_variables)
    only on hosts whose agent must connect.
seealso:
  - module: azure_automation.hybrid_worker.win_connected_machine_agent
  - module: azure_automation.hybrid_worker.hybrid_worker
  - module: azure_automation.hybrid_worker.arc_machine_extension
author:
  - Hybrid worker collection maintainers (@azure-automation)
"""

EXAMPLES = r"""
- name: Arc agent of the host, and what Azure lacks for it
  azure_automation.hybrid_worker.win_hybrid_worker_extension_converge:
    from_variables: true
  register: converged

- name: The same with explicit arguments
  azure_automation.hybrid_worker.win_hybrid_worker_extension_converge:
    arc_agent:
      installer_checksum: 8b8a4c4d6b4c07e5f4f8a7b4f1c1a5b9e0f2d3c4b5a69788796a5b4c3d2e1f00
      tenant_id: 11111111-2222-3333-4444-555555555555
      subscription_id: 00000000-0000-0000-0000-000000000000
      resource_group: arc-servers
      location: westeurope
      service_principal_id: 66666666-7777-8888-9999-000000000000
      service_principal_secret: "{{ vault_arc_secret }}"
    group: east
    azure: "{{ hostvars['localhost'].hybrid_worker_extension_azure }}"
  register: converged
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
      description: Whether the agent on the host changed (or would, in check mode).
      type: bool
    machine_id:
      description: The Azure Arc machine's resource id in lower case; empty when the agent is not connected.
      type: str
    task:
      description: The step that failed.
      type: str
      returned: when status is failed
    message:
      description: The failed step's message.
      type: str
      returned: when status is failed
azure_work:
  description: What Azure lacks for the host.
  returned: always
  type: dict
  contains:
    needed:
      description:
        - Whether any controller step must run for the host.
        - Never in check mode when the agent would change, as its Azure Arc machine may not exist yet.
      type: bool
    machine_id:
      description: The Azure Arc machine's resource id.
      type: str
      returned: when the agent was read
    records:
      description: The worker records Azure lists for the machine (C(group), C(id)).
      type: list
      elements: dict
      returned: when the agent was read
    remove:
      description: The records in other groups, to remove before the record in its group is written.
      type: list
      elements: dict
      returned: when the agent was read
    record:
      description: Whether the worker record in the host's group must be written (or checked).
      type: bool
      returned: when the agent was read
    check_all:
      description: Whether the record and the extension must both be checked by their modules.
      type: bool
      returned: when the agent was read
    reasons:
      description: Why, one phrase each.
      type: list
      elements: str
      returned: when the agent was read
agent:
  description: The result of M(azure_automation.hybrid_worker.win_connected_machine_agent) (its documented return values).
  returned: when the module ran
  type: dict
"""
