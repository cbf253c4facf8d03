# -Proxy and -ProxyCredential on Send-TcpMessage, New-TcpConnection and Test-TcpPort, through real
# proxies started here on loopback: microsocks (SOCKS5, with and without its user/password method),
# dante (SOCKS5 with rules) and tinyproxy (HTTP CONNECT, with a filter and Basic credentials); every
# refusal's error id, and a proxy that is not there, says nothing, or does not speak its protocol.
BeforeDiscovery {
    $script:haveMicrosocks = [bool](Get-Command microsocks -CommandType Application -ErrorAction Ignore)
    $script:haveDante = [bool](Get-Command danted -CommandType Application -ErrorAction Ignore)
    $script:haveTinyproxy = [bool](Get-Command tinyproxy -CommandType Application -ErrorAction Ignore)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    # Starts a proxy program on a free loopback port and waits until it listens.
    function Start-ProxyPeer {
        param([string] $FilePath, [scriptblock] $Arguments)
        $port = Get-UnusedTcpPort
        $log = Join-Path $TestDrive "$([IO.Path]::GetFileName($FilePath))-$port.log"
        $process = Start-Process $FilePath -ArgumentList (& $Arguments $port) -PassThru -RedirectStandardOutput $log -RedirectStandardError "$log.err"
        $listening = Wait-TestCondition { (Test-TcpPort -ComputerName 127.0.0.1 -Port $port -TimeoutSec 1).Open -or $process.HasExited }
        if (-not $listening -or $process.HasExited) {
            throw "$FilePath did not listen on $port`: $(Get-Content "$log.err", $log -Raw -ErrorAction Ignore)"
        }
        [pscustomobject]@{ Process = $process; Port = $port }
    }

    function Stop-ProxyPeer {
        param($Peer)
        if ($null -eq $Peer) { return }
        if (-not $Peer.Process.HasExited) { $Peer.Process.Kill($true); $null = $Peer.Process.WaitForExit(5000) }
    }

    function Get-ErrorId {
        param($ErrorRecord)
        ($ErrorRecord.FullyQualifiedErrorId -split ',')[0]
    }

    $script:alice = [pscredential]::new('alice', (ConvertTo-SecureString 'secret' -AsPlainText -Force))
    $script:wrong = [pscredential]::new('alice', (ConvertTo-SecureString 'wrong' -AsPlainText -Force))
    $script:server = Start-TcpServer -Port 0 -AsJob -Handler { "echo $($_.Text)" }
}

AfterAll {
    if ($server) { $server | Stop-Job -PassThru | Remove-Job -Force }
}

