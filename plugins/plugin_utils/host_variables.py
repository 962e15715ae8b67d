# Copyright: contributors to the azure_automation.hybrid_worker collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``from_variables`` option of the per-host converge actions (win_hybrid_worker_converge,
win_hybrid_worker_extension_converge): the arguments a task does not give come from the host's variables.

Reading the variables in the action templates only the ones a host sets; the same arguments as a templated
``default()`` expression each would cost more controller time per host than the host's own module call.
"""

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.host_drift import MissingVariable


def task_arguments(action, task_vars, from_host):
    """The task's arguments; with ``from_variables: true``, ``from_host(variable)`` supplies those the task does not
    give. ``variable(name)`` returns the host's templated value of ``name`` and raises KeyError when it is not set."""
    args = dict(action._task.args)  # pylint: disable=protected-access
    try:
        from_variables = boolean(args.pop("from_variables", False), strict=True)
    except TypeError as exc:
        raise AnsibleActionFail("from_variables must be a boolean: %s" % exc) from exc
    if not from_variables:
        return args

    def variable(name):
        if name not in task_vars:
            raise KeyError(name)
        return action._templar.template(task_vars[name])  # pylint: disable=protected-access

    try:
        found = from_host(variable)
    except MissingVariable as exc:
        raise AnsibleActionFail(str(exc)) from exc
    found.update(args)
    return found
