"""The real winrm connection (pywinrm) against lab hosts: HTTPS with certificate validation, Basic and NTLM, the
Ansible outcomes of wrong credentials and unreachable hosts, the payload actions, and the flags models receive."""
import hashlib
import os
import time

import pytest
import yaml

from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import connection_loader

HOSTS = ("win-001", "win-002", "win-003")


@pytest.fixture(scope="module")
def lab(windows_lab_factory):
    return windows_lab_factory(hosts=3, groups="g1,g2")


def test_inventory_has_connection_variables_with_certificate_validation(lab):
    with open(lab.inventory, encoding="utf-8") as handle:
        inventory = yaml.safe_load(handle)
    windows = inventory["all"]["children"]["windows"]
    assert windows["vars"]["ansible_connection"] == "winrm"
    assert windows["vars"]["ansible_winrm_scheme"] == "https"
    assert windows["vars"]["ansible_winrm_server_cert_validation"] == "validate"
    assert windows["vars"]["ansible_winrm_ca_trust_path"] == os.path.join(lab.dir, "certs", "ca.pem")
    hosts = windows["hosts"]
    assert sorted(hosts) == list(HOSTS)
    assert [hosts[h]["hybrid_runbook_worker_group"] for h in HOSTS] == ["g1", "g2", "g1"]
    addresses = {hosts[h]["ansible_host"] for h in HOSTS}
    assert len(addresses) == 3 and all(a.startswith("127.") and a != "127.0.0.1" for a in addresses)
    assert len({hosts[h]["ansible_password"] for h in HOSTS}) == 3


@pytest.mark.parametrize("transport", ["ntlm", "basic"])
def test_module_runs_over_https_with_each_transport(lab, transport):
    lab.stats(reset=True)
    result = lab.run_play([{"ansible.windows.win_ping": {"data": "over-" + transport}}],
                          extra_vars={"ansible_winrm_transport": transport})
    for name in HOSTS:
        assert result.result(name)["ping"] == "over-" + transport
        assert result.result(name)["changed"] is False
    stats = lab.stats()
    # One WinRM command per module task and host, and the model saw exactly that module.
    assert stats["commands_per_host"] == {name: 1 for name in HOSTS}
    assert stats["module_calls_per_host"] == {name: {"ansible.windows.win_ping": 1} for name in HOSTS}
    assert stats["auth_failures_per_host"] == {}


def test_ntlm_message_encryption_over_http(lab):
    http_port = lab.lab_json["windows"]["hosts"]["win-002"]["http_port"]
    over_http = {"ansible_port": http_port, "ansible_winrm_scheme": "http", "ansible_winrm_transport": "ntlm"}
    sealed = lab.run_play([{"ansible.windows.win_ping": {"data": "sealed"}}], hosts="win-002", extra_vars=over_http)
    assert sealed.result("win-002")["ping"] == "sealed"
    # Unencrypted traffic over http is refused (Windows' default AllowUnencrypted=false).
    unsealed = lab.run_play([{"ansible.windows.win_ping": {}}], hosts="win-002",
                            extra_vars=dict(over_http, ansible_winrm_message_encryption="never"))
    assert unsealed.result("win-002")["unreachable"] is True
    assert "Code 400" in unsealed.result("win-002")["msg"]
    basic = lab.run_play([{"ansible.windows.win_ping": {}}], hosts="win-002",
                         extra_vars=dict(over_http, ansible_winrm_transport="basic"))
    assert basic.result("win-002")["msg"] == "Task failed: basic: the specified credentials were rejected by the server"


def test_ntlm_accepts_the_local_account_forms(lab):
    for user in ("WIN-003\\labadmin", ".\\labadmin"):
        result = lab.run_play([{"ansible.windows.win_ping": {}}], hosts="win-003", extra_vars={"ansible_user": user})
        assert result.result("win-003")["ping"] == "pong", user


def test_server_certificate_is_validated(lab):
    # A CA bundle without the lab CA: the client must refuse the lab's certificate.
    import certifi  # pylint: disable=import-outside-toplevel
    result = lab.run_play([{"ansible.windows.win_ping": {}}], hosts="win-001",
                          extra_vars={"ansible_winrm_ca_trust_path": certifi.where()})
    outcome = result.result("win-001")
    assert outcome["unreachable"] is True
    assert "CERTIFICATE_VERIFY_FAILED" in outcome["msg"]


