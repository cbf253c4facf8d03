BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'Send-UdpDatagram' {
    BeforeEach {
        $receiver = New-TestUdpClient
        $port = $receiver.Client.LocalEndPoint.Port
    }

    AfterEach {
        $receiver.Dispose()
    }

    It 'sends one datagram per piped message, in order, from one socket, and emits nothing' {
        $out = 'first', 'grüße €', 'third' | Send-UdpDatagram 127.0.0.1 $port
        $out | Should -BeNullOrEmpty
        $got = 1..3 | ForEach-Object { Receive-TestDatagram $receiver }
        ($got | ForEach-Object { [System.Text.Encoding]::UTF8.GetString($_.Data) }) | Should -Be @('first', 'grüße €', 'third')
        @($got.RemoteEndPoint | ForEach-Object ToString | Select-Object -Unique) | Should -HaveCount 1 -Because 'one invocation sends from one socket'
        $receiver.Available | Should -Be 0 -Because 'no more datagrams than messages'
    }

    It 'sends each string of -Message as its own datagram, an empty one included' {
        Send-UdpDatagram -ComputerName 127.0.0.1 -Port $port -Message 'a', '', 'c'
        $got = 1..3 | ForEach-Object { Receive-TestDatagram $receiver }
        ($got | ForEach-Object { $_.Data.Length }) | Should -Be @(1, 0, 1)
        ($got | ForEach-Object { [System.Text.Encoding]::UTF8.GetString($_.Data) }) | Should -Be @('a', '', 'c')
    }

    It 'sends the bytes of -Data exactly' {
        $bytes = [byte[]](0, 1, 2, 10, 13, 127, 128, 254, 255)
        Send-UdpDatagram 127.0.0.1 $port -Data $bytes
        (Receive-TestDatagram $receiver).Data -join ',' | Should -Be ($bytes -join ',')
    }

    It 'encodes with -Encoding unicode' {
        'héllo €' | Send-UdpDatagram 127.0.0.1 $port -Encoding unicode
        (Receive-TestDatagram $receiver).Data -join ',' | Should -Be ([System.Text.Encoding]::Unicode.GetBytes('héllo €') -join ',')
    }

    It 'forwards the Data of a piped UdpDatagram, byte for byte' {
        $other = New-TestUdpClient
        try {
            # Bytes that are not valid UTF-8: forwarding them as text would change them.
            $bytes = [byte[]](0xFF, 0xFE, 0x00, 0x80, 0x0A, 0xC3)
            $datagram = Send-UdpDatagram 127.0.0.1 $other.Client.LocalEndPoint.Port -Data $bytes -PassThru
            $datagram.psobject.BaseObject | Should -BeOfType ([NetCmdlets.Core.Messages.UdpDatagram])
            $null = Receive-TestDatagram $other

            $datagram | Send-UdpDatagram 127.0.0.1 $port
            (Receive-TestDatagram $receiver).Data -join ',' | Should -Be ($bytes -join ',')
        }
        finally {
            $other.Dispose()
        }
    }

    It 'forwards datagrams received by Receive-UdpDatagram' {
        $bg = Start-BackgroundCommand -Parameters @{ Target = $port } {
            param($Target)
            Receive-UdpDatagram -Port 0 -Count 2 -TimeoutSec 10 | Send-UdpDatagram 127.0.0.1 $Target -PassThru
        }
        $sender = New-TestUdpClient
        try {
            $relayPort = (Wait-Listening $bg).Port
            Send-TestDatagram $sender $relayPort ([byte[]](1, 2, 3))
            Send-TestDatagram $sender $relayPort ([byte[]](0xFF, 10))
            (Receive-TestDatagram $receiver).Data -join ',' | Should -Be '1,2,3'
            (Receive-TestDatagram $receiver).Data -join ',' | Should -Be '255,10'
            $result = Wait-BackgroundCommand $bg
            $result.Errors | Should -BeNullOrEmpty
            $result.Output | Should -HaveCount 2
        }
        finally {
            $sender.Dispose()
            Stop-BackgroundCommand $bg
        }
    }

    It 'accepts -Broadcast' {
        'to everyone' | Send-UdpDatagram 127.0.0.1 $port -Broadcast -ErrorVariable failures
        $failures | Should -BeNullOrEmpty
        [System.Text.Encoding]::UTF8.GetString((Receive-TestDatagram $receiver).Data) | Should -BeExactly 'to everyone'
    }

    It '-PassThru emits each sent datagram' {
        $sent = 'one', 'two' | Send-UdpDatagram 127.0.0.1 $port -PassThru
        $got = 1..2 | ForEach-Object { Receive-TestDatagram $receiver }
        $sent | Should -HaveCount 2
        foreach ($d in $sent) {
            $d.psobject.BaseObject | Should -BeOfType ([NetCmdlets.Core.Messages.UdpDatagram])
            "$($d.Direction)" | Should -Be 'Sent'
            $d.RemoteEndPoint.ToString() | Should -Be "127.0.0.1:$port"
            $d.LocalEndPoint.Port | Should -Be $got[0].RemoteEndPoint.Port -Because 'LocalEndPoint is where the datagram came from'
        }
        $sent.Text | Should -Be @('one', 'two')
        ($sent[1].Data -join ',') | Should -Be '116,119,111'
        $sent[1].Length | Should -Be 3
    }

    It 'NameNotResolved for a name that does not exist, and $? is false' {
        $name = "no-such-host-$([guid]::NewGuid().ToString('N').Substring(0, 8)).invalid"
        'a', 'b' | Send-UdpDatagram $name 9 -ErrorVariable failures -ErrorAction SilentlyContinue
        $succeeded = $?
        $succeeded | Should -BeFalse
        $failures | Should -HaveCount 1
        Assert-NetError $failures[0] -Id 'NameNotResolved' -Category ObjectNotFound -TargetLike "$name*"
    }
}

