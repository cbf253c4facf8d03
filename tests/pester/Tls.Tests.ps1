# TLS end to end: the module as client of openssl s_server, as server of openssl s_client and curl,
# module to module with mutual TLS, and every way a handshake fails, each with its own error id.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:ca = New-TlsCertificate -Subject 'CN=NetCmdlets test authority' -CertificateAuthority
    $script:serverCert = New-TlsCertificate -DnsName localhost -IPAddress 127.0.0.1 -Signer $ca
    $script:caFile = (Export-TestCertificate $ca).Certificate
    $script:serverFiles = Export-TestCertificate $serverCert -Key
}
AfterAll {
    Remove-Item -LiteralPath $caFile, $serverFiles.Certificate, $serverFiles.Key -ErrorAction Ignore
}

Describe 'New-TlsCertificate' {
    It 'makes certificates with their keys: self-signed for localhost by default, an authority, and one it signs' {
        $self = New-TlsCertificate
        $self.HasPrivateKey | Should -BeTrue
        $self.Subject | Should -Be 'CN=localhost'
        ($self.Extensions | Where-Object { $_.Oid.Value -eq '2.5.29.17' }).Format($false) | Should -BeLike '*localhost*127.0.0.1*'
        $self.NotAfter | Should -BeGreaterThan (Get-Date).AddDays(29)
        ($ca.Extensions | Where-Object { $_ -is [System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension] }).CertificateAuthority | Should -BeTrue
        $serverCert.Issuer | Should -Be $ca.Subject
        $serverCert.HasPrivateKey | Should -BeTrue
    }
}

Describe 'TLS client' {
    BeforeAll {
        $script:openssl = Start-OpenSslServer -CertificatePath $serverFiles.Certificate -KeyPath $serverFiles.Key
    }
    AfterAll { Stop-PythonPeer $openssl }

    # PowerShell7: the netstandard2.0 build (Windows PowerShell) cannot do this; see about_NetCmdlets.
    It 'talks to openssl s_server trusting its authority from a PEM file, and shows the protocol, cipher suite and certificate' -Tag PowerShell7 {
        $connection = New-TcpConnection -ComputerName localhost -Port $openssl.Port -TrustedCertificate $caFile
        try {
            (Send-TcpMessage -Connection $connection -Message 'hello' -Receive).Text | Should -Be 'olleh'
            $connection.TlsProtocol | Should -BeIn 'Tls12', 'Tls13'
            $connection.CipherSuite | Should -Match '^TLS_'
            $connection.RemoteCertificate.Thumbprint | Should -Be $serverCert.Thumbprint
        }
        finally { $connection | Close-TcpConnection }
    }

    It 'refuses a server it cannot trust, with TlsHandshakeFailed.Untrusted, and $? is false' {
        'x' | Send-TcpMessage -ComputerName localhost -Port $openssl.Port -UseTls -Receive -ErrorVariable failures -ErrorAction SilentlyContinue
        $? | Should -BeFalse
        Assert-NetError $failures[0] -Id 'TlsHandshakeFailed.Untrusted' -Category SecurityError -TargetLike "localhost:$($openssl.Port)"
    }

    It 'refuses a certificate for another name, with TlsHandshakeFailed.NameMismatch; -SkipCertificateCheck accepts it' {
        'x' | Send-TcpMessage -ComputerName 127.0.0.1 -Port $openssl.Port -TrustedCertificate $ca -TlsServerName other.example -Receive -ErrorVariable failures -ErrorAction SilentlyContinue
        Assert-NetError $failures[0] -Id 'TlsHandshakeFailed.NameMismatch' -Category SecurityError -TargetLike "127.0.0.1:$($openssl.Port)"
        ('abc' | Send-TcpMessage -ComputerName 127.0.0.1 -Port $openssl.Port -SkipCertificateCheck -Receive).Text | Should -Be 'cba'
    }

    It 'refuses an expired certificate, with TlsHandshakeFailed.Expired' {
        $old = New-TlsCertificate -NotBefore (Get-Date).AddDays(-10) -NotAfter (Get-Date).AddDays(-1)
        $job = Start-TcpServer -Port 0 -AsJob -Certificate $old -Handler { 'x' }
        try {
            'x' | Send-TcpMessage -ComputerName localhost -Port $job.Port -TrustedCertificate $old -Receive -ErrorVariable failures -ErrorAction SilentlyContinue
            Assert-NetError $failures[0] -Id 'TlsHandshakeFailed.Expired' -Category SecurityError -TargetLike "localhost:$($job.Port)"
        }
        finally { Remove-TestServerJob $job }
    }

    It 'says TlsHandshakeFailed.NotTls when the server answers in plain text (a Python server that greets first)' {
        $server = @'
import socket
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
print(srv.getsockname()[1], flush=True)
c, _ = srv.accept()
c.sendall(b"220 plain greeting\r\n")
c.recv(4096)
c.close()
'@
        $peer = Start-PythonPeer $server
        try {
            'x' | Send-TcpMessage -ComputerName 127.0.0.1 -Port $peer.Ready -SkipCertificateCheck -Receive -ErrorVariable failures -ErrorAction SilentlyContinue
            Assert-NetError $failures[0] -Id 'TlsHandshakeFailed.NotTls' -Category SecurityError -TargetLike "127.0.0.1:$($peer.Ready)"
            "$($failures[0])" | Should -BeLike '*220 plain greeting*'
        }
        finally { Stop-PythonPeer $peer }
    }
}