@pytest.mark.parametrize("transport", ["ntlm", "basic"])
def test_wrong_password_is_rejected_like_windows(lab, transport):
    result = lab.run_play([{"ansible.windows.win_ping": {}}], hosts="win-001",
                          extra_vars={"ansible_password": "not-the-password", "ansible_winrm_transport": transport})
    outcome = result.result("win-001")
    assert outcome["unreachable"] is True
    assert outcome["msg"] == "Task failed: %s: the specified credentials were rejected by the server" % transport


def test_wrong_credentials_fault_affects_only_that_host(lab):
    lab.fault("win-002", "wrong-credentials")
    try:
        result = lab.run_play([{"ansible.windows.win_ping": {}}])
        assert result.result("win-002")["unreachable"] is True
        assert "credentials were rejected" in result.result("win-002")["msg"]
        assert result.ok("win-001") and result.ok("win-003")
    finally:
        lab.fault("win-002", "clear")
    assert lab.run_play([{"ansible.windows.win_ping": {}}], hosts="win-002").ok("win-002")


def test_unreachable_host_and_recovery(lab):
    lab.fault("win-003", "unreachable")
    try:
        result = lab.run_play([{"ansible.windows.win_ping": {}}])
        outcome = result.result("win-003")
        assert outcome["unreachable"] is True
        assert "Connection refused" in outcome["msg"]
        assert result.ok("win-001") and result.ok("win-002")
        assert result.stats["win-003"]["unreachable"] == 1
    finally:
        lab.fault("win-003", "clear")
    assert lab.run_play([{"ansible.windows.win_ping": {}}], hosts="win-003").ok("win-003")


def test_slow_host_adds_latency_to_every_operation(lab):
    lab.fault("win-001", "slow", 250)
    try:
        started = time.monotonic()
        result = lab.run_play([{"ansible.windows.win_ping": {}}], hosts="win-001",
                              extra_vars={"ansible_winrm_transport": "basic"})
        elapsed = time.monotonic() - started
    finally:
        lab.fault("win-001", "clear")
    assert result.ok("win-001")
    # Create, Command, Send, Receive, Signal, Delete: at least six delayed operations.
    assert elapsed >= 6 * 0.25


def test_receive_operation_timeout_is_polled_again(lab):
    lab.stats(reset=True)
    lab.fault("win-002", "slow-command", 2500)
    try:
        result = lab.run_play([{"ansible.windows.win_ping": {"data": "late"}}], hosts="win-002",
                              extra_vars={"ansible_winrm_connection_timeout": 1})
    finally:
        lab.fault("win-002", "clear")
    assert result.result("win-002")["ping"] == "late"
    assert lab.stats()["receive_timeouts"] >= 2


def test_check_mode_and_diff_flags_reach_the_model(lab):
    before = lab.host("win-001")["summary"]["psmodules"]
    checked = lab.run_play([{"community.windows.win_psmodule": {"name": "Az.Accounts"}}], hosts="win-001", check=True)
    assert checked.result("win-001")["changed"] is True
    assert checked.result("win-001")["output"] == "Module Az.Accounts installed"
    assert lab.host("win-001")["summary"]["psmodules"] == before

    applied = lab.run_play([{"community.windows.win_psmodule": {"name": "Az.Accounts"}}], hosts="win-001")
    assert applied.result("win-001")["changed"] is True
    assert "Az.Accounts 2.19.0" in lab.host("win-001")["summary"]["psmodules"]

    again = lab.run_play([{"community.windows.win_psmodule": {"name": "Az.Accounts"}}], hosts="win-001")
    assert again.result("win-001")["changed"] is False
    assert again.result("win-001")["output"] == "Module Az.Accounts already present"


def test_arguments_are_validated_like_ansible_basic(lab):
    tasks = [
        {"ansible.windows.win_ping": {"dataa": "x"}, "ignore_errors": True},
        {"community.windows.win_psmodule": {"state": "present"}, "ignore_errors": True},
        {"community.windows.win_psmodule": {"name": "Az.Accounts", "state": "installed"}, "ignore_errors": True},
        {"community.windows.win_psmodule": {"name": "Az.Accounts", "force": "perhaps"}, "ignore_errors": True},
    ]
    result = lab.run_play(tasks, hosts="win-002")
    messages = [result.result("win-002", i)["msg"] for i in range(4)]
    assert all(result.result("win-002", i)["failed"] for i in range(4))
    assert messages[0] == ("Unsupported parameters for (ansible.windows.win_ping) module: dataa. "
                           "Supported parameters include: data")
    assert messages[1] == "missing required arguments: name"
    assert messages[2] == "value of state must be one of: absent, latest, present. Got no match for: installed"
    assert messages[3].startswith("argument for force is of type str and we were unable to convert to bool")
    assert lab.host("win-002")["summary"]["psmodules"] == ["PackageManagement 1.0.0.1", "PowerShellGet 1.0.0.1"]


