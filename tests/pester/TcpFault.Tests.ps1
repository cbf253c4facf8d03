# New-TcpFault and Set-TcpProxy: each fault kind's effect, measured by Python peers on both sides of a
# Start-TcpProxy, and faults changed while the proxy runs.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    # An upstream that answers each line it reads with 1,000 bytes of 'y' and a line feed.
    $script:answerer = @'
import socket, threading
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(16)
print(l.getsockname()[1], flush=True)
def serve(c):
    try:
        for line in c.makefile('rb'):
            c.sendall(b'y' * 1000 + b'\n')
    except OSError:
        pass
while True:
    c, _ = l.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
'@
    # A client: sends one line, then reads until the end; prints seconds to the first byte, to the end,
    # the bytes, the reads, and how it ended (closed or reset).
    $script:asker = @'
import socket, sys, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
print('connected', flush=True)
want = int(sys.argv[2]) if len(sys.argv) > 2 else 1001
start = time.monotonic(); first = None; got = 0; reads = 0; how = 'closed'
s.sendall(b'go\n')
s.settimeout(10)
try:
    while got < want:
        b = s.recv(65536)
        if not b: break
        if first is None: first = time.monotonic() - start
        got += len(b); reads += 1
    else:
        how = 'complete'
except ConnectionResetError:
    how = 'reset'
except socket.timeout:
    how = 'timeout'
print('%.3f %.3f %d %d %s' % (first or -1, time.monotonic() - start, got, reads, how))
'@

    function Invoke-Asker {
        param([int] $Port, [int] $Want = 1001)
        $fields = (Wait-PythonPeer (Start-PythonPeer $asker -Arguments $Port, $Want)) -split ' '
        [pscustomobject]@{ First = [double]$fields[0]; Total = [double]$fields[1]; Bytes = [int]$fields[2]; Reads = [int]$fields[3]; End = $fields[4] }
    }
}

Describe 'New-TcpFault through Start-TcpProxy' {
    BeforeAll {
        $script:upstream = Start-PythonPeer $answerer
    }
    AfterAll {
        Stop-PythonPeer $upstream
    }
    AfterEach {
        Remove-TestServerJob
    }

    It 'makes one fault of each kind, with its direction and probability' {
        $faults = @(
            New-TcpFault -LatencyMs 50 -JitterMs 5
            New-TcpFault -BandwidthKBps 64 -Direction ClientToServer
            New-TcpFault -SliceBytes 10 -SliceDelayMs 1
            New-TcpFault -ResetAfterBytes 100 -Probability 0.5
            New-TcpFault -CloseAfterBytes 100
            New-TcpFault -TimeoutMs 300
        )
        $faults.Kind | Should -Be 'Latency', 'Bandwidth', 'Slice', 'ResetAfter', 'CloseAfter', 'Timeout'
        $faults[1].Direction | Should -Be 'ClientToServer'
        $faults[0].Direction | Should -Be 'Both'
        $faults[3].Probability | Should -Be 0.5
        { New-TcpFault -LatencyMs 5 -Probability 2 } | Should -Throw
    }

    It 'latency holds the answers back by about that long' {
        $proxy = Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $upstream.Ready -Quiet -AsJob -Fault (New-TcpFault -LatencyMs 300 -Direction ServerToClient)
        $result = Invoke-Asker $proxy.Port
        $result.End | Should -Be 'complete'
        $result.First | Should -BeGreaterOrEqual 0.29
        $result.First | Should -BeLessThan 3
    }

    It 'bandwidth lets no more than its rate through' {
        $proxy = Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $upstream.Ready -Quiet -AsJob -Fault (New-TcpFault -BandwidthKBps 2 -Direction ServerToClient)
        # 1,001 bytes at 2 KiB/s take about half a second.
        $result = Invoke-Asker $proxy.Port
        $result.End | Should -Be 'complete'
        $result.Total | Should -BeGreaterOrEqual 0.4
    }

    It 'slicing cuts an answer into many small writes' {
        $proxy = Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $upstream.Ready -Quiet -AsJob -Fault (New-TcpFault -SliceBytes 10 -SliceDelayMs 2 -Direction ServerToClient)
        $result = Invoke-Asker $proxy.Port
        $result.End | Should -Be 'complete'
        $result.Bytes | Should -Be 1001
        $result.Reads | Should -BeGreaterOrEqual 20
    }

    It 'reset after N bytes lets exactly N through, then the client sees a reset' {
        $proxy = Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $upstream.Ready -AsJob -Fault (New-TcpFault -ResetAfterBytes 300 -Direction ServerToClient)
        $result = Invoke-Asker $proxy.Port
        $result.Bytes | Should -Be 300
        $result.End | Should -Be 'reset'
        Wait-TestCondition { @($proxy.Output | Where-Object Event -EQ 'Closed').Count -ge 1 } | Should -BeTrue
        @($proxy.Output | Where-Object Event -EQ 'Closed')[0].Error | Should -BeLike 'ResetAfter fault after 300 bytes'
    }

    It 'close after N bytes lets exactly N through, then ends cleanly' {
        $proxy = Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $upstream.Ready -Quiet -AsJob -Fault (New-TcpFault -CloseAfterBytes 300 -Direction ServerToClient)
        $result = Invoke-Asker $proxy.Port
        $result.Bytes | Should -Be 300
        $result.End | Should -Be 'closed'
    }

    It 'a timeout lets nothing through and closes the connection after its time' {
        $proxy = Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $upstream.Ready -Quiet -AsJob -Fault (New-TcpFault -TimeoutMs 500)
        $result = Invoke-Asker $proxy.Port
        $result.Bytes | Should -Be 0
        $result.End | Should -Be 'closed'
        $result.Total | Should -BeGreaterOrEqual 0.45
    }

    It 'a fault with probability 0 never acts, and a fault for the other direction leaves this one alone' {
        $faults = (New-TcpFault -ResetAfterBytes 0 -Probability 0), (New-TcpFault -ResetAfterBytes 0 -Direction ClientToServer)
        $proxy = Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $upstream.Ready -Quiet -AsJob -Fault $faults[0]
        (Invoke-Asker $proxy.Port).End | Should -Be 'complete'
        $proxy | Set-TcpProxy -Fault (New-TcpFault -CloseAfterBytes 0 -Direction ClientToServer)
        # The request itself is swallowed and the connection closed: no answer.
        (Invoke-Asker $proxy.Port).Bytes | Should -Be 0
    }
}

