"""Module models: what a PowerShell module would do to a lab host, written in Python against :mod:`windows.host`.

One file per modelled module in this folder. A model is a function decorated with :func:`register`::

    from . import register

    @register("azure_automation.hybrid_worker.win_example", supports_check_mode=True)
    def win_example(call):
        # call.params: validated args (defaults filled, types converted), no `_ansible_*` keys
        # call.host: windows.host.Host (locked for the duration of the call, saved afterwards)
        # call.user: the account the WinRM connection authenticated as
        # call.check_mode / call.diff / call.verbosity / call.warn(msg) / call.fail(msg, **extra)
        return {"changed": False}

Argument specs, like Ansible.Basic would enforce them:

* the collection's own PowerShell modules: taken from the documentation sidecar ``plugins/modules/<name>.yml``
  (``DOCUMENTATION.options``: type, required, default, choices, aliases, elements, no_log, suboptions);
* any other module (``ansible.windows.*``, ``community.windows.*``): pass ``argument_spec=`` written down in the model
  file from that module's documentation (cite it in a comment);
* cross-option rules that documentation cannot express: ``mutually_exclusive``, ``required_if``, ``required_one_of``,
  ``required_together``, ``required_by`` keyword arguments of :func:`register`.

:func:`dispatch` validates first (unknown option, missing required, wrong type, bad choice -> ``failed`` with
Ansible.Basic's message), answers ``skipped`` in check mode for a model without check-mode support (as Ansible.Basic
does), runs the model, adds ``invocation.module_args`` with ``no_log`` values masked, and never lets a module or
option the lab does not model succeed: an unknown module is ``{"failed": true, "msg": "<fqcn> is not modelled by the
lab"}``. A model raising :class:`windows.host.WindowsError` that it did not catch becomes a failed result with the
Windows message, as an unhandled PowerShell exception would.
"""
import importlib
import json
import os
import pkgutil
import re

import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import (
    ArgumentTypeError, ArgumentValueError, UnsupportedError,
)

from .. import host as hostmod

PROJECT_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
COLLECTION = "azure_automation.hybrid_worker"
MODULES_DIR = os.path.join(PROJECT_ROOT, "plugins", "modules")

MODELS = {}
_LOADED = False
_SIDECAR_SPECS = {}


class ModuleFailed(Exception):
    """Raised by ``call.fail()``: ends the model with a failed result (``Ansible.Basic FailJson``)."""

    def __init__(self, msg, extra):
        super().__init__(msg)
        self.msg = msg
        self.extra = extra


class Model:
    def __init__(self, fqcn, func, supports_check_mode, argument_spec, rules):
        self.fqcn = fqcn
        self.func = func
        self.supports_check_mode = supports_check_mode
        self._argument_spec = argument_spec
        self.rules = rules

    @property
    def short_name(self):
        return self.fqcn.rsplit(".", 1)[-1]

    def argument_spec(self):
        if self._argument_spec is not None:
            return self._argument_spec
        return sidecar_argument_spec(self.short_name)


class Call:
    """What a model sees: validated params, the host, the task flags, and helpers to warn/fail."""

    def __init__(self, fqcn, host, params, check_mode, diff, verbosity, raw_args, user=None):
        self.fqcn = fqcn
        self.user = user or "labadmin"  # the account the WinRM connection authenticated as
        self.host = host
        self.params = params
        self.check_mode = check_mode
        self.diff = diff
        self.verbosity = verbosity
        self.raw_args = raw_args
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)

    def fail(self, msg, **extra):
        raise ModuleFailed(msg, extra)


def register(fqcn, supports_check_mode=True, argument_spec=None, **rules):
    """Decorator: make ``func(call) -> result dict`` the model of module ``fqcn``."""
    def wrap(func):
        MODELS[fqcn] = Model(fqcn, func, supports_check_mode, argument_spec, rules)
        return func
    return wrap


# --- helpers the module utils share (plugins/module_utils/WindowsHost.psm1 and the modules' common steps) ----------

# Test-Base64String: standard, padded Base64 (RFC 4648 section 4), the form of Azure access keys; nothing else passes.
BASE64_PATTERN = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)")


def is_base64(text):
    return bool(text) and BASE64_PATTERN.fullmatch(text) is not None


def fetch_installer(call, result, download_to, message):
    """The installer a module runs: ``installer_path`` as given (it must be a file), else ``installer_url`` downloaded
    to ``download_to`` over TLS 1.2; then ``installer_checksum`` (SHA-256) compared. ``message(name, **values)`` is
    the module's own sentences (installer_path_missing, download_failed, checksum_mismatch). Returns (path, file)."""
    host, params = call.host, call.params
    if params["installer_path"]:
        entry = host.file(params["installer_path"])
        if entry is None or entry["type"] != "file":
            call.fail(message("installer_path_missing", path=params["installer_path"]), **result)
        installer = params["installer_path"]
    else:
        installer = download_to
        try:
            entry = host.download(params["installer_url"], installer, explicit_tls12=True)
        except hostmod.WindowsError as exc:
            call.fail(message("download_failed", url=params["installer_url"], error=exc.message), **result)
    expected = params["installer_checksum"]
    if expected and entry["sha256"].lower() != expected.lower():
        call.fail(message("checksum_mismatch", path=installer, actual=entry["sha256"].lower(),
                          expected=expected.lower()), **result)
    return installer, entry


def load_models():
    """Import every model file in this package (each registers itself)."""
    global _LOADED  # pylint: disable=global-statement
    if _LOADED:
        return
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(__name__ + "." + info.name)
    _LOADED = True


