<#
.SYNOPSIS
Proxy: Start-TcpProxy -Quiet beside socat TCP-LISTEN,fork TCP:127.0.0.1:<port>, both as a relay in front of one server.

.DESCRIPTION
Stream: one file of random bytes (the stream size of the run) through the relay, each way: socat -u
sends the file into the relay, which forwards it to a discarding socat listener, or the listener sends
it and socat -u takes it from the relay; timed from the sender's start to the receiver's end, with the
relay's peak RSS. Echo: the bench's async echo client over 50 connections through the relay to the
raw .NET echo server. Ratios are to socat. Then the same echo through Start-TcpProxy writing a traffic
object for each line each way into Measure-Object, as a ratio to the same proxy -Quiet; and one
connection's median round trip through the proxy with a latency fault of 50 ms on the answers, less
the median without it: the delay the fault adds.
#>

# The module's relay: at least this multiple of socat's, for the stream each way and for the echo.
$proxySocatTarget = 1.0
# Traffic objects into the pipeline: at least this multiple of the same proxy's echo without them.
$proxyObjectsTarget = 0.8
# A latency fault: the median delay it adds, within this many ms of what it was given.
$proxyLatencyFaultMs = 50
$proxyLatencyToleranceMs = 2

function Start-ProxyChild {
    param([int] $Upstream, [string] $Name, [string[]] $Extra = @())
    $child = Start-ChildPwsh -Name $Name -Script 'TcpProxy.ps1' -Arguments (@('-ModulePath', $moduleManifest, '-RemotePort', "$Upstream") + $Extra)
    $child, [int](Wait-ChildLine $child -Pattern ':(\d+)$' -TimeoutSec 60)[1]
}

# A relay in front of the port: Start-TcpProxy -Quiet in a child pwsh, or socat forking a process per client.
$proxyRelays = [ordered]@{
    'Start-TcpProxy -Quiet' = {
        param([int] $Upstream)
        Start-ProxyChild -Upstream $Upstream -Name 'Start-TcpProxy -Quiet'
    }
    'socat TCP-LISTEN,fork' = {
        param([int] $Upstream)
        $socat = Find-Tool 'socat'
        if (-not $socat) { return }
        $port = Get-FreePort
        $child = Start-Child -Name 'socat relay' -FileName $socat -Arguments @("TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork", "TCP:127.0.0.1:$Upstream")
        Wait-TcpListener -Port $port -Child $child
        $child, $port
    }
}

function Measure-ProxyStream {
    param([string] $Direction, [string] $Source, [scriptblock] $Relay)
    $length = $settings.StreamBytes
    $socat = Find-Tool 'socat'
    $sinkPort = Get-FreePort
    $listen = "TCP-LISTEN:$sinkPort,bind=127.0.0.1,reuseaddr"
    # The server end: discards what it reads (to server), or sends the file and closes (to client).
    $serverArguments = if ($Direction -eq 'to server') { @('-u', '-b', '1048576', $listen, 'OPEN:/dev/null') } else { @('-u', '-b', '1048576', "OPEN:$Source", $listen) }
    $server = Start-Child -Name 'socat server end' -FileName $socat -Arguments $serverArguments
    $relayChild = $null
    $client = $null
    try {
        Wait-TcpListener -Port $sinkPort -Child $server
        $relayChild, $relayPort = & $Relay $sinkPort
        if (-not $relayChild) { return $null }
        $clientArguments = if ($Direction -eq 'to server') { @('-u', '-b', '1048576', "OPEN:$Source", "TCP:127.0.0.1:$relayPort") } else { @('-u', '-b', '1048576', "TCP:127.0.0.1:$relayPort", 'OPEN:/dev/null') }
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $client = Start-Child -Name 'socat client end' -FileName $socat -Arguments $clientArguments
        $timeoutMs = [int](1000 * (30 + $length / 20e6))
        $receiver = if ($Direction -eq 'to server') { $server } else { $client }
        if (-not $receiver.Process.WaitForExit($timeoutMs)) { throw "the transfer did not end within $($timeoutMs / 1000) s" }
        $seconds = $clock.Elapsed.TotalSeconds
        $peakKiB = Get-ProcStatusKiB $relayChild.Process.Id 'VmHWM'
        [pscustomobject]@{ Rate = $length / $seconds / 1e6; Notes = '{0:N2} s from the sender''s start to the receiver''s end; relay peak RSS {1:N0} MiB' -f $seconds, ($peakKiB / 1KB) }
    }
    finally {
        foreach ($child in $client, $relayChild, $server) { if ($child) { Stop-Child $child } }
    }
}

