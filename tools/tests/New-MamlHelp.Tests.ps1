<#
.SYNOPSIS
Tests tools/New-MamlHelp.ps1: small help pages for a small compiled module, built into MAML in a
child pwsh as build.ps1 builds NetCmdlets' help, and the XML read back.

.DESCRIPTION
The module is two cmdlets compiled into TestDrive, so the facts the builder reads (parameter sets,
types, positions, pipeline binding, aliases, defaults of a new instance) are known here exactly and do
not change with NetCmdlets. The builder runs in a child pwsh because it imports the module and ends
with an exit code, as it does under build.ps1.
#>

BeforeAll {
    $builder = (Resolve-Path (Join-Path $PSScriptRoot '../New-MamlHelp.ps1')).ProviderPath

    # Under `dotnet pwsh` this process is dotnet itself, so the child needs pwsh.dll first (as in build.ps1).
    function Invoke-ChildPwsh([string[]] $Arguments) {
        $exe = [Environment]::ProcessPath
        $all = @('-NoProfile', '-NonInteractive') + $Arguments
        if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { $all = @(Join-Path $PSHOME 'pwsh.dll') + $all }
        $output = & $exe @all 2>&1 | ForEach-Object { "$_" }
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = ($output -join "`n") }
    }

    # Writes the pages (file name -> markdown) to a folder of their own and builds them; the output file
    # is the one Get-Help reads beside the module's DLL, unless the test names another.
    function Invoke-MamlHelp([hashtable] $Pages, [string] $OutputPath = (Join-Path $moduleDir 'en-US/HelpFixture.dll-Help.xml')) {
        $source = (New-Item -ItemType Directory -Path (Join-Path $TestDrive "pages-$([guid]::NewGuid().ToString('n'))")).FullName
        foreach ($name in $Pages.Keys) { [IO.File]::WriteAllText((Join-Path $source $name), $Pages[$name]) }
        $result = Invoke-ChildPwsh @('-File', $builder, '-ModulePath', $moduleDir, '-SourcePath', $source, '-OutputPath', $OutputPath)
        $result | Add-Member -NotePropertyMembers @{ SourcePath = $source; OutputPath = $OutputPath } -PassThru
    }

    $nsm = [System.Xml.XmlNamespaceManager]::new([System.Xml.NameTable]::new())
    $nsm.AddNamespace('msh', 'http://msh')
    $nsm.AddNamespace('maml', 'http://schemas.microsoft.com/maml/2004/10')
    $nsm.AddNamespace('command', 'http://schemas.microsoft.com/maml/dev/command/2004/10')
    $nsm.AddNamespace('dev', 'http://schemas.microsoft.com/maml/dev/2004/10')
    function Select-Nodes($Node, [string] $XPath) { @($Node.SelectNodes($XPath, $nsm)) }
    function Select-Node($Node, [string] $XPath) {
        # @(): a single XmlElement would be indexed by child name, not by position.
        $found = @(Select-Nodes $Node $XPath)
        if ($found.Count -ne 1) { throw "$($found.Count) nodes at $XPath, not 1." }
        $found[0]
    }
    function Get-HelpCommand($Xml, [string] $Name) { Select-Node $Xml "/msh:helpItems/command:command[command:details/command:name='$Name']" }
    function Get-ParaText($Node, [string] $XPath) { @(Select-Nodes $Node "$XPath/maml:para" | ForEach-Object InnerText) }

    $moduleDir = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'HelpFixture')).FullName
    # Compiled to a file and not loaded here: only the builder's child pwsh imports it.
    Add-Type -OutputAssembly (Join-Path $moduleDir 'HelpFixture.dll') -OutputType Library -TypeDefinition @'
#nullable enable
using System.Management.Automation;
using System.Text;

namespace HelpFixture
{
    public sealed class WidgetResult { public string Name { get; set; } = ""; }

