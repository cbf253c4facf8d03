<#
.SYNOPSIS
Idle: Start-TcpServer holding many idle connections.

.DESCRIPTION
Accepted by the server's own count, and the growth of the server process's resident memory per
connection. Each connection is a file in the server and in the client process: where the hard limit
on open files is lower than that, the limit is raised for the two children with prlimit when this runs
as root, and otherwise fewer connections are measured and a warning says why. Past one source
address's ephemeral ports the clients connect from more loopback addresses.
#>

# At most this much resident memory per idle connection.
$idleBytesTarget = 2KB

function Get-SocketCount {
    param([int] $ProcessId)
    @(Get-ChildItem "/proc/$ProcessId/fd" -ErrorAction Ignore | Where-Object { "$($_.LinkTarget)" -like 'socket:*' }).Count
}

# A launcher that gives the children room for Files open files: none when the limit allows it already,
# prlimit when this runs as root and may raise it. Throws why not, when neither.
function Get-OpenFileLauncher {
    param([Parameter(Mandatory)] [int] $Files)
    $limit = Get-OpenFileLimit
    if ($limit.Hard -eq 'unlimited' -or [int]$limit.Hard -ge $Files) { return @() }
    $why = "the hard limit on open files is $($limit.Hard)"
    $prlimit = Find-Tool 'prlimit'
    if (-not (Test-Root)) { throw "$why, and raising it needs root" }
    if (-not $prlimit) { throw "$why, and prlimit (util-linux) is not installed to raise it" }
    # .NET raises its soft limit to the hard one at start: the hard limit is the one to raise.
    [string[]] $launcher = @($prlimit, "--nofile=${Files}:${Files}", '--')
    $try = Invoke-Tool -Name 'prlimit' -FileName $prlimit -Arguments ($launcher[1..2] + @('true')) -TimeoutSec 10
    if ($try.ExitCode -ne 0) { throw "$why, and raising it to $Files failed: $($try.Error)" }
    $launcher
}

# How many loopback addresses the clients connect from: one gives each client address the
# system's ephemeral port range towards the server's port, less what else uses it.
function Get-IdleSourceCount {
    param([int] $Count)
    $range = @((Get-Content /proc/sys/net/ipv4/ip_local_port_range -ErrorAction Ignore) -split '\s+' | Where-Object { $_ })
    if ($range.Count -ne 2) { return 1 }
    $ports = [int]$range[1] - [int]$range[0] + 1
    [Math]::Max(1, [int][Math]::Ceiling($Count / (0.9 * $ports)))
}

function Measure-Idle {
    $count = $settings.IdleCount
    $launcher = @()
    $limitNote = ''
    try {
        $launcher = @(Get-OpenFileLauncher -Files ($count + 200))
        if ($launcher) { $limitNote = "; open files raised to $($count + 200) for server and clients with prlimit" }
    }
    catch {
        $limit = Get-OpenFileLimit
        $count = [int]$limit.Hard - 200
        $limitNote = "; $count tried, not $($settings.IdleCount): $_"
        Write-Warning "Measuring $count idle connections instead of $($settings.IdleCount): $_."
    }
    $sources = Get-IdleSourceCount $count
    $server = $null
    $clients = $null
    try {
        $server = Start-ChildPwsh -Name 'idle Start-TcpServer' -Script 'IdleTcpServer.ps1' -Arguments @('-ModulePath', $moduleManifest) -Launcher $launcher
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

        $clients = Start-BenchTool -Name 'idle-clients' -Launcher $launcher -Arguments @('idle-clients', '--port', "$port", '--count', "$count", '--sources', "$sources")
        $connected = Receive-ChildJson $clients -TimeoutSec 180
        $after = & $waitFor { param($s) $s.open -ge $connected.connected } 60
        $rssNoCollect = Get-ProcStatusKiB $server.Process.Id 'VmRSS'
        $after, $rssAfter = & $settle
        $sockets = (Get-SocketCount $server.Process.Id) - $socketsBefore

        $accepted = $after.open
        $failures = ($connected.failures.PSObject.Properties | ForEach-Object { "$($_.Name) $($_.Value)" }) -join ', '
        $acceptNotes = "clients connected $($connected.connected) in $($connected.seconds) s; server sockets +$sockets; errors $($after.errors)"
        if ($sources -gt 1) { $acceptNotes += "; from $sources loopback addresses" }
        if ($failures) { $acceptNotes += "; client failures: $failures" }
        $acceptNotes += $limitNote
        [pscustomobject]@{
            Scenario = "idle TCP connections"
            Server = 'Start-TcpServer -AsJob'
            Figure = [double]$accepted
            Unit = "accepted of $count"
            Ratios = $null
            # Fewer tried for want of open files is no target met: the note says why.
            Target = "$($settings.IdleCount)"
            Met = $accepted -eq $settings.IdleCount
            Notes = $acceptNotes
        }
        $perConnection = if ($accepted -gt 0) { ($rssAfter - $rssBefore) * 1KB / $accepted } else { $null }
        $heapPerConnection = if ($accepted -gt 0) { ($after.heap - $before.heap) / $accepted } else { 0 }
        $noCollect = if ($accepted -gt 0) { ($rssNoCollect - $rssBefore) * 1KB / $accepted } else { 0 }
        [pscustomobject]@{
            Scenario = "idle TCP memory"
            Server = 'Start-TcpServer -AsJob'
            Figure = $perConnection
            Unit = 'bytes RSS/conn'
            Ratios = $null
            Target = "<= $idleBytesTarget"
            Met = $null -ne $perConnection -and $perConnection -le $idleBytesTarget
            Notes = ('RSS {0:N0} -> {1:N0} KiB after GCs ({2:N0} B/conn before them); managed heap {3:N0} B/conn' -f $rssBefore, $rssAfter, $noCollect, $heapPerConnection)
        }
        Write-Host ('  accepted {0:N0} of {1:N0}; {2:N0} B RSS per connection; {3}' -f $accepted, $count, $perConnection, $acceptNotes)
    }
    catch {
        Write-Warning "Idle connections failed: $_"
        [pscustomobject]@{ Scenario = 'idle TCP connections'; Server = 'Start-TcpServer -AsJob'; Figure = $null; Unit = ''; Ratios = $null; Target = "$($settings.IdleCount)"; Met = $false; Notes = "failed: $_" }
    }
    finally {
        if ($clients) { Stop-Child $clients }
        if ($server) { Stop-Child $server }
    }
}

# What the runner needs of this scenario: its place in the run and the table, and the line it prints first.
@{ Order = 20; Heading = 'Idle connections...' }
