#!powershell

# Copyright: (c) 2026, azure_automation.hybrid_worker maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ..module_utils.MonitoringAgent
#AnsibleRequires -PowerShell ..module_utils.WindowsHost

$spec = @{
    options = @{
        state = @{ type = 'str'; default = 'present'; choices = @('absent', 'present') }
        installer_url = @{ type = 'str'; default = 'https://go.microsoft.com/fwlink/?LinkId=828603' }
        installer_path = @{ type = 'str' }
        installer_checksum = @{ type = 'str' }
        validate_installer_checksum = @{ type = 'bool'; default = $true }
        minimum_version = @{ type = 'str' }
        workspaces = @{
            type = 'list'
            elements = 'dict'
            default = @()
            options = @{
                id = @{ type = 'str'; required = $true }
                key = @{ type = 'str'; required = $true; no_log = $true }
                cloud = @{ type = 'str'; default = 'AzureCloud'; choices = @('AzureCloud', 'AzureUSGovernment') }
            }
        }
        remove_unlisted_workspaces = @{ type = 'bool'; default = $false }
        proxy_url = @{ type = 'str' }
        proxy_username = @{ type = 'str' }
        proxy_password = @{ type = 'str'; no_log = $true }
        fix_tls_settings = @{ type = 'bool'; default = $false }
    }
    mutually_exclusive = @(, @('installer_url', 'installer_path'))
    supports_check_mode = $true
}

$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$state = $module.Params.state
$installerUrl = $module.Params.installer_url
$installerPath = $module.Params.installer_path
$installerChecksum = $module.Params.installer_checksum
$minimumVersionText = $module.Params.minimum_version
$desiredWorkspaces = @($module.Params.workspaces)
$proxyUrl = $module.Params.proxy_url

# Process exit codes Windows Installer uses for success; 3010 asks for a reboot.
$installerSuccessCodes = @(0, 3010)
$minimumDotNetRelease = 394802  # .NET Framework 4.6.2
$cloudTypeCodes = @{ AzureCloud = 0; AzureUSGovernment = 1 }

$module.Result.reboot_required = $false
$module.Result.hybrid_registration_path = $null
$module.Result.hybrid_registration_version = $null
$module.Result.workspaces = @()
$module.Result.proxy_url = $null

Function Get-RegistryDword {
    param([String]$Path, [String]$Name)

    if (-not (Test-Path -LiteralPath $Path)) {
        return $null
    }
    return (Get-Item -LiteralPath $Path).GetValue($Name)
}

Function Get-TlsSetting {
    # What the agent needs for TLS 1.2: SCHANNEL's client side not disabled and, for .NET before 4.7 (release
    # 460798), SchUseStrongCrypto=1, without which .NET does not offer TLS 1.2 (windows-host reference 3.8).
    param([AllowNull()][Object]$DotNetRelease)

    $schannel = 'HKLM:\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2\Client'
    $enabled = Get-RegistryDword -Path $schannel -Name 'Enabled'
    $disabledByDefault = Get-RegistryDword -Path $schannel -Name 'DisabledByDefault'
    # The module and the agent run 64-bit, so the 64-bit registry view decides; the fix sets both views.
    $strongCryptoSet = (Get-RegistryDword -Path 'HKLM:\SOFTWARE\Microsoft\.NETFramework\v4.0.30319' -Name 'SchUseStrongCrypto') -eq 1

    @{
        tls12_enabled = -not (($null -ne $enabled -and $enabled -eq 0) -or ($null -ne $disabledByDefault -and $disabledByDefault -ne 0))
        strong_crypto = $strongCryptoSet -or ($null -ne $DotNetRelease -and $DotNetRelease -ge 460798)
    }
}

Function Set-TlsSetting {
    $schannel = 'HKLM:\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2\Client'
    if (-not (Test-Path -LiteralPath $schannel)) {
        New-Item -Path $schannel -Force | Out-Null
    }
    New-ItemProperty -LiteralPath $schannel -Name 'Enabled' -Value 1 -PropertyType DWord -Force | Out-Null
    New-ItemProperty -LiteralPath $schannel -Name 'DisabledByDefault' -Value 0 -PropertyType DWord -Force | Out-Null
    foreach ($path in @('HKLM:\SOFTWARE\Microsoft\.NETFramework\v4.0.30319', 'HKLM:\SOFTWARE\WOW6432Node\Microsoft\.NETFramework\v4.0.30319')) {
        if (-not (Test-Path -LiteralPath $path)) {
            New-Item -Path $path -Force | Out-Null
        }
        New-ItemProperty -LiteralPath $path -Name 'SchUseStrongCrypto' -Value 1 -PropertyType DWord -Force | Out-Null
    }
}

