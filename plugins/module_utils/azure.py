# -*- coding: utf-8 -*-
# Copyright: contributors to the azure_automation.hybrid_worker collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A thin wrapper around AnsibleModule for the collection's Azure modules.

It adds the shared authentication options, builds one credential per module run, hands out SDK clients that point at
the configured cloud (or at explicit endpoint overrides), and turns SDK exceptions into one error sentence:
``<what failed>: <code>: <service message>``. Everything else lives in small free functions in the modules.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import configparser
import importlib.util
import json
import os
import re
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

AZURE_IMPORT_ERROR = None
try:
    from azure.core.exceptions import (
        AzureError,
        ClientAuthenticationError,
        HttpResponseError,
        ResourceNotFoundError,
    )
    from azure.core.pipeline.policies import BearerTokenCredentialPolicy, HeadersPolicy, RetryPolicy
    from azure.core.pipeline.transport import RequestsTransport
    from azure.core import PipelineClient
    from azure.core.rest import HttpRequest
    from azure.identity import (
        AzureCliCredential,
        ClientSecretCredential,
        ManagedIdentityCredential,
    )
    # The management SDKs are imported when a client is built; here only their presence is checked (cheaply).
    for _sdk in ("azure.mgmt.automation", "azure.mgmt.loganalytics"):
        if importlib.util.find_spec(_sdk) is None:
            raise ImportError("No module named %r" % _sdk)
except ImportError:
    AZURE_IMPORT_ERROR = traceback.format_exc()
    # Names used in isinstance checks below must exist even without the SDK.
    AzureError = ClientAuthenticationError = HttpResponseError = ResourceNotFoundError = Exception

AZURE_REQUIREMENTS = "azure-identity, azure-mgmt-automation and azure-mgmt-loganalytics"

# Public endpoints of the sovereign clouds (learn.microsoft.com "National clouds" and the SDKs' cloud settings). Token
# scopes stay the cloud's own even when an endpoint is overridden: a private endpoint of the same service expects the
# same audience.
CLOUDS = {
    "AzureCloud": {
        "authority_host": "https://login.microsoftonline.com",
        "resource_manager_url": "https://management.azure.com",
        "resource_manager_scope": "https://management.azure.com/.default",
        "log_analytics_url": "https://api.loganalytics.io",
        "log_analytics_scope": "https://api.loganalytics.io/.default",
    },
    "AzureUSGovernment": {
        "authority_host": "https://login.microsoftonline.us",
        "resource_manager_url": "https://management.usgovcloudapi.net",
        "resource_manager_scope": "https://management.usgovcloudapi.net/.default",
        "log_analytics_url": "https://api.loganalytics.us",
        "log_analytics_scope": "https://api.loganalytics.us/.default",
    },
    "AzureChinaCloud": {
        "authority_host": "https://login.chinacloudapi.cn",
        "resource_manager_url": "https://management.chinacloudapi.cn",
        "resource_manager_scope": "https://management.chinacloudapi.cn/.default",
        "log_analytics_url": "https://api.loganalytics.azure.cn",
        "log_analytics_scope": "https://api.loganalytics.azure.cn/.default",
    },
}

# What AzureModule builds its AnsibleModule with. The collection's action plugins put an in-process stand-in (same
# constructor arguments; params, check_mode, _diff, exit_json, fail_json, warn) here for the one module they run in the
# controller's process; anywhere else it stays AnsibleModule.
MODULE_BACKEND = {"factory": AnsibleModule}

AUTH_SOURCES = ["auto", "env", "cli", "credential_file", "msi", "credential"]
CREDENTIALS_FILE = os.path.join("~", ".azure", "credentials")
CLI_PROFILE_FILE = os.path.join("~", ".azure", "azureProfile.json")


