using System;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace NetCmdlets.Core.Net;

/// <summary>Who is at the other end of a UNIX socket, as the kernel says (SO_PEERCRED on Linux): its process, user and group.</summary>
public sealed class UnixPeerCredential
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    public UnixPeerCredential(int processId, int userId, int groupId)
    {
        ProcessId = processId;
        UserId = userId;
        GroupId = groupId;
    }

    public int ProcessId { get; }

    public int UserId { get; }

    public int GroupId { get; }

    public override string ToString() => $"pid {ProcessId}, uid {UserId}, gid {GroupId}";

    /// <summary>The peer of an accepted UNIX socket; null where the platform does not say (not Linux, not a UNIX socket).</summary>
    internal static UnixPeerCredential? Of(Socket socket)
    {
#if NET8_0_OR_GREATER
        if (socket.AddressFamily != AddressFamily.Unix || !OperatingSystem.IsLinux()) return null;
        try
        {
            Span<byte> ucred = stackalloc byte[12];
            if (socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred) < 12) return null;
            return new UnixPeerCredential(MemoryMarshal.Read<int>(ucred), MemoryMarshal.Read<int>(ucred.Slice(4)), MemoryMarshal.Read<int>(ucred.Slice(8)));
        }
        catch (SocketException)
        {
            return null;
        }
#else
        return null;
#endif
    }
}
