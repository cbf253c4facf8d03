# Loads the build of NetCmdlets that fits this PowerShell: bin/net8.0 on PowerShell 7.4 and later
# (.NET 8 or newer), bin/netstandard2.0 on Windows PowerShell 5.1 and older PowerShell 7 releases.
# NETCMDLETS_FRAMEWORK=netstandard2.0 loads the Windows PowerShell build on PowerShell 7 too: the test
# suite runs once more on it that way, since no Windows PowerShell runs here.
$framework = if ($env:NETCMDLETS_FRAMEWORK -in 'net8.0', 'netstandard2.0') { $env:NETCMDLETS_FRAMEWORK }
elseif ($PSVersionTable.PSEdition -eq 'Core' -and [Environment]::Version.Major -ge 8) { 'net8.0' }
else { 'netstandard2.0' }
$assembly = [IO.Path]::Combine($PSScriptRoot, 'bin', $framework, 'NetCmdlets.dll')

# Import-Module itself, even if a function or alias of that name shadows it in the caller's session.
$importModule = Get-Command -Name Import-Module -Module Microsoft.PowerShell.Core
$script:binaryModule = & $importModule -Name $assembly -ErrorAction Stop -PassThru

# Removing NetCmdlets removes the binary module too, which closes this session's connections.
$ExecutionContext.SessionState.Module.OnRemove = {
    Remove-TypeData -TypeName 'NetCmdlets.Core.Messages.TcpMessage', 'NetCmdlets.Core.Messages.NetMessage' -ErrorAction SilentlyContinue
    Remove-Module -ModuleInfo $script:binaryModule -Force -ErrorAction SilentlyContinue
}

# Messages as data: Connection is there for `$_.Connection` and pipeline binding but hidden, so
# ConvertTo-Json and Export-Csv leave it out; Data turns into hex as text, so Export-Csv shows the bytes.
$members = [NetCmdlets.MessageMembers]
$tcpMessage = [System.Management.Automation.Runspaces.TypeData]::new('NetCmdlets.Core.Messages.TcpMessage')
$connection = [System.Management.Automation.Runspaces.CodePropertyData]::new('Connection', $members.GetMethod('GetConnection'))
if ($connection.PSObject.Properties['IsHidden']) { $connection.IsHidden = $true }
$tcpMessage.Members.Add('Connection', $connection)
# The peer's TLS certificate on each message too (mutual TLS: who sent it), hidden for the same reason.
$certificate = [System.Management.Automation.Runspaces.CodePropertyData]::new('RemoteCertificate', $members.GetMethod('GetRemoteCertificate'))
if ($certificate.PSObject.Properties['IsHidden']) { $certificate.IsHidden = $true }
$tcpMessage.Members.Add('RemoteCertificate', $certificate)
# What ended each line (with Data, the exact bytes the peer sent), hidden for the same reason.
$lineEnding = [System.Management.Automation.Runspaces.CodePropertyData]::new('LineEnding', $members.GetMethod('GetLineEnding'))
if ($lineEnding.PSObject.Properties['IsHidden']) { $lineEnding.IsHidden = $true }
$tcpMessage.Members.Add('LineEnding', $lineEnding)
# Over a UNIX socket: who sent it (process, user and group ids), hidden for the same reason.
$peer = [System.Management.Automation.Runspaces.CodePropertyData]::new('PeerCredential', $members.GetMethod('GetPeerCredential'))
if ($peer.PSObject.Properties['IsHidden']) { $peer.IsHidden = $true }
$tcpMessage.Members.Add('PeerCredential', $peer)
$netMessage = [System.Management.Automation.Runspaces.TypeData]::new('NetCmdlets.Core.Messages.NetMessage')
$netMessage.Members.Add('Data', [System.Management.Automation.Runspaces.CodePropertyData]::new('Data', $members.GetMethod('GetData')))
Update-TypeData -TypeData $tcpMessage, $netMessage -Force
