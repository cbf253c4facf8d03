#Requires -Version 7.2
<#
.SYNOPSIS
Measures NetCmdlets against peers in one run on this machine and prints a table.

.DESCRIPTION
Run by `build.ps1 -Task Bench [-Quick]` after the module is built into output/NetCmdlets. It builds
the load generator (bench/NetCmdlets.Bench), then measures:

  echo    round trips per second of 64-byte lines over 1 and over 50 connections, each connection
          sending a line and waiting for its echo, against Start-TcpServer -Handler { $_.Text } in
          the foreground of a child pwsh, the same with -AsJob and with -ThrottleLimit 2, a raw .NET
          async echo server, Python asyncio and ncat (each where installed), and the server's CPU
          time per round trip; ratios are to the raw .NET server
  idle    Start-TcpServer holding many idle connections: accepted by the server's count, and the
          growth of the server process's resident memory per connection
  udp     datagrams sent as fast as one sender can into Receive-UdpDatagram | Measure-Object: the
          share counted, beside a raw .NET receiver with the same socket buffer; the ratio is to it
  stream  one file of random bytes on /dev/shm (2 GiB, -Quick 256 MiB) over one connection, both
          ways: Send-TcpMessage -Path into a discarding socat listener, and Receive-TcpMessage
          -OutFile /dev/null from a socat listener that sends the file; beside socat, nc (OpenBSD)
          and ncat doing the same, and iperf3 as the ceiling. Ratios are to socat and to iperf3
  portscan  Test-TcpPort beside nc -z (OpenBSD), nmap -sT and ncat, each in a process of its own and
          timed by a Stopwatch here (Test-TcpPort's around the cmdlet, in its pwsh, after a warm-up;
          the others' from process start to exit). Refused: 20 listeners at free ports picked at
          random among 1..10000 on 127.0.0.1, the rest refused, scanned 1..10000; every tool's open
          ports are checked against the 20. Filtered: 20 ports whose SYNs are dropped (an iptables
          DROP rule on lo, or, where iptables cannot work, a neighbour entry to a MAC nobody has),
          scanned with a 1 s timeout. Each case runs in a network namespace the benchmark makes
          (ip netns) and deletes, so nothing else on the machine listens or is reached. Ratios are
          nc's time over each tool's: how many times as fast as nc -z -w1
  udpecho round trips per second of 64-byte datagrams from 1 and from 50 senders, each with a
          connected socket of its own, sending one and waiting for its echo (1 s, then counted lost),
          against Start-UdpServer -Handler { $_.Data } in the foreground of a child pwsh and a raw
          .NET async UDP echo server, and the server's CPU time per round trip; ratios are to the
          raw .NET server

Peers that are missing (socat, ncat, nc from netcat-openbsd, iperf3, openssl, nmap, iptables) are
installed with apt-get when it is there and this runs as root; otherwise, or when that fails, their
rows say so.

Every server runs in a process of its own, started fresh and killed afterwards, on 127.0.0.1 and
a port picked by the system. Figures of one run are comparable with each other, not with another
machine's. A benchmark is not a test: missing a target is reported, never an error.

.PARAMETER Quick
Shorter runs, smaller counts and a smaller stream: about a minute in all.

.PARAMETER ModulePath
The folder that holds <version>/NetCmdlets.psd1.

.PARAMETER Scenario
Which measurements to make; all of them unless given.

.PARAMETER ResultPath
Also write the rows as JSON to this file.
#>
[CmdletBinding()]
param(
    [switch] $Quick,

    [string] $ModulePath = (Join-Path $PSScriptRoot '../output/NetCmdlets'),

    # A list, or one word with commas as `pwsh -File` passes "-Scenario Echo,Udp" from another shell.
    [ValidateScript({ -not @($_ -split ',' | Where-Object { $_.Trim() -notin 'Echo', 'Idle', 'Udp', 'Stream', 'Tls', 'PortScan', 'UdpEcho' }) },
        ErrorMessage = "'{0}': each scenario must be one of Echo, Idle, Udp, Stream, Tls, PortScan, UdpEcho.")]
    [ArgumentCompleter({ param($command, $parameter, $word) 'Echo', 'Idle', 'Udp', 'Stream', 'Tls', 'PortScan', 'UdpEcho' | Where-Object { $_ -like "$word*" } })]
    [string[]] $Scenario = @('Echo', 'Idle', 'Udp', 'Stream', 'Tls', 'PortScan', 'UdpEcho'),

    [string] $ResultPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$root = Split-Path $PSScriptRoot -Parent
$Scenario = @($Scenario -split ',' | ForEach-Object { $_.Trim() })
$ModulePath = [IO.Path]::GetFullPath($ModulePath)
$benchProject = Join-Path $PSScriptRoot 'NetCmdlets.Bench'
$benchAssembly = Join-Path $benchProject 'bin/Release/net10.0/NetCmdlets.Bench.dll'

$settings = if ($Quick) {
    @{ EchoSeconds = 2; Warmup = 1; IdleCount = 2000; UdpCount = 20000; UdpTimeoutSec = 5; StreamBytes = 256MB }
}
else {
    @{ EchoSeconds = 5; Warmup = 1; IdleCount = 10000; UdpCount = 200000; UdpTimeoutSec = 10; StreamBytes = 2GB }
}
$echoConnections = 1, 50
$targets = @{
    # Start-TcpServer -Handler { $_.Text } (foreground) with 50 connections, as a share of the raw .NET echo server.
    EchoRatio50 = 0.8
    # Its server CPU per round trip with 50 connections, as a multiple of the raw .NET server's: at most.
    EchoCpuRatio50 = 1.25
    IdleBytesPerConnection = 8KB
    # Datagrams Receive-UdpDatagram counts, as a share of what the raw receiver counts in the same run.
    UdpRatio = 0.99
    # The module's stream throughput, each way: at least this multiple of socat's and of iperf3's.
    StreamSocatRatio = 1.2
    StreamIperfRatio = 0.5
    # How many times as fast as nc -z -w1 Test-TcpPort scans (nc's seconds over its own): at least.
    PortScanRefusedRatio = 1.0
    PortScanFilteredRatio = 10.0
    # UdpEcho has none: its rows are measured against the raw .NET UDP echo server only.
}
# The same in quick runs: the filtered case is bounded by nc, which waits out each port's timeout in turn.
$portScan = @{ FirstPort = 1; LastPort = 10000; OpenCount = 20; FilteredFirstPort = 20001; FilteredCount = 20; TimeoutSec = 1 }

#region Child processes

# Every process started here, so that whatever happens they are all gone at the end.
$children = [Collections.Generic.List[object]]::new()

function Start-Child {
    param(
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [string] $FileName,
        [string[]] $Arguments = @(),
        [hashtable] $Environment = @{}
    )
    $info = [Diagnostics.ProcessStartInfo]::new($FileName)
    foreach ($argument in $Arguments) { $info.ArgumentList.Add($argument) }
    foreach ($variable in $Environment.Keys) { $info.Environment[$variable] = $Environment[$variable] }
    $info.UseShellExecute = $false
    $info.RedirectStandardInput = $true
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.WorkingDirectory = $root
    $process = [Diagnostics.Process]::Start($info)
    $child = [pscustomobject]@{
        Name = $Name
        Process = $process
        Pending = $null
        # Read to the end in the background, so a chatty child never blocks on a full pipe.
        ErrorText = $process.StandardError.ReadToEndAsync()
    }
    $children.Add($child)
    $child
}

# The PowerShell running this script, started again as a child. Under `dotnet pwsh` the process is
# dotnet itself, so pwsh.dll goes first. A launcher (ip netns exec <name>, say) goes before it all
# and must exec the command rather than start it as a child of its own.
function Start-ChildPwsh {
    param([string] $Name, [string] $Script, [string[]] $Arguments = @(), [string[]] $Launcher = @())
    $exe = [Environment]::ProcessPath
    [string[]] $prefix = if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' } else { @() }
    [string[]] $command = @($Launcher) + @($exe) + $prefix + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot "servers/$Script")) + $Arguments
    Start-Child -Name $Name -FileName $command[0] -Arguments @($command | Select-Object -Skip 1)
}

function Start-BenchTool {
    param([string] $Name, [string[]] $Arguments, [string[]] $Launcher = @())
    [string[]] $command = @($Launcher) + @('dotnet', $benchAssembly) + $Arguments
    Start-Child -Name $Name -FileName $command[0] -Arguments @($command | Select-Object -Skip 1)
}

# The next line of the child's stdout, or $null when none came in time or the output ended.
function Read-ChildLine {
    param([Parameter(Mandatory)] $Child, [double] $TimeoutSec = 10)
    if (-not $Child.Pending) { $Child.Pending = $Child.Process.StandardOutput.ReadLineAsync() }
    if (-not $Child.Pending.Wait([TimeSpan]::FromSeconds($TimeoutSec))) { return $null }
    $line = $Child.Pending.Result
    $Child.Pending = $null
    $line
}

# Reads lines until one matches, for at most TimeoutSec in all.
function Wait-ChildLine {
    param([Parameter(Mandatory)] $Child, [Parameter(Mandatory)] [string] $Pattern, [double] $TimeoutSec = 30)
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while ($true) {
        $left = ($deadline - [DateTime]::UtcNow).TotalSeconds
        if ($left -le 0) { break }
        $line = Read-ChildLine $Child -TimeoutSec $left
        if ($null -eq $line) { break }
        if ($line -match $Pattern) { return $Matches }
        Write-Verbose "$($Child.Name): $line"
    }
    throw "$($Child.Name) printed no line matching '$Pattern' within $TimeoutSec s.$(Get-ChildErrorText $Child)"
}

function Get-ChildErrorText {
    param($Child)
    # Its output ended: give it a moment to exit, so its stderr is complete.
    if (-not $Child.Process.WaitForExit(2000)) { return '' }
    $text = if ($Child.ErrorText.Wait(1000)) { $Child.ErrorText.Result.Trim() } else { '' }
    if ($text) { " Its stderr: $text" } else { " It exited with code $($Child.Process.ExitCode)." }
}

# The first JSON line the child prints (bench tools print one, when they are done).
function Receive-ChildJson {
    param([Parameter(Mandatory)] $Child, [double] $TimeoutSec)
    $match = Wait-ChildLine $Child -Pattern '^\{.*\}$' -TimeoutSec $TimeoutSec
    $match[0] | ConvertFrom-Json
}

