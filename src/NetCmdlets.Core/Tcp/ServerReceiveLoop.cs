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

    public ServerReceiveLoop(TcpConnection connection, BoundedQueue<ServerEvent> queue, CancellationToken stopping)
        : base(connection, connection.Framer)
    {
        _queue = queue;
        _stopping = stopping;
    }

    protected override ByteBudget Untaken => Connection.Untaken;

    protected override CancellationToken Stopping => _stopping;

    protected override Task TurnAsync() => Connection.Turns.TurnAsync();

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
        Connection.Turns.Handing();
        return _queue.EnqueueAsync(ServerEvent.ForMessage(message), _stopping);
    }

    protected override void Ended(NetException? error) => _queue.EnqueueControl(ServerEvent.Closed(Connection, error));
}
