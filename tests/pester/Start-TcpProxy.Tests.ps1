# Start-TcpProxy between peers that are not the module: Python clients and servers, curl and Python's
# http.server, redis-cli and redis-server, and TLS peers; half-closes and resets passed through, a
# server that refuses, and a handler that rewrites and answers.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    # An upstream that answers each line with "up:<LINE>", and on EOF from its client sends "bye" and closes.
    $script:upperServer = @'
import socket, sys, threading
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(16)
print(l.getsockname()[1], flush=True)
def serve(c):
    f = c.makefile('rb')
    for line in f:
        c.sendall(b'up:' + line.strip().upper() + b'\n')
    c.sendall(b'bye\n'); c.close()
while True:
    c, _ = l.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
'@

    function Get-RefusedEnd {
        # Connects and reads to the end: 'reset' or 'closed'. A refusal resets at once, which may come
        # before the connect is seen to finish: that is a reset too.
        param([Parameter(Mandatory, Position = 0)] [int] $Port)
        $client = $null
        try {
            $client = New-TestTcpClient $Port
            Get-TestTcpEnd $client
        }
        catch {
            if ($_.Exception.GetBaseException().SocketErrorCode -eq 'ConnectionReset') { 'reset' } else { throw }
        }
        finally { if ($client) { $client.Dispose() } }
    }

    function Get-ProxyOutput {
        # Stops a proxy job and returns what it wrote: traffic and connection records.
        param([Parameter(Mandatory, Position = 0)] $Job)
        $Job | Stop-Job
        @($Job | Receive-Job -ErrorVariable script:proxyErrors -ErrorAction SilentlyContinue)
    }
}

