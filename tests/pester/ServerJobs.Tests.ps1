BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'Server jobs (-AsJob)' {
    AfterEach {
        Close-TestTcpConnection
        Remove-TestServerJob
    }

    Context 'Start-TcpServer -AsJob' {
        It 'returns a NetServerJob listed by Get-Job, with Port, LocalEndPoint and Statistics, that answers clients while the session goes on' {
            $job = Start-TcpServer -Port 0 -AsJob -JobName 'echo-job' -Handler { "echo:$($_.Text)" }

            $job | Should -HaveCount 1
            $job.psobject.BaseObject | Should -BeOfType ([NetCmdlets.Jobs.NetServerJob])
            $job.PSJobTypeName | Should -Be 'NetServerJob'
            $job.Name | Should -Be 'echo-job'
            $job.State | Should -Be 'Running'
            $job.Protocol | Should -Be 'TCP'
            $job.Port | Should -BeGreaterThan 0
            $job.LocalEndPoint | Should -BeOfType ([System.Net.IPEndPoint])
            $job.LocalEndPoint.ToString() | Should -Be "127.0.0.1:$($job.Port)"
            $job.Statistics | Should -BeOfType ([NetCmdlets.Core.Tcp.ServerStatistics])
            $job.Statistics.ConnectionsTotal | Should -Be 0

            $listed = @(Get-Job | Where-Object InstanceId -EQ $job.InstanceId)
            $listed | Should -HaveCount 1
            $listed[0].PSJobTypeName | Should -Be 'NetServerJob'
            (Get-Job -Name 'echo-job').Id | Should -Be $job.Id

            $client = New-TestTcpClient $job.Port
            try {
                for ($i = 1; $i -le 3; $i++) {
                    Send-TestLines $client "ping $i"
                    # This session keeps running commands between the requests; the job serves on its own.
                    @(Get-Job -Id $job.Id) | Should -HaveCount 1
                    Read-TestLine $client | Should -BeExactly "echo:ping $i"
                }
                $job.State | Should -Be 'Running'
            }
            finally {
                $client.Dispose()
            }
        }

        It 'Receive-Job returns the received messages as TcpMessage objects, in order, each only once' {
            $job = Start-TcpServer -Port 0 -AsJob
            $client = New-TestTcpClient $job.Port
            try {
                Send-TestLines $client 'm1', 'm2', 'm3', 'm4', 'm5'
                Wait-TestCondition { $job.Output.Count -ge 5 } | Should -BeTrue -Because "5 messages were sent; the job has $($job.Output.Count)"

                $messages = @(Receive-Job $job)
                $messages | Should -HaveCount 5
                foreach ($m in $messages) { $m.psobject.BaseObject | Should -BeOfType ([NetCmdlets.Core.Messages.TcpMessage]) }
                $messages.Text | Should -Be @('m1', 'm2', 'm3', 'm4', 'm5')
                $messages.RemoteEndPoint | ForEach-Object ToString | Select-Object -Unique | Should -Be $client.Client.LocalEndPoint.ToString()
                $messages.LocalEndPoint | ForEach-Object ToString | Select-Object -Unique | Should -Be "127.0.0.1:$($job.Port)"
                @($messages.ConnectionId | Select-Object -Unique) | Should -HaveCount 1

                @(Receive-Job $job) | Should -HaveCount 0 -Because 'Receive-Job took them'
                Send-TestLines $client 'm6'
                Wait-TestCondition { $job.Output.Count -ge 1 } | Should -BeTrue
                (Receive-Job $job).Text | Should -Be 'm6'
                $job.State | Should -Be 'Running'
            }
            finally {
                $client.Dispose()
            }
        }

        It 'with -Count 3, Wait-Job returns once 3 messages came; the 3 are answered, the connection ends and the port is free' {
            $job = Start-TcpServer -Port 0 -AsJob -Count 3 -Handler { "ack:$($_.Text)" }
            $client = New-TestTcpClient $job.Port
            try {
                Send-TestLines $client 'a', 'b', 'c', 'd'
                $done = Wait-Job $job -Timeout $DefaultWaitSec
                $done | Should -Not -BeNullOrEmpty -Because 'the job ends by itself after 3 messages'
                $job.State | Should -Be 'Completed'
                (Receive-Job $job).Text | Should -Be @('a', 'b', 'c')
                [System.Text.Encoding]::UTF8.GetString((Read-TestToEnd $client)) | Should -BeExactly "ack:a`nack:b`nack:c`n"
                { Assert-TcpPortFree $job.Port } | Should -Not -Throw
            }
            finally {
                $client.Dispose()
            }
        }

        It 'Stop-Job stops it within a second: State Stopped, its clients see the end, and the exact port can be bound at once' {
            $job = Start-TcpServer -Port 0 -AsJob -Handler { "ack:$($_.Text)" }
            $port = $job.Port
            $client = New-TestTcpClient $port
            try {
                Send-TestLines $client 'hello'
                Read-TestLine $client | Should -BeExactly 'ack:hello'

                $clock = [System.Diagnostics.Stopwatch]::StartNew()
                Stop-Job $job
                $clock.Elapsed.TotalSeconds | Should -BeLessThan 1
                $job.State | Should -Be 'Stopped'
                { Assert-TcpPortFree $port } | Should -Not -Throw
                Read-TestToEnd $client | Should -BeNullOrEmpty -Because 'the server closed the connection'
                (Receive-Job $job).Text | Should -Be 'hello'

                Remove-Job $job
                Get-Job | Where-Object InstanceId -EQ $job.InstanceId | Should -BeNullOrEmpty
            }
            finally {
                $client.Dispose()
            }
        }

        It 'Remove-Job -Force stops a running server job, removes it and frees the port' {
            $job = Start-TcpServer -Port 0 -AsJob
            $port = $job.Port
            Remove-Job $job -Force
            $job.State | Should -Be 'Stopped'
            Get-Job | Where-Object InstanceId -EQ $job.InstanceId | Should -BeNullOrEmpty
            { Assert-TcpPortFree $port } | Should -Not -Throw
        }

        It 'Statistics count what the clients sent and got, and ConnectionsOpen returns to 0 once they close' {
            $job = Start-TcpServer -Port 0 -AsJob -Handler { "re:$($_.Text)" }
            $stats = $job.Statistics
            $utf8 = [System.Text.UTF8Encoding]::new($false)
            $clients = Connect-TestTcpClient $job.Port 3
            try {
                $bytesIn = $bytesOut = 0
                for ($i = 0; $i -lt 3; $i++) {
                    $lines = @(1..4 | ForEach-Object { "client $i line $_ é" })
                    Send-TestLines $clients[$i] $lines
                    Read-TestLines $clients[$i] 4 | Should -Be ($lines | ForEach-Object { "re:$_" })
                    foreach ($line in $lines) {
                        $bytesIn += $utf8.GetByteCount($line) + 1
                        $bytesOut += $utf8.GetByteCount("re:$line") + 1
                    }
                }
                # The sent counters move once the socket has taken the bytes, which may be just after the client read them.
                $null = Wait-TestCondition { $stats.MessagesSent -ge 12 -and $stats.BytesSent -ge $bytesOut }
                $stats.ConnectionsOpen | Should -Be 3
                $stats.ConnectionsTotal | Should -Be 3
                $stats.MessagesReceived | Should -Be 12
                $stats.BytesReceived | Should -Be $bytesIn
                $stats.MessagesSent | Should -Be 12
                $stats.BytesSent | Should -Be $bytesOut
                $stats.Errors | Should -Be 0
            }
            finally {
                foreach ($client in $clients) { $client.Dispose() }
            }
            Wait-TestCondition { $stats.ConnectionsOpen -eq 0 } | Should -BeTrue -Because "the clients closed; ConnectionsOpen is $($stats.ConnectionsOpen)"
            $stats.ConnectionsTotal | Should -Be 3
            $stats.Errors | Should -Be 0
            $job.State | Should -Be 'Running'
        }

        It 'a throwing handler does not stop it: HandlerFailed in the job''s Error stream and from Receive-Job, and the next messages get replies' {
            $job = Start-TcpServer -Port 0 -AsJob -Handler {
                if ($_.Text -eq 'boom') { throw 'the handler broke' }
                "ok:$($_.Text)"
            }
            $client = New-TestTcpClient $job.Port
            try {
                Send-TestLines $client 'boom', 'after'
                Read-TestLine $client | Should -BeExactly 'ok:after'
                $job.State | Should -Be 'Running'
                Wait-TestCondition { $job.Error.Count -ge 1 } | Should -BeTrue
                # Count and index, not a pipeline: see the test on piping the job's streams.
                $job.Error.Count | Should -Be 1
                ($job.Error[0].FullyQualifiedErrorId -split ',')[0] | Should -Be 'HandlerFailed'
                "$($job.Error[0])" | Should -BeLike '*the handler broke*'
                $job.Error[0].TargetObject.Text | Should -Be 'boom'

                $received = Receive-Job $job -ErrorVariable jobErrors -ErrorAction SilentlyContinue
                $received.Text | Should -Be @('boom', 'after')
                $jobErrors | Should -HaveCount 1
                ($jobErrors[0].FullyQualifiedErrorId -split ',')[0] | Should -Be 'HandlerFailed'

                Send-TestLines $client 'boom', 'again'
                Read-TestLine $client | Should -BeExactly 'ok:again'
                $job.State | Should -Be 'Running'
            }
            finally {
                $client.Dispose()
            }
        }

        It 'keeps the handler''s own variables from message to message: plain $n++ counts 1, 2, 3, then 4 on the next connection' {
            $job = Start-TcpServer -Port 0 -AsJob -Handler { $n++; "${n}:$($_.Text)" }
            $first = $second = $null
            try {
                $first = New-TestTcpClient $job.Port
                Send-TestLines $first 'a'
                Read-TestLine $first | Should -BeExactly '1:a'
                Send-TestLines $first 'b', 'c'
                Read-TestLines $first 2 | Should -Be @('2:b', '3:c')
                # One handler serves the whole server, so the count goes on for the next client.
                $second = New-TestTcpClient $job.Port
                Send-TestLines $second 'd'
                Read-TestLine $second | Should -BeExactly '4:d'
            }
            finally {
                if ($first) { $first.Dispose() }
                if ($second) { $second.Dispose() }
            }
        }

        It 'passes $using: values (read when it starts) and -ArgumentList to the handler' {
            $prefix = 'from-session'
            $table = @{ web = '10.0.0.5'; db = '10.0.0.6' }
            $job = Start-TcpServer -Port 0 -AsJob -ArgumentList 'arg-1', 42 -Handler {
                param($First, $Second)
                $lookup = $using:table
                "$($using:prefix)|$First|$Second|$($lookup[$_.Text])"
            }
            $prefix = 'changed after the start'
            $withArgs = Start-TcpServer -Port 0 -AsJob -ArgumentList 'x', 'y' -Handler { "$($args -join '+')|$($_.Text)" }
            $client = $other = $null
            try {
                $client = New-TestTcpClient $job.Port
                Send-TestLines $client 'web', 'db'
                Read-TestLines $client 2 | Should -Be @('from-session|arg-1|42|10.0.0.5', 'from-session|arg-1|42|10.0.0.6')
                $other = New-TestTcpClient $withArgs.Port
                Send-TestLines $other 'z'
                Read-TestLine $other | Should -BeExactly 'x+y|z'
            }
            finally {
                if ($client) { $client.Dispose() }
                if ($other) { $other.Dispose() }
            }
        }

        It 'a handler can send extra lines with $_.Connection | Send-TcpMessage, before its output reply' {
            $job = Start-TcpServer -Port 0 -AsJob -Handler {
                $_.Connection | Send-TcpMessage -Message "extra:$($_.Text)"
                "reply:$($_.Text)"
            }
            $client = New-TestTcpClient $job.Port
            try {
                Send-TestLines $client 'one', 'two'
                Read-TestLines $client 4 | Should -Be @('extra:one', 'reply:one', 'extra:two', 'reply:two')
                $job.Error.Count | Should -Be 0
            }
            finally {
                $client.Dispose()
            }
        }

        It 'lets $job.Output and $job.Error be piped while it runs, as other jobs do, without waiting for the job to end' {
            $job = Start-TcpServer -Port 0 -AsJob -Handler { if ($_.Text -eq 'boom') { throw 'broke' } }
            $client = New-TestTcpClient $job.Port
            $bg = $null
            try {
                Send-TestLines $client 'boom', 'fine'
                Wait-TestCondition { $job.Output.Count -ge 2 -and $job.Error.Count -ge 1 } | Should -BeTrue
                # In a runspace of its own, so that a pipeline that blocks cannot hang the test run.
                $bg = Start-BackgroundCommand -Parameters @{ Job = $job } {
                    param($Job)
                    @($Job.Output | ForEach-Object Text) -join ','
                    @($Job.Error | ForEach-Object { ($_.FullyQualifiedErrorId -split ',')[0] }) -join ','
                }
                $ended = $bg.Handle.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(3))
                $ended | Should -BeTrue -Because 'enumerating the streams of a running job should return what is there (ThreadJob sets EnumeratorNeverBlocks on them), not wait for the job to end'
                (Get-BackgroundOutput $bg) | Should -Be @('boom,fine', 'HandlerFailed')
            }
            finally {
                $client.Dispose()
                # Stopping the job first completes its streams, which releases a pipeline blocked on them.
                Remove-TestServerJob $job
                $null = Stop-BackgroundCommand $bg
            }
        }

        It 'a port in use fails at once with a terminating AddressInUse error, and leaves no job behind' {
            $taken = New-TestTcpListener
            try {
                $port = $taken.LocalEndpoint.Port
                $jobsBefore = @(Get-Job).Count
                $caught = $null
                $reached = $false
                $clock = [System.Diagnostics.Stopwatch]::StartNew()
                try {
                    $null = Start-TcpServer -Port $port -AsJob -Handler { 'never' } -ErrorAction SilentlyContinue
                    $reached = $true
                }
                catch {
                    $caught = $_
                }
                $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
                $reached | Should -BeFalse -Because 'the error is terminating'
                Assert-NetError $caught -Id 'AddressInUse' -Category ResourceBusy -TargetLike "127.0.0.1:$port"
                @(Get-Job).Count | Should -Be $jobsBefore
                Get-ServerJob | Should -BeNullOrEmpty
            }
            finally {
                $taken.Stop()
            }
        }
    }

    Context 'Start-UdpServer -AsJob' {
        BeforeEach {
            $udp = New-TestUdpClient
        }

        AfterEach {
            $udp.Dispose()
        }

        It 'answers each datagram from its port, one datagram per output item, and Receive-Job returns the UdpDatagrams' {
            $job = Start-UdpServer -Port 0 -AsJob -Handler { "one:$($_.Text)"; "two:$($_.Text)" }
            $job.psobject.BaseObject | Should -BeOfType ([NetCmdlets.Jobs.NetServerJob])
            $job.PSJobTypeName | Should -Be 'NetServerJob'
            $job.Protocol | Should -Be 'UDP'
            $job.Port | Should -BeGreaterThan 0
            $job.LocalEndPoint.ToString() | Should -Be "127.0.0.1:$($job.Port)"
            @(Get-ServerJob | Where-Object InstanceId -EQ $job.InstanceId) | Should -HaveCount 1

            $utf8 = [System.Text.Encoding]::UTF8
            Send-TestDatagram $udp $job.Port $utf8.GetBytes('ping')
            $replies = @(Receive-TestText $udp; Receive-TestText $udp)
            $replies.Text | Should -Be @('one:ping', 'two:ping')
            $replies.RemoteEndPoint | ForEach-Object ToString | Select-Object -Unique | Should -Be "127.0.0.1:$($job.Port)"
            Send-TestDatagram $udp $job.Port $utf8.GetBytes('pong')
            (Receive-TestText $udp).Text | Should -Be 'one:pong'
            (Receive-TestText $udp).Text | Should -Be 'two:pong'

            Wait-TestCondition { $job.Output.Count -ge 2 } | Should -BeTrue
            $datagrams = @(Receive-Job $job)
            $datagrams | Should -HaveCount 2
            foreach ($d in $datagrams) { $d.psobject.BaseObject | Should -BeOfType ([NetCmdlets.Core.Messages.UdpDatagram]) }
            $datagrams.Text | Should -Be @('ping', 'pong')
            $datagrams.RemoteEndPoint | ForEach-Object ToString | Select-Object -Unique | Should -Be $udp.Client.LocalEndPoint.ToString()

            $null = Wait-TestCondition { $job.Statistics.MessagesSent -ge 4 }
            $job.Statistics.MessagesReceived | Should -Be 2
            $job.Statistics.BytesReceived | Should -Be 8
            $job.Statistics.MessagesSent | Should -Be 4
            $job.Statistics.BytesSent | Should -Be (4 * 'one:ping'.Length)
            $job.Statistics.Dropped | Should -Be 0
        }

        It 'Stop-Job stops it within a second and frees the port' {
            $job = Start-UdpServer -Port 0 -AsJob
            $port = $job.Port
            Send-TestDatagram $udp $port ([byte[]](1, 2, 3))
            Wait-TestCondition { $job.Output.Count -ge 1 } | Should -BeTrue
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            Stop-Job $job
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 1
            $job.State | Should -Be 'Stopped'
            { Assert-UdpPortFree $port } | Should -Not -Throw
            ((Receive-Job $job).Data -join ',') | Should -Be '1,2,3'
            Remove-Job $job
            Get-Job | Where-Object InstanceId -EQ $job.InstanceId | Should -BeNullOrEmpty
        }

        It 'with -Count 3, Wait-Job returns after 3 datagrams, in order, and the port is free' {
            $job = Start-UdpServer -Port 0 -AsJob -Count 3
            foreach ($text in 'd1', 'd2', 'd3') { Send-TestDatagram $udp $job.Port ([System.Text.Encoding]::UTF8.GetBytes($text)) }
            Wait-Job $job -Timeout $DefaultWaitSec | Should -Not -BeNullOrEmpty
            $job.State | Should -Be 'Completed'
            (Receive-Job $job).Text | Should -Be @('d1', 'd2', 'd3')
            { Assert-UdpPortFree $job.Port } | Should -Not -Throw
        }

        It 'with -TimeoutSec, the job completes when the time is up and frees the port' {
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $job = Start-UdpServer -Port 0 -AsJob -TimeoutSec 0.5
            Wait-Job $job -Timeout $DefaultWaitSec | Should -Not -BeNullOrEmpty
            $clock.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 0.45
            $job.State | Should -Be 'Completed'
            { Assert-UdpPortFree $job.Port } | Should -Not -Throw
        }

        It 'a port in use fails with a terminating AddressInUse error, and leaves no job behind' {
            $taken = New-TestUdpClient
            try {
                $port = $taken.Client.LocalEndPoint.Port
                $caught = $null
                try {
                    $null = Start-UdpServer -Port $port -AsJob -ErrorAction SilentlyContinue
                }
                catch {
                    $caught = $_
                }
                Assert-NetError $caught -Id 'AddressInUse' -Category ResourceBusy -TargetLike "127.0.0.1:$port"
                Get-ServerJob | Should -BeNullOrEmpty
            }
            finally {
                $taken.Dispose()
            }
        }
    }
}

