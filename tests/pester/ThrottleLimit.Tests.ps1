BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    # Sends Lines lines on each client at once, then reads as many replies from each; returns, per client,
    # the request lines and the replies, so the tests can check content and order.
    function Invoke-TestExchange {
        param(
            [Parameter(Mandatory)] [System.Collections.Generic.List[System.Net.Sockets.TcpClient]] $Clients,
            [Parameter(Mandatory)] [int] $Lines
        )
        $requests = @(for ($i = 0; $i -lt $Clients.Count; $i++) {
                , @(for ($k = 0; $k -lt $Lines; $k++) { "c$i-l$k" })
            })
        # Every client has all its lines on the wire before any reply is read: the workers really overlap.
        for ($i = 0; $i -lt $Clients.Count; $i++) { Send-TestLines $Clients[$i] $requests[$i] }
        for ($i = 0; $i -lt $Clients.Count; $i++) {
            [pscustomobject]@{
                Client   = $i
                Requests = $requests[$i]
                Replies  = @(Read-TestLines $Clients[$i] $Lines)
            }
        }
    }

    # Checks that every reply is 'request|runspace id', in order, and that one runspace served each client;
    # returns the runspace that served each client.
    function Assert-OrderedReplies {
        param([Parameter(Mandatory)] [object[]] $Exchanges)
        foreach ($exchange in $Exchanges) {
            $exchange.Replies | Should -HaveCount $exchange.Requests.Count
            $texts = @($exchange.Replies | ForEach-Object { ($_ -split '\|')[0] })
            ($texts -join ',') | Should -Be ($exchange.Requests -join ',') -Because "client $($exchange.Client) gets its replies in order"
            $served = @($exchange.Replies | ForEach-Object { ($_ -split '\|')[1] } | Select-Object -Unique)
            $served | Should -HaveCount 1 -Because "the messages of one connection all go to one runspace (client $($exchange.Client))"
            $served[0]
        }
    }
}

