# Shared by bench/Invoke-Benchmark.ps1 and the scenarios in bench/scenarios, dot-sourced by the
# runner into its own scope: child processes, figures of this machine (CPU, RSS, open files), ratios,
# the peers measured beside the module, free ports, test files and network namespaces.

#region Child processes

# Every process started here, so that whatever happens they are all gone at the end.
$children = [Collections.Generic.List[object]]::new()

function Start-Child {
    param(
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [string] $FileName,
        [string[]] $Arguments = @(),
        [hashtable] $Environment = @{}
    )
    $info = [Diagnostics.ProcessStartInfo]::new($FileName)
    foreach ($argument in $Arguments) { $info.ArgumentList.Add($argument) }
    foreach ($variable in $Environment.Keys) { $info.Environment[$variable] = $Environment[$variable] }
    $info.UseShellExecute = $false
    $info.RedirectStandardInput = $true
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.WorkingDirectory = $root
    $process = [Diagnostics.Process]::Start($info)
    $child = [pscustomobject]@{
        Name = $Name
        Process = $process
        Pending = $null
        # Read to the end in the background, so a chatty child never blocks on a full pipe.
        ErrorText = $process.StandardError.ReadToEndAsync()
    }
    $children.Add($child)
    $child
}

# The PowerShell running this script, started again as a child. Under `dotnet pwsh` the process is
# dotnet itself, so pwsh.dll goes first. A launcher (ip netns exec <name>, say) goes before it all
# and must exec the command rather than start it as a child of its own.
function Start-ChildPwsh {
    param([string] $Name, [string] $Script, [string[]] $Arguments = @(), [string[]] $Launcher = @())
    $exe = [Environment]::ProcessPath
    [string[]] $prefix = if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' } else { @() }
    [string[]] $command = @($Launcher) + @($exe) + $prefix + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot "servers/$Script")) + $Arguments
    Start-Child -Name $Name -FileName $command[0] -Arguments @($command | Select-Object -Skip 1)
}

function Start-BenchTool {
    param([string] $Name, [string[]] $Arguments, [string[]] $Launcher = @())
    [string[]] $command = @($Launcher) + @('dotnet', $benchAssembly) + $Arguments
    Start-Child -Name $Name -FileName $command[0] -Arguments @($command | Select-Object -Skip 1)
}

# The next line of the child's stdout, or $null when none came in time or the output ended.
function Read-ChildLine {
    param([Parameter(Mandatory)] $Child, [double] $TimeoutSec = 10)
    if (-not $Child.Pending) { $Child.Pending = $Child.Process.StandardOutput.ReadLineAsync() }
    if (-not $Child.Pending.Wait([TimeSpan]::FromSeconds($TimeoutSec))) { return $null }
    $line = $Child.Pending.Result
    $Child.Pending = $null
    $line
}

# Reads lines until one matches, for at most TimeoutSec in all.
function Wait-ChildLine {
    param([Parameter(Mandatory)] $Child, [Parameter(Mandatory)] [string] $Pattern, [double] $TimeoutSec = 30)
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while ($true) {
        $left = ($deadline - [DateTime]::UtcNow).TotalSeconds
        if ($left -le 0) { break }
        $line = Read-ChildLine $Child -TimeoutSec $left
        if ($null -eq $line) { break }
        if ($line -match $Pattern) { return $Matches }
        Write-Verbose "$($Child.Name): $line"
    }
    throw "$($Child.Name) printed no line matching '$Pattern' within $TimeoutSec s.$(Get-ChildErrorText $Child)"
}

function Get-ChildErrorText {
    param($Child)
    # Its output ended: give it a moment to exit, so its stderr is complete.
    if (-not $Child.Process.WaitForExit(2000)) { return '' }
    $text = if ($Child.ErrorText.Wait(1000)) { $Child.ErrorText.Result.Trim() } else { '' }
    if ($text) { " Its stderr: $text" } else { " It exited with code $($Child.Process.ExitCode)." }
}

# The first JSON line the child prints (bench tools print one, when they are done).
function Receive-ChildJson {
    param([Parameter(Mandatory)] $Child, [double] $TimeoutSec)
    $match = Wait-ChildLine $Child -Pattern '^\{.*\}$' -TimeoutSec $TimeoutSec
    $match[0] | ConvertFrom-Json
}

# Runs a program to its end: its exit code, output and wall-clock seconds from start to exit.
function Invoke-Tool {
    param(
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [string] $FileName,
        [string[]] $Arguments = @(),
        [double] $TimeoutSec = 60,
        [hashtable] $Environment = @{}
    )
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $child = Start-Child -Name $Name -FileName $FileName -Arguments $Arguments -Environment $Environment
    try {
        $child.Process.StandardInput.Close()
        $output = $child.Process.StandardOutput.ReadToEndAsync()
        $exited = $child.Process.WaitForExit([int](1000 * $TimeoutSec))
        $seconds = $clock.Elapsed.TotalSeconds
        if ($exited) { $child.Process.WaitForExit() }
        [pscustomobject]@{
            ExitCode = if ($exited) { $child.Process.ExitCode } else { $null }
            Seconds = $seconds
            Output = if ($exited) { $output.Result } else { '' }
            Error = if ($exited) { $child.ErrorText.Result.Trim() } else { "no exit within $TimeoutSec s" }
        }
    }
    finally {
        Stop-Child $child
    }
}

