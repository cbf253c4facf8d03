# The Json framing end to end: objects between two module sessions, and JSON lines to and from Python.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'Json framing' {
    It 'objects round-trip between two module sessions, nested types as ConvertFrom-Json gives them' {
        $job = Start-TcpServer -Port 0 -AsJob -Framing Json -Handler {
            [pscustomobject]@{ echo = $_; port = $_.NetMessage.RemoteEndPoint.Port; kind = $_.GetType().Name }
        }
        try {
            $sent = [pscustomobject]@{ name = 'x'; count = 3; ratio = 1.5; ok = $true; none = $null; list = 1, 'two', 3.5; nested = @{ deep = @{ deeper = 'y' } } }
            $connection = New-TcpConnection 127.0.0.1 $job.Port -Framing Json
            $reply = $sent | Send-TcpMessage -Connection $connection -Receive
            $reply.port | Should -Be $connection.LocalEndPoint.Port
            $reply.kind | Should -Be 'PSCustomObject'
            $reply.echo.name | Should -Be 'x'
            $reply.echo.count | Should -BeOfType [long]
            $reply.echo.ratio | Should -BeOfType [double]
            $reply.echo.ok | Should -BeOfType [bool]
            $reply.echo.none | Should -BeNullOrEmpty
            $reply.echo.list | Should -Be 1, 'two', 3.5
            $reply.echo.nested.deep.deeper | Should -Be 'y'
            # The message is one hidden property away, and converting the value again leaves it out.
            $reply.NetMessage.RemoteEndPoint.Port | Should -Be $job.Port
            $reply.NetMessage.Connection.Id | Should -Be $connection.Id
            ($reply | ConvertTo-Json -Compress -Depth 10) | Should -Not -BeLike '*NetMessage*'
            # Strings are JSON strings both ways.
            ('plain' | Send-TcpMessage -Connection $connection -Receive).echo | Should -Be 'plain'
            # The server's own output is the objects too.
            $job | Stop-Job
            $received = @($job | Receive-Job)
            $received[0].nested.deep.deeper | Should -Be 'y'
            $received[1] | Should -Be 'plain'
        }
        finally { Remove-TestServerJob $job; Close-TestTcpConnection }
    }

    It 'reads JSON lines from a Python peer and sends JSON it parses; a line that is not JSON ends that connection with FramingError.Json.InvalidJson' {
        $bg = Start-BackgroundCommand { Start-TcpServer -Port 0 -Framing Json -Count 2 -Handler { @{ sum = [int]($_.values | Measure-Object -Sum).Sum } } }
        $client = @'
import json, socket, sys
port = int(sys.argv[1])
print("ready", flush=True)
bad = socket.create_connection(("127.0.0.1", port))
bad.sendall(b"this is not json\n")
bad.settimeout(10)
print("bad end:", bad.recv(100) == b"")
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rwb")
for values in ([1, 2, 3], [10, 20]):
    f.write(json.dumps({"values": values}).encode() + b"\n"); f.flush()
    print(json.loads(f.readline())["sum"])
'@
        try {
            $port = (Wait-Listening $bg).Port
            $peer = Start-PythonPeer $client -Arguments "$port"
            (Wait-PythonPeer $peer) -split "`n" | Should -Be 'bad end: True', '6', '30'
            $result = Wait-BackgroundCommand $bg
            $result.Output[0].values | Should -Be 1, 2, 3
            Assert-NetError $result.Errors[0] -Id 'FramingError.Json.InvalidJson' -Category InvalidData -TargetLike '127.0.0.1:*'
        }
        finally { Stop-PythonPeer $peer; Stop-BackgroundCommand $bg }
    }

    It 'Receive-TcpMessage returns the values of JSON lines from a Python server, -Until seeing the value' {
        $server = @'
import socket
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
print(srv.getsockname()[1], flush=True)
c, _ = srv.accept()
c.sendall(b'{"n":1}\n{"n":2,"last":true}\n{"n":3}\n')
c.recv(1)
'@
        $peer = Start-PythonPeer $server
        try {
            $connection = New-TcpConnection 127.0.0.1 $peer.Ready -Framing Json
            $values = Receive-TcpMessage -Connection $connection -Until { $_.last }
            $values.n | Should -Be 1, 2
            (Receive-TcpMessage -Connection $connection).n | Should -Be 3
        }
        finally { Stop-PythonPeer $peer; Close-TestTcpConnection }
    }
}
