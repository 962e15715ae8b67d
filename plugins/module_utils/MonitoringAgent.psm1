# Copyright: (c) 2026, azure_automation.hybrid_worker maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# Read-only probes of the Log Analytics agent (Microsoft Monitoring Agent) shared by the collection's Windows
# modules. Nothing here changes the host.

#AnsibleRequires -PowerShell ..module_utils.WindowsHost

$script:AgentDisplayName = 'Microsoft Monitoring Agent'
$script:AgentSetupKey = 'HKLM:\SOFTWARE\Microsoft\Microsoft Operations Manager\3.0\Setup'
$script:ServiceConnectorKey = 'HKLM:\SYSTEM\CurrentControlSet\Services\HealthService\Parameters\Service Connector Services'

Function ConvertTo-AgentVersion {
    <#
    .SYNOPSIS
    Parses a version string, returning $null for anything that is not a dotted version.
    #>
    param([AllowNull()][AllowEmptyString()][String]$Value)

    $parsed = $null
    if ($Value -and [Version]::TryParse($Value.Trim(), [ref]$parsed)) {
        return $parsed
    }
    return $null
}

Function Get-MonitoringAgentInstallation {
    <#
    .SYNOPSIS
    Finds the installed Log Analytics agent by its uninstall entry.

    .DESCRIPTION
    The product code changes with every agent release and differs between x86 and x64 builds, so the agent is
    identified by DisplayName and its DisplayVersion, never by a fixed product code.
    Returns a hashtable with installed, version, product_code and install_directory.
    #>
    [CmdletBinding()]
    param()

    $entry = Get-UninstallEntry -DisplayName $script:AgentDisplayName

    $installDirectory = Join-Path -Path $env:ProgramFiles -ChildPath 'Microsoft Monitoring Agent\Agent'
    if (Test-Path -LiteralPath $script:AgentSetupKey) {
        $configured = (Get-Item -LiteralPath $script:AgentSetupKey).GetValue('InstallDirectory')
        if ($configured) {
            $installDirectory = $configured.TrimEnd('\')
        }
    }

    if (-not $entry) {
        return @{
            installed = $false
            version = $null
            product_code = $null
            install_directory = $installDirectory
        }
    }

    return @{
        installed = $true
        version = [String]$entry.GetValue('DisplayVersion')
        product_code = $entry.PSChildName
        install_directory = $installDirectory
    }
}

Function Get-HybridRegistrationModule {
    <#
    .SYNOPSIS
    Locates the newest HybridRegistration module the workspace pushed to the agent.

    .DESCRIPTION
    Several AzureAutomation\<version> folders can coexist after solution updates; the newest is chosen by version
    number (not by name or by LastWriteTime). Returns a hashtable with path and version, or $null when the module
    has not arrived yet.

    .PARAMETER AgentDirectory
    The agent's install directory (...\Microsoft Monitoring Agent\Agent).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][String]$AgentDirectory)

    $automationDirectory = Join-Path -Path $AgentDirectory -ChildPath 'AzureAutomation'
    if (-not (Test-Path -LiteralPath $automationDirectory -PathType Container)) {
        return $null
    }

    $candidates = foreach ($folder in (Get-ChildItem -LiteralPath $automationDirectory -Directory -ErrorAction SilentlyContinue)) {
        $version = ConvertTo-AgentVersion -Value $folder.Name
        $manifest = Join-Path -Path $folder.FullName -ChildPath 'HybridRegistration\HybridRegistration.psd1'
        if ($version -and (Test-Path -LiteralPath $manifest -PathType Leaf)) {
            [PSCustomObject]@{ Version = $version; Path = $manifest }
        }
    }

    $newest = @($candidates | Sort-Object -Property Version -Descending) | Select-Object -First 1
    if (-not $newest) {
        return $null
    }
    return @{
        path = $newest.Path
        version = $newest.Version.ToString()
    }
}

Function Get-LogAnalyticsWorkspaceConnection {
    <#
    .SYNOPSIS
    Reads the agent's registry mirror of one workspace connection.

    .DESCRIPTION
    Returns a hashtable with connection_status (0 means connected, $null when the agent has not written it yet)
    and cloud (AzureCloud or AzureUSGovernment).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][String]$WorkspaceId)

    $status = $null
    $cloud = 'AzureCloud'
    $path = Join-Path -Path $script:ServiceConnectorKey -ChildPath "Log Analytics - $WorkspaceId"
    if (Test-Path -LiteralPath $path) {
        $key = Get-Item -LiteralPath $path
        $rawStatus = $key.GetValue('Connection Status')
        if ($null -ne $rawStatus) {
            $status = [Int64]$rawStatus
        }
        if ([String]$key.GetValue('Azure Cloud Type') -eq '1') {
            $cloud = 'AzureUSGovernment'
        }
    }
    return @{
        connection_status = $status
        cloud = $cloud
    }
}

Function Get-MonitoringAgentWorkspace {
    <#
    .SYNOPSIS
    Lists the workspaces attached to the agent through its configuration object.

    .PARAMETER Configuration
    An AgentConfigManager.MgmtSvcCfg COM object.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][Object]$Configuration)

    foreach ($workspace in @($Configuration.GetCloudWorkspaces())) {
        $id = [String]$workspace.workspaceId
        if (-not $id) {
            continue
        }
        $connection = Get-LogAnalyticsWorkspaceConnection -WorkspaceId $id
        @{
            id = $id.ToLowerInvariant()
            connection_status = $connection.connection_status
            connected = ($connection.connection_status -eq 0)
            cloud = $connection.cloud
        }
    }
}

Function Get-HealthServiceStatus {
    <#
    .SYNOPSIS
    Returns Running, Stopped (or another service status) or $null when the HealthService service does not exist.
    #>
    [CmdletBinding()]
    param()

    $service = Get-Service -Name HealthService -ErrorAction SilentlyContinue
    if (-not $service) {
        return $null
    }
    return [String]$service.Status
}

$exportMembers = @{
    Function = 'ConvertTo-AgentVersion', 'Get-MonitoringAgentInstallation', 'Get-HybridRegistrationModule',
    'Get-LogAnalyticsWorkspaceConnection', 'Get-MonitoringAgentWorkspace', 'Get-HealthServiceStatus'
}
Export-ModuleMember @exportMembers
