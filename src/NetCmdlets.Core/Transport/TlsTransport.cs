using System;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core.Tls;

namespace NetCmdlets.Core.Transport;

/// <summary>
/// TLS over another transport (a socket): an <see cref="SslStream"/> laid over its stream, so the
/// connection's loops read and write plain text and never know. Made by a finished handshake.
/// </summary>
public sealed class TlsTransport : ConnectionTransport
{
    private readonly ConnectionTransport _inner;
    private readonly SslStream _ssl;

    private TlsTransport(ConnectionTransport inner, SslStream ssl)
    {
        _inner = inner;
        _ssl = ssl;
        Protocol = ssl.SslProtocol;
#if NET8_0_OR_GREATER
        CipherSuite = ssl.NegotiatedCipherSuite.ToString();
#else
        CipherSuite = $"{ssl.CipherAlgorithm} {ssl.CipherStrength}-bit, {ssl.HashAlgorithm}, {ssl.KeyExchangeAlgorithm}";
#endif
        RemoteCertificate = ssl.RemoteCertificate is null ? null : new X509Certificate2(ssl.RemoteCertificate);
    }

    /// <summary>The TLS version agreed on.</summary>
    public SslProtocols Protocol { get; }

    /// <summary>The cipher suite agreed on (TLS_AES_256_GCM_SHA384, say).</summary>
    public string CipherSuite { get; }

    /// <summary>The peer's certificate: the server's, or the client's when it sent one.</summary>
    public X509Certificate2? RemoteCertificate { get; }

    public override Stream Stream => _ssl;

    public override EndPoint LocalEndPoint => _inner.LocalEndPoint;

    public override EndPoint RemoteEndPoint => _inner.RemoteEndPoint;

    public override Net.UnixPeerCredential? PeerCredential => _inner.PeerCredential;

#if NET8_0_OR_GREATER
    // SslStream takes zero-byte reads: it completes when a record arrives, holding no buffer meanwhile.
    public override bool CanWaitForData => true;

    public override ValueTask<int> WaitForDataAsync() => _ssl.ReadAsync(Memory<byte>.Empty);
#else
    public override bool CanWaitForData => false;

    public override Task<int> WaitForDataAsync() => Task.FromResult(0);
#endif

    private readonly object _gate = new();
    private Task? _closeNotify;

    public override void ShutdownSend()
    {
        // close_notify first, so the peer knows the end is real and not a truncation; then the TCP FIN.
        _ = CloseNotify().ContinueWith(_ => _inner.ShutdownSend(), TaskScheduler.Default);
    }

    public override void Abort()
    {
        _inner.Abort();
        _ssl.Dispose();
    }

    public override void ResetOnAbort() => _inner.ResetOnAbort();

    /// <summary>Gracefully: close_notify (at most a second's wait for the peer to take it), then the TCP end.</summary>
    public override void Close() => _ = CloseAsync();

    private async Task CloseAsync()
    {
        Task notify = CloseNotify();
        await Task.WhenAny(notify, Task.Delay(CloseNotifyLimit)).ConfigureAwait(false);
        _inner.Close();
        _ssl.Dispose();
    }

    private static readonly TimeSpan CloseNotifyLimit = TimeSpan.FromSeconds(1);

    /// <summary>Sends close_notify once, for a half-close and a close alike.</summary>
    private Task CloseNotify()
    {
        lock (_gate) return _closeNotify ??= SendCloseNotifyAsync();
    }

    private async Task SendCloseNotifyAsync()
    {
        try
        {
#if NET8_0_OR_GREATER
            await _ssl.ShutdownAsync().ConfigureAwait(false);
#else
            await Task.CompletedTask.ConfigureAwait(false);
#endif
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or NotSupportedException)
        {
            // Gone already: the FIN (or the reset) says enough.
        }
    }

    /// <summary>Shakes hands as the client over <paramref name="inner"/>; on failure the caller disposes <paramref name="inner"/>.</summary>
    /// <param name="host">What was connected to: the name checked unless <see cref="TlsClientOptions.ServerName"/> says another.</param>
    /// <exception cref="TlsException">The handshake failed; its Failure says why.</exception>
    public static async Task<TlsTransport> AuthenticateAsClientAsync(ConnectionTransport inner, TlsClientOptions options, string host, CancellationToken cancellationToken)
    {
        var check = new CertificateCheck(options.TrustedCertificates, options.SkipCertificateCheck, certificateRequired: true, ofClient: false);
        var sniffed = new FirstBytesStream(inner.Stream);
        var ssl = new SslStream(sniffed, leaveInnerStreamOpen: false, check.Validate);
        string name = options.ServerName ?? host;
        await HandshakeAsync(ssl, sniffed, check, options.HandshakeTimeout, $"{name} ({inner.RemoteEndPoint})", cancellationToken, token =>
        {
#if NET8_0_OR_GREATER
            var authentication = new SslClientAuthenticationOptions
            {
                TargetHost = name,
                EnabledSslProtocols = options.Protocols,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            };
            if (options.ClientCertificate is not null) authentication.ClientCertificates = new X509CertificateCollection { options.ClientCertificate };
            return ssl.AuthenticateAsClientAsync(authentication, token);
#else
            var certificates = options.ClientCertificate is null ? new X509CertificateCollection() : new X509CertificateCollection { options.ClientCertificate };
            return ssl.AuthenticateAsClientAsync(name, certificates, options.Protocols, checkCertificateRevocation: false);
#endif
        }).ConfigureAwait(false);
        return new TlsTransport(inner, ssl);
    }

