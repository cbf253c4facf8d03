using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace NetCmdlets.Bench;

/// <summary>
/// The UDP reference: a blocking receive loop on a socket with the same receive buffer that
/// Receive-UdpDatagram asks for. What it misses, the kernel dropped; what it gets and the cmdlet
/// does not, the cmdlet's side dropped.
/// </summary>
internal static class UdpReceive
{
    private const int SocketReceiveBuffer = 8 * 1024 * 1024;

    public static int Run(Options options)
    {
        int count = options.Int("count", 200000);
        double timeoutSec = options.Double("timeout-sec", 10);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.ReceiveBufferSize = SocketReceiveBuffer;
        socket.Bind(new IPEndPoint(IPAddress.Loopback, options.Int("port", 0)));
        Output.Line(((IPEndPoint)socket.LocalEndPoint!).Port.ToString(CultureInfo.InvariantCulture));

        // A short receive timeout bounds every wait, at one system call per datagram.
        socket.ReceiveTimeout = 200;
        var buffer = new byte[65535];
        var clock = Stopwatch.StartNew();
        TimeSpan limit = TimeSpan.FromSeconds(timeoutSec);
        int received = 0;
        while (received < count)
        {
            if (clock.Elapsed >= limit) break;
            try
            {
                socket.Receive(buffer);
                received++;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
            {
                // Nothing for a while: look at the clock again.
            }
        }
        Output.Json(new Dictionary<string, object?>
        {
            ["received"] = received,
            ["receiveBufferBytes"] = socket.ReceiveBufferSize,
        });
        return 0;
    }
}
