using System.Management.Automation;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Net;
using System.Text;
using NetCmdlets.Core;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets.Commands;

/// <summary>
/// Opens a TCP connection that lasts across commands, for Send-TcpMessage and Receive-TcpMessage:
/// by connecting, or with -Listen by waiting for one client (nc -l).
/// </summary>
[Cmdlet(VerbsCommon.New, "TcpConnection", DefaultParameterSetName = ConnectSet)]
[OutputType(typeof(TcpConnection))]
public sealed class NewTcpConnectionCommand : NetCmdletBase
{
    private const string ConnectSet = "Connect";
    private const string ListenSet = "Listen";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ConnectSet, ValueFromPipelineByPropertyName = true)]
    [Alias("CN", "Host", "HostName")]
    public string ComputerName { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ConnectSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ListenSet, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, 65535)]
    public int Port { get; set; }

    /// <summary>Wait for one client to connect to -Port instead of connecting; the listener closes once it has come.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ListenSet)]
    public SwitchParameter Listen { get; set; }

    /// <summary>With -Listen: the address to listen on; loopback by default.</summary>
    [Parameter(ParameterSetName = ListenSet)]
    [ArgumentCompleter(typeof(LocalAddressCompleter))]
    public string LocalAddress { get; set; } = "Loopback";

    /// <summary>Limit for connecting, or with -Listen for a client to come, in seconds; 0 means no limit.</summary>
    [Parameter]
    [ValidateRange(0, double.MaxValue)]
    public double TimeoutSec { get; set; } = 10;

    [Parameter]
    [EncodingTransformation]
    [ArgumentCompleter(typeof(EncodingCompleter))]
    public Encoding Encoding { get; set; } = TextEncodings.Utf8;

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MaxMessageLength { get; set; } = LineFramer.DefaultMaxMessageLength;

    /// <summary>No framing: each chunk received is one message, and what is sent goes as it is.</summary>
    [Parameter]
    public SwitchParameter Raw { get; set; }

    /// <summary>How messages are cut: Line (the default), Delimiter, LengthPrefixed, Fixed, OctetCounted, Raw, Json, or an object from New-TcpFraming.</summary>
    [Parameter]
    [TcpFramingTransformation]
    [ArgumentCompleter(typeof(TcpFramingCompleter))]
    public TcpFraming? Framing { get; set; }

    /// <summary>With lines: LF (the default) or CRLF at the end of each line sent; any ending is accepted when reading.</summary>
    [Parameter]
    [ValidateSet("LF", "CRLF", IgnoreCase = true)]
    public string? LineEnding { get; set; }

    /// <summary>Messages end with this string (in -Encoding) or these bytes; implies -Framing Delimiter.</summary>
    [Parameter]
    public object? Delimiter { get; set; }


    /// <summary>Speak TLS: the server's certificate is checked against -ComputerName (or -TlsServerName) and the trusted roots.</summary>
    [Parameter(ParameterSetName = ConnectSet)]
    public SwitchParameter UseTls { get; set; }

    /// <summary>With TLS: accept any server certificate (a test server's self-signed one); implies -UseTls.</summary>
    [Parameter(ParameterSetName = ConnectSet)]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>With TLS: the name sent (SNI) and checked against the certificate, instead of -ComputerName; implies -UseTls.</summary>
    [Parameter(ParameterSetName = ConnectSet)]
    public string? TlsServerName { get; set; }

    /// <summary>With TLS: certificates (or files of them) trusted besides the system's roots, such as a test authority; implies -UseTls.</summary>
    [Parameter(ParameterSetName = ConnectSet)]
    [CertificateTransformation]
    public X509Certificate2[]? TrustedCertificate { get; set; }

    /// <summary>With TLS: the certificate (with its private key) to prove this client with, for mutual TLS; implies -UseTls.</summary>
    [Parameter(ParameterSetName = ConnectSet)]
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>With TLS: the versions allowed; Tls12 and Tls13 by default; implies -UseTls.</summary>
    [Parameter(ParameterSetName = ConnectSet)]
    public SslProtocols? TlsProtocol { get; set; }

    protected override void ProcessRecord()
    {
        ConnectionOptions options = FramingArguments.Resolve(this, Framing, Raw, LineEnding, Delimiter, Encoding, MaxMessageLength);
        options.Tls = TlsArguments.Client(this, UseTls, SkipCertificateCheck, TlsServerName, ClientCertificate, TrustedCertificate, TlsProtocol);
        TcpConnection connection;
        try
        {
            connection = Listen ? AcceptOne(options) : UntilStopped(() => TcpConnector.Connect(ComputerName, Port, options, ToTimeout(TimeoutSec), StopToken));
        }
        catch (NetException e)
        {
            WriteNetError(e);
            return;
        }
        // Read from the start, so what comes before Receive-TcpMessage asks is kept in order.
        connection.StartReceiving();
        ConnectionRegistry.Add(connection);
        WriteObject(connection);
    }

    private TcpConnection AcceptOne(ConnectionOptions options)
    {
        if (Port == 0 && ToTimeout(TimeoutSec) == System.Threading.Timeout.InfiniteTimeSpan)
            WriteWarning("-Port 0 picks a free port: read it from the verbose or information stream, since nothing else can tell a client where to connect.");
        IPAddress address = UntilStopped(() => EndPoints.ParseLocalAddressAsync(LocalAddress, StopToken).GetAwaiter().GetResult());
        IPEndPoint? bound = null;
        var accepting = TcpConnector.AcceptOneAsync(new IPEndPoint(address, Port), options, ToTimeout(TimeoutSec), endPoint => bound = endPoint, StopToken);
        // Bound before the call returns, so the endpoint is known before the wait: say where to connect (port 0 picks one).
        if (bound is not null)
        {
            var started = new ListenerStarted("TCP", bound, new ServerStatistics());
            WriteVerbose($"Waiting for one client on TCP {bound}.");
            WriteInformation(started, new[] { "Listening" });
        }
        return UntilStopped(() => accepting.GetAwaiter().GetResult());
    }
}
