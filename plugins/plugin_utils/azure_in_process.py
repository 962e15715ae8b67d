# Copyright: contributors to the azure_automation.hybrid_worker collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the collection's Azure modules in the controller's worker process when that is the same as running them.

An Azure module on localhost is a module like any other: a new Python starts, unpacks the module, imports
ansible.module_utils.basic and the Azure SDK, and talks JSON with the controller. Its own work is a few HTTPS
requests. When the module would run on the controller anyway, under the controller's own Python, as the same user and
synchronously, its ``main()`` can run in the worker process instead: the stand-in below takes the place of
AnsibleModule (the same argument validation, error texts, no_log handling, invocation and warnings) and its result
goes through the same decoding and clean-up as a module's output. In every other case the module runs as a module.
"""

import contextlib
import functools
import importlib
import json
import logging
import os
import sys

from ansible.executor.interpreter_discovery import InterpreterDiscoveryRequiredError
# How ansible-core picks the interpreter of a module, and how gather_facts, package and service put module_defaults under
# the modules they pick (ansible-core 2.19): whether a module would run under this interpreter, and the defaults of the
# modules an action calls.
from ansible.executor.module_common import _apply_action_arg_defaults, _get_shebang
from ansible.module_utils._internal import _errors, _messages, _traceback
from ansible.module_utils.basic import FILE_COMMON_ARGUMENTS
from ansible.module_utils.common.arg_spec import ModuleArgumentSpecValidator
from ansible.module_utils.common.json import Direction, get_module_decoder, get_module_encoder
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action.normal import ActionModule as NormalAction
from ansible.utils.display import Display
from ansible.vars.clean import remove_internal_keys


def azure_utils():
    """module_utils/azure.py, imported by the worker that runs an Azure module, or None when the SDK is missing.

    Not at the top of this file on purpose: the linear strategy loads a task's action plugin in the main
    ansible-playbook process, before it forks a worker per host, and the SDK there (some 60 MB of objects) made every
    later fork dearer - on the lab the one-task-per-host play over 50 hosts took 0.25 s longer, more than the 0.2 s
    that one import instead of one per Azure task saved.
    """
    try:
        from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils import azure  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    return azure if azure.AZURE_IMPORT_ERROR is None else None


display = Display()

COLLECTION = "azure_automation.hybrid_worker"
# The modules built on module_utils/azure.py's AzureModule: action_groups.azure in meta/runtime.yml.
AZURE_MODULES = frozenset((
    "arc_machine_extension",
    "arc_machine_info",
    "automation_registration_info",
    "hybrid_worker",
    "hybrid_worker_group",
    "hybrid_worker_group_info",
    "hybrid_worker_prerequisites",
    "log_analytics_heartbeat_info",
    "log_analytics_linked_service",
    "log_analytics_solution",
    "log_analytics_workspace",
))
# Loggers of the SDK and the libraries under it. Their warnings (a failed token request, a retried connection) go to a
# module's stderr, which the controller drops when the module returns its result; in this process they are dropped too.
SDK_LOGGERS = ("azure", "msal", "urllib3")
# Modules without metadata exchange JSON with the controller in this serialization profile.
MODULE_PROFILE = "legacy"
# The interpreter line of the collection's Python modules.
MODULE_INTERPRETER = "/usr/bin/python"


class ModuleReturned(Exception):
    """exit_json or fail_json of the stand-in: carries the result where a module would print it and exit."""

    def __init__(self, result):
        super().__init__(result.get("msg"))
        self.result = result


class Invocation:
    """One module call: its name (as the task named it), arguments (as the module would receive them) and modes."""

    def __init__(self, name, args, check_mode, diff):
        self.name = name
        self.args = args
        self.check_mode = check_mode
        self.diff = diff


class InProcessModule:
    """What AzureModule uses of AnsibleModule, for one module run in the controller's process.

    The arguments get what AnsibleModule gives them (ModuleArgumentSpecValidator: types, defaults, environment
    fallbacks, choices, required_*; unsupported parameters and check mode refused with AnsibleModule's words) and the
    result what AnsibleModule.exit_json/fail_json add (invocation, warnings, no_log values removed). Instead of printing
    and exiting, exit_json and fail_json raise ModuleReturned.
    """

    def __init__(self, invocation, argument_spec, bypass_checks=False, no_log=False, mutually_exclusive=None,
                 required_together=None, required_one_of=None, add_file_common_args=False, supports_check_mode=False,
                 required_if=None, required_by=None):
        del bypass_checks  # AnsibleModule ignores it as well
        self._name = invocation.name
        self.argument_spec = argument_spec
        self.supports_check_mode = supports_check_mode
        self.check_mode = invocation.check_mode
        self._diff = invocation.diff
        self.no_log = no_log
        self.no_log_values = set()
        self._warnings = []
        if add_file_common_args:
            for key, value in FILE_COMMON_ARGUMENTS.items():
                self.argument_spec.setdefault(key, value)
        self.params = dict(invocation.args)

        validator = ModuleArgumentSpecValidator(argument_spec, mutually_exclusive, required_together, required_one_of,
                                                required_if, required_by)
        validation = validator.validate(self.params)
        self.params.update(validation.validated_parameters)
        self.no_log_values.update(validation._no_log_values)  # pylint: disable=protected-access
        if validation.error_messages:
            msg = validation.errors.msg
            if isinstance(validation.errors[0], UnsupportedError):
                msg = "Unsupported parameters for ({name}) {kind}: {msg}".format(name=self._name, kind="module", msg=msg)
            self.fail_json(msg=msg)
        if self.check_mode and not self.supports_check_mode:
            self.exit_json(skipped=True, msg="remote module (%s) does not support check mode" % self._name)

    def warn(self, warning, *, help_text=None):
        self._warnings.append(_messages.WarningSummary(event=_messages.Event(
            msg=warning, help_text=help_text,
            formatted_traceback=_traceback.maybe_capture_traceback(warning, _traceback.TracebackEvent.WARNING))))

    def exit_json(self, **kwargs):
        raise ModuleReturned(self._formatted(kwargs))

    def fail_json(self, msg, *, exception=None, **kwargs):
        msg = str(msg)
        kwargs.update(failed=True, msg=msg)
        if _traceback.is_traceback_enabled(_traceback.TracebackEvent.ERROR):
            # The controller turns this into the error's traceback, as it does with a module's.
            # AzureModule passes a formatted traceback; an exception object gives its own traceback here.
            if isinstance(exception, str):
                kwargs["exception"] = exception
            elif isinstance(exception, BaseException):
                kwargs["exception"] = _traceback.maybe_extract_traceback(exception, _traceback.TracebackEvent.ERROR)
            elif sys.exc_info()[1] is not None:
                kwargs["exception"] = _traceback.maybe_extract_traceback(sys.exc_info()[1], _traceback.TracebackEvent.ERROR)
            else:
                kwargs["exception"] = _traceback.maybe_capture_traceback(msg, _traceback.TracebackEvent.ERROR)
        raise ModuleReturned(self._formatted(kwargs))

    def _formatted(self, result):
        result.setdefault("invocation", {"module_args": self.params})
        if self._warnings:
            result["warnings"] = list(self._warnings)
        # Booleans and None survive the no_log masking, as in AnsibleModule.
        preserved = dict((key, value) for key, value in result.items() if value is None or isinstance(value, bool))
        result = remove_values(result, self.no_log_values)
        result.update(preserved)
        return result


def as_module_receives(args):
    """The arguments as the module would decode them from the controller's JSON (plain types, no templating tags)."""
    text = json.dumps(args, cls=get_module_encoder(MODULE_PROFILE, Direction.CONTROLLER_TO_MODULE))
    return json.loads(text, cls=get_module_decoder(MODULE_PROFILE, Direction.CONTROLLER_TO_MODULE))


def python_module(module_name, action):
    """The collection's Azure module that ``module_name`` resolves to, imported, or None for any other module."""
    found = action._shared_loader_obj.module_loader.find_plugin_with_context(  # pylint: disable=protected-access
        module_name, collection_list=action._task.collections)  # pylint: disable=protected-access
    fqcn = found.resolved_fqcn if found.resolved else None
    if not fqcn or not fqcn.startswith(COLLECTION + ".") or fqcn[len(COLLECTION) + 1:] not in AZURE_MODULES:
        return None
    return importlib.import_module("ansible_collections.%s.plugins.modules.%s" % (COLLECTION, fqcn[len(COLLECTION) + 1:]))


def in_process_obstacle(action, task_vars, wrap_async=False):
    """Why running the module in this process would differ from running it as a module; None when it would not."""
    # pylint: disable=protected-access
    task, connection = action._task, action._connection
    if azure_utils() is None:
        return "the Azure SDK cannot be imported by the controller"
    if wrap_async or task.async_val:
        return "the task is async"
    if getattr(connection, "transport", None) != "local":
        return "the connection is not local"
    if action._play_context.become or getattr(connection, "become", None) is not None:
        return "the task uses become"
    use_vars = task_vars.get("ansible_delegated_vars", {}).get(task.delegate_to, {}) if task.delegate_to else task_vars
    try:
        interpreter = _get_shebang(MODULE_INTERPRETER, use_vars, action._templar,
                                   remote_is_local=bool(getattr(connection, "_remote_is_local", False)))[1]
    except InterpreterDiscoveryRequiredError:
        return "the host's Python interpreter is found by interpreter discovery"
    if interpreter != sys.executable:
        return "the module would run under %s, the controller runs %s" % (interpreter, sys.executable)
    return None


@contextlib.contextmanager
def task_environment(environment):
    """The task's ``environment:`` in os.environ for the call, as the module's process would have it."""
    previous = dict((key, os.environ.get(key)) for key in environment)
    try:
        os.environ.update((key, str(value)) for key, value in environment.items())
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def module_backend(factory):
    """AzureModule backed by ``factory`` for the call."""
    backend = azure_utils().MODULE_BACKEND
    previous = backend["factory"]
    backend["factory"] = factory
    try:
        yield
    finally:
        backend["factory"] = previous


@contextlib.contextmanager
def quiet_sdk_loggers():
    """The SDK's log records dropped for the call, as the module's stderr would be."""
    loggers = [logging.getLogger(name) for name in SDK_LOGGERS]
    saved = [(logger, logger.propagate, logger.handlers[:]) for logger in loggers]
    try:
        for logger in loggers:
            logger.propagate = False
            logger.handlers = [logging.NullHandler()]
        yield
    finally:
        for logger, propagate, handlers in saved:
            logger.propagate = propagate
            logger.handlers = handlers


def unhandled(exception):
    """What the module's wrapper reports for an exception the module did not handle."""
    return dict(failed=True, exception=_messages.ErrorSummary(
        event=_errors.EventFactory.from_exception(exception, _traceback.is_traceback_enabled(_traceback.TracebackEvent.ERROR))))


def run_in_process(action, module, module_name, module_args, task_vars):
    """Run ``module.main()`` here; its result as ActionBase._execute_module would return the module's."""
    del task_vars  # the arguments are final; the interpreter was checked by in_process_obstacle
    # pylint: disable=protected-access
    invocation = Invocation(module_name, as_module_receives(module_args), bool(action._task.check_mode), bool(action._task.diff))
    environment = {}
    action._compute_environment_string(environment)
    display.vvv("Running %s in the controller's process" % module_name)
    with task_environment(environment), quiet_sdk_loggers(), module_backend(functools.partial(InProcessModule, invocation)):
        try:
            module.main()
        except ModuleReturned as returned:
            result = returned.result
        except Exception as ex:  # pylint: disable=broad-exception-caught
            result = unhandled(ex)
        else:
            result = unhandled(RuntimeError("New-style module did not handle its own exit."))
    # The same JSON both ways as a module's output, so that the result is the one the module would give.
    output = json.dumps(result, cls=get_module_encoder(MODULE_PROFILE, Direction.MODULE_TO_CONTROLLER))
    data = action._parse_returned_data(dict(stdout=output, stderr="", rc=0), MODULE_PROFILE)
    remove_internal_keys(data)
    return data


def execute_azure_module(action, module_name, module_args, task_vars):
    """Run one of the collection's Azure modules for ``action``: in this process when equivalent, else as a module."""
    module = python_module(module_name, action)
    obstacle = "it is not one of the collection's Azure modules" if module is None else in_process_obstacle(action, task_vars)
    if obstacle:
        display.vvv("Running %s as a module: %s" % (module_name, obstacle))
        return action._execute_module(module_name=module_name, module_args=module_args, task_vars=task_vars)  # pylint: disable=protected-access
    return run_in_process(action, module, module_name, module_args, task_vars)


def call_azure_module(action, module_name, module_args, task_vars):
    """An action calling one of the collection's Azure modules other than its own: the play's module_defaults
    (group/azure_automation.hybrid_worker.azure) under ``module_args``, then execute_azure_module."""
    module_args = _apply_action_arg_defaults(module_name, action._task, module_args, action._templar)  # pylint: disable=protected-access
    return execute_azure_module(action, module_name, module_args, task_vars)


class AzureModuleAction(NormalAction):
    """The action of an Azure module of the collection: the module's main() in this process when that is equivalent to
    running the module (local connection, no become, not async, the controller's own Python), else the module."""

    def _execute_module(self, module_name=None, module_args=None, task_vars=None, wrap_async=False, **kwargs):
        name = module_name or self._task.action
        module = None if kwargs else python_module(name, self)
        obstacle = "it is not one of the collection's Azure modules" if module is None else \
            in_process_obstacle(self, task_vars or {}, wrap_async)
        if obstacle:
            display.vvv("Running %s as a module: %s" % (name, obstacle))
            return super()._execute_module(module_name=module_name, module_args=module_args, task_vars=task_vars,
                                           wrap_async=wrap_async, **kwargs)
        return run_in_process(self, module, name, self._task.args if module_args is None else module_args, task_vars)
