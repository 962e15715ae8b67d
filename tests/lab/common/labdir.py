"""The lab folder: where every lab component keeps its state, certificates, logs and the shared ``lab.json``."""
import json
import os
import tempfile

PROJECT_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DEFAULT_DIR = os.path.join(PROJECT_ROOT, "lab")


def lab_json_path(lab_dir):
    return os.path.join(lab_dir, "lab.json")


def read_lab_json(lab_dir):
    try:
        with open(lab_json_path(lab_dir), encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return {}


def write_json_atomic(path, data):
    """Write JSON so that a reader never sees half a file (the lab's processes read each other's files)."""
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.replace(tmp, path)


def write_lab_json(lab_dir, lab):
    write_json_atomic(lab_json_path(lab_dir), lab)
