namespace NetCmdlets.Core.Net;

/// <summary>Why a network operation failed; each maps to one error id in the module.</summary>
public enum NetErrorKind
{
    ConnectionRefused,
    ConnectTimeout,
    ReceiveTimeout,
    SendTimeout,
    NameNotResolved,
    AddressInUse,
    AddressNotAvailable,
    ConnectionReset,
    ConnectionClosed,
    Framing,

    /// <summary>Nothing moved on a server's connection for its idle limit, and the server closed it.</summary>
    IdleTimeout,

    /// <summary>A TLS handshake failed; the inner <see cref="Tls.TlsException"/> says why.</summary>
    Tls,
    /// <summary>A server held more than its budget of bytes in unfinished messages and queued replies, and closed the connection holding the most.</summary>
    BufferLimit,
    SocketError,

    /// <summary>A UNIX domain socket was asked for where there are none (the netstandard2.0 build, for Windows PowerShell).</summary>
    UnixSocketNotSupported,

    /// <summary>An outbound proxy did not make the connection; the inner <see cref="Outbound.ProxyException"/> says why.</summary>
    Proxy,
}
