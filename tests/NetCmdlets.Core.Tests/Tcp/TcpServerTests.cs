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

    // One report per end: the Closed event says why; a reply made for the connection afterwards is dropped without a second error.
    [Fact]
    public async Task AReply_ToAConnectionThatEndedWithAnError_IsDropped_NotASecondError()
    {
        using var server = new TcpServer(new IPEndPoint(IPAddress.Loopback, 0));
        server.Start();
        using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        raw.Connect(server.LocalEndPoint);
        raw.Send(Encoding.ASCII.GetBytes("question\n"));
        ServerEvent message;
        do message = await server.TakeEventAsync(CancellationToken.None).WaitAsync(Deadline);
        while (message.Kind != ServerEventKind.Message);
        // A reset: the peer is gone before its answer is made.
        raw.LingerState = new LingerOption(true, 0);
        raw.Close();
        ServerEvent closed = await server.TakeEventAsync(CancellationToken.None).WaitAsync(Deadline);
        Assert.Equal(ServerEventKind.Closed, closed.Kind);
        Assert.NotNull(closed.Error);
        await server.ReplyAsync(message.Message!, new[] { Outgoing.Payload(Encoding.ASCII.GetBytes("answer")) }).WaitAsync(Deadline);
        Assert.Equal(1, server.Statistics.Errors);
    }

    // The consumer's lease: a close asked for while it holds one waits until it is returned, and the reply made meanwhile goes out.
    [Fact]
    public async Task AClose_WaitsForTheConsumersLease_AndTheReplyMadeMeanwhileGoesOut()
    {
        using var server = new TcpServer(new IPEndPoint(IPAddress.Loopback, 0), new ConnectionOptions { ConsumerReturnsLeases = true });
        server.Start();
        using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        raw.Connect(server.LocalEndPoint);
        raw.Send(Encoding.ASCII.GetBytes("QUIT\n"));
        ServerEvent opened = await server.TakeEventAsync(CancellationToken.None).WaitAsync(Deadline);
        Assert.Equal(ServerEventKind.Opened, opened.Kind);
        opened.Connection!.ReturnLease();
        ServerEvent quit = await server.TakeEventAsync(CancellationToken.None).WaitAsync(Deadline);
        var message = (TcpMessage)quit.Message!;
        TcpConnection connection = message.Connection;
        connection.Close();
        Assert.NotEqual(TcpConnectionState.Closed, connection.State);
        _ = server.ReplyAsync(message, new[] { Outgoing.Payload(Encoding.ASCII.GetBytes("221 Bye")) });
        connection.ReturnLease();
        var received = new MemoryStream();
        var buffer = new byte[64];
        int read;
        while ((read = await raw.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(Deadline)) > 0) received.Write(buffer, 0, read);
        Assert.Equal("221 Bye\n", Encoding.ASCII.GetString(received.ToArray()));
        Assert.Equal(TcpConnectionState.Closed, connection.State);
    }

    // A consumer that does not return leases: the server returns each as the message is taken, so a close does not wait.
    [Fact]
    public async Task WithoutLeasesReturnedByTheConsumer_ACloseDoesNotWait()
    {
        using var server = new TcpServer(new IPEndPoint(IPAddress.Loopback, 0));
        server.Start();
        using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        raw.Connect(server.LocalEndPoint);
        raw.Send(Encoding.ASCII.GetBytes("QUIT\n"));
        ServerEvent next;
        do next = await server.TakeEventAsync(CancellationToken.None).WaitAsync(Deadline);
        while (next.Kind != ServerEventKind.Message);
        var message = (TcpMessage)next.Message!;
        message.Connection.Close();
        Assert.Equal(TcpConnectionState.Closed, message.Connection.State);
        var refused = await Assert.ThrowsAsync<NetException>(() => server.ReplyAsync(message, new[] { Outgoing.Payload(new byte[1]) }));
        Assert.Equal(NetErrorKind.ConnectionClosed, refused.Kind);
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
    public async Task OversizedLine_EndsThatConnection_WithAFramingError_AndTheServerGoesOn()
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
        await good.SendTextAsync("fine", CancellationToken.None).WaitAsync(Deadline);
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

public class TcpServerDefenceTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    // Defect: connection set-up ran outside the try of the accept loop, so one failure ended accepting for good.
    [Fact]
    public async Task AFailure_SettingUpOneClient_LosesOnlyThatClient()
    {
        using var server = new TcpServer(new IPEndPoint(IPAddress.Loopback, 0));
        int accepted = 0;
        server.AcceptedHook = _ => { if (Interlocked.Increment(ref accepted) == 1) throw new SocketException((int)SocketError.NotConnected); };
        server.Start();
        using var first = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await first.ConnectAsync(server.LocalEndPoint);
        using TcpConnection second = await TcpConnector.ConnectAsync("127.0.0.1", server.LocalEndPoint.Port, null, Deadline, CancellationToken.None);
        await second.SendTextAsync("still served", CancellationToken.None);
        ServerEvent message;
        do Assert.True(server.TryTakeEvent(out message, Deadline, CancellationToken.None));
        while (message.Kind != ServerEventKind.Message);
        Assert.Equal("still served", message.Message!.Text);
        Assert.Equal(1, server.Statistics.Errors);
    }

    // Defect: replies to a client that never reads piled up without limit (an echo of 256 MB grew the server by ~500 MiB).
    [Fact]
    public async Task RepliesToAClientThatDoesNotRead_StayWithinTheBudget_AndReadingPauses()
    {
        using var server = new TcpServer(new IPEndPoint(IPAddress.Loopback, 0), ConnectionOptions.ForLines(TextEncodings.Utf8, 2 * 1024 * 1024));
        server.Start();
        using var stop = new CancellationTokenSource();
        long maxPending = 0;
        Task echo = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                ServerEvent next = await server.TakeEventAsync(stop.Token);
                if (next.Kind != ServerEventKind.Message) continue;
                _ = server.ReplyAsync(next.Message!, new[] { Outgoing.Payload(next.Message!.Data) });
                maxPending = Math.Max(maxPending, next.Connection!.PendingSendBytes);
            }
        });
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await client.ConnectAsync(server.LocalEndPoint);
        byte[] line = Enumerable.Repeat((byte)'x', 1024 * 1024).Append((byte)'\n').ToArray();
        const int Lines = 128;
        Task writing = Task.Run(async () => { for (int i = 0; i < Lines; i++) await client.SendAsync(line, SocketFlags.None); });
        // Wait until the server stops taking more (it must, long before all 128 MB).
        long last = -1;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(300);
            long now = server.Statistics.BytesReceived;
            if (now == last) break;
            last = now;
        }
        Assert.False(writing.IsCompleted, "the client could write everything: nothing pushed back");
        Assert.InRange(server.Statistics.BytesReceived, 1, 40L * 1024 * 1024);
        // Replies wait within the send budget plus what was already taken from the queue (the receive budget).
        Assert.InRange(maxPending, 0, TcpConnection.DefaultSendBudget + TcpConnection.DefaultReceiveBudget + 2L * line.Length);
        stop.Cancel();
        client.Dispose();
    }
}

