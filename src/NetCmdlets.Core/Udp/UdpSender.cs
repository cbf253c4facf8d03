using System;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core.Net;

namespace NetCmdlets.Core.Udp;

/// <summary>Sends datagrams to one destination from an unconnected socket.</summary>
public sealed class UdpSender : IDisposable
{
    private readonly Socket _socket;

    private UdpSender(Socket socket, IPEndPoint remoteEndPoint)
    {
        _socket = socket;
        RemoteEndPoint = remoteEndPoint;
    }

    public IPEndPoint RemoteEndPoint { get; }

    /// <summary>The source endpoint; known after the first send.</summary>
    public IPEndPoint LocalEndPoint => EndPoints.Normalize(_socket.LocalEndPoint);

    /// <summary>Resolves <paramref name="host"/> and opens a socket of the first address's family.</summary>
    /// <exception cref="NetException">NameNotResolved.</exception>
    public static async Task<UdpSender> OpenAsync(string host, int port, bool broadcast, CancellationToken cancellationToken)
    {
        IPAddress[] addresses = await EndPoints.ResolveAsync(host, cancellationToken).ConfigureAwait(false);
        // Listeners default to IPv4 loopback, and a datagram to the wrong family is lost without an
        // error, so a name with both kinds of address is sent to over IPv4.
        IPAddress address = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses[0];
        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        if (broadcast) socket.EnableBroadcast = true;
        return new UdpSender(socket, new IPEndPoint(address, port));
    }

    public static UdpSender Open(string host, int port, bool broadcast, CancellationToken cancellationToken) =>
        Sync.Run(OpenAsync(host, port, broadcast, cancellationToken));

    public Task SendAsync(byte[] data) => SendToAsync(_socket, data, RemoteEndPoint);

    public void Send(byte[] data) => Sync.Run(SendAsync(data));

    public void Dispose() => _socket.Dispose();

    internal static async Task SendToAsync(Socket socket, byte[] data, IPEndPoint remoteEndPoint)
    {
        try
        {
            await socket.SendToAsync(new ArraySegment<byte>(data), SocketFlags.None, remoteEndPoint).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw NetException.FromSocket(e, remoteEndPoint.ToString(), "Sending a datagram to");
        }
    }
}
