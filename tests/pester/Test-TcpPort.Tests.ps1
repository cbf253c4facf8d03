# Test-TcpPort against listeners that are not the module: plain .NET sockets (open, full backlog) and a
# Python server that greets, with names that do and do not resolve.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    function New-FullBacklog {
        <#
        .SYNOPSIS
        A loopback listener that never accepts, its backlog filled until a connection attempt no longer
        completes at once: the kernel drops further attempts. Port, Listener, Fillers (the connections
        that filled it; the last is the one left waiting). Dispose with Remove-FullBacklog.
        #>
        $listener = [Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
        $listener.Bind([Net.IPEndPoint]::new([Net.IPAddress]::Loopback, 0))
        $listener.Listen(1)
        $port = $listener.LocalEndPoint.Port
        $fillers = [Collections.Generic.List[Net.Sockets.Socket]]::new()
        for ($i = 0; $i -lt 16; $i++) {
            $filler = [Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
            $filler.Blocking = $false
            $fillers.Add($filler)
            try { $filler.Connect($listener.LocalEndPoint); continue } catch [Net.Sockets.SocketException] { }
            # Asked of the kernel, not of a task the thread pool must first run: on a loaded machine a
            # connect that went through cannot look like one left waiting.
            if (-not $filler.Poll(500000, 'SelectWrite')) {
                return [pscustomobject]@{ Port = $port; Listener = $listener; Fillers = $fillers }
            }
        }
        throw "the listener's backlog never filled"
    }

    function Remove-FullBacklog {
        param([Parameter(Position = 0)] $Backlog)
        if ($null -eq $Backlog) { return }
        $Backlog.Fillers | ForEach-Object { $_.Dispose() }
        $Backlog.Listener.Dispose()
    }
}

