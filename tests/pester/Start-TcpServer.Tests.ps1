BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'Start-TcpServer' {
    Context 'Received messages' {
        It 'emits each line as a TcpMessage with its text, exact bytes, length, endpoints, time and connection' {
            $bg = Start-BackgroundCommand { Start-TcpServer -Port 0 -Count 2 }
            $client = $null
            try {
                $listening = Wait-Listening $bg
                $listening.Port | Should -BeGreaterThan 0
                $listening.LocalEndPoint.Port | Should -Be $listening.Port
                $before = Get-Date
                $client = New-TestTcpClient $listening.Port
                Send-TestLines $client 'hello', 'grüße €'
                $result = Wait-BackgroundCommand $bg
                $after = Get-Date

                $result.Failure | Should -BeNullOrEmpty
                $result.Errors | Should -BeNullOrEmpty
                $messages = $result.Output
                $messages | Should -HaveCount 2
                foreach ($m in $messages) { $m.psobject.BaseObject | Should -BeOfType ([NetCmdlets.Core.Messages.TcpMessage]) }

                $messages[0].Text | Should -BeExactly 'hello'
                $messages[1].Text | Should -BeExactly 'grüße €'
                $expected = [System.Text.Encoding]::UTF8.GetBytes('grüße €')
                ($messages[1].Data -join ',') | Should -Be ($expected -join ',')
                $messages[0].Length | Should -Be 5
                $messages[1].Length | Should -Be $expected.Length

                $clientEnd = $client.Client.LocalEndPoint
                foreach ($m in $messages) {
                    $m.RemoteEndPoint.ToString() | Should -Be $clientEnd.ToString()
                    $m.LocalEndPoint.ToString() | Should -Be "127.0.0.1:$($listening.Port)"
                    $m.Timestamp | Should -BeOfType ([datetime])
                    $m.Timestamp | Should -BeGreaterOrEqual $before
                    $m.Timestamp | Should -BeLessOrEqual $after
                    $m.Connection | Should -BeOfType ([NetCmdlets.Core.Tcp.TcpConnection])
                    $m.ConnectionId | Should -Be $m.Connection.Id
                    $m.Connection.RemoteEndPoint.ToString() | Should -Be $clientEnd.ToString()
                }
                $messages[1].ConnectionId | Should -Be $messages[0].ConnectionId
            }
            finally {
                if ($client) { $client.Dispose() }
                Stop-BackgroundCommand $bg
            }
        }

        It 'splits lines ended by CRLF and by LF alike, empty lines included' {
            $bg = Start-BackgroundCommand { Start-TcpServer -Port 0 -Count 5 }
            $client = $null
            try {
                $port = (Wait-Listening $bg).Port
                $client = New-TestTcpClient $port
                Send-TestBytes $client ([System.Text.Encoding]::ASCII.GetBytes("crlf`r`nlf`n`r`n`nlast`r`n"))
                $messages = (Wait-BackgroundCommand $bg).Output
                $messages.Text | Should -Be @('crlf', 'lf', '', '', 'last')
                ($messages | ForEach-Object Length) | Should -Be @(4, 2, 0, 0, 4)
                ($messages[0].Data -join ',') | Should -Be '99,114,108,102' -Because 'the CR before the LF is not part of the message'
            }
            finally {
                if ($client) { $client.Dispose() }
                Stop-BackgroundCommand $bg
            }
        }

        It 'emits the text after the last line feed when the client closes' {
            $bg = Start-BackgroundCommand { Start-TcpServer -Port 0 -Count 2 }
            $client = $null
            try {
                $port = (Wait-Listening $bg).Port
                $client = New-TestTcpClient $port
                Send-TestBytes $client ([System.Text.Encoding]::ASCII.GetBytes("first`nunterminated"))
                $client.Client.Shutdown([System.Net.Sockets.SocketShutdown]::Send)
                (Wait-BackgroundCommand $bg).Output.Text | Should -Be @('first', 'unterminated')
            }
            finally {
                if ($client) { $client.Dispose() }
                Stop-BackgroundCommand $bg
            }
        }

        It 'receives a line far longer than one read whole' {
            $bg = Start-BackgroundCommand { Start-TcpServer -Port 0 -Count 2 }
            $client = $null
            try {
                $port = (Wait-Listening $bg).Port
                $client = New-TestTcpClient $port
                $long = -join (0..49999 | ForEach-Object { [char](97 + $_ % 26) })
                Send-TestLines $client $long, 'after'
                $messages = (Wait-BackgroundCommand $bg).Output
                $messages | Should -HaveCount 2
                $messages[0].Length | Should -Be 50000
                $messages[0].Text | Should -BeExactly $long
                $messages[1].Text | Should -BeExactly 'after'
            }
            finally {
                if ($client) { $client.Dispose() }
                Stop-BackgroundCommand $bg
            }
        }

        It 'tells connections apart by ConnectionId and RemoteEndPoint' {
            $bg = Start-BackgroundCommand { Start-TcpServer -Port 0 -Count 4 }
            $first = $second = $null
            try {
                $port = (Wait-Listening $bg).Port
                $first = New-TestTcpClient $port
                $second = New-TestTcpClient $port
                Send-TestLines $first 'one-a'
                Send-TestLines $second 'two-a'
                Send-TestLines $first 'one-b'
                Send-TestLines $second 'two-b'
                $messages = (Wait-BackgroundCommand $bg).Output
                $messages | Should -HaveCount 4
                $groups = @($messages | Group-Object ConnectionId)
                $groups | Should -HaveCount 2
                foreach ($group in $groups) {
                    $texts = $group.Group.Text
                    $client = if ($texts[0] -like 'one-*') { $first } else { $second }
                    $prefix = $texts[0].Substring(0, 4)
                    $texts | Should -Be @("${prefix}a", "${prefix}b")
                    $group.Group.RemoteEndPoint | ForEach-Object ToString | Select-Object -Unique | Should -Be $client.Client.LocalEndPoint.ToString()
                }
            }
            finally {
                if ($first) { $first.Dispose() }
                if ($second) { $second.Dispose() }
                Stop-BackgroundCommand $bg
            }
        }

        It 'listens on ::1 with -LocalAddress ::1' {
            $bg = Start-BackgroundCommand { Start-TcpServer -Port 0 -LocalAddress ::1 -Count 1 }
            $client = $null
            try {
                $listening = Wait-Listening $bg
                $listening.LocalEndPoint.Address | Should -Be ([ipaddress]::IPv6Loopback)
                $client = [System.Net.Sockets.TcpClient]::new([System.Net.Sockets.AddressFamily]::InterNetworkV6)
                $client.ConnectAsync([ipaddress]::IPv6Loopback, $listening.Port).Wait([timespan]::FromSeconds($DefaultWaitSec)) | Should -BeTrue
                Send-TestLines $client 'over ipv6'
                $m = (Wait-BackgroundCommand $bg).Output
                $m.Text | Should -BeExactly 'over ipv6'
                $m.RemoteEndPoint.ToString() | Should -Be $client.Client.LocalEndPoint.ToString()
                $m.LocalEndPoint.ToString() | Should -Be "[::1]:$($listening.Port)"
            }
            finally {
                if ($client) { $client.Dispose() }
                Stop-BackgroundCommand $bg
            }
        }

        It 'ends a connection whose line exceeds -MaxMessageLength with a FramingError, and serves the others' {
            $bg = Start-BackgroundCommand { Start-TcpServer -Port 0 -MaxMessageLength 10 -Count 2 }
            $bad = $good = $null
            try {
                $port = (Wait-Listening $bg).Port
                $good = New-TestTcpClient $port
                Send-TestLines $good 'ok-1'
                $null = Wait-BackgroundOutput $bg 1
                $bad = New-TestTcpClient $port
                Send-TestLines $bad ('x' * 50)
                Read-TestToEnd $bad | Should -BeNullOrEmpty -Because 'the server ends the offending connection'
                Send-TestLines $good 'ok-2'
                $result = Wait-BackgroundCommand $bg
                $result.Failure | Should -BeNullOrEmpty
                $result.Output.Text | Should -Be @('ok-1', 'ok-2')
                $result.Errors | Should -HaveCount 1
                Assert-NetError $result.Errors[0] -Id 'FramingError.Line.MessageTooLong' -Category InvalidData -TargetLike $bad.Client.LocalEndPoint.ToString()
                # What a user needs to act on it: which connection, the limit, and the parameter that sets it.
                $text = "$($result.Errors[0])"
                $text | Should -BeLike "*$($bad.Client.LocalEndPoint)*"
                $text | Should -BeLike '*maximum message length of 10 bytes*'
                $text | Should -BeLike '*-MaxMessageLength*'
            }
            finally {
                if ($bad) { $bad.Dispose() }
                if ($good) { $good.Dispose() }
                Stop-BackgroundCommand $bg
            }
        }

        It 'decodes with -Encoding <Encoding>' -ForEach @(
            @{ Encoding = 'unicode'; Text = 'héllo wörld €'; Dotnet = 'utf-16' }
            @{ Encoding = 'latin1'; Text = 'café ñandú ÿ'; Dotnet = 'iso-8859-1' }
        ) {
            $bg = Start-BackgroundCommand -Parameters @{ Encoding = $Encoding } {
                param($Encoding)
                Start-TcpServer -Port 0 -Count 2 -Encoding $Encoding
            }
            $client = $null
            try {
                $port = (Wait-Listening $bg).Port
                $client = New-TestTcpClient $port
                $wire = [System.Text.Encoding]::GetEncoding($Dotnet)
                Send-TestLines $client $Text, 'second' -NewLine "`r`n" -Encoding $wire
                $messages = (Wait-BackgroundCommand $bg).Output
                $messages | Should -HaveCount 2
                $messages[0].Text | Should -BeExactly $Text
                ($messages[0].Data -join ',') | Should -Be ($wire.GetBytes($Text) -join ',')
                $messages[0].Length | Should -Be $wire.GetByteCount($Text)
                $messages[1].Text | Should -BeExactly 'second'
            }
            finally {
                if ($client) { $client.Dispose() }
                Stop-BackgroundCommand $bg
            }
        }
    }

    Context '-Handler' {
        It 'sends a string output back as a line' {
            $bg = Start-BackgroundCommand { Start-TcpServer -Port 0 -Count 2 -Handler { "echo:$($_.Text)" } }
            $client = $null
            try {
                $port = (Wait-Listening $bg).Port
                $client = New-TestTcpClient $port
                Send-TestLines $client 'ping'
                Read-TestLine $client | Should -BeExactly 'echo:ping'
                Send-TestLines $client 'grüße'
                Read-TestLine $client | Should -BeExactly 'echo:grüße'
                (Wait-BackgroundCommand $bg).Output | Should -HaveCount 2
            }
            finally {
                if ($client) { $client.Dispose() }
                Stop-BackgroundCommand $bg
            }
        }

        It 'sends every output of one call, each as a line, in order' {
            $bg = Start-BackgroundCommand { Start-TcpServer -Port 0 -Count 1 -Handler { 'one'; 'two'; 3 } }
            $client = $null
            try {
                $port = (Wait-Listening $bg).Port
                $client = New-TestTcpClient $port
                Send-TestLines $client 'go'
                $null = Wait-BackgroundCommand $bg
                [System.Text.Encoding]::UTF8.GetString((Read-TestToEnd $client)) | Should -BeExactly "one`ntwo`n3`n"
            }
            finally {
                if ($client) { $client.Dispose() }
                Stop-BackgroundCommand $bg
            }
        }

        It 'frames a byte array output as a line, and sends Outgoing::Raw bytes as they are' {
            $bg = Start-BackgroundCommand {
                Start-TcpServer -Port 0 -Count 2 -Handler {
                    if ($_.Text -eq 'raw') { , [byte[]](0, 1, 255); [NetCmdlets.Core.Messages.Outgoing]::Raw([byte[]](13, 10, 65)) } else { 'text' }
                }
            }
            $client = $null
            try {
                $port = (Wait-Listening $bg).Port
                $client = New-TestTcpClient $port
                Send-TestLines $client 'raw', 'line'
                $null = Wait-BackgroundCommand $bg
                # The bytes and a line feed, the raw bytes with nothing added, then the reply to 'line'.
                (Read-TestToEnd $client) -join ',' | Should -Be '0,1,255,10,13,10,65,116,101,120,116,10'
            }
            finally {
                if ($client) { $client.Dispose() }
                Stop-BackgroundCommand $bg
            }
        }

        It 'sends no reply when the handler outputs nothing' {
            $bg = Start-BackgroundCommand {
                Start-TcpServer -Port 0 -Count 3 -Handler { if ($_.Text -ne 'quiet') { "reply:$($_.Text)" } }
            }
            $client = $null
            try {
                $port = (Wait-Listening $bg).Port
                $client = New-TestTcpClient $port
                Send-TestLines $client 'quiet', 'loud'
                Read-TestLine $client | Should -BeExactly 'reply:loud' -Because 'the first line had no reply'
                Send-TestLines $client 'quiet'
                $null = Wait-BackgroundCommand $bg
                Read-TestToEnd $client | Should -BeNullOrEmpty -Because 'the last message had no reply either'
            }
            finally {
                if ($client) { $client.Dispose() }
                Stop-BackgroundCommand $bg
            }
        }

        It 'encodes replies with -Encoding' {
            $bg = Start-BackgroundCommand { Start-TcpServer -Port 0 -Count 1 -Encoding latin1 -Handler { "ñ$($_.Text)" } }
            $client = $null
            try {
                $port = (Wait-Listening $bg).Port
                $client = New-TestTcpClient $port
                Send-TestBytes $client ([byte[]](0xE9, 10))
                $null = Wait-BackgroundCommand $bg
                (Read-TestToEnd $client) -join ',' | Should -Be '241,233,10'
            }
            finally {
                if ($client) { $client.Dispose() }
                Stop-BackgroundCommand $bg
            }
        }

        It 'keeps the output of the cmdlet to the received messages' {
            $bg = Start-BackgroundCommand {
                Start-TcpServer -Port 0 -Count 3 -Handler { "reply:$($_.Text)"; , [byte[]](1, 2) }
            }
            $client = $null
            try {
                $port = (Wait-Listening $bg).Port
                $client = New-TestTcpClient $port
                Send-TestLines $client 'a', 'b', 'c'
                $result = Wait-BackgroundCommand $bg
                $result.Output | Should -HaveCount 3
                foreach ($m in $result.Output) { $m.psobject.BaseObject | Should -BeOfType ([NetCmdlets.Core.Messages.TcpMessage]) }
                $result.Output.Text | Should -Be @('a', 'b', 'c')
            }
            finally {
                if ($client) { $client.Dispose() }
                Stop-BackgroundCommand $bg
            }
        }

        It 'keeps state in the handler from one message to the next' {
            $bg = Start-BackgroundCommand { Start-TcpServer -Port 0 -Count 3 -Handler { $n++; "$n" } }
            $client = $null
            try {
                $port = (Wait-Listening $bg).Port
                $client = New-TestTcpClient $port
                Send-TestLines $client 'a', 'b', 'c'
                $null = Wait-BackgroundCommand $bg
                [System.Text.Encoding]::UTF8.GetString((Read-TestToEnd $client)) | Should -BeExactly "1`n2`n3`n"
            }
            finally {
                if ($client) { $client.Dispose() }
                Stop-BackgroundCommand $bg
            }
        }

        It 'reports a throwing handler as a non-terminating HandlerFailed error and keeps serving' {
            $bg = Start-BackgroundCommand {
                Start-TcpServer -Port 0 -Count 4 -Handler {
                    if ($_.Text -eq 'boom') { throw 'the handler broke' }
                    "ok:$($_.Text)"
                }
            }
            $client = $other = $null
            try {
                $port = (Wait-Listening $bg).Port
                $client = New-TestTcpClient $port
                Send-TestLines $client 'boom', 'after'
                Read-TestLine $client | Should -BeExactly 'ok:after'
                $other = New-TestTcpClient $port
                Send-TestLines $other 'boom', 'other'
                Read-TestLine $other | Should -BeExactly 'ok:other'
                $result = Wait-BackgroundCommand $bg

                $result.Failure | Should -BeNullOrEmpty -Because 'a handler failure must not end the server'
                $result.State | Should -Be 'Completed'
                $result.Output.Text | Should -Be @('boom', 'after', 'boom', 'other')
                $result.Errors | Should -HaveCount 2
                foreach ($e in $result.Errors) {
                    ($e.FullyQualifiedErrorId -split ',')[0] | Should -Be 'HandlerFailed'
                    "$e" | Should -BeLike '*the handler broke*'
                    $e.TargetObject.Text | Should -Be 'boom'
                }
            }
            finally {
                if ($client) { $client.Dispose() }
                if ($other) { $other.Dispose() }
                Stop-BackgroundCommand $bg
            }
        }
    }

    Context 'Conversations' {
        It 'a handler can answer and close its own connection (QUIT): the answer still arrives, then the end' {
            $job = Start-TcpServer -Port 0 -AsJob -Handler {
                if ($_.Text -eq 'QUIT') { '221 Bye'; $_.Connection | Close-TcpConnection } else { '250 OK' }
            }
            try {
                $client = New-TestTcpClient $job.Port
                Send-TestLines $client 'HELO x', 'QUIT'
                Read-TestLines $client 2 | Should -Be '250 OK', '221 Bye'
                Get-TestTcpEnd $client | Should -Be 'closed'
            }
            finally { if ($client) { $client.Dispose() }; Remove-TestServerJob $job }
        }

        It 'keeps state per connection in $_.Connection.Items, apart for each client' {
            $job = Start-TcpServer -Port 0 -AsJob -Handler { $_.Connection.Items['count'] += 1; "$($_.Connection.Items['count']) $($_.Text)" }
            try {
                $one = New-TestTcpClient $job.Port
                $two = New-TestTcpClient $job.Port
                Send-TestLines $one 'a', 'b'
                Read-TestLines $one 2 | Should -Be '1 a', '2 b'
                Send-TestLines $two 'c'
                Read-TestLine $two | Should -Be '1 c'
            }
            finally { $one, $two | Where-Object { $_ } | ForEach-Object { $_.Dispose() }; Remove-TestServerJob $job }
        }
    }

    Context 'Stopping and freeing the port' {
        It '-Count stops after that many messages and frees the port' {
            $bg = Start-BackgroundCommand { Start-TcpServer -Port 0 -Count 3 }
            $client = $null
            try {
                $port = (Wait-Listening $bg).Port
                $client = New-TestTcpClient $port
                Send-TestLines $client 'm1', 'm2', 'm3', 'm4', 'm5'
                $result = Wait-BackgroundCommand $bg
                $result.State | Should -Be 'Completed'
                $result.Output.Text | Should -Be @('m1', 'm2', 'm3')
                { Assert-TcpPortFree $port } | Should -Not -Throw
            }
            finally {
                if ($client) { $client.Dispose() }
                Stop-BackgroundCommand $bg
            }
        }

        It 'Select-Object -First 3 stops it after 3 messages and frees the port' {
            $bg = Start-BackgroundCommand { Start-TcpServer -Port 0 | Select-Object -First 3 }
            $client = $null
            try {
                $port = (Wait-Listening $bg).Port
                $client = New-TestTcpClient $port
                Send-TestLines $client 'm1', 'm2', 'm3', 'm4', 'm5'
                $result = Wait-BackgroundCommand $bg
                $result.Failure | Should -BeNullOrEmpty
                $result.Output.Text | Should -Be @('m1', 'm2', 'm3')
                { Assert-TcpPortFree $port } | Should -Not -Throw
            }
            finally {
                if ($client) { $client.Dispose() }
                Stop-BackgroundCommand $bg
            }
        }

        It '-TimeoutSec stops it when the time is up and frees the port' {
            $bg = Start-BackgroundCommand { Start-TcpServer -Port 0 -TimeoutSec 1 }
            $client = $null
            try {
                $clock = [System.Diagnostics.Stopwatch]::StartNew()
                $port = (Wait-Listening $bg).Port
                $client = New-TestTcpClient $port
                Send-TestLines $client 'before the time is up'
                $result = Wait-BackgroundCommand $bg
                $clock.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 0.9
                $result.State | Should -Be 'Completed'
                $result.Failure | Should -BeNullOrEmpty
                $result.Errors | Should -BeNullOrEmpty
                $result.Output.Text | Should -Be 'before the time is up'
                { Assert-TcpPortFree $port } | Should -Not -Throw
            }
            finally {
                if ($client) { $client.Dispose() }
                Stop-BackgroundCommand $bg
            }
        }

        It '-TimeoutSec with no client at all returns nothing' {
            $messages = Start-TcpServer -Port 0 -TimeoutSec 0.3 -InformationVariable listening
            $messages | Should -BeNullOrEmpty
            $port = $listening[0].MessageData.Port
            $port | Should -BeGreaterThan 0
            { Assert-TcpPortFree $port } | Should -Not -Throw
        }

        It 'stopping the pipeline ends it within a second, closes its connections and frees the port' {
            $bg = Start-BackgroundCommand { Start-TcpServer -Port 0 -Handler { "ack:$($_.Text)" } }
            $client = $null
            try {
                $port = (Wait-Listening $bg).Port
                $client = New-TestTcpClient $port
                Send-TestLines $client 'hello'
                Read-TestLine $client | Should -BeExactly 'ack:hello'
                $null = Wait-BackgroundOutput $bg 1

                $stopTook = Stop-BackgroundCommand $bg
                $bg = $null
                $stopTook.TotalSeconds | Should -BeLessThan 1.5
                Read-TestToEnd $client | Should -BeNullOrEmpty -Because 'the server closed the connection'
                { Assert-TcpPortFree $port } | Should -Not -Throw
            }
            finally {
                if ($client) { $client.Dispose() }
                Stop-BackgroundCommand $bg
            }
        }
    }

    Context 'Stopping while a handler runs' {
        It 'stopping the pipeline interrupts a slow handler and frees the port' {
            $bg = Start-BackgroundCommand { Start-TcpServer -Port 0 -Handler { Start-Sleep -Seconds 60; 'too late' } }
            $client = $null
            try {
                $port = (Wait-Listening $bg).Port
                $client = New-TestTcpClient $port
                Send-TestLines $client 'slow'
                $null = Wait-BackgroundOutput $bg 1
                $stopTook = Stop-BackgroundCommand $bg
                $bg = $null
                $stopTook.TotalSeconds | Should -BeLessThan 1.5
                { Assert-TcpPortFree $port } | Should -Not -Throw
            }
            finally {
                if ($client) { $client.Dispose() }
                Stop-BackgroundCommand $bg
            }
        }
        It '-TimeoutSec stops a server whose handler is running, as promptly as a stop: the command ends normally, the port is free' {
            # Ends by itself: Start-TcpServer returns, then the script goes on to 'after'.
            $bg = Start-BackgroundCommand {
                Start-TcpServer -Port 0 -TimeoutSec 2 -InformationAction Continue -Handler { if ($_.Text -eq 'slow') { Start-Sleep -Seconds 30 }; $_.Text }
                'after'
            }
            $client = $null
            try {
                $port = (Wait-Listening $bg).Port
                $client = New-TestTcpClient $port
                Send-TestLines $client 'slow'
                $clock = [Diagnostics.Stopwatch]::StartNew()
                $result = Wait-BackgroundCommand $bg -TimeoutSec 15
                $clock.Elapsed.TotalSeconds | Should -BeLessThan 12 -Because 'the handler sleeps 30 s; the limit must not wait for it'
                $result.Failure | Should -BeNullOrEmpty
                $result.Output[0].Text | Should -Be 'slow'
                $result.Output[-1] | Should -Be 'after'
                $warnings = @($bg.PowerShell.Streams.Warning | ForEach-Object Message)
                $warnings -join ' ' | Should -BeLike '*time limit stopped the handler*'
                { Assert-TcpPortFree $port } | Should -Not -Throw
            }
            finally {
                if ($client) { $client.Dispose() }
                Stop-BackgroundCommand $bg
            }
        }
    }

    Context 'Errors' {
        It 'a port in use is a terminating AddressInUse error naming the endpoint' {
            $taken = New-TestTcpListener
            try {
                $port = $taken.LocalEndpoint.Port
                $caught = $null
                $reached = $false
                try {
                    # Terminating: -ErrorAction cannot turn it into a warning the script runs past.
                    Start-TcpServer -Port $port -TimeoutSec 1 -ErrorAction SilentlyContinue
                    $reached = $true
                }
                catch {
                    $caught = $_
                }
                $reached | Should -BeFalse
                Assert-NetError $caught -Id 'AddressInUse' -Category ResourceBusy -TargetLike "127.0.0.1:$port"
                $caught.FullyQualifiedErrorId | Should -BeLike 'AddressInUse*'
            }
            finally {
                $taken.Stop()
            }
        }
    }

    Context 'Many clients at once' {
        It 'receives 200 simultaneous clients x 50 lines, every line exactly once and in order per connection' {
            $clientCount = 200
            $lineCount = 50
            $bg = Start-BackgroundCommand -Parameters @{ Total = $clientCount * $lineCount } {
                param($Total)
                Start-TcpServer -Port 0 -Count $Total -TimeoutSec 90
            }
            $clients = [System.Collections.Generic.List[System.Net.Sockets.TcpClient]]::new()
            try {
                $port = (Wait-Listening $bg).Port
                $connecting = [System.Collections.Generic.List[System.Threading.Tasks.Task]]::new()
                for ($i = 0; $i -lt $clientCount; $i++) {
                    $client = [System.Net.Sockets.TcpClient]::new([System.Net.Sockets.AddressFamily]::InterNetwork)
                    $client.NoDelay = $true
                    $client.SendTimeout = 10000
                    $clients.Add($client)
                    $connecting.Add($client.ConnectAsync([ipaddress]::Loopback, $port))
                }
                [System.Threading.Tasks.Task]::WaitAll($connecting.ToArray(), [timespan]::FromSeconds(30)) |
                    Should -BeTrue -Because 'all 200 clients connect at once'

                # Every client is connected before any sends; then the lines go out interleaved across connections.
                $streams = @($clients | ForEach-Object { $_.GetStream() })
                $ascii = [System.Text.Encoding]::ASCII
                for ($seq = 0; $seq -lt $lineCount; $seq++) {
                    for ($i = 0; $i -lt $clientCount; $i++) {
                        $bytes = $ascii.GetBytes("c$i-$seq`n")
                        $streams[$i].Write($bytes, 0, $bytes.Length)
                    }
                }

                $result = Wait-BackgroundCommand $bg -TimeoutSec 90
                $result.Failure | Should -BeNullOrEmpty
                $result.Errors | Should -BeNullOrEmpty
                $messages = $result.Output
                $messages.Count | Should -Be ($clientCount * $lineCount)

                $texts = $messages.Text
                @($texts | Select-Object -Unique).Count | Should -Be ($clientCount * $lineCount) -Because 'no line arrives twice'

                $byConnection = @($messages | Group-Object ConnectionId)
                $byConnection.Count | Should -Be $clientCount
                $seen = @{}
                $expectedSeq = (0..($lineCount - 1)) -join ','
                foreach ($group in $byConnection) {
                    $first = $group.Group[0].Text
                    $first | Should -Match '^c\d+-0$'
                    $i = [int]($first -replace '^c(\d+)-0$', '$1')
                    $seen.ContainsKey($i) | Should -BeFalse -Because "client $i has one connection"
                    $seen[$i] = $true
                    $prefix = "c$i-"
                    $sequence = ($group.Group | ForEach-Object {
                            if (-not $_.Text.StartsWith($prefix)) { "foreign:$($_.Text)" } else { $_.Text.Substring($prefix.Length) }
                        }) -join ','
                    $sequence | Should -Be $expectedSeq -Because "connection $($group.Name) carries client $i's lines in order"
                    $remote = @($group.Group.RemoteEndPoint | ForEach-Object ToString | Select-Object -Unique)
                    $remote | Should -Be $clients[$i].Client.LocalEndPoint.ToString()
                }
                $seen.Count | Should -Be $clientCount
            }
            finally {
                foreach ($client in $clients) { $client.Dispose() }
                Stop-BackgroundCommand $bg
            }
        }
    }
}

