using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets.Core.Udp;

/// <summary>
/// A bound UDP socket whose datagrams become <see cref="ServerEvent"/>s for one consumer. UDP cannot be
/// paused, so a datagram that finds the queue full is dropped and counted in <see cref="ServerStatistics.Dropped"/>.
/// </summary>
public sealed class UdpServer : NetServer
{
    /// <summary>Kernel buffer asked for, so bursts survive while the consumer is busy; the system may grant less.</summary>
    private const int SocketReceiveBuffer = 8 * 1024 * 1024;
    private const int MaxDatagram = 65535;

    /// <summary>
    /// Datagrams held for the consumer: far more than TCP needs, since UDP has no other buffer to fall back
    /// on (the help promises this number). At about 200 bytes each of small datagrams a full queue is ~13 MB.
    /// </summary>
    public const int DefaultQueueCapacity = 65536;

    /// <summary>Bytes of datagrams held for the consumer, past which the next is dropped: large datagrams fill memory long before the count.</summary>
    public const long MaxQueuedBytes = 64L * 1024 * 1024;

    private long _queuedBytes;

    private readonly Encoding _encoding;
    private readonly UdpServerOptions _options;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<IPAddress> _joined = new();
    private Socket? _socket;

    public UdpServer(IPEndPoint localEndPoint, Encoding? encoding = null, int queueCapacity = DefaultQueueCapacity, UdpServerOptions? options = null)
        : base(localEndPoint, queueCapacity)
    {
        _encoding = encoding ?? TextEncodings.Utf8;
        _options = options ?? new UdpServerOptions();
    }

    /// <summary>A server on a UNIX datagram socket (a path, or an @abstract name): syslog's /dev/log is one.</summary>
    /// <param name="mode">The socket file's permission bits; null leaves what the umask gives.</param>
    public UdpServer(UnixEndPoint unixSocket, Encoding? encoding = null, int queueCapacity = DefaultQueueCapacity, int? mode = null)
        : this(new IPEndPoint(IPAddress.None, 0), encoding, queueCapacity)
    {
        UnixSocket = unixSocket ?? throw new ArgumentNullException(nameof(unixSocket));
        _unixMode = mode;
    }

    private readonly int? _unixMode;

    /// <summary>The groups this server has joined, until it stops.</summary>
    public IReadOnlyList<IPAddress> MulticastGroups => _joined;

    public override string Protocol => "UDP";

    public override MessageFraming? Framing => null;

    /// <summary>For tests: replaces the socket's receive, to make it fail.</summary>
    internal Func<Socket, ArraySegment<byte>, EndPoint, Task<SocketReceiveFromResult>>? ReceiveHook { get; set; }

    /// <exception cref="NetException">AddressInUse, AddressNotAvailable or another socket error.</exception>
    public override void Start()
    {
        if (UnixSocket is { } unix)
        {
            _socket = Tcp.UnixListener.Bind(unix, _unixMode, SocketType.Dgram);
            _ = ReceiveLoopAsync(_socket);
            return;
        }
        bool shared = _options.ReuseAddress || _options.MulticastGroups.Count > 0;
        Socket socket = Bind(SocketType.Dgram, ProtocolType.Udp, s =>
        {
            s.ReceiveBufferSize = SocketReceiveBuffer;
            // Receivers of one group on one host each bind its port; every one of them gets each datagram.
            if (shared) s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            s.Bind(LocalEndPoint);
        });
        foreach (IPAddress group in _options.MulticastGroups)
        {
            try
            {
                Multicast.Join(socket, group, _options.Interface);
            }
            catch (SocketException e)
            {
                LeaveGroups(socket);
                socket.Dispose();
                string on = _options.Interface is null ? "" : $" on interface {_options.Interface}";
                throw NetException.FromSocket(e, group.ToString(), $"Joining multicast group{on}:");
            }
            _joined.Add(group);
        }
        _socket = socket;
        _ = ReceiveLoopAsync(socket);
    }

