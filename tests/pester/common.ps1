<#
.SYNOPSIS
Shared by every *.Tests.ps1: imports the module under test and gives the tests background
runspaces, raw .NET peers and bounded waits.

.DESCRIPTION
Dot-source it in each file's BeforeAll. Rules the helpers keep for the tests:
- servers bind port 0 and the port is read back from their 'Listening' information record;
- nothing sleeps to "wait a bit": every wait is on a condition, with a deadline;
- only loopback addresses are used;
- a background runspace is always disposed (Stop-BackgroundCommand, in a finally block).
#>

$NetCmdletsModulePath = if ($env:NETCMDLETS_MODULE_PATH) {
    $env:NETCMDLETS_MODULE_PATH
}
else {
    Join-Path $PSScriptRoot '../../output/NetCmdlets'
}
$NetCmdletsModulePath = (Resolve-Path -LiteralPath $NetCmdletsModulePath).ProviderPath
Import-Module $NetCmdletsModulePath -Force

# Used for every socket wait of the tests: long enough for a loaded CI machine, short enough to fail fast.
$DefaultWaitSec = 10

#region Background runspaces

function Start-BackgroundCommand {
    <#
    .SYNOPSIS
    Runs a script in a new runspace of this process, with the module imported, and returns at once.
    .DESCRIPTION
    The script is passed as text and parsed in the new runspace, so script blocks written inside it
    belong to that runspace (a script block from the test's runspace must not run on another one).
    Parameters may be any .NET objects: the runspace lives in this process.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)] [scriptblock] $ScriptBlock,
        [hashtable] $Parameters = @{}
    )
    $state = [initialsessionstate]::CreateDefault()
    $state.ImportPSModule($NetCmdletsModulePath)
    $runspace = [runspacefactory]::CreateRunspace($state)
    $runspace.Open()
    $ps = [powershell]::Create()
    $ps.Runspace = $runspace
    $null = $ps.AddScript($ScriptBlock.ToString()).AddParameters($Parameters)
    $inputData = [System.Management.Automation.PSDataCollection[psobject]]::new()
    $inputData.Complete()
    $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
    $handle = $ps.BeginInvoke($inputData, $output)
    [pscustomobject]@{
        PowerShell = $ps
        Runspace   = $runspace
        Output     = $output
        Handle     = $handle
    }
}

function Get-BackgroundProblem {
    # What a failed background command said, for the message of a test that fails because of it.
    param([Parameter(Mandatory)] $Background)
    $ps = $Background.PowerShell
    $errors = @(for ($i = 0; $i -lt $ps.Streams.Error.Count; $i++) { "$($ps.Streams.Error[$i])" })
    $reason = $ps.InvocationStateInfo.Reason
    "state $($ps.InvocationStateInfo.State); reason: $reason; errors: $($errors -join ' | ')"
}

function Wait-Listening {
    <#
    .SYNOPSIS
    Waits for the 'Listening' information record of a background server and returns its MessageData (.Port, .LocalEndPoint).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)] $Background,
        [double] $TimeoutSec = $DefaultWaitSec
    )
    $information = $Background.PowerShell.Streams.Information
    $deadline = [datetime]::UtcNow.AddSeconds($TimeoutSec)
    while ($true) {
        for ($i = 0; $i -lt $information.Count; $i++) {
            if ($information[$i].Tags -contains 'Listening') { return $information[$i].MessageData }
        }
        if ($Background.Handle.IsCompleted) {
            throw "The background command ended before it was listening: $(Get-BackgroundProblem $Background)"
        }
        if ([datetime]::UtcNow -ge $deadline) {
            throw "No 'Listening' record within $TimeoutSec s: $(Get-BackgroundProblem $Background)"
        }
        Start-Sleep -Milliseconds 10
    }
}

