"""The in-process stand-in for AnsibleModule against AnsibleModule itself, and when the action plugins use it."""
import json
import os
import sys
import subprocess

import pytest
import yaml

from ansible.module_utils import basic
from ansible.module_utils.common.json import Direction, get_module_encoder
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.action import ActionBase
from ansible.template import Templar

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils import azure as azure_utils
from ansible_collections.azure_automation.hybrid_worker.plugins.plugin_utils import azure_in_process as in_process

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
NAME = "azure_automation.hybrid_worker.hybrid_worker_group"
SECRET = "s3cret-value-that-must-not-show"
SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    token=dict(type="str", no_log=True, fallback=(basic.env_fallback, ["IN_PROCESS_TEST_TOKEN"])),
    count=dict(type="int", default=3),
    workspace_id=dict(type="str"),
    workspace_name=dict(type="str"),
)
CONSTRAINTS = dict(mutually_exclusive=[("workspace_id", "workspace_name")], required_by={"workspace_name": "name"})


def as_json(result):
    """A result as the controller would read it: through the modules' JSON encoder."""
    return json.loads(json.dumps(result, cls=get_module_encoder(in_process.MODULE_PROFILE, Direction.MODULE_TO_CONTROLLER)))


def run_ansible_module(capsys, args, check_mode=False, supports_check_mode=True, finish=None):
    """AnsibleModule itself with these arguments; its printed result."""
    internal = dict(_ansible_module_name=NAME, _ansible_check_mode=check_mode, _ansible_no_log=True, _ansible_diff=False,
                    _ansible_tracebacks_for=[])
    basic._ANSIBLE_ARGS = json.dumps(dict(ANSIBLE_MODULE_ARGS=dict(args, **internal))).encode("utf-8")  # pylint: disable=protected-access
    basic._ANSIBLE_PROFILE = in_process.MODULE_PROFILE  # pylint: disable=protected-access
    try:
        with pytest.raises(SystemExit):
            module = basic.AnsibleModule(argument_spec=dict(SPEC), supports_check_mode=supports_check_mode, **CONSTRAINTS)
            (finish or (lambda m: m.exit_json(changed=True, echoed=m.params["token"])))(module)
    finally:
        basic._ANSIBLE_ARGS = None  # pylint: disable=protected-access
    return json.loads(capsys.readouterr().out)


def run_stand_in(args, check_mode=False, supports_check_mode=True, finish=None):
    """The stand-in with the same arguments; its result."""
    invocation = in_process.Invocation(NAME, in_process.as_module_receives(args), check_mode, False)
    with pytest.raises(in_process.ModuleReturned) as returned:
        module = in_process.InProcessModule(invocation, argument_spec=dict(SPEC), supports_check_mode=supports_check_mode, **CONSTRAINTS)
        (finish or (lambda m: m.exit_json(changed=True, echoed=m.params["token"])))(module)
    return as_json(returned.value.result)


@pytest.mark.parametrize("args", [
    pytest.param(dict(name="g1", token=SECRET), id="no_log value removed everywhere"),
    pytest.param(dict(name="g1", colour="blue"), id="unsupported parameter"),
    pytest.param(dict(state="present"), id="missing required argument"),
    pytest.param(dict(name="g1", state="gone"), id="value not among the choices"),
    pytest.param(dict(name="g1", count="many"), id="wrong type"),
    pytest.param(dict(name="g1", workspace_id="a", workspace_name="b"), id="mutually exclusive"),
    pytest.param(dict(name="g1", count="7"), id="conversion and defaults"),
])
def test_the_stand_in_answers_as_ansible_module_does(capsys, args):
    assert run_stand_in(args) == run_ansible_module(capsys, args)


