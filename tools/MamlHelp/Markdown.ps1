<#
.SYNOPSIS
The markdown half of New-MamlHelp.ps1: reads one platyPS-layout page into the prose of a command's help.

.DESCRIPTION
Dot-sourced by New-MamlHelp.ps1. Read-HelpPage returns the page's title, synopsis, description,
examples, parameter descriptions, inputs, outputs, notes and links as plain text paragraphs (Get-Help
shows text as it is, so inline markdown is taken away). It throws on a page it cannot read at all (no
single title, an unclosed code fence) and reports lesser faults through Add-Problem, which the calling
script defines, so that one run lists every problem of every page.
#>

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
    # Lines that are only an HTML comment (<!-- not run: ... --> under an example, for the test that runs them) are for the source, not the help.
    $lines = @([IO.File]::ReadAllLines($Path) | Where-Object { $_ -notmatch '^\s*<!--.*-->\s*$' })
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
                    Add-Problem $page ("'$($example.Title)' has no " + '```powershell code block.')
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
                    # Taken before the address test below, which sets $Matches again.
                    $text, $target = $Matches[1], $Matches[2]
                    # Only a web address is a uri Get-Help can show; a page beside this one is named by its text.
                    $uri = if ($target -match '^[a-z]+://') { $target } else { '' }
                    [pscustomobject]@{ Text = $text; Uri = $uri }
                }
                elseif ($item -match '^<?([a-z]+://[^>\s]+)>?$') { [pscustomobject]@{ Text = $Matches[1]; Uri = $Matches[1] } }
                else { [pscustomobject]@{ Text = (ConvertFrom-InlineMarkdown $item); Uri = '' } }
            })
    }
    [pscustomobject]$help
}
