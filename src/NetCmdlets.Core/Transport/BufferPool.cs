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
    // Windows PowerShell's runtime has no ArrayPool: a small pool per size, 16 KiB (idle reads) up to
    // 256 KiB (bulk reads and file pieces), so a transfer does not allocate on the large object heap.
    private const int Sizes = 5;
    private static readonly ConcurrentQueue<byte[]>[] s_free = CreateQueues();
    private static readonly int[] s_retained = new int[Sizes];

    public static byte[] Rent(int minimum = Size)
    {
        int bucket = BucketFor(minimum);
        if (bucket < 0) return new byte[minimum];
        if (s_free[bucket].TryDequeue(out byte[]? buffer))
        {
            Interlocked.Decrement(ref s_retained[bucket]);
            return buffer;
        }
        return new byte[Size << bucket];
    }

    public static void Return(byte[] buffer)
    {
        int bucket = BucketFor(buffer.Length);
        // Only buffers of a pool size come back; one grown for a long message goes back to the GC.
        if (bucket < 0 || Size << bucket != buffer.Length) return;
        // Counted apart from the queue: ConcurrentQueue.Count and ConcurrentBag.Count take locks or snapshots.
        int limit = bucket == 0 ? 256 : 8;
        if (Interlocked.Increment(ref s_retained[bucket]) > limit)
        {
            Interlocked.Decrement(ref s_retained[bucket]);
            return;
        }
        s_free[bucket].Enqueue(buffer);
    }

    private static int BucketFor(int length)
    {
        for (int bucket = 0; bucket < Sizes; bucket++)
        {
            if (length <= Size << bucket) return bucket;
        }
        return -1;
    }

    private static ConcurrentQueue<byte[]>[] CreateQueues()
    {
        var queues = new ConcurrentQueue<byte[]>[Sizes];
        for (int i = 0; i < Sizes; i++) queues[i] = new ConcurrentQueue<byte[]>();
        return queues;
    }
#endif
}
