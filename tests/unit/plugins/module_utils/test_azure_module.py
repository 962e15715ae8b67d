"""The AzureModule wrapper as a module sees it: options, environment fallbacks, clients, early failures."""
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils import azure
from ansible_collections.azure_automation.hybrid_worker.plugins.modules import automation_registration_info

LAB_ENV = {
    "AZURE_TENANT": "tenant-1", "AZURE_CLIENT_ID": "client-1", "AZURE_SECRET": "secret-1", "AZURE_SUBSCRIPTION_ID": "sub-1",
    "AZURE_AUTHORITY_HOST": "https://127.0.0.1:1", "AZURE_RESOURCE_MANAGER_URL": "https://127.0.0.1:1/",
    "AZURE_LOG_ANALYTICS_URL": "https://127.0.0.1:1", "AZURE_CA_BUNDLE": "/nonexistent/ca.pem",
}


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in list(LAB_ENV) + ["AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_PROFILE", "AZURE_CLOUD_ENVIRONMENT", "ANSIBLE_AZURE_AUTH_SOURCE"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.azure/credentials, no CLI profile
    return monkeypatch


def run_main(main, args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            main()
    return json.loads(capsys.readouterr().out)


def test_missing_subscription_fails_before_any_request(clean_env, capsys):
    result = run_main(automation_registration_info.main, {"resource_group": "rg", "automation_account": "aa-test", "auth_source": "msi"}, capsys)
    assert result["failed"]
    assert result["msg"] == ("Azure authentication settings are incomplete: No subscription: set subscription_id or the"
                             " AZURE_SUBSCRIPTION_ID environment variable")


def test_invalid_arguments_fail_before_authentication(clean_env, capsys):
    result = run_main(automation_registration_info.main, {"resource_group": "rg/x", "automation_account": "aa"}, capsys)
    assert result["msg"] == (
        "Invalid arguments for Automation registration info: resource_group 'rg/x' is not a valid resource group name (1-90 letters,"
        " digits, '-', '_', '.', '(', ')', not ending with '.'); automation_account 'aa' is not a valid Automation account name"
        " (6-50 letters, digits or '-', starting and ending with a letter or digit)")


def test_environment_configures_credential_and_clients(clean_env):
    for name, value in LAB_ENV.items():
        clean_env.setenv(name, value)
    with patch_module_args({}):
        module = azure.AzureModule(argument_spec={}, supports_check_mode=True)
    assert module.params["secret"] == "secret-1"
    assert module.subscription_id == "sub-1"
    credential = module.credential
    assert credential is module.credential  # one credential per run
    assert type(credential).__name__ == "ClientSecretCredential"
    automation = module.client("automation")
    assert automation is module.client("automation")
    assert automation._config.credential_scopes == ["https://management.azure.com/.default"]  # pylint: disable=protected-access
    assert automation._config.base_url == "https://127.0.0.1:1"  # pylint: disable=protected-access
    assert automation._config.retry_policy.total_retries == 6  # pylint: disable=protected-access
    assert automation._config.polling_interval == 10  # pylint: disable=protected-access
    assert module.endpoints["disable_instance_discovery"] is True


def test_secret_from_the_environment_is_masked_in_results(clean_env, capsys):
    for name, value in LAB_ENV.items():
        clean_env.setenv(name, value)
    with patch_module_args({}):
        module = azure.AzureModule(argument_spec={}, supports_check_mode=True)
        with pytest.raises(SystemExit):
            module.exit_json(changed=False, echoed="the secret is secret-1")
    out = capsys.readouterr().out
    assert "secret-1" not in out
