"""Host profiles, host transitions, per-host faults and drift, each read back with ``labctl host``.

Transitions that no module drives yet are driven through the host model (``WindowsLab.locked_host``), exactly as a
module model would; what a test asserts is always what ``labctl host`` reports afterwards.
"""
import hashlib

import pytest

from ansible_collections.azure_automation.hybrid_worker.tests.lab.windows import host as hostmod

PROFILES = [
    "2012r2", "2016", "2019", "2022", "2012r2+ps4", "2019+dotnet45", "2019+tls12-disabled", "2016+agent-old",
    "2019+agent-other-workspace", "2019+legacy-registry", "2019+leftover-registration", "2022+system-worker",
]
NAMES = ["win-%03d" % (i + 1) for i in range(len(PROFILES))]
BY_PROFILE = dict(zip(PROFILES, NAMES))
TEMP = "C:\\Windows\\Temp\\"


@pytest.fixture(scope="module")
def lab(windows_lab_factory):
    return windows_lab_factory(hosts=len(PROFILES), profile=",".join(PROFILES), transport="basic")


def summary(lab, profile):
    return lab.host(BY_PROFILE[profile])["summary"]


@pytest.mark.parametrize("profile, caption, version, ps_version, release", [
    ("2012r2", "Microsoft Windows Server 2012 R2 Datacenter", "6.3.9600", "5.1.14409.1005", 528049),
    ("2016", "Microsoft Windows Server 2016 Datacenter", "10.0.14393", "5.1.14393.0", 394802),
    ("2019", "Microsoft Windows Server 2019 Datacenter", "10.0.17763", "5.1.17763.1", 461814),
    ("2022", "Microsoft Windows Server 2022 Datacenter", "10.0.20348", "5.1.20348.1", 528449),
    ("2012r2+ps4", "Microsoft Windows Server 2012 R2 Datacenter", "6.3.9600", "4.0", 528049),
    ("2019+dotnet45", "Microsoft Windows Server 2019 Datacenter", "10.0.17763", "5.1.17763.1", 378389),
])
def test_os_profiles_report_their_facts(lab, profile, caption, version, ps_version, release):
    facts = summary(lab, profile)["prerequisites"]
    assert (facts["os_caption"], facts["os_version"], facts["powershell_version"], facts["dotnet_release"]) == (
        caption, version, ps_version, release)
    assert facts["is_64bit_os"] is True and facts["is_64bit_process"] is True
    assert facts["sch_use_strong_crypto"] == ([1, 1] if profile.startswith("2012r2") else [None, None])


def test_tls12_disabled_profile_and_its_download_failure(lab):
    facts = summary(lab, "2019+tls12-disabled")["prerequisites"]
    assert facts["tls12_client"] == {"Enabled": 0, "DisabledByDefault": 1}
    assert facts["tls12_server"] == {"Enabled": 0, "DisabledByDefault": 1}
    installer = lab.lab_json["installers"]["mma_x64"]
    with lab.locked_host(BY_PROFILE["2019+tls12-disabled"]) as host:
        with pytest.raises(hostmod.WindowsError) as failure:
            host.download(installer["url"], TEMP + "MMASetup-AMD64.exe")
    assert str(failure.value) == "The underlying connection was closed: An unexpected error occurred on a send."
    assert (TEMP + "MMASetup-AMD64.exe").lower() not in lab.host(BY_PROFILE["2019+tls12-disabled"])["files"]


def test_every_profile_answers_the_real_connection_except_powershell_4(lab):
    result = lab.run_play([{"ansible.windows.win_ping": {}}], forks=len(NAMES))
    for profile, name in BY_PROFILE.items():
        outcome = result.result(name)
        if profile == "2012r2+ps4":
            # bootstrap_wrapper.ps1 refuses anything older than PowerShell 5.1.
            assert outcome["failed"] is True and outcome["msg"] == "Ansible requires PowerShell v5.1"
        else:
            assert outcome["ping"] == "pong", (profile, outcome)


def test_agent_profiles(lab):
    old = summary(lab, "2016+agent-old")
    assert old["mma"]["DisplayName"] == "Microsoft Monitoring Agent"
    assert old["mma"]["DisplayVersion"] == "10.19.13515.0"
    assert old["health_service"] == "Running" and old["workspaces"] == []
    other = lab.host(BY_PROFILE["2019+agent-other-workspace"])
    assert other["summary"]["workspaces"] == ["0f0e0d0c-0b0a-4909-8807-060504030201"]
    workspace = other["agent"]["workspaces"][0]
    # The workspace is unknown to the Azure lab: the agent cannot connect, and its key never shows.
    assert workspace["connection_status"] == hostmod.CONNECTION_UNREACHABLE
    assert "key" not in workspace and len(workspace["key_sha256"]) == 64
    mirror = "hklm:\\system\\currentcontrolset\\services\\healthservice\\parameters\\service connector services\\" \
             "log analytics - 0f0e0d0c-0b0a-4909-8807-060504030201"
    assert other["registry"][mirror]["values"]["Connection Status"] == hostmod.CONNECTION_UNREACHABLE


