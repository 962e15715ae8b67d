"""Put the collections the roles depend on (community.windows and its dependency ansible.windows) where Ansible finds them.

Galaxy is out of reach from the build machines, but the ``ansible`` package on PyPI bundles both collections. This
downloads that wheel once (into ``.cache/``, through pip and its normal index settings) and copies just those two
collections into ``COLLECTIONS_DIR/ansible_collections/`` (default ``.build/collections``). Nothing is done when they
are already there.

Usage: python tests/integration/roles/install_collection_dependencies.py [COLLECTIONS_DIR]
"""
import glob
import os
import shutil
import subprocess
import sys
import zipfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
# ansible 12.x bundles community.windows 3.x / ansible.windows 3.x and requires ansible-core 2.19, like this project.
WHEEL_REQUIREMENT = "ansible>=12.0.0,<13"
COLLECTIONS = ("community/windows", "ansible/windows")
CACHE_DIR = os.path.join(ROOT, ".cache", "collection-dependencies")


def installed(target):
    return all(os.path.isfile(os.path.join(target, "ansible_collections", c, "MANIFEST.json")) for c in COLLECTIONS)


def wheel_path():
    found = sorted(glob.glob(os.path.join(CACHE_DIR, "ansible-*.whl")))
    if found:
        return found[-1]
    os.makedirs(CACHE_DIR, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                    "--dest", CACHE_DIR, WHEEL_REQUIREMENT], check=True)
    found = sorted(glob.glob(os.path.join(CACHE_DIR, "ansible-*.whl")))
    if not found:
        raise SystemExit("pip did not download %s into %s" % (WHEEL_REQUIREMENT, CACHE_DIR))
    return found[-1]


def extract(wheel, target):
    prefixes = tuple("ansible_collections/%s/" % c for c in COLLECTIONS)
    staging = target + ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(wheel) as archive:
        members = [m for m in archive.namelist() if m.startswith(prefixes)]
        archive.extractall(staging, members)
    for collection in COLLECTIONS:
        destination = os.path.join(target, "ansible_collections", collection)
        shutil.rmtree(destination, ignore_errors=True)
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        shutil.move(os.path.join(staging, "ansible_collections", collection), destination)
    shutil.rmtree(staging, ignore_errors=True)


def main(argv):
    target = os.path.abspath(argv[1] if len(argv) > 1 else os.path.join(ROOT, ".build", "collections"))
    if not installed(target):
        extract(wheel_path(), target)
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
