"""What a lab host does with a WinRS command: Ansible's PowerShell payload, decoded and answered without PowerShell.

testing-offline reference 2.2-2.5: the command is ``PowerShell ... -EncodedCommand <bootstrap_wrapper.ps1>`` and the
stdin is ``<bootstrap JSON>\\n\\0\\0\\0\\0\\n<manifest JSON>[\\n\\0\\0\\0\\0\\n<input>]``; the manifest's last action says what
to run: ``module_wrapper.ps1`` (a module: name in ``Script``, args in ``Variables.complex_args``),
``winrm_put_file.ps1``, ``winrm_fetch_file.ps1``, ``powershell_mkdtemp.ps1`` or ``powershell_expand_user.ps1``.
Ansible also sends plain scripts (``Remove-Item '<tmp>' -Force -Recurse;`` to clean up). Anything else answers a
failure saying it is not modelled by the lab.
"""
import base64
import hashlib
import json
import re

from ansible.executor.powershell.module_manifest import _get_powershell_script

from . import host as hostmod
from . import models

SEPARATOR = b"\n\0\0\0\0\n"
NOT_MODELLED = "is not modelled by the lab"


def _normalise(script):
    """The same whitespace folding Ansible's ``_encode_script`` applies before encoding."""
    return "\n".join(line.strip() for line in script.splitlines() if line.strip())


BOOTSTRAP = _normalise(_get_powershell_script("bootstrap_wrapper.ps1").decode())
_STRICT = "Set-StrictMode -Version Latest"
_PRESERVE_RC = re.compile(r"\nIf \(-not \$\?\) \{ If \(Get-Variable LASTEXITCODE.*$", re.S)
_REMOVE_ITEM = re.compile(r"^Remove-Item '((?:[^']|'')+)' -Force( -Recurse)?;$")


def _unwrap(script):
    """The script without the strict-mode line and exit-code trailer ``_encode_script`` may add around it."""
    text = _normalise(script)
    if text.startswith(_STRICT):
        text = text[len(_STRICT):].lstrip("\n")
    return _PRESERVE_RC.sub("", text).strip()


def decode_command(command, arguments):
    """The script text of ``PowerShell ... -EncodedCommand B64`` (None when the command is anything else)."""
    if command.lower() not in ("powershell", "powershell.exe"):
        return None
    for index, arg in enumerate(arguments[:-1]):
        if arg.lower() in ("-encodedcommand", "-e", "-ec"):
            return base64.b64decode(arguments[index + 1]).decode("utf-16-le")
    return None


def _json_out(obj):
    return (json.dumps(obj) + "\r\n").encode("utf-8")


def _failed(msg):
    return _json_out({"failed": True, "msg": msg}), b"", 1


def module_fqcn(script_name):
    """``ansible_collections.NS.COLL.plugins.modules.NAME.ps1`` or ``NS.COLL.NAME.ps1`` -> ``NS.COLL.NAME``."""
    name = script_name[:-4] if script_name.lower().endswith(".ps1") else script_name
    parts = name.split(".")
    if parts[0] == "ansible_collections" and len(parts) >= 6 and parts[3:5] == ["plugins", "modules"]:
        return ".".join([parts[1], parts[2]] + parts[5:])
    return name


