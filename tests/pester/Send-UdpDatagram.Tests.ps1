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
