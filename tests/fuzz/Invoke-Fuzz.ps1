<#
.SYNOPSIS
Coverage-guided fuzzing of every framer and of the TLS/plain-text detection, with SharpFuzz and AFL++.

.DESCRIPTION
Builds tests/NetCmdlets.Fuzz, instruments a copy of NetCmdlets.Core.dll with SharpFuzz (the local
dotnet tool), and runs afl-fuzz on each target for -Seconds. A target passes when AFL ran it and saved
no crash (an exception other than FramingException, or a broken framer invariant) and no hang. The
self-test target must crash: it proves crashes are seen. Crashing inputs are left in the output folder.
afl-fuzz comes from Debian's afl++ package, installed with apt-get when it is missing and this runs as root.
Returns one object per target: Target, Passed, Execs, Paths, Crashes, Hangs.
#>
param(
    [double] $Seconds = 10,
    [string[]] $Target,
    [string] $OutputPath = (Join-Path ([IO.Path]::GetTempPath()) "netcmdlets-fuzz-$PID")
)
$ErrorActionPreference = 'Stop'
$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
$project = Join-Path $root 'tests/NetCmdlets.Fuzz'

function Install-Afl {
    if (Get-Command afl-fuzz -CommandType Application -ErrorAction Ignore) { return }
    $isRoot = (Get-Content /proc/self/status -ErrorAction Ignore | Where-Object { $_ -match '^Uid:\s+0\s' }) -as [bool]
    if (-not $isRoot -or -not (Get-Command apt-get -CommandType Application -ErrorAction Ignore)) { throw 'afl-fuzz is missing; install afl++ (apt-get install afl++).' }
    $env:DEBIAN_FRONTEND = 'noninteractive'
    & apt-get install -y -qq --no-install-recommends afl++ *> $null
    if ($LASTEXITCODE -ne 0) {
        & apt-get update -qq *> $null
        & apt-get install -y -qq --no-install-recommends afl++ *> $null
    }
    if (-not (Get-Command afl-fuzz -CommandType Application -ErrorAction Ignore)) { throw 'Installing afl++ with apt-get failed.' }
}

Install-Afl
$build = Join-Path $OutputPath 'bin'
& dotnet build $project -c Release -o $build --nologo -v quiet 2>&1 | Out-String | Write-Verbose
if ($LASTEXITCODE -ne 0) { throw 'Building tests/NetCmdlets.Fuzz failed.' }
Push-Location $root
try {
    & dotnet sharpfuzz (Join-Path $build 'NetCmdlets.Core.dll') 2>&1 | Out-String | Write-Verbose
    if ($LASTEXITCODE -ne 0) { throw 'SharpFuzz could not instrument NetCmdlets.Core.dll (dotnet tool restore first).' }
}
finally { Pop-Location }

$seeds = @{
    'line' = 'lines'; 'line-utf16' = 'lines'; 'delimiter' = 'delimiter'; 'length-prefixed' = 'length-prefixed'
    'length-prefixed-2-le-inclusive' = 'length-prefixed'; 'fixed' = 'lines'; 'octet-counted' = 'octet-counted'
    'json' = 'json'; 'tls-records' = 'tls-hello'; 'self-test' = 'self-test'
}
if (-not $Target) { $Target = @($seeds.Keys | Sort-Object) }
$env:AFL_SKIP_BIN_CHECK = '1'
$env:AFL_SKIP_CPUFREQ = '1'
$env:AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES = '1'
$env:AFL_NO_UI = '1'
$env:AFL_NO_AFFINITY = '1'
$dotnet = (Get-Command dotnet -CommandType Application | Select-Object -First 1).Source
foreach ($name in $Target) {
    $in = Join-Path $OutputPath "$name-in"
    $out = Join-Path $OutputPath "$name-out"
    $null = New-Item -ItemType Directory -Force -Path $in
    Copy-Item (Join-Path $PSScriptRoot "seeds/$($seeds[$name])") (Join-Path $in 'seed')
    $log = Join-Path $OutputPath "$name.log"
    & afl-fuzz -i $in -o $out -V ([int][Math]::Ceiling($Seconds)) -t 5000 -m none -- $dotnet (Join-Path $build 'NetCmdlets.Fuzz.dll') $name *> $log
    $stats = @{}
    foreach ($line in Get-Content (Join-Path $out 'default/fuzzer_stats') -ErrorAction Ignore) {
        if ($line -match '^(\w+)\s*:\s*(.*)$') { $stats[$Matches[1]] = $Matches[2].Trim() }
    }
    $execs = [long]($stats['execs_done'] ?? 0)
    $crashes = [long]($stats['saved_crashes'] ?? 0)
    $hangs = [long]($stats['saved_hangs'] ?? 0)
    $passed = if ($name -eq 'self-test') { $crashes -gt 0 } else { $execs -gt 0 -and $crashes -eq 0 -and $hangs -eq 0 }
    [pscustomobject]@{ Target = $name; Passed = $passed; Execs = $execs; Paths = [long]($stats['corpus_count'] ?? 0); Crashes = $crashes; Hangs = $hangs; Output = $out }
}
