<#
.SYNOPSIS
Runs every *.Tests.ps1 beside this file with Pester against the built module, and those of the build
helpers in tools/tests; build.ps1 -Task Test calls it in a child pwsh.
#>
param(
    [Parameter(Mandatory)] [string] $PesterPath,
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $ResultPath,
    # netstandard2.0: the suite once more on the Windows PowerShell build (NETCMDLETS_FRAMEWORK), without
    # what that build cannot do (tag PowerShell7) and without what does not use the module (tag Fuzz).
    [string] $Framework
)
$ErrorActionPreference = 'Stop'
Import-Module $PesterPath -Force
# common.ps1 imports the module from here, so the tests always use the build under test.
$env:NETCMDLETS_MODULE_PATH = $ModulePath

$config = New-PesterConfiguration
if ($Framework) {
    $env:NETCMDLETS_FRAMEWORK = $Framework
    $config.Run.Path = @($PSScriptRoot)
    $config.Filter.ExcludeTag = @('PowerShell7', 'Fuzz')
}
else {
    # One run, so the one summary counts the build helpers' tests too.
    $config.Run.Path = @($PSScriptRoot, (Join-Path $PSScriptRoot '../../tools/tests'))
}
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$result = Invoke-Pester -Configuration $config

# Tests that could not even run (a broken file) count as failures.
$failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
@{ Passed = $result.PassedCount; Failed = $failed } | ConvertTo-Json | Set-Content -Path $ResultPath