public class TcpServerStallTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    // A peer that sends, half-closes and never reads must not hold its connection and replies forever.
    [Fact]
    public async Task APeerThatFinishedAndNeverReads_IsDroppedOnceItsRepliesStall()
    {
        using var server = new TcpServer(new IPEndPoint(IPAddress.Loopback, 0)) { SendStallLimit = TimeSpan.FromMilliseconds(300) };
        server.Start();
        using var stop = new CancellationTokenSource();
        Task echo = Task.Run(async () =>
        {
            byte[] big = new byte[1024 * 1024];
            while (!stop.IsCancellationRequested)
            {
                ServerEvent next = await server.TakeEventAsync(stop.Token);
                if (next.Kind == ServerEventKind.Message) _ = server.ReplyAsync(next.Message!, new[] { Outgoing.Raw(big) }).ContinueWith(t => t.Exception);
            }
        });
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await client.ConnectAsync(server.LocalEndPoint);
        await client.SendAsync(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("x\n", 20))), SocketFlags.None);
        client.Shutdown(SocketShutdown.Send);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (server.Statistics.ConnectionsTotal == 0 || server.Statistics.ConnectionsOpen > 0)
        {
            Assert.True(clock.Elapsed < Deadline, $"still open after {clock.Elapsed}: {server.Statistics.ConnectionsOpen}");
            await Task.Delay(20);
        }
        stop.Cancel();
    }

    // Reading waits on the replies the peer does not take, so its FIN, sent after that, is never read:
    // the stall limit must not wait for the end of the stream.
    [Fact]
    public async Task APeerThatStopsReading_WhileReadingWaitsOnItsReplies_IsDroppedWithItsFinUnread()
    {
        using var server = new TcpServer(new IPEndPoint(IPAddress.Loopback, 0)) { SendStallLimit = TimeSpan.FromMilliseconds(300) };
        server.Start();
        using var stop = new CancellationTokenSource();
        int replied = 0;
        var closed = new TaskCompletionSource<ServerEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task echo = Task.Run(async () =>
        {
            byte[] big = new byte[1024 * 1024];
            while (!stop.IsCancellationRequested)
            {
                ServerEvent next = await server.TakeEventAsync(stop.Token);
                if (next.Kind == ServerEventKind.Message)
                {
                    _ = server.ReplyAsync(next.Message!, new[] { Outgoing.Raw(big) }).ContinueWith(t => t.Exception);
                    Interlocked.Increment(ref replied);
                }
                else if (next.Kind == ServerEventKind.Closed) closed.TrySetResult(next);
            }
        });
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await client.ConnectAsync(server.LocalEndPoint);
        await client.SendAsync(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("x\n", 20))), SocketFlags.None);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (Volatile.Read(ref replied) < 20)
        {
            Assert.True(clock.Elapsed < Deadline, $"only {replied} of 20 replies queued");
            await Task.Delay(10);
        }
        // 20 MiB of replies queued and none read: the next read of this line is the last before reading waits.
        await client.SendAsync(Encoding.ASCII.GetBytes("y\n"), SocketFlags.None);
        client.Shutdown(SocketShutdown.Send);
        ServerEvent end = await closed.Task.WaitAsync(Deadline);
        Assert.Equal(NetErrorKind.SendTimeout, end.Error?.Kind);
        Assert.Contains("not reading", end.Error!.Message);
        Assert.Equal(0, server.Statistics.ConnectionsOpen);
        stop.Cancel();
    }
}
