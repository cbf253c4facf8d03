<#
.SYNOPSIS
Builds the MAML help file of a binary module from one markdown page per cmdlet.

.DESCRIPTION
The facts come from the built module, imported into this process: parameter sets, parameter types,
mandatory, position, pipeline binding, aliases, defaults (read from a fresh instance of the cmdlet
class) and output types. The prose comes from the markdown pages in -SourcePath, one per cmdlet,
named <cmdlet>.md, in the platyPS layout:

    # <Name>
    ## SYNOPSIS
    ## DESCRIPTION
    ## EXAMPLES        ### Example 1: <title>, a ```powershell block, then the explanation
    ## PARAMETERS      ### -<Name> and its description, for every parameter
    ## INPUTS          ### <type name> and a description (or just "None")
    ## OUTPUTS         the same
    ## NOTES
    ## RELATED LINKS   [text](uri) lines

So the syntax shown by Get-Help can never drift from the code, and missing help fails the build: the
script exits 1 and lists every problem when an exported cmdlet has no page, a page lacks a synopsis
or description, a parameter has no description, a page describes a parameter the cmdlet does not
have, or a page has fewer than two examples.

build.ps1 runs it in a child pwsh:
    New-MamlHelp.ps1 -ModulePath output/NetCmdlets/<version> -SourcePath docs/en-US -OutputPath <.../en-US/NetCmdlets.dll-Help.xml>