function Wait-BackgroundOutput {
    <#
    .SYNOPSIS
    Waits until a background command has written at least Count objects; returns them all.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)] $Background,
        [Parameter(Mandatory, Position = 1)] [int] $Count,
        [double] $TimeoutSec = $DefaultWaitSec
    )
    $deadline = [datetime]::UtcNow.AddSeconds($TimeoutSec)
    while ($Background.Output.Count -lt $Count) {
        if ($Background.Handle.IsCompleted) {
            throw "The background command ended after $($Background.Output.Count) of $Count objects: $(Get-BackgroundProblem $Background)"
        }
        if ([datetime]::UtcNow -ge $deadline) {
            throw "Only $($Background.Output.Count) of $Count objects within $TimeoutSec s: $(Get-BackgroundProblem $Background)"
        }
        Start-Sleep -Milliseconds 10
    }
    , (Get-BackgroundOutput $Background)
}

function Get-BackgroundOutput {
    # A snapshot of what a background command has written so far (ReadAll would take it away).
    param([Parameter(Mandatory, Position = 0)] $Background)
    $output = $Background.Output
    , @(for ($i = 0; $i -lt $output.Count; $i++) { $output[$i] })
}

function Wait-BackgroundCommand {
    <#
    .SYNOPSIS
    Waits for a background command to end by itself; throws if it does not within the deadline.
    .OUTPUTS
    Output (all it wrote), Errors (its error records), Failure (the terminating error, if any), State.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)] $Background,
        [double] $TimeoutSec = $DefaultWaitSec
    )
    if (-not $Background.Handle.AsyncWaitHandle.WaitOne([timespan]::FromSeconds($TimeoutSec))) {
        throw "The background command did not end within $TimeoutSec s: $(Get-BackgroundProblem $Background)"
    }
    $failure = $null
    try {
        $null = $Background.PowerShell.EndInvoke($Background.Handle)
    }
    catch {
        $failure = $_.Exception
    }
    $ps = $Background.PowerShell
    [pscustomobject]@{
        Output  = Get-BackgroundOutput $Background
        Errors  = @(for ($i = 0; $i -lt $ps.Streams.Error.Count; $i++) { $ps.Streams.Error[$i] })
        Failure = $failure
        State   = $ps.InvocationStateInfo.State
    }
}

function Stop-BackgroundCommand {
    <#
    .SYNOPSIS
    Stops a background command (as Ctrl+C would) if it still runs, and disposes it and its runspace.
    .OUTPUTS
    How long the stop took, as a TimeSpan. Throws if it did not stop within the deadline.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Position = 0)] $Background,
        [double] $TimeoutSec = $DefaultWaitSec
    )
    if ($null -eq $Background) { return }
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    if (-not $Background.Handle.IsCompleted) {
        $stopping = $Background.PowerShell.BeginStop($null, $null)
        if (-not $stopping.AsyncWaitHandle.WaitOne([timespan]::FromSeconds($TimeoutSec))) {
            # Disposing a pipeline that ignores Stop could hang this test run too: leave it to the process exit.
            throw "The background command did not stop within $TimeoutSec s: $(Get-BackgroundProblem $Background)"
        }
        $Background.PowerShell.EndStop($stopping)
        $null = $Background.Handle.AsyncWaitHandle.WaitOne([timespan]::FromSeconds($TimeoutSec))
    }
    $elapsed = $clock.Elapsed
    $Background.PowerShell.Dispose()
    $Background.Runspace.Dispose()
    $elapsed
}

#endregion

#region TCP peers

function New-TestTcpClient {
    <#
    .SYNOPSIS
    A System.Net.Sockets.TcpClient connected to 127.0.0.1:Port, with read and write timeouts.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)] [int] $Port,
        [double] $TimeoutSec = $DefaultWaitSec
    )
    $client = [System.Net.Sockets.TcpClient]::new([System.Net.Sockets.AddressFamily]::InterNetwork)
    $client.NoDelay = $true
    $client.ReceiveTimeout = [int]($TimeoutSec * 1000)
    $client.SendTimeout = [int]($TimeoutSec * 1000)
    try {
        if (-not $client.ConnectAsync([ipaddress]::Loopback, $Port).Wait([timespan]::FromSeconds($TimeoutSec))) {
            throw "Connecting to 127.0.0.1:$Port took longer than $TimeoutSec s."
        }
    }
    catch {
        $client.Dispose()
        throw
    }
    $client
}