def azure_argument_spec():
    """The options every Azure module of the collection accepts (documented in the ``azure`` doc fragment)."""
    return dict(
        auth_source=dict(type="str", choices=AUTH_SOURCES, default="auto", fallback=(env_fallback, ["ANSIBLE_AZURE_AUTH_SOURCE"])),
        subscription_id=dict(type="str", fallback=(env_fallback, ["AZURE_SUBSCRIPTION_ID"])),
        client_id=dict(type="str", fallback=(env_fallback, ["AZURE_CLIENT_ID"])),
        secret=dict(type="str", no_log=True, fallback=(env_fallback, ["AZURE_SECRET", "AZURE_CLIENT_SECRET"])),
        tenant=dict(type="str", fallback=(env_fallback, ["AZURE_TENANT", "AZURE_TENANT_ID"])),
        profile=dict(type="str", fallback=(env_fallback, ["AZURE_PROFILE"])),
        cloud_environment=dict(type="str", choices=list(CLOUDS), default="AzureCloud", fallback=(env_fallback, ["AZURE_CLOUD_ENVIRONMENT"])),
        authority_host=dict(type="str", fallback=(env_fallback, ["AZURE_AUTHORITY_HOST"])),
        resource_manager_url=dict(type="str", fallback=(env_fallback, ["AZURE_RESOURCE_MANAGER_URL"])),
        log_analytics_url=dict(type="str", fallback=(env_fallback, ["AZURE_LOG_ANALYTICS_URL"])),
        ca_bundle=dict(type="path", fallback=(env_fallback, ["AZURE_CA_BUNDLE"])),
        polling_interval=dict(type="int", default=10),
        wait_timeout=dict(type="int", default=900),
        max_retries=dict(type="int", default=6),
    )


class AzureAuthError(Exception):
    """Settings that cannot produce a credential; raised before any request is made."""


def _first(*values):
    for value in values:
        if value:
            return value
    return None


def read_credentials_file(path, profile):
    """The ``[profile]`` section of an azure.azcollection style credentials file as a dict (empty if absent)."""
    parser = configparser.ConfigParser()
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as handle:
            parser.read_file(handle)
    except OSError:
        return {}
    section = profile or "default"
    if not parser.has_section(section):
        raise AzureAuthError("The credentials file %s has no [%s] profile" % (path, section))
    return dict(parser.items(section))


def read_cli_default_subscription(path):
    """The subscription that ``az account set`` made the default, or None."""
    try:
        with open(os.path.expanduser(path), encoding="utf-8-sig") as handle:
            profile = json.load(handle)
    except (OSError, ValueError):
        return None
    for subscription in profile.get("subscriptions", []):
        if subscription.get("isDefault"):
            return subscription.get("id")
    return None


def resolve_auth(params, environ=None, credentials_file=CREDENTIALS_FILE, cli_profile_file=CLI_PROFILE_FILE):
    """Decide how to authenticate from module params (which already carry their environment fallbacks).

    Returns a dict: ``kind`` (client_secret, cli, msi), ``tenant``, ``client_id``, ``secret``, ``subscription_id``,
    ``cloud_environment``. The order for ``auto`` follows azure.azcollection: explicit service principal, then the
    credentials file, then the Azure CLI login.
    """
    environ = os.environ if environ is None else environ
    source = params.get("auth_source") or "auto"
    settings = dict(
        kind=None,
        tenant=params.get("tenant"),
        client_id=params.get("client_id"),
        secret=params.get("secret"),
        subscription_id=params.get("subscription_id"),
        cloud_environment=params.get("cloud_environment") or "AzureCloud",
    )

    if source == "auto":
        if settings["client_id"] and settings["secret"] and settings["tenant"]:
            source = "credential"
        elif os.path.exists(os.path.expanduser(credentials_file)):
            source = "credential_file"
        else:
            source = "cli"

    if source == "env":
        settings.update(
            tenant=_first(environ.get("AZURE_TENANT"), environ.get("AZURE_TENANT_ID")),
            client_id=environ.get("AZURE_CLIENT_ID"),
            secret=_first(environ.get("AZURE_SECRET"), environ.get("AZURE_CLIENT_SECRET")),
            subscription_id=_first(params.get("subscription_id"), environ.get("AZURE_SUBSCRIPTION_ID")),
        )
        source = "credential"
        missing = [name for name, key in (("AZURE_TENANT", "tenant"), ("AZURE_CLIENT_ID", "client_id"), ("AZURE_SECRET", "secret"))
                   if not settings[key]]
        if missing:
            raise AzureAuthError("auth_source=env needs the environment variables %s" % ", ".join(missing))
    elif source == "credential_file":
        section = read_credentials_file(credentials_file, params.get("profile"))
        if not section:
            raise AzureAuthError("auth_source=credential_file but %s does not exist" % credentials_file)
        settings.update(
            tenant=section.get("tenant"),
            client_id=section.get("client_id"),
            secret=section.get("secret"),
            subscription_id=_first(params.get("subscription_id"), section.get("subscription_id")),
            cloud_environment=section.get("cloud_environment") or settings["cloud_environment"],
        )
        source = "credential"
    if source == "credential":
        missing = [key for key in ("tenant", "client_id", "secret") if not settings[key]]
        if missing:
            raise AzureAuthError("A service principal login needs %s" % ", ".join(missing))
        settings["kind"] = "client_secret"
    elif source == "cli":
        settings["kind"] = "cli"
        settings["subscription_id"] = settings["subscription_id"] or read_cli_default_subscription(cli_profile_file)
    elif source == "msi":
        settings["kind"] = "msi"

    if settings["cloud_environment"] not in CLOUDS:
        raise AzureAuthError("cloud_environment must be one of %s, got %s" % (", ".join(CLOUDS), settings["cloud_environment"]))
    if not settings["subscription_id"]:
        raise AzureAuthError("No subscription: set subscription_id or the AZURE_SUBSCRIPTION_ID environment variable")
    return settings