Describe 'STARTTLS' {
    It 'a handler upgrades its connection for Python smtplib.starttls(): greeting and EHLO in clear, the rest over TLS' {
        $job = Start-TcpServer -Port 0 -AsJob -LineEnding CRLF -OnConnect { '220 mock ESMTP' } -Handler {
            $connection = $_.Connection
            switch -Regex ($_.Text) {
                '^EHLO' { if ($connection.TlsProtocol) { '250-mock', '250 AUTH PLAIN' } else { '250-mock', '250 STARTTLS' }; break }
                '^STARTTLS$' { '220 2.0.0 Ready to start TLS'; $connection | Set-TcpConnection -StartTls -Certificate $using:serverCert; break }
                '^NOOP$' { "250 OK $($connection.TlsProtocol)"; break }
                '^QUIT$' { '221 Bye'; $connection | Close-TcpConnection; break }
                default { '502 ?' }
            }
        }
        $client = @'
import smtplib, ssl, sys
print("ready", flush=True)
context = ssl.create_default_context(cafile=sys.argv[2])
with smtplib.SMTP("localhost", int(sys.argv[1]), timeout=10) as s:
    s.ehlo()
    print("before:", s.has_extn("starttls"))
    s.starttls(context=context)
    s.ehlo()
    print("after:", s.has_extn("auth"), s.sock.version())
    print(s.noop()[1].decode())
'@
        try {
            $peer = Start-PythonPeer $client -Arguments "$($job.Port)", $caFile
            $lines = (Wait-PythonPeer $peer) -split "`n"
            $lines[0] | Should -Be 'before: True'
            $lines[1] | Should -BeLike 'after: True TLSv1.*'
            $lines[2] | Should -BeLike 'OK Tls1*'
            $job | Stop-Job
            $received = @($job | Receive-Job -ErrorVariable failures -ErrorAction SilentlyContinue).Text
            $received | Should -Contain 'STARTTLS'
            $received | Should -Contain 'NOOP'
            $failures | Should -BeNullOrEmpty
        }
        finally { Stop-PythonPeer $peer; Remove-TestServerJob $job }
    }

    It 'a client connection upgrades after the go-ahead; clear text sent between the request and the handshake ends it' {
        $job = Start-TcpServer -Port 0 -AsJob -Handler {
            $connection = $_.Connection
            if ($_.Text -eq 'STARTTLS') { 'GO'; $connection | Set-TcpConnection -StartTls -Certificate $using:serverCert }
            else { "echo:$($_.Text):$($connection.TlsProtocol)" }
        }
        try {
            $connection = New-TcpConnection -ComputerName localhost -Port $job.Port
            (Send-TcpMessage -Connection $connection -Message 'STARTTLS' -Receive).Text | Should -Be 'GO'
            $connection | Set-TcpConnection -StartTls -TrustedCertificate $ca -PassThru | ForEach-Object TlsProtocol | Should -BeLike 'Tls1*'
            (Send-TcpMessage -Connection $connection -Message 'x' -Receive).Text | Should -BeLike 'echo:x:Tls1*'
            $connection.RemoteCertificate.Thumbprint | Should -Be $serverCert.Thumbprint
            $connection | Close-TcpConnection

            # A client that asks and sends more in the same write: what follows STARTTLS never becomes a message.
            $eager = New-TestTcpClient $job.Port
            Send-TestBytes $eager ([Text.Encoding]::ASCII.GetBytes("STARTTLS`ninjected`n"))
            Get-TestTcpEnd $eager | Should -Match '^(closed|reset|data:\d+)$'
            $eager.Dispose()

            # A client that asks and then sends in clear before shaking hands: the server ends it.
            $sneaky = New-TestTcpClient $job.Port
            Send-TestBytes $sneaky ([Text.Encoding]::ASCII.GetBytes("STARTTLS`n"))
            Read-TestLine $sneaky | Should -Be 'GO'
            Send-TestBytes $sneaky ([Text.Encoding]::ASCII.GetBytes("injected`n"))
            Get-TestTcpEnd $sneaky | Should -BeIn 'closed', 'reset'
            $sneaky.Dispose()
            Wait-TestCondition { $job.Error.Count -ge 2 } | Should -BeTrue
            $job | Stop-Job
            $received = @($job | Receive-Job -ErrorVariable failures -ErrorAction SilentlyContinue).Text
            $received | Should -Not -Contain 'injected'
            @($failures | ForEach-Object { ($_.FullyQualifiedErrorId -split ',')[0] }) | Should -BeLike 'TlsHandshakeFailed.*'
        }
        finally { Remove-TestServerJob $job; Close-TestTcpConnection }
    }
}