function Send-TestBytes {
    param(
        [Parameter(Mandatory, Position = 0)] [System.Net.Sockets.TcpClient] $Client,
        [Parameter(Mandatory, Position = 1)] [byte[]] $Bytes
    )
    $Client.GetStream().Write($Bytes, 0, $Bytes.Length)
}

function Send-TestLines {
    <#
    .SYNOPSIS
    Writes each line plus NewLine, encoded, in one write.
    #>
    param(
        [Parameter(Mandatory, Position = 0)] [System.Net.Sockets.TcpClient] $Client,
        [Parameter(Mandatory, Position = 1)] [AllowEmptyString()] [string[]] $Line,
        [string] $NewLine = "`n",
        [System.Text.Encoding] $Encoding = [System.Text.UTF8Encoding]::new($false)
    )
    $text = -join ($Line | ForEach-Object { $_ + $NewLine })
    Send-TestBytes $Client $Encoding.GetBytes($text)
}

function Read-TestBytes {
    <#
    .SYNOPSIS
    Reads exactly Count bytes; the client's ReceiveTimeout bounds each read.
    #>
    param(
        [Parameter(Mandatory, Position = 0)] [System.Net.Sockets.TcpClient] $Client,
        [Parameter(Mandatory, Position = 1)] [int] $Count
    )
    $buffer = [byte[]]::new($Count)
    $read = 0
    $stream = $Client.GetStream()
    while ($read -lt $Count) {
        $n = $stream.Read($buffer, $read, $Count - $read)
        if ($n -eq 0) { throw "The connection ended after $read of $Count bytes." }
        $read += $n
    }
    , $buffer
}

function Read-TestLine {
    <#
    .SYNOPSIS
    Reads one LF-terminated line (UTF-8, CR before LF dropped); $null at the end of the stream.
    #>
    param(
        [Parameter(Mandatory, Position = 0)] [System.Net.Sockets.TcpClient] $Client,
        [int] $MaxLength = 65536
    )
    $stream = $Client.GetStream()
    $bytes = [System.Collections.Generic.List[byte]]::new()
    while ($bytes.Count -le $MaxLength) {
        $b = $stream.ReadByte()
        if ($b -lt 0) { return $null }
        if ($b -eq 10) {
            if ($bytes.Count -gt 0 -and $bytes[$bytes.Count - 1] -eq 13) { $bytes.RemoveAt($bytes.Count - 1) }
            return [System.Text.Encoding]::UTF8.GetString($bytes.ToArray())
        }
        $bytes.Add([byte]$b)
    }
    throw "No line feed within $MaxLength bytes."
}

function Read-TestToEnd {
    <#
    .SYNOPSIS
    Reads until the peer closes; returns all bytes. The client's ReceiveTimeout bounds each read.
    #>
    param([Parameter(Mandatory, Position = 0)] [System.Net.Sockets.TcpClient] $Client)
    $stream = $Client.GetStream()
    $all = [System.IO.MemoryStream]::new()
    $buffer = [byte[]]::new(65536)
    while (($n = $stream.Read($buffer, 0, $buffer.Length)) -gt 0) { $all.Write($buffer, 0, $n) }
    , $all.ToArray()
}

function New-TestTcpListener {
    <#
    .SYNOPSIS
    A started System.Net.Sockets.TcpListener on 127.0.0.1, port 0; its port is $listener.LocalEndpoint.Port.
    #>
    $listener = [System.Net.Sockets.TcpListener]::new([ipaddress]::Loopback, 0)
    $listener.Start()
    $listener
}

function Wait-TestAccept {
    <#
    .SYNOPSIS
    Accepts the next client of a TcpListener, or throws after the deadline.
    #>
    param(
        [Parameter(Mandatory, Position = 0)] [System.Net.Sockets.TcpListener] $Listener,
        [double] $TimeoutSec = $DefaultWaitSec
    )
    $accept = $Listener.AcceptTcpClientAsync()
    if (-not $accept.Wait([timespan]::FromSeconds($TimeoutSec))) { throw "No client connected within $TimeoutSec s." }
    $client = $accept.Result
    $client.ReceiveTimeout = [int]($TimeoutSec * 1000)
    $client.SendTimeout = [int]($TimeoutSec * 1000)
    $client
}

