BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    # A group of its own for each run, so that nothing else on the machine is a member of it.
    function New-TestGroup { "239.77.$(Get-Random -Minimum 1 -Maximum 254).$(Get-Random -Minimum 1 -Maximum 254)" }

    # The members of an IPv4 group on lo, as /proc/net/igmp counts them (its Users column); 0 when it is not joined.
    function Get-LoopbackGroupUsers {
        param([Parameter(Mandatory)] [string] $Group)
        $bytes = ([ipaddress]$Group).GetAddressBytes()
        [array]::Reverse($bytes)
        $hex = -join ($bytes | ForEach-Object { $_.ToString('X2') })
        $inLoopback = $false
        foreach ($line in Get-Content /proc/net/igmp) {
            if ($line -match '^\d+\s+(\S+)\s*:') { $inLoopback = $Matches[1] -eq 'lo'; continue }
            if ($inLoopback -and $line -match "^\s+$hex\s+(\d+)") { return [int]$Matches[1] }
        }
        0
    }

    function Receive-JobDatagram {
        # The datagrams a server job has received so far, waiting until there are at least Count.
        param([Parameter(Mandatory)] $Job, [int] $Count = 1)
        $script:received = @()
        $null = Wait-TestCondition { $script:received += @(Receive-Job $Job); $script:received.Count -ge $Count }
        $script:received
    }
}

Describe 'Multicast on the loopback interface' -Skip:(-not $IsLinux) {
    It 'two receivers of one group at one port, and a Python member, all get what Send-UdpDatagram sends; the hop limit is -TimeToLive; the groups are left on stop' {
        $group = New-TestGroup
        $first = Start-UdpServer -Port 0 -AsJob -MulticastGroup $group -Interface lo
        $port = $first.Port
        $bg = Start-BackgroundCommand { param($Port, $Group) Receive-UdpDatagram -Port $Port -MulticastGroup $Group -Interface 127.0.0.1 -Count 2 } -Parameters @{ Port = $port; Group = $group }
        $member = @'
import socket, sys
group, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", port))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(group) + socket.inet_aton("127.0.0.1"))
s.setsockopt(socket.IPPROTO_IP, getattr(socket, "IP_RECVTTL", 12), 1)
s.settimeout(20)
print("joined", flush=True)
data, ancillary, flags, sender = s.recvmsg(512, socket.CMSG_SPACE(4))
ttl = [int.from_bytes(d, "little") for level, kind, d in ancillary if kind == getattr(socket, "IP_TTL", 2)]
print(data.decode(), ttl[0] if ttl else -1)
'@
        $peer = Start-PythonPeer $member -Arguments $group, $port
        try {
            Wait-Listening $bg | Out-Null
            (Get-LoopbackGroupUsers $group) | Should -Be 3 -Because 'the job, the background receiver and the Python peer joined'
            'to the group' | Send-UdpDatagram -ComputerName $group -Port $port -Interface lo -TimeToLive 3
            Wait-PythonPeer $peer | Should -Be 'to the group 3'
            $inJob = Receive-JobDatagram $first
            $inJob[0].Text | Should -Be 'to the group'
            $inJob[0].LocalEndPoint.Address | Should -Be $group -Because 'the datagram was addressed to the group'
            $inJob[0].LocalEndPoint.Port | Should -Be $port
            $null = Wait-TestCondition { $bg.Output.Count -ge 1 }
            $bg.Output[0].Text | Should -Be 'to the group'
            $bg.Output[0].LocalEndPoint.Address | Should -Be $group
        }
        finally {
            Stop-PythonPeer $peer
            Stop-BackgroundCommand $bg
            $first | Stop-Job -PassThru | Remove-Job
        }
        Wait-TestCondition { (Get-LoopbackGroupUsers $group) -eq 0 } | Should -BeTrue -Because 'every receiver left the group when it stopped'
    }

    It 'a datagram a Python program sends to the group reaches Receive-UdpDatagram, and its answer goes back to the sender''s address' {
        $group = New-TestGroup
        $bg = Start-BackgroundCommand { param($Group) Start-UdpServer -Port 0 -MulticastGroup $Group -Interface lo -Count 1 -Handler { "member heard $($_.Text)" } } -Parameters @{ Group = $group }
        $port = (Wait-Listening $bg).Port
        $sender = @'
import socket, sys
group, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
s.settimeout(20)
print(s.getsockname()[1], flush=True)
s.sendto(b"who is there?", (group, port))
data, member = s.recvfrom(512)
print(data.decode())
'@
        $peer = Start-PythonPeer $sender -Arguments $group, $port
        try {
            Wait-PythonPeer $peer | Should -Be 'member heard who is there?'
            Wait-BackgroundCommand $bg | Out-Null
            $bg.Output[0].LocalEndPoint.Address | Should -Be $group
            $bg.Output[0].RemoteEndPoint.Address | Should -Be '127.0.0.1'
        }
        finally {
            Stop-PythonPeer $peer
            Stop-BackgroundCommand $bg
        }
    }

    It 'Send-UdpDatagram -Receive to a group takes the answers of every member' {
        $group = New-TestGroup
        $one = Start-UdpServer -Port 0 -AsJob -MulticastGroup $group -Interface lo -Handler { 'one' }
        $two = Start-UdpServer -Port $one.Port -AsJob -MulticastGroup $group -Interface lo -Handler { 'two' }
        try {
            $answers = 'roll call' | Send-UdpDatagram -ComputerName $group -Port $one.Port -Interface lo -Receive -Count 2
            $answers.Text | Sort-Object | Should -Be 'one', 'two'
        }
        finally { $one, $two | Stop-Job -PassThru | Remove-Job }
    }

    It 'refuses an address that is not a group, and an interface that does not exist, naming what is wrong' {
        { Receive-UdpDatagram -Port 0 -MulticastGroup 10.1.2.3 -TimeoutSec 1 } | Should -Throw -ErrorId 'AddressNotAvailable*'
        { Receive-UdpDatagram -Port 0 -MulticastGroup 239.1.2.3, ff15::1 -TimeoutSec 1 } | Should -Throw -ExpectedMessage '*all be IPv4 or all be IPv6*'
        $failure = { Start-UdpServer -Port 0 -MulticastGroup 239.1.2.3 -Interface no-such-nic -TimeoutSec 1 } | Should -Throw -ErrorId 'AddressNotAvailable*' -PassThru
        $failure.Exception.Message | Should -BeLike '*no-such-nic*lo (*'
        'x' | Send-UdpDatagram -ComputerName 239.1.2.3 -Port 9 -Interface no-such-nic -ErrorVariable sendFailure -ErrorAction SilentlyContinue
        Assert-NetError $sendFailure[0] -Id 'AddressNotAvailable' -Category InvalidArgument -TargetLike 'no-such-nic'
    }
}

