using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
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
    public static TlsClientOptions? Client(PSCmdlet cmdlet, bool useTls, bool skipCertificateCheck, string? serverName, X509Certificate2? clientCertificate,
        X509Certificate2[]? trusted, SslProtocols? protocols)
    {
        if (!useTls && !skipCertificateCheck && serverName is null && clientCertificate is null && trusted is null && protocols is null) return null;
        if (clientCertificate is { HasPrivateKey: false })
            ThrowInvalid(cmdlet, new ArgumentException($"The client certificate {clientCertificate.Subject} has no private key: without it, it proves nothing."), clientCertificate);
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
        (X509Certificate2 loaded, X509Certificate2Collection intermediates) = LoadServerCertificate(cmdlet, certificate, password, keyPath);
        try
        {
            var options = new TlsServerOptions(loaded) { RequireClientCertificate = requireClientCertificate, Protocols = protocols ?? TlsDefaults.Protocols };
            options.Intermediates.AddRange(intermediates);
            if (trusted is not null) options.TrustedCertificates.AddRange(trusted);
            return options;
        }
        catch (ArgumentException e)
        {
            ThrowInvalid(cmdlet, e, certificate);
            return null;
        }
    }

    /// <summary>The certificate with its private key, and the others of its file (intermediates, sent to clients with it).</summary>
    private static (X509Certificate2, X509Certificate2Collection) LoadServerCertificate(PSCmdlet cmdlet, object certificate, SecureString? password, string? keyPath)
    {
        object value = certificate is PSObject wrapped ? wrapped.BaseObject : certificate;
        if (value is X509Certificate2 ready) return (ready, new X509Certificate2Collection());
        if (value is not string path)
        {
            ThrowInvalid(cmdlet, new ArgumentException($"-Certificate takes an X509Certificate2 or the path of a PFX or PEM file, not a {value.GetType().Name}."), certificate);
            return default;
        }
        string full = path;
        try
        {
            full = cmdlet.GetUnresolvedProviderPathFromPSPath(path);
            var all = new X509Certificate2Collection();
            X509Certificate2 leaf;
            if (keyPath is null)
            {
                all.Import(full, Plain(password), X509KeyStorageFlags.Exportable);
                leaf = all.Cast<X509Certificate2>().FirstOrDefault(c => c.HasPrivateKey)
                    ?? throw new CryptographicException($"{full} holds no certificate with its private key.");
            }
            else
            {
#if NET8_0_OR_GREATER
                string key = cmdlet.GetUnresolvedProviderPathFromPSPath(keyPath);
                using X509Certificate2 pem = password is null
                    ? X509Certificate2.CreateFromPemFile(full, key)
                    : X509Certificate2.CreateFromEncryptedPemFile(full, Plain(password), key);
                // Imported again from PKCS#12: Windows' TLS will not use the ephemeral key a PEM file gives.
                leaf = new X509Certificate2(pem.Export(X509ContentType.Pkcs12));
                all.ImportFromPemFile(full);
#else
                throw new PlatformNotSupportedException("A PEM certificate with -CertificateKeyPath needs PowerShell 7; convert it to PFX for Windows PowerShell.");
#endif
            }
            var intermediates = new X509Certificate2Collection();
            foreach (X509Certificate2 other in all)
            {
                if (other.Thumbprint != leaf.Thumbprint) intermediates.Add(other);
            }
            return (leaf, intermediates);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or PlatformNotSupportedException or ArgumentException or ItemNotFoundException or System.Management.Automation.DriveNotFoundException or ProviderNotFoundException)
        {
            cmdlet.ThrowTerminatingError(new ErrorRecord(e, "CertificateNotLoaded", ErrorCategory.InvalidArgument, path)
            {
                ErrorDetails = new ErrorDetails($"Cannot load the certificate {full}: {e.Message}"),
            });
            return default;
        }
    }

    private static string? Plain(SecureString? secret)
    {
        if (secret is null) return null;
        IntPtr text = Marshal.SecureStringToGlobalAllocUnicode(secret);
        try
        {
            return Marshal.PtrToStringUni(text);
        }
        finally
        {
            Marshal.ZeroFreeGlobalAllocUnicode(text);
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