def test_unmodelled_modules_and_scripts_fail(lab):
    tasks = [
        {"ansible.windows.win_file": {"path": "C:\\x", "state": "directory"}, "ignore_errors": True},
        {"ansible.builtin.raw": "Get-Date", "ignore_errors": True},
    ]
    result = lab.run_play(tasks, hosts="win-003")
    module = result.result("win-003", 0)
    assert module["failed"] is True
    assert module["msg"] == "ansible.windows.win_file is not modelled by the lab"
    raw = result.result("win-003", 1)
    assert raw["failed"] is True and raw["rc"] == 1
    assert "not modelled by the lab" in raw["stderr"]


def _connection(lab, name):
    hosts = yaml.safe_load(open(lab.inventory, encoding="utf-8"))["all"]["children"]["windows"]["hosts"]
    entry = hosts[name]
    conn = connection_loader.get("winrm", PlayContext())
    conn.set_options(var_options={
        "ansible_host": entry["ansible_host"], "ansible_port": entry["ansible_port"],
        "ansible_user": entry["ansible_user"], "ansible_password": entry["ansible_password"],
        "ansible_winrm_transport": "ntlm", "ansible_winrm_scheme": "https",
        # pywinrm keyword arguments reach the plugin as "extras", as inventory variables do.
        "_extras": {"ansible_winrm_server_cert_validation": "validate",
                    "ansible_winrm_ca_trust_path": os.path.join(lab.dir, "certs", "ca.pem")},
    })
    return conn


def test_put_fetch_mkdtemp_and_cleanup_through_the_connection_plugin(lab, tmp_path):
    source = tmp_path / "payload.bin"
    source.write_bytes(os.urandom(700 * 1024))  # several put chunks and a multi-chunk Receive on fetch
    conn = _connection(lab, "win-001")
    try:
        conn._connect()  # pylint: disable=protected-access
        command = conn._shell._mkdtemp2(basefile="ansible-tmp-lab", tmpdir="%TEMP%")  # pylint: disable=protected-access
        rc, out, dummy = conn.exec_command(command.command, in_data=command.input_data)
        tmp_dir = out.decode().strip()
        assert rc == 0 and tmp_dir == "C:\\Users\\labadmin\\AppData\\Local\\Temp\\ansible-tmp-lab"

        remote = tmp_dir + "\\payload.bin"
        conn.put_file(str(source), remote)
        fetched = tmp_path / "fetched.bin"
        conn.fetch_file(remote, str(fetched))
        assert hashlib.sha256(fetched.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()
        files = lab.host("win-001")["files"]
        assert files[remote.lower()]["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()

        rc = conn.exec_command(conn._shell.remove(tmp_dir, recurse=True))[0]  # pylint: disable=protected-access
        assert rc == 0
        assert not [p for p in lab.host("win-001")["files"] if p.startswith(tmp_dir.lower())]

        home = conn._shell._expand_user2("~\\Documents")  # pylint: disable=protected-access
        rc, out, dummy = conn.exec_command(home.command, in_data=home.input_data)
        assert rc == 0 and out.decode().strip() == "C:\\Users\\labadmin\\Documents"
    finally:
        conn.close()


def test_fact_gathering_models_the_minimum_subset_only(lab):
    minimum = lab.run_play([{"ansible.builtin.debug": {"msg": "{{ ansible_distribution }} PS{{ ansible_powershell_version }}"
                                                              " {{ ansible_env.USERPROFILE }}"}}],
                           hosts="win-001", gather_facts=True, play_options={"gather_subset": ["!all"]})
    assert minimum.ok("win-001", 1), minimum.result("win-001", 0)
    assert minimum.result("win-001", 1)["msg"] == "Microsoft Windows Server 2019 Datacenter PS5 C:\\Users\\labadmin"
    everything = lab.run_play([{"ansible.builtin.debug": {"msg": "unreached"}}], hosts="win-001", gather_facts=True)
    gathered = everything.result("win-001", 0)["failed_modules"]["ansible.legacy.setup"]
    assert gathered["failed"] is True
    assert gathered["msg"].startswith("ansible.windows.setup gather_subset all_ipv4_addresses, all_ipv6_addresses")
    assert gathered["msg"].endswith("is not modelled by the lab (gather_subset: ['!all'] gathers the minimum set it "
                                    "models)")
