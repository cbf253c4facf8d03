# -UnixSocket on Send-TcpMessage, New-TcpConnection, Test-TcpPort and Start-TcpServer, against socat,
# nc -U and Python on UNIX domain sockets: paths and abstract names, stale and live socket files, the
# file's mode and removal, the peer's credentials, TLS over a UNIX socket, and the errors.
# Tagged PowerShell7: the netstandard2.0 build has no UNIX sockets.
BeforeDiscovery {
    $script:haveSocat = [bool](Get-Command socat -CommandType Application -ErrorAction Ignore)
    $script:haveNc = [bool](Get-Command nc -CommandType Application -ErrorAction Ignore)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    # A short path in a folder of its own: a socket path holds at most 107 bytes.
    $script:folder = Join-Path ([IO.Path]::GetTempPath()) "nc-ux-$PID"
    $null = New-Item -ItemType Directory -Path $folder -Force
    $script:n = 0
    function New-SocketPath { $script:n++; Join-Path $folder "s$n.sock" }

    function Wait-SocketFile {
        param([string] $Path, $Process)
        Wait-TestCondition { (Test-Path $Path) -or $Process.HasExited } | Should -BeTrue
        $Process.HasExited | Should -BeFalse -Because "the peer should be listening on $Path"
    }

    function Stop-Peer {
        param($Process)
        if ($Process -and -not $Process.HasExited) { $Process.Kill($true); $null = $Process.WaitForExit(5000) }
    }
}

AfterAll {
    Remove-Item $folder -Recurse -Force -ErrorAction Ignore
}

Describe 'UNIX socket clients' -Tag PowerShell7 -Skip:(-not $haveSocat) {
    AfterEach {
        Close-TestTcpConnection
    }

    It 'Send-TcpMessage -UnixSocket talks to socat UNIX-LISTEN, and shows the socket as the remote endpoint' {
        $path = New-SocketPath
        $socat = Start-Process socat -ArgumentList "UNIX-LISTEN:$path,fork", 'EXEC:cat' -PassThru
        try {
            Wait-SocketFile $path $socat
            $replies = @(Send-TcpMessage -UnixSocket $path -Message 'one', 'two' -Receive)
            $replies.Text | Should -Be 'one', 'two'
            "$($replies[0].RemoteEndPoint)" | Should -Be "unix:$path"
            $replies[0].RemoteEndPoint.Address | Should -Be $path
            $replies[0].RemoteEndPoint.Port | Should -Be 0
        }
        finally { Stop-Peer $socat }
    }

    It 'New-TcpConnection -UnixSocket holds a conversation with a Python server that speaks first' {
        $path = New-SocketPath
        $server = Start-PythonPeer @"
import socket
l = socket.socket(socket.AF_UNIX); l.bind('$path'); l.listen(1)
print('ready', flush=True)
c, _ = l.accept()
c.sendall(b'hello from python\n')
f = c.makefile('rb')
for line in f:
    c.sendall(b'got ' + line)
"@
        try {
            $connection = New-TcpConnection -UnixSocket $path
            "$($connection.RemoteEndPoint)" | Should -Be "unix:$path"
            (Receive-TcpMessage -Connection $connection).Text | Should -Be 'hello from python'
            (Send-TcpMessage -Connection $connection -Message 'ping' -Receive).Text | Should -Be 'got ping'
            $connection | Close-TcpConnection
        }
        finally { Stop-PythonPeer $server }
    }

    It 'connects to a Linux abstract name with a leading @' {
        $name = "netcmdlets-test-$PID-$(Get-Random)"
        $socat = Start-Process socat -ArgumentList "ABSTRACT-LISTEN:$name,fork", 'EXEC:cat' -PassThru
        try {
            Wait-TestCondition { (Test-TcpPort -UnixSocket "@$name").Open } | Should -BeTrue
            (Send-TcpMessage -UnixSocket "@$name" -Message 'abstract' -Receive).Text | Should -Be 'abstract'
        }
        finally { Stop-Peer $socat }
    }

    It 'says AddressNotAvailable for a path with no socket, and ConnectionRefused for a socket nobody listens on' {
        $missing = New-SocketPath
        Send-TcpMessage -UnixSocket $missing -Message 'x' -ErrorVariable none -ErrorAction SilentlyContinue
        Assert-NetError $none[0] -Id AddressNotAvailable -Category InvalidArgument -TargetLike "unix:$missing"
        $stale = New-SocketPath
        python3 -c "import socket; s = socket.socket(socket.AF_UNIX); s.bind('$stale'); s.close()"
        Send-TcpMessage -UnixSocket $stale -Message 'x' -ErrorVariable refused -ErrorAction SilentlyContinue
        Assert-NetError $refused[0] -Id ConnectionRefused -Category ConnectionError -TargetLike "unix:$stale"
    }

    It 'Send-TcpMessage -UnixSocket -Path sends a file whole, and its end as a half-close' {
        $path = New-SocketPath
        $source = New-TestFile 3MB
        $copy = Join-Path $folder 'copy.bin'
        $socat = Start-Process socat -ArgumentList '-u', "UNIX-LISTEN:$path", "CREATE:$copy" -PassThru
        try {
            Wait-SocketFile $path $socat
            $sent = Send-TcpMessage -UnixSocket $path -Path $source -PassThru
            $sent.Bytes | Should -Be 3MB
            # socat ends once it has read the half-close.
            $socat.WaitForExit(20000) | Should -BeTrue
            (Get-FileHash $copy).Hash | Should -Be (Get-FileHash $source).Hash
        }
        finally { Stop-Peer $socat; Remove-Item $source -ErrorAction Ignore }
    }

    It 'Test-TcpPort -UnixSocket says Open, Refused and NameNotResolved' {
        $open = New-SocketPath
        $socat = Start-Process socat -ArgumentList "UNIX-LISTEN:$open,fork", 'EXEC:cat' -PassThru
        try {
            Wait-SocketFile $open $socat
            $stale = New-SocketPath
            python3 -c "import socket; s = socket.socket(socket.AF_UNIX); s.bind('$stale'); s.close()"
            $missing = New-SocketPath
            $results = @(Test-TcpPort -UnixSocket $open, $stale, $missing)
            ($results | Where-Object ComputerName -EQ $open).Status | Should -Be 'Open'
            ($results | Where-Object ComputerName -EQ $stale).Status | Should -Be 'Refused'
            ($results | Where-Object ComputerName -EQ $missing).Status | Should -Be 'NameNotResolved'
        }
        finally { Stop-Peer $socat }
    }
}

