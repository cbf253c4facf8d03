<#
.SYNOPSIS
Start-TcpProxy in front of one server, for the benchmark: run in a child pwsh, killed when done.

.DESCRIPTION
Prints "Listening on TCP 127.0.0.1:<port>" on stdout once it listens (the 'Listening' information
record). By default it runs -Quiet; -Observe writes a traffic object for each line each way into
Measure-Object instead, as a user watching the traffic would. -LatencyMs adds a latency fault to what
the server sends back. -MaxSeconds ends it anyway should the parent die first.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [int] $RemotePort,
    [switch] $Observe,
    [double] $LatencyMs = -1,
    [int] $MaxSeconds = 900
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$options = @{ Quiet = -not $Observe }
if ($LatencyMs -ge 0) { $options.Fault = New-TcpFault -LatencyMs $LatencyMs -Direction ServerToClient }
Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $RemotePort -TimeoutSec $MaxSeconds -InformationAction Continue @options | Measure-Object | Out-Null
