using System;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tls;
using NetCmdlets.Core.Transport;

namespace NetCmdlets.Core.Tcp;

/// <summary>
/// STARTTLS: a connection that began in clear text lays TLS over its stream (SMTP, IMAP, XMPP, LDAP).
/// From the request on, the receive loop reads nothing in clear (<see cref="ReadGate"/>); what was queued
/// to send goes first (the "220 Ready to start TLS"); then the handshake runs on the socket, and the
/// connection reads and writes through TLS.
/// </summary>
public sealed partial class TcpConnection
{
    private TaskCompletionSource<bool>? _readGate;
    private TlsServerOptions? _pendingServerTls;

    /// <summary>Completes once no upgrade to TLS is asked for or under way: the receive loop waits on it before each read.</summary>
    internal Task ReadGate => Volatile.Read(ref _readGate)?.Task ?? Task.CompletedTask;

    /// <summary>
    /// The server's side of STARTTLS: TLS from the next byte on. From a handler, it starts once the
    /// handler's reply (the go-ahead) is sent; a failed handshake ends the connection with a TLS error.
    /// </summary>
    /// <exception cref="InvalidOperationException">The connection speaks TLS already, or an upgrade is under way.</exception>
    public void StartTls(TlsServerOptions options)
    {
        if (options is null) throw new ArgumentNullException(nameof(options));
        lock (_gate)
        {
            OpenGate();
            // The go-ahead the handler is making must go out in clear first: the upgrade waits for it (Release).
            if (_lifetime.IsHeld)
            {
                _pendingServerTls = options;
                return;
            }
        }
        // Its failure ends the connection, whose end reports it.
        _ = UpgradeAsync(plain => TlsTransport.AuthenticateAsServerAsync(plain, options, CancellationToken.None))
            .ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
    }

    /// <summary>The client's side of STARTTLS, once the server has said go: shakes hands, checking the name connected to.</summary>
    /// <exception cref="NetException">Tls when the handshake fails (the connection is then closed).</exception>
    /// <exception cref="InvalidOperationException">The connection speaks TLS already, or an upgrade is under way.</exception>
    public Task StartTlsAsync(TlsClientOptions options, CancellationToken cancellationToken)
    {
        if (options is null) throw new ArgumentNullException(nameof(options));
        lock (_gate)
        {
            // What came in clear after the go-ahead and is not read yet could be an attacker's (RFC 3207 section 5).
            if (_inbox?.HasUnread == true)
            {
                Abort();
                throw new NetException(NetErrorKind.Tls, RemoteEndPoint.ToString(),
                    $"{RemoteEndPoint} sent more in clear text after its go-ahead for TLS; the connection is closed.",
                    new TlsException(TlsFailure.Failed, "clear text after the go-ahead for TLS"));
            }
            OpenGate();
        }
        string host = options.ServerName ?? ConnectedHost ?? RemoteEndPoint.Address.ToString();
        return UpgradeAsync(plain => TlsTransport.AuthenticateAsClientAsync(plain, options, host, cancellationToken));
    }

    /// <summary>On close: an upgrade asked for will not come, and a loop waiting for it goes on, to find the connection closed.</summary>
    private void EndUpgrade()
    {
        TaskCompletionSource<bool>? gate;
        lock (_gate)
        {
            _pendingServerTls = null;
            gate = _readGate;
        }
        gate?.TrySetResult(true);
    }

    /// <summary>Under the lock: the receive loop stops reading in clear from here on.</summary>
    private void OpenGate()
    {
        if (_transport is TlsTransport) throw new InvalidOperationException($"Connection {this} speaks TLS already.");
        if (_readGate is not null) throw new InvalidOperationException($"Connection {this} is already being upgraded to TLS.");
        _readGate = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Called under the lock when the last hold is released: an upgrade asked for meanwhile starts now.</summary>
    private Func<Task>? TakeDeferredUpgrade()
    {
        TlsServerOptions? options = _pendingServerTls;
        if (options is null) return null;
        _pendingServerTls = null;
        return () => UpgradeAsync(plain => TlsTransport.AuthenticateAsServerAsync(plain, options, CancellationToken.None));
    }

    private async Task UpgradeAsync(Func<ConnectionTransport, Task<TlsTransport>> handshake)
    {
        TaskCompletionSource<bool> gate = _readGate!;
        try
        {
            // Everything queued in clear (the go-ahead) is written before the first byte of the handshake.
            await SendAsync(new[] { Outgoing.Raw(Array.Empty<byte>()) }, CancellationToken.None).ConfigureAwait(false);
            ConnectionTransport plain = _transport;
            (plain as SocketTransport)?.StopInlineCompletions();
            TlsTransport secured = await handshake(plain).ConfigureAwait(false);
            lock (_gate)
            {
                if (_lifetime.IsFinished)
                {
                    secured.Abort();
                    return;
                }
                _transport = secured;
                _sends?.UseStream(secured.Stream);
                _readGate = null;
            }
        }
        catch (TlsException e)
        {
            var error = new NetException(NetErrorKind.Tls, RemoteEndPoint.ToString(), e.Message, e);
            bool first;
            lock (_gate)
            {
                // Closed meanwhile (the idle limit, a stop): that is why it failed, and it was counted then.
                first = _endedWith is null && !_lifetime.IsFinished;
                _endedWith ??= error;
            }
            if (first) _server?.AddTlsFailure();
            Abort();
            throw error;
        }
        catch (Exception)
        {
            Abort();
            throw;
        }
        finally
        {
            gate.TrySetResult(true);
        }
    }
}
