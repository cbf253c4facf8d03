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
        Assert.Equal(sender.LocalEndPoint.Port, next.Message.RemoteEndPoint.Port);
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