def resolve_endpoints(params, cloud_environment):
    """Endpoints and token scopes: the cloud's, with any explicit override (trailing slashes removed)."""
    cloud = dict(CLOUDS[cloud_environment])
    for key in ("authority_host", "resource_manager_url", "log_analytics_url"):
        if params.get(key):
            value = params[key].rstrip("/")
            if "://" not in value:
                value = "https://" + value
            cloud[key] = value
    known_authorities = set(c["authority_host"] for c in CLOUDS.values())
    # MSAL validates an unknown authority against the public cloud's discovery endpoint; a private or stand-in
    # authority (Azure Stack, ADFS, a test double) is only reachable with that discovery turned off.
    cloud["disable_instance_discovery"] = cloud["authority_host"] not in known_authorities
    return cloud


def describe_azure_error(exc):
    """(code, message) of an SDK exception, from the service's error body when there is one.

    azure-core parses both the ARM-wrapped ``{"error": {...}}`` and the Automation provider's flat ``{"code",
    "message"}`` bodies into ``exc.error``.
    """
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None) if error is not None else None
    message = getattr(error, "message", None) if error is not None else None
    status = getattr(exc, "status_code", None)
    if not code:
        if isinstance(exc, ClientAuthenticationError) and not status:
            code = "AuthenticationFailed"  # raised by azure-identity before any service call
        else:
            code = str(status) if status else type(exc).__name__
    if not message:
        message = getattr(exc, "message", None) or str(exc) or getattr(exc, "reason", None) or "no message"
    return code, " ".join(str(message).split())


# Entra ID sign-in error codes that say what is wrong with a service principal's credentials (learn.microsoft.com,
# "Microsoft Entra authentication and authorization error codes").
TOKEN_ERROR_CAUSES = (
    ("AADSTS7000215", "the client secret is wrong (use the secret's value, not its id)"),
    ("AADSTS7000222", "the client secret has expired"),
    ("AADSTS700016", "the client id is not an application of this tenant"),
    ("AADSTS90002", "the tenant does not exist"),
    ("AADSTS900023", "the tenant id is not a tenant GUID or domain"),
)
TOKEN_SOURCES = {
    "client_secret": "the Entra ID token request for tenant {tenant} at {authority}",
    "msi": "the Entra ID token request through the managed identity endpoint",
    "cli": "the Entra ID token request through the Azure CLI login",
}


def token_failure_cause(exc):
    """Why azure-identity got no access token, in words, or None when ``exc`` is not a failed token request (an
    answer of Azure itself carries an HTTP status; azure-identity's own error does not)."""
    if not isinstance(exc, ClientAuthenticationError) or getattr(exc, "status_code", None):
        return None
    text = str(getattr(exc, "message", None) or exc)
    for code, cause in TOKEN_ERROR_CAUSES:
        if code in text:
            return cause
    status = re.search(r"HTTP Error: (\d{3})", text)
    if status:
        status = int(status.group(1))
        if status == 429:
            return "Entra ID is throttling token requests (HTTP 429)"
        if status >= 500:
            return "the token endpoint is unavailable (HTTP %d)" % status
        return "the token endpoint answered HTTP %d" % status
    return "Entra ID issued no token"


