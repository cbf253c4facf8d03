<#
.SYNOPSIS
One stream through the module, for the benchmark: Send-TcpMessage -Path into a listener, or
New-TcpConnection -Raw and Receive-TcpMessage -OutFile from one. Run in a child pwsh.

.DESCRIPTION
First the same cmdlets move a few MiB over a listener of this process's own, so the transfer that
is measured does not pay for compiling them. Then the real transfer, timed by a Stopwatch around
the cmdlets (connect to close), which leaves pwsh start-up out. Peak RSS is VmHWM from
/proc/self/status, reset through /proc/self/clear_refs just before the transfer so it covers the
transfer alone. Prints one JSON line at the end.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [ValidateSet('Send', 'Receive')] [string] $Direction,
    [Parameter(Mandatory)] [int] $Port,
    # The file to send, or the -OutFile to write.
    [Parameter(Mandatory)] [string] $Path,
    # Send over TLS (the peer's test certificate is accepted as it is).
    [switch] $Tls
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

function Get-StatusKiB {
    param([string] $Field)
    $line = Get-Content /proc/self/status | Where-Object { $_ -like "${Field}:*" }
    [long]($line -replace '[^0-9]', '')
}

# The warm-up's peer is a plain .NET socket: its reads and writes are tasks that run without a
# runspace, so this one thread can drive both ends.
function Invoke-WarmUp {
    $warmBytes = 8MB
    $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $listener.Start()
    $warmFile = Join-Path ([IO.Path]::GetTempPath()) "netcmdlets-bench-warm-$PID"
    $accepted = $null
    try {
        $accept = $listener.AcceptSocketAsync()
        $connection = New-TcpConnection -ComputerName 127.0.0.1 -Port $listener.LocalEndpoint.Port -Raw
        $accepted = [Net.Sockets.NetworkStream]::new($accept.GetAwaiter().GetResult(), $true)
        if ($Direction -eq 'Send') {
            [IO.File]::WriteAllBytes($warmFile, [byte[]]::new($warmBytes))
            $drain = $accepted.CopyToAsync([IO.Stream]::Null)
            $null = Send-TcpMessage -Connection $connection -Path $warmFile
            Close-TcpConnection -Connection $connection
            $drain.GetAwaiter().GetResult()
        }
        else {
            $feed = $accepted.WriteAsync([byte[]]::new($warmBytes), 0, $warmBytes)
            $null = Receive-TcpMessage -Connection $connection -OutFile $warmFile -Length $warmBytes
            $feed.GetAwaiter().GetResult()
            Close-TcpConnection -Connection $connection
        }
    }
    finally {
        if ($accepted) { $accepted.Dispose() }
        $listener.Stop()
        Remove-Item $warmFile -ErrorAction Ignore
    }
}

$result = [ordered]@{}
try {
    Invoke-WarmUp
    [GC]::Collect()
    $result.rssBeforeKiB = Get-StatusKiB VmRSS
    try {
        # Writing 5 resets the peak to the current RSS (Linux 4.0 and later).
        [IO.File]::WriteAllText('/proc/self/clear_refs', '5')
        $result.peakSince = 'transfer'
    }
    catch {
        $result.peakSince = 'start'
    }
    $clock = [Diagnostics.Stopwatch]::StartNew()
    if ($Direction -eq 'Send') {
        $tlsParameters = if ($Tls) { @{ SkipCertificateCheck = $true } } else { @{} }
        $transfer = Send-TcpMessage -ComputerName 127.0.0.1 -Port $Port -Path $Path -PassThru @tlsParameters
    }
    else {
        $connection = New-TcpConnection -ComputerName 127.0.0.1 -Port $Port -Raw
        $transfer = Receive-TcpMessage -Connection $connection -OutFile $Path -TimeoutSec 30
        Close-TcpConnection -Connection $connection
    }
    $clock.Stop()
    $result.peakKiB = Get-StatusKiB VmHWM
    $result.bytes = $transfer.Bytes
    $result.seconds = $clock.Elapsed.TotalSeconds
    $result.transferSeconds = $transfer.Seconds
}
catch {
    $result.error = "$_"
}
[Console]::Out.WriteLine(($result | ConvertTo-Json -Compress))
