using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace NetCmdlets;

/// <summary>Tab completion for -LocalAddress: the keywords the module understands.</summary>
public sealed class LocalAddressCompleter : IArgumentCompleter
{
    private static readonly string[] s_values = { "Loopback", "Any", "IPv6Loopback", "0.0.0.0", "::", "127.0.0.1", "::1" };

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        s_values.Where(v => v.StartsWith(wordToComplete ?? string.Empty, StringComparison.OrdinalIgnoreCase))
            .Select(v => new CompletionResult(v.Contains(":") ? $"'{v}'" : v, v, CompletionResultType.ParameterValue, v));
}

/// <summary>Tab completion for -Interface: this machine's network interfaces by name.</summary>
public sealed class InterfaceCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        System.Net.NetworkInformation.NetworkInterface[] all;
        try
        {
            all = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces();
        }
        catch (System.Net.NetworkInformation.NetworkInformationException)
        {
            yield break;
        }
        foreach (var candidate in all.Where(i => i.Name.StartsWith(wordToComplete ?? string.Empty, StringComparison.OrdinalIgnoreCase)))
        {
            string text = candidate.Name.Any(c => char.IsWhiteSpace(c) || c == '\'') ? $"'{candidate.Name.Replace("'", "''")}'" : candidate.Name;
            yield return new CompletionResult(text, candidate.Name, CompletionResultType.ParameterValue,
                $"{candidate.Name}: {candidate.NetworkInterfaceType}, {candidate.OperationalStatus}");
        }
    }
}