Function Get-Prerequisite {
    $release = Get-RegistryDword -Path 'HKLM:\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full' -Name 'Release'
    $tls = Get-TlsSetting -DotNetRelease $release
    @{
        powershell_version = $PSVersionTable.PSVersion.ToString()
        dotnet_release = $release
        is_64bit_process = [Environment]::Is64BitProcess
        tls12_enabled = $tls.tls12_enabled
        strong_crypto = $tls.strong_crypto
    }
}

Function Invoke-Installer {
    # Start-Process keeps arguments out of any shell parsing; nothing secret is ever passed here.
    param([String]$FilePath, [String[]]$ArgumentList, [String]$WorkingDirectory)

    $process = Start-Process -FilePath $FilePath -ArgumentList $ArgumentList -WorkingDirectory $WorkingDirectory -Wait -PassThru -NoNewWindow
    return $process.ExitCode
}

# --- input checks that need no host access -------------------------------------------------------------------------
$minimumVersion = $null
if ($minimumVersionText) {
    $minimumVersion = ConvertTo-AgentVersion -Value $minimumVersionText
    if (-not $minimumVersion) {
        $module.FailJson("minimum_version '$minimumVersionText' is not a version number such as 10.20.18029.0.")
    }
}
if ($installerChecksum -and $installerChecksum -notmatch '^[0-9a-fA-F]{64}$') {
    $module.FailJson("installer_checksum must be the installer's SHA-256 as 64 hexadecimal characters.")
}
if ($state -eq 'present' -and -not $installerPath -and -not $installerChecksum -and $module.Params.validate_installer_checksum) {
    $module.FailJson("installer_checksum is required to download the agent from installer_url; give the installer's SHA-256 or set validate_installer_checksum to false.")
}
$seenIds = @{}
foreach ($workspace in $desiredWorkspaces) {
    if ($workspace.id -notmatch '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$') {
        $module.FailJson("Workspace id '$($workspace.id)' is not a workspace ID (a GUID, the workspace's customer id).")
    }
    $workspace.id = $workspace.id.ToLowerInvariant()
    if ($seenIds.ContainsKey($workspace.id)) {
        $module.FailJson("Workspace id '$($workspace.id)' is listed more than once in workspaces.")
    }
    $seenIds[$workspace.id] = $true
    # A bad key would only show later as a workspace that never connects; the value is never part of the message.
    if (-not (Test-Base64String -Value $workspace.key)) {
        $module.FailJson("workspaces: the key of workspace '$($workspace.id)' is not a Log Analytics workspace key: expected the workspace's primary or secondary shared key, a Base64 string (letters, digits, + and / with = padding).")
    }
}
if (($module.Params.proxy_username -or $module.Params.proxy_password) -and $null -eq $proxyUrl) {
    $module.FailJson("proxy_username and proxy_password need proxy_url.")
}

# --- current state ---------------------------------------------------------------------------------------------------
$agent = Get-MonitoringAgentInstallation
$installedVersion = ConvertTo-AgentVersion -Value $agent.version
$module.Result.version = $agent.version

$before = @{ installed = $agent.installed; version = $agent.version; workspaces = @(); proxy_url = $null }
$configuration = $null
$currentWorkspaces = @()
if ($agent.installed) {
    try {
        $configuration = New-Object -ComObject 'AgentConfigManager.MgmtSvcCfg'
    }
    catch {
        $module.FailJson("The Log Analytics agent $($agent.version) is installed but its configuration object AgentConfigManager.MgmtSvcCfg cannot be created: $($_.Exception.Message)", $_)
    }
    $currentWorkspaces = @(Get-MonitoringAgentWorkspace -Configuration $configuration)
    $before.workspaces = @($currentWorkspaces | ForEach-Object { $_.id } | Sort-Object)
    $before.proxy_url = [String]$configuration.proxyUrl
}
$after = @{ installed = $before.installed; version = $before.version; workspaces = $before.workspaces; proxy_url = $before.proxy_url }
$currentProxyUrl = $before.proxy_url

