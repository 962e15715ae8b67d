"""Request signing used by Azure Automation agents and Log Analytics agents, both sides (sign and verify).

Standard library only and free of imports from the rest of the lab, so a client (the simulated Windows hosts, tests)
can load this file on its own.

Two schemes:

* ``Shared``: the agent registration service of an Automation account (the ``RegistrationUrl``). The signature is
  ``base64(HMAC-SHA256(key=<account key as UTF-8 bytes>, msg=base64(sha256(body)) + "\\n" + x-ms-date))``, sent as
  ``Authorization: Shared <signature>`` with ``x-ms-date`` (RFC 1123) and ``ProtocolVersion: 2.0``.
  Source: the Linux worker's onboarding script (microsoft/PowerShell-DSC-for-Linux,
  ``nxOMSAutomationWorker/automationworker/scripts/onboarding.py``), which signs its registration this way.
* ``SharedKey``: the Log Analytics HTTP Data Collector API. The string to sign is
  ``METHOD\\n<content-length>\\n<content-type>\\nx-ms-date:<date>\\n<resource>``, the key is the base64-decoded
  workspace shared key, and the header is ``Authorization: SharedKey <workspaceId>:<signature>``
  (learn.microsoft.com, "Send log data to Azure Monitor by using the HTTP Data Collector API").
"""
import base64
import datetime
import email.utils
import hashlib
import hmac

# Both services refuse requests whose x-ms-date is too far from their clock.
MAX_CLOCK_SKEW = datetime.timedelta(minutes=15)


def rfc1123_now():
    return email.utils.formatdate(usegmt=True)


def parse_rfc1123(value):
    """Return an aware datetime, or None when ``value`` is not an RFC 1123 date."""
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed


def date_within_skew(value, now=None):
    parsed = parse_rfc1123(value or "")
    if parsed is None:
        return False
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return abs(now - parsed) <= MAX_CLOCK_SKEW


# ---- Shared (agent registration service) -------------------------------------------------------------------------

def body_hash(body):
    return base64.b64encode(hashlib.sha256(body or b"").digest()).decode("ascii")


def shared_signature(account_key, body, date):
    message = (body_hash(body) + "\n" + date).encode("utf-8")
    digest = hmac.new(account_key.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def shared_headers(account_key, body, date=None):
    """Headers for a signed request to the agent registration service (``body`` as the exact bytes sent)."""
    date = date or rfc1123_now()
    return {
        "x-ms-date": date,
        "ProtocolVersion": "2.0",
        "Authorization": "Shared " + shared_signature(account_key, body, date),
        "Content-Type": "application/json",
    }


def verify_shared(authorization, account_keys, body, date):
    """True when ``authorization`` is a valid ``Shared`` signature by any of ``account_keys``."""
    scheme, sep, signature = (authorization or "").partition(" ")
    if scheme != "Shared" or not signature:
        return False
    return any(
        hmac.compare_digest(signature.strip(), shared_signature(key, body, date)) for key in account_keys if key
    )


# ---- SharedKey (Log Analytics) -----------------------------------------------------------------------------------

def shared_key_string_to_sign(method, content_length, content_type, date, resource):
    return "%s\n%d\n%s\nx-ms-date:%s\n%s" % (method, content_length, content_type, date, resource)


def shared_key_signature(workspace_key, string_to_sign):
    digest = hmac.new(base64.b64decode(workspace_key), string_to_sign.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def shared_key_authorization(workspace_id, workspace_key, method, content_length, content_type, date, resource):
    signature = shared_key_signature(
        workspace_key, shared_key_string_to_sign(method, content_length, content_type, date, resource)
    )
    return "SharedKey %s:%s" % (workspace_id, signature)


def ingestion_headers(workspace_id, workspace_key, body, log_type="Heartbeat", date=None):
    """Headers for ``POST /api/logs`` of the Data Collector API (``body`` as the exact bytes sent)."""
    date = date or rfc1123_now()
    return {
        "Content-Type": "application/json",
        "Log-Type": log_type,
        "x-ms-date": date,
        "Authorization": shared_key_authorization(
            workspace_id, workspace_key, "POST", len(body), "application/json", date, "/api/logs"
        ),
    }


def agent_configuration_headers(workspace_id, workspace_key, date=None):
    """Headers for the lab-modelled ``GET /agent/configuration`` (signed like a body-less Data Collector call)."""
    date = date or rfc1123_now()
    return {
        "x-ms-date": date,
        "Authorization": shared_key_authorization(workspace_id, workspace_key, "GET", 0, "", date, "/agent/configuration"),
    }


def verify_shared_key(authorization, workspace_id, workspace_keys, string_to_sign):
    """True when ``authorization`` is ``SharedKey <workspace_id>:<signature>`` by any of ``workspace_keys``."""
    scheme, sep, credential = (authorization or "").partition(" ")
    if scheme != "SharedKey":
        return False
    claimed_id, sep, signature = credential.strip().partition(":")
    if claimed_id.lower() != workspace_id.lower() or not signature:
        return False
    for key in workspace_keys:
        try:
            expected = shared_key_signature(key, string_to_sign)
        except (ValueError, TypeError):
            continue
        if hmac.compare_digest(signature, expected):
            return True
    return False