function Get-UnusedTcpPort {
    <#
    .SYNOPSIS
    A loopback port that nothing listens on: bound by the system for a moment, then released.
    #>
    $listener = New-TestTcpListener
    $port = $listener.LocalEndpoint.Port
    $listener.Stop()
    $port
}

function Assert-TcpPortFree {
    <#
    .SYNOPSIS
    Throws (with the socket error) unless a new TcpListener can bind 127.0.0.1:Port at once.
    #>
    param([Parameter(Mandatory, Position = 0)] [int] $Port)
    $listener = [System.Net.Sockets.TcpListener]::new([ipaddress]::Loopback, $Port)
    try {
        $listener.Start()
    }
    finally {
        $listener.Stop()
    }
}

function Start-TestEchoServer {
    <#
    .SYNOPSIS
    A plain .NET line server in a background runspace: accepts one client, answers each line with
    Prefix + line, and writes the lines it read to its output. Its port is the Port property.
    #>
    param(
        [int] $Lines = 100,
        [string] $Prefix = 're:'
    )
    $listener = New-TestTcpListener
    $background = Start-BackgroundCommand -Parameters @{ Listener = $listener; Lines = $Lines; Prefix = $Prefix; TimeoutMs = $DefaultWaitSec * 1000 } {
        param($Listener, $Lines, $Prefix, $TimeoutMs)
        $client = $null
        try {
            $accept = $Listener.AcceptTcpClientAsync()
            if (-not $accept.Wait($TimeoutMs)) { throw 'No client connected.' }
            $client = $accept.Result
            $client.ReceiveTimeout = $TimeoutMs
            $utf8 = [System.Text.UTF8Encoding]::new($false)
            $reader = [System.IO.StreamReader]::new($client.GetStream(), $utf8)
            $writer = [System.IO.StreamWriter]::new($client.GetStream(), $utf8)
            $writer.NewLine = "`n"
            $writer.AutoFlush = $true
            for ($i = 0; $i -lt $Lines; $i++) {
                $line = $reader.ReadLine()
                if ($null -eq $line) { break }
                $line
                $writer.WriteLine($Prefix + $line)
            }
        }
        finally {
            if ($client) { $client.Dispose() }
            $Listener.Stop()
        }
    }
    $background | Add-Member -NotePropertyName Port -NotePropertyValue $listener.LocalEndpoint.Port -PassThru
}

#endregion

#region UDP peers

function New-TestUdpClient {
    <#
    .SYNOPSIS
    A UdpClient bound to 127.0.0.1, port 0, with a receive timeout; its port is $udp.Client.LocalEndPoint.Port.
    #>
    param([double] $TimeoutSec = $DefaultWaitSec)
    $udp = [System.Net.Sockets.UdpClient]::new([System.Net.IPEndPoint]::new([ipaddress]::Loopback, 0))
    $udp.Client.ReceiveTimeout = [int]($TimeoutSec * 1000)
    $udp
}

function Receive-TestDatagram {
    <#
    .SYNOPSIS
    The next datagram of a UdpClient, as Data and RemoteEndPoint; throws after its receive timeout.
    #>
    param([Parameter(Mandatory, Position = 0)] [System.Net.Sockets.UdpClient] $Udp)
    $from = [System.Net.IPEndPoint]::new([ipaddress]::Any, 0)
    $data = $Udp.Receive([ref] $from)
    [pscustomobject]@{ Data = $data; RemoteEndPoint = $from }
}

function Send-TestDatagram {
    param(
        [Parameter(Mandatory, Position = 0)] [System.Net.Sockets.UdpClient] $Udp,
        [Parameter(Mandatory, Position = 1)] [int] $Port,
        [Parameter(Mandatory, Position = 2)] [AllowEmptyCollection()] [byte[]] $Data
    )
    $null = $Udp.Send($Data, $Data.Length, [System.Net.IPEndPoint]::new([ipaddress]::Loopback, $Port))
}

