using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using NetCmdlets.Core;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tcp;
using NetCmdlets.Core.Tls;
using Xunit;

namespace NetCmdlets.Core.Tests.Tls;

public class TlsRecordsTests
{
    // The first bytes of a real TLS 1.2/1.3 ClientHello: handshake record, version 3.1, length, ClientHello.
    private static readonly byte[] ClientHello = { 0x16, 0x03, 0x01, 0x00, 0xC4, 0x01, 0x00, 0x00, 0xC0, 0x03, 0x03 };

    [Fact]
    public void AClientHelloIsTls_TextAndShortInputAreNot()
    {
        Assert.True(TlsRecords.LooksLikeClientHello(new ArraySegment<byte>(ClientHello)));
        Assert.True(TlsRecords.LooksLikeRecord(new ArraySegment<byte>(ClientHello)));
        Assert.False(TlsRecords.LooksLikeClientHello(new ArraySegment<byte>(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\n"))));
        Assert.False(TlsRecords.LooksLikeRecord(new ArraySegment<byte>(Encoding.ASCII.GetBytes("220 ready\r\n"))));
        Assert.False(TlsRecords.LooksLikeClientHello(new ArraySegment<byte>(ClientHello, 0, 5)));
        // An alert record (a server refusing) is TLS too, but not a hello.
        var alert = new byte[] { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28 };
        Assert.True(TlsRecords.LooksLikeRecord(new ArraySegment<byte>(alert)));
        Assert.False(TlsRecords.LooksLikeClientHello(new ArraySegment<byte>(alert)));
    }

    [Fact]
    public void ALengthTlsNeverUsesIsNotARecord()
    {
        Assert.False(TlsRecords.LooksLikeRecord(new ArraySegment<byte>(new byte[] { 0x16, 0x03, 0x01, 0xFF, 0xFF, 0x01 })));
        Assert.False(TlsRecords.LooksLikeRecord(new ArraySegment<byte>(new byte[] { 0x16, 0x03, 0x01, 0x00, 0x00, 0x01 })));
        Assert.False(TlsRecords.LooksLikeRecord(new ArraySegment<byte>(new byte[] { 0x16, 0x02, 0x01, 0x00, 0x10, 0x01 })));
    }

    [Fact]
    public void SplitAtEveryOffset_OnlyTheWholeHeaderDecides()
    {
        for (int count = 0; count < ClientHello.Length; count++)
            Assert.Equal(count >= 6, TlsRecords.LooksLikeClientHello(new ArraySegment<byte>(ClientHello, 0, count)));
    }
}

public class TlsServerHandshakeTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private static X509Certificate2 MakeCertificate() => TestCertificates.SelfSigned();

    [Fact]
    public async Task AClientThatNeverShakesHands_IsDroppedAtTheTimeout_AndReported()
    {
        var options = new ConnectionOptions { ServerTls = new TlsServerOptions(MakeCertificate()) { HandshakeTimeout = TimeSpan.FromMilliseconds(300) } };
        using var server = new TcpServer(new IPEndPoint(IPAddress.Loopback, 0), options);
        server.Start();
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await silent.ConnectAsync(server.LocalEndPoint);
        Assert.True(server.TryTakeEvent(out ServerEvent reported, Deadline, CancellationToken.None));
        Assert.Equal(ServerEventKind.Notice, reported.Kind);
        NetException error = Assert.IsType<NetException>(reported.Notice);
        Assert.Equal(NetErrorKind.Tls, error.Kind);
        Assert.Equal(TlsFailure.Timeout, Assert.IsType<TlsException>(error.InnerException).Failure);
        Assert.Equal(1, server.Statistics.TlsFailures);
        Assert.Equal(0, server.Statistics.ConnectionsTotal);
        // The server let the client go.
        var buffer = new byte[16];
        silent.ReceiveTimeout = (int)Deadline.TotalMilliseconds;
        int read;
        try { read = silent.Receive(buffer); } catch (SocketException) { read = 0; }
        Assert.Equal(0, read);
    }
}

public class TlsHandshakeCrowdTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private static X509Certificate2 MakeCertificate() => TestCertificates.SelfSigned();

    /// <summary>Clients that connect and never send a byte.</summary>
    internal static async Task<List<Socket>> ConnectSilentAsync(IPEndPoint server, int count)
    {
        var silent = new List<Socket>();
        for (int i = 0; i < count; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            silent.Add(socket);
            await socket.ConnectAsync(server);
        }
        return silent;
    }

    internal static async Task<bool> EndedByServerAsync(Socket socket)
    {
        var buffer = new byte[16];
        try
        {
            using var limit = new CancellationTokenSource(Deadline);
            return await socket.ReceiveAsync(buffer, SocketFlags.None, limit.Token) == 0;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// Every place for a handshake is held by a client that never sends a byte, and the handshake time
    /// limit is long: a well-behaved client still gets in at once, because the oldest silent one is ended
    /// to make room (and reported), instead of the new one waiting in the backlog for a place.
    /// </summary>
    [Fact]
    public async Task SilentClientsHoldingEveryPlace_DoNotKeepAGoodClientOut_TheOldestIsEnded()
    {
        var options = new ConnectionOptions { ServerTls = new TlsServerOptions(MakeCertificate()) { HandshakeTimeout = TimeSpan.FromMinutes(5) } };
        using var server = new TcpServer(new IPEndPoint(IPAddress.Loopback, 0), options, maxHandshakes: 4);
        server.Start();
        List<Socket> silent = await ConnectSilentAsync(server.LocalEndPoint, 4);
        try
        {
            using var good = new TcpClient();
            await good.ConnectAsync(server.LocalEndPoint.Address, server.LocalEndPoint.Port);
            using var ssl = new System.Net.Security.SslStream(good.GetStream(), false, (_, _, _, _) => true);
            using var limit = new CancellationTokenSource(Deadline);
            await ssl.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions { TargetHost = "localhost" }, limit.Token);

            Assert.True(await EndedByServerAsync(silent[0]), "the oldest silent client is ended to make room");
            Assert.True(server.TryTakeEvent(out ServerEvent first, Deadline, CancellationToken.None));
            ServerEvent? notice = first.Kind == ServerEventKind.Notice ? first : null;
            if (notice is null) Assert.True(server.TryTakeEvent(out notice, Deadline, CancellationToken.None));
            NetException error = Assert.IsType<NetException>(notice!.Notice);
            Assert.Equal(NetErrorKind.Tls, error.Kind);
            Assert.Contains("make room", error.Message);
            Assert.Equal(1, server.Statistics.TlsFailures);
        }
        finally
        {
            foreach (Socket socket in silent) socket.Dispose();
        }
    }

    [Fact]
    public async Task MoreSilentClientsThanPlaces_AreAllEnded()
    {
        var options = new ConnectionOptions { ServerTls = new TlsServerOptions(MakeCertificate()) { HandshakeTimeout = TimeSpan.FromSeconds(1) } };
        using var server = new TcpServer(new IPEndPoint(IPAddress.Loopback, 0), options, maxHandshakes: 3);
        server.Start();
        List<Socket> silent = await ConnectSilentAsync(server.LocalEndPoint, 8);
        try
        {
            foreach (Socket socket in silent) Assert.True(await EndedByServerAsync(socket));
        }
        finally
        {
            foreach (Socket socket in silent) socket.Dispose();
        }
    }
}

/// <summary>A self-signed certificate for localhost, with its private key, for servers under test.</summary>
internal static class TestCertificates
{
    public static X509Certificate2 SelfSigned()
    {
        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using X509Certificate2 made = request.CreateSelfSigned(DateTimeOffset.Now.AddMinutes(-5), DateTimeOffset.Now.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(made.Export(X509ContentType.Pkcs12), null);
    }
}