# --- state: absent ---------------------------------------------------------------------------------------------------
if ($state -eq 'absent') {
    if ($agent.installed) {
        if (-not $module.CheckMode) {
            $msiexec = Join-Path -Path $env:SystemRoot -ChildPath 'System32\msiexec.exe'
            $exitCode = Invoke-Installer -FilePath $msiexec -ArgumentList @('/x', $agent.product_code, '/qn', '/norestart') -WorkingDirectory $env:SystemRoot
            if ($installerSuccessCodes -notcontains $exitCode) {
                $module.FailJson("Removing the Log Analytics agent $($agent.version) failed: msiexec exited with code $exitCode.")
            }
            $module.Result.reboot_required = ($exitCode -eq 3010)
        }
        $module.Result.changed = $true
        $module.Result.version = $null
        $after = @{ installed = $false; version = $null; workspaces = @(); proxy_url = $null }
    }
    $module.Diff.before = $before
    $module.Diff.after = $after
    $module.ExitJson()
}

# --- state: present, prerequisites -----------------------------------------------------------------------------------
$prerequisites = Get-Prerequisite
$missing = [System.Collections.ArrayList]@()
if ($PSVersionTable.PSVersion -lt [Version]'5.1') {
    [void]$missing.Add("Windows PowerShell 5.1 (found $($prerequisites.powershell_version))")
}
if ($null -eq $prerequisites.dotnet_release -or $prerequisites.dotnet_release -lt $minimumDotNetRelease) {
    [void]$missing.Add(".NET Framework 4.6.2 or later (release $minimumDotNetRelease, found $($prerequisites.dotnet_release))")
}
if (-not $prerequisites.is_64bit_process) {
    [void]$missing.Add("a 64-bit PowerShell process")
}
$tlsNeedsFix = (-not $prerequisites.tls12_enabled) -or (-not $prerequisites.strong_crypto)
if ($tlsNeedsFix -and -not $module.Params.fix_tls_settings) {
    [void]$missing.Add("TLS 1.2 (SCHANNEL TLS 1.2 client enabled, and SchUseStrongCrypto=1 for .NET before 4.7; set fix_tls_settings to true to configure them)")
}
if ($missing.Count -gt 0) {
    $module.Result.prerequisites = $prerequisites
    $module.FailJson("The host does not meet the Log Analytics agent prerequisites, missing: $($missing -join '; ').")
}
if ($tlsNeedsFix) {
    if (-not $module.CheckMode) {
        try {
            Set-TlsSetting
        }
        catch {
            $module.FailJson("Failed to enable TLS 1.2 in the registry: $($_.Exception.Message)", $_)
        }
        $module.Result.reboot_required = $true
    }
    $module.Result.changed = $true
    $prerequisites.tls12_enabled = $true
    $prerequisites.strong_crypto = $true
}
$module.Result.prerequisites = $prerequisites

