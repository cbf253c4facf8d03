# A UDP server whose pipeline is blocked holds at most 65,536 datagrams and 64 MiB of them; the rest are
# dropped, counted and reported. Python senders flood it; a handler that waits on a gate blocks the pipeline.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    $script:Flood = @'
import socket, sys, time
port, count, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
pace = float(sys.argv[4]) if len(sys.argv) > 4 else 0
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print("ready", flush=True)
payload = b"x" * size
sent = 0
for i in range(count):
    try:
        s.sendto(payload, ("127.0.0.1", port)); sent += 1
        # Large datagrams are paced, so that the kernel's socket buffer does not drop them before the server can.
        if pace: time.sleep(pace)
    except OSError:
        pass
print(sent)
'@

    function Wait-Settled {
        # Until the server has read all the kernel held for it: its count stays the same for 200 ms.
        param($Job)
        $until = [datetime]::UtcNow.AddSeconds(30)
        $last = -1
        while ([datetime]::UtcNow -lt $until) {
            $now = $Job.Statistics.MessagesReceived
            if ($now -eq $last) { return $true }
            $last = $now
            Start-Sleep -Milliseconds 200
        }
        $false
    }
}

Describe 'Start-UdpServer with a blocked pipeline' {
    It 'holds at most 65,536 small datagrams and drops the rest, counted and warned about' {
        $gate = [Threading.ManualResetEventSlim]::new($false)
        $job = Start-UdpServer -Port 0 -AsJob -Handler { $null = ($using:gate).Wait(60000) }
        $peer = $null
        try {
            $peer = Start-PythonPeer $script:Flood -Arguments $job.Port, 200000, 16
            $null = Wait-PythonPeer $peer
            Wait-Settled $job | Should -BeTrue
            $stats = $job.Statistics
            $stats.Dropped | Should -BeGreaterThan 0
            # One datagram is in the handler; the rest that were not dropped wait in the queue.
            ($stats.MessagesReceived - $stats.Dropped) | Should -BeLessOrEqual (65536 + 1)
            $gate.Set()
            $job | Stop-Job
            $null = $job | Receive-Job -WarningVariable warnings -WarningAction SilentlyContinue
            "$warnings" | Should -BeLike '*datagram(s) arrived while the pipeline was busy and were dropped*'
        }
        finally {
            $gate.Set()
            Stop-PythonPeer $peer
            Remove-TestServerJob $job
        }
    }

    It 'holds at most 64 MiB of large datagrams' {
        $gate = [Threading.ManualResetEventSlim]::new($false)
        $job = Start-UdpServer -Port 0 -AsJob -Handler { $null = ($using:gate).Wait(60000) }
        $peer = $null
        try {
            # 3,000 datagrams of 60,000 bytes: 180 MB, far past the budget of 64 MiB.
            $peer = Start-PythonPeer $script:Flood -Arguments $job.Port, 3000, 60000, 0.0005
            $null = Wait-PythonPeer $peer
            Wait-Settled $job | Should -BeTrue
            $stats = $job.Statistics
            $stats.Dropped | Should -BeGreaterThan 0 -Because "$($stats.MessagesReceived) of 3,000 were received"
            $held = $stats.MessagesReceived - $stats.Dropped
            ($held * 60000) | Should -BeLessOrEqual (64MB + 60000) -Because "$held datagrams are held"
        }
        finally {
            $gate.Set()
            Stop-PythonPeer $peer
            Remove-TestServerJob $job
        }
    }
}