Describe 'Broadcast on loopback' -Skip:(-not $IsLinux) {
    It 'a receiver bound to the broadcast address gets what Send-UdpDatagram -Broadcast and a Python program broadcast; without -Broadcast the system refuses' {
        $bg = Start-BackgroundCommand { Receive-UdpDatagram -Port 0 -LocalAddress 127.255.255.255 -Count 2 }
        $port = (Wait-Listening $bg).Port
        'from the module' | Send-UdpDatagram -ComputerName 127.255.255.255 -Port $port -Broadcast
        $broadcaster = @'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
print("ready", flush=True)
s.sendto(b"from python", ("127.255.255.255", int(sys.argv[1])))
'@
        $peer = Start-PythonPeer $broadcaster -Arguments $port
        try {
            Wait-PythonPeer $peer | Out-Null
            $received = (Wait-BackgroundCommand $bg).Output
            $received.Text | Sort-Object | Should -Be 'from python', 'from the module'
            $received | ForEach-Object { $_.LocalEndPoint.Address } | Should -Be '127.255.255.255', '127.255.255.255'
        }
        finally {
            Stop-PythonPeer $peer
            Stop-BackgroundCommand $bg
        }
        'refused' | Send-UdpDatagram -ComputerName 127.255.255.255 -Port $port -ErrorVariable refused -ErrorAction SilentlyContinue
        $? | Should -BeFalse
        Assert-NetError $refused[0] -Id 'SocketError' -Category ConnectionError -TargetLike "127.255.255.255:$port"
    }
}

