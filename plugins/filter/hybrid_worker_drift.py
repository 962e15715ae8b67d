# Copyright: (c) 2026, azure_automation.hybrid_worker maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hybrid_worker_drift filter: what differs between a win_hybrid_worker_info result and the desired settings.

The comparison itself lives in module_utils/host_drift.py, shared with the win_hybrid_worker_converge action.
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.host_drift import host_drift


def hybrid_worker_drift(probe, agent=None, worker=None, powershell_modules=None):
    """What differs between the probe result and the desired settings of each concern that is given.

    ``agent``: ``{state, workspaces, remove_unlisted_workspaces, minimum_version, proxy_url, fix_tls_settings}``;
    ``worker``: ``{state, group, registration_url}``; ``powershell_modules``: ``[{name, version, repository}]``.
    """
    try:
        return host_drift(probe, agent=agent, worker=worker, powershell_modules=powershell_modules)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    """Ansible filters of the hybrid_worker collection."""

    def filters(self):
        return {"hybrid_worker_drift": hybrid_worker_drift}
