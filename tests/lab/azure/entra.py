"""Entra ID stand-in: OIDC discovery, the client-credentials token endpoint, and bearer-token checks.

MSAL (through azure-identity's ``ClientSecretCredential(authority=..., disable_instance_discovery=True)``) calls
``GET {authority}/{tenant}/v2.0/.well-known/openid-configuration`` and then ``POST`` the form
``client_id, client_secret, grant_type=client_credentials, scope`` to the ``token_endpoint`` it found there
(reference azure-api.md section 2). Error bodies follow the v2.0 endpoint: ``error``, ``error_description`` starting
with the AADSTS code, ``error_codes``, ``timestamp``, ``trace_id``, ``correlation_id``.

Tokens are JWT-shaped and HMAC-signed with a key kept in the lab state, so they stay valid across a lab restart like
real tokens stay valid across a service restart. Clients must treat them as opaque.
"""
import base64
import hashlib
import hmac
import json
import time
import urllib.parse
import uuid

from . import store as lab_store

ARM_AUDIENCE = "https://management.azure.com"
QUERY_AUDIENCE = "https://api.loganalytics.io"
# scope → audience of the issued token. Other scopes are refused as in Entra ID (AADSTS500011).
SCOPE_AUDIENCES = {
    "https://management.azure.com/.default": ARM_AUDIENCE,
    "https://management.core.windows.net/.default": ARM_AUDIENCE,
    "https://api.loganalytics.io/.default": QUERY_AUDIENCE,
}


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint_token(state, audience, lifetime):
    now = int(time.time())
    header = {"alg": "HS256", "typ": "JWT"}
    payload = {
        "aud": audience, "iss": "https://sts.windows.net/%s/" % state["tenant_id"], "iat": now, "nbf": now,
        "exp": now + int(lifetime), "tid": state["tenant_id"], "appid": state["client_id"],
        "oid": state["client_id"], "sub": state["client_id"], "idtyp": "app", "uti": uuid.uuid4().hex,
    }
    signing_input = _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(payload).encode())
    signature = hmac.new(state["token_signing_key"].encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + _b64url(signature)


def check_bearer(state, authorization, audience):
    """Return ``(None, claims)`` for a valid token, else ``(code, message)`` in ARM's wording."""
    if not authorization:
        return "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."
    scheme, sep, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or token.count(".") != 2:
        return "InvalidAuthenticationToken", "The access token is invalid."
    signing_input, sep, signature = token.strip().rpartition(".")
    expected = hmac.new(state["token_signing_key"].encode(), signing_input.encode(), hashlib.sha256).digest()
    try:
        valid = hmac.compare_digest(_b64url_decode(signature), expected)
        claims = json.loads(_b64url_decode(signing_input.split(".")[1]))
    except (ValueError, TypeError):
        return "InvalidAuthenticationToken", "The access token is invalid."
    if not valid:
        return "InvalidAuthenticationToken", "The access token is invalid."
    if claims.get("aud", "").rstrip("/") != audience:
        return (
            "InvalidAuthenticationTokenAudience",
            "The access token has been obtained for wrong audience or resource '%s'. It should exactly match with one "
            "of the allowed audiences '%s/'." % (claims.get("aud"), audience),
        )
    if claims.get("exp", 0) <= time.time():
        return (
            "ExpiredAuthenticationToken",
            "The access token expiry UTC time '%s' is earlier than current UTC time '%s'."
            % (time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(claims.get("exp", 0))),
               time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime())),
        )
    return None, claims


def _aad_error(status, error, code, description):
    return status, {
        "error": error,
        "error_description": "AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s" % (
            code, description, uuid.uuid4(), uuid.uuid4(), lab_store.iso()),
        "error_codes": [code],
        "timestamp": lab_store.iso(),
        "trace_id": str(uuid.uuid4()),
        "correlation_id": str(uuid.uuid4()),
        "error_uri": "https://login.microsoftonline.com/error?code=%d" % code,
    }


def openid_configuration(state, base_url, tenant):
    if tenant.lower() != state["tenant_id"].lower():
        return _aad_error(400, "invalid_tenant", 90002, "Tenant '%s' not found." % tenant)
    root = "%s/%s" % (base_url, state["tenant_id"])
    return 200, {
        "token_endpoint": root + "/oauth2/v2.0/token",
        "authorization_endpoint": root + "/oauth2/v2.0/authorize",
        "issuer": root + "/v2.0",
        "jwks_uri": root + "/discovery/v2.0/keys",
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "tenant_region_scope": "EU",
    }


def token(state, tenant, body):
    """The client-credentials grant with a client secret; everything else is refused or not modelled."""
    form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8", "replace")).items()}
    if tenant.lower() != state["tenant_id"].lower():
        return _aad_error(400, "invalid_request", 90002, "Tenant '%s' not found. Check to make sure you have the "
                          "correct tenant ID and are signing into the correct cloud." % tenant)
    if form.get("grant_type") != "client_credentials":
        return _aad_error(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s' "
                          "(the lab models only client_credentials)." % form.get("grant_type"))
    if form.get("client_id", "").lower() != state["client_id"].lower():
        return _aad_error(400, "unauthorized_client", 700016, "Application with identifier '%s' was not found in the "
                          "directory '%s'." % (form.get("client_id"), state["tenant_id"]))
    if "client_assertion" in form:
        return _aad_error(400, "invalid_request", 900144, "Certificate credentials are not modelled by the lab.")
    secret = form.get("client_secret", "")
    if not hmac.compare_digest(secret.encode(), state["client_secret"].encode()):
        return _aad_error(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being "
                          "sent in the request is the client secret value, not the client secret ID, for a secret "
                          "added to app '%s'." % state["client_id"])
    scopes = form.get("scope", "").split()
    audiences = {SCOPE_AUDIENCES.get(s) for s in scopes}
    if len(scopes) != 1 or None in audiences:
        resource = scopes[0] if scopes else ""
        return _aad_error(400, "invalid_resource", 500011, "The resource principal named %s was not found in the "
                          "tenant named %s." % (resource.rsplit("/.default", 1)[0], state["tenant_id"]))
    lifetime = state["settings"]["token_lifetime_seconds"]
    return 200, {
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": mint_token(state, audiences.pop(), lifetime),
    }
