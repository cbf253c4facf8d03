using System;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tls;
using NetCmdlets.Core.Transport;

namespace NetCmdlets.Core.Tcp;

/// <summary>
/// STARTTLS on one connection: a connection that began in clear text lays TLS over its stream (SMTP, IMAP,
/// XMPP, LDAP). From the request on, the receive loop reads nothing in clear (<see cref="ReadGate"/>); what
/// was queued to send goes first (the "220 Ready to start TLS"); then the handshake runs on the socket,
/// and the connection swaps its transport for the secured one.
/// </summary>
/// <remarks>Its state changes under the connection's lock (<see cref="ConnectionLifetime.Gate"/>).</remarks>
internal sealed class TlsUpgrade
{
    private readonly TcpConnection _connection;
    private readonly ConnectionLifetime _lifetime;
    private TaskCompletionSource<bool>? _readGate;
    private TlsServerOptions? _pendingServerTls;

    public TlsUpgrade(TcpConnection connection, ConnectionLifetime lifetime)
    {
        _connection = connection;
        _lifetime = lifetime;
    }

    /// <summary>Completes once no upgrade is asked for or under way: the receive loop waits on it before each read.</summary>
    public Task ReadGate => Volatile.Read(ref _readGate)?.Task ?? Task.CompletedTask;

    /// <summary>An upgrade is asked for or under way. Read under the lock.</summary>
    public bool Pending => _readGate is not null;

    /// <summary>The server's side, from a handler: starts once the handler's reply (the go-ahead) is sent.</summary>
    /// <exception cref="InvalidOperationException">The connection speaks TLS already, or an upgrade is under way.</exception>
    public void StartAsServer(TlsServerOptions options)
    {
        if (options is null) throw new ArgumentNullException(nameof(options));
        lock (_lifetime.Gate)
        {
            CloseGate();
            // The go-ahead the handler is making must go out in clear first: the upgrade waits for it (TakeDeferred).
            if (_lifetime.IsLent)
            {
                _pendingServerTls = options;
                return;
            }
        }
        // Its failure ends the connection, whose end reports it.
        _ = RunAsync(plain => TlsTransport.AuthenticateAsServerAsync(plain, options, CancellationToken.None))
            .ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
    }

    /// <summary>The client's side, once the server has said go: shakes hands, checking <paramref name="host"/>.</summary>
    /// <param name="unreadInClear">Bytes came after the go-ahead and are not read yet: refused (RFC 3207 section 5).</param>
    public Task StartAsClientAsync(TlsClientOptions options, string host, Func<bool> unreadInClear, CancellationToken cancellationToken)
    {
        if (options is null) throw new ArgumentNullException(nameof(options));
        lock (_lifetime.Gate)
        {
            // What came in clear after the go-ahead and is not read yet could be an attacker's.
            if (unreadInClear())
            {
                _connection.Abort();
                throw new NetException(NetErrorKind.Tls, _connection.PeerName,
                    $"{_connection.RemoteEndPoint} sent more in clear text after its go-ahead for TLS; the connection is closed.",
                    new TlsException(TlsFailure.Failed, "clear text after the go-ahead for TLS"));
            }
            CloseGate();
        }
        return RunAsync(plain => TlsTransport.AuthenticateAsClientAsync(plain, options, host, cancellationToken));
    }

    /// <summary>Under the lock, when the last hold is released: an upgrade asked for meanwhile starts now.</summary>
    public Func<Task>? TakeDeferred()
    {
        TlsServerOptions? options = _pendingServerTls;
        if (options is null) return null;
        _pendingServerTls = null;
        return () => RunAsync(plain => TlsTransport.AuthenticateAsServerAsync(plain, options, CancellationToken.None));
    }

    /// <summary>On close: an upgrade asked for will not come, and a loop waiting for it goes on, to find the connection closed.</summary>
    public void End()
    {
        TaskCompletionSource<bool>? gate;
        lock (_lifetime.Gate)
        {
            _pendingServerTls = null;
            gate = _readGate;
        }
        gate?.TrySetResult(true);
    }

    /// <summary>Under the lock: the receive loop stops reading in clear from here on.</summary>
    private void CloseGate()
    {
        if (_connection.Transport is TlsTransport) throw new InvalidOperationException($"Connection {_connection} speaks TLS already.");
        if (_readGate is not null) throw new InvalidOperationException($"Connection {_connection} is already being upgraded to TLS.");
        _readGate = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private async Task RunAsync(Func<ConnectionTransport, Task<TlsTransport>> handshake)
    {
        TaskCompletionSource<bool> gate = _readGate!;
        try
        {
            // Everything queued in clear (the go-ahead) is written before the first byte of the handshake.
            await _connection.FlushAsync().ConfigureAwait(false);
            ConnectionTransport plain = _connection.Transport;
            (plain as SocketTransport)?.StopInlineCompletions();
            TlsTransport secured = await handshake(plain).ConfigureAwait(false);
            lock (_lifetime.Gate)
            {
                if (_lifetime.IsFinished)
                {
                    secured.Abort();
                    return;
                }
                _connection.UseTransport(secured);
                _readGate = null;
            }
        }
        catch (TlsException e)
        {
            throw _connection.FailTls(e);
        }
        catch (Exception)
        {
            _connection.Abort();
            throw;
        }
        finally
        {
            gate.TrySetResult(true);
        }
    }
}