Describe 'Start-TcpServer -UnixSocket' -Tag PowerShell7 {
    AfterEach {
        Remove-TestServerJob
    }

    It 'answers socat and nc -U clients, and knows each peer''s process and user' -Skip:(-not ($haveSocat -and $haveNc)) {
        $path = New-SocketPath
        $server = Start-TcpServer -UnixSocket $path -AsJob -Handler { "$($_.Text) from uid $($_.PeerCredential.UserId)" }
        $server.UnixSocket | Should -Be $path
        $server.Port | Should -Be 0
        Test-Path $path | Should -BeTrue
        $uid = (id -u)
        'socat line' | socat - "UNIX-CONNECT:$path" | Should -Be "socat line from uid $uid"
        'nc line' | nc -U -q 1 $path | Should -Be "nc line from uid $uid"
        $client = Start-PythonPeer @"
import os, socket
s = socket.socket(socket.AF_UNIX); s.connect('$path')
print(os.getpid(), flush=True)
s.sendall(b'python\n'); print(s.makefile('rb').readline().decode().strip())
"@
        try {
            Wait-PythonPeer $client | Should -Be "python from uid $uid"
        }
        finally { Stop-PythonPeer $client }
        Wait-TestCondition { $server.Statistics.MessagesReceived -ge 3 } | Should -BeTrue
        $messages = @($server | Receive-Job)
        $fromPython = $messages | Where-Object Text -EQ 'python'
        $fromPython.PeerCredential.ProcessId | Should -Be ([int]$client.Ready)
        $fromPython.PeerCredential.UserId | Should -Be ([int]$uid)
        $fromPython.PeerCredential.GroupId | Should -Be ([int](id -g))
        "$($fromPython.LocalEndPoint)" | Should -Be "unix:$path"
    }

    It 'removes its socket file when it stops, as a job and in the foreground' {
        $path = New-SocketPath
        $server = Start-TcpServer -UnixSocket $path -AsJob
        Test-Path $path | Should -BeTrue
        $server | Stop-Job
        Test-Path $path | Should -BeFalse
        $foreground = New-SocketPath
        $background = Start-BackgroundCommand { param($p) Start-TcpServer -UnixSocket $p -Count 1 } -Parameters @{ p = $foreground }
        try {
            Wait-TestCondition { Test-Path $foreground } | Should -BeTrue
            $null = Send-TcpMessage -UnixSocket $foreground -Message 'last'
            $output = Wait-BackgroundCommand $background
            $output.Output.Text | Should -Be 'last'
            Test-Path $foreground | Should -BeFalse
        }
        finally { Stop-BackgroundCommand $background }
    }

    It 'replaces a stale socket file, and refuses a live one and a file that is no socket' {
        $path = New-SocketPath
        python3 -c "import socket; s = socket.socket(socket.AF_UNIX); s.bind('$path'); s.close()"
        Test-Path $path | Should -BeTrue
        $server = Start-TcpServer -UnixSocket $path -AsJob -Handler { 'fresh' }
        (Send-TcpMessage -UnixSocket $path -Message 'x' -Receive).Text | Should -Be 'fresh'
        { Start-TcpServer -UnixSocket $path -Count 1 -ErrorAction Stop } | Should -Throw -ErrorId 'AddressInUse,NetCmdlets.Commands.StartTcpServerCommand'
        $file = New-SocketPath
        Set-Content -Path $file -Value 'keep me'
        { Start-TcpServer -UnixSocket $file -Count 1 -ErrorAction Stop } | Should -Throw -ErrorId 'AddressInUse,NetCmdlets.Commands.StartTcpServerCommand'
        Get-Content $file | Should -Be 'keep me'
    }

    It 'sets the socket file''s mode with -UnixSocketMode' {
        $path = New-SocketPath
        $null = Start-TcpServer -UnixSocket $path -UnixSocketMode 600 -AsJob
        (Get-Item $path).UnixFileMode | Should -Be ([IO.UnixFileMode]'UserRead, UserWrite')
        { Start-TcpServer -UnixSocket (New-SocketPath) -UnixSocketMode 999 -Count 1 } | Should -Throw
    }

    It 'listens on an abstract name, with no file, for socat ABSTRACT-CONNECT' -Skip:(-not $haveSocat) {
        $name = "netcmdlets-server-$PID-$(Get-Random)"
        $server = Start-TcpServer -UnixSocket "@$name" -AsJob -Handler { "abstract $($_.Text)" }
        $server.UnixSocket | Should -Be "@$name"
        'hi' | socat - "ABSTRACT-CONNECT:$name" | Should -Be 'abstract hi'
    }

    It 'speaks TLS over a UNIX socket, module to module' {
        $cert = New-TlsCertificate
        $path = New-SocketPath
        $server = Start-TcpServer -UnixSocket $path -Certificate $cert -AsJob -Handler { "tls $($_.Text)" }
        $reply = Send-TcpMessage -UnixSocket $path -TrustedCertificate $cert -Message 'secret' -Receive
        $reply.Text | Should -Be 'tls secret'
    }
}