    /// <summary>
    /// Sends a datagram from this server's socket to <paramref name="target"/> ("host:port", "[v6]:port"),
    /// so that an answer to it comes back to this server.
    /// </summary>
    /// <exception cref="NetException">NameNotResolved, or the send failed.</exception>
    public async Task SendToAsync(byte[] data, string target)
    {
        IPEndPoint destination = await ResolveTargetAsync(target).ConfigureAwait(false);
        await SendToAsync(data, destination).ConfigureAwait(false);
    }

    private async Task<IPEndPoint> ResolveTargetAsync(string target)
    {
        (string host, int port) = EndPoints.ParseHostAndPort(target);
        IPAddress[] addresses = await EndPoints.ResolveAsync(host, _stopping.Token).ConfigureAwait(false);
        Socket socket = _socket ?? throw new InvalidOperationException("The server is not started.");
        // A socket of one family can only send to that family; a dual-mode one to both, IPv4 first as senders do.
        IPAddress? address = socket.AddressFamily == AddressFamily.InterNetwork || socket.DualMode
            ? addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
            : null;
        address ??= addresses.FirstOrDefault(a => a.AddressFamily == socket.AddressFamily);
        return address is null
            ? throw new NetException(NetErrorKind.AddressNotAvailable, target,
                $"'{host}' has no {(socket.AddressFamily == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} address, and this server's socket at {LocalEndPoint} sends only to those.")
            : new IPEndPoint(address, port);
    }

    /// <summary>Sends a datagram from this socket, so the peer sees the server's address as its source.</summary>
    public Task SendToAsync(byte[] data, IPEndPoint remoteEndPoint) => SendToAsync(data, remoteEndPoint, remoteEndPoint.ToString());

    /// <summary>Sends a datagram from this socket to another datagram's endpoint (an IP one, or a named UNIX socket's).</summary>
    internal Task SendToAsync(byte[] data, NetEndPoint target) => SendToAsync(data, target.ToSocketEndPoint(), target.ToString());

    private async Task SendToAsync(byte[] data, EndPoint remoteEndPoint, string shown)
    {
        Socket socket = _socket ?? throw new InvalidOperationException("The server is not started.");
        try
        {
            await UdpSender.SendToAsync(socket, data, remoteEndPoint, shown).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            throw new NetException(NetErrorKind.ConnectionClosed, shown,
                $"The UDP server at {ListeningOn} has stopped: its socket sends no more.");
        }
        Statistics.AddSent(1, data.Length);
    }

    public override async Task ReplyAsync(NetMessage request, IReadOnlyList<Outgoing> replies)
    {
        try
        {
            // A payload and raw bytes are the same thing here: one datagram each.
            foreach (Outgoing reply in replies) await SendToAsync(reply.Bytes, request.RemoteEndPoint).ConfigureAwait(false);
        }
        catch (NetException e)
        {
            // Nobody awaits a reply: count it and hand the error to the consumer.
            Statistics.AddError();
            Post(e);
        }
    }

    public override void Dispose()
    {
        _stopping.Cancel();
        if (_socket is { } socket)
        {
            LeaveGroups(socket);
            socket.Dispose();
            // The socket file goes with the server that made it.
            if (UnixSocket is { } unix) Tcp.UnixListener.Remove(unix);
        }
    }

    /// <summary>Closing the socket leaves its groups too; leaving first tells the routers at once, not when their membership query goes unanswered.</summary>
    private void LeaveGroups(Socket socket)
    {
        foreach (IPAddress group in _joined)
        {
            try
            {
                Multicast.Leave(socket, group, _options.Interface);
            }
            catch (SocketException)
            {
            }
            catch (ObjectDisposedException)
            {
            }
        }
        _joined.Clear();
    }

