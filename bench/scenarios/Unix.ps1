<#
.SYNOPSIS
Unix: echo over a UNIX domain socket beside socat UNIX-LISTEN,fork; and a file echoed through microsocks beside ncat --proxy-type socks5.

.DESCRIPTION
UNIX echo: the bench's async echo client over 50 UNIX socket connections, 64-byte lines, against
Start-TcpServer -UnixSocket -Handler { $_.Text } and socat UNIX-LISTEN:<path>,fork EXEC:cat (a process
per connection, as socat serves). Proxied echo: a file of 64-byte lines (3 MiB) sent five times, on a
connection each, to the raw .NET echo server through the same microsocks, by New-TcpConnection -Proxy
socks5:// with Send-TcpMessage -Path and Receive-TcpMessage -Length, and by ncat --proxy-type socks5
--no-shutdown, each round timed to the last echoed byte (microsocks ends both directions on a
half-close, so neither half-closes). Ratios are to socat and to ncat.
#>

$unixTarget = 1.0
$proxiedTarget = 1.0

$unixServers = [ordered]@{
    'Start-TcpServer -UnixSocket' = {
        param([string] $Path)
        Start-ChildPwsh -Name 'Start-TcpServer -UnixSocket' -Script 'TcpEchoServer.ps1' -Arguments @('-ModulePath', $moduleManifest, '-UnixSocket', $Path)
    }
    'socat UNIX-LISTEN,fork' = {
        param([string] $Path)
        $socat = Find-Tool 'socat'
        if (-not $socat) { return }
        Start-Child -Name 'socat UNIX-LISTEN' -FileName $socat -Arguments @("UNIX-LISTEN:$Path,fork,backlog=512", 'EXEC:cat')
    }
}

function Measure-UnixEcho {
    $measured = [ordered]@{}
    foreach ($name in $unixServers.Keys) {
        $path = Join-Path ([IO.Path]::GetTempPath()) "nc-bench-$PID-$($measured.Count).sock"
        $child = $null
        try {
            $child = & $unixServers[$name] $path
            if (-not $child) { $measured[$name] = [pscustomobject]@{ Rate = $null; Notes = 'not installed' }; continue }
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (-not (Test-Path $path)) {
                if ($child.Process.HasExited -or [DateTime]::UtcNow -gt $deadline) { throw "$name did not make $path.$(Get-ChildErrorText $child)" }
                Start-Sleep -Milliseconds 20
            }
            $client = Start-BenchTool -Name "echo-client 50 on $name" -Arguments @('echo-client', '--unix', $path, '--connections', '50',
                '--seconds', "$($settings.EchoSeconds)", '--warmup', "$($settings.Warmup)", '--size', '64')
            try { $result = Receive-ChildJson $client -TimeoutSec ($settings.EchoSeconds + $settings.Warmup + 30) } finally { Stop-Child $client }
            if ([int]$result.errors -gt 0 -and [double]$result.roundTripsPerSecond -eq 0) { throw "the client failed: $($result.firstError)" }
            $measured[$name] = [pscustomobject]@{ Rate = [double]$result.roundTripsPerSecond; Notes = 'async client, 50 connections, 64-byte lines' }
        }
        catch {
            Write-Warning "UNIX echo with $name failed: $_"
            $measured[$name] = [pscustomobject]@{ Rate = $null; Notes = "failed: $_" }
        }
        finally {
            if ($child) { Stop-Child $child }
            Remove-Item $path -ErrorAction Ignore
        }
        Write-Host ('  {0,-38} {1,-28} {2,10:N0} round trips/s' -f 'unix echo 64 B, 50 conn', $name, $measured[$name].Rate)
    }
    Write-RatioRows -Scenario 'unix echo 64 B, 50 conn' -Measured $measured -Unit 'round trips/s' -Peer 'socat UNIX-LISTEN,fork' -Target $unixTarget
}

