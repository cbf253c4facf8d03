using System.Management.Automation;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using NetCmdlets.Core.Tls;

namespace NetCmdlets.Parameters;

/// <summary>TLS as the side that connects: whether to speak it, and how to check the server.</summary>
internal sealed class TlsClientParameters
{
    /// <summary>Speak TLS: the server's certificate is checked against -ComputerName (or -TlsServerName) and the trusted roots.</summary>
    [Parameter]
    public SwitchParameter UseTls { get; set; }

    /// <summary>With TLS: accept any server certificate (a test server's self-signed one); implies -UseTls.</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>With TLS: the name sent (SNI) and checked against the certificate, instead of -ComputerName; implies -UseTls.</summary>
    [Parameter]
    public string? TlsServerName { get; set; }

    /// <summary>With TLS: certificates (or files of them) trusted besides the system's roots, such as a test authority; implies -UseTls.</summary>
    [Parameter]
    [CertificateTransformation]
    public X509Certificate2[]? TrustedCertificate { get; set; }

    /// <summary>With TLS: the certificate (with its private key) to prove this client with, for mutual TLS; implies -UseTls.</summary>
    [Parameter]
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>With TLS: the versions allowed; Tls12 and Tls13 by default; implies -UseTls.</summary>
    [Parameter]
    public SslProtocols? TlsProtocol { get; set; }

    /// <summary>The client's TLS, or null when none of these was given (any of them asks for TLS).</summary>
    public TlsClientOptions? Resolve(PSCmdlet cmdlet) =>
        TlsArguments.Client(cmdlet, UseTls, SkipCertificateCheck, TlsServerName, ClientCertificate, TrustedCertificate, TlsProtocol);
}
