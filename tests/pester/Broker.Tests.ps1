# Start-TcpServer -Broker and -Chat with clients that are not the module: ncat and Python; a handler's
# output to all and $_.Broadcast; a member that never reads is dropped without slowing the others.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    # A member: connects, says it is there, then prints every line it receives until the server closes
    # or it has read the count given (0: until the end).
    $script:member = @'
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
print('connected', flush=True)
want = int(sys.argv[2]); got = 0
f = s.makefile('rb')
for line in f:
    print(line.decode().rstrip('\n'), flush=True)
    got += 1
    if want and got >= want: break
'@
}

Describe 'Start-TcpServer -Broker and -Chat' {
    AfterEach {
        Close-TestTcpConnection
        Remove-TestServerJob
    }

    It '-Broker forwards what an ncat client sends to every other client, not back to it, and still emits it' {
        $broker = Start-TcpServer -Port 0 -Broker -AsJob
        $readers = @(1..2 | ForEach-Object { Start-PythonPeer $member -Arguments $broker.Port, 2 })
        try {
            Wait-TestCondition { @(Get-TcpConnection -Server $broker).Count -eq 2 } | Should -BeTrue
            'hello from ncat', 'second line' | ncat --send-only 127.0.0.1 $broker.Port
            $LASTEXITCODE | Should -Be 0
            $readers | ForEach-Object { Wait-PythonPeer $_ | Should -Be "hello from ncat`nsecond line" }
            Wait-TestCondition { $broker.Statistics.MessagesReceived -ge 2 } | Should -BeTrue
            @($broker | Receive-Job).Text | Should -Be 'hello from ncat', 'second line'
        }
        finally { $readers | ForEach-Object { Stop-PythonPeer $_ } }
    }

    It '-Broker forwards each line as it came, and a last line without its line feed as a line of its own' {
        $broker = Start-TcpServer -Port 0 -Broker -AsJob
        $readers = @(1..3 | ForEach-Object { Start-PythonPeer $member -Arguments $broker.Port, 4 })
        try {
            Wait-TestCondition { @(Get-TcpConnection -Server $broker).Count -eq 3 } | Should -BeTrue
            # One write holding CRLF and LF lines, then an unterminated one, and the end.
            $python = "import socket; s = socket.create_connection(('127.0.0.1', $($broker.Port))); s.sendall(b'one\r\ntwo\nthree\r\nlast'); s.close()"
            python3 -c $python
            $readers | ForEach-Object { Wait-PythonPeer $_ | Should -Be "one`r`ntwo`nthree`r`nlast" }
        }
        finally { $readers | ForEach-Object { Stop-PythonPeer $_ } }
    }

    It '-Chat names each member, tells a newcomer who is there, and announces joins and leaves' {
        $chat = Start-TcpServer -Port 0 -Chat -AsJob
        $alice = New-TcpConnection -ComputerName 127.0.0.1 -Port $chat.Port
        (Receive-TcpMessage -Connection $alice).Text | Should -Be '<announce> already connected: nobody.'
        $bob = Start-PythonPeer $member -Arguments $chat.Port, 2
        try {
            $bobId = @(Get-TcpConnection -Server $chat | Where-Object { "$($_.RemoteEndPoint)" -ne "$($alice.LocalEndPoint)" })[0].Id
            $aliceId = @(Get-TcpConnection -Server $chat | Where-Object { "$($_.RemoteEndPoint)" -eq "$($alice.LocalEndPoint)" })[0].Id
            (Receive-TcpMessage -Connection $alice).Text | Should -Be "<announce> 127.0.0.1 is connected as <user$bobId>."
            Send-TcpMessage -Connection $alice -Message 'hi bob'
            Wait-PythonPeer $bob | Should -Be "<announce> already connected: 127.0.0.1 as <user$aliceId>.`n<user$aliceId> hi bob"
            (Receive-TcpMessage -Connection $alice).Text | Should -Be "<announce> <user$bobId> is disconnected."
        }
        finally { Stop-PythonPeer $bob }
    }

    It 'with a -Handler, its output goes to every member, the sender too, and $_.Broadcast to all but the sender' {
        $broker = Start-TcpServer -Port 0 -Broker -AsJob -Handler {
            if ($_.Text -like 'shout *') { $_.Broadcast("$($_.Text.Substring(6).ToUpper())"); return }
            "$($_.ConnectionId) said $($_.Text)"
        }
        $reader = Start-PythonPeer $member -Arguments $broker.Port, 2
        try {
            Wait-TestCondition { @(Get-TcpConnection -Server $broker).Count -eq 1 } | Should -BeTrue
            $speaker = New-TcpConnection -ComputerName 127.0.0.1 -Port $broker.Port
            (Send-TcpMessage -Connection $speaker -Message 'hello' -Receive).Text | Should -BeLike '* said hello'
            Send-TcpMessage -Connection $speaker -Message 'shout quiet'
            Wait-PythonPeer $reader | Should -BeLike "* said hello`nQUIET"
            # The sender does not get its own broadcast: the next thing it reads is the reply to its next message.
            (Send-TcpMessage -Connection $speaker -Message 'again' -Receive).Text | Should -BeLike '* said again'
        }
        finally { Stop-PythonPeer $reader }
    }

    It 'drops a member that never reads, with a warning, while a reader gets every line and the sender is not slowed' {
        $broker = Start-TcpServer -Port 0 -Broker -AsJob
        $sleeper = Start-PythonPeer @'
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(('127.0.0.1', int(sys.argv[1])))
print(s.getsockname()[1], flush=True)
time.sleep(60)
'@ -Arguments $broker.Port
        $reader = Start-PythonPeer $member -Arguments $broker.Port, 8000
        try {
            Wait-TestCondition { @(Get-TcpConnection -Server $broker).Count -eq 2 } | Should -BeTrue
            $line = 'x' * 1000
            $sender = New-TcpConnection -ComputerName 127.0.0.1 -Port $broker.Port
            # 8 MB through the broker: twice what a member may have waiting.
            foreach ($batch in 1..80) { Send-TcpMessage -Connection $sender -Message (@($line) * 100) }
            $received = @((Wait-PythonPeer $reader -TimeoutSec 60) -split "`n")
            $received.Count | Should -Be 8000
            $received | Select-Object -Unique | Should -Be $line
            Wait-TestCondition { $broker.Warning.Count -ge 1 } | Should -BeTrue
            "$($broker.Warning[0])" | Should -BeLike 'Dropped connection #*: it took none of the * bytes queued for it*'
            # The member that never read is gone; the sender is still there.
            @(Get-TcpConnection -Server $broker | ForEach-Object { $_.RemoteEndPoint.Port }) | Should -Not -Contain ([int]$sleeper.Ready)
            @(Get-TcpConnection -Server $broker | ForEach-Object { "$($_.RemoteEndPoint)" }) | Should -Contain "$($sender.LocalEndPoint)"
        }
        finally { Stop-PythonPeer $sleeper; Stop-PythonPeer $reader }
    }
}
