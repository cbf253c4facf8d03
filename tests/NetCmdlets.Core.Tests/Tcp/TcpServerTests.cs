using System.Net;
using System.Net.Sockets;
using System.Text;
using NetCmdlets.Core;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tcp;
using Xunit;

namespace NetCmdlets.Core.Tests.Tcp;

public class TcpServerTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Echo_ThroughTheAsyncApi()
    {
        using var server = new TcpServer(new IPEndPoint(IPAddress.Loopback, 0));
        server.Start();
        Assert.NotEqual(0, server.LocalEndPoint.Port);
        Task serve = Task.Run(async () =>
        {
            while (true)
            {
                ServerEvent next = await server.TakeEventAsync(CancellationToken.None);
                if (next.Kind == ServerEventKind.Closed) return;
                if (next.Kind == ServerEventKind.Message)
                    await server.ReplyAsync(next.Message!, new[] { Outgoing.Payload(next.Message!.Data) });
            }
        });

        using TcpConnection client = await TcpConnector.ConnectAsync("localhost", server.LocalEndPoint.Port, null, Deadline, CancellationToken.None);
        for (int i = 0; i < 100; i++)
        {
            await client.SendTextAsync($"line {i}", CancellationToken.None);
            TcpMessage? reply = await client.ReceiveAsync(Deadline, CancellationToken.None);
            Assert.Equal($"line {i}", reply!.Text);
            Assert.Equal(MessageDirection.Received, reply.Direction);
        }
        client.Close();
        await serve.WaitAsync(Deadline);
        Assert.Equal(100, server.Statistics.MessagesReceived);
        Assert.Equal(100, server.Statistics.MessagesSent);
        Assert.Equal(1, server.Statistics.ConnectionsTotal);
    }

    [Fact]
    public void Messages_OfOneConnection_ArriveInOrder_EvenWhenMergedIntoOneWrite()
    {
        using var server = new TcpServer(new IPEndPoint(IPAddress.Loopback, 0));
        server.Start();
        using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        raw.Connect(server.LocalEndPoint);
        var text = string.Concat(Enumerable.Range(0, 500).Select(i => $"m{i}\r\n"));
        raw.Send(Encoding.UTF8.GetBytes(text));
        raw.Shutdown(SocketShutdown.Send);

        var received = new List<string>();
        while (server.TryTakeEvent(out ServerEvent next, Deadline, CancellationToken.None) && next.Kind != ServerEventKind.Closed)
        {
            if (next.Kind == ServerEventKind.Message) received.Add(next.Message!.Text);
        }
        Assert.Equal(Enumerable.Range(0, 500).Select(i => $"m{i}"), received);
    }

    [Fact]
    public void OversizedLine_EndsThatConnection_WithAFramingError_AndTheServerGoesOn()
    {
        var options = new ConnectionOptions { Framing = MessageFraming.Lines(null, 16) };
        using var server = new TcpServer(new IPEndPoint(IPAddress.Loopback, 0), options);
        server.Start();
        using var bad = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        bad.Connect(server.LocalEndPoint);
        bad.Send(new byte[64]);

        ServerEvent closed = NextOfKind(server, ServerEventKind.Closed);
        Assert.Equal(NetErrorKind.Framing, closed.Error!.Kind);
        Assert.Equal(1, server.Statistics.Errors);

        using TcpConnection good = TcpConnector.Connect("127.0.0.1", server.LocalEndPoint.Port, options, Deadline, CancellationToken.None);
        good.SendText("fine", CancellationToken.None);
        Assert.Equal("fine", NextOfKind(server, ServerEventKind.Message).Message!.Text);
    }

    [Fact]
    public void Connect_ToAClosedPort_IsRefused()
    {
        int port = FreePort();
        var error = Assert.Throws<NetException>(() => TcpConnector.Connect("127.0.0.1", port, null, Deadline, CancellationToken.None));
        Assert.Equal(NetErrorKind.ConnectionRefused, error.Kind);
        Assert.Equal($"127.0.0.1:{port}", error.Target);
    }

    [Fact]
    public void Start_OnATakenPort_IsAddressInUse()
    {
        using var first = new TcpServer(new IPEndPoint(IPAddress.Loopback, 0));
        first.Start();
        using var second = new TcpServer(new IPEndPoint(IPAddress.Loopback, first.LocalEndPoint.Port));
        Assert.Equal(NetErrorKind.AddressInUse, Assert.Throws<NetException>(second.Start).Kind);
    }

    [Fact]
    public void Receive_TimesOut_WithReceiveTimeout()
    {
        using var server = new TcpServer(new IPEndPoint(IPAddress.Loopback, 0));
        server.Start();
        using TcpConnection client = TcpConnector.Connect("127.0.0.1", server.LocalEndPoint.Port, null, Deadline, CancellationToken.None);
        var error = Assert.Throws<NetException>(() => client.Receive(TimeSpan.FromMilliseconds(100), CancellationToken.None));
        Assert.Equal(NetErrorKind.ReceiveTimeout, error.Kind);
    }

    [Fact]
    public void Dispose_FreesThePort()
    {
        var server = new TcpServer(new IPEndPoint(IPAddress.Loopback, 0));
        server.Start();
        int port = server.LocalEndPoint.Port;
        using TcpConnection client = TcpConnector.Connect("127.0.0.1", port, null, Deadline, CancellationToken.None);
        server.Dispose();
        using var again = new TcpServer(new IPEndPoint(IPAddress.Loopback, port));
        again.Start();
        Assert.Equal(port, again.LocalEndPoint.Port);
    }

    private static ServerEvent NextOfKind(NetServer server, ServerEventKind kind)
    {
        while (server.TryTakeEvent(out ServerEvent next, Deadline, CancellationToken.None))
        {
            if (next.Kind == kind) return next;
        }
        throw new TimeoutException($"No {kind} event within {Deadline}.");
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
