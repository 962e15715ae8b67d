# Copyright: (c) 2026, azure_automation.hybrid_worker maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# How an agent-based (V1) user Hybrid Runbook Worker registration shows on the host.
#
# HKLM:\SOFTWARE\Microsoft\HybridRunbookWorker holds either
#   - the legacy layout (agents before 2017-02-21): a RunbookWorkerGroup value on the root key, or
#   - the current layout: <accountId>\<groupName>\User for a user worker.
# Update Management (system) workers live next to user workers in the current layout but have no User child; they
# must never be read as, or removed as, a user registration. Deleting the whole root key (as some public scripts
# do) would drop a system worker too, so removal here only touches user-worker keys.

$script:WorkerRoot = 'HKLM:\SOFTWARE\Microsoft\HybridRunbookWorker'
$script:LegacyValueNames = @('RunbookWorkerGroup')
$script:GuidPattern = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}'

Function Get-AutomationAccountIdFromUrl {
    <#
    .SYNOPSIS
    Returns the Automation account id (lower case) carried by an agent registration URL, or $null.

    .DESCRIPTION
    Registration URLs end in /accounts/<accountId> in both the legacy regional form and the current
    <accountId>.agentsvc.<region> form.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][AllowEmptyString()][String]$Url)

    $match = [Regex]::Match($Url, "^https://[^/]+(/.*)?/accounts/($script:GuidPattern)/?$")
    if (-not $match.Success) {
        return $null
    }
    return $match.Groups[2].Value.ToLowerInvariant()
}

Function Get-HybridWorkerRegistration {
    <#
    .SYNOPSIS
    Lists the user Hybrid Runbook Worker registrations recorded on this host.

    .DESCRIPTION
    Returns one hashtable per user registration with group, account_id ($null for the legacy layout), layout
    (legacy or current) and key (the registry key that belongs to that registration). System workers are ignored.
    #>
    [CmdletBinding()]
    param()

    if (-not (Test-Path -LiteralPath $script:WorkerRoot)) {
        return
    }

    $root = Get-Item -LiteralPath $script:WorkerRoot
    $legacyGroup = $root.GetValue('RunbookWorkerGroup')
    if ($legacyGroup) {
        @{
            group = [String]$legacyGroup
            account_id = $null
            layout = 'legacy'
            key = $script:WorkerRoot
        }
        return
    }

    foreach ($accountKey in (Get-ChildItem -LiteralPath $script:WorkerRoot -ErrorAction SilentlyContinue)) {
        foreach ($groupKey in (Get-ChildItem -LiteralPath $accountKey.PSPath -ErrorAction SilentlyContinue)) {
            $userKey = Join-Path -Path $groupKey.PSPath -ChildPath 'User'
            if (Test-Path -LiteralPath $userKey) {
                @{
                    group = $groupKey.PSChildName
                    account_id = $accountKey.PSChildName.ToLowerInvariant()
                    layout = 'current'
                    key = $groupKey.PSPath
                }
            }
        }
    }
}

Function Remove-HybridWorkerUserRegistration {
    <#
    .SYNOPSIS
    Deletes the registry keys of the given user registrations, leaving system workers in place.

    .DESCRIPTION
    For the current layout the <accountId>\<groupName> key of each user registration is deleted (and its account
    key when nothing else is left under it). For the legacy layout only the registration values on the root key are
    cleared. Returns the number of registrations removed.

    .PARAMETER Registration
    Registrations as returned by Get-HybridWorkerRegistration.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][Object[]]$Registration)

    $removed = 0
    foreach ($entry in $Registration) {
        if ($entry.layout -eq 'legacy') {
            $root = Get-Item -LiteralPath $script:WorkerRoot
            foreach ($name in $root.GetValueNames()) {
                if ($script:LegacyValueNames -contains $name -or $name -eq 'JobRuntimeDataServiceUri') {
                    Remove-ItemProperty -LiteralPath $script:WorkerRoot -Name $name
                }
            }
        }
        else {
            $accountKey = Split-Path -Path $entry.key -Parent
            Remove-Item -LiteralPath $entry.key -Recurse -Force
            if (-not (Get-ChildItem -LiteralPath $accountKey -ErrorAction SilentlyContinue)) {
                Remove-Item -LiteralPath $accountKey -Recurse -Force
            }
        }
        $removed++
    }
    return $removed
}

$exportMembers = @{
    Function = 'Get-AutomationAccountIdFromUrl', 'Get-HybridWorkerRegistration', 'Remove-HybridWorkerUserRegistration'
}
Export-ModuleMember @exportMembers