def azure_failure_message(exc, msg, settings=None, endpoints=None):
    """The one failure sentence of modules and plugins: "<msg>: <code>: <service message>"; when no access token
    could be had, "<msg>: <code>: <the Entra ID token request> failed because <cause>: <message>"."""
    code, message = describe_azure_error(exc)
    cause = token_failure_cause(exc)
    if cause:
        settings, endpoints = settings or {}, endpoints or {}
        request = TOKEN_SOURCES.get(settings.get("kind"), TOKEN_SOURCES["cli"]).format(
            tenant=settings.get("tenant"), authority=endpoints.get("authority_host"))
        message = "%s failed because %s: %s" % (request, cause, message)
    return "%s: %s: %s" % (msg, code, message)


def is_not_found(exc):
    return isinstance(exc, ResourceNotFoundError) or getattr(exc, "status_code", None) == 404


class AzureModule:
    """Wraps AnsibleModule: shared auth options, one credential, SDK clients, and one error format."""

    def __init__(self, argument_spec, **kwargs):
        spec = azure_argument_spec()
        spec.update(argument_spec)
        self._module = MODULE_BACKEND["factory"](argument_spec=spec, **kwargs)
        if AZURE_IMPORT_ERROR:
            self._module.fail_json(msg=missing_required_lib(AZURE_REQUIREMENTS), exception=AZURE_IMPORT_ERROR)
        self._settings = None
        self._endpoints = None
        self._credential = None
        self._clients = {}

    # -- AnsibleModule passthrough -------------------------------------------------------------------------------
    @property
    def params(self):
        return self._module.params

    @property
    def check_mode(self):
        return self._module.check_mode

    @property
    def diff_mode(self):
        return self._module._diff

    def exit_json(self, **kwargs):
        self._module.exit_json(**kwargs)

    def fail_json(self, **kwargs):
        self._module.fail_json(**kwargs)

    def warn(self, message):
        self._module.warn(message)

    # -- settings ----------------------------------------------------------------------------------------------------
    def _resolve(self):
        if self._settings is None:
            try:
                self._settings = resolve_auth(self.params)
            except AzureAuthError as exc:
                self.fail_json(msg="Azure authentication settings are incomplete: %s" % exc)
            self._endpoints = resolve_endpoints(self.params, self._settings["cloud_environment"])

    @property
    def subscription_id(self):
        self._resolve()
        return self._settings["subscription_id"]

    @property
    def endpoints(self):
        self._resolve()
        return self._endpoints

    def _transport_options(self):
        options = {}
        if self.params.get("ca_bundle"):
            options["connection_verify"] = self.params["ca_bundle"]
        return options

    @property
    def credential(self):
        """One credential per module run, so a token is fetched once and reused by every client."""
        if self._credential is None:
            self._resolve()
            settings, endpoints = self._settings, self._endpoints
            options = self._transport_options()
            if settings["kind"] == "client_secret":
                self._credential = ClientSecretCredential(
                    settings["tenant"], settings["client_id"], settings["secret"],
                    authority=endpoints["authority_host"],
                    disable_instance_discovery=endpoints["disable_instance_discovery"],
                    **options)
            elif settings["kind"] == "msi":
                self._credential = ManagedIdentityCredential(client_id=settings["client_id"], **options)
            else:
                self._credential = AzureCliCredential(tenant_id=settings["tenant"])
        return self._credential

    def client(self, kind):
        """An SDK client: ``automation``, ``loganalytics`` or ``hybridcompute`` (ARM), built once per run."""
        if kind not in self._clients:
            endpoints = self.endpoints
            options = dict(
                base_url=endpoints["resource_manager_url"],
                credential_scopes=[endpoints["resource_manager_scope"]],
                polling_interval=self.params["polling_interval"],
                retry_total=self.params["max_retries"],
            )
            options.update(self._transport_options())
            # Each SDK is imported when first needed: a module pays only for the clients it uses.
            if kind == "automation":
                from azure.mgmt.automation import AutomationClient  # pylint: disable=import-outside-toplevel
                self._clients[kind] = AutomationClient(self.credential, self.subscription_id, **options)
            elif kind == "loganalytics":
                from azure.mgmt.loganalytics import LogAnalyticsManagementClient  # pylint: disable=import-outside-toplevel
                self._clients[kind] = LogAnalyticsManagementClient(self.credential, self.subscription_id, **options)
            elif kind == "hybridcompute":
                # Azure Arc (Microsoft.HybridCompute) is only needed by the Arc modules: its absence fails those alone.
                try:
                    from azure.mgmt.hybridcompute import HybridComputeManagementClient  # pylint: disable=import-outside-toplevel
                except ImportError:
                    self.fail_json(msg=missing_required_lib("azure-mgmt-hybridcompute>=10.0.0"), exception=traceback.format_exc())
                self._clients[kind] = HybridComputeManagementClient(self.credential, self.subscription_id, **options)
            else:
                raise ValueError("unknown Azure client kind %r" % kind)
        return self._clients[kind]

    def query_log_analytics(self, customer_id, query, timespan=None):
        """Run a KQL query through the Log Analytics query API; returns the first table as a list of dicts."""
        endpoints = self.endpoints
        if "query" not in self._clients:
            policies = [
                HeadersPolicy({"Accept": "application/json"}),
                RetryPolicy(retry_total=self.params["max_retries"]),
                BearerTokenCredentialPolicy(self.credential, endpoints["log_analytics_scope"]),
            ]
            transport = RequestsTransport(**self._transport_options())
            self._clients["query"] = PipelineClient(base_url=endpoints["log_analytics_url"], policies=policies, transport=transport)
        body = {"query": query}
        if timespan:
            body["timespan"] = timespan
        request = HttpRequest("POST", "%s/v1/workspaces/%s/query" % (endpoints["log_analytics_url"], customer_id), json=body)
        response = self._clients["query"].send_request(request)
        if response.status_code != 200:
            raise query_error(response)
        return query_rows(response.json())

    # -- errors and waiting ----------------------------------------------------------------------------------------
    def fail_azure(self, exc, msg):
        """Fail with "<msg>: <code>: <service message>" and the traceback (shown with -vvv); when no access token
        could be had, "<msg>: <code>: <the Entra ID token request> failed because <cause>: <message>"."""
        code, message = describe_azure_error(exc)
        result = dict(msg=azure_failure_message(exc, msg, self._settings, self._endpoints), error_code=code)
        status = getattr(exc, "status_code", None)
        if status:
            result["status_code"] = status
        self.fail_json(exception=traceback.format_exc(), **result)

    def wait_for(self, fetch, is_done, what):
        """Call ``fetch()`` every polling_interval seconds until ``is_done(value)``; fail after wait_timeout."""
        deadline = time.monotonic() + self.params["wait_timeout"]
        while True:
            value = fetch()
            if is_done(value):
                return value
            if time.monotonic() >= deadline:
                self.fail_json(msg="Timed out after %ss waiting for %s" % (self.params["wait_timeout"], what))
            time.sleep(max(self.params["polling_interval"], 0))


