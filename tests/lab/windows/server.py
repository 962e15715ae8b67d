"""The Windows fleet lab process: one asyncio loop serving every simulated host's WinRM listener.

Run by ``labctl up`` as ``python -m windows.server --dir DIR`` (from ``tests/lab``). It reads ``DIR/windows/fleet.json``
(hosts: name, address, port, credentials; settings) written by :mod:`windows.control`, and writes
``DIR/windows/runtime.json`` (pid, ports, service URL) once every listener is up.

* Each host listens on its own ``127.x.y.z`` address and port, HTTPS with a certificate from the lab CA whose SANs
  cover every host address; ``/wsman`` speaks WS-Management (:mod:`windows.wsman`).
* Authentication per host like a Windows listener with Basic and Negotiate enabled: ``Basic`` checked against the
  host's credentials, ``Negotiate``/``NTLM`` run through a pyspnego NTLM acceptor (connection-bound, channel
  binding checked); anything else or a wrong password gets 401.
* Commands run in a thread pool (:mod:`windows.payload`) so the loop never blocks on a model or the Azure lab.
* A service listener on 127.0.0.1 serves the stand-in installers over HTTPS and the lab's control calls
  (stats, refresh after a fault/drift, stop), the latter guarded by a token from ``fleet.json``.
* A heartbeat thread sends Log Analytics heartbeats for hosts with a running agent and connected workspaces, and
  agent-service pings for registered workers, every ``heartbeat_interval`` seconds.
"""
import argparse
import asyncio
import base64
import concurrent.futures
import hashlib
import json
import os
import resource
import signal
import ssl
import sys
import threading
import time
import uuid

import spnego
from spnego.channel_bindings import GssChannelBindings
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from common import certs, labdir  # noqa: E402  (tests/lab is on sys.path)
from windows import azure_client, payload, wsman
from windows import host as hostmod

MAX_BODY = 4 * 1024 * 1024
RECEIVE_CHUNK = 96 * 1024  # raw stdout bytes per Receive: keeps an envelope under MaxEnvelopeSize 153600


