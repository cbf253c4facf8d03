using System;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace NetCmdlets.Core.Tls;

/// <summary>TLS for a connection this side opens.</summary>
public sealed class TlsClientOptions
{
    /// <summary>The name sent (SNI) and checked against the server's certificate; the host connected to when null.</summary>
    public string? ServerName { get; set; }

    /// <summary>Accept any server certificate (a test server's self-signed one): the connection is encrypted but the server unproven.</summary>
    public bool SkipCertificateCheck { get; set; }

    /// <summary>Trusted besides the system's roots: a test authority, a self-signed server certificate.</summary>
    public X509Certificate2Collection TrustedCertificates { get; } = new();

    /// <summary>Sent when the server asks for one (mutual TLS).</summary>
    public X509Certificate2? ClientCertificate { get; set; }

    public SslProtocols Protocols { get; set; } = TlsDefaults.Protocols;

    public TimeSpan HandshakeTimeout { get; set; } = TlsDefaults.HandshakeTimeout;
}

/// <summary>TLS for the connections a server accepts.</summary>
public sealed class TlsServerOptions
{
    public TlsServerOptions(X509Certificate2 certificate)
    {
        Certificate = certificate ?? throw new ArgumentNullException(nameof(certificate));
        if (!certificate.HasPrivateKey) throw new ArgumentException($"The certificate {certificate.Subject} has no private key: a server needs it.", nameof(certificate));
    }

    public X509Certificate2 Certificate { get; }

    /// <summary>Sent with <see cref="Certificate"/> so clients can build its chain (the intermediates of a PFX or a PEM full chain).</summary>
    public X509Certificate2Collection Intermediates { get; } = new();

#if NET8_0_OR_GREATER
    private System.Net.Security.SslStreamCertificateContext? _context;

    /// <summary>The certificate with its intermediates, built once for every handshake.</summary>
    internal System.Net.Security.SslStreamCertificateContext Context =>
        _context ??= System.Net.Security.SslStreamCertificateContext.Create(Certificate, Intermediates, offline: true);
#endif

    /// <summary>Ask each client for a certificate and refuse one that sends none, or one that does not validate.</summary>
    public bool RequireClientCertificate { get; set; }

    /// <summary>Trusted besides the system's roots when validating client certificates (the authority that issued them).</summary>
    public X509Certificate2Collection TrustedCertificates { get; } = new();

    public SslProtocols Protocols { get; set; } = TlsDefaults.Protocols;

    public TimeSpan HandshakeTimeout { get; set; } = TlsDefaults.HandshakeTimeout;
}

public static class TlsDefaults
{
#if NET8_0_OR_GREATER
    /// <summary>TLS 1.2 and 1.3 only: older versions are broken or deprecated (RFC 8996).</summary>
    public const SslProtocols Protocols = SslProtocols.Tls12 | SslProtocols.Tls13;
#else
    // SslProtocols.Tls13 (12288) is missing from netstandard2.0's reference, not from the runtimes that load it.
    public const SslProtocols Protocols = SslProtocols.Tls12 | (SslProtocols)12288;
#endif

    /// <summary>A handshake that takes longer is a client holding a connection open without speaking (or a server that never answers).</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);
}
