using System;
#if NET8_0_OR_GREATER
using System.Buffers;
#else
using System.Collections.Concurrent;
using System.Threading;
#endif

namespace NetCmdlets.Core.Transport;

/// <summary>
/// Receive and send buffers shared by all connections. A connection holds one only while bytes are
/// waiting to be framed or written, so thousands of idle connections hold none.
/// </summary>
internal static class BufferPool
{
    public const int Size = 16 * 1024;

#if NET8_0_OR_GREATER
    // The runtime's own pool: per-core caches, no locks on the hot path.
    public static byte[] Rent(int minimum = Size) => ArrayPool<byte>.Shared.Rent(minimum);

    public static void Return(byte[] buffer) => ArrayPool<byte>.Shared.Return(buffer);
#else
    private const int MaxRetained = 256;
    private static readonly ConcurrentQueue<byte[]> s_free = new();
    // Counted apart from the queue: ConcurrentQueue.Count and ConcurrentBag.Count take locks or snapshots.
    private static int s_retained;

    public static byte[] Rent(int minimum = Size)
    {
        if (minimum <= Size && s_free.TryDequeue(out byte[]? buffer))
        {
            Interlocked.Decrement(ref s_retained);
            return buffer;
        }
        return new byte[Math.Max(minimum, Size)];
    }

    public static void Return(byte[] buffer)
    {
        // Buffers grown for one long message go back to the GC.
        if (buffer.Length != Size) return;
        if (Interlocked.Increment(ref s_retained) > MaxRetained)
        {
            Interlocked.Decrement(ref s_retained);
            return;
        }
        s_free.Enqueue(buffer);
    }
#endif
}