Describe 'Through microsocks (SOCKS5)' -Skip:(-not $haveMicrosocks) {
    BeforeAll {
        $script:open = Start-ProxyPeer microsocks { param($port) '-i', '127.0.0.1', '-p', "$port" }
        $script:locked = Start-ProxyPeer microsocks { param($port) '-i', '127.0.0.1', '-p', "$port", '-u', 'alice', '-P', 'secret' }
    }
    AfterAll {
        Stop-ProxyPeer $open
        Stop-ProxyPeer $locked
    }

    It 'sends and receives with socks5:// (resolved here) and socks5h:// (resolved by the proxy)' {
        (Send-TcpMessage -ComputerName 127.0.0.1 -Port $server.Port -Message 'one' -Receive -Proxy "socks5://127.0.0.1:$($open.Port)").Text | Should -Be 'echo one'
        (Send-TcpMessage -ComputerName localhost -Port $server.Port -Message 'two' -Receive -Proxy "socks5h://127.0.0.1:$($open.Port)").Text | Should -Be 'echo two'
    }

    It 'holds a conversation over New-TcpConnection through the proxy' {
        $connection = New-TcpConnection -ComputerName 127.0.0.1 -Port $server.Port -Proxy "socks5h://127.0.0.1:$($open.Port)"
        try {
            1..20 | ForEach-Object { (Send-TcpMessage -Connection $connection -Message "line $_" -Receive).Text | Should -Be "echo line $_" }
        }
        finally { Close-TcpConnection -Connection $connection }
    }

    It 'uses the user/password method with -ProxyCredential, or with the user and password in the URI' {
        (Send-TcpMessage -ComputerName 127.0.0.1 -Port $server.Port -Message 'auth' -Receive -Proxy "socks5://127.0.0.1:$($locked.Port)" -ProxyCredential $alice).Text | Should -Be 'echo auth'
        (Send-TcpMessage -ComputerName 127.0.0.1 -Port $server.Port -Message 'uri' -Receive -Proxy "socks5://alice:secret@127.0.0.1:$($locked.Port)").Text | Should -Be 'echo uri'
    }

    It 'says ProxyAuthenticationFailed without credentials and with wrong ones' {
        Send-TcpMessage -ComputerName 127.0.0.1 -Port $server.Port -Message 'x' -Proxy "socks5://127.0.0.1:$($locked.Port)" -ErrorVariable none -ErrorAction SilentlyContinue
        Assert-NetError $none[0] -Id ProxyAuthenticationFailed -Category AuthenticationError -TargetLike "127.0.0.1:$($server.Port)"
        $none[0].Exception.Message | Should -BeLike '*-ProxyCredential*'
        Send-TcpMessage -ComputerName 127.0.0.1 -Port $server.Port -Message 'x' -Proxy "socks5://127.0.0.1:$($locked.Port)" -ProxyCredential $wrong -ErrorVariable bad -ErrorAction SilentlyContinue
        Get-ErrorId $bad[0] | Should -Be 'ProxyAuthenticationFailed'
        $bad[0].Exception.Message | Should -BeLike "*'alice'*"
        $bad[0].Exception.Message | Should -Not -BeLike '*wrong*'
    }

    It 'says ConnectionRefused when the host refuses the proxy' {
        $closed = Get-UnusedTcpPort
        Send-TcpMessage -ComputerName 127.0.0.1 -Port $closed -Message 'x' -Proxy "socks5://127.0.0.1:$($open.Port)" -ErrorVariable refused -ErrorAction SilentlyContinue
        Assert-NetError $refused[0] -Id ConnectionRefused -Category ConnectionError -TargetLike "127.0.0.1:$closed"
        $refused[0].Exception.Message | Should -BeLike '*proxy*'
    }

    It 'speaks TLS to the host through the tunnel' {
        $cert = New-TlsCertificate
        $tls = Start-TcpServer -Port 0 -Certificate $cert -AsJob -Handler { "tls $($_.Text)" }
        try {
            (Send-TcpMessage -ComputerName localhost -Port $tls.Port -Message 'secret' -Receive -TrustedCertificate $cert -Proxy "socks5h://127.0.0.1:$($open.Port)").Text | Should -Be 'tls secret'
        }
        finally { $tls | Stop-Job -PassThru | Remove-Job -Force }
    }

    It 'Test-TcpPort -Proxy finds open and refused ports as the proxy sees them' {
        $closed = Get-UnusedTcpPort
        $results = @(Test-TcpPort -ComputerName 127.0.0.1 -Port $server.Port, $closed -Proxy "socks5://127.0.0.1:$($open.Port)")
        ($results | Sort-Object Port | Where-Object Port -EQ $server.Port).Status | Should -Be 'Open'
        ($results | Where-Object Port -EQ $closed).Status | Should -Be 'Refused'
        Test-TcpPort -ComputerName 127.0.0.1 -Port $server.Port -Proxy "socks5://127.0.0.1:$($locked.Port)" -ErrorVariable denied -ErrorAction SilentlyContinue |
            ForEach-Object Status | Should -Be 'Unreachable'
        Get-ErrorId $denied[0] | Should -Be 'ProxyAuthenticationFailed'
    }
}

