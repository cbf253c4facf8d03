using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tls;
using NetCmdlets.Core.Transport;

namespace NetCmdlets.Core.Tcp;

/// <summary>
/// One TCP connection over a <see cref="ConnectionTransport"/>, the face of its parts, each of one job:
/// <see cref="ConnectionLifetime"/> decides every close and <see cref="ConnectionEnd"/> carries it out;
/// <see cref="FramingTurns"/> owns the framing and its turns with the consumer; <see cref="TlsUpgrade"/>
/// lays TLS over the stream (STARTTLS); <see cref="ConnectionSender"/> sends; a server's
/// <see cref="ServerReceiveLoop"/> reads it, or else <see cref="ConnectionReader"/> does.
/// </summary>
public sealed class TcpConnection : TrafficCounters, IDisposable
{
    /// <summary>Replies queued for a peer and not yet written, past which the connection stops reading that peer.</summary>
    public const long DefaultSendBudget = 4 * 1024 * 1024;

    /// <summary>Received bytes not yet taken by the reader, past which the connection stops reading.</summary>
    public const long DefaultReceiveBudget = 4 * 1024 * 1024;

    private static int s_lastId;

    // Replaced once, by an upgrade to TLS (TlsUpgrade).
    private volatile ConnectionTransport _transport;
    private readonly ServerStatistics? _server;
    // Every close, half-close and abort is decided there; its lock is the connection's lock.
    private readonly ConnectionLifetime _lifetime = new();
    private readonly ConnectionEnd _end;
    private readonly ByteBudget _untaken;

    public TcpConnection(ConnectionTransport transport, TcpConnectionRole role, MessageFraming framing, Encoding encoding, ServerStatistics? server = null)
    {
        _transport = transport ?? throw new ArgumentNullException(nameof(transport));
        _server = server;
        Id = Interlocked.Increment(ref s_lastId);
        Role = role;
        Turns = new FramingTurns(framing, _lifetime);
        Upgrade = new TlsUpgrade(this, _lifetime);
        Sender = new ConnectionSender(this, _lifetime);
        Reader = new ConnectionReader(this, _lifetime);
        _end = new ConnectionEnd(this, _lifetime, server);
        Encoding = encoding ?? throw new ArgumentNullException(nameof(encoding));
        RemoteEndPoint = transport.RemoteEndPoint;
        LocalEndPoint = transport.LocalEndPoint;
        ConnectedAt = DateTime.Now;
        _untaken = new ByteBudget(DefaultReceiveBudget);
    }

    /// <summary>Unique in this process, in order of creation.</summary>
    public int Id { get; }

    public TcpConnectionRole Role { get; }

    /// <summary>An IPEndPoint, or a UnixEndPoint (unix:/path) for a UNIX socket.</summary>
    public EndPoint RemoteEndPoint { get; }

    /// <summary>An IPEndPoint, or a UnixEndPoint (unix:/path) for a UNIX socket.</summary>
    public EndPoint LocalEndPoint { get; }

    /// <summary>Over a UNIX socket, who is at the other end (process, user and group ids, from SO_PEERCRED on Linux); null over TCP.</summary>
    public UnixPeerCredential? PeerCredential => Transport.PeerCredential;

    /// <summary>The remote endpoint as text, for messages and error targets.</summary>
    internal string PeerName => RemoteEndPoint.ToString() ?? string.Empty;

    public DateTime ConnectedAt { get; }

    /// <summary>The endpoint of the server (or proxy) that accepted it; null for a connection opened on its own.</summary>
    public NetEndPoint? Server { get; internal set; }

    /// <summary>The server (or proxy) that accepted it, for the list of its connections; null for one opened on its own.</summary>
    internal NetServer? Owner { get; set; }

    public TcpConnectionState State =>
        _lifetime.IsFinished ? TcpConnectionState.Closed
        : _lifetime.Current == ConnectionLifetime.Phase.SendClosed ? TcpConnectionState.SendClosed
        : _lifetime.PeerEnded ? TcpConnectionState.PeerClosed
        : TcpConnectionState.Open;

