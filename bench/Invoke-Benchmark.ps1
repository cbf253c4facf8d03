#Requires -Version 7.2
<#
.SYNOPSIS
Measures NetCmdlets against peers in one run on this machine and prints a table.

.DESCRIPTION
Run by `build.ps1 -Task Bench [-Quick]` after the module is built into output/NetCmdlets. It builds
the load generator (bench/NetCmdlets.Bench), then measures:

  echo  round trips per second of 64-byte lines over 1 and over 50 connections, each connection
        sending a line and waiting for its echo, against Start-TcpServer -Handler { $_.Text } in
        the foreground of a child pwsh, the same with -AsJob and with -ThrottleLimit 2, a raw .NET
        async echo server, Python asyncio and ncat (each where installed); ratios are to the raw
        .NET server
  idle  Start-TcpServer holding many idle connections: accepted by the server's count, and the
        growth of the server process's resident memory per connection
  udp   datagrams sent as fast as one sender can into Receive-UdpDatagram | Measure-Object: the
        share counted, beside a raw .NET receiver with the same socket buffer

Every server runs in a process of its own, started fresh and killed afterwards, on 127.0.0.1 and
a port picked by the system. Figures of one run are comparable with each other, not with another
machine's. A benchmark is not a test: missing a target is reported, never an error.

.PARAMETER Quick
Shorter runs and smaller counts: well under a minute in all.

.PARAMETER ResultPath
Also write the rows as JSON to this file.
#>
[CmdletBinding()]
param(
    [switch] $Quick,

    [string] $ModulePath = (Join-Path $PSScriptRoot '../output/NetCmdlets'),

    [string] $ResultPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$root = Split-Path $PSScriptRoot -Parent
$ModulePath = [IO.Path]::GetFullPath($ModulePath)
$benchProject = Join-Path $PSScriptRoot 'NetCmdlets.Bench'
$benchAssembly = Join-Path $benchProject 'bin/Release/net10.0/NetCmdlets.Bench.dll'

$settings = if ($Quick) {
    @{ EchoSeconds = 2; Warmup = 1; IdleCount = 2000; UdpCount = 20000; UdpTimeoutSec = 5 }
}
else {
    @{ EchoSeconds = 5; Warmup = 1; IdleCount = 10000; UdpCount = 200000; UdpTimeoutSec = 10 }
}
$echoConnections = 1, 50
$targets = @{
    # Start-TcpServer -Handler { $_.Text } (foreground) with 50 connections, as a share of the raw .NET echo server.
    EchoRatio50 = 0.8
    IdleBytesPerConnection = 8KB
    UdpShare = 0.99
}

#region Child processes

# Every process started here, so that whatever happens they are all gone at the end.
$children = [Collections.Generic.List[object]]::new()

function Start-Child {
    param(
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [string] $FileName,
        [string[]] $Arguments = @()
    )
    $info = [Diagnostics.ProcessStartInfo]::new($FileName)
    foreach ($argument in $Arguments) { $info.ArgumentList.Add($argument) }
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
# dotnet itself, so pwsh.dll goes first.
function Start-ChildPwsh {
    param([string] $Name, [string] $Script, [string[]] $Arguments = @())
    $exe = [Environment]::ProcessPath
    [string[]] $prefix = if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' } else { @() }
    Start-Child -Name $Name -FileName $exe -Arguments ($prefix + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot "servers/$Script")) + $Arguments)
}

