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

The markdown parser, the facts from the module and the MAML writer are in MamlHelp/ beside this
script; tests/New-MamlHelp.Tests.ps1 tests them through this script.

build.ps1 runs it in a child pwsh (the module is imported into this process):
    tools/New-MamlHelp.ps1 -ModulePath output/NetCmdlets/<version> -SourcePath docs/en-US -OutputPath <.../en-US/NetCmdlets.dll-Help.xml>
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

# Every problem of every page, listed together at the end: one build shows all that is missing.
$problems = [System.Collections.Generic.List[string]]::new()
function Add-Problem([string] $Page, [string] $Text) { $problems.Add("${Page}: $Text") }

. (Join-Path $PSScriptRoot 'MamlHelp/Markdown.ps1')
. (Join-Path $PSScriptRoot 'MamlHelp/CommandFacts.ps1')
. (Join-Path $PSScriptRoot 'MamlHelp/MamlWriter.ps1')

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
    try { Write-HelpItems $writer $documented }
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
