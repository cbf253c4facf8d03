<#
.SYNOPSIS
Broker: Start-TcpServer -Broker beside ncat --broker, 20 members, one sending and 19 reading every line.

.DESCRIPTION
The bench's broker-client connects 20 members to the broker; one sends 64-byte lines (200,000,
-Quick 20,000), never more than 1,000 ahead of the slowest reader, and the other 19 each read all of
them. The figure is lines delivered per second over all readers, from the first line sent to the last
line read. The ratio is to ncat --broker.
#>

$brokerTarget = 1.0

$brokers = [ordered]@{
    'Start-TcpServer -Broker' = {
        $child = Start-ChildPwsh -Name 'Start-TcpServer -Broker' -Script 'TcpBroker.ps1' -Arguments @('-ModulePath', $moduleManifest)
        $child, [int](Wait-ChildLine $child -Pattern ':(\d+)$' -TimeoutSec 60)[1]
    }
    'ncat --broker' = {
        $ncat = Find-Tool 'ncat'
        if (-not $ncat) { return }
        $port = Get-FreePort
        $child = Start-Child -Name 'ncat --broker' -FileName $ncat -Arguments @('--listen', '--broker', '--max-conns', '100', '127.0.0.1', "$port")
        Wait-TcpListener -Port $port -Child $child
        $child, $port
    }
}

function Measure-Broker {
    $count = if ($Quick) { 20000 } else { 200000 }
    $measured = [ordered]@{}
    foreach ($name in $brokers.Keys) {
        $child = $null
        try {
            $child, $port = & $brokers[$name]
            if (-not $child) { $measured[$name] = [pscustomobject]@{ Rate = $null; Notes = 'not installed' }; continue }
            $client = Start-BenchTool -Name "broker-client against $name" -Arguments @('broker-client', '--port', "$port", '--connections', '20', '--count', "$count", '--size', '64', '--window', '1000', '--timeout-sec', '120')
            try { $result = Receive-ChildJson $client -TimeoutSec 150 } finally { Stop-Child $client }
            if ([int]$result.errors -gt 0) { throw "the client failed: $($result.firstError)" }
            $measured[$name] = [pscustomobject]@{ Rate = [double]$result.linesPerSecond; Notes = '{0:N0} lines to {1} readers in {2:N2} s' -f $result.lines, $result.readers, $result.seconds }
        }
        catch {
            Write-Warning "broker with $name failed: $_"
            $measured[$name] = [pscustomobject]@{ Rate = $null; Notes = "failed: $_" }
        }
        finally {
            if ($child) { Stop-Child $child }
        }
        Write-Host ('  {0,-38} {1,-24} {2,10:N0} lines/s  {3}' -f 'broker 20 members', $name, $measured[$name].Rate, $measured[$name].Notes)
    }
    $first = $true
    foreach ($name in $measured.Keys) {
        $ratio = Get-Ratio $measured[$name].Rate $measured['ncat --broker'].Rate
        [pscustomobject]@{
            Scenario = 'broker 64 B, 20 members'
            Server = $name
            Figure = $measured[$name].Rate
            Unit = 'lines/s delivered'
            Ratios = [ordered]@{ 'ncat --broker' = $ratio }
            Target = if ($first) { '>= {0:N1}x ncat --broker' -f $brokerTarget } else { '' }
            Met = if ($first) { $null -ne $ratio -and $ratio -ge $brokerTarget } else { $null }
            Notes = $measured[$name].Notes
        }
        $first = $false
    }
}

@{ Order = 47; Heading = 'Broker...' }
