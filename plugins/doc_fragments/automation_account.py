# -*- coding: utf-8 -*-
# Copyright: contributors to the azure_automation.hybrid_worker collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The Automation account that account-scoped modules work in.
    DOCUMENTATION = r"""
options:
  resource_group:
    description: The resource group of the Automation account.
    type: str
    required: true
  automation_account:
    description: The Automation account (6-50 letters, digits or hyphens).
    type: str
    required: true
"""
