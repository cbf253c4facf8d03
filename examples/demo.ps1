<#
.SYNOPSIS
A short tour of NetCmdlets: a TCP server with a reply handler, a client conversation, and a UDP exchange.
.DESCRIPTION
Run it from the repository with `dotnet pwsh ./build.ps1 -Task Demo`, or after building with
`dotnet pwsh ./examples/demo.ps1`. Everything listens on 127.0.0.1, on ports the system picks.
#>
$ErrorActionPreference = 'Stop'
$modulePath = Join-Path $PSScriptRoot '../output/NetCmdlets'
Import-Module $modulePath

# Runs a server in its own runspace, so this script can play the client; returns once it listens.
function Start-DemoServer {
    param([scriptblock] $Server)
    $ps = [powershell]::Create()
    $null = $ps.AddScript("Import-Module '$modulePath'").AddStatement().AddScript($Server)
    $async = $ps.BeginInvoke()
    $deadline = [DateTime]::UtcNow.AddSeconds(10)
    while (-not ($ps.Streams.Information | Where-Object Tags -Contains 'Listening')) {
        if ([DateTime]::UtcNow -gt $deadline -or $async.IsCompleted) { throw "The demo server did not start: $($ps.Streams.Error)" }
        Start-Sleep -Milliseconds 10
    }
    $listening = ($ps.Streams.Information | Where-Object Tags -Contains 'Listening')[0].MessageData
    [pscustomobject]@{ PowerShell = $ps; Async = $async; Port = $listening.Port; Listening = $listening }
}

Write-Host "`n== TCP: a server that answers every line, and a client that waits for each answer" -ForegroundColor Cyan
$tcp = Start-DemoServer {
    Start-TcpServer -Port 0 -Count 3 -InformationAction Continue -Handler {
        "You said '$($_.Text)' ($($_.Length) bytes)"
    }
}
Write-Host "Server: $($tcp.Listening)"
'hello', 'wie geht''s?', 'ça va' | Send-TcpMessage -ComputerName localhost -Port $tcp.Port -Receive |
    Format-Table -AutoSize
Write-Host 'What the server received:'
$tcp.PowerShell.EndInvoke($tcp.Async) | Format-Table -AutoSize
$tcp.PowerShell.Dispose()

Write-Host "== UDP: three datagrams into Receive-UdpDatagram" -ForegroundColor Cyan
$udp = Start-DemoServer { Receive-UdpDatagram -Port 0 -Count 3 -TimeoutSec 10 -InformationAction Continue }
Write-Host "Receiver: $($udp.Listening)"
'ping', 'pong', 'done' | Send-UdpDatagram -ComputerName 127.0.0.1 -Port $udp.Port
$udp.PowerShell.EndInvoke($udp.Async) | Format-Table -AutoSize
$udp.PowerShell.Dispose()