def query_error(response):
    """An HttpResponseError for a failed query; azure-core reads the API's ``{"error": {"code", "message"}}`` body."""
    return HttpResponseError(response=response)


def query_rows(payload):
    """The query API's ``{"tables": [{"columns": [...], "rows": [...]}]}`` as a list of dicts (first table)."""
    tables = payload.get("tables") or []
    if not tables:
        return []
    columns = [column["name"] for column in tables[0].get("columns", [])]
    return [dict(zip(columns, row)) for row in tables[0].get("rows", [])]


def as_rest_dict(model):
    """SDK models (dict-like, REST keys) or plain dicts as a plain dict with REST (camelCase) keys."""
    if model is None:
        return None
    if hasattr(model, "as_dict"):
        return model.as_dict()
    return dict(model)


# A 404 with one of these codes means a parent is missing, which is an error rather than "absent".
PARENT_NOT_FOUND_CODES = ("ResourceGroupNotFound", "SubscriptionNotFound", "ParentResourceNotFound")


def get_or_none(module, fetch, what):
    """``fetch()`` or None when the resource does not exist; any other error fails the module."""
    try:
        return as_rest_dict(fetch())
    except AzureError as exc:
        if is_not_found(exc) and describe_azure_error(exc)[0] not in PARENT_NOT_FOUND_CODES:
            return None
        module.fail_azure(exc, "Failed to read %s" % what)


def azure_call(module, call, what):
    """Run an SDK call; any AzureError fails the module with "Failed to <what>: <code>: <message>"."""
    try:
        return call()
    except AzureError as exc:
        module.fail_azure(exc, "Failed to %s" % what)
