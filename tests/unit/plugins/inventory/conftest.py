"""Inventory plugins are found through Ansible's collection loader; these tests install it for their own duration.

The other unit tests import the collection as a plain namespace package (PYTHONPATH). The loader cannot serve a
package that is already imported that way, so the plain modules are set aside while these tests run and put back
afterwards: each side keeps seeing the module objects it imported.
"""
import os
import sys

import pytest

from ansible.plugins.loader import init_plugin_loader
from ansible.utils.collection_loader import AnsibleCollectionConfig
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

# The checkout sits at <root>/ansible_collections/azure_automation/hybrid_worker when the tests run.
COLLECTIONS_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *([".."] * 7)))
PLUGIN = "azure_automation.hybrid_worker.hybrid_workers"


def _collection_modules():
    return dict((name, module) for name, module in sys.modules.items() if name == "ansible_collections" or name.startswith("ansible_collections."))


@pytest.fixture(scope="package", autouse=True)
def collection_loader():
    installed_before = AnsibleCollectionConfig.collection_finder is not None
    set_aside = {} if installed_before else _collection_modules()
    for name in set_aside:
        del sys.modules[name]
    if not installed_before:
        init_plugin_loader([COLLECTIONS_ROOT])
    yield
    if not installed_before:
        _AnsibleCollectionFinder._remove()
        for name in _collection_modules():
            del sys.modules[name]
        sys.modules.update(set_aside)


@pytest.fixture
def plugin_module(collection_loader):
    """The plugin's Python module as the collection loader imported it (the one the inventory code runs)."""
    from ansible.plugins.loader import inventory_loader

    plugin = inventory_loader.get(PLUGIN)
    return sys.modules[type(plugin).__module__]