def _option_to_spec(option):
    spec = {"type": option.get("type", "str")}
    for key in ("required", "default", "choices", "aliases", "elements", "no_log"):
        if key in option:
            spec[key] = option[key]
    # Module docs nest options under `suboptions`; the argument spec calls them `options`.
    if option.get("suboptions"):
        spec["options"] = {name: _option_to_spec(sub) for name, sub in option["suboptions"].items()}
    return spec


def sidecar_argument_spec(short_name):
    """Argument spec built from ``plugins/modules/<short_name>.yml`` (DOCUMENTATION.options)."""
    if short_name not in _SIDECAR_SPECS:
        path = os.path.join(MODULES_DIR, short_name + ".yml")
        with open(path, encoding="utf-8") as handle:
            doc = yaml.safe_load(handle)["DOCUMENTATION"]
        options = doc.get("options") or {}
        _SIDECAR_SPECS[short_name] = {name: _option_to_spec(opt) for name, opt in options.items()}
    return _SIDECAR_SPECS[short_name]


def _basic_message(error, module_name, supported):
    """Turn ansible-core's Python validator messages into Ansible.Basic's wording (Ansible.Basic.cs)."""
    msg = str(error)
    if isinstance(error, UnsupportedError):
        unsupported = msg.split(". Supported parameters include:", maxsplit=1)[0]
        return "Unsupported parameters for (%s) module: %s. Supported parameters include: %s" % (
            module_name, unsupported, ", ".join(supported))
    if isinstance(error, ArgumentValueError):
        match = re.match(r"value of (.+) must be one of: (.*), got: (.*)$", msg)
        if match:
            return "value of %s must be one of: %s. Got no match for: %s" % match.groups()
    if isinstance(error, ArgumentTypeError):
        match = re.match(r"argument '([^']+)' is of type (.+?) and we were unable to convert to (\S+): (.*)$", msg)
        if match:
            return "argument for %s is of type %s and we were unable to convert to %s: %s" % match.groups()
    return msg


def _split_args(raw_args):
    internal = {k: v for k, v in raw_args.items() if k.startswith("_ansible_")}
    params = {k: v for k, v in raw_args.items() if not k.startswith("_ansible_")}
    return params, internal


def secret_options_given(fqcn, raw_args):
    """The ``no_log`` options of ``fqcn`` that ``raw_args`` gives a value: which calls carried a secret to the host."""
    load_models()
    model = MODELS.get(fqcn)
    if model is None:
        return []
    try:
        spec = model.argument_spec()
    except (OSError, KeyError, yaml.YAMLError):
        return []
    return sorted(name for name, option in spec.items()
                  if option.get("no_log") and (raw_args or {}).get(name) not in (None, ""))


def dispatch(fqcn, host, raw_args, check_mode=None, diff=None, stats=None, user=None):
    """Run the model of ``fqcn`` against ``host`` with the module args exactly as Ansible sent them.

    ``raw_args`` may hold ``_ansible_check_mode`` / ``_ansible_diff`` / ``_ansible_verbosity`` /
    ``_ansible_module_name`` (the explicit ``check_mode``/``diff`` arguments win when given). ``stats`` (a dict) gets
    ``secret_leaks`` incremented when a ``no_log`` value shows up anywhere in the result outside ``invocation``.
    Returns ``(result, rc)``: the module JSON object and the exit code the wrapper would give.
    """
    load_models()
    params, internal = _split_args(raw_args or {})
    check_mode = bool(internal.get("_ansible_check_mode")) if check_mode is None else check_mode
    diff = bool(internal.get("_ansible_diff")) if diff is None else diff
    module_name = internal.get("_ansible_module_name") or fqcn
    model = MODELS.get(fqcn)
    if model is None:
        return {"failed": True, "msg": "%s is not modelled by the lab" % fqcn}, 1

    try:
        spec = model.argument_spec()
    except (OSError, KeyError, yaml.YAMLError) as exc:
        return {"failed": True, "msg": "%s is not modelled by the lab: no documented options (%s)" % (fqcn, exc)}, 1
    validator = ArgumentSpecValidator(spec, **model.rules)
    validation = validator.validate(params)
    no_log_values = validation._no_log_values  # pylint: disable=protected-access
    invocation = {"module_args": remove_values(validation.validated_parameters, no_log_values)}
    if validation.errors.errors:
        first = validation.errors.errors[0]
        return {"failed": True, "msg": _basic_message(first, module_name, sorted(spec)), "invocation": invocation}, 1
    if check_mode and not model.supports_check_mode:
        return {"changed": False, "skipped": True, "invocation": invocation,
                "msg": "remote module (%s) does not support check mode" % module_name}, 0

    call = Call(fqcn, host, validation.validated_parameters, check_mode, diff,
                int(internal.get("_ansible_verbosity") or 0), params, user)
    rc = 0
    try:
        result = model.func(call) or {}
        result.setdefault("changed", False)
    except ModuleFailed as exc:
        result = dict(exc.extra, failed=True, msg=exc.msg)
        result.setdefault("changed", False)
        rc = 1
    except hostmod.WindowsError as exc:
        result = {"failed": True, "changed": False, "msg": exc.message}
        rc = 1
    if call.warnings:
        result.setdefault("warnings", []).extend(call.warnings)
    if stats is not None and no_log_values:
        text = json.dumps(result)
        if any(value and len(str(value)) >= 4 and str(value) in text for value in no_log_values):
            stats["secret_leaks"] = stats.get("secret_leaks", 0) + 1
    result["invocation"] = invocation
    return result, rc
