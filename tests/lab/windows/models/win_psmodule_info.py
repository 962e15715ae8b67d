"""Model of ``community.windows.win_psmodule_info`` (list installed PowerShell modules).

Documented behaviour (community.windows ``plugins/modules/win_psmodule_info.py``): ``name`` is a ``Get-Module``
wildcard (default ``*``, all modules), ``repository`` keeps only modules installed from that PSRepository (modules not
installed through PowerShellGet are then left out); returns ``modules``, a list of dicts. The lab fills the keys it
knows (``name``, ``version``, ``path``, ``module_base``, ``installed_location``, ``repository``,
``repository_source_location``); the many manifest keys of the real module (exported commands, author, ...) are
returned empty, so a role that depends on them finds nothing rather than invented data.
"""
import fnmatch
import uuid

from . import register

# community.windows win_psmodule_info DOCUMENTATION.options
ARGUMENT_SPEC = {
    "name": {"type": "str", "default": "*"},
    "repository": {"type": "str"},
}
SOURCES = {"PSGallery": "https://www.powershellgallery.com/api/v2"}


@register("community.windows.win_psmodule_info", argument_spec=ARGUMENT_SPEC)
def win_psmodule_info(call):
    pattern = call.params["name"].lower()
    repository = call.params["repository"]
    modules = []
    for mod in call.host.psmodules():
        if not fnmatch.fnmatchcase(mod["name"].lower(), pattern):
            continue
        if repository and mod.get("repository") != repository:
            continue
        installed = mod.get("repository") is not None
        modules.append({
            "name": mod["name"],
            "version": mod["version"],
            "guid": str(uuid.uuid5(uuid.NAMESPACE_URL, "psmodule:" + mod["name"])),
            "path": "%s\\%s.psd1" % (mod["path"], mod["name"]),
            "module_base": mod["path"],
            "installed_location": mod["path"] if installed else None,
            "repository": mod.get("repository"),
            "repository_source_location": SOURCES.get(mod.get("repository")),
            "module_type": "Manifest",
            "exported_cmdlets": [], "exported_commands": [], "exported_functions": [], "exported_aliases": [],
        })
    return {"changed": False, "modules": modules}
