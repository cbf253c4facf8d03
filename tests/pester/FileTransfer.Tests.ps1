# Bytes, files and half-close end to end: Send-TcpMessage -Data/-Path, Receive-TcpMessage -OutFile,
# New-TcpConnection -Listen and Close-TcpConnection -Send, against peers that are not the module.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    # Reads everything a client sends until it half-closes, answers with the SHA-256 of it, then closes.
    $hashingListener = @'
import hashlib, socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(1 << 16)
    if not b: break
    h.update(b); n += len(b)
c.sendall(("%d %s\n" % (n, h.hexdigest())).encode()); c.close()
print(n, h.hexdigest())
'@
    $fiftyMB = 50MB
}

Describe 'Send-TcpMessage -Path' {
    BeforeAll { $file = New-TestFile $fiftyMB; $expected = (Get-FileHash $file -Algorithm SHA256).Hash.ToLowerInvariant() }
    AfterAll { Remove-Item $file -ErrorAction Ignore }

    It 'sends a 50 MB file to a Python listener with an equal SHA-256, half-closes, and reads the reply until the close' {
        $peer = Start-PythonPeer $hashingListener
        try {
            $replies = @(Send-TcpMessage -ComputerName 127.0.0.1 -Port $peer.Ready -Path $file -Receive -PassThru)
            $ok = $?
            $ok | Should -BeTrue -Because 'the peer closing after its reply is the normal end'
            $replies[0].Bytes | Should -Be $fiftyMB
            $replies[0].Direction | Should -Be 'Sent'
            $replies[1].Text | Should -Be "$fiftyMB $expected"
            Wait-PythonPeer $peer | Should -Be "$fiftyMB $expected"
        }
        finally { Stop-PythonPeer $peer }
    }

    It 'FileNotReadable for a file that does not exist, and $? is false' {
        $listener = New-TestTcpListener
        try {
            Send-TcpMessage -ComputerName 127.0.0.1 -Port $listener.LocalEndpoint.Port -Path (Join-Path ([IO.Path]::GetTempPath()) 'no-such-file.bin') -ErrorVariable failures -ErrorAction SilentlyContinue
            $? | Should -BeFalse
            ($failures[0].FullyQualifiedErrorId -split ',')[0] | Should -Be 'FileNotReadable'
        }
        finally { $listener.Stop() }
    }
}

Describe 'Send-TcpMessage -Data' {
    It 'sends a byte array with 0x00, 0x0A, 0x0D and 0xFF exactly: framed as one line, and with -Raw as it is, also piped with the comma operator' {
        $listener = New-TestTcpListener
        try {
            $bytes = [byte[]](0xDE, 0x00, 0x0A, 0x0D, 0xFF, 0x0D, 0x0A, 0x41)
            Send-TcpMessage -ComputerName 127.0.0.1 -Port $listener.LocalEndpoint.Port -Data $bytes
            $peer = Wait-TestAccept $listener
            try { (Read-TestToEnd $peer) -join ',' | Should -Be (($bytes + [byte]10) -join ',') -Because 'bytes are framed like text' } finally { $peer.Dispose() }

            , $bytes | Send-TcpMessage -ComputerName 127.0.0.1 -Port $listener.LocalEndpoint.Port -Raw
            $peer = Wait-TestAccept $listener
            try {
                $received = Read-TestToEnd $peer
                $received.Length | Should -Be 8 -Because 'a piped byte array is one -Data, never decimal text lines, and -Raw adds nothing'
                $received -join ',' | Should -Be ($bytes -join ',')
            }
            finally { $peer.Dispose() }
        }
        finally { $listener.Stop() }
    }

    It 'New-TcpConnection binds ComputerName and Port from piped objects by property name, one connection each' {
        $listener = New-TestTcpListener
        try {
            $targets = 1..2 | ForEach-Object { [pscustomobject]@{ ComputerName = '127.0.0.1'; Port = $listener.LocalEndpoint.Port } }
            $connections = @($targets | New-TcpConnection)
            $connections | Should -HaveCount 2
            $connections[0].Id | Should -Not -Be $connections[1].Id
            $connections.RemoteEndPoint.Port | Should -Be $listener.LocalEndpoint.Port, $listener.LocalEndpoint.Port
        }
        finally { Close-TestTcpConnection; $listener.Stop() }
    }

    It 'binds ComputerName and Port from piped objects by property name' {
        $listener = New-TestTcpListener
        try {
            [pscustomobject]@{ ComputerName = '127.0.0.1'; Port = $listener.LocalEndpoint.Port } | Send-TcpMessage -Message 'by name'
            $peer = Wait-TestAccept $listener
            try { Read-TestLine $peer | Should -Be 'by name' } finally { $peer.Dispose() }
        }
        finally { $listener.Stop() }
    }
}

