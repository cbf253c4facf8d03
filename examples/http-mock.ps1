<#
.SYNOPSIS
A mock JSON API over HTTP/1.1 in a few lines: request line and headers as CRLF lines, then a body of
exactly Content-Length bytes, answered with JSON. Every line and body it receives is output.
.DESCRIPTION
POST /items with a JSON object that has a "name" stores it; GET /items/<name> returns it; anything
else is a 404. Keep-alive works: after each response the connection reads the next request.

Run it as it is: it starts the server as a job on a free port, prints the port, and keeps it for
-Seconds (60 by default). Try it with curl:
    curl -s -X POST --data '{"name":"blue","size":3}' http://127.0.0.1:<port>/items
    curl -s http://127.0.0.1:<port>/items/blue
With -PassThru it returns the job instead of waiting, for a script (or a test) that drives it.
#>
param(
    [int] $Seconds = 60,
    [switch] $PassThru
)
$ErrorActionPreference = 'Stop'
if (-not (Get-Module NetCmdlets)) { Import-Module (Join-Path $PSScriptRoot '../output/NetCmdlets') }

$http = Start-TcpServer -Port 0 -AsJob -TimeoutSec $Seconds -LineEnding CRLF -Handler {
    # Handler variables live as long as the server: the store is shared by every connection.
    if ($null -eq $store) { $store = @{} }
    $message = $_
    # Where this connection's request stands: its own state, gone with the connection. (Keys are not
    # named Length or Count: on a hashtable without them, PowerShell answers those with its own 1.)
    $request = $message.Connection.Items

    if (-not $request.Method) {
        $request.Method, $request.Path, $null = $message.Text -split ' '
        return
    }
    if (-not $request.InBody -and $message.Text -ne '') {
        if ($message.Text -match '^Content-Length:\s*(\d+)$') { $request.ContentLength = [int]$Matches[1] }
        return
    }
    if (-not $request.InBody -and $request.ContentLength -gt 0) {
        # The empty line ends the headers: the next message is the body, exactly Content-Length bytes.
        $request.InBody = $true
        $message.Connection | Set-TcpConnection -Size $request.ContentLength -NextMessageOnly
        return
    }

    $status, $answer = switch -Regex ("$($request.Method) $($request.Path)") {
        '^POST /items$' {
            $item = $message.Text | ConvertFrom-Json
            $store[$item.name] = $item
            201, [pscustomobject]@{ stored = $item.name; count = $store.Count }
            break
        }
        '^GET /items/(.+)$' {
            if ($store.ContainsKey($Matches[1])) { 200, $store[$Matches[1]] } else { 404, [pscustomobject]@{ error = "no item $($Matches[1])" } }
            break
        }
        default { 404, [pscustomobject]@{ error = "no route $($request.Method) $($request.Path)" } }
    }
    $body = [Text.Encoding]::UTF8.GetBytes(($answer | ConvertTo-Json -Compress -Depth 10))
    "HTTP/1.1 $status $(@{ 200 = 'OK'; 201 = 'Created'; 404 = 'Not Found' }[$status])"
    'Content-Type: application/json'
    "Content-Length: $($body.Length)"
    ''
    # The body goes out as it is: a line ending after it would be read as the start of the next response.
    [NetCmdlets.Core.Messages.Outgoing]::Raw($body)
    # Ready for the next request on this connection (keep-alive).
    $request.Clear()
}
if ($PassThru) { return $http }
Write-Host "HTTP mock listening on http://127.0.0.1:$($http.Port)/ for $Seconds s; Receive-Job $($http.Id) shows what it received."
$http | Wait-Job | Receive-Job | Select-Object Timestamp, ConnectionId, Text
$http | Remove-Job