function Assert-UdpPortFree {
    <#
    .SYNOPSIS
    Throws (with the socket error) unless a new UdpClient can bind 127.0.0.1:Port at once.
    #>
    param([Parameter(Mandatory, Position = 0)] [int] $Port)
    $udp = [System.Net.Sockets.UdpClient]::new([System.Net.IPEndPoint]::new([ipaddress]::Loopback, $Port))
    $udp.Dispose()
}

#endregion

#region Waiting, jobs and connections

function Wait-TestCondition {
    <#
    .SYNOPSIS
    Polls a condition every 10 ms until it is true: returns $true, or $false once the deadline has
    passed. Assert on the values afterwards, so that a failure shows what they were.
    .DESCRIPTION
    The condition runs in a child scope of the caller, so it sees the test's variables; its own
    names start with __wait so they hide none of them.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)] [scriptblock] $Condition,
        [double] $TimeoutSec = $DefaultWaitSec
    )
    $__waitUntil = [datetime]::UtcNow.AddSeconds($TimeoutSec)
    while (-not (& $Condition)) {
        if ([datetime]::UtcNow -ge $__waitUntil) { return $false }
        Start-Sleep -Milliseconds 10
    }
    $true
}

function Get-ServerJob {
    # The server jobs (-AsJob) of this session.
    @(Get-Job | Where-Object PSJobTypeName -EQ 'NetServerJob')
}

function Remove-TestServerJob {
    <#
    .SYNOPSIS
    Stops server jobs (each within the deadline) and removes them; without -Job, every server job
    of the session. For AfterEach/AfterAll: throws, after trying them all, if one did not stop.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Position = 0)] [AllowNull()] [AllowEmptyCollection()] [object[]] $Job,
        [double] $TimeoutSec = $DefaultWaitSec
    )
    if (-not $PSBoundParameters.ContainsKey('Job')) { $Job = Get-ServerJob }
    $stuck = @()
    foreach ($j in $Job) {
        if ($null -eq $j) { continue }
        if ($j.JobStateInfo.State -notin 'Completed', 'Failed', 'Stopped') {
            $j.StopJobAsync()
            if (-not $j.Finished.WaitOne([timespan]::FromSeconds($TimeoutSec))) {
                $stuck += "job $($j.Id) ($($j.Name)) is still $($j.JobStateInfo.State)"
                continue
            }
        }
        if (Get-Job -InstanceId $j.InstanceId -ErrorAction Ignore) { Remove-Job -Job $j -Force }
    }
    if ($stuck) { throw "Server jobs did not stop within $TimeoutSec s: $($stuck -join '; ')" }
}

function Close-TestTcpConnection {
    # Closes every connection New-TcpConnection left open in this session (for AfterEach).
    Get-TcpConnection | Close-TcpConnection
}

function Connect-TestTcpClient {
    <#
    .SYNOPSIS
    Count TcpClients (New-TestTcpClient) connected to 127.0.0.1:Port one after the other, as a list.
    #>
    param(
        [Parameter(Mandatory, Position = 0)] [int] $Port,
        [Parameter(Mandatory, Position = 1)] [int] $Count
    )
    $clients = [System.Collections.Generic.List[System.Net.Sockets.TcpClient]]::new()
    try {
        for ($i = 0; $i -lt $Count; $i++) { $clients.Add((New-TestTcpClient $Port)) }
    }
    catch {
        foreach ($client in $clients) { $client.Dispose() }
        throw
    }
    , $clients
}

function Read-TestLines {
    <#
    .SYNOPSIS
    Reads Count lines with Read-TestLine and outputs them; throws if the stream ends first.
    #>
    param(
        [Parameter(Mandatory, Position = 0)] [System.Net.Sockets.TcpClient] $Client,
        [Parameter(Mandatory, Position = 1)] [int] $Count
    )
    for ($i = 0; $i -lt $Count; $i++) {
        $line = Read-TestLine $Client
        if ($null -eq $line) { throw "The connection ended after $i of $Count lines." }
        $line
    }
}

function Reset-TestTcpClient {
    # Ends a connection with a reset (RST) instead of a clean close: linger on, with a zero timeout.
    param([Parameter(Mandatory, Position = 0)] [System.Net.Sockets.TcpClient] $Client)
    # TcpClient.Dispose would shut down (FIN) first: close the socket itself.
    $Client.Client.LingerState = [System.Net.Sockets.LingerOption]::new($true, 0)
    $Client.Client.Close()
}

