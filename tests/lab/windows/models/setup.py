"""Model of ``ansible.windows.setup`` (fact gathering; also what ``gather_facts`` runs on Windows hosts).

Behaviour from the module's documentation (``setup.yml``) and ``setup.ps1``: ``gather_subset`` names subsets and the
groups ``min``, ``network``, ``hardware``, ``external`` and ``all`` (default), ``!name`` excludes (``!all`` keeps
``min``), unknown names warn. The lab models the ``min`` group (date_time, distribution, dns, env, local, platform,
powershell_version, user) from the host state; a run whose subsets include anything else fails, naming the subsets,
rather than returning facts the lab does not have. ``fact_path`` (local facts) is not modelled.
"""
import datetime
import uuid

from . import register

# ansible.windows setup DOCUMENTATION.options
ARGUMENT_SPEC = {
    "gather_subset": {"type": "list", "elements": "str", "default": "all"},
    "gather_timeout": {"type": "int", "default": 10},
    "fact_path": {"type": "path"},
    "_measure_subset": {"type": "bool", "default": False},
}

GROUPS = {
    "min": ["date_time", "distribution", "dns", "env", "local", "platform", "powershell_version", "user"],
    "network": ["all_ipv4_addresses", "all_ipv6_addresses", "interfaces", "windows_domain", "winrm"],
    "hardware": ["bios", "memory", "processor", "uptime", "virtual"],
    "external": ["facter"],
}
ALL = sorted({s for subsets in GROUPS.values() for s in subsets})
GROUPS["all"] = ALL
MODELLED = set(GROUPS["min"])


def actual_subsets(requested, warn):
    """setup.ps1's rules: start from all, apply exclusions, then add the explicitly requested subsets."""
    actual, explicit, exclude = set(ALL), set(), set()
    for item in requested:
        if item.startswith("!"):
            item = item[1:]
            if item == "all":
                exclude |= set(ALL) - set(GROUPS["min"])
            elif item in GROUPS:
                exclude |= set(GROUPS[item])
            elif item in ALL:
                exclude.add(item)
        elif item in GROUPS:
            explicit |= set(GROUPS[item])
        elif item in ALL:
            explicit.add(item)
        else:
            warn("invalid value %s specified in gather_subset" % item)
    return (actual - exclude) | explicit


@register("ansible.windows.setup", argument_spec=ARGUMENT_SPEC)
def setup(call):
    subsets = actual_subsets(call.params["gather_subset"], call.warn)
    unmodelled = sorted(subsets - MODELLED)
    if unmodelled:
        call.fail("ansible.windows.setup gather_subset %s is not modelled by the lab (gather_subset: ['!all'] "
                  "gathers the minimum set it models)" % ", ".join(unmodelled))
    if call.params["fact_path"]:
        call.fail("ansible.windows.setup fact_path is not modelled by the lab")
    host = call.host
    facts = {"gather_subset": call.params["gather_subset"], "module_setup": True}
    user = call.user
    home = "C:\\Users\\" + user
    version = host.state["os"]["version"]
    if "date_time" in subsets:
        now = datetime.datetime.now(datetime.timezone.utc)
        facts["ansible_date_time"] = {
            "date": now.strftime("%Y-%m-%d"), "day": now.strftime("%d"), "epoch": str(int(now.timestamp())),
            "epoch_int": int(now.timestamp()), "hour": now.strftime("%H"), "iso8601": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "minute": now.strftime("%M"), "month": now.strftime("%m"), "second": now.strftime("%S"),
            "time": now.strftime("%H:%M:%S"), "tz": "UTC", "tz_offset": "+00:00", "weekday": now.strftime("%A"),
            "year": now.strftime("%Y"),
        }
    if "distribution" in subsets:
        facts.update({
            "ansible_distribution": host.state["os"]["caption"],
            "ansible_distribution_version": version + ".0",
            "ansible_distribution_major_version": version.split(".")[0],
            "ansible_os_family": "Windows",
            "ansible_os_name": host.state["os"]["caption"],
            "ansible_os_product_type": "server",
            "ansible_os_installation_type": "Server",
        })
    if "env" in subsets:
        facts["ansible_env"] = {
            "COMPUTERNAME": host.computer_name, "USERNAME": user, "USERPROFILE": home,
            "TEMP": home + "\\AppData\\Local\\Temp", "TMP": home + "\\AppData\\Local\\Temp",
            "SystemRoot": "C:\\Windows", "windir": "C:\\Windows", "ProgramFiles": "C:\\Program Files",
            "PROCESSOR_ARCHITECTURE": "AMD64" if host.state["os"]["is_64bit"] else "x86",
            "PSModulePath": "C:\\Program Files\\WindowsPowerShell\\Modules;"
                            "C:\\Windows\\system32\\WindowsPowerShell\\v1.0\\Modules",
        }
    if "platform" in subsets:
        facts.update({
            "ansible_hostname": host.computer_name, "ansible_fqdn": host.computer_name.lower(),
            "ansible_nodename": host.computer_name.lower(), "ansible_netbios_name": host.computer_name,
            "ansible_domain": "", "ansible_kernel": version + ".0", "ansible_system": "Win32NT",
            "ansible_architecture": "64-bit" if host.state["os"]["is_64bit"] else "32-bit",
            "ansible_architecture2": "x86_64" if host.state["os"]["is_64bit"] else "i386",
            "ansible_machine_id": "S-1-5-21-%d" % (uuid.uuid5(uuid.NAMESPACE_DNS, host.name).int % 10 ** 9),
            "ansible_reboot_pending": False,
        })
    if "powershell_version" in subsets:
        facts["ansible_powershell_version"] = int(host.state["powershell"]["version"].split(".")[0])
    if "user" in subsets:
        facts.update({"ansible_user_dir": home, "ansible_user_gecos": "", "ansible_user_id": user,
                      "ansible_user_sid": "S-1-5-21-%d-500" % (uuid.uuid5(uuid.NAMESPACE_DNS, host.name).int % 10 ** 9)})
    return {"changed": False, "ansible_facts": facts}
