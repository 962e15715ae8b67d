"""Static checks for the collection's PowerShell code, for machines without pwsh.

Three checks, each reported as ``path:line:col: message``:

* ``syntax``: the file parses with tree-sitter-powershell (no ERROR or missing nodes);
* ``compat``: only Windows PowerShell 5.1 syntax is used (no ``??``, ``??=``, ``?.``, ``?[]``, ternary, ``&&``/``||``
  pipeline chains, ``ForEach-Object -Parallel``, ``clean {}`` blocks, ``#Requires -Version`` above 5.1 or
  ``-PSEdition Core``);
* ``spec``: a module's ``$spec`` (Ansible.Basic) agrees with the options of its ``.yml`` doc sidecar.

The grammar has blind spots on some valid code; see README.md in this folder for the house style that avoids them.

Usage: python tests/powershell/pscheck.py FILE... (a module .ps1 also gets its sidecar checked).
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import re
import sys
from pathlib import Path

import tree_sitter_powershell
import yaml
from tree_sitter import Language, Parser

PARSER = Parser(Language(tree_sitter_powershell.language()))
COLLECTION = "azure_automation.hybrid_worker"
MAX_SYNTAX_FINDINGS = 20


@dataclasses.dataclass(frozen=True)
class Finding:
    path: str
    line: int
    col: int | None
    check: str  # syntax | compat | spec
    message: str
    source_line: str | None = None

    def __str__(self):
        where = "%s:%d:" % (self.path, self.line) if self.col is None else "%s:%d:%d:" % (self.path, self.line, self.col)
        text = "%s %s" % (where, self.message)
        if self.source_line is not None:
            text += "\n    " + self.source_line.rstrip()
        return text


def display_path(path, base=None):
    path = Path(path)
    for anchor in (base, Path.cwd()):
        if anchor is not None:
            try:
                return path.resolve().relative_to(Path(anchor).resolve()).as_posix()
            except ValueError:
                pass
    return path.as_posix()


class Source:
    """A parsed PowerShell file and the helpers every check needs."""

    def __init__(self, path, data: bytes, shown_as: str):
        self.path = path
        self.data = data
        self.shown_as = shown_as
        self.tree = PARSER.parse(data)
        self.lines = data.decode("utf-8", "replace").splitlines()

    def finding(self, check, point, message, with_line=False):
        """point is a tree-sitter (row, byte column) pair; columns are reported in characters, 1-based."""
        row, byte_col = point
        line_bytes = self.data.split(b"\n")[row] if row < self.data.count(b"\n") + 1 else b""
        col = len(line_bytes[:byte_col].decode("utf-8", "replace")) + 1
        source_line = self.lines[row] if with_line and row < len(self.lines) else None
        return Finding(self.shown_as, row + 1, col, check, message, source_line)

    def point_of(self, offset):
        row = self.data.count(b"\n", 0, offset)
        return row, offset - (self.data.rfind(b"\n", 0, offset) + 1)


def walk(node):
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def first_visible(src, node):
    """Start point of the node's first non-blank character (ERROR nodes often start with the blank before a token)."""
    text = node.text
    offset = node.start_byte + (len(text) - len(text.lstrip()))
    return src.point_of(min(offset, node.end_byte))


# --------------------------------------------------------------------------------------------------------------------
# Question-mark forms of PowerShell 7. The grammar knows none of them, so each leaves an ERROR leaf starting with '?'.

QUESTION_FORMS = (
    ("??=", "null-coalescing assignment '??=' is PowerShell 7 only"),
    ("??", "null-coalescing operator '??' is PowerShell 7 only"),
    ("?.", "null-conditional member access '?.' is PowerShell 7 only"),
    ("?[", "null-conditional index '?[]' is PowerShell 7 only"),
    ("?", "ternary operator 'a ? b : c' is PowerShell 7 only"),
)
SIMPLE_VARIABLE = re.compile(r"^\$(?:[A-Za-z]+:)?\w+$")


