"""Arc machine ids, the Hybrid Worker extension's desired state and comparison, and the Arc modules' argument checks."""
import copy
from unittest.mock import MagicMock

import pytest

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils import arc_machines as arc
from ansible_collections.azure_automation.hybrid_worker.plugins.modules import arc_machine_extension as ext_mod
from ansible_collections.azure_automation.hybrid_worker.plugins.modules import arc_machine_info as info_mod

from .conftest import ModuleFailed

SUB = "00000000-0000-0000-0000-000000000001"
ARC = "/subscriptions/%s/resourceGroups/rg-servers/providers/Microsoft.HybridCompute/machines/web01" % SUB
VM = "/subscriptions/%s/resourceGroups/rg-vms/providers/Microsoft.Compute/virtualMachines/vm01" % SUB
URL = "https://0b1c.jrds.westeurope.azure-automation.net/automationAccounts/0b1c"


def extension_params(**overrides):
    params = dict(machine_id=ARC, machine_name=None, machine_resource_group=None, name="HybridWorkerExtension",
                  resource_group="rg-automation", automation_account="aa-hybrid-workers", automation_hybrid_service_url=None,
                  os_type=None, type_handler_version="1.1", auto_upgrade_minor_version=True, enable_automatic_upgrade=True,
                  proxy_server=None, proxy_user=None, proxy_password=None, update_password="on_create", location=None,
                  state="present")
    params.update(overrides)
    return params


def installed(settings=None, version="1.1.13", state="Succeeded", **properties):
    body = {"id": ARC + "/extensions/HybridWorkerExtension", "name": "HybridWorkerExtension", "location": "westeurope",
            "properties": dict({"publisher": arc.HYBRID_WORKER_PUBLISHER, "type": "HybridWorkerForWindows",
                                "typeHandlerVersion": version, "autoUpgradeMinorVersion": True, "enableAutomaticUpgrade": True,
                                "settings": settings if settings is not None else {"AutomationAccountURL": URL},
                                "protectedSettings": {}, "provisioningState": state,
                                "instanceView": {"status": {"code": "0", "level": "Info", "displayStatus": "Provisioning succeeded",
                                                            "message": "done", "time": "2026-01-10T12:00:00Z"}}}, **properties)}
    return body


def test_parse_machine_id_tells_arc_from_azure_vms():
    parsed = arc.parse_machine_id(ARC.lower())
    assert (parsed["kind"], parsed["supported"], parsed["resource_group"], parsed["name"]) == ("arc", True, "rg-servers", "web01")
    assert arc.parse_machine_id(VM)["kind"] == "azure_vm"
    assert arc.parse_machine_id("/subscriptions/x/resourceGroups/y/providers/Microsoft.Web/sites/z") is None
    assert arc.validate_machine_id(ARC) is None
    assert arc.validate_machine_id(VM) == ("machine_id '%s' is an Azure VM; this module supports Arc-enabled servers "
                                           "(Microsoft.HybridCompute/machines) only so far" % VM)
    assert arc.validate_machine_id("web01").startswith("machine_id 'web01' is not the resource id of an Arc-enabled server")


@pytest.mark.parametrize("name, ok", [("web01", True), ("web-01.contoso_x", True), ("a" * 54, True), ("a" * 55, False),
                                      ("bad/name", False), ("", False)])
def test_machine_names(name, ok):
    assert (arc.validate_machine_name(name) is None) is ok


@pytest.mark.parametrize("proxy, ok", [("10.0.0.10:8080", True), ("http://proxy.contoso.com:3128", True), ("proxy", False),
                                       ("10.0.0.10", False)])
def test_proxy_server(proxy, ok):
    assert (arc.validate_proxy_server(proxy) is None) is ok


def test_desired_extension_and_proxy_settings():
    body = arc.desired_extension(extension_params(os_type="windows", proxy_server="10.0.0.10:8080", proxy_user="svc"), URL, "westeurope")
    assert body == {"location": "westeurope", "properties": {
        "publisher": "Microsoft.Azure.Automation.HybridWorker", "type": "HybridWorkerForWindows", "typeHandlerVersion": "1.1",
        "autoUpgradeMinorVersion": True, "enableAutomaticUpgrade": True,
        "settings": {"AutomationAccountURL": URL, "ProxySettings": {"ProxyServer": "10.0.0.10:8080", "UserName": "svc"}}}}
    assert "protectedSettings" not in body["properties"]


