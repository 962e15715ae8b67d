#!powershell

# Copyright: (c) 2026, azure_automation.hybrid_worker maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ..module_utils._ConnectedMachineAgent

$spec = @{
    options = @{
        state = @{ type = 'str'; default = 'present'; choices = @('absent', 'present') }
        installer_url = @{ type = 'str'; default = 'https://aka.ms/AzureConnectedMachineAgent' }
        installer_path = @{ type = 'str' }
        installer_checksum = @{ type = 'str' }
        validate_installer_checksum = @{ type = 'bool'; default = $true }
        tenant_id = @{ type = 'str' }
        subscription_id = @{ type = 'str' }
        resource_group = @{ type = 'str' }
        location = @{ type = 'str' }
        cloud = @{ type = 'str'; default = 'AzureCloud'; choices = @('AzureChinaCloud', 'AzureCloud', 'AzureUSGovernment') }
        resource_name = @{ type = 'str' }
        tags = @{ type = 'dict' }
        service_principal_id = @{ type = 'str' }
        service_principal_secret = @{ type = 'str'; no_log = $true }
        reconnect = @{ type = 'bool'; default = $false }
        force_local_only = @{ type = 'bool'; default = $false }
        uninstall = @{ type = 'bool'; default = $false }
        remove_stale_hybrid_worker_keys = @{ type = 'bool'; default = $true }
    }
    mutually_exclusive = @(, @('installer_url', 'installer_path'))
    required_if = @(
        , @('state', 'present', @('tenant_id', 'subscription_id', 'resource_group', 'location', 'service_principal_id'))
    )
    supports_check_mode = $true
}

$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$params = $module.Params
$installerSuccessCodes = @(0, 3010)
$guidPattern = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
$msiexec = Join-Path -Path $env:SystemRoot -ChildPath 'System32\msiexec.exe'

$module.Result.reboot_required = $false

Function Format-MachineText {
    param([String]$SubscriptionId, [String]$ResourceGroup, [String]$Name, [String]$Location)
    "'$Name' in resource group '$ResourceGroup' of subscription '$SubscriptionId' ($Location)"
}

Function ConvertTo-MachineKey {
    # Subscription, resource group, machine name and region, compared case-insensitively; 'West Europe' and
    # 'westeurope' name the same region.
    param([String]$SubscriptionId, [String]$ResourceGroup, [String]$Name, [String]$Location)
    $parts = @([String]$SubscriptionId, [String]$ResourceGroup, [String]$Name, ([String]$Location -replace '\s', ''))
    ($parts -join '|').ToLowerInvariant()
}

Function Get-AgentView {
    $installation = Get-ConnectedMachineAgent
    $view = @{
        installed = $installation.installed
        product_code = $installation.product_code
        azcmagent = $installation.azcmagent
        agent_version = $null
        status = $null
        resource_name = $null
        resource_group = $null
        subscription_id = $null
        location = $null
        tenant_id = $null
        cloud = $null
    }
    if ($installation.installed) {
        try {
            $shown = Get-ConnectedMachineAgentStatus -Path $installation.azcmagent
        }
        catch {
            $module.FailJson("azcmagent show failed: $($_.Exception.Message)", $_)
        }
        foreach ($name in @('agent_version', 'status', 'resource_name', 'resource_group', 'subscription_id', 'location', 'tenant_id', 'cloud')) {
            if ($shown[$name]) {
                $view[$name] = $shown[$name]
            }
        }
    }
    return $view
}

Function Set-AgentResult {
    param([Hashtable]$Agent)

    $module.Result.installed = $Agent.installed
    $module.Result.agent_version = $Agent.agent_version
    $module.Result.status = $Agent.status
    $module.Result.resource_name = $Agent.resource_name
    $module.Result.resource_group = $Agent.resource_group
    $module.Result.subscription_id = $Agent.subscription_id
    $module.Result.location = $Agent.location
    $module.Result.tenant_id = $Agent.tenant_id
    $module.Result.cloud = $Agent.cloud
    $module.Result.resource_id = $null
    if ($Agent.status -eq 'Connected') {
        $resourceGroupId = "/subscriptions/$($Agent.subscription_id)/resourceGroups/$($Agent.resource_group)"
        $module.Result.resource_id = "$resourceGroupId/providers/Microsoft.HybridCompute/machines/$($Agent.resource_name)"
    }
}