function Get-TestTcpEnd {
    <#
    .SYNOPSIS
    Reads until the peer ends the connection and says how: 'closed' (a clean end) or 'reset'.
    Bytes that arrive first are returned as 'data:<count>'. The client's ReceiveTimeout bounds each read.
    #>
    param([Parameter(Mandatory, Position = 0)] [System.Net.Sockets.TcpClient] $Client)
    try {
        $bytes = Read-TestToEnd $Client
    }
    catch {
        $socketError = $_.Exception.GetBaseException()
        if ($socketError -is [System.Net.Sockets.SocketException] -and $socketError.SocketErrorCode -eq 'ConnectionReset') { return 'reset' }
        throw
    }
    if ($bytes.Length -gt 0) { "data:$($bytes.Length)" } else { 'closed' }
}

function Receive-TestText {
    # The next datagram of a UdpClient (Receive-TestDatagram) decoded as UTF-8, with its sender.
    param([Parameter(Mandatory, Position = 0)] [System.Net.Sockets.UdpClient] $Udp)
    $datagram = Receive-TestDatagram $Udp
    [pscustomobject]@{ Text = [System.Text.Encoding]::UTF8.GetString($datagram.Data); RemoteEndPoint = $datagram.RemoteEndPoint }
}

#endregion

#region Errors

function Assert-NetError {
    <#
    .SYNOPSIS
    Checks what a script would look at on a failure: the error id (the part before the comma that
    PowerShell adds), the category and the target.
    #>
    param(
        [Parameter(Mandatory, Position = 0)] [AllowNull()] [System.Management.Automation.ErrorRecord] $ErrorRecord,
        [Parameter(Mandatory)] [string] $Id,
        [Parameter(Mandatory)] [System.Management.Automation.ErrorCategory] $Category,
        [Parameter(Mandatory)] [string] $TargetLike
    )
    $ErrorRecord | Should -Not -BeNullOrEmpty -Because "a $Id error was expected"
    ($ErrorRecord.FullyQualifiedErrorId -split ',')[0] | Should -Be $Id -Because "$($ErrorRecord.Exception.Message)"
    $ErrorRecord.CategoryInfo.Category | Should -Be $Category
    "$($ErrorRecord.TargetObject)" | Should -BeLike $TargetLike
}

#endregion

#region Peers in other processes

function Start-PythonPeer {
    <#
    .SYNOPSIS
    Runs a Python 3 script as a peer process that is not the module. The script binds or connects as it
    likes and prints one line first (a port, say); that line is the Ready property. Its later output is
    read with Wait-PythonPeer. Stop it with Stop-PythonPeer (in a finally block).
    #>
    param(
        [Parameter(Mandatory, Position = 0)] [string] $Script,
        [string[]] $Arguments = @(),
        [double] $TimeoutSec = $DefaultWaitSec
    )
    $python = (Get-Command python3 -CommandType Application -ErrorAction Stop | Select-Object -First 1).Source
    $info = [Diagnostics.ProcessStartInfo]::new($python)
    $info.ArgumentList.Add('-u')
    $info.ArgumentList.Add('-c')
    $info.ArgumentList.Add($Script)
    foreach ($argument in $Arguments) { $info.ArgumentList.Add($argument) }
    $info.UseShellExecute = $false
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $process = [Diagnostics.Process]::Start($info)
    $errors = $process.StandardError.ReadToEndAsync()
    $first = $process.StandardOutput.ReadLineAsync()
    if (-not $first.Wait([timespan]::FromSeconds($TimeoutSec)) -or $null -eq $first.Result) {
        $process.Kill($true)
        throw "The Python peer printed nothing within $TimeoutSec s: $($errors.Result)"
    }
    [pscustomobject]@{ Process = $process; Ready = $first.Result; Errors = $errors }
}

