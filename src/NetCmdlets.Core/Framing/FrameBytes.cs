using System;

namespace NetCmdlets.Core.Framing;

/// <summary>Byte work that several framers share.</summary>
internal static class FrameBytes
{
    /// <summary>A new array: <paramref name="prefix"/>, the payload, <paramref name="suffix"/> (either may be empty).</summary>
    public static byte[] Join(byte[] prefix, ArraySegment<byte> payload, byte[] suffix)
    {
        var framed = new byte[prefix.Length + payload.Count + suffix.Length];
        Buffer.BlockCopy(prefix, 0, framed, 0, prefix.Length);
        Buffer.BlockCopy(payload.Array!, payload.Offset, framed, prefix.Length, payload.Count);
        Buffer.BlockCopy(suffix, 0, framed, prefix.Length + payload.Count, suffix.Length);
        return framed;
    }

    /// <summary>True when <paramref name="pattern"/> is at <paramref name="at"/> in <paramref name="array"/>.</summary>
    public static bool Matches(byte[] array, int at, byte[] pattern)
    {
        for (int i = 0; i < pattern.Length; i++)
        {
            if (array[at + i] != pattern[i]) return false;
        }
        return true;
    }
}