def test_registry_layout_profiles(lab):
    legacy = summary(lab, "2019+legacy-registry")["hrw"]
    assert (legacy["layout"], legacy["registered_group"], legacy["user_workers"]) == ("legacy", "legacy-group", [])
    leftover = summary(lab, "2019+leftover-registration")["hrw"]
    assert (leftover["layout"], leftover["registered_group"]) == ("current", "old-group")
    assert len(leftover["user_workers"]) == 1 and leftover["system_workers"] == []
    system = summary(lab, "2022+system-worker")["hrw"]
    # A system worker alone is not a user registration (reference 2.5).
    assert (system["layout"], system["registered_group"], system["user_workers"]) == ("current", None, [])
    assert len(system["system_workers"]) == 1
    assert summary(lab, "2019")["hrw"]["layout"] == "absent"


def test_download_checksum_and_failures(lab):
    name = BY_PROFILE["2019"]
    installer = lab.lab_json["installers"]["mma_x64"]
    with lab.locked_host(name) as host:
        host.download(installer["url"], TEMP + "good.exe")
    files = lab.host(name)["files"]
    assert files[(TEMP + "good.exe").lower()]["sha256"] == installer["sha256"]
    assert files[(TEMP + "good.exe").lower()]["manifest"]["version"] == installer["version"]

    lab.fault(name, "checksum-mismatch")
    with lab.locked_host(name) as host:
        host.download(installer["url"], TEMP + "corrupt.exe")
    lab.fault(name, "download-failure")
    with lab.locked_host(name) as host:
        with pytest.raises(hostmod.WindowsError, match="^Unable to connect to the remote server$"):
            host.download(installer["url"], TEMP + "failed.exe")
    lab.fault(name, "clear")
    with lab.locked_host(name) as host:
        with pytest.raises(hostmod.WindowsError) as missing:
            host.download(installer["url"].replace("MMASetup-AMD64.exe", "nothing.exe"), TEMP + "missing.exe")
    assert str(missing.value) == "The remote server returned an error: (404) Not Found."
    files = lab.host(name)["files"]
    assert files[(TEMP + "corrupt.exe").lower()]["sha256"] != installer["sha256"]
    assert (TEMP + "failed.exe").lower() not in files and (TEMP + "missing.exe").lower() not in files


def test_agent_install_exit_code_uninstall_and_service_transitions(lab):
    name = BY_PROFILE["2022"]
    build = lab.lab_json["installers"]["mma_x64"]
    command = "setup.exe /qn NOAPM=1 ADD_OPINSIGHTS_WORKSPACE=0 AcceptEndUserLicenseAgreement=1"
    lab.fault(name, "installer-exit", 1603)
    with lab.locked_host(name) as host:
        with pytest.raises(hostmod.WindowsError) as failed:
            host.install_mma(build["version"], build["product_code"], command)
    assert failed.value.exit_code == 1603
    state = lab.host(name)
    assert state["summary"]["mma"] is None and state["summary"]["health_service"] is None
    assert state["processes"][-1] == dict(state["processes"][-1], command_line=command, exit_code=1603)

    lab.fault(name, "clear")
    with lab.locked_host(name) as host:
        assert host.install_mma(build["version"], build["product_code"], command) == 0
        host.add_hybrid_registration("7.3.1722.0")
    state = lab.host(name)
    assert state["summary"]["mma"]["DisplayVersion"] == build["version"]
    assert state["summary"]["mma"]["product_code"] == build["product_code"]
    assert state["summary"]["health_service"] == "Running"
    assert state["registry"]["hklm:\\software\\microsoft\\microsoft operations manager\\3.0\\setup"]["values"][
        "Product"] == "Microsoft Monitoring Agent"

    with lab.locked_host(name) as host:
        with pytest.raises(hostmod.WindowsError) as other_version:
            host.install_mma("10.19.13515.0", "{6D765BA4-C090-4C41-99AD-9DAF927E53A5}", "setup.exe /qn")
        assert other_version.value.exit_code == 1638
        assert host.set_service("HealthService", "Stopped") is True
    assert lab.host(name)["summary"]["health_service"] == "Stopped"
    with lab.locked_host(name) as host:
        assert host.restart_service() is True
    assert lab.host(name)["summary"]["health_service"] == "Running"

    with lab.locked_host(name) as host:
        assert host.uninstall_mma() is True
    state = lab.host(name)
    assert state["summary"]["mma"] is None and state["summary"]["health_service"] is None
    # The solution folder stays behind after an uninstall ([U] in the reference: cleanup not guaranteed).
    assert state["summary"]["hybrid_registration_versions"] == ["7.3.1722.0"]
    with lab.locked_host(name) as host:
        with pytest.raises(hostmod.WindowsError, match="Class not registered"):
            host.cloud_workspaces()


