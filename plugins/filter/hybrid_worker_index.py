# Copyright: (c) 2026, azure_automation.hybrid_worker maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hybrid_worker_index filter: the extension-based workers of worker groups, indexed by Arc machine id.

The index is built by module_utils/extension_fleet.py, which the win_hybrid_worker_extension_converge and
hybrid_worker_extension_fleet_summary actions read it with.
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.extension_fleet import index_workers


def hybrid_worker_index(groups):
    """``{workers: {<lower-case Arc machine id>: [records]}}`` from a list of worker groups with their workers."""
    if groups is None:
        groups = []
    if not isinstance(groups, list):
        found = type(groups).__name__
    else:
        items = [type(group).__name__ for group in groups if not isinstance(group, Mapping)]
        found = "a list with a %s item" % items[0] if items else None
    if found:
        raise AnsibleFilterError("hybrid_worker_index needs the groups list that hybrid_worker_group_info or "
                                 "hybrid_worker_prerequisites returns, not %s." % found)
    return index_workers(groups)


class FilterModule:
    """Ansible filters of the hybrid_worker collection."""

    def filters(self):
        return {"hybrid_worker_index": hybrid_worker_index}
