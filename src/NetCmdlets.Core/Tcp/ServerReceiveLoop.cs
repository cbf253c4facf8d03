using System;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Transport;

namespace NetCmdlets.Core.Tcp;

/// <summary>A server's connection: messages framed here go to the server's queue.</summary>
internal sealed class ServerReceiveLoop : ReceiveLoop
{
    private readonly BoundedQueue<ServerEvent> _queue;
    private readonly CancellationToken _stopping;
    private readonly ServerBroker? _relay;

    /// <param name="relay">A broker that forwards what this connection sends to the others as it is read.</param>
    public ServerReceiveLoop(TcpConnection connection, BoundedQueue<ServerEvent> queue, CancellationToken stopping, ServerBroker? relay)
        : base(connection, connection.Framer)
    {
        _queue = queue;
        _stopping = stopping;
        _relay = relay;
    }

    protected override void Framed(ArraySegment<byte> bytes, bool final)
    {
        if (_relay is null) return;
        if (final) _relay.Relay(Connection, new[] { Outgoing.Payload(bytes.ToBytes()) }, toSenderToo: false);
        else _relay.Forward(Connection, bytes);
    }

    protected override ByteBudget Untaken => Connection.Untaken;

    protected override CancellationToken Stopping => _stopping;

    protected override Task TurnAsync() => Connection.Turns.TurnAsync();

    /// <summary>
    /// A server stops reading a peer that does not take its replies, as well as one whose messages wait to
    /// be taken. (A connection read on its own reads on while its sends wait, or a peer that echoes would
    /// deadlock with it.)
    /// </summary>
    protected override Task ReadyAsync()
    {
        Task taken = Untaken.WaitForRoomAsync();
        ByteBudget? replies = Connection.Sender.Budget;
        if (replies is null) return taken;
        Task sends = replies.WaitForRoomAsync();
        if (sends.IsCompleted) return taken;
        sends = EndIfSendsStallAsync(sends);
        return taken.IsCompleted ? sends : Task.WhenAll(sends, taken);
    }

    /// <summary>
    /// Reading waits on replies the peer does not take. Its end (a FIN) cannot be read meanwhile, so the
    /// stall limit cannot wait for it: if no byte of the replies moves for the connection's
    /// <see cref="TcpConnection.SendStallLimit"/>, the connection ends here, and its end reports why.
    /// </summary>
    private async Task EndIfSendsStallAsync(Task room)
    {
        TimeSpan limit = Connection.SendStallLimit;
        if (limit == Timeout.InfiniteTimeSpan)
        {
            await room.ConfigureAwait(false);
            return;
        }
        long sent = Connection.BytesSent;
        using var timer = new CancellationTokenSource();
        while (true)
        {
            Task expiry = Task.Delay(limit, timer.Token);
            if (await Task.WhenAny(room, expiry).ConfigureAwait(false) == room)
            {
                timer.Cancel();
                await room.ConfigureAwait(false);
                return;
            }
            long now = Connection.BytesSent;
            if (now != sent)
            {
                sent = now;
                continue;
            }
            Connection.EndStalled();
            return;
        }
    }

    // A TLS client on a plain-text server would have its ClientHello cut into "lines" and answered in
    // clear text; it is told apart by its record header and refused. Binary framings may start with any byte.
    protected override bool CheckFirstBytes(ArraySegment<byte> first)
    {
        if (Connection.Transport is TlsTransport || Connection.Framing.Name is not ("Line" or "Json" or "Delimiter")) return true;
        bool? hello = Tls.TlsRecords.StartsClientHello(first);
        if (hello == true)
            throw new Tls.TlsException(Tls.TlsFailure.PlainTextPort,
                $"{Connection.RemoteEndPoint} started a TLS handshake, but this server speaks plain text (give Start-TcpServer -Certificate for TLS).");
        return hello is not null;
    }

    protected override Task DeliverAsync(ArraySegment<byte> payload)
    {
        TcpMessage message = Connection.NewReceived(payload);
        Connection.Untaken.Add(message.Length);
        Connection.LeaseOut();
        return _queue.EnqueueAsync(ServerEvent.ForMessage(message), _stopping);
    }

    protected override void Ended(NetException? error) => _queue.EnqueueControl(ServerEvent.Closed(Connection, error));
}
