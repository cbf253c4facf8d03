<#
.SYNOPSIS
Stream: one file of random bytes (2 GiB, -Quick 256 MiB) over one connection, both ways.

.DESCRIPTION
The file is on /dev/shm where it fits. Send-TcpMessage -Path into a discarding socat listener, and
Receive-TcpMessage -OutFile /dev/null from a socat listener that sends the file; beside socat, nc
(OpenBSD) and ncat doing the same, and iperf3 as the ceiling. Ratios are to socat and to iperf3.
#>

# The module's stream throughput, each way: at least this multiple of socat's.
$streamSocatTarget = 1.2

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
            $streamTarget = '>= {0:N1}x socat' -f $streamSocatTarget
            $first = $true
            foreach ($name in $measured.Keys) {
                $entry = $measured[$name]
                $toSocat = Get-Ratio $entry.Rate $socatRate
                $toIperf = Get-Ratio $entry.Rate $iperfRate
                # iperf3 is the ceiling, shown beside: the target is socat's figure alone.
                $met = if ($first) { $null -ne $toSocat -and $toSocat -ge $streamSocatTarget } else { $null }
                [pscustomobject]@{
                    Scenario = $scenarios[$direction]
                    Server = $name
                    Figure = $entry.Rate
                    Unit = 'MB/s'
                    Ratios = [ordered]@{ 'socat' = $toSocat; 'iperf3' = $toIperf }
                    Target = if ($first) { $streamTarget } else { '' }
                    Met = $met
                    Notes = $entry.Notes
                }
                $first = $false
            }
        }
    }
    catch {
        Write-Warning "Stream failed: $_"
        [pscustomobject]@{ Scenario = "stream $size"; Server = 'Send-TcpMessage, Receive-TcpMessage'; Figure = $null; Unit = 'MB/s'; Ratios = $null; Target = ''; Met = $false; Notes = "failed: $_" }
    }
    finally {
        Remove-Item $source -ErrorAction Ignore
    }
}

# What the runner needs of this scenario: its place in the run and the table, and the line it prints first.
@{ Order = 40; Heading = 'Stream...' }