Describe 'Start-TcpProxy and UNIX sockets' -Tag PowerShell7 -Skip:(-not $haveSocat) {
    AfterEach {
        Remove-TestServerJob
    }

    It 'puts a UNIX socket server on a port with -RemoteUnixSocket, and shows what passes' {
        $path = New-SocketPath
        $socat = Start-Process socat -ArgumentList "UNIX-LISTEN:$path,fork", 'EXEC:cat' -PassThru
        try {
            Wait-SocketFile $path $socat
            $proxy = Start-TcpProxy -Port 0 -RemoteUnixSocket $path -AsJob
            (Send-TcpMessage -ComputerName 127.0.0.1 -Port $proxy.Port -Message 'through' -Receive).Text | Should -Be 'through'
            Wait-TestCondition { @($proxy.Output | Where-Object Direction -EQ ServerToClient).Count -ge 1 } | Should -BeTrue
            $back = @($proxy.Output | Where-Object Direction -EQ ServerToClient)[0]
            $back.Text | Should -Be 'through'
        }
        finally { Stop-Peer $socat }
    }

    It 'listens on a UNIX socket with -UnixSocket for socat clients, forwarding to a TCP server' {
        $server = Start-TcpServer -Port 0 -AsJob -Handler { "tcp got $($_.Text)" }
        $path = New-SocketPath
        $proxy = Start-TcpProxy -UnixSocket $path -ComputerName 127.0.0.1 -RemotePort $server.Port -Quiet -AsJob
        $proxy.UnixSocket | Should -Be $path
        'over unix' | socat - "UNIX-CONNECT:$path" | Should -Be 'tcp got over unix'
        $proxy | Stop-Job
        Test-Path $path | Should -BeFalse
    }

    It 'says InvalidUpstream for both a host and a UNIX socket, or for neither' {
        { Start-TcpProxy -Port 0 -ComputerName 127.0.0.1 -RemotePort 9 -RemoteUnixSocket /tmp/x.sock -Count 1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidUpstream,NetCmdlets.Commands.StartTcpProxyCommand'
        { Start-TcpProxy -Port 0 -Count 1 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidUpstream,NetCmdlets.Commands.StartTcpProxyCommand'
    }
}

Describe 'UNIX datagram sockets' -Tag PowerShell7 {
    It 'Receive-UdpDatagram -UnixSocket takes what logger sends, and removes its socket file at the end' -Skip:(-not (Get-Command logger -ErrorAction Ignore)) {
        $path = New-SocketPath
        $background = Start-BackgroundCommand { param($p) Receive-UdpDatagram -UnixSocket $p -Count 2 -TimeoutSec 20 } -Parameters @{ p = $path }
        try {
            Wait-TestCondition { Test-Path $path } | Should -BeTrue
            logger --socket $path --rfc3164 --tag netcmdlets-test 'first line'
            logger --socket $path --rfc3164 --tag netcmdlets-test 'second line'
            $result = Wait-BackgroundCommand $background
            $result.Output.Count | Should -Be 2
            $result.Output[0].Text | Should -BeLike '<*>*netcmdlets-test*: first line'
            $result.Output[1].Text | Should -BeLike '*second line'
            "$($result.Output[0].LocalEndPoint)" | Should -Be "unix:$path"
            Test-Path $path | Should -BeFalse
        }
        finally { Stop-BackgroundCommand $background }
    }

    It 'Send-UdpDatagram -UnixSocket sends to a Python datagram socket and, with -Receive, gets its answer at a name of its own' {
        $path = New-SocketPath
        $peer = Start-PythonPeer @"
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind('$path')
print('ready', flush=True)
while True:
    d, a = s.recvfrom(65536)
    if a: s.sendto(b'echo ' + d, a)
    if d == b'stop': break
"@
        try {
            $reply = Send-UdpDatagram -UnixSocket $path -Message 'hello' -Receive
            $reply.Text | Should -Be 'echo hello'
            "$($reply.RemoteEndPoint)" | Should -Be "unix:$path"
            $own = $reply.LocalEndPoint.Address
            $own | Should -BeLike '*netcmdlets-*.sock'
            Test-Path $own | Should -BeFalse -Because 'the reply socket goes when the cmdlet is done'
            (Send-UdpDatagram -UnixSocket $path -Message 'stop' -PassThru).Text | Should -Be 'stop'
        }
        finally { Stop-PythonPeer $peer }
    }

    It 'says AddressNotAvailable for a path with no socket' {
        $missing = New-SocketPath
        Send-UdpDatagram -UnixSocket $missing -Message 'x' -ErrorVariable none -ErrorAction SilentlyContinue
        Assert-NetError $none[0] -Id AddressNotAvailable -Category InvalidArgument -TargetLike "unix:$missing"
    }
}

# Only on the netstandard2.0 build (the suite's second run): -UnixSocket is an error of its own there.
Describe 'UNIX sockets on the Windows PowerShell build' -Skip:($env:NETCMDLETS_FRAMEWORK -ne 'netstandard2.0') {
    It 'says UnixSocketNotSupported for every cmdlet that takes -UnixSocket' {
        $path = New-SocketPath
        Send-TcpMessage -UnixSocket $path -Message 'x' -ErrorVariable send -ErrorAction SilentlyContinue
        ($send[0].FullyQualifiedErrorId -split ',')[0] | Should -Be 'UnixSocketNotSupported'
        New-TcpConnection -UnixSocket $path -ErrorVariable connect -ErrorAction SilentlyContinue
        ($connect[0].FullyQualifiedErrorId -split ',')[0] | Should -Be 'UnixSocketNotSupported'
        Send-UdpDatagram -UnixSocket $path -Message 'x' -ErrorVariable datagram -ErrorAction SilentlyContinue
        ($datagram[0].FullyQualifiedErrorId -split ',')[0] | Should -Be 'UnixSocketNotSupported'
        { Start-TcpServer -UnixSocket $path -Count 1 -ErrorAction Stop } | Should -Throw -ErrorId 'UnixSocketNotSupported,NetCmdlets.Commands.StartTcpServerCommand'
        (Test-TcpPort -UnixSocket $path -ErrorAction SilentlyContinue).Status | Should -Be 'Unreachable'
        Test-Path $path | Should -BeFalse
    }
}
