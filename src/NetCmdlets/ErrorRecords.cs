using System.Management.Automation;
using NetCmdlets.Core.Net;

namespace NetCmdlets;

/// <summary>One error id and category per cause, so scripts can tell failures apart.</summary>
internal static class ErrorRecords
{
    public static ErrorRecord From(NetException error)
    {
        (string id, ErrorCategory category) = error.Kind switch
        {
            NetErrorKind.ConnectionRefused => ("ConnectionRefused", ErrorCategory.ConnectionError),
            NetErrorKind.ConnectTimeout => ("ConnectTimeout", ErrorCategory.OperationTimeout),
            NetErrorKind.ReceiveTimeout => ("ReceiveTimeout", ErrorCategory.OperationTimeout),
            NetErrorKind.SendTimeout => ("SendTimeout", ErrorCategory.OperationTimeout),
            NetErrorKind.NameNotResolved => ("NameNotResolved", ErrorCategory.ObjectNotFound),
            NetErrorKind.AddressInUse => ("AddressInUse", ErrorCategory.ResourceBusy),
            NetErrorKind.AddressNotAvailable => ("AddressNotAvailable", ErrorCategory.InvalidArgument),
            NetErrorKind.ConnectionReset => ("ConnectionReset", ErrorCategory.ConnectionError),
            NetErrorKind.ConnectionClosed => ("ConnectionClosed", ErrorCategory.ConnectionError),
            // The framing and the rule broken, so a script can tell a too-long line from a bad length prefix.
            NetErrorKind.Framing => (error.InnerException is Core.Framing.FramingException framing ? framing.ErrorId : "FramingError", ErrorCategory.InvalidData),
            NetErrorKind.IdleTimeout => ("IdleTimeout", ErrorCategory.OperationTimeout),
            NetErrorKind.BufferLimit => ("BufferLimitExceeded", ErrorCategory.LimitsExceeded),
            NetErrorKind.Tls => (error.InnerException is Core.Tls.TlsException tls ? tls.ErrorId : "TlsHandshakeFailed", ErrorCategory.SecurityError),
            NetErrorKind.UnixSocketNotSupported => ("UnixSocketNotSupported", ErrorCategory.NotImplemented),
            NetErrorKind.Proxy => error.InnerException is Core.Outbound.ProxyException proxy
                ? (proxy.ErrorId, proxy.Failure switch
                {
                    Core.Outbound.ProxyFailure.AuthenticationFailed => ErrorCategory.AuthenticationError,
                    Core.Outbound.ProxyFailure.Refused => ErrorCategory.PermissionDenied,
                    Core.Outbound.ProxyFailure.HostUnreachable => ErrorCategory.ResourceUnavailable,
                    _ => ErrorCategory.ConnectionError,
                })
                : ("ProxyFailed", ErrorCategory.ConnectionError),
            _ => ("SocketError", ErrorCategory.ConnectionError),
        };
        return new ErrorRecord(error, id, category, error.Target);
    }

    /// <summary>A handler that threw: the handler's exception under one id, with the message it failed on as target.</summary>
    public static ErrorRecord HandlerFailed(RuntimeException error, object message) =>
        new(error, "HandlerFailed", error.ErrorRecord.CategoryInfo.Category, message)
        {
            ErrorDetails = new ErrorDetails($"The handler failed on a message from {TargetOf(message)}: {error.Message}"),
        };

    /// <summary>Receive (or Send -Receive) on a server's connection, whose messages arrive through the server.</summary>
    public static ErrorRecord ServerConnection(System.InvalidOperationException error, object connection) =>
        new(error, "ServerConnection", ErrorCategory.InvalidOperation, connection);

    private static string TargetOf(object message) =>
        message is Core.Messages.NetMessage m ? m.RemoteEndPoint.ToString() : message.ToString() ?? string.Empty;
}
