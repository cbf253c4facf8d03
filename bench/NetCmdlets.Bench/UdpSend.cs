using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace NetCmdlets.Bench;

/// <summary>One sender, as fast as it can: a connected socket and a blocking send per datagram, no pacing.</summary>
internal static class UdpSend
{
    public static int Run(Options options)
    {
        var endPoint = new IPEndPoint(options.Host, options.Int("port", 0));
        int count = options.Int("count", 200000);
        int size = options.Int("size", 64);
        if (endPoint.Port == 0 || count < 1 || size < 1) throw new ArgumentException("--port, --count and --size must be positive");

        var datagram = new byte[size];
        datagram.AsSpan().Fill((byte)'u');
        using var socket = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(endPoint);
        int sent = 0, errors = 0;
        string? firstError = null;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            try
            {
                socket.Send(datagram);
                sent++;
            }
            catch (SocketException e)
            {
                // On loopback an ICMP "port unreachable" for an earlier datagram surfaces as a refused send.
                errors++;
                firstError ??= e.SocketErrorCode.ToString();
            }
        }
        double seconds = clock.Elapsed.TotalSeconds;
        Output.Json(new Dictionary<string, object?>
        {
            ["sent"] = sent,
            ["errors"] = errors,
            ["firstError"] = firstError,
            ["seconds"] = Math.Round(seconds, 4),
            ["datagramsPerSecond"] = Math.Round(sent / seconds, 1),
        });
        return 0;
    }
}