function Wait-PythonPeer {
    # Waits for the peer to exit and returns the rest of its output, trimmed; throws on a failure exit.
    param([Parameter(Mandatory, Position = 0)] $Peer, [double] $TimeoutSec = 60)
    $rest = $Peer.Process.StandardOutput.ReadToEndAsync()
    if (-not $Peer.Process.WaitForExit([int]($TimeoutSec * 1000))) { throw "The Python peer did not exit within $TimeoutSec s." }
    $Peer.Process.WaitForExit()
    if ($Peer.Process.ExitCode -ne 0) { throw "The Python peer failed ($($Peer.Process.ExitCode)): $($Peer.Errors.Result)" }
    $rest.Result.Trim()
}

function Stop-PythonPeer {
    param([Parameter(Position = 0)] $Peer)
    if ($null -eq $Peer) { return }
    if (-not $Peer.Process.HasExited) { $Peer.Process.Kill($true); $null = $Peer.Process.WaitForExit(5000) }
    $Peer.Process.Dispose()
}

function Start-OpenSslServer {
    <#
    .SYNOPSIS
    Runs `openssl s_server` on 127.0.0.1 and a port the system picks, with the given certificate and key
    files and extra arguments (-rev echoes each line reversed); returns the process and its Port. Stop
    it with Stop-PythonPeer (in a finally block). stdbuf makes openssl print its ACCEPT line at once.
    #>
    param(
        [Parameter(Mandatory)] [string] $CertificatePath,
        [Parameter(Mandatory)] [string] $KeyPath,
        [string[]] $Arguments = @('-rev'),
        [double] $TimeoutSec = $DefaultWaitSec
    )
    $info = [Diagnostics.ProcessStartInfo]::new('stdbuf')
    foreach ($argument in @('-oL', 'openssl', 's_server', '-accept', '127.0.0.1:0', '-cert', $CertificatePath, '-key', $KeyPath) + $Arguments) { $info.ArgumentList.Add($argument) }
    $info.UseShellExecute = $false
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.RedirectStandardInput = $true
    $process = [Diagnostics.Process]::Start($info)
    $errors = $process.StandardError.ReadToEndAsync()
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while ($true) {
        $line = $process.StandardOutput.ReadLineAsync()
        if (-not $line.Wait([Math]::Max(1, ($deadline - [DateTime]::UtcNow).TotalMilliseconds)) -or $null -eq $line.Result) {
            $process.Kill($true)
            throw "openssl s_server did not listen: $($errors.Result)"
        }
        if ($line.Result -match '^ACCEPT .*:(\d+)$') { break }
    }
    [pscustomobject]@{ Process = $process; Port = [int]$Matches[1]; Errors = $errors }
}

function Export-TestCertificate {
    # Writes a certificate (and its key, with -Key) as PEM files in the temp folder; returns their paths.
    param([Parameter(Mandatory, Position = 0)] [System.Security.Cryptography.X509Certificates.X509Certificate2] $Certificate, [switch] $Key)
    $base = Join-Path ([IO.Path]::GetTempPath()) "netcmdlets-test-$([guid]::NewGuid().ToString('n'))"
    Set-Content -LiteralPath "$base.crt" -Value $Certificate.ExportCertificatePem()
    $paths = [ordered]@{ Certificate = "$base.crt" }
    if ($Key) {
        Set-Content -LiteralPath "$base.key" -Value ([System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey($Certificate).ExportPkcs8PrivateKeyPem())
        $paths.Key = "$base.key"
    }
    [pscustomobject]$paths
}

function New-TestFile {
    # A file of Size random bytes in the temp folder; returns its path.
    param([Parameter(Mandatory, Position = 0)] [long] $Size)
    $path = Join-Path ([IO.Path]::GetTempPath()) "netcmdlets-test-$([guid]::NewGuid()).bin"
    $random = [Random]::new(42)
    $buffer = [byte[]]::new(1MB)
    $stream = [IO.File]::Create($path)
    try {
        for ($left = $Size; $left -gt 0; $left -= $buffer.Length) {
            $random.NextBytes($buffer)
            $stream.Write($buffer, 0, [Math]::Min($left, $buffer.Length))
        }
    }
    finally { $stream.Dispose() }
    $path
}

#endregion
