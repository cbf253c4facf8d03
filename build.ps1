#Requires -Version 7.2
<#
.SYNOPSIS
Builds, tests and demonstrates NetCmdlets.

.DESCRIPTION
Plain PowerShell, no build framework: the tasks need only the .NET SDK and the PowerShell pinned
in dotnet-tools.json (run it as `dotnet tool restore && dotnet pwsh ./build.ps1 -Task <task>`).

  Build  assembles output/NetCmdlets/<version>/ (manifest, format file, help, DLLs)
  Test   Build and Package, then xunit over the core and, in a child pwsh, Pester over the built
         module (and the package) and over the help builder in tools/, then Pester once more with the
         module loading its netstandard2.0 build (the one for Windows PowerShell 5.1);
         the last line is `tests: N passed, N failed` and the exit code is non-zero on any failure
  Package  Build, then output/package/NetCmdlets.<version>.nupkg, made by Publish-PSResource into a
         folder repository: what Register-PSResourceRepository and Install-PSResource take
  Demo   Build, then run examples/demo.ps1 against the built module
  Bench  Build, then bench/Invoke-Benchmark.ps1: figures and ratios to peers (-Quick: a few minutes)
  Fuzz   SharpFuzz and AFL++ on every framer and the TLS detection, 5 minutes each (-Quick: 30 s);
         Test runs the same for a few seconds each
  Clean  removes output/ and every bin/ and obj/
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Package', 'Test', 'Demo', 'Bench', 'Fuzz', 'Clean')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    [switch] $Quick
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$root = $PSScriptRoot
$manifest = Import-PowerShellDataFile (Join-Path $root 'module/NetCmdlets.psd1')
$version = $manifest.ModuleVersion
$moduleOut = Join-Path $root "output/NetCmdlets/$version"

# The PowerShell running this script, started again as a clean child process. Under `dotnet pwsh`
# the process is dotnet itself, so the child needs pwsh.dll as its first argument.
function Invoke-ChildPwsh {
    param([string[]] $Arguments)
    $exe = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') {
        & $exe (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive @Arguments
    }
    else {
        & $exe -NoProfile -NonInteractive @Arguments
    }
}

function Invoke-Native {
    param([scriptblock] $Command)
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "Command failed with exit code ${LASTEXITCODE}: $Command" }
}

function Invoke-Build {
    if (Test-Path $moduleOut) { Remove-Item $moduleOut -Recurse -Force }
    # One build per target: bin/netstandard2.0 for Windows PowerShell 5.1, bin/net8.0 for PowerShell 7.4+;
    # NetCmdlets.psm1 loads the one that fits. Only our own DLLs ship: PowerShell provides the rest.
    foreach ($framework in 'netstandard2.0', 'net8.0') {
        $publish = Join-Path $root "output/publish/$framework"
        Invoke-Native { dotnet publish (Join-Path $root 'src/NetCmdlets/NetCmdlets.csproj') -c $Configuration -f $framework -o $publish --nologo -v quiet }
        $bin = New-Item -ItemType Directory -Path (Join-Path $moduleOut "bin/$framework") -Force
        Copy-Item (Join-Path $publish 'NetCmdlets*.dll') $bin
    }
    Copy-Item (Join-Path $root 'module/*') $moduleOut -Recurse
    Copy-Item (Join-Path $root 'LICENSE') $moduleOut
    Set-ReleaseNotes (Join-Path $moduleOut 'NetCmdlets.psd1')

    $helpOut = Join-Path $moduleOut 'en-US/NetCmdlets.dll-Help.xml'
    Invoke-ChildPwsh -Arguments @('-File', (Join-Path $root 'tools/New-MamlHelp.ps1'), '-ModulePath', $moduleOut, '-SourcePath', (Join-Path $root 'docs/en-US'), '-OutputPath', $helpOut)
    if ($LASTEXITCODE -ne 0) { throw 'Building the help failed.' }
    Write-Host "Built $moduleOut"
}

# This version's section of CHANGELOG.md, as the built manifest's ReleaseNotes.
function Set-ReleaseNotes {
    param([string] $Path)
    $changelog = Get-Content (Join-Path $root 'CHANGELOG.md') -Raw
    $section = [regex]::Match($changelog, "(?ms)^## $([regex]::Escape($version))\b[^\n]*\n(.*?)(?=^## |\z)")
    if (-not $section.Success) { throw "CHANGELOG.md has no section for $version." }
    $notes = $section.Groups[1].Value.Trim() -replace "'", "''"
    $text = Get-Content $Path -Raw
    $placeholder = "ReleaseNotes = 'See CHANGELOG.md.'"
    if (-not $text.Contains($placeholder)) { throw "The manifest has no ReleaseNotes placeholder ($placeholder)." }
    Set-Content -Path $Path -Value $text.Replace($placeholder, "ReleaseNotes = '$notes'") -NoNewline
}