Describe 'Test-TcpPort' {
    It 'finds exactly the ports the test opened in the range around them; the others are Refused' {
        # On a loopback address of its own (127.0.0.7), in a short run of ports next to each other: the
        # other tests' servers, on 127.0.0.1, cannot be in it.
        $address = [Net.IPAddress]::Parse('127.0.0.7')
        $listeners = [Collections.Generic.List[Net.Sockets.TcpListener]]::new()
        while ($listeners.Count -lt 3) {
            $port = if ($listeners.Count -eq 0) { 0 } else { $listeners[0].LocalEndpoint.Port + 2 * $listeners.Count }
            $listener = [Net.Sockets.TcpListener]::new($address, $port)
            try { $listener.Start(); $listeners.Add($listener) }
            catch [Net.Sockets.SocketException] { $listeners | ForEach-Object { $_.Stop() }; $listeners.Clear() }
        }
        try {
            $ports = @($listeners | ForEach-Object { $_.LocalEndpoint.Port } | Sort-Object)
            $results = @(Test-TcpPort -ComputerName 127.0.0.7 -Port (($ports[0] - 2)..($ports[-1] + 2)))
            $results | Should -HaveCount ($ports[-1] - $ports[0] + 5)
            @($results | Where-Object Open | ForEach-Object Port | Sort-Object) | Should -Be $ports
            $closed = @($results | Where-Object { -not $_.Open })
            # Other programs may listen in between; what is not open here is refused, never timed out.
            @($closed | Where-Object Status -ne 'Refused') | Should -BeNullOrEmpty
            $open = $results | Where-Object Open | Select-Object -First 1
            $open.RemoteAddress | Should -Be '127.0.0.7'
            $open.Latency | Should -BeOfType [timespan]
        }
        finally { $listeners | ForEach-Object { $_.Stop() } }
    }

    It 'reports a port whose backlog is full as TimedOut, after the open and refused ones it was tested with' {
        # A listener that never accepts, its backlog filled: the kernel drops further connection attempts.
        $full = $null
        $open = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $open.Start()
        $refusedPort = Get-UnusedTcpPort
        try {
            $full = New-FullBacklog
            $fullPort = $full.Port
            $results = @(Test-TcpPort -ComputerName 127.0.0.1 -Port $fullPort, $open.LocalEndpoint.Port, $refusedPort -TimeoutSec 1)
            $results | Should -HaveCount 3
            $results[-1].Port | Should -Be $fullPort -Because 'the others answered first, without waiting for it'
            $results[-1].Status | Should -Be 'TimedOut'
            ($results | Where-Object Port -EQ $open.LocalEndpoint.Port).Status | Should -Be 'Open'
            ($results | Where-Object Port -EQ $refusedPort).Status | Should -Be 'Refused'
        }
        finally {
            Remove-FullBacklog $full
            $open.Stop()
        }
    }

    It 'closes the connects still waiting when a later command has what it needs (Select-Object -First 1)' -Skip:(-not $IsLinux) {
        # A port whose backlog is full keeps a connect to it waiting (SYN_SENT) until its time limit.
        $full = $null
        $open = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $open.Start()
        try {
            $full = New-FullBacklog
            $fullPort = $full.Port
            # SYN_SENT (state 02) sockets to the full port, from /proc/net/tcp.
            $waiting = { @(Get-Content /proc/net/tcp | Where-Object { $_ -match ('^\s*\d+:\s+\S+\s+0100007F:{0:X4}\s+02\s' -f $fullPort) }).Count }
            $full.Fillers[-1].Dispose()
            $null = Wait-TestCondition { (& $waiting) -eq 0 }
            $first = Test-TcpPort -ComputerName 127.0.0.1 -Port (@($fullPort) * 5 + $open.LocalEndpoint.Port) -TimeoutSec 120 -ThrottleLimit 10 | Select-Object -First 1
            $first.Status | Should -Be 'Open'
            Wait-TestCondition { (& $waiting) -eq 0 } | Should -BeTrue -Because 'the five connects to the full port were closed when Test-TcpPort stopped, not left for two minutes'
        }
        finally {
            Remove-FullBacklog $full
            $open.Stop()
        }
    }

    It 'says NameNotResolved for every port of a name that does not resolve, and -Quiet answers in the order given' {
        $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $listener.Start()
        try {
            $port = $listener.LocalEndpoint.Port
            $results = @(Test-TcpPort -ComputerName 'no-such-host.invalid' -Port $port, ($port + 1))
            $results.Status | Should -Be 'NameNotResolved', 'NameNotResolved'
            $results | ForEach-Object { $_.RemoteAddress | Should -BeNullOrEmpty }
            Test-TcpPort -ComputerName 'no-such-host.invalid', 127.0.0.1, localhost -Port $port -Quiet | Should -Be $false, $true, $true
        }
        finally { $listener.Stop() }
    }

    It 'takes ComputerName and Port from piped objects, such as the rows of a CSV' {
        $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $listener.Start()
        try {
            $targets = "ComputerName,Port`n127.0.0.1,$($listener.LocalEndpoint.Port)`n127.0.0.1,$(Get-UnusedTcpPort)" | ConvertFrom-Csv
            $results = @($targets | Test-TcpPort)
            @($results | Sort-Object Open -Descending).Open | Should -Be $true, $false
        }
        finally { $listener.Stop() }
    }

    It '-ReadBanner keeps what a Python server says first; a server that waits for the client has no banner' {
        $server = @'
import socket, threading
greeter = socket.socket(); greeter.bind(("127.0.0.1", 0)); greeter.listen(8)
silent = socket.socket(); silent.bind(("127.0.0.1", 0)); silent.listen(8)
print(greeter.getsockname()[1], silent.getsockname()[1], flush=True)
def greet():
    while True:
        c, _ = greeter.accept(); c.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian\r\n"); c.close()
threading.Thread(target=greet, daemon=True).start()
import time; time.sleep(30)
'@
        $peer = Start-PythonPeer $server
        try {
            $greeterPort, $silentPort = $peer.Ready -split ' '
            $results = @(Test-TcpPort -ComputerName 127.0.0.1 -Port $greeterPort, $silentPort -ReadBanner -TimeoutSec 1)
            ($results | Where-Object Port -EQ $greeterPort).Banner | Should -Be 'SSH-2.0-OpenSSH_9.2p1 Debian'
            $quiet = $results | Where-Object Port -EQ $silentPort
            $quiet.Status | Should -Be 'Open'
            $quiet.Banner | Should -BeNullOrEmpty
        }
        finally { Stop-PythonPeer $peer }
    }
}
