BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'Receive-TcpMessage' {
    AfterEach {
        Close-TestTcpConnection
        Remove-TestServerJob
    }

    Context 'With a plain .NET server' {
        BeforeEach {
            $listener = New-TestTcpListener
            $port = $listener.LocalEndpoint.Port
            $peer = $null
            $bg = $null
        }

        AfterEach {
            Stop-BackgroundCommand $bg
            if ($peer) { $peer.Dispose() }
            $listener.Stop()
        }

        It 'emits the next -Count lines as TcpMessage objects of the connection, lines that came before it asked first' {
            $connection = New-TcpConnection 127.0.0.1 $port
            $peer = Wait-TestAccept $listener
            Send-TestLines $peer 'early 1', 'early 2'
            # Arrived and held by the connection (messages are counted when they are read).
            Wait-TestCondition { $connection.BytesReceived -ge 16 } | Should -BeTrue
            $connection.MessagesReceived | Should -Be 0
            Send-TestLines $peer 'later', 'grüße €' -NewLine "`r`n"

            $messages = @(Receive-TcpMessage -Connection $connection -Count 4)
            $messages | Should -HaveCount 4
            $messages.Text | Should -Be @('early 1', 'early 2', 'later', 'grüße €')
            foreach ($m in $messages) {
                $m.psobject.BaseObject | Should -BeOfType ([NetCmdlets.Core.Messages.TcpMessage])
                $m.Direction | Should -Be 'Received'
                $m.Connection | Should -Be $connection
                $m.ConnectionId | Should -Be $connection.Id
                $m.RemoteEndPoint.ToString() | Should -Be "127.0.0.1:$port"
                $m.LocalEndPoint.ToString() | Should -Be $connection.LocalEndPoint.ToString()
            }
            ($messages[3].Data -join ',') | Should -Be ([System.Text.Encoding]::UTF8.GetBytes('grüße €') -join ',') -Because 'the CR is not part of the line'
            $connection.State | Should -Be 'Open'
        }

        It 'takes the connection from the pipeline, by value and by property name, each piped connection in turn' {
            $first = New-TcpConnection 127.0.0.1 $port
            $firstPeer = Wait-TestAccept $listener
            $second = New-TcpConnection 127.0.0.1 $port
            $peer = Wait-TestAccept $listener
            try {
                Send-TestLines $firstPeer 'first 1', 'first 2', 'first 3'
                Send-TestLines $peer 'second 1', 'second 2', 'second 3'
                ($first | Receive-TcpMessage).Text | Should -Be 'first 1'
                ([pscustomobject]@{ Connection = $second } | Receive-TcpMessage).Text | Should -Be 'second 1'
                $both = @($first, $second | Receive-TcpMessage)
                $both.Text | Should -Be @('first 2', 'second 2')
                # A sent message has a Connection property too: its reply can be read by piping it on.
                $sent = Send-TcpMessage -Connection $first -Message 'question' -PassThru
                ($sent | Receive-TcpMessage).Text | Should -Be 'first 3'
            }
            finally {
                $firstPeer.Dispose()
            }
        }

        It 'ReceiveTimeout when no line comes in time: $? is false, the connection stays open and the next line is received' {
            $connection = New-TcpConnection 127.0.0.1 $port
            $peer = Wait-TestAccept $listener
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $out = Receive-TcpMessage -Connection $connection -TimeoutSec 0.3 -ErrorVariable failures -ErrorAction SilentlyContinue
            $succeeded = $?
            $clock.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 0.25
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
            $succeeded | Should -BeFalse
            $out | Should -BeNullOrEmpty
            $failures | Should -HaveCount 1
            Assert-NetError $failures[0] -Id 'ReceiveTimeout' -Category OperationTimeout -TargetLike "127.0.0.1:$port"
            $connection.State | Should -Be 'Open'

            Send-TestLines $peer 'late but fine'
            (Receive-TcpMessage -Connection $connection).Text | Should -Be 'late but fine'
        }

        It 'ConnectionClosed when the server closes before -Count lines: the lines first, then the error; State Closed, no longer listed' {
            $connection = New-TcpConnection 127.0.0.1 $port
            $peer = Wait-TestAccept $listener
            Send-TestLines $peer 'line 1', 'line 2'
            $peer.Dispose()
            $peer = $null
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $messages = @(Receive-TcpMessage -Connection $connection -Count 10 -TimeoutSec 10 -ErrorVariable failures -ErrorAction SilentlyContinue)
            $succeeded = $?
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 5 -Because 'the end of the connection is seen at once, not after -TimeoutSec'
            $succeeded | Should -BeFalse
            $messages.Text | Should -Be @('line 1', 'line 2')
            $failures | Should -HaveCount 1
            Assert-NetError $failures[0] -Id 'ConnectionClosed' -Category ConnectionError -TargetLike "127.0.0.1:$port"
            "$($failures[0])" | Should -BeLike '*2 of 10*'
            $connection.State | Should -Be 'Closed'
            Get-TcpConnection -Id $connection.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }

        It 'ConnectionReset when the server resets the connection' {
            $connection = New-TcpConnection 127.0.0.1 $port
            $peer = Wait-TestAccept $listener
            Send-TestLines $peer 'before the reset'
            (Receive-TcpMessage -Connection $connection).Text | Should -Be 'before the reset'
            Reset-TestTcpClient $peer
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $out = Receive-TcpMessage -Connection $connection -TimeoutSec 10 -ErrorVariable failures -ErrorAction SilentlyContinue
            $succeeded = $?
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
            $succeeded | Should -BeFalse
            $out | Should -BeNullOrEmpty
            $failures | Should -HaveCount 1
            Assert-NetError $failures[0] -Id 'ConnectionReset' -Category ConnectionError -TargetLike "127.0.0.1:$port"
            $connection.State | Should -Be 'Closed'
        }

        It 'FramingError for a line longer than the -MaxMessageLength of New-TcpConnection' {
            $connection = New-TcpConnection 127.0.0.1 $port -MaxMessageLength 10
            $peer = Wait-TestAccept $listener
            Send-TestLines $peer 'short', ('x' * 50)
            (Receive-TcpMessage -Connection $connection).Text | Should -Be 'short'
            $out = Receive-TcpMessage -Connection $connection -TimeoutSec 10 -ErrorVariable failures -ErrorAction SilentlyContinue
            $succeeded = $?
            $succeeded | Should -BeFalse
            $out | Should -BeNullOrEmpty
            $failures | Should -HaveCount 1
            Assert-NetError $failures[0] -Id 'FramingError.Line.MessageTooLong' -Category InvalidData -TargetLike "127.0.0.1:$port"
            $connection.State | Should -Be 'Closed'
        }

        It 'stopping the pipeline ends a wait without limit at once and leaves the connection open' {
            $connection = New-TcpConnection 127.0.0.1 $port
            $peer = Wait-TestAccept $listener
            # The connection object works from any runspace of the process.
            $bg = Start-BackgroundCommand -Parameters @{ Connection = $connection } {
                param($Connection)
                Receive-TcpMessage -Connection $Connection -TimeoutSec 0
            }
            # Once the background command is waiting, nothing changes until it is stopped.
            Wait-TestCondition { $bg.PowerShell.InvocationStateInfo.State -eq 'Running' } | Should -BeTrue
            $stopTook = Stop-BackgroundCommand $bg
            $bg = $null
            $stopTook.TotalSeconds | Should -BeLessThan 1.5
            $connection.State | Should -Be 'Open'
            Send-TestLines $peer 'after the stop'
            (Receive-TcpMessage -Connection $connection).Text | Should -Be 'after the stop'
        }
    }

    Context 'With a server job' {
        It 'a handler that closes the connection is seen by the client at once, after the lines it sent' {
            $job = Start-TcpServer -Port 0 -AsJob -Handler {
                $_.Connection | Send-TcpMessage -Message "bye $($_.Text)"
                $_.Connection | Close-TcpConnection
            }
            $connection = New-TcpConnection 127.0.0.1 $job.Port
            Send-TcpMessage -Connection $connection -Message 'client'
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $messages = @(Receive-TcpMessage -Connection $connection -Count 2 -TimeoutSec 10 -ErrorVariable failures -ErrorAction SilentlyContinue)
            $succeeded = $?
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 5 -Because 'a closed connection is reported at once, not after -TimeoutSec'
            $succeeded | Should -BeFalse
            $messages.Text | Should -Be 'bye client'
            $failures | Should -HaveCount 1
            Assert-NetError $failures[0] -Id 'ConnectionClosed' -Category ConnectionError -TargetLike "127.0.0.1:$($job.Port)"
            $connection.State | Should -Be 'Closed'
            $job.State | Should -Be 'Running'
            $job.Error.Count | Should -Be 0
        }

        It 'stopping the server job is seen by a waiting client as ConnectionClosed or ConnectionReset, at once' {
            $job = Start-TcpServer -Port 0 -AsJob -Handler { "ack:$($_.Text)" }
            $connection = New-TcpConnection 127.0.0.1 $job.Port
            (Send-TcpMessage -Connection $connection -Message 'hello' -Receive).Text | Should -Be 'ack:hello'
            # The client waits in another runspace while this one stops the server.
            $bg = Start-BackgroundCommand -Parameters @{ Connection = $connection } {
                param($Connection)
                Receive-TcpMessage -Connection $Connection -TimeoutSec 10
            }
            try {
                Wait-TestCondition { $bg.PowerShell.InvocationStateInfo.State -eq 'Running' } | Should -BeTrue
                $clock = [System.Diagnostics.Stopwatch]::StartNew()
                Stop-Job $job
                $result = Wait-BackgroundCommand $bg -TimeoutSec 5
                $clock.Elapsed.TotalSeconds | Should -BeLessThan 5 -Because 'the end of the connection is seen at once, not after -TimeoutSec'
                $result.Output | Should -BeNullOrEmpty
                $result.Errors | Should -HaveCount 1
                ($result.Errors[0].FullyQualifiedErrorId -split ',')[0] | Should -BeIn @('ConnectionClosed', 'ConnectionReset')
                $result.Errors[0].CategoryInfo.Category | Should -Be 'ConnectionError'
                $connection.State | Should -Be 'Closed'
            }
            finally {
                Stop-BackgroundCommand $bg
            }
        }

        It 'cannot read a server''s connection: a ServerConnection error in the handler' {
            $job = Start-TcpServer -Port 0 -AsJob -Handler {
                $null = $_.Connection | Receive-TcpMessage -TimeoutSec 1 -ErrorVariable failure -ErrorAction SilentlyContinue
                "$(($failure[0].FullyQualifiedErrorId -split ',')[0])|$($failure[0].CategoryInfo.Category)"
            }
            $connection = New-TcpConnection 127.0.0.1 $job.Port
            (Send-TcpMessage -Connection $connection -Message 'read yourself' -Receive).Text | Should -Be 'ServerConnection|InvalidOperation'
        }
    }
}