Describe 'IPv6 and endpoints to answer' {
    It 'Start-UdpServer on ::1 answers a Python IPv6 client, and its RemoteEndPoint is the client''s' {
        $bg = Start-BackgroundCommand { Start-UdpServer -Port 0 -LocalAddress ::1 -Count 1 -Handler { "v6 $($_.Text)"; [byte[]](0, 255) } }
        $port = (Wait-Listening $bg).Port
        $client = @'
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::1", 0)); s.settimeout(20)
print(s.getsockname()[1], flush=True)
s.sendto(b"hello", ("::1", int(sys.argv[1])))
print(s.recvfrom(512)[0].decode()); print(s.recvfrom(512)[0].hex())
'@
        $peer = Start-PythonPeer $client -Arguments $port
        try {
            (Wait-PythonPeer $peer) -split '\r?\n' | Should -Be 'v6 hello', '00ff'
            $datagram = (Wait-BackgroundCommand $bg).Output
            $datagram.RemoteEndPoint.Address | Should -Be '::1'
            $datagram.RemoteEndPoint.Port | Should -Be ([int]$peer.Ready)
            $datagram.LocalEndPoint.ToString() | Should -Be "[::1]:$port"
        }
        finally {
            Stop-PythonPeer $peer
            Stop-BackgroundCommand $bg
        }
    }

    It 'Send-UdpDatagram -Receive over ::1, and a received datagram''s RemoteEndPoint takes an answer back' {
        $server = Start-UdpServer -Port 0 -LocalAddress IPv6Loopback -AsJob -Handler { $_.RemoteEndPoint.ToString() }
        try {
            $reply = 'where am I?' | Send-UdpDatagram -ComputerName '[::1]' -Port $server.Port -Receive
            $reply.RemoteEndPoint.ToString() | Should -Be "[::1]:$($server.Port)"
            $asked = Receive-JobDatagram $server
            $reply.Text | Should -Be $asked[0].RemoteEndPoint.ToString()
            $reply.Text | Should -BeLike '`[::1`]:*'
        }
        finally { $server | Stop-Job -PassThru | Remove-Job }
    }
}

Describe 'Handlers that answer elsewhere' {
    It '$_.SendTo sends from the server''s port to a Python peer, whose answer comes back to the server' {
        $upstream = @'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); s.settimeout(20)
print(s.getsockname()[1], flush=True)
data, relay = s.recvfrom(512)
s.sendto(b"upstream says " + data, relay)
print(relay[1])
'@
        $peer = Start-PythonPeer $upstream
        $bg = Start-BackgroundCommand {
            param($Upstream)
            # A relay: a client's question goes upstream from the server's port; the upstream answer comes back here and goes to the client.
            $script:client = $null
            Start-UdpServer -Port 0 -Count 2 -Handler {
                if ($_.RemoteEndPoint.Port -eq $Upstream) { $_.SendTo($script:client, $_.Data) }
                else { $script:client = $_.RemoteEndPoint; $_.SendTo("127.0.0.1:$Upstream", $_.Text.ToUpper()) }
            } -ArgumentList $Upstream
        } -Parameters @{ Upstream = [int]$peer.Ready }
        try {
            $port = (Wait-Listening $bg).Port
            $answer = 'question' | Send-UdpDatagram -ComputerName 127.0.0.1 -Port $port -Receive
            $answer.Text | Should -Be 'upstream says QUESTION'
            $answer.RemoteEndPoint.Port | Should -Be $port -Because 'the relay answered from its own port'
            Wait-PythonPeer $peer | Should -Be "$port" -Because 'the relay sent upstream from its own port'
            Wait-BackgroundCommand $bg | Out-Null
        }
        finally {
            Stop-PythonPeer $peer
            Stop-BackgroundCommand $bg
        }
    }

    It '$null output sends nothing in parallel runspaces too' {
        $server = Start-UdpServer -Port 0 -AsJob -ThrottleLimit 2 -Handler { $null; "after null: $($_.Text)" }
        try {
            $reply = 'x' | Send-UdpDatagram -ComputerName 127.0.0.1 -Port $server.Port -Receive
            $reply.Text | Should -Be 'after null: x' -Because 'no empty datagram went first'
        }
        finally { $server | Stop-Job -PassThru | Remove-Job }
    }

    It 'a handler answers with several datagrams, in order, and a datagram not received by a server cannot SendTo' {
        $server = Start-UdpServer -Port 0 -AsJob -Handler { 1..3 | ForEach-Object { "part $_" } }
        try {
            $parts = 'go' | Send-UdpDatagram -ComputerName 127.0.0.1 -Port $server.Port -Receive -Count 3
            $parts.Text | Should -Be 'part 1', 'part 2', 'part 3'
            { $parts[0].SendTo("127.0.0.1:$($server.Port)", 'x') } | Should -Throw -ExpectedMessage '*Only a datagram that Start-UdpServer or Receive-UdpDatagram received*'
        }
        finally { $server | Stop-Job -PassThru | Remove-Job }
    }
}