function Measure-ProxiedEcho {
    $measured = [ordered]@{}
    $microsocks = Find-Tool 'microsocks'
    $ncat = Find-Tool 'ncat'
    $length = 3MB
    $rounds = 5
    $file = Join-Path ([IO.Path]::GetTempPath()) "nc-bench-lines-$PID.txt"
    $echo = $null
    $proxy = $null
    $measured['Send-TcpMessage -Proxy socks5'] = [pscustomobject]@{ Rate = $null; Notes = '' }
    $measured['ncat --proxy-type socks5'] = [pscustomobject]@{ Rate = $null; Notes = 'not installed' }
    try {
        if (-not $microsocks) { throw 'microsocks is not installed' }
        # Lines of 64 bytes: what an echo of a line protocol moves.
        $line = [Text.Encoding]::ASCII.GetBytes(('x' * 63) + "`n")
        $stream = [IO.File]::Create($file)
        try { for ($i = 0; $i -lt $length / 64; $i++) { $stream.Write($line, 0, 64) } } finally { $stream.Dispose() }
        $echo = Start-BenchTool -Name 'raw .NET echo server' -Arguments @('echo-server', '--port', '0')
        $echoPort = [int](Wait-ChildLine $echo -Pattern '^(\d+)$' -TimeoutSec 30)[1]
        $proxyPort = Get-FreePort
        $proxy = Start-Child -Name 'microsocks' -FileName $microsocks -Arguments @('-i', '127.0.0.1', '-p', "$proxyPort")
        Wait-TcpListener -Port $proxyPort -Child $proxy
        $module = Start-ChildPwsh -Name 'Send-TcpMessage -Proxy' -Script 'ProxiedSend.ps1' -Arguments @('-ModulePath', $moduleManifest, '-Proxy', "socks5://127.0.0.1:$proxyPort", '-Port', "$echoPort", '-Path', $file, '-Rounds', "$rounds")
        try { $result = Receive-ChildJson $module -TimeoutSec 300 } finally { Stop-Child $module }
        if ([long]$result.bytes -ne $length * $rounds) { throw "the module got $($result.bytes) of $($length * $rounds) bytes back" }
        $measured['Send-TcpMessage -Proxy socks5'] = [pscustomobject]@{ Rate = $length * $rounds / [double]$result.seconds / 1e6; Notes = '{0} x {1:N0} MiB and its echo in {2:N2} s' -f $rounds, ($length / 1MB), $result.seconds }
        if ($ncat) {
            $out = Join-Path ([IO.Path]::GetTempPath()) "nc-bench-ncat-$PID.txt"
            $seconds = 0.0
            for ($round = 0; $round -lt $rounds; $round++) {
                Remove-Item $out -ErrorAction Ignore
                $clock = [Diagnostics.Stopwatch]::StartNew()
                $run = Start-Child -Name 'ncat --proxy' -FileName 'bash' -Arguments @('-c', "exec '$ncat' --no-shutdown --proxy 127.0.0.1:$proxyPort --proxy-type socks5 127.0.0.1 $echoPort < '$file' > '$out'")
                $deadline = [DateTime]::UtcNow.AddSeconds(60)
                while (-not ((Test-Path $out) -and (Get-Item $out).Length -ge $length)) {
                    if ($run.Process.HasExited -or [DateTime]::UtcNow -gt $deadline) { throw "ncat got $((Get-Item $out -ErrorAction Ignore).Length) of $length bytes back.$(Get-ChildErrorText $run)" }
                    [Threading.Thread]::Sleep(1)
                }
                $seconds += $clock.Elapsed.TotalSeconds
                Stop-Child $run
            }
            Remove-Item $out -ErrorAction Ignore
            $measured['ncat --proxy-type socks5'] = [pscustomobject]@{ Rate = $length * $rounds / $seconds / 1e6; Notes = '{0} x {1:N0} MiB and its echo in {2:N2} s, each ncat''s start included' -f $rounds, ($length / 1MB), $seconds }
        }
    }
    catch {
        Write-Warning "proxied echo failed: $_"
        $measured['Send-TcpMessage -Proxy socks5'].Notes = "failed: $_"
    }
    finally {
        foreach ($child in $proxy, $echo) { if ($child) { Stop-Child $child } }
        Remove-Item $file -ErrorAction Ignore
    }
    foreach ($name in $measured.Keys) { Write-Host ('  {0,-38} {1,-28} {2,10:N1} MB/s  {3}' -f 'proxied echo through microsocks', $name, $measured[$name].Rate, $measured[$name].Notes) }
    Write-RatioRows -Scenario 'proxied echo through microsocks' -Measured $measured -Unit 'MB/s' -Peer 'ncat --proxy-type socks5' -Target $proxiedTarget
}

# One row per server: the first is the module's, with its ratio to the peer and the target.
function Write-RatioRows {
    param([string] $Scenario, $Measured, [string] $Unit, [string] $Peer, [double] $Target)
    $first = $true
    foreach ($name in $Measured.Keys) {
        $ratio = Get-Ratio $Measured[$name].Rate $Measured[$Peer].Rate
        [pscustomobject]@{
            Scenario = $Scenario; Server = $name; Figure = $Measured[$name].Rate; Unit = $Unit
            Ratios = [ordered]@{ $Peer = $ratio }
            Target = if ($first) { '>= {0:N1}x {1}' -f $Target, $Peer } else { '' }
            Met = if ($first) { $null -ne $ratio -and $ratio -ge $Target } else { $null }
            Notes = $Measured[$name].Notes
        }
        $first = $false
    }
}

function Measure-Unix {
    Measure-UnixEcho
    Measure-ProxiedEcho
}

@{ Order = 48; Heading = 'Unix and outbound proxy...' }
