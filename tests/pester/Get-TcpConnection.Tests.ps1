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