# --- state: present, install or upgrade ------------------------------------------------------------------------------
$needsInstall = (-not $agent.installed) -or ($minimumVersion -and (-not $installedVersion -or $installedVersion -lt $minimumVersion))
if ($needsInstall) {
    $module.Result.changed = $true
    $after.installed = $true
    $after.version = $minimumVersionText
    if (-not $module.CheckMode) {
        $workDirectory = Join-Path -Path $module.Tmpdir -ChildPath 'log-analytics-agent'
        New-Item -Path $workDirectory -ItemType Directory -Force | Out-Null
        if ($installerPath) {
            if (-not (Test-Path -LiteralPath $installerPath -PathType Leaf)) {
                $module.FailJson("installer_path '$installerPath' does not exist or is not a file.")
            }
            $installer = $installerPath
        }
        else {
            $installer = Join-Path -Path $workDirectory -ChildPath 'MMASetup-AMD64.exe'
            try {
                [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
                $client = New-Object -TypeName System.Net.WebClient
                $client.DownloadFile($installerUrl, $installer)
            }
            catch {
                $module.FailJson("Failed to download the Log Analytics agent installer from '$installerUrl': $($_.Exception.Message)", $_)
            }
        }
        if ($installerChecksum) {
            $actualChecksum = (Get-FileHash -LiteralPath $installer -Algorithm SHA256).Hash.ToLowerInvariant()
            if ($actualChecksum -ne $installerChecksum.ToLowerInvariant()) {
                $module.FailJson("The Log Analytics agent installer '$installer' has SHA-256 $actualChecksum, not the expected installer_checksum $($installerChecksum.ToLowerInvariant()).")
            }
        }

        # Extract first (quietly: a prompt would hang a WinRM session), then run setup.exe: the self-extractor's own
        # command line is length limited and rejects some setup properties. The workspace is attached afterwards
        # through the configuration object so its key never appears on a command line.
        $extractDirectory = Join-Path -Path $workDirectory -ChildPath 'extracted'
        New-Item -Path $extractDirectory -ItemType Directory -Force | Out-Null
        $exitCode = Invoke-Installer -FilePath $installer -ArgumentList @('/c', "/t:`"$extractDirectory`"", '/q') -WorkingDirectory $workDirectory
        $setup = Join-Path -Path $extractDirectory -ChildPath 'setup.exe'
        if ($exitCode -ne 0 -or -not (Test-Path -LiteralPath $setup -PathType Leaf)) {
            $module.FailJson("Extracting the Log Analytics agent installer '$installer' failed (exit code $exitCode).")
        }
        if ($agent.installed) {
            # setup.exe does not upgrade an installed agent in place (the product code differs per release), so the
            # old build is removed first. Workspaces are attached again below; ones not listed cannot be (their keys
            # are not readable) and are named in a warning.
            $msiexec = Join-Path -Path $env:SystemRoot -ChildPath 'System32\msiexec.exe'
            $exitCode = Invoke-Installer -FilePath $msiexec -ArgumentList @('/x', $agent.product_code, '/qn', '/norestart') -WorkingDirectory $env:SystemRoot
            if ($installerSuccessCodes -notcontains $exitCode) {
                $module.FailJson("Removing the Log Analytics agent $($agent.version) before the upgrade failed: msiexec exited with code $exitCode.")
            }
            $dropped = @($currentWorkspaces | Where-Object { -not $seenIds.ContainsKey($_.id) } | ForEach-Object { $_.id })
            if ($dropped.Count -gt 0) {
                $module.Warn("Upgrading the Log Analytics agent detached workspace(s) not listed in workspaces: $($dropped -join ', ').")
            }
        }
        $setupArguments = @('/qn', 'NOAPM=1', 'ADD_OPINSIGHTS_WORKSPACE=0', 'AcceptEndUserLicenseAgreement=1')
        $exitCode = Invoke-Installer -FilePath $setup -ArgumentList $setupArguments -WorkingDirectory $extractDirectory
        if ($installerSuccessCodes -notcontains $exitCode) {
            $module.FailJson("The Log Analytics agent setup failed with exit code $exitCode; its logs are in C:\Windows\System32\config\systemprofile\AppData\Local\SCOM\Logs.")
        }
        if ($exitCode -eq 3010) {
            $module.Result.reboot_required = $true
        }

        $agent = Get-MonitoringAgentInstallation
        $installedVersion = ConvertTo-AgentVersion -Value $agent.version
        if (-not $agent.installed) {
            $module.FailJson("The Log Analytics agent setup reported success but no 'Microsoft Monitoring Agent' product is installed.")
        }
        if ($minimumVersion -and $installedVersion -lt $minimumVersion) {
            $module.FailJson("The installer provided the Log Analytics agent $($agent.version), older than minimum_version $minimumVersionText.")
        }
        $after.version = $agent.version
        $module.Result.version = $agent.version
        try {
            $configuration = New-Object -ComObject 'AgentConfigManager.MgmtSvcCfg'
        }
        catch {
            $module.FailJson("The Log Analytics agent $($agent.version) was installed but its configuration object AgentConfigManager.MgmtSvcCfg cannot be created: $($_.Exception.Message)", $_)
        }
        $currentWorkspaces = @(Get-MonitoringAgentWorkspace -Configuration $configuration)
        $currentProxyUrl = [String]$configuration.proxyUrl
    }
}

# --- state: present, workspaces and proxy ----------------------------------------------------------------------------
$currentById = @{}
foreach ($workspace in $currentWorkspaces) {
    $currentById[$workspace.id] = $workspace
}
$toAdd = @($desiredWorkspaces | Where-Object {
        (-not $currentById.ContainsKey($_.id)) -or ($currentById[$_.id].cloud -ne $_.cloud)
    })
$toRemove = @()
if ($module.Params.remove_unlisted_workspaces) {
    $toRemove = @($currentWorkspaces | Where-Object { -not $seenIds.ContainsKey($_.id) } | ForEach-Object { $_.id })
}
# A workspace attached for the wrong cloud is detached and attached again.
$toReattach = @($toAdd | Where-Object { $currentById.ContainsKey($_.id) } | ForEach-Object { $_.id })
$proxyChanges = ($null -ne $proxyUrl) -and ($proxyUrl -ne [String]$currentProxyUrl)

if ($toAdd.Count -gt 0 -or $toRemove.Count -gt 0 -or $proxyChanges) {
    $module.Result.changed = $true
    if (-not $module.CheckMode) {
        try {
            foreach ($id in @($toRemove) + @($toReattach)) {
                $null = $configuration.RemoveCloudWorkspace($id)
            }
            foreach ($workspace in $toAdd) {
                if ($workspace.cloud -eq 'AzureCloud') {
                    $null = $configuration.AddCloudWorkspace($workspace.id, $workspace.key)
                }
                else {
                    $null = $configuration.AddCloudWorkspace($workspace.id, $workspace.key, $cloudTypeCodes[$workspace.cloud])
                }
            }
            if ($proxyChanges) {
                $null = $configuration.SetProxyInfo($proxyUrl, [String]$module.Params.proxy_username, [String]$module.Params.proxy_password)
            }
            $null = $configuration.ReloadConfiguration()
        }
        catch {
            $module.FailJson("Failed to update the Log Analytics agent's workspaces or proxy through AgentConfigManager.MgmtSvcCfg: $($_.Exception.Message)", $_)
        }
    }
}
$afterIds = @($currentWorkspaces | ForEach-Object { $_.id } | Where-Object { $toRemove -notcontains $_ }) + @($toAdd | ForEach-Object { $_.id })
$after.workspaces = @($afterIds | Sort-Object -Unique)
$after.proxy_url = $currentProxyUrl
if ($proxyChanges) {
    $after.proxy_url = $proxyUrl
}
$module.Result.proxy_url = $after.proxy_url

# --- state: present, service -----------------------------------------------------------------------------------------
if ($agent.installed -or -not $module.CheckMode) {
    $serviceStatus = Get-HealthServiceStatus
    if ($null -eq $serviceStatus -and -not $module.CheckMode) {
        $module.FailJson("The Log Analytics agent is installed but its HealthService service does not exist.")
    }
    if ($serviceStatus -ne 'Running') {
        if (-not $module.CheckMode) {
            try {
                Start-Service -Name HealthService
            }
            catch {
                $module.FailJson("Failed to start the HealthService service: $($_.Exception.Message)", $_)
            }
        }
        $module.Result.changed = $true
    }
}

# --- results ---------------------------------------------------------------------------------------------------------
if ($configuration -and -not $module.CheckMode) {
    $module.Result.workspaces = @(Get-MonitoringAgentWorkspace -Configuration $configuration | ForEach-Object {
            @{ id = $_.id; connection_status = $_.connection_status; connected = $_.connected; cloud = $_.cloud }
        })
}
else {
    $module.Result.workspaces = @($after.workspaces | ForEach-Object {
            $id = $_
            $known = $currentById[$id]
            if ($known) {
                @{ id = $id; connection_status = $known.connection_status; connected = $known.connected; cloud = $known.cloud }
            }
            else {
                @{ id = $id; connection_status = $null; connected = $false; cloud = ($desiredWorkspaces | Where-Object { $_.id -eq $id }).cloud }
            }
        })
}
if ($agent.installed) {
    $registration = Get-HybridRegistrationModule -AgentDirectory $agent.install_directory
    if ($registration) {
        $module.Result.hybrid_registration_path = $registration.path
        $module.Result.hybrid_registration_version = $registration.version
    }
}
$module.Diff.before = $before
$module.Diff.after = $after
$module.ExitJson()