Function Set-HybridWorkerResult {
    param([String[]]$Removed)

    $state = Get-HybridWorkerExtensionState
    $module.Result.hybrid_worker = @{
        service = $state.service
        registry_keys = @($state.registry_keys)
        stale = $state.stale
        removed_registry_keys = @($Removed)
    }
}

Function Get-DiffView {
    param([Hashtable]$Agent, [String[]]$StaleKeys)
    @{
        installed = $Agent.installed
        agent_version = $Agent.agent_version
        status = $Agent.status
        subscription_id = $Agent.subscription_id
        resource_group = $Agent.resource_group
        resource_name = $Agent.resource_name
        location = $Agent.location
        stale_hybrid_worker_keys = @($StaleKeys)
    }
}

Function Invoke-WithConfiguration {
    # The settings file holds the service principal secret: it lives in the module's private temporary folder only
    # while azcmagent reads it, so the secret is never on a command line.
    param([String]$Command, [Hashtable]$Settings, [String[]]$MoreArguments = @())

    $directory = Join-Path -Path $module.Tmpdir -ChildPath ([Guid]::NewGuid().ToString('N'))
    try {
        $path = Write-AzcmagentConfiguration -Directory $directory -Settings $Settings
        return Invoke-Azcmagent -Path $agent.azcmagent -ArgumentList (@($Command, '--config', $path) + $MoreArguments)
    }
    finally {
        if (Test-Path -LiteralPath $directory) {
            Remove-Item -LiteralPath $directory -Recurse -Force
        }
    }
}

Function Invoke-Disconnect {
    param([Bool]$LocalOnly)

    if ($LocalOnly) {
        $run = Invoke-Azcmagent -Path $agent.azcmagent -ArgumentList @('disconnect', '--force-local-only')
    }
    else {
        $settings = @{
            'service-principal-id' = $params.service_principal_id
            'service-principal-secret' = $params.service_principal_secret
        }
        $run = Invoke-WithConfiguration -Command 'disconnect' -Settings $settings
    }
    if ($run.exit_code -ne 0) {
        $module.FailJson("azcmagent disconnect failed with exit code $($run.exit_code): $($run.output)")
    }
}

Function Invoke-Connect {
    param([String]$Name)

    $settings = @{
        'tenant-id' = $params.tenant_id
        'subscription-id' = $params.subscription_id
        'resource-group' = $params.resource_group
        'location' = $params.location
        'cloud' = $params.cloud
        'resource-name' = $Name
        'service-principal-id' = $params.service_principal_id
        'service-principal-secret' = $params.service_principal_secret
    }
    if ($params.tags -and $params.tags.Count -gt 0) {
        # The same form as the --tags flag: key=value pairs joined by commas.
        $settings['tags'] = (@($params.tags.Keys | Sort-Object | ForEach-Object { "$_=$($params.tags[$_])" }) -join ',')
    }
    $run = Invoke-WithConfiguration -Command 'connect' -Settings $settings
    if ($run.exit_code -ne 0) {
        $module.FailJson("azcmagent connect failed with exit code $($run.exit_code): $($run.output)")
    }
}

