using System;
using System.Net;
using System.Net.Sockets;

namespace NetCmdlets.Core.Net;

/// <summary>
/// Where a message came from or went to: an address and a port, as plain values. A message's endpoints
/// are of this type rather than <see cref="IPEndPoint"/> so that a message converts to small, flat
/// JSON or CSV; <see cref="ToIPEndPoint"/> gives the socket type back.
/// </summary>
public sealed class NetEndPoint : IEquatable<NetEndPoint>
{
    private readonly IPEndPoint _endPoint;
    private string? _address;

    public NetEndPoint(IPEndPoint endPoint)
    {
        _endPoint = endPoint ?? throw new ArgumentNullException(nameof(endPoint));
    }

    /// <summary>The IP address as text: 127.0.0.1, ::1. Made on first use.</summary>
    public string Address => _address ??= _endPoint.Address.ToString();

    public int Port => _endPoint.Port;

    public IPEndPoint ToIPEndPoint() => _endPoint;

    public static implicit operator IPEndPoint(NetEndPoint endPoint) => endPoint._endPoint;

    /// <summary>"address:port", with an IPv6 address in brackets, as it is written in a URL.</summary>
    public override string ToString() =>
        _endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{Address}]:{Port}" : $"{Address}:{Port}";

    public bool Equals(NetEndPoint? other) => other is not null && _endPoint.Equals(other._endPoint);

    public override bool Equals(object? obj) => obj is NetEndPoint other && Equals(other);

    public override int GetHashCode() => _endPoint.GetHashCode();
}
