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
    SocketError,
}
