"""Auth resolution, endpoints and error formatting of the AzureModule wrapper."""
import json

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from azure.core.pipeline.transport import HttpResponse

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils import azure


def params(**overrides):
    base = dict(auth_source="auto", subscription_id="sub", client_id=None, secret=None, tenant=None, profile=None,
                cloud_environment="AzureCloud", authority_host=None, resource_manager_url=None, log_analytics_url=None)
    base.update(overrides)
    return base


def test_auto_prefers_a_complete_service_principal(tmp_path):
    settings = azure.resolve_auth(params(client_id="c", secret="s", tenant="t"), environ={},
                                  credentials_file=str(tmp_path / "credentials"))
    assert (settings["kind"], settings["client_id"], settings["secret"], settings["tenant"]) == ("client_secret", "c", "s", "t")


def test_auto_falls_back_to_the_credentials_file_then_the_cli(tmp_path):
    cred_file = tmp_path / "credentials"
    cred_file.write_text("[default]\nsubscription_id=fsub\nclient_id=fc\nsecret=fs\ntenant=ft\n\n[other]\nclient_id=oc\nsecret=os\ntenant=ot\n")
    settings = azure.resolve_auth(params(subscription_id=None), environ={}, credentials_file=str(cred_file))
    assert (settings["kind"], settings["subscription_id"], settings["client_id"]) == ("client_secret", "fsub", "fc")
    settings = azure.resolve_auth(params(profile="other"), environ={}, credentials_file=str(cred_file))
    assert (settings["client_id"], settings["subscription_id"]) == ("oc", "sub")

    cli_profile = tmp_path / "azureProfile.json"
    cli_profile.write_text("\ufeff" + json.dumps({"subscriptions": [{"id": "a", "isDefault": False}, {"id": "b", "isDefault": True}]}),
                           encoding="utf-8")
    settings = azure.resolve_auth(params(subscription_id=None), environ={}, credentials_file=str(tmp_path / "none"),
                                  cli_profile_file=str(cli_profile))
    assert (settings["kind"], settings["subscription_id"]) == ("cli", "b")


def test_credentials_file_profile_must_exist(tmp_path):
    cred_file = tmp_path / "credentials"
    cred_file.write_text("[default]\nclient_id=fc\n")
    with pytest.raises(azure.AzureAuthError, match=r"has no \[prod\] profile"):
        azure.resolve_auth(params(auth_source="credential_file", profile="prod"), environ={}, credentials_file=str(cred_file))


def test_env_source_reads_both_variable_spellings():
    environ = {"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s", "AZURE_SUBSCRIPTION_ID": "es"}
    settings = azure.resolve_auth(params(auth_source="env", subscription_id=None), environ=environ)
    assert (settings["tenant"], settings["secret"], settings["subscription_id"]) == ("t", "s", "es")
    with pytest.raises(azure.AzureAuthError, match="AZURE_SECRET"):
        azure.resolve_auth(params(auth_source="env"), environ={"AZURE_TENANT": "t", "AZURE_CLIENT_ID": "c"})


def test_missing_pieces_are_named():
    with pytest.raises(azure.AzureAuthError, match="needs secret"):
        azure.resolve_auth(params(auth_source="credential", client_id="c", tenant="t"), environ={})
    with pytest.raises(azure.AzureAuthError, match="No subscription"):
        azure.resolve_auth(params(auth_source="msi", subscription_id=None), environ={})


