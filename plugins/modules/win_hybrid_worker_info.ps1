#!powershell

# Copyright: (c) 2026, azure_automation.hybrid_worker maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ..module_utils.MonitoringAgent
#AnsibleRequires -PowerShell ..module_utils.HybridWorkerRegistry

# One read of everything the agent and worker roles compare with the inventory, so that a converged host costs a
# single WinRM module call. Nothing here changes the host.

$spec = @{
    options = @{
        powershell_modules = @{ type = 'list'; elements = 'str'; default = @() }
    }
    supports_check_mode = $true
}

$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

Function Get-RegistryValueOrNull {
    param([String]$Path, [String]$Name)

    if (-not (Test-Path -LiteralPath $Path)) {
        return $null
    }
    return (Get-Item -LiteralPath $Path).GetValue($Name)
}

Function Get-HostPrerequisite {
    # The facts win_log_analytics_agent checks before it installs (windows-host reference 3.8).
    $release = Get-RegistryValueOrNull -Path 'HKLM:\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full' -Name 'Release'
    $client = 'HKLM:\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2\Client'
    $clientEnabled = Get-RegistryValueOrNull -Path $client -Name 'Enabled'
    $clientDisabledByDefault = Get-RegistryValueOrNull -Path $client -Name 'DisabledByDefault'
    $strongCrypto = Get-RegistryValueOrNull -Path 'HKLM:\SOFTWARE\Microsoft\.NETFramework\v4.0.30319' -Name 'SchUseStrongCrypto'
    @{
        powershell_version = $PSVersionTable.PSVersion.ToString()
        dotnet_release = $release
        is_64bit_process = [Environment]::Is64BitProcess
        tls12_enabled = -not ((0 -eq $clientEnabled -and $null -ne $clientEnabled) -or ($null -ne $clientDisabledByDefault -and $clientDisabledByDefault -ne 0))
        # .NET 4.7 (release 460798) and later offer TLS 1.2 without SchUseStrongCrypto.
        strong_crypto = ($strongCrypto -eq 1) -or ($null -ne $release -and $release -ge 460798)
    }
}

Function Get-ExtensionWorkerState {
    # Extension-based (V2) worker traces: its service and registry keys. Keys without the service are the stale
    # leftovers that block a later extension install (windows-host reference 5.2).
    $keys = @(foreach ($path in @('HKLM:\SOFTWARE\Microsoft\HybridRunbookWorkerV2', 'HKLM:\SOFTWARE\Microsoft\Azure\HybridWorker')) {
            if (Test-Path -LiteralPath $path) {
                $path
            }
        })
    $service = Get-Service -Name HybridWorkerService -ErrorAction SilentlyContinue
    $status = $null
    if ($service) {
        $status = [String]$service.Status
    }
    @{
        service = $status
        registry_keys = $keys
        stale = ($keys.Count -gt 0 -and $null -eq $status)
    }
}

Function Get-InstalledPowerShellModule {
    param([String[]]$Name)

    if ($Name.Count -eq 0) {
        return @()
    }
    $found = @{}
    foreach ($entry in @(Get-Module -ListAvailable -Name $Name -ErrorAction SilentlyContinue)) {
        if (-not $found.ContainsKey($entry.Name)) {
            $found[$entry.Name] = [System.Collections.Generic.List[String]]@()
        }
        $version = $entry.Version.ToString()
        if (-not $found[$entry.Name].Contains($version)) {
            $found[$entry.Name].Add($version)
        }
    }
    @(foreach ($requested in $Name) {
            $match = @($found.Keys | Where-Object { $_ -eq $requested })
            $versions = @()
            if ($match.Count -gt 0) {
                $versions = @($found[$match[0]] | Sort-Object -Property { [Version]$_ })
            }
            @{ name = $requested; versions = $versions }
        })
}

$agent = Get-MonitoringAgentInstallation
$workspaces = @()
$proxyUrl = $null
$serviceStatus = $null
$registrationModule = $null
if ($agent.installed) {
    try {
        $configuration = New-Object -ComObject 'AgentConfigManager.MgmtSvcCfg'
    }
    catch {
        $module.FailJson("The Log Analytics agent $($agent.version) is installed but its configuration object AgentConfigManager.MgmtSvcCfg cannot be created: $($_.Exception.Message)", $_)
    }
    $workspaces = @(Get-MonitoringAgentWorkspace -Configuration $configuration)
    $proxyUrl = [String]$configuration.proxyUrl
    $serviceStatus = Get-HealthServiceStatus
    $registrationModule = Get-HybridRegistrationModule -AgentDirectory $agent.install_directory
}

$module.Result.agent = @{
    installed = $agent.installed
    version = $agent.version
    service = $serviceStatus
    proxy_url = $proxyUrl
    workspaces = $workspaces
}
$module.Result.hybrid_registration = @{ path = $null; version = $null }
if ($registrationModule) {
    $module.Result.hybrid_registration = @{ path = $registrationModule.path; version = $registrationModule.version }
}
$module.Result.worker_registrations = @(Get-HybridWorkerRegistration | ForEach-Object {
        @{ group = $_.group; account_id = $_.account_id; layout = $_.layout }
    })
$module.Result.extension_worker = Get-ExtensionWorkerState
$module.Result.prerequisites = Get-HostPrerequisite
$module.Result.powershell_modules = @(Get-InstalledPowerShellModule -Name @($module.Params.powershell_modules))
$module.Result.changed = $false
$module.ExitJson()
