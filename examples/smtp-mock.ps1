<#
.SYNOPSIS
A mock SMTP server in a few lines: a greeting on connect, the commands of a mail, a dot-terminated
message body, and QUIT. Every line it receives is output, so the mail reaches the pipeline.
.DESCRIPTION
Run it as it is: it starts the server as a job on a free port, prints the port, and keeps it for
-Seconds (60 by default). Point any SMTP client at 127.0.0.1 and that port, then Receive-Job.
With -PassThru it returns the job instead of waiting, for a script (or a test) that drives it.
#>
param(
    [int] $Seconds = 60,
    [switch] $PassThru
)
$ErrorActionPreference = 'Stop'
if (-not (Get-Module NetCmdlets)) { Import-Module (Join-Path $PSScriptRoot '../output/NetCmdlets') }

$smtp = Start-TcpServer -Port 0 -AsJob -TimeoutSec $Seconds -LineEnding CRLF -OnConnect { '220 mock.example ESMTP NetCmdlets' } -Handler {
    $connection = $_.Connection
    $state = $connection.Items
    if ($state['InData']) {
        # The body ends with a line holding a single dot; a body line that starts with a dot came doubled.
        if ($_.Text -eq '.') {
            $state['InData'] = $false
            '250 2.0.0 Queued'
        }
        return
    }
    switch -Regex ($_.Text) {
        '^(EHLO|HELO)\b' { '250 mock.example'; break }
        '^MAIL FROM:' { '250 2.1.0 Sender OK'; break }
        '^RCPT TO:' { '250 2.1.5 Recipient OK'; break }
        '^DATA$' { $state['InData'] = $true; '354 End data with <CR><LF>.<CR><LF>'; break }
        '^RSET$' { '250 2.0.0 OK'; break }
        '^NOOP$' { '250 2.0.0 OK'; break }
        '^QUIT$' { '221 2.0.0 Bye'; $connection | Close-TcpConnection; break }
        default { '502 5.5.2 Command not recognized' }
    }
}
if ($PassThru) { return $smtp }
Write-Host "SMTP mock listening on 127.0.0.1:$($smtp.Port) for $Seconds s; Receive-Job $($smtp.Id) shows what it received."
$smtp | Wait-Job | Receive-Job | Select-Object Timestamp, ConnectionId, Text
$smtp | Remove-Job
