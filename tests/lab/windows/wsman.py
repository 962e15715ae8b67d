"""WS-Management (WinRS) messages as Windows answers them to pywinrm and Ansible's winrm connection.

Request parsing and response envelopes for the six operations pywinrm/Ansible use (testing-offline reference 2.6):
Create (shell), Command, Send (stdin), Receive (stdout/stderr/exit code), Signal (terminate), Delete (shell), plus the
SOAP faults Windows sends: operation timeout on Receive (WSManFault code 2150858793) and unknown shell/command.
"""
import base64
import struct
import uuid
import xml.etree.ElementTree as ET

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
}
SHELL_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
CMD_RESOURCE = SHELL_URI + "/cmd"
ACTIONS = {
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create": "Create",
    "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete": "Delete",
    SHELL_URI + "/Command": "Command",
    SHELL_URI + "/Send": "Send",
    SHELL_URI + "/Receive": "Receive",
    SHELL_URI + "/Signal": "Signal",
}
CODE_OPERATION_TIMEOUT = 2150858793
CODE_INVALID_SELECTORS = 2150858843
CODE_UNKNOWN = 2150858752


class Request:
    """The parts of a WS-Man request the lab acts on."""

    def __init__(self, body):
        root = ET.fromstring(body)
        header = root.find("s:Header", NS)
        self.body = root.find("s:Body", NS)
        self.action_uri = _text(header, "a:Action")
        self.action = ACTIONS.get(self.action_uri)
        self.message_id = _text(header, "a:MessageID")
        self.resource_uri = _text(header, "w:ResourceURI")
        self.to = _text(header, "a:To")
        self.operation_timeout = _duration(_text(header, "w:OperationTimeout"))
        self.max_envelope = int(_text(header, "w:MaxEnvelopeSize") or 153600)
        self.shell_id = None
        for selector in header.iterfind("w:SelectorSet/w:Selector", NS):
            if selector.get("Name") == "ShellId":
                self.shell_id = selector.text
        self.options = {o.get("Name"): (o.text or "") for o in header.iterfind("w:OptionSet/w:Option", NS)}

    def command_line(self):
        line = self.body.find("rsp:CommandLine", NS)
        command = _text(line, "rsp:Command") or ""
        arguments = [a.text or "" for a in line.iterfind("rsp:Arguments", NS)]
        return command.strip('"'), " ".join(arguments).split()

    def stream(self):
        """(command_id, data bytes, end) of a Send."""
        stream = self.body.find("rsp:Send/rsp:Stream", NS)
        data = base64.b64decode(stream.text) if stream.text else b""
        return stream.get("CommandId"), data, stream.get("End", "").lower() == "true"

    def command_id(self):
        for path in ("rsp:Receive/rsp:DesiredStream", "rsp:Signal"):
            node = self.body.find(path, NS)
            if node is not None:
                return node.get("CommandId")
        return None

    def signal_code(self):
        return _text(self.body, "rsp:Signal/rsp:Code")


def _text(node, path):
    if node is None:
        return None
    found = node.find(path, NS)
    return found.text if found is not None else None


def _duration(text):
    """xs:duration as seconds (only the PTnS / PTnM forms WinRM clients send)."""
    if not text or not text.startswith("PT"):
        return None
    value = text[2:]
    try:
        if value.endswith("S"):
            return float(value[:-1])
        if value.endswith("M"):
            return float(value[:-1]) * 60
    except ValueError:
        return None
    return None


def _envelope(action, relates_to, body):
    return (
        '<s:Envelope xml:lang="en-US" xmlns:s="%(s)s" xmlns:a="%(a)s" xmlns:x="%(x)s" xmlns:w="%(w)s" '
        'xmlns:rsp="%(rsp)s" xmlns:p="%(p)s"><s:Header><a:Action>%(action)s</a:Action>'
        '<a:MessageID>uuid:%(mid)s</a:MessageID>'
        '<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>'
        '<a:RelatesTo>%(rel)s</a:RelatesTo></s:Header><s:Body>%(body)s</s:Body></s:Envelope>'
        % dict(NS, action=action, mid=str(uuid.uuid4()).upper(), rel=relates_to or "", body=body)
    ).encode("utf-8")


def create_response(request, shell_id, address):
    body = (
        '<x:ResourceCreated><a:Address>%s</a:Address><a:ReferenceParameters><w:ResourceURI>%s</w:ResourceURI>'
        '<w:SelectorSet><w:Selector Name="ShellId">%s</w:Selector></w:SelectorSet></a:ReferenceParameters>'
        '</x:ResourceCreated><rsp:Shell><rsp:ShellId>%s</rsp:ShellId><rsp:ResourceUri>%s</rsp:ResourceUri>'
        '<rsp:State>Connected</rsp:State><rsp:InputStreams>stdin</rsp:InputStreams>'
        '<rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>'
        % (address, CMD_RESOURCE, shell_id, shell_id, CMD_RESOURCE)
    )
    return _envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse", request.message_id, body)


