using System;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets.Core.Udp;

/// <summary>
/// A bound UDP socket whose datagrams are queued for one consumer. UDP cannot be paused, so a
/// datagram that finds the queue full is dropped and counted in <see cref="ServerStatistics.Dropped"/>.
/// </summary>
public sealed class UdpReceiver : IDisposable
{
    /// <summary>Kernel buffer asked for, so bursts survive while the consumer is busy; the system may grant less.</summary>
    private const int SocketReceiveBuffer = 8 * 1024 * 1024;
    private const int MaxDatagram = 65535;

    private readonly Encoding _encoding;
    private readonly BoundedQueue<UdpDatagram> _datagrams;
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _socket;

    public UdpReceiver(IPEndPoint localEndPoint, Encoding? encoding = null, int queueCapacity = 65536)
    {
        LocalEndPoint = localEndPoint ?? throw new ArgumentNullException(nameof(localEndPoint));
        _encoding = encoding ?? TextEncodings.Utf8;
        _datagrams = new BoundedQueue<UdpDatagram>(queueCapacity);
    }

    public IPEndPoint LocalEndPoint { get; private set; }

    public ServerStatistics Statistics { get; } = new();

    /// <exception cref="NetException">AddressInUse, AddressNotAvailable or another socket error.</exception>
    public void Start()
    {
        var socket = new Socket(LocalEndPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (LocalEndPoint.Address.Equals(IPAddress.IPv6Any)) socket.DualMode = true;
            socket.ReceiveBufferSize = SocketReceiveBuffer;
            socket.Bind(LocalEndPoint);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw NetException.FromSocket(e, LocalEndPoint.ToString(), "Binding UDP");
        }
        _socket = socket;
        LocalEndPoint = EndPoints.Normalize(socket.LocalEndPoint);
        _ = ReceiveLoopAsync(socket);
    }

    /// <summary>The next datagram, waiting up to <paramref name="timeout"/>; false when none came in time.</summary>
    public bool TryTake(out UdpDatagram datagram, TimeSpan timeout, CancellationToken cancellationToken) =>
        _datagrams.TryDequeue(out datagram, timeout, cancellationToken);

    public Task<UdpDatagram> TakeAsync(CancellationToken cancellationToken) => _datagrams.DequeueAsync(cancellationToken);

    /// <summary>Sends a datagram from this socket, so the peer sees the receiver's address as its source.</summary>
    public async Task SendToAsync(byte[] data, IPEndPoint remoteEndPoint)
    {
        Socket socket = _socket ?? throw new InvalidOperationException("The receiver is not started.");
        await UdpSender.SendToAsync(socket, data, remoteEndPoint).ConfigureAwait(false);
        Statistics.AddSent(1, data.Length);
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _socket?.Dispose();
    }

    private async Task ReceiveLoopAsync(Socket socket)
    {
        var buffer = new byte[MaxDatagram];
        EndPoint any = new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!_stopping.IsCancellationRequested)
        {
            SocketReceiveFromResult result;
            try
            {
                result = await socket.ReceiveFromAsync(new ArraySegment<byte>(buffer), SocketFlags.None, any).ConfigureAwait(false);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                // An ICMP error for an earlier send surfaces here on some systems; the socket still works.
                Statistics.AddError();
                continue;
            }
            var data = new byte[result.ReceivedBytes];
            Buffer.BlockCopy(buffer, 0, data, 0, data.Length);
            Statistics.AddReceivedBytes(data.Length);
            Statistics.AddReceivedMessage();
            var datagram = new UdpDatagram(data, _encoding, EndPoints.Normalize(result.RemoteEndPoint), LocalEndPoint, MessageDirection.Received);
            if (!_datagrams.TryEnqueue(datagram)) Statistics.AddDropped();
        }
    }
}