    /// <summary>How messages are cut and wrapped on this connection (see <see cref="SwitchFraming"/>).</summary>
    public MessageFraming Framing => Turns.Framing;

    public Encoding Encoding { get; }

    /// <summary>This connection's own framer (framers keep per-connection state), which a switch of framing replaces.</summary>
    internal SwitchableFramer Framer => Turns.Framer;

    /// <summary>The framing and its turns with the consumer.</summary>
    internal FramingTurns Turns { get; }

    internal TlsUpgrade Upgrade { get; }

    internal ConnectionSender Sender { get; }

    internal ConnectionReader Reader { get; }

    /// <summary>The name this side connected to, for checking a certificate on a later upgrade to TLS; null for accepted connections.</summary>
    internal string? ConnectedHost { get; set; }

    /// <summary>The TLS version agreed on; null for plain TCP.</summary>
    public System.Security.Authentication.SslProtocols? TlsProtocol => (_transport as TlsTransport)?.Protocol;

    /// <summary>The TLS cipher suite agreed on; null for plain TCP.</summary>
    public string? CipherSuite => (_transport as TlsTransport)?.CipherSuite;

    /// <summary>The peer's TLS certificate: the server's, or a client's that sent one; null otherwise.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? RemoteCertificate => (_transport as TlsTransport)?.RemoteCertificate;

    /// <summary>Bytes queued for sending that the network has not taken yet.</summary>
    public long PendingSendBytes => Sender.Pending;

    internal ConnectionTransport Transport => _transport;

    private NetEndPoint? _remoteNetEndPoint;
    private NetEndPoint? _localNetEndPoint;

    /// <summary>The endpoints as every message of this connection carries them: made once, when the first message comes.</summary>
    internal NetEndPoint RemoteNetEndPoint => _remoteNetEndPoint ??= new NetEndPoint(RemoteEndPoint);

    internal NetEndPoint LocalNetEndPoint => _localNetEndPoint ??= new NetEndPoint(LocalEndPoint);

    private System.Collections.Hashtable? _items;

    /// <summary>
    /// State that lives as long as the connection, for whoever serves it (a handler keeping where an SMTP
    /// conversation or an HTTP request is); case-insensitive keys, made on first use, safe to write from
    /// the threads of parallel handlers.
    /// </summary>
    public System.Collections.Hashtable Items =>
        _items ?? Interlocked.CompareExchange(ref _items, System.Collections.Hashtable.Synchronized(new System.Collections.Hashtable(StringComparer.OrdinalIgnoreCase)), null) ?? _items!;

    // ---- Sending (ConnectionSender) ----

    /// <inheritdoc cref="ConnectionSender.SendAsync"/>
    public Task SendAsync(IReadOnlyList<Outgoing> items, CancellationToken cancellationToken) => Sender.SendAsync(items, cancellationToken);

    /// <summary>Encodes and frames <paramref name="text"/> as one message.</summary>
    public Task SendTextAsync(string text, CancellationToken cancellationToken) => SendAsync(new[] { Outgoing.Payload(Encoding.GetBytes(text)) }, cancellationToken);

    /// <summary>Queues <paramref name="bytes"/> to go out exactly as they are.</summary>
    public Task SendRawAsync(byte[] bytes, CancellationToken cancellationToken) => SendAsync(new[] { Outgoing.Raw(bytes) }, cancellationToken);

    /// <inheritdoc cref="ConnectionSender.SendFromStreamAsync"/>
    public Task<long> SendFromStreamAsync(Stream source, TimeSpan stallTimeout, Action<long>? progress, CancellationToken cancellationToken) =>
        Sender.SendFromStreamAsync(source, stallTimeout, progress, cancellationToken);

    /// <summary>Completes once everything queued so far is written.</summary>
    internal Task FlushAsync() => SendAsync(new[] { Outgoing.Raw(Array.Empty<byte>()) }, CancellationToken.None);