Function Install-Agent {
    $workDirectory = Join-Path -Path $module.Tmpdir -ChildPath 'connected-machine-agent'
    New-Item -Path $workDirectory -ItemType Directory -Force | Out-Null
    if ($params.installer_path) {
        if (-not (Test-Path -LiteralPath $params.installer_path -PathType Leaf)) {
            $module.FailJson("installer_path '$($params.installer_path)' does not exist or is not a file.")
        }
        $installer = $params.installer_path
    }
    else {
        $installer = Join-Path -Path $workDirectory -ChildPath 'AzureConnectedMachineAgent.msi'
        try {
            [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
            $client = New-Object -TypeName System.Net.WebClient
            $client.DownloadFile($params.installer_url, $installer)
        }
        catch {
            $module.FailJson("Failed to download the Azure Connected Machine agent installer from '$($params.installer_url)': $($_.Exception.Message)", $_)
        }
    }
    if ($params.installer_checksum) {
        $actual = (Get-FileHash -LiteralPath $installer -Algorithm SHA256).Hash.ToLowerInvariant()
        $expected = $params.installer_checksum.ToLowerInvariant()
        if ($actual -ne $expected) {
            $module.FailJson("The Azure Connected Machine agent installer '$installer' has SHA-256 $actual, not the expected installer_checksum $expected.")
        }
    }
    $log = Join-Path -Path $workDirectory -ChildPath 'install.log'
    $process = Start-Process -FilePath $msiexec -ArgumentList @('/i', "`"$installer`"", '/qn', '/norestart', '/l*v', "`"$log`"") -Wait -PassThru -NoNewWindow
    if ($installerSuccessCodes -notcontains $process.ExitCode) {
        $module.FailJson("The Azure Connected Machine agent installer exited with code $($process.ExitCode); its log is $log.")
    }
    if ($process.ExitCode -eq 3010) {
        $module.Result.reboot_required = $true
    }
    if (-not (Get-ConnectedMachineAgent).installed) {
        $module.FailJson("The Azure Connected Machine agent installer reported success but no 'Azure Connected Machine Agent' product is installed.")
    }
}

# --- input checks that need no host access ---------------------------------------------------------------------------
if ($params.installer_checksum -and $params.installer_checksum -notmatch '^[0-9a-fA-F]{64}$') {
    $module.FailJson("installer_checksum must be the installer's SHA-256 as 64 hexadecimal characters.")
}
if ($params.state -eq 'present' -and -not $params.installer_path -and -not $params.installer_checksum -and $params.validate_installer_checksum) {
    $module.FailJson("installer_checksum is required to download the agent from installer_url; give the installer's SHA-256 or set validate_installer_checksum to false.")
}
foreach ($option in @('tenant_id', 'subscription_id')) {
    $value = $params[$option]
    if ($value -and $value -notmatch $guidPattern) {
        $module.FailJson("$option '$value' is not a GUID.")
    }
}
if ($params.resource_name -and $params.resource_name -notmatch '^[a-zA-Z0-9\-_\.]{1,54}$') {
    $module.FailJson("resource_name '$($params.resource_name)' is not a valid Azure Arc machine name (1 to 54 letters, digits, '-', '_' or '.').")
}

# --- current state ---------------------------------------------------------------------------------------------------
$agent = Get-AgentView
$hybridWorker = Get-HybridWorkerExtensionState
$staleKeys = @()
if ($hybridWorker.stale) {
    $staleKeys = @($hybridWorker.registry_keys)
}
$before = Get-DiffView -Agent $agent -StaleKeys $staleKeys
$after = Get-DiffView -Agent $agent -StaleKeys $staleKeys
$removed = @()
Set-AgentResult -Agent $agent
Set-HybridWorkerResult -Removed $removed

# --- state: absent ---------------------------------------------------------------------------------------------------
if ($params.state -eq 'absent') {
    if ($agent.installed -and ($agent.status -eq 'Connected' -or $agent.resource_name)) {
        if (-not $params.force_local_only -and -not ($params.service_principal_id -and $params.service_principal_secret)) {
            $module.FailJson("Disconnecting deletes the Azure Arc machine '$($agent.resource_name)' and needs service_principal_id and service_principal_secret; set force_local_only to true to only reset the agent.")
        }
        $module.Result.changed = $true
        if (-not $module.CheckMode) {
            Invoke-Disconnect -LocalOnly $params.force_local_only
        }
        $after.status = 'Disconnected'
        $after.subscription_id = $null
        $after.resource_group = $null
        $after.resource_name = $null
        $after.location = $null
    }
    if ($agent.installed -and $params.uninstall) {
        $module.Result.changed = $true
        if (-not $module.CheckMode) {
            $process = Start-Process -FilePath $msiexec -ArgumentList @('/x', $agent.product_code, '/qn', '/norestart') -Wait -PassThru -NoNewWindow
            if ($installerSuccessCodes -notcontains $process.ExitCode) {
                $module.FailJson("Removing the Azure Connected Machine agent failed: msiexec exited with code $($process.ExitCode).")
            }
            $module.Result.reboot_required = ($process.ExitCode -eq 3010)
        }
        $after.installed = $false
        $after.agent_version = $null
        $after.status = $null
    }
    if (-not $module.CheckMode) {
        $agent = Get-AgentView
    }
    else {
        foreach ($name in @('installed', 'agent_version', 'status', 'subscription_id', 'resource_group', 'resource_name', 'location')) {
            $agent[$name] = $after[$name]
        }
    }
    Set-AgentResult -Agent $agent
    $module.Diff.before = $before
    $module.Diff.after = $after
    $module.ExitJson()
}

# --- state: present, connected elsewhere: refuse before changing anything, unless asked to move ----------------------
$name = $params.resource_name
if (-not $name) {
    $name = $env:COMPUTERNAME
}
$desired = ConvertTo-MachineKey -SubscriptionId $params.subscription_id -ResourceGroup $params.resource_group -Name $name -Location $params.location
$desiredText = Format-MachineText -SubscriptionId $params.subscription_id -ResourceGroup $params.resource_group -Name $name -Location $params.location
$current = $null
if ($agent.status -eq 'Connected') {
    $current = ConvertTo-MachineKey -SubscriptionId $agent.subscription_id -ResourceGroup $agent.resource_group -Name $agent.resource_name -Location $agent.location
}
if ($null -ne $current -and $current -ne $desired -and -not $params.reconnect) {
    $currentText = Format-MachineText -SubscriptionId $agent.subscription_id -ResourceGroup $agent.resource_group -Name $agent.resource_name `
        -Location $agent.location
    $module.FailJson("The Azure Connected Machine agent is connected as $currentText, not $desiredText; set reconnect to true to disconnect it from there and connect it as $desiredText.")
}

# --- state: present, the secret is needed only to connect: refuse before changing anything without it ----------------
# A caller that leaves it out when the agent is already connected as asked (win_hybrid_worker_extension_converge does)
# keeps it off hosts that do not use it; secret_required tells that caller to run the module again with it.
if ($current -ne $desired -and -not $params.service_principal_secret) {
    $module.Result.secret_required = $true
    $module.FailJson("Connecting the Azure Connected Machine agent as $desiredText needs service_principal_secret, which is not set.")
}

# --- state: present, stale extension-based worker keys ----------------------------------------------------------------
# Left behind when the extension was removed through Azure, they make its next install hang in Transitioning.
if ($staleKeys.Count -gt 0 -and $params.remove_stale_hybrid_worker_keys) {
    $module.Result.changed = $true
    if ($module.CheckMode) {
        $removed = $staleKeys
    }
    else {
        try {
            $removed = Remove-StaleHybridWorkerKey
        }
        catch {
            $module.FailJson("Failed to remove the stale extension-based worker registry keys: $($_.Exception.Message)", $_)
        }
    }
    $after.stale_hybrid_worker_keys = @()
}

# --- state: present, install -----------------------------------------------------------------------------------------
if (-not $agent.installed) {
    $module.Result.changed = $true
    $after.installed = $true
    $after.status = 'Disconnected'
    if (-not $module.CheckMode) {
        Install-Agent
        $agent = Get-AgentView
        $after.agent_version = $agent.agent_version
        Set-AgentResult -Agent $agent
    }
}

# --- state: present, connect -----------------------------------------------------------------------------------------
if ($current -ne $desired) {
    $module.Result.changed = $true
    if (-not $module.CheckMode) {
        if ($null -ne $current) {
            Invoke-Disconnect -LocalOnly $false
        }
        elseif ($agent.resource_name) {
            # Configured but no longer connected (its Azure resource was deleted): reset locally first.
            Invoke-Disconnect -LocalOnly $true
        }
        Invoke-Connect -Name $name
        $agent = Get-AgentView
    }
    else {
        $agent.installed = $true
        $agent.status = 'Connected'
        $agent.subscription_id = $params.subscription_id
        $agent.resource_group = $params.resource_group
        $agent.resource_name = $name
        $agent.location = $params.location
        $agent.tenant_id = $params.tenant_id
        $agent.cloud = $params.cloud
    }
    $after.status = 'Connected'
    $after.subscription_id = $agent.subscription_id
    $after.resource_group = $agent.resource_group
    $after.resource_name = $agent.resource_name
    $after.location = $agent.location
}

# --- results ---------------------------------------------------------------------------------------------------------
Set-AgentResult -Agent $agent
Set-HybridWorkerResult -Removed $removed
if ($module.CheckMode -and $removed.Count -gt 0) {
    $module.Result.hybrid_worker.registry_keys = @()
    $module.Result.hybrid_worker.stale = $false
}
$module.Diff.before = $before
$module.Diff.after = $after
$module.ExitJson()