# Kills the child and whatever it started (ncat's cat processes, say), if it has not ended already.
function Stop-Child {
    param([Parameter(Mandatory)] $Child)
    $process = $Child.Process
    try {
        if (-not $process.HasExited) {
            $process.Kill($true)
            $null = $process.WaitForExit(5000)
        }
    }
    catch [InvalidOperationException] {
        # Already gone.
    }
    $process.Dispose()
    $null = $children.Remove($Child)
}

#endregion

#region Figures of this machine

function Get-ProcStatusKiB {
    param([int] $ProcessId, [string] $Field)
    $line = Get-Content "/proc/$ProcessId/status" | Where-Object { $_ -like "${Field}:*" }
    [long]($line -replace '[^0-9]', '')
}

# The ids of the processes whose parent is this one (ncat's cat processes, say).
function Get-ChildProcessId {
    param([int] $ProcessId)
    foreach ($directory in [IO.Directory]::GetDirectories('/proc')) {
        if ($directory -notmatch '/(\d+)$') { continue }
        $id = [int]$Matches[1]
        $text = ''
        try { $text = [IO.File]::ReadAllText("$directory/stat") } catch { Write-Verbose "Process $id ended while read." }
        if (-not $text) { continue }
        $fields = $text.Substring($text.LastIndexOf(')') + 2).Split(' ')
        if ([int]$fields[1] -eq $ProcessId) { $id }
    }
}

# CPU seconds of a process, of the children it has waited for, and of those still running: ncat
# echoes through a cat process per connection, whose CPU the server's own figure would miss.
function Get-TreeCpuSeconds {
    param([int] $ProcessId)
    $seconds = 0.0
    foreach ($childId in @(Get-ChildProcessId $ProcessId)) {
        try { $seconds += Get-TreeCpuSeconds $childId } catch { Write-Verbose "Process $childId ended while read." }
    }
    $stat = Get-Content "/proc/$ProcessId/stat" -Raw
    $fields = $stat.Substring($stat.LastIndexOf(')') + 2).Split(' ')
    # utime, stime, then cutime and cstime: the children reaped so far.
    $seconds + ([double]$fields[11] + [double]$fields[12] + [double]$fields[13] + [double]$fields[14]) / $script:clockTicks
}

function Get-OpenFileLimit {
    # .NET raises its soft limit to the hard limit at start, so the hard limit is what a server gets.
    $line = Get-Content /proc/self/limits | Where-Object { $_ -like 'Max open files*' }
    $parts = $line.Split(' ', [StringSplitOptions]::RemoveEmptyEntries)
    [pscustomobject]@{ Soft = $parts[3]; Hard = $parts[4] }
}

# The first figure as a multiple of the second, or $null when either is missing.
function Get-Ratio {
    param($Value, $Reference)
    if ($null -eq $Value -or -not $Reference) { return $null }
    [double]$Value / $Reference
}

$script:clockTicks = 100
try { $script:clockTicks = [int](getconf CLK_TCK) } catch { Write-Verbose "getconf CLK_TCK failed; assuming 100." }

#endregion

#region Peers

# The commands the stream, echo and port scan rows run beside the module, and the Debian packages they come in.
# nc is called as nc.openbsd: another netcat under the name nc takes other options.
# iptables is no peer itself: the filtered port scan drops SYNs with it.
$peerPackages = [ordered]@{ 'socat' = 'socat'; 'ncat' = 'ncat'; 'microsocks' = 'microsocks'; 'nc.openbsd' = 'netcat-openbsd'; 'iperf3' = 'iperf3'; 'openssl' = 'openssl'; 'nmap' = 'nmap'; 'iptables' = 'iptables' }

function Find-Tool {
    param([Parameter(Mandatory)] [string] $Name)
    $command = Get-Command $Name -CommandType Application -ErrorAction Ignore | Select-Object -First 1
    if ($command) { $command.Source }
}

