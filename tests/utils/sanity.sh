#!/usr/bin/env bash
# `ansible-test sanity` on a copy of the collection, offline-friendly.
#
# ansible-test builds a virtualenv per sanity test and bootstraps pip in it with get-pip.py downloaded from the
# Ansible CI file server, which is out of reach here. A private HOME holds a stand-in that bootstraps pip with
# ensurepip instead; ansible-test drops PIP_* variables, so package index settings come from pip's config files.
#
# pwsh is not available, so two things cannot run here and are skipped *here* (never through ignore files):
#   - pslint (it skips itself without pwsh);
#   - the part of validate-modules that runs PowerShell modules under pwsh to read their $spec. validate-modules
#     still runs over every non-PowerShell plugin file and the .yml doc sidecars; tests/powershell compares each
#     $spec with its sidecar instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=$root/.venv
python_version=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

home=$root/.cache/ansible-test-home
stub=$home/.ansible/test/cache/get_pip_24_2.py
mkdir -p "$(dirname "$stub")"
cat > "$stub" <<'PY'
"""Stand-in for get-pip.py: bootstrap pip from the wheel bundled with Python instead of downloading it."""
import ensurepip
import os
import sys

ensurepip.bootstrap(upgrade=True)
os.environ.pop("PIP_CONFIG_FILE", None)  # ensurepip points it at /dev/null; let pip read its normal config again
# get-pip.py options that pip itself does not know
GET_PIP_ONLY = {"--disable-pip-version-check", "--no-setuptools", "--no-wheel"}
requirements = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
if requirements:
    os.execv(sys.executable, [sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + requirements)
PY
# Carry the pip settings of the user running make test (index, certificates) into the private HOME.
if [ -f "${HOME:-/nonexistent}/.config/pip/pip.conf" ]; then
    mkdir -p "$home/.config/pip"
    cp "$HOME/.config/pip/pip.conf" "$home/.config/pip/pip.conf"
fi

tree=$("$root/tests/utils/collection_tree.sh" copy)
trap 'rm -rf "${tree%/ansible_collections/*}"' EXIT
cd "$tree"
export HOME=$home
export PATH=$venv/bin:$PATH

common=(--python "$python_version" --color no)
# Keep the log readable: drop pip's chatter while ansible-test builds its per-test virtualenvs.
quiet_pip() {
    grep --line-buffered -v -E '^ *(Collecting|Downloading|Processing|Looking in|Installing collected|Successfully (un)?installed|Attempting uninstall|Found existing|Uninstalling|Using cached|Requirement already)|^WARNING: Location .* is ignored|━' || true
}
ansible-test sanity "${common[@]}" --skip-test validate-modules --skip-test pslint "$@" 2>&1 | quiet_pip

mapfile -t non_powershell < <(git -C "$root" ls-files --cached --others --exclude-standard -- 'plugins/**' \
    | grep -v -E '\.(ps1|psm1|cs)$' | grep -v -E '(^|/)__init__\.py$' || true)
if [ "${#non_powershell[@]}" -gt 0 ]; then
    ansible-test sanity "${common[@]}" --test validate-modules "${non_powershell[@]}" 2>&1 | quiet_pip
else
    echo "validate-modules: no plugin files yet"
fi