Describe 'Receive-TcpMessage -OutFile' {
    It 'writes a 50 MB stream from a Python sender to a file with an equal SHA-256, and ends at the close with $? true' {
        $sender = @'
import hashlib, random, socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); r = random.Random(7); h = hashlib.sha256(); left = int(sys.argv[1])
while left > 0:
    b = r.randbytes(min(left, 1 << 20)); c.sendall(b); h.update(b); left -= len(b)
c.close(); print(h.hexdigest())
'@
        $peer = Start-PythonPeer $sender -Arguments "$fiftyMB"
        $out = Join-Path ([IO.Path]::GetTempPath()) "netcmdlets-out-$([guid]::NewGuid()).bin"
        try {
            $connection = New-TcpConnection -ComputerName 127.0.0.1 -Port $peer.Ready
            $summary = Receive-TcpMessage -Connection $connection -OutFile $out
            $ok = $?
            $ok | Should -BeTrue
            $summary.Bytes | Should -Be $fiftyMB
            $summary.Path | Should -Be $out
            (Get-FileHash $out -Algorithm SHA256).Hash.ToLowerInvariant() | Should -Be (Wait-PythonPeer $peer)
            $connection.State | Should -Be 'Closed'
        }
        finally {
            Stop-PythonPeer $peer
            Remove-Item $out -ErrorAction Ignore
            Close-TestTcpConnection
        }
    }

    It 'writes the bytes already received and not read first, exactly as they came, whatever the framing; -Length stops early' {
        $listener = New-TestTcpListener
        $out = Join-Path ([IO.Path]::GetTempPath()) "netcmdlets-out-$([guid]::NewGuid()).bin"
        try {
            $connection = New-TcpConnection -ComputerName 127.0.0.1 -Port $listener.LocalEndpoint.Port
            $peer = Wait-TestAccept $listener
            $head = [Text.Encoding]::ASCII.GetBytes("HEADER`r`nbody`r`n")
            Send-TestBytes $peer $head
            (Receive-TcpMessage -Connection $connection).Text | Should -Be 'HEADER'
            $summary = Receive-TcpMessage -Connection $connection -OutFile $out -Length 6
            $summary.Bytes | Should -Be 6
            ($summary | Out-String) | Should -BeLike '*Direction*Bytes*Seconds*MB/s*Received*'
            [IO.File]::ReadAllBytes($out) -join ',' | Should -Be '98,111,100,121,13,10' -Because 'the CR before the LF is kept'
            $connection.State | Should -Be 'Open'
        }
        finally {
            if ($peer) { $peer.Dispose() }
            $listener.Stop()
            Remove-Item $out -ErrorAction Ignore
            Close-TestTcpConnection
        }
    }
}

