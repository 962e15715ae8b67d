"""from_variables of the converge actions: which arguments come from the task and which from the host."""
import types

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.host_drift import MissingVariable
from ansible_collections.azure_automation.hybrid_worker.plugins.plugin_utils.host_variables import task_arguments


class UpperTemplar:
    """Stands for the host's templar: marks what it templated."""

    @staticmethod
    def template(value):
        return value.upper()


def action(**args):
    return types.SimpleNamespace(_task=types.SimpleNamespace(args=args), _templar=UpperTemplar())


def group_of(variable):
    return {"group": variable("hybrid_runbook_worker_group"), "computer_name": variable("computer")}


def test_without_from_variables_the_task_arguments_are_used_as_given():
    assert task_arguments(action(group="east"), {"hybrid_runbook_worker_group": "west"}, group_of) == {"group": "east"}


def test_the_host_variables_are_templated_and_the_task_arguments_win():
    found = task_arguments(action(from_variables=True, computer_name="given"),
                           {"hybrid_runbook_worker_group": "west", "computer": "host"}, group_of)
    assert found == {"group": "WEST", "computer_name": "given"}


def test_a_variable_the_arguments_need_fails_the_task_with_its_sentence():
    def needs_group(variable):
        try:
            return {"group": variable("hybrid_runbook_worker_group")}
        except KeyError:
            raise MissingVariable("hybrid_runbook_worker_group is not set for this host") from None

    with pytest.raises(AnsibleActionFail, match="^hybrid_runbook_worker_group is not set for this host$"):
        task_arguments(action(from_variables=True), {}, needs_group)


def test_from_variables_must_be_a_boolean():
    with pytest.raises(AnsibleActionFail, match="^from_variables must be a boolean: "):
        task_arguments(action(from_variables="sometimes"), {}, group_of)
