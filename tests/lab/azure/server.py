"""The Azure lab's HTTPS server: one port on 127.0.0.1, every surface told apart by its path.

Started in the background by ``labctl up`` (``labctl azure-serve --dir DIR`` runs it in the foreground). Surfaces:
``/{tenant}/...`` Entra ID, ``/subscriptions/...`` ARM, ``/agentsvc/...`` agent registration service, ``/ods/...``
heartbeat ingestion, ``/oms/...`` agent configuration, ``/v1/workspaces/...`` query API, and ``/_lab/...`` the lab's
own control API (guarded by the admin token in ``DIR/azure/admin.token``).
"""
import argparse
import datetime
import json
import os
import signal
import ssl
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import arm
from . import entra
from . import hybridcompute
from . import services
from . import store as lab_store

LAB_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if LAB_ROOT not in sys.path:
    sys.path.insert(0, LAB_ROOT)
from common import certs  # noqa: E402  pylint: disable=wrong-import-position


def mask(value):
    return "***masked***" if value else value


class Lab:
    def __init__(self, lab_dir):
        self.lab_dir = lab_dir
        self.store = lab_store.Store(lab_dir)
        self.admin_token = lab_store.ensure_admin_token(lab_dir)
        self.base_url = None
        self.dirty = False
        self.handlers = hybridcompute.Handlers(self)

    # ---- seeding and the lab's own API ---------------------------------------------------------------------------
    def ensure_subscription(self, subscription_id=None, display_name=None):
        subscription_id = subscription_id or lab_store.new_uuid()
        subs = self.store.state["subscriptions"]
        if subscription_id.lower() not in subs:
            subs[subscription_id.lower()] = {"subscriptionId": subscription_id,
                                             "displayName": display_name or "Lab subscription %d" % (len(subs) + 1)}
        return subs[subscription_id.lower()]["subscriptionId"]

    def seed(self, options):
        with self.store.lock:
            sub = self.ensure_subscription(options.get("subscription_id") or self.default_subscription())
            location = arm.normalise_location(options.get("location") or "westeurope")
            arm.check_location(location, "resourceGroups")
            rg_name = options.get("resource_group") or "rg-hybrid-worker-lab"
            rg_id = "/subscriptions/%s/resourceGroups/%s" % (sub, rg_name)
            if not self.store.get(rg_id):
                self.store.put(rg_id, {"kind": "resourceGroup", "id": rg_id, "name": rg_name, "subscriptionId": sub,
                                       "location": location, "tags": {}})
            rg_name = self.store.get(rg_id)["name"]
            account_name = options.get("automation_account") or "aa-hybrid-worker-lab"
            if not arm.ACCOUNT_NAME.match(account_name):
                raise ValueError("invalid Automation account name %r" % account_name)
            account_id = rg_id + "/providers/Microsoft.Automation/automationAccounts/" + account_name
            account = self.store.get(account_id) or arm.seed_account(self.store, account_id, account_name, location)
            self.store.state.setdefault("seed", {"subscription_id": sub})
            self.store.save()
            state = self.store.state
            # An existing seed keeps its own location whatever this run asked for.
            return {"subscription_id": sub, "resource_group": rg_name, "automation_account": account["name"],
                    "location": arm.normalise_location(account["location"]), "tenant_id": state["tenant_id"], "client_id": state["client_id"],
                    "client_secret": state["client_secret"]}

    def default_subscription(self):
        return self.store.state.get("seed", {}).get("subscription_id")

    def dump(self):
        """Every resource, keys and secrets masked (they are resource data, but dumps get pasted into bug reports)."""
        with self.store.lock:
            resources = []
            for record in sorted(self.store.state["resources"].values(), key=lambda r: r["id"].lower()):
                record = json.loads(json.dumps(record))
                if "keys" in record:
                    record["keys"] = {k: mask(v) for k, v in record["keys"].items()}
                if "protectedSettings" in record:
                    record["protectedSettings"] = {k: mask(v) for k, v in record["protectedSettings"].items()}
                record.pop("resourceIdLower", None)
                resources.append(record)
            return {
                "tenant_id": self.store.state["tenant_id"],
                "client_id": self.store.state["client_id"],
                "client_secret": mask(self.store.state["client_secret"]),
                "subscriptions": sorted(s["subscriptionId"] for s in self.store.state["subscriptions"].values()),
                "settings": self.store.settings,
                "resources": resources,
                "heartbeats": {k: len(v) for k, v in self.store.state["heartbeats"].items()},
            }

    def secrets(self):
        """Every secret value the lab holds right now, for tests that check nothing leaked (control API only)."""
        with self.store.lock:
            found = [self.store.state["client_secret"]]
            for record in self.store.state["resources"].values():
                found.extend(v for v in (record.get("keys") or {}).values() if v)
                found.extend(v for v in (record.get("protectedSettings") or {}).values() if isinstance(v, str) and v)
            return sorted(set(found))

    def admin(self, method, segments, body):
        data = json.loads(body.decode("utf-8") or "{}") if body else {}
        what = "/".join(segments)
        if method == "GET" and what == "stats":
            return 200, self.store.snapshot_counters()
        if method == "POST" and what == "stats/reset":
            self.store.reset_counters()
            return 200, self.store.snapshot_counters()
        if method == "GET" and what == "resources":
            return 200, self.dump()
        if method == "GET" and what == "secrets":
            return 200, self.secrets()
        if method == "GET" and what == "faults":
            return 200, self.store.list_faults()
        if method == "POST" and what == "faults":
            if data.get("kind") == "clear":
                self.store.clear_faults()
                return 200, []
            if data.get("kind") not in ("throttle", "error", "latency", "lro_failed", "token_down"):
                return 400, {"message": "unknown fault kind %r" % data.get("kind")}
            return 200, self.store.add_fault(data)
        if method == "DELETE" and what == "faults":
            self.store.clear_faults()
            return 200, []
        if method == "GET" and what == "settings":
            return 200, self.store.settings
        if method == "PATCH" and what == "settings":
            with self.store.lock:
                for key, value in data.items():
                    if key not in lab_store.SETTING_TYPES:
                        return 400, {"message": "unknown setting %r" % key}
                    self.store.settings[key] = lab_store.SETTING_TYPES[key](value)
                self.store.save()
            return 200, self.store.settings
        if method == "POST" and what == "seed":
            return 200, self.seed(data)
        if method == "POST" and what == "subscriptions":
            with self.store.lock:
                sub = self.ensure_subscription(data.get("subscription_id"), data.get("display_name"))
                self.store.save()
            return 200, {"subscription_id": sub}
        if method == "POST" and what == "token":
            audience = data.get("audience", entra.ARM_AUDIENCE)
            return 200, {"access_token": entra.mint_token(self.store.state, audience, int(data.get("expires_in", 3599)))}
        if method == "POST" and what == "heartbeats":
            with self.store.lock:
                workspace = services.workspace_by_customer_id(self.store, data.get("customer_id", ""))
                if not workspace:
                    return 404, {"message": "no workspace with customerId %r" % data.get("customer_id")}
                services.add_heartbeats(self.store, workspace, data.get("records", []), time_generated=True)
            return 200, {"stored": len(data.get("records", []))}
        if method == "POST" and what == "arc/machine":
            return self.arc_machine_control(data)
        if method == "POST" and what == "workers/last-seen":
            return self.age_worker(data)
        return 404, {"message": "no lab control endpoint %s %s" % (method, what)}

    def age_worker(self, data):
        """Make a worker look silent for ``days`` days, as the service shows a worker that stopped pinging:
        lastSeenDateTime is read-only in the API (set by the service on registration and ping), so only this control
        moves it back; the worker's next ping brings it to now again."""
        try:
            days = float(data.get("days"))
        except (TypeError, ValueError):
            return 400, {"message": "days must be a number"}
        wanted = str(data.get("worker") or "").lower()
        with self.store.lock:
            found = [r for r in self.store.find("worker")
                     if wanted in (r["id"].lower(), r["name"].lower(), (r.get("workerName") or "").lower())]
            if len(found) != 1:
                return 404, {"message": "%d workers match %r (give the resource id, the worker id or the computer name)"
                                        % (len(found), data.get("worker"))}
            record = found[0]
            record["lastSeenDateTime"] = lab_store.iso(lab_store.utcnow() - datetime.timedelta(days=days))
            self.store.save()
            return 200, {"id": record["id"], "workerName": record.get("workerName"),
                         "lastSeenDateTime": record["lastSeenDateTime"]}

    def arc_machine_control(self, data):
        """Set an Arc machine's status and/or its extension handlers' outcome (tests' stand-in for the agent)."""
        with self.store.lock:
            record = self.store.get(data.get("machine_id") or "")
            if not record or record["kind"] != "arcMachine":
                return 404, {"message": "no Arc machine %r" % data.get("machine_id")}
            status = data.get("status")
            if status is not None:
                if status not in hybridcompute.MACHINE_STATUSES:
                    return 400, {"message": "status must be one of %s" % ", ".join(hybridcompute.MACHINE_STATUSES)}
                hybridcompute.set_status(record, status)
            try:
                hybridcompute._apply_handlers(record, data.get("extension_handlers"))  # pylint: disable=protected-access
            except hybridcompute.AgentAnswer as exc:
                return 400, {"message": str(exc)}
            if status == "Connected":
                self.handlers.settle_machine(record)
                self.handlers.activate_workers(record)
            self.store.save()
            return 200, self.handlers.render_machine(record)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; without TCP_NODELAY the body waits for the client's delayed ACK (~40 ms)
    # on every keep-alive request, a stall Azure's front ends do not add.
    disable_nagle_algorithm = True
    server_version = "HybridWorkerAzureLab/1.0"
    timeout = 120

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        # The standard access log would print query strings; the lab keeps its own secret-free log instead.
        return

    def do_GET(self):  # pylint: disable=invalid-name
        self.dispatch()

    do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = do_GET

    @property
    def lab(self):
        return self.server.lab

    def send(self, status, body=None, headers=None):
        data = b""
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        self.send_response(status)
        headers = dict(headers or {})
        if data:
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        headers["Content-Length"] = str(len(data))
        headers.setdefault("x-ms-request-id", lab_store.new_uuid())
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD" and data:
            self.wfile.write(data)
        return status

    def dispatch(self):
        started = time.monotonic()
        parsed = urllib.parse.urlsplit(self.path)
        segments = [urllib.parse.unquote(s) for s in parsed.path.split("/") if s]
        query = {k.lower() if k.lower() == "api-version" else k: v[0]
                 for k, v in urllib.parse.parse_qs(parsed.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        surface, operation, status, records = "unknown", None, 500, 0
        try:
            surface, operation, write, call = self.route(segments, query, body)
            if surface == "lab":
                status = call()
                return
            status, records = self.run_with_faults(surface, operation, call)
            self.lab.store.count(surface, operation or "Unmatched", status, write=write, records=records)
        except Exception:  # pylint: disable=broad-except
            traceback.print_exc()
            status = self.send(500, {"error": {"code": "InternalServerError",
                                               "message": "The lab failed on this request; see DIR/azure/server.log."}})
        finally:
            if surface != "lab":
                logged = {k: v for k, v in query.items() if k in lab_store.LOGGED_QUERY_PARAMETERS}
                self.lab.store.log_request({
                    "time": lab_store.iso(), "method": self.command,
                    "path": parsed.path + ("?" + urllib.parse.urlencode(logged) if logged else ""),
                    "status": status, "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    "surface": surface, "operation": operation,
                })

    def run_with_faults(self, surface, operation, call):
        store = self.lab.store
        latency = store.pick_fault(surface, operation, ("latency",))
        if latency:
            time.sleep(float(latency.get("ms", 100)) / 1000.0)
        if surface == "token":
            down = store.pick_fault(surface, operation, ("token_down",))
            if down:
                return self.send(int(down.get("status", 503)), {
                    "error": "temporarily_unavailable",
                    "error_description": "AADSTS90033: A transient error has occurred (the lab's token endpoint is "
                                         "down by an injected fault)."}), 0
        fault = store.pick_fault(surface, operation, ("throttle", "error"))
        if fault:
            headers = {}
            if fault["kind"] == "throttle":
                status, code, message = 429, "TooManyRequests", "The request was throttled by an injected lab fault."
                headers["Retry-After"] = str(fault.get("retry_after", 1))
            else:
                status = int(fault.get("status", 500))
                code = {500: "InternalServerError", 503: "ServiceUnavailable"}.get(status, "LabInjectedError")
                message = "An injected lab fault answered %d." % status
                if fault.get("retry_after") is not None:
                    headers["Retry-After"] = str(fault["retry_after"])
            return self.send(status, {"error": {"code": code, "message": message}}, headers), 0
        return call()

    # ---- routing -------------------------------------------------------------------------------------------------
    def route(self, segments, query, body):
        """Return ``(surface, operation, is_write, call)``; ``call()`` answers and returns (status, records)."""
        first = segments[0].lower() if segments else ""
        method = self.command
        if first == "_lab":
            return "lab", None, False, lambda: self.lab_api(segments[1:], body)
        if first == "subscriptions":
            found = arm.route(method, segments)
            if not found:
                return "arm", None, method not in ("GET", "HEAD"), lambda: (self.send(501, {"error": {
                    "code": "NotModelledByLab", "message": "%s %s is not modelled by the lab." % (
                        method, "/" + "/".join(segments))}}), 0)
            operation, write, handler, namespace, names = found
            return "arm", operation, write, lambda: self.arm(operation, write, handler, namespace, names, segments,
                                                             query, body)
        if first == "arcagent":
            operation = hybridcompute.agent_route(method, segments[1:])
            return "arcagent", operation, method != "GET", lambda: self.arc_agent(operation, segments[1:], body)
        if first == "agentsvc":
            operation = services.agentsvc_route(method, segments[1:])
            return "agentsvc", operation, True, lambda: self.agentsvc(operation, segments[1:], body)
        if first == "ods" and len(segments) == 4 and [s.lower() for s in segments[2:]] == ["api", "logs"] \
                and method == "POST":
            return "ods", "DataCollector_Post", True, lambda: self.service(
                lambda: services.ods_ingest(self.lab, segments[1], query, self.headers, body), counted_records=True)
        if first == "oms" and len(segments) == 4 and [s.lower() for s in segments[2:]] == ["agent", "configuration"] \
                and method == "GET":
            return "oms", "AgentConfiguration_Get", False, lambda: self.service(
                lambda: services.oms_configuration(self.lab, segments[1], self.headers))
        if first == "v1" and len(segments) == 4 and segments[1].lower() == "workspaces" and \
                segments[3].lower() == "query" and method == "POST":
            return "query", "Query_Execute", False, lambda: self.query_api(segments[2], body)
        if len(segments) == 4 and [s.lower() for s in segments[1:]] == ["v2.0", ".well-known", "openid-configuration"]:
            return "token", "OpenIdConfiguration", False, lambda: (self.send(*entra.openid_configuration(
                self.lab.store.state, self.lab.base_url, segments[0])), 0)
        if len(segments) == 4 and [s.lower() for s in segments[1:]] == ["oauth2", "v2.0", "token"] and method == "POST":
            return "token", "Token", False, lambda: (self.send(*entra.token(self.lab.store.state, segments[0], body)), 0)
        if first == "" and method == "GET":
            return "lab", None, False, lambda: self.send(200, {"service": "hybrid worker Azure lab"})
        return "unknown", None, False, lambda: (self.send(404, {"error": {
            "code": "NotModelledByLab", "message": "%s %s is not modelled by the lab." % (method, self.path.split("?")[0])}}), 0)

    def lab_api(self, segments, body):
        if segments == ["health"]:
            return self.send(200, {"status": "ok", "pid": os.getpid()})
        if self.headers.get("X-Lab-Admin-Token") != self.lab.admin_token:
            return self.send(403, {"message": "the lab control API needs the X-Lab-Admin-Token header"})
        try:
            status, answer = self.lab.admin(self.command, segments, body)
        except (ValueError, TypeError) as exc:
            status, answer = 400, {"message": str(exc)}
        return self.send(status, answer)

    def arm(self, operation, write, handler, namespace, names, segments, query, body):  # pylint: disable=too-many-arguments
        flat = namespace == arm.NS_AA
        store = self.lab.store
        try:
            problem = entra.check_bearer(store.state, self.headers.get("Authorization"), entra.ARM_AUDIENCE)
            if problem[0]:
                return self.send(401, {"error": {"code": problem[0], "message": problem[1]}}, {
                    "WWW-Authenticate": 'Bearer authorization_uri="%s/%s", error="invalid_token", '
                                        'error_description="%s"' % (self.lab.base_url, store.state["tenant_id"],
                                                                    problem[1].replace('"', "'"))}), 0
            resource_type = "resourceGroups" if namespace == arm.NS_RESOURCES else namespace
            arm.check_api_version(namespace, query.get("api-version"), resource_type)
            json_body = None
            if body:
                try:
                    json_body = json.loads(body.decode("utf-8"))
                except ValueError as exc:
                    raise arm.ArmError(400, "InvalidRequestContent", "The request content was invalid and could not "
                                       "be deserialized.", flat=flat) from exc
                if not isinstance(json_body, dict):
                    raise arm.ArmError(400, "InvalidRequestContent", "The request content must be a JSON object.",
                                       flat=flat)
            request = arm.Request(self.lab, self.command, segments, query, body, json_body)
            request.names = dict(names)
            with store.lock:
                self.lab.dirty = False
                status, answer, headers = getattr(self.lab.handlers, handler)(request)
                if write or self.lab.dirty:
                    store.save()
            return self.send(status, answer, headers), 0
        except arm.ArmError as exc:
            # Front-door checks (token, api-version, subscription, resource group, location) answer wrapped even for
            # the Automation provider; the provider's own answers are flat.
            return self.send(exc.status, exc.body(), exc.headers), 0

    def arc_agent(self, operation, segments, body):
        if not operation:
            return self.send(404, {"error": {"code": "NotModelledByLab", "message": "%s %s is not modelled by the lab."
                                             % (self.command, self.path.split("?")[0])}}), 0
        store = self.lab.store
        try:
            with store.lock:
                self.lab.dirty = False
                status, answer = hybridcompute.agent_call(self.lab, operation, segments, self.headers, body)
                if operation != "ArcAgent_GoalState" or self.lab.dirty:
                    store.save()
        except hybridcompute.AgentAnswer as exc:
            return self.send(exc.status, exc.body), 0
        return self.send(status, answer), 0

    def agentsvc(self, operation, segments, body):
        if not operation:
            return self.send(404, {"Message": "%s %s is not modelled by the lab." % (self.command, self.path)}), 0
        return self.service(lambda: services.agentsvc(self.lab, operation, segments, self.headers, body),
                            changes_state=True)

    def service(self, call, counted_records=False, changes_state=False):
        store = self.lab.store
        try:
            with store.lock:
                status, answer = call()
                if changes_state:
                    store.save()
        except services.ServiceAnswer as exc:
            return self.send(exc.status, exc.body, exc.headers), 0
        if counted_records:
            return self.send(status, None), answer
        return self.send(status, answer), 0

    def query_api(self, customer_id, body):
        store = self.lab.store
        problem = entra.check_bearer(store.state, self.headers.get("Authorization"), entra.QUERY_AUDIENCE)
        if problem[0]:
            return self.send(401, {"error": {"code": "InvalidTokenError", "message": problem[1]}}), 0
        try:
            with store.lock:
                status, answer = services.query(self.lab, customer_id, body)
        except services.ServiceAnswer as exc:
            return self.send(exc.status, exc.body), 0
        return self.send(status, answer), 0


class LabServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # Clients that drop a connection (probes, TLS failures) are normal; anything else goes to server.log.
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError)):
            traceback.print_exc()