Describe 'Set-TcpProxy' {
    BeforeAll {
        $script:upstream = Start-PythonPeer $answerer
    }
    AfterAll {
        Stop-PythonPeer $upstream
    }
    AfterEach {
        Remove-TestServerJob
    }

    It 'replaces the faults of a running proxy, for new connections and open ones, and -ClearFault removes them' {
        # A long latency, so that with and without it cannot be confused on a busy machine.
        $slow = New-TcpFault -LatencyMs 1500 -Direction ServerToClient
        $proxy = Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $upstream.Ready -Quiet -AsJob
        (Invoke-Asker $proxy.Port).First | Should -BeLessThan 1.4
        $proxy | Set-TcpProxy -Fault $slow -PassThru | Should -Be $proxy
        (Invoke-Asker $proxy.Port).First | Should -BeGreaterOrEqual 1.49
        # An open connection: clean, then slowed.
        $client = New-TestTcpClient $proxy.Port
        $proxy | Set-TcpProxy -ClearFault
        $clock = [Diagnostics.Stopwatch]::StartNew()
        Send-TestLines $client 'one'
        $null = Read-TestLine $client
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 1.4
        $proxy | Set-TcpProxy -Fault $slow
        $clock.Restart()
        Send-TestLines $client 'two'
        $null = Read-TestLine $client
        $clock.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 1.49
        $client.Dispose()
    }

    It 'says NotAProxy for a job that is not a running proxy' {
        $server = Start-TcpServer -Port 0 -AsJob
        $server | Set-TcpProxy -ClearFault -ErrorVariable wrong -ErrorAction SilentlyContinue
        ($wrong[0].FullyQualifiedErrorId -split ',')[0] | Should -Be 'NotAProxy'
    }
}