Describe 'TLS server' {
    It 'serves openssl s_client and curl --cacert; plain text on its port is TlsHandshakeFailed.NotTls and the others are served' {
        $job = Start-TcpServer -Port 0 -AsJob -Certificate $serverCert -LineEnding CRLF -Handler {
            if ($_.Text -eq 'ping') { 'pong'; $_.Connection | Close-TcpConnection }
            elseif ($_.Text -eq '') { 'HTTP/1.1 200 OK', 'Content-Length: 2', 'Connection: close', '', 'ok' }
        }
        try {
            $plain = New-TestTcpClient $job.Port
            Send-TestBytes $plain ([Text.Encoding]::ASCII.GetBytes("hello in clear`n"))
            Get-TestTcpEnd $plain | Should -BeIn 'closed', 'reset'
            $plain.Dispose()
            $reply = 'ping' | openssl s_client -connect "127.0.0.1:$($job.Port)" -servername localhost -CAfile $caFile -verify_return_error -quiet 2>$null
            $reply | Should -Be 'pong'
            curl --silent --show-error --cacert $caFile "https://localhost:$($job.Port)/" | Should -Be 'ok'
            # Waited on as written to the job's error stream: the counter goes up before the record is written.
            Wait-TestCondition { $job.Error.Count -ge 1 } | Should -BeTrue
            $job.Statistics.TlsFailures | Should -Be 1
            $job | Stop-Job
            $null = $job | Receive-Job -ErrorVariable failures -ErrorAction SilentlyContinue
            $notTls = @($failures | Where-Object { $_.FullyQualifiedErrorId -like 'TlsHandshakeFailed.NotTls*' })
            $notTls.Count | Should -Be 1
            Assert-NetError $notTls[0] -Id 'TlsHandshakeFailed.NotTls' -Category SecurityError -TargetLike '127.0.0.1:*'
        }
        finally { Remove-TestServerJob $job }
    }

    It 'a TLS client on a plain-text port ends with TlsHandshakeFailed.PlainTextPort, not with its hello cut into lines' {
        $job = Start-TcpServer -Port 0 -AsJob -Handler { "plain: $($_.Text)" }
        try {
            $null = 'x' | openssl s_client -connect "127.0.0.1:$($job.Port)" -quiet 2>$null
            Wait-TestCondition { $job.Error.Count -ge 1 } | Should -BeTrue
            $job.Statistics.TlsFailures | Should -Be 1
            $job | Stop-Job
            $received = @($job | Receive-Job -ErrorVariable failures -ErrorAction SilentlyContinue)
            $received | Should -BeNullOrEmpty
            Assert-NetError $failures[0] -Id 'TlsHandshakeFailed.PlainTextPort' -Category SecurityError -TargetLike '127.0.0.1:*'
        }
        finally { Remove-TestServerJob $job }
    }

    It 'a ClientHello that arrives in pieces on a plain-text port is refused whole: no fragment of it becomes a message' {
        $job = Start-TcpServer -Port 0 -AsJob -Handler { "plain: $($_.Text)" }
        $peer = $null
        try {
            # The record header alone first, then the hello with a line feed in it: cut as a line, that
            # would be a message holding a piece of the handshake.
            $peer = Start-PythonPeer -Arguments $job.Port @'
import socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
print("connected", flush=True)
hello = bytes([0x01, 0x00, 0x00, 0x3c, 0x03, 0x03]) + bytes([0x0a, 0x41] * 29)
c.sendall(bytes([0x16, 0x03]))
time.sleep(0.1)
c.sendall(bytes([0x01, 0x00, len(hello)]))
time.sleep(0.1)
c.sendall(hello)
try:
    while c.recv(4096): pass
    print("closed")
except ConnectionResetError:
    print("reset")
'@
            Wait-PythonPeer $peer | Should -BeIn 'closed', 'reset'
            Wait-TestCondition { $job.Statistics.TlsFailures -ge 1 } | Should -BeTrue
            $job | Stop-Job
            $received = @($job | Receive-Job -ErrorVariable failures -ErrorAction SilentlyContinue)
            $received | Should -BeNullOrEmpty -Because 'no piece of the hello may be taken for a line'
            Assert-NetError $failures[0] -Id 'TlsHandshakeFailed.PlainTextPort' -Category SecurityError -TargetLike '127.0.0.1:*'
        }
        finally {
            Stop-PythonPeer $peer
            Remove-TestServerJob $job
        }
    }

    It 'plain text that starts like a record header but is not one is still plain text' {
        $job = Start-TcpServer -Port 0 -AsJob -Handler { "plain: $($_.Length)" }
        try {
            , [byte[]](0x16, 0x41) | Send-TcpMessage -ComputerName 127.0.0.1 -Port $job.Port -Receive | ForEach-Object Text | Should -Be 'plain: 2'
        }
        finally { Remove-TestServerJob $job }
    }

    It 'mutual TLS module to module: the handler sees the client certificate; no certificate, or an untrusted one, is refused by id' {
        $client = New-TlsCertificate -Subject 'CN=client one' -DnsName client.one -Signer $ca
        $stranger = New-TlsCertificate -Subject 'CN=stranger'
        $job = Start-TcpServer -Port 0 -AsJob -Certificate $serverCert -RequireClientCertificate -TrustedCertificate $ca -Handler {
            "hello $($_.Connection.RemoteCertificate.Subject)"
        }
        try {
            (Send-TcpMessage -ComputerName localhost -Port $job.Port -Message 'hi' -TrustedCertificate $ca -ClientCertificate $client -Receive).Text | Should -Be 'hello CN=client one'
            # Each message carries its sender's certificate too.
            $job | Stop-Job
            @($job | Receive-Job)[0].RemoteCertificate.Subject | Should -Be 'CN=client one'
            Remove-TestServerJob $job
            $job = Start-TcpServer -Port 0 -AsJob -Certificate $serverCert -RequireClientCertificate -TrustedCertificate $ca -Handler { 'x' }
            'hi' | Send-TcpMessage -ComputerName localhost -Port $job.Port -TrustedCertificate $ca -Receive -ErrorAction SilentlyContinue
            'hi' | Send-TcpMessage -ComputerName localhost -Port $job.Port -TrustedCertificate $ca -ClientCertificate $stranger -Receive -ErrorAction SilentlyContinue
            Wait-TestCondition { $job.Error.Count -ge 2 } | Should -BeTrue
            $job | Stop-Job
            $null = $job | Receive-Job -ErrorVariable failures -ErrorAction SilentlyContinue
            @($failures.FullyQualifiedErrorId | ForEach-Object { ($_ -split ',')[0] }) | Sort-Object | Should -Be 'TlsHandshakeFailed.ClientCertificateRequired', 'TlsHandshakeFailed.Untrusted'
        }
        finally { Remove-TestServerJob $job }
    }

    # PowerShell7: the netstandard2.0 build (Windows PowerShell) cannot do this; see about_NetCmdlets.
    It 'loads a PEM certificate and key from files with -CertificateKeyPath' -Tag PowerShell7 {
        $job = Start-TcpServer -Port 0 -AsJob -Certificate $serverFiles.Certificate -CertificateKeyPath $serverFiles.Key -Handler { "pem: $($_.Text)" }
        try {
            (Send-TcpMessage -ComputerName localhost -Port $job.Port -Message 'x' -TrustedCertificate $caFile -Receive).Text | Should -Be 'pem: x'
        }
        finally { Remove-TestServerJob $job }
    }

    # PowerShell7: the netstandard2.0 build (Windows PowerShell) cannot do this; see about_NetCmdlets.
    It 'sends the intermediate of a PFX chain, so curl trusting only the root accepts it; a relative path works with -AsJob' -Tag PowerShell7 {
        $intermediate = New-TlsCertificate -Subject 'CN=NetCmdlets test intermediate' -CertificateAuthority -Signer $ca
        $leaf = New-TlsCertificate -DnsName localhost -Signer $intermediate
        $chain = [System.Security.Cryptography.X509Certificates.X509Certificate2Collection]::new()
        $null = $chain.Add($leaf); $null = $chain.Add($intermediate)
        $folder = Join-Path ([IO.Path]::GetTempPath()) "netcmdlets-pfx-$([guid]::NewGuid().ToString('n'))"
        $null = New-Item -ItemType Directory -Path $folder
        [IO.File]::WriteAllBytes((Join-Path $folder 'server.pfx'), $chain.Export('Pfx', 'secret'))
        Push-Location $folder
        try {
            $job = Start-TcpServer -Port 0 -AsJob -Certificate ./server.pfx -CertificatePassword (ConvertTo-SecureString 'secret' -AsPlainText -Force) -LineEnding CRLF -Handler {
                if ($_.Text -eq '') { 'HTTP/1.1 200 OK', 'Content-Length: 5', 'Connection: close', '', 'chain' }
            }
        }
        finally { Pop-Location }
        try {
            curl --silent --show-error --cacert $caFile "https://localhost:$($job.Port)/" | Should -Be 'chain'
        }
        finally { Remove-TestServerJob $job; Remove-Item -Recurse -Force $folder }
    }

    It 'a client that connects and leaves without a byte (a health check) is no error' {
        $job = Start-TcpServer -Port 0 -AsJob -Certificate $serverCert -Handler { 'x' }
        try {
            (New-TestTcpClient $job.Port).Dispose()
            # A real client after it, so the server has surely dealt with the first one.
            (Send-TcpMessage -ComputerName localhost -Port $job.Port -Message 'hi' -TrustedCertificate $ca -Receive).Text | Should -Be 'x'
            $job.Error.Count | Should -Be 0
            $job.Statistics.TlsFailures | Should -Be 0
        }
        finally { Remove-TestServerJob $job }
    }

    It 'a certificate file that cannot be loaded is a terminating CertificateNotLoaded error' {
        { Start-TcpServer -Port 0 -Certificate (Join-Path ([IO.Path]::GetTempPath()) 'no-such-netcmdlets.pfx') -Count 1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'CertificateNotLoaded,*'
    }
}
