#!/usr/bin/env bash
# Lay out the collection where Ansible tools look for it, without moving the repository:
#   .build/collections/ansible_collections/azure_automation/hybrid_worker  -> symlink to the checkout
#       (for ansible-playbook, ansible-doc and pytest imports; ANSIBLE_COLLECTIONS_PATH=.build/collections)
#   .build/sanity.XXXX/ansible_collections/azure_automation/hybrid_worker    -> a copy of the tracked and
#       untracked-but-not-ignored files (ansible-test insists on running from a real path of that shape); one
#       folder per run, so two runs at once do not pull files from under each other
# Usage: collection_tree.sh link | copy
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
mode=${1:-link}
case "$mode" in
link)
    dest=$root/.build/collections/ansible_collections/azure_automation
    mkdir -p "$dest"
    ln -sfn "$root" "$dest/hybrid_worker"
    echo "$root/.build/collections"
    ;;
copy)
    mkdir -p "$root/.build"
    dest=$(mktemp -d "$root/.build/sanity.XXXXXX")/ansible_collections/azure_automation/hybrid_worker
    mkdir -p "$dest"
    cd "$root"
    git ls-files -z --cached --others --exclude-standard \
        | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
        | xargs -0 cp --parents -t "$dest"
    # ansible-test lists files through git; without a repository of its own the copy would be seen as part of
    # this checkout, where .build is ignored, and every target would be skipped.
    git -C "$dest" init -q
    git -C "$dest" add -A
    echo "$dest"
    ;;
*)
    echo "usage: $0 link|copy" >&2
    exit 2
    ;;
esac
