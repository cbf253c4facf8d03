# The package build.ps1 -Task Package writes (output/package/NetCmdlets.<version>.nupkg): registered as a
# folder repository and installed with Install-PSResource in a fresh PowerShell whose home is empty, then
# imported and used there.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:packageFolder = Join-Path (Split-Path $NetCmdletsModulePath -Parent) 'package'
    $script:package = Get-ChildItem $packageFolder -Filter 'NetCmdlets.*.nupkg' -ErrorAction Ignore | Select-Object -First 1
}

Describe 'The NetCmdlets package' {
    It 'is built beside the module, with the manifest''s metadata' {
        $package | Should -Not -BeNullOrEmpty -Because 'build.ps1 -Task Test packages before it tests ($packageFolder)'
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [IO.Compression.ZipFile]::OpenRead($package.FullName)
        try {
            $names = @($zip.Entries.FullName)
            foreach ($file in 'NetCmdlets.psd1', 'NetCmdlets.psm1', 'NetCmdlets.Format.ps1xml', 'LICENSE', 'en-US/NetCmdlets.dll-Help.xml',
                'en-US/about_NetCmdlets.help.txt', 'bin/net8.0/NetCmdlets.dll', 'bin/net8.0/NetCmdlets.Core.dll',
                'bin/netstandard2.0/NetCmdlets.dll', 'bin/netstandard2.0/NetCmdlets.Core.dll') {
                $names | Should -Contain $file
            }
            $reader = [IO.StreamReader]::new($zip.GetEntry('NetCmdlets.nuspec').Open())
            [xml] $nuspec = $reader.ReadToEnd()
            $reader.Dispose()
        }
        finally { $zip.Dispose() }
        $metadata = $nuspec.package.metadata
        $metadata.id | Should -Be 'NetCmdlets'
        $metadata.projectUrl | Should -Not -BeNullOrEmpty
        $metadata.licenseUrl | Should -Not -BeNullOrEmpty
        $metadata.releaseNotes | Should -BeLike '*Start-TcpProxy*'
        $metadata.tags -split ' ' | Should -Contain 'PSEdition_Core'
        $metadata.tags -split ' ' | Should -Contain 'PSEdition_Desktop'
    }

    It 'installs from a folder repository with Install-PSResource, and imports and works in a fresh PowerShell' {
        $package | Should -Not -BeNullOrEmpty
        $homeFolder = Join-Path $TestDrive 'home'
        $null = New-Item -ItemType Directory -Path $homeFolder
        $script = @'
$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name Local -Uri $env:NETCMDLETS_PACKAGES -Trusted
Install-PSResource -Name NetCmdlets -Repository Local -Scope CurrentUser -TrustRepository -Quiet
$installed = Get-InstalledPSResource -Name NetCmdlets
"installed $($installed.Version) in $($installed.InstalledLocation)"
Import-Module NetCmdlets
"commands $(@(Get-Command -Module NetCmdlets).Count)"
"path $((Get-Module NetCmdlets).ModuleBase)"
"release notes $([bool](Get-Module NetCmdlets).ReleaseNotes)"
$server = Start-TcpServer -Port 0 -AsJob -Handler { "installed: $($_.Text)" }
(Send-TcpMessage -ComputerName 127.0.0.1 -Port $server.Port -Message 'hello' -Receive).Text
$server | Stop-Job -PassThru | Remove-Job
'@
        $exe = [Environment]::ProcessPath
        [string[]] $prefix = if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' } else { @() }
        $info = [Diagnostics.ProcessStartInfo]::new($exe)
        foreach ($argument in $prefix + @('-NoProfile', '-NonInteractive', '-Command', $script)) { $info.ArgumentList.Add($argument) }
        $info.UseShellExecute = $false
        $info.RedirectStandardOutput = $true
        $info.RedirectStandardError = $true
        # A clean PowerShell: an empty home (no repositories, no modules of this user), and no module path of ours.
        $info.Environment['HOME'] = $homeFolder
        $info.Environment['NETCMDLETS_PACKAGES'] = $packageFolder
        foreach ($name in 'PSModulePath', 'XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME', 'NETCMDLETS_MODULE_PATH') { $null = $info.Environment.Remove($name) }
        $process = [Diagnostics.Process]::Start($info)
        $errors = $process.StandardError.ReadToEndAsync()
        $output = $process.StandardOutput.ReadToEndAsync()
        $process.WaitForExit(120000) | Should -BeTrue -Because 'the install should finish within two minutes'
        $text = "$($output.Result)`n$($errors.Result)"
        $process.ExitCode | Should -Be 0 -Because $text
        $text | Should -BeLike '*installed 0.*'
        $text | Should -BeLike "*path $homeFolder*"
        $text | Should -BeLike '*commands 16*'
        $text | Should -BeLike '*release notes True*'
        $text | Should -BeLike '*installed: hello*'
    }
}
