#!powershell

# Copyright: (c) 2026, azure_automation.hybrid_worker maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ..module_utils.MonitoringAgent
#AnsibleRequires -PowerShell ..module_utils.HybridWorkerRegistry
#AnsibleRequires -PowerShell ..module_utils.WindowsHost

$spec = @{
    options = @{
        state = @{ type = 'str'; default = 'present'; choices = @('absent', 'present') }
        group_name = @{ type = 'str' }
        url = @{ type = 'str'; required = $true }
        key = @{ type = 'str'; required = $true; no_log = $true }
        wait_timeout = @{ type = 'int'; default = 600 }
    }
    required_if = @(, @('state', 'present', @(, 'group_name')))
    supports_check_mode = $true
}

$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$state = $module.Params.state
$groupName = $module.Params.group_name
$url = $module.Params.url
$key = $module.Params.key
$waitTimeout = $module.Params.wait_timeout
$pollSeconds = 5

$module.Result.registered = $false
$module.Result.group = $null
$module.Result.previous_group = $null
$module.Result.account_id = $null

Function Restart-HealthService {
    # The agent re-reads the worker registry when it starts; without this a re-registration after a manual cleanup
    # still fails with "Machine is already registered".
    Restart-Service -Name HealthService -Force -ErrorAction Stop
}

Function Get-RegistrationFailureHint {
    param([String]$Message)

    if ($Message -match '401|Unauthorized') {
        return 'the registration key is wrong or was regenerated, or the URL belongs to another Automation account'
    }
    if ($Message -match '403|Forbidden') {
        return 'the machine clock may be more than 15 minutes off, or the agent service refuses this machine (see the Hybrid Runbook Worker troubleshooting guide)'
    }
    return 'see the Microsoft-SMA and Operations Manager event logs on the host'
}

# --- input checks that need no host access -------------------------------------------------------------------------
$accountId = Get-AutomationAccountIdFromUrl -Url $url
if (-not $accountId) {
    $module.FailJson("url '$url' is not an Automation account registration URL (https://.../accounts/<account id>).")
}
if ($waitTimeout -lt 0) {
    $module.FailJson("wait_timeout must be 0 or more seconds.")
}
if ($state -eq 'present' -and $groupName -notmatch '^[^<>*%&:\\?/+]{1,128}$') {
    $module.FailJson("group_name '$groupName' is not a valid Hybrid Runbook Worker group name (1 to 128 characters, none of <>*%&:\?/+).")
}
# Checked here so a mistyped key fails before the host is read, not later as a 401 of the agent service; the value
# itself is never part of the message.
if (-not (Test-Base64String -Value $key)) {
    $module.FailJson("key is not an Automation account registration key: expected the account's primary or secondary access key, a Base64 string (letters, digits, + and / with = padding).")
}

# --- current state ---------------------------------------------------------------------------------------------------
$registrations = @(Get-HybridWorkerRegistration)
$current = $registrations | Select-Object -First 1
if ($current) {
    $module.Result.registered = $true
    $module.Result.group = $current.group
    $module.Result.account_id = $current.account_id
}
$before = @{ registered = [bool]$current; group = $module.Result.group; account_id = $module.Result.account_id }

Function Test-Converged {
    if ($state -eq 'absent') {
        return $registrations.Count -eq 0
    }
    if ($registrations.Count -ne 1) {
        return $false
    }
    # The legacy layout does not record the account, so only the group can be compared there.
    return ($current.group -eq $groupName) -and ($null -eq $current.account_id -or $current.account_id -eq $accountId)
}

if (Test-Converged) {
    $module.Diff.before = $before
    $module.Diff.after = $before
    $module.ExitJson()
}

$module.Result.changed = $true
if ($state -eq 'absent') {
    $after = @{ registered = $false; group = $null; account_id = $null }
}
else {
    $after = @{ registered = $true; group = $groupName; account_id = $accountId }
}
$module.Diff.before = $before
$module.Diff.after = $after
if ($current -and ($state -eq 'absent' -or $current.group -ne $groupName -or $current.account_id -ne $accountId)) {
    $module.Result.previous_group = $current.group
}

if ($module.CheckMode) {
    $module.Result.registered = $after.registered
    $module.Result.group = $after.group
    $module.Result.account_id = $after.account_id
    $module.ExitJson()
}

