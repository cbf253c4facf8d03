using System.Management.Automation;
using System.Net;
using System.Text;
using NetCmdlets.Core;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tcp;
using NetCmdlets.Parameters;

namespace NetCmdlets.Commands;

/// <summary>
/// Opens a TCP connection that lasts across commands, for Send-TcpMessage and Receive-TcpMessage:
/// by connecting, or with -Listen by waiting for one client (nc -l).
/// </summary>
[Cmdlet(VerbsCommon.New, "TcpConnection", DefaultParameterSetName = ConnectSet)]
[OutputType(typeof(TcpConnection))]
[UsesParameters(typeof(EncodingParameters))]
[UsesParameters(typeof(FramingParameters))]
[UsesParameters(typeof(TlsClientParameters), ConnectSet, UnixSet)]
[UsesParameters(typeof(ProxyParameters), ConnectSet)]
public sealed partial class NewTcpConnectionCommand : NetCmdletBase
{
    private const string ConnectSet = "Connect";
    private const string ListenSet = "Listen";
    private const string UnixSet = "UnixSocket";

    /// <summary>A UNIX domain socket to connect to instead of a host and port: its path, or a Linux abstract name with a leading @.</summary>
    [Parameter(Mandatory = true, ParameterSetName = UnixSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string UnixSocket { get; set; } = null!;

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

    /// <summary>No framing: each chunk received is one message, and what is sent goes as it is.</summary>
    [Parameter]
    public SwitchParameter Raw { get; set; }

    protected override void ProcessRecord()
    {
        ConnectionOptions options = FramingParameters.Resolve(this, Raw, Encoding);
        options.Tls = TlsClientParameters.Resolve(this);
        options.Proxy = ProxyParameters.Resolve(this);
        TcpConnection connection;
        try
        {
            connection = ParameterSetName switch
            {
                ListenSet => AcceptOne(options),
                UnixSet => UntilStopped(() => TcpConnector.ConnectUnix(UnixSocket, options, ToTimeout(TimeoutSec), StopToken)),
                _ => UntilStopped(() => TcpConnector.Connect(ComputerName, Port, options, ToTimeout(TimeoutSec), StopToken)),
            };
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
