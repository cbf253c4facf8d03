using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using NetCmdlets.Core.Tls;

namespace NetCmdlets;

/// <summary>Turns the TLS parameters of the TCP cmdlets into the core's TLS options, loading certificates from files.</summary>
internal static class TlsArguments
{
    /// <summary>The client's TLS, or null when no TLS parameter was given (any of them asks for TLS).</summary>
    public static TlsClientOptions? Client(bool useTls, bool skipCertificateCheck, string? serverName, X509Certificate2? clientCertificate,
        X509Certificate2[]? trusted, SslProtocols? protocols)
    {
        if (!useTls && !skipCertificateCheck && serverName is null && clientCertificate is null && trusted is null && protocols is null) return null;
        var options = new TlsClientOptions
        {
            ServerName = serverName,
            SkipCertificateCheck = skipCertificateCheck,
            ClientCertificate = clientCertificate,
            Protocols = protocols ?? TlsDefaults.Protocols,
        };
        if (trusted is not null) options.TrustedCertificates.AddRange(trusted);
        return options;
    }

    /// <summary>The server's TLS, or null without -Certificate.</summary>
    public static TlsServerOptions? Server(PSCmdlet cmdlet, object? certificate, SecureString? password, string? keyPath, bool requireClientCertificate,
        X509Certificate2[]? trusted, SslProtocols? protocols)
    {
        if (certificate is null)
        {
            if (requireClientCertificate || keyPath is not null || password is not null)
                ThrowInvalid(cmdlet, new ArgumentException("-RequireClientCertificate, -CertificateKeyPath and -CertificatePassword need -Certificate: TLS on the server starts with its certificate."), null);
            return null;
        }
        X509Certificate2 loaded = LoadServerCertificate(cmdlet, certificate, password, keyPath);
        try
        {
            var options = new TlsServerOptions(loaded) { RequireClientCertificate = requireClientCertificate, Protocols = protocols ?? TlsDefaults.Protocols };
            if (trusted is not null) options.TrustedCertificates.AddRange(trusted);
            return options;
        }
        catch (ArgumentException e)
        {
            ThrowInvalid(cmdlet, e, certificate);
            return null;
        }
    }

    private static X509Certificate2 LoadServerCertificate(PSCmdlet cmdlet, object certificate, SecureString? password, string? keyPath)
    {
        object value = certificate is PSObject wrapped ? wrapped.BaseObject : certificate;
        if (value is X509Certificate2 ready) return ready;
        if (value is not string path)
        {
            ThrowInvalid(cmdlet, new ArgumentException($"-Certificate takes an X509Certificate2 or the path of a PFX or PEM file, not a {value.GetType().Name}."), certificate);
            return null!;
        }
        string full = cmdlet.GetUnresolvedProviderPathFromPSPath(path);
        try
        {
            if (keyPath is null) return password is null ? new X509Certificate2(full, (string?)null, X509KeyStorageFlags.Exportable) : new X509Certificate2(full, password, X509KeyStorageFlags.Exportable);
#if NET8_0_OR_GREATER
            using X509Certificate2 pem = X509Certificate2.CreateFromPemFile(full, cmdlet.GetUnresolvedProviderPathFromPSPath(keyPath));
            // Imported again from PKCS#12: Windows' TLS will not use the ephemeral key a PEM file gives.
            return new X509Certificate2(pem.Export(X509ContentType.Pkcs12));
#else
            throw new PlatformNotSupportedException("A PEM certificate with -CertificateKeyPath needs PowerShell 7; convert it to PFX for Windows PowerShell.");
#endif
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or PlatformNotSupportedException or ArgumentException)
        {
            cmdlet.ThrowTerminatingError(new ErrorRecord(e, "CertificateNotLoaded", ErrorCategory.InvalidArgument, path)
            {
                ErrorDetails = new ErrorDetails($"Cannot load the certificate {full}: {e.Message}"),
            });
            return null!;
        }
    }

    private static void ThrowInvalid(PSCmdlet cmdlet, ArgumentException e, object? target) =>
        cmdlet.ThrowTerminatingError(new ErrorRecord(e, "InvalidTlsArgument", ErrorCategory.InvalidArgument, target));
}

/// <summary>
/// Lets a certificate parameter take X509Certificate2 objects or paths of certificate files (PEM, with
/// one or more certificates, or DER), as curl's --cacert does.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class CertificateTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var certificates = new List<X509Certificate2>();
        foreach (object? item in Items(inputData))
        {
            object? value = item is PSObject wrapped ? wrapped.BaseObject : item;
            switch (value)
            {
                case X509Certificate2 certificate:
                    certificates.Add(certificate);
                    break;
                case string path:
                    certificates.AddRange(Load(engineIntrinsics.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path)));
                    break;
                case null:
                    break;
                default:
                    throw new ArgumentTransformationMetadataException($"Expected an X509Certificate2 or the path of a certificate file, not a {value.GetType().Name}.");
            }
        }
        return certificates.ToArray();
    }

    private static IEnumerable Items(object input)
    {
        object value = input is PSObject wrapped ? wrapped.BaseObject : input;
        return value is IEnumerable list and not string ? list : new[] { input };
    }

    private static IEnumerable<X509Certificate2> Load(string path)
    {
        try
        {
#if NET8_0_OR_GREATER
            if (File.ReadAllText(path).Contains("-----BEGIN CERTIFICATE-----"))
            {
                var collection = new X509Certificate2Collection();
                collection.ImportFromPemFile(path);
                return collection;
            }
#endif
            return new[] { new X509Certificate2(path) };
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new ArgumentTransformationMetadataException($"Cannot load the certificate file {path}: {e.Message}", e);
        }
    }
}
