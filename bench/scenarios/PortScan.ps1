<#
.SYNOPSIS
PortScan: Test-TcpPort beside nc -z (OpenBSD), nmap -sT and ncat, each in a process of its own.

.DESCRIPTION
Timed by a Stopwatch here (Test-TcpPort's around the cmdlet, in its pwsh, after a warm-up; the
others' from process start to exit). Refused: 20 listeners at free ports picked at random among
1..1000 on 127.0.0.1, the rest refused, scanned 1..1000; every tool's open ports are checked against
the 20. Filtered: 20 ports whose SYNs are dropped (an iptables DROP rule on lo, or, where iptables
cannot work, a neighbour entry to a MAC nobody has), scanned with a 1 s timeout. Each case runs in a
network namespace the benchmark makes (ip netns) and deletes, so nothing else on the machine listens
or is reached. Ratios are nc's time over each tool's: how many times as fast as nc -z -w1.
#>

# How many times as fast as nc -z -w1 Test-TcpPort scans (nc's seconds over its own): at least.
$portScanTargets = @{ Refused = 1.0; Filtered = 10.0 }

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
# says so. Returns the rows; each tool's open ports are checked against the expected ones.
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
        [pscustomobject]@{
            Scenario = $Label
            Server = $name
            Figure = $entry.Seconds
            Unit = 's'
            Ratios = [ordered]@{ 'as fast as nc -z' = $ratio }
            Target = if ($first) { '>= {0:N1}x' -f $TargetRatio } else { '' }
            # A fast scan with a wrong answer does not count.
            Met = if ($first) { $null -ne $ratio -and $ratio -ge $TargetRatio -and $entry.Correct -ne $false } else { $null }
            Notes = $notes
        }
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
            -FirstPort $first -LastPort $last -Expected $expected -TargetRatio $portScanTargets.Refused -CaseNotes $caseNotes
    }
    catch {
        Write-Warning "Port scan (refused) failed: $_"
        [pscustomobject]@{ Scenario = "port scan $first-$last, refused"; Server = 'Test-TcpPort'; Figure = $null; Unit = 's'; Ratios = $null; Target = ''; Met = $false; Notes = "failed: $_" }
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
            -Address $filter.Address -FirstPort $filteredFirst -LastPort $filteredLast -Expected @() -TargetRatio $portScanTargets.Filtered -CaseNotes $filter.Method -Filtered
    }
    catch {
        Write-Warning "Port scan (filtered) failed: $_"
        [pscustomobject]@{ Scenario = "port scan $($portScan.FilteredCount) filtered"; Server = 'Test-TcpPort'; Figure = $null; Unit = 's'; Ratios = $null; Target = ''; Met = $false; Notes = "failed: $_" }
    }
    finally {
        if ($namespace) { Remove-BenchNetns $namespace }
    }
}

# What the runner needs of this scenario: its place in the run and the table, and the line it prints first.
@{ Order = 60; Heading = 'Port scan...' }
