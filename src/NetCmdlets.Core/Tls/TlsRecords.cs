using System;

namespace NetCmdlets.Core.Tls;

/// <summary>Tells TLS from plain text by the first bytes of a stream (RFC 8446 5.1: a record header).</summary>
public static class TlsRecords
{
    private const byte Handshake = 0x16;
    private const byte Alert = 0x15;
    private const byte ClientHello = 0x01;

    /// <summary>
    /// True when <paramref name="first"/> starts like a TLS record a peer may send first: a handshake
    /// (or an alert) record of version 3.x with a length TLS allows. At least 5 bytes are needed; fewer is false.
    /// </summary>
    public static bool LooksLikeRecord(ArraySegment<byte> first)
    {
        if (first.Count < 5) return false;
        byte[] b = first.Array!;
        int at = first.Offset;
        if (b[at] != Handshake && b[at] != Alert) return false;
        if (b[at + 1] != 3 || b[at + 2] > 4) return false;
        int length = (b[at + 3] << 8) | b[at + 4];
        // A record carries at most 2^14 bytes of plain text, plus what protection adds (RFC 8446 5.2).
        return length > 0 && length <= (1 << 14) + 256;
    }

    /// <summary>
    /// Whether <paramref name="first"/> starts with a TLS ClientHello; null while too few bytes have come to
    /// tell (a hello may arrive a byte at a time), so that none of it is taken for plain text meanwhile.
    /// </summary>
    public static bool? StartsClientHello(ArraySegment<byte> first)
    {
        byte[] b = first.Array!;
        int at = first.Offset, count = first.Count;
        // Each byte that has come either still fits a ClientHello's first six, or settles it.
        if (count >= 1 && b[at] != Handshake) return false;
        if (count >= 2 && b[at + 1] != 3) return false;
        if (count >= 3 && b[at + 2] > 4) return false;
        if (count < 6) return null;
        return LooksLikeClientHello(first);
    }

    /// <summary>True when <paramref name="first"/> starts with a TLS ClientHello: a peer speaking TLS to a plain-text port.</summary>
    public static bool LooksLikeClientHello(ArraySegment<byte> first) =>
        first.Count >= 6 && LooksLikeRecord(first) && first.Array![first.Offset] == Handshake && first.Array[first.Offset + 5] == ClientHello;
}
