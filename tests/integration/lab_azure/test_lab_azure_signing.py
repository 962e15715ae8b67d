"""The signing helpers both sides use: the exact strings signed, and what verification refuses."""
import base64
import hashlib
import hmac

from ansible_collections.azure_automation.hybrid_worker.tests.lab.azure import signing

DATE = "Tue, 25 Nov 2026 20:00:00 GMT"
ACCOUNT_KEY = "account-key-as-text=="
WORKSPACE_KEY = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
WORKSPACE_ID = "b52c5f7c-6b2e-4a5b-9d3f-3f0e9f2c1a11"


def test_shared_signature_is_hmac_of_body_hash_and_date():
    body = b'{"RunbookWorkerGroup":"g"}'
    message = base64.b64encode(hashlib.sha256(body).digest()) + b"\n" + DATE.encode()
    expected = base64.b64encode(hmac.new(ACCOUNT_KEY.encode(), message, hashlib.sha256).digest()).decode()
    headers = signing.shared_headers(ACCOUNT_KEY, body, DATE)
    assert headers["Authorization"] == "Shared " + expected
    assert (headers["x-ms-date"], headers["ProtocolVersion"]) == (DATE, "2.0")


def test_verify_shared_accepts_either_key_and_refuses_changes():
    body = b"{}"
    authorization = signing.shared_headers(ACCOUNT_KEY, body, DATE)["Authorization"]
    assert signing.verify_shared(authorization, ["other", ACCOUNT_KEY], body, DATE)
    assert not signing.verify_shared(authorization, ["other"], body, DATE)
    assert not signing.verify_shared(authorization, [ACCOUNT_KEY], b"{ }", DATE)
    assert not signing.verify_shared(authorization, [ACCOUNT_KEY], body, "Tue, 25 Nov 2026 20:00:01 GMT")
    assert not signing.verify_shared(authorization.replace("Shared", "SharedKey"), [ACCOUNT_KEY], body, DATE)
    assert not signing.verify_shared(None, [ACCOUNT_KEY], body, DATE)


def test_ingestion_signature_layout():
    body = b'[{"Computer":"WIN-1"}]'
    to_sign = "POST\n%d\napplication/json\nx-ms-date:%s\n/api/logs" % (len(body), DATE)
    expected = base64.b64encode(hmac.new(base64.b64decode(WORKSPACE_KEY), to_sign.encode(), hashlib.sha256).digest())
    headers = signing.ingestion_headers(WORKSPACE_ID, WORKSPACE_KEY, body, date=DATE)
    assert headers["Authorization"] == "SharedKey %s:%s" % (WORKSPACE_ID, expected.decode())
    assert (headers["Log-Type"], headers["Content-Type"]) == ("Heartbeat", "application/json")
    assert signing.verify_shared_key(headers["Authorization"], WORKSPACE_ID.upper(), ["bad-key", WORKSPACE_KEY], to_sign)
    assert not signing.verify_shared_key(headers["Authorization"], "another-id", [WORKSPACE_KEY], to_sign)
    assert not signing.verify_shared_key(headers["Authorization"], WORKSPACE_ID, [WORKSPACE_KEY], to_sign + "x")


def test_agent_configuration_signature_layout():
    headers = signing.agent_configuration_headers(WORKSPACE_ID, WORKSPACE_KEY, date=DATE)
    to_sign = "GET\n0\n\nx-ms-date:%s\n/agent/configuration" % DATE
    assert signing.verify_shared_key(headers["Authorization"], WORKSPACE_ID, [WORKSPACE_KEY], to_sign)


def test_clock_skew_window():
    assert signing.date_within_skew(signing.rfc1123_now())
    assert not signing.date_within_skew(DATE.replace("2026", "2020"))
    assert not signing.date_within_skew("yesterday")
    assert not signing.date_within_skew(None)
