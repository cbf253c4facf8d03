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
