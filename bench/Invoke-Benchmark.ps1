#Requires -Version 7.2
<#
.SYNOPSIS
Measures NetCmdlets against peers in one run on this machine and prints a table.

.DESCRIPTION
Run by `build.ps1 -Task Bench [-Quick]` after the module is built into output/NetCmdlets. It builds
the load generators and reference servers (bench/NetCmdlets.Bench), then runs each scenario of
bench/scenarios, in its order; the help at the top of each file says what it measures:

  Echo      round trips of 64-byte lines over 1 and 50 connections, under an async and a blocking
            client, against Start-TcpServer -Handler in five forms, raw .NET (plain and tuned),
            Python asyncio and ncat; ratios to the tuned raw .NET server and to Python asyncio
  Idle      Start-TcpServer holding many idle connections: how many, and resident memory per connection
  Udp       datagrams as fast as one sender can into Receive-UdpDatagram | Measure-Object, beside a raw receiver
  Stream    one file over one connection both ways, beside socat, nc, ncat, and iperf3 as the ceiling
  Proxy     Start-TcpProxy -Quiet as a relay beside socat TCP-LISTEN,fork: one file each way, and echo over 50
            connections; traffic objects into Measure-Object; a latency fault's accuracy
  Broker    Start-TcpServer -Broker beside ncat --broker: 20 members, one sending to the other 19
  Unix      echo over a UNIX socket beside socat UNIX-LISTEN, and a file echoed through microsocks beside ncat
  Tls       TLS round trips, handshakes and one file, beside raw .NET SslStream and socat
  PortScan  Test-TcpPort over refused and over filtered ports, beside nc -z, nmap -sT and ncat
  UdpEcho   round trips of 64-byte datagrams from 1 and 50 senders, beside a raw .NET UDP echo server

A scenario is one file, bench/scenarios/<Name>.ps1: it defines Measure-<Name>, which returns its rows
(Scenario, Server, Figure, Unit, Ratios, Target, Met, Notes), and ends with
@{ Order = <place in the run>; Heading = '<the line printed as it starts>' }. What the scenarios share
(child processes, CPU and memory readings, ratios, peers, ports) is in bench/BenchCommon.ps1.

Peers that are missing (socat, ncat, nc from netcat-openbsd, iperf3, openssl, nmap, iptables) are
installed with apt-get when it is there and this runs as root; otherwise, or when that fails, their
rows say so.

Every server runs in a process of its own, started fresh and killed afterwards, on 127.0.0.1 and
a port picked by the system. Figures of one run are comparable with each other, not with another
machine's. A benchmark is not a test: missing a target is reported, never an error.

.PARAMETER Quick
Shorter runs, smaller counts and a smaller stream: a few minutes in all.

.PARAMETER ModulePath
The folder that holds <version>/NetCmdlets.psd1.

.PARAMETER Scenario
Which measurements to make, by the names of the files in bench/scenarios; all of them unless given.

