using System;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using System.IO;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Outbound;
using NetCmdlets.Core.Tls;
using NetCmdlets.Core.Transport;

namespace NetCmdlets.Core.Tcp;

/// <summary>Opens connections: as a client (resolves the name, then tries each address until one answers), or by waiting for one client.</summary>
public static class TcpConnector
{
    /// <param name="timeout">For the whole attempt, resolution included (and a proxy's handshake); <see cref="Timeout.InfiniteTimeSpan"/> waits for the system's own limit.</param>
    /// <exception cref="NetException">NameNotResolved, ConnectionRefused, ConnectTimeout or another socket error, for the last address tried;
    /// Proxy, with the reason in a <see cref="ProxyException"/>, when <see cref="ConnectionOptions.Proxy"/> did not make the connection.</exception>
    public static async Task<TcpConnection> ConnectAsync(string host, int port, ConnectionOptions? options, TimeSpan timeout, CancellationToken cancellationToken)
    {
        options ??= new ConnectionOptions();
        string target = EndPoints.Format(host, port);
        var clock = Stopwatch.StartNew();
        Socket socket = options.Proxy is { } proxy
            ? await ConnectThroughAsync(proxy, host, port, target, timeout, clock, cancellationToken).ConfigureAwait(false)
            : await ConnectToHostAsync(host, port, target, timeout, clock, cancellationToken).ConfigureAwait(false);
        SocketTransport transport;
        try
        {
            transport = new SocketTransport(socket, inlineCompletions: options.Tls is null);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        if (options.Tls is null) return new TcpConnection(transport, TcpConnectionRole.Client, options.Framing, options.Encoding) { ConnectedHost = host };
        return new TcpConnection(await SecureAsync(transport, options.Tls, host, target, cancellationToken).ConfigureAwait(false),
            TcpConnectionRole.Client, options.Framing, options.Encoding) { ConnectedHost = host };
    }

    /// <summary>Resolves <paramref name="host"/> and tries each address until one answers, within what is left of <paramref name="timeout"/>.</summary>
    private static async Task<Socket> ConnectToHostAsync(string host, int port, string target, TimeSpan timeout, Stopwatch clock, CancellationToken cancellationToken)
    {
        IPAddress[] addresses = await EndPoints.ResolveAsync(host, cancellationToken).ConfigureAwait(false);
        NetException? failure = null;
        foreach (IPAddress address in addresses)
        {
            TimeSpan remaining = Remaining(timeout, clock);
            if (remaining != Timeout.InfiniteTimeSpan && remaining <= TimeSpan.Zero) break;
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                SocketError? connected = await ConnectSocketAsync(socket, new IPEndPoint(address, port), remaining, cancellationToken).ConfigureAwait(false);
                if (connected is { } error && error != SocketError.Success) throw new SocketException((int)error);
                if (connected == SocketError.Success) return socket;
                failure = new NetException(NetErrorKind.ConnectTimeout, target,
                    $"Connecting to {target} ({address}) timed out after {timeout.TotalSeconds:0.###} s.");
            }
            catch (SocketException e)
            {
                failure = NetException.FromSocket(e, target, "Connecting to");
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            socket.Dispose();
        }
        throw failure ?? new NetException(NetErrorKind.ConnectTimeout, target, $"Connecting to {target} timed out after {timeout.TotalSeconds:0.###} s.");
    }

    private static TimeSpan Remaining(TimeSpan timeout, Stopwatch clock) =>
        timeout == Timeout.InfiniteTimeSpan ? Timeout.InfiniteTimeSpan : timeout - clock.Elapsed;

    /// <summary>
    /// Connects to the proxy, then asks it for <paramref name="host"/>: what is returned is a socket on which
    /// the host's bytes come next. Reaching the proxy and its handshake share the one time limit.
    /// </summary>
    private static async Task<Socket> ConnectThroughAsync(OutboundProxy proxy, string host, int port, string target, TimeSpan timeout, Stopwatch clock, CancellationToken cancellationToken)
    {
        Socket socket;
        try
        {
            socket = await ConnectToHostAsync(proxy.Host, proxy.Port, EndPoints.Format(proxy.Host, proxy.Port), timeout, clock, cancellationToken).ConfigureAwait(false);
        }
        catch (NetException e)
        {
            throw new NetException(NetErrorKind.Proxy, proxy.ToString(), $"Could not reach the proxy {proxy} for {target}: {e.Message}",
                new ProxyException(ProxyFailure.Unreachable, e.Message, e));
        }
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            IPAddress? address = IPAddress.TryParse(host.Trim('[', ']'), out IPAddress? literal) ? literal : null;
            // socks5:// resolves here (an IPv4 address first: most proxies reach out over IPv4); socks5h:// and HTTP pass the name on.
            if (address is null && proxy.Kind == OutboundProxyKind.Socks5)
            {
                IPAddress[] resolved = await EndPoints.ResolveAsync(host, cancellationToken).ConfigureAwait(false);
                address = Array.Find(resolved, a => a.AddressFamily == AddressFamily.InterNetwork) ?? resolved[0];
            }
            TimeSpan remaining = Remaining(timeout, clock);
            if (remaining != Timeout.InfiniteTimeSpan) limit.CancelAfter(remaining > TimeSpan.Zero ? remaining : TimeSpan.FromMilliseconds(1));
            // A stream that cannot be cancelled mid-read is ended by closing the socket.
            using CancellationTokenRegistration closing = limit.Token.Register(() => socket.Dispose());
            using var stream = new NetworkStream(socket, ownsSocket: false);
            if (proxy.Kind == OutboundProxyKind.Http) await HttpConnectHandshake.ConnectAsync(stream, proxy, host, port, limit.Token).ConfigureAwait(false);
            else await Socks5Handshake.ConnectAsync(stream, proxy, host, address, port, limit.Token).ConfigureAwait(false);
            limit.Token.ThrowIfCancellationRequested();
            return socket;
        }
        catch (ProxyException e)
        {
            socket.Dispose();
            NetErrorKind kind = e.Failure == ProxyFailure.ConnectionRefused ? NetErrorKind.ConnectionRefused : NetErrorKind.Proxy;
            throw new NetException(kind, target, e.Message, e);
        }
        catch (Exception e) when (limit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new NetException(NetErrorKind.ConnectTimeout, target,
                $"Connecting to {target} through the proxy {proxy} timed out after {timeout.TotalSeconds:0.###} s (the proxy did not finish its handshake).", e);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException && !cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new NetException(NetErrorKind.Proxy, target, $"The proxy {proxy} ended the connection during its handshake for {target}: {e.Message}",
                new ProxyException(ProxyFailure.Failed, e.Message, e));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static TcpConnection Connect(string host, int port, ConnectionOptions? options, TimeSpan timeout, CancellationToken cancellationToken) =>
        Sync.Run(ConnectAsync(host, port, options, timeout, cancellationToken));

    /// <summary>
    /// Connects to a UNIX domain socket: a path, or a Linux abstract name written with a leading @. The same
    /// connection as over TCP follows (framing, TLS when asked for, checked against
    /// <see cref="Tls.TlsClientOptions.ServerName"/> or localhost).
    /// </summary>
    /// <exception cref="NetException">ConnectionRefused (a socket file nobody listens on), AddressNotAvailable
    /// (no such file), ConnectTimeout, or another socket error; Tls.</exception>
    public static async Task<TcpConnection> ConnectUnixAsync(string path, ConnectionOptions? options, TimeSpan timeout, CancellationToken cancellationToken)
    {
        options ??= new ConnectionOptions();
        var target = new UnixEndPoint(path);
        string shown = target.ToString();
        EndPoint connectTo = target.ToSocketEndPoint();
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        SocketTransport transport;
        try
        {
            SocketError? connected = await ConnectSocketAsync(socket, connectTo, timeout, cancellationToken).ConfigureAwait(false);
            if (connected is null) throw new NetException(NetErrorKind.ConnectTimeout, shown, $"Connecting to {shown} timed out after {timeout.TotalSeconds:0.###} s.");
            if (connected == SocketError.AddressNotAvailable)
                throw new NetException(NetErrorKind.AddressNotAvailable, shown, $"Connecting to {shown} failed: there is no such socket file (is the server running?).");
            if (connected == SocketError.ConnectionRefused)
                throw new NetException(NetErrorKind.ConnectionRefused, shown, $"Connecting to {shown} failed: nothing listens on it (the socket file is there, its server is not).");
            if (connected != SocketError.Success) throw NetException.FromSocket(new SocketException((int)connected), shown, "Connecting to");
            transport = new SocketTransport(socket, inlineCompletions: options.Tls is null);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        if (options.Tls is null) return new TcpConnection(transport, TcpConnectionRole.Client, options.Framing, options.Encoding);
        return new TcpConnection(await SecureAsync(transport, options.Tls, options.Tls.ServerName ?? "localhost", shown, cancellationToken).ConfigureAwait(false),
            TcpConnectionRole.Client, options.Framing, options.Encoding);
    }

    public static TcpConnection ConnectUnix(string path, ConnectionOptions? options, TimeSpan timeout, CancellationToken cancellationToken) =>
        Sync.Run(ConnectUnixAsync(path, options, timeout, cancellationToken));

    /// <summary>
    /// Listens on <paramref name="localEndPoint"/> until one client connects, then stops listening and
    /// returns that connection (as nc -l does).
    /// </summary>
    /// <param name="listening">Called with the bound endpoint (the port picked for port 0) before the wait.</param>
    /// <exception cref="NetException">AddressInUse and other bind errors; ConnectTimeout when nobody connects in time.</exception>
    public static async Task<TcpConnection> AcceptOneAsync(IPEndPoint localEndPoint, ConnectionOptions? options, TimeSpan timeout, Action<IPEndPoint>? listening, CancellationToken cancellationToken)
    {
        options ??= new ConnectionOptions();
        var listener = new Socket(localEndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (localEndPoint.Address.Equals(IPAddress.IPv6Any)) listener.DualMode = true;
            listener.Bind(localEndPoint);
            listener.Listen(1);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw NetException.FromSocket(e, localEndPoint.ToString(), "Binding TCP");
        }
        using (listener)
        {
            IPEndPoint bound = EndPoints.Normalize(listener.LocalEndPoint);
            listening?.Invoke(bound);
            Task<Socket> accept = listener.AcceptAsync();
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (timeout != Timeout.InfiniteTimeSpan) timer.CancelAfter(timeout);
            Task finished = await Task.WhenAny(accept, Task.Delay(Timeout.Infinite, timer.Token)).ConfigureAwait(false);
            if (finished != accept)
            {
                // Disposing the listener ends the accept; its failure is expected, and a client that came
                // at the last moment is let go.
                _ = accept.ContinueWith(t =>
                {
                    if (t.Status == TaskStatus.RanToCompletion) t.Result.Dispose();
                    return t.Exception;
                }, TaskContinuationOptions.ExecuteSynchronously);
                cancellationToken.ThrowIfCancellationRequested();
                throw new NetException(NetErrorKind.ConnectTimeout, bound.ToString(),
                    $"No client connected to {bound} within {timeout.TotalSeconds:0.###} s.");
            }
            Socket client = await accept.ConfigureAwait(false);
            try
            {
                return new TcpConnection(new SocketTransport(client), TcpConnectionRole.Server, options.Framing, options.Encoding);
            }
            catch
            {
                client.Dispose();
                throw;
            }
        }
    }

    /// <summary>The client's TLS handshake over a connected socket; a failure closes the socket.</summary>
    /// <exception cref="NetException">Tls, with the reason in a <see cref="TlsException"/>.</exception>
    private static async Task<ConnectionTransport> SecureAsync(SocketTransport transport, TlsClientOptions tls, string host, string target, CancellationToken cancellationToken)
    {
        try
        {
            return await TlsTransport.AuthenticateAsClientAsync(transport, tls, host, cancellationToken).ConfigureAwait(false);
        }
        catch (TlsException e)
        {
            transport.Abort();
            throw new NetException(NetErrorKind.Tls, target, e.Message, e);
        }
        catch
        {
            transport.Abort();
            throw;
        }
    }

    /// <summary>
    /// Connects <paramref name="socket"/> within <paramref name="timeout"/> and says how it went: Success,
    /// the system's error (its own TimedOut included), or null when this time limit ran out first (the
    /// socket is then disposed, which ends the attempt). A failure is a value, not an exception: a port scan meets thousands of refusals, and a thrown
    /// and rethrown exception costs more than the connect itself. On loopback most connects finish at once,
    /// without a timer.
    /// </summary>
    /// <param name="deadlines">The clock of many connects with the same <paramref name="timeout"/> and token (a port scan); null for a timer of its own.</param>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (the socket is disposed).</exception>
    internal static async Task<SocketError?> ConnectSocketAsync(Socket socket, EndPoint endPoint, TimeSpan timeout, CancellationToken cancellationToken, ConnectDeadlines? deadlines = null)
    {
        using var connect = new ConnectOperation(endPoint);
        if (!socket.ConnectAsync(connect)) return MetItself(socket, connect.SocketError);
        Task<SocketError> done = connect.Completion;
        if (deadlines is not null)
        {
            ConnectDeadlines.Attempt attempt = deadlines.Start(socket);
            SocketError result = await done.ConfigureAwait(false);
            if (attempt.Finish()) return MetItself(socket, result);
            cancellationToken.ThrowIfCancellationRequested();
            return null;
        }
#if NET8_0_OR_GREATER
        // Its timer goes as soon as the connect ends: thousands of probes in flight do not leave thousands behind.
        try
        {
            return MetItself(socket, await done.WaitAsync(timeout, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
        }
#else
        using (var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            if (timeout != Timeout.InfiniteTimeSpan) timer.CancelAfter(timeout);
            Task finished = await Task.WhenAny(done, Task.Delay(Timeout.Infinite, timer.Token)).ConfigureAwait(false);
            if (finished == done) return MetItself(socket, await done.ConfigureAwait(false));
        }
#endif
        // Closing the socket aborts the connect; wait for that, so the operation is not disposed while in use.
        socket.Dispose();
        await done.ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return null;
    }

    /// <summary>
    /// A connect to a port of this host's ephemeral range where nothing listens can be given that very port
    /// as its own and meet itself (a TCP simultaneous open): connected, to no one. That is a refusal.
    /// </summary>
    private static SocketError MetItself(Socket socket, SocketError result)
    {
        if (result != SocketError.Success) return result;
        try
        {
            if (socket.LocalEndPoint is IPEndPoint local && socket.RemoteEndPoint is IPEndPoint remote && local.Equals(remote))
            {
                socket.Dispose();
                return SocketError.ConnectionRefused;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        return result;
    }

    /// <summary>One connect whose result is a <see cref="SocketError"/>; see <see cref="ConnectSocketAsync"/>.</summary>
    private sealed class ConnectOperation : SocketAsyncEventArgs
    {
        // The awaiting code goes on on the thread pool thread that completes the connect: a port scan's
        // worker then starts its next connect without another hand-over (measured: 10,000 refused ports
        // in about half the time with 500 workers).
        private readonly TaskCompletionSource<SocketError> _completion = new();

        public ConnectOperation(EndPoint endPoint) => RemoteEndPoint = endPoint;

        public Task<SocketError> Completion => _completion.Task;

        protected override void OnCompleted(SocketAsyncEventArgs e) => _completion.TrySetResult(e.SocketError);
    }
}
