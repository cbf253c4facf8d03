<#
.SYNOPSIS
A file echoed through an outbound proxy by New-TcpConnection -Proxy, for the benchmark: prints the bytes and the seconds.

.DESCRIPTION
-Rounds times: a connection through -Proxy, the file sent on it with Send-TcpMessage -Path, and every
byte of its echo read back with Receive-TcpMessage -OutFile -Length, then closed. No half-close: some
proxies (microsocks) end both directions on one side's end. Timed inside this process, from the first
connect to the last byte, so PowerShell's own start is not counted.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $Proxy,
    [Parameter(Mandatory)] [int] $Port,
    [Parameter(Mandatory)] [string] $Path,
    [int] $Rounds = 5
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$length = (Get-Item $Path).Length
$sink = Join-Path ([IO.Path]::GetTempPath()) "nc-bench-sink-$PID.bin"
$total = 0L
$clock = [Diagnostics.Stopwatch]::StartNew()
for ($round = 0; $round -lt $Rounds; $round++) {
    $connection = New-TcpConnection -ComputerName 127.0.0.1 -Port $Port -Proxy $Proxy -Raw -TimeoutSec 60
    Send-TcpMessage -Connection $connection -Path $Path -TimeoutSec 60
    $received = Receive-TcpMessage -Connection $connection -OutFile $sink -Length $length -TimeoutSec 60
    $total += $received.Bytes
    Close-TcpConnection -Connection $connection
}
$seconds = $clock.Elapsed.TotalSeconds
Remove-Item $sink -ErrorAction Ignore
[Console]::Out.WriteLine((@{ bytes = $total; seconds = $seconds } | ConvertTo-Json -Compress))