def question_findings(src):
    """Findings for '?' the grammar could not place, with the byte offset each explains."""
    found = []
    for node in walk(src.tree.root_node):
        if node.type != "ERROR" or node.child_count or not node.text.lstrip().startswith(b"?"):
            continue
        offset = node.start_byte + (len(node.text) - len(node.text.lstrip()))
        before = src.tree.root_node.descendant_for_byte_range(offset - 1, offset) if offset else None
        if before is not None and before.end_byte == offset and SIMPLE_VARIABLE.match(before.text.decode("utf-8", "replace")):
            # `$name?` is a variable called 'name?' in every PowerShell version; only the grammar cannot read it.
            name = before.text.decode() + "?"
            message = "variable name '%s' contains '?': valid PowerShell, but the syntax checker cannot read it; rename it" % name
            found.append((offset, src.finding("syntax", src.point_of(offset), message, with_line=True)))
            continue
        rest = src.data[offset:offset + 3].decode("utf-8", "replace")
        message = next(text for form, text in QUESTION_FORMS if rest.startswith(form))
        found.append((offset, src.finding("compat", src.point_of(offset), message)))
    return found


# --------------------------------------------------------------------------------------------------------------------
# (a) syntax

def code_text(node):
    """The node's text without comments and blanks: ERROR nodes holding only those are grammar noise."""
    text = node.text
    for comment in sorted((d for d in walk(node) if d.type == "comment"), key=lambda d: -d.start_byte):
        text = text[:comment.start_byte - node.start_byte] + text[comment.end_byte - node.start_byte:]
    return text.strip().decode("utf-8", "replace")


def syntax_findings(src, explained_offsets=()):
    errors = [node for node in walk(src.tree.root_node) if node.type == "ERROR" and code_text(node)]
    innermost = [node for node in errors if not any(d.type == "ERROR" and d in errors for d in walk(node) if d is not node)]
    innermost += [node for node in walk(src.tree.root_node) if node.is_missing]
    if not innermost and code_text(src.tree.root_node):
        # Only blank ERROR nodes: the grammar gave up at the end of a line it could not finish.
        innermost = [node for node in walk(src.tree.root_node) if node.type == "ERROR"][-1:]
    findings = []
    for node in sorted(innermost, key=lambda n: n.start_byte):
        if any(node.start_byte <= offset < max(node.end_byte, node.start_byte + 1) for offset in explained_offsets):
            continue
        if node.is_missing:
            message = "syntax error: missing '%s'%s" % (node.type, opened_at(node))
            findings.append(src.finding("syntax", node.start_point, message, with_line=True))
            continue
        text = code_text(node)
        if text:
            findings.append(src.finding("syntax", first_visible(src, node), "syntax error: unexpected '%s'" % text.splitlines()[0][:40],
                                        with_line=True))
        else:
            findings.append(src.finding("syntax", node.start_point, "syntax error: cannot parse the end of this line", with_line=True))
    return findings[:MAX_SYNTAX_FINDINGS]


def opened_at(missing):
    closers = {"}": "{", ")": "(", "]": "["}
    opener = closers.get(missing.type)
    parent = missing.parent
    if opener is None or parent is None:
        return ""
    for sibling in parent.children:
        if sibling.type.endswith(opener) and sibling.start_byte < missing.start_byte:
            return " (for the '%s' opened at line %d)" % (sibling.type, sibling.start_point.row + 1)
    return ""


# --------------------------------------------------------------------------------------------------------------------
# (b) Windows PowerShell 5.1 compatibility

FOREACH_OBJECT = {"foreach-object", "%", "foreach", "microsoft.powershell.core\\foreach-object"}
REQUIRES = re.compile(r"^#requires\b(?P<args>.*)$", re.IGNORECASE | re.DOTALL)
REQUIRES_VERSION = re.compile(r"-version\s+(?P<major>\d+)(?:\.(?P<minor>\d+))?", re.IGNORECASE)
REQUIRES_CORE = re.compile(r"-psedition\s+core\b", re.IGNORECASE)


def compat_findings(src):
    """(byte offset, finding) pairs; the offsets let the syntax check skip the parse errors these explain."""
    found = [(offset, finding) for offset, finding in question_findings(src) if finding.check == "compat"]
    for node in walk(src.tree.root_node):
        if node.type in ("&&", "||"):
            found.append((node.start_byte, src.finding("compat", node.start_point, "pipeline chain operator '%s' is PowerShell 7 only" % node.type)))
        elif node.type == "command":
            found.extend((node.start_byte, finding) for finding in parallel_findings(src, node))
        elif node.type in ("command_name", "simple_name") and node.text.strip().lower() == b"clean":
            if src.data[node.end_byte:].lstrip().startswith(b"{"):
                offset = node.start_byte + len(node.text) - len(node.text.lstrip())
                found.append((offset, src.finding("compat", src.point_of(offset), "'clean {}' block is PowerShell 7.3 only")))
        elif node.type == "comment":
            found.extend((node.start_byte, finding) for finding in requires_findings(src, node))
    return sorted(found, key=lambda pair: (pair[1].line, pair[1].col))


