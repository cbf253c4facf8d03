using System;

namespace NetCmdlets.Core.Transport;

internal static class Segments
{
    /// <summary>A new array with the segment's bytes (ArraySegment.ToArray is not in netstandard2.0).</summary>
    public static byte[] ToBytes(this ArraySegment<byte> segment)
    {
        var copy = new byte[segment.Count];
        Buffer.BlockCopy(segment.Array!, segment.Offset, copy, 0, segment.Count);
        return copy;
    }
}
