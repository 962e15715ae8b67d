# -*- coding: utf-8 -*-
# Copyright: contributors to the azure_automation.hybrid_worker collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Authentication, endpoint and request options shared by every Azure module of the collection.
    MODULES = r"""
options:
  auth_source:
    description:
      - Where the credentials come from.
      - V(auto) uses O(client_id), O(secret) and O(tenant) when all three are set (directly or through their
        environment variables), else the credentials file when it exists, else the Azure CLI login.
      - V(env) reads only the environment variables C(AZURE_TENANT), C(AZURE_CLIENT_ID) and C(AZURE_SECRET).
      - V(credential) uses the O(client_id), O(secret) and O(tenant) options.
      - V(credential_file) reads the O(profile) section of C(~/.azure/credentials) (keys C(subscription_id),
        C(client_id), C(secret), C(tenant), C(cloud_environment)).
      - V(cli) uses the Azure CLI login (C(az login)); the subscription defaults to the CLI's default one.
      - V(msi) uses the managed identity of the machine running the module (O(client_id) picks a user-assigned one).
      - The environment variable E(ANSIBLE_AZURE_AUTH_SOURCE) sets it too.
    type: str
    default: auto
    choices: [auto, env, cli, credential_file, msi, credential]
  subscription_id:
    description:
      - The subscription that holds the resources.
      - Falls back to the environment variable E(AZURE_SUBSCRIPTION_ID).
    type: str
  client_id:
    description:
      - The application (client) id of the service principal, or of the user-assigned managed identity with
        O(auth_source=msi).
      - Falls back to the environment variable E(AZURE_CLIENT_ID).
    type: str
  secret:
    description:
      - The service principal's client secret.
      - Falls back to the environment variables E(AZURE_SECRET) or E(AZURE_CLIENT_SECRET).
    type: str
  tenant:
    description:
      - The Microsoft Entra tenant id of the service principal.
      - Falls back to the environment variables E(AZURE_TENANT) or E(AZURE_TENANT_ID).
    type: str
  profile:
    description:
      - The section of C(~/.azure/credentials) to use with O(auth_source=credential_file); C(default) when unset.
      - Falls back to the environment variable E(AZURE_PROFILE).
    type: str
  cloud_environment:
    description:
      - The Azure cloud, which sets the default sign-in, Resource Manager and Log Analytics endpoints and token
        audiences.
      - Falls back to the environment variable E(AZURE_CLOUD_ENVIRONMENT).
    type: str
    default: AzureCloud
    choices: [AzureCloud, AzureUSGovernment, AzureChinaCloud]
  authority_host:
    description:
      - The Microsoft Entra sign-in endpoint, overriding the cloud's (for example C(https://login.microsoftonline.com)).
      - Instance discovery is turned off for an authority that is not one of the known clouds'.
      - Falls back to the environment variable E(AZURE_AUTHORITY_HOST).
    type: str
  resource_manager_url:
    description:
      - The Azure Resource Manager endpoint, overriding the cloud's (for example C(https://management.azure.com)).
      - Tokens are still requested for the cloud's Resource Manager audience.
      - Falls back to the environment variable E(AZURE_RESOURCE_MANAGER_URL).
    type: str
  log_analytics_url:
    description:
      - The Log Analytics query API endpoint, overriding the cloud's (for example C(https://api.loganalytics.io)).
      - Falls back to the environment variable E(AZURE_LOG_ANALYTICS_URL).
    type: str
  ca_bundle:
    description:
      - A PEM file of certificate authorities to trust for every Azure request, instead of the system's.
      - Falls back to the environment variable E(AZURE_CA_BUNDLE).
    type: path
  polling_interval:
    description:
      - Seconds between two status checks while waiting for a long-running operation.
      - A C(Retry-After) header from the service takes precedence.
    type: int
    default: 10
  wait_timeout:
    description:
      - Seconds to wait at most for a long-running operation (creating or deleting a workspace, a link) to finish.
    type: int
    default: 900
  max_retries:
    description:
      - How many times a throttled (429, honouring C(Retry-After)) or transiently failed (5xx) request is retried.
    type: int
    default: 6
requirements:
  - python >= 3.9
  - azure-identity >= 1.15.0
  - azure-mgmt-automation >= 2.0.0
  - azure-mgmt-loganalytics >= 14.0.0
notes:
  - All Azure modules of this collection are in the action group C(azure_automation.hybrid_worker.azure), so
    C(module_defaults) can set the authentication options once for a play.
  - Secrets given as options are never returned; module results that carry keys say so, and the tasks that
    request them should set C(no_log).
  - The module runs in the controller's process, without starting a new Python, when the task runs on the
    controller (the implicit C(localhost), or C(delegate_to=localhost)) over the C(local) connection, without
    C(become) or C(async), and the host's Python interpreter (C(ansible_python_interpreter)) is the one running
    C(ansible-playbook); the arguments, result, check mode, diff, C(environment) and C(module_defaults) are the same
    as when it runs as a module, which it does in every other case. C(-vvv) names the way it ran.
"""
