# Coverage-guided fuzzing, bounded: every framer and the TLS/plain-text detection under SharpFuzz and
# AFL++ for a few seconds each (build.ps1 -Task Fuzz runs them for minutes). The self-test target
# must crash, or the harness could not see a crash at all.
BeforeDiscovery {
    $targets = 'delimiter', 'fixed', 'json', 'length-prefixed', 'length-prefixed-2-le-inclusive', 'line', 'line-utf16', 'octet-counted', 'tls-records', 'self-test'
}

BeforeAll {
    $results = @{}
    foreach ($result in & (Join-Path $PSScriptRoot '../fuzz/Invoke-Fuzz.ps1') -Seconds 8) { $results[$result.Target] = $result }
}

# Tagged Fuzz: it fuzzes NetCmdlets.Core itself, not the loaded module, so the netstandard2.0 run leaves it out.
Describe 'Fuzzing with SharpFuzz and AFL++' -Tag Fuzz {
    It '<_> survives its run with no crash and no hang' -ForEach @($targets | Where-Object { $_ -ne 'self-test' }) {
        $result = $results[$_]
        $result | Should -Not -BeNullOrEmpty
        $result.Execs | Should -BeGreaterThan 1000 -Because 'AFL must have run the target'
        $result.Crashes | Should -Be 0 -Because "crashing inputs are in $($result.Output)/default/crashes"
        $result.Hangs | Should -Be 0 -Because "hanging inputs are in $($result.Output)/default/hangs"
    }

    It 'the self-test target crashes, so a crash would be seen' {
        $results['self-test'].Crashes | Should -BeGreaterThan 0
    }
}
