<#
.SYNOPSIS
A length-prefixed protocol, both ends: a server that answers each message with its length and its
text reversed, and a client conversation with it, each message a 4-byte big-endian length and then
the bytes (the framing of many binary protocols).
.DESCRIPTION
Run it as it is. -Port talks to another server of this framing instead of starting one.
#>
param([int] $Port)
$ErrorActionPreference = 'Stop'
if (-not (Get-Module NetCmdlets)) { Import-Module (Join-Path $PSScriptRoot '../output/NetCmdlets') }

$server = $null
if (-not $Port) {
    $server = Start-TcpServer -Port 0 -AsJob -Framing LengthPrefixed -Handler {
        $reversed = [char[]]$_.Text
        [array]::Reverse($reversed)
        "$($_.Length):$(-join $reversed)"
    }
    $Port = $server.Port
}
try {
    # Line breaks and empty messages travel as they are: the length says where each message ends.
    'hello', "two`nlines", '' | Send-TcpMessage -ComputerName 127.0.0.1 -Port $Port -Framing LengthPrefixed -Receive |
        Select-Object Length, Text
}
finally {
    if ($server) { $server | Stop-Job -PassThru | Remove-Job }
}
