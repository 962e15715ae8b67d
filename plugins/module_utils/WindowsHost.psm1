# Copyright: (c) 2026, azure_automation.hybrid_worker maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# Host lookups and input checks shared by the collection's Windows modules and module utils. Nothing here changes
# the host.

$script:UninstallRoots = @(
    'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall',
    'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall'
)
# Standard Base64 (RFC 4648 section 4) with its padding; \z so a trailing newline does not pass. Convert's own
# parser is not used as the check because it skips white space inside the text.
$script:Base64Pattern = '\A(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)\z'

Function Get-UninstallEntry {
    <#
    .SYNOPSIS
    The first uninstall registry key (64-bit view, then 32-bit view) whose DisplayName is exactly the given name.

    .DESCRIPTION
    Products are found by DisplayName because their product codes change with every release and differ between x86
    and x64 builds. Returns the registry key (GetValue, PSChildName = product code) or $null.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][String]$DisplayName)

    foreach ($root in $script:UninstallRoots) {
        if (-not (Test-Path -LiteralPath $root)) {
            continue
        }
        foreach ($key in (Get-ChildItem -LiteralPath $root -ErrorAction SilentlyContinue)) {
            if ($key.GetValue('DisplayName') -eq $DisplayName) {
                return $key
            }
        }
    }
    return $null
}

Function Test-Base64String {
    <#
    .SYNOPSIS
    Whether the text is standard, padded Base64 (the form of Azure access keys); empty text is not.
    #>
    [CmdletBinding()]
    param([AllowNull()][AllowEmptyString()][String]$Value)

    return [bool]($Value -and $Value -cmatch $script:Base64Pattern)
}

$exportMembers = @{
    Function = 'Get-UninstallEntry', 'Test-Base64String'
}
Export-ModuleMember @exportMembers