    [Cmdlet(VerbsCommunications.Send, "Widget", DefaultParameterSetName = "Text")]
    [OutputType(typeof(WidgetResult))]
    public sealed class SendWidgetCommand : PSCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Text", ValueFromPipeline = true)]
        [Parameter(ParameterSetName = "Bytes")]
        public string[]? Message { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = "Bytes", ValueFromPipelineByPropertyName = true)]
        public byte[]? Data { get; set; }

        [Parameter(Position = 1)]
        [Alias("CN", "Host")]
        [SupportsWildcards]
        public string ComputerName { get; set; } = "localhost";

        [Parameter]
        [ValidateRange(1, 65535)]
        public int Port { get; set; }

        [Parameter]
        public int TimeoutSec { get; set; } = 5;

        [Parameter]
        public int? Count { get; set; }

        [Parameter]
        public Encoding Encoding { get; set; } = new UTF8Encoding(false);

        [Parameter]
        public SwitchParameter PassThru { get; set; }
    }

    [Cmdlet(VerbsCommon.Get, "Widget")]
    [OutputType(typeof(WidgetResult))]
    public sealed class GetWidgetCommand : PSCmdlet
    {
        [Parameter(Position = 0)]
        public string? Name { get; set; }
    }
}
'@
    New-ModuleManifest -Path (Join-Path $moduleDir 'HelpFixture.psd1') -RootModule 'HelpFixture.dll' -ModuleVersion '1.0.0' -CmdletsToExport '*'

    # The parameters are in another order than the module's, to show the page's order is kept.
    $sendWidgetPage = @'
# Send-Widget

## SYNOPSIS
Sends a widget to a **host**.