class Stats:
    """Counters ``labctl stats`` shows (team brief: windows.commands_total, commands_per_host, module_calls_per_host)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with getattr(self, "lock", threading.Lock()):
            self.counters = {"secret_leaks": 0}
            self.commands_total = 0
            self.commands_per_host = {}
            self.module_calls_per_host = {}
            self.secret_arguments_per_host = {}
            self.scripts_per_host = {}
            self.operations = {}
            self.auth_failures_per_host = {}
            self.heartbeats = {"ods_posts": 0, "ods_records": 0, "pings": 0, "errors": 0}
            self.receive_timeouts = 0
            self.command_seconds = 0.0
            self.cpu_start = _cpu()
            self.wall_start = time.time()

    def command(self, host):
        with self.lock:
            self.commands_total += 1
            self.commands_per_host[host] = self.commands_per_host.get(host, 0) + 1

    def module(self, host, fqcn):
        with self.lock:
            per = self.module_calls_per_host.setdefault(host, {})
            per[fqcn] = per.get(fqcn, 0) + 1

    def secret_arguments(self, host, fqcn):
        with self.lock:
            per = self.secret_arguments_per_host.setdefault(host, {})
            per[fqcn] = per.get(fqcn, 0) + 1

    def script(self, host, kind):
        with self.lock:
            per = self.scripts_per_host.setdefault(host, {})
            per[kind] = per.get(kind, 0) + 1

    def operation(self, action):
        with self.lock:
            self.operations[action] = self.operations.get(action, 0) + 1

    def auth_failure(self, host):
        with self.lock:
            self.auth_failures_per_host[host] = self.auth_failures_per_host.get(host, 0) + 1

    def snapshot(self):
        with self.lock:
            cpu = _cpu() - self.cpu_start
            return {
                "commands_total": self.commands_total,
                "commands_per_host": dict(self.commands_per_host),
                "module_calls_per_host": json.loads(json.dumps(self.module_calls_per_host)),
                "secret_arguments_per_host": json.loads(json.dumps(self.secret_arguments_per_host)),
                "scripts_per_host": json.loads(json.dumps(self.scripts_per_host)),
                "wsman_operations": dict(self.operations),
                "auth_failures_per_host": dict(self.auth_failures_per_host),
                "receive_timeouts": self.receive_timeouts,
                "heartbeats": dict(self.heartbeats),
                "secret_leaks": self.counters.get("secret_leaks", 0),
                "cpu_seconds": round(cpu, 3),
                "cpu_seconds_per_command": round(cpu / self.commands_total, 5) if self.commands_total else None,
                "since": self.wall_start,
            }


def _cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Command:
    def __init__(self, command_id, command, arguments, wants_stdin):
        self.id = command_id
        self.command = command
        self.arguments = arguments
        self.wants_stdin = wants_stdin
        self.stdin = []
        self.done = asyncio.Event()
        self.started = False
        self.stdout = b""
        self.stderr = b""
        self.exit_code = None
        self.offset = 0
        self.stderr_sent = False


class HostRuntime:
    """In-memory side of a host: listener, credentials, shells, and the faults that act on the transport."""

    def __init__(self, config):
        self.name = config["name"]
        self.address = config["address"]
        self.port = config.get("port") or 0
        self.http_port = config.get("http_port") or 0
        self.http_server = None
        self.username = config["username"]
        self.password = config["password"]
        self.server = None
        self.shells = {}
        self.faults = {}
        self.ntlm_file = None


class Fleet:
    def __init__(self, lab_dir):
        self.lab_dir = lab_dir
        self.windows_dir = os.path.join(lab_dir, "windows")
        with open(os.path.join(self.windows_dir, "fleet.json"), encoding="utf-8") as handle:
            self.config = json.load(handle)
        self.settings = self.config.get("settings", {})
        self.hosts = {h["name"]: HostRuntime(h) for h in self.config["hosts"]}
        self.stats = Stats()
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=int(self.settings.get("workers", 16)))
        self.executor = payload.Executor(lab_dir, self.context, self.stats)
        self.loop = None
        self.stopping = None
        self.ssl_context = None
        self.bindings = None
        self.service_server = None
        self.service_port = self.config.get("service_port") or 0
        self._lab_cache = (0, None)

    # --- context for host transitions -------------------------------------------------------------------------------
    def context(self):
        path = labdir.lab_json_path(self.lab_dir)
        try:
            mtime = os.stat(path).st_mtime
        except FileNotFoundError:
            mtime = 0
        if self._lab_cache[0] != mtime or self._lab_cache[1] is None:
            self._lab_cache = (mtime, labdir.read_lab_json(self.lab_dir))
        return hostmod.LabContext.from_lab(self.lab_dir, self._lab_cache[1])

    # --- TLS --------------------------------------------------------------------------------------------------------
    def _tls(self):
        addresses = sorted({"127.0.0.1"} | {h.address for h in self.hosts.values()})
        digest = hashlib.sha256(",".join(addresses).encode()).hexdigest()[:12]
        names = ["localhost"] + sorted(self.hosts)
        cert_path, key_path = certs.ensure_server_cert(self.lab_dir, "windows-fleet-" + digest, names, addresses)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_path, key_path)
        with open(cert_path, "rb") as handle:
            cert = x509.load_pem_x509_certificate(handle.read())
        # RFC 5929 tls-server-end-point: hash of the certificate with its signature hash (SHA-256 here).
        cert_hash = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()
        self.bindings = GssChannelBindings(application_data=b"tls-server-end-point:" + cert_hash)
        self.ssl_context = context

    # --- listeners --------------------------------------------------------------------------------------------------
    async def _listen(self, runtime, port, secure):
        async def on_connect(reader, writer):
            await self.serve_connection(runtime, reader, writer, self.handle_wsman, secure=secure)
        context = self.ssl_context if secure else None
        try:
            return await asyncio.start_server(on_connect, runtime.address, port, ssl=context, backlog=64)
        except OSError:
            # The port it had last time is taken now: take any (labctl rewrites the inventory).
            return await asyncio.start_server(on_connect, runtime.address, 0, ssl=context, backlog=64)

    async def open_listener(self, runtime):
        """An HTTPS listener (the inventory's) and an HTTP one (NTLM message encryption only), like 5986/5985."""
        if runtime.server is not None:
            return
        runtime.server = await self._listen(runtime, runtime.port, True)
        runtime.port = runtime.server.sockets[0].getsockname()[1]
        runtime.http_server = await self._listen(runtime, runtime.http_port, False)
        runtime.http_port = runtime.http_server.sockets[0].getsockname()[1]

    async def close_listener(self, runtime):
        if runtime.server is None:
            return
        for server in (runtime.server, runtime.http_server):
            server.close()
            await server.wait_closed()
        runtime.server = runtime.http_server = None
        runtime.shells.clear()

    def load_faults(self, runtime):
        try:
            runtime.faults = dict(hostmod.load_state(self.lab_dir, runtime.name).get("faults", {}))
        except KeyError:
            runtime.faults = {}

    async def refresh(self, name):
        runtime = self.hosts[name]
        self.load_faults(runtime)
        if runtime.faults.get("unreachable"):
            await self.close_listener(runtime)
        else:
            await self.open_listener(runtime)

    # --- HTTP -------------------------------------------------------------------------------------------------------
    async def serve_connection(self, runtime, reader, writer, handler, secure=True):
        conn = {"user": None, "ntlm": None, "secure": secure}
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                method, path = line.decode("latin-1").split(" ", 2)[:2]
                headers = {}
                while True:
                    header = await reader.readline()
                    if header in (b"\r\n", b"\n", b""):
                        break
                    key, dummy, value = header.decode("latin-1").partition(":")
                    headers[key.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                if length > MAX_BODY:
                    break
                body = await reader.readexactly(length) if length else b""
                status, extra, reply = await handler(runtime, conn, method, path, headers, body)
                head = ["HTTP/1.1 %d %s" % (status, _REASONS.get(status, "Error")), "Server: Microsoft-HTTPAPI/2.0",
                        "Content-Length: %d" % len(reply)]
                if reply and not any(k.lower() == "content-type" for k, v in extra):
                    head.append("Content-Type: application/soap+xml;charset=UTF-8"
                                if path.startswith("/wsman") else "application/octet-stream"
                                if path.startswith("/installers") else "application/json")
                head.extend("%s: %s" % kv for kv in extra)
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + reply)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, ValueError, OSError):
            pass
        finally:
            try:
                writer.close()
            except (ConnectionError, OSError, RuntimeError):
                pass

    def _challenge(self):
        return [("WWW-Authenticate", "Negotiate"), ("WWW-Authenticate", 'Basic realm="WSMAN"')]

    def _authenticate(self, runtime, conn, headers):
        """Returns None when authenticated, else ``(status, headers)`` to send."""
        if conn["user"]:
            return None
        password = runtime.password
        if runtime.faults.get("wrong-credentials"):
            password = "changed-" + uuid.uuid4().hex
        auth = headers.get("authorization", "")
        scheme, dummy, token = auth.partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            if not conn["secure"]:
                # AllowUnencrypted=false (the default): Basic over http is refused like bad credentials, the
                # symptom users see ("the specified credentials were rejected by the server").
                self.stats.auth_failure(runtime.name)
                return 401, self._challenge()
            try:
                user, dummy, given = base64.b64decode(token).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                user, given = "", None
            if user.split("\\")[-1].lower() == runtime.username.lower() and given == password:
                return None  # Basic authenticates each request, not the connection.
            self.stats.auth_failure(runtime.name)
            return 401, self._challenge()
        if scheme in ("negotiate", "ntlm"):
            return self._ntlm_step(runtime, conn, scheme, token, password)
        return 401, self._challenge()

    def _ntlm_step(self, runtime, conn, scheme, token, password):
        try:
            in_token = base64.b64decode(token)
        except ValueError:
            return 401, self._challenge()
        suffix = "-changed" if password != runtime.password else ""
        user_file = os.path.join(self.windows_dir, "ntlm", runtime.name + suffix)
        if not os.path.exists(user_file):
            os.makedirs(os.path.dirname(user_file), mode=0o700, exist_ok=True)
            fd = os.open(user_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                # A local account answers to "user", "COMPUTER\\user" and ".\\user".
                for domain in ("", runtime.name.upper()[:15], "."):
                    handle.write("%s:%s:%s\n" % (domain, runtime.username, password))
        # pyspnego's acceptor reads its credential store from this variable (when created and when it validates the
        # AUTHENTICATE message); the loop runs this synchronously, so each host's own store is the one in effect.
        os.environ["NTLM_USER_FILE"] = user_file
        try:
            if conn["ntlm"] is None or in_token[8:12] == b"\x01\x00\x00\x00":
                bindings = self.bindings if conn["secure"] else None
                conn["ntlm"] = spnego.server(protocol="ntlm", channel_bindings=bindings)
            out = conn["ntlm"].step(in_token)
        except Exception:  # pylint: disable=broad-except  # any acceptor failure is "credentials rejected"
            conn["ntlm"] = None
            self.stats.auth_failure(runtime.name)
            return 401, self._challenge()
        if conn["ntlm"].complete:
            conn["user"] = runtime.username
            return None
        label = "Negotiate" if scheme == "negotiate" else "NTLM"
        return 401, [("WWW-Authenticate", "%s %s" % (label, base64.b64encode(out or b"").decode()))]

    async def handle_wsman(self, runtime, conn, method, path, headers, body):
        latency = runtime.faults.get("slow")
        if latency:
            await asyncio.sleep(float(latency) / 1000.0)
        if path.split("?")[0].rstrip("/").lower() != "/wsman":
            return 404, [], b""
        if method != "POST":
            return 405, [], b""
        refused = self._authenticate(runtime, conn, headers)
        if refused:
            return refused[0], refused[1], b""
        if not body:
            # The NTLM handshake's final leg may carry no body (message-encryption style); nothing to do.
            return 200, [], b""
        encrypted = headers.get("content-type", "").lower().startswith("multipart/encrypted")
        if encrypted:
            if not (conn["ntlm"] and conn["ntlm"].complete):
                return 400, [], b""
            try:
                body = wsman.unseal(conn["ntlm"], body)
            except Exception:  # pylint: disable=broad-except  # a message that does not unseal is refused
                return 400, [], b""
        elif not conn["secure"]:
            # Windows' default AllowUnencrypted=false: over http only sealed messages are accepted.
            return 400, [], b""
        try:
            request = wsman.Request(body)
        except Exception:  # pylint: disable=broad-except  # malformed XML gets a generic fault like Windows
            return 400, [], b""
        self.stats.operation(request.action or "unknown")
        status, extra, reply = await self.dispatch(runtime, request)
        if encrypted:
            reply = wsman.seal(conn["ntlm"], reply)
            extra = list(extra) + [("Content-Type", wsman.SEALED_CONTENT_TYPE)]
        return status, extra, reply

    async def dispatch(self, runtime, request):
        action = request.action
        if action == "Create":
            shell_id = str(uuid.uuid4()).upper()
            runtime.shells[shell_id] = {}
            address = "https://%s:%d/wsman" % (runtime.address, runtime.port)
            return 200, [], wsman.create_response(request, shell_id, address)
        shell = runtime.shells.get(request.shell_id)
        if shell is None:
            return 500, [], wsman.unknown_shell_fault(request)
        if action == "Delete":
            del runtime.shells[request.shell_id]
            return 200, [], wsman.delete_response(request)
        if action == "Command":
            command, arguments = request.command_line()
            console_stdin = request.options.get("WINRS_CONSOLEMODE_STDIN", "TRUE").upper() == "TRUE"
            cmd = Command(str(uuid.uuid4()).upper(), command, arguments, wants_stdin=not console_stdin)
            shell[cmd.id] = cmd
            if not cmd.wants_stdin:
                self.start(runtime, cmd)
            return 200, [], wsman.command_response(request, cmd.id)
        if action == "Send":
            command_id, data, end = request.stream()
            cmd = shell.get(command_id)
            if cmd is None:
                return 500, [], wsman.unknown_shell_fault(request)
            cmd.stdin.append(data)
            if end:
                self.start(runtime, cmd)
            return 200, [], wsman.send_response(request)
        if action == "Receive":
            cmd = shell.get(request.command_id())
            if cmd is None:
                return 500, [], wsman.unknown_shell_fault(request)
            timeout = min(request.operation_timeout or 20.0, float(self.settings.get("receive_timeout_cap", 20.0)))
            try:
                await asyncio.wait_for(cmd.done.wait(), timeout)
            except asyncio.TimeoutError:
                with self.stats.lock:
                    self.stats.receive_timeouts += 1
                return 500, [], wsman.operation_timeout_fault(request)
            chunk = cmd.stdout[cmd.offset:cmd.offset + RECEIVE_CHUNK]
            cmd.offset += len(chunk)
            finished = cmd.offset >= len(cmd.stdout)
            stderr = b""
            if finished and not cmd.stderr_sent:
                stderr, cmd.stderr_sent = cmd.stderr, True
            return 200, [], wsman.receive_response(request, cmd.id, chunk, stderr, finished, cmd.exit_code or 0)
        if action == "Signal":
            shell.pop(request.command_id(), None)
            return 200, [], wsman.signal_response(request)
        return 500, [], wsman.fault(request, wsman.CODE_UNKNOWN, "The action %s %s" % (
            request.action_uri, payload.NOT_MODELLED), subcode="a:ActionNotSupported", value="s:Sender")

    def start(self, runtime, cmd):
        if cmd.started:
            return
        cmd.started = True
        self.stats.command(runtime.name)
        stdin = b"".join(cmd.stdin)
        delay = float(runtime.faults.get("slow-command") or 0) / 1000.0
        future = self.loop.run_in_executor(self.pool, self._run, runtime.name, runtime.username, cmd.command,
                                           cmd.arguments, stdin)
        if delay:
            future = asyncio.ensure_future(self._delayed(future, delay))

        def finished(fut):
            try:
                cmd.stdout, cmd.stderr, cmd.exit_code = fut.result()
            except Exception as exc:  # pylint: disable=broad-except  # a lab bug must still answer the client
                cmd.stdout, cmd.stderr, cmd.exit_code = b"", ("lab error: %r" % exc).encode(), 1
            cmd.done.set()
        future.add_done_callback(finished)

    @staticmethod
    async def _delayed(future, delay):
        await asyncio.sleep(delay)
        return await future

    def _run(self, name, username, command, arguments, stdin):
        return self.executor.run(name, username, command, arguments, stdin)

    # --- installer + control service --------------------------------------------------------------------------------
    async def handle_service(self, runtime, conn, method, path, headers, body):
        path = path.split("?")[0]
        if method == "GET" and path.startswith("/installers/"):
            name = os.path.normpath(path[len("/installers/"):]).replace("\\", "/")
            if name.startswith("..") or name.startswith("/"):
                return 404, [], b""
            file_path = os.path.join(self.windows_dir, "installers", name)
            if not os.path.isfile(file_path):
                return 404, [], b""
            with open(file_path, "rb") as handle:
                return 200, [], handle.read()
        if not path.startswith("/control/"):
            return 404, [], b""
        if headers.get("x-lab-token") != self.config["control_token"]:
            return 403, [], b""
        op = path[len("/control/"):]
        request = json.loads(body or b"{}")
        if op == "stats":
            snapshot = self.stats.snapshot()
            if request.get("reset"):
                self.stats.reset()
            return 200, [], json.dumps(snapshot).encode()
        if op == "refresh":
            for name in request.get("hosts") or sorted(self.hosts):
                if name in self.hosts:
                    await self.refresh(name)
            return 200, [], json.dumps({"ports": {n: h.port for n, h in self.hosts.items()}}).encode()
        if op == "heartbeat":
            await self.loop.run_in_executor(self.pool, self.heartbeat_once)
            return 200, [], json.dumps(self.stats.snapshot()["heartbeats"]).encode()
        if op == "stop":
            self.stopping.set()
            return 200, [], b"{}"
        return 404, [], b""

    # --- heartbeats -------------------------------------------------------------------------------------------------
    def heartbeat_once(self):
        """One round: deliver due solution pushes, then one ODS post per workspace and one ping per worker."""
        batches = {}
        pings = []
        context = self.context()
        for name in sorted(self.hosts):
            try:
                with hostmod.locked_host(self.lab_dir, name, context) as host:
                    host.deliver_due_solutions()
                    if host.state.get("arc_agent"):
                        # The Connected Machine agent reports in and applies its extensions' goal state.
                        host.arc_sync()
                    svc = host.service(hostmod.MMA_SERVICE)
                    if svc is None or svc["status"] != "Running":
                        continue
                    # The agent downloads its configuration again on its periodic refresh (reference section 7,
                    # "Solution push"): a workspace not connected yet, or no HybridRegistration module on the host
                    # (the solution not enabled yet, or enabled but its push lost), is looked at again every round.
                    workspaces = host.state["agent"]["workspaces"]
                    if workspaces and (any(w["connection_status"] != hostmod.CONNECTION_OK for w in workspaces)
                                       or not host.hybrid_registration_versions()):
                        host.refresh_agent_configuration()
                    product = host.installed_product(hostmod.MMA_DISPLAY_NAME) or {}
                    for workspace in host.state["agent"]["workspaces"]:
                        if workspace["connection_status"] != hostmod.CONNECTION_OK:
                            continue
                        batches.setdefault((workspace["workspace_id"], workspace["key"]), []).append({
                            "Computer": host.computer_name, "ComputerIP": host.address, "Category": "Direct Agent",
                            "OSType": "Windows", "Version": product.get("DisplayVersion"),
                            "OSName": host.state["os"]["caption"], "ComputerEnvironment": "Non-Azure",
                            "SourceComputerId": str(uuid.uuid5(uuid.NAMESPACE_DNS, host.computer_name + "." + host.address)),
                            "OSMajorVersion": host.state["os"]["version"].split(".")[0],
                            "OSMinorVersion": host.state["os"]["version"].split(".")[1],
                            "Solutions": ",".join(workspace["solutions"]),
                        })
                    secret = host.state.get("worker_secret")
                    if secret and host.hrw_registry()["user_workers"]:
                        pings.append(secret)
                    host.state["heartbeat"]["last_round"] = time.time()
            except KeyError:
                continue
        if not context.azure_url:
            return
        client = azure_client.AzureLabClient(context.azure_url, context.azure_ca_bundle)
        for (workspace_id, key), records in batches.items():
            try:
                client.send_heartbeats(workspace_id, key, records)
                with self.stats.lock:
                    self.stats.heartbeats["ods_posts"] += 1
                    self.stats.heartbeats["ods_records"] += len(records)
            except (azure_client.AzureLabError, ValueError):
                with self.stats.lock:
                    self.stats.heartbeats["errors"] += 1
        for secret in pings:
            try:
                azure_client.agentsvc_call(secret["url"], secret["key"], "POST",
                                           "HybridV2(MachineId='%s')/ping" % secret["machine_id"], {},
                                           context.azure_ca_bundle)
                with self.stats.lock:
                    self.stats.heartbeats["pings"] += 1
            except azure_client.AzureLabError:
                with self.stats.lock:
                    self.stats.heartbeats["errors"] += 1

    def heartbeat_thread(self):
        interval = float(self.settings.get("heartbeat_interval", 60))
        while not self._stop_flag.wait(interval):
            try:
                self.heartbeat_once()
            except Exception as exc:  # pylint: disable=broad-except  # keep beating; note it in the log
                print("heartbeat round failed: %r" % exc, file=sys.stderr, flush=True)

    # --- main -------------------------------------------------------------------------------------------------------
    async def main(self):
        self.loop = asyncio.get_running_loop()
        self.stopping = asyncio.Event()
        self._stop_flag = threading.Event()  # pylint: disable=attribute-defined-outside-init
        self._tls()
        for runtime in self.hosts.values():
            self.load_faults(runtime)
            if not runtime.faults.get("unreachable"):
                await self.open_listener(runtime)
        service_runtime = HostRuntime({"name": "service", "address": "127.0.0.1", "username": "", "password": ""})

        async def on_service(reader, writer):
            await self.serve_connection(service_runtime, reader, writer, self.handle_service)
        try:
            self.service_server = await asyncio.start_server(on_service, "127.0.0.1", self.service_port,
                                                             ssl=self.ssl_context)
        except OSError:
            self.service_server = await asyncio.start_server(on_service, "127.0.0.1", 0, ssl=self.ssl_context)
        self.service_port = self.service_server.sockets[0].getsockname()[1]
        beat = threading.Thread(target=self.heartbeat_thread, daemon=True)
        beat.start()
        for signum in (signal.SIGTERM, signal.SIGINT):
            self.loop.add_signal_handler(signum, self.stopping.set)
        labdir.write_json_atomic(os.path.join(self.windows_dir, "runtime.json"), {
            "pid": os.getpid(),
            "service_url": "https://127.0.0.1:%d" % self.service_port,
            "ports": {name: runtime.port for name, runtime in self.hosts.items()},
            "http_ports": {name: runtime.http_port for name, runtime in self.hosts.items()},
        })
        await self.stopping.wait()
        self._stop_flag.set()
        for runtime in self.hosts.values():
            await self.close_listener(runtime)
        self.service_server.close()
        self.pool.shutdown(wait=False, cancel_futures=True)


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 500: "Internal Server Error"}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="windows.server")
    parser.add_argument("--dir", required=True)
    args = parser.parse_args(argv)
    # Two listeners per host plus client connections: lift the soft file limit to the hard one for large fleets.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else max(soft, 65536), hard))
    fleet = Fleet(os.path.abspath(args.dir))
    asyncio.run(fleet.main())
    return 0


if __name__ == "__main__":
    sys.exit(main())