# --- the HybridRegistration module -----------------------------------------------------------------------------------
$agent = Get-MonitoringAgentInstallation
if (-not $agent.installed) {
    $module.FailJson("The Log Analytics agent is not installed; install it and attach a workspace that has the AzureAutomation solution before registering a Hybrid Runbook Worker.")
}
if ((Get-HealthServiceStatus) -ne 'Running') {
    $module.FailJson("The HealthService service (Log Analytics agent) is not running; start it before registering a Hybrid Runbook Worker.")
}
$deadline = (Get-Date).AddSeconds($waitTimeout)
$registrationModule = Get-HybridRegistrationModule -AgentDirectory $agent.install_directory
while (-not $registrationModule -and (Get-Date) -lt $deadline) {
    Start-Sleep -Seconds $pollSeconds
    $registrationModule = Get-HybridRegistrationModule -AgentDirectory $agent.install_directory
}
if (-not $registrationModule) {
    $connections = @()
    try {
        $configuration = New-Object -ComObject 'AgentConfigManager.MgmtSvcCfg'
        $connections = @(Get-MonitoringAgentWorkspace -Configuration $configuration | ForEach-Object { "$($_.id) status $($_.connection_status)" })
    }
    catch {
        $connections = @()
    }
    if ($connections.Count -eq 0) {
        $connections = @('none')
    }
    $module.FailJson("The HybridRegistration module did not arrive in $($agent.install_directory)\AzureAutomation within $waitTimeout seconds. Likely causes: the workspace does not have the AzureAutomation solution enabled, or the agent is not connected to it (attached workspaces: $($connections -join ', '); status 0 means connected).")
}
try {
    Import-Module -Name $registrationModule.path -Force -ErrorAction Stop
}
catch {
    $module.FailJson("Failed to import the HybridRegistration module from '$($registrationModule.path)': $($_.Exception.Message)", $_)
}

# --- deregister (state absent, or before a move) ---------------------------------------------------------------------
if ($registrations.Count -gt 0) {
    $sameAccount = @($registrations | Where-Object { $null -eq $_.account_id -or $_.account_id -eq $accountId }).Count -gt 0
    if ($sameAccount) {
        try {
            $null = Remove-HybridRunbookWorker -Url $url -Key $key
        }
        catch {
            $reason = $_.Exception.Message
            # The service already forgot this machine (a registration left behind on the host): nothing to deregister.
            if ($reason -notmatch 'not registered|404|NotFound') {
                $module.FailJson("Remove-HybridRunbookWorker failed to remove this machine from group '$($current.group)': $reason; $(Get-RegistrationFailureHint -Message $reason).", $_)
            }
        }
    }
    else {
        $module.Warn("This machine was registered in Automation account $($current.account_id); only the key of account $accountId is known, so the old account keeps a stale entry until the service drops it (30 days without a ping).")
    }
    # Remove-HybridRunbookWorker can leave the registry behind, which blocks the next registration and would make
    # the machine still look registered; only user-worker keys are cleared, system workers stay.
    $leftover = @(Get-HybridWorkerRegistration)
    if ($leftover.Count -gt 0) {
        try {
            Remove-HybridWorkerUserRegistration -Registration $leftover | Out-Null
            Restart-HealthService
        }
        catch {
            $module.FailJson("Failed to clear the leftover Hybrid Runbook Worker registration in the registry: $($_.Exception.Message)", $_)
        }
    }
}

if ($state -eq 'absent') {
    $module.Result.registered = $false
    $module.Result.group = $null
    $module.Result.account_id = $null
    $module.ExitJson()
}

# --- register --------------------------------------------------------------------------------------------------------
$attempt = 0
while ($true) {
    $attempt++
    try {
        $null = Add-HybridRunbookWorker -GroupName $groupName -Url $url -Key $key
        break
    }
    catch {
        $reason = $_.Exception.Message
        if ($attempt -eq 1 -and $reason -match 'already registered') {
            # A registration this module could not see through the cmdlet (for example left by a removed agent or
            # another account): clear the user-worker keys, restart the agent and try once more.
            try {
                Remove-HybridWorkerUserRegistration -Registration @(Get-HybridWorkerRegistration) | Out-Null
                Restart-HealthService
            }
            catch {
                $module.FailJson("Failed to clear the leftover Hybrid Runbook Worker registration in the registry: $($_.Exception.Message)", $_)
            }
            continue
        }
        $module.FailJson("Add-HybridRunbookWorker failed to register this machine in group '$groupName': $reason; $(Get-RegistrationFailureHint -Message $reason).", $_)
    }
}

$registered = @(Get-HybridWorkerRegistration) | Select-Object -First 1
$module.Result.registered = $true
$module.Result.group = $groupName
$module.Result.account_id = $accountId
if ($registered -and $registered.account_id) {
    $module.Result.account_id = $registered.account_id
}
$module.ExitJson()