#>
[CmdletBinding()]
param(
    # The built module: its folder (holding the .psd1) or the manifest itself.
    [Parameter(Mandatory)] [string] $ModulePath,
    # The folder of markdown pages.
    [Parameter(Mandatory)] [string] $SourcePath,
    # The MAML file to write.
    [Parameter(Mandatory)] [string] $OutputPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$ns = @{
    msh     = 'http://msh'
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
    MSHelp  = 'http://msdn.microsoft.com/mshelp'
}

$problems = [System.Collections.Generic.List[string]]::new()
function Add-Problem([string] $Page, [string] $Text) { $problems.Add("${Page}: $Text") }

#region Markdown

# Inline markdown to plain text: Get-Help shows text as it is.
function ConvertFrom-InlineMarkdown([string] $Text) {
    $Text = [regex]::Replace($Text, '!?\[([^\]]+)\]\(([^)\s]+)\)', {
            param($m)
            $label, $target = $m.Groups[1].Value, $m.Groups[2].Value
            if ($target -match '^[a-z]+://' -and $target -ne $label) { "$label ($target)" } else { $label }
        })
    $Text = [regex]::Replace($Text, '(\*\*|__)(.+?)\1', '$2')
    $Text = [regex]::Replace($Text, '``\s?(.+?)\s?``', '$1')
    $Text = [regex]::Replace($Text, '`([^`]+)`', '$1')
    $Text -replace '\\([\\`*_{}\[\]()#+\-.!<>|])', '$1'
}

# Block markdown to paragraphs: blank lines separate paragraphs, each list item is a paragraph of its
# own, and a fenced block stays one paragraph with its lines kept (indented, as Get-Help shows code).
function ConvertTo-Paragraph([string[]] $Lines) {
    $paragraphs = [System.Collections.Generic.List[string]]::new()
    $current = [System.Collections.Generic.List[string]]::new()
    $fence = $null
    $code = $null
    $flush = {
        if ($current.Count -gt 0) {
            $paragraphs.Add((ConvertFrom-InlineMarkdown (($current | ForEach-Object Trim) -join ' ')))
            $current.Clear()
        }
    }
    foreach ($line in $Lines) {
        if ($null -ne $fence) {
            if ($line.Trim() -eq $fence) {
                $paragraphs.Add((($code | ForEach-Object { "    $_".TrimEnd() }) -join "`n"))
                $fence = $null
            }
            else { $code.Add($line) }
            continue
        }
        if ($line -match '^\s*(```+|~~~+)') {
            . $flush
            $fence = $Matches[1]
            $code = [System.Collections.Generic.List[string]]::new()
            continue
        }
        if ($line.Trim() -eq '') { . $flush; continue }
        if ($line -match '^\s*([-*+]|\d+[.)])\s+') { . $flush }
        $current.Add($line)
    }
    if ($null -ne $fence) { throw "a code fence ($fence) is not closed." }
    . $flush
    $paragraphs.ToArray()
}

# Splits lines at headings of one level ("## " or "### "), outside code fences.
function Split-Section([string[]] $Lines, [string] $Marker) {
    $sections = [System.Collections.Generic.List[object]]::new()
    $head = [pscustomobject]@{ Title = $null; Lines = [System.Collections.Generic.List[string]]::new() }
    $inFence = $false
    foreach ($line in $Lines) {
        if ($line -match '^\s*(```|~~~)') { $inFence = -not $inFence }
        if (-not $inFence -and $line.StartsWith("$Marker ")) {
            $sections.Add($head)
            $head = [pscustomobject]@{ Title = $line.Substring($Marker.Length).Trim(); Lines = [System.Collections.Generic.List[string]]::new() }
            continue
        }
        $head.Lines.Add($line)
    }
    $sections.Add($head)
    , $sections.ToArray()
}

function Test-Blank([string[]] $Lines) { -not ($Lines | Where-Object { $_.Trim() -ne '' }) }

function Read-HelpPage([string] $Path) {
    $page = Split-Path $Path -Leaf
    $lines = [IO.File]::ReadAllLines($Path)
    $top = Split-Section $lines '#'
    if ($top.Count -ne 2) { throw "$page must have exactly one '# <Name>' title." }
    $sections = @{}
    foreach ($section in (Split-Section $top[1].Lines.ToArray() '##') | Select-Object -Skip 1) {
        $sections[$section.Title.ToUpperInvariant()] = $section.Lines.ToArray()
    }
    $help = [ordered]@{
        Name = $top[1].Title; Page = $page; Synopsis = @(); Description = @(); Examples = @()
        Parameters = [ordered]@{}; Inputs = @(); Outputs = @(); Notes = @(); Links = @()
    }
    if ($sections.ContainsKey('SYNOPSIS')) { $help.Synopsis = @(ConvertTo-Paragraph $sections['SYNOPSIS']) }
    if ($sections.ContainsKey('DESCRIPTION')) { $help.Description = @(ConvertTo-Paragraph $sections['DESCRIPTION']) }
    if ($sections.ContainsKey('NOTES')) { $help.Notes = @(ConvertTo-Paragraph $sections['NOTES']) }

    if ($sections.ContainsKey('EXAMPLES')) {
        $help.Examples = @(foreach ($example in (Split-Section $sections['EXAMPLES'] '###') | Select-Object -Skip 1) {
                # The first powershell block is the code, and the blocks after it (its output) are shown
                # with it, as Get-Help shows code; the text before and after is the explanation.
                $code = [System.Collections.Generic.List[string]]::new()
                $prose = [System.Collections.Generic.List[string]]::new()
                $started = $false
                $fence = $null
                $target = $null
                foreach ($line in $example.Lines) {
                    if ($null -eq $fence) {
                        if ($line -match '^\s*(```+|~~~+)\s*([\w-]*)\s*$') {
                            $fence = $Matches[1]
                            if (-not $started -and $Matches[2] -in 'powershell', 'ps1', 'pwsh', 'posh') { $started = $true; $target = $code }
                            elseif ($started) { $target = $code; if ($code.Count -gt 0) { $code.Add('') } }
                            else { $target = $prose; $prose.Add($line) }
                        }
                        else { $prose.Add($line) }
                        continue
                    }
                    if ($line.Trim() -eq $fence) {
                        if ([object]::ReferenceEquals($target, $prose)) { $prose.Add($line) }
                        $fence = $null
                        continue
                    }
                    $target.Add($line)
                }
                if ($null -ne $fence) { throw "'$($example.Title)': a code fence ($fence) is not closed." }
                $codeText = ($code -join "`n").Trim("`n")
                if (-not $codeText.Trim()) {
                    Add-Problem $page "'$($example.Title)' has no ```powershell code block."
                    continue
                }
                [pscustomobject]@{
                    Title   = $example.Title
                    Code    = $codeText
                    Remarks = @(ConvertTo-Paragraph $prose.ToArray())
                }
            })
    }

    if ($sections.ContainsKey('PARAMETERS')) {
        foreach ($parameter in (Split-Section $sections['PARAMETERS'] '###') | Select-Object -Skip 1) {
            if ($parameter.Title -notmatch '^-(\w+)$') { Add-Problem $page "'### $($parameter.Title)' under PARAMETERS is not '### -<Name>'."; continue }
            # A platyPS yaml block of facts is ignored: the facts come from the module.
            $text = [System.Collections.Generic.List[string]]::new()
            $inYaml = $false
            foreach ($line in $parameter.Lines) {
                if ($line.Trim() -eq '```yaml') { $inYaml = $true; continue }
                if ($inYaml) { if ($line.Trim() -eq '```') { $inYaml = $false }; continue }
                $text.Add($line)
            }
            $name = $Matches[1]
            $help.Parameters[$name] = @(ConvertTo-Paragraph $text.ToArray())
        }
    }

    foreach ($kind in 'INPUTS', 'OUTPUTS') {
        if (-not $sections.ContainsKey($kind)) { continue }
        $parts = Split-Section $sections[$kind] '###'
        $types = @(foreach ($part in $parts | Select-Object -Skip 1) {
                [pscustomobject]@{ Type = $part.Title; Description = @(ConvertTo-Paragraph $part.Lines.ToArray()) }
            })
        if ($types.Count -eq 0 -and -not (Test-Blank $parts[0].Lines.ToArray())) {
            # No type headings: the text itself, typically "None."
            $paragraphs = @(ConvertTo-Paragraph $parts[0].Lines.ToArray())
            $types = @([pscustomobject]@{ Type = ($paragraphs[0] -replace '\.$'); Description = @($paragraphs | Select-Object -Skip 1) })
        }
        $help[$(if ($kind -eq 'INPUTS') { 'Inputs' } else { 'Outputs' })] = $types
    }

    if ($sections.ContainsKey('RELATED LINKS')) {
        $help.Links = @(foreach ($line in $sections['RELATED LINKS']) {
                $item = $line.Trim() -replace '^[-*+]\s+'
                if ($item -eq '') { continue }
                if ($item -match '^\[([^\]]+)\]\(([^)\s]*)\)$') {
                    $uri = if ($Matches[2] -match '^[a-z]+://') { $Matches[2] } else { '' }
                    [pscustomobject]@{ Text = $Matches[1]; Uri = $uri }
                }
                elseif ($item -match '^<?([a-z]+://[^>\s]+)>?$') { [pscustomobject]@{ Text = $Matches[1]; Uri = $Matches[1] } }
                else { [pscustomobject]@{ Text = (ConvertFrom-InlineMarkdown $item); Uri = '' } }
            })
    }
    [pscustomobject]$help
}

#endregion

#region Facts from the module

$commonParameters = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters

function Get-TypeName([type] $Type) {
    if ($Type.IsArray) { return (Get-TypeName $Type.GetElementType()) + '[]' }
    if ($Type.IsGenericType -and $Type.GetGenericTypeDefinition() -eq [Nullable`1]) { return (Get-TypeName $Type.GetGenericArguments()[0]) }
    $Type.Name
}

function Format-DefaultValue($Value, [System.Management.Automation.ParameterMetadata] $Metadata) {
    if ($null -eq $Value) { return 'None' }
    if ($Value -is [System.Management.Automation.SwitchParameter]) { return "$($Value.IsPresent)" }
    if ($Value -is [System.Text.Encoding]) {
        $bom = if ($Value.WebName -like 'utf*') { if ($Value.GetPreamble().Length -eq 0) { ' without BOM' } else { ' with BOM' } } else { '' }
        return "$($Value.WebName)$bom"
    }
    if ($Value -is [string]) { return $(if ($Value -eq '') { 'None' } else { $Value }) }
    if ($Value -is [ValueType]) {
        # The type's zero where the parameter does not even accept it means "not set".
        $range = $Metadata.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateRangeAttribute] } | Select-Object -First 1
        if ($range -and $range.MinRange -is [IComparable] -and $Value -eq [Activator]::CreateInstance($Value.GetType()) -and $range.MinRange.CompareTo([Convert]::ChangeType($Value, $range.MinRange.GetType())) -gt 0) {
            return 'None'
        }
        return [Convert]::ToString($Value, [cultureinfo]::InvariantCulture)
    }
    if ($Value -is [System.Collections.IEnumerable]) {
        $items = @($Value)
        return $(if ($items.Count -eq 0) { 'None' } else { ($items | ForEach-Object { "$_" }) -join ', ' })
    }
    "$Value"
}

function Get-CommandFacts([System.Management.Automation.CommandInfo] $Command) {
    $defaults = @{}
    if ($Command -is [System.Management.Automation.CmdletInfo]) {
        $instance = $null
        try {
            $instance = [Activator]::CreateInstance($Command.ImplementingType)
            foreach ($name in $Command.Parameters.Keys) {
                $property = $Command.ImplementingType.GetProperty($name)
                if ($property -and $property.CanRead) { $defaults[$name] = @{ Value = $property.GetValue($instance) } }
            }
        }
        catch { Write-Verbose "No defaults for $($Command.Name): $_" }
        finally { if ($instance -is [IDisposable]) { $instance.Dispose() } }
    }

    $parameters = [ordered]@{}
    $sets = foreach ($set in $Command.ParameterSets) {
        $own = @($set.Parameters | Where-Object Name -NotIn $commonParameters)
        # Get-Command's order: positional parameters by position, then the rest as declared.
        $ordered = @($own | Where-Object Position -GE 0 | Sort-Object Position) + @($own | Where-Object Position -LT 0)
        foreach ($p in $ordered) {
            if (-not $parameters.Contains($p.Name)) {
                $metadata = $Command.Parameters[$p.Name]
                $parameters[$p.Name] = [pscustomobject]@{
                    Name       = $p.Name
                    Type       = $p.ParameterType
                    Aliases    = @($metadata.Aliases)
                    Globbing   = [bool]($metadata.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
                    Metadata   = $metadata
                    Sets       = [System.Collections.Generic.List[object]]::new()
                }
            }
            $parameters[$p.Name].Sets.Add([pscustomobject]@{
                    Set = $set.Name; Mandatory = $p.IsMandatory; Position = $p.Position
                    ByValue = $p.ValueFromPipeline; ByPropertyName = $p.ValueFromPipelineByPropertyName
                })
        }
        [pscustomobject]@{ Name = $set.Name; IsDefault = $set.IsDefault; Parameters = $ordered }
    }
    foreach ($parameter in $parameters.Values) {
        $isSwitch = $parameter.Type -eq [System.Management.Automation.SwitchParameter]
        $default = if ($isSwitch) { 'False' }
        elseif (@($parameter.Sets | Where-Object { -not $_.Mandatory }).Count -eq 0) { 'None' }
        elseif ($defaults.ContainsKey($parameter.Name)) { Format-DefaultValue $defaults[$parameter.Name].Value $parameter.Metadata }
        else { 'None' }
        $parameter | Add-Member -NotePropertyMembers @{ IsSwitch = $isSwitch; Default = $default }
    }
    [pscustomobject]@{
        Command    = $Command
        Sets       = @($sets)
        Parameters = $parameters
        # Pipeline input: the types of parameters that take piped objects themselves.
        Inputs     = @($parameters.Values | Where-Object { $_.Sets | Where-Object ByValue } | ForEach-Object { $_.Type.FullName })
        Outputs    = @($Command.OutputType | ForEach-Object { if ($_.Type) { $_.Type.FullName } else { $_.Name } })
    }
}

# One value per parameter, or per set where the sets differ: "0 (Text), named (Bytes)".
function Join-PerSet($Sets, [scriptblock] $Value) {
    $values = @($Sets | ForEach-Object { [pscustomobject]@{ Set = $_.Set; Value = (& $Value $_) } })
    if (@($values.Value | Select-Object -Unique).Count -le 1) { return $values[0].Value }
    ($values | ForEach-Object { "$($_.Value) ($($_.Set))" }) -join ', '
}

function Format-Position([int] $Position) { if ($Position -lt 0) { 'named' } else { "$Position" } }

function Format-PipelineInput($Sets) {
    $byValue = [bool]($Sets | Where-Object ByValue)
    $byName = [bool]($Sets | Where-Object ByPropertyName)
    if ($byValue -and $byName) { 'True (ByValue, ByPropertyName)' }
    elseif ($byValue) { 'True (ByValue)' }
    elseif ($byName) { 'True (ByPropertyName)' }
    else { 'False' }
}

#endregion

#region MAML

function Write-Para([System.Xml.XmlWriter] $Writer, [string[]] $Paragraphs) {
    if (-not $Paragraphs) { $Paragraphs = @('') }
    foreach ($paragraph in $Paragraphs) { $Writer.WriteElementString('maml', 'para', $ns.maml, $paragraph) }
}

function Write-Description([System.Xml.XmlWriter] $Writer, [string[]] $Paragraphs) {
    $Writer.WriteStartElement('maml', 'description', $ns.maml)
    Write-Para $Writer $Paragraphs
    $Writer.WriteEndElement()
}

function Write-Type([System.Xml.XmlWriter] $Writer, [string] $Name) {
    $Writer.WriteStartElement('dev', 'type', $ns.dev)
    $Writer.WriteElementString('maml', 'name', $ns.maml, $Name)
    $Writer.WriteElementString('maml', 'uri', $ns.maml, '')
    $Writer.WriteEndElement()
}

function Write-Parameter([System.Xml.XmlWriter] $Writer, $Parameter, [string[]] $Description, $Sets, [bool] $InSyntax) {
    $Writer.WriteStartElement('command', 'parameter', $ns.command)
    $Writer.WriteAttributeString('required', (Join-PerSet $Sets { "$($args[0].Mandatory)".ToLowerInvariant() }))
    $Writer.WriteAttributeString('variableLength', "$($Parameter.Type.IsArray)".ToLowerInvariant())
    $Writer.WriteAttributeString('globbing', "$($Parameter.Globbing)".ToLowerInvariant())
    $Writer.WriteAttributeString('pipelineInput', (Format-PipelineInput $Sets))
    $Writer.WriteAttributeString('position', (Join-PerSet $Sets { Format-Position $args[0].Position }))
    $Writer.WriteAttributeString('aliases', $(if ($Parameter.Aliases.Count) { $Parameter.Aliases -join ', ' } else { 'none' }))
    $Writer.WriteElementString('maml', 'name', $ns.maml, $Parameter.Name)
    Write-Description $Writer $Description
    # A switch has no value: in the syntax it shows as [-Name], in the parameter list as -Name [<SwitchParameter>].
    if (-not ($InSyntax -and $Parameter.IsSwitch)) {
        $Writer.WriteStartElement('command', 'parameterValue', $ns.command)
        $Writer.WriteAttributeString('required', "$(-not $Parameter.IsSwitch)".ToLowerInvariant())
        $Writer.WriteAttributeString('variableLength', "$($Parameter.Type.IsArray)".ToLowerInvariant())
        $Writer.WriteString((Get-TypeName $Parameter.Type))
        $Writer.WriteEndElement()
    }
    Write-Type $Writer $Parameter.Type.FullName
    $Writer.WriteElementString('dev', 'defaultValue', $ns.dev, $Parameter.Default)
    $Writer.WriteEndElement()
}

function Write-TypeList([System.Xml.XmlWriter] $Writer, [string] $Kind, $Types) {
    $Writer.WriteStartElement('command', "${Kind}s", $ns.command)
    foreach ($type in $Types) {
        $Writer.WriteStartElement('command', $Kind, $ns.command)
        Write-Type $Writer $type.Type
        Write-Description $Writer $type.Description
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()
}

function Write-CommandHelp([System.Xml.XmlWriter] $Writer, $Help, $Facts) {
    $command = $Facts.Command
    $Writer.WriteStartElement('command', 'command', $ns.command)

    $Writer.WriteStartElement('command', 'details', $ns.command)
    $Writer.WriteElementString('command', 'name', $ns.command, $command.Name)
    $Writer.WriteElementString('command', 'verb', $ns.command, $command.Verb)
    $Writer.WriteElementString('command', 'noun', $ns.command, $command.Noun)
    Write-Description $Writer @($Help.Synopsis -join ' ')
    $Writer.WriteEndElement()

    Write-Description $Writer $Help.Description

    $Writer.WriteStartElement('command', 'syntax', $ns.command)
    foreach ($set in $Facts.Sets) {
        $Writer.WriteStartElement('command', 'syntaxItem', $ns.command)
        $Writer.WriteElementString('maml', 'name', $ns.maml, $command.Name)
        foreach ($p in $set.Parameters) {
            $parameter = $Facts.Parameters[$p.Name]
            $inSet = @($parameter.Sets | Where-Object Set -EQ $set.Name)
            Write-Parameter $Writer $parameter $Help.Parameters[$p.Name] $inSet $true
        }
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'parameters', $ns.command)
    # In the order of the page; the check before writing makes the page and the module agree.
    foreach ($name in $Help.Parameters.Keys) {
        $parameter = $Facts.Parameters[$name]
        Write-Parameter $Writer $parameter $Help.Parameters[$name] $parameter.Sets $false
    }
    $Writer.WriteEndElement()

    Write-TypeList $Writer 'inputType' $Help.Inputs
    Write-TypeList $Writer 'returnValue' $Help.Outputs

    $Writer.WriteStartElement('maml', 'alertSet', $ns.maml)
    $Writer.WriteStartElement('maml', 'alert', $ns.maml)
    Write-Para $Writer $Help.Notes
    $Writer.WriteEndElement()
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'examples', $ns.command)
    foreach ($example in $Help.Examples) {
        $Writer.WriteStartElement('command', 'example', $ns.command)
        $Writer.WriteElementString('maml', 'title', $ns.maml, "-------------------------- $($example.Title) --------------------------")
        $Writer.WriteElementString('dev', 'code', $ns.dev, $example.Code)
        $Writer.WriteStartElement('dev', 'remarks', $ns.dev)
        # The empty paragraph at the end leaves a blank line before the next example.
        Write-Para $Writer (@($example.Remarks) + '')
        $Writer.WriteEndElement()
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'relatedLinks', $ns.command)
    foreach ($link in $Help.Links) {
        $Writer.WriteStartElement('maml', 'navigationLink', $ns.maml)
        $Writer.WriteElementString('maml', 'linkText', $ns.maml, $link.Text)
        $Writer.WriteElementString('maml', 'uri', $ns.maml, $link.Uri)
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteEndElement()
}

#endregion

$temporary = $null
try {
    $manifest = if (Test-Path $ModulePath -PathType Leaf) { $ModulePath } else {
        $found = @(Get-ChildItem -Path $ModulePath -Filter *.psd1 -File)
        if ($found.Count -eq 1) { $found[0].FullName } else { $ModulePath }
    }
    $module = Import-Module -Name $manifest -PassThru -Force -DisableNameChecking | Select-Object -First 1
    $commands = @(Get-Command -Module $module.Name -CommandType Cmdlet, Function | Sort-Object Name)
    if ($commands.Count -eq 0) { throw "The module $($module.Name) at '$ModulePath' exports no commands." }

    $pages = @{}
    if (Test-Path $SourcePath -PathType Container) {
        foreach ($file in Get-ChildItem -Path $SourcePath -Filter *.md -File) { $pages[$file.BaseName] = $file.FullName }
    }

    $documented = foreach ($command in $commands) {
        $page = "$($command.Name).md"
        if (-not $pages.ContainsKey($command.Name)) {
            Add-Problem $page "missing: $($module.Name) exports $($command.Name), but $SourcePath has no $page."
            continue
        }
        try { $help = Read-HelpPage $pages[$command.Name] }
        catch { throw "${page}: $($_.Exception.Message)" }
        $pages.Remove($command.Name)
        $facts = Get-CommandFacts $command

        if ($help.Name -ne $command.Name) { Add-Problem $page "its title is '# $($help.Name)', not '# $($command.Name)'." }
        if (-not ($help.Synopsis -join '').Trim()) { Add-Problem $page 'no SYNOPSIS.' }
        if (-not ($help.Description -join '').Trim()) { Add-Problem $page 'no DESCRIPTION.' }
        if (@($help.Examples).Count -lt 2) { Add-Problem $page "$(@($help.Examples).Count) example(s) under EXAMPLES; at least 2 are required." }
        foreach ($name in $facts.Parameters.Keys) {
            if (-not $help.Parameters.Contains($name)) { Add-Problem $page "no '### -$name' under PARAMETERS." }
            elseif (-not ($help.Parameters[$name] -join '').Trim()) { Add-Problem $page "'### -$name' has no description." }
        }
        foreach ($name in @($help.Parameters.Keys)) {
            if (-not $facts.Parameters.Contains($name)) { Add-Problem $page "describes -$name, which $($command.Name) does not have." }
            elseif ($name -cne $facts.Parameters[$name].Name) { Add-Problem $page "'### -$name' should be spelled -$($facts.Parameters[$name].Name)." }
        }
        # Inputs and outputs are prose; say when they seem to disagree with the code, without failing.
        $named = @(@($help.Inputs) + @($help.Outputs) | ForEach-Object { $_.Type -replace '\[\]$' })
        foreach ($type in @($facts.Inputs) + @($facts.Outputs)) {
            if (($type -replace '\[\]$') -notin $named) { Write-Warning "${page}: $type is an input or output type of $($command.Name) that INPUTS/OUTPUTS does not name." }
        }
        [pscustomobject]@{ Help = $help; Facts = $facts }
    }
    foreach ($orphan in $pages.Keys) {
        Add-Problem "$orphan.md" "describes a command that $($module.Name) does not export."
    }

    if ($problems.Count -gt 0) {
        [Console]::Error.WriteLine("New-MamlHelp: the help in $SourcePath is incomplete ($($problems.Count) problem(s)):")
        foreach ($problem in $problems) { [Console]::Error.WriteLine("  $problem") }
        exit 1
    }

    $directory = Split-Path -Parent ([IO.Path]::GetFullPath($OutputPath))
    $null = New-Item -ItemType Directory -Path $directory -Force
    # Written beside the target and moved into place, so a failure never leaves half a file.
    $temporary = Join-Path $directory ".$([IO.Path]::GetFileName($OutputPath)).$PID.tmp"
    $settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [System.Text.UTF8Encoding]::new($false); NewLineChars = "`n"; CheckCharacters = $true }
    $writer = [System.Xml.XmlWriter]::Create($temporary, $settings)
    try {
        $writer.WriteStartDocument()
        $writer.WriteStartElement('helpItems', $ns.msh)
        $writer.WriteAttributeString('schema', 'maml')
        foreach ($prefix in 'maml', 'command', 'dev', 'MSHelp') {
            $writer.WriteAttributeString('xmlns', $prefix, 'http://www.w3.org/2000/xmlns/', $ns[$prefix])
        }
        foreach ($item in $documented) {
            try { Write-CommandHelp $writer $item.Help $item.Facts }
            catch {
                $cause = if ($_.Exception.InnerException) { $_.Exception.InnerException.Message } else { $_.Exception.Message }
                throw "$($item.Help.Page): $cause"
            }
        }
        $writer.WriteEndElement()
        $writer.WriteEndDocument()
    }
    finally { $writer.Dispose() }
    # Read back: what Get-Help loads must be well-formed.
    $null = [xml](Get-Content -LiteralPath $temporary -Raw)
    Move-Item -LiteralPath $temporary -Destination $OutputPath -Force
    Write-Host "Help for $(@($documented).Count) command(s) written to $OutputPath"
}
catch {
    if ($temporary -and (Test-Path -LiteralPath $temporary)) { Remove-Item -LiteralPath $temporary -Force }
    [Console]::Error.WriteLine("New-MamlHelp: $($_.Exception.Message) ($($_.InvocationInfo.PositionMessage))")
    exit 1
}
