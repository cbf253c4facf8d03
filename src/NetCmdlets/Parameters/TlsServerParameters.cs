using System.Management.Automation;
using System.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using NetCmdlets.Core.Tls;

namespace NetCmdlets.Parameters;

/// <summary>TLS as the side that accepts: its certificate, and whether clients must prove themselves.</summary>
internal sealed class TlsServerParameters
{
    /// <summary>Speak TLS with this certificate: an X509Certificate2 with its private key, or the path of a PFX file (or of a PEM certificate, with -CertificateKeyPath).</summary>
    [Parameter]
    public object? Certificate { get; set; }

    /// <summary>The password of a PFX file given to -Certificate.</summary>
    [Parameter]
    public SecureString? CertificatePassword { get; set; }

    /// <summary>The PEM private key of a PEM certificate given to -Certificate.</summary>
    [Parameter]
    public string? CertificateKeyPath { get; set; }

    /// <summary>With -Certificate: each client must prove itself with a certificate that validates (mutual TLS).</summary>
    [Parameter]
    public SwitchParameter RequireClientCertificate { get; set; }

    /// <summary>Certificates (or files of them) trusted besides the system's roots for the peer's certificate.</summary>
    [Parameter]
    [CertificateTransformation]
    public X509Certificate2[]? TrustedCertificate { get; set; }

    /// <summary>With -Certificate: the TLS versions allowed; Tls12 and Tls13 by default.</summary>
    [Parameter]
    public SslProtocols? TlsProtocol { get; set; }

    /// <summary>The server's TLS, or null without -Certificate.</summary>
    public TlsServerOptions? Resolve(PSCmdlet cmdlet) =>
        TlsArguments.Server(cmdlet, Certificate, CertificatePassword, CertificateKeyPath, RequireClientCertificate, TrustedCertificate, TlsProtocol);
}
