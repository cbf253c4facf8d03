using System;
using System.IO;
using System.Net.Sockets;

namespace NetCmdlets.Core.Net;

/// <summary>Turns what a stream over a socket throws into a <see cref="NetException"/> that names the cause.</summary>
internal static class Errors
{
    public static NetException FromStream(Exception error, string peer, string action) => error switch
    {
        NetException net => net,
        SocketException socket => NetException.FromSocket(socket, peer, action),
        // NetworkStream wraps the socket's error in an IOException.
        IOException { InnerException: SocketException socket } => NetException.FromSocket(socket, peer, action),
        ObjectDisposedException => new NetException(NetErrorKind.ConnectionClosed, peer, $"{action} {peer} failed: the connection was closed."),
        IOException io => new NetException(NetErrorKind.ConnectionReset, peer, $"{action} {peer} failed: {io.Message}", io),
        _ => new NetException(NetErrorKind.SocketError, peer, $"{action} {peer} failed: {error.Message}", error),
    };
}
