<#
.SYNOPSIS
Start-TcpProxy -Quiet in front of one server, for the benchmark: run in a child pwsh, killed when done.

.DESCRIPTION
Prints "Listening on TCP 127.0.0.1:<port>" on stdout once it listens (the 'Listening' information
record). -MaxSeconds ends it anyway should the parent die first.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [int] $RemotePort,
    [int] $MaxSeconds = 900
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $RemotePort -Quiet -TimeoutSec $MaxSeconds -InformationAction Continue | Out-Null
