"""Host profiles: what a fresh lab host looks like before any play touches it.

A profile string is one or more names joined by ``+`` (``2016+agent-old``): the first that names an OS sets the
base, the others change it. Facts come from the windows-host reference (sections 3.3, 3.8, 2.5, 7); version
numbers of Windows/PowerShell/.NET are the ones those releases ship with.
"""
import uuid

from . import host as hostmod

DEFAULT_PROFILE = "2019"

# caption, kernel version, PowerShell version, .NET 4.x Release value.
OS_BASES = {
    "2012r2": ("Microsoft Windows Server 2012 R2 Datacenter", "6.3.9600", "5.1.14409.1005", 528049),
    "2016": ("Microsoft Windows Server 2016 Datacenter", "10.0.14393", "5.1.14393.0", 394802),
    "2019": ("Microsoft Windows Server 2019 Datacenter", "10.0.17763", "5.1.17763.1", 461814),
    "2022": ("Microsoft Windows Server 2022 Datacenter", "10.0.20348", "5.1.20348.1", 528449),
}

# Agent builds used by profiles and the installer server (reference 3.3 lists the versions and product codes seen;
# which code belongs to which build is not documented, so the pairing here is the lab's).
MMA_CURRENT = {"version": "10.20.18029.0", "product_code": "{8A7F2C51-4C7D-4BFD-9014-91D11F24AAE2}"}
MMA_OLD = {"version": "10.19.13515.0", "product_code": "{6D765BA4-C090-4C41-99AD-9DAF927E53A5}"}
# Azure Connected Machine agent package (version format of the agent's releases; the product code is the lab's).
ARC_CURRENT = {"version": "1.48.02881.1941", "product_code": "{3A2F7B0C-5E61-4C8D-9B1A-6F0E2D4C8A17}",
               "product": hostmod.ARC_DISPLAY_NAME, "package": "MSI", "contains": []}

# A workspace/account nobody in the lab owns, for "left over from elsewhere" profiles.
FOREIGN_WORKSPACE = "0f0e0d0c-0b0a-4909-8807-060504030201"
FOREIGN_ACCOUNT = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
FOREIGN_KEY = "Zm9yZWlnbi13b3Jrc3BhY2Uta2V5LW5vdC1pbi10aGUtbGFi"
FOREIGN_SUBSCRIPTION = "5f4e3d2c-1b0a-4998-8776-655443322110"


def _base(host, name):
    caption, version, ps_version, release = OS_BASES[name]
    host.state["os"] = {"caption": caption, "version": version, "build": int(version.split(".")[-1]),
                        "is_64bit": True}
    host.state["powershell"] = {"version": ps_version}
    host.reg_set(hostmod.NDP_FULL_KEY, "Release", release)
    # Windows PowerShell 5.1 ships PowerShellGet/PackageManagement 1.0.0.1 in box (older than win_psmodule needs).
    host.state["psmodules"] = []
    for inbox in ("PackageManagement", "PowerShellGet"):
        host.install_psmodule(inbox, "1.0.0.1", repository=None)
    if name == "2012r2":
        # 2012 R2 needs the strong-crypto switch for .NET to offer TLS 1.2 (reference 3.8); a managed one has it.
        for path in hostmod.NETFX_STRONG_CRYPTO:
            host.reg_set(path, "SchUseStrongCrypto", 1)


def _ps4(host):
    # Windows Management Framework 4.0: no PowerShellGet in box.
    host.state["powershell"] = {"version": "4.0"}
    for inbox in ("PackageManagement", "PowerShellGet"):
        host.uninstall_psmodule(inbox)


def _dotnet45(host):
    host.reg_set(hostmod.NDP_FULL_KEY, "Release", 378389)
    for path in hostmod.NETFX_STRONG_CRYPTO:
        host.reg_delete(path)


def _tls12_disabled(host):
    for side in ("Client", "Server"):
        host.reg_set(hostmod.SCHANNEL_TLS12 + "\\" + side, "Enabled", 0)
        host.reg_set(hostmod.SCHANNEL_TLS12 + "\\" + side, "DisabledByDefault", 1)


def _agent(build, workspace=None):
    def apply(host):
        host.install_mma(build["version"], build["product_code"],
                         "setup.exe /qn NOAPM=1 ADD_OPINSIGHTS_WORKSPACE=0 AcceptEndUserLicenseAgreement=1")
        if workspace:
            host.add_cloud_workspace(workspace, FOREIGN_KEY)
    return apply


