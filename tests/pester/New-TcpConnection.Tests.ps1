BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $utf8 = [System.Text.UTF8Encoding]::new($false)
}

Describe 'New-TcpConnection' {
    AfterEach {
        Close-TestTcpConnection
        Remove-TestServerJob
    }

    Context 'The connection' {
        BeforeEach {
            $listener = New-TestTcpListener
            $port = $listener.LocalEndpoint.Port
            $peer = $null
        }

        AfterEach {
            if ($peer) { $peer.Dispose() }
            $listener.Stop()
        }

        It 'returns an open client TcpConnection with its Id, endpoints, counters and ConnectedAt' {
            $before = Get-Date
            $connection = New-TcpConnection -ComputerName 127.0.0.1 -Port $port
            $after = Get-Date
            $peer = Wait-TestAccept $listener

            $connection | Should -HaveCount 1
            $connection.psobject.BaseObject | Should -BeOfType ([NetCmdlets.Core.Tcp.TcpConnection])
            $connection.Id | Should -BeGreaterThan 0
            $connection.Role | Should -Be 'Client'
            $connection.State | Should -Be 'Open'
            $connection.RemoteEndPoint.ToString() | Should -Be "127.0.0.1:$port"
            $connection.LocalEndPoint.ToString() | Should -Be $peer.Client.RemoteEndPoint.ToString()
            $connection.ConnectedAt | Should -BeOfType ([datetime])
            $connection.ConnectedAt | Should -BeGreaterOrEqual $before
            $connection.ConnectedAt | Should -BeLessOrEqual $after
            $connection.MessagesSent | Should -Be 0
            $connection.BytesSent | Should -Be 0
            $connection.MessagesReceived | Should -Be 0
            $connection.BytesReceived | Should -Be 0
            $connection.PendingSendBytes | Should -Be 0
        }

        It 'gives each connection a new, higher Id' {
            $first = New-TcpConnection 127.0.0.1 $port
            $second = New-TcpConnection 127.0.0.1 $port
            $second.Id | Should -BeGreaterThan $first.Id
            $second.LocalEndPoint.ToString() | Should -Not -Be $first.LocalEndPoint.ToString()
        }

        It 'resolves the name localhost' {
            $connection = New-TcpConnection -ComputerName localhost -Port $port
            $connection.State | Should -Be 'Open'
            $connection.RemoteEndPoint.ToString() | Should -Be "127.0.0.1:$port" -Because 'only 127.0.0.1 listens, so the name''s addresses are tried until it answers'
        }

        It 'Send-TcpMessage takes the connection by value, by property name and with -Connection, and leaves it open' {
            $connection = New-TcpConnection 127.0.0.1 $port
            $peer = Wait-TestAccept $listener
            $connection | Send-TcpMessage -Message 'by value'
            [pscustomobject]@{ Connection = $connection } | Send-TcpMessage -Message 'by property name'
            Send-TcpMessage -Connection $connection -Message 'with', '-Connection'
            'piped', 'strings' | Send-TcpMessage -Connection $connection
            Read-TestLines $peer 6 | Should -Be @('by value', 'by property name', 'with', '-Connection', 'piped', 'strings')
            $connection.State | Should -Be 'Open'
            $connection.MessagesSent | Should -Be 6
        }

        It 'encodes and decodes with its -Encoding' {
            $connection = New-TcpConnection 127.0.0.1 $port -Encoding latin1
            $peer = Wait-TestAccept $listener
            Send-TcpMessage -Connection $connection -Message 'café'
            (Read-TestBytes $peer 5) -join ',' | Should -Be '99,97,102,233,10'
            Send-TestBytes $peer ([byte[]](0xF1, 0x61, 10))
            (Receive-TcpMessage -Connection $connection).Text | Should -BeExactly 'ña'
        }
    }

    Context 'Request and reply' {
        It 'carries 1,000 exchanges of Send-TcpMessage -Receive in order, and counts them' {
            $server = Start-TestEchoServer -Lines 1000 -Prefix 're:'
            try {
                $connection = New-TcpConnection 127.0.0.1 $server.Port
                $wrong = [System.Collections.Generic.List[string]]::new()
                $bytesOut = $bytesIn = 0
                for ($i = 0; $i -lt 1000; $i++) {
                    $reply = Send-TcpMessage -Connection $connection -Message "m$i" -Receive
                    if ($reply.Text -cne "re:m$i") { $wrong.Add("$i -> $($reply.Text)") }
                    $bytesOut += "m$i".Length + 1
                    $bytesIn += "re:m$i".Length + 1
                }
                $wrong | Should -BeNullOrEmpty -Because 'each request gets its own reply, in order'
                $connection.MessagesSent | Should -Be 1000
                $connection.MessagesReceived | Should -Be 1000
                $connection.BytesSent | Should -Be $bytesOut
                $connection.BytesReceived | Should -Be $bytesIn
                (Wait-BackgroundCommand $server).Output | Should -HaveCount 1000
                # The server has closed its side: the connection says so before anyone reads the end.
                Wait-TestCondition { $connection.State -eq 'PeerClosed' } | Should -BeTrue -Because "the state is $($connection.State)"
                Get-TcpConnection -Id $connection.Id | Should -Be $connection
            }
            finally {
                Stop-BackgroundCommand $server
            }
        }

        It 'carries 1,000 exchanges of Send-TcpMessage then Receive-TcpMessage with a server job, in order' {
            $job = Start-TcpServer -Port 0 -AsJob -Handler { "re:$($_.Text)" }
            $connection = New-TcpConnection 127.0.0.1 $job.Port
            $wrong = [System.Collections.Generic.List[string]]::new()
            for ($i = 0; $i -lt 1000; $i++) {
                Send-TcpMessage -Connection $connection -Message "m$i"
                $reply = Receive-TcpMessage -Connection $connection
                if ($reply.Text -cne "re:m$i") { $wrong.Add("$i -> $($reply.Text)") }
            }
            $wrong | Should -BeNullOrEmpty
            $null = Wait-TestCondition { $job.Statistics.MessagesSent -ge 1000 }
            $job.Statistics.MessagesReceived | Should -Be 1000
            $job.Statistics.MessagesSent | Should -Be 1000
            $job.Statistics.ConnectionsTotal | Should -Be 1
        }
    }

    Context 'Errors' {
        It 'ConnectionRefused when nothing listens: no output, $? is false, nothing is listed' {
            $port = Get-UnusedTcpPort
            $connection = New-TcpConnection 127.0.0.1 $port -ErrorVariable failures -ErrorAction SilentlyContinue
            $succeeded = $?
            $succeeded | Should -BeFalse
            $connection | Should -BeNullOrEmpty
            $failures | Should -HaveCount 1
            Assert-NetError $failures[0] -Id 'ConnectionRefused' -Category ConnectionError -TargetLike "127.0.0.1:$port"
            Get-TcpConnection | Should -BeNullOrEmpty
        }

        It 'NameNotResolved for a name that does not exist, and $? is false' {
            $name = "no-such-host-$([guid]::NewGuid().ToString('N').Substring(0, 8)).invalid"
            $connection = New-TcpConnection $name 7 -TimeoutSec 10 -ErrorVariable failures -ErrorAction SilentlyContinue
            $succeeded = $?
            $succeeded | Should -BeFalse
            $connection | Should -BeNullOrEmpty
            $failures | Should -HaveCount 1
            Assert-NetError $failures[0] -Id 'NameNotResolved' -Category ObjectNotFound -TargetLike "$name*"
        }
    }
}
