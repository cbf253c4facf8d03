BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'Get-TcpConnection' {
    BeforeEach {
        Close-TestTcpConnection
        $listener = New-TestTcpListener
        $port = $listener.LocalEndpoint.Port
        $bg = $null
    }

    AfterEach {
        Stop-BackgroundCommand $bg
        Close-TestTcpConnection
        Remove-TestServerJob
        $listener.Stop()
    }

    It 'returns nothing, and no error, when no connection is open' {
        $out = Get-TcpConnection -ErrorVariable failures
        $out | Should -BeNullOrEmpty
        $failures | Should -BeNullOrEmpty
    }

    It 'lists the open connections of this session, ordered by Id, as the objects New-TcpConnection returned' {
        $made = @(1..3 | ForEach-Object { New-TcpConnection 127.0.0.1 $port })
        $listed = @(Get-TcpConnection)
        $listed | Should -HaveCount 3
        $listed.Id | Should -Be @($made.Id | Sort-Object)
        for ($i = 0; $i -lt 3; $i++) {
            [object]::ReferenceEquals($listed[$i].psobject.BaseObject, $made[$i].psobject.BaseObject) | Should -BeTrue
            $listed[$i].State | Should -Be 'Open'
            $listed[$i].Role | Should -Be 'Client'
        }
    }

    It '-Id returns only the connections with those ids' {
        $made = @(1..3 | ForEach-Object { New-TcpConnection 127.0.0.1 $port })
        (Get-TcpConnection -Id $made[1].Id).Id | Should -Be $made[1].Id
        (Get-TcpConnection $made[1].Id).Id | Should -Be $made[1].Id -Because '-Id is the first positional parameter'
        @(Get-TcpConnection -Id $made[2].Id, $made[0].Id).Id | Should -Be @($made[0].Id, $made[2].Id)
    }

    It 'writes a ConnectionNotFound error for an id that matches no connection, as Get-Job does, and still returns the others' {
        $made = New-TcpConnection 127.0.0.1 $port
        # Kept until the end: a dropped TcpClient is finalized whenever the GC runs, which resets the connection.
        $accepted = Wait-TestAccept $listener
        $none = Get-TcpConnection -Id ([int]::MaxValue) -ErrorVariable failures -ErrorAction SilentlyContinue
        $succeeded = $?
        $none | Should -BeNullOrEmpty
        $succeeded | Should -BeFalse
        Assert-NetError $failures[0] -Id ConnectionNotFound -Category ObjectNotFound -TargetLike ([int]::MaxValue)
        $found = Get-TcpConnection -Id $made.Id, 999999 -ErrorVariable partial -ErrorAction SilentlyContinue
        $found.Id | Should -Be $made.Id
        $partial | Should -HaveCount 1
        $accepted.Dispose()
    }

    It 'no longer lists a connection closed by Close-TcpConnection, nor one the server closed once it was read to the end' {
        $kept = New-TcpConnection 127.0.0.1 $port
        $closed = New-TcpConnection 127.0.0.1 $port
        $endedByServer = New-TcpConnection 127.0.0.1 $port
        $peers = @(1..3 | ForEach-Object { Wait-TestAccept $listener })
        try {
            $closed | Close-TcpConnection
            @(Get-TcpConnection).Id | Should -Be @($kept.Id, $endedByServer.Id)

            $serverSide = $peers | Where-Object { $_.Client.RemoteEndPoint.ToString() -eq $endedByServer.LocalEndPoint.ToString() }
            $serverSide.Dispose()
            $null = Receive-TcpMessage -Connection $endedByServer -ErrorAction SilentlyContinue
            @(Get-TcpConnection).Id | Should -Be @($kept.Id)
        }
        finally {
            foreach ($peer in $peers) { $peer.Dispose() }
        }
    }

    It 'lists neither the connections of servers nor those Send-TcpMessage -ComputerName opens' {
        $job = Start-TcpServer -Port 0 -AsJob -Handler { "re:$($_.Text)" }
        $mine = New-TcpConnection 127.0.0.1 $job.Port
        (Send-TcpMessage -Connection $mine -Message 'a' -Receive).Text | Should -Be 're:a'
        (Send-TcpMessage 127.0.0.1 $job.Port -Message 'b' -Receive).Text | Should -Be 're:b'
        $job.Statistics.ConnectionsTotal | Should -Be 2
        @(Get-TcpConnection).Id | Should -Be @($mine.Id)
    }

    It 'lists only the connections of its own runspace' {
        $here = New-TcpConnection 127.0.0.1 $port
        $bg = Start-BackgroundCommand -Parameters @{ Port = $port } {
            param($Port)
            $there = New-TcpConnection 127.0.0.1 $Port
            [pscustomobject]@{ Made = $there; Listed = @(Get-TcpConnection) }
        }
        $result = Wait-BackgroundCommand $bg
        $result.Errors | Should -BeNullOrEmpty
        $there = $result.Output[0].Made
        @($result.Output[0].Listed).Id | Should -Be @($there.Id) -Because 'the other runspace sees only its own connection'
        @(Get-TcpConnection).Id | Should -Be @($here.Id)
    }

    It 'shows a table with the counters of each connection' {
        $connection = New-TcpConnection 127.0.0.1 $port
        $text = Get-TcpConnection | Out-String
        $text | Should -Match 'Id\s+Role\s+State'
        $text | Should -Match 'MsgIn\s+MsgOut'
        $text | Should -Match "$($connection.Id)\s+Client\s+Open"
    }

    It 'feeds Close-TcpConnection, which closes them all' {
        $made = @(1..3 | ForEach-Object { New-TcpConnection 127.0.0.1 $port })
        Get-TcpConnection | Close-TcpConnection
        Get-TcpConnection | Should -BeNullOrEmpty
        $made.State | Select-Object -Unique | Should -Be 'Closed'
    }
}

