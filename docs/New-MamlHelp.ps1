param([string]$ModulePath, [string]$SourcePath, [string]$OutputPath)
