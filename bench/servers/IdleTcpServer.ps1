<#
.SYNOPSIS
Start-TcpServer holding idle connections, for the benchmark: run in a child pwsh.

.DESCRIPTION
The server runs as a job (no handler) so this process stays free to answer its parent on stdin:
  count  prints {"open":..,"total":..,"errors":..} from the server's own statistics
  stats  collects garbage first (so RSS and heap hold live objects only), then prints the same
         with the managed heap size
The process ends when stdin closes.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

$job = Start-TcpServer -Port 0 -AsJob
[Console]::Out.WriteLine("Listening on TCP 127.0.0.1:$($job.Port)")
try {
    while ($null -ne ($command = [Console]::In.ReadLine())) {
        if ($command -eq 'stats') {
            [GC]::Collect()
            [GC]::WaitForPendingFinalizers()
            [GC]::Collect()
        }
        $statistics = $job.Statistics
        $reply = [ordered]@{
            open = $statistics.ConnectionsOpen
            total = $statistics.ConnectionsTotal
            errors = $statistics.Errors
            heap = [GC]::GetTotalMemory($false)
            state = "$($job.State)"
        }
        [Console]::Out.WriteLine(($reply | ConvertTo-Json -Compress))
    }
}
finally {
    $job | Stop-Job
    $job | Remove-Job -Force
}