# Runs a program to its end: its exit code, output and wall-clock seconds from start to exit.
function Invoke-Tool {
    param(
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [string] $FileName,
        [string[]] $Arguments = @(),
        [double] $TimeoutSec = 60,
        [hashtable] $Environment = @{}
    )
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $child = Start-Child -Name $Name -FileName $FileName -Arguments $Arguments -Environment $Environment
    try {
        $child.Process.StandardInput.Close()
        $output = $child.Process.StandardOutput.ReadToEndAsync()
        $exited = $child.Process.WaitForExit([int](1000 * $TimeoutSec))
        $seconds = $clock.Elapsed.TotalSeconds
        if ($exited) { $child.Process.WaitForExit() }
        [pscustomobject]@{
            ExitCode = if ($exited) { $child.Process.ExitCode } else { $null }
            Seconds = $seconds
            Output = if ($exited) { $output.Result } else { '' }
            Error = if ($exited) { $child.ErrorText.Result.Trim() } else { "no exit within $TimeoutSec s" }
        }
    }
    finally {
        Stop-Child $child
    }
}

# Kills the child and whatever it started (ncat's cat processes, say), if it has not ended already.
function Stop-Child {
    param([Parameter(Mandatory)] $Child)
    $process = $Child.Process
    try {
        if (-not $process.HasExited) {
            $process.Kill($true)
            $null = $process.WaitForExit(5000)
        }
    }
    catch [InvalidOperationException] {
        # Already gone.
    }
    $process.Dispose()
    $null = $children.Remove($Child)
}

#endregion

#region Figures of this machine

function Get-ProcStatusKiB {
    param([int] $ProcessId, [string] $Field)
    $line = Get-Content "/proc/$ProcessId/status" | Where-Object { $_ -like "${Field}:*" }
    [long]($line -replace '[^0-9]', '')
}

# The ids of the processes whose parent is this one (ncat's cat processes, say).
function Get-ChildProcessId {
    param([int] $ProcessId)
    foreach ($directory in [IO.Directory]::GetDirectories('/proc')) {
        if ($directory -notmatch '/(\d+)$') { continue }
        $id = [int]$Matches[1]
        $text = ''
        try { $text = [IO.File]::ReadAllText("$directory/stat") } catch { Write-Verbose "Process $id ended while read." }
        if (-not $text) { continue }
        $fields = $text.Substring($text.LastIndexOf(')') + 2).Split(' ')
        if ([int]$fields[1] -eq $ProcessId) { $id }
    }
}

# CPU seconds of a process, of the children it has waited for, and of those still running: ncat
# echoes through a cat process per connection, whose CPU the server's own figure would miss.
function Get-TreeCpuSeconds {
    param([int] $ProcessId)
    $seconds = 0.0
    foreach ($childId in @(Get-ChildProcessId $ProcessId)) {
        try { $seconds += Get-TreeCpuSeconds $childId } catch { Write-Verbose "Process $childId ended while read." }
    }
    $stat = Get-Content "/proc/$ProcessId/stat" -Raw
    $fields = $stat.Substring($stat.LastIndexOf(')') + 2).Split(' ')
    # utime, stime, then cutime and cstime: the children reaped so far.
    $seconds + ([double]$fields[11] + [double]$fields[12] + [double]$fields[13] + [double]$fields[14]) / $script:clockTicks
}

function Get-SocketCount {
    param([int] $ProcessId)
    @(Get-ChildItem "/proc/$ProcessId/fd" -ErrorAction Ignore | Where-Object { "$($_.LinkTarget)" -like 'socket:*' }).Count
}

function Get-UdpCounters {
    $lines = @(Get-Content /proc/net/snmp | Where-Object { $_ -like 'Udp:*' })
    $names = $lines[0].Split(' ', [StringSplitOptions]::RemoveEmptyEntries)
    $values = $lines[1].Split(' ', [StringSplitOptions]::RemoveEmptyEntries)
    $counters = @{}
    for ($i = 1; $i -lt $names.Count; $i++) { $counters[$names[$i]] = [long]$values[$i] }
    $counters
}

function Get-OpenFileLimit {
    # .NET raises its soft limit to the hard limit at start, so the hard limit is what a server gets.
    $line = Get-Content /proc/self/limits | Where-Object { $_ -like 'Max open files*' }
    $parts = $line.Split(' ', [StringSplitOptions]::RemoveEmptyEntries)
    [pscustomobject]@{ Soft = $parts[3]; Hard = $parts[4] }
}

# The first figure as a multiple of the second, or $null when either is missing.
function Get-Ratio {
    param($Value, $Reference)
    if ($null -eq $Value -or -not $Reference) { return $null }
    [double]$Value / $Reference
}

$script:clockTicks = 100
try { $script:clockTicks = [int](getconf CLK_TCK) } catch { Write-Verbose "getconf CLK_TCK failed; assuming 100." }

#endregion

$rows = [Collections.Generic.List[object]]::new()

#region Echo

function Test-Listening {
    param([int] $Port)
    $client = [Net.Sockets.TcpClient]::new()
    try {
        $client.ConnectAsync([Net.IPAddress]::Loopback, $Port).Wait(1000)
    }
    catch [AggregateException] {
        $false
    }
    finally {
        $client.Dispose()
    }
}

# Each server: how to start it (returns the child and its port), in the order of the table.
$echoServers = [ordered]@{
    'Start-TcpServer -Handler' = {
        $child = Start-ChildPwsh -Name 'Start-TcpServer' -Script 'TcpEchoServer.ps1' -Arguments @('-ModulePath', $moduleManifest)
        $child, [int](Wait-ChildLine $child -Pattern ':(\d+)$' -TimeoutSec 60)[1]
    }
    'Start-TcpServer -Handler -Framing LengthPrefixed' = {
        $child = Start-ChildPwsh -Name 'Start-TcpServer -Framing LengthPrefixed' -Script 'TcpEchoServer.ps1' -Arguments @('-ModulePath', $moduleManifest, '-Framing', 'LengthPrefixed')
        # The client sends 4-byte big-endian length-prefixed messages to this one.
        $child, [int](Wait-ChildLine $child -Pattern ':(\d+)$' -TimeoutSec 60)[1], 'lp'
    }
    'Start-TcpServer -Handler -Framing Json' = {
        $child = Start-ChildPwsh -Name 'Start-TcpServer -Framing Json' -Script 'TcpEchoServer.ps1' -Arguments @('-ModulePath', $moduleManifest, '-Framing', 'Json')
        # The client sends one 64-byte JSON object per line; the handler echoes the parsed object.
        $child, [int](Wait-ChildLine $child -Pattern ':(\d+)$' -TimeoutSec 60)[1], 'json'
    }
    'Start-TcpServer -Handler -AsJob' = {
        $child = Start-ChildPwsh -Name 'Start-TcpServer -AsJob' -Script 'TcpEchoServer.ps1' -Arguments @('-ModulePath', $moduleManifest, '-AsJob')
        $child, [int](Wait-ChildLine $child -Pattern ':(\d+)$' -TimeoutSec 60)[1]
    }
    'Start-TcpServer -Handler -ThrottleLimit 2' = {
        $child = Start-ChildPwsh -Name 'Start-TcpServer -ThrottleLimit 2' -Script 'TcpEchoServer.ps1' -Arguments @('-ModulePath', $moduleManifest, '-ThrottleLimit', '2')
        $child, [int](Wait-ChildLine $child -Pattern ':(\d+)$' -TimeoutSec 60)[1]
    }
    'raw .NET async sockets' = {
        $child = Start-BenchTool -Name 'raw .NET echo server' -Arguments @('echo-server', '--port', '0')
        $child, [int](Wait-ChildLine $child -Pattern '^(\d+)$' -TimeoutSec 30)[1]
    }
    'Python asyncio' = {
        $python = Get-Command python3 -CommandType Application -ErrorAction Ignore | Select-Object -First 1
        if (-not $python) { return }
        $child = Start-Child -Name 'Python asyncio' -FileName $python.Source -Arguments @('-u', (Join-Path $PSScriptRoot 'echo_server.py'))
        $child, [int](Wait-ChildLine $child -Pattern '^(\d+)$' -TimeoutSec 30)[1]
    }
    'ncat --exec /bin/cat' = {
        $ncat = Get-Command ncat -CommandType Application -ErrorAction Ignore | Select-Object -First 1
        if (-not $ncat) { return }
        # ncat cannot report a port it was given as 0: take a free one, then wait until it accepts.
        $port = Get-FreePort
        # --exec hands the socket itself to cat, which writes back every byte it reads: a line echo.
        $child = Start-Child -Name 'ncat' -FileName $ncat.Source -Arguments @('--listen', '--keep-open', '--max-conns', '1000', '--exec', '/bin/cat', '127.0.0.1', "$port")
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while (-not (Test-Listening $port)) {
            if ($child.Process.HasExited -or [DateTime]::UtcNow -gt $deadline) { throw "ncat did not listen on port $port.$(Get-ChildErrorText $child)" }
            Start-Sleep -Milliseconds 50
        }
        $child, $port
    }
}