def parallel_findings(src, command):
    name = command.child_by_field_name("command_name") or next((c for c in command.children if c.type == "command_name"), None)
    if name is None or name.text.decode("utf-8", "replace").lower() not in FOREACH_OBJECT:
        return []
    found = []
    for node in walk(command):
        if node.type == "command_parameter":
            parameter = node.text.decode("utf-8", "replace").split(":")[0].lower()
            if len(parameter) >= 3 and "-parallel".startswith(parameter):
                found.append(src.finding("compat", node.start_point, "ForEach-Object -Parallel is PowerShell 7 only"))
    return found


def requires_findings(src, comment):
    match = REQUIRES.match(comment.text.decode("utf-8", "replace"))
    if not match:
        return []
    found = []
    version = REQUIRES_VERSION.search(match.group("args"))
    if version and (int(version.group("major")), int(version.group("minor") or 0)) > (5, 1):
        found.append(src.finding("compat", comment.start_point, "#Requires -Version %s: Windows PowerShell 5.1 is the target" % version.group(0).split()[-1]))
    if REQUIRES_CORE.search(match.group("args")):
        found.append(src.finding("compat", comment.start_point, "#Requires -PSEdition Core excludes Windows PowerShell 5.1"))
    return found


# --------------------------------------------------------------------------------------------------------------------
# (c) $spec against the doc sidecar

class NotStatic(Exception):
    def __init__(self, node, what):
        super().__init__(what)
        self.node = node
        self.what = what


class PsHash(dict):
    """An evaluated hashtable literal that remembers the line of each key (keys compared case-insensitively)."""

    def __init__(self, line):
        super().__init__()
        self.line = line
        self.lines = {}

    def get_ci(self, key, default=None):
        for name, value in self.items():
            if name.lower() == key:
                return value
        return default

    def line_ci(self, key):
        return next((line for name, line in self.lines.items() if name.lower() == key), self.line)


# Nodes that only wrap one operand in the grammar's precedence chain.
WRAPPERS = {
    "pipeline", "pipeline_chain", "logical_expression", "bitwise_expression", "comparison_expression",
    "additive_expression", "multiplicative_expression", "format_expression", "range_expression",
    "array_literal_expression", "unary_expression", "string_literal", "integer_literal",
}
CONSTANTS = {"$true": True, "$false": False, "$null": None}


def evaluate(node):
    """Value of a literal PowerShell expression: hashtables, arrays, strings, numbers, $true/$false/$null."""
    kind = node.type
    named = code_children(node)
    if kind in WRAPPERS and len(named) == 1:
        return evaluate(named[0])
    if kind == "array_literal_expression":
        return [evaluate(child) for child in named]
    if kind == "hash_literal_expression":
        return evaluate_hash(node)
    if kind == "array_expression":  # @( ... ): the output of its statements, enumerated one level, always an array
        values = []
        for statement in [child for child in code_children(named[0]) if child.type != "empty_statement"] if named else []:
            value = evaluate(statement)
            values.extend(value if isinstance(value, list) else [value])
        return values
    if kind == "parenthesized_expression" and len(named) == 1:
        return evaluate(named[0])
    if kind == "expression_with_unary_operator" and len(named) == 1:
        operator = node.children[0].type
        value = evaluate(named[0])
        if operator == ",":
            return [value]
        if operator in ("-", "+") and isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if operator == "-" else value
    if kind == "variable":
        name = node.text.decode("utf-8", "replace").lower()
        if name in CONSTANTS:
            return CONSTANTS[name]
        raise NotStatic(node, "the variable %s" % node.text.decode("utf-8", "replace"))
    if kind == "verbatim_string_characters":
        return node.text.decode("utf-8")[1:-1].replace("''", "'")
    if kind == "expandable_string_literal" and not named and not re.search(rb"[$`]", node.text[1:-1]):
        return node.text.decode("utf-8")[1:-1].replace('""', '"')
    if kind == "verbatim_here_string_characters":
        return node.text.decode("utf-8").split("\n", 1)[1].rsplit("\n", 1)[0].rstrip("\r")
    if kind == "decimal_integer_literal" and node.text.isdigit():
        return int(node.text)
    if kind == "hexadecimal_integer_literal" and re.fullmatch(rb"0[xX][0-9a-fA-F]+", node.text):
        return int(node.text, 16)
    if kind == "real_literal" and re.fullmatch(rb"\d*\.\d+", node.text):
        return float(node.text)
    if kind == "command":
        raise NotStatic(node, "a command call (%s)" % node.text.decode("utf-8", "replace").split()[0])
    raise NotStatic(node, "an expression of kind '%s'" % kind)