    /// <summary>Shakes hands as the server over <paramref name="inner"/>; on failure the caller disposes <paramref name="inner"/>.</summary>
    /// <exception cref="TlsException">The handshake failed; its Failure says why.</exception>
    public static async Task<TlsTransport> AuthenticateAsServerAsync(ConnectionTransport inner, TlsServerOptions options, CancellationToken cancellationToken)
    {
        var check = new CertificateCheck(options.TrustedCertificates, skip: false, certificateRequired: options.RequireClientCertificate, ofClient: true);
        var sniffed = new FirstBytesStream(inner.Stream);
        var ssl = new SslStream(sniffed, leaveInnerStreamOpen: false, check.Validate);
        await HandshakeAsync(ssl, sniffed, check, options.HandshakeTimeout, inner.PeerName, cancellationToken, token =>
        {
#if NET8_0_OR_GREATER
            var authentication = new SslServerAuthenticationOptions
            {
                ServerCertificateContext = options.Context,
                ClientCertificateRequired = options.RequireClientCertificate,
                EnabledSslProtocols = options.Protocols,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            };
            return ssl.AuthenticateAsServerAsync(authentication, token);
#else
            return ssl.AuthenticateAsServerAsync(options.Certificate, options.RequireClientCertificate, options.Protocols, checkCertificateRevocation: false);
#endif
        }).ConfigureAwait(false);
        return new TlsTransport(inner, ssl);
    }

    private static async Task HandshakeAsync(SslStream ssl, FirstBytesStream sniffed, CertificateCheck check, TimeSpan timeout, string peer,
        CancellationToken cancellationToken, Func<CancellationToken, Task> handshake)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout != Timeout.InfiniteTimeSpan) timer.CancelAfter(timeout);
        Task shaking = handshake(timer.Token);
        try
        {
#if NET8_0_OR_GREATER
            await shaking.ConfigureAwait(false);
#else
            // netstandard2.0's handshake takes no token: a stalled peer is let go by disposing the stream.
            using (timer.Token.Register(ssl.Dispose))
            {
                await shaking.ConfigureAwait(false);
            }
            // Finished just as the time ran out: the stream may be gone with it.
            if (timer.IsCancellationRequested) throw new OperationCanceledException(timer.Token);
#endif
        }
        catch (Exception e) when (e is not TlsException)
        {
            ssl.Dispose();
            if (cancellationToken.IsCancellationRequested) throw new OperationCanceledException(cancellationToken);
            if (timer.IsCancellationRequested)
            {
                // A peer that sent a few bytes of plain text and waits: plain text, not slowness.
                ArraySegment<byte> first = sniffed.First;
                if (first.Count > 0 && first.Array![first.Offset] != 0x16)
                    throw new TlsException(TlsFailure.NotTls, $"{peer} does not speak TLS: it sent {Describe(first)} where a TLS handshake was expected.", e);
                throw new TlsException(TlsFailure.Timeout, $"The TLS handshake with {peer} did not finish within {timeout.TotalSeconds:0.###} s.", e);
            }
            throw Explain(e, sniffed, check, peer);
        }
        sniffed.StopKeeping();
    }

    private static TlsException Explain(Exception error, FirstBytesStream sniffed, CertificateCheck check, string peer)
    {
        if (check.Failure is TlsFailure failure)
            return new TlsException(failure, $"The TLS handshake with {peer} failed: {check.Describe()}", error);
        ArraySegment<byte> first = sniffed.First;
        if (first.Count == 0 && error is IOException or AuthenticationException)
            return new TlsException(TlsFailure.Failed, $"{peer} closed the connection during the TLS handshake, before sending anything.", error, sentNothing: true);
        if (first.Count > 0 && !TlsRecords.LooksLikeRecord(first) && !(first.Count < 5 && (first.Array![first.Offset] == 0x16 || first.Array[first.Offset] == 0x15)))
            return new TlsException(TlsFailure.NotTls, $"{peer} does not speak TLS: it sent {Describe(first)} where a TLS handshake was expected.", error);
        string said = error.GetBaseException().Message;
        if (RejectedCertificate(said) is { } alert)
            return new TlsException(TlsFailure.CertificateRejected,
                $"The TLS handshake with {peer} failed: {peer} rejected the certificate presented to it (TLS alert: {alert}); it must trust that certificate, or the authority that signed it.", error);
        return new TlsException(TlsFailure.Failed, $"The TLS handshake with {peer} failed: {said}", error);
    }

    /// <summary>The alerts a peer sends when it does not accept the certificate it was shown, as OpenSSL names them.</summary>
    private static readonly string[] s_certificateAlerts =
    {
        "unknown ca", "bad certificate", "certificate unknown", "certificate expired", "certificate revoked", "unsupported certificate", "certificate required",
    };

    /// <summary>The alert, when the handshake failed because the peer refused this side's certificate; null otherwise.</summary>
    private static string? RejectedCertificate(string message)
    {
        int alert = message.IndexOf("alert ", StringComparison.OrdinalIgnoreCase);
        if (alert < 0) return null;
        string rest = message.Substring(alert + 6);
        foreach (string name in s_certificateAlerts)
        {
            if (rest.StartsWith(name, StringComparison.OrdinalIgnoreCase)) return name;
        }
        return null;
    }

    private static string Describe(ArraySegment<byte> bytes)
    {
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < Math.Min(bytes.Count, 24); i++)
        {
            byte b = bytes.Array![bytes.Offset + i];
            text.Append(b >= 0x20 && b < 0x7F ? ((char)b).ToString() : $"\\x{b:X2}");
        }
        return $"\"{text}\"";
    }
}
