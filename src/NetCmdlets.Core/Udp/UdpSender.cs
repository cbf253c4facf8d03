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

    // Where datagrams go, as the socket takes it (for a UNIX socket, the runtime's endpoint; RemoteEndPoint shows it).
    private readonly EndPoint _target;
    private string? _boundPath;

    private UdpSender(Socket socket, EndPoint remoteEndPoint, EndPoint target)
    {
        _socket = socket;
        RemoteEndPoint = remoteEndPoint;
        _target = target;
    }

    /// <summary>An IPEndPoint, or a UnixEndPoint for a UNIX datagram socket.</summary>
    public EndPoint RemoteEndPoint { get; }

    private string Shown => RemoteEndPoint.ToString() ?? string.Empty;

    /// <summary>The source endpoint; known after the first send. A UnixEndPoint (unnamed until replies are expected) for a UNIX datagram socket.</summary>
    public EndPoint LocalEndPoint => EndPoints.NormalizeAny(_socket.LocalEndPoint);

    /// <summary>A sender to a UNIX datagram socket (syslog's /dev/log, say): a path, or a Linux abstract name with a leading @.</summary>
    /// <exception cref="NetException">UnixSocketNotSupported: the netstandard2.0 build has no UNIX sockets.</exception>
    public static UdpSender OpenUnix(string path)
    {
        var remote = new UnixEndPoint(path);
        EndPoint target = remote.ToSocketEndPoint();
        return new UdpSender(new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified), remote, target);
    }

    /// <summary>Resolves <paramref name="host"/> and opens a socket of the first address's family.</summary>
    /// <exception cref="NetException">NameNotResolved.</exception>
    public static Task<UdpSender> OpenAsync(string host, int port, bool broadcast, CancellationToken cancellationToken) =>
        OpenAsync(host, port, new UdpSendOptions { Broadcast = broadcast }, cancellationToken);

    /// <summary>Resolves <paramref name="host"/> and opens a socket of the first address's family, set up as <paramref name="options"/> say.</summary>
    /// <exception cref="NetException">NameNotResolved, or the system refused an option (SocketError).</exception>
    public static async Task<UdpSender> OpenAsync(string host, int port, UdpSendOptions options, CancellationToken cancellationToken)
    {
        IPAddress[] addresses = await EndPoints.ResolveAsync(host, cancellationToken).ConfigureAwait(false);
        // Listeners default to IPv4 loopback, and a datagram to the wrong family is lost without an
        // error, so a name with both kinds of address is sent to over IPv4.
        IPAddress address = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses[0];
        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (options.Broadcast) socket.EnableBroadcast = true;
            Multicast.PrepareSend(socket, address, options.TimeToLive, options.MulticastLoopback, options.Interface);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw NetException.FromSocket(e, EndPoints.Format(address.ToString(), port), "Setting up a UDP socket for");
        }
        var remote = new IPEndPoint(address, port);
        return new UdpSender(socket, remote, remote);
    }

    public static UdpSender Open(string host, int port, bool broadcast, CancellationToken cancellationToken) =>
        Sync.Run(OpenAsync(host, port, broadcast, cancellationToken));

    public static UdpSender Open(string host, int port, UdpSendOptions options, CancellationToken cancellationToken) =>
        Sync.Run(OpenAsync(host, port, options, cancellationToken));

    /// <summary>True when the destination is a multicast group: its members answer from addresses of their own.</summary>
    public bool IsMulticast => RemoteEndPoint is IPEndPoint ip && Multicast.IsGroup(ip.Address);

    public Task SendAsync(byte[] data) => _connected ? SendConnectedAsync(data) : SendToAsync(_socket, data, _target, Shown);

    private bool _connected;
    private Task<SocketReceiveFromResult>? _pendingReceive;
    private byte[]? _receiveBuffer;

    /// <summary>
    /// For a request and its replies: the socket takes datagrams from the destination only, and an ICMP
    /// "port unreachable" answer is reported (as ConnectionRefused) instead of lost. Call before the first send.
    /// </summary>
    public void ExpectReplies()
    {
        // Answers to a broadcast or to a group come from each member's own address: take them from anyone.
        if (_socket.AddressFamily != AddressFamily.Unix && (_socket.EnableBroadcast || IsMulticast)) return;
        try
        {
            // A UNIX datagram socket is answered only at a name of its own: a file in the temp folder, removed with the sender.
            if (_socket.AddressFamily == AddressFamily.Unix && _boundPath is null)
            {
                _boundPath = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"netcmdlets-{Guid.NewGuid():N}.sock");
                _socket.Bind(new UnixEndPoint(_boundPath).ToSocketEndPoint());
            }
            _socket.Connect(_target);
            _connected = true;
        }
        catch (SocketException e)
        {
            throw NetException.FromSocket(e, Shown, "Connecting a UDP socket to");
        }
    }

    /// <summary>The next datagram for this socket, or null when none comes within <paramref name="timeout"/>.</summary>
    /// <exception cref="NetException">ConnectionRefused: the destination answered that nothing listens there.</exception>
    public async Task<(byte[] Data, EndPoint From)?> ReceiveAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        // A receive that outlived the last wait is still the one to wait on: a second would race it for the datagram.
        _receiveBuffer ??= new byte[65536];
        _pendingReceive ??= _socket.ReceiveFromAsync(new ArraySegment<byte>(_receiveBuffer), SocketFlags.None, AnySender());
        Task<SocketReceiveFromResult> receiving = _pendingReceive;
        Task finished = await Task.WhenAny(receiving, Task.Delay(timeout, cancellationToken)).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        if (finished != receiving) return null;
        _pendingReceive = null;
        SocketReceiveFromResult result;
        try
        {
            result = await receiving.ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw NetException.FromSocket(e, Shown, "Waiting for a reply from");
        }
        byte[] data = new byte[result.ReceivedBytes];
        Buffer.BlockCopy(_receiveBuffer, 0, data, 0, result.ReceivedBytes);
        return (data, EndPoints.NormalizeAny(result.RemoteEndPoint));
    }

    /// <summary>The endpoint a receive fills in: of the socket's own kind.</summary>
    private EndPoint AnySender() => _socket.AddressFamily switch
    {
        AddressFamily.Unix => _target,
        AddressFamily.InterNetworkV6 => new IPEndPoint(IPAddress.IPv6Any, 0),
        _ => new IPEndPoint(IPAddress.Any, 0),
    };

    private async Task SendConnectedAsync(byte[] data)
    {
        try
        {
            await _socket.SendAsync(new ArraySegment<byte>(data), SocketFlags.None).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw NetException.FromSocket(e, Shown, "Sending a datagram to");
        }
    }

    public void Send(byte[] data) => Sync.Run(SendAsync(data));

    public void Dispose()
    {
        _socket.Dispose();
        if (_boundPath is not null) Tcp.UnixListener.Remove(new UnixEndPoint(_boundPath));
    }

    /// <param name="shown">The target as messages name it.</param>
    internal static async Task SendToAsync(Socket socket, byte[] data, EndPoint remoteEndPoint, string shown)
    {
        try
        {
            await socket.SendToAsync(new ArraySegment<byte>(data), SocketFlags.None, remoteEndPoint).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw NetException.FromSocket(e, shown, "Sending a datagram to");
        }
    }
}
