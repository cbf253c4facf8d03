using System.Net;
using NetCmdlets.Core;
using NetCmdlets.Core.Udp;
using NetCmdlets.Core.Messages;
using Xunit;

namespace NetCmdlets.Core.Tests.Udp;

public class UdpServerTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Datagrams_ArriveWithTheirSender_AndRepliesGoBack()
    {
        using var server = new UdpServer(new IPEndPoint(IPAddress.Loopback, 0));
        server.Start();
        using UdpSender sender = await UdpSender.OpenAsync("127.0.0.1", server.LocalEndPoint.Port, broadcast: false, CancellationToken.None);
        await sender.SendAsync(new byte[] { 1, 2, 3 });

        Assert.True(server.TryTakeEvent(out ServerEvent next, Deadline, CancellationToken.None));
        Assert.Equal(new byte[] { 1, 2, 3 }, next.Message!.Data);
        Assert.Equal(((IPEndPoint)sender.LocalEndPoint).Port, next.Message.RemoteEndPoint.Port);
        await server.ReplyAsync(next.Message, new[] { Outgoing.Raw(new byte[] { 9 }) });
        Assert.Equal(1, server.Statistics.MessagesSent);
    }

    [Fact]
    public async Task A_FullQueue_DropsAndCounts()
    {
        using var server = new UdpServer(new IPEndPoint(IPAddress.Loopback, 0), queueCapacity: 2);
        server.Start();
        using UdpSender sender = UdpSender.Open("127.0.0.1", server.LocalEndPoint.Port, false, CancellationToken.None);
        for (int i = 0; i < 5; i++) await sender.SendAsync(new[] { (byte)i });

        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (server.Statistics.MessagesReceived < 5 && clock.Elapsed < Deadline) await Task.Delay(5);
        Assert.Equal(5, server.Statistics.MessagesReceived);
        Assert.Equal(3, server.Statistics.Dropped);
        Assert.True(server.TryTakeEvent(out ServerEvent first, TimeSpan.Zero, CancellationToken.None));
        Assert.Equal(new byte[] { 0 }, first.Message!.Data);
    }
}

public class UdpServerBackoffTests
{
    // Defect: a lasting receive error was retried with no pause and spun a core.
    [Fact]
    public async Task ALastingReceiveError_IsRetried_WithGrowingPauses()
    {
        using var server = new UdpServer(new IPEndPoint(IPAddress.Loopback, 0));
        int attempts = 0;
        server.ReceiveHook = (_, _, _) =>
        {
            Interlocked.Increment(ref attempts);
            return Task.FromException<System.Net.Sockets.SocketReceiveFromResult>(new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.NetworkDown));
        };
        server.Start();
        await Task.Delay(500);
        // Without pauses this is millions; with 1, 2, 4 ... ms it is about ten.
        Assert.InRange(Volatile.Read(ref attempts), 2, 30);
        Assert.True(server.Statistics.Errors >= 2);
    }
}

public class LocalAddressTests
{
    // Defect: resolving -LocalAddress blocked the pipeline thread and could not be interrupted.
    [Fact]
    public async Task ResolvingANameForListening_EndsWhenCancelled()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => NetCmdlets.Core.Net.EndPoints.ParseLocalAddressAsync("some-host.example", cancelled.Token));
        Assert.Equal(IPAddress.Loopback, await NetCmdlets.Core.Net.EndPoints.ParseLocalAddressAsync("loopback", cancelled.Token));
    }
}
