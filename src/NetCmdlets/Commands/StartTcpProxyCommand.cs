using System.Management.Automation;
using System.Net;
using NetCmdlets.Core;
using NetCmdlets.Core.Proxy;
using NetCmdlets.Core.Tcp;
using NetCmdlets.Jobs;
using NetCmdlets.Parameters;

namespace NetCmdlets.Commands;

/// <summary>
/// Listens for TCP clients and joins each to a connection of its own to one server, passing bytes both
/// ways as they come (a relay, a debugging proxy); writes what passes as TcpTraffic objects, and each
/// connection's opening and closing as TcpProxyConnection objects.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "TcpProxy", DefaultParameterSetName = PortSet)]
[OutputType(typeof(TcpTraffic), typeof(TcpProxyConnection), typeof(NetServerJob))]
[UsesParameters(typeof(FramingParameters))]
[UsesParameters(typeof(TlsServerParameters))]
[UsesParameters(typeof(TlsClientParameters), Omit = new[] { nameof(TlsClientParameters.TlsServerName) })]
[UsesParameters(typeof(ServerLimitParameters))]
[UsesParameters(typeof(UnixListenParameters), UnixSet)]
public sealed partial class StartTcpProxyCommand : HandlerServerCommandBase
{
    private const string UnixSet = "UnixSocket";

    // Not mandatory: the server is -ComputerName with -RemotePort, or -RemoteUnixSocket (checked when it starts).

    /// <summary>The server to forward to: a name or an address (with -RemotePort).</summary>
    [Parameter]
    [Alias("CN", "Host", "HostName")]
    public string? ComputerName { get; set; }

    /// <summary>The server's port.</summary>
    [Parameter]
    [ValidateRange(1, 65535)]
    public int RemotePort { get; set; }

    /// <summary>The server is on a UNIX domain socket (a path, or an @abstract name), instead of -ComputerName and -RemotePort.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? RemoteUnixSocket { get; set; }

    /// <summary>Write no traffic objects, only each connection's opening and closing: the bytes are copied and nothing else is done with them.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    /// <summary>With TLS to the server: the name sent (SNI) and checked against its certificate, instead of -ComputerName; implies -UseTls.</summary>
    [Parameter]
    public string? RemoteServerName { get; set; }

    /// <summary>Faults from New-TcpFault, applied in order to what the proxy forwards; Set-TcpProxy changes them while it runs.</summary>
    [Parameter]
    public Core.Proxy.Faults.TcpFault[]? Fault { get; set; }

    /// <summary>Limit for reaching the server for each client, in seconds.</summary>
    [Parameter]
    [ValidateRange(0.001, 2147483)]
    public double ConnectTimeoutSec { get; set; } = 10;

    // The job's runspace does not share this one's current location: its file paths go as full paths.
    private protected override object? ForJob(string name, object? value) =>
        (value is PSObject wrapped ? wrapped.BaseObject : value) is string path && name is nameof(Certificate) or nameof(CertificateKeyPath) or nameof(UnixSocket) or nameof(RemoteUnixSocket)
            ? UnixListenParameters.FullPath(this, path)
            : value;

    private protected override NetServer? CreateUnixServer() =>
        UnixListenParameters.Resolve(this) is { } unix ? Configure(new TcpProxy(unix, Options(), UnixListenParameters.Mode)) : null;

    protected override NetServer CreateServer(IPEndPoint localEndPoint) => Configure(new TcpProxy(localEndPoint, Options()));

    private TcpProxy Configure(TcpProxy proxy)
    {
        if (Fault is not null) proxy.SetFaults(Fault);
        WriteVerbose($"Forwarding to {proxy.Upstream}.");
        return proxy;
    }

    private TcpProxyOptions Options()
    {
        if (Quiet && Handler is not null)
            ThrowTerminatingError(new ErrorRecord(new PSArgumentException("-Quiet shows no traffic, and a -Handler decides on each message of it: give one or the other."),
                "QuietWithHandler", ErrorCategory.InvalidArgument, null));
        ConnectionOptions client = FramingParameters.Resolve(this, false, Encoding);
        ServerLimitParameters.Apply(this, client);
        client.ServerTls = TlsServerParameters.Resolve(this);
        // TLS to the server is asked for by its own parameters; -TrustedCertificate and -TlsProtocol serve whichever side speaks TLS.
        bool upstreamTls = UseTls || SkipCertificateCheck || RemoteServerName is not null || ClientCertificate is not null;
        TlsClientParameters.UseTls = upstreamTls;
        TlsClientParameters.TlsServerName = RemoteServerName;
        bool toUnix = RemoteUnixSocket is not null;
        bool toHost = ComputerName is not null && RemotePort != 0;
        if (toUnix ? ComputerName is not null || RemotePort != 0 : !toHost)
            ThrowTerminatingError(new ErrorRecord(new PSArgumentException("Give the server as -ComputerName with -RemotePort, or as -RemoteUnixSocket: one of the two."),
                "InvalidUpstream", ErrorCategory.InvalidArgument, null));
        var options = toUnix ? new TcpProxyOptions(new Core.Net.UnixEndPoint(UnixListenParameters.FullPath(this, RemoteUnixSocket!))) : new TcpProxyOptions(ComputerName!, RemotePort);
        options.Client = client;
        options.UpstreamTls = upstreamTls ? TlsClientParameters.Resolve(this) : null;
        options.ConnectTimeout = System.TimeSpan.FromSeconds(ConnectTimeoutSec);
        options.Observe = !Quiet;
        options.ConsumerForwards = Handler is not null;
        return options;
    }
}
