BeforeDiscovery {
    # Every cmdlet the manifest exports gets the help tests, so a new cmdlet cannot ship without help.
    $modulePath = if ($env:NETCMDLETS_MODULE_PATH) { $env:NETCMDLETS_MODULE_PATH } else { Join-Path $PSScriptRoot '../../output/NetCmdlets' }
    $manifestPath = Get-ChildItem -Path $modulePath -Filter NetCmdlets.psd1 -Recurse | Select-Object -First 1
    $exported = if ($manifestPath) { @((Import-PowerShellDataFile $manifestPath.FullName).CmdletsToExport) } else { @() }
    $cmdletNames = @('Start-TcpServer', 'Send-TcpMessage', 'Send-UdpDatagram', 'Receive-UdpDatagram') + $exported | Select-Object -Unique
    $cmdletCases = @($cmdletNames | ForEach-Object { @{ Name = $_ } })
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $module = Get-Module NetCmdlets
    $expectedCmdlets = 'Close-TcpConnection', 'Get-TcpConnection', 'New-TcpConnection', 'New-TcpFault', 'New-TcpFraming', 'New-TlsCertificate', 'Receive-TcpMessage', 'Receive-UdpDatagram', 'Send-TcpMessage', 'Send-UdpDatagram', 'Set-TcpConnection', 'Set-TcpProxy', 'Start-TcpProxy', 'Start-TcpServer', 'Start-UdpServer', 'Test-TcpPort'

    # Parameters every cmdlet gets from PowerShell: described by about_CommonParameters, not by each help page.
    $commonParameters = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters

    function Get-HelpText {
        # Help text fields are arrays of objects with a Text property; empty when there is no help.
        param($Field)
        $parts = foreach ($item in @($Field)) {
            if ($null -eq $item) { continue }
            if ($item.PSObject.Properties['Text']) { $item.Text } else { "$item" }
        }
        "$($parts -join "`n")".Trim()
    }
}

Describe 'NetCmdlets module' {
    It 'has a valid manifest' {
        $manifest = Join-Path $module.ModuleBase 'NetCmdlets.psd1'
        { Test-ModuleManifest -Path $manifest -ErrorAction Stop } | Should -Not -Throw
    }

    It 'has about_NetCmdlets, which names every exported cmdlet' {
        $about = Get-Help about_NetCmdlets | Out-String
        $about | Should -Not -BeNullOrEmpty
        $missing = @($module.ExportedCmdlets.Keys | Where-Object { $about -notmatch "\b$([regex]::Escape($_))\b" })
        $missing | Should -BeNullOrEmpty -Because 'about_NetCmdlets should name every cmdlet'
    }

    # The issue's list: a cmdlet added on purpose is added here too.
    It 'exports exactly the four cmdlets, and no functions or aliases' {
        @($module.ExportedCmdlets.Keys | Sort-Object) | Should -Be $expectedCmdlets
        $module.ExportedFunctions.Keys | Should -BeNullOrEmpty
        $module.ExportedAliases.Keys | Should -BeNullOrEmpty
        @(Get-Command -Module NetCmdlets | ForEach-Object Name | Sort-Object) | Should -Be $expectedCmdlets
    }

    It 'loads the net8.0 build on PowerShell 7 (the netstandard2.0 one with NETCMDLETS_FRAMEWORK), and ships both builds with only its own DLLs' {
        $binary = @(Get-Module NetCmdlets -All | Where-Object ModuleType -EQ 'Binary')[0]
        $expected = if ($env:NETCMDLETS_FRAMEWORK) { $env:NETCMDLETS_FRAMEWORK } else { 'net8.0' }
        $binary.Path | Should -BeLike "*bin?${expected}?NetCmdlets.dll"
        foreach ($target in 'net8.0', 'netstandard2.0') {
            @(Get-ChildItem (Join-Path $module.ModuleBase "bin/$target") -File | ForEach-Object Name | Sort-Object) | Should -Be @('NetCmdlets.Core.dll', 'NetCmdlets.dll')
        }
        Test-Path (Join-Path $module.ModuleBase 'LICENSE') | Should -BeTrue
    }

    # Framing, encoding and TLS parameters are declared once, in src/NetCmdlets/Parameters, for every
    # cmdlet that takes them: each takes them with the same type, validation, transformation and completion.
    It 'takes each shared parameter alike in every cmdlet that has it' {
        $shared = 'Framing', 'LineEnding', 'Delimiter', 'MaxMessageLength', 'Encoding', 'UseTls', 'SkipCertificateCheck', 'TlsServerName',
            'TrustedCertificate', 'ClientCertificate', 'TlsProtocol', 'Certificate', 'CertificatePassword', 'CertificateKeyPath', 'RequireClientCertificate',
            'Proxy', 'ProxyCredential'
        $takers = @{}
        foreach ($command in Get-Command -Module NetCmdlets | Where-Object Name -NE 'New-TcpFraming') {
            foreach ($name in $shared) {
                $parameter = $command.Parameters[$name]
                if (-not $parameter) { continue }
                $attributes = @($parameter.Attributes | Where-Object { $_ -isnot [System.Management.Automation.ParameterAttribute] -and $_.GetType().Name -ne 'NullableAttribute' } | ForEach-Object {
                        switch ($_) {
                            { $_ -is [System.Management.Automation.ValidateSetAttribute] } { 'ValidateSet(' + ($_.ValidValues -join ',') + ')'; break }
                            { $_ -is [System.Management.Automation.ValidateRangeAttribute] } { "ValidateRange($($_.MinRange),$($_.MaxRange))"; break }
                            { $_ -is [System.Management.Automation.ArgumentCompleterAttribute] } { "Completer($($_.Type))"; break }
                            default { $_.GetType().Name }
                        }
                    }) | Sort-Object
                $takers[$name] += @("$($command.Name): $($parameter.ParameterType) $($attributes -join ';')")
            }
        }
        foreach ($name in $shared) {
            $takers[$name].Count | Should -BeGreaterOrEqual 2 -Because "-$name is shared"
            @($takers[$name] | ForEach-Object { $_ -replace '^[^:]+: ', '' } | Select-Object -Unique).Count | Should -Be 1 -Because ($takers[$name] -join ' | ')
        }
        # A completer is what tab completion offers: the same names for -Framing and -Encoding everywhere.
        foreach ($line in 'New-TcpConnection -Framing Len', 'Send-TcpMessage -ComputerName x -Port 1 -Message m -Framing Len', 'Start-TcpServer -Framing Len') {
            (TabExpansion2 $line $line.Length).CompletionMatches.CompletionText | Should -Contain 'LengthPrefixed' -Because $line
        }
    }

    It 'lists the same four cmdlets in the manifest' {
        $data = Import-PowerShellDataFile (Join-Path $module.ModuleBase 'NetCmdlets.psd1')
        @($data.CmdletsToExport | Sort-Object) | Should -Be $expectedCmdlets
    }
}

Describe 'Help for <Name>' -ForEach $cmdletCases {
    BeforeAll {
        $command = Get-Command $Name -Module NetCmdlets
        $help = Get-Help $Name -Full
    }

    It 'has a synopsis' {
        $synopsis = Get-HelpText $help.Synopsis
        $synopsis | Should -Not -BeNullOrEmpty
        # Without a help file, Get-Help makes the synopsis from the syntax: "Name [-Param] <type> ...".
        $synopsis | Should -Not -Match "^$([regex]::Escape($Name))\s+\[" -Because 'the synopsis must be written, not generated from the syntax'
    }

    It 'has a description' {
        Get-HelpText $help.Description | Should -Not -BeNullOrEmpty
    }

    It 'describes every parameter' {
        $documented = @{}
        foreach ($parameter in @($help.Parameters.Parameter)) {
            if ($parameter -and $parameter.Name) { $documented[$parameter.Name] = Get-HelpText $parameter.Description }
        }
        $own = @($command.Parameters.Keys | Where-Object { $_ -notin $commonParameters })
        $own | Should -Not -BeNullOrEmpty
        $undescribed = @($own | Where-Object { -not $documented[$_] })
        $undescribed | Should -BeNullOrEmpty -Because "every parameter of $Name needs a description (missing: $($undescribed -join ', '))"
    }

    It 'has at least two examples, each with code and an explanation' {
        $examples = @($help.Examples.Example | Where-Object { $_ })
        $examples.Count | Should -BeGreaterOrEqual 2
        foreach ($example in $examples) {
            "$($example.Code)".Trim() | Should -Not -BeNullOrEmpty
            Get-HelpText $example.Remarks | Should -Not -BeNullOrEmpty -Because "example '$($example.Title)' should say what it does"
        }
    }
}

Describe 'examples' {
    It 'examples/demo.ps1 runs to the end as written, in a pwsh of its own' {
        $exe = [Environment]::ProcessPath
        [string[]] $prefix = if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' } else { @() }
        $output = & $exe @prefix -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot '../../examples/demo.ps1') 2>&1 | Out-String
        $LASTEXITCODE | Should -Be 0 -Because $output
        $output | Should -BeLike '*Same content: True*'
        $output | Should -BeLike '*GET -> blue*'
    }

    It 'examples/length-prefixed.ps1 runs as written and gets its replies' {
        $replies = @(& (Join-Path $PSScriptRoot '../../examples/length-prefixed.ps1'))
        $replies.Text | Should -Be '5:olleh', "9:senil`nowt", '0:'
    }
}
