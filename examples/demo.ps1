<#
.SYNOPSIS
A short tour of NetCmdlets: a TCP server with a reply handler, a conversation ended with a half-close, a file transfer, and a UDP exchange.
.DESCRIPTION
Run it from the repository with `dotnet pwsh ./build.ps1 -Task Demo`, or after building with
`dotnet pwsh ./examples/demo.ps1`. Everything listens on 127.0.0.1, on ports the system picks;
the servers run as jobs (-AsJob), so this script can play the client.
#>
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '../output/NetCmdlets')

Write-Host "`n== TCP: a server that answers every line, and a client that waits for each answer" -ForegroundColor Cyan
$tcp = Start-TcpServer -Port 0 -AsJob -Handler { "You said '$($_.Text)' ($($_.Length) bytes)" }
Write-Host "Server: job $($tcp.Id) listening on TCP $($tcp.LocalEndPoint)"
'hello', 'wie geht''s?', 'ça va' | Send-TcpMessage -ComputerName localhost -Port $tcp.Port -Receive |
    Format-Table -AutoSize
$tcp | Stop-Job
Write-Host 'What the server received:'
$tcp | Receive-Job | Format-Table -AutoSize
$tcp.Statistics | Format-Table ConnectionsTotal, MessagesReceived, MessagesSent, BytesReceived, BytesSent -AutoSize
$tcp | Remove-Job

Write-Host "== TCP: a conversation over one connection, ended with a half-close" -ForegroundColor Cyan
$kv = Start-TcpServer -Port 0 -AsJob -Handler {
    if (-not $store) { $store = @{} }
    $verb, $key, $value = $_.Text -split ' ', 3
    switch ($verb) {
        'SET' { $store[$key] = $value; 'OK' }
        'GET' { if ($store.ContainsKey($key)) { $store[$key] } else { 'NOT FOUND' } }
        default { "ERROR unknown command '$verb'" }
    }
}
$connection = New-TcpConnection -ComputerName 127.0.0.1 -Port $kv.Port
$set = Send-TcpMessage -Connection $connection -Message 'SET color blue' -Receive
Write-Host "SET color blue -> $($set.Text)"
'GET color', 'GET size' | Send-TcpMessage -Connection $connection
# Half-close: "nothing more from me"; the server answers, then closes its side.
Close-TcpConnection -Connection $connection -Send
Receive-TcpMessage -Connection $connection -UntilClosed | ForEach-Object { Write-Host "GET -> $($_.Text)" }
Write-Host "Connection $($connection.Id): $($connection.State)"
$kv | Stop-Job -PassThru | Remove-Job

Write-Host "`n== TCP: a file streamed by a server (Send-TcpMessage -Path), received with -OutFile" -ForegroundColor Cyan
$source = Join-Path ([IO.Path]::GetTempPath()) "netcmdlets-demo-$PID.bin"
$copy = Join-Path ([IO.Path]::GetTempPath()) "netcmdlets-demo-$PID-copy.bin"
$bytes = [byte[]]::new(16MB)
[Random]::new(1).NextBytes($bytes)
[IO.File]::WriteAllBytes($source, $bytes)
# The server sends the file to each client that asks for it, then closes the connection.
$files = Start-TcpServer -Port 0 -AsJob -Handler {
    if ($_.Text -eq 'GET') {
        Send-TcpMessage -Connection $_.Connection -Path $using:source
        Close-TcpConnection -Connection $_.Connection
    }
}
$download = New-TcpConnection -ComputerName 127.0.0.1 -Port $files.Port
Send-TcpMessage -Connection $download -Message 'GET'
Receive-TcpMessage -Connection $download -OutFile $copy |
    Format-Table Direction, Bytes, Seconds, MBPerSecond, RemoteEndPoint -AutoSize
Write-Host "Same content: $((Get-FileHash $source).Hash -eq (Get-FileHash $copy).Hash)"
$files | Stop-Job -PassThru | Remove-Job
Remove-Item $source, $copy

Write-Host "`n== UDP: three datagrams into a receiver job" -ForegroundColor Cyan
$udp = Start-UdpServer -Port 0 -AsJob
Write-Host "Receiver: job $($udp.Id) bound to UDP $($udp.LocalEndPoint)"
'ping', 'pong', 'done' | Send-UdpDatagram -ComputerName 127.0.0.1 -Port $udp.Port
$deadline = [DateTime]::UtcNow.AddSeconds(10)
while ($udp.Statistics.MessagesReceived -lt 3 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
$udp | Stop-Job
$udp | Receive-Job | Format-Table -AutoSize
$udp | Remove-Job