Describe 'New-TcpConnection -Listen' {
    It 'moves a file module to module: one side listens, the other sends with -Path, the SHA-256 is equal' {
        $file = New-TestFile 8MB
        $out = Join-Path ([IO.Path]::GetTempPath()) "netcmdlets-out-$([guid]::NewGuid()).bin"
        $bg = $null
        try {
            $bg = Start-BackgroundCommand -Parameters @{ Out = $out } {
                param($Out)
                $c = New-TcpConnection -Listen -Port 0 -TimeoutSec 30 -InformationAction Continue
                Receive-TcpMessage -Connection $c -OutFile $Out
            }
            $port = (Wait-Listening $bg).Port
            $sent = Send-TcpMessage -ComputerName 127.0.0.1 -Port $port -Path $file -PassThru
            $result = Wait-BackgroundCommand $bg -TimeoutSec 30
            $result.Errors | Should -BeNullOrEmpty
            $result.Output[0].Bytes | Should -Be $sent.Bytes
            (Get-FileHash $out).Hash | Should -Be (Get-FileHash $file).Hash
        }
        finally {
            Stop-BackgroundCommand $bg
            Remove-Item $file, $out -ErrorAction Ignore
        }
    }

    It 'waits for a Python client and reads what it sends, to its close' {
        $bg = $null
        try {
            $bg = Start-BackgroundCommand {
                $c = New-TcpConnection -Listen -Port 0 -TimeoutSec 30 -InformationAction Continue
                Receive-TcpMessage -Connection $c -UntilClosed
            }
            $port = (Wait-Listening $bg).Port
            $peer = Start-PythonPeer @'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("connected", flush=True)
s.sendall(b"from python\r\nsecond\n"); s.close()
'@ -Arguments "$port"
            $null = Wait-PythonPeer $peer
            $result = Wait-BackgroundCommand $bg
            $result.Errors | Should -BeNullOrEmpty
            $result.Output.Text | Should -Be 'from python', 'second'
            $result.Output[0].Connection.Role | Should -Be 'Server'
        }
        finally { Stop-PythonPeer $peer; Stop-BackgroundCommand $bg }
    }

    It 'ConnectTimeout when no client comes within -TimeoutSec, and the port is free again' {
        $port = Get-UnusedTcpPort
        New-TcpConnection -Listen -Port $port -TimeoutSec 0.3 -ErrorVariable failures -ErrorAction SilentlyContinue
        $? | Should -BeFalse
        Assert-NetError $failures[0] -Id ConnectTimeout -Category OperationTimeout -TargetLike "*:$port"
        Assert-TcpPortFree $port
    }
}

Describe 'Close-TcpConnection -Send' {
    It 'half-closes: the peer reads to its end, answers, and Receive-TcpMessage -UntilClosed reads the answer with $? true' {
        $peer = Start-PythonPeer $hashingListener
        try {
            $connection = New-TcpConnection -ComputerName 127.0.0.1 -Port $peer.Ready
            'alpha', 'beta' | Send-TcpMessage -Connection $connection
            $connection | Close-TcpConnection -Send
            $connection.State | Should -BeIn 'SendClosed', 'Closed' -Because 'the peer may already have answered and closed'
            $replies = @(Receive-TcpMessage -Connection $connection -UntilClosed)
            $ok = $?
            $ok | Should -BeTrue
            $expected = [BitConverter]::ToString([Security.Cryptography.SHA256]::HashData([Text.Encoding]::ASCII.GetBytes("alpha`nbeta`n"))).Replace('-', '').ToLowerInvariant()
            $replies.Text | Should -Be "11 $expected"
            $connection.State | Should -Be 'Closed'
            Send-TcpMessage -Connection $connection -Message 'late' -ErrorVariable failures -ErrorAction SilentlyContinue
            Assert-NetError $failures[0] -Id ConnectionClosed -Category ConnectionError -TargetLike "127.0.0.1:*"
        }
        finally { Stop-PythonPeer $peer; Close-TestTcpConnection }
    }
}

Describe 'Raw mode' {
    It 'Start-TcpServer -Raw answers a binary request exactly, and New-TcpConnection -Raw sends text with no line ending' {
        $job = Start-TcpServer -Port 0 -Raw -AsJob -Handler { , [byte[]]($_.Data | ForEach-Object { $_ -bxor 0xFF }) }
        try {
            $client = New-TestTcpClient $job.Port
            try {
                Send-TestBytes $client ([byte[]](0x00, 0x0A, 0xFF))
                (Read-TestBytes $client 3) -join ',' | Should -Be '255,245,0'
            }
            finally { $client.Dispose() }
            $connection = New-TcpConnection -ComputerName 127.0.0.1 -Port $job.Port -Raw
            $reply = Send-TcpMessage -Connection $connection -Message 'A' -Receive
            $reply.Data | Should -Be ([byte[]](0xBE))
        }
        finally { Close-TestTcpConnection; Remove-TestServerJob $job }
    }
}