function Start-BenchTool {
    param([string] $Name, [string[]] $Arguments)
    Start-Child -Name $Name -FileName 'dotnet' -Arguments (@($benchAssembly) + $Arguments)
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

# User plus system CPU seconds of a process so far.
function Get-CpuSeconds {
    param([int] $ProcessId)
    $stat = Get-Content "/proc/$ProcessId/stat" -Raw
    # Fields after the command name, which is in parentheses and may hold spaces.
    $fields = $stat.Substring($stat.LastIndexOf(')') + 2).Split(' ')
    ([double]$fields[11] + [double]$fields[12]) / $script:clockTicks
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
        $child = Start-ChildPwsh -Name 'Start-TcpServer' -Script 'TcpEchoServer.ps1' -Arguments @('-ModulePath', $ModulePath)
        $child, [int](Wait-ChildLine $child -Pattern ':(\d+)$' -TimeoutSec 60)[1]
    }
    'Start-TcpServer -Handler -AsJob' = {
        $child = Start-ChildPwsh -Name 'Start-TcpServer -AsJob' -Script 'TcpEchoServer.ps1' -Arguments @('-ModulePath', $ModulePath, '-AsJob')
        $child, [int](Wait-ChildLine $child -Pattern ':(\d+)$' -TimeoutSec 60)[1]
    }
    'Start-TcpServer -Handler -ThrottleLimit 2' = {
        $child = Start-ChildPwsh -Name 'Start-TcpServer -ThrottleLimit 2' -Script 'TcpEchoServer.ps1' -Arguments @('-ModulePath', $ModulePath, '-ThrottleLimit', '2')
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
        $probe = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $probe.Start()
        $port = $probe.LocalEndpoint.Port
        $probe.Stop()
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
                    $measured.Add([pscustomobject]@{ Server = $name; Connections = $connections; Rate = $null; Notes = 'not installed' })
                }
                continue
            }
            $child, $port = $started
            foreach ($connections in $echoConnections) {
                $cpuBefore = Get-CpuSeconds $child.Process.Id
                $client = Start-BenchTool -Name "echo-client $connections" -Arguments @(
                    'echo-client', '--host', '127.0.0.1', '--port', "$port", '--connections', "$connections",
                    '--seconds', "$($settings.EchoSeconds)", '--warmup', "$($settings.Warmup)", '--size', '64')
                try {
                    $result = Receive-ChildJson $client -TimeoutSec ($settings.EchoSeconds + $settings.Warmup + 30)
                }
                finally {
                    Stop-Child $client
                }
                $cpu = (Get-CpuSeconds $child.Process.Id) - $cpuBefore
                $notes = @()
                # ncat does the work in a cat process per connection, which this figure would miss.
                if ($result.allRoundTrips -gt 0 -and $name -notlike 'ncat*') { $notes += '{0:N1} us server CPU/rt' -f (1e6 * $cpu / $result.allRoundTrips) }
                $notes += 'server RSS {0:N0} MiB after' -f ((Get-ProcStatusKiB $child.Process.Id 'VmRSS') / 1KB)
                if ($result.errors) { $notes += "$($result.errors) error(s): $($result.firstError)" }
                $entry = [pscustomobject]@{ Server = $name; Connections = $connections; Rate = [double]$result.roundTripsPerSecond; Notes = $notes -join '; ' }
                $measured.Add($entry)
                if ($name -eq 'raw .NET async sockets') { $reference[$connections] = $entry.Rate }
                Write-Host ('  {0,-42} {1,2} conn {2,10:N0} rt/s  {3}' -f $name, $connections, $entry.Rate, $entry.Notes)
            }
        }
        catch {
            Write-Warning "Echo against ${name} failed: $_"
            foreach ($connections in $echoConnections) {
                if (-not ($measured | Where-Object { $_.Server -eq $name -and $_.Connections -eq $connections })) {
                    $measured.Add([pscustomobject]@{ Server = $name; Connections = $connections; Rate = $null; Notes = "failed: $_" })
                }
            }
        }
        finally {
            if ($child) { Stop-Child $child }
        }
    }
    foreach ($connections in $echoConnections) {
        foreach ($entry in $measured | Where-Object Connections -EQ $connections) {
            $ratio = if ($null -ne $entry.Rate -and $reference[$connections]) { $entry.Rate / $reference[$connections] } else { $null }
            $targeted = $connections -eq 50 -and $entry.Server -eq 'Start-TcpServer -Handler'
            $rows.Add([pscustomobject]@{
                Scenario = "echo 64 B, $connections conn"
                Server = $entry.Server
                Figure = $entry.Rate
                Unit = 'round trips/s'
                Ratio = $ratio
                Target = if ($targeted) { '>= {0:N1}x' -f $targets.EchoRatio50 } else { '' }
                Met = if ($targeted) { $null -ne $ratio -and $ratio -ge $targets.EchoRatio50 } else { $null }
                Notes = $entry.Notes
            })
        }
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
        $server = Start-ChildPwsh -Name 'idle Start-TcpServer' -Script 'IdleTcpServer.ps1' -Arguments @('-ModulePath', $ModulePath)
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
            Ratio = $null
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
            Ratio = $null
            Target = "<= $($targets.IdleBytesPerConnection)"
            Met = $null -ne $perConnection -and $perConnection -le $targets.IdleBytesPerConnection
            Notes = ('RSS {0:N0} -> {1:N0} KiB after GCs ({2:N0} B/conn before them); managed heap {3:N0} B/conn' -f $rssBefore, $rssAfter, $noCollect, $heapPerConnection)
        })
        Write-Host ('  accepted {0:N0} of {1:N0}; {2:N0} B RSS per connection; {3}' -f $accepted, $count, $perConnection, $acceptNotes)
    }
    catch {
        Write-Warning "Idle connections failed: $_"
        $rows.Add([pscustomobject]@{ Scenario = 'idle TCP connections'; Server = 'Start-TcpServer -AsJob'; Figure = $null; Unit = ''; Ratio = $null; Target = "$count"; Met = $false; Notes = "failed: $_" })
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
            $child = Start-ChildPwsh -Name 'Receive-UdpDatagram' -Script 'UdpReceiver.ps1' -Arguments @('-ModulePath', $ModulePath, '-Count', "$count", '-TimeoutSec', "$timeout")
            $child, [int](Wait-ChildLine $child -Pattern ':(\d+)$' -TimeoutSec 60)[1]
        }
        'raw .NET blocking receive' = {
            $child = Start-BenchTool -Name 'raw .NET UDP receiver' -Arguments @('udp-receive', '--port', '0', '--count', "$count", '--timeout-sec', "$timeout")
            $child, [int](Wait-ChildLine $child -Pattern '^(\d+)$' -TimeoutSec 30)[1]
        }
    }
    foreach ($name in $receivers.Keys) {
        $receiver = $null
        try {
            $isCmdlet = $name -like 'Receive-UdpDatagram*'
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
            $rows.Add([pscustomobject]@{
                Scenario = "UDP 64 B x $('{0:N0}' -f $count)"
                Server = $name
                Figure = 100 * $share
                Unit = '% received'
                Ratio = $null
                # The raw receiver is the reference: the target is the cmdlet's.
                Target = if ($isCmdlet) { '>= {0:P0}' -f $targets.UdpShare } else { '' }
                Met = if ($isCmdlet) { $share -ge $targets.UdpShare } else { $null }
                Notes = $notes -join '; '
            })
            Write-Host ('  {0,-42} {1:P1} received; {2}' -f $name, $share, ($notes -join '; '))
        }
        catch {
            Write-Warning "UDP into ${name} failed: $_"
            $rows.Add([pscustomobject]@{ Scenario = 'UDP'; Server = $name; Figure = $null; Unit = '% received'; Ratio = $null; Target = '>= 99 %'; Met = $false; Notes = "failed: $_" })
        }
        finally {
            if ($receiver) { Stop-Child $receiver }
        }
    }
}

