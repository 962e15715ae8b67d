"""Model of ``community.windows.win_psmodule`` (install/remove PowerShell modules that runbooks need).

Behaviour follows the module's documentation (community.windows ``plugins/modules/win_psmodule.py``) and the order of
checks in its ``win_psmodule.ps1``:

* PowerShell < 5 without PowerShellGet 1.6.0 / PackageManagement 1.1.7 fails ("have to be installed before");
* option conflicts fail with the module's own sentences (required_version vs minimum/maximum, allow_prerelease
  with minimum/maximum or state=absent, state=latest with any version);
* an unknown ``repository`` fails ("The repository X doesn't exist.");
* version-pinning options update PowerShellGet/PackageManagement first (``changed``; in check mode the module stops
  there with "Skipped check mode run on win_psmodule as the pre-reqs need upgrading");
* the NuGet provider is installed on the first install (``nuget_changed``);
* present: installs when no matching version exists ("Module X installed" / "Module X already present");
  absent: removes matching versions ("Module X removed"); latest: installs the newest gallery version.

The lab's gallery is :data:`GALLERY` (no network to PowerShell Gallery here); a name it does not hold fails like
``Find-Module`` does. The real legacy module ignores unknown options; the lab rejects them so role typos fail here.
"""
from . import register
from .. import host as hostmod

# community.windows win_psmodule DOCUMENTATION.options
ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "state": {"type": "str", "choices": ["absent", "latest", "present"], "default": "present"},
    "required_version": {"type": "str"},
    "minimum_version": {"type": "str"},
    "maximum_version": {"type": "str"},
    "allow_clobber": {"type": "bool", "default": False},
    "skip_publisher_check": {"type": "bool", "default": False},
    "allow_prerelease": {"type": "bool", "default": False},
    "repository": {"type": "str"},
    "username": {"type": "str"},
    "password": {"type": "str", "no_log": True},
    "accept_license": {"type": "bool", "default": False},
    "force": {"type": "bool", "default": False},
}

# Lab stand-in for the PowerShell Gallery: module -> published versions (ascending).
GALLERY = {
    "Az.Accounts": ["2.13.2", "2.15.1", "2.19.0"],
    "Az.Automation": ["1.9.1", "1.10.0"],
    "Az.Storage": ["6.1.0", "6.1.3"],
    "Az.Resources": ["6.12.0", "6.16.2"],
    "PackageManagement": ["1.1.7.0", "1.4.8.1"],
    "PowerShellGet": ["1.6.0", "2.2.5"],
    "PSDscResources": ["2.12.0.0"],
    "SqlServer": ["21.1.18256", "22.1.1"],
}
REPOSITORIES = ("PSGallery",)
PREREQS = {"PackageManagement": "1.1.7", "PowerShellGet": "1.6.0"}
NUGET_MIN = "2.8.5.201"


def _v(text):
    return hostmod.version_tuple(text)


def _matching(mods, required, minimum, maximum):
    found = []
    for mod in mods:
        version = _v(mod["version"])
        if required and version != _v(required):
            continue
        if minimum and version < _v(minimum):
            continue
        if maximum and version > _v(maximum):
            continue
        found.append(mod)
    return found


def _prereqs_ok(host):
    return all(any(_v(m["version"]) >= _v(minimum) for m in host.psmodules(name)) for name, minimum in PREREQS.items())


def _gallery_pick(name, required, minimum, maximum):
    versions = GALLERY.get(_gallery_name(name))
    if not versions:
        return None
    candidates = [v for v in versions if _matching([{"version": v}], required, minimum, maximum)]
    return candidates[-1] if candidates else None


def _gallery_name(name):
    for known in GALLERY:
        if known.lower() == name.lower():
            return known
    return None


def _not_found(name):
    return ("No match was found for the specified search criteria and module name '%s'. Try Get-PSRepository to "
            "see all available registered module repositories." % name)


def _ensure_nuget(call, result):
    providers = call.host.state.setdefault("package_providers", {})
    if _v(providers.get("NuGet", "0")) < _v(NUGET_MIN):
        if not call.check_mode:
            providers["NuGet"] = NUGET_MIN
        result["changed"] = True
        result["nuget_changed"] = True


@register("community.windows.win_psmodule", argument_spec=ARGUMENT_SPEC)
def win_psmodule(call):
    p = call.params
    host = call.host
    result = {"changed": False, "output": "", "nuget_changed": False, "repository_changed": False}
    name, state = p["name"], p["state"]
    required, minimum, maximum = p["required_version"], p["minimum_version"], p["maximum_version"]

    if _v(host.state["powershell"]["version"])[0] < 5 and not _prereqs_ok(host):
        call.fail("Modules PowerShellGet and PackageManagement in versions 1.6.0 and 1.1.7 respectively have to be "
                  "installed before using the win_psmodule.", **result)
    if required and (minimum or maximum):
        call.fail("Parameters required_version and minimum/maximum_version are mutually exclusive.", **result)
    if p["allow_prerelease"] and (minimum or maximum):
        call.fail("Parameters minimum_version, maximum_version can't be used with the parameter allow_prerelease.",
                  **result)
    if p["allow_prerelease"] and state == "absent":
        call.fail("The parameter allow_prerelease can't be used with state set to 'absent'.", **result)
    if state == "latest" and (required or minimum or maximum):
        call.fail("When the parameter state is equal to 'latest' you can't use any of required_version, "
                  "minimum_version, maximum_version.", **result)
    if p["repository"] and p["repository"] not in REPOSITORIES:
        call.fail("The repository %s doesn't exist." % p["repository"], **result)

    if (p["allow_clobber"] or p["allow_prerelease"] or p["skip_publisher_check"] or required or minimum or maximum
            or p["accept_license"]) and not _prereqs_ok(host):
        result["changed"] = True
        if call.check_mode:
            result["output"] = "Skipped check mode run on win_psmodule as the pre-reqs need upgrading"
            return result
        _ensure_nuget(call, result)
        for prereq in PREREQS:
            host.install_psmodule(prereq, GALLERY[prereq][-1], "PSGallery")

    installed = host.psmodules(name)
    if state == "present":
        if _matching(installed, required, minimum, maximum):
            result["output"] = "Module %s already present" % name
            return result
        _ensure_nuget(call, result)
        version = _gallery_pick(name, required, minimum, maximum)
        if version is None:
            call.fail("Problems installing %s module: %s" % (name, _not_found(name)), **result)
        if not call.check_mode:
            host.install_psmodule(_gallery_name(name), version, p["repository"] or "PSGallery")
        result.update(changed=True, output="Module %s installed" % name)
    elif state == "absent":
        doomed = _matching(installed, required, minimum, maximum)
        if doomed:
            if not call.check_mode:
                for mod in doomed:
                    host.uninstall_psmodule(mod["name"], mod["version"])
            result["changed"] = True
        result["output"] = "Module %s removed" % name
    else:
        latest = _gallery_pick(name, None, None, None)
        if latest is None:
            call.fail("Cant find the module %s: %s" % (name, _not_found(name)), **result)
        if any(_v(m["version"]) >= _v(latest) for m in installed):
            result["output"] = "Module %s already present" % name
            return result
        _ensure_nuget(call, result)
        if not call.check_mode:
            host.install_psmodule(_gallery_name(name), latest, p["repository"] or "PSGallery")
        result.update(changed=True, output="Module %s installed" % name)
    return result
