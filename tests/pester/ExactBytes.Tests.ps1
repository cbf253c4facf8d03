# Every byte a peer sends can be had back exactly from the message objects, under every framing: random
# binary (every byte value, CR and LF among them) from a Python peer, put together again from Data (and,
# for lines, LineEnding) and compared by SHA-256.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    # Sends random bytes in the framing asked for, closes, and prints the SHA-256 of what the messages must give back.
    $script:Sender = @'
import hashlib, random, socket, struct, sys
port, framing = int(sys.argv[1]), sys.argv[2]
rng = random.Random(20261206)
if framing == "line":
    wire = bytes(rng.getrandbits(8) for _ in range(300000)) + b"\r"
    expected = wire
elif framing == "delimiter":
    parts = [bytes(b for b in (rng.getrandbits(8) for _ in range(rng.randrange(0, 3000))) if b != 0x7C) for _ in range(200)]
    wire = b"".join(p + b"|" for p in parts)
    expected = b"".join(parts)
elif framing == "prefixed":
    parts = [bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 5000))) for _ in range(100)]
    wire = b"".join(struct.pack(">I", len(p)) + p for p in parts)
    expected = b"".join(parts)
else:
    wire = bytes(rng.getrandbits(8) for _ in range(300000))
    expected = wire
s = socket.create_connection(("127.0.0.1", port), timeout=20)
print(hashlib.sha256(expected).hexdigest(), flush=True)
# In pieces of every size, so messages straddle reads.
at = 0
while at < len(wire):
    n = rng.randrange(1, 7000)
    s.sendall(wire[at:at + n]); at += n
s.shutdown(socket.SHUT_WR)
s.recv(1)
'@

    function Join-Messages {
        param([object[]] $Messages)
        $all = [IO.MemoryStream]::new()
        foreach ($m in $Messages) {
            $all.Write($m.Data, 0, $m.Data.Length)
            switch ("$($m.LineEnding)") {
                'LF' { $all.WriteByte(10) }
                'CRLF' { $all.WriteByte(13); $all.WriteByte(10) }
                'CR' { $all.WriteByte(13) }
            }
        }
        [BitConverter]::ToString([Security.Cryptography.SHA256]::HashData($all.ToArray())).Replace('-', '').ToLowerInvariant()
    }
}

Describe 'Exact bytes from the message objects' {
    It 'a Start-TcpServer with -Framing <Framing> gives back every byte of random binary' -ForEach @(
        @{ Framing = 'line'; Parameters = @{ MaxMessageLength = 1MB } }
        @{ Framing = 'delimiter'; Parameters = @{ Delimiter = '|' } }
        @{ Framing = 'prefixed'; Parameters = @{ Framing = 'LengthPrefixed' } }
        @{ Framing = 'raw'; Parameters = @{ Raw = $true } }
    ) {
        $job = Start-TcpServer -Port 0 -AsJob @Parameters
        $peer = $null
        try {
            $peer = Start-PythonPeer $script:Sender -Arguments $job.Port, $Framing
            $null = Wait-PythonPeer $peer
            Wait-TestCondition { $job.Statistics.ConnectionsOpen -eq 0 -and $job.Statistics.ConnectionsTotal -eq 1 } | Should -BeTrue
            $job | Stop-Job
            $messages = @($job | Receive-Job)
            Join-Messages $messages | Should -Be $peer.Ready
            if ($Framing -eq 'line') {
                ($messages.LineEnding | Sort-Object -Unique) | Should -Be @('LF', 'CRLF', 'CR')
                $messages[0].Data -contains 10 | Should -BeFalse -Because 'a line holds no line feed'
            }
        }
        finally {
            Stop-PythonPeer $peer
            Remove-TestServerJob $job
        }
    }

    It 'Receive-TcpMessage on a connection of its own gives back every byte of random binary lines' {
        $listener = New-TestTcpListener
        $peer = $null
        try {
            $c = New-TcpConnection -ComputerName 127.0.0.1 -Port $listener.LocalEndpoint.Port -MaxMessageLength 1MB
            $accepted = Wait-TestAccept $listener
            $listener.Stop()
            # The Python peer speaks through a relay of the test's own: it connects to a second listener.
            $relay = New-TestTcpListener
            $peer = Start-PythonPeer $script:Sender -Arguments $relay.LocalEndpoint.Port, 'line'
            $from = Wait-TestAccept $relay
            $relay.Stop()
            $from.GetStream().CopyTo($accepted.GetStream())
            $accepted.Client.Shutdown('Send')
            # Read to the end: the last read finds the peer gone, which is a ConnectionClosed error.
            $messages = @(while ($m = Receive-TcpMessage -Connection $c -TimeoutSec 10 -ErrorAction SilentlyContinue -ErrorVariable ended) { $m })
            $ended | Should -HaveCount 1
            $ended[0].FullyQualifiedErrorId | Should -BeLike 'ConnectionClosed*'
            $from.Dispose()
            $accepted.Dispose()
            Join-Messages $messages | Should -Be $peer.Ready
        }
        finally {
            Stop-PythonPeer $peer
            $listener.Stop()
        }
    }
}
