# -*- coding: utf-8 -*-
# Copyright: contributors to the azure_automation.hybrid_worker collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import yaml

from ansible_collections.azure_automation.hybrid_worker.plugins.doc_fragments.azure import ModuleDocFragment as AzureModuleDocFragment
from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure import azure_argument_spec

# Options that only steer long-running writes or the Log Analytics query API; the plugins only read ARM.
NOT_FOR_PLUGINS = ("polling_interval", "wait_timeout", "log_analytics_url")


def plugin_options_from_module_docs(module_docs, argument_spec):
    """The modules' authentication options as plugin options: same names, text and defaults, plus ``env`` entries.

    Plugins take no module fallbacks, so each option lists the environment variables of its module fallback. Ansible
    lets the last variable found win while a module fallback takes the first found, hence the reversed order.
    """
    docs = yaml.safe_load(module_docs)
    options = {}
    for name, option in docs["options"].items():
        if name in NOT_FOR_PLUGINS:
            continue
        option = dict(option)
        fallback = argument_spec.get(name, {}).get("fallback")
        if fallback:
            option["env"] = [{"name": variable} for variable in reversed(fallback[1])]
        options[name] = option
    return yaml.safe_dump({"options": options, "requirements": docs.get("requirements", [])}, sort_keys=True, width=160)


class ModuleDocFragment(object):
    # The shared Azure authentication options for the collection's plugins (inventory): derived from the modules'
    # fragment so both stay the same; values come from the plugin's configuration file or the environment.
    DOCUMENTATION = plugin_options_from_module_docs(AzureModuleDocFragment.MODULES, azure_argument_spec())
