"""One Azure lab per test session (started through labctl in a temporary folder), plus SDK clients and a raw caller.

Other test folders can start their own lab the same way: ``testing.running_lab(tmp_dir)`` from
``ansible_collections.azure_automation.hybrid_worker.tests.lab.azure.testing``.
"""
import pytest
import requests

from ansible_collections.azure_automation.hybrid_worker.tests.lab.azure import testing


@pytest.fixture(scope="session")
def azure_lab_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("azure-lab"))


@pytest.fixture(scope="session")
def azure_lab(azure_lab_dir):
    """The lab.json dict of a lab running for the whole session."""
    with testing.running_lab(azure_lab_dir) as lab:
        yield lab


@pytest.fixture
def lab_control(azure_lab, azure_lab_dir):
    """Control API of the session lab; faults and settings changed by a test are undone after it."""
    control = testing.LabControl(azure_lab_dir)
    before = control.settings()
    yield control
    control.clear_faults()
    control.settings(**before)


@pytest.fixture(scope="session")
def credential(azure_lab):
    return testing.credential(azure_lab)


@pytest.fixture(scope="session")
def automation(azure_lab, credential):
    from azure.mgmt.automation import AutomationClient  # pylint: disable=import-outside-toplevel
    return AutomationClient(credential, azure_lab["azure"]["subscription_id"], **testing.client_kwargs(azure_lab))


@pytest.fixture(scope="session")
def loganalytics(azure_lab, credential):
    from azure.mgmt.loganalytics import LogAnalyticsManagementClient  # pylint: disable=import-outside-toplevel
    return LogAnalyticsManagementClient(credential, azure_lab["azure"]["subscription_id"],
                                        **testing.client_kwargs(azure_lab))


class RawCaller:
    """Plain HTTPS calls to the lab with a real bearer token, for what the SDKs hide (status codes, headers)."""

    def __init__(self, lab, credential):
        self.lab = lab["azure"]
        self.credential = credential

    def token(self, scope=testing.ARM_SCOPE):
        return self.credential.get_token(scope).token

    def call(self, method, path, body=None, api_version=None, headers=None, scope=testing.ARM_SCOPE, params=None):
        all_headers = {"Authorization": "Bearer " + self.token(scope)} if scope else {}
        all_headers.update(headers or {})
        query = dict(params or {})
        if api_version:
            query["api-version"] = api_version
        return requests.request(method, self.lab["url"] + path, json=body, headers=all_headers, params=query,
                                verify=self.lab["ca_bundle"], timeout=30)

    def call_url(self, method, url, scope=testing.ARM_SCOPE):
        """Follow a URL the lab handed out (Location, nextLink) as is."""
        return requests.request(method, url, headers={"Authorization": "Bearer " + self.token(scope)},
                                verify=self.lab["ca_bundle"], timeout=30)


@pytest.fixture(scope="session")
def raw(azure_lab, credential):
    return RawCaller(azure_lab, credential)


@pytest.fixture(scope="session")
def names(azure_lab):
    lab = azure_lab["azure"]
    rg_path = "/subscriptions/%s/resourceGroups/%s" % (lab["subscription_id"], lab["resource_group"])
    return {
        "sub": lab["subscription_id"], "rg": lab["resource_group"], "aa": lab["automation_account"],
        "rg_path": rg_path,
        "aa_path": rg_path + "/providers/Microsoft.Automation/automationAccounts/" + lab["automation_account"],
        "ws_base": rg_path + "/providers/Microsoft.OperationalInsights/workspaces/",
    }
