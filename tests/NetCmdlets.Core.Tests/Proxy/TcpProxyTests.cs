using System.Net;
using System.Net.Sockets;
using System.Text;
using NetCmdlets.Core;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;
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

    // A proxy that terminates TLS bounds its handshakes as a server does: silent clients holding every
    // place cannot keep a good one out; the oldest is ended, reported, and the good one is proxied.
    [Fact]
    public async Task SilentTlsClientsHoldingEveryPlace_DoNotKeepAGoodClientOut()
    {
        using var upstream = new TcpListener(IPAddress.Loopback, 0);
        upstream.Start();
        var client = new ConnectionOptions { ServerTls = new NetCmdlets.Core.Tls.TlsServerOptions(Tls.TestCertificates.SelfSigned()) };
        using var proxy = new TcpProxy(new IPEndPoint(IPAddress.Loopback, 0), new TcpProxyOptions("127.0.0.1", ((IPEndPoint)upstream.LocalEndpoint).Port) { Client = client }, maxHandshakes: 3);
        proxy.Start();
        List<Socket> silent = await Tls.TlsHandshakeCrowdTests.ConnectSilentAsync(proxy.LocalEndPoint, 3);
        try
        {
            using var good = new TcpClient();
            await good.ConnectAsync(IPAddress.Loopback, proxy.LocalEndPoint.Port);
            using var ssl = new System.Net.Security.SslStream(good.GetStream(), false, (_, _, _, _) => true);
            using var limit = new CancellationTokenSource(Deadline);
            await ssl.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions { TargetHost = "localhost" }, limit.Token);
            using TcpClient server = await upstream.AcceptTcpClientAsync().WaitAsync(Deadline);
            await ssl.WriteAsync(Encoding.ASCII.GetBytes("through\n"), limit.Token);
            Assert.Equal("through", await new StreamReader(server.GetStream()).ReadLineAsync().WaitAsync(Deadline));

            Assert.True(await Tls.TlsHandshakeCrowdTests.EndedByServerAsync(silent[0]), "the oldest silent client is ended to make room");
            NetException? error = null;
            while (error is null && proxy.TryTakeEvent(out ServerEvent next, Deadline, CancellationToken.None))
                error = next.Notice as NetException;
            Assert.NotNull(error);
            Assert.Equal(NetErrorKind.Tls, error!.Kind);
            Assert.Contains("make room", error.Message);
        }
        finally
        {
            foreach (Socket socket in silent) socket.Dispose();
        }
    }
}
