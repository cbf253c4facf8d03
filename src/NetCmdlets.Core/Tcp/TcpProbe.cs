using System;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace NetCmdlets.Core.Tcp;

/// <summary>What a port test found.</summary>
public enum TcpPortStatus
{
    Open,

    /// <summary>The host answered with a reset: nothing listens there.</summary>
    Refused,

    /// <summary>No answer in time: a firewall dropping packets, a full backlog, or a host that is down.</summary>
    TimedOut,

    /// <summary>The network or host cannot be reached (an ICMP error, no route).</summary>
    Unreachable,

    NameNotResolved,
}

/// <summary>One port test: connect, say what happened and how long it took, optionally read what the service says first.</summary>
public static class TcpProbe
{
    /// <param name="bannerTimeout">When not null, how long to wait for the service's first words once connected.</param>
    public static Task<(TcpPortStatus Status, TimeSpan Latency, string? Banner)> ProbeAsync(
        IPAddress address, int port, TimeSpan timeout, TimeSpan? bannerTimeout, CancellationToken cancellationToken) =>
        ProbeAsync(address, port, timeout, bannerTimeout, null, cancellationToken);

    /// <param name="deadlines">The clock shared by the probes of one scan, made with the same timeout and token.</param>
    internal static async Task<(TcpPortStatus Status, TimeSpan Latency, string? Banner)> ProbeAsync(
        IPAddress address, int port, TimeSpan timeout, TimeSpan? bannerTimeout, ConnectDeadlines? deadlines, CancellationToken cancellationToken)
    {
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        var clock = Stopwatch.StartNew();
        // The same connect as every client connection's, with its time limit.
        SocketError? connected = await TcpConnector.ConnectSocketAsync(socket, new IPEndPoint(address, port), timeout, cancellationToken, deadlines).ConfigureAwait(false);
        if (connected != SocketError.Success)
        {
            TcpPortStatus status = connected switch
            {
                null or SocketError.TimedOut => TcpPortStatus.TimedOut,
                SocketError.ConnectionRefused => TcpPortStatus.Refused,
                _ => TcpPortStatus.Unreachable,
            };
            return (status, clock.Elapsed, null);
        }
        TimeSpan latency = clock.Elapsed;
        string? banner = bannerTimeout is { } wait ? await ReadBannerAsync(socket, wait, cancellationToken).ConfigureAwait(false) : null;
        return (TcpPortStatus.Open, latency, banner);
    }

    /// <summary>As <see cref="ReadBannerAsync(Socket, TimeSpan, CancellationToken)"/>, on a connection's stream (one through a proxy).</summary>
    internal static async Task<string?> ReadBannerAsync(System.IO.Stream stream, TimeSpan wait, CancellationToken cancellationToken)
    {
        var buffer = new byte[1024];
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(wait);
        Task<int> receiving = stream.ReadAsync(buffer, 0, buffer.Length, timer.Token);
        Task done = await Task.WhenAny(receiving, Task.Delay(Timeout.Infinite, timer.Token)).ConfigureAwait(false);
        if (done != receiving)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return null;
        }
        try
        {
            int read = await receiving.ConfigureAwait(false);
            return read == 0 ? null : Encoding.UTF8.GetString(buffer, 0, read).TrimEnd('\r', '\n', '\0');
        }
        catch (Exception e) when (e is OperationCanceledException or System.IO.IOException or SocketException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return null;
        }
    }

    /// <summary>What the service says first (SSH, SMTP, FTP greet), up to 1 KiB; null when it says nothing in time.</summary>
    private static async Task<string?> ReadBannerAsync(Socket socket, TimeSpan wait, CancellationToken cancellationToken)
    {
        var buffer = new byte[1024];
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(wait);
        try
        {
#if NET8_0_OR_GREATER
            int read = await socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None, timer.Token).ConfigureAwait(false);
#else
            Task<int> receiving = socket.ReceiveAsync(new ArraySegment<byte>(buffer), SocketFlags.None);
            Task done = await Task.WhenAny(receiving, Task.Delay(Timeout.Infinite, timer.Token)).ConfigureAwait(false);
            if (done != receiving) return null;
            int read = await receiving.ConfigureAwait(false);
#endif
            return read == 0 ? null : Encoding.UTF8.GetString(buffer, 0, read).TrimEnd('\r', '\n', '\0');
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return null;
        }
    }
}
