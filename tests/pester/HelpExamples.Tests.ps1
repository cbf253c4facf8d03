# Every example in the help (docs/en-US/*.md) runs as written, each in a PowerShell of its own with the
# built module on its module path, and ends without an error it did not ask for: no terminating error,
# nothing on the error stream. They run two at a time; one that fails so runs once more alone. An example that needs what a test machine has not (a host on the
# internet, a daemon, a password typed in) says so in its help with a line
# <!-- not run: why --> under its heading, and is listed here as skipped, with the reason.
# Tagged PowerShell7 and Examples: the netstandard2.0 run leaves these out (the examples are the same).
BeforeDiscovery {
    $docs = Join-Path $PSScriptRoot '../../docs/en-US'
    $script:examples = foreach ($file in Get-ChildItem $docs -Filter '*.md') {
        $text = Get-Content $file.FullName -Raw
        $matches = [regex]::Matches($text, '(?ms)^### (Example \d+: [^\r\n]+)\r?\n(.*?)```powershell\r?\n(.*?)\r?\n```')
        foreach ($match in $matches) {
            $between = $match.Groups[2].Value
            $skip = [regex]::Match($between, '<!--\s*not run:\s*(.*?)\s*-->')
            @{
                Command = $file.BaseName
                Title = $match.Groups[1].Value
                Code = $match.Groups[3].Value
                Skip = $skip.Success
                Reason = $skip.Groups[1].Value
            }
        }
    }
}

Describe 'Help examples' -Tag PowerShell7, Examples {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'common.ps1')
        # The module found by name, as for a user who installed it.
        $modulePath = Split-Path $NetCmdletsModulePath -Parent
        if ((Split-Path $NetCmdletsModulePath -Leaf) -ne 'NetCmdlets') {
            throw "The examples import NetCmdlets by name: the module folder must be named NetCmdlets ($NetCmdletsModulePath)."
        }

        function Start-Example {
            param([string] $Code)
            $folder = Join-Path $TestDrive ([guid]::NewGuid())
            $null = New-Item -ItemType Directory -Path $folder
            $script = Join-Path $folder 'example.ps1'
            Set-Content -Path $script -Value $Code
            $exe = [Environment]::ProcessPath
            [string[]] $prefix = if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' } else { @() }
            $info = [Diagnostics.ProcessStartInfo]::new($exe)
            foreach ($argument in $prefix + @('-NoProfile', '-NonInteractive', '-File', $script)) { $info.ArgumentList.Add($argument) }
            $info.UseShellExecute = $false
            $info.RedirectStandardOutput = $true
            $info.RedirectStandardError = $true
            $info.RedirectStandardInput = $true
            $info.WorkingDirectory = $folder
            $info.Environment['PSModulePath'] = "$modulePath$([IO.Path]::PathSeparator)$($info.Environment['PSModulePath'])"
            $process = [Diagnostics.Process]::Start($info)
            $process.StandardInput.Close()
            [pscustomobject]@{
                Process = $process
                Output = $process.StandardOutput.ReadToEndAsync()
                Errors = $process.StandardError.ReadToEndAsync()
                Clock = [Diagnostics.Stopwatch]::StartNew()
            }
        }

        # Two at a time (the examples use fixed ports only once each), each with a minute to run.
        $script:results = @{}
        $queue = [Collections.Generic.Queue[object]]::new()
        foreach ($example in $examples | Where-Object { -not $_.Skip }) { $queue.Enqueue($example) }
        $running = [Collections.Generic.List[object]]::new()
        while ($queue.Count -gt 0 -or $running.Count -gt 0) {
            while ($running.Count -lt 2 -and $queue.Count -gt 0) {
                $example = $queue.Dequeue()
                $running.Add([pscustomobject]@{ Key = "$($example.Command) $($example.Title)"; Run = Start-Example $example.Code })
            }
            foreach ($entry in @($running)) {
                $process = $entry.Run.Process
                $late = $entry.Run.Clock.Elapsed.TotalSeconds -gt 60
                if (-not $process.HasExited -and -not $late) { continue }
                if ($late -and -not $process.HasExited) { $process.Kill($true) }
                $process.WaitForExit()
                $results[$entry.Key] = [pscustomobject]@{
                    TimedOut = $late
                    ExitCode = $process.ExitCode
                    Output = $entry.Run.Output.Result
                    Errors = $entry.Run.Errors.Result
                }
                $running.Remove($entry) | Out-Null
            }
            # Wait on the oldest for a moment rather than spin.
            if ($running.Count -gt 0) { $null = $running[0].Run.Process.WaitForExit(50) }
        }
        # One that failed beside another runs once more alone: a busy machine must not fail an example
        # that is right; one that fails alone too is wrong.
        foreach ($example in $examples | Where-Object { -not $_.Skip }) {
            $key = "$($example.Command) $($example.Title)"
            $first = $results[$key]
            if (-not $first.TimedOut -and $first.ExitCode -eq 0 -and -not $first.Errors.Trim()) { continue }
            $run = Start-Example $example.Code
            $late = -not $run.Process.WaitForExit(60000)
            if ($late) { $run.Process.Kill($true) }
            $run.Process.WaitForExit()
            $results[$key] = [pscustomobject]@{ TimedOut = $late; ExitCode = $run.Process.ExitCode; Output = $run.Output.Result; Errors = $run.Errors.Result }
        }
    }

    It '<Command> <Title> runs as written' -ForEach $examples {
        if ($Skip) { Set-ItResult -Skipped -Because $Reason; return }
        $result = $results["$Command $Title"]
        $said = "output:`n$($result.Output)`nerrors:`n$($result.Errors)"
        $result.TimedOut | Should -BeFalse -Because "the example should end within 60 s; $said"
        $result.ExitCode | Should -Be 0 -Because $said
        $result.Errors.Trim() | Should -BeNullOrEmpty -Because $said
    }
}
