"""Model of ``ansible.windows.win_ping`` (also what ``win_ping``/``ansible.builtin.win_ping`` resolve to).

Documented behaviour (ansible.windows ``plugins/modules/win_ping.py`` DOCUMENTATION and ``win_ping.ps1``): option
``data`` (str, default ``pong``) is returned as ``ping``; ``data=crash`` makes the module throw ``boom``.
"""
from . import register

# ansible.windows win_ping DOCUMENTATION.options
ARGUMENT_SPEC = {"data": {"type": "str", "default": "pong"}}


@register("ansible.windows.win_ping", argument_spec=ARGUMENT_SPEC)
def win_ping(call):
    if call.params["data"] == "crash":
        # An unhandled `throw "boom"` in a module is reported by the exec wrapper like this.
        call.fail("Unhandled exception while executing module: boom")
    return {"changed": False, "ping": call.params["data"]}
