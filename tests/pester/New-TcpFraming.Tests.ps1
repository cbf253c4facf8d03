# Framings end to end: New-TcpFraming and -Framing/-Delimiter/-LineEnding on the TCP cmdlets, against
# peers that are not the module (Python asyncio and sockets, plain .NET).
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'New-TcpFraming' {
    It 'builds a framing object with its details, shown in words' {
        $framing = New-TcpFraming -Framing LengthPrefixed -PrefixLength 2 -LittleEndian -LengthIncludesPrefix
        $framing.Kind | Should -Be 'LengthPrefixed'
        "$framing" | Should -Be 'LengthPrefixed (2 bytes, little endian, counting itself)'
        ($framing | Out-String) | Should -BeLike '*Framing*MaxMessageLength*LengthPrefixed (2 bytes, little endian, counting itself)*'
    }

    It 'refuses a framing that lacks what it needs, with InvalidFraming' {
        { New-TcpFraming -Framing Fixed -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidFraming,NetCmdlets.Commands.NewTcpFramingCommand'
        { New-TcpFraming -Framing Delimiter -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidFraming,NetCmdlets.Commands.NewTcpFramingCommand'
    }

    It '-Framing completes its names and refuses a name it does not know' {
        $completions = (TabExpansion2 -inputScript 'Send-TcpMessage -Framing Len' -cursorColumn 28).CompletionMatches.CompletionText
        $completions | Should -Contain 'LengthPrefixed'
        { Send-TcpMessage -ComputerName 127.0.0.1 -Port 1 -Message x -Framing Morse -ErrorAction Stop } | Should -Throw '*not a framing*'
    }

    It '-Raw and another -Framing contradict each other: InvalidFraming' {
        { Send-TcpMessage -ComputerName 127.0.0.1 -Port 1 -Message x -Raw -Framing LengthPrefixed -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidFraming,*'
    }
}

Describe 'Length-prefixed framing' {
    It 'talks to a Python asyncio server that reads 4-byte big-endian lengths, both directions' {
        $server = @'
import asyncio, struct
async def handle(reader, writer):
    try:
        while True:
            n = struct.unpack(">I", await reader.readexactly(4))[0]
            body = await reader.readexactly(n)
            writer.write(struct.pack(">I", len(body)) + body[::-1]); await writer.drain()
    except asyncio.IncompleteReadError:
        writer.close()
async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(srv.sockets[0].getsockname()[1], flush=True)
    await asyncio.sleep(30)
asyncio.run(main())
'@
        $peer = Start-PythonPeer $server
        try {
            $replies = 'abc', "line`nwith`nbreaks", '' | Send-TcpMessage -ComputerName 127.0.0.1 -Port $peer.Ready -Framing LengthPrefixed -Receive
            $replies.Text | Should -Be 'cba', "skaerb`nhtiw`nenil", ''
        }
        finally { Stop-PythonPeer $peer }
    }

    It 'serves a Python client with Start-TcpServer -Framing LengthPrefixed' {
        $job = Start-TcpServer -Port 0 -AsJob -Framing LengthPrefixed -Handler { $_.Text.ToUpper() }
        $client = @'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("ready", flush=True)
for text in ["one", "two\n2"]:
    b = text.encode(); s.sendall(struct.pack(">I", len(b)) + b)
def exact(n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk: raise SystemExit("closed")
        data += chunk
    return data
for _ in range(2):
    n = struct.unpack(">I", exact(4))[0]
    print(exact(n).decode().replace("\n", "|"))
'@
        try {
            $peer = Start-PythonPeer $client -Arguments "$($job.Port)"
            (Wait-PythonPeer $peer) -split "`n" | Should -Be 'ONE', 'TWO|2'
        }
        finally { Stop-PythonPeer $peer; Remove-TestServerJob $job }
    }

    It 'a length over -MaxMessageLength ends only that connection with a FramingError; the server serves the next client' {
        $bg = Start-BackgroundCommand { Start-TcpServer -Port 0 -Framing LengthPrefixed -MaxMessageLength 1024 -Count 1 -Handler { 'ok' } }
        try {
            $port = (Wait-Listening $bg).Port
            $bad = New-TestTcpClient $port
            Send-TestBytes $bad ([byte[]](0x7F, 0xFF, 0xFF, 0xFF))
            Get-TestTcpEnd $bad | Should -BeIn 'closed', 'reset'
            $bad.Dispose()
            $reply = Send-TcpMessage -ComputerName 127.0.0.1 -Port $port -Framing LengthPrefixed -Message 'hi' -Receive
            $reply.Text | Should -Be 'ok'
            $result = Wait-BackgroundCommand $bg
            Assert-NetError $result.Errors[0] -Id 'FramingError.LengthPrefixed.MessageTooLong' -Category InvalidData -TargetLike '127.0.0.1:*'
            "$($result.Errors[0])" | Should -BeLike '*LengthPrefixed*exceeds the maximum*'
        }
        finally { Stop-BackgroundCommand $bg }
    }
}

Describe 'Octet-counted framing (RFC 6587)' {
    It 'reads syslog messages from a Python sender, a line break inside one included' {
        $bg = Start-BackgroundCommand { Start-TcpServer -Port 0 -Framing OctetCounted -Count 3 }
        $sender = @'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("ready", flush=True)
for m in ["<13>1 - host app - - - first", "<13>1 - host app - - - second\nline", "<13>1 - host app - - - caf\u00e9"]:
    b = m.encode(); s.sendall(str(len(b)).encode() + b" " + b)
s.close()
'@
        try {
            $port = (Wait-Listening $bg).Port
            $peer = Start-PythonPeer $sender -Arguments "$port"
            $null = Wait-PythonPeer $peer
            $result = Wait-BackgroundCommand $bg
            $result.Output.Text | Should -Be '<13>1 - host app - - - first', "<13>1 - host app - - - second`nline", '<13>1 - host app - - - café'
        }
        finally { Stop-PythonPeer $peer; Stop-BackgroundCommand $bg }
    }
}

Describe 'Octet-counted syslog from logger' {
    It 'receives what util-linux logger --tcp --octet-count sends, one message each' -Skip:(-not (Get-Command logger -CommandType Application -ErrorAction Ignore)) {
        $bg = Start-BackgroundCommand { Start-TcpServer -Port 0 -Framing OctetCounted -Count 2 -TimeoutSec 20 }
        try {
            $port = (Wait-Listening $bg).Port
            foreach ($text in 'first message', 'second message') {
                & logger --tcp --octet-count --rfc5424 -n 127.0.0.1 -P $port -t netcmdlets-test $text
                $LASTEXITCODE | Should -Be 0
            }
            $result = Wait-BackgroundCommand $bg
            $result.Output | Should -HaveCount 2
            $result.Output[0].Text | Should -Match '^<\d+>1 .* netcmdlets-test .*first message$'
            $result.Output[1].Text | Should -BeLike '*second message'
        }
        finally { Stop-BackgroundCommand $bg }
    }
}

Describe 'Delimiter framing and line endings' {
    It '-Delimiter "`0" cuts at NUL both ways, with a Python peer' {
        $job = Start-TcpServer -Port 0 -AsJob -Delimiter "`0" -Handler { "re:$($_.Text)" }
        $client = @'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("ready", flush=True)
s.sendall(b"a\nb\x00c\x00")
data = b""
while data.count(b"\x00") < 2:
    data += s.recv(100)
print(data.replace(b"\x00", b"|").replace(b"\n", b"/").decode())
'@
        try {
            $peer = Start-PythonPeer $client -Arguments "$($job.Port)"
            Wait-PythonPeer $peer | Should -Be 're:a/b|re:c|'
        }
        finally { Stop-PythonPeer $peer; Remove-TestServerJob $job }
    }

    It '-LineEnding CRLF ends each line sent with CR LF' {
        $listener = New-TestTcpListener
        try {
            'EHLO me', 'QUIT' | Send-TcpMessage -ComputerName 127.0.0.1 -Port $listener.LocalEndpoint.Port -LineEnding CRLF
            $peer = Wait-TestAccept $listener
            try { [Text.Encoding]::ASCII.GetString((Read-TestToEnd $peer)) | Should -Be "EHLO me`r`nQUIT`r`n" } finally { $peer.Dispose() }
        }
        finally { $listener.Stop() }
    }
}

Describe 'CRLF lines for memcached-style data blocks' {
    It 'stores and reads a value from a Python stand-in that accepts only CRLF-terminated lines' {
        $standIn = @'
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); buf = b""; store = {}
def line():
    global buf
    while b"\r\n" not in buf:
        chunk = c.recv(4096)
        if not chunk: raise SystemExit(0)
        if b"\n" in chunk.replace(b"\r\n", b""): c.sendall(b"ERROR bare LF\r\n"); raise SystemExit(1)
        buf += chunk
    l, buf = buf.split(b"\r\n", 1); return l.decode()
while True:
    parts = line().split()
    if parts[0] == "set":
        store[parts[1]] = line(); c.sendall(b"STORED\r\n")
    elif parts[0] == "get":
        v = store.get(parts[1])
        c.sendall((f"VALUE {parts[1]} 0 {len(v)}\r\n{v}\r\nEND\r\n" if v is not None else "END\r\n").encode())
    elif parts[0] == "quit":
        break
'@
        $peer = Start-PythonPeer $standIn
        try {
            $connection = New-TcpConnection 127.0.0.1 $peer.Ready -LineEnding CRLF
            ('set greeting 0 0 5', 'hello' | Send-TcpMessage -Connection $connection)
            (Receive-TcpMessage -Connection $connection).Text | Should -Be 'STORED'
            (Send-TcpMessage -Connection $connection -Message 'get greeting' -Receive -Until '^END$').Text | Should -Be 'VALUE greeting 0 5', 'hello', 'END'
            Send-TcpMessage -Connection $connection -Message 'quit'
        }
        finally { Stop-PythonPeer $peer; Close-TestTcpConnection }
    }
}

Describe 'Replies the framing cannot carry' {
    It 'a reply too long for a 1-byte length prefix is a FramingError for that message; the server goes on' {
        $framing = New-TcpFraming -Framing LengthPrefixed -PrefixLength 1
        $bg = Start-BackgroundCommand -Parameters @{ Framing = $framing } {
            param($Framing)
            Start-TcpServer -Port 0 -Count 2 -Framing $Framing -Handler { if ($_.Text -eq 'long') { 'x' * 300 } else { "re:$($_.Text)" } }
        }
        try {
            $port = (Wait-Listening $bg).Port
            $connection = New-TcpConnection 127.0.0.1 $port -Framing $framing
            Send-TcpMessage -Connection $connection -Message 'long'
            (Send-TcpMessage -Connection $connection -Message 'short' -Receive).Text | Should -Be 're:short'
            $result = Wait-BackgroundCommand $bg
            $result.Failure | Should -BeNullOrEmpty
            Assert-NetError $result.Errors[0] -Id 'FramingError.LengthPrefixed.CannotFrame' -Category InvalidData -TargetLike '127.0.0.1:*'
            "$($result.Errors[0])" | Should -BeLike '*does not fit a 1-byte length prefix*'
        }
        finally { Stop-BackgroundCommand $bg; Close-TestTcpConnection }
    }

    It 'Send-TcpMessage reports a message it cannot frame and sends the next ones' {
        $listener = New-TestTcpListener
        try {
            $framing = New-TcpFraming -Framing Fixed -Size 2
            'ab', 'toolong', 'cd' | Send-TcpMessage -ComputerName 127.0.0.1 -Port $listener.LocalEndpoint.Port -Framing $framing -ErrorVariable failures -ErrorAction SilentlyContinue
            $peer = Wait-TestAccept $listener
            try { [Text.Encoding]::ASCII.GetString((Read-TestToEnd $peer)) | Should -Be 'abcd' } finally { $peer.Dispose() }
            Assert-NetError $failures[0] -Id 'FramingError.Fixed.CannotFrame' -Category InvalidData -TargetLike '127.0.0.1:*'
        }
        finally { $listener.Stop() }
    }
}

Describe '-IdleSec and -Until details' {
    It '-IdleSec waits -TimeoutSec for the first message of a slow reply, then ends at the quiet; -Until ignores case as -match does' {
        $job = Start-TcpServer -Port 0 -AsJob -Handler { Start-Sleep -Milliseconds 700; 'first'; 'END' }
        try {
            $replies = @(Send-TcpMessage -ComputerName 127.0.0.1 -Port $job.Port -Message 'go' -IdleSec 0.3 -TimeoutSec 10)
            $replies.Text | Should -Be 'first', 'END' -Because '-IdleSec implies -Receive and waits for a slow first reply'
            (Send-TcpMessage -ComputerName 127.0.0.1 -Port $job.Port -Message 'go' -Until '^end$').Text | Should -Be 'first', 'END'
        }
        finally { Remove-TestServerJob $job }
    }

    It 'a job passes -ArgumentList to -OnConnect even without a -Handler' {
        $job = Start-TcpServer -Port 0 -AsJob -OnConnect { "hello [$($args[0])]" } -ArgumentList 'ARG'
        try {
            $client = New-TestTcpClient $job.Port
            Read-TestLine $client | Should -Be 'hello [ARG]'
            $client.Dispose()
        }
        finally { Remove-TestServerJob $job }
    }
}