Describe 'Start-TcpProxy' {
    AfterEach {
        Remove-TestServerJob
    }

    It 'forwards a Python client''s lines to a Python server and the answers back, showing each line each way with both endpoints' {
        $upstream = Start-PythonPeer $upperServer
        try {
            $proxy = Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $upstream.Ready -AsJob
            $client = Start-PythonPeer @'
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
print('connected', flush=True)
s.sendall(b'one\ntwo\nthree\n'); s.shutdown(socket.SHUT_WR)
data = b''
while True:
    b = s.recv(4096)
    if not b: break
    data += b
print(data.decode().replace('\n', '|'))
'@ -Arguments $proxy.Port
            Wait-PythonPeer $client | Should -Be 'up:ONE|up:TWO|up:THREE|bye|'
            Wait-TestCondition { @($proxy.Output | Where-Object Event -EQ 'Closed').Count -ge 1 } | Should -BeTrue
            $output = Get-ProxyOutput $proxy
            $traffic = @($output | Where-Object { $_ -is [NetCmdlets.Core.Proxy.TcpTraffic] })
            @($traffic | Where-Object Direction -EQ ClientToServer | ForEach-Object Text) | Should -Be 'one', 'two', 'three'
            @($traffic | Where-Object Direction -EQ ServerToClient | ForEach-Object Text) | Should -Be 'up:ONE', 'up:TWO', 'up:THREE', 'bye'
            @($traffic.ConnectionId | Select-Object -Unique).Count | Should -Be 1
            "$($traffic[0].ServerEndPoint)" | Should -Be "127.0.0.1:$($upstream.Ready)"
            $fromClient = $traffic | Where-Object Direction -EQ ClientToServer | Select-Object -First 1
            "$($fromClient.RemoteEndPoint)" | Should -Be "$($fromClient.ClientEndPoint)"
            $records = @($output | Where-Object { $_ -is [NetCmdlets.Core.Proxy.TcpProxyConnection] })
            $records.Event | Should -Be 'Opened', 'Closed'
            $records[1].BytesClientToServer | Should -Be 14
            $records[1].BytesServerToClient | Should -Be 27
            $records[1].Error | Should -BeNullOrEmpty
            $proxy.Statistics.BytesReceived | Should -Be 14
            $proxy.Statistics.MessagesReceived | Should -Be 3
            $proxy.Statistics.MessagesSent | Should -Be 4
        }
        finally { Stop-PythonPeer $upstream }
    }

    It 'passes a reset on as a reset, each way, and records it' {
        $upstream = Start-PythonPeer @'
import socket, struct
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(4)
print(l.getsockname()[1], flush=True)
c, _ = l.accept()
c.recv(100)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); c.close()
c, _ = l.accept()
try:
    while c.recv(100): pass
    print('closed')
except ConnectionResetError:
    print('reset')
'@
        try {
            $proxy = Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $upstream.Ready -AsJob
            # The server resets: the client sees a reset, not an end.
            $client = New-TestTcpClient $proxy.Port
            Send-TestLines $client 'hello'
            Get-TestTcpEnd $client | Should -Be 'reset'
            $client.Dispose()
            # The client resets: the server sees a reset.
            $client = New-TestTcpClient $proxy.Port
            Send-TestLines $client 'hello'
            Wait-TestCondition { @($proxy.Output | Where-Object Direction -EQ ClientToServer).Count -ge 2 } | Should -BeTrue
            Reset-TestTcpClient $client
            Wait-PythonPeer $upstream | Should -Be 'reset'
            Wait-TestCondition { @($proxy.Output | Where-Object Event -EQ 'Closed').Count -ge 2 } | Should -BeTrue
            $closed = @(Get-ProxyOutput $proxy | Where-Object Event -EQ 'Closed')
            $closed | ForEach-Object { $_.Error | Should -Not -BeNullOrEmpty }
            # A reset is how peers hang up: recorded, not an error.
            $proxyErrors | Should -BeNullOrEmpty
        }
        finally { Stop-PythonPeer $upstream }
    }

    It 'gives a client whose server refuses a reset and a ConnectionRefused error naming both, and serves the next once the server is up' {
        $port = Get-UnusedTcpPort
        $proxy = Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $port -AsJob
        Get-RefusedEnd $proxy.Port | Should -Be 'reset'
        Wait-TestCondition { $proxy.Error.Count -ge 1 } | Should -BeTrue
        Assert-NetError $proxy.Error[0] -Id ConnectionRefused -Category ConnectionError -TargetLike "127.0.0.1:$port"
        "$($proxy.Error[0])" | Should -BeLike "*127.0.0.1:$port*client 127.0.0.1:*"
        $listener = [System.Net.Sockets.TcpListener]::new([ipaddress]::Loopback, $port)
        $listener.Start()
        try {
            $client = New-TestTcpClient $proxy.Port
            $accepted = $listener.AcceptTcpClientAsync()
            $accepted.Wait([timespan]::FromSeconds($DefaultWaitSec)) | Should -BeTrue
            Send-TestLines $client 'second try'
            $reader = [System.IO.StreamReader]::new($accepted.Result.GetStream())
            $reader.ReadLine() | Should -Be 'second try'
            $client.Dispose()
            $accepted.Result.Dispose()
        }
        finally { $listener.Stop() }
        $proxy.Statistics.Errors | Should -Be 1
    }

    It 'relays socat''s file to a socat echo server and back, the half-close passed on so the echo can end' -Skip:(-not (Get-Command socat -ErrorAction Ignore)) {
        $echoPort = Get-UnusedTcpPort
        $echo = Start-Process socat -ArgumentList "TCP-LISTEN:$echoPort,bind=127.0.0.1,reuseaddr,fork", 'EXEC:cat' -PassThru
        try {
            Wait-TestCondition { (Test-TcpPort -ComputerName 127.0.0.1 -Port $echoPort).Open } | Should -BeTrue
            $proxy = Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $echoPort -AsJob
            $lines = 1..2000 | ForEach-Object { "line $_ of the file" }
            $file = Join-Path $TestDrive 'socat-lines.txt'
            Set-Content -Path $file -Value $lines
            # socat sends its input, then half-closes and prints what comes back until the echo server ends (within -t 30 s).
            $back = @(Get-Content $file | socat -t 30 STDIO "TCP:127.0.0.1:$($proxy.Port)")
            $LASTEXITCODE | Should -Be 0
            $back | Should -Be $lines
            Wait-TestCondition { @($proxy.Output | Where-Object Event -EQ 'Closed').Count -ge 1 } | Should -BeTrue
            $closed = @($proxy.Output | Where-Object Event -EQ 'Closed')[0]
            $closed.Error | Should -BeNullOrEmpty
            @($proxy.Output | Where-Object Direction -EQ ServerToClient).Count | Should -Be 2000
        }
        finally { $echo | Stop-Process -ErrorAction Ignore; $echo.WaitForExit(5000) | Out-Null }
    }

    It 'ends a connection whose server sends garbage past the framing''s limit with that error, and serves the next client' {
        # The first client gets 2 MiB with no line feed; the ones after it an answer to each line.
        $upstream = Start-PythonPeer @'
import os, socket, threading
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(16)
print(l.getsockname()[1], flush=True)
first = True
def serve(c, garbage):
    try:
        if garbage:
            c.sendall(os.urandom(2 * 1024 * 1024).replace(b'\n', b'x'))
        for line in c.makefile('rb'):
            c.sendall(b'ok ' + line)
    except OSError:
        pass
while True:
    c, _ = l.accept()
    threading.Thread(target=serve, args=(c, first), daemon=True).start()
    first = False
'@
        try {
            $proxy = Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $upstream.Ready -AsJob
            $victim = New-TestTcpClient $proxy.Port
            Get-TestTcpEnd $victim | Should -Be 'reset'
            $victim.Dispose()
            Wait-TestCondition { $proxy.Error.Count -ge 1 } | Should -BeTrue
            ($proxy.Error[0].FullyQualifiedErrorId -split ',')[0] | Should -Be 'FramingError.Line.MessageTooLong'
            $next = New-TestTcpClient $proxy.Port
            Send-TestLines $next 'still here'
            Read-TestLine $next | Should -Be 'ok still here'
            $next.Dispose()
        }
        finally { Stop-PythonPeer $upstream }
    }

    It '-Quiet copies 4 MiB of random bytes exactly, both ways, and writes only the opening and closing' {
        $upstream = Start-PythonPeer @'
import socket, hashlib
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(1)
print(l.getsockname()[1], flush=True)
c, _ = l.accept()
h = hashlib.sha256(); n = 0
while True:
    b = c.recv(65536)
    if not b: break
    h.update(b); n += len(b)
    c.sendall(b)
c.sendall(h.hexdigest().encode()); c.close()
'@
        try {
            $proxy = Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $upstream.Ready -Quiet -AsJob
            $client = Start-PythonPeer @'
import socket, sys, os, hashlib, threading
data = os.urandom(4 * 1024 * 1024)
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
print('connected', flush=True)
def send():
    s.sendall(data); s.shutdown(socket.SHUT_WR)
threading.Thread(target=send).start()
back = b''
while True:
    b = s.recv(1 << 20)
    if not b: break
    back += b
print(back[:len(data)] == data, back[len(data):].decode() == hashlib.sha256(data).hexdigest())
'@ -Arguments $proxy.Port
            Wait-PythonPeer $client | Should -Be 'True True'
            Wait-TestCondition { @($proxy.Output | Where-Object Event -EQ 'Closed').Count -ge 1 } | Should -BeTrue
            $output = Get-ProxyOutput $proxy
            @($output | ForEach-Object { $_.GetType().Name } | Select-Object -Unique) | Should -Be 'TcpProxyConnection'
            $output[1].BytesClientToServer | Should -Be (4 * 1024 * 1024)
            $output[1].BytesServerToClient | Should -Be (4 * 1024 * 1024 + 64)
        }
        finally { Stop-PythonPeer $upstream }
    }

    It 'shows curl''s request to Python''s http.server and the reply as objects with -Framing Raw' {
        $web = Start-PythonPeer @'
import http.server
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args): pass
s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Quiet)
print(s.server_port, flush=True)
s.serve_forever()
'@
        try {
            $proxy = Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $web.Ready -Framing Raw -AsJob
            $status = & curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$($proxy.Port)/"
            $status | Should -Be '200'
            Wait-TestCondition { @($proxy.Output | Where-Object Event -EQ 'Closed').Count -ge 1 } | Should -BeTrue
            $traffic = @(Get-ProxyOutput $proxy | Where-Object Direction)
            ($traffic | Where-Object Direction -EQ ClientToServer | Select-Object -First 1).Text | Should -BeLike 'GET / HTTP/1.1*Host: 127.0.0.1*'
            -join ($traffic | Where-Object Direction -EQ ServerToClient | ForEach-Object Text) | Should -BeLike 'HTTP/1.? 200 OK*'
        }
        finally { Stop-PythonPeer $web }
    }

    It 'shows redis-cli''s commands and redis-server''s replies line by line' -Skip:(-not (Get-Command redis-server -ErrorAction Ignore)) {
        $port = Get-UnusedTcpPort
        $redis = Start-Process redis-server -ArgumentList '--port', $port, '--bind', '127.0.0.1', '--save', '""', '--appendonly', 'no' -PassThru -RedirectStandardOutput /dev/null
        try {
            Wait-TestCondition { (Test-TcpPort -ComputerName 127.0.0.1 -Port $port).Open } | Should -BeTrue
            $proxy = Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $port -LineEnding CRLF -AsJob
            redis-cli -p $proxy.Port SET greeting hello | Should -Be 'OK'
            redis-cli -p $proxy.Port GET greeting | Should -Be 'hello'
            Wait-TestCondition { @($proxy.Output | Where-Object Event -EQ 'Closed').Count -ge 2 } | Should -BeTrue
            $traffic = @(Get-ProxyOutput $proxy | Where-Object Direction)
            @($traffic | Where-Object Direction -EQ ClientToServer | ForEach-Object Text) | Should -Contain 'SET'
            @($traffic | Where-Object Direction -EQ ServerToClient | ForEach-Object Text) | Should -Contain '+OK'
            @($traffic | Where-Object Direction -EQ ServerToClient | ForEach-Object Text) | Should -Contain 'hello'
        }
        finally { $redis | Stop-Process -ErrorAction Ignore; $redis.WaitForExit(5000) | Out-Null }
    }

    It 'terminates TLS from curl --cacert and speaks TLS of its own to a TLS server, showing the plain text' {
        $ca = New-TlsCertificate -Subject 'CN=NetCmdlets proxy test authority' -CertificateAuthority
        $cert = New-TlsCertificate -DnsName localhost -IPAddress 127.0.0.1 -Signer $ca
        $caFile = (Export-TestCertificate $ca).Certificate
        try {
            $upstream = Start-TcpServer -Port 0 -Certificate $cert -AsJob -Handler { "HTTP/1.1 200 OK`r`nContent-Length: 6`r`nConnection: close`r`n`r`nsecret" } -Framing Raw
            $proxy = Start-TcpProxy -Port 0 -ComputerName localhost -RemotePort $upstream.Port -Certificate $cert -UseTls -TrustedCertificate $ca -Framing Raw -AsJob
            & curl -s --cacert $caFile "https://localhost:$($proxy.Port)/" | Should -Be 'secret'
            Wait-TestCondition { @($proxy.Output | Where-Object Direction -EQ ServerToClient).Count -ge 1 } | Should -BeTrue
            $traffic = @(Get-ProxyOutput $proxy | Where-Object Direction)
            ($traffic | Where-Object Direction -EQ ClientToServer | Select-Object -First 1).Text | Should -BeLike 'GET / HTTP/1.1*'
            -join ($traffic | Where-Object Direction -EQ ServerToClient | ForEach-Object Text) | Should -BeLike '*secret'
        }
        finally { Remove-Item -LiteralPath $caFile -ErrorAction Ignore }
    }

    It 'with -Handler forwards what it outputs, drops a message for no output, and answers with $_.Reply' {
        $upstream = Start-PythonPeer $upperServer
        try {
            $proxy = Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $upstream.Ready -AsJob -Handler {
                if ($_.Direction -eq 'ClientToServer' -and $_.Text -eq 'secret') { return }
                if ($_.Direction -eq 'ClientToServer' -and $_.Text -eq 'ping') { $_.Reply('pong'); return }
                if ($_.Direction -eq 'ServerToClient') { "via proxy: $($_.Text)" } else { $_.Text }
            }
            $client = Start-PythonPeer @'
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
print('connected', flush=True)
s.sendall(b'one\nsecret\nping\ntwo\n'); s.shutdown(socket.SHUT_WR)
data = b''
while True:
    b = s.recv(4096)
    if not b: break
    data += b
print(data.decode().replace('\n', '|'))
'@ -Arguments $proxy.Port
            # Each direction is handled in order; the proxy's own answer may come before or after the
            # server's answer to the line before it, which travels further. 'secret' never reached the server.
            $lines = @((Wait-PythonPeer $client).TrimEnd('|') -split '\|')
            @($lines | Where-Object { $_ -ne 'pong' }) | Should -Be 'via proxy: up:ONE', 'via proxy: up:TWO', 'via proxy: bye'
            @($lines | Where-Object { $_ -eq 'pong' }).Count | Should -Be 1
            [array]::IndexOf($lines, 'pong') | Should -BeLessThan ([array]::IndexOf($lines, 'via proxy: up:TWO'))
        }
        finally { Stop-PythonPeer $upstream }
    }

    It 'refuses clients past -MaxConnections and from -Deny before reaching the server; -Quiet with -Handler is an error' {
        $upstream = Start-PythonPeer $upperServer
        try {
            $proxy = Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $upstream.Ready -MaxConnections 1 -AsJob
            $first = New-TestTcpClient $proxy.Port
            Send-TestLines $first 'x'
            Read-TestLine $first | Should -Be 'up:X'
            Get-RefusedEnd $proxy.Port | Should -Be 'reset'
            $proxy.Statistics.Refused | Should -Be 1
            $first.Dispose()
            $denied = Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $upstream.Ready -Deny 127.0.0.0/8 -AsJob
            Get-RefusedEnd $denied.Port | Should -Be 'reset'
            $denied.Statistics.Denied | Should -Be 1
            { Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort 1 -Quiet -Handler { $_ } -TimeoutSec 1 } | Should -Throw -ErrorId 'QuietWithHandler*'
        }
        finally { Stop-PythonPeer $upstream }
    }

    It 'stops after -Count traffic objects in the foreground and frees its port' {
        $upstream = Start-PythonPeer $upperServer
        try {
            $port = Get-UnusedTcpPort
            $client = Start-Job -ScriptBlock {
                param($port)
                $deadline = [datetime]::UtcNow.AddSeconds(20)
                while ([datetime]::UtcNow -lt $deadline) {
                    try { $c = [System.Net.Sockets.TcpClient]::new('127.0.0.1', $port); break } catch { Start-Sleep -Milliseconds 20 }
                }
                $bytes = [Text.Encoding]::ASCII.GetBytes("a`nb`nc`n")
                $c.GetStream().Write($bytes, 0, $bytes.Length)
                Start-Sleep -Seconds 2
                $c.Dispose()
            } -ArgumentList $port
            $seen = @(Start-TcpProxy -Port $port -ComputerName 127.0.0.1 -RemotePort $upstream.Ready -Count 2 -TimeoutSec 20 | Where-Object Direction)
            $seen.Count | Should -Be 2
            Assert-TcpPortFree $port
            $client | Remove-Job -Force
        }
        finally { Stop-PythonPeer $upstream }
    }
}
