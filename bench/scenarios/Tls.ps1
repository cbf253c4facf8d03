<#
.SYNOPSIS
Tls: round trips and full handshakes per second over TLS with 50 connections, and one file through TLS.

.DESCRIPTION
Start-TcpServer -Certificate as a line echo, beside a raw .NET SslStream echo server and socat
OPENSSL-LISTEN,fork PIPE, with a certificate openssl makes for the run; then one file (the stream
scenario's size) by Send-TcpMessage -Path -SkipCertificateCheck and by socat's TLS client into a socat
OPENSSL-LISTEN that discards it. Ratios are to the raw .NET server and to socat.
#>

# Start-TcpServer -Certificate's echo round trips with 50 connections, as a share of the raw SslStream server's: at least.
$tlsEchoTarget = 0.85

# A test certificate for the TLS servers, as PEM (socat, the module) and PFX (the raw .NET server), in /dev/shm.
function New-BenchCertificate {
    $folder = Join-Path $(if (Test-Path /dev/shm) { '/dev/shm' } else { [IO.Path]::GetTempPath() }) "netcmdlets-bench-tls-$PID"
    $null = New-Item -ItemType Directory -Force -Path $folder
    $certificate = Join-Path $folder 'server.crt'
    $key = Join-Path $folder 'server.key'
    $pfx = Join-Path $folder 'server.pfx'
    $made = Invoke-Tool -Name 'openssl req' -FileName 'openssl' -TimeoutSec 60 -Arguments @(
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', $key, '-out', $certificate, '-days', '2', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1')
    if ($made.ExitCode -ne 0) { throw "openssl req failed: $($made.Error)" }
    $exported = Invoke-Tool -Name 'openssl pkcs12' -FileName 'openssl' -TimeoutSec 60 -Arguments @(
        'pkcs12', '-export', '-in', $certificate, '-inkey', $key, '-out', $pfx, '-passout', 'pass:bench')
    if ($exported.ExitCode -ne 0) { throw "openssl pkcs12 failed: $($exported.Error)" }
    [pscustomobject]@{ Folder = $folder; Certificate = $certificate; Key = $key; Pfx = $pfx }
}

function Measure-Tls {
    if (-not (Find-Tool 'openssl')) {
        [pscustomobject]@{ Scenario = 'TLS'; Server = ''; Figure = $null; Unit = ''; Ratios = $null; Target = ''; Met = $null; Notes = 'openssl not installed: no certificate' }
        return
    }
    $files = New-BenchCertificate
    try {
        $servers = [ordered]@{
            'Start-TcpServer -Certificate' = {
                $child = Start-ChildPwsh -Name 'Start-TcpServer -Certificate' -Script 'TcpEchoServer.ps1' -Arguments @('-ModulePath', $moduleManifest, '-CertificatePath', $files.Certificate, '-KeyPath', $files.Key)
                $child, [int](Wait-ChildLine $child -Pattern ':(\d+)$' -TimeoutSec 60)[1]
            }
            'raw .NET SslStream' = {
                $child = Start-BenchTool -Name 'raw .NET TLS echo server' -Arguments @('tls-echo-server', '--cert', $files.Pfx, '--password', 'bench')
                $child, [int](Wait-ChildLine $child -Pattern '^(\d+)$' -TimeoutSec 30)[1]
            }
            'socat OPENSSL-LISTEN,fork PIPE' = {
                $socat = Find-Tool 'socat'
                if (-not $socat) { return }
                $port = Get-FreePort
                $child = Start-Child -Name 'socat TLS' -FileName $socat -Arguments @(
                    "OPENSSL-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork,cert=$($files.Certificate),key=$($files.Key),verify=0", 'PIPE')
                Wait-TcpListener -Port $port -Child $child
                $child, $port
            }
        }
        $measured = [Collections.Generic.List[object]]::new()
        foreach ($name in $servers.Keys) {
            $child = $null
            try {
                $started = & $servers[$name]
                if (-not $started) {
                    $measured.Add([pscustomobject]@{ Server = $name; Echo = $null; EchoCpu = $null; Handshakes = $null; Notes = 'not installed' })
                    continue
                }
                $child, $port = $started
                $figures = @{}
                foreach ($test in @(
                        @{ Key = 'Echo'; Command = 'tls-echo-client'; Unit = 'roundTripsPerSecond'; All = 'allRoundTrips' }
                        @{ Key = 'Handshakes'; Command = 'tls-handshake-client'; Unit = 'handshakesPerSecond'; All = 'allHandshakes' })) {
                    $cpuBefore = Get-TreeCpuSeconds $child.Process.Id
                    $client = Start-BenchTool -Name "$($test.Command) 50" -Arguments @(
                        $test.Command, '--host', '127.0.0.1', '--port', "$port", '--connections', '50',
                        '--seconds', "$($settings.EchoSeconds)", '--warmup', "$($settings.Warmup)")
                    try { $result = Receive-ChildJson $client -TimeoutSec ($settings.EchoSeconds + $settings.Warmup + 30) } finally { Stop-Child $client }
                    $cpu = (Get-TreeCpuSeconds $child.Process.Id) - $cpuBefore
                    $figures[$test.Key] = [double]$result.($test.Unit)
                    $figures["$($test.Key)Cpu"] = if ($result.($test.All) -gt 0) { 1e6 * $cpu / $result.($test.All) } else { $null }
                    $figures["$($test.Key)Errors"] = if ($result.errors) { "$($result.errors) error(s): $($result.firstError)" } else { '' }
                }
                $entry = [pscustomobject]@{ Server = $name; Echo = $figures.Echo; EchoCpu = $figures.EchoCpu; Handshakes = $figures.Handshakes; HandshakeCpu = $figures.HandshakesCpu; Notes = (@($figures.EchoErrors, $figures.HandshakesErrors) | Where-Object { $_ }) -join '; ' }
                $measured.Add($entry)
                Write-Host ('  {0,-34} {1,10:N0} rt/s  {2,8:N0} handshakes/s' -f $name, $entry.Echo, $entry.Handshakes)
            }
            catch {
                Write-Warning "TLS against ${name} failed: $_"
                $measured.Add([pscustomobject]@{ Server = $name; Echo = $null; EchoCpu = $null; Handshakes = $null; HandshakeCpu = $null; Notes = "failed: $_" })
            }
            finally {
                if ($child) { Stop-Child $child }
            }
        }
        $raw = $measured | Where-Object Server -EQ 'raw .NET SslStream' | Select-Object -First 1
        foreach ($entry in $measured) {
            $echoNotes = @(if ($null -ne $entry.EchoCpu) { '{0:N1} us server CPU/rt' -f $entry.EchoCpu }; $entry.Notes) | Where-Object { $_ }
            $ratio = Get-Ratio $entry.Echo $(if ($raw) { $raw.Echo })
            $isCmdlet = $entry.Server -like 'Start-TcpServer*'
            [pscustomobject]@{
                Scenario = 'TLS echo 64 B, 50 conn'; Server = $entry.Server; Figure = $entry.Echo; Unit = 'round trips/s'
                Ratios = [ordered]@{ 'raw .NET' = $ratio }
                Target = if ($isCmdlet) { '>= {0:N2}x' -f $tlsEchoTarget } else { '' }
                Met = if ($isCmdlet) { $null -ne $ratio -and $ratio -ge $tlsEchoTarget } else { $null }
                Notes = $echoNotes -join '; '
            }
            $handshakeNotes = @(if ($null -ne $entry.HandshakeCpu) { '{0:N0} us server CPU/handshake' -f $entry.HandshakeCpu }) | Where-Object { $_ }
            [pscustomobject]@{
                Scenario = 'TLS handshakes, 50 conn'; Server = $entry.Server; Figure = $entry.Handshakes; Unit = 'handshakes/s'
                Ratios = [ordered]@{ 'raw .NET' = (Get-Ratio $entry.Handshakes $(if ($raw) { $raw.Handshakes })) }; Target = ''; Met = $null; Notes = $handshakeNotes -join '; '
            }
        }
        Invoke-TlsStreamCase $files
    }
    finally {
        Remove-Item -LiteralPath $files.Folder -Recurse -Force -ErrorAction Ignore
    }
}

# One file through TLS into socat OPENSSL-LISTEN (to /dev/null): Send-TcpMessage -Path beside socat's own TLS client.
function Invoke-TlsStreamCase {
    param($Files)
    $socat = Find-Tool 'socat'
    if (-not $socat) { return }
    $length = $settings.StreamBytes
    $size = if ($length -ge 1GB) { '{0:N0} GiB' -f ($length / 1GB) } else { '{0:N0} MiB' -f ($length / 1MB) }
    $folder = [IO.Path]::GetTempPath()
    if ((Test-Path /dev/shm) -and [IO.DriveInfo]::new('/dev/shm').AvailableFreeSpace -gt $length + 256MB) { $folder = '/dev/shm' }
    $source = Join-Path $folder "netcmdlets-bench-tls-stream-$PID.bin"
    $timeout = 30 + $length / 20e6
    $measured = [ordered]@{}
    try {
        New-StreamSource -Path $source -Length $length
        $senders = [ordered]@{
            'Send-TcpMessage -Path -SkipCertificateCheck' = {
                param($port)
                $child = Start-ChildPwsh -Name 'TcpStream TLS send' -Script 'TcpStream.ps1' -Arguments @('-ModulePath', $moduleManifest, '-Direction', 'Send', '-Port', "$port", '-Path', $source, '-Tls')
                try { $result = Receive-ChildJson $child -TimeoutSec ($timeout + 60) } finally { Stop-Child $child }
                if ($result.PSObject.Properties['error']) { throw $result.error }
                [pscustomobject]@{ Seconds = [double]$result.seconds; Bytes = [long]$result.bytes; Notes = '{0:N2} s Stopwatch around the cmdlet; pwsh peak RSS {1:N0} MiB during it' -f $result.seconds, ($result.peakKiB / 1KB) }
            }
            'socat -u OPENSSL' = {
                param($port)
                $run = Invoke-Tool -Name 'socat TLS client' -FileName $socat -Arguments @('-u', '-b', '1048576', "OPEN:$source", "OPENSSL:127.0.0.1:$port,verify=0") -TimeoutSec $timeout
                if ($run.ExitCode -ne 0) { throw "exit code $($run.ExitCode): $($run.Error)" }
                [pscustomobject]@{ Seconds = $run.Seconds; Bytes = $length; Notes = '{0:N2} s process start to exit' -f $run.Seconds }
            }
        }
        foreach ($name in $senders.Keys) {
            $peer = $null
            try {
                $port = Get-FreePort
                $peer = Start-Child -Name 'socat TLS sink' -FileName $socat -Arguments @('-u', '-b', '1048576',
                    "OPENSSL-LISTEN:$port,bind=127.0.0.1,reuseaddr,cert=$($Files.Certificate),key=$($Files.Key),verify=0", 'OPEN:/dev/null')
                Wait-TcpListener -Port $port -Child $peer
                $result = & $senders[$name] $port
                if (-not $peer.Process.WaitForExit(10000)) { throw 'the socat sink did not end after the transfer.' }
                $rate = if ($result.Bytes -eq $length -and $result.Seconds -gt 0) { $result.Bytes / $result.Seconds / 1e6 } else { $null }
                $measured[$name] = [pscustomobject]@{ Rate = $rate; Notes = $result.Notes }
                Write-Host ('  TLS stream {0,-44} {1,8:N0} MB/s  {2}' -f $name, $rate, $result.Notes)
            }
            catch {
                Write-Warning "TLS stream with ${name} failed: $_"
                $measured[$name] = [pscustomobject]@{ Rate = $null; Notes = "failed: $_" }
            }
            finally {
                if ($peer) { Stop-Child $peer }
            }
        }
    }
    finally {
        Remove-Item -LiteralPath $source -ErrorAction Ignore
    }
    $reference = $measured['socat -u OPENSSL']
    foreach ($name in $measured.Keys) {
        [pscustomobject]@{
            Scenario = "TLS stream $size, into socat OPENSSL-LISTEN"; Server = $name; Figure = $measured[$name].Rate; Unit = 'MB/s'
            Ratios = [ordered]@{ 'socat' = (Get-Ratio $measured[$name].Rate $(if ($reference) { $reference.Rate })) }; Target = ''; Met = $null; Notes = $measured[$name].Notes
        }
    }
}

# What the runner needs of this scenario: its place in the run and the table, and the line it prints first.
@{ Order = 50; Heading = 'TLS...' }
