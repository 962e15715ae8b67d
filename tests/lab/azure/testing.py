"""Test helpers for the Azure lab: start one with ``running_lab``, change it while it runs with ``LabControl``.

Usable from any test folder; import it as
``ansible_collections.azure_automation.hybrid_worker.tests.lab.azure.testing`` (the collection path is on
``PYTHONPATH`` under ``make``) and never put ``tests/lab`` itself on ``sys.path`` in a process that uses the Azure
SDKs: the lab's ``azure`` package would hide the SDK's ``azure`` namespace there.

    with running_lab(tmp_dir) as lab:            # lab = the lab.json dict; lab["azure"]["env"] = the env vars
        control = LabControl(tmp_dir)
        control.fault("throttle", operation="HybridRunbookWorkerGroup_Get", count=1, retry_after=0)
"""
import contextlib
import json
import os
import subprocess
import sys

from . import arc_agent
from . import client

LABCTL = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "labctl")
ARM_SCOPE = "https://management.azure.com/.default"
QUERY_SCOPE = "https://api.loganalytics.io/.default"


def labctl(lab_dir, *args, check=True):
    """Run ``labctl <args> --dir lab_dir`` with this Python; return the completed process (text output)."""
    command = [sys.executable, LABCTL] + list(args[:1]) + ["--dir", lab_dir] + list(args[1:])
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    if check and result.returncode != 0:
        raise RuntimeError("labctl %s failed (%d): %s" % (" ".join(args), result.returncode, result.stderr))
    return result


def read_lab_json(lab_dir):
    with open(os.path.join(lab_dir, "lab.json"), encoding="utf-8") as handle:
        return json.load(handle)


@contextlib.contextmanager
def running_lab(lab_dir, *up_args):
    """Start a lab in ``lab_dir`` (extra ``labctl up`` options in ``up_args``), yield lab.json, stop it at the end."""
    labctl(lab_dir, "up", *up_args)
    try:
        yield read_lab_json(lab_dir)
    finally:
        labctl(lab_dir, "down", check=False)


def lab_environment(lab):
    """The environment variables under which the collection's modules reach this lab."""
    return dict(lab["azure"]["env"])


def credential(lab, **kwargs):
    """An azure-identity ``ClientSecretCredential`` for the lab's service principal."""
    from azure.identity import ClientSecretCredential  # pylint: disable=import-outside-toplevel
    env = lab["azure"]["env"]
    return ClientSecretCredential(
        env["AZURE_TENANT"], env["AZURE_CLIENT_ID"], env["AZURE_SECRET"], authority=env["AZURE_AUTHORITY_HOST"],
        disable_instance_discovery=True, connection_verify=env["AZURE_CA_BUNDLE"], **kwargs)


def client_kwargs(lab, **overrides):
    """Keyword arguments for ``AutomationClient`` / ``LogAnalyticsManagementClient`` against the lab."""
    env = lab["azure"]["env"]
    kwargs = {"base_url": env["AZURE_RESOURCE_MANAGER_URL"], "credential_scopes": [ARM_SCOPE],
              "connection_verify": env["AZURE_CA_BUNDLE"], "polling_interval": 0}
    kwargs.update(overrides)
    return kwargs


class LabControl:
    """The lab's control API from a test: faults, settings, counters, resources, test data."""

    def __init__(self, lab_dir):
        self.lab_dir = lab_dir

    def _admin(self):
        return client.AdminClient(self.lab_dir)

    def fault(self, kind, **options):
        """kind: throttle | error | latency | lro_failed | token_down. Options: every, count, operation, surface,
        retry_after, status, ms (see tests/lab/README.md)."""
        return self._admin().call("POST", "faults", dict(options, kind=kind))

    def clear_faults(self):
        self._admin().call("DELETE", "faults")

    def age_worker(self, worker, days):
        """Make a worker (resource id, worker id or computer name) last seen ``days`` ago, as if it stopped pinging."""
        return self._admin().call("POST", "workers/last-seen", {"worker": worker, "days": days})

    def settings(self, **changes):
        if changes:
            return self._admin().call("PATCH", "settings", changes)
        return self._admin().call("GET", "settings")

    def stats(self):
        return self._admin().call("GET", "stats")

    def reset_stats(self):
        return self._admin().call("POST", "stats/reset")

    def resources(self):
        return self._admin().call("GET", "resources")

    def secrets(self):
        """Every secret the lab holds now (client secret, account and workspace keys), unmasked, for leak checks."""
        return self._admin().call("GET", "secrets")

    def add_subscription(self, subscription_id=None):
        return self._admin().call("POST", "subscriptions", {"subscription_id": subscription_id})["subscription_id"]

    def mint_token(self, audience="https://management.azure.com", expires_in=3599):
        return self._admin().call("POST", "token", {"audience": audience, "expires_in": expires_in})["access_token"]

    def add_heartbeats(self, customer_id, records):
        """Store Heartbeat rows as given (TimeGenerated included), e.g. to make a computer look stale."""
        return self._admin().call("POST", "heartbeats", {"customer_id": customer_id, "records": records})

    def request_log(self):
        path = os.path.join(self.lab_dir, "azure", "requests.jsonl")
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    # ---- Azure Arc (Microsoft.HybridCompute) ---------------------------------------------------------------------
    def arc_agent(self):
        """An ``arc_agent.ArcAgentClient`` signed in as the lab's service principal (what azcmagent does)."""
        azure = read_lab_json(self.lab_dir)["azure"]
        env = azure["env"]
        return arc_agent.ArcAgentClient(azure["url"], azure["ca_bundle"], env["AZURE_TENANT"], env["AZURE_CLIENT_ID"],
                                        env["AZURE_SECRET"])

    def arc_connect(self, name, resource_group=None, location=None, subscription_id=None, **facts):
        """Connect a Windows machine as its agent would; returns the machine (ARM shape). ``facts`` as
        ``ArcAgentClient.connect`` takes them; osType windows and computerName = name unless given."""
        azure = read_lab_json(self.lab_dir)["azure"]
        facts.setdefault("osType", "windows")
        facts.setdefault("osName", "Microsoft Windows Server 2022 Datacenter")
        facts.setdefault("osVersion", "10.0.20348.2849")
        facts.setdefault("osEdition", "ServerDatacenter")
        facts.setdefault("agentVersion", "1.48.02881.1941")
        facts.setdefault("computerName", name)
        return self.arc_agent().connect(subscription_id or azure["subscription_id"],
                                        resource_group or azure["resource_group"], name,
                                        location or azure["location"], **facts)

    def arc_machine(self, machine_id, status=None, extension_handlers=None):
        """Set a machine's status (Connected, Disconnected, Error, AwaitingConnection) and/or what its extension
        handlers do with the next operation (``{"<publisher>.<type>": {"outcome": "succeed|fail|hang", "message"}}``)."""
        return self._admin().call("POST", "arc/machine", {"machine_id": machine_id, "status": status,
                                                          "extension_handlers": extension_handlers})