def test_environment_fallbacks_and_their_no_log(capsys, monkeypatch):
    monkeypatch.setenv("IN_PROCESS_TEST_TOKEN", SECRET)
    expected = run_ansible_module(capsys, dict(name="g1"))
    assert run_stand_in(dict(name="g1")) == expected
    assert SECRET not in json.dumps(expected)
    assert expected["echoed"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_check_mode_is_refused_as_ansible_module_does(capsys):
    args = dict(name="g1")
    expected = run_ansible_module(capsys, args, check_mode=True, supports_check_mode=False)
    assert expected["skipped"] is True
    assert run_stand_in(args, check_mode=True, supports_check_mode=False) == expected


def test_a_failure_keeps_its_extra_keys_and_drops_secrets(capsys):
    def fail(module):
        module.fail_json(msg="Failed to read group 'g1': Conflict: token %s refused" % SECRET, error_code="Conflict", status_code=409)
    args = dict(name="g1", token=SECRET)
    expected = run_ansible_module(capsys, args, finish=fail)
    assert run_stand_in(args, finish=fail) == expected
    assert expected["failed"] is True and SECRET not in json.dumps(expected)


def test_warnings_are_returned_with_the_result():
    def warn(module):
        module.warn("the group has no workers")
        module.exit_json(changed=False)
    result = run_stand_in(dict(name="g1"), finish=warn)
    assert [w["event"]["msg"] for w in result["warnings"]] == ["the group has no workers"]


class FakeTask:
    def __init__(self, **kwargs):
        self.async_val = 0
        self.delegate_to = None
        self.check_mode = False
        self.diff = False
        self.environment = []
        self.collections = []
        self.args = {}
        self.__dict__.update(kwargs)


class FakeConnection:
    def __init__(self, transport="local", become=None):
        self.transport = transport
        self.become = become
        self._remote_is_local = False


class FakePlayContext:
    become = False


class FakeAction:
    """What in_process uses of an action plugin; _parse_returned_data is ActionBase's own."""
    _parse_returned_data = ActionBase._parse_returned_data  # pylint: disable=protected-access
    _used_interpreter = None

    def __init__(self, task=None, connection=None, environment=None):
        self._task = task or FakeTask()
        self._connection = connection or FakeConnection()
        self._play_context = FakePlayContext()
        self._templar = Templar(loader=DataLoader())
        self._environment = environment or {}

    def _compute_environment_string(self, raw_environment_out):
        raw_environment_out.update(self._environment)


LOCAL_VARS = dict(ansible_python_interpreter=sys.executable)


@pytest.mark.parametrize("action, task_vars, obstacle", [
    pytest.param(FakeAction(), LOCAL_VARS, None, id="local, controller's python"),
    pytest.param(FakeAction(connection=FakeConnection("ssh")), LOCAL_VARS, "the connection is not local", id="ssh"),
    pytest.param(FakeAction(connection=FakeConnection(become=object())), LOCAL_VARS, "the task uses become", id="become"),
    pytest.param(FakeAction(task=FakeTask(async_val=30)), LOCAL_VARS, "the task is async", id="async"),
    pytest.param(FakeAction(), dict(ansible_python_interpreter="/usr/bin/python3-other"),
                 "the module would run under /usr/bin/python3-other, the controller runs %s" % sys.executable, id="other python"),
    pytest.param(FakeAction(), dict(ansible_python_interpreter="auto"),
                 "the host's Python interpreter is found by interpreter discovery", id="discovery"),
    pytest.param(FakeAction(task=FakeTask(delegate_to="localhost")),
                 dict(ansible_python_interpreter="/usr/bin/python3-other", ansible_delegated_vars=dict(localhost=LOCAL_VARS)),
                 None, id="delegated to localhost"),
])
def test_when_the_module_runs_in_process(action, task_vars, obstacle):
    assert in_process.in_process_obstacle(action, task_vars) == obstacle


def test_the_task_environment_is_set_for_the_call_and_restored(monkeypatch):
    monkeypatch.setenv("IN_PROCESS_KEPT", "before")
    monkeypatch.delenv("IN_PROCESS_ADDED", raising=False)
    seen = {}

    class Module:
        @staticmethod
        def main():
            module = azure_utils.MODULE_BACKEND["factory"](argument_spec=dict(name=dict(type="str")), supports_check_mode=True)
            seen.update(kept=os.environ.get("IN_PROCESS_KEPT"), added=os.environ.get("IN_PROCESS_ADDED"))
            module.exit_json(changed=False)

    action = FakeAction(environment=dict(IN_PROCESS_KEPT="during", IN_PROCESS_ADDED=5))
    result = in_process.run_in_process(action, Module, NAME, dict(name="g1"), {})
    assert seen == dict(kept="during", added="5")
    assert os.environ["IN_PROCESS_KEPT"] == "before" and "IN_PROCESS_ADDED" not in os.environ
    assert azure_utils.MODULE_BACKEND["factory"] is basic.AnsibleModule
    assert result["changed"] is False and result["invocation"]["module_args"] == dict(name="g1")


def test_an_unhandled_exception_fails_the_task_as_a_module_would():
    class Module:
        @staticmethod
        def main():
            raise KeyError("properties")

    result = in_process.run_in_process(FakeAction(), Module, NAME, {}, {})
    assert result["failed"] is True
    # What the module wrapper reports for it: the exception's message.
    assert result["exception"].event.msg == "'properties'"
    assert azure_utils.MODULE_BACKEND["factory"] is basic.AnsibleModule


def test_every_azure_module_has_an_action_that_runs_it_in_process():
    with open(os.path.join(ROOT, "meta", "runtime.yml"), encoding="utf-8") as handle:
        runtime = yaml.safe_load(handle)
    assert set(runtime["action_groups"]["azure"]) == in_process.AZURE_MODULES
    for name in in_process.AZURE_MODULES:
        with open(os.path.join(ROOT, "plugins", "action", name + ".py"), encoding="utf-8") as handle:
            source = handle.read()
        assert "(AzureModuleAction)" in source
        # The module (and the SDK with it) is imported by the worker that runs it, never with the action plugin,
        # which the strategy loads in the main process (see azure_in_process.azure_utils).
        assert "plugins.modules import" not in source


def test_loading_an_azure_action_does_not_import_the_sdk():
    # The strategy loads action plugins in the main process; the SDK there would make every later fork dearer.
    probe = ("import sys, importlib\n"
             "for name in %r:\n"
             "    importlib.import_module('ansible_collections.azure_automation.hybrid_worker.plugins.action.' + name)\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('azure', 'msal')))" % sorted(in_process.AZURE_MODULES))
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))).stdout.strip()
    assert loaded == "[]"
