<#
.SYNOPSIS
UdpEcho: round trips per second of 64-byte datagrams from 1 and from 50 senders.

.DESCRIPTION
Each sender has a connected socket of its own, sends one datagram and waits for its echo (1 s, then
counted lost), against Start-UdpServer -Handler { $_.Data } in the foreground of a child pwsh and a
raw .NET async UDP echo server, and the server's CPU time per round trip; ratios are to the raw .NET server.
#>

# Start-UdpServer -Handler's round trips, from 1 and from 50 senders, as a share of the raw .NET server's: at least.
$udpEchoTarget = 0.8

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
            $ratio = Get-Ratio $entry.Rate $(if ($raw) { $raw.Rate })
            $isCmdlet = $entry.Server -like 'Start-UdpServer*'
            [pscustomobject]@{
                Scenario = "UDP echo 64 B, $senders sender$(if ($senders -ne 1) { 's' })"
                Server = $entry.Server
                Figure = $entry.Rate
                Unit = 'round trips/s'
                Ratios = [ordered]@{ 'raw .NET' = $ratio }
                Target = if ($isCmdlet) { '>= {0:N2}x' -f $udpEchoTarget } else { '' }
                Met = if ($isCmdlet) { $null -ne $ratio -and $ratio -ge $udpEchoTarget } else { $null }
                Notes = $entry.Notes
            }
        }
    }
}

# What the runner needs of this scenario: its place in the run and the table, and the line it prints first.
@{ Order = 70; Heading = 'UDP echo round trips...' }
