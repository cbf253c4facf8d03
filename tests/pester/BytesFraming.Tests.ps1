# Bytes are framed like text: a byte array sent with -Data, piped, or output by a handler is one message of
# the connection's framing, under every framing; -Raw and Outgoing::Raw are the explicit ways to send bytes
# unframed. Checked byte for byte by Python peers that read what arrives on the wire.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $Framings = @(
        @{ Name = 'Line'; Framing = @{}; Request = '68690a'; Wire = 'deadbeef0a' }
        @{ Name = 'Line CRLF'; Framing = @{ LineEnding = 'CRLF' }; Request = '68690d0a'; Wire = 'deadbeef0d0a' }
        @{ Name = 'Delimiter'; Framing = @{ Delimiter = '|' }; Request = '68697c'; Wire = 'deadbeef7c' }
        @{ Name = 'LengthPrefixed'; Framing = @{ Framing = 'LengthPrefixed' }; Request = '000000026869'; Wire = '00000004deadbeef' }
        @{ Name = 'Fixed'; Framing = @{ Framing = (New-TcpFraming -Framing Fixed -Size 4) }; Request = '68696869'; Wire = 'deadbeef' }
        @{ Name = 'OctetCounted'; Framing = @{ Framing = 'OctetCounted' }; Request = '32206869'; Wire = '3420deadbeef' }
        @{ Name = 'Json'; Framing = @{ Framing = 'Json' }; Request = '312e350a'; Wire = 'deadbeef0a' }
        @{ Name = 'Raw'; Framing = @{ Framing = 'Raw' }; Request = '6869'; Wire = 'deadbeef' }
    )
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    # A listener that prints its port, then the hex of everything one client sends until it closes.
    $script:Sink = @'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
s.settimeout(20); c, _ = s.accept(); c.settimeout(20)
data = b""
while True:
    chunk = c.recv(65536)
    if not chunk: break
    data += chunk
print(data.hex())
'@
    # A client that sends the request given in hex, then prints the hex of everything until the server closes.
    $script:Asker = @'
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
print("connected", flush=True)
c.sendall(bytes.fromhex(sys.argv[2]))
data = b""
while True:
    chunk = c.recv(65536)
    if not chunk: break
    data += chunk
print(data.hex())
'@

    # Starts a server in a background runspace, sends it one request (hex) from a Python client, and
    # returns the hex of everything the server sent back before it closed.
    function Get-ReplyHex {
        param([scriptblock] $Server, [hashtable] $Parameters = @{}, [string] $Request)
        $bg = Start-BackgroundCommand $Server -Parameters $Parameters
        $asker = $null
        try {
            $port = (Wait-Listening $bg).Port
            $asker = Start-PythonPeer $script:Asker -Arguments $port, $Request
            Wait-PythonPeer $asker
            $null = Wait-BackgroundCommand $bg
        }
        finally {
            Stop-PythonPeer $asker
            $null = Stop-BackgroundCommand $bg
        }
    }

    function Send-ToSink {
        param([hashtable] $Framing, [switch] $Raw, [switch] $Piped)
        $sink = Start-PythonPeer $script:Sink
        try {
            $bytes = [byte[]](0xDE, 0xAD, 0xBE, 0xEF)
            if ($Piped) { , $bytes | Send-TcpMessage -ComputerName 127.0.0.1 -Port ([int]$sink.Ready) @Framing -Raw:$Raw -ErrorAction Stop }
            else { Send-TcpMessage -ComputerName 127.0.0.1 -Port ([int]$sink.Ready) -Data $bytes @Framing -Raw:$Raw -ErrorAction Stop }
            Wait-PythonPeer $sink
        }
        finally { Stop-PythonPeer $sink }
    }

}

Describe 'Bytes under every framing' {
    It 'Send-TcpMessage -Data frames the bytes as one <Name> message' -ForEach $Framings {
        Send-ToSink -Framing $Framing | Should -Be $Wire
    }

    It 'a piped byte array is framed as one <Name> message too' -ForEach $Framings {
        Send-ToSink -Framing $Framing -Piped | Should -Be $Wire
    }

    It 'a handler''s byte array reply is one <Name> message' -ForEach $Framings {
        $server = {
            param($Framing)
            Start-TcpServer -Port 0 -Count 1 @Framing -Handler { , [byte[]](0xDE, 0xAD, 0xBE, 0xEF) }
        }
        Get-ReplyHex -Server $server -Parameters @{ Framing = $Framing } -Request $Request | Should -Be $Wire
    }

    It '-Raw sends the bytes exactly as they are, whatever the framing' {
        Send-ToSink -Framing @{} -Raw | Should -Be 'deadbeef'
        Send-ToSink -Framing @{} -Raw -Piped | Should -Be 'deadbeef'
    }

    It '-Raw on a connection with a framing sends that one message unframed and leaves the framing as it was' {
        $sink = Start-PythonPeer $script:Sink
        try {
            $c = New-TcpConnection -ComputerName 127.0.0.1 -Port ([int]$sink.Ready) -Framing LengthPrefixed
            Send-TcpMessage -Connection $c -Data ([byte[]](1, 2)) -Raw
            Send-TcpMessage -Connection $c -Data ([byte[]](3))
            $c | Send-TcpMessage -Message 'A' -Raw
            $c | Close-TcpConnection
            # 01 02 as they are, 03 with its prefix, A as it is.
            Wait-PythonPeer $sink | Should -Be '0102000000010341'
        }
        finally { Stop-PythonPeer $sink }
    }

    It 'a handler sends bytes unframed with [NetCmdlets.Core.Messages.Outgoing]::Raw, framed text around them' {
        $server = {
            Start-TcpServer -Port 0 -Count 1 -LineEnding CRLF -Handler {
                'head'
                [NetCmdlets.Core.Messages.Outgoing]::Raw([byte[]](0xCA, 0xFE))
                'tail'
            }
        }
        # head CR LF, CA FE as they are, tail CR LF.
        Get-ReplyHex -Server $server -Request '68690a' | Should -Be '686561640d0acafe7461696c0d0a'
    }

    It 'with -ThrottleLimit 2 a handler''s byte array is framed as well' {
        $server = { Start-TcpServer -Port 0 -Count 1 -ThrottleLimit 2 -Framing LengthPrefixed -Handler { , [byte[]](7, 8) } }
        Get-ReplyHex -Server $server -Request '000000016a' | Should -Be '000000020708'
    }
}