Describe 'In a network namespace of its own' -Skip:(-not $IsLinux) {
    BeforeAll {
        # A namespace needs root and unshare; the interfaces there (a veth pair) reach nothing outside it.
        $canIsolate = $false
        $unshare = Get-Command unshare -CommandType Application -ErrorAction Ignore | Select-Object -First 1
        $ip = Get-Command ip -CommandType Application -ErrorAction Ignore | Select-Object -First 1
        if ($unshare -and $ip) {
            & $unshare.Source -n true 2>$null
            $canIsolate = $LASTEXITCODE -eq 0
        }
    }

    It 'IPv6 and IPv4 groups on a veth interface reach two receivers, -NoMulticastLoopback keeps a copy from them, a dual-mode :: server answers both families, and -LocalAddress Any takes a subnet broadcast' {
        if (-not $canIsolate) { Set-ItResult -Skipped -Because 'unshare -n needs root here'; return }
        $script = Join-Path $TestDrive 'in-namespace.ps1'
        @'
param([string] $ModulePath)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
function Receive-First($Job) {
    $deadline = [datetime]::UtcNow.AddSeconds(20)
    while ([datetime]::UtcNow -lt $deadline) {
        $got = @(Receive-Job $Job)
        if ($got) { return $got[0] }
        Start-Sleep -Milliseconds 10
    }
    throw "nothing reached $($Job.Name)"
}
$result = [ordered]@{}
foreach ($family in @(@{ Name = 'v6'; Group = 'ff15::4242'; All = '::' }, @{ Name = 'v4'; Group = '239.42.42.42'; All = '0.0.0.0' })) {
    # One receiver bound to the group (the default here), one to every address of its family.
    $a = Start-UdpServer -Port 0 -AsJob -MulticastGroup $family.Group -Interface v0
    $b = Start-UdpServer -Port $a.Port -LocalAddress $family.All -AsJob -MulticastGroup $family.Group -Interface v0
    # Not looped back: the copy leaves through v0 only, and no member listens behind it. Then one that is.
    'kept away' | Send-UdpDatagram -ComputerName $family.Group -Port $a.Port -Interface v0 -NoMulticastLoopback
    'looped' | Send-UdpDatagram -ComputerName $family.Group -Port $a.Port -Interface v0
    $result[$family.Name] = @((Receive-First $a), (Receive-First $b) | ForEach-Object { "$($_.Text) to $($_.LocalEndPoint.Address)" })
    $a, $b | Stop-Job -PassThru | Remove-Job
}
$dual = Start-UdpServer -Port 0 -LocalAddress '::' -AsJob -Handler { "you are $($_.RemoteEndPoint)" }
$result['dual'] = @(
    ('a' | Send-UdpDatagram -ComputerName 127.0.0.1 -Port $dual.Port -Receive).Text
    ('b' | Send-UdpDatagram -ComputerName 10.42.0.1 -Port $dual.Port -Receive).Text
    ('c' | Send-UdpDatagram -ComputerName ::1 -Port $dual.Port -Receive).Text
)
$dual | Stop-Job -PassThru | Remove-Job
$any = Start-UdpServer -Port 0 -LocalAddress Any -AsJob
'to all' | Send-UdpDatagram -ComputerName 10.42.0.255 -Port $any.Port -Broadcast
$heard = Receive-First $any
$result['broadcast'] = "$($heard.Text) to $($heard.LocalEndPoint.Address)"
$any | Stop-Job -PassThru | Remove-Job
# A group of link scope without -Interface: joined on the interface the routes give, bound to every address.
$null = Receive-UdpDatagram -Port 0 -MulticastGroup ff02::1:3 -TimeoutSec 0.2
$result['linkLocal'] = 'joined'
$result | ConvertTo-Json -Compress
'@ | Set-Content -LiteralPath $script
        $setup = @(
            'set -e'
            'sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0'
            'ip link set lo up'
            'ip link add v0 type veth peer name v1'
            'ip addr add 10.42.0.1/24 brd 10.42.0.255 dev v0'
            'ip addr add fd42::1/64 dev v0 nodad'
            'ip link set v0 up'
            'ip link set v1 up'
            'exec "$@"'
        ) -join "`n"
        # This PowerShell again: the dotnet host and pwsh.dll when it runs as a dotnet tool, or the pwsh executable.
        $pwsh = @([Environment]::ProcessPath)
        if ([IO.Path]::GetFileNameWithoutExtension($pwsh[0]) -eq 'dotnet') { $pwsh += [Environment]::GetCommandLineArgs()[0] }
        $output = & $unshare.Source -n sh -c $setup namespace @pwsh -NoProfile -NonInteractive -File $script -ModulePath $NetCmdletsModulePath 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($output -join "`n")
        $result = ($output | Select-Object -Last 1) | ConvertFrom-Json
        $result.v6 | Should -Be 'looped to ff15::4242', 'looped to ff15::4242'
        $result.v4 | Should -Be 'looped to 239.42.42.42', 'looped to 239.42.42.42'
        $result.dual[0] | Should -BeLike 'you are 127.0.0.1:*'
        $result.dual[1] | Should -BeLike 'you are 10.42.0.1:*'
        $result.dual[2] | Should -BeLike 'you are `[::1`]:*'
        $result.broadcast | Should -Be 'to all to 10.42.0.255'
        $result.linkLocal | Should -Be 'joined'
    }
}
