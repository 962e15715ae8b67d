"""A failed access-token request is reported as what it is: the Entra ID token request, and why it failed."""
import pytest
from azure.core.exceptions import ClientAuthenticationError

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils import azure


@pytest.mark.parametrize("text,cause", [
    ("Authentication failed: HTTP Error: 503", "the token endpoint is unavailable (HTTP 503)"),
    ("Authentication failed: HTTP Error: 429", "Entra ID is throttling token requests (HTTP 429)"),
    ("Authentication failed: HTTP Error: 400", "the token endpoint answered HTTP 400"),
    ("Authentication failed: AADSTS7000215: Invalid client secret provided.",
     "the client secret is wrong (use the secret's value, not its id)"),
    ("Authentication failed: AADSTS7000222: The provided client secret keys are expired.", "the client secret has expired"),
    ("Authentication failed: AADSTS700016: Application with identifier 'x' was not found.",
     "the client id is not an application of this tenant"),
    ("Authentication failed: something else", "Entra ID issued no token"),
])
def test_token_failure_cause(text, cause):
    assert azure.token_failure_cause(ClientAuthenticationError(message=text)) == cause


def test_an_answer_of_azure_itself_is_not_a_token_failure():
    refused = ClientAuthenticationError(message="The access token is invalid.")
    refused.status_code = 401
    assert azure.token_failure_cause(refused) is None
    assert azure.token_failure_cause(ValueError("Authentication failed: HTTP Error: 503")) is None


class _Failed(Exception):
    def __init__(self, msg):
        super().__init__(msg)
        self.msg = msg


def test_fail_azure_names_the_token_request_the_cause_and_the_service_message():
    module = azure.AzureModule.__new__(azure.AzureModule)
    module._settings = {"kind": "client_secret", "tenant": "72f988bf-86f1-41af-91ab-2d7cd011db47"}  # pylint: disable=protected-access
    module._endpoints = {"authority_host": "https://login.microsoftonline.com"}  # pylint: disable=protected-access
    failures = []

    def fail_json(**result):
        failures.append(result)
        raise _Failed(result["msg"])
    module.fail_json = fail_json
    with pytest.raises(_Failed):
        module.fail_azure(ClientAuthenticationError(message="Authentication failed: HTTP Error: 503"),
                          "Failed to read Log Analytics workspace 'law-1' in resource group 'rg-1'")
    assert failures[0]["msg"] == (
        "Failed to read Log Analytics workspace 'law-1' in resource group 'rg-1': AuthenticationFailed: the Entra ID token "
        "request for tenant 72f988bf-86f1-41af-91ab-2d7cd011db47 at https://login.microsoftonline.com failed because the "
        "token endpoint is unavailable (HTTP 503): Authentication failed: HTTP Error: 503")
    assert failures[0]["error_code"] == "AuthenticationFailed"
