# -*- coding: utf-8 -*-
# Copyright: contributors to the azure_automation.hybrid_worker collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The environment variables of the shared Azure options, for plugins. Plugins take options from their
    # configuration and the environment rather than from module fallbacks, so a plugin uses this fragment together
    # with azure.modules, which documents the options themselves (Ansible merges the two per option). Ansible keeps
    # the last variable it finds and a module fallback the first, so each list is the module fallback reversed.
    DOCUMENTATION = r"""
options:
  auth_source:
    env:
      - name: ANSIBLE_AZURE_AUTH_SOURCE
  subscription_id:
    env:
      - name: AZURE_SUBSCRIPTION_ID
  client_id:
    env:
      - name: AZURE_CLIENT_ID
  secret:
    env:
      - name: AZURE_CLIENT_SECRET
      - name: AZURE_SECRET
  tenant:
    env:
      - name: AZURE_TENANT_ID
      - name: AZURE_TENANT
  profile:
    env:
      - name: AZURE_PROFILE
  cloud_environment:
    env:
      - name: AZURE_CLOUD_ENVIRONMENT
  authority_host:
    env:
      - name: AZURE_AUTHORITY_HOST
  resource_manager_url:
    env:
      - name: AZURE_RESOURCE_MANAGER_URL
  log_analytics_url:
    env:
      - name: AZURE_LOG_ANALYTICS_URL
  ca_bundle:
    env:
      - name: AZURE_CA_BUNDLE
notes:
  - In plugins, which only read, O(polling_interval) and O(wait_timeout) have no effect.
"""
