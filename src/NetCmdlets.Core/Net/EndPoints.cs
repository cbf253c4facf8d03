using System;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace NetCmdlets.Core.Net;

/// <summary>Turns the addresses users type into IP addresses.</summary>
public static class EndPoints
{
    /// <summary>
    /// The address a listener binds. Null or empty means loopback, so nothing is exposed by accident;
    /// "Any" and "::" mean every interface on IPv4 and IPv6 (a dual-mode socket), "0.0.0.0" IPv4 only.
    /// </summary>
    public static IPAddress ParseLocalAddress(string? text) => Sync.Run(ParseLocalAddressAsync(text, CancellationToken.None));

    /// <inheritdoc cref="ParseLocalAddress"/>
    /// <remarks>A name is resolved without blocking a thread, and the wait ends when the token is cancelled.</remarks>
    public static async Task<IPAddress> ParseLocalAddressAsync(string? text, CancellationToken cancellationToken)
    {
        string value = (text ?? string.Empty).Trim();
        switch (value.ToLowerInvariant())
        {
            case "":
            case "loopback":
            case "localhost":
                return IPAddress.Loopback;
            case "any":
            case "*":
            case "::":
            case "[::]":
                return Socket.OSSupportsIPv6 ? IPAddress.IPv6Any : IPAddress.Any;
            case "ipv6loopback":
                return IPAddress.IPv6Loopback;
        }
        if (IPAddress.TryParse(value.Trim('[', ']'), out IPAddress? address)) return address;
        IPAddress[] resolved = await ResolveAsync(value, cancellationToken).ConfigureAwait(false);
        return resolved[0];
    }

    /// <summary>Resolves a name or literal to its addresses, IPv6 and IPv4, in the order the resolver gives.</summary>
    public static async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host.Trim('[', ']'), out IPAddress? literal)) return new[] { literal };
        Task<IPAddress[]> lookup = Dns.GetHostAddressesAsync(host);
        // The resolver cannot be cancelled; stop waiting for it instead.
        Task finished = await Task.WhenAny(lookup, Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false);
        if (finished != lookup) cancellationToken.ThrowIfCancellationRequested();
        IPAddress[] addresses;
        try
        {
            addresses = await lookup.ConfigureAwait(false);
        }
        catch (SocketException error)
        {
            throw new NetException(NetErrorKind.NameNotResolved, host, $"The name '{host}' could not be resolved: {error.Message}", error);
        }
        addresses = addresses.Where(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6).ToArray();
        if (addresses.Length == 0)
            throw new NetException(NetErrorKind.NameNotResolved, host, $"The name '{host}' has no IPv4 or IPv6 address.");
        return addresses;
    }

    public static IPAddress[] Resolve(string host, CancellationToken cancellationToken) =>
        Sync.Run(ResolveAsync(host, cancellationToken));

    /// <summary>Splits "host:port", "1.2.3.4:53" or "[::1]:53" (an IPv6 address needs its brackets).</summary>
    /// <exception cref="NetException">AddressNotAvailable: no port, or one outside 1 to 65535.</exception>
    public static (string Host, int Port) ParseHostAndPort(string text)
    {
        string value = (text ?? string.Empty).Trim();
        int colon = value.LastIndexOf(':');
        bool bracketed = value.StartsWith("[", StringComparison.Ordinal);
        int close = value.IndexOf(']');
        string host = colon > 0 ? value.Substring(0, colon) : string.Empty;
        bool valid = colon > 0
            && (bracketed ? close == colon - 1 : host.IndexOf(':') < 0)
            && int.TryParse(value.Substring(colon + 1), out int port) && port is > 0 and <= 65535;
        if (!valid)
            throw new NetException(NetErrorKind.AddressNotAvailable, value,
                $"'{value}' is not an endpoint: write host:port, 192.0.2.1:53 or [2001:db8::1]:53.");
        return (bracketed ? host.Substring(1, host.Length - 2) : host, int.Parse(value.Substring(colon + 1)));
    }

    /// <summary>"host:port", with IPv6 addresses in brackets.</summary>
    public static string Format(string host, int port) =>
        host.Contains(":") && !host.StartsWith("[", StringComparison.Ordinal) ? $"[{host}]:{port}" : $"{host}:{port}";

    /// <summary>As <see cref="Normalize"/> for an IP endpoint; a UNIX socket's end as a <see cref="UnixEndPoint"/>.</summary>
    public static EndPoint NormalizeAny(EndPoint? endPoint) => (EndPoint?)UnixEndPoint.From(endPoint) ?? Normalize(endPoint);

    /// <summary>IPv4 addresses carried in a dual-mode IPv6 socket are shown as plain IPv4, as users typed them.</summary>
    public static IPEndPoint Normalize(EndPoint? endPoint)
    {
        var ip = endPoint as IPEndPoint ?? new IPEndPoint(IPAddress.None, 0);
        return ip.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(ip.Address.MapToIPv4(), ip.Port) : ip;
    }
}