    internal void OnSent(int messages, int bytes)
    {
        Touch();
        AddSent(messages, bytes);
        _server?.AddSent(messages, bytes);
    }

    internal void OnSendFailed(NetException error) => _end.SendFailed(error);

    internal void OnSendsIdle() => _end.Carry(ConnectionLifetime.Request.SendsIdle);

    // ---- Receiving ----

    /// <summary>Reads messages until the peer closes or an error, handing each to <paramref name="queue"/> and waiting for room there.</summary>
    /// <remarks>
    /// Ends with a <see cref="ServerEventKind.Closed"/> event carrying the error, if any. Never throws.
    /// After a clean end the connection stays open for sending: a peer that half-closed still gets
    /// the replies to its last messages. Whoever takes the Closed event closes the connection.
    /// Reading pauses while replies to this peer wait to be written past their budget, or while
    /// what it sent waits to be taken past its budget (see <see cref="MessageTaken"/>).
    /// </remarks>
    public Task ReceiveIntoAsync(BoundedQueue<ServerEvent> queue, CancellationToken cancellationToken) => ReceiveIntoAsync(queue, cancellationToken, null);

    /// <summary>As <see cref="ReceiveIntoAsync(BoundedQueue{ServerEvent}, CancellationToken)"/>, with a broker that forwards what is read to the other members.</summary>
    internal Task ReceiveIntoAsync(BoundedQueue<ServerEvent> queue, CancellationToken cancellationToken, ServerBroker? relay)
    {
        _lifetime.ReadByServer = true;
        return new ServerReceiveLoop(this, queue, cancellationToken, relay).RunAsync();
    }

    /// <summary>For a connection read by a server: its consumer took a message of <paramref name="bytes"/> bytes.</summary>
    public void MessageTaken(int bytes) => _untaken.Release(bytes);

    /// <summary>
    /// For a connection not read by a server: starts reading into the connection's own inbox, from which
    /// <see cref="ReceiveAsync"/> and <see cref="ReceiveToStreamAsync"/> take. Called once; later calls do nothing.
    /// </summary>
    /// <exception cref="InvalidOperationException">A server reads this connection: its messages arrive through the server.</exception>
    public void StartReceiving() => Reader.Start();

    /// <inheritdoc cref="ConnectionReader.ReceiveAsync"/>
    public Task<TcpMessage?> ReceiveAsync(TimeSpan timeout, CancellationToken cancellationToken) => Reader.ReceiveAsync(timeout, cancellationToken);

    public TcpMessage? Receive(TimeSpan timeout, CancellationToken cancellationToken) => Sync.Run(ReceiveAsync(timeout, cancellationToken));

    /// <inheritdoc cref="ConnectionReader.ReceiveToStreamAsync"/>
    public Task<long> ReceiveToStreamAsync(Stream destination, long? length, TimeSpan idleTimeout, Action<long>? progress, CancellationToken cancellationToken) =>
        Reader.ReceiveToStreamAsync(destination, length, idleTimeout, progress, cancellationToken);

    /// <summary>What the peer sent and the consumer has not taken; a server's receive loop waits while it is past its limit.</summary>
    internal ByteBudget Untaken => _untaken;

