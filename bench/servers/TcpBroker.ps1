<#
.SYNOPSIS
Start-TcpServer -Broker, for the benchmark: run in a child pwsh, killed when done.

.DESCRIPTION
Prints "Listening on TCP 127.0.0.1:<port>" on stdout once it listens (the 'Listening' information
record). Each message also goes down the pipeline, as it does for a user, here into Out-Null.
-MaxSeconds ends it anyway should the parent die first.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [int] $MaxSeconds = 900
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
Start-TcpServer -Port 0 -Broker -TimeoutSec $MaxSeconds -InformationAction Continue | Out-Null
