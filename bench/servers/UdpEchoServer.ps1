<#
.SYNOPSIS
Start-UdpServer as a datagram echo server, for the benchmark: run in a child pwsh, killed when done.

.DESCRIPTION
Prints "Listening on UDP 127.0.0.1:<port>" on stdout once bound, then answers each datagram with
its own bytes from the handler ($_.Data), in the foreground as a user would run it. The parent
kills this process when done; -MaxSeconds ends it anyway should the parent die first.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [int] $ThrottleLimit = 1,
    [int] $MaxSeconds = 600
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

# -InformationAction Continue shows the 'Listening' record, port included, on stdout.
Start-UdpServer -Port 0 -Handler { $_.Data } -ThrottleLimit $ThrottleLimit -TimeoutSec $MaxSeconds -InformationAction Continue | Out-Null