Describe 'Through dante (SOCKS5 with rules)' -Skip:(-not $haveDante) {
    BeforeAll {
        $script:blockedPort = Get-UnusedTcpPort
        $script:dante = Start-ProxyPeer danted {
            param($port)
            $config = Join-Path $TestDrive "danted-$port.conf"
            @"
logoutput: stderr
internal: 127.0.0.1 port = $port
external: 127.0.0.1
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
socks block { from: 0.0.0.0/0 to: 127.0.0.1/32 port = $blockedPort }
socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
"@ | Set-Content -Path $config
            '-f', $config
        }
    }
    AfterAll {
        Stop-ProxyPeer $dante
    }

    It 'sends and receives through dante' {
        (Send-TcpMessage -ComputerName localhost -Port $server.Port -Message 'dante' -Receive -Proxy "socks5h://127.0.0.1:$($dante.Port)").Text | Should -Be 'echo dante'
    }

    It 'says ProxyRefused for a connection its rules block' {
        Send-TcpMessage -ComputerName 127.0.0.1 -Port $blockedPort -Message 'x' -Proxy "socks5://127.0.0.1:$($dante.Port)" -ErrorVariable blocked -ErrorAction SilentlyContinue
        Assert-NetError $blocked[0] -Id ProxyRefused -Category PermissionDenied -TargetLike "127.0.0.1:$blockedPort"
    }

    It 'says ProxyHostUnreachable for a name the proxy cannot resolve' {
        Send-TcpMessage -ComputerName 'no-such-host.invalid' -Port 80 -Message 'x' -Proxy "socks5h://127.0.0.1:$($dante.Port)" -TimeoutSec 20 -ErrorVariable unknown -ErrorAction SilentlyContinue
        Assert-NetError $unknown[0] -Id ProxyHostUnreachable -Category ResourceUnavailable -TargetLike 'no-such-host.invalid:80'
    }

    It 'with socks5:// resolves the name here, so a name nobody knows is NameNotResolved before the proxy is asked' {
        Send-TcpMessage -ComputerName 'no-such-host.invalid' -Port 80 -Message 'x' -Proxy "socks5://127.0.0.1:$($dante.Port)" -ErrorVariable local -ErrorAction SilentlyContinue
        Get-ErrorId $local[0] | Should -Be 'NameNotResolved'
    }

    It 'Test-TcpPort -Proxy gives Unreachable and the ProxyRefused error for a blocked port' {
        $result = Test-TcpPort -ComputerName 127.0.0.1 -Port $blockedPort -Proxy "socks5://127.0.0.1:$($dante.Port)" -ErrorVariable blocked -ErrorAction SilentlyContinue
        $result.Status | Should -Be 'Unreachable'
        Get-ErrorId $blocked[0] | Should -Be 'ProxyRefused'
    }
}

