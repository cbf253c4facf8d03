<#
.SYNOPSIS
Test-TcpPort over a range of ports, for the benchmark: run in a child pwsh (inside the network
namespace of the scan), killed when done.

.DESCRIPTION
First a short scan of a few loopback ports, so the one that is measured does not pay for loading
the cmdlet. Then the scan itself, -Repeat times, each timed by a Stopwatch around Test-TcpPort alone
(its results kept in a variable), which leaves pwsh start-up out. Prints one JSON line at the end:
the median and the first of those times (the first pays for compiling the code the scan runs), the
open ports found, and how many results had each status.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $ComputerName,
    [Parameter(Mandatory)] [int] $FirstPort,
    [Parameter(Mandatory)] [int] $LastPort,
    [double] $TimeoutSec = 1,
    # Ports on 127.0.0.1 that answer at once (refused or open), for the warm-up.
    [int] $WarmUpFirstPort = 1,
    [int] $WarmUpLastPort = 200,
    [int] $Repeat = 1
)
$ErrorActionPreference = 'Stop'
# A progress bar is drawn by an interactive host only; this one would just pay for the records.
$ProgressPreference = 'SilentlyContinue'
Import-Module $ModulePath

$result = [ordered]@{}
try {
    $null = Test-TcpPort -ComputerName 127.0.0.1 -Port ($WarmUpFirstPort..$WarmUpLastPort) -TimeoutSec $TimeoutSec
    [GC]::Collect()
    $ports = $FirstPort..$LastPort
    $times = foreach ($run in 1..$Repeat) {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $found = Test-TcpPort -ComputerName $ComputerName -Port $ports -TimeoutSec $TimeoutSec
        $clock.Stop()
        $clock.Elapsed.TotalSeconds
    }
    $result.first = @($times)[0]
    $result.all = @($times)
    $result.seconds = @($times | Sort-Object)[[int][Math]::Floor((@($times).Count - 1) / 2)]
    $result.results = @($found).Count
    $result.open = @($found | Where-Object Open | ForEach-Object Port | Sort-Object)
    $result.statuses = [ordered]@{}
    foreach ($group in $found | Group-Object Status) { $result.statuses[$group.Name] = $group.Count }
    $slowest = $found | Where-Object { $null -ne $_.Latency } | Measure-Object { $_.Latency.TotalSeconds } -Maximum
    $result.slowestLatency = if ($slowest) { $slowest.Maximum } else { $null }
}
catch {
    $result.error = "$_"
}
[Console]::Out.WriteLine(($result | ConvertTo-Json -Compress))
