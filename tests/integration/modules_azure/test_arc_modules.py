"""arc_machine_info and arc_machine_extension against the lab, with the worker record through hybrid_worker."""
import pytest

PROXY_PASSWORD = "it-proxy-password-7c1e9a4b2d"


@pytest.fixture(scope="module")
def arc_machine(azure_lab):
    """A Windows machine connected the way its Arc agent connects (lab agent surface, service principal token)."""
    name = "it-arc-web01"
    machine = azure_lab.control.arc_connect(name, computerName=name.upper(), ipAddress="10.0.1.21",
                                            vmUuid="6b0c3ad4-7d2b-4a1e-9f0e-2f1f3c4d5e6f")
    assert machine["properties"]["status"] == "Connected"
    return name


def test_arc_machine_info_and_extension(run_playbook, azure_lab, arc_machine):
    before = azure_lab.control.stats()
    output = run_playbook("arc_machine_extension.yml", machine=arc_machine, proxy_password=PROXY_PASSWORD)
    after = azure_lab.control.stats()
    operations = {k: v - before["arm"]["by_operation"].get(k, 0) for k, v in after["arm"]["by_operation"].items()}
    # Install, repair, proxy twice, failed change, hung change, and the one removal: nothing else wrote.
    assert operations.get("MachineExtensions_CreateOrUpdate") == 7
    assert operations.get("MachineExtensions_Delete") == 1
    # The extension (and its protected settings) is gone by the end, so the fixture's scan of the lab's secret store
    # no longer knows this one: look for it here.
    assert PROXY_PASSWORD not in output