Describe 'Messages and connections as data' {
    BeforeAll { . (Join-Path $PSScriptRoot 'common.ps1') }
    AfterEach { Close-TestTcpConnection }

    It 'a message converts to small JSON and CSV: no connection or encoding internals, no depth warning, Data as hex in CSV' {
        $listener = New-TestTcpListener
        try {
            $connection = New-TcpConnection 127.0.0.1 $listener.LocalEndpoint.Port
            $peer = Wait-TestAccept $listener
            Send-TestLines $peer 'Hi'
            $message = Receive-TcpMessage -Connection $connection
            $json = $message | ConvertTo-Json -WarningVariable warnings
            $warnings | Should -BeNullOrEmpty
            $data = $json | ConvertFrom-Json
            @($data.PSObject.Properties.Name | Sort-Object) | Should -Be @('ConnectionId', 'Data', 'Direction', 'Length', 'LocalEndPoint', 'RemoteEndPoint', 'Text', 'Timestamp')
            $data.RemoteEndPoint.Address | Should -Be '127.0.0.1'
            $data.RemoteEndPoint.Port | Should -Be $listener.LocalEndpoint.Port
            $json.Length | Should -BeLessThan 600
            $csv = $message | ConvertTo-Csv | ConvertFrom-Csv
            $csv.Data | Should -Be '4869'
            $csv.Text | Should -Be 'Hi'
            "$($csv.PSObject.Properties.Value)" | Should -Not -BeLike '*System.*'
            # Still there for scripts: the connection, the bytes as bytes.
            $message.Connection | Should -Be $connection
            $message.Data.Length | Should -Be 2
            [Text.Encoding]::ASCII.GetString($message.Data) | Should -Be 'Hi'
            ($message.Data | Format-Hex | Out-String) | Should -BeLike '*48 69*'
            $message.RemoteEndPoint.ToString() | Should -Be "127.0.0.1:$($listener.LocalEndpoint.Port)"
            # The connection's own views name no internal types.
            ($connection | Format-List | Out-String) | Should -Not -BeLike '*System.Text*'
            ($connection | Format-List | Out-String) | Should -BeLike '*Encoding*utf-8*'
        }
        finally {
            if ($peer) { $peer.Dispose() }
            $listener.Stop()
        }
    }
}

