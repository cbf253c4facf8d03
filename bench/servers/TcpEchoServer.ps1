<#
.SYNOPSIS
Start-TcpServer as a line echo server, for the benchmark: run in a child pwsh, killed when done.

.DESCRIPTION
Prints "Listening on TCP 127.0.0.1:<port>" on stdout once it listens. In the foreground the server
runs as a user would run it; with -AsJob this process starts the job and waits on it (the job keeps
the messages it emits, as any job does, until someone receives them). The parent kills this
process when done; -MaxSeconds ends it anyway should the parent die first.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [switch] $AsJob,
    [int] $ThrottleLimit = 1,
    [int] $MaxSeconds = 600,
    # Line (the default), LengthPrefixed, or Json: the same echo in another framing (with Json, the
    # object parsed from each line is converted back).
    [string] $Framing = 'Line',
    # TLS: a PEM certificate and its key.
    [string] $CertificatePath,
    [string] $KeyPath,
    # A UNIX socket to listen on instead of a port.
    [string] $UnixSocket
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$handler = if ($Framing -eq 'Json') { { $_ } } else { { $_.Text } }
$tls = if ($CertificatePath) { @{ Certificate = $CertificatePath; CertificateKeyPath = $KeyPath } } else { @{} }
if ($UnixSocket) {
    # The parent waits for the socket file; the record says where it listens.
    Start-TcpServer -UnixSocket $UnixSocket -Framing $Framing -Handler $handler -ThrottleLimit $ThrottleLimit -TimeoutSec $MaxSeconds -InformationAction Continue | Out-Null
    return
}

if ($AsJob) {
    $job = Start-TcpServer -Port 0 -Framing $Framing -Handler $handler -ThrottleLimit $ThrottleLimit -TimeoutSec $MaxSeconds -AsJob @tls
    [Console]::Out.WriteLine("Listening on TCP 127.0.0.1:$($job.Port)")
    $null = $job | Wait-Job -Timeout ($MaxSeconds + 10)
}
else {
    # -InformationAction Continue shows the 'Listening' record, port included, on stdout.
    Start-TcpServer -Port 0 -Framing $Framing -Handler $handler -ThrottleLimit $ThrottleLimit -TimeoutSec $MaxSeconds @tls -InformationAction Continue | Out-Null
}
