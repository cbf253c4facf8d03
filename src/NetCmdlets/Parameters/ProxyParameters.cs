using System;
using System.Management.Automation;
using NetCmdlets.Core.Outbound;

namespace NetCmdlets.Parameters;

/// <summary>An outbound proxy for a cmdlet that connects: SOCKS5 or HTTP CONNECT, with credentials.</summary>
internal sealed class ProxyParameters
{
    /// <summary>Connects through this proxy: socks5://host:port (names resolved here), socks5h://host:port (names resolved by the proxy), or http://host:port (CONNECT).</summary>
    [Parameter]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(ProxySchemeCompleter))]
    public Uri? Proxy { get; set; }

    /// <summary>With -Proxy: the user name and password the proxy asks for (SOCKS5 user/password, HTTP Basic).</summary>
    [Parameter]
    [Credential]
    public PSCredential? ProxyCredential { get; set; }

    /// <summary>The proxy chosen, or null; a bad URI ends <paramref name="cmdlet"/> with InvalidProxy.</summary>
    public OutboundProxy? Resolve(PSCmdlet cmdlet)
    {
        if (Proxy is null)
        {
            if (ProxyCredential is not null)
                cmdlet.ThrowTerminatingError(new ErrorRecord(new ArgumentException("-ProxyCredential is for -Proxy: give the proxy too."), "InvalidProxy", ErrorCategory.InvalidArgument, null));
            return null;
        }
        try
        {
            return new OutboundProxy(Proxy, ProxyCredential?.GetNetworkCredential());
        }
        catch (ArgumentException e)
        {
            cmdlet.ThrowTerminatingError(new ErrorRecord(e, "InvalidProxy", ErrorCategory.InvalidArgument, Proxy));
            return null;
        }
    }
}

/// <summary>Completes -Proxy with its schemes.</summary>
internal sealed class ProxySchemeCompleter : IArgumentCompleter
{
    public System.Collections.Generic.IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        System.Management.Automation.Language.CommandAst commandAst, System.Collections.IDictionary fakeBoundParameters)
    {
        foreach (string scheme in new[] { "socks5://127.0.0.1:1080", "socks5h://127.0.0.1:1080", "http://127.0.0.1:8080" })
        {
            if (scheme.StartsWith(wordToComplete ?? string.Empty, StringComparison.OrdinalIgnoreCase))
                yield return new CompletionResult(scheme, scheme, CompletionResultType.ParameterValue, scheme.Substring(0, scheme.IndexOf(':')));
        }
    }
}