Describe 'Send-UdpDatagram -Receive' {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
    }

    It 'asks a Python DNS responder for an A record: binary in, binary out, the reply from the server' {
        $responder = @'
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
query, client = s.recvfrom(512)
ident, flags, qd = struct.unpack(">HHH", query[:6])
question = query[12:]
answer = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([192, 0, 2, 1])
s.sendto(struct.pack(">HHHHHH", ident, 0x8180, 1, 1, 0, 0) + question + answer, client)
'@
        $peer = Start-PythonPeer $responder
        try {
            $name = [byte[]]@(7) + [Text.Encoding]::ASCII.GetBytes('example') + [byte[]]@(4) + [Text.Encoding]::ASCII.GetBytes('test') + [byte[]]@(0)
            $query = [byte[]](0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0) + $name + [byte[]](0, 1, 0, 1)
            $reply = , $query | Send-UdpDatagram -ComputerName 127.0.0.1 -Port $peer.Ready -Receive
            $reply | Should -HaveCount 1
            $reply.Direction | Should -Be 'Received'
            $reply.RemoteEndPoint.Port | Should -Be ([int]$peer.Ready)
            $reply.Data[0..1] | Should -Be 0x12, 0x34
            ($reply.Data[3] -band 0x0F) | Should -Be 0 -Because 'the response code is NOERROR'
            $reply.Data[-4..-1] | Should -Be 192, 0, 2, 1
        }
        finally { Stop-PythonPeer $peer }
    }

    It 'waits for -Count replies to each datagram' {
        $responder = @'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
for _ in range(2):
    data, client = s.recvfrom(512)
    s.sendto(b"first " + data, client); s.sendto(b"second " + data, client)
'@
        $peer = Start-PythonPeer $responder
        try {
            $replies = 'a', 'b' | Send-UdpDatagram -ComputerName 127.0.0.1 -Port $peer.Ready -Receive -Count 2
            $replies.Text | Should -Be 'first a', 'second a', 'first b', 'second b'
        }
        finally { Stop-PythonPeer $peer }
    }

    It 'a reply that never comes is a ReceiveTimeout error, and $? is false' {
        $silent = @'
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
time.sleep(30)
'@
        $peer = Start-PythonPeer $silent
        try {
            'hello?' | Send-UdpDatagram -ComputerName 127.0.0.1 -Port $peer.Ready -Receive -TimeoutSec 0.5 -ErrorVariable failures -ErrorAction SilentlyContinue
            $? | Should -BeFalse
            Assert-NetError $failures[0] -Id 'ReceiveTimeout' -Category OperationTimeout -TargetLike "127.0.0.1:$($peer.Ready)"
        }
        finally { Stop-PythonPeer $peer }
    }

    It 'a port where nothing listens answers with ICMP: ConnectionRefused at once, not a wait' {
        $port = Get-UnusedTcpPort
        'hello?' | Send-UdpDatagram -ComputerName 127.0.0.1 -Port $port -Receive -TimeoutSec 30 -ErrorVariable failures -ErrorAction SilentlyContinue
        $? | Should -BeFalse
        Assert-NetError $failures[0] -Id 'ConnectionRefused' -Category ConnectionError -TargetLike "127.0.0.1:$port"
    }
}