class Executor:
    """Runs one command for one host (called from the server's worker threads)."""

    def __init__(self, lab_dir, context_factory, stats):
        self.lab_dir = lab_dir
        self.context_factory = context_factory
        self.stats = stats

    def run(self, host_name, username, command, arguments, stdin):
        """Returns ``(stdout bytes, stderr bytes, exit code)``."""
        script = decode_command(command, arguments)
        if script is None:
            return b"", ("'%s' %s" % (command, NOT_MODELLED)).encode(), 1
        text = _unwrap(script)
        if text == BOOTSTRAP:
            return self._bootstrap(host_name, username, stdin)
        return self._plain_script(host_name, text)

    # --- plain scripts ----------------------------------------------------------------------------------------------
    def _plain_script(self, host_name, text):
        match = _REMOVE_ITEM.match(text)
        if match:
            path = match.group(1).replace("''", "'")
            with hostmod.locked_host(self.lab_dir, host_name, self.context_factory()) as host:
                host.remove_path(path)
            self.stats.script(host_name, "Remove-Item")
            return b"", b"", 0
        self.stats.script(host_name, "unmodelled")
        first = text.splitlines()[0][:120] if text else ""
        return b"", ("The script '%s...' %s" % (first, NOT_MODELLED)).encode(), 1

    # --- bootstrap + manifest ---------------------------------------------------------------------------------------
    def _bootstrap(self, host_name, username, stdin):
        parts = stdin.split(SEPARATOR, 2)
        if len(parts) < 2:
            return _failed("bootstrap input without a manifest " + NOT_MODELLED)
        try:
            bootstrap = json.loads(parts[0])
            manifest = json.loads(parts[1])
        except ValueError:
            return _failed("bootstrap input that is not JSON " + NOT_MODELLED)
        data = parts[2] if len(parts) > 2 else b""
        actions = manifest.get("actions") or []
        if bootstrap.get("name") != "exec_wrapper" or not actions:
            return _failed("bootstrap script %r %s" % (bootstrap.get("name"), NOT_MODELLED))
        names = [a.get("name") for a in actions]
        if len(actions) > 1:
            return _failed("exec wrapper actions %s (become/async/coverage) are %s"
                           % (", ".join(names[:-1]), NOT_MODELLED.replace("is ", "")))
        action = actions[-1]
        with hostmod.locked_host(self.lab_dir, host_name, self.context_factory()) as host:
            ps_version = hostmod.version_tuple(host.state["powershell"]["version"])
            if ps_version < (5, 1):
                return _json_out({"failed": True, "msg": "Ansible requires PowerShell v5.1"}), b"", 1
            failure = self._requirements(host, bootstrap.get("params") or {})
            if failure:
                return failure
            handler = {
                "module_wrapper.ps1": self._module,
                "winrm_put_file.ps1": self._put_file,
                "winrm_fetch_file.ps1": self._fetch_file,
                "powershell_mkdtemp.ps1": self._mkdtemp,
                "powershell_expand_user.ps1": self._expand_user,
            }.get(action.get("name"))
            if handler is None:
                return _failed("the exec wrapper action %r %s" % (action.get("name"), NOT_MODELLED))
            return handler(host, username, action.get("params") or {}, data)

    @staticmethod
    def _requirements(host, params):
        os_version = params.get("MinOSVersion")
        if os_version and hostmod.version_tuple(host.state["os"]["version"]) < hostmod.version_tuple(os_version):
            return _failed("This module cannot run on this OS as it requires a minimum version of %s, actual was %s"
                           % (os_version, host.state["os"]["version"]))
        ps_version = params.get("MinPSVersion")
        actual = host.state["powershell"]["version"]
        if ps_version and hostmod.version_tuple(actual) < hostmod.version_tuple(ps_version):
            return _failed("This module cannot run as it requires a minimum PowerShell version of %s, actual was "
                           "\"%s\"" % (ps_version, actual))
        return None

    def _module(self, host, username, params, data):
        fqcn = module_fqcn(params.get("Script") or "")
        complex_args = {}
        for variable in params.get("Variables") or []:
            if variable.get("Name") == "complex_args":
                complex_args = variable.get("Value") or {}
        self.stats.module(host.name, fqcn)
        if models.secret_options_given(fqcn, complex_args):
            self.stats.secret_arguments(host.name, fqcn)
        user = username.split("\\")[-1].split("@")[0]
        result, rc = models.dispatch(fqcn, host, complex_args, stats=self.stats.counters, user=user)
        return _json_out(result), b"", rc

    @staticmethod
    def _home(username):
        return "C:\\Users\\%s" % (username.split("\\")[-1].split("@")[0] or "Administrator")

    def _expand(self, path, username):
        home = self._home(username)
        path = path.replace("%TEMP%", home + "\\AppData\\Local\\Temp").replace("%TMP%", home + "\\AppData\\Local\\Temp")
        path = re.sub(r"%USERPROFILE%", lambda m: home, path, flags=re.I)
        path = re.sub(r"%SystemRoot%|%windir%", "C:\\\\Windows", path, flags=re.I)
        if path == "~":
            return home
        if path.startswith("~\\") or path.startswith("~/"):
            return home + "\\" + path[2:].replace("/", "\\")
        return path.replace("/", "\\")

    def _put_file(self, host, username, params, data):
        path = self._expand(params.get("Path") or "", username)
        raw = b"".join(base64.b64decode(line) for line in data.split(b"\r\n") if line.strip())
        host.add_file(path, raw)
        self.stats.script(host.name, "put_file")
        return _json_out({"sha1": hashlib.sha1(raw).hexdigest()}), b"", 0

    def _fetch_file(self, host, username, params, data):
        path = self._expand(params.get("Path") or "", username)
        self.stats.script(host.name, "fetch_file")
        entry = host.file(path)
        if entry is None:
            return b"", ("Path '%s' does not exist or cannot be accessed." % path).encode(), 1
        if entry["type"] == "dir":
            return b"[DIR]\r\n", b"", 0
        content = host.file_bytes(path)
        if content is None:
            return b"", ("Reading the content of '%s' %s" % (path, NOT_MODELLED)).encode(), 1
        offset, size = int(params.get("Offset") or 0), int(params.get("BufferSize") or 524288)
        return base64.b64encode(content[offset:offset + size]) + b"\r\n", b"", 0

    def _mkdtemp(self, host, username, params, data):
        directory = self._expand(params.get("Directory") or "%TEMP%", username)
        full = directory.rstrip("\\") + "\\" + (params.get("Name") or "")
        host.add_dir(full)
        self.stats.script(host.name, "mkdtemp")
        return (full + "\r\n").encode(), b"", 0

    def _expand_user(self, host, username, params, data):
        self.stats.script(host.name, "expand_user")
        return (self._expand(params.get("Path") or "~", username) + "\r\n").encode(), b"", 0
