using System;
using System.Collections.ObjectModel;
using System.Net;
using System.Reflection;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace NetCmdlets;

/// <summary>
/// A certificate request (CertificateRequest, with SubjectAlternativeNameBuilder and CopyWithPrivateKey)
/// for New-TlsCertificate. The net8.0 build calls them directly. netstandard2.0 does not declare them,
/// but every runtime the module loads on has them (.NET Framework 4.7.2 in System.Core, .NET in
/// System.Security.Cryptography), so that build finds them when it runs, and calls the same members.
/// </summary>
internal sealed class CertificateBuilder
{
#if NET8_0_OR_GREATER
    private readonly CertificateRequest _request;

    public CertificateBuilder(string subject, RSA key) =>
        _request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    public Collection<X509Extension> Extensions => _request.CertificateExtensions;

    public PublicKey PublicKey => _request.PublicKey;

    public X509Certificate2 CreateSelfSigned(DateTimeOffset notBefore, DateTimeOffset notAfter) => _request.CreateSelfSigned(notBefore, notAfter);

    public X509Certificate2 Create(X509Certificate2 signer, DateTimeOffset notBefore, DateTimeOffset notAfter, byte[] serial) =>
        _request.Create(signer, notBefore, notAfter, serial);

    public static X509Extension AlternativeNames(string[] names, IPAddress[] addresses)
    {
        var builder = new SubjectAlternativeNameBuilder();
        foreach (string name in names) builder.AddDnsName(name);
        foreach (IPAddress address in addresses) builder.AddIpAddress(address);
        return builder.Build();
    }

    public static X509Certificate2 CopyWithPrivateKey(X509Certificate2 certificate, RSA key) => certificate.CopyWithPrivateKey(key);
#else
    private const string Namespace = "System.Security.Cryptography.X509Certificates.";
    private readonly object _request;

    public CertificateBuilder(string subject, RSA key) =>
        _request = Activator.CreateInstance(RuntimeType("CertificateRequest"), subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    public Collection<X509Extension> Extensions => (Collection<X509Extension>)Get("CertificateExtensions");

    public PublicKey PublicKey => (PublicKey)Get("PublicKey");

    public X509Certificate2 CreateSelfSigned(DateTimeOffset notBefore, DateTimeOffset notAfter) =>
        (X509Certificate2)Call(_request, "CreateSelfSigned", new[] { typeof(DateTimeOffset), typeof(DateTimeOffset) }, notBefore, notAfter);

    public X509Certificate2 Create(X509Certificate2 signer, DateTimeOffset notBefore, DateTimeOffset notAfter, byte[] serial) =>
        (X509Certificate2)Call(_request, "Create", new[] { typeof(X509Certificate2), typeof(DateTimeOffset), typeof(DateTimeOffset), typeof(byte[]) }, signer, notBefore, notAfter, serial);

    public static X509Extension AlternativeNames(string[] names, IPAddress[] addresses)
    {
        object builder = Activator.CreateInstance(RuntimeType("SubjectAlternativeNameBuilder"));
        foreach (string name in names) Call(builder, "AddDnsName", new[] { typeof(string) }, name);
        foreach (IPAddress address in addresses) Call(builder, "AddIpAddress", new[] { typeof(IPAddress) }, address);
        return (X509Extension)Call(builder, "Build", new[] { typeof(bool) }, false);
    }

    public static X509Certificate2 CopyWithPrivateKey(X509Certificate2 certificate, RSA key)
    {
        MethodInfo copy = RuntimeType("RSACertificateExtensions").GetMethod("CopyWithPrivateKey", new[] { typeof(X509Certificate2), typeof(RSA) })
            ?? throw Missing("RSACertificateExtensions.CopyWithPrivateKey");
        return (X509Certificate2)Invoke(copy, null, certificate, key);
    }

    private object Get(string property) =>
        (_request.GetType().GetProperty(property) ?? throw Missing($"CertificateRequest.{property}")).GetValue(_request);

    private static object Call(object target, string method, Type[] types, params object[] arguments) =>
        Invoke(target.GetType().GetMethod(method, types) ?? throw Missing($"{target.GetType().Name}.{method}"), target, arguments);

    /// <summary>Calls through reflection, with the member's own exception rather than the wrapper reflection adds.</summary>
    private static object Invoke(MethodInfo method, object? target, params object[] arguments)
    {
        try
        {
            return method.Invoke(target, arguments);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    /// <summary>The runtime's type of this name, from the assemblies that hold it on .NET Framework and on .NET.</summary>
    private static Type RuntimeType(string name)
    {
        foreach (string assembly in new[] { "System.Security.Cryptography", "System.Security.Cryptography.X509Certificates", "System.Core" })
        {
            Type? type = Type.GetType($"{Namespace}{name}, {assembly}", throwOnError: false);
            if (type is not null) return type;
        }
        throw Missing(name);
    }

    private static PlatformNotSupportedException Missing(string name) =>
        new($"New-TlsCertificate needs {name}, which this .NET does not have: it needs .NET Framework 4.7.2 or later, or PowerShell 7.");
#endif
}
