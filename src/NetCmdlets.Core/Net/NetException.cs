using System;
using System.Net.Sockets;

namespace NetCmdlets.Core.Net;

/// <summary>A network failure with its cause and the endpoint it concerns.</summary>
public sealed class NetException : Exception
{
    public NetException(NetErrorKind kind, string target, string message, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        Target = target;
    }

    public NetErrorKind Kind { get; }

    /// <summary>The endpoint or host name the failure concerns, as the user would write it.</summary>
    public string Target { get; }

    /// <summary>Names the cause of a socket error, so callers need not know platform error codes.</summary>
    public static NetException FromSocket(SocketException error, string target, string action)
    {
        NetErrorKind kind = error.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => NetErrorKind.ConnectionRefused,
            // A connection that was up and then timed out (the peer vanished) is lost, not a failed connect.
            SocketError.TimedOut => action.StartsWith("Connecting", StringComparison.Ordinal) ? NetErrorKind.ConnectTimeout : NetErrorKind.ConnectionReset,
            SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => NetErrorKind.NameNotResolved,
            SocketError.AddressAlreadyInUse => NetErrorKind.AddressInUse,
            SocketError.AddressNotAvailable => NetErrorKind.AddressNotAvailable,
            SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown => NetErrorKind.ConnectionReset,
            _ => NetErrorKind.SocketError,
        };
        return new NetException(kind, target, $"{action} {target} failed: {error.Message}", error);
    }
}
