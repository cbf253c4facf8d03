# A server that defends itself: idle limit, connection limit, allow and deny lists, each shown from
# outside with Python clients while the server keeps serving another client.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'Start-TcpServer -IdleTimeoutSec' {
    It 'closes a client that says nothing, reports IdleTimeout and TimedOut, and keeps serving a client that talks' {
        $reasons = [Collections.Concurrent.ConcurrentQueue[string]]::new()
        $bg = Start-BackgroundCommand -Parameters @{ Reasons = $reasons } {
            param($Reasons)
            Start-TcpServer -Port 0 -IdleTimeoutSec 1 -Count 8 -OnDisconnect { $Reasons.Enqueue("$($_.Reason)") } -Handler { "re:$($_.Text)" }
        }
        $client = @'
import socket, sys, time
port = int(sys.argv[1])
silent = socket.create_connection(("127.0.0.1", port))
busy = socket.create_connection(("127.0.0.1", port))
print("ready", flush=True)
f = busy.makefile("rwb")
replies = []
# The busy client talks every 0.2 s for 1.6 s; the silent one is closed at the 1 s limit meanwhile.
for i in range(8):
    if i == 7:
        silent.settimeout(10)
        print("silent end:", silent.recv(10) == b"", flush=True)
    f.write(b"ping %d\n" % i); f.flush()
    replies.append(f.readline().decode().strip())
    time.sleep(0.2)
print(",".join(replies))
'@
        try {
            $port = (Wait-Listening $bg).Port
            $peer = Start-PythonPeer $client -Arguments "$port"
            (Wait-PythonPeer $peer) -split "`n" | Should -Be 'silent end: True', ((0..7 | ForEach-Object { "re:ping $_" }) -join ',')
            $result = Wait-BackgroundCommand $bg
            $idle = @($result.Errors | Where-Object { $_.FullyQualifiedErrorId -like 'IdleTimeout*' })
            $idle.Count | Should -Be 1
            Assert-NetError $idle[0] -Id 'IdleTimeout' -Category OperationTimeout -TargetLike '127.0.0.1:*'
            @($reasons) | Should -Contain 'TimedOut'
        }
        finally { Stop-PythonPeer $peer; Stop-BackgroundCommand $bg }
    }
}

Describe 'Start-TcpServer -MaxConnections' {
    It 'refuses the client beyond the limit at once, warns, counts it, and serves the ones it has' {
        $job = Start-TcpServer -Port 0 -AsJob -MaxConnections 2 -Handler { "re:$($_.Text)" }
        $client = @'
import socket, sys
port = int(sys.argv[1])
print("ready", flush=True)
a = socket.create_connection(("127.0.0.1", port)); fa = a.makefile("rwb")
b = socket.create_connection(("127.0.0.1", port)); fb = b.makefile("rwb")
# Both are open once each has had a reply.
for f, text in ((fa, b"a"), (fb, b"b")):
    f.write(text + b"\n"); f.flush(); print(f.readline().decode().strip(), flush=True)
c = socket.create_connection(("127.0.0.1", port))
c.settimeout(10)
try:
    print("third:", "closed" if c.recv(10) == b"" else "data")
except ConnectionResetError:
    print("third: reset")
fa.write(b"still\n"); fa.flush(); print(fa.readline().decode().strip())
'@
        try {
            $peer = Start-PythonPeer $client -Arguments "$($job.Port)"
            $lines = (Wait-PythonPeer $peer) -split "`n"
            $lines[0..1] | Should -Be 're:a', 're:b'
            $lines[2] | Should -BeIn 'third: reset', 'third: closed'
            $lines[3] | Should -Be 're:still'
            $job.Statistics.Refused | Should -Be 1
            $job | Stop-Job
            $null = $job | Receive-Job -WarningVariable warnings -WarningAction SilentlyContinue
            "$warnings" | Should -BeLike '*-MaxConnections*'
        }
        finally { Stop-PythonPeer $peer; Remove-TestServerJob $job }
    }
}