Describe 'Replies of several messages' {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        # Answers each line with several lines, as Redis bulk replies and SMTP multi-line replies do.
        $multiLine = @'
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); f = c.makefile("rb")
for line in f:
    cmd = line.strip().decode()
    if cmd == "GET": c.sendall(b"$5\r\nhello\r\n")
    elif cmd == "EHLO": c.sendall(b"250-one\r\n250-two\r\n250 last\r\n")
    elif cmd == "LIST": c.sendall(b"a\r\nb\r\nc\r\n")
    elif cmd == "QUIT": break
c.close()
'@
    }
    AfterEach { Close-TestTcpConnection }

    It 'Send-TcpMessage -Receive -ReceiveCount 2 reads a two-line bulk reply; -Until a pattern reads to the last line of a multi-line reply' {
        $peer = Start-PythonPeer $multiLine
        try {
            $connection = New-TcpConnection 127.0.0.1 $peer.Ready
            (Send-TcpMessage -Connection $connection -Message 'GET' -Receive -ReceiveCount 2).Text | Should -Be '$5', 'hello'
            (Send-TcpMessage -Connection $connection -Message 'EHLO' -Receive -Until '^\d{3} ').Text | Should -Be '250-one', '250-two', '250 last'
            # A script block works as well, and lines after the match stay for the next read.
            (Send-TcpMessage -Connection $connection -Message 'LIST' -Receive -Until { $_.Text -eq 'b' }).Text | Should -Be 'a', 'b'
            (Receive-TcpMessage -Connection $connection).Text | Should -Be 'c'
        }
        finally { Stop-PythonPeer $peer }
    }

    It 'Receive-TcpMessage -IdleSec ends a reply of unknown length when the peer goes quiet, with $? true' {
        $peer = Start-PythonPeer $multiLine
        try {
            $connection = New-TcpConnection 127.0.0.1 $peer.Ready
            Send-TcpMessage -Connection $connection -Message 'LIST'
            $lines = @(Receive-TcpMessage -Connection $connection -IdleSec 0.3)
            $ok = $?
            $lines.Text | Should -Be 'a', 'b', 'c'
            $ok | Should -BeTrue
        }
        finally { Stop-PythonPeer $peer }
    }

    It '-Until that never matches before the peer closes is a ConnectionClosed error after the lines that came' {
        $peer = Start-PythonPeer $multiLine
        try {
            $connection = New-TcpConnection 127.0.0.1 $peer.Ready
            'LIST', 'QUIT' | Send-TcpMessage -Connection $connection
            $lines = @(Receive-TcpMessage -Connection $connection -Until 'never' -ErrorVariable failures -ErrorAction SilentlyContinue)
            $lines.Text | Should -Be 'a', 'b', 'c'
            Assert-NetError $failures[0] -Id ConnectionClosed -Category ConnectionError -TargetLike '127.0.0.1:*'
        }
        finally { Stop-PythonPeer $peer }
    }
}
