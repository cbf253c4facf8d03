using System;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tls;
using NetCmdlets.Core.Transport;

namespace NetCmdlets.Core.Tcp;

/// <summary>Opens connections: as a client (resolves the name, then tries each address until one answers), or by waiting for one client.</summary>
public static class TcpConnector
{
    /// <param name="timeout">For the whole attempt, resolution included; <see cref="Timeout.InfiniteTimeSpan"/> waits for the system's own limit.</param>
    /// <exception cref="NetException">NameNotResolved, ConnectionRefused, ConnectTimeout or another socket error, for the last address tried.</exception>
    public static async Task<TcpConnection> ConnectAsync(string host, int port, ConnectionOptions? options, TimeSpan timeout, CancellationToken cancellationToken)
    {
        options ??= new ConnectionOptions();
        string target = EndPoints.Format(host, port);
        var clock = Stopwatch.StartNew();
        IPAddress[] addresses = await EndPoints.ResolveAsync(host, cancellationToken).ConfigureAwait(false);
        NetException? failure = null;
        foreach (IPAddress address in addresses)
        {
            TimeSpan remaining = timeout == Timeout.InfiniteTimeSpan ? Timeout.InfiniteTimeSpan : timeout - clock.Elapsed;
            if (remaining != Timeout.InfiniteTimeSpan && remaining <= TimeSpan.Zero) break;
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                if (await ConnectSocketAsync(socket, new IPEndPoint(address, port), remaining, cancellationToken).ConfigureAwait(false))
                {
                    var transport = new SocketTransport(socket, inlineCompletions: options.Tls is null);
                    if (options.Tls is null) return new TcpConnection(transport, TcpConnectionRole.Client, options.Framing, options.Encoding) { ConnectedHost = host };
                    return new TcpConnection(await SecureAsync(transport, options.Tls, host, target, cancellationToken).ConfigureAwait(false),
                        TcpConnectionRole.Client, options.Framing, options.Encoding) { ConnectedHost = host };
                }
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

    public static TcpConnection Connect(string host, int port, ConnectionOptions? options, TimeSpan timeout, CancellationToken cancellationToken) =>
        Sync.Run(ConnectAsync(host, port, options, timeout, cancellationToken));

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

    /// <returns>False when the time ran out.</returns>
    internal static async Task<bool> ConnectSocketAsync(Socket socket, IPEndPoint endPoint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task connect = socket.ConnectAsync(endPoint);
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout != Timeout.InfiniteTimeSpan) timer.CancelAfter(timeout);
        Task finished = await Task.WhenAny(connect, Task.Delay(Timeout.Infinite, timer.Token)).ConfigureAwait(false);
        if (finished == connect)
        {
            await connect.ConfigureAwait(false);
            return true;
        }
        // The caller disposes the socket, which ends the attempt; its failure is expected.
        _ = connect.ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
        cancellationToken.ThrowIfCancellationRequested();
        return false;
    }
}
