BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $utf8 = [System.Text.UTF8Encoding]::new($false)
}

Describe 'Start-UdpServer' {
    BeforeEach {
        $udp = New-TestUdpClient
        $bg = $null
    }

    AfterEach {
        $udp.Dispose()
        Stop-BackgroundCommand $bg
    }

    Context 'Received datagrams and replies' {
        It 'emits each datagram as a UdpDatagram and sends each output item of the handler back to the sender as one datagram, from its port' {
            $bg = Start-BackgroundCommand { Start-UdpServer -Port 0 -Count 2 -Handler { "one:$($_.Text)"; "two:$($_.Text)"; 3 } }
            $other = New-TestUdpClient
            try {
                $listening = Wait-Listening $bg
                $listening.Port | Should -BeGreaterThan 0
                $listening.LocalEndPoint.ToString() | Should -Be "127.0.0.1:$($listening.Port)"
                $port = $listening.Port

                Send-TestDatagram $udp $port $utf8.GetBytes('ping')
                $replies = @(Receive-TestText $udp; Receive-TestText $udp; Receive-TestText $udp)
                $replies.Text | Should -Be @('one:ping', 'two:ping', '3') -Because 'no line feed is added to a datagram'
                $replies.RemoteEndPoint | ForEach-Object ToString | Select-Object -Unique | Should -Be "127.0.0.1:$port"

                Send-TestDatagram $other $port $utf8.GetBytes('grüße')
                (Receive-TestText $other).Text | Should -BeExactly 'one:grüße'
                (Receive-TestText $other).Text | Should -BeExactly 'two:grüße'
                (Receive-TestText $other).Text | Should -BeExactly '3'

                $result = Wait-BackgroundCommand $bg
                $result.Failure | Should -BeNullOrEmpty
                $result.Errors | Should -BeNullOrEmpty
                $datagrams = $result.Output
                $datagrams | Should -HaveCount 2
                foreach ($d in $datagrams) {
                    $d.psobject.BaseObject | Should -BeOfType ([NetCmdlets.Core.Messages.UdpDatagram])
                    $d.LocalEndPoint.ToString() | Should -Be "127.0.0.1:$port"
                    $d.Direction | Should -Be 'Received'
                    $d.Timestamp | Should -BeOfType ([datetime])
                }
                $datagrams.Text | Should -Be @('ping', 'grüße')
                $datagrams[1].Length | Should -Be $utf8.GetByteCount('grüße')
                ($datagrams[1].Data -join ',') | Should -Be ($utf8.GetBytes('grüße') -join ',')
                $datagrams[0].RemoteEndPoint.ToString() | Should -Be $udp.Client.LocalEndPoint.ToString()
                $datagrams[1].RemoteEndPoint.ToString() | Should -Be $other.Client.LocalEndPoint.ToString()
            }
            finally {
                $other.Dispose()
            }
        }

        It 'sends a byte array output as one datagram, exactly' {
            $bg = Start-BackgroundCommand { Start-UdpServer -Port 0 -Count 1 -Handler { , [byte[]](0, 10, 255, 13) } }
            $port = (Wait-Listening $bg).Port
            Send-TestDatagram $udp $port ([byte[]](1))
            $reply = Receive-TestDatagram $udp
            ($reply.Data -join ',') | Should -Be '0,10,255,13'
            $null = Wait-BackgroundCommand $bg
        }

        It 'sends nothing when the handler outputs nothing, and nothing at all without a handler' {
            $bg = Start-BackgroundCommand {
                # $null output is no output: a lookup that misses sends nothing, not an empty datagram.
                Start-UdpServer -Port 0 -Count 2 -Handler { if ($_.Text -ne 'quiet') { "reply:$($_.Text)" } else { $null } }
            }
            $port = (Wait-Listening $bg).Port
            Send-TestDatagram $udp $port $utf8.GetBytes('quiet')
            Send-TestDatagram $udp $port $utf8.GetBytes('loud')
            (Receive-TestText $udp).Text | Should -Be 'reply:loud' -Because 'the first datagram had no reply'
            (Wait-BackgroundCommand $bg).Output.Text | Should -Be @('quiet', 'loud')
            Stop-BackgroundCommand $bg

            $bg = Start-BackgroundCommand { Start-UdpServer -Port 0 -Count 1 }
            $port = (Wait-Listening $bg).Port
            Send-TestDatagram $udp $port $utf8.GetBytes('anyone?')
            (Wait-BackgroundCommand $bg).Output.Text | Should -Be 'anyone?'
            $udp.Available | Should -Be 0 -Because 'a server without a handler sends nothing'
        }

        It 'keeps state in the handler from one datagram to the next' {
            $bg = Start-BackgroundCommand { Start-UdpServer -Port 0 -Count 3 -Handler { $n++; "$n" } }
            $port = (Wait-Listening $bg).Port
            foreach ($text in 'a', 'b', 'c') { Send-TestDatagram $udp $port $utf8.GetBytes($text) }
            @(1..3 | ForEach-Object { (Receive-TestText $udp).Text }) | Should -Be @('1', '2', '3')
            $null = Wait-BackgroundCommand $bg
        }

        It 'passes $using: values to the handler' {
            $bg = Start-BackgroundCommand {
                $prefix = 'from-session'
                Start-UdpServer -Port 0 -Count 1 -Handler { "$($using:prefix)|$($_.Text)" }
            }
            $port = (Wait-Listening $bg).Port
            Send-TestDatagram $udp $port $utf8.GetBytes('x')
            (Receive-TestText $udp).Text | Should -BeExactly 'from-session|x'
            $null = Wait-BackgroundCommand $bg
        }

        It 'passes -ArgumentList to the handler, which still sees the datagram as $_' {
            $bg = Start-BackgroundCommand {
                Start-UdpServer -Port 0 -Count 1 -ArgumentList 'arg-1', 42 -Handler { param($First, $Second) "$First|$Second|$($_.Text)" }
            }
            $port = (Wait-Listening $bg).Port
            Send-TestDatagram $udp $port $utf8.GetBytes('x')
            (Receive-TestText $udp).Text | Should -BeExactly 'arg-1|42|x'
            $null = Wait-BackgroundCommand $bg
        }

        It 'reports a throwing handler as a non-terminating HandlerFailed error whose target is the datagram, and goes on' {
            $bg = Start-BackgroundCommand {
                Start-UdpServer -Port 0 -Count 3 -Handler {
                    if ($_.Text -eq 'boom') { throw 'the handler broke' }
                    "ok:$($_.Text)"
                }
            }
            $port = (Wait-Listening $bg).Port
            foreach ($text in 'boom', 'after', 'more') { Send-TestDatagram $udp $port $utf8.GetBytes($text) }
            (Receive-TestText $udp).Text | Should -Be 'ok:after'
            (Receive-TestText $udp).Text | Should -Be 'ok:more'
            $result = Wait-BackgroundCommand $bg
            $result.Failure | Should -BeNullOrEmpty
            $result.State | Should -Be 'Completed'
            $result.Output.Text | Should -Be @('boom', 'after', 'more')
            $result.Errors | Should -HaveCount 1
            ($result.Errors[0].FullyQualifiedErrorId -split ',')[0] | Should -Be 'HandlerFailed'
            "$($result.Errors[0])" | Should -BeLike '*the handler broke*'
            $result.Errors[0].TargetObject.Text | Should -Be 'boom'
        }
    }

    Context 'Stopping and freeing the port' {
        It '-Count stops after that many datagrams, answers the last one, and frees the port' {
            $bg = Start-BackgroundCommand { Start-UdpServer -Port 0 -Count 3 -Handler { "re:$($_.Text)" } }
            $port = (Wait-Listening $bg).Port
            foreach ($text in 'd1', 'd2', 'd3') { Send-TestDatagram $udp $port $utf8.GetBytes($text) }
            $result = Wait-BackgroundCommand $bg
            $result.State | Should -Be 'Completed'
            $result.Output.Text | Should -Be @('d1', 'd2', 'd3')
            @(1..3 | ForEach-Object { (Receive-TestText $udp).Text }) | Should -Be @('re:d1', 're:d2', 're:d3')
            { Assert-UdpPortFree $port } | Should -Not -Throw
        }

        It '-TimeoutSec stops it when the time is up and frees the port' {
            $bg = Start-BackgroundCommand { Start-UdpServer -Port 0 -TimeoutSec 0.5 -Handler { 'pong' } }
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $port = (Wait-Listening $bg).Port
            Send-TestDatagram $udp $port $utf8.GetBytes('ping')
            (Receive-TestText $udp).Text | Should -Be 'pong'
            $result = Wait-BackgroundCommand $bg
            $clock.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 0.45
            $result.State | Should -Be 'Completed'
            $result.Failure | Should -BeNullOrEmpty
            $result.Output.Text | Should -Be 'ping'
            { Assert-UdpPortFree $port } | Should -Not -Throw
        }

        It 'stopping the pipeline ends it within a second and frees the port, even while a handler runs' {
            $bg = Start-BackgroundCommand { Start-UdpServer -Port 0 -Handler { Start-Sleep -Seconds 60; 'too late' } }
            $port = (Wait-Listening $bg).Port
            Send-TestDatagram $udp $port $utf8.GetBytes('slow')
            $null = Wait-BackgroundOutput $bg 1
            $stopTook = Stop-BackgroundCommand $bg
            $bg = $null
            $stopTook.TotalSeconds | Should -BeLessThan 1.5
            { Assert-UdpPortFree $port } | Should -Not -Throw
        }

        It 'Select-Object -First 2 stops it and frees the port' {
            $bg = Start-BackgroundCommand { Start-UdpServer -Port 0 | Select-Object -First 2 }
            $port = (Wait-Listening $bg).Port
            foreach ($text in 'a', 'b', 'c') { Send-TestDatagram $udp $port $utf8.GetBytes($text) }
            $result = Wait-BackgroundCommand $bg
            $result.Failure | Should -BeNullOrEmpty
            $result.Output.Text | Should -Be @('a', 'b')
            { Assert-UdpPortFree $port } | Should -Not -Throw
        }
    }

    Context 'Errors' {
        It 'a port in use is a terminating AddressInUse error naming the endpoint' {
            $port = $udp.Client.LocalEndPoint.Port
            $caught = $null
            $reached = $false
            try {
                Start-UdpServer -Port $port -TimeoutSec 1 -ErrorAction SilentlyContinue
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