    /// <summary>How long a server's connection may take nothing of its replies while its reading waits on them; set by the server.</summary>
    internal TimeSpan SendStallLimit { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>The server-wide budget its unfinished message and queued replies count against; set by a server before it starts the connection.</summary>
    internal ServerBufferBudget? Buffers { get; set; }

    private long _unfinished;

    /// <summary>Bytes it holds for its peer: the buffer of an unfinished message and the replies not yet written; 0 once closed.</summary>
    internal long HeldBytes => State == TcpConnectionState.Closed ? 0 : Interlocked.Read(ref _unfinished) + PendingSendBytes;

    /// <summary>The receive loop holds <paramref name="bytes"/> of buffer for a message not yet complete (0: none).</summary>
    internal void HoldUnfinished(int bytes)
    {
        // Called before every read: nothing to count without a budget, or when nothing changed.
        ServerBufferBudget? budget = Buffers;
        if (budget is null || (bytes == 0 && Interlocked.Read(ref _unfinished) == 0)) return;
        if (_lifetime.IsFinished) bytes = 0;
        long before = Interlocked.Exchange(ref _unfinished, bytes);
        // Only the receive loop calls this, holding no lock: it may wait for a trim of the server's buffers.
        budget.Change(bytes - before, mayWait: true);
    }

    internal TcpMessage NewReceived(ArraySegment<byte> payload)
    {
        AddReceivedMessage();
        _server?.AddReceivedMessage();
        return new TcpMessage(payload.ToBytes(), Encoding, this, MessageDirection.Received) { Framing = Framer.LastCutBy, LineEnding = Framer.LastLineEnding };
    }

    internal void OnReceived(int bytes)
    {
        Touch();
        AddReceivedBytes(bytes);
        _server?.AddReceivedBytes(bytes);
    }

    /// <summary>The receive loop ended, by the end of the stream (null) or by <paramref name="failure"/>; <paramref name="report"/> is told the error first.</summary>
    internal void ReceiveEnded(Exception? failure, CancellationToken stopping, Action<NetException?> report) => _end.ReceiveEnded(failure, stopping, report);

    // ---- Framing (FramingTurns) ----

    /// <inheritdoc cref="FramingTurns.Switch"/>
    public void SwitchFraming(MessageFraming framing, bool nextMessageOnly = false) => Turns.Switch(framing, nextMessageOnly);

    /// <summary>The framing what is sent is wrapped in now (it can lag <see cref="Framing"/> while a reply is made).</summary>
    internal MessageFraming SendFraming => Turns.SendFraming;

    /// <summary>
    /// A switch (or STARTTLS) applies exactly from the next byte: the connection is read on its own, or its
    /// server cuts each message only after the one before was handled. A server that frames ahead (no
    /// handler, or parallel handlers without -FrameInTurn) may have cut the next messages already.
    /// </summary>
    public bool SwitchIsExact => !_lifetime.ReadByServer || FramesInTurn;

    /// <summary>Set by a server before it starts the connection: its next message is cut only once the last was handled (see <see cref="FramingTurns"/>).</summary>
    internal bool FramesInTurn
    {
        get => Turns.InTurn;
        set => Turns.InTurn = value;
    }

    /// <summary>Set once the connection ended because what it received broke the framing where only its reader could tell.</summary>
    public bool FramingFailed => _end.FramingFailed;

    /// <inheritdoc cref="ConnectionEnd.FailFraming"/>
    public NetException FailFraming(FramingException error) => _end.FailFraming(error);

    /// <summary>
    /// The consumer of a server's connection is done with a message (or with the connection's opening):
    /// its replies, if any, are queued. From the moment a message is delivered, its consumer holds a
    /// lease on the connection, and while any lease is out a requested close waits (the replies get out),
    /// the connection is not idle, a framing switch applies to sending only once the replies being made
    /// are queued, and a connection that frames in turn cuts no further message. A server whose consumer
    /// does not return leases (<see cref="ConnectionOptions.ConsumerReturnsLeases"/> unset) returns each as
    /// the message is taken.
    /// </summary>
    public void ReturnLease() => _end.ReturnLease();

    /// <summary>A message (or the opening) goes to the consumer, which holds a lease until <see cref="ReturnLease"/>.</summary>
    internal void LeaseOut()
    {
        lock (_lifetime.Gate) _lifetime.Lend();
    }

    // ---- TLS (TlsUpgrade) ----

    /// <summary>Completes once no upgrade to TLS is asked for or under way: the receive loop waits on it before each read.</summary>
    internal Task ReadGate => Upgrade.ReadGate;

    /// <inheritdoc cref="TlsUpgrade.StartAsServer"/>
    public void StartTls(TlsServerOptions options) => Upgrade.StartAsServer(options);

    /// <summary>The client's side of STARTTLS, once the server has said go: shakes hands, checking the name connected to.</summary>
    /// <exception cref="NetException">Tls when the handshake fails (the connection is then closed).</exception>
    /// <exception cref="InvalidOperationException">The connection speaks TLS already, or an upgrade is under way.</exception>
    public Task StartTlsAsync(TlsClientOptions options, CancellationToken cancellationToken)
    {
        if (options is null) throw new ArgumentNullException(nameof(options));
        string host = options.ServerName ?? ConnectedHost ?? (RemoteEndPoint is IPEndPoint remote ? remote.Address.ToString() : "localhost");
        return Upgrade.StartAsClientAsync(options, host, () => Reader.HasUnread, cancellationToken);
    }

    /// <summary>Under the lock: reads and writes go through <paramref name="secured"/> from now on.</summary>
    internal void UseTransport(TlsTransport secured)
    {
        _transport = secured;
        Sender.UseStream(secured.Stream);
    }

    /// <summary>A handshake of an upgrade failed: the connection ends, and its end reports why.</summary>
    internal NetException FailTls(TlsException failure) => _end.FailTls(failure);

    // ---- Ending (ConnectionLifetime decides, ConnectionEnd carries out) ----

    /// <summary>Sends what is queued (and the replies its consumer is still making, see <see cref="ReturnLease"/>), then closes gracefully.</summary>
    public void Close() => _end.Carry(ConnectionLifetime.Request.Close);

    /// <summary>Closes gracefully, but at once after <paramref name="grace"/> if the peer does not take what is queued.</summary>
    public void Close(TimeSpan grace) => _end.Close(grace);

    /// <summary>
    /// Closes gracefully, but at once if the peer takes nothing of what is queued for <paramref name="stallLimit"/>:
    /// a peer that has finished sending and never reads cannot hold the connection and its replies forever.
    /// </summary>
    public void CloseWhenSent(TimeSpan stallLimit) => _end.CloseWhenSent(stallLimit);

    /// <summary>
    /// Half-close: after what is queued, tells the peer that this side has finished sending (TCP FIN).
    /// Reading goes on until the peer closes its side too.
    /// </summary>
    public void CloseSend() => _end.Carry(ConnectionLifetime.Request.CloseSend);

    /// <summary>Closes at once, dropping queued sends.</summary>
    public void Abort() => _end.Carry(ConnectionLifetime.Request.Abort);

    public void Dispose() => Close();

    /// <summary>Why this side ended the connection, or the failure that ended it, for whoever reports its end.</summary>
    internal NetException? EndedWith => _end.EndedWith;

    /// <summary>Nothing moved for <paramref name="idle"/>: closes gracefully, and its end reports IdleTimeout.</summary>
    internal void EndIdle(TimeSpan idle) => _end.EndIdle(idle);

    /// <summary>The server holds more than its buffer budget and this connection holds the most: it ends at once, and its end reports why.</summary>
    internal void EndOverBudget(ServerBufferBudget budget) => _end.EndOverBudget(budget);

    /// <summary>The peer took nothing of its replies for the stall limit while reading waited on them.</summary>
    internal void EndStalled() => _end.EndStalled(SendStallLimit);

    private long _lastActivity = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>When a byte last moved either way (a Stopwatch timestamp).</summary>
    internal long LastActivity => Volatile.Read(ref _lastActivity);

    private void Touch() => Volatile.Write(ref _lastActivity, System.Diagnostics.Stopwatch.GetTimestamp());

    /// <summary>A message of it is queued, being handled, or being answered: not idle, however long that takes.</summary>
    internal bool Working
    {
        get
        {
            lock (_lifetime.Gate) return _lifetime.IsLent || Sender.Busy || _untaken.Used > 0 || Upgrade.Pending;
        }
    }

    public override string ToString() => $"#{Id} {LocalEndPoint} <-> {RemoteEndPoint}";
}
