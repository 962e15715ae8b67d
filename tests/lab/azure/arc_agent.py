"""The Connected Machine (Arc) agent's calls to the Azure lab, standard library only and free of lab imports.

The Windows lab's Arc agent model loads this file by path (like ``signing.py``: the folder name ``azure`` would hide
the Azure SDK's namespace if imported as a package); tests use it through ``testing.LabControl``.

The agent authenticates as ``azcmagent connect --service-principal-id ... --service-principal-secret ...`` does: a
client-credentials token for ``https://management.azure.com/.default`` from the lab's Entra ID endpoint. The secret
goes in the POST body of the token request only, never into a URL or a log line.
"""
import http.client
import json
import ssl
import threading
import time
import urllib.parse

ARM_SCOPE = "https://management.azure.com/.default"
TIMEOUT = 10
HYBRID_WORKER_WINDOWS = "Microsoft.Azure.Automation.HybridWorker.HybridWorkerForWindows"


class ArcAgentError(Exception):
    """An error answer of the lab: ``status`` (None for network failures), ``code`` and ``message``."""

    def __init__(self, status, code, message):
        super().__init__("%s %s: %s" % (status, code, message))
        self.status, self.code, self.message = status, code, message


class _Channel(threading.local):
    """One kept-alive HTTPS connection per thread: the agent of a real machine keeps its connection to Azure too,
    and a TLS handshake per report would make the lab's own plumbing cost what no Azure request costs the
    controller (the Windows lab runs module calls and heartbeat rounds on several threads)."""

    connection = None


def _retryable(exc, reused):
    # A kept-alive connection the server closed in the meantime fails on its next request before the request is
    # handled; sending it once more on a new connection is what HTTP clients do.
    return reused and isinstance(exc, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError))


def _open(url, context):
    parts = urllib.parse.urlsplit(url)
    return http.client.HTTPSConnection(parts.hostname, parts.port or 443, timeout=TIMEOUT, context=context)


def _error(status, data):
    try:
        answer = json.loads(data.decode("utf-8"))
    except ValueError:
        return ArcAgentError(status, str(status), data.decode("utf-8", "replace")[:200])
    if isinstance(answer.get("error"), dict):
        return ArcAgentError(status, answer["error"].get("code"), answer["error"].get("message"))
    return ArcAgentError(status, answer.get("error") or str(status), answer.get("error_description") or str(answer))


class ArcAgentClient:
    """One service principal talking to the lab as a connected machine's agent would."""

    def __init__(self, url, ca_bundle, tenant_id, client_id, client_secret):
        self.url = url.rstrip("/")
        self.ca_bundle = ca_bundle
        self.tenant_id, self.client_id = tenant_id, client_id
        self._secret = client_secret
        self._token = None
        self._expires = 0
        self._context = ssl.create_default_context(cafile=ca_bundle)
        self._channel = _Channel()

    def _request(self, method, path, body=None, headers=None):
        while True:
            connection = self._channel.connection
            reused = connection is not None
            if connection is None:
                connection = self._channel.connection = _open(self.url, self._context)
            try:
                connection.request(method, path, body=body, headers=headers or {})
                response = connection.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                self._channel.connection = None
                if _retryable(exc, reused):
                    continue
                raise ArcAgentError(None, "ConnectionFailed", str(exc)) from None
            if response.will_close:
                connection.close()
                self._channel.connection = None
            return response.status, data

    def token(self):
        if self._token and time.time() < self._expires - 60:
            return self._token
        form = urllib.parse.urlencode({"client_id": self.client_id, "client_secret": self._secret,
                                       "grant_type": "client_credentials", "scope": ARM_SCOPE}).encode("ascii")
        status, data = self._request("POST", "/%s/oauth2/v2.0/token" % self.tenant_id, form,
                                     {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 200:
            raise _error(status, data)
        answer = json.loads(data.decode("utf-8"))
        self._token, self._expires = answer["access_token"], time.time() + int(answer.get("expires_in", 3599))
        return self._token

    def _call(self, method, machine_path, tail="", payload=None):
        body = json.dumps(payload).encode("utf-8") if payload is not None else None
        headers = {"Authorization": "Bearer " + self.token()}
        if body is not None:
            headers["Content-Type"] = "application/json"
        path = "/arcagent" + urllib.parse.quote(machine_path + tail)
        status, data = self._request(method, path, body, headers)
        if status >= 400:
            raise _error(status, data)
        return json.loads(data.decode("utf-8")) if data else None

    @staticmethod
    def machine_path(subscription_id, resource_group, name):
        return "/subscriptions/%s/resourceGroups/%s/machines/%s" % (subscription_id, resource_group, name)

    def connect(self, subscription_id, resource_group, name, location, **facts):
        """Create or refresh the machine resource (status Connected); returns the machine as ARM shows it.

        ``facts``: tags, vmUuid, agentVersion, osName, osVersion, osType, osSku, osEdition, computerName, dnsFqdn,
        domainName, ipAddress, clientPublicKey, proxyUrl, detectedProperties, extensionHandlers.
        """
        return self._call("PUT", self.machine_path(subscription_id, resource_group, name), "",
                          dict(facts, location=location))

    def disconnect(self, subscription_id, resource_group, name):
        """Delete the machine resource and its extensions (``azcmagent disconnect`` without --force-local-only)."""
        return self._call("DELETE", self.machine_path(subscription_id, resource_group, name))

    def heartbeat(self, subscription_id, resource_group, name, status="Connected", extension_handlers=None):
        """Report in: the machine shows ``status``; with Connected its active V2 workers get a new lastSeenDateTime.

        ``extension_handlers``: ``{"<publisher>.<type>": {"outcome": "succeed"|"fail"|"hang", "message": ...}}``,
        what the host's handler does with the next extension operation.
        """
        payload = {"status": status}
        if extension_handlers is not None:
            payload["extensionHandlers"] = extension_handlers
        return self._call("POST", self.machine_path(subscription_id, resource_group, name), "/heartbeat", payload)

    def goal_state(self, subscription_id, resource_group, name):
        """The machine's extensions (settings, state, installed version; protected settings by name only)."""
        return self._call("GET", self.machine_path(subscription_id, resource_group, name), "/extensions")["value"]
