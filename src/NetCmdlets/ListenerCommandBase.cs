using System.Management.Automation;
using System.Net;
using System.Text;
using NetCmdlets.Core;
using NetCmdlets.Core.Net;
using NetCmdlets.Handlers;
using NetCmdlets.Parameters;

namespace NetCmdlets;

/// <summary>The parameters and run of every cmdlet that binds a port and emits what arrives on it.</summary>
[UsesParameters(typeof(EncodingParameters))]
public abstract partial class ListenerCommandBase : NetCmdletBase
{
    private NetServer? _server;
    private IHandlerRunner? _handler;
    private ConnectionHooks? _hooks;

    /// <summary>The parameter set of a server on a port; Start-TcpServer also has one for a UNIX socket.</summary>
    private protected const string PortSet = "Port";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PortSet)]
    [ValidateRange(0, 65535)]
    public int Port { get; set; }

    /// <summary>Loopback by default; Any (or ::) for every interface.</summary>
    [Parameter(ParameterSetName = PortSet)]
    [ArgumentCompleter(typeof(LocalAddressCompleter))]
    public string LocalAddress { get; set; } = "Loopback";

    /// <summary>Stop after this many messages.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Count { get; set; }

    /// <summary>Stop after this many seconds; 0 means no limit.</summary>
    [Parameter]
    [ValidateRange(0, double.MaxValue)]
    public double TimeoutSec { get; set; }

    protected override void EndProcessing()
    {
        IPAddress address;
        try
        {
            if (CreateUnixServer() is { } unix)
            {
                _server = unix;
            }
            else
            {
                // Resolving a name may take long; Ctrl+C must still stop it at once.
                address = (MyInvocation.BoundParameters.ContainsKey(nameof(LocalAddress)) ? null : DefaultLocalAddress())
                    ?? UntilStopped(() => EndPoints.ParseLocalAddressAsync(LocalAddress, StopToken).GetAwaiter().GetResult());
                _server = CreateServer(new IPEndPoint(address, Port));
            }
        }
        catch (NetException e)
        {
            ThrowNetError(e);
            return;
        }
        try
        {
            _server.Start();
        }
        catch (NetException e)
        {
            ThrowNetError(e);
        }
        var started = new ListenerStarted(_server.Protocol, _server.ListeningOn, _server.Statistics, _server);
        WriteVerbose(started.ToString());
        // With port 0 the user cannot know where to connect: the record is also tagged PSHOST, so it shows
        // as Write-Host would (but is not output: `| Select-Object -First N` still counts messages only,
        // and 6>$null hides it). Not in a server job, whose Port property says it already.
        bool show = Port == 0 && _server.UnixSocket is null && SessionState.PSVariable.GetValue(NetServerJobMarker) is null;
        WriteInformation(started, show ? new[] { "Listening", "PSHOST" } : new[] { "Listening" });
        _handler = CreateHandlerRunner(_server);
        _hooks = CreateConnectionHooks();
        new ServerPump(this, _server, _handler, _hooks).Run(Count, ToTimeout(TimeoutSec));
    }

    /// <summary>A variable set in the runspace of a server job.</summary>
    internal const string NetServerJobMarker = "__netcmdlets_server_job";

    /// <exception cref="NetException">A parameter the server needs is not valid.</exception>
    protected abstract NetServer CreateServer(IPEndPoint localEndPoint);

    /// <summary>A server on a UNIX socket, when the cmdlet was asked for one; null for one on a port.</summary>
    /// <exception cref="NetException">A parameter the server needs is not valid.</exception>
    private protected virtual NetServer? CreateUnixServer() => null;

    /// <summary>Where to bind when -LocalAddress is not given; null for its default (loopback).</summary>
    /// <exception cref="NetException">A parameter it depends on is not valid.</exception>
    private protected virtual IPAddress? DefaultLocalAddress() => null;

    /// <summary>What runs for each message; null when the cmdlet only emits them.</summary>
    private protected virtual IHandlerRunner? CreateHandlerRunner(NetServer server) => null;

    /// <summary>What runs when a client connects or leaves (TCP); null when nothing does.</summary>
    private protected virtual ConnectionHooks? CreateConnectionHooks() => null;

    protected override void ReleaseResources()
    {
        _handler?.Dispose();
        _hooks?.Dispose();
        _server?.Dispose();
    }
}