def test_argument_spec_env_fallbacks_follow_the_shared_contract():
    spec = azure.azure_argument_spec()
    assert spec["secret"]["no_log"] is True
    assert spec["secret"]["fallback"][1] == ["AZURE_SECRET", "AZURE_CLIENT_SECRET"]
    assert spec["tenant"]["fallback"][1] == ["AZURE_TENANT", "AZURE_TENANT_ID"]
    assert spec["authority_host"]["fallback"][1] == ["AZURE_AUTHORITY_HOST"]
    assert spec["resource_manager_url"]["fallback"][1] == ["AZURE_RESOURCE_MANAGER_URL"]
    assert spec["log_analytics_url"]["fallback"][1] == ["AZURE_LOG_ANALYTICS_URL"]
    assert spec["ca_bundle"]["fallback"][1] == ["AZURE_CA_BUNDLE"]
    assert spec["profile"]["fallback"][1] == ["AZURE_PROFILE"]


def test_endpoints_keep_the_cloud_audience_when_overridden():
    endpoints = azure.resolve_endpoints(params(resource_manager_url="https://127.0.0.1:8443/", authority_host="127.0.0.1:8443"), "AzureCloud")
    assert endpoints["resource_manager_url"] == "https://127.0.0.1:8443"
    assert endpoints["authority_host"] == "https://127.0.0.1:8443"
    assert endpoints["resource_manager_scope"] == "https://management.azure.com/.default"
    assert endpoints["disable_instance_discovery"] is True
    gov = azure.resolve_endpoints(params(), "AzureUSGovernment")
    assert gov["log_analytics_scope"] == "https://api.loganalytics.us/.default"
    assert gov["disable_instance_discovery"] is False


class _Response(HttpResponse):
    def __init__(self, status, body):
        super().__init__(None, None)
        self.status_code = status
        self.reason = "Reason"
        self._body = json.dumps(body).encode()
        self.content_type = "application/json"
        self.headers = {"Content-Type": "application/json"}

    def body(self):
        return self._body


def test_describe_error_reads_both_error_shapes():
    wrapped = HttpResponseError(response=_Response(404, {"error": {"code": "ResourceGroupNotFound", "message": "Resource group 'x' could not be found."}}))
    assert azure.describe_azure_error(wrapped) == ("ResourceGroupNotFound", "Resource group 'x' could not be found.")
    flat = ResourceNotFoundError(response=_Response(404, {"code": "NotFound", "message": "Account  not\nfound"}))
    assert azure.describe_azure_error(flat) == ("NotFound", "Account not found")
    assert azure.is_not_found(flat)
    auth = ClientAuthenticationError(message="ClientSecretCredential.get_token failed: AADSTS7000215: Invalid client secret.")
    assert azure.describe_azure_error(auth) == ("AuthenticationFailed", "ClientSecretCredential.get_token failed: AADSTS7000215: Invalid client secret.")


def test_query_rows_shapes_the_first_table():
    payload = {"tables": [{"name": "PrimaryResult", "columns": [{"name": "Computer"}, {"name": "TimeGenerated"}],
                           "rows": [["WEB01", "2026-01-01T00:00:00Z"]]}]}
    assert azure.query_rows(payload) == [{"Computer": "WEB01", "TimeGenerated": "2026-01-01T00:00:00Z"}]
    assert azure.query_rows({"tables": []}) == []


class FailCalled(Exception):
    pass


class RecordingModule:
    def __init__(self):
        self.failure = None

    def fail_azure(self, exc, msg):
        self.failure = (msg,) + azure.describe_azure_error(exc)
        raise FailCalled()


def test_get_or_none_treats_a_missing_parent_as_an_error():
    module = RecordingModule()

    def missing_resource():
        raise ResourceNotFoundError(response=_Response(404, {"error": {"code": "ResourceNotFound", "message": "gone"}}))

    def missing_group():
        raise ResourceNotFoundError(response=_Response(404, {"error": {"code": "ResourceGroupNotFound", "message": "Resource group 'rg' could not be found."}}))

    assert azure.get_or_none(module, missing_resource, "thing") is None
    with pytest.raises(FailCalled):
        azure.get_or_none(module, missing_group, "workspace 'w'")
    assert module.failure == ("Failed to read workspace 'w'", "ResourceGroupNotFound", "Resource group 'rg' could not be found.")
