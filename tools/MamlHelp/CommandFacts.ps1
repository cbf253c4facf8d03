<#
.SYNOPSIS
The module half of New-MamlHelp.ps1: what the imported module itself says about a command.

.DESCRIPTION
Dot-sourced by New-MamlHelp.ps1. Get-CommandFacts reads a command's parameter sets, parameter types,
mandatory, position, pipeline binding, aliases, wildcards and output types from its metadata, and the
defaults from a fresh instance of the cmdlet class, so that the syntax Get-Help shows can never drift
from the code. The Format-* and Join-PerSet helpers turn those facts into the attribute values of MAML.
#>

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