function Measure-Echo {
    $reference = @{}
    $measured = [Collections.Generic.List[object]]::new()
    foreach ($name in $echoServers.Keys) {
        $child = $null
        try {
            $started = & $echoServers[$name]
            if (-not $started) {
                foreach ($connections in $echoConnections) {
                    $measured.Add([pscustomobject]@{ Server = $name; Connections = $connections; Rate = $null; Cpu = $null; Notes = 'not installed' })
                }
                continue
            }
            $child, $port, $framing = $started
            if (-not $framing) { $framing = 'line' }
            foreach ($connections in $echoConnections) {
                $cpuBefore = Get-TreeCpuSeconds $child.Process.Id
                $client = Start-BenchTool -Name "echo-client $connections" -Arguments @(
                    'echo-client', '--host', '127.0.0.1', '--port', "$port", '--connections', "$connections",
                    '--seconds', "$($settings.EchoSeconds)", '--warmup', "$($settings.Warmup)", '--size', '64', '--framing', $framing)
                try {
                    $result = Receive-ChildJson $client -TimeoutSec ($settings.EchoSeconds + $settings.Warmup + 30)
                }
                finally {
                    Stop-Child $client
                }
                # ncat's cat processes end with their connections: once ncat has reaped them, their
                # CPU is in its own figures.
                $deadline = [DateTime]::UtcNow.AddSeconds(3)
                while (@(Get-ChildProcessId $child.Process.Id).Count -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
                $cpu = (Get-TreeCpuSeconds $child.Process.Id) - $cpuBefore
                $cpuPerRoundTrip = if ($result.allRoundTrips -gt 0) { 1e6 * $cpu / $result.allRoundTrips } else { $null }
                $notes = @()
                if ($null -ne $cpuPerRoundTrip) { $notes += '{0:N1} us server CPU/rt' -f $cpuPerRoundTrip }
                $notes += 'server RSS {0:N0} MiB after' -f ((Get-ProcStatusKiB $child.Process.Id 'VmRSS') / 1KB)
                if ($result.errors) { $notes += "$($result.errors) error(s): $($result.firstError)" }
                $entry = [pscustomobject]@{ Server = $name; Connections = $connections; Rate = [double]$result.roundTripsPerSecond; Cpu = $cpuPerRoundTrip; Notes = $notes -join '; ' }
                $measured.Add($entry)
                if ($name -eq 'raw .NET async sockets') { $reference[$connections] = $entry }
                Write-Host ('  {0,-42} {1,2} conn {2,10:N0} rt/s  {3}' -f $name, $connections, $entry.Rate, $entry.Notes)
            }
        }
        catch {
            Write-Warning "Echo against ${name} failed: $_"
            foreach ($connections in $echoConnections) {
                if (-not ($measured | Where-Object { $_.Server -eq $name -and $_.Connections -eq $connections })) {
                    $measured.Add([pscustomobject]@{ Server = $name; Connections = $connections; Rate = $null; Cpu = $null; Notes = "failed: $_" })
                }
            }
        }
        finally {
            if ($child) { Stop-Child $child }
        }
    }
    foreach ($connections in $echoConnections) {
        $raw = $reference[$connections]
        foreach ($entry in $measured | Where-Object Connections -EQ $connections) {
            $ratio = Get-Ratio $entry.Rate $(if ($raw) { $raw.Rate })
            $targeted = $connections -eq 50 -and $entry.Server -eq 'Start-TcpServer -Handler'
            $rows.Add([pscustomobject]@{
                Scenario = "echo 64 B, $connections conn"
                Server = $entry.Server
                Figure = $entry.Rate
                Unit = 'round trips/s'
                Ratios = [ordered]@{ 'raw .NET' = $ratio }
                Target = if ($targeted) { '>= {0:N1}x' -f $targets.EchoRatio50 } else { '' }
                Met = if ($targeted) { $null -ne $ratio -and $ratio -ge $targets.EchoRatio50 } else { $null }
                Notes = $entry.Notes
            })
        }
    }
    # Server CPU per round trip: lower is better, so the target is a ceiling.
    $raw = $reference[50]
    foreach ($entry in $measured | Where-Object { $_.Connections -eq 50 -and $_.Server -eq 'Start-TcpServer -Handler' }) {
        $ratio = Get-Ratio $entry.Cpu $(if ($raw) { $raw.Cpu })
        $rows.Add([pscustomobject]@{
            Scenario = 'echo 64 B, 50 conn'
            Server = $entry.Server
            Figure = $entry.Cpu
            Unit = 'us server CPU/rt'
            Ratios = [ordered]@{ 'raw .NET' = $ratio }
            Target = '<= {0:N2}x' -f $targets.EchoCpuRatio50
            Met = $null -ne $ratio -and $ratio -le $targets.EchoCpuRatio50
            Notes = 'user + system CPU of the server process over the run, per round trip'
        })
    }
}

#endregion

#region Idle connections

function Measure-IdleConnections {
    $count = $settings.IdleCount
    $limit = Get-OpenFileLimit
    if ($limit.Hard -ne 'unlimited' -and [int]$limit.Hard -lt $count + 200) {
        $count = [int]$limit.Hard - 200
        Write-Warning "The hard limit on open files is $($limit.Hard): measuring $count idle connections instead of $($settings.IdleCount)."
    }
    $server = $null
    $clients = $null
    try {
        $server = Start-ChildPwsh -Name 'idle Start-TcpServer' -Script 'IdleTcpServer.ps1' -Arguments @('-ModulePath', $moduleManifest)
        $port = [int](Wait-ChildLine $server -Pattern ':(\d+)$' -TimeoutSec 60)[1]
        $ask = {
            param([string] $Command)
            $server.Process.StandardInput.WriteLine($Command)
            $server.Process.StandardInput.Flush()
            Receive-ChildJson $server -TimeoutSec 30
        }
        $waitFor = {
            param([scriptblock] $Condition, [double] $TimeoutSec)
            $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
            do {
                $statistics = & $ask 'count'
                if (& $Condition $statistics) { return $statistics }
                Start-Sleep -Milliseconds 100
            } while ([DateTime]::UtcNow -lt $deadline)
            $statistics
        }

        # Warm up: the accept and receive paths are compiled and their pools filled before the baseline.
        $warm = Start-BenchTool -Name 'idle-clients warm-up' -Arguments @('idle-clients', '--port', "$port", '--count', '200', '--hold-seconds', '0.2')
        try { $null = Receive-ChildJson $warm -TimeoutSec 30; $null = $warm.Process.WaitForExit(5000) } finally { Stop-Child $warm }
        $null = & $waitFor { param($s) $s.open -eq 0 -and $s.total -ge 200 } 10

        # A collection frees memory that the GC returns to the system over the next moments, so a
        # single reading swings by megabytes: the lowest of a few readings after collections is steadier.
        $settle = {
            $lowest = [long]::MaxValue
            for ($i = 0; $i -lt 3; $i++) {
                $statistics = & $ask 'stats'
                Start-Sleep -Milliseconds 300
                $lowest = [Math]::Min($lowest, (Get-ProcStatusKiB $server.Process.Id 'VmRSS'))
            }
            $statistics, $lowest
        }
        $before, $rssBefore = & $settle
        $socketsBefore = Get-SocketCount $server.Process.Id

        $clients = Start-BenchTool -Name 'idle-clients' -Arguments @('idle-clients', '--port', "$port", '--count', "$count")
        $connected = Receive-ChildJson $clients -TimeoutSec 180
        $after = & $waitFor { param($s) $s.open -ge $connected.connected } 60
        $rssNoCollect = Get-ProcStatusKiB $server.Process.Id 'VmRSS'
        $after, $rssAfter = & $settle
        $sockets = (Get-SocketCount $server.Process.Id) - $socketsBefore

        $accepted = $after.open
        $failures = ($connected.failures.PSObject.Properties | ForEach-Object { "$($_.Name) $($_.Value)" }) -join ', '
        $acceptNotes = "clients connected $($connected.connected) in $($connected.seconds) s; server sockets +$sockets; errors $($after.errors)"
        if ($failures) { $acceptNotes += "; client failures: $failures" }
        $rows.Add([pscustomobject]@{
            Scenario = "idle TCP connections"
            Server = 'Start-TcpServer -AsJob'
            Figure = [double]$accepted
            Unit = "accepted of $count"
            Ratios = $null
            Target = "$count"
            Met = $accepted -eq $count
            Notes = $acceptNotes
        })
        $perConnection = if ($accepted -gt 0) { ($rssAfter - $rssBefore) * 1KB / $accepted } else { $null }
        $heapPerConnection = if ($accepted -gt 0) { ($after.heap - $before.heap) / $accepted } else { 0 }
        $noCollect = if ($accepted -gt 0) { ($rssNoCollect - $rssBefore) * 1KB / $accepted } else { 0 }
        $rows.Add([pscustomobject]@{
            Scenario = "idle TCP memory"
            Server = 'Start-TcpServer -AsJob'
            Figure = $perConnection
            Unit = 'bytes RSS/conn'
            Ratios = $null
            Target = "<= $($targets.IdleBytesPerConnection)"
            Met = $null -ne $perConnection -and $perConnection -le $targets.IdleBytesPerConnection
            Notes = ('RSS {0:N0} -> {1:N0} KiB after GCs ({2:N0} B/conn before them); managed heap {3:N0} B/conn' -f $rssBefore, $rssAfter, $noCollect, $heapPerConnection)
        })
        Write-Host ('  accepted {0:N0} of {1:N0}; {2:N0} B RSS per connection; {3}' -f $accepted, $count, $perConnection, $acceptNotes)
    }
    catch {
        Write-Warning "Idle connections failed: $_"
        $rows.Add([pscustomobject]@{ Scenario = 'idle TCP connections'; Server = 'Start-TcpServer -AsJob'; Figure = $null; Unit = ''; Ratios = $null; Target = "$count"; Met = $false; Notes = "failed: $_" })
    }
    finally {
        if ($clients) { Stop-Child $clients }
        if ($server) { Stop-Child $server }
    }
}

#endregion

#region UDP

function Measure-Udp {
    $count = $settings.UdpCount
    $timeout = $settings.UdpTimeoutSec
    $receivers = [ordered]@{
        'Receive-UdpDatagram | Measure-Object' = {
            $child = Start-ChildPwsh -Name 'Receive-UdpDatagram' -Script 'UdpReceiver.ps1' -Arguments @('-ModulePath', $moduleManifest, '-Count', "$count", '-TimeoutSec', "$timeout")
            $child, [int](Wait-ChildLine $child -Pattern ':(\d+)$' -TimeoutSec 60)[1]
        }
        'raw .NET blocking receive' = {
            $child = Start-BenchTool -Name 'raw .NET UDP receiver' -Arguments @('udp-receive', '--port', '0', '--count', "$count", '--timeout-sec', "$timeout")
            $child, [int](Wait-ChildLine $child -Pattern '^(\d+)$' -TimeoutSec 30)[1]
        }
    }
    $measured = [ordered]@{}
    foreach ($name in $receivers.Keys) {
        $receiver = $null
        try {
            $receiver, $port = & $receivers[$name]
            $kernelBefore = Get-UdpCounters
            $sender = Start-BenchTool -Name 'udp-send' -Arguments @('udp-send', '--host', '127.0.0.1', '--port', "$port", '--count', "$count", '--size', '64')
            try { $sent = Receive-ChildJson $sender -TimeoutSec 60 } finally { Stop-Child $sender }
            $result = Receive-ChildJson $receiver -TimeoutSec ($timeout + 30)
            $kernelAfter = Get-UdpCounters
            $share = [double]$result.received / $count
            $notes = @(
                '{0:N0} received; sender {1:N0}/s' -f $result.received, $sent.datagramsPerSecond
                'kernel receive-buffer drops (whole host) {0:N0}' -f ($kernelAfter.RcvbufErrors - $kernelBefore.RcvbufErrors)
            )
            if ($sent.errors) { $notes += "send errors $($sent.errors) ($($sent.firstError))" }
            if ($result.PSObject.Properties['warnings'] -and $result.warnings) { $notes += "warning: $($result.warnings -join ' ')" }
            $measured[$name] = [pscustomobject]@{ Received = [long]$result.received; Notes = $notes -join '; ' }
            Write-Host ('  {0,-42} {1:P1} received; {2}' -f $name, $share, ($notes -join '; '))
        }
        catch {
            Write-Warning "UDP into ${name} failed: $_"
            $measured[$name] = [pscustomobject]@{ Received = $null; Notes = "failed: $_" }
        }
        finally {
            if ($receiver) { Stop-Child $receiver }
        }
    }
    # The raw receiver is the reference: what one process can take off this machine's socket at all.
    $raw = $measured['raw .NET blocking receive']
    foreach ($name in $measured.Keys) {
        $entry = $measured[$name]
        $isCmdlet = $name -like 'Receive-UdpDatagram*'
        $ratio = Get-Ratio $entry.Received $raw.Received
        $rows.Add([pscustomobject]@{
            Scenario = "UDP 64 B x $('{0:N0}' -f $count)"
            Server = $name
            Figure = if ($null -ne $entry.Received) { 100.0 * $entry.Received / $count } else { $null }
            Unit = '% received'
            Ratios = [ordered]@{ 'raw .NET' = $ratio }
            Target = if ($isCmdlet) { '>= {0:N2}x' -f $targets.UdpRatio } else { '' }
            Met = if ($isCmdlet) { $null -ne $ratio -and $ratio -ge $targets.UdpRatio } else { $null }
            Notes = $entry.Notes
        })
    }
}

#endregion

#region UDP echo

function Measure-UdpEcho {
    $servers = [ordered]@{
        'Start-UdpServer -Handler' = {
            $child = Start-ChildPwsh -Name 'Start-UdpServer' -Script 'UdpEchoServer.ps1' -Arguments @('-ModulePath', $moduleManifest)
            $child, [int](Wait-ChildLine $child -Pattern ':(\d+)$' -TimeoutSec 60)[1]
        }
        'raw .NET async UDP' = {
            $child = Start-BenchTool -Name 'raw .NET UDP echo server' -Arguments @('udp-echo-server', '--port', '0')
            $child, [int](Wait-ChildLine $child -Pattern '^(\d+)$' -TimeoutSec 30)[1]
        }
    }
    $reference = @{}
    $measured = [Collections.Generic.List[object]]::new()
    foreach ($name in $servers.Keys) {
        $child = $null
        try {
            $child, $port = & $servers[$name]
            foreach ($senders in $echoConnections) {
                $cpuBefore = Get-TreeCpuSeconds $child.Process.Id
                $client = Start-BenchTool -Name "udp-echo-client $senders" -Arguments @(
                    'udp-echo-client', '--host', '127.0.0.1', '--port', "$port", '--senders', "$senders",
                    '--seconds', "$($settings.EchoSeconds)", '--warmup', "$($settings.Warmup)", '--size', '64', '--timeout-sec', '1')
                try {
                    $result = Receive-ChildJson $client -TimeoutSec ($settings.EchoSeconds + $settings.Warmup + 30)
                }
                finally {
                    Stop-Child $client
                }
                $cpu = (Get-TreeCpuSeconds $child.Process.Id) - $cpuBefore
                $allRoundTrips = if ($result.PSObject.Properties['allRoundTrips']) { [long]$result.allRoundTrips } else { 0 }
                $cpuPerRoundTrip = if ($allRoundTrips -gt 0) { 1e6 * $cpu / $allRoundTrips } else { $null }
                $notes = @()
                if ($null -ne $cpuPerRoundTrip) { $notes += '{0:N1} us server CPU/rt' -f $cpuPerRoundTrip }
                if ($result.PSObject.Properties['lost']) { $notes += '{0:N0} lost (no echo within 1 s)' -f $result.lost }
                $notes += 'server RSS {0:N0} MiB after' -f ((Get-ProcStatusKiB $child.Process.Id 'VmRSS') / 1KB)
                if ($result.errors) { $notes += "$($result.errors) error(s): $($result.firstError)" }
                $entry = [pscustomobject]@{ Server = $name; Senders = $senders; Rate = [double]$result.roundTripsPerSecond; Notes = $notes -join '; ' }
                $measured.Add($entry)
                if ($name -eq 'raw .NET async UDP') { $reference[$senders] = $entry }
                Write-Host ('  {0,-42} {1,2} sender{2} {3,10:N0} rt/s  {4}' -f $name, $senders, $(if ($senders -eq 1) { ' ' } else { 's' }), $entry.Rate, $entry.Notes)
            }
        }
        catch {
            Write-Warning "UDP echo against ${name} failed: $_"
            foreach ($senders in $echoConnections) {
                if (-not ($measured | Where-Object { $_.Server -eq $name -and $_.Senders -eq $senders })) {
                    $measured.Add([pscustomobject]@{ Server = $name; Senders = $senders; Rate = $null; Notes = "failed: $_" })
                }
            }
        }
        finally {
            if ($child) { Stop-Child $child }
        }
    }
    foreach ($senders in $echoConnections) {
        $raw = $reference[$senders]
        foreach ($entry in $measured | Where-Object Senders -EQ $senders) {
            # No target: the figures are measured against the raw .NET server, nothing more.
            $rows.Add([pscustomobject]@{
                Scenario = "UDP echo 64 B, $senders sender$(if ($senders -ne 1) { 's' })"
                Server = $entry.Server
                Figure = $entry.Rate
                Unit = 'round trips/s'
                Ratios = [ordered]@{ 'raw .NET' = (Get-Ratio $entry.Rate $(if ($raw) { $raw.Rate })) }
                Target = ''
                Met = $null
                Notes = $entry.Notes
            })
        }
    }
}

#endregion

#region Network namespaces

# The namespaces made here, so that whatever happens they are all deleted at the end.
$namespaces = [Collections.Generic.List[string]]::new()

# Runs a command inside the namespace: its exit code, output and seconds, as Invoke-Tool gives them.
function Invoke-InNetns {
    param([Parameter(Mandatory)] [string] $Namespace, [Parameter(Mandatory)] [string[]] $Command, [double] $TimeoutSec = 30)
    Invoke-Tool -Name "ip netns exec $($Command[0])" -FileName (Find-Tool 'ip') -Arguments (@('netns', 'exec', $Namespace) + $Command) -TimeoutSec $TimeoutSec
}

# A network namespace of the benchmark's own with only its loopback, up: nothing else listens there,
# and nothing sent there leaves it. Throws when one cannot be made here (no ip, not root).
function New-BenchNetns {
    param([Parameter(Mandatory)] [string] $Purpose)
    if (-not (Find-Tool 'ip')) { throw 'ip (iproute2) is not installed' }
    $name = "netcmdlets-bench-$PID-$Purpose"
    $added = Invoke-Tool -Name 'ip netns add' -FileName (Find-Tool 'ip') -Arguments @('netns', 'add', $name) -TimeoutSec 30
    if ($added.ExitCode -ne 0) { throw "ip netns add failed: $($added.Error)" }
    $namespaces.Add($name)
    $up = Invoke-InNetns $name @('ip', 'link', 'set', 'lo', 'up')
    if ($up.ExitCode -ne 0) {
        Remove-BenchNetns $name
        throw "bringing lo up in the namespace failed: $($up.Error)"
    }
    $name
}

# Deletes the namespace, and with it the veth pair made in it; its processes must be gone first.
function Remove-BenchNetns {
    param([Parameter(Mandatory)] [string] $Name)
    $deleted = Invoke-Tool -Name 'ip netns delete' -FileName (Find-Tool 'ip') -Arguments @('netns', 'delete', $Name) -TimeoutSec 30
    if ($deleted.ExitCode -ne 0) { Write-Warning "ip netns delete $Name failed: $($deleted.Error)" }
    $null = $namespaces.Remove($Name)
}

# Makes connections to the ports of the filtered case vanish in the namespace, without a reset:
# an iptables DROP rule for them on lo where iptables works, or else a veth pair whose far end
# is a neighbour entry to a MAC that no interface has, so SYNs to 10.77.0.2 go out and nowhere.
# Returns the address to scan and how it was done.
function Set-FilteredPort {
    param([Parameter(Mandatory)] [string] $Namespace, [Parameter(Mandatory)] [int] $FirstPort, [Parameter(Mandatory)] [int] $LastPort)
    $why = 'iptables is not installed'
    if (Find-Tool 'iptables') {
        $rule = @('iptables', '-A', 'INPUT', '-i', 'lo', '-p', 'tcp', '--dport', "${FirstPort}:${LastPort}", '-j', 'DROP')
        $dropped = Invoke-InNetns $Namespace $rule
        if ($dropped.ExitCode -eq 0) {
            return [pscustomobject]@{ Address = '127.0.0.1'; Method = "filtered by '$($rule -join ' ')' in the namespace" }
        }
        $why = "iptables failed ($($dropped.Error))"
    }
    foreach ($step in @(
            'ip link add v0 type veth peer name v1'
            'ip addr add 10.77.0.1/24 dev v0'
            'ip link set v0 up'
            'ip link set v1 up'
            'ip neigh add 10.77.0.2 lladdr 02:00:00:00:00:99 dev v0 nud permanent')) {
        $run = Invoke-InNetns $Namespace ($step -split ' ')
        if ($run.ExitCode -ne 0) { throw "$why, and '$step' failed: $($run.Error)" }
    }
    [pscustomobject]@{ Address = '10.77.0.2'; Method = "$why; filtered by a veth pair in the namespace, 10.77.0.2 a permanent neighbour at a MAC no interface has" }
}

#endregion

#region Port scan

# Ports listening on 127.0.0.1 or on every address in the range, from /proc/net/tcp and tcp6: what
# a scan finds besides the benchmark's own listeners when it cannot have a namespace of its own.
function Get-LoopbackListener {
    param([int] $FirstPort, [int] $LastPort)
    $ports = foreach ($line in Get-Content /proc/net/tcp, /proc/net/tcp6 -ErrorAction Ignore) {
        if ($line -notmatch '^\s*\d+:\s+([0-9A-F]+):([0-9A-F]{4})\s+[0-9A-F]+:0000\s+0A\s') { continue }
        $address = $Matches[1]
        $port = [Convert]::ToInt32($Matches[2], 16)
        $loopbackOrAny = $address -in @('0100007F', '00000000', '00000000000000000000000000000000', '0000000000000000FFFF00000100007F')
        if ($loopbackOrAny -and $port -ge $FirstPort -and $port -le $LastPort) { $port }
    }
    @($ports | Sort-Object -Unique)
}

# '' when the ports found are the ones expected, else what is missing and what is extra.
function Compare-PortSet {
    param([int[]] $Found, [int[]] $Expected)
    $missing = @($Expected | Where-Object { $_ -notin $Found })
    $extra = @($Found | Where-Object { $_ -notin $Expected })
    $parts = @()
    if ($missing) { $parts += "missed $($missing.Count) open: $($missing -join ',')" }
    if ($extra) { $parts += "$($extra.Count) reported open that were not: $($extra -join ',')" }
    $parts -join '; '
}

# One scan of FirstPort..LastPort on Address by each tool, each in a process of its own started through
# the launcher (into the namespace), bounded in time: a tool that has not ended is killed and its row
# says so. Adds the rows; each tool's open ports are checked against the expected ones.
function Invoke-PortScanCase {
    param(
        [Parameter(Mandatory)] [string] $Label,
        [string[]] $Launcher = @(),
        [Parameter(Mandatory)] [string] $Address,
        [Parameter(Mandatory)] [int] $FirstPort,
        [Parameter(Mandatory)] [int] $LastPort,
        [int[]] $Expected = @(),
        [Parameter(Mandatory)] [double] $TargetRatio,
        [string] $CaseNotes = '',
        # The ports do not answer: a tool that tests them one at a time waits out each timeout.
        [switch] $Filtered
    )
    $timeoutSec = $portScan.TimeoutSec
    $count = $LastPort - $FirstPort + 1
    # Each tool's figure is the median of this many scans (one where every port waits out its timeout).
    $repeat = if ($Filtered) { 1 } else { 5 }
    $median = { param([double[]] $Values) @($Values | Sort-Object)[[int][Math]::Floor(($Values.Count - 1) / 2)] }
    $range = "$FirstPort-$LastPort"
    # Generous bounds: every port waited out in turn (or 5 ms each when they answer), plus start-up on a busy machine.
    $bound = 30 + $(if ($Filtered) { $count * $timeoutSec } else { $count * 0.005 })
    $nc = Find-Tool 'nc.openbsd'
    $nmap = Find-Tool 'nmap'
    $ncat = Find-Tool 'ncat'
    $tool = {
        param([string] $Name, [string] $FileName, [string[]] $Arguments)
        [string[]] $command = @($Launcher) + @($FileName) + $Arguments
        $run = Invoke-Tool -Name $Name -FileName $command[0] -Arguments @($command | Select-Object -Skip 1) -TimeoutSec $bound
        if ($null -eq $run.ExitCode) { throw ('killed after {0:N0} s: it had not ended' -f $bound) }
        $run
    }
    $scanners = [ordered]@{
        "Test-TcpPort -TimeoutSec $timeoutSec" = {
            $child = Start-ChildPwsh -Name 'Test-TcpPort' -Script 'PortScan.ps1' -Launcher $Launcher -Arguments @(
                '-ModulePath', $moduleManifest, '-ComputerName', $Address, '-FirstPort', "$FirstPort", '-LastPort', "$LastPort", '-TimeoutSec', "$timeoutSec", '-Repeat', "$repeat")
            try {
                $result = Receive-ChildJson $child -TimeoutSec (60 + $repeat * $bound)
            }
            catch {
                if ($child.Process.HasExited) { throw "ended without a result: $_" }
                throw ('killed after {0:N0} s without a result' -f (60 + $bound))
            }
            finally {
                Stop-Child $child
            }
            if ($result.PSObject.Properties['error']) { throw $result.error }
            $statuses = ($result.statuses.PSObject.Properties | ForEach-Object { "$($_.Name) $($_.Value)" }) -join ', '
            [pscustomobject]@{
                Seconds = [double]$result.seconds
                Open = [int[]]@($result.open)
                Notes = '{0:N2} s Stopwatch around the cmdlet, median of {4} scans in one pwsh after a 200-port warm-up (the first {5:N2} s: it compiles what the scan runs); {1} results: {2}; slowest {3:N3} s' -f $result.seconds, $result.results, $statuses, $result.slowestLatency, $repeat, $result.first
            }
        }
        "nc -z -w$timeoutSec (OpenBSD)" = if ($nc) {
            {
                # Timed as fast as it goes, without -v (which writes a line for every port); then once
                # with -v, untimed, for the answers: the open ports are the 'succeeded' lines on stderr.
                # Where every port waits out its timeout, the few lines of -v cost nothing: that run is timed.
                $run = & $tool 'nc -z -v' $nc @('-v', '-z', "-w$timeoutSec", $Address, $range)
                $open = [int[]]@([regex]::Matches($run.Error, 'Connection to \S+ (\d+) port \S+ succeeded') | ForEach-Object { [int]$_.Groups[1].Value } | Sort-Object)
                if ($Filtered) {
                    return [pscustomobject]@{ Seconds = $run.Seconds; Open = $open; Notes = '{0:N2} s process start to exit, with -v to name the open ports' -f $run.Seconds }
                }
                $seconds = & $median @(foreach ($i in 1..$repeat) { (& $tool 'nc -z' $nc @('-z', "-w$timeoutSec", $Address, $range)).Seconds })
                [pscustomobject]@{ Seconds = $seconds; Open = $open; Notes = '{0:N2} s process start to exit, median of {1} runs without -v; the answers from a run with -v ({2:N2} s)' -f $seconds, $repeat, $run.Seconds }
            }
        }
        'nmap -sT' = if ($nmap) {
            {
                # -Pn -n: no host discovery and no DNS; -oG -: one greppable line of ports on stdout.
                $runs = foreach ($i in 1..$repeat) { & $tool 'nmap -sT' $nmap @('-sT', '-Pn', '-n', '-p', $range, '-oG', '-', $Address) }
                $run = @($runs)[-1]
                if ($run.ExitCode -ne 0) { throw "exit code $($run.ExitCode): $($run.Error)" }
                $run = [pscustomobject]@{ Seconds = & $median @($runs | ForEach-Object Seconds); Output = $run.Output }
                $open = [int[]]@([regex]::Matches($run.Output, '(\d+)/open/tcp') | ForEach-Object { [int]$_.Groups[1].Value } | Sort-Object)
                $notes = '{0:N2} s process start to exit, default timing, median of {1}' -f $run.Seconds, $repeat
                $filtered = [regex]::Matches($run.Output, '(\d+)/filtered/tcp').Count
                if ($run.Output -match 'Ignored State: filtered \((\d+)\)') { $filtered += [int]$Matches[1] }
                if ($filtered) { $notes += "; $filtered reported filtered" }
                [pscustomobject]@{ Seconds = $run.Seconds; Open = $open; Notes = $notes }
            }
        }
        'ncat -z' = if ($ncat) {
            {
                if ($Filtered) {
                    return [pscustomobject]@{ Seconds = $null; Open = $null; Notes = 'ncat: no range scan; not run one process per port over ports that do not answer' }
                }
                # ncat -z takes one port: time one process per port over a few ports the scan expects
                # closed, and loop it over the whole range only when that is quick. The address and
                # ports are positional arguments to sh, never parsed as shell text.
                $loop = 'a="$1"; shift; for p in "$@"; do "$0" -z -w' + $timeoutSec + ' "$a" "$p" 2>/dev/null && echo "$p"; done'
                $sample = @($FirstPort..$LastPort | Where-Object { $_ -notin $Expected } | Select-Object -First 20)
                $run = & $tool 'ncat -z loop' (Find-Tool 'sh') (@('-c', $loop, $ncat, $Address) + @($sample | ForEach-Object { "$_" }))
                $perPort = $run.Seconds / $sample.Count
                $whole = $perPort * $count
                if ($whole -gt 30) {
                    return [pscustomobject]@{
                        Seconds = $null; Open = $null
                        Notes = 'ncat: no range scan; one ncat -z process per port takes {0:N0} ms (timed over {1} ports), about {2:N0} s for {3}: not run' -f (1000 * $perPort), $sample.Count, $whole, $range
                    }
                }
                $run = & $tool 'ncat -z loop' (Find-Tool 'sh') (@('-c', $loop, $ncat, $Address) + @($FirstPort..$LastPort | ForEach-Object { "$_" }))
                $open = [int[]]@($run.Output -split '\s+' | Where-Object { $_ } | ForEach-Object { [int]$_ } | Sort-Object)
                [pscustomobject]@{ Seconds = $run.Seconds; Open = $open; Notes = 'ncat: no range scan; one ncat -z process per port in a sh loop, {0:N2} s start to exit' -f $run.Seconds }
            }
        }
    }

    $measured = [ordered]@{}
    foreach ($name in $scanners.Keys) {
        if (-not $scanners[$name]) {
            $measured[$name] = [pscustomobject]@{ Seconds = $null; Notes = 'not installed'; Correct = $null }
            continue
        }
        try {
            $result = & $scanners[$name]
            $notes = $result.Notes
            $correct = $null
            if ($null -ne $result.Open) {
                $difference = Compare-PortSet -Found $result.Open -Expected $Expected
                $correct = -not $difference
                $notes += if ($difference) { "; DIFFERS from the ports opened: $difference" } elseif ($Expected.Count) { "; found the $($Expected.Count) open ports, no other" } else { '; none reported open' }
            }
            $measured[$name] = [pscustomobject]@{ Seconds = $result.Seconds; Notes = $notes; Correct = $correct }
            Write-Host ('  {0,-34} {1,8} s  {2}' -f $name, $(if ($null -ne $result.Seconds) { '{0:N2}' -f $result.Seconds } else { '-' }), $notes)
        }
        catch {
            Write-Warning "Port scan ($Label) with ${name} failed: $_"
            $measured[$name] = [pscustomobject]@{ Seconds = $null; Notes = "failed: $_"; Correct = $false }
        }
    }
    $ncSeconds = $measured["nc -z -w$timeoutSec (OpenBSD)"].Seconds
    $first = $true
    foreach ($name in $measured.Keys) {
        $entry = $measured[$name]
        # Lower is better: nc's seconds over this tool's, how many times as fast as nc it is.
        $ratio = if ($null -ne $entry.Seconds -and $entry.Seconds -gt 0) { Get-Ratio $ncSeconds $entry.Seconds } else { $null }
        $notes = if ($first -and $CaseNotes) { "$CaseNotes; $($entry.Notes)" } else { $entry.Notes }
        $rows.Add([pscustomobject]@{
            Scenario = $Label
            Server = $name
            Figure = $entry.Seconds
            Unit = 's'
            Ratios = [ordered]@{ 'as fast as nc -z' = $ratio }
            Target = if ($first) { '>= {0:N1}x' -f $TargetRatio } else { '' }
            # A fast scan with a wrong answer does not count.
            Met = if ($first) { $null -ne $ratio -and $ratio -ge $TargetRatio -and $entry.Correct -ne $false } else { $null }
            Notes = $notes
        })
        $first = $false
    }
}

function Measure-PortScan {
    $first = $portScan.FirstPort
    $last = $portScan.LastPort

    # Refused: the benchmark's listeners open, every other port of the range refused at once.
    $namespace = $null
    $listeners = $null
    try {
        $launcher = @()
        $caseNotes = 'in a network namespace of its own'
        try {
            $namespace = New-BenchNetns 'refused'
            $launcher = @((Find-Tool 'ip'), 'netns', 'exec', $namespace)
        }
        catch {
            Write-Warning "No network namespace for the refused scan ($_): it scans this machine's own 127.0.0.1."
            $caseNotes = "in this machine's network namespace ($_)"
        }
        $listeners = Start-BenchTool -Name 'tcp-listeners' -Launcher $launcher -Arguments @(
            'tcp-listeners', '--count', "$($portScan.OpenCount)", '--first-port', "$first", '--last-port', "$last")
        [int[]] $opened = ((Wait-ChildLine $listeners -Pattern '^(\d+( \d+)*)$' -TimeoutSec 30)[1] -split ' ') | ForEach-Object { [int]$_ }
        [int[]] $expected = $opened
        if (-not $namespace) {
            $others = @(Get-LoopbackListener -FirstPort $first -LastPort $last | Where-Object { $_ -notin $opened })
            if ($others) {
                $expected = @($opened + $others | Sort-Object -Unique)
                $caseNotes += "; $($others.Count) other listener(s) in the range expected open too: $($others -join ',')"
            }
        }
        Write-Host "  refused: $($opened.Count) listeners on 127.0.0.1 at $($opened -join ' '), $caseNotes"
        Invoke-PortScanCase -Label "port scan $first-$last, $($opened.Count) open, rest refused" -Launcher $launcher -Address '127.0.0.1' `
            -FirstPort $first -LastPort $last -Expected $expected -TargetRatio $targets.PortScanRefusedRatio -CaseNotes $caseNotes
    }
    catch {
        Write-Warning "Port scan (refused) failed: $_"
        $rows.Add([pscustomobject]@{ Scenario = "port scan $first-$last, refused"; Server = 'Test-TcpPort'; Figure = $null; Unit = 's'; Ratios = $null; Target = ''; Met = $false; Notes = "failed: $_" })
    }
    finally {
        if ($listeners) { Stop-Child $listeners }
        if ($namespace) { Remove-BenchNetns $namespace }
    }

    # Filtered: SYNs dropped without an answer, so each port costs its whole timeout, unless tested at once.
    $namespace = $null
    $filteredFirst = $portScan.FilteredFirstPort
    $filteredLast = $filteredFirst + $portScan.FilteredCount - 1
    try {
        $namespace = New-BenchNetns 'filtered'
        $filter = Set-FilteredPort -Namespace $namespace -FirstPort $filteredFirst -LastPort $filteredLast
        Write-Host "  filtered: ports $filteredFirst-$filteredLast on $($filter.Address), $($filter.Method)"
        Invoke-PortScanCase -Label "port scan $($portScan.FilteredCount) filtered, timeout $($portScan.TimeoutSec) s" -Launcher @((Find-Tool 'ip'), 'netns', 'exec', $namespace) `
            -Address $filter.Address -FirstPort $filteredFirst -LastPort $filteredLast -Expected @() -TargetRatio $targets.PortScanFilteredRatio -CaseNotes $filter.Method -Filtered
    }
    catch {
        Write-Warning "Port scan (filtered) failed: $_"
        $rows.Add([pscustomobject]@{ Scenario = "port scan $($portScan.FilteredCount) filtered"; Server = 'Test-TcpPort'; Figure = $null; Unit = 's'; Ratios = $null; Target = ''; Met = $false; Notes = "failed: $_" })
    }
    finally {
        if ($namespace) { Remove-BenchNetns $namespace }
    }
}

#endregion

#region Peers

# The commands the stream, echo and port scan rows run beside the module, and the Debian packages they come in.
# nc is called as nc.openbsd: another netcat under the name nc takes other options.
# iptables is no peer itself: the filtered port scan drops SYNs with it.
$peerPackages = [ordered]@{ 'socat' = 'socat'; 'ncat' = 'ncat'; 'nc.openbsd' = 'netcat-openbsd'; 'iperf3' = 'iperf3'; 'openssl' = 'openssl'; 'nmap' = 'nmap'; 'iptables' = 'iptables' }

function Find-Tool {
    param([Parameter(Mandatory)] [string] $Name)
    $command = Get-Command $Name -CommandType Application -ErrorAction Ignore | Select-Object -First 1
    if ($command) { $command.Source }
}

# Installs the missing peers with apt-get, where it is there and this runs as root. Nothing here is
# an error: a peer that is still missing afterwards gets a 'not installed' row.
function Install-Peer {
    $missing = @($peerPackages.Keys | Where-Object { -not (Find-Tool $_) })
    if (-not $missing) {
        Write-Host "  all there: $($peerPackages.Keys -join ', ')"
        return
    }
    $packages = @($missing | ForEach-Object { $peerPackages[$_] })
    $isRoot = (Get-Content /proc/self/status | Where-Object { $_ -match '^Uid:\s+0\s' }) -as [bool]
    if (-not $isRoot -or -not (Find-Tool 'apt-get')) {
        Write-Host "  not installed: $($missing -join ', ') (installing them needs apt-get and root)"
        return
    }
    Write-Host "  installing $($packages -join ', ') with apt-get..."
    $environment = @{ DEBIAN_FRONTEND = 'noninteractive' }
    $update = Invoke-Tool -Name 'apt-get update' -FileName 'apt-get' -Arguments @('update', '-qq') -TimeoutSec 180 -Environment $environment
    if ($update.ExitCode -ne 0) { Write-Warning "apt-get update failed: $($update.Error)" }
    $install = @{ Name = 'apt-get install'; FileName = 'apt-get'; TimeoutSec = 300; Environment = $environment }
    $all = Invoke-Tool @install -Arguments (@('install', '-y', '-qq', '--no-install-recommends') + $packages)
    if ($all.ExitCode -ne 0) {
        # One package this system does not have should not keep the others out.
        foreach ($package in $packages) {
            $one = Invoke-Tool @install -Arguments @('install', '-y', '-qq', '--no-install-recommends', $package)
            if ($one.ExitCode -ne 0) { Write-Warning "apt-get install $package failed: $($one.Error)" }
        }
    }
    $still = @($missing | Where-Object { -not (Find-Tool $_) })
    if ($still) { Write-Host "  still not installed: $($still -join ', ')" }
}

function Get-FreePort {
    $probe = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $probe.Start()
    try { $probe.LocalEndpoint.Port } finally { $probe.Stop() }
}

# Waits until something listens on the port, read from /proc/net/tcp rather than by connecting: a
# one-shot listener would take the probe for its client.
function Wait-TcpListener {
    param([Parameter(Mandatory)] [int] $Port, [Parameter(Mandatory)] $Child, [double] $TimeoutSec = 10)
    $pattern = '^\s*\d+:\s+[0-9A-F]+:{0:X4}\s+[0-9A-F]+:0000\s+0A\s' -f $Port
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while (-not (Get-Content /proc/net/tcp, /proc/net/tcp6 -ErrorAction Ignore | Where-Object { $_ -match $pattern })) {
        if ($Child.Process.HasExited -or [DateTime]::UtcNow -gt $deadline) { throw "$($Child.Name) did not listen on port $Port.$(Get-ChildErrorText $Child)" }
        Start-Sleep -Milliseconds 20
    }
}

#endregion

#region TLS

# A test certificate for the TLS servers, as PEM (socat, the module) and PFX (the raw .NET server), in /dev/shm.
function New-BenchCertificate {
    $folder = Join-Path $(if (Test-Path /dev/shm) { '/dev/shm' } else { [IO.Path]::GetTempPath() }) "netcmdlets-bench-tls-$PID"
    $null = New-Item -ItemType Directory -Force -Path $folder
    $certificate = Join-Path $folder 'server.crt'
    $key = Join-Path $folder 'server.key'
    $pfx = Join-Path $folder 'server.pfx'
    $made = Invoke-Tool -Name 'openssl req' -FileName 'openssl' -TimeoutSec 60 -Arguments @(
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', $key, '-out', $certificate, '-days', '2', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1')
    if ($made.ExitCode -ne 0) { throw "openssl req failed: $($made.Error)" }
    $exported = Invoke-Tool -Name 'openssl pkcs12' -FileName 'openssl' -TimeoutSec 60 -Arguments @(
        'pkcs12', '-export', '-in', $certificate, '-inkey', $key, '-out', $pfx, '-passout', 'pass:bench')
    if ($exported.ExitCode -ne 0) { throw "openssl pkcs12 failed: $($exported.Error)" }
    [pscustomobject]@{ Folder = $folder; Certificate = $certificate; Key = $key; Pfx = $pfx }
}

function Measure-Tls {
    if (-not (Find-Tool 'openssl')) {
        $rows.Add([pscustomobject]@{ Scenario = 'TLS'; Server = ''; Figure = $null; Unit = ''; Ratios = $null; Target = ''; Met = $null; Notes = 'openssl not installed: no certificate' })
        return
    }
    $files = New-BenchCertificate
    try {
        $servers = [ordered]@{
            'Start-TcpServer -Certificate' = {
                $child = Start-ChildPwsh -Name 'Start-TcpServer -Certificate' -Script 'TcpEchoServer.ps1' -Arguments @('-ModulePath', $moduleManifest, '-CertificatePath', $files.Certificate, '-KeyPath', $files.Key)
                $child, [int](Wait-ChildLine $child -Pattern ':(\d+)$' -TimeoutSec 60)[1]
            }
            'raw .NET SslStream' = {
                $child = Start-BenchTool -Name 'raw .NET TLS echo server' -Arguments @('tls-echo-server', '--cert', $files.Pfx, '--password', 'bench')
                $child, [int](Wait-ChildLine $child -Pattern '^(\d+)$' -TimeoutSec 30)[1]
            }
            'socat OPENSSL-LISTEN,fork PIPE' = {
                $socat = Find-Tool 'socat'
                if (-not $socat) { return }
                $port = Get-FreePort
                $child = Start-Child -Name 'socat TLS' -FileName $socat -Arguments @(
                    "OPENSSL-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork,cert=$($files.Certificate),key=$($files.Key),verify=0", 'PIPE')
                Wait-TcpListener -Port $port -Child $child
                $child, $port
            }
        }
        $measured = [Collections.Generic.List[object]]::new()
        foreach ($name in $servers.Keys) {
            $child = $null
            try {
                $started = & $servers[$name]
                if (-not $started) {
                    $measured.Add([pscustomobject]@{ Server = $name; Echo = $null; EchoCpu = $null; Handshakes = $null; Notes = 'not installed' })
                    continue
                }
                $child, $port = $started
                $figures = @{}
                foreach ($test in @(
                        @{ Key = 'Echo'; Command = 'tls-echo-client'; Unit = 'roundTripsPerSecond'; All = 'allRoundTrips' }
                        @{ Key = 'Handshakes'; Command = 'tls-handshake-client'; Unit = 'handshakesPerSecond'; All = 'allHandshakes' })) {
                    $cpuBefore = Get-TreeCpuSeconds $child.Process.Id
                    $client = Start-BenchTool -Name "$($test.Command) 50" -Arguments @(
                        $test.Command, '--host', '127.0.0.1', '--port', "$port", '--connections', '50',
                        '--seconds', "$($settings.EchoSeconds)", '--warmup', "$($settings.Warmup)")
                    try { $result = Receive-ChildJson $client -TimeoutSec ($settings.EchoSeconds + $settings.Warmup + 30) } finally { Stop-Child $client }
                    $cpu = (Get-TreeCpuSeconds $child.Process.Id) - $cpuBefore
                    $figures[$test.Key] = [double]$result.($test.Unit)
                    $figures["$($test.Key)Cpu"] = if ($result.($test.All) -gt 0) { 1e6 * $cpu / $result.($test.All) } else { $null }
                    $figures["$($test.Key)Errors"] = if ($result.errors) { "$($result.errors) error(s): $($result.firstError)" } else { '' }
                }
                $entry = [pscustomobject]@{ Server = $name; Echo = $figures.Echo; EchoCpu = $figures.EchoCpu; Handshakes = $figures.Handshakes; HandshakeCpu = $figures.HandshakesCpu; Notes = (@($figures.EchoErrors, $figures.HandshakesErrors) | Where-Object { $_ }) -join '; ' }
                $measured.Add($entry)
                Write-Host ('  {0,-34} {1,10:N0} rt/s  {2,8:N0} handshakes/s' -f $name, $entry.Echo, $entry.Handshakes)
            }
            catch {
                Write-Warning "TLS against ${name} failed: $_"
                $measured.Add([pscustomobject]@{ Server = $name; Echo = $null; EchoCpu = $null; Handshakes = $null; HandshakeCpu = $null; Notes = "failed: $_" })
            }
            finally {
                if ($child) { Stop-Child $child }
            }
        }
        $raw = $measured | Where-Object Server -EQ 'raw .NET SslStream' | Select-Object -First 1
        foreach ($entry in $measured) {
            $echoNotes = @(if ($null -ne $entry.EchoCpu) { '{0:N1} us server CPU/rt' -f $entry.EchoCpu }; $entry.Notes) | Where-Object { $_ }
            $rows.Add([pscustomobject]@{
                Scenario = 'TLS echo 64 B, 50 conn'; Server = $entry.Server; Figure = $entry.Echo; Unit = 'round trips/s'
                Ratios = [ordered]@{ 'raw .NET' = (Get-Ratio $entry.Echo $(if ($raw) { $raw.Echo })) }; Target = ''; Met = $null; Notes = $echoNotes -join '; '
            })
            $handshakeNotes = @(if ($null -ne $entry.HandshakeCpu) { '{0:N0} us server CPU/handshake' -f $entry.HandshakeCpu }) | Where-Object { $_ }
            $rows.Add([pscustomobject]@{
                Scenario = 'TLS handshakes, 50 conn'; Server = $entry.Server; Figure = $entry.Handshakes; Unit = 'handshakes/s'
                Ratios = [ordered]@{ 'raw .NET' = (Get-Ratio $entry.Handshakes $(if ($raw) { $raw.Handshakes })) }; Target = ''; Met = $null; Notes = $handshakeNotes -join '; '
            })
        }
        Measure-TlsStream $files
    }
    finally {
        Remove-Item -LiteralPath $files.Folder -Recurse -Force -ErrorAction Ignore
    }
}

# One file through TLS into socat OPENSSL-LISTEN (to /dev/null): Send-TcpMessage -Path beside socat's own TLS client.
function Measure-TlsStream {
    param($Files)
    $socat = Find-Tool 'socat'
    if (-not $socat) { return }
    $length = $settings.StreamBytes
    $size = if ($length -ge 1GB) { '{0:N0} GiB' -f ($length / 1GB) } else { '{0:N0} MiB' -f ($length / 1MB) }
    $folder = [IO.Path]::GetTempPath()
    if ((Test-Path /dev/shm) -and [IO.DriveInfo]::new('/dev/shm').AvailableFreeSpace -gt $length + 256MB) { $folder = '/dev/shm' }
    $source = Join-Path $folder "netcmdlets-bench-tls-stream-$PID.bin"
    $timeout = 30 + $length / 20e6
    $measured = [ordered]@{}
    try {
        New-StreamSource -Path $source -Length $length
        $senders = [ordered]@{
            'Send-TcpMessage -Path -SkipCertificateCheck' = {
                param($port)
                $child = Start-ChildPwsh -Name 'TcpStream TLS send' -Script 'TcpStream.ps1' -Arguments @('-ModulePath', $moduleManifest, '-Direction', 'Send', '-Port', "$port", '-Path', $source, '-Tls')
                try { $result = Receive-ChildJson $child -TimeoutSec ($timeout + 60) } finally { Stop-Child $child }
                if ($result.PSObject.Properties['error']) { throw $result.error }
                [pscustomobject]@{ Seconds = [double]$result.seconds; Bytes = [long]$result.bytes; Notes = '{0:N2} s Stopwatch around the cmdlet; pwsh peak RSS {1:N0} MiB during it' -f $result.seconds, ($result.peakKiB / 1KB) }
            }
            'socat -u OPENSSL' = {
                param($port)
                $run = Invoke-Tool -Name 'socat TLS client' -FileName $socat -Arguments @('-u', '-b', '1048576', "OPEN:$source", "OPENSSL:127.0.0.1:$port,verify=0") -TimeoutSec $timeout
                if ($run.ExitCode -ne 0) { throw "exit code $($run.ExitCode): $($run.Error)" }
                [pscustomobject]@{ Seconds = $run.Seconds; Bytes = $length; Notes = '{0:N2} s process start to exit' -f $run.Seconds }
            }
        }
        foreach ($name in $senders.Keys) {
            $peer = $null
            try {
                $port = Get-FreePort
                $peer = Start-Child -Name 'socat TLS sink' -FileName $socat -Arguments @('-u', '-b', '1048576',
                    "OPENSSL-LISTEN:$port,bind=127.0.0.1,reuseaddr,cert=$($Files.Certificate),key=$($Files.Key),verify=0", 'OPEN:/dev/null')
                Wait-TcpListener -Port $port -Child $peer
                $result = & $senders[$name] $port
                if (-not $peer.Process.WaitForExit(10000)) { throw 'the socat sink did not end after the transfer.' }
                $rate = if ($result.Bytes -eq $length -and $result.Seconds -gt 0) { $result.Bytes / $result.Seconds / 1e6 } else { $null }
                $measured[$name] = [pscustomobject]@{ Rate = $rate; Notes = $result.Notes }
                Write-Host ('  TLS stream {0,-44} {1,8:N0} MB/s  {2}' -f $name, $rate, $result.Notes)
            }
            catch {
                Write-Warning "TLS stream with ${name} failed: $_"
                $measured[$name] = [pscustomobject]@{ Rate = $null; Notes = "failed: $_" }
            }
            finally {
                if ($peer) { Stop-Child $peer }
            }
        }
    }
    finally {
        Remove-Item -LiteralPath $source -ErrorAction Ignore
    }
    $reference = $measured['socat -u OPENSSL']
    foreach ($name in $measured.Keys) {
        $rows.Add([pscustomobject]@{
            Scenario = "TLS stream $size, into socat OPENSSL-LISTEN"; Server = $name; Figure = $measured[$name].Rate; Unit = 'MB/s'
            Ratios = [ordered]@{ 'socat' = (Get-Ratio $measured[$name].Rate $(if ($reference) { $reference.Rate })) }; Target = ''; Met = $null; Notes = $measured[$name].Notes
        })
    }
}

#endregion

#region Stream

# Pseudo-random bytes (not zeros), so that nothing on the way could make the transfer cheaper than
# real data; /dev/shm keeps the disk out of it.
function New-StreamSource {
    param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [long] $Length)
    # Random.Shared, not a seeded Random: that one keeps an old algorithm, ten times slower.
    $random = [Random]::Shared
    $block = [byte[]]::new(1MB)
    $file = [IO.File]::Create($Path)
    try {
        for ($written = 0L; $written -lt $Length; $written += $block.Length) {
            $random.NextBytes($block)
            $file.Write($block, 0, [int][Math]::Min([long]$block.Length, $Length - $written))
        }
    }
    finally {
        $file.Dispose()
    }
}

