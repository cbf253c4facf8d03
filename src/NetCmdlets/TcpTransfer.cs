using System;
using System.Net;

namespace NetCmdlets;

/// <summary>What a file transfer (Send-TcpMessage -Path, Receive-TcpMessage -OutFile) moved, and how fast.</summary>
public sealed class TcpTransfer
{
    internal TcpTransfer(string path, string direction, long bytes, TimeSpan elapsed, EndPoint remoteEndPoint, int connectionId)
    {
        Path = path;
        Direction = direction;
        Bytes = bytes;
        Seconds = Math.Round(elapsed.TotalSeconds, 3);
        BytesPerSecond = elapsed.TotalSeconds > 0 ? Math.Round(bytes / elapsed.TotalSeconds) : 0;
        RemoteEndPoint = remoteEndPoint;
        ConnectionId = connectionId;
    }

    public string Path { get; }

    /// <summary>"Sent" or "Received".</summary>
    public string Direction { get; }

    public long Bytes { get; }

    public double Seconds { get; }

    public double BytesPerSecond { get; }

    /// <summary>Megabytes (10^6 bytes) per second, for reading at a glance.</summary>
    public double MBPerSecond => Math.Round(BytesPerSecond / 1e6, 1);

    public EndPoint RemoteEndPoint { get; }

    public int ConnectionId { get; }

    public override string ToString() => $"{Direction} {Bytes} bytes in {Seconds} s";
}