Describe 'Server jobs and the job manager' {
    BeforeAll { . (Join-Path $PSScriptRoot 'common.ps1') }
    AfterEach { Remove-TestServerJob }

    It 'Receive-Job -AutoRemoveJob -Wait returns the messages and removes the job' {
        $job = Start-TcpServer -Port 0 -Count 2 -AsJob
        'one', 'two' | Send-TcpMessage -ComputerName 127.0.0.1 -Port $job.Port
        $messages = @(Receive-Job $job -AutoRemoveJob -Wait -ErrorAction Stop)
        $messages.Text | Should -Be 'one', 'two'
        Get-Job -Id $job.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'keeps at most -JobOutputLimit messages for Receive-Job, counts the rest, and warns once' {
        $job = Start-TcpServer -Port 0 -Count 5 -AsJob -JobOutputLimit 2
        'a', 'b', 'c', 'd', 'e' | Send-TcpMessage -ComputerName 127.0.0.1 -Port $job.Port
        $null = Wait-Job $job -Timeout $DefaultWaitSec
        $job.DroppedOutput | Should -Be 3
        $messages = @(Receive-Job $job -WarningVariable warnings -WarningAction SilentlyContinue)
        $messages.Text | Should -Be 'a', 'b'
        @($warnings | Where-Object { "$_" -like '*JobOutputLimit*' }) | Should -HaveCount 1
    }
}
