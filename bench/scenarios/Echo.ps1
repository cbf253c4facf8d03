<#
.SYNOPSIS
Echo: round trips per second of 64-byte lines, each connection sending a line and waiting for its echo.

.DESCRIPTION
Over 1 connection with the async client, and over 50 connections with each of two clients that pace
the load differently: the async client (bench/NetCmdlets.Bench EchoClient: one async loop per
connection on the thread pool) and the blocking client (BlockingEchoClient: a thread per connection
blocking in send and receive, as Python `socket` clients do). Against Start-TcpServer -Handler { $_.Text }
in the foreground of a child pwsh, the same with -Framing LengthPrefixed and Json, with -AsJob and
with -ThrottleLimit 2, a raw .NET async echo server with the runtime's defaults, the tuned raw .NET
server (inline socket completions), Python asyncio and ncat (each where installed), and the server's
CPU time per round trip. Ratios are to the best raw .NET server of the run (the faster of the tuned
and the plain one: inline completions win at 50 connections and lose at one) and to Python asyncio.
#>

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

# Each server: how to start it (returns the child, its port and the framing the clients send), in the order of the table.
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
    'tuned raw .NET (inline completions)' = {
        $child = Start-BenchTool -Name 'tuned raw .NET echo server' -Arguments @('tuned-echo-server', '--port', '0')
        $child, [int](Wait-ChildLine $child -Pattern '^(\d+)$' -TimeoutSec 30)[1]
    }
    'Python asyncio' = {
        $python = Get-Command python3 -CommandType Application -ErrorAction Ignore | Select-Object -First 1
        if (-not $python) { return }
        $child = Start-Child -Name 'Python asyncio' -FileName $python.Source -Arguments @('-u', (Join-Path $benchRoot 'echo_server.py'))
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

# The runs against each server, in the order of the table: the client (its bench tool command) and connections.
$echoRuns = @(
    [pscustomobject]@{ Client = 'async'; Command = 'echo-client'; Connections = 1 }
    [pscustomobject]@{ Client = 'async'; Command = 'echo-client'; Connections = 50 }
    [pscustomobject]@{ Client = 'blocking'; Command = 'blocking-echo-client'; Connections = 50 }
)

# The project's targets for the module's rows, each the least ratio to the row named, per server and
# connections (0: any). CPU per round trip is a ceiling instead: at most this multiple of the leaner raw server's.
$echoTargets = @{
    'Start-TcpServer -Handler' = @{
        50 = [ordered]@{ 'Python asyncio' = 1.0; 'best raw .NET' = 0.9 }
        1 = [ordered]@{ 'best raw .NET' = 0.9 }
    }
    'Start-TcpServer -Handler -Framing LengthPrefixed' = @{ 0 = [ordered]@{ 'line echo' = 0.9 } }
    'Start-TcpServer -Handler -Framing Json' = @{ 0 = [ordered]@{ 'line echo' = 0.8 } }
    'Start-TcpServer -Handler -ThrottleLimit 2' = @{ 0 = [ordered]@{ 'inline' = 0.8 } }
}
$echoCpuTarget = 1.1

# One run of one client against the server: its rate, the server's CPU per round trip and notes.
function Measure-EchoRun {
    param([Parameter(Mandatory)] $Child, [int] $Port, [string] $Framing, [Parameter(Mandatory)] $Run)
    $cpuBefore = Get-TreeCpuSeconds $Child.Process.Id
    $client = Start-BenchTool -Name "$($Run.Command) $($Run.Connections)" -Arguments @(
        $Run.Command, '--host', '127.0.0.1', '--port', "$Port", '--connections', "$($Run.Connections)",
        '--seconds', "$($settings.EchoSeconds)", '--warmup', "$($settings.Warmup)", '--size', '64', '--framing', $Framing)
    try {
        $result = Receive-ChildJson $client -TimeoutSec ($settings.EchoSeconds + $settings.Warmup + 30)
    }
    finally {
        Stop-Child $client
    }
    # ncat's cat processes end with their connections: once ncat has reaped them, their CPU is in its own figures.
    $deadline = [DateTime]::UtcNow.AddSeconds(3)
    while (@(Get-ChildProcessId $Child.Process.Id).Count -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
    $cpu = (Get-TreeCpuSeconds $Child.Process.Id) - $cpuBefore
    $cpuPerRoundTrip = if ($result.allRoundTrips -gt 0) { 1e6 * $cpu / $result.allRoundTrips } else { $null }
    $notes = @()
    if ($null -ne $cpuPerRoundTrip) { $notes += '{0:N1} us server CPU/rt' -f $cpuPerRoundTrip }
    $notes += 'server RSS {0:N0} MiB after' -f ((Get-ProcStatusKiB $Child.Process.Id 'VmRSS') / 1KB)
    if ($result.errors) { $notes += "$($result.errors) error(s): $($result.firstError)" }
    [pscustomobject]@{ Rate = [double]$result.roundTripsPerSecond; Cpu = $cpuPerRoundTrip; Notes = $notes -join '; ' }
}

# "... >= 0.9x tuned raw .NET" and whether every ratio named is there and at least its minimum.
function Test-EchoTarget {
    param([System.Collections.IDictionary] $Minimums, [System.Collections.IDictionary] $Ratios)
    $text = @($Minimums.Keys | ForEach-Object { '>= {0:N1}x {1}' -f $Minimums[$_], $_ }) -join ', '
    $met = @($Minimums.Keys | Where-Object { $null -eq $Ratios[$_] -or $Ratios[$_] -lt $Minimums[$_] }).Count -eq 0
    $text, $met
}

function Measure-Echo {
    $measured = [Collections.Generic.List[object]]::new()
    foreach ($name in $echoServers.Keys) {
        $child = $null
        try {
            $started = & $echoServers[$name]
            if (-not $started) {
                foreach ($run in $echoRuns) {
                    $measured.Add([pscustomobject]@{ Server = $name; Run = $run; Rate = $null; Cpu = $null; Notes = 'not installed' })
                }
                continue
            }
            $child, $port, $framing = $started
            if (-not $framing) { $framing = 'line' }
            foreach ($run in $echoRuns) {
                $figures = Measure-EchoRun -Child $child -Port $port -Framing $framing -Run $run
                $measured.Add([pscustomobject]@{ Server = $name; Run = $run; Rate = $figures.Rate; Cpu = $figures.Cpu; Notes = $figures.Notes })
                Write-Host ('  {0,-48} {1,2} conn {2,-8} {3,10:N0} rt/s  {4}' -f $name, $run.Connections, $run.Client, $figures.Rate, $figures.Notes)
            }
        }
        catch {
            Write-Warning "Echo against ${name} failed: $_"
            foreach ($run in $echoRuns) {
                if (-not ($measured | Where-Object { $_.Server -eq $name -and $_.Run -eq $run })) {
                    $measured.Add([pscustomobject]@{ Server = $name; Run = $run; Rate = $null; Cpu = $null; Notes = "failed: $_" })
                }
            }
        }
        finally {
            if ($child) { Stop-Child $child }
        }
    }

    $echoRows = foreach ($run in $echoRuns) {
        $ofRun = @($measured | Where-Object Run -EQ $run)
        $byServer = @{}
        foreach ($entry in $ofRun) { $byServer[$entry.Server] = $entry }
        # The ceiling is the better of the two raw servers in this run: the faster for rates, the leaner for CPU.
        $raws = @($byServer['tuned raw .NET (inline completions)'], $byServer['raw .NET async sockets'] | Where-Object { $_ })
        $best = $raws | Sort-Object Rate -Descending | Select-Object -First 1
        $leanest = $raws | Where-Object Cpu | Sort-Object Cpu | Select-Object -First 1
        $python = $byServer['Python asyncio']
        $line = $byServer['Start-TcpServer -Handler']
        foreach ($entry in $ofRun) {
            $ratios = [ordered]@{
                'best raw .NET' = Get-Ratio $entry.Rate $(if ($best) { $best.Rate })
                'Python asyncio' = Get-Ratio $entry.Rate $(if ($python) { $python.Rate })
            }
            $targetsByConnections = $echoTargets[$entry.Server]
            $minimums = $null
            if ($targetsByConnections) {
                $minimums = $targetsByConnections[$run.Connections]
                if (-not $minimums) { $minimums = $targetsByConnections[0] }
            }
            $target, $met = '', $null
            if ($minimums) {
                # The framings and -ThrottleLimit are measured against the same echo, inline and line by line.
                foreach ($key in @($minimums.Keys | Where-Object { $_ -in 'line echo', 'inline' })) { $ratios[$key] = Get-Ratio $entry.Rate $(if ($line) { $line.Rate }) }
                $target, $met = Test-EchoTarget $minimums $ratios
            }
            [pscustomobject]@{
                Scenario = "echo 64 B, $($run.Connections) conn, $($run.Client) client"
                Server = $entry.Server
                Figure = $entry.Rate
                Unit = 'round trips/s'
                Ratios = $ratios
                Target = $target
                Met = $met
                Notes = $entry.Notes
            }
        }
        # Server CPU per round trip of Start-TcpServer -Handler under 50 connections: lower is better, so the target is a ceiling.
        if ($run.Connections -eq 50 -and $line) {
            $ratio = Get-Ratio $line.Cpu $(if ($leanest) { $leanest.Cpu })
            [pscustomobject]@{
                Scenario = "echo 64 B, 50 conn, $($run.Client) client"
                Server = $line.Server
                Figure = $line.Cpu
                Unit = 'us server CPU/rt'
                Ratios = [ordered]@{ 'leanest raw .NET' = $ratio }
                Target = '<= {0:N2}x leanest raw .NET' -f $echoCpuTarget
                Met = $null -ne $ratio -and $ratio -le $echoCpuTarget
                Notes = "user + system CPU of the server process over the run, per round trip; the leaner raw server: $(if ($leanest) { $leanest.Server })"
            }
        }
    }
    # The CPU rows after the rates, as before.
    $echoRows | Where-Object Unit -NE 'us server CPU/rt'
    $echoRows | Where-Object Unit -EQ 'us server CPU/rt'
}

# What the runner needs of this scenario: its place in the run and the table, and the line it prints first.
@{ Order = 10; Heading = 'Echo round trips...' }