    private async Task ReceiveLoopAsync(Socket socket)
    {
        var buffer = new byte[MaxDatagram];
        EndPoint any = UnixSocket is { } unix ? unix.ToSocketEndPoint()
            : new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        var backoff = new RetryBackoff();
        var bound = new NetEndPoint(ListeningOn);
        NetEndPoint local = bound;
        NetEndPoint? remote = null;
        // Bound to every address, a socket tells a group's datagram, a broadcast and a unicast apart only by
        // the address each was sent to, which costs a slower receive (about a third fewer datagrams a second
        // in the benchmark); bound to one address, that address is the answer.
        bool askDestination = UnixSocket is null && (LocalEndPoint.Address.Equals(IPAddress.Any) || LocalEndPoint.Address.Equals(IPAddress.IPv6Any));
        while (!_stopping.IsCancellationRequested)
        {
            int received;
            EndPoint from;
            IPAddress? destination = null;
            try
            {
                if (ReceiveHook is { } hook)
                {
                    SocketReceiveFromResult hooked = await hook(socket, new ArraySegment<byte>(buffer), any).ConfigureAwait(false);
                    (received, from) = (hooked.ReceivedBytes, hooked.RemoteEndPoint);
                }
                else if (askDestination)
                {
                    SocketReceiveMessageFromResult message = await socket.ReceiveMessageFromAsync(new ArraySegment<byte>(buffer), SocketFlags.None, any).ConfigureAwait(false);
                    (received, from, destination) = (message.ReceivedBytes, message.RemoteEndPoint, message.PacketInformation.Address);
                }
                else
                {
#if NET8_0_OR_GREATER
                    // The ValueTask overload: a datagram already waiting is taken without a Task per receive.
                    SocketReceiveFromResult plain = await socket.ReceiveFromAsync(buffer.AsMemory(), SocketFlags.None, any).ConfigureAwait(false);
#else
                    SocketReceiveFromResult plain = await socket.ReceiveFromAsync(new ArraySegment<byte>(buffer), SocketFlags.None, any).ConfigureAwait(false);
#endif
                    (received, from) = (plain.ReceivedBytes, plain.RemoteEndPoint);
                }
                backoff.Succeeded();
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                // An ICMP error for an earlier send surfaces here on some systems, and the socket still
                // works; a lasting error would spin a core, so each one in a row waits a little longer.
                Statistics.AddError();
                await backoff.FailedAsync(_stopping.Token).ConfigureAwait(false);
                continue;
            }
            var data = new byte[received];
            Buffer.BlockCopy(buffer, 0, data, 0, data.Length);
            Statistics.AddReceivedBytes(data.Length);
            Statistics.AddReceivedMessage();
            local = LocalFor(destination, bound, local);
            remote = RemoteFor(from, remote);
            var datagram = new UdpDatagram(data, _encoding, remote!, local, MessageDirection.Received)
            {
                Server = this,
            };
            if (Interlocked.Add(ref _queuedBytes, received) > MaxQueuedBytes || !Events.TryEnqueue(ServerEvent.ForDatagram(datagram)))
            {
                Interlocked.Add(ref _queuedBytes, -received);
                Statistics.AddDropped();
            }
        }
    }

    protected override ServerEvent OnTaken(ServerEvent serverEvent)
    {
        if (serverEvent.Message is UdpDatagram datagram) Interlocked.Add(ref _queuedBytes, -datagram.Length);
        return base.OnTaken(serverEvent);
    }

    /// <summary>The sender, as datagrams carry it: the last one's again while the same sender goes on (a burst, a stream).</summary>
    private static NetEndPoint RemoteFor(EndPoint from, NetEndPoint? last)
    {
        if (UnixEndPoint.From(from) is { } unix)
            return last is not null && last.IsUnix && last.Address == unix.Path ? last : new NetEndPoint(unix);
        IPEndPoint sender = EndPoints.Normalize(from);
        if (last is not null && !last.IsUnix && last.Port == sender.Port && last.ToIPEndPoint().Address.Equals(sender.Address)) return last;
        return new NetEndPoint(sender);
    }

    /// <summary>The endpoint a datagram was sent to: the bound one, unless the system said which address it reached.</summary>
    private static NetEndPoint LocalFor(IPAddress? destination, NetEndPoint bound, NetEndPoint last)
    {
        if (destination is null || destination.Equals(IPAddress.Any) || destination.Equals(IPAddress.IPv6Any)) return bound;
        if (destination.IsIPv4MappedToIPv6) destination = destination.MapToIPv4();
        if (destination.Equals(last.ToIPEndPoint().Address)) return last;
        return new NetEndPoint(new IPEndPoint(destination, bound.Port));
    }
}
