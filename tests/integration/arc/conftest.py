"""One Windows fleet (with its Azure lab) for the Arc agent tests of a module: a bare host per scenario, plus the
host profiles the scenarios need (stale extension-based worker keys, an agent connected elsewhere)."""
import pytest

from ansible_collections.azure_automation.hybrid_worker.tests.lab.windows.testing import AzureSide, WindowsLab

HC_API = "2026-07-15"
RG_API = "2021-04-01"
PROFILES = "2019,2022,2019+stale-v2-keys,2016+arc-connected-elsewhere"


@pytest.fixture(scope="module")
def arc_lab(tmp_path_factory):
    lab = WindowsLab.start(str(tmp_path_factory.mktemp("arclab")), hosts=4, profile=PROFILES)
    yield lab
    lab.stop()


@pytest.fixture(scope="module")
def azure(arc_lab):
    return AzureSide(arc_lab.lab_json)


@pytest.fixture(scope="module")
def arc_args(arc_lab):
    """Module arguments that install from the lab's stand-in package and connect with the lab's service principal."""
    lab_json = arc_lab.lab_json
    info, env, package = lab_json["azure"], lab_json["azure"]["env"], lab_json["installers"]["arc_agent"]
    return {"installer_url": package["url"], "installer_checksum": package["sha256"], "tenant_id": env["AZURE_TENANT"],
            "subscription_id": info["subscription_id"], "resource_group": info["resource_group"],
            "location": info["location"], "service_principal_id": env["AZURE_CLIENT_ID"],
            "service_principal_secret": env["AZURE_SECRET"]}
