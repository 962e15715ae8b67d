"""A stand-in for AzureModule so the modules' state functions run against MagicMock SDK clients."""
import pytest

from ansible_collections.azure_automation.hybrid_worker.plugins.module_utils.azure import describe_azure_error


class ModuleFailed(Exception):
    pass


class FakeAzureModule:
    def __init__(self, params, check_mode=False, clients=None):
        self.params = dict(polling_interval=0, wait_timeout=5, max_retries=0)
        self.params.update(params)
        self.check_mode = check_mode
        self.diff_mode = True
        self.clients = clients or {}
        self.failure = None

    def client(self, kind):
        return self.clients[kind]

    def fail_json(self, msg, **kwargs):
        self.failure = msg
        raise ModuleFailed(msg)

    def fail_azure(self, exc, msg):
        code, message = describe_azure_error(exc)
        self.fail_json("%s: %s: %s" % (msg, code, message))

    def wait_for(self, fetch, is_done, what):
        for _attempt in range(5):
            value = fetch()
            if is_done(value):
                return value
        self.fail_json("Timed out waiting for %s" % what)


@pytest.fixture
def fake_module():
    return FakeAzureModule