def _legacy_registry(host):
    # Pre-2017 layout: values directly on the root key (reference 2.5).
    host.reg_set(hostmod.HRW_KEY, "RunbookWorkerGroup", "legacy-group")
    host.reg_set(hostmod.HRW_KEY, "JobRuntimeDataServiceUri", "https://legacy.jrds.invalid/automationAccounts/x")


def _leftover_registration(host):
    path = "%s\\%s\\%s" % (hostmod.HRW_KEY, FOREIGN_ACCOUNT, "old-group")
    host.reg_set(path, "JobRuntimeDataServiceUri", "https://%s.jrds.invalid/automationAccounts/%s"
                 % (FOREIGN_ACCOUNT, FOREIGN_ACCOUNT))
    host.reg_set(path, "MachineId", str(uuid.uuid4()))
    host.reg_ensure(path + "\\User")


def _system_worker(host):
    # Update Management worker: a sibling key without a `User` child (reference 2.5, DSC commit a659425).
    path = "%s\\%s\\%s" % (hostmod.HRW_KEY, FOREIGN_ACCOUNT, str(uuid.uuid4()))
    host.reg_set(path, "JobRuntimeDataServiceUri", "https://%s.jrds.invalid/automationAccounts/%s"
                 % (FOREIGN_ACCOUNT, FOREIGN_ACCOUNT))


def _arc_agent(connected_elsewhere):
    def apply(host):
        host.install_arc_agent(ARC_CURRENT["version"], ARC_CURRENT["product_code"],
                               'msiexec.exe /i "AzureConnectedMachineAgent.msi" /qn')
        if connected_elsewhere:
            # Onboarded by someone else, to a subscription the lab's Azure does not hold.
            host.state["arc_agent"].update(
                status="Connected", tenant_id=FOREIGN_ACCOUNT, subscription_id=FOREIGN_SUBSCRIPTION,
                resource_group="other-arc-servers", resource_name=host.computer_name, location="eastus",
                cloud="AzureCloud", resource_id="/subscriptions/%s/resourceGroups/other-arc-servers/providers/"
                "Microsoft.HybridCompute/machines/%s" % (FOREIGN_SUBSCRIPTION, host.computer_name))
    return apply


def _stale_v2_keys(host):
    # An extension-based worker whose extension was removed through Azure: keys stay, service and plugin are gone
    # (reference 5.2, azure-powershell#23605).
    url = "https://%s.jrds.invalid/automationAccounts/%s" % (FOREIGN_ACCOUNT, FOREIGN_ACCOUNT)
    host.install_hybrid_worker_extension("1.1.13", url, "/subscriptions/%s/resourceGroups/old/providers/"
                                         "Microsoft.HybridCompute/machines/%s" % (FOREIGN_SUBSCRIPTION, host.computer_name))
    host.uninstall_hybrid_worker_extension()


MODIFIERS = {
    "ps4": _ps4,
    "dotnet45": _dotnet45,
    "tls12-disabled": _tls12_disabled,
    "agent-old": _agent(MMA_OLD),
    "agent-current": _agent(MMA_CURRENT),
    "agent-other-workspace": _agent(MMA_CURRENT, FOREIGN_WORKSPACE),
    "legacy-registry": _legacy_registry,
    "leftover-registration": _leftover_registration,
    "system-worker": _system_worker,
    "arc-agent": _arc_agent(False),
    "arc-connected-elsewhere": _arc_agent(True),
    "stale-v2-keys": _stale_v2_keys,
}

PROFILE_NAMES = sorted(OS_BASES) + sorted(MODIFIERS)


def validate(profile):
    parts = [p for p in (profile or DEFAULT_PROFILE).split("+") if p]
    unknown = [p for p in parts if p not in OS_BASES and p not in MODIFIERS]
    if unknown:
        raise ValueError("unknown host profile %s; known: %s" % (", ".join(unknown), ", ".join(PROFILE_NAMES)))
    return parts


def apply(host, profile):
    parts = validate(profile)
    bases = [p for p in parts if p in OS_BASES]
    _base(host, bases[0] if bases else DEFAULT_PROFILE)
    for part in parts:
        if part in MODIFIERS:
            MODIFIERS[part](host)
    host.state["profile"] = "+".join(parts)
    host.state["processes"] = []