# output/package/NetCmdlets.<version>.nupkg, made by Publish-PSResource into a folder repository of its
# own (registered for the moment, under a name of this process's): the package a user installs with
# Register-PSResourceRepository -Uri <folder> and Install-PSResource NetCmdlets.
function Invoke-Package {
    $packageOut = Join-Path $root 'output/package'
    if (Test-Path $packageOut) { Remove-Item $packageOut -Recurse -Force }
    $null = New-Item -ItemType Directory -Path $packageOut
    $repository = "NetCmdletsBuild$PID"
    Register-PSResourceRepository -Name $repository -Uri $packageOut -Trusted
    try {
        Publish-PSResource -Path $moduleOut -Repository $repository -ErrorAction Stop
    }
    finally {
        Unregister-PSResourceRepository -Name $repository
    }
    $package = Get-ChildItem $packageOut -Filter '*.nupkg' | Select-Object -First 1
    if (-not $package) { throw "Publish-PSResource wrote no package to $packageOut." }
    Write-Host "Packaged $($package.FullName)"
}

function Invoke-XunitTests {
    $project = Join-Path $root 'tests/NetCmdlets.Core.Tests/NetCmdlets.Core.Tests.csproj'
    $output = dotnet test $project -c $Configuration --nologo 2>&1 | ForEach-Object { "$_" }
    $output | Write-Host
    $summary = $output | Select-String -Pattern 'Failed:\s+(\d+), Passed:\s+(\d+)' | Select-Object -Last 1
    if (-not $summary) {
        # No summary means the build or the runner broke: count it as one failure, never as a pass.
        return [pscustomobject]@{ Passed = 0; Failed = 1 }
    }
    $failed = [int]$summary.Matches[0].Groups[1].Value
    if ($LASTEXITCODE -ne 0 -and $failed -eq 0) { $failed = 1 }
    [pscustomobject]@{ Passed = [int]$summary.Matches[0].Groups[2].Value; Failed = $failed }
}

function Get-PesterPath {
    Invoke-Native { dotnet restore (Join-Path $root 'tests/pester/Pester.Restore.csproj') --nologo -v quiet } | Out-Host
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else {
        ((dotnet nuget locals global-packages --list) -replace '^global-packages:\s*', '').Trim()
    }
    Join-Path $packages 'pester/5.7.1/tools/Pester.psd1'
}

function Invoke-PesterTests {
    # -Framework netstandard2.0: the module loads its Windows PowerShell build (see NetCmdlets.psm1).
    param([string] $Framework)
    $resultFile = Join-Path ([IO.Path]::GetTempPath()) "netcmdlets-pester-$PID.json"
    $runner = Join-Path $root 'tests/pester/Invoke-Tests.ps1'
    $pesterPath = Get-PesterPath
    $arguments = @('-File', $runner, '-PesterPath', $pesterPath, '-ModulePath', (Join-Path $root 'output/NetCmdlets'), '-ResultPath', $resultFile)
    if ($Framework) { $arguments += '-Framework', $Framework }
    Invoke-ChildPwsh -Arguments $arguments | Out-Host
    if (-not (Test-Path $resultFile)) { return [pscustomobject]@{ Passed = 0; Failed = 1 } }
    $result = Get-Content $resultFile -Raw | ConvertFrom-Json
    Remove-Item $resultFile
    $result
}

switch ($Task) {
    'Clean' {
        Remove-Item (Join-Path $root 'output') -Recurse -Force -ErrorAction Ignore
        Get-ChildItem $root -Directory -Recurse -Include bin, obj | Remove-Item -Recurse -Force
    }
    'Build' { Invoke-Build }
    'Package' {
        Invoke-Build
        Invoke-Package
    }
    'Demo' {
        Invoke-Build
        Invoke-ChildPwsh -Arguments @('-File', (Join-Path $root 'examples/demo.ps1'))
        exit $LASTEXITCODE
    }
    'Bench' {
        Invoke-Build
        & (Join-Path $root 'bench/Invoke-Benchmark.ps1') -Quick:$Quick
    }
    'Fuzz' {
        $results = & (Join-Path $root 'tests/fuzz/Invoke-Fuzz.ps1') -Seconds $(if ($Quick) { 30 } else { 300 })
        $results | Format-Table Target, Passed, Execs, Paths, Crashes, Hangs, Output -AutoSize | Out-Host
        exit ([int](@($results | Where-Object { -not $_.Passed }).Count -gt 0))
    }
    'Test' {
        Invoke-Build
        Invoke-Package
        $xunit = Invoke-XunitTests
        $pester = Invoke-PesterTests
        $desktop = Invoke-PesterTests -Framework netstandard2.0
        $passed = $xunit.Passed + $pester.Passed + $desktop.Passed
        $failed = $xunit.Failed + $pester.Failed + $desktop.Failed
        Write-Host "xunit: $($xunit.Passed) passed, $($xunit.Failed) failed; pester: $($pester.Passed) passed, $($pester.Failed) failed; pester on the netstandard2.0 build: $($desktop.Passed) passed, $($desktop.Failed) failed"
        Write-Host "tests: $passed passed, $failed failed"
        exit ([int]($failed -gt 0))
    }
}
