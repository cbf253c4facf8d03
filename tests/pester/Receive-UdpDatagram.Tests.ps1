BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'Receive-UdpDatagram' {
    BeforeEach {
        $sender = New-TestUdpClient
        $bg = $null
    }

    AfterEach {
        $sender.Dispose()
        Stop-BackgroundCommand $bg
    }

    It 'emits each datagram as a UdpDatagram with its text, exact bytes, length, endpoints and time' {
        $bg = Start-BackgroundCommand { Receive-UdpDatagram -Port 0 -Count 3 }
        $listening = Wait-Listening $bg
        $port = $listening.Port
        $port | Should -BeGreaterThan 0
        $listening.LocalEndPoint.Port | Should -Be $port
        $before = Get-Date
        Send-TestDatagram $sender $port ([System.Text.Encoding]::UTF8.GetBytes('hello'))
        Send-TestDatagram $sender $port ([System.Text.Encoding]::UTF8.GetBytes("grüße €`r`nsecond line"))
        Send-TestDatagram $sender $port ([byte[]]@())
        $result = Wait-BackgroundCommand $bg
        $after = Get-Date

        $result.Failure | Should -BeNullOrEmpty
        $datagrams = $result.Output
        $datagrams | Should -HaveCount 3
        foreach ($d in $datagrams) {
            $d.psobject.BaseObject | Should -BeOfType ([NetCmdlets.Core.Messages.UdpDatagram])
            "$($d.Direction)" | Should -Be 'Received'
            $d.RemoteEndPoint.ToString() | Should -Be $sender.Client.LocalEndPoint.ToString()
            $d.LocalEndPoint.ToString() | Should -Be "127.0.0.1:$port"
            $d.Timestamp | Should -BeOfType ([datetime])
            $d.Timestamp | Should -BeGreaterOrEqual $before
            $d.Timestamp | Should -BeLessOrEqual $after
        }
        $datagrams[0].Text | Should -BeExactly 'hello'
        $datagrams[1].Text | Should -BeExactly "grüße €`r`nsecond line" -Because 'a datagram is one message, line breaks and all'
        $expected = [System.Text.Encoding]::UTF8.GetBytes("grüße €`r`nsecond line")
        ($datagrams[1].Data -join ',') | Should -Be ($expected -join ',')
        $datagrams[1].Length | Should -Be $expected.Length
        $datagrams[2].Length | Should -Be 0
        $datagrams[2].Text | Should -BeExactly ''
    }

    It 'keeps the exact bytes of binary datagrams' {
        $bg = Start-BackgroundCommand { Receive-UdpDatagram -Port 0 -Count 1 }
        $port = (Wait-Listening $bg).Port
        $bytes = [byte[]](0, 255, 128, 10, 13, 0xC3)
        Send-TestDatagram $sender $port $bytes
        $d = (Wait-BackgroundCommand $bg).Output[0]
        ($d.Data -join ',') | Should -Be ($bytes -join ',')
        $d.Length | Should -Be 6
    }

    It 'receives what Send-UdpDatagram sends, in order' {
        $bg = Start-BackgroundCommand { Receive-UdpDatagram -Port 0 -Count 3 }
        $port = (Wait-Listening $bg).Port
        'x', 'y', 'z' | Send-UdpDatagram 127.0.0.1 $port
        (Wait-BackgroundCommand $bg).Output.Text | Should -Be @('x', 'y', 'z')
    }

    It 'listens on ::1 with -LocalAddress ::1' {
        $bg = Start-BackgroundCommand { Receive-UdpDatagram -Port 0 -LocalAddress ::1 -Count 1 }
        $listening = Wait-Listening $bg
        $listening.LocalEndPoint.Address | Should -Be ([ipaddress]::IPv6Loopback)
        $sender6 = [System.Net.Sockets.UdpClient]::new([System.Net.IPEndPoint]::new([ipaddress]::IPv6Loopback, 0))
        try {
            $bytes = [System.Text.Encoding]::ASCII.GetBytes('over ipv6')
            $null = $sender6.Send($bytes, $bytes.Length, [System.Net.IPEndPoint]::new([ipaddress]::IPv6Loopback, $listening.Port))
            $d = (Wait-BackgroundCommand $bg).Output
            $d.Text | Should -BeExactly 'over ipv6'
            $d.RemoteEndPoint.ToString() | Should -Be $sender6.Client.LocalEndPoint.ToString()
        }
        finally {
            $sender6.Dispose()
        }
    }

    It 'decodes with -Encoding <Encoding>' -ForEach @(
        @{ Encoding = 'unicode'; Text = 'héllo wörld €'; Dotnet = 'utf-16' }
        @{ Encoding = 'latin1'; Text = 'café ñandú ÿ'; Dotnet = 'iso-8859-1' }
    ) {
        $bg = Start-BackgroundCommand -Parameters @{ Encoding = $Encoding } {
            param($Encoding)
            Receive-UdpDatagram -Port 0 -Count 1 -Encoding $Encoding
        }
        $port = (Wait-Listening $bg).Port
        $wire = [System.Text.Encoding]::GetEncoding($Dotnet)
        Send-TestDatagram $sender $port $wire.GetBytes($Text)
        $d = (Wait-BackgroundCommand $bg).Output[0]
        $d.Text | Should -BeExactly $Text
        ($d.Data -join ',') | Should -Be ($wire.GetBytes($Text) -join ',')
    }

    Context 'Stopping and freeing the port' {
        It '-Count stops after that many datagrams and frees the port' {
            $bg = Start-BackgroundCommand { Receive-UdpDatagram -Port 0 -Count 2 }
            $port = (Wait-Listening $bg).Port
            foreach ($text in 'd1', 'd2', 'd3', 'd4') { Send-TestDatagram $sender $port ([System.Text.Encoding]::ASCII.GetBytes($text)) }
            $result = Wait-BackgroundCommand $bg
            $result.State | Should -Be 'Completed'
            $result.Output.Text | Should -Be @('d1', 'd2')
            { Assert-UdpPortFree $port } | Should -Not -Throw
        }

        It '-TimeoutSec stops it when the time is up and frees the port' {
            $bg = Start-BackgroundCommand { Receive-UdpDatagram -Port 0 -TimeoutSec 1 }
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $port = (Wait-Listening $bg).Port
            Send-TestDatagram $sender $port ([System.Text.Encoding]::ASCII.GetBytes('in time'))
            $result = Wait-BackgroundCommand $bg
            $clock.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 0.9
            $result.State | Should -Be 'Completed'
            $result.Failure | Should -BeNullOrEmpty
            $result.Output.Text | Should -Be 'in time'
            { Assert-UdpPortFree $port } | Should -Not -Throw
        }

        It '-TimeoutSec with nothing arriving returns nothing' {
            $datagrams = Receive-UdpDatagram -Port 0 -TimeoutSec 0.3 -InformationVariable listening
            $datagrams | Should -BeNullOrEmpty
            $port = $listening[0].MessageData.Port
            $port | Should -BeGreaterThan 0
            { Assert-UdpPortFree $port } | Should -Not -Throw
        }

        It 'Select-Object -First stops it and frees the port' {
            $bg = Start-BackgroundCommand { Receive-UdpDatagram -Port 0 | Select-Object -First 2 }
            $port = (Wait-Listening $bg).Port
            foreach ($text in 'd1', 'd2', 'd3') { Send-TestDatagram $sender $port ([System.Text.Encoding]::ASCII.GetBytes($text)) }
            $result = Wait-BackgroundCommand $bg
            $result.Failure | Should -BeNullOrEmpty
            $result.Output.Text | Should -Be @('d1', 'd2')
            { Assert-UdpPortFree $port } | Should -Not -Throw
        }

        It 'stopping the pipeline ends it within a second and frees the port' {
            $bg = Start-BackgroundCommand { Receive-UdpDatagram -Port 0 }
            $port = (Wait-Listening $bg).Port
            Send-TestDatagram $sender $port ([System.Text.Encoding]::ASCII.GetBytes('one'))
            $null = Wait-BackgroundOutput $bg 1
            $stopTook = Stop-BackgroundCommand $bg
            $bg = $null
            $stopTook.TotalSeconds | Should -BeLessThan 1.5
            { Assert-UdpPortFree $port } | Should -Not -Throw
        }
    }

    Context 'Errors' {
        It 'a port in use is a terminating AddressInUse error naming the endpoint' {
            $port = $sender.Client.LocalEndPoint.Port
            $caught = $null
            $reached = $false
            try {
                Receive-UdpDatagram -Port $port -TimeoutSec 1 -ErrorAction SilentlyContinue
                $reached = $true
            }
            catch {
                $caught = $_
            }
            $reached | Should -BeFalse
            Assert-NetError $caught -Id 'AddressInUse' -Category ResourceBusy -TargetLike "127.0.0.1:$port"
        }
    }
}
