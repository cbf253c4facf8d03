using System;

namespace NetCmdlets.Core.Tls;

/// <summary>Why a TLS handshake failed; with it the error id says which (TlsHandshakeFailed.NameMismatch).</summary>
public enum TlsFailure
{
    /// <summary>The peer's certificate is not for the name asked for.</summary>
    NameMismatch,

    /// <summary>The peer's certificate does not chain to a trusted root (self-signed, an unknown authority).</summary>
    Untrusted,

    /// <summary>The peer's certificate is expired or not yet valid.</summary>
    Expired,

    /// <summary>The peer does not speak TLS: plain text where a handshake was expected.</summary>
    NotTls,

    /// <summary>The handshake did not finish in time.</summary>
    Timeout,

    /// <summary>The server requires a client certificate and the client sent none.</summary>
    ClientCertificateRequired,

    /// <summary>A client started a TLS handshake on a port that speaks plain text.</summary>
    PlainTextPort,

    /// <summary>The peer turned down the certificate this side presented (a TLS alert: unknown CA, bad or expired certificate).</summary>
    CertificateRejected,

    /// <summary>Any other failure (no protocol version or cipher in common).</summary>
    Failed,
}

/// <summary>A TLS handshake that failed, and why.</summary>
public sealed class TlsException : Exception
{
    public TlsException(TlsFailure failure, string message, Exception? inner = null, bool sentNothing = false) : base(message, inner)
    {
        Failure = failure;
        SentNothing = sentNothing;
    }

    public TlsFailure Failure { get; }

    /// <summary>The peer closed before sending a single byte: a health check or a port scan rather than a client.</summary>
    public bool SentNothing { get; }

    /// <summary>The error id: TlsHandshakeFailed.NameMismatch, TlsHandshakeFailed.NotTls, ...</summary>
    public string ErrorId => $"TlsHandshakeFailed.{Failure}";
}