# Installs the missing peers with apt-get, where it is there and this runs as root. Nothing here is
# an error: a peer that is still missing afterwards gets a 'not installed' row.
function Install-Peer {
    $missing = @($peerPackages.Keys | Where-Object { -not (Find-Tool $_) })
    if (-not $missing) {
        Write-Host "  all there: $($peerPackages.Keys -join ', ')"
        return
    }
    $packages = @($missing | ForEach-Object { $peerPackages[$_] })
    if (-not (Test-Root) -or -not (Find-Tool 'apt-get')) {
        Write-Host "  not installed: $($missing -join ', ') (installing them needs apt-get and root)"
        return
    }
    Write-Host "  installing $($packages -join ', ') with apt-get..."
    $environment = @{ DEBIAN_FRONTEND = 'noninteractive' }
    $update = Invoke-Tool -Name 'apt-get update' -FileName 'apt-get' -Arguments @('update', '-qq') -TimeoutSec 180 -Environment $environment
    if ($update.ExitCode -ne 0) { Write-Warning "apt-get update failed: $($update.Error)" }
    $install = @{ Name = 'apt-get install'; FileName = 'apt-get'; TimeoutSec = 300; Environment = $environment }
    $all = Invoke-Tool @install -Arguments (@('install', '-y', '-qq', '--no-install-recommends') + $packages)
    if ($all.ExitCode -ne 0) {
        # One package this system does not have should not keep the others out.
        foreach ($package in $packages) {
            $one = Invoke-Tool @install -Arguments @('install', '-y', '-qq', '--no-install-recommends', $package)
            if ($one.ExitCode -ne 0) { Write-Warning "apt-get install $package failed: $($one.Error)" }
        }
    }
    $still = @($missing | Where-Object { -not (Find-Tool $_) })
    if ($still) { Write-Host "  still not installed: $($still -join ', ')" }
}

function Test-Root {
    (Get-Content /proc/self/status | Where-Object { $_ -match '^Uid:\s+0\s' }) -as [bool]
}

function Get-FreePort {
    $probe = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $probe.Start()
    try { $probe.LocalEndpoint.Port } finally { $probe.Stop() }
}

# Waits until something listens on the port, read from /proc/net/tcp rather than by connecting: a
# one-shot listener would take the probe for its client.
function Wait-TcpListener {
    param([Parameter(Mandatory)] [int] $Port, [Parameter(Mandatory)] $Child, [double] $TimeoutSec = 10)
    $pattern = '^\s*\d+:\s+[0-9A-F]+:{0:X4}\s+[0-9A-F]+:0000\s+0A\s' -f $Port
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while (-not (Get-Content /proc/net/tcp, /proc/net/tcp6 -ErrorAction Ignore | Where-Object { $_ -match $pattern })) {
        if ($Child.Process.HasExited -or [DateTime]::UtcNow -gt $deadline) { throw "$($Child.Name) did not listen on port $Port.$(Get-ChildErrorText $Child)" }
        Start-Sleep -Milliseconds 20
    }
}

#endregion

#region Test files and network namespaces

# Pseudo-random bytes (not zeros), so that nothing on the way could make the transfer cheaper than
# real data; /dev/shm keeps the disk out of it.
function New-StreamSource {
    param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [long] $Length)
    # Random.Shared, not a seeded Random: that one keeps an old algorithm, ten times slower.
    $random = [Random]::Shared
    $block = [byte[]]::new(1MB)
    $file = [IO.File]::Create($Path)
    try {
        for ($written = 0L; $written -lt $Length; $written += $block.Length) {
            $random.NextBytes($block)
            $file.Write($block, 0, [int][Math]::Min([long]$block.Length, $Length - $written))
        }
    }
    finally {
        $file.Dispose()
    }
}

# The namespaces made here, so that whatever happens they are all deleted at the end.
$namespaces = [Collections.Generic.List[string]]::new()

# Runs a command inside the namespace: its exit code, output and seconds, as Invoke-Tool gives them.
function Invoke-InNetns {
    param([Parameter(Mandatory)] [string] $Namespace, [Parameter(Mandatory)] [string[]] $Command, [double] $TimeoutSec = 30)
    Invoke-Tool -Name "ip netns exec $($Command[0])" -FileName (Find-Tool 'ip') -Arguments (@('netns', 'exec', $Namespace) + $Command) -TimeoutSec $TimeoutSec
}

# A network namespace of the benchmark's own with only its loopback, up: nothing else listens there,
# and nothing sent there leaves it. Throws when one cannot be made here (no ip, not root).
function New-BenchNetns {
    param([Parameter(Mandatory)] [string] $Purpose)
    if (-not (Find-Tool 'ip')) { throw 'ip (iproute2) is not installed' }
    $name = "netcmdlets-bench-$PID-$Purpose"
    $added = Invoke-Tool -Name 'ip netns add' -FileName (Find-Tool 'ip') -Arguments @('netns', 'add', $name) -TimeoutSec 30
    if ($added.ExitCode -ne 0) { throw "ip netns add failed: $($added.Error)" }
    $namespaces.Add($name)
    $up = Invoke-InNetns $name @('ip', 'link', 'set', 'lo', 'up')
    if ($up.ExitCode -ne 0) {
        Remove-BenchNetns $name
        throw "bringing lo up in the namespace failed: $($up.Error)"
    }
    $name
}

# Deletes the namespace, and with it the veth pair made in it; its processes must be gone first.
function Remove-BenchNetns {
    param([Parameter(Mandatory)] [string] $Name)
    $deleted = Invoke-Tool -Name 'ip netns delete' -FileName (Find-Tool 'ip') -Arguments @('netns', 'delete', $Name) -TimeoutSec 30
    if ($deleted.ExitCode -ne 0) { Write-Warning "ip netns delete $Name failed: $($deleted.Error)" }
    $null = $namespaces.Remove($Name)
}

#endregion
