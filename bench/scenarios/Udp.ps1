<#
.SYNOPSIS
Udp: datagrams sent as fast as one sender can into Receive-UdpDatagram | Measure-Object.

.DESCRIPTION
The share counted, beside a raw .NET receiver with the same socket buffer; the ratio is to it.
#>

# Datagrams Receive-UdpDatagram counts, as a share of what the raw receiver counts in the same run: at least.
$udpTarget = 0.95

function Get-UdpCounters {
    $lines = @(Get-Content /proc/net/snmp | Where-Object { $_ -like 'Udp:*' })
    $names = $lines[0].Split(' ', [StringSplitOptions]::RemoveEmptyEntries)
    $values = $lines[1].Split(' ', [StringSplitOptions]::RemoveEmptyEntries)
    $counters = @{}
    for ($i = 1; $i -lt $names.Count; $i++) { $counters[$names[$i]] = [long]$values[$i] }
    $counters
}

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
        [pscustomobject]@{
            Scenario = "UDP 64 B x $('{0:N0}' -f $count)"
            Server = $name
            Figure = if ($null -ne $entry.Received) { 100.0 * $entry.Received / $count } else { $null }
            Unit = '% received'
            Ratios = [ordered]@{ 'raw .NET' = $ratio }
            Target = if ($isCmdlet) { '>= {0:N2}x' -f $udpTarget } else { '' }
            Met = if ($isCmdlet) { $null -ne $ratio -and $ratio -ge $udpTarget } else { $null }
            Notes = $entry.Notes
        }
    }
}

# What the runner needs of this scenario: its place in the run and the table, and the line it prints first.
@{ Order = 30; Heading = 'UDP...' }
