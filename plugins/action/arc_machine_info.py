# Copyright: contributors to the azure_automation.hybrid_worker collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of the arc_machine_info module: its main() in the controller's process when that is the same as running the module
(plugins/plugin_utils/azure_in_process.py says when), else the module as usual."""

from ansible_collections.azure_automation.hybrid_worker.plugins.plugin_utils.azure_in_process import AzureModuleAction


class ActionModule(AzureModuleAction):
    pass