def code_children(node):
    return [child for child in node.named_children if child.type != "comment"]


def evaluate_hash(node):
    table = PsHash(node.start_point.row + 1)
    body = next((child for child in node.named_children if child.type == "hash_literal_body"), None)
    for entry in [child for child in body.named_children if child.type == "hash_entry"] if body else []:
        key_node, value_node = code_children(entry)[0], code_children(entry)[-1]
        key_literal = code_children(key_node)[0]
        key_value = key_literal.text.decode() if key_literal.type == "simple_name" else evaluate(key_literal)
        key = str(key_value)
        if any(existing.lower() == key.lower() for existing in table):
            raise NotStatic(key_node, "a duplicate key '%s' (PowerShell refuses duplicate hashtable keys)" % key)
        table[key] = evaluate(value_node)
        table.lines[key] = entry.start_point.row + 1
    return table


def find_spec(src):
    """The node assigned to the script-level `$spec`, or a reason why there is none usable."""
    assignments = []
    for node in walk(src.tree.root_node):
        if node.type == "assignment_expression":
            target = node.children[0].text.decode("utf-8", "replace").strip().lower()
            if target == "$spec" or target.startswith(("$spec.", "$spec[")):
                assignments.append((target, node))
    if not assignments:
        return None, "no `$spec = @{ ... }` assignment found"
    if len(assignments) > 1:
        node = assignments[1][1]
        return None, "line %d changes $spec after it is built; keep it one literal" % (node.start_point.row + 1)
    target, node = assignments[0]
    if target != "$spec" or node.children[1].text.strip() != b"=":
        return None, "line %d: $spec must be assigned with '=' once" % (node.start_point.row + 1)
    return node.children[-1], None


def load_docs(sidecar, shown_sidecar):
    """Documentation dict of a .yml sidecar (with options merged from this collection's doc fragments)."""
    try:
        outer = yaml.safe_load(Path(sidecar).read_text(encoding="utf-8"))
        documentation = outer["DOCUMENTATION"]
        if isinstance(documentation, str):  # a block string as in the brief's sidecars, or a mapping as in ansible.windows
            documentation = yaml.safe_load(documentation)
    except (yaml.YAMLError, KeyError, TypeError) as error:
        raise ValueError("%s: cannot read DOCUMENTATION: %s" % (shown_sidecar, str(error).splitlines()[0])) from error
    if not isinstance(documentation, dict):
        raise ValueError("%s: DOCUMENTATION is not a YAML mapping" % shown_sidecar)
    fragments = documentation.get("extends_documentation_fragment") or []
    options = {}
    for fragment in [fragments] if isinstance(fragments, str) else fragments:
        options.update(fragment_options(fragment, Path(sidecar).resolve().parents[2], shown_sidecar))
    options.update(documentation.get("options") or {})
    documentation["options"] = options
    return documentation


def fragment_options(fragment, collection_root, shown_sidecar):
    """Options a doc fragment adds: this collection's from plugins/doc_fragments, ansible-core's by import."""
    parts = fragment.split(".")
    variable = "DOCUMENTATION"
    if fragment.startswith(COLLECTION + ".") or len(parts) <= 2 and not fragment.startswith("ansible.builtin."):
        rest = parts[2:] if fragment.startswith(COLLECTION + ".") else parts
        if len(rest) == 2:
            variable = rest[1].upper()
        path = collection_root / "plugins" / "doc_fragments" / (rest[0] + ".py")
        try:
            text = fragment_text(ast.parse(path.read_text(encoding="utf-8")), variable)
        except OSError as error:
            raise ValueError("%s: doc fragment %s: %s" % (shown_sidecar, fragment, error)) from error
    elif fragment.startswith("ansible.builtin."):
        rest = parts[2:]
        variable = rest[1].upper() if len(rest) == 2 else variable
        module = importlib.import_module("ansible.plugins.doc_fragments." + rest[0])
        text = getattr(module.ModuleDocFragment, variable, None)
    else:
        raise ValueError("%s: doc fragment %s is from another collection; this check cannot read its options" % (shown_sidecar, fragment))
    if text is None:
        raise ValueError("%s: doc fragment %s has no %s" % (shown_sidecar, fragment, variable))
    return (yaml.safe_load(text) or {}).get("options") or {}


