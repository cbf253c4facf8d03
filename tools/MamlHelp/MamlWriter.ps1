<#
.SYNOPSIS
The MAML half of New-MamlHelp.ps1: writes the help of each command, its prose from the page and its
facts from the module, as the MAML that Get-Help reads.

.DESCRIPTION
Dot-sourced by New-MamlHelp.ps1. Write-HelpItems writes the whole document to an XmlWriter;
Write-CommandHelp writes one <command:command>, in the element order Get-Help expects.
#>

$ns = @{
    msh     = 'http://msh'
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
    MSHelp  = 'http://msdn.microsoft.com/mshelp'
}

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

# $Documented: one object per command with the Help read from its page and the Facts from the module.
function Write-HelpItems([System.Xml.XmlWriter] $Writer, $Documented) {
    $Writer.WriteStartDocument()
    $Writer.WriteStartElement('helpItems', $ns.msh)
    $Writer.WriteAttributeString('schema', 'maml')
    foreach ($prefix in 'maml', 'command', 'dev', 'MSHelp') {
        $Writer.WriteAttributeString('xmlns', $prefix, 'http://www.w3.org/2000/xmlns/', $ns[$prefix])
    }
    foreach ($item in $Documented) {
        try { Write-CommandHelp $Writer $item.Help $item.Facts }
        catch {
            $cause = if ($_.Exception.InnerException) { $_.Exception.InnerException.Message } else { $_.Exception.Message }
            throw "$($item.Help.Page): $cause"
        }
    }
    $Writer.WriteEndElement()
    $Writer.WriteEndDocument()
}
