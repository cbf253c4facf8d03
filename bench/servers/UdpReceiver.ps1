<#
.SYNOPSIS
Receive-UdpDatagram counting datagrams through Measure-Object, for the benchmark: run in a child pwsh.

.DESCRIPTION
Prints "Listening on UDP 127.0.0.1:<port>" once bound, then, when -Count datagrams arrived or
-TimeoutSec passed, one JSON line: how many the pipeline counted, and the cmdlet's warnings
(datagrams it dropped because the pipeline fell behind).
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [int] $Count,
    [Parameter(Mandatory)] [double] $TimeoutSec
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

$measured = Receive-UdpDatagram -Port 0 -Count $Count -TimeoutSec $TimeoutSec -InformationAction Continue -WarningVariable warnings -WarningAction SilentlyContinue |
    Measure-Object
[Console]::Out.WriteLine((@{ received = $measured.Count; warnings = @($warnings | ForEach-Object { "$_" }) } | ConvertTo-Json -Compress))