Describe 'Through tinyproxy (HTTP CONNECT)' -Skip:(-not $haveTinyproxy) {
    BeforeAll {
        $filter = Join-Path $TestDrive 'tinyproxy.filter'
        '^blocked\.example$' | Set-Content -Path $filter
        $script:tiny = Start-ProxyPeer tinyproxy {
            param($port)
            $config = Join-Path $TestDrive "tinyproxy-$port.conf"
            "Port $port", 'Listen 127.0.0.1', 'Timeout 30', 'Allow 127.0.0.1', "Filter `"$filter`"", 'FilterType ere', 'FilterURLs Off', 'LogLevel Info' | Set-Content -Path $config
            '-d', '-c', $config
        }
        $script:tinyAuth = Start-ProxyPeer tinyproxy {
            param($port)
            $config = Join-Path $TestDrive "tinyproxy-$port.conf"
            "Port $port", 'Listen 127.0.0.1', 'Timeout 30', 'Allow 127.0.0.1', 'BasicAuth alice secret', 'LogLevel Info' | Set-Content -Path $config
            '-d', '-c', $config
        }
    }
    AfterAll {
        Stop-ProxyPeer $tiny
        Stop-ProxyPeer $tinyAuth
    }

    It 'holds a conversation through a CONNECT tunnel' {
        $connection = New-TcpConnection -ComputerName 127.0.0.1 -Port $server.Port -Proxy "http://127.0.0.1:$($tiny.Port)"
        try {
            (Send-TcpMessage -Connection $connection -Message 'one' -Receive).Text | Should -Be 'echo one'
            (Send-TcpMessage -Connection $connection -Message 'two' -Receive).Text | Should -Be 'echo two'
        }
        finally { Close-TcpConnection -Connection $connection }
    }

    It 'sends Basic credentials, and says ProxyAuthenticationFailed without them or with wrong ones' {
        (Send-TcpMessage -ComputerName 127.0.0.1 -Port $server.Port -Message 'auth' -Receive -Proxy "http://127.0.0.1:$($tinyAuth.Port)" -ProxyCredential $alice).Text | Should -Be 'echo auth'
        Send-TcpMessage -ComputerName 127.0.0.1 -Port $server.Port -Message 'x' -Proxy "http://127.0.0.1:$($tinyAuth.Port)" -ErrorVariable none -ErrorAction SilentlyContinue
        Assert-NetError $none[0] -Id ProxyAuthenticationFailed -Category AuthenticationError -TargetLike "127.0.0.1:$($server.Port)"
        Send-TcpMessage -ComputerName 127.0.0.1 -Port $server.Port -Message 'x' -Proxy "http://127.0.0.1:$($tinyAuth.Port)" -ProxyCredential $wrong -ErrorVariable bad -ErrorAction SilentlyContinue
        Get-ErrorId $bad[0] | Should -Be 'ProxyAuthenticationFailed'
    }

    It 'says ProxyRefused for a host its filter blocks' {
        Send-TcpMessage -ComputerName blocked.example -Port 443 -Message 'x' -Proxy "http://127.0.0.1:$($tiny.Port)" -ErrorVariable blocked -ErrorAction SilentlyContinue
        Assert-NetError $blocked[0] -Id ProxyRefused -Category PermissionDenied -TargetLike 'blocked.example:443'
    }

    It 'says ProxyHostUnreachable when the proxy cannot reach the host' {
        Send-TcpMessage -ComputerName no-such-host.invalid -Port 443 -Message 'x' -Proxy "http://127.0.0.1:$($tiny.Port)" -TimeoutSec 20 -ErrorVariable unknown -ErrorAction SilentlyContinue
        Get-ErrorId $unknown[0] | Should -Be 'ProxyHostUnreachable'
    }
}

Describe 'A proxy that is not there, says nothing, or speaks something else' {
    It 'says ProxyUnreachable when nothing listens where the proxy should be' {
        $nowhere = Get-UnusedTcpPort
        Send-TcpMessage -ComputerName 127.0.0.1 -Port $server.Port -Message 'x' -Proxy "socks5://127.0.0.1:$nowhere" -ErrorVariable missing -ErrorAction SilentlyContinue
        Assert-NetError $missing[0] -Id ProxyUnreachable -Category ConnectionError -TargetLike "socks5://127.0.0.1:$nowhere"
    }

    It 'says ConnectTimeout within -TimeoutSec when the proxy accepts and never answers' {
        $silent = New-TestTcpListener
        try {
            $clock = [Diagnostics.Stopwatch]::StartNew()
            Send-TcpMessage -ComputerName 127.0.0.1 -Port $server.Port -Message 'x' -Proxy "socks5h://127.0.0.1:$($silent.LocalEndpoint.Port)" -TimeoutSec 1 -ErrorVariable slow -ErrorAction SilentlyContinue
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 10
            Get-ErrorId $slow[0] | Should -Be 'ConnectTimeout'
            $slow[0].Exception.Message | Should -BeLike '*proxy*'
        }
        finally { $silent.Stop() }
    }

    It 'says ProxyFailed for a peer that answers as neither SOCKS5 nor HTTP' {
        $garbage = Start-PythonPeer @'
import socket, threading
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(8)
print(l.getsockname()[1], flush=True)
while True:
    c, _ = l.accept()
    try:
        c.recv(4096); c.sendall(b'SSH-2.0-OpenSSH_9.2\r\n\r\n'); c.close()
    except OSError:
        pass
'@
        try {
            foreach ($scheme in 'socks5', 'http') {
                Send-TcpMessage -ComputerName 127.0.0.1 -Port $server.Port -Message 'x' -Proxy "$scheme`://127.0.0.1:$($garbage.Ready)" -ErrorVariable odd -ErrorAction SilentlyContinue
                Get-ErrorId $odd[0] | Should -Be 'ProxyFailed' -Because $scheme
            }
        }
        finally { Stop-PythonPeer $garbage }
    }

    It 'says InvalidProxy for a scheme it does not speak, and for -ProxyCredential without -Proxy' {
        { Send-TcpMessage -ComputerName 127.0.0.1 -Port $server.Port -Message 'x' -Proxy 'ftp://127.0.0.1:21' -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidProxy,NetCmdlets.Commands.SendTcpMessageCommand'
        { New-TcpConnection -ComputerName 127.0.0.1 -Port $server.Port -ProxyCredential $alice -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidProxy,NetCmdlets.Commands.NewTcpConnectionCommand'
    }

    It 'completes -Proxy with its schemes' {
        $completions = (TabExpansion2 -inputScript 'Send-TcpMessage -Proxy soc' -cursorColumn 26).CompletionMatches.CompletionText
        $completions | Should -Contain 'socks5://127.0.0.1:1080'
        $completions | Should -Contain 'socks5h://127.0.0.1:1080'
    }
}
