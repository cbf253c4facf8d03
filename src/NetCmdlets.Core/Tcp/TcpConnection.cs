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
using NetCmdlets.Core.Transport;

namespace NetCmdlets.Core.Tcp;

public enum TcpConnectionRole
{
    /// <summary>This side connected.</summary>
    Client,

    /// <summary>This side accepted (a server, or New-TcpConnection -Listen).</summary>
    Server,
}

public enum TcpConnectionState
{
    Open,

    /// <summary>This side has finished sending (a half-close); the peer may still send.</summary>
    SendClosed,

    /// <summary>The peer has finished sending; what it sent can still be read, and this side may still send.</summary>
    PeerClosed,

    Closed,
}

/// <summary>
/// One TCP connection over a <see cref="ConnectionTransport"/>: a receive loop (<see cref="ReceiveLoop"/>)
/// that frames what arrives, an ordered send queue (<see cref="SendQueue"/>), and the rules for closing
/// (TcpConnection.Closing.cs): a graceful close sends what is queued first, and waits for replies still being made (<see cref="Hold"/>).
/// </summary>
public sealed partial class TcpConnection : TrafficCounters, IDisposable
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
    private readonly object _gate;
    private readonly ByteBudget _untaken;
    // Made on the first send: an idle connection that never sends holds no send queue.
    private SendQueue? _sends;
    private ClientInbox? _inbox;
    private NetException? _failure;

    public TcpConnection(ConnectionTransport transport, TcpConnectionRole role, MessageFraming framing, Encoding encoding, ServerStatistics? server = null)
    {
        _transport = transport ?? throw new ArgumentNullException(nameof(transport));
        _gate = _lifetime.Gate;
        _server = server;
        Id = Interlocked.Increment(ref s_lastId);
        Role = role;
        _turns = new FramingTurns(framing, _lifetime);
        _upgrade = new TlsUpgrade(this, _lifetime);
        Encoding = encoding ?? throw new ArgumentNullException(nameof(encoding));
        RemoteEndPoint = transport.RemoteEndPoint;
        LocalEndPoint = transport.LocalEndPoint;
        ConnectedAt = DateTime.Now;
        _untaken = new ByteBudget(DefaultReceiveBudget);
    }

    /// <summary>Unique in this process, in order of creation.</summary>
    public int Id { get; }

    public TcpConnectionRole Role { get; }

    public IPEndPoint RemoteEndPoint { get; }

    public IPEndPoint LocalEndPoint { get; }

    public DateTime ConnectedAt { get; }

    public TcpConnectionState State =>
        _lifetime.IsFinished ? TcpConnectionState.Closed
        : _lifetime.Current == ConnectionLifetime.Phase.SendClosed ? TcpConnectionState.SendClosed
        : _lifetime.PeerEnded ? TcpConnectionState.PeerClosed
        : TcpConnectionState.Open;

    /// <summary>How messages are cut and wrapped on this connection (see <see cref="SwitchFraming"/>).</summary>
    public MessageFraming Framing => _turns.Framing;

    public Encoding Encoding { get; }

    /// <summary>This connection's own framer (framers keep per-connection state), which a switch of framing replaces.</summary>
    internal SwitchableFramer Framer => _turns.Framer;

    private readonly FramingTurns _turns;
    private readonly TlsUpgrade _upgrade;

    /// <summary>The name this side connected to, for checking a certificate on a later upgrade to TLS; null for accepted connections.</summary>
    internal string? ConnectedHost { get; set; }

    /// <summary>The TLS version agreed on; null for plain TCP.</summary>
    public System.Security.Authentication.SslProtocols? TlsProtocol => (_transport as TlsTransport)?.Protocol;

    /// <summary>The TLS cipher suite agreed on; null for plain TCP.</summary>
    public string? CipherSuite => (_transport as TlsTransport)?.CipherSuite;

    /// <summary>The peer's TLS certificate: the server's, or a client's that sent one; null otherwise.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? RemoteCertificate => (_transport as TlsTransport)?.RemoteCertificate;

    /// <summary>Bytes queued for sending that the network has not taken yet.</summary>
    public long PendingSendBytes => _sends?.Budget.Used ?? 0;

    internal ConnectionTransport Transport => _transport;

    private NetEndPoint? _remoteNetEndPoint;
    private NetEndPoint? _localNetEndPoint;

    /// <summary>The endpoints as every message of this connection carries them: made once, when the first message comes.</summary>
    internal NetEndPoint RemoteNetEndPoint => _remoteNetEndPoint ??= new NetEndPoint(RemoteEndPoint);

    internal NetEndPoint LocalNetEndPoint => _localNetEndPoint ??= new NetEndPoint(LocalEndPoint);

    /// <summary>Sends are queued or being written. Read under the lock.</summary>
    private bool SendsBusy => _sends?.Busy == true;

    private System.Collections.Hashtable? _items;

    /// <summary>
    /// State that lives as long as the connection, for whoever serves it (a handler keeping where an SMTP
    /// conversation or an HTTP request is); case-insensitive keys, made on first use, safe to write from
    /// the threads of parallel handlers.
    /// </summary>
    public System.Collections.Hashtable Items =>
        _items ?? Interlocked.CompareExchange(ref _items, System.Collections.Hashtable.Synchronized(new System.Collections.Hashtable(StringComparer.OrdinalIgnoreCase)), null) ?? _items!;

    public override string ToString() => $"#{Id} {LocalEndPoint} <-> {RemoteEndPoint}";
}