def command_response(request, command_id):
    body = "<rsp:CommandResponse><rsp:CommandId>%s</rsp:CommandId></rsp:CommandResponse>" % command_id
    return _envelope(SHELL_URI + "/CommandResponse", request.message_id, body)


def send_response(request):
    return _envelope(SHELL_URI + "/SendResponse", request.message_id, "<rsp:SendResponse/>")


def receive_response(request, command_id, stdout, stderr, done, exit_code):
    parts = ["<rsp:ReceiveResponse>"]
    end = ' End="true"' if done else ""
    parts.append('<rsp:Stream Name="stdout" CommandId="%s"%s>%s</rsp:Stream>'
                 % (command_id, end, base64.b64encode(stdout).decode() if stdout else ""))
    parts.append('<rsp:Stream Name="stderr" CommandId="%s"%s>%s</rsp:Stream>'
                 % (command_id, end, base64.b64encode(stderr).decode() if stderr else ""))
    if done:
        parts.append('<rsp:CommandState CommandId="%s" State="%s/CommandState/Done"><rsp:ExitCode>%d</rsp:ExitCode>'
                     '</rsp:CommandState>' % (command_id, SHELL_URI, exit_code))
    else:
        parts.append('<rsp:CommandState CommandId="%s" State="%s/CommandState/Running"/>' % (command_id, SHELL_URI))
    parts.append("</rsp:ReceiveResponse>")
    return _envelope(SHELL_URI + "/ReceiveResponse", request.message_id, "".join(parts))


def signal_response(request):
    return _envelope(SHELL_URI + "/SignalResponse", request.message_id, "<rsp:SignalResponse/>")


def delete_response(request):
    return _envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse", request.message_id, "")


def fault(request, code, reason, subcode="w:TimedOut", value="s:Receiver"):
    """A SOAP 1.2 fault with a WSManFault detail (sent with HTTP 500, like Windows)."""
    body = (
        '<s:Fault><s:Code><s:Value>%s</s:Value><s:Subcode><s:Value>%s</s:Value></s:Subcode></s:Code>'
        '<s:Reason><s:Text xml:lang="en-US">%s</s:Text></s:Reason><s:Detail>'
        '<f:WSManFault xmlns:f="%s" Code="%d" Machine="lab"><f:Message>%s</f:Message></f:WSManFault>'
        '</s:Detail></s:Fault>' % (value, subcode, reason, NS["f"], code, reason)
    )
    action = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
    return _envelope(action, request.message_id if request else None, body)


def operation_timeout_fault(request):
    return fault(request, CODE_OPERATION_TIMEOUT,
                 "The WS-Management service cannot complete the operation within the time specified in "
                 "OperationTimeout.")


def unknown_shell_fault(request):
    return fault(request, CODE_INVALID_SELECTORS,
                 "The request for the Windows Remote Shell with ShellId %s failed because the shell was not found "
                 "on the server." % (request.shell_id or ""), subcode="w:InvalidSelectors", value="s:Sender")


# --- MS-WSMV 2.2.9.1.1 message encryption (NTLM over http), as pywinrm's winrm/encryption.py frames it -----------
BOUNDARY = b"--Encrypted Boundary"
SEALED_PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
SEALED_CONTENT_TYPE = 'multipart/encrypted;protocol="%s";boundary="Encrypted Boundary"' % SEALED_PROTOCOL


def unseal(context, body):
    """The SOAP text of a ``multipart/encrypted`` body sealed with the connection's NTLM context."""
    parts = [p for p in body.split(BOUNDARY + b"\r\n") if p]
    header, payload = parts[0], parts[1]
    length = int(header.split(b"Length=")[1].strip())
    if payload.endswith(BOUNDARY + b"--\r\n"):
        payload = payload[:-len(BOUNDARY + b"--\r\n")]
    data = payload.replace(b"\tContent-Type: application/octet-stream\r\n", b"", 1)
    signature_length = struct.unpack("<i", data[:4])[0]
    signature = data[4:4 + signature_length]
    message = context.unwrap(signature + data[4 + signature_length:]).data
    if len(message) != length:
        raise ValueError("sealed message length does not match")
    return message


def seal(context, message):
    wrapped = context.wrap(message, encrypt=True).data
    signature, sealed = wrapped[:16], wrapped[16:]
    return (BOUNDARY + b"\r\n\tContent-Type: " + SEALED_PROTOCOL.encode() + b"\r\n"
            b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=" + str(len(message)).encode()
            + b"\r\n" + BOUNDARY + b"\r\n\tContent-Type: application/octet-stream\r\n"
            + struct.pack("<i", len(signature)) + signature + sealed + BOUNDARY + b"--\r\n")
