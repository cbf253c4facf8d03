using System;

namespace NetCmdlets.Core.Outbound;

/// <summary>Why an outbound proxy did not make the connection asked for; each is one error id.</summary>
public enum ProxyFailure
{
    /// <summary>The proxy itself could not be reached (refused, timed out, its name unknown).</summary>
    Unreachable,

    /// <summary>The proxy's rules do not allow the connection (SOCKS5 reply 2, HTTP 403).</summary>
    Refused,

    /// <summary>The proxy wants credentials that were not given, or turned the ones given down.</summary>
    AuthenticationFailed,

    /// <summary>The proxy could not reach the host, or could not resolve its name (SOCKS5 replies 3 and 4, HTTP 502 and 504).</summary>
    HostUnreachable,

    /// <summary>The host refused the proxy's connection (SOCKS5 reply 5).</summary>
    ConnectionRefused,

    /// <summary>Anything else: a reply that is not the protocol, a failure the proxy did not explain.</summary>
    Failed,
}

/// <summary>An outbound proxy did not make the connection; <see cref="Failure"/> says why.</summary>
public sealed class ProxyException : Exception
{
    public ProxyException(ProxyFailure failure, string message, Exception? inner = null) : base(message, inner) => Failure = failure;

    public ProxyFailure Failure { get; }

    /// <summary>ProxyUnreachable, ProxyRefused, ProxyAuthenticationFailed, ProxyHostUnreachable, ProxyConnectionRefused, ProxyFailed.</summary>
    public string ErrorId => "Proxy" + Failure;
}