def fragment_text(tree, variable):
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == variable for t in node.targets):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                return node.value.value
    return None


def render(value):
    return "(unset)" if value is None else repr(value)


def unordered(values):
    """Choices and aliases as a sorted list; a single string counts as a list of one, as in Ansible.Basic."""
    if values is None:
        return None
    return sorted([values] if isinstance(values, str) else values, key=repr)


def choice_names(values):
    """Doc choices may be a mapping of choice to description."""
    return unordered(list(values) if isinstance(values, dict) else values)


OPTION_FIELDS = (
    # name, default when absent, how to compare
    ("type", "str", None),
    ("required", False, None),
    ("default", None, None),
    ("choices", None, choice_names),
    ("elements", None, None),
    ("aliases", None, unordered),
)
# The doc schema has no no_log field, so no_log is held to validate-modules' no-log-needed rule instead: an option
# whose name looks like a secret must set no_log (to $false when it is not one). Facts from ansible-test's rule.
SECRET_WORDS = re.compile(r"pass(?!ive)|secret|token|key", re.IGNORECASE)
NOT_SECRET_SUFFIXES = ("_count", "_type", "_alg", "_algorithm", "_timeout", "_name", "_comment", "_bits", "_id",
                       "_identifier", "_period", "_file", "_filename")
NOT_SECRET_WORDS = ("publickey", "public_key", "pub_key", "pubkey", "keyusage", "key_usage", "keyserver", "key_server",
                    "keysize", "key_size", "keyservice", "key_service", "keyboard", "secretary")


def needs_no_log(name, option):
    if option.get_ci("no_log") is not None or option.get_ci("choices") is not None:
        return False
    if option.get_ci("type") in ("path", "bool") or not SECRET_WORDS.search(name):
        return False
    return not name.endswith(NOT_SECRET_SUFFIXES) and not any(word in name for word in NOT_SECRET_WORDS)


def compare_options(spec_options, doc_options, prefix, report):
    spec_options = spec_options if isinstance(spec_options, PsHash) else PsHash(getattr(spec_options, "line", 0))
    doc_options = doc_options or {}
    doc_names = {str(name).lower(): name for name in doc_options}
    for name, spec_option in spec_options.items():
        line = spec_options.lines.get(name, spec_options.line)
        label = prefix + name
        doc_name = doc_names.pop(name.lower(), None)
        if doc_name is None:
            report(line, "option '%s' is in $spec but not documented" % label)
            continue
        doc_option = doc_options[doc_name] or {}
        if not isinstance(spec_option, PsHash):
            report(line, "option '%s' in $spec is not a hashtable" % label)
            continue
        for field, absent, normalise in OPTION_FIELDS:
            spec_value = spec_option.get_ci(field, absent)
            doc_value = doc_option.get(field, absent)
            if normalise:
                spec_value, doc_value = normalise(spec_value), normalise(doc_value)
            if spec_value != doc_value:
                report(spec_option.line_ci(field), "option '%s' %s %s != docs %s" % (label, field, render(spec_value), render(doc_value)))
        if needs_no_log(name, spec_option):
            report(spec_option.line, "option '%s' looks like a secret but sets no no_log (no_log = $true, or $false if it is not one)" % label,
                   docs=False)
        spec_sub = spec_option.get_ci("options")
        doc_sub = doc_option.get("suboptions")
        if spec_sub is not None or doc_sub is not None:
            compare_options(spec_sub if spec_sub is not None else PsHash(line), doc_sub, label + ".", report)
    for doc_name in doc_names.values():
        report(spec_options.line, "documented option '%s' is missing from $spec" % (prefix + str(doc_name)))