def test_differences_compare_major_version_and_settings_only():
    desired = arc.desired_extension(extension_params(os_type="windows"), URL, "westeurope")
    assert arc.extension_differences(installed(), desired) == []
    # The service's full version, a URL with a trailing slash and other letter case: still converged.
    assert arc.extension_differences(installed(settings={"AutomationAccountURL": URL.upper() + "/"}), desired) == []
    assert arc.extension_differences(installed(version="2.0.1"), desired) == ["typeHandlerVersion"]
    assert arc.extension_differences(installed(settings={"AutomationAccountURL": URL, "Other": 1}), desired) == ["settings"]
    assert arc.extension_differences(installed(state="Failed"), desired) == ["provisioningState"]
    other = installed()
    other["properties"]["type"] = "HybridWorkerForLinux"
    other["properties"]["enableAutomaticUpgrade"] = False
    assert arc.extension_differences(other, desired) == ["type", "enableAutomaticUpgrade"]


def test_extension_view_never_shows_protected_settings():
    body = installed()
    body["properties"]["protectedSettings"] = {"ProxyPassword": "never-shown"}
    view = arc.extension_view(body)
    assert "never-shown" not in str(view)
    assert view["machine_id"] == ARC
    assert view["status"]["display_status"] == "Provisioning succeeded"
    assert arc.diff_view(view)["type_handler_version"] == "1.1.13"
    assert arc.extension_view(None) == {} and arc.diff_view({}) == {}


def test_machine_view():
    machine = {"id": ARC, "name": "web01", "location": "westeurope", "identity": {"principalId": "p"},
               "properties": {"status": "Connected", "agentVersion": "1.48", "osType": "windows", "osProfile": {"computerName": "WEB01"}}}
    view = arc.machine_view(machine)
    assert (view["resource_group"], view["status"], view["computer_name"], view["identity_principal_id"]) == (
        "rg-servers", "Connected", "WEB01", "p")
    assert "extensions" not in view
    assert arc.machine_view(machine, [installed()])["extensions"][0]["type"] == "HybridWorkerForWindows"


def test_extension_argument_errors_are_one_sentence():
    assert ext_mod.validate_params(extension_params()) is None
    assert ext_mod.validate_params(extension_params(machine_id=None, machine_name="web01", resource_group=None,
                                                    automation_account=None, automation_hybrid_service_url=URL)) == (
        "machine_name needs machine_resource_group or resource_group")
    assert ext_mod.validate_params(extension_params(machine_name="web01")) == "machine_id and machine_name are mutually exclusive"
    assert ext_mod.validate_params(extension_params(machine_id=None)) == "one of machine_id or machine_name is required"
    assert ext_mod.validate_params(extension_params(automation_account=None, automation_hybrid_service_url="http://x")) == (
        "automation_hybrid_service_url 'http://x' must be an https:// URL")
    assert ext_mod.validate_params(extension_params(name="a/b", machine_resource_group="bad rg")) == (
        "machine_resource_group 'bad rg' is not a valid resource group name (1-90 letters, digits, '-', '_', '.', '(', ')', not ending "
        "with '.'); name 'a/b' is not a valid extension name (1-64 characters, none of /\\?#%&:<>*)")
    # Removal needs neither the account nor the URL.
    assert ext_mod.validate_params(extension_params(state="absent", automation_account=None, resource_group=None)) is None


def test_info_argument_errors():
    assert info_mod.validate_params(dict(name=None, resource_group=None, include_extensions=False)) is None
    assert info_mod.validate_params(dict(name="web01", resource_group=None, include_extensions=False)) == "name needs resource_group"


class Poller:
    def __init__(self, result=None, done=True):
        self._result, self._done = result, done

    def wait(self, timeout=None):
        return None

    def done(self):
        return self._done

    def status(self):
        return "Succeeded" if self._done else "InProgress"

    def result(self):
        return self._result


def machine(status="Connected"):
    return {"id": ARC, "name": "web01", "location": "westeurope", "properties": {"status": status, "osType": "windows"}}


def test_ensure_present_converged_makes_no_call(fake_module):
    module = fake_module(extension_params(automation_hybrid_service_url=URL))
    client = MagicMock()
    changed, before, after, extra = ext_mod.ensure_present(module, client, module.params, "rg-servers", "web01", machine(), installed())
    assert not changed and before == after and extra["changes"] == []
    client.machine_extensions.begin_create_or_update.assert_not_called()


