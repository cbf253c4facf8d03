using System;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tls;
using NetCmdlets.Core.Transport;

namespace NetCmdlets.Core.Tcp;

/// <summary>STARTTLS from the outside; the upgrade itself is <see cref="TlsUpgrade"/>.</summary>
public sealed partial class TcpConnection
{
    /// <summary>Completes once no upgrade to TLS is asked for or under way: the receive loop waits on it before each read.</summary>
    internal Task ReadGate => _upgrade.ReadGate;

    /// <summary>
    /// The server's side of STARTTLS: TLS from the next byte on. From a handler, it starts once the
    /// handler's reply (the go-ahead) is sent; a failed handshake ends the connection with a TLS error.
    /// </summary>
    /// <exception cref="InvalidOperationException">The connection speaks TLS already, or an upgrade is under way.</exception>
    public void StartTls(TlsServerOptions options) => _upgrade.StartAsServer(options);

    /// <summary>The client's side of STARTTLS, once the server has said go: shakes hands, checking the name connected to.</summary>
    /// <exception cref="NetException">Tls when the handshake fails (the connection is then closed).</exception>
    /// <exception cref="InvalidOperationException">The connection speaks TLS already, or an upgrade is under way.</exception>
    public Task StartTlsAsync(TlsClientOptions options, CancellationToken cancellationToken)
    {
        if (options is null) throw new ArgumentNullException(nameof(options));
        string host = options.ServerName ?? ConnectedHost ?? RemoteEndPoint.Address.ToString();
        return _upgrade.StartAsClientAsync(options, host, () => _inbox?.HasUnread == true, cancellationToken);
    }

    /// <summary>Completes once everything queued so far is written.</summary>
    internal Task FlushAsync() => SendAsync(new[] { Outgoing.Raw(Array.Empty<byte>()) }, CancellationToken.None);

    /// <summary>Under the lock: reads and writes go through <paramref name="secured"/> from now on.</summary>
    internal void UseTransport(TlsTransport secured)
    {
        _transport = secured;
        _sends?.UseStream(secured.Stream);
    }

    /// <summary>A handshake of an upgrade failed: the connection ends, and its end reports why.</summary>
    internal NetException FailTls(TlsException failure)
    {
        var error = new NetException(NetErrorKind.Tls, RemoteEndPoint.ToString(), failure.Message, failure);
        bool first;
        lock (_gate)
        {
            // Closed meanwhile (the idle limit, a stop): that is why it failed, and it was counted then.
            first = _endedWith is null && !_lifetime.IsFinished;
            _endedWith ??= error;
        }
        if (first) _server?.AddTlsFailure();
        Abort();
        return error;
    }
}