def spec_findings(module_path, base=None):
    module_path = Path(module_path)
    shown = display_path(module_path, base)
    sidecar = module_path.with_suffix(".yml")
    shown_sidecar = display_path(sidecar, base)
    src = Source(module_path, module_path.read_bytes(), shown)
    if not sidecar.exists():
        return [Finding(shown, 1, None, "spec", "module has no doc sidecar %s" % shown_sidecar)]
    value_node, problem = find_spec(src)
    if problem:
        return [Finding(shown, 1, None, "spec", problem)]
    try:
        spec = evaluate(value_node)
    except NotStatic as error:
        row = error.node.start_point.row
        message = ("$spec uses %s, which this static check cannot evaluate; write $spec as a literal hashtable "
                   "or teach tests/powershell/pscheck.py evaluate() about it" % error.what)
        return [Finding(shown, row + 1, None, "spec", message, src.lines[row] if row < len(src.lines) else None)]
    if not isinstance(spec, PsHash):
        return [Finding(shown, value_node.start_point.row + 1, None, "spec", "$spec is not a hashtable")]
    try:
        docs = load_docs(sidecar, shown_sidecar)
    except ValueError as error:
        return [Finding(shown, 1, None, "spec", str(error))]

    findings = []

    def report(line, message, docs=True):
        findings.append(Finding(shown, line, None, "spec", "%s (%s)" % (message, shown_sidecar) if docs else message))

    compare_options(spec.get_ci("options"), docs.get("options"), "", report)
    check_mode_doc = ((docs.get("attributes") or {}).get("check_mode") or {}).get("support")
    if check_mode_doc is None:
        report(spec.line_ci("supports_check_mode"), "docs do not declare attributes.check_mode.support")
    else:
        spec_check_mode = spec.get_ci("supports_check_mode", False)
        doc_check_mode = check_mode_doc in ("full", "partial")
        if spec_check_mode != doc_check_mode:
            report(spec.line_ci("supports_check_mode"),
                   "supports_check_mode %s != docs check_mode support %r" % (render(spec_check_mode), check_mode_doc))
    return sorted(findings, key=lambda finding: finding.line)


def pairing_findings(modules_dir, base=None):
    """A PowerShell module without a .yml sidecar, or a sidecar without its module."""
    modules_dir = Path(modules_dir)
    findings = []
    for sidecar in sorted(modules_dir.glob("*.yml")):
        if not sidecar.with_suffix(".ps1").exists():
            findings.append(Finding(display_path(sidecar, base), 1, None, "spec",
                                    "doc sidecar has no PowerShell module %s" % display_path(sidecar.with_suffix(".ps1"), base)))
    for module in sorted(modules_dir.glob("*.ps1")):
        if not module.with_suffix(".yml").exists():
            findings.append(Finding(display_path(module, base), 1, None, "spec",
                                    "module has no doc sidecar %s" % display_path(module.with_suffix(".yml"), base)))
    return findings


# --------------------------------------------------------------------------------------------------------------------
# Entry points

def source_findings(path, base=None, data=None):
    """Syntax and 5.1-compatibility findings of one .ps1/.psm1 file."""
    src = Source(path, Path(path).read_bytes() if data is None else data, display_path(path, base))
    renamable = [(offset, finding) for offset, finding in question_findings(src) if finding.check == "syntax"]
    compat = compat_findings(src)
    syntax = [finding for _offset, finding in renamable]
    syntax += syntax_findings(src, [offset for offset, _finding in renamable + compat])
    return sorted(syntax, key=lambda f: (f.line, f.col)) + [finding for _offset, finding in compat]


def is_module(path):
    path = Path(path)
    return path.suffix == ".ps1" and path.parent.name == "modules" and path.parent.parent.name == "plugins"


def discover(root):
    """PowerShell files and modules under ROOT/plugins, as sorted lists of paths."""
    plugins = Path(root) / "plugins"
    scripts = sorted(p for pattern in ("*.ps1", "*.psm1") for p in plugins.rglob(pattern))
    return scripts, [p for p in scripts if is_module(p)]


def main(argv):
    if not argv:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    findings = []
    for name in argv:
        findings.extend(source_findings(name))
        if Path(name).suffix == ".ps1" and Path(name).with_suffix(".yml").exists() or is_module(name):
            findings.extend(spec_findings(name))
    for finding in findings:
        print(finding)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
