using System.Linq;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace NetCmdlets.Core.Tls;

/// <summary>
/// Validates the peer's certificate for a handshake (the system's roots, plus certificates the user
/// trusts for this connection) and remembers why it refused one, so the error can say which.
/// </summary>
internal sealed class CertificateCheck
{
    private readonly X509Certificate2Collection _trusted;
    private readonly bool _skip;
    private readonly bool _certificateRequired;
    private readonly bool _ofClient;
    private SslPolicyErrors _errors;
    private X509ChainStatusFlags _status;

    /// <param name="ofClient">A server checking a client's certificate (which names no host) rather than a client checking the server's.</param>
    public CertificateCheck(X509Certificate2Collection trusted, bool skip, bool certificateRequired, bool ofClient)
    {
        _trusted = trusted;
        _skip = skip;
        _certificateRequired = certificateRequired;
        _ofClient = ofClient;
    }

    /// <summary>Why the certificate was refused, or null when it was not.</summary>
    public TlsFailure? Failure { get; private set; }

    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (_skip) return true;
        if (certificate is null)
        {
            // A server that asked for no client certificate gets none, and that is fine.
            if (!_certificateRequired) return true;
            _errors = SslPolicyErrors.RemoteCertificateNotAvailable;
            Failure = TlsFailure.ClientCertificateRequired;
            return false;
        }
        X509ChainStatusFlags status = Flags(chain);
        if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0 && _trusted.Count > 0)
        {
            using var leaf = new X509Certificate2(certificate);
            X509ChainStatusFlags custom = BuildWithTrusted(leaf, chain);
            if (custom == X509ChainStatusFlags.NoError) errors &= ~SslPolicyErrors.RemoteCertificateChainErrors;
            status = custom;
        }
        // A client certificate names a person or a machine, not a host: only its chain counts.
        if (_ofClient) errors &= ~SslPolicyErrors.RemoteCertificateNameMismatch;
        _errors = errors;
        _status = status;
        if (errors == SslPolicyErrors.None) return true;
        Failure = (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0 ? TlsFailure.NameMismatch
            : (status & (X509ChainStatusFlags.NotTimeValid | X509ChainStatusFlags.NotTimeNested)) != 0 ? TlsFailure.Expired
            : TlsFailure.Untrusted;
        return false;
    }

    public string Describe() => Failure switch
    {
        TlsFailure.NameMismatch => "the certificate is not for that name (use -TlsServerName for another, or -SkipCertificateCheck for a test server).",
        TlsFailure.Expired => "the certificate has expired, or is not valid yet.",
        TlsFailure.ClientCertificateRequired => "the server requires a client certificate, and none was sent.",
        _ when _ofClient => $"the client's certificate is not trusted ({Why()}); trust the authority that issued it with -TrustedCertificate.",
        _ => $"the certificate is not trusted ({Why()}); trust its authority with -TrustedCertificate, or use -SkipCertificateCheck for a test server.",
    };

    private string Why() => _status == X509ChainStatusFlags.NoError ? _errors.ToString() : _status.ToString();

    private static X509ChainStatusFlags Flags(X509Chain? chain) =>
        chain?.ChainStatus.Aggregate(X509ChainStatusFlags.NoError, (all, s) => all | s.Status) ?? X509ChainStatusFlags.NoError;

    /// <summary>Builds the chain again with the user's certificates as roots; returns what is still wrong.</summary>
    private X509ChainStatusFlags BuildWithTrusted(X509Certificate2 certificate, X509Chain? original)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ExtraStore.AddRange(_trusted);
        if (original is not null)
        {
            // The intermediates the peer sent, and the use the certificate must be fit for (server or client
            // authentication): the same checks as the system's chain, with the user's roots added.
            chain.ChainPolicy.ExtraStore.AddRange(original.ChainPolicy.ExtraStore);
            foreach (X509ChainElement element in original.ChainElements) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            foreach (System.Security.Cryptography.Oid usage in original.ChainPolicy.ApplicationPolicy) chain.ChainPolicy.ApplicationPolicy.Add(usage);
        }
#if NET8_0_OR_GREATER
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_trusted);
        chain.Build(certificate);
        return Flags(chain);
#else
        // No custom trust store here: accept an unknown root, then insist that the root is one of the user's.
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority;
        chain.Build(certificate);
        X509ChainStatusFlags status = Flags(chain) & ~X509ChainStatusFlags.UntrustedRoot;
        X509Certificate2 root = chain.ChainElements[chain.ChainElements.Count - 1].Certificate;
        bool trustedRoot = _trusted.Cast<X509Certificate2>().Any(t => t.Thumbprint == root.Thumbprint);
        return trustedRoot ? status : status | X509ChainStatusFlags.UntrustedRoot;
#endif
    }
}
