"""A small HTTPS client for the Azure lab's control API (``/_lab/...``), standard library only.

It finds the running server through ``DIR/azure/ready.json`` and authenticates with ``DIR/azure/admin.token``; TLS is
verified against the lab CA (``DIR/certs/ca.pem``).
"""
import json
import os
import ssl
import urllib.error
import urllib.request


class LabNotRunning(Exception):
    pass


def azure_dir(lab_dir):
    return os.path.join(lab_dir, "azure")


def read_ready(lab_dir):
    try:
        with open(os.path.join(azure_dir(lab_dir), "ready.json"), encoding="utf-8") as handle:
            return json.load(handle)
    except (FileNotFoundError, ValueError):
        return None


def ssl_context(lab_dir):
    return ssl.create_default_context(cafile=os.path.join(lab_dir, "certs", "ca.pem"))


def http(lab_dir, method, url, body=None, headers=None, timeout=10):
    """One HTTPS request trusting the lab CA; returns ``(status, headers, bytes)`` whatever the status."""
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None and "Content-Type" not in request.headers:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, context=ssl_context(lab_dir), timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


class AdminClient:
    def __init__(self, lab_dir):
        self.lab_dir = lab_dir
        ready = read_ready(lab_dir)
        if not ready:
            raise LabNotRunning("the Azure lab in %s is not running" % lab_dir)
        self.url = ready["url"]
        with open(os.path.join(azure_dir(lab_dir), "admin.token"), encoding="ascii") as handle:
            self.token = handle.read().strip()

    def call(self, method, path, body=None):
        try:
            status, unused_headers, data = http(
                self.lab_dir, method, self.url + "/_lab/" + path, body, {"X-Lab-Admin-Token": self.token})
        except OSError as exc:
            raise LabNotRunning("the Azure lab at %s does not answer: %s" % (self.url, exc)) from exc
        answer = json.loads(data.decode("utf-8")) if data else None
        if status >= 400:
            raise ValueError("lab control API %s %s answered %d: %s" % (method, path, status, answer))
        return answer

    def healthy(self):
        try:
            status = http(self.lab_dir, "GET", self.url + "/_lab/health", timeout=2)[0]
        except OSError:
            return False
        return status == 200
