using System;
using System.Net;

namespace NetCmdlets.Core.Outbound;

/// <summary>The protocol an outbound proxy speaks.</summary>
public enum OutboundProxyKind
{
    /// <summary>SOCKS5 (RFC 1928), the name resolved here and the proxy given an address.</summary>
    Socks5,

    /// <summary>SOCKS5 with the name passed to the proxy, which resolves it (curl's --socks5-hostname).</summary>
    Socks5h,

    /// <summary>An HTTP proxy's CONNECT tunnel (RFC 9110 section 9.3.6).</summary>
    Http,
}

/// <summary>
/// A proxy that client connections go through: socks5://, socks5h:// or http:// with a host and a port
/// (1080 by default for SOCKS, 8080 for HTTP), and optionally a user name and password (SOCKS5's
/// user/password method, RFC 1929; HTTP Basic).
/// </summary>
public sealed class OutboundProxy
{
    public OutboundProxy(Uri uri, NetworkCredential? credential = null)
    {
        if (uri is null) throw new ArgumentNullException(nameof(uri));
        if (!uri.IsAbsoluteUri) throw new ArgumentException($"The proxy '{uri}' is not an absolute URI such as socks5://127.0.0.1:1080 or http://proxy:8080.", nameof(uri));
        Kind = uri.Scheme.ToLowerInvariant() switch
        {
            "socks5" => OutboundProxyKind.Socks5,
            "socks5h" => OutboundProxyKind.Socks5h,
            "http" => OutboundProxyKind.Http,
            _ => throw new ArgumentException($"The proxy scheme '{uri.Scheme}' is not supported: use socks5://, socks5h:// or http://.", nameof(uri)),
        };
        if (string.IsNullOrEmpty(uri.Host)) throw new ArgumentException($"The proxy '{uri}' names no host.", nameof(uri));
        Uri = uri;
        Host = uri.Host.Trim('[', ']');
        Port = uri.IsDefaultPort || uri.Port <= 0 ? (Kind == OutboundProxyKind.Http ? 8080 : 1080) : uri.Port;
        if (credential is null && !string.IsNullOrEmpty(uri.UserInfo))
        {
            string[] parts = uri.UserInfo.Split(new[] { ':' }, 2);
            credential = new NetworkCredential(Uri.UnescapeDataString(parts[0]), parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : string.Empty);
        }
        Credential = credential;
    }

    public Uri Uri { get; }

    public OutboundProxyKind Kind { get; }

    public string Host { get; }

    public int Port { get; }

    /// <summary>The user and password offered to the proxy; null offers none.</summary>
    public NetworkCredential? Credential { get; }

    /// <summary>The proxy as shown in messages: its scheme, host and port, never the password.</summary>
    public override string ToString() => $"{Uri.Scheme}://{Net.EndPoints.Format(Host, Port)}";
}
