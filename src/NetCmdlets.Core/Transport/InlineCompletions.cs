using System;
using System.Net.Sockets;
using System.Reflection;

namespace NetCmdlets.Core.Transport;

/// <summary>
/// The continuations of this module's socket operations (framing a read, queueing a message, ending a
/// write) are short and never block, so they run on the socket engine's own thread instead of being
/// handed to the thread pool: one thread wake-up less per message, about a quarter less CPU per round
/// trip in the echo benchmark. .NET offers this for all sockets of a process only
/// (DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS, which would change other modules' sockets too); per
/// socket it is a non-public property of .NET 8 and later on Unix, set here if it exists.
/// NETCMDLETS_INLINE_COMPLETIONS=0 turns it off.
/// </summary>
internal static class InlineCompletions
{
#if NET8_0_OR_GREATER
    private static readonly bool s_enabled = Environment.GetEnvironmentVariable("NETCMDLETS_INLINE_COMPLETIONS") != "0";

    private static readonly PropertyInfo? s_property =
        typeof(SafeSocketHandle).GetProperty("PreferInlineCompletions", BindingFlags.Instance | BindingFlags.NonPublic);
#endif

    public static void Prefer(Socket socket) => Set(socket, true);

    /// <summary>Back to the thread pool: before a TLS handshake on the socket, whose continuations sign and build chains.</summary>
    public static void Stop(Socket socket) => Set(socket, false);

    private static void Set(Socket socket, bool inline)
    {
#if NET8_0_OR_GREATER
        if (!s_enabled || s_property?.SetMethod is null) return;
        try
        {
            s_property.SetValue(socket.SafeHandle, inline);
        }
        catch (Exception e) when (e is TargetInvocationException or ArgumentException or MethodAccessException)
        {
            // Another runtime: its own scheduling stays.
        }
#endif
    }
}
