"""What a simulated Windows host says to the Azure lab, signed like the real agent would sign it.

Contracts (team brief, "Shared contracts"): agent service ``Shared`` HMAC signing, Log Analytics ingestion and agent
configuration with ``SharedKey`` signing. Plain ``http.client`` over TLS with an explicit CA bundle: the lab never
turns verification off and never depends on the machine's ``REQUESTS_CA_BUNDLE``.
"""
import http.client
import importlib.util
import json
import os
import re
import ssl
import threading
import urllib.parse


def _load_signing():
    # The Azure lab's signing module is self-contained on purpose; load it by path (its folder name would clash
    # with the Azure SDK's `azure` namespace package on import).
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "azure", "signing.py")
    spec = importlib.util.spec_from_file_location("hybrid_worker_lab_signing", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


signing = _load_signing()

_CONTEXTS = {}
_CONTEXTS_LOCK = threading.Lock()
TIMEOUT = 10


class AzureLabError(Exception):
    def __init__(self, status, message):
        super().__init__("%s %s" % (status, message))
        self.status = status
        self.message = message


def rfc1123_now():
    return signing.rfc1123_now()


def shared_key_authorization(customer_id, shared_key, method, content_length, content_type, date, resource):
    return signing.shared_key_authorization(customer_id, shared_key, method, content_length, content_type, date,
                                            resource)


def account_id_from_url(url):
    match = re.search(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", url or "")
    return match.group(0) if match else None


def _context(ca_bundle):
    with _CONTEXTS_LOCK:
        ctx = _CONTEXTS.get(ca_bundle)
        if ctx is None:
            ctx = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else ssl.create_default_context()
            _CONTEXTS[ca_bundle] = ctx
        return ctx


def request(method, url, ca_bundle, body=None, headers=None):
    """One HTTPS request; returns ``(status, body bytes)``; network failures raise AzureLabError(None, ...)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(parts.hostname, parts.port or 443, timeout=TIMEOUT,
                                           context=_context(ca_bundle))
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=TIMEOUT)
    path = parts.path + ("?" + parts.query if parts.query else "")
    try:
        conn.request(method, path or "/", body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as exc:
        raise AzureLabError(None, str(exc)) from None
    finally:
        conn.close()


def https_get(url, ca_bundle):
    status, data = request("GET", url, ca_bundle)
    if status != 200:
        raise AzureLabError(status, http.client.responses.get(status, "Error"))
    return data


def agentsvc_call(endpoint, account_key, method, tail, payload, ca_bundle):
    """Signed agent-service call ``{endpoint}/{tail}``; returns the JSON reply (or {}) or raises AzureLabError."""
    body = json.dumps(payload).encode("utf-8") if payload is not None else b""
    headers = signing.shared_headers(account_key, body)
    status, data = request(method, endpoint.rstrip("/") + "/" + tail, ca_bundle, body, headers)
    if status >= 300:
        try:
            message = json.loads(data).get("Message", "")
        except (ValueError, AttributeError):
            message = data.decode("utf-8", "replace")[:200]
        raise AzureLabError(status, message)
    try:
        return json.loads(data) if data else {}
    except ValueError:
        return {}


class AzureLabClient:
    def __init__(self, url, ca_bundle):
        self.url = url.rstrip("/")
        self.ca_bundle = ca_bundle

    def agent_configuration(self, customer_id, shared_key):
        """Enabled solutions of a workspace (``GET /oms/{id}/agent/configuration``, SharedKey signed)."""
        date = rfc1123_now()
        try:
            auth = shared_key_authorization(customer_id, shared_key, "GET", 0, "", date, "/agent/configuration")
        except (ValueError, TypeError):
            raise AzureLabError(403, "the workspace key is not valid base64") from None
        status, data = request("GET", "%s/oms/%s/agent/configuration" % (self.url, customer_id), self.ca_bundle,
                               headers={"x-ms-date": date, "Authorization": auth})
        if status != 200:
            raise AzureLabError(status, data.decode("utf-8", "replace")[:200])
        return list(json.loads(data).get("solutions", []))

    def send_heartbeats(self, customer_id, shared_key, records):
        """HTTP Data Collector API: ``POST /ods/{id}/api/logs`` with ``Log-Type: Heartbeat``."""
        body = json.dumps(records).encode("utf-8")
        date = rfc1123_now()
        auth = shared_key_authorization(customer_id, shared_key, "POST", len(body), "application/json", date,
                                        "/api/logs")
        status, data = request(
            "POST", "%s/ods/%s/api/logs?api-version=2016-04-01" % (self.url, customer_id), self.ca_bundle, body,
            {"Log-Type": "Heartbeat", "x-ms-date": date, "Authorization": auth, "Content-Type": "application/json"})
        if status >= 300:
            raise AzureLabError(status, data.decode("utf-8", "replace")[:200])
