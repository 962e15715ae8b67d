# Copyright: (c) 2026, azure_automation.hybrid_worker maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# The Azure Connected Machine (Arc) agent and the extension-based Hybrid Runbook Worker's on-host state, for
# win_connected_machine_agent.

#AnsibleRequires -PowerShell ..module_utils.WindowsHost

$script:AgentDisplayName = 'Azure Connected Machine Agent'
$script:HybridWorkerKeys = @(
    'HKLM:\SOFTWARE\Microsoft\HybridRunbookWorkerV2',
    'HKLM:\SOFTWARE\Microsoft\Azure\HybridWorker'
)
$script:HybridWorkerService = 'HybridWorkerService'
$script:HybridWorkerPluginFolder = 'C:\Packages\Plugins\Microsoft.Azure.Automation.HybridWorker.HybridWorkerForWindows'

Function Get-ConnectedMachineAgent {
    <#
    .SYNOPSIS
    Finds the installed Azure Connected Machine agent by its uninstall entry and the path of azcmagent.exe.

    .DESCRIPTION
    Returns a hashtable with installed, version, product_code and azcmagent (the executable's full path).
    #>
    [CmdletBinding()]
    param()

    $entry = Get-UninstallEntry -DisplayName $script:AgentDisplayName
    $azcmagent = Join-Path -Path $env:ProgramFiles -ChildPath 'AzureConnectedMachineAgent\azcmagent.exe'
    if (-not $entry) {
        return @{ installed = $false; version = $null; product_code = $null; azcmagent = $azcmagent }
    }
    return @{
        installed = $true
        version = [String]$entry.GetValue('DisplayVersion')
        product_code = $entry.PSChildName
        azcmagent = $azcmagent
    }
}

Function Invoke-Azcmagent {
    <#
    .SYNOPSIS
    Runs azcmagent.exe with the given arguments; returns its exit code and its output as one string.

    .PARAMETER Path
    Full path of azcmagent.exe.

    .PARAMETER ArgumentList
    The arguments. Never put a secret here: pass it through a --config file.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)][String]$Path,
        [Parameter(Mandatory = $true)][String[]]$ArgumentList
    )

    # Windows PowerShell 5.1 turns each stderr line of a native command into an error record; with the module's
    # ErrorActionPreference of Stop the first one would end the module instead of being reported with the exit code.
    $ErrorActionPreference = 'Continue'
    $output = & $Path @ArgumentList 2>&1 | ForEach-Object { [String]$_ } | Out-String
    return @{ exit_code = $LASTEXITCODE; output = $output.Trim() }
}

Function Get-ConnectedMachineAgentStatus {
    <#
    .SYNOPSIS
    What azcmagent show -j reports: status, resource coordinates and agent version.

    .PARAMETER Path
    Full path of azcmagent.exe.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][String]$Path)

    $run = Invoke-Azcmagent -Path $Path -ArgumentList @('show', '-j')
    if ($run.exit_code -ne 0) {
        throw "exit code $($run.exit_code): $($run.output)"
    }
    $shown = $run.output | ConvertFrom-Json
    @{
        status = [String]$shown.status
        resource_name = [String]$shown.resourceName
        resource_group = [String]$shown.resourceGroup
        subscription_id = [String]$shown.subscriptionId
        tenant_id = [String]$shown.tenantId
        location = [String]$shown.location
        cloud = [String]$shown.cloud
        agent_version = [String]$shown.agentVersion
    }
}

Function Write-AzcmagentConfiguration {
    <#
    .SYNOPSIS
    Writes the settings for azcmagent --config to a new JSON file in Directory (UTF-8, no BOM) and returns its path.

    .DESCRIPTION
    The file holds the service principal secret: the caller deletes it as soon as azcmagent has read it.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)][String]$Directory,
        [Parameter(Mandatory = $true)][Hashtable]$Settings
    )

    if (-not (Test-Path -LiteralPath $Directory)) {
        New-Item -Path $Directory -ItemType Directory -Force | Out-Null
    }
    $path = Join-Path -Path $Directory -ChildPath 'azcmagent-config.json'
    $encoding = New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false
    [System.IO.File]::WriteAllText($path, ($Settings | ConvertTo-Json -Compress), $encoding)
    return $path
}

Function Get-HybridWorkerExtensionState {
    <#
    .SYNOPSIS
    The extension-based worker's on-host state: HybridWorkerService, its registry keys, and whether they are stale.

    .DESCRIPTION
    Stale means the registry keys exist but the service does not: what removing the extension through Azure leaves
    behind, and what makes the next install of the extension hang in Transitioning.
    #>
    [CmdletBinding()]
    param()

    $keys = @($script:HybridWorkerKeys | Where-Object { Test-Path -LiteralPath $_ })
    $service = Get-Service -Name $script:HybridWorkerService -ErrorAction SilentlyContinue
    $serviceStatus = $null
    if ($service) {
        $serviceStatus = $service.Status.ToString()
    }
    @{
        service = $serviceStatus
        registry_keys = $keys
        stale = ($keys.Count -gt 0) -and ($null -eq $service)
    }
}

Function Remove-StaleHybridWorkerKey {
    <#
    .SYNOPSIS
    Deletes the extension-based worker's registry keys and leftover plugin folder, only when the service is gone.

    .DESCRIPTION
    Returns the registry keys it removed (none when the state is not stale, so a working extension is never touched).
    #>
    [CmdletBinding()]
    param()

    $state = Get-HybridWorkerExtensionState
    if (-not $state.stale) {
        return , @()
    }
    foreach ($key in $state.registry_keys) {
        Remove-Item -LiteralPath $key -Recurse -Force
    }
    if (Test-Path -LiteralPath $script:HybridWorkerPluginFolder) {
        Remove-Item -LiteralPath $script:HybridWorkerPluginFolder -Recurse -Force
    }
    return , @($state.registry_keys)
}

$exportMembers = @{
    Function = 'Get-ConnectedMachineAgent', 'Invoke-Azcmagent', 'Get-ConnectedMachineAgentStatus',
    'Write-AzcmagentConfiguration', 'Get-HybridWorkerExtensionState', 'Remove-StaleHybridWorkerKey'
}
Export-ModuleMember @exportMembers
