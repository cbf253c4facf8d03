using System.Threading;

namespace NetCmdlets.Core.Tcp;

/// <summary>Messages and bytes in each direction; safe to update from any thread.</summary>
public class TrafficCounters
{
    private long _messagesReceived;
    private long _bytesReceived;
    private long _messagesSent;
    private long _bytesSent;

    public long MessagesReceived => Interlocked.Read(ref _messagesReceived);

    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    public long MessagesSent => Interlocked.Read(ref _messagesSent);

    public long BytesSent => Interlocked.Read(ref _bytesSent);

    internal void AddReceivedBytes(long bytes) => Interlocked.Add(ref _bytesReceived, bytes);

    internal void AddReceivedMessage() => Interlocked.Increment(ref _messagesReceived);

    internal void AddSent(long messages, long bytes)
    {
        Interlocked.Add(ref _messagesSent, messages);
        Interlocked.Add(ref _bytesSent, bytes);
    }
}
