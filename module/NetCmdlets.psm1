# Loads the build of NetCmdlets that fits this PowerShell: bin/net8.0 on PowerShell 7.4 and later
# (.NET 8 or newer), bin/netstandard2.0 on Windows PowerShell 5.1 and older PowerShell 7 releases.
$framework = if ($PSVersionTable.PSEdition -eq 'Core' -and [Environment]::Version.Major -ge 8) { 'net8.0' } else { 'netstandard2.0' }
$assembly = [IO.Path]::Combine($PSScriptRoot, 'bin', $framework, 'NetCmdlets.dll')

# Import-Module itself, even if a function or alias of that name shadows it in the caller's session.
$importModule = Get-Command -Name Import-Module -Module Microsoft.PowerShell.Core
$script:binaryModule = & $importModule -Name $assembly -ErrorAction Stop -PassThru

# Removing NetCmdlets removes the binary module too, which closes this session's connections.
$ExecutionContext.SessionState.Module.OnRemove = {
    Remove-Module -ModuleInfo $script:binaryModule -Force -ErrorAction SilentlyContinue
}
