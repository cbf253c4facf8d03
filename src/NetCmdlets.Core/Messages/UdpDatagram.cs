using System;
using System.Net;
using System.Text;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Udp;

namespace NetCmdlets.Core.Messages;

/// <summary>One UDP datagram.</summary>
public sealed class UdpDatagram : NetMessage
{
    /// <param name="remoteEndPoint">An IPEndPoint, or a UnixEndPoint for a UNIX datagram socket.</param>
    public UdpDatagram(byte[] data, Encoding encoding, EndPoint remoteEndPoint, EndPoint localEndPoint, MessageDirection direction)
        : base(data, encoding, remoteEndPoint, localEndPoint, direction)
    {
    }

    internal UdpDatagram(byte[] data, Encoding encoding, NetEndPoint remoteEndPoint, NetEndPoint localEndPoint, MessageDirection direction)
        : base(data, encoding, remoteEndPoint, localEndPoint, direction)
    {
    }

    /// <summary>The server whose socket received it; null for a datagram sent, or received by Send-UdpDatagram.</summary>
    internal UdpServer? Server { get; set; }

    /// <summary>
    /// Sends <paramref name="text"/>, in this datagram's encoding, as one datagram from the socket that
    /// received this one, to <paramref name="target"/> ("host:port", "192.0.2.1:53", "[2001:db8::1]:53"):
    /// the target sees the server's port as the source, so its answer comes back to the server.
    /// </summary>
    /// <exception cref="NetException">NameNotResolved, AddressNotAvailable, or the send failed.</exception>
    /// <exception cref="InvalidOperationException">The datagram was not received by a server, or the server has stopped.</exception>
    public void SendTo(string target, string text) => SendTo(target, Encoding.GetBytes(text ?? string.Empty));

    /// <summary>Sends <paramref name="data"/> as one datagram from the socket that received this one; see <see cref="SendTo(string, string)"/>.</summary>
    public void SendTo(string target, byte[] data) => Sync.Run(ReceivingServer().SendToAsync(data ?? new byte[0], target));

    /// <summary>Sends <paramref name="text"/> to an endpoint, such as another datagram's RemoteEndPoint; see <see cref="SendTo(string, string)"/>.</summary>
    public void SendTo(NetEndPoint target, string text) => SendTo(target, Encoding.GetBytes(text ?? string.Empty));

    /// <summary>Sends <paramref name="data"/> to an endpoint, such as another datagram's RemoteEndPoint; see <see cref="SendTo(string, string)"/>.</summary>
    public void SendTo(NetEndPoint target, byte[] data) =>
        Sync.Run(ReceivingServer().SendToAsync(data ?? new byte[0], target ?? throw new ArgumentNullException(nameof(target))));

    private UdpServer ReceivingServer() => Server ?? throw new InvalidOperationException(
        "Only a datagram that Start-UdpServer or Receive-UdpDatagram received can send from their socket; use Send-UdpDatagram to send from a socket of its own.");
}