def test_registration_needs_module_and_honours_injected_refusals(lab):
    name = BY_PROFILE["2016+agent-old"]
    url = "https://127.0.0.1:9/agentsvc/accounts/5074e686-1ec4-47bf-9542-36033e0f8639"
    with lab.locked_host(name) as host:
        with pytest.raises(hostmod.WindowsError, match="'Add-HybridRunbookWorker' is not recognized"):
            host.register_v1_worker("g1", url, "key")
        host.add_hybrid_registration("7.2.12024.0")
        host.add_hybrid_registration("7.3.702.0")
        # Newest by version, not by name or creation order.
        assert host.newest_hybrid_registration().endswith("\\7.3.702.0\\HybridRegistration\\HybridRegistration.psd1")
    forbidden = "Forbidden: You don't have permission to access / on this server."
    for status, text in ((401, "Unauthorized"), (403, forbidden)):
        lab.fault(name, "registration", status)
        with lab.locked_host(name) as host:
            with pytest.raises(hostmod.WindowsError) as refused:
                host.register_v1_worker("g1", url, "key")
        assert refused.value.status == status and str(refused.value).startswith(text)
    lab.fault(name, "clear")
    assert lab.host(name)["summary"]["hrw"]["layout"] == "absent"


def test_leftover_registration_blocks_until_keys_are_removed(lab):
    name = BY_PROFILE["2019+leftover-registration"]
    with lab.locked_host(name) as host:
        host.install_mma("10.20.18029.0", "{8A7F2C51-4C7D-4BFD-9014-91D11F24AAE2}", "setup.exe /qn")
        host.add_hybrid_registration("7.3.1722.0")
        with pytest.raises(hostmod.WindowsError) as already:
            host.register_v1_worker("g1", "https://127.0.0.1:9/agentsvc/accounts/x", "key")
    assert str(already.value) == "Machine is already registered"
    lab.drift(name, "unregister")
    assert lab.host(name)["summary"]["hrw"]["registered_group"] is None


def test_removing_user_keys_keeps_the_system_worker(lab):
    name = BY_PROFILE["2022+system-worker"]
    with lab.locked_host(name) as host:
        account = host.hrw_registry()["system_workers"][0]["account_id"]
        host.reg_ensure(hostmod.HRW_KEY + "\\" + account + "\\my-group\\User")
    assert lab.host(name)["summary"]["hrw"]["registered_group"] == "my-group"
    with lab.locked_host(name) as host:
        assert host.remove_user_worker_keys() is True
    hrw = lab.host(name)["summary"]["hrw"]
    assert hrw["registered_group"] is None and len(hrw["system_workers"]) == 1


def test_drift_commands(lab):
    name = BY_PROFILE["2019+agent-other-workspace"]
    lab.drift(name, "stop-service")
    assert lab.host(name)["summary"]["health_service"] == "Stopped"
    lab.drift(name, "remove-workspace")
    assert lab.host(name)["summary"]["workspaces"] == []
    lab.drift(name, "uninstall-agent")
    assert lab.host(name)["summary"]["mma"] is None

    legacy = BY_PROFILE["2019+legacy-registry"]
    lab.drift(legacy, "unregister")
    assert lab.host(legacy)["summary"]["hrw"]["registered_group"] is None

    modules = BY_PROFILE["2019"]
    lab.run_play([{"community.windows.win_psmodule": {"name": "Az.Automation"}}], hosts=modules)
    assert "Az.Automation 1.10.0" in lab.host(modules)["summary"]["psmodules"]
    lab.drift(modules, "remove-psmodule", "Az.Automation")
    assert not [m for m in lab.host(modules)["summary"]["psmodules"] if m.startswith("Az.Automation")]
    rerun = lab.run_play([{"community.windows.win_psmodule": {"name": "Az.Automation"}}], hosts=modules)
    assert rerun.result(modules)["changed"] is True


def test_process_log_and_public_view_hide_secrets(lab):
    name = BY_PROFILE["2012r2"]
    secret = "c2VjcmV0LXdvcmtzcGFjZS1rZXktdmFsdWU="
    with lab.locked_host(name) as host:
        host.install_mma("10.20.18029.0", "{8A7F2C51-4C7D-4BFD-9014-91D11F24AAE2}", "setup.exe /qn NOAPM=1")
        host.add_cloud_workspace("11111111-2222-3333-4444-555555555555", secret)
    printed = lab.labctl("host", name).stdout
    assert secret not in printed
    assert hashlib.sha256(secret.encode()).hexdigest() in printed
    assert [p["command_line"] for p in lab.host(name)["processes"]] == ["setup.exe /qn NOAPM=1"]
