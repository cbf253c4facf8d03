# Switching a connection's framing mid-stream, end to end, against peers that are not the module:
# Python's urllib and raw sockets, and curl, talking HTTP to examples/http-mock.ps1.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'Set-TcpConnection' {
    It 'a handler reads a body of Content-Length bytes sent in the same write as the headers, line feeds and all' {
        # Headers and body in one sendall: the server must not cut the body into lines before the handler switches.
        $job = Start-TcpServer -Port 0 -AsJob -LineEnding CRLF -Handler {
            $state = $_.Connection.Items
            if ($state.InBody) { "BODY[$($_.Text -replace "`r", '~' -replace "`n", '|')]"; $state.Clear(); return }
            if ($_.Text -match '^Content-Length: (\d+)$') { $state.ContentLength = [int]$Matches[1] }
            elseif ($_.Text -eq '') {
                $state.InBody = $true
                $_.Connection | Set-TcpConnection -Size $state.ContentLength -NextMessageOnly
            }
        }
        $client = @'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("ready", flush=True)
body = b"one\ntwo\r\nthree"
s.sendall(b"POST / HTTP/1.1\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body + b"AFTER\r\n")
f = s.makefile("rb")
print(f.readline().decode().strip())
'@
        try {
            $peer = Start-PythonPeer $client -Arguments "$($job.Port)"
            Wait-PythonPeer $peer | Should -Be 'BODY[one|two~|three]'
            # After the body the connection reads lines again: AFTER came in the same write and is a line.
            Wait-TestCondition { @($job | Receive-Job -Keep).Text -contains 'AFTER' }
            @($job | Receive-Job).Text | Should -Be 'POST / HTTP/1.1', 'Content-Length: 14', '', "one`ntwo`r`nthree", 'AFTER'
        }
        finally { Stop-PythonPeer $peer; Remove-TestServerJob $job }
    }

    It 'switches both sides to length-prefixed after a text handshake; the OK before the switch still goes as a line' {
        $job = Start-TcpServer -Port 0 -AsJob -Handler {
            if ($_.Text -eq 'BINARY') { 'OK'; $_.Connection | Set-TcpConnection -Framing LengthPrefixed }
            else { "echo:$($_.Text)" }
        }
        $client = @'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("ready", flush=True)
s.sendall(b"BINARY\n")
f = s.makefile("rb")
print(f.readline().decode().strip())
s.sendall(struct.pack(">I", 9) + b"two\nlines")
n = struct.unpack(">I", f.read(4))[0]
print(f.read(n).decode().replace("\n", "|"))
'@
        try {
            $peer = Start-PythonPeer $client -Arguments "$($job.Port)"
            (Wait-PythonPeer $peer) -split "`n" | Should -Be 'OK', 'echo:two|lines'
        }
        finally { Stop-PythonPeer $peer; Remove-TestServerJob $job }
    }

    It 'with -ThrottleLimit 2 -FrameInTurn, a switch applies from the next byte even when the client sent everything at once' {
        $job = Start-TcpServer -Port 0 -AsJob -ThrottleLimit 2 -FrameInTurn -Handler {
            if ($_.Text -eq 'BINARY') { 'OK'; $_.Connection | Set-TcpConnection -Framing LengthPrefixed }
            else { "echo:$($_.Text)" }
        }
        $client = @'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("ready", flush=True)
# The request to switch and the first length-prefixed message in one write.
s.sendall(b"BINARY\n" + struct.pack(">I", 9) + b"two\nlines")
f = s.makefile("rb")
print(f.readline().decode().strip())
n = struct.unpack(">I", f.read(4))[0]
print(f.read(n).decode().replace("\n", "|"))
'@
        try {
            $peer = Start-PythonPeer $client -Arguments "$($job.Port)"
            (Wait-PythonPeer $peer) -split "`n" | Should -Be 'OK', 'echo:two|lines'
            $job | Stop-Job
            $null = $job | Receive-Job -WarningVariable warnings -WarningAction SilentlyContinue
            $warnings | Should -BeNullOrEmpty
        }
        finally { Stop-PythonPeer $peer; Remove-TestServerJob $job }
    }

    It 'without -FrameInTurn, Set-TcpConnection in a parallel handler warns that the switch is not exact' {
        $job = Start-TcpServer -Port 0 -AsJob -ThrottleLimit 2 -Handler {
            $_.Connection | Set-TcpConnection -Framing Raw
            'switched'
        }
        try {
            (Send-TcpMessage -ComputerName 127.0.0.1 -Port $job.Port -Message 'x' -Receive).Text | Should -Be 'switched'
            $job | Stop-Job
            $null = $job | Receive-Job -WarningVariable warnings -WarningAction SilentlyContinue
            "$warnings" | Should -BeLike '*frames ahead*-FrameInTurn*'
        }
        finally { Remove-TestServerJob $job }
    }

    It 'switches a client connection: the next Receive-TcpMessage reads a fixed-size record, then lines again' {
        $listener = New-TestTcpListener
        try {
            $connection = New-TcpConnection 127.0.0.1 $listener.LocalEndpoint.Port
            $peer = Wait-TestAccept $listener
            Send-TestBytes $peer ([Text.Encoding]::ASCII.GetBytes("head`nAB`nCDEtail`n"))
            (Receive-TcpMessage -Connection $connection).Text | Should -Be 'head'
            $connection | Set-TcpConnection -Size 6 -NextMessageOnly -PassThru | Should -Be $connection
            (Receive-TcpMessage -Connection $connection).Text | Should -Be "AB`nCDE"
            (Receive-TcpMessage -Connection $connection).Text | Should -Be 'tail'
            $connection.Framing.Name | Should -Be 'Line'
        }
        finally { if ($peer) { $peer.Dispose() }; $listener.Stop(); Close-TestTcpConnection }
    }

    It 'says which framing is missing or wrong with InvalidFraming, and leaves the connection as it was' {
        $listener = New-TestTcpListener
        try {
            $connection = New-TcpConnection 127.0.0.1 $listener.LocalEndpoint.Port
            { $connection | Set-TcpConnection -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidFraming,*'
            { $connection | Set-TcpConnection -Framing LengthPrefixed -Size 4 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidFraming,*'
            $connection.Framing.Name | Should -Be 'Line'
        }
        finally { $listener.Stop(); Close-TestTcpConnection }
    }
}

Describe 'examples/http-mock.ps1' {
    BeforeAll {
        $job = & (Join-Path $PSScriptRoot '../../examples/http-mock.ps1') -Seconds 60 -PassThru
    }
    AfterAll { Remove-TestServerJob $job }

    It 'answers a POST with a JSON body, pretty-printed over several lines, from Python urllib, then a GET' {
        $client = @'
import json, sys, urllib.request
base = "http://127.0.0.1:" + sys.argv[1]
print("ready", flush=True)
body = json.dumps({"name": "blue", "size": 3, "tags": ["a", "b"]}, indent=2).encode()
request = urllib.request.Request(base + "/items", data=body, headers={"Content-Type": "application/json"}, method="POST")
with urllib.request.urlopen(request, timeout=10) as response:
    print(response.status, json.loads(response.read())["stored"])
with urllib.request.urlopen(base + "/items/blue", timeout=10) as response:
    item = json.loads(response.read())
    print(response.status, item["size"], ",".join(item["tags"]))
try:
    urllib.request.urlopen(base + "/items/red", timeout=10)
except urllib.error.HTTPError as e:
    print(e.code)
'@
        try {
            $peer = Start-PythonPeer $client -Arguments "$($job.Port)"
            (Wait-PythonPeer $peer) -split "`n" | Should -Be '201 blue', '200 3 a,b', '404'
            # The body reached the pipeline as one message.
            $bodies = @($job | Receive-Job -Keep | Where-Object Text -like '{*')
            ($bodies[0].Text | ConvertFrom-Json).tags | Should -Be 'a', 'b'
        }
        finally { Stop-PythonPeer $peer }
    }

    It 'serves curl, two requests on one kept-alive connection' -Skip:(-not (Get-Command curl -CommandType Application -ErrorAction Ignore)) {
        $base = "http://127.0.0.1:$($job.Port)"
        curl -s -X POST --data '{"name":"green","size":7}' "$base/items" | ConvertFrom-Json | ForEach-Object stored | Should -Be 'green'
        $both = curl -s "$base/items/green" "$base/items/green"
        $both | Should -Be '{"name":"green","size":7}{"name":"green","size":7}'
    }
}