# Runs $Client (given the relay's port) against the raw .NET echo server behind a relay; $null when the relay is not installed.
function Invoke-BehindRelay {
    param([scriptblock] $Relay, [scriptblock] $Client)
    $echo = Start-BenchTool -Name 'raw .NET echo server' -Arguments @('echo-server', '--port', '0')
    $relayChild = $null
    try {
        $echoPort = [int](Wait-ChildLine $echo -Pattern '^(\d+)$' -TimeoutSec 30)[1]
        $relayChild, $relayPort = & $Relay $echoPort
        if (-not $relayChild) { return $null }
        & $Client $relayPort
    }
    finally {
        foreach ($child in $relayChild, $echo) { if ($child) { Stop-Child $child } }
    }
}

function Measure-ProxyEcho {
    param([scriptblock] $Relay)
    Invoke-BehindRelay -Relay $Relay -Client {
        param([int] $RelayPort)
        $client = Start-BenchTool -Name 'echo-client 50 through the relay' -Arguments @(
            'echo-client', '--host', '127.0.0.1', '--port', "$RelayPort", '--connections', '50',
            '--seconds', "$($settings.EchoSeconds)", '--warmup', "$($settings.Warmup)", '--size', '64', '--framing', 'line')
        try { $result = Receive-ChildJson $client -TimeoutSec ($settings.EchoSeconds + $settings.Warmup + 30) } finally { Stop-Child $client }
        [pscustomobject]@{ Rate = [double]$result.roundTripsPerSecond; Notes = 'async client, 50 connections, to the raw .NET echo server' }
    }
}

# One connection's round trips through a relay: the median, in ms.
function Measure-ProxyLatency {
    param([scriptblock] $Relay)
    Invoke-BehindRelay -Relay $Relay -Client {
        param([int] $RelayPort)
        $count = if ($Quick) { 60 } else { 200 }
        $client = Start-BenchTool -Name 'latency-client through the relay' -Arguments @('latency-client', '--port', "$RelayPort", '--count', "$count", '--warmup', '10')
        try { Receive-ChildJson $client -TimeoutSec ($count * 0.2 + 30) } finally { Stop-Child $client }
    }
}

# Traffic objects into Measure-Object against the same proxy -Quiet, and the latency fault's accuracy.
function Measure-ProxyObjectsAndFault {
    $quiet = $proxyRelays['Start-TcpProxy -Quiet']
    $observed = { param([int] $Upstream) Start-ProxyChild -Upstream $Upstream -Name 'Start-TcpProxy | Measure-Object' -Extra '-Observe' }
    try {
        $without = Measure-ProxyEcho -Relay $quiet
        $with = Measure-ProxyEcho -Relay $observed
        $ratio = Get-Ratio $with.Rate $without.Rate
        Write-Host ('  {0,-38} {1,-24} {2,10:N0} round trips/s; -Quiet {3:N0}' -f 'proxy traffic objects, 50 conn', 'Start-TcpProxy | Measure', $with.Rate, $without.Rate)
        [pscustomobject]@{
            Scenario = 'proxy traffic objects 64 B, 50 conn'; Server = 'Start-TcpProxy | Measure-Object'; Figure = $with.Rate; Unit = 'round trips/s'
            Ratios = [ordered]@{ '-Quiet' = $ratio }; Target = '>= {0:N1}x -Quiet' -f $proxyObjectsTarget
            Met = $null -ne $ratio -and $ratio -ge $proxyObjectsTarget
            Notes = 'two objects per round trip (one each way) into Measure-Object; the same proxy -Quiet: {0:N0} round trips/s' -f $without.Rate
        }
    }
    catch {
        Write-Warning "proxy traffic objects failed: $_"
        [pscustomobject]@{ Scenario = 'proxy traffic objects 64 B, 50 conn'; Server = 'Start-TcpProxy | Measure-Object'; Figure = $null; Unit = ''; Ratios = $null; Target = ''; Met = $false; Notes = "failed: $_" }
    }
    try {
        $faulted = { param([int] $Upstream) Start-ProxyChild -Upstream $Upstream -Name 'Start-TcpProxy -Fault latency' -Extra '-LatencyMs', "$proxyLatencyFaultMs" }
        $clean = Measure-ProxyLatency -Relay $quiet
        $slow = Measure-ProxyLatency -Relay $faulted
        $added = [double]$slow.medianMs - [double]$clean.medianMs
        Write-Host ('  {0,-38} {1,-24} {2,10:N2} ms added (median {3:N2} ms, without the fault {4:N2} ms)' -f "latency fault $proxyLatencyFaultMs ms", 'Start-TcpProxy -Fault', $added, $slow.medianMs, $clean.medianMs)
        [pscustomobject]@{
            Scenario = "latency fault $proxyLatencyFaultMs ms, 1 conn"; Server = 'Start-TcpProxy -Fault'; Figure = $added; Unit = 'ms added'
            Ratios = $null; Target = '{0} ms +- {1} ms at the median' -f $proxyLatencyFaultMs, $proxyLatencyToleranceMs
            Met = [math]::Abs($added - $proxyLatencyFaultMs) -le $proxyLatencyToleranceMs
            Notes = 'median round trip {0:N2} ms (p10 {1:N2}, p90 {2:N2}) against {3:N2} ms without the fault, {4} round trips each' -f $slow.medianMs, $slow.p10Ms, $slow.p90Ms, $clean.medianMs, $slow.roundTrips
        }
    }
    catch {
        Write-Warning "latency fault failed: $_"
        [pscustomobject]@{ Scenario = "latency fault $proxyLatencyFaultMs ms, 1 conn"; Server = 'Start-TcpProxy -Fault'; Figure = $null; Unit = ''; Ratios = $null; Target = ''; Met = $false; Notes = "failed: $_" }
    }
}