Describe 'Parallel handlers (-ThrottleLimit)' {
    AfterEach {
        Close-TestTcpConnection
        Remove-TestServerJob
    }

    Context 'Start-TcpServer -AsJob -ThrottleLimit 4' {
        It 'answers 20 connections x 30 lines, each in order, and spreads the connections over all 4 runspaces' {
            $job = Start-TcpServer -Port 0 -AsJob -ThrottleLimit 4 -Handler { "$($_.Text)|$([runspace]::DefaultRunspace.InstanceId)" }
            $clients = Connect-TestTcpClient $job.Port 20
            try {
                $exchanges = @(Invoke-TestExchange -Clients $clients -Lines 30)
                $served = @(Assert-OrderedReplies $exchanges)
                $served | Should -HaveCount 20
                # Connections are given to the runspaces in turn, so 20 of them use all 4.
                $runspaces = @($served | Select-Object -Unique)
                $runspaces | Should -HaveCount 4
                $served | Should -Not -Contain ([runspace]::DefaultRunspace.InstanceId.ToString())
            }
            finally {
                foreach ($client in $clients) { $client.Dispose() }
            }
            $null = Wait-TestCondition { $job.Statistics.MessagesSent -ge 600 }
            $job.Statistics.MessagesReceived | Should -Be 600
            $job.Statistics.MessagesSent | Should -Be 600
            $job.Error.Count | Should -Be 0
        }

        It 'spreads connections from New-TcpConnection in this session over the runspaces too' {
            # Client connections of this process take ids from the same counter as the server's connections.
            $job = Start-TcpServer -Port 0 -AsJob -ThrottleLimit 2 -Handler { "$([runspace]::DefaultRunspace.InstanceId)" }
            $connections = @(1..20 | ForEach-Object { New-TcpConnection 127.0.0.1 $job.Port })
            $served = @($connections | ForEach-Object { (Send-TcpMessage -Connection $_ -Message 'which' -Receive).Text })
            $served | Should -HaveCount 20
            $perRunspace = @($served | Group-Object | ForEach-Object Count)
            $perRunspace | Should -HaveCount 2 -Because "20 connections and 2 runspaces; connections per runspace were $($perRunspace -join '/')"
            foreach ($count in $perRunspace) { $count | Should -BeGreaterOrEqual 5 -Because "connections per runspace were $($perRunspace -join '/')" }
        }

        It 'keeps the handler''s variables per runspace: one connection counts 1, 2, 3' {
            $job = Start-TcpServer -Port 0 -AsJob -ThrottleLimit 4 -Handler { $n++; "${n}:$($_.Text)" }
            $client = New-TestTcpClient $job.Port
            try {
                Send-TestLines $client 'a', 'b', 'c'
                Read-TestLines $client 3 | Should -Be @('1:a', '2:b', '3:c')
            }
            finally {
                $client.Dispose()
            }
        }

        It 'passes $using: values and -ArgumentList to every runspace' {
            $prefix = 'shared'
            $job = Start-TcpServer -Port 0 -AsJob -ThrottleLimit 3 -ArgumentList 'arg' -Handler {
                param($Argument)
                "$($using:prefix)|$Argument|$($_.Text)"
            }
            $clients = Connect-TestTcpClient $job.Port 3
            try {
                for ($i = 0; $i -lt 3; $i++) {
                    Send-TestLines $clients[$i] "c$i"
                    Read-TestLine $clients[$i] | Should -BeExactly "shared|arg|c$i"
                }
            }
            finally {
                foreach ($client in $clients) { $client.Dispose() }
            }
        }

        It 'reports a throwing handler as HandlerFailed and keeps answering' {
            $job = Start-TcpServer -Port 0 -AsJob -ThrottleLimit 2 -Handler {
                if ($_.Text -eq 'boom') { throw 'the handler broke' }
                "ok:$($_.Text)"
            }
            $client = New-TestTcpClient $job.Port
            try {
                Send-TestLines $client 'boom', 'after'
                Read-TestLine $client | Should -BeExactly 'ok:after'
                Wait-TestCondition { $job.Error.Count -ge 1 } | Should -BeTrue
                $job.Error.Count | Should -Be 1
                ($job.Error[0].FullyQualifiedErrorId -split ',')[0] | Should -Be 'HandlerFailed'
                "$($job.Error[0])" | Should -BeLike '*the handler broke*'
                $job.Error[0].TargetObject.Text | Should -Be 'boom'
                $job.State | Should -Be 'Running'
            }
            finally {
                $client.Dispose()
            }
        }

        It 'Stop-Job interrupts busy runspaces within a second and frees the port' {
            $job = Start-TcpServer -Port 0 -AsJob -ThrottleLimit 4 -Handler { Start-Sleep -Seconds 60; 'too late' }
            $port = $job.Port
            $clients = Connect-TestTcpClient $port 4
            try {
                foreach ($client in $clients) { Send-TestLines $client 'slow' }
                Wait-TestCondition { $job.Output.Count -ge 4 } | Should -BeTrue
                $clock = [System.Diagnostics.Stopwatch]::StartNew()
                Stop-Job $job
                $clock.Elapsed.TotalSeconds | Should -BeLessThan 1
                $job.State | Should -Be 'Stopped'
                { Assert-TcpPortFree $port } | Should -Not -Throw
            }
            finally {
                foreach ($client in $clients) { $client.Dispose() }
            }
        }
    }

    Context 'Start-TcpServer -ThrottleLimit 4 in the foreground' {
        It 'emits all 600 messages, answers 20 connections x 30 lines in order, and ends after -Count with the port free' {
            $bg = Start-BackgroundCommand {
                Start-TcpServer -Port 0 -ThrottleLimit 4 -Count 600 -Handler { "$($_.Text)|$([runspace]::DefaultRunspace.InstanceId)" }
            }
            $clients = $null
            try {
                $port = (Wait-Listening $bg).Port
                $clients = Connect-TestTcpClient $port 20
                $exchanges = @(Invoke-TestExchange -Clients $clients -Lines 30)
                $served = @(Assert-OrderedReplies $exchanges)
                @($served | Select-Object -Unique) | Should -HaveCount 4
                $served | Should -Not -Contain $bg.Runspace.InstanceId.ToString() -Because 'the handler runs in runspaces of its own'

                $result = Wait-BackgroundCommand $bg
                $result.Failure | Should -BeNullOrEmpty
                $result.Errors | Should -BeNullOrEmpty
                $result.Output | Should -HaveCount 600
                foreach ($exchange in $exchanges) {
                    $mine = @($result.Output | Where-Object { $_.Text.StartsWith("c$($exchange.Client)-") })
                    ($mine.Text -join ',') | Should -Be ($exchange.Requests -join ',') -Because 'the cmdlet emits each connection''s messages in order'
                }
                { Assert-TcpPortFree $port } | Should -Not -Throw
            }
            finally {
                if ($clients) { foreach ($client in $clients) { $client.Dispose() } }
                Stop-BackgroundCommand $bg
            }
        }
    }

    Context 'One handler in every mode' {
        It 'passes -ArgumentList to the handler, which still sees the message as $_, in mode <Mode>' -ForEach @(
            @{ Mode = 'inline (-ThrottleLimit 1)'; ThrottleLimit = 1; AsJob = $false }
            @{ Mode = 'parallel (-ThrottleLimit 2)'; ThrottleLimit = 2; AsJob = $false }
            @{ Mode = 'job'; ThrottleLimit = 1; AsJob = $true }
            @{ Mode = 'job, parallel'; ThrottleLimit = 2; AsJob = $true }
        ) {
            $bg = $client = $null
            try {
                if ($AsJob) {
                    $job = Start-TcpServer -Port 0 -AsJob -ThrottleLimit $ThrottleLimit -ArgumentList 'tag' -Handler { param($Tag) "$Tag|$($_.Text)" }
                    $port = $job.Port
                }
                else {
                    $bg = Start-BackgroundCommand -Parameters @{ ThrottleLimit = $ThrottleLimit } {
                        param($ThrottleLimit)
                        Start-TcpServer -Port 0 -ThrottleLimit $ThrottleLimit -ArgumentList 'tag' -Handler { param($Tag) "$Tag|$($_.Text)" }
                    }
                    $port = (Wait-Listening $bg).Port
                }
                $client = New-TestTcpClient $port
                Send-TestLines $client 'a', 'b'
                Read-TestLines $client 2 | Should -Be @('tag|a', 'tag|b')
            }
            finally {
                if ($client) { $client.Dispose() }
                Stop-BackgroundCommand $bg
            }
        }
    }

    Context 'Flow control in a handler' {
        It 'skips the message on continue and keeps serving, with -ThrottleLimit <ThrottleLimit>' -ForEach @(
            @{ ThrottleLimit = 1 }
            @{ ThrottleLimit = 2 }
        ) {
            $job = Start-TcpServer -Port 0 -AsJob -ThrottleLimit $ThrottleLimit -Handler {
                if ($_.Text -eq 'skip') { continue }
                if ($_.Text -eq 'stop') { break }
                "ok $($_.Text)"
            }
            $client = New-TestTcpClient $job.Port
            try {
                Send-TestLines $client 'a', 'skip', 'b', 'stop', 'c'
                Read-TestLines $client 3 | Should -Be @('ok a', 'ok b', 'ok c')
                $job.State | Should -Be 'Running'
                $job.Error | Should -BeNullOrEmpty
            }
            finally {
                $client.Dispose()
            }
        }
    }

    Context 'A client that half-closes' {
        It 'still gets the replies to its last lines from a slow parallel handler, then the end' {
            $job = Start-TcpServer -Port 0 -AsJob -ThrottleLimit 2 -Handler {
                # Slow enough that the client's end arrives before the reply is made.
                [System.Threading.Thread]::Sleep(200)
                "done $($_.Text)"
            }
            $client = New-TestTcpClient $job.Port
            try {
                Send-TestLines $client 'a', 'b'
                $socket = $client.Client
                $socket.Shutdown([System.Net.Sockets.SocketShutdown]::Send)
                $received = [System.IO.MemoryStream]::new()
                $buffer = [byte[]]::new(1024)
                # Each read is bounded by the client's receive timeout; 0 bytes is the server's end.
                while (($n = $socket.Receive($buffer)) -gt 0) { $received.Write($buffer, 0, $n) }
                $text = [System.Text.Encoding]::UTF8.GetString($received.ToArray())
                $text | Should -Be "done a`ndone b`n"
                $job.Error | Should -BeNullOrEmpty
            }
            finally {
                $client.Dispose()
            }
        }
    }

    Context 'Start-UdpServer -ThrottleLimit' {
        It 'answers several senders, each in order, with $using: values' {
            $table = @{ web = '10.0.0.5'; db = '10.0.0.6' }
            $job = Start-UdpServer -Port 0 -AsJob -ThrottleLimit 2 -Handler {
                $lookup = $using:table
                if ($lookup.ContainsKey($_.Text)) { "$($_.Text)=$($lookup[$_.Text])" } else { "$($_.Text)=NXDOMAIN" }
            }
            $senders = @(1..3 | ForEach-Object { New-TestUdpClient })
            try {
                $names = 'web', 'db', 'mail', 'web'
                foreach ($udp in $senders) {
                    foreach ($name in $names) { Send-TestDatagram $udp $job.Port ([System.Text.Encoding]::UTF8.GetBytes($name)) }
                }
                foreach ($udp in $senders) {
                    $replies = @(foreach ($name in $names) { Receive-TestText $udp })
                    $replies.Text | Should -Be @('web=10.0.0.5', 'db=10.0.0.6', 'mail=NXDOMAIN', 'web=10.0.0.5')
                    $replies.RemoteEndPoint | ForEach-Object ToString | Select-Object -Unique | Should -Be "127.0.0.1:$($job.Port)"
                }
            }
            finally {
                foreach ($udp in $senders) { $udp.Dispose() }
            }
        }
    }
}