def serve(lab_dir):
    lab = Lab(lab_dir)
    cert, key = certs.ensure_server_cert(lab_dir, "azure", hostnames=("localhost",), addresses=("127.0.0.1",))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    preferred = int(lab.store.state.get("port") or 0)
    try:
        server = LabServer(("127.0.0.1", preferred), Handler)
    except OSError:
        server = LabServer(("127.0.0.1", 0), Handler)
    # The TLS handshake runs in the request thread, so one slow client never blocks the accept loop.
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    server.lab = lab
    port = server.server_address[1]
    lab.base_url = "https://127.0.0.1:%d" % port
    with lab.store.lock:
        lab.store.state["port"] = port
        lab.store.save()

    def stop(_signum, _frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    ready = {"pid": os.getpid(), "port": port, "url": lab.base_url}
    lab_store._write_json_atomic(  # pylint: disable=protected-access
        os.path.join(lab_store.azure_dir(lab_dir), lab_store.READY_FILE), ready)
    print("Azure lab listening on %s (pid %d)" % (lab.base_url, os.getpid()), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        with lab.store.lock:
            lab.store.save()
        server.server_close()


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run the Azure lab server in the foreground.")
    parser.add_argument("--dir", required=True, help="lab folder")
    serve(os.path.abspath(parser.parse_args(argv).dir))


if __name__ == "__main__":
    main()