Describe 'Faults on the messages of a framing' {
    BeforeAll {
        # An upstream that sends back every byte it reads, and ends its side when the client ends its.
        $script:echo = @'
import socket, threading
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(16)
print(l.getsockname()[1], flush=True)
def serve(c):
    try:
        while True:
            b = c.recv(65536)
            if not b: break
            c.sendall(b)
        c.shutdown(socket.SHUT_WR)
    except OSError:
        pass
while True:
    c, _ = l.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
'@
        # A client that sends N messages (lines, or 4-byte length-prefixed frames of 64 random bytes), then
        # a last line without its line feed, ends its side, reads the echo to the end, and compares.
        $script:sender = @'
import json, os, socket, struct, sys, threading
port, mode, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = socket.create_connection(('127.0.0.1', port))
print('connected', flush=True)
if mode == 'lines':
    sent = [('line %d' % i).encode() for i in range(n)]
    wire = b''.join(m + b'\n' for m in sent) + b'tail'
else:
    sent = [os.urandom(64) for i in range(n)]
    wire = b''.join(struct.pack('>I', len(m)) + m for m in sent)
def send():
    s.sendall(wire); s.shutdown(socket.SHUT_WR)
threading.Thread(target=send).start()
s.settimeout(20)
got = b''
while True:
    b = s.recv(65536)
    if not b: break
    got += b
if mode == 'lines':
    back = got.split(b'\n')
    tail = back.pop()
    print(json.dumps({'count': len(back), 'inOrder': all(m in sent for m in back) and [sent.index(m) for m in back] == sorted(sent.index(m) for m in back), 'same': sum(1 for a, b in zip(sent, back) if a == b), 'tail': tail.decode('latin-1'), 'oneBit': sum(1 for a, b in zip(sent, back) if len(a) == len(b) and sum(bin(x ^ y).count('1') for x, y in zip(a, b)) == 1)}))
else:
    back = []
    while len(got) >= 4:
        size = struct.unpack('>I', got[:4])[0]; back.append(got[4:4 + size]); got = got[4 + size:]
    print(json.dumps({'count': len(back), 'left': len(got), 'same': sum(1 for a, b in zip(sent, back) if a == b), 'oneBit': sum(1 for a, b in zip(sent, back) if len(a) == len(b) and sum(bin(x ^ y).count('1') for x, y in zip(a, b)) == 1)}))
'@
        $script:upstream = Start-PythonPeer $echo

        function Invoke-Sender {
            param([int] $Port, [string] $Mode, [int] $Count)
            Wait-PythonPeer (Start-PythonPeer $sender -Arguments $Port, $Mode, $Count) | ConvertFrom-Json
        }
    }
    AfterAll {
        Stop-PythonPeer $upstream
    }
    AfterEach {
        Remove-TestServerJob
    }

    It 'makes drop and corrupt faults for a framing' {
        $drop = New-TcpFault -DropRate 0.5 -Framing LengthPrefixed -Direction ClientToServer
        $drop.Kind | Should -Be 'Drop'
        $drop.Rate | Should -Be 0.5
        $drop.Framing.Name | Should -Be 'LengthPrefixed'
        (New-TcpFault -CorruptRate 1).Framing.Name | Should -Be 'Line'
        (New-TcpFault -CorruptRate 1 -Delimiter ';').Framing.Name | Should -Be 'Delimiter'
        { New-TcpFault -DropRate 1.5 } | Should -Throw
        { New-TcpFault -LatencyMs 5 -Framing Line } | Should -Throw
    }

    It 'drop loses about that share of lines, each whole, and keeps the rest in order' {
        $proxy = Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $upstream.Ready -Quiet -AsJob -Fault (New-TcpFault -DropRate 0.5 -Direction ClientToServer)
        $result = Invoke-Sender $proxy.Port lines 2000
        # 1,000 expected; the bounds are over 10 standard deviations wide.
        $result.count | Should -BeGreaterThan 750
        $result.count | Should -BeLessThan 1250
        $result.inOrder | Should -BeTrue
    }

    It 'drop of every message leaves nothing but what never formed one' {
        $proxy = Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $upstream.Ready -Quiet -AsJob -Fault (New-TcpFault -DropRate 1)
        $result = Invoke-Sender $proxy.Port lines 100
        $result.count | Should -Be 0
        # The last line, without its line feed, is a message of its own at the end: dropped too.
        $result.tail | Should -Be ''
    }

    It 'a message fault that acts on nothing passes every byte, the unfinished last line too' {
        $proxy = Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $upstream.Ready -Quiet -AsJob -Fault (New-TcpFault -DropRate 0)
        $result = Invoke-Sender $proxy.Port lines 3000
        $result.count | Should -Be 3000
        $result.same | Should -Be 3000
        $result.tail | Should -Be 'tail'
    }

    It 'corrupt flips one bit of each length-prefixed frame and keeps every frame whole' {
        $fault = New-TcpFault -CorruptRate 1 -Framing LengthPrefixed -Direction ServerToClient
        $proxy = Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $upstream.Ready -Quiet -AsJob -Fault $fault
        $result = Invoke-Sender $proxy.Port frames 500
        $result.count | Should -Be 500
        $result.left | Should -Be 0
        $result.oneBit | Should -Be 500
    }

    It 'corrupt of half the lines changes about half, one bit each, and never the number of lines' {
        $proxy = Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $upstream.Ready -Quiet -AsJob -Fault (New-TcpFault -CorruptRate 0.5 -Direction ClientToServer)
        $result = Invoke-Sender $proxy.Port lines 2000
        $result.count | Should -Be 2000
        ($result.same + $result.oneBit) | Should -Be 2000
        $result.oneBit | Should -BeGreaterThan 750
        $result.oneBit | Should -BeLessThan 1250
    }

    It 'past the framing''s limit a message fault passes the rest untouched' {
        $fault = New-TcpFault -DropRate 1 -Framing LengthPrefixed -MaxMessageLength 16 -Direction ClientToServer
        $proxy = Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort $upstream.Ready -Quiet -AsJob -Fault $fault
        # The first frame (64 bytes) is already past 16: nothing is cut, everything passes.
        $result = Invoke-Sender $proxy.Port frames 50
        $result.count | Should -Be 50
        $result.same | Should -Be 50
    }
}
