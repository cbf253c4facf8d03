BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'Send-TcpMessage' {
    Context 'Sending' {
        It 'sends piped strings as lines over one connection, in order, and emits nothing' {
            $listener = New-TestTcpListener
            $peer = $null
            try {
                $port = $listener.LocalEndpoint.Port
                $output = 'first', 'grüße €', '', 'last' | Send-TcpMessage 127.0.0.1 $port
                $output | Should -BeNullOrEmpty -Because 'without -Receive or -PassThru nothing is emitted'

                # The messages were sent and the connection closed: they wait in the listener's backlog.
                $peer = Wait-TestAccept $listener
                $bytes = Read-TestToEnd $peer
                [System.Text.Encoding]::UTF8.GetString($bytes) | Should -BeExactly "first`ngrüße €`n`nlast`n"
                $listener.Pending() | Should -BeFalse -Because 'all messages go over one connection'
            }
            finally {
                if ($peer) { $peer.Dispose() }
                $listener.Stop()
            }
        }

        It 'sends an array given to -Message in order' {
            $listener = New-TestTcpListener
            $peer = $null
            try {
                Send-TcpMessage -ComputerName 127.0.0.1 -Port $listener.LocalEndpoint.Port -Message 'a', 'b', 'c'
                $peer = Wait-TestAccept $listener
                [System.Text.Encoding]::UTF8.GetString((Read-TestToEnd $peer)) | Should -BeExactly "a`nb`nc`n"
                $listener.Pending() | Should -BeFalse
            }
            finally {
                if ($peer) { $peer.Dispose() }
                $listener.Stop()
            }
        }

        It 'encodes with -Encoding unicode' {
            $listener = New-TestTcpListener
            $peer = $null
            try {
                'héllo €' | Send-TcpMessage 127.0.0.1 $listener.LocalEndpoint.Port -Encoding unicode
                $peer = Wait-TestAccept $listener
                $expected = [System.Text.Encoding]::Unicode.GetBytes("héllo €`n")
                (Read-TestToEnd $peer) -join ',' | Should -Be ($expected -join ',')
            }
            finally {
                if ($peer) { $peer.Dispose() }
                $listener.Stop()
            }
        }

        It 'resolves the name localhost' {
            $listener = New-TestTcpListener
            $peer = $null
            try {
                'by name' | Send-TcpMessage localhost $listener.LocalEndpoint.Port -ErrorVariable failed
                $failed | Should -BeNullOrEmpty
                $peer = Wait-TestAccept $listener
                [System.Text.Encoding]::UTF8.GetString((Read-TestToEnd $peer)) | Should -BeExactly "by name`n"
            }
            finally {
                if ($peer) { $peer.Dispose() }
                $listener.Stop()
            }
        }

        It '-PassThru emits each sent message' {
            $listener = New-TestTcpListener
            $peer = $null
            try {
                $port = $listener.LocalEndpoint.Port
                $sent = 'one', 'two' | Send-TcpMessage 127.0.0.1 $port -PassThru
                $sent | Should -HaveCount 2
                foreach ($m in $sent) {
                    $m.psobject.BaseObject | Should -BeOfType ([NetCmdlets.Core.Messages.TcpMessage])
                    "$($m.Direction)" | Should -Be 'Sent'
                    $m.RemoteEndPoint.ToString() | Should -Be "127.0.0.1:$port"
                }
                $sent.Text | Should -Be @('one', 'two')
                ($sent[1].Data -join ',') | Should -Be '116,119,111'
                $sent[1].ConnectionId | Should -Be $sent[0].ConnectionId
                $peer = Wait-TestAccept $listener
                [System.Text.Encoding]::UTF8.GetString((Read-TestToEnd $peer)) | Should -BeExactly "one`ntwo`n"
            }
            finally {
                if ($peer) { $peer.Dispose() }
                $listener.Stop()
            }
        }
    }

    Context '-Receive' {
        It 'emits one reply per message, as TcpMessage objects, in order' {
            $server = Start-TestEchoServer -Lines 3 -Prefix 're:'
            try {
                $replies = 'a', 'bb', 'ccc' | Send-TcpMessage 127.0.0.1 $server.Port -Receive
                $replies | Should -HaveCount 3
                foreach ($r in $replies) {
                    $r.psobject.BaseObject | Should -BeOfType ([NetCmdlets.Core.Messages.TcpMessage])
                    "$($r.Direction)" | Should -Be 'Received'
                    $r.RemoteEndPoint.ToString() | Should -Be "127.0.0.1:$($server.Port)"
                }
                $replies.Text | Should -Be @('re:a', 're:bb', 're:ccc')
                ($replies[0].Data -join ',') | Should -Be '114,101,58,97'
                $replies[0].Length | Should -Be 4
                @($replies.ConnectionId | Select-Object -Unique) | Should -HaveCount 1
                (Wait-BackgroundCommand $server).Output | Should -Be @('a', 'bb', 'ccc')
            }
            finally {
                Stop-BackgroundCommand $server
            }
        }

        It 'with -PassThru emits each sent message followed by its reply' {
            $server = Start-TestEchoServer -Lines 2 -Prefix 'ok:'
            try {
                $out = 'x', 'y' | Send-TcpMessage 127.0.0.1 $server.Port -Receive -PassThru
                ($out | ForEach-Object { "$($_.Direction):$($_.Text)" }) | Should -Be @('Sent:x', 'Received:ok:x', 'Sent:y', 'Received:ok:y')
            }
            finally {
                Stop-BackgroundCommand $server
            }
        }

        It 'decodes replies with -Encoding' {
            $bg = Start-BackgroundCommand { Start-TcpServer -Port 0 -Count 1 -Encoding unicode -Handler { "réponse:$($_.Text)" } }
            try {
                $port = (Wait-Listening $bg).Port
                $reply = 'ça' | Send-TcpMessage 127.0.0.1 $port -Receive -Encoding unicode
                $reply.Text | Should -BeExactly 'réponse:ça'
                ($reply.Data -join ',') | Should -Be ([System.Text.Encoding]::Unicode.GetBytes('réponse:ça') -join ',')
                (Wait-BackgroundCommand $bg).Output.Text | Should -BeExactly 'ça'
            }
            finally {
                Stop-BackgroundCommand $bg
            }
        }

        It 'gets replies from Start-TcpServer -Handler' {
            $bg = Start-BackgroundCommand { Start-TcpServer -Port 0 -Count 3 -Handler { $_.Text.ToUpper() } }
            try {
                $port = (Wait-Listening $bg).Port
                $replies = 'abc', 'déf', 'x' | Send-TcpMessage 127.0.0.1 $port -Receive
                $replies.Text | Should -Be @('ABC', 'DÉF', 'X')
                (Wait-BackgroundCommand $bg).Output.Text | Should -Be @('abc', 'déf', 'x')
            }
            finally {
                Stop-BackgroundCommand $bg
            }
        }
    }

    Context 'Errors' {
        It 'ConnectionRefused when nothing listens, once for all piped messages, and $? is false' {
            $port = Get-UnusedTcpPort
            $out = 'a', 'b', 'c' | Send-TcpMessage 127.0.0.1 $port -ErrorVariable failures -ErrorAction SilentlyContinue
            $succeeded = $?
            $succeeded | Should -BeFalse
            $out | Should -BeNullOrEmpty
            $failures | Should -HaveCount 1
            Assert-NetError $failures[0] -Id 'ConnectionRefused' -Category ConnectionError -TargetLike "127.0.0.1:$port"
        }

        It 'NameNotResolved for a name that does not exist, and $? is false' {
            $name = "no-such-host-$([guid]::NewGuid().ToString('N').Substring(0, 8)).invalid"
            'a' | Send-TcpMessage $name 7 -TimeoutSec 10 -ErrorVariable failures -ErrorAction SilentlyContinue
            $succeeded = $?
            $succeeded | Should -BeFalse
            $failures | Should -HaveCount 1
            Assert-NetError $failures[0] -Id 'NameNotResolved' -Category ObjectNotFound -TargetLike "$name*"
        }

        It 'ReceiveTimeout when the server accepts but never replies, and $? is false' {
            $listener = New-TestTcpListener
            try {
                $port = $listener.LocalEndpoint.Port
                $clock = [System.Diagnostics.Stopwatch]::StartNew()
                $out = 'hello?', 'anyone?' | Send-TcpMessage 127.0.0.1 $port -Receive -TimeoutSec 0.5 -ErrorVariable failures -ErrorAction SilentlyContinue
                $succeeded = $?
                $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
                $succeeded | Should -BeFalse
                $out | Should -BeNullOrEmpty
                $failures | Should -HaveCount 1
                Assert-NetError $failures[0] -Id 'ReceiveTimeout' -Category OperationTimeout -TargetLike "127.0.0.1:$port"
            }
            finally {
                $listener.Stop()
            }
        }

        It 'SendTimeout when the server stops reading, instead of a hang, and $? is false' {
            $listener = New-TestTcpListener
            try {
                $port = $listener.LocalEndpoint.Port
                # 64 MiB cannot fit in the socket buffers of a peer that never reads.
                $big = 'x' * 64MB
                $clock = [System.Diagnostics.Stopwatch]::StartNew()
                Send-TcpMessage 127.0.0.1 $port -Message $big -TimeoutSec 1 -ErrorVariable failures -ErrorAction SilentlyContinue
                $succeeded = $?
                $clock.Elapsed.TotalSeconds | Should -BeLessThan 10
                $succeeded | Should -BeFalse
                $failures | Should -HaveCount 1
                Assert-NetError $failures[0] -Id 'SendTimeout' -Category OperationTimeout -TargetLike "127.0.0.1:$port"
            }
            finally {
                $listener.Stop()
            }
        }

        It 'ConnectTimeout when the server does not complete the connection in time, and $? is false' {
            # A listener with a backlog of 1 that never accepts: once its accept queue is full, Linux
            # drops further SYNs, so the next connect waits (the way a host behind a firewall does).
            $listener = [System.Net.Sockets.Socket]::new([System.Net.Sockets.AddressFamily]::InterNetwork, [System.Net.Sockets.SocketType]::Stream, [System.Net.Sockets.ProtocolType]::Tcp)
            $fillers = [System.Collections.Generic.List[System.Net.Sockets.Socket]]::new()
            try {
                $listener.Bind([System.Net.IPEndPoint]::new([ipaddress]::Loopback, 0))
                $listener.Listen(1)
                $endPoint = $listener.LocalEndPoint
                $full = $false
                for ($i = 0; $i -lt 16 -and -not $full; $i++) {
                    $filler = [System.Net.Sockets.Socket]::new([System.Net.Sockets.AddressFamily]::InterNetwork, [System.Net.Sockets.SocketType]::Stream, [System.Net.Sockets.ProtocolType]::Tcp)
                    $fillers.Add($filler)
                    # A connect that does not complete within 0.3 s means the queue is full.
                    $full = -not $filler.ConnectAsync($endPoint).Wait(300)
                }
                if (-not $full) {
                    Set-ItResult -Inconclusive -Because 'this system accepted 16 connections into a backlog of 1, so a connect cannot be made to time out here'
                    return
                }

                $clock = [System.Diagnostics.Stopwatch]::StartNew()
                'never sent' | Send-TcpMessage 127.0.0.1 $endPoint.Port -TimeoutSec 0.5 -ErrorVariable failures -ErrorAction SilentlyContinue
                $succeeded = $?
                $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
                $succeeded | Should -BeFalse
                $failures | Should -HaveCount 1
                Assert-NetError $failures[0] -Id 'ConnectTimeout' -Category OperationTimeout -TargetLike "127.0.0.1:$($endPoint.Port)"
            }
            finally {
                foreach ($filler in $fillers) { $filler.Dispose() }
                $listener.Dispose()
            }
        }

        It 'ConnectionClosed when the server closes instead of replying, and $? is false' {
            $listener = New-TestTcpListener
            $bg = Start-BackgroundCommand -Parameters @{ Listener = $listener } {
                param($Listener)
                # Reads the first line, then closes without a reply.
                $accept = $Listener.AcceptTcpClientAsync()
                if (-not $accept.Wait(10000)) { throw 'No client connected.' }
                $client = $accept.Result
                $client.ReceiveTimeout = 10000
                try { [System.IO.StreamReader]::new($client.GetStream()).ReadLine() } finally { $client.Dispose() }
            }
            try {
                $port = $listener.LocalEndpoint.Port
                'a', 'b' | Send-TcpMessage 127.0.0.1 $port -Receive -TimeoutSec 10 -ErrorVariable failures -ErrorAction SilentlyContinue
                $succeeded = $?
                $succeeded | Should -BeFalse
                $failures | Should -HaveCount 1
                Assert-NetError $failures[0] -Id 'ConnectionClosed' -Category ConnectionError -TargetLike "127.0.0.1:$port"
            }
            finally {
                Stop-BackgroundCommand $bg
                $listener.Stop()
            }
        }
    }
}