function Measure-Proxy {
    $length = $settings.StreamBytes
    $size = if ($length -ge 1GB) { '{0:N0} GiB' -f ($length / 1GB) } else { '{0:N0} MiB' -f ($length / 1MB) }
    $folder = [IO.Path]::GetTempPath()
    if ((Test-Path /dev/shm) -and [IO.DriveInfo]::new('/dev/shm').AvailableFreeSpace -gt $length + 256MB) { $folder = '/dev/shm' }
    $source = Join-Path $folder "netcmdlets-bench-proxy-$PID.bin"
    try {
        if (-not (Find-Tool 'socat')) { throw 'socat is not installed: it is both ends of every proxy row.' }
        New-StreamSource -Path $source -Length $length
        $cases = [ordered]@{
            "proxy stream $size, client to server" = { param($relay) Measure-ProxyStream -Direction 'to server' -Source $source -Relay $relay }
            "proxy stream $size, server to client" = { param($relay) Measure-ProxyStream -Direction 'to client' -Source $source -Relay $relay }
            'proxy echo 64 B, 50 conn' = { param($relay) Measure-ProxyEcho -Relay $relay }
        }
        foreach ($case in $cases.Keys) {
            $measured = [ordered]@{}
            foreach ($name in $proxyRelays.Keys) {
                try {
                    $entry = & $cases[$case] $proxyRelays[$name]
                    $measured[$name] = if ($entry) { $entry } else { [pscustomobject]@{ Rate = $null; Notes = 'not installed' } }
                }
                catch {
                    Write-Warning "$case with $name failed: $_"
                    $measured[$name] = [pscustomobject]@{ Rate = $null; Notes = "failed: $_" }
                }
                $unit = if ($case -like '*echo*') { 'round trips/s' } else { 'MB/s' }
                Write-Host ('  {0,-38} {1,-24} {2,10:N0} {3}  {4}' -f $case, $name, $measured[$name].Rate, $unit, $measured[$name].Notes)
            }
            $socatRate = $measured['socat TCP-LISTEN,fork'].Rate
            $first = $true
            foreach ($name in $measured.Keys) {
                $ratio = Get-Ratio $measured[$name].Rate $socatRate
                [pscustomobject]@{
                    Scenario = $case
                    Server = $name
                    Figure = $measured[$name].Rate
                    Unit = if ($case -like '*echo*') { 'round trips/s' } else { 'MB/s' }
                    Ratios = [ordered]@{ 'socat' = $ratio }
                    Target = if ($first) { '>= {0:N1}x socat' -f $proxySocatTarget } else { '' }
                    Met = if ($first) { $null -ne $ratio -and $ratio -ge $proxySocatTarget } else { $null }
                    Notes = $measured[$name].Notes
                }
                $first = $false
            }
        }
    }
    catch {
        Write-Warning "Proxy failed: $_"
        [pscustomobject]@{ Scenario = 'proxy'; Server = 'Start-TcpProxy -Quiet'; Figure = $null; Unit = ''; Ratios = $null; Target = ''; Met = $false; Notes = "failed: $_" }
    }
    finally {
        Remove-Item $source -ErrorAction Ignore
    }
    Measure-ProxyObjectsAndFault
}

@{ Order = 45; Heading = 'Proxy...' }
