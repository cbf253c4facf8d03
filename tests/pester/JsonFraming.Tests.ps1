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

    It 'objects cross between two pwsh processes: the server in a pwsh of its own answers with its process id' {
        $exe = [Environment]::ProcessPath
        $info = [Diagnostics.ProcessStartInfo]::new($exe)
        if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { $info.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
        foreach ($argument in '-NoProfile', '-NonInteractive', '-Command', '-') { $info.ArgumentList.Add($argument) }
        $info.UseShellExecute = $false
        $info.RedirectStandardInput = $true
        $info.RedirectStandardOutput = $true
        $info.RedirectStandardError = $true
        $server = [Diagnostics.Process]::Start($info)
        try {
            $server.StandardInput.WriteLine("Import-Module '$NetCmdletsModulePath'")
            $server.StandardInput.WriteLine('Start-TcpServer -Port 0 -Framing Json -Count 1 -TimeoutSec 60 -InformationAction Continue -Handler { [pscustomobject]@{ pid = $PID; got = $_ } } | Out-Null')
            $server.StandardInput.Close()
            $port = $null
            while ($null -eq $port) {
                $line = $server.StandardOutput.ReadLineAsync()
                if (-not $line.Wait(60000) -or $null -eq $line.Result) { throw "The server pwsh printed no port: $($server.StandardError.ReadToEnd())" }
                if ($line.Result -match ':(\d+)$') { $port = [int]$Matches[1] }
            }
            $reply = [pscustomobject]@{ when = '2026-11-25T10:00:00'; sizes = 1, 2; inner = @{ flag = $false } } |
                Send-TcpMessage -ComputerName 127.0.0.1 -Port $port -Framing Json -Receive
            $reply.pid | Should -Not -Be $PID
            $reply.pid | Should -Be $server.Id
            $reply.got.sizes | Should -Be 1, 2
            $reply.got.inner.flag | Should -BeExactly $false
            # ConvertFrom-Json reads an ISO 8601 string as a DateTime, on both sides.
            $reply.got.when | Should -BeOfType [datetime]
            $server.WaitForExit(30000) | Should -BeTrue
        }
        finally { if (-not $server.HasExited) { $server.Kill($true) }; $server.Dispose() }
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

    It 'a client that sends a line that is not JSON and hangs up at once still gets the error reported, with and without a handler' -ForEach @(
        @{ Handler = $true }
        @{ Handler = $false }
    ) {
        $reasons = [Collections.Concurrent.ConcurrentQueue[string]]::new()
        $bg = Start-BackgroundCommand -Parameters @{ WithHandler = $Handler; Reasons = $reasons } {
            param($WithHandler, $Reasons)
            $parameters = @{ Port = 0; Framing = 'Json'; Count = 1; OnDisconnect = { $Reasons.Enqueue("$($_.Reason)") } }
            if ($WithHandler) { $parameters.Handler = { 'ok' } }
            Start-TcpServer @parameters
        }
        try {
            $port = (Wait-Listening $bg).Port
            $bad = New-TestTcpClient $port
            # The line, then the end at once: the server reads the end before it finds the line is not JSON.
            Send-TestBytes $bad ([Text.Encoding]::ASCII.GetBytes("not json`n"))
            $bad.Client.Shutdown([Net.Sockets.SocketShutdown]::Send)
            # The server then ends the connection (a reset, as it aborts it).
            $end = try { $buffer = [byte[]]::new(16); while ($bad.Client.Receive($buffer) -gt 0) { }; 'closed' } catch [Net.Sockets.SocketException] { 'reset' }
            $end | Should -BeIn 'closed', 'reset'
            $bad.Dispose()
            Wait-TestCondition { $reasons.Count -ge 1 } | Should -BeTrue
            '{"good":1}' | Send-TcpMessage -ComputerName 127.0.0.1 -Port $port -Framing Line
            $result = Wait-BackgroundCommand $bg
            $result.Output[0].good | Should -Be 1
            @($result.Errors).Count | Should -Be 1
            Assert-NetError $result.Errors[0] -Id 'FramingError.Json.InvalidJson' -Category InvalidData -TargetLike '127.0.0.1:*'
            @($reasons)[0] | Should -Be 'FramingError'
        }
        finally { Stop-BackgroundCommand $bg }
    }

    It 'a handler output that cannot be JSON is a FramingError.Json.CannotFrame error for that reply; the server goes on' {
        $bg = Start-BackgroundCommand { Start-TcpServer -Port 0 -Framing Json -Count 2 -Handler { if ($_.bad) { @{ counts = @{ 1 = 5 } } } else { @{ fine = $true } } } }
        try {
            $port = (Wait-Listening $bg).Port
            $connection = New-TcpConnection 127.0.0.1 $port -Framing Json
            @{ bad = $true } | Send-TcpMessage -Connection $connection
            (@{ bad = $false } | Send-TcpMessage -Connection $connection -Receive).fine | Should -BeTrue
            $result = Wait-BackgroundCommand $bg
            $result.Failure | Should -BeNullOrEmpty
            Assert-NetError $result.Errors[0] -Id 'FramingError.Json.CannotFrame' -Category InvalidData -TargetLike '127.0.0.1:*'
        }
        finally { Stop-BackgroundCommand $bg; Close-TestTcpConnection }
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