def test_ensure_present_check_mode_and_install(fake_module):
    module = fake_module(extension_params(automation_hybrid_service_url=URL, proxy_server="p:1", proxy_password="pw-secret"),
                         check_mode=True)
    client = MagicMock()
    changed, before, after, extra = ext_mod.ensure_present(module, client, module.params, "rg-servers", "web01", machine(), None)
    assert changed and before == {} and after["provisioning_state"] is None and extra["changes"] == ["extension"]
    client.machine_extensions.begin_create_or_update.assert_not_called()

    module.check_mode = False
    client.machine_extensions.begin_create_or_update.return_value = Poller(installed())
    changed, before, after, extra = ext_mod.ensure_present(module, client, module.params, "rg-servers", "web01", machine(), None)
    body = client.machine_extensions.begin_create_or_update.call_args[0][3]
    assert body["properties"]["protectedSettings"] == {"ProxyPassword": "pw-secret"}
    assert "pw-secret" not in str(after)
    assert after["provisioning_state"] == "Succeeded"


def test_ensure_present_refuses_what_it_cannot_do(fake_module):
    module = fake_module(extension_params(automation_hybrid_service_url=URL, type_handler_version="2.0"))
    client = MagicMock()
    with pytest.raises(ModuleFailed, match=r"^Arc machine 'web01' is Disconnected; its agent must be Connected"):
        ext_mod.ensure_present(module, client, module.params, "rg-servers", "web01", machine("Disconnected"), installed())
    linux = installed()
    linux["properties"]["type"] = "HybridWorkerForLinux"
    with pytest.raises(ModuleFailed, match=r"is Microsoft.Azure.Automation.HybridWorker/HybridWorkerForLinux, not .*remove it first"):
        ext_mod.ensure_present(module, client, module.params, "rg-servers", "web01", machine(), linux)
    client.machine_extensions.begin_create_or_update.return_value = Poller(installed(state="Failed"))
    with pytest.raises(ModuleFailed, match=r"ended in provisioning state Failed: done$"):
        ext_mod.ensure_present(module, client, module.params, "rg-servers", "web01", machine(), None)


def test_wait_lro_times_out_with_a_sentence(fake_module):
    module = fake_module(extension_params(), )
    with pytest.raises(ModuleFailed) as caught:
        ext_mod.wait_lro(module, Poller(done=False), "install extension 'x' on Arc machine 'web01'")
    assert str(caught.value) == "Timed out after 5s waiting to install extension 'x' on Arc machine 'web01' (the extension is still InProgress)"


def test_ensure_absent(fake_module):
    module = fake_module(extension_params(state="absent"))
    client = MagicMock()
    assert ext_mod.ensure_absent(module, client, "rg-servers", "web01", ARC, None, "HybridWorkerExtension") == (False, {}, {}, {})
    client.machine_extensions.begin_delete.return_value = Poller()
    changed, before, after, _extra = ext_mod.ensure_absent(module, client, "rg-servers", "web01", ARC, copy.deepcopy(installed()),
                                                           "HybridWorkerExtension")
    assert changed and before["type"] == "HybridWorkerForWindows" and after == {}
    client.machine_extensions.begin_delete.assert_called_once_with("rg-servers", "web01", "HybridWorkerExtension")


def test_info_takes_extensions_from_the_machine_resources_and_confirms_an_empty_or_missing_list(fake_module):
    client = MagicMock()
    extension = installed()
    listed = {"id": ARC, "name": "web01", "resources": [extension]}
    assert info_mod.read_extensions(fake_module, client, listed) == [extension]
    client.machine_extensions.list.assert_not_called()
    # An empty list may be a listing that did not expand the machine's extensions: the machine's own listing decides.
    client.machine_extensions.list.return_value = [extension]
    assert info_mod.read_extensions(fake_module, client, dict(listed, resources=[])) == [extension]
    assert info_mod.read_extensions(fake_module, client, {"id": ARC, "name": "web01"}) == [extension]
    assert client.machine_extensions.list.call_count == 2
    client.machine_extensions.list.assert_called_with("rg-servers", "web01")
    client.machine_extensions.list.return_value = []
    assert info_mod.read_extensions(fake_module, client, dict(listed, resources=[])) == []