Describe 'Get-TcpConnection -Server, and pushing to a server''s connections from anywhere' {
    BeforeAll {
        # Python clients that connect, say so, then print every line the server sends until it closes.
        $script:listenerClient = @'
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.sendall(b'hello\n')
f = s.makefile('rb')
print(f.readline().decode().strip(), flush=True)
for line in f:
    print(line.decode().rstrip('\n'), flush=True)
print('end', flush=True)
'@
    }

    AfterEach {
        Close-TestTcpConnection
        Remove-TestServerJob
    }

    It 'lists a server job''s connections with their Server, as the job''s Connections does, and drops one that closed' {
        $job = Start-TcpServer -Port 0 -AsJob -Handler { "hi $($_.Text)" }
        $peers = @(1..3 | ForEach-Object { Start-PythonPeer $listenerClient -Arguments $job.Port })
        try {
            $peers.Ready | Should -Be 'hi hello', 'hi hello', 'hi hello'
            $listed = @(Get-TcpConnection -Server $job)
            $listed.Count | Should -Be 3
            $listed | ForEach-Object { "$($_.Server)" | Should -Be "127.0.0.1:$($job.Port)"; $_.Role | Should -Be 'Server' }
            @($job.Connections.Id) | Should -Be @($listed.Id)
            @($job | Get-TcpConnection -Id $listed[1].Id).Id | Should -Be $listed[1].Id
            $listed[0] | Close-TcpConnection
            Wait-PythonPeer $peers[0] | Should -Be 'end'
            Wait-TestCondition { @(Get-TcpConnection -Server $job).Count -eq 2 } | Should -BeTrue
            Get-TcpConnection -Server 'not a server' -ErrorVariable notServer -ErrorAction SilentlyContinue
            ($notServer[0].FullyQualifiedErrorId -split ',')[0] | Should -Be 'NotAServer'
        }
        finally { $peers | ForEach-Object { Stop-PythonPeer $_ } }
    }

    It 'pushes from the console and from four runspaces at once: every message whole, each sender''s in order' {
        $job = Start-TcpServer -Port 0 -AsJob -Handler { "hi $($_.Text)" }
        $peer = Start-PythonPeer $listenerClient -Arguments $job.Port
        try {
            $peer.Ready | Should -Be 'hi hello'
            $connection = @(Get-TcpConnection -Server $job)[0]
            Send-TcpMessage -Connection $connection -Message 'from the console'
            $module = (Get-Module NetCmdlets).Path
            $senders = foreach ($sender in 1..4) {
                $ps = [powershell]::Create()
                $null = $ps.AddScript({
                        param($module, $connection, $sender)
                        Import-Module $module
                        foreach ($n in 1..100) { Send-TcpMessage -Connection $connection -Message "sender $sender message $n $('x' * 200)" }
                    }).AddArgument($module).AddArgument($connection).AddArgument($sender)
                [pscustomobject]@{ PowerShell = $ps; Handle = $ps.BeginInvoke() }
            }
            foreach ($s in $senders) {
                $s.Handle.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(60)) | Should -BeTrue
                $s.PowerShell.EndInvoke($s.Handle)
                $s.PowerShell.Streams.Error | Should -BeNullOrEmpty
                $s.PowerShell.Dispose()
            }
            $connection | Close-TcpConnection
            $lines = @((Wait-PythonPeer $peer) -split "`n")
            $lines[0] | Should -Be 'from the console'
            $lines[-1] | Should -Be 'end'
            $pushed = @($lines | Where-Object { $_ -like 'sender *' })
            $pushed.Count | Should -Be 400
            $pushed | ForEach-Object { $_ | Should -Match "^sender \d message \d+ x{200}$" }
            foreach ($sender in 1..4) {
                @($pushed | Where-Object { $_ -like "sender $sender *" } | ForEach-Object { [int]($_ -split ' ')[3] }) | Should -Be (1..100)
            }
        }
        finally { Stop-PythonPeer $peer }
    }

    It 'a handler sends to the server''s other connections (a broadcast); a connection that closed gives a ConnectionClosed error' {
        $job = Start-TcpServer -Port 0 -AsJob -Handler {
            Get-TcpConnection -Server $_.Connection | Where-Object Id -NE $_.ConnectionId | Send-TcpMessage -Message "from $($_.ConnectionId): $($_.Text)"
            "sent $($_.Text)"
        }
        $first = Start-PythonPeer $listenerClient -Arguments $job.Port
        try {
            $first.Ready | Should -Be 'sent hello'
            $second = New-TcpConnection -ComputerName 127.0.0.1 -Port $job.Port
            (Send-TcpMessage -Connection $second -Message 'news' -Receive).Text | Should -Be 'sent news'
            $pushed = Get-TcpConnection -Server $job | Where-Object { "$($_.RemoteEndPoint)" -ne "$($second.LocalEndPoint)" }
            $second | Close-TcpConnection
            $pushed | Close-TcpConnection
            @((Wait-PythonPeer $first) -split "`n")[0] | Should -BeLike 'from *: news'
            Send-TcpMessage -Connection $pushed -Message 'too late' -ErrorVariable late -ErrorAction SilentlyContinue
            ($late[0].FullyQualifiedErrorId -split ',')[0] | Should -Be 'ConnectionClosed'
        }
        finally { Stop-PythonPeer $first }
    }
}
