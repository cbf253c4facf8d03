BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'Close-TcpConnection' {
    BeforeEach {
        $listener = New-TestTcpListener
        $port = $listener.LocalEndpoint.Port
        $peers = [System.Collections.Generic.List[System.Net.Sockets.TcpClient]]::new()
        $bg = $null
    }

    AfterEach {
        Stop-BackgroundCommand $bg
        Close-TestTcpConnection
        foreach ($peer in $peers) { $peer.Dispose() }
        $listener.Stop()
    }

    Context 'Closing' {
        It 'closes the connection: State Closed, gone from Get-TcpConnection, the server reads to the end, and no output' {
            $connection = New-TcpConnection 127.0.0.1 $port
            $peers.Add((Wait-TestAccept $listener))
            Send-TcpMessage -Connection $connection -Message 'last words'
            $out = Close-TcpConnection -Connection $connection
            $out | Should -BeNullOrEmpty
            $connection.State | Should -Be 'Closed'
            Get-TcpConnection | Should -BeNullOrEmpty
            [System.Text.Encoding]::UTF8.GetString((Read-TestToEnd $peers[0])) | Should -BeExactly "last words`n"
        }

        It 'lets the server read every line sent before it, then the end of the connection' {
            $connection = New-TcpConnection 127.0.0.1 $port
            $peers.Add((Wait-TestAccept $listener))
            $lines = @(1..500 | ForEach-Object { "line $_ $('x' * 100)" })
            $lines | Send-TcpMessage -Connection $connection
            $connection | Close-TcpConnection
            $text = [System.Text.Encoding]::UTF8.GetString((Read-TestToEnd $peers[0]))
            $text | Should -BeExactly (($lines -join "`n") + "`n")
        }

        It '-PassThru emits each connection it closed' {
            $first = New-TcpConnection 127.0.0.1 $port
            $second = New-TcpConnection 127.0.0.1 $port
            $out = @(Close-TcpConnection -Connection $first, $second -PassThru)
            $out | Should -HaveCount 2
            $out.Id | Should -Be @($first.Id, $second.Id)
            $out.State | Select-Object -Unique | Should -Be 'Closed'
        }

        It 'takes connections from the pipeline, by value and by property name' {
            $byValue = @(1..2 | ForEach-Object { New-TcpConnection 127.0.0.1 $port })
            $byProperty = New-TcpConnection 127.0.0.1 $port
            $fromMessage = New-TcpConnection 127.0.0.1 $port
            $byValue | Close-TcpConnection
            [pscustomobject]@{ Connection = $byProperty } | Close-TcpConnection
            # A message sent with -PassThru carries its connection.
            Send-TcpMessage -Connection $fromMessage -Message 'bye' -PassThru | Close-TcpConnection
            @($byValue + $byProperty + $fromMessage).State | Select-Object -Unique | Should -Be 'Closed'
            Get-TcpConnection | Should -BeNullOrEmpty
        }

        It 'does nothing, and writes no error, for a connection that is already closed' {
            $connection = New-TcpConnection 127.0.0.1 $port
            $connection | Close-TcpConnection
            $connection | Close-TcpConnection -ErrorVariable failures
            $succeeded = $?
            $succeeded | Should -BeTrue
            $failures | Should -BeNullOrEmpty
            $connection.State | Should -Be 'Closed'
        }

        It 'after closing, Send-TcpMessage and Receive-TcpMessage fail with ConnectionClosed and $? is false' {
            $connection = New-TcpConnection 127.0.0.1 $port
            $connection | Close-TcpConnection

            Send-TcpMessage -Connection $connection -Message 'too late' -ErrorVariable sendFailures -ErrorAction SilentlyContinue
            $sendSucceeded = $?
            $sendSucceeded | Should -BeFalse
            $sendFailures | Should -HaveCount 1
            Assert-NetError $sendFailures[0] -Id 'ConnectionClosed' -Category ConnectionError -TargetLike "127.0.0.1:$port"

            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $out = Receive-TcpMessage -Connection $connection -TimeoutSec 10 -ErrorVariable receiveFailures -ErrorAction SilentlyContinue
            $receiveSucceeded = $?
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
            $receiveSucceeded | Should -BeFalse
            $out | Should -BeNullOrEmpty
            $receiveFailures | Should -HaveCount 1
            Assert-NetError $receiveFailures[0] -Id 'ConnectionClosed' -Category ConnectionError -TargetLike "127.0.0.1:$port"
        }
    }

    Context 'In a server handler' {
        It 'hangs up on the client that sent the message after a goodbye, and the server serves the others' {
            $bg = Start-BackgroundCommand {
                Start-TcpServer -Port 0 -Count 3 -Handler {
                    if ($_.Text -eq 'quit') {
                        $_.Connection | Send-TcpMessage -Message 'bye'
                        $_.Connection | Close-TcpConnection
                    }
                    else { "ok:$($_.Text)" }
                }
            }
            $quitter = $stayer = $null
            try {
                $serverPort = (Wait-Listening $bg).Port
                $quitter = New-TestTcpClient $serverPort
                $stayer = New-TestTcpClient $serverPort
                Send-TestLines $quitter 'hello', 'quit'
                [System.Text.Encoding]::UTF8.GetString((Read-TestToEnd $quitter)) | Should -BeExactly "ok:hello`nbye`n"
                Send-TestLines $stayer 'still here'
                Read-TestLine $stayer | Should -BeExactly 'ok:still here'
                $result = Wait-BackgroundCommand $bg
                $result.Failure | Should -BeNullOrEmpty
                $result.Errors | Should -BeNullOrEmpty
                $result.Output.Text | Should -Be @('hello', 'quit', 'still here')
            }
            finally {
                if ($quitter) { $quitter.Dispose() }
                if ($stayer) { $stayer.Dispose() }
            }
        }
    }

    Context 'Connections left open' {
        It 'are closed when the runspace that opened them closes' {
            $bg = Start-BackgroundCommand -Parameters @{ Port = $port } {
                param($Port)
                New-TcpConnection 127.0.0.1 $Port
            }
            $connection = (Wait-BackgroundCommand $bg).Output[0]
            $peers.Add((Wait-TestAccept $listener))
            $connection.State | Should -Be 'Open'
            $null = Stop-BackgroundCommand $bg
            $bg = $null
            $connection.State | Should -Be 'Closed'
            # The connection is aborted, not shut down: the server may see a reset rather than a clean end.
            Get-TestTcpEnd $peers[0] | Should -BeIn @('closed', 'reset') -Because 'the server sees the end of the connection'
        }

        It 'are closed when the module is removed' {
            $connection = New-TcpConnection 127.0.0.1 $port
            $peers.Add((Wait-TestAccept $listener))
            $other = New-TcpConnection 127.0.0.1 $port
            $peers.Add((Wait-TestAccept $listener))
            try {
                Remove-Module NetCmdlets
                $connection.State | Should -Be 'Closed'
                $other.State | Should -Be 'Closed'
                Get-TestTcpEnd $peers[0] | Should -BeIn @('closed', 'reset')
            }
            finally {
                Import-Module $NetCmdletsModulePath -Force
            }
            Get-TcpConnection | Should -BeNullOrEmpty -Because 'the connections were forgotten with the module'
        }
    }
}
