using System.Net;
using System.Net.Sockets;
using System.Text;
using NetCmdlets.Core;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Proxy;
using NetCmdlets.Core.Tcp;
using Xunit;

namespace NetCmdlets.Core.Tests.Proxy;

public class TcpProxyTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    // A consumer that decides sees each message of a direction after the one before was forwarded, however they arrived.
    [Fact]
    public async Task AConsumerThatForwards_GetsEveryMessage_OfLinesSentInOneWrite()
    {
        using var upstream = new TcpListener(IPAddress.Loopback, 0);
        upstream.Start();
        using var proxy = new TcpProxy(new IPEndPoint(IPAddress.Loopback, 0),
            new TcpProxyOptions("127.0.0.1", ((IPEndPoint)upstream.LocalEndpoint).Port) { ConsumerForwards = true, Client = new ConnectionOptions { ConsumerReturnsLeases = true } });
        proxy.Start();
        using var stop = new CancellationTokenSource();
        var seen = new List<string>();
        Task consumer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                ServerEvent next = await proxy.TakeEventAsync(stop.Token);
                if (next.Message is not TcpTraffic traffic) continue;
                lock (seen) seen.Add(traffic.Text);
                await proxy.ReplyAsync(traffic, new[] { Outgoing.Payload(Encoding.ASCII.GetBytes(traffic.Text.ToUpperInvariant())) });
                traffic.SourceConnection?.ReturnLease();
            }
        });
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, proxy.LocalEndPoint.Port);
        using TcpClient server = await upstream.AcceptTcpClientAsync().WaitAsync(Deadline);
        NetworkStream toProxy = client.GetStream();
        await toProxy.WriteAsync(Encoding.ASCII.GetBytes("one\ntwo\nthree\n"));
        client.Client.Shutdown(SocketShutdown.Send);
        var reader = new StreamReader(server.GetStream());
        var writer = new StreamWriter(server.GetStream()) { AutoFlush = true, NewLine = "\n" };
        var back = new StreamReader(toProxy);
        foreach (string line in new[] { "ONE", "TWO", "THREE" })
        {
            Assert.Equal(line, await reader.ReadLineAsync().WaitAsync(Deadline));
            await writer.WriteLineAsync("server: " + line);
        }
        foreach (string line in new[] { "ONE", "TWO", "THREE" })
            Assert.Equal("SERVER: " + line, await back.ReadLineAsync().WaitAsync(Deadline));
        stop.Cancel();
    }
}