#endregion

function Format-Figure {
    param($Value, [string] $Unit)
    if ($null -eq $Value) { return '-' }
    if ($Unit -like '%*') { return '{0:N2}' -f $Value }
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
    Write-Host ("NetCmdlets {0} benchmark{1}: {2} cores, {3}, .NET {4}, PowerShell {5}, open files soft/hard {6}/{7}" -f
        $manifest.Directory.Name, $(if ($Quick) { ' (quick)' } else { '' }), [Environment]::ProcessorCount,
        [Runtime.InteropServices.RuntimeInformation]::OSDescription, [Environment]::Version, $PSVersionTable.PSVersion, $limit.Soft, $limit.Hard)
    Write-Host ("Echo: {0} s per run after {1} s warm-up; idle: {2:N0} connections; UDP: {3:N0} datagrams" -f
        $settings.EchoSeconds, $settings.Warmup, $settings.IdleCount, $settings.UdpCount)
    $clock = [Diagnostics.Stopwatch]::StartNew()

    Write-Host 'Echo round trips...'
    Measure-Echo
    Write-Host 'Idle connections...'
    Measure-IdleConnections
    Write-Host 'UDP...'
    Measure-Udp

    $table = $rows | Format-Table -AutoSize -Wrap -Property Scenario, Server,
        @{ Name = 'Figure'; Expression = { Format-Figure $_.Figure $_.Unit }; Alignment = 'Right' },
        Unit,
        @{ Name = 'vs raw .NET'; Expression = { if ($null -ne $_.Ratio) { '{0:N2}' -f $_.Ratio } else { '' } }; Alignment = 'Right' },
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
}