Describe 'Start-TcpServer -MaxConnections, stopped with Ctrl+C' {
    It 'still warns with the refused total when Ctrl+C ends a server in the console' {
        $exe = [Environment]::ProcessPath
        $info = [Diagnostics.ProcessStartInfo]::new($exe)
        if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { $info.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
        foreach ($a in '-NoProfile', '-NonInteractive', '-Command', "Import-Module '$NetCmdletsModulePath'; Start-TcpServer -Port 0 -MaxConnections 1 -InformationAction Continue | Out-Null") {
            $info.ArgumentList.Add($a)
        }
        $info.UseShellExecute = $false
        $info.RedirectStandardOutput = $true
        $info.RedirectStandardError = $true
        $pwsh = [Diagnostics.Process]::Start($info)
        $held = $null
        try {
            $first = $pwsh.StandardOutput.ReadLineAsync()
            $first.Wait([timespan]::FromSeconds(30)) | Should -BeTrue -Because 'the server says where it listens'
            $port = [int]($first.Result -replace '.*:(\d+)\s*$', '$1')
            $held = New-TestTcpClient $port
            Send-TestLines $held 'hello'
            foreach ($i in 1..2) {
                # Refused with a reset, which may come before the connect has even returned.
                $end = try {
                    $refused = New-TestTcpClient $port
                    try { Get-TestTcpEnd $refused } finally { $refused.Dispose() }
                }
                catch { 'reset' }
                $end | Should -BeIn 'reset', 'closed'
            }
            # Ctrl+C, as a console user presses it.
            kill -INT $pwsh.Id
            $rest = $pwsh.StandardOutput.ReadToEndAsync()
            $pwsh.WaitForExit(30000) | Should -BeTrue
            $rest.Result | Should -BeLike '*2 client(s) were refused in all because -MaxConnections*'
        }
        finally {
            if ($held) { $held.Dispose() }
            if (-not $pwsh.HasExited) { $pwsh.Kill($true) }
            $pwsh.Dispose()
        }
    }
}

Describe 'Start-TcpServer -MaxBufferedBytes' {
    BeforeAll {
        # 32 peers each send 0.95 MiB with no line feed and hold it there; then a well-behaved client asks.
        $script:Hoarders = @'
import socket, sys
port, count = int(sys.argv[1]), int(sys.argv[2])
held, closed = [], 0
for i in range(count):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    try:
        s.sendall(b"x" * (970 * 1024))
        held.append(s)
    except OSError:
        closed += 1
good = socket.create_connection(("127.0.0.1", port), timeout=20)
good.sendall(b"ping\n")
reply = good.makefile("rb").readline().decode().strip()
print(reply, closed, flush=True)
# Holds its connections until the test has looked, and stops it.
import time
time.sleep(60)
'@
    }

    It 'keeps the bytes held in unfinished lines of many peers inside the budget, closing the largest holders with an error, and serves others' {
        $job = Start-TcpServer -Port 0 -AsJob -MaxBufferedBytes 8MB -Handler { if ($_.Text -eq 'ping') { 'pong' } }
        $peer = $null
        try {
            $peer = Start-PythonPeer $script:Hoarders -Arguments $job.Port, 32 -TimeoutSec 60
            ($peer.Ready -split ' ')[0] | Should -Be 'pong' -Because 'a client that sends whole lines is served while others hoard'
            # Each unfinished line is held in a buffer of 1 MiB: 8 fit in 8 MiB, the others are closed.
            Wait-TestCondition { $job.Statistics.BufferLimitClosed -ge 24 } -TimeoutSec 30 | Should -BeTrue -Because "$($job.Statistics.BufferLimitClosed) were closed"
            $job.Statistics.PeakBufferedBytes | Should -BeLessOrEqual (8MB + 2MB) -Because 'the budget bounds the sum, up to the one read that went over it'
            $job.Statistics.BufferedBytes | Should -BeLessOrEqual 8MB
            $job | Stop-Job
            $null = $job | Receive-Job -ErrorVariable failures -ErrorAction SilentlyContinue
            $overBudget = @($failures | Where-Object FullyQualifiedErrorId -like 'BufferLimitExceeded*')
            $overBudget.Count | Should -BeGreaterOrEqual 24
            Assert-NetError $overBudget[0] -Id 'BufferLimitExceeded' -Category LimitsExceeded -TargetLike '127.0.0.1:*'
            "$($overBudget[0])" | Should -BeLike '*over its limit of 8,388,608 bytes (set by -MaxBufferedBytes)*'
        }
        finally {
            Stop-PythonPeer $peer
            Remove-TestServerJob $job
        }
    }
}

Describe 'Start-TcpServer -Allow and -Deny' {
    It 'lets in only the allowed range, refuses a denied address inside it, and counts each refusal' {
        # 127.0.0.2 and 127.0.0.3 are loopback too: the clients bind to them as their source.
        $job = Start-TcpServer -Port 0 -AsJob -Allow 127.0.0.0/30 -Deny 127.0.0.3 -Handler { "re:$($_.Text) from $($_.RemoteEndPoint.Address)" }
        $client = @'
import socket, sys
port = int(sys.argv[1])
def talk(source):
    s = socket.create_connection(("127.0.0.1", port), source_address=(source, 0))
    s.settimeout(10)
    try:
        s.sendall(b"hi\n")
        data = s.makefile("rb").readline().decode().strip()
        return data or "refused"
    except (ConnectionResetError, BrokenPipeError):
        return "refused"
print("ready", flush=True)
for source in ("127.0.0.2", "127.0.0.3", "127.0.0.9"):
    print(source, talk(source), flush=True)
'@
        try {
            $peer = Start-PythonPeer $client -Arguments "$($job.Port)" -TimeoutSec 30
            (Wait-PythonPeer $peer) -split "`n" | Should -Be '127.0.0.2 re:hi from 127.0.0.2', '127.0.0.3 refused', '127.0.0.9 refused'
            $job.Statistics.Denied | Should -Be 2
            # The warnings are taken by the job's pump after the refusals are counted: wait for them before stopping it.
            Wait-TestCondition { $job.Warning.Count -ge 2 } | Should -BeTrue
            $job | Stop-Job
            $null = $job | Receive-Job -WarningVariable warnings -WarningAction SilentlyContinue
            @($warnings | Where-Object { "$_" -like 'Refused a client from*' }).Count | Should -Be 2
        }
        finally { Stop-PythonPeer $peer; Remove-TestServerJob $job }
    }

    It 'an entry that is not an address or range is a terminating InvalidAddressRange error' {
        { Start-TcpServer -Port 0 -Allow '10.0.0.0/33' -Count 1 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidAddressRange,*'
        { Start-TcpServer -Port 0 -Deny 'not-an-address' -Count 1 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidAddressRange,*'
    }
}

Describe 'The default maximum message length' {
    It 'ends a client that sends 1.2 MB without a line feed (the default limit is 1 MiB), while another is served' {
        $bg = Start-BackgroundCommand { Start-TcpServer -Port 0 -Count 2 -Handler { "re:$($_.Text)" } }
        $client = @'
import socket, sys
port = int(sys.argv[1])
print("ready", flush=True)
good = socket.create_connection(("127.0.0.1", port)); f = good.makefile("rwb")
f.write(b"tick\n"); f.flush(); f.readline()
flood = socket.create_connection(("127.0.0.1", port))
sent = 0
try:
    chunk = b"x" * 65536
    while sent < 4 * 1048576:
        flood.sendall(chunk); sent += len(chunk)
    flood.settimeout(10)
    end = "closed" if flood.recv(10) == b"" else "data"
except (ConnectionResetError, BrokenPipeError):
    end = "reset"
# Served still, after the flood was cut off.
f.write(b"tick\n"); f.flush(); print(f.readline().decode().strip())
print("flood:", end, sent >= 1048576)
'@
        try {
            $port = (Wait-Listening $bg).Port
            $peer = Start-PythonPeer $client -Arguments "$port"
            $lines = (Wait-PythonPeer $peer) -split "`n"
            $lines[0] | Should -Be 're:tick'
            $lines[1] | Should -Match '^flood: (closed|reset) True$'
            $result = Wait-BackgroundCommand $bg
            @($result.Output.Text) | Should -Be 'tick', 'tick'
            Assert-NetError $result.Errors[0] -Id 'FramingError.Line.MessageTooLong' -Category InvalidData -TargetLike '127.0.0.1:*'
        }
        finally { Stop-PythonPeer $peer; Stop-BackgroundCommand $bg }
    }
}
