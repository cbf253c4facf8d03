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
[Cmdlet(VerbsLifecycle.Start, "TcpProxy")]
[OutputType(typeof(TcpTraffic), typeof(TcpProxyConnection), typeof(NetServerJob))]
[UsesParameters(typeof(FramingParameters))]
[UsesParameters(typeof(TlsServerParameters))]
[UsesParameters(typeof(TlsClientParameters), Omit = new[] { nameof(TlsClientParameters.TlsServerName) })]
[UsesParameters(typeof(ServerLimitParameters))]
public sealed partial class StartTcpProxyCommand : HandlerServerCommandBase
{
    /// <summary>The server to forward to: a name or an address.</summary>
    [Parameter(Mandatory = true)]
    [Alias("CN", "Host", "HostName")]
    public string ComputerName { get; set; } = null!;

    /// <summary>The server's port.</summary>
    [Parameter(Mandatory = true)]
    [ValidateRange(1, 65535)]
    public int RemotePort { get; set; }

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
        name is nameof(Certificate) or nameof(CertificateKeyPath) && (value is PSObject wrapped ? wrapped.BaseObject : value) is string path
            ? GetUnresolvedProviderPathFromPSPath(path)
            : value;

    protected override NetServer CreateServer(IPEndPoint localEndPoint)
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
        var options = new TcpProxyOptions(ComputerName, RemotePort)
        {
            Client = client,
            UpstreamTls = upstreamTls ? TlsClientParameters.Resolve(this) : null,
            ConnectTimeout = System.TimeSpan.FromSeconds(ConnectTimeoutSec),
            Observe = !Quiet,
            ConsumerForwards = Handler is not null,
        };
        WriteVerbose($"Forwarding to {options.RemoteHost}:{options.RemotePort}.");
        var proxy = new TcpProxy(localEndPoint, options);
        if (Fault is not null) proxy.SetFaults(Fault);
        return proxy;
    }
}
