using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using NetCmdlets.Core.Tcp;
using Xunit;

namespace NetCmdlets.Core.Tests.Tcp;

public class ConnectDeadlinesTests
{
    /// <summary>A loopback listener that never accepts, its backlog filled, so further connects get no answer.</summary>
    private static (Socket Listener, List<Socket> Fillers) FullBacklog()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var fillers = new List<Socket>();
        for (int i = 0; i < 16; i++)
        {
            var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
            fillers.Add(filler);
            try
            {
                filler.Connect(listener.LocalEndPoint!);
                continue;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock || e.SocketErrorCode == SocketError.InProgress)
            {
            }
            // Asked of the kernel, not of a task the thread pool must first run: a loaded machine cannot
            // make a connect that went through look like one that hangs. Unanswered for 500 ms: the backlog is full.
            if (!filler.Poll(500_000, SelectMode.SelectWrite)) return (listener, fillers);
        }
        throw new InvalidOperationException("the listener's backlog never filled");
    }

    [Fact]
    public async Task ProbesSharingOneClock_EachTimeOut_NoSoonerThanTheirLimit()
    {
        (Socket full, List<Socket> fillers) = FullBacklog();
        try
        {
            var timeout = TimeSpan.FromMilliseconds(500);
            using var deadlines = new ConnectDeadlines(timeout, CancellationToken.None);
            int fullPort = ((IPEndPoint)full.LocalEndPoint!).Port;
            var silent = Enumerable.Range(0, 5).Select(_ => TcpProbe.ProbeAsync(IPAddress.Loopback, fullPort, timeout, null, deadlines, CancellationToken.None)).ToList();
            var results = await Task.WhenAll(silent).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.All(results, result => Assert.Equal(TcpPortStatus.TimedOut, result.Status));
            // Each waited its own limit out (less a little for the clock's resolution), and was ended by the clock.
            Assert.All(results, result => Assert.InRange(result.Latency, timeout - TimeSpan.FromMilliseconds(20), TimeSpan.FromSeconds(5)));
        }
        finally
        {
            fillers.ForEach(f => f.Dispose());
            full.Dispose();
        }
    }

    [Fact]
    public async Task AStop_EndsEveryPendingConnect_AtOnce()
    {
        (Socket full, List<Socket> fillers) = FullBacklog();
        try
        {
            using var stop = new CancellationTokenSource();
            using var deadlines = new ConnectDeadlines(TimeSpan.FromMinutes(5), stop.Token);
            int port = ((IPEndPoint)full.LocalEndPoint!).Port;
            var probes = Enumerable.Range(0, 3).Select(_ => TcpProbe.ProbeAsync(IPAddress.Loopback, port, TimeSpan.FromMinutes(5), null, deadlines, stop.Token)).ToList();
            Assert.All(probes, probe => Assert.False(probe.IsCompleted));
            stop.Cancel();
            foreach (var probe in probes)
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => probe.WaitAsync(TimeSpan.FromSeconds(10)));
        }
        finally
        {
            fillers.ForEach(f => f.Dispose());
            full.Dispose();
        }
    }
}
