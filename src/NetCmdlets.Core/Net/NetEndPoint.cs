using System;
using System.Net;
using System.Net.Sockets;

namespace NetCmdlets.Core.Net;

/// <summary>
/// Where a message came from or went to: an address and a port, or a UNIX socket's path, as plain
/// values. A message's endpoints are of this type rather than <see cref="IPEndPoint"/> so that a message
/// converts to small, flat JSON or CSV; <see cref="ToIPEndPoint"/> gives the socket type back.
/// </summary>
public sealed class NetEndPoint : IEquatable<NetEndPoint>
{
    private readonly EndPoint _endPoint;
    private string? _address;

    /// <param name="endPoint">An <see cref="IPEndPoint"/>, or a <see cref="UnixEndPoint"/>.</param>
    public NetEndPoint(EndPoint endPoint)
    {
        _endPoint = endPoint ?? throw new ArgumentNullException(nameof(endPoint));
    }

    /// <summary>The IP address as text (127.0.0.1, ::1), or a UNIX socket's path (@name for an abstract one, empty when unnamed). Made on first use.</summary>
    public string Address => _address ??= _endPoint switch
    {
        IPEndPoint ip => ip.Address.ToString(),
        UnixEndPoint unix => unix.Path,
        _ => _endPoint.ToString() ?? string.Empty,
    };

    /// <summary>The port; 0 for a UNIX socket.</summary>
    public int Port => (_endPoint as IPEndPoint)?.Port ?? 0;

    /// <summary>A UNIX socket's end, not an IP one.</summary>
    public bool IsUnix => _endPoint is UnixEndPoint;

    /// <exception cref="InvalidOperationException">The endpoint is a UNIX socket's.</exception>
    public IPEndPoint ToIPEndPoint() => _endPoint as IPEndPoint ?? throw new InvalidOperationException($"{_endPoint} is not an IP endpoint.");

    public static implicit operator IPEndPoint(NetEndPoint endPoint) => endPoint.ToIPEndPoint();

    /// <summary>What a socket sends to: the IP endpoint, or the UNIX socket's runtime endpoint.</summary>
    /// <exception cref="NetException">AddressNotAvailable: an unnamed UNIX socket end, which cannot be sent to.</exception>
    internal EndPoint ToSocketEndPoint()
    {
        if (_endPoint is not UnixEndPoint unix) return _endPoint;
        if (unix.IsUnnamed)
            throw new NetException(NetErrorKind.AddressNotAvailable, ToString(), "The sender's UNIX socket has no name (it did not bind one), so nothing can be sent back to it.");
        return unix.ToSocketEndPoint();
    }

    /// <summary>"address:port", with an IPv6 address in brackets, as it is written in a URL; unix:/path for a UNIX socket.</summary>
    public override string ToString() => _endPoint switch
    {
        IPEndPoint ip when ip.AddressFamily == AddressFamily.InterNetworkV6 => $"[{Address}]:{Port}",
        IPEndPoint => $"{Address}:{Port}",
        _ => _endPoint.ToString() ?? string.Empty,
    };

    public bool Equals(NetEndPoint? other) => other is not null && _endPoint.Equals(other._endPoint);

    public override bool Equals(object? obj) => obj is NetEndPoint other && Equals(other);

    public override int GetHashCode() => _endPoint.GetHashCode();
}
