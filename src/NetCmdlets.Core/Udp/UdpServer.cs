using System;
using System.Collections.Generic;
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
    /// Datagrams held for the consumer: far more than TCP needs, since UDP has no other buffer to fall back on.
    /// A burst of 200,000 small datagrams from one fast sender fits; at about 200 bytes each a full queue is ~50 MB.
    /// </summary>
    public const int DefaultQueueCapacity = 262144;

    private readonly Encoding _encoding;
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _socket;

    public UdpServer(IPEndPoint localEndPoint, Encoding? encoding = null, int queueCapacity = DefaultQueueCapacity)
        : base(localEndPoint, queueCapacity)
    {
        _encoding = encoding ?? TextEncodings.Utf8;
    }

    public override string Protocol => "UDP";

    public override MessageFraming? Framing => null;

    /// <summary>For tests: replaces the socket's receive, to make it fail.</summary>
    internal Func<Socket, ArraySegment<byte>, EndPoint, Task<SocketReceiveFromResult>>? ReceiveHook { get; set; }

    /// <exception cref="NetException">AddressInUse, AddressNotAvailable or another socket error.</exception>
    public override void Start()
    {
        Socket socket = Bind(SocketType.Dgram, ProtocolType.Udp, s =>
        {
            s.ReceiveBufferSize = SocketReceiveBuffer;
            s.Bind(LocalEndPoint);
        });
        _socket = socket;
        _ = ReceiveLoopAsync(socket);
    }

    /// <summary>Sends a datagram from this socket, so the peer sees the server's address as its source.</summary>
    public async Task SendToAsync(byte[] data, IPEndPoint remoteEndPoint)
    {
        Socket socket = _socket ?? throw new InvalidOperationException("The server is not started.");
        await UdpSender.SendToAsync(socket, data, remoteEndPoint).ConfigureAwait(false);
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
        _socket?.Dispose();
    }

    private async Task ReceiveLoopAsync(Socket socket)
    {
        var buffer = new byte[MaxDatagram];
        EndPoint any = new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        var backoff = new RetryBackoff();
        var local = new NetEndPoint(LocalEndPoint);
        while (!_stopping.IsCancellationRequested)
        {
            SocketReceiveFromResult result;
            try
            {
                result = ReceiveHook is { } hook
                    ? await hook(socket, new ArraySegment<byte>(buffer), any).ConfigureAwait(false)
                    : await socket.ReceiveFromAsync(new ArraySegment<byte>(buffer), SocketFlags.None, any).ConfigureAwait(false);
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
            var data = new byte[result.ReceivedBytes];
            Buffer.BlockCopy(buffer, 0, data, 0, data.Length);
            Statistics.AddReceivedBytes(data.Length);
            Statistics.AddReceivedMessage();
            var datagram = new UdpDatagram(data, _encoding, new NetEndPoint(EndPoints.Normalize(result.RemoteEndPoint)), local, MessageDirection.Received);
            if (!Events.TryEnqueue(ServerEvent.ForDatagram(datagram))) Statistics.AddDropped();
        }
    }
}