Describe 'Start-TcpServer -OnConnect and -OnDisconnect' {
    BeforeAll { . (Join-Path $PSScriptRoot 'common.ps1') }
    AfterEach { Remove-TestServerJob }

    It 'greets on connect and tells why each connection ended' {
        $bg = Start-BackgroundCommand {
            Start-TcpServer -Port 0 -Count 2 -TimeoutSec 20 -OnConnect { "220 hello $($_.RemoteEndPoint.Port)" } -OnDisconnect { Write-Information "ended: $($_.Reason)" } -Handler { 'bye'; $_.Connection | Close-TcpConnection }
        }
        $client = $null
        try {
            $port = (Wait-Listening $bg).Port
            $client = New-TestTcpClient $port
            Read-TestLine $client | Should -Be "220 hello $($client.Client.LocalEndPoint.Port)"
            Send-TestLines $client 'x'
            Read-TestLine $client | Should -Be 'bye'
            Get-TestTcpEnd $client | Should -Be 'closed'
            $ended = { @($bg.PowerShell.Streams.Information | ForEach-Object { "$($_.MessageData)" }) -contains 'ended: Closed' }
            Wait-TestCondition $ended | Should -BeTrue
            # A second client brings the server to its -Count.
            Send-TcpMessage -ComputerName 127.0.0.1 -Port $port -Message 'y'
            $result = Wait-BackgroundCommand $bg
            $result.Output.Text | Should -Be 'x', 'y'
        }
        finally { if ($client) { $client.Dispose() }; Stop-BackgroundCommand $bg }
    }

    It 'serves Python smtplib through examples/smtp-mock.ps1: greeting, EHLO, MAIL, RCPT, DATA with a dot-stuffed body, QUIT' {
        $job = & (Join-Path $PSScriptRoot '../../examples/smtp-mock.ps1') -Seconds 30 -PassThru
        $client = @'
import smtplib, sys
print("connecting", flush=True)
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10) as s:
    s.sendmail("a@example.com", ["b@example.com"], "Subject: test\r\n\r\nHello from smtplib\r\n.a line with a leading dot\r\nbye\r\n")
print("sent")
'@
        try {
            $peer = Start-PythonPeer $client -Arguments "$($job.Port)"
            Wait-PythonPeer $peer | Should -Be 'sent'
            $lines = @($job | Receive-Job).Text
            $lines | Should -Contain 'Hello from smtplib'
            $lines | Should -Contain '..a line with a leading dot'
            $lines | Should -Contain 'QUIT'
            ($lines | Where-Object { $_ -like 'MAIL FROM:*' }) | Should -BeLike '*a@example.com*'
        }
        finally { Stop-PythonPeer $peer }
    }
}
