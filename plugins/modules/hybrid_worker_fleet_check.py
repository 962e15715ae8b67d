#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, azure_automation.hybrid_worker maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds the documentation only: the work is done by the action plugin of the same name on the controller.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: hybrid_worker_fleet_check
short_description: Check a fleet's inventory once, on the controller, before anything changes
version_added: 0.2.0
description:
  - Reads the variables of every host given and sorts the hosts by C(hybrid_worker_type) (C(agent) or
    C(extension); a host without one gets O(default_type)). An unknown type fails the task, naming the host.
  - With O(agent_onboarding=true), also refuses, for the agent-based hosts, a host without
    C(hybrid_runbook_worker_group), a group name Azure refuses, and an agent installer downloaded from
    C(log_analytics_agent_installer_url) without C(log_analytics_agent_installer_checksum).
  - With O(extension_onboarding=true), also refuses, for the extension-based hosts, a host without a worker group
    (C(hybrid_worker_extension_group) or C(hybrid_runbook_worker_group)), a group name Azure refuses, and a host
    that leaves one of the Azure Arc inputs of the P(azure_automation.hybrid_worker.arc_agent#role) role empty
    (C(arc_agent_tenant_id), C(arc_agent_subscription_id), C(arc_agent_resource_group), C(arc_agent_location),
    C(arc_agent_service_principal_id), C(arc_agent_service_principal_secret)).
  - One task for the whole fleet - run it with C(run_once) - instead of a check per host; it connects to no host.
options:
  hosts:
    description: The inventory hosts to check, usually C(ansible_play_hosts_all).
    type: list
    elements: str
    required: true
  default_type:
    description: The worker type of a host that sets no C(hybrid_worker_type).
    type: str
    default: extension
  agent_onboarding:
    description: Also check what agent-based onboarding needs from the inventory.
    type: bool
    default: false
  extension_onboarding:
    description: Also check what extension-based onboarding needs from the inventory.
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads variables only.
  diff_mode:
    support: none
  platform:
    platforms: all
author:
  - Hybrid worker collection maintainers (@azure-automation)
"""

EXAMPLES = r"""
- name: Check the fleet and sort it by worker type
  azure_automation.hybrid_worker.hybrid_worker_fleet_check:
    hosts: "{{ ansible_play_hosts_all }}"
    agent_onboarding: true
  run_once: true
  register: fleet_check

- name: Remember the hosts of each type on the controller, for the plays that follow
  ansible.builtin.set_fact:
    hybrid_worker_hosts_by_type: "{{ fleet_check.types }}"
  delegate_to: localhost
  delegate_facts: true
  run_once: true
# A later play over the agent-based hosts only then sets
#   hosts: "{{ hostvars['localhost'].hybrid_worker_hosts_by_type.agent | default([]) }}"
"""

RETURN = r"""
types:
  description: The hosts of each worker type.
  returned: always
  type: dict
  sample: {"agent": ["win-001"], "extension": ["win-002", "win-003"]}
problems:
  description: What stops agent-based or extension-based onboarding, one sentence per problem.
  returned: when O(agent_onboarding=true) or O(extension_onboarding=true) finds problems
  type: list
  elements: str
"""
