using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace NetCmdlets.Commands;

/// <summary>
/// Makes a certificate with its private key for TLS tests on any platform (New-SelfSignedCertificate is
/// Windows only): self-signed, signed by another (-Signer), or an authority to sign others.
/// </summary>
[Cmdlet(VerbsCommon.New, "TlsCertificate")]
[OutputType(typeof(X509Certificate2))]
public sealed class NewTlsCertificateCommand : PSCmdlet
{
    /// <summary>The names the certificate is for; localhost (with 127.0.0.1 and ::1) when neither names nor addresses are given.</summary>
    [Parameter(Position = 0)]
    public string[]? DnsName { get; set; }

    /// <summary>The addresses the certificate is for.</summary>
    [Parameter]
    public string[]? IPAddress { get; set; }

    /// <summary>The subject; CN= and the first name (or address) by default.</summary>
    [Parameter]
    public string? Subject { get; set; }

    [Parameter]
    public DateTime? NotBefore { get; set; }

    [Parameter]
    public DateTime? NotAfter { get; set; }

    /// <summary>An authority (with its private key) that signs the new certificate; self-signed without it.</summary>
    [Parameter]
    public X509Certificate2? Signer { get; set; }

    /// <summary>Make an authority that can sign other certificates (-Signer), to trust with -TrustedCertificate or curl --cacert.</summary>
    [Parameter]
    public SwitchParameter CertificateAuthority { get; set; }

    protected override void EndProcessing()
    {
        try
        {
            WriteObject(Create());
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or FormatException)
        {
            ThrowTerminatingError(new ErrorRecord(e, "CertificateNotCreated", ErrorCategory.InvalidArgument, Subject));
        }
        catch (PlatformNotSupportedException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "CertificateNotCreated", ErrorCategory.NotImplemented, Subject));
        }
    }

    private X509Certificate2 Create()
    {
        string[] names = DnsName ?? (IPAddress is null ? new[] { "localhost" } : Array.Empty<string>());
        string[] addresses = IPAddress ?? (DnsName is null ? new[] { "127.0.0.1", "::1" } : Array.Empty<string>());
        string subject = Subject ?? $"CN={names.Concat(addresses).FirstOrDefault() ?? "NetCmdlets test"}";
        using RSA key = RSA.Create();
        key.KeySize = 2048;
        var request = new CertificateBuilder(subject, key);
        if (CertificateAuthority)
        {
            request.Extensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.Extensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        }
        else
        {
            request.Extensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
            request.Extensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
            // Both uses: the same test certificate serves a server, or a client in mutual TLS.
            request.Extensions.Add(new X509EnhancedKeyUsageExtension(
                new OidCollection { new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2") }, false));
        }
        if (names.Length + addresses.Length > 0)
            request.Extensions.Add(CertificateBuilder.AlternativeNames(names, addresses.Select(System.Net.IPAddress.Parse).ToArray()));
        request.Extensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        DateTimeOffset notBefore = NotBefore ?? DateTimeOffset.Now.AddMinutes(-5);
        DateTimeOffset notAfter = NotAfter ?? DateTimeOffset.Now.AddDays(30);
        X509Certificate2 made;
        if (Signer is null)
        {
            made = request.CreateSelfSigned(notBefore, notAfter);
        }
        else
        {
            if (!Signer.HasPrivateKey) throw new ArgumentException($"The signer {Signer.Subject} has no private key.");
            // Within the signer's own validity, as chain validation requires.
            if (notAfter > Signer.NotAfter) notAfter = Signer.NotAfter;
            if (notBefore < Signer.NotBefore) notBefore = Signer.NotBefore;
            byte[] serial = new byte[12];
            using (var random = RandomNumberGenerator.Create()) random.GetBytes(serial);
            serial[0] &= 0x7F;
            using X509Certificate2 signed = request.Create(Signer, notBefore, notAfter, serial);
            made = CertificateBuilder.CopyWithPrivateKey(signed, key);
        }
        // Imported again from PKCS#12, so the private key is one Windows' TLS will use too.
        using (made)
        {
            return new X509Certificate2(made.Export(X509ContentType.Pkcs12), (string?)null, X509KeyStorageFlags.Exportable);
        }
    }
}
