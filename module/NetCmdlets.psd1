@{
    RootModule           = 'NetCmdlets.psm1'
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Core', 'Desktop')
    GUID                 = '5b0f3c0e-8a0c-4a53-9d0b-7f4a6d2e9c11'
    Author               = 'NetCmdlets contributors'
    CompanyName          = 'NetCmdlets'
    Copyright            = '(c) NetCmdlets contributors. MIT License.'
    Description          = 'TCP and UDP servers and clients for PowerShell: every received message an object in the pipeline.'
    PowerShellVersion    = '5.1'
    FormatsToProcess     = @('NetCmdlets.Format.ps1xml')
    CmdletsToExport      = @(
        'Start-TcpServer'
        'Send-TcpMessage'
        'Set-TcpConnection'
        'Send-UdpDatagram'
        'Receive-UdpDatagram'
        'Start-UdpServer'
        'New-TcpConnection'
        'Receive-TcpMessage'
        'Get-TcpConnection'
        'Close-TcpConnection'
        'New-TcpFraming'
        'New-TlsCertificate'
        'Test-TcpPort'
        'Start-TcpProxy'
        'Set-TcpProxy'
        'New-TcpFault'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('TCP', 'UDP', 'Network', 'Socket', 'Server', 'Client', 'Netcat', 'Socat', 'Proxy', 'SOCKS5', 'TLS',
                'PSEdition_Core', 'PSEdition_Desktop', 'Windows', 'Linux', 'MacOS')
            ProjectUri   = 'https://github.com/NetCmdlets/NetCmdlets'
            LicenseUri   = 'https://github.com/NetCmdlets/NetCmdlets/blob/main/LICENSE'
            # build.ps1 puts this version's section of CHANGELOG.md here in the built module.
            ReleaseNotes = 'See CHANGELOG.md.'
        }
    }
}