## DESCRIPTION
Sends each `Message` to the host,
as [the widget protocol](https://example.org/widgets) says.

- Text goes as it is.
- Bytes go as \*raw\* bytes.

## EXAMPLES

### Example 1: Send one message
<!-- not run: needs host1 -->
```powershell
Send-Widget -Message hello -ComputerName host1
```

```output
Sent
```

Sends hello to host1.

### Example 2: Pipe messages
```powershell
'a', 'b' | Send-Widget
```

Sends two messages,
one per widget.

## PARAMETERS

### -ComputerName
The host to send to.

```yaml
Type: String
Position: 7
```

### -Message
The text to send.

### -Data
The bytes to send.

### -Port
The port.

### -TimeoutSec
How long to wait.

### -Count
How many times.

### -Encoding
The text encoding.

### -PassThru
Returns the result.

## INPUTS

### System.String[]
The messages.

## OUTPUTS

### HelpFixture.WidgetResult
One per message.

## NOTES
Widgets are small.

## RELATED LINKS
[Get-Widget](Get-Widget.md)

[Widgets online](https://example.org/widgets)
'@

    $getWidgetPage = @'
# Get-Widget

## SYNOPSIS
Gets a widget.

## DESCRIPTION
Gets the widget of that name.

## EXAMPLES

### Example 1: One widget
```powershell
Get-Widget -Name w1
```

Gets w1.

### Example 2: Every widget
```powershell
Get-Widget
```

Gets them all.

## PARAMETERS

### -Name
The widget's name.

## INPUTS

None.

## OUTPUTS

### HelpFixture.WidgetResult
The widget.

## NOTES

## RELATED LINKS
'@
    # The tests below edit the pages with regular expressions that expect line feeds.
    $sendWidgetPage = $sendWidgetPage -replace '\r\n', "`n"
    $getWidgetPage = $getWidgetPage -replace '\r\n', "`n"
    $fence = '```'
}

Describe 'New-MamlHelp' {
    Context 'a page for each cmdlet' {
        BeforeAll {
            $run = Invoke-MamlHelp @{ 'Send-Widget.md' = $sendWidgetPage; 'Get-Widget.md' = $getWidgetPage }
            $xml = [xml]::new()
            if ($run.ExitCode -eq 0) { $xml.Load($run.OutputPath) }
            $send = Get-HelpCommand $xml 'Send-Widget'
            function Get-Parameter([string] $Name) { Select-Node $send "command:parameters/command:parameter[maml:name='$Name']" }
        }

        It 'builds without a problem or a warning' {
            $run.ExitCode | Should -Be 0 -Because $run.Output
            $run.Output | Should -Match 'Help for 2 command\(s\) written to'
            $run.Output | Should -Not -Match 'WARNING'
        }

        It 'writes one command per cmdlet, in name order, with its verb and noun' {
            @(Select-Nodes $xml '/msh:helpItems/command:command/command:details/command:name' | ForEach-Object InnerText) | Should -Be 'Get-Widget', 'Send-Widget'
            (Select-Node $send 'command:details/command:verb').InnerText | Should -Be 'Send'
            (Select-Node $send 'command:details/command:noun').InnerText | Should -Be 'Widget'
        }

        It 'takes the synopsis and the description from the page, as plain text' {
            Get-ParaText $send 'command:details/maml:description' | Should -Be 'Sends a widget to a host.'
            Get-ParaText $send 'maml:description' | Should -Be @(
                'Sends each Message to the host, as the widget protocol (https://example.org/widgets) says.'
                '- Text goes as it is.'
                '- Bytes go as *raw* bytes.'
            )
        }

        It 'lists the parameters in the order of the page, each with its description' {
            @(Select-Nodes $send 'command:parameters/command:parameter/maml:name' | ForEach-Object InnerText) |
                Should -Be 'ComputerName', 'Message', 'Data', 'Port', 'TimeoutSec', 'Count', 'Encoding', 'PassThru'
            Get-ParaText (Get-Parameter 'ComputerName') 'maml:description' | Should -Be 'The host to send to.'
        }

        It 'takes type, mandatory, position and pipeline input from the module, not from the page' {
            $computerName = Get-Parameter 'ComputerName'
            $computerName.GetAttribute('required') | Should -Be 'false'
            $computerName.GetAttribute('position') | Should -Be '1'
            $computerName.GetAttribute('pipelineInput') | Should -Be 'False'
            $computerName.GetAttribute('aliases') | Should -Be 'CN, Host'
            $computerName.GetAttribute('globbing') | Should -Be 'true'
            (Select-Node $computerName 'command:parameterValue').InnerText | Should -Be 'String'
            (Select-Node $computerName 'dev:type/maml:name').InnerText | Should -Be 'System.String'

            $data = Get-Parameter 'Data'
            $data.GetAttribute('required') | Should -Be 'true'
            $data.GetAttribute('position') | Should -Be 'named'
            $data.GetAttribute('pipelineInput') | Should -Be 'True (ByPropertyName)'
            $data.GetAttribute('variableLength') | Should -Be 'true'
            (Select-Node $data 'command:parameterValue').InnerText | Should -Be 'Byte[]'
            (Select-Node $data 'dev:type/maml:name').InnerText | Should -Be 'System.Byte[]'

            (Select-Node (Get-Parameter 'Count') 'command:parameterValue').InnerText | Should -Be 'Int32'
        }

        It 'gives each parameter set its own value where the sets differ' {
            $message = Get-Parameter 'Message'
            $message.GetAttribute('position') | Should -Be '0 (Text), named (Bytes)'
            $message.GetAttribute('pipelineInput') | Should -Be 'True (ByValue)'
            (Select-Node $message 'dev:type/maml:name').InnerText | Should -Be 'System.String[]'
        }

        It 'reads the defaults from a new instance of the cmdlet' {
            $defaults = @{}
            foreach ($p in Select-Nodes $send 'command:parameters/command:parameter') {
                $defaults[(Select-Node $p 'maml:name').InnerText] = (Select-Node $p 'dev:defaultValue').InnerText
            }
            $defaults['ComputerName'] | Should -Be 'localhost'
            $defaults['TimeoutSec'] | Should -Be '5'
            $defaults['Encoding'] | Should -Be 'utf-8 without BOM'
            $defaults['PassThru'] | Should -Be 'False'
            # 0 is below the ValidateRange: the property was not set, not set to 0.
            $defaults['Port'] | Should -Be 'None'
            $defaults['Count'] | Should -Be 'None'
            $defaults['Data'] | Should -Be 'None'
        }

        It 'writes one syntax item per parameter set, positional parameters first and a switch without a value' {
            $items = Select-Nodes $send 'command:syntax/command:syntaxItem'
            $items.Count | Should -Be 2
            $text = $items | Where-Object { -not (Select-Nodes $_ "command:parameter[maml:name='Data']") }
            $bytes = $items | Where-Object { Select-Nodes $_ "command:parameter[maml:name='Data']" }
            @(Select-Nodes $text 'command:parameter/maml:name' | ForEach-Object InnerText) |
                Should -Be 'Message', 'ComputerName', 'Port', 'TimeoutSec', 'Count', 'Encoding', 'PassThru'
            @(Select-Nodes $bytes 'command:parameter/maml:name' | ForEach-Object InnerText) |
                Should -Be 'ComputerName', 'Message', 'Data', 'Port', 'TimeoutSec', 'Count', 'Encoding', 'PassThru'
            (Select-Node $text "command:parameter[maml:name='Message']").GetAttribute('required') | Should -Be 'true'
            (Select-Node $bytes "command:parameter[maml:name='Message']").GetAttribute('required') | Should -Be 'false'
            (Select-Node $bytes "command:parameter[maml:name='Message']").GetAttribute('position') | Should -Be 'named'

            Select-Nodes $text "command:parameter[maml:name='PassThru']/command:parameterValue" | Should -BeNullOrEmpty
            $listed = Select-Node (Get-Parameter 'PassThru') 'command:parameterValue'
            $listed.InnerText | Should -Be 'SwitchParameter'
            $listed.GetAttribute('required') | Should -Be 'false'
        }

        It 'writes each example with its title, its code and output, and its remarks' {
            $examples = Select-Nodes $send 'command:examples/command:example'
            $examples.Count | Should -Be 2
            (Select-Node $examples[0] 'maml:title').InnerText | Should -Be '-------------------------- Example 1: Send one message --------------------------'
            (Select-Node $examples[0] 'dev:code').InnerText | Should -Be "Send-Widget -Message hello -ComputerName host1`n`nSent"
            # A comment line under an example's heading (the help examples test reads it) stays out of the help.
            $examples[0].OuterXml | Should -Not -BeLike '*not run*'
            # The empty paragraph is the blank line before the next example.
            Get-ParaText $examples[0] 'dev:remarks' | Should -Be 'Sends hello to host1.', ''
            (Select-Node $examples[1] 'dev:code').InnerText | Should -Be "'a', 'b' | Send-Widget"
            Get-ParaText $examples[1] 'dev:remarks' | Should -Be 'Sends two messages, one per widget.', ''
        }

        It 'writes the inputs, outputs, notes and related links of the page' {
            (Select-Node $send 'command:inputTypes/command:inputType/dev:type/maml:name').InnerText | Should -Be 'System.String[]'
            Get-ParaText $send 'command:inputTypes/command:inputType/maml:description' | Should -Be 'The messages.'
            (Select-Node $send 'command:returnValues/command:returnValue/dev:type/maml:name').InnerText | Should -Be 'HelpFixture.WidgetResult'
            Get-ParaText $send 'maml:alertSet/maml:alert' | Should -Be 'Widgets are small.'
            $links = Select-Nodes $send 'command:relatedLinks/maml:navigationLink'
            @($links | ForEach-Object { "$((Select-Node $_ 'maml:linkText').InnerText)|$((Select-Node $_ 'maml:uri').InnerText)" }) |
                Should -Be 'Get-Widget|', 'Widgets online|https://example.org/widgets'

            $get = Get-HelpCommand $xml 'Get-Widget'
            (Select-Node $get 'command:inputTypes/command:inputType/dev:type/maml:name').InnerText | Should -Be 'None'
            Select-Nodes $get 'command:relatedLinks/maml:navigationLink' | Should -BeNullOrEmpty
        }

        It 'is help that Get-Help shows for the module' {
            $manifest = Join-Path $moduleDir 'HelpFixture.psd1'
            $shown = Invoke-ChildPwsh @('-Command', "Import-Module '$manifest'; Get-Help Send-Widget -Full | Out-String -Width 300")
            $shown.ExitCode | Should -Be 0 -Because $shown.Output
            $shown.Output | Should -Match ([regex]::Escape('Sends a widget to a host.'))
            $shown.Output | Should -Match ([regex]::Escape('Send-Widget [-Message] <String[]> [[-ComputerName] <String>] [-Port <Int32>]'))
            $shown.Output | Should -Match 'Default value\s+utf-8 without BOM'
            $shown.Output | Should -Match ([regex]::Escape("'a', 'b' | Send-Widget"))
            $shown.Output | Should -Match ([regex]::Escape('Widgets online https://example.org/widgets'))
        }
    }

    Context 'pages with problems' {
        BeforeAll {
            # One broken page, one page missing and one page too many: one run lists every problem.
            $broken = $sendWidgetPage -replace '# Send-Widget\n', "# Send-Widgets`n" `
                -replace '(?s)## SYNOPSIS.*?(?=## EXAMPLES)', '' `
                -replace "${fence}powershell\n'a', 'b'", "${fence}text`n'a', 'b'" `
                -replace '### -Data\n', "### Data`n" `
                -replace '(?s)### -Port\n.*?(?=### )', '' `
                -replace '(?s)(### -Count\n).*?(?=### )', "`$1`n" `
                -replace '### -TimeoutSec', '### -timeoutsec' `
                -replace '## INPUTS', "### -Colour`nThe colour.`n`n## INPUTS"
            $output = Join-Path $TestDrive 'problems/HelpFixture.dll-Help.xml'
            $null = New-Item -ItemType Directory -Path (Split-Path $output)
            Set-Content -LiteralPath $output -Value 'the help of the last good build'
            $run = Invoke-MamlHelp @{ 'Send-Widget.md' = $broken; 'Remove-Widget.md' = $getWidgetPage -replace 'Get-Widget', 'Remove-Widget' } -OutputPath $output
        }

        It 'fails with exit code 1 and the count of problems' {
            $run.ExitCode | Should -Be 1
            $run.Output | Should -Match 'New-MamlHelp: the help in .+ is incomplete \(13 problem\(s\)\):'
        }

        It 'names <Problem>' -ForEach @(
            @{ Problem = 'a title that is not the cmdlet'; Line = "Send-Widget.md: its title is '# Send-Widgets', not '# Send-Widget'." }
            @{ Problem = 'a missing synopsis'; Line = 'Send-Widget.md: no SYNOPSIS.' }
            @{ Problem = 'a missing description'; Line = 'Send-Widget.md: no DESCRIPTION.' }
            @{ Problem = 'an example without a powershell block'; Line = "Send-Widget.md: 'Example 2: Pipe messages' has no ``````powershell code block." }
            @{ Problem = 'too few examples'; Line = 'Send-Widget.md: 1 example(s) under EXAMPLES; at least 2 are required.' }
            @{ Problem = 'a parameter heading without its dash'; Line = "Send-Widget.md: '### Data' under PARAMETERS is not '### -<Name>'." }
            @{ Problem = 'a parameter with no heading'; Line = "Send-Widget.md: no '### -Port' under PARAMETERS." }
            @{ Problem = 'the parameter of that heading as undescribed'; Line = "Send-Widget.md: no '### -Data' under PARAMETERS." }
            @{ Problem = 'a parameter without a description'; Line = "Send-Widget.md: '### -Count' has no description." }
            @{ Problem = 'a parameter spelled in another case'; Line = "Send-Widget.md: '### -timeoutsec' should be spelled -TimeoutSec." }
            @{ Problem = 'a parameter the cmdlet does not have'; Line = 'Send-Widget.md: describes -Colour, which Send-Widget does not have.' }
            @{ Problem = 'a cmdlet without a page'; Line = 'Get-Widget.md: missing: HelpFixture exports Get-Widget, but <source> has no Get-Widget.md.' }
            @{ Problem = 'a page for no cmdlet'; Line = 'Remove-Widget.md: describes a command that HelpFixture does not export.' }
        ) {
            @($run.Output -split "`n" | ForEach-Object Trim) | Should -Contain $Line.Replace('<source>', $run.SourcePath) -Because $run.Output
        }

        It 'leaves the help of the last build as it was' {
            Get-Content -LiteralPath $output | Should -Be 'the help of the last good build'
            @(Get-ChildItem -LiteralPath (Split-Path $output) -Force).Name | Should -Be 'HelpFixture.dll-Help.xml'
        }
    }

    Context 'a page that cannot be read or written' {
        It 'stops at a code fence that is not closed, naming the page' {
            # In the last section that is read as paragraphs, so no later fence closes it.
            $page = $sendWidgetPage -replace '(## NOTES\n)', "`$1${fence}powershell`n"
            $run = Invoke-MamlHelp @{ 'Send-Widget.md' = $page; 'Get-Widget.md' = $getWidgetPage } -OutputPath (Join-Path $TestDrive 'fence/help.xml')
            $run.ExitCode | Should -Be 1
            $run.Output | Should -Match ([regex]::Escape('New-MamlHelp: Send-Widget.md: a code fence (```) is not closed.'))
            Test-Path (Join-Path $TestDrive 'fence') | Should -BeFalse
        }

        It 'stops at text that XML cannot hold, naming the page and leaving no part of a file' {
            $page = $getWidgetPage -replace 'Gets a widget\.', "Gets a widget.$([char]1)"
            $folder = Join-Path $TestDrive 'control'
            $run = Invoke-MamlHelp @{ 'Send-Widget.md' = $sendWidgetPage; 'Get-Widget.md' = $page } -OutputPath (Join-Path $folder 'help.xml')
            $run.ExitCode | Should -Be 1
            $run.Output | Should -Match 'New-MamlHelp: Get-Widget\.md: .*0x01'
            @(Get-ChildItem -LiteralPath $folder -Force) | Should -BeNullOrEmpty
        }
    }

    Context 'inputs that the page does not name' {
        It 'warns, and still builds the help' {
            $page = $sendWidgetPage -replace '(?s)(## INPUTS\n).*?(?=## OUTPUTS)', "`$1`nNone.`n`n"
            $output = Join-Path $TestDrive 'warning/help.xml'
            $run = Invoke-MamlHelp @{ 'Send-Widget.md' = $page; 'Get-Widget.md' = $getWidgetPage } -OutputPath $output
            $run.ExitCode | Should -Be 0 -Because $run.Output
            $run.Output | Should -Match ([regex]::Escape('Send-Widget.md: System.String[] is an input or output type of Send-Widget that INPUTS/OUTPUTS does not name.'))
            $xml = [xml](Get-Content -LiteralPath $output -Raw)
            (Select-Node (Get-HelpCommand $xml 'Send-Widget') 'command:inputTypes/command:inputType/dev:type/maml:name').InnerText | Should -Be 'None'
        }
    }
}