# The fixed end of each direction, started before each row's own end: a socat listener for one
# connection that discards what it reads, or that sends the file and closes. Its 1 MiB buffer (socat's
# default is 8 KiB) keeps it from being what limits the rows. Returns the child and its port.
function Start-StreamPeer {
    param([Parameter(Mandatory)] [ValidateSet('send', 'receive')] [string] $Direction, [Parameter(Mandatory)] [string] $Source)
    $port = Get-FreePort
    $listen = "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr"
    $arguments = if ($Direction -eq 'send') { @('-u', '-b', '1048576', $listen, 'OPEN:/dev/null') } else { @('-u', '-b', '1048576', "OPEN:$Source", $listen) }
    $child = Start-Child -Name "socat $Direction peer" -FileName (Find-Tool 'socat') -Arguments $arguments
    Wait-TcpListener -Port $port -Child $child
    $child, $port
}

function Measure-Stream {
    $length = $settings.StreamBytes
    $size = if ($length -ge 1GB) { '{0:N0} GiB' -f ($length / 1GB) } else { '{0:N0} MiB' -f ($length / 1MB) }
    # A container's /dev/shm is often 64 MiB: then the file goes to the temporary folder instead.
    $folder = [IO.Path]::GetTempPath()
    if ((Test-Path /dev/shm) -and [IO.DriveInfo]::new('/dev/shm').AvailableFreeSpace -gt $length + 256MB) { $folder = '/dev/shm' }
    $source = Join-Path $folder "netcmdlets-bench-stream-$PID.bin"
    $socat = Find-Tool 'socat'
    $nc = Find-Tool 'nc.openbsd'
    $ncat = Find-Tool 'ncat'
    $iperf3 = Find-Tool 'iperf3'
    $sh = Find-Tool 'sh'
    # Generous: a transfer slower than 20 MB/s has gone wrong anyway.
    $timeout = 30 + $length / 20e6

    # Each row: the command that moves the file (or $null when not installed), run against the
    # fixed end on $port; returns seconds, bytes and notes.
    $module = {
        param([string] $Direction, [int] $Port)
        $arguments = @('-ModulePath', $moduleManifest, '-Direction', $Direction, '-Port', "$Port", '-Path', $(if ($Direction -eq 'Send') { $source } else { '/dev/null' }))
        $child = Start-ChildPwsh -Name "TcpStream $Direction" -Script 'TcpStream.ps1' -Arguments $arguments
        try {
            $result = Receive-ChildJson $child -TimeoutSec ($timeout + 60)
        }
        finally {
            Stop-Child $child
        }
        if ($result.PSObject.Properties['error']) { throw $result.error }
        $peak = if ($result.peakSince -eq 'transfer') { 'during it' } else { 'since pwsh started' }
        [pscustomobject]@{
            Seconds = [double]$result.seconds
            Bytes = [long]$result.bytes
            Notes = '{0:N2} s Stopwatch around the cmdlets (TcpTransfer.Seconds {1:N2}); pwsh peak RSS {2:N0} MiB {3}, {4:N0} MiB before' -f
                $result.seconds, $result.transferSeconds, ($result.peakKiB / 1KB), $peak, ($result.rssBeforeKiB / 1KB)
        }
    }
    $tool = {
        param([string] $FileName, [string[]] $Arguments)
        $run = Invoke-Tool -Name (Split-Path $FileName -Leaf) -FileName $FileName -Arguments $Arguments -TimeoutSec $timeout
        if ($run.ExitCode -ne 0) { throw "exit code $($run.ExitCode): $($run.Error)" }
        [pscustomobject]@{ Seconds = $run.Seconds; Bytes = $length; Notes = '{0:N2} s process start to exit' -f $run.Seconds }
    }
    $iperf = {
        param([string] $Direction)
        $port = Get-FreePort
        $server = Start-Child -Name 'iperf3 server' -FileName $iperf3 -Arguments @('--server', '--one-off', '--bind', '127.0.0.1', '--port', "$port")
        try {
            Wait-TcpListener -Port $port -Child $server
            [string[]] $arguments = @('--client', '127.0.0.1', '--port', "$port", '--bytes', "$length", '--json')
            if ($Direction -eq 'receive') { $arguments += '--reverse' }
            $run = Invoke-Tool -Name 'iperf3' -FileName $iperf3 -Arguments $arguments -TimeoutSec $timeout
            if ($run.ExitCode -ne 0) { throw "exit code $($run.ExitCode): $($run.Error) $($run.Output)" }
            # The receiver's own figures: it counts up to its last report, a few MB short of --bytes.
            $received = ($run.Output | ConvertFrom-Json).end.sum_received
            [pscustomobject]@{
                Seconds = [double]$received.seconds
                Bytes = [long]$received.bytes
                Notes = "{0:N2} s, iperf3's receiver figure" -f $received.seconds
            }
        }
        finally {
            Stop-Child $server
        }
    }
    # Positional arguments to sh -c, so that no path or port is ever parsed as shell text.
    $rowsByDirection = [ordered]@{
        send = [ordered]@{
            'Send-TcpMessage -Path' = { param($port) & $module 'Send' $port }
            'socat -u' = if ($socat) { { param($port) & $tool $socat @('-u', "OPEN:$source", "TCP:127.0.0.1:$port") } }
            'nc -N (OpenBSD)' = if ($nc) { { param($port) & $tool $sh @('-c', 'exec "$0" -N 127.0.0.1 "$1" < "$2"', $nc, "$port", $source) } }
            'ncat --send-only' = if ($ncat) { { param($port) & $tool $sh @('-c', 'exec "$0" --send-only 127.0.0.1 "$1" < "$2"', $ncat, "$port", $source) } }
            'iperf3 (ceiling)' = if ($iperf3) { { & $iperf 'send' } }
        }
        receive = [ordered]@{
            'Receive-TcpMessage -OutFile /dev/null' = { param($port) & $module 'Receive' $port }
            'socat -u' = if ($socat) { { param($port) & $tool $socat @('-u', "TCP:127.0.0.1:$port", 'OPEN:/dev/null') } }
            'nc -d (OpenBSD)' = if ($nc) { { param($port) & $tool $sh @('-c', 'exec "$0" -d 127.0.0.1 "$1" > /dev/null', $nc, "$port") } }
            'ncat --recv-only' = if ($ncat) { { param($port) & $tool $sh @('-c', 'exec "$0" --recv-only 127.0.0.1 "$1" > /dev/null', $ncat, "$port") } }
            'iperf3 -R (ceiling)' = if ($iperf3) { { & $iperf 'receive' } }
        }
    }
    $scenarios = @{ send = "stream $size, into socat"; receive = "stream $size, from socat" }

    try {
        if (-not $socat) { throw 'socat is not installed: it is the other end of every stream row.' }
        $clock = [Diagnostics.Stopwatch]::StartNew()
        New-StreamSource -Path $source -Length $length
        Write-Host ('  {0} of pseudo-random bytes written to {1} in {2:N1} s' -f $size, $source, $clock.Elapsed.TotalSeconds)
        Write-Host '  the other end: socat -u -b 1048576 TCP-LISTEN (one connection) to OPEN:/dev/null, or from OPEN:<the file>'
        Write-Host '  timed: the module by a Stopwatch in its pwsh, connect to close; socat, nc, ncat by process start to exit; iperf3 by itself'
        foreach ($direction in $rowsByDirection.Keys) {
            $measured = [ordered]@{}
            foreach ($name in $rowsByDirection[$direction].Keys) {
                $run = $rowsByDirection[$direction][$name]
                if (-not $run) {
                    $measured[$name] = [pscustomobject]@{ Rate = $null; Notes = 'not installed' }
                    continue
                }
                $peer = $null
                try {
                    $port = 0
                    if ($name -notlike 'iperf3*') { $peer, $port = Start-StreamPeer -Direction $direction -Source $source }
                    $result = & $run $port
                    if ($peer -and -not $peer.Process.WaitForExit(10000)) { throw "$($peer.Name) did not end after the transfer." }
                    if ($peer -and $peer.Process.ExitCode -ne 0) { throw "$($peer.Name) ended with exit code $($peer.Process.ExitCode).$(Get-ChildErrorText $peer)" }
                    $notes = $result.Notes
                    $complete = $result.Bytes -eq $length -or ($name -like 'iperf3*' -and $result.Bytes -gt 0)
                    if (-not $complete) { $notes += "; moved $($result.Bytes) of $length bytes" }
                    $rate = if ($complete -and $result.Seconds -gt 0) { $result.Bytes / $result.Seconds / 1e6 } else { $null }
                    $measured[$name] = [pscustomobject]@{ Rate = $rate; Notes = $notes }
                    Write-Host ('  {0,-7} {1,-38} {2,8:N0} MB/s  {3}' -f $direction, $name, $rate, $notes)
                }
                catch {
                    Write-Warning "Stream ($direction) with ${name} failed: $_"
                    $measured[$name] = [pscustomobject]@{ Rate = $null; Notes = "failed: $_" }
                }
                finally {
                    if ($peer) { Stop-Child $peer }
                }
            }
            $socatRate = $measured['socat -u'].Rate
            $iperfRate = $measured[@($measured.Keys -like 'iperf3*')[0]].Rate
            $streamTarget = '>= {0:N1}x socat, >= {1:N1}x iperf3' -f $targets.StreamSocatRatio, $targets.StreamIperfRatio
            $first = $true
            foreach ($name in $measured.Keys) {
                $entry = $measured[$name]
                $toSocat = Get-Ratio $entry.Rate $socatRate
                $toIperf = Get-Ratio $entry.Rate $iperfRate
                $met = $null
                if ($first -and $null -ne $toSocat -and $null -ne $toIperf) {
                    $met = $toSocat -ge $targets.StreamSocatRatio -and $toIperf -ge $targets.StreamIperfRatio
                }
                elseif ($first) {
                    $met = $false
                }
                $rows.Add([pscustomobject]@{
                    Scenario = $scenarios[$direction]
                    Server = $name
                    Figure = $entry.Rate
                    Unit = 'MB/s'
                    Ratios = [ordered]@{ 'socat' = $toSocat; 'iperf3' = $toIperf }
                    Target = if ($first) { $streamTarget } else { '' }
                    Met = $met
                    Notes = $entry.Notes
                })
                $first = $false
            }
        }
    }
    catch {
        Write-Warning "Stream failed: $_"
        $rows.Add([pscustomobject]@{ Scenario = "stream $size"; Server = 'Send-TcpMessage, Receive-TcpMessage'; Figure = $null; Unit = 'MB/s'; Ratios = $null; Target = ''; Met = $false; Notes = "failed: $_" })
    }
    finally {
        Remove-Item $source -ErrorAction Ignore
    }
}

#endregion

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

    if ('Echo' -in $Scenario) {
        Write-Host 'Echo round trips...'
        Measure-Echo
    }
    if ('Idle' -in $Scenario) {
        Write-Host 'Idle connections...'
        Measure-IdleConnections
    }
    if ('Udp' -in $Scenario) {
        Write-Host 'UDP...'
        Measure-Udp
    }
    if ('Stream' -in $Scenario) {
        Write-Host 'Stream...'
        Measure-Stream
    }
    if ('Tls' -in $Scenario) {
        Write-Host 'TLS...'
        Measure-Tls
    }
    if ('PortScan' -in $Scenario) {
        Write-Host 'Port scan...'
        Measure-PortScan
    }
    if ('UdpEcho' -in $Scenario) {
        Write-Host 'UDP echo round trips...'
        Measure-UdpEcho
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
