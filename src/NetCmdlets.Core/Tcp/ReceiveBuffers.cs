using System.Collections.Concurrent;

namespace NetCmdlets.Core.Tcp;

/// <summary>
/// Receive buffers shared by all connections. A connection holds one only while bytes are waiting
/// to be framed, so thousands of idle connections hold none.
/// </summary>
internal static class ReceiveBuffers
{
    public const int Size = 16 * 1024;
    private const int MaxRetained = 256;
    private static readonly ConcurrentBag<byte[]> s_free = new();

    public static byte[] Rent() => s_free.TryTake(out byte[]? buffer) ? buffer : new byte[Size];

    public static void Return(byte[] buffer)
    {
        // Buffers grown for one long message go back to the GC.
        if (buffer.Length == Size && s_free.Count < MaxRetained) s_free.Add(buffer);
    }
}