.PARAMETER ResultPath
Also write the rows as JSON to this file.
#>
[CmdletBinding()]
param(
    [switch] $Quick,

    [string] $ModulePath = (Join-Path $PSScriptRoot '../output/NetCmdlets'),

    # A list, or one word with commas as `pwsh -File` passes "-Scenario Echo,Udp" from another shell.
    [ValidateScript({
            $known = @(Get-ChildItem (Join-Path $PSScriptRoot 'scenarios') -Filter '*.ps1' | ForEach-Object BaseName)
            $unknown = @($_ -split ',' | ForEach-Object Trim | Where-Object { $_ -notin $known })
            if ($unknown) { throw "'$($unknown -join "', '")': each scenario must be one of $($known -join ', ')." }
            $true
        })]
    [ArgumentCompleter({
            param($command, $parameter, $word)
            Get-ChildItem (Join-Path $PSScriptRoot 'scenarios') -Filter '*.ps1' | ForEach-Object BaseName | Where-Object { $_ -like "$word*" }
        })]
    [string[]] $Scenario = @(Get-ChildItem (Join-Path $PSScriptRoot 'scenarios') -Filter '*.ps1' | ForEach-Object BaseName),

    [string] $ResultPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$root = Split-Path $PSScriptRoot -Parent
$benchRoot = $PSScriptRoot
$Scenario = @($Scenario -split ',' | ForEach-Object { $_.Trim() })
$ModulePath = [IO.Path]::GetFullPath($ModulePath)
$benchProject = Join-Path $PSScriptRoot 'NetCmdlets.Bench'
$benchAssembly = Join-Path $benchProject 'bin/Release/net10.0/NetCmdlets.Bench.dll'

$settings = if ($Quick) {
    @{ EchoSeconds = 2; Warmup = 1; IdleCount = 2000; UdpCount = 20000; UdpTimeoutSec = 5; StreamBytes = 256MB }
}
else {
    @{ EchoSeconds = 5; Warmup = 1; IdleCount = 50000; UdpCount = 200000; UdpTimeoutSec = 10; StreamBytes = 2GB }
}
# Connections of the echo rows, senders of the UDP echo rows.
$echoConnections = 1, 50
# The same in quick runs: the filtered case is bounded by nc, which waits out each port's timeout in turn.
$portScan = @{ FirstPort = 1; LastPort = 1000; OpenCount = 20; FilteredFirstPort = 20001; FilteredCount = 20; TimeoutSec = 1 }

. (Join-Path $PSScriptRoot 'BenchCommon.ps1')

# Each scenario file defines its Measure-<Name> here, in this scope, and returns where it comes and its heading.
$scenarios = @(foreach ($file in Get-ChildItem (Join-Path $PSScriptRoot 'scenarios') -Filter '*.ps1') {
        $info = @(. $file.FullName | Where-Object { $_ -is [hashtable] }) | Select-Object -Last 1
        if (-not (Get-Command "Measure-$($file.BaseName)" -CommandType Function -ErrorAction Ignore)) {
            throw "$($file.FullName) defines no function Measure-$($file.BaseName)."
        }
        [pscustomobject]@{
            Name = $file.BaseName
            Order = if ($info -and $info.ContainsKey('Order')) { [int]$info.Order } else { [int]::MaxValue }
            Heading = if ($info -and $info.ContainsKey('Heading')) { $info.Heading } else { "$($file.BaseName)..." }
        }
    }) | Sort-Object Order, Name

$rows = [Collections.Generic.List[object]]::new()

# "0.93x raw .NET", or "1.31x socat, 0.42x iperf3".
function Format-Ratio {
    param($Ratios)
    if (-not $Ratios) { return '' }
    @($Ratios.Keys | Where-Object { $null -ne $Ratios[$_] } | ForEach-Object { '{0:N2}x {1}' -f $Ratios[$_], $_ }) -join ', '
}

function Format-Figure {
    param($Value, [string] $Unit)
    if ($null -eq $Value) { return '-' }
    if ($Unit -like '%*' -or $Unit -eq 's') { return '{0:N2}' -f $Value }
    if ($Value -lt 100) { return '{0:N1}' -f $Value }
    '{0:N0}' -f $Value
}

try {
    $buildOutput = dotnet build $benchProject -c Release --nologo -v quiet 2>&1
    if ($LASTEXITCODE -ne 0) {
        $buildOutput | Write-Host
        throw 'Building bench/NetCmdlets.Bench failed.'
    }
    if (-not (Test-Path (Join-Path $ModulePath '*/NetCmdlets.psd1'))) { throw "No built module under $ModulePath; run build.ps1 -Task Build first." }

    $limit = Get-OpenFileLimit
    $manifest = Get-ChildItem (Join-Path $ModulePath '*/NetCmdlets.psd1') | Select-Object -First 1
    # The children import the manifest itself: the folder may be a copy not named NetCmdlets.
    $moduleManifest = $manifest.FullName
    Write-Host ("NetCmdlets {0} benchmark{1}: {2} cores, {3}, .NET {4}, PowerShell {5}, open files soft/hard {6}/{7}" -f
        $manifest.Directory.Name, $(if ($Quick) { ' (quick)' } else { '' }), [Environment]::ProcessorCount,
        [Runtime.InteropServices.RuntimeInformation]::OSDescription, [Environment]::Version, $PSVersionTable.PSVersion, $limit.Soft, $limit.Hard)
    Write-Host ("Echo: {0} s per run after {1} s warm-up; idle: {2:N0} connections; UDP: {3:N0} datagrams; stream: {4:N0} MiB; port scan: {5}-{6}, {7} filtered" -f
        $settings.EchoSeconds, $settings.Warmup, $settings.IdleCount, $settings.UdpCount, ($settings.StreamBytes / 1MB), $portScan.FirstPort, $portScan.LastPort, $portScan.FilteredCount)
    Write-Host 'Peers...'
    Install-Peer
    $clock = [Diagnostics.Stopwatch]::StartNew()

    foreach ($selected in $scenarios | Where-Object { $_.Name -in $Scenario }) {
        Write-Host $selected.Heading
        & "Measure-$($selected.Name)" | ForEach-Object { $rows.Add($_) }
    }

    $table = $rows | Format-Table -AutoSize -Wrap -Property Scenario, Server,
        @{ Name = 'Figure'; Expression = { Format-Figure $_.Figure $_.Unit }; Alignment = 'Right' },
        Unit,
        @{ Name = 'Ratio'; Expression = { Format-Ratio $_.Ratios } },
        Target,
        @{ Name = 'Met'; Expression = { if ($null -eq $_.Met) { '' } elseif ($_.Met) { 'yes' } else { 'no' } } },
        Notes
    Write-Host ''
    Write-Host ($table | Out-String -Width 300).TrimEnd()
    Write-Host ''
    Write-Host ('Benchmark finished in {0:N0} s.' -f $clock.Elapsed.TotalSeconds)
    if ($ResultPath) { $rows | ConvertTo-Json -Depth 3 | Set-Content -Path $ResultPath -Encoding utf8 }
}
finally {
    foreach ($child in @($children)) { Stop-Child $child }
    foreach ($namespace in @($namespaces)) { Remove-BenchNetns $namespace }
}
