using System;
using System.Management.Automation;
using System.Net;
using NetCmdlets.Core;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Tcp;
using NetCmdlets.Handlers;
using NetCmdlets.Jobs;
using NetCmdlets.Parameters;

namespace NetCmdlets.Commands;

/// <summary>Listens for TCP clients and emits every received message; a handler's output is the reply.</summary>
[Cmdlet(VerbsLifecycle.Start, "TcpServer", DefaultParameterSetName = PortSet)]
[OutputType(typeof(TcpMessage), typeof(NetServerJob))]
[UsesParameters(typeof(FramingParameters))]
[UsesParameters(typeof(TlsServerParameters))]
[UsesParameters(typeof(ServerLimitParameters))]
[UsesParameters(typeof(UnixListenParameters), UnixSet)]
public sealed partial class StartTcpServerCommand : HandlerServerCommandBase
{
    /// <summary>Runs when a client connects, $_ the connection; what it outputs is sent to the client first (a greeting).</summary>
    [Parameter]
    public ScriptBlock? OnConnect { get; set; }

    /// <summary>Runs when a connection ends, $_ a TcpDisconnect (Connection, Reason, Error).</summary>
    [Parameter]
    public ScriptBlock? OnDisconnect { get; set; }

    private protected override ConnectionHooks? CreateConnectionHooks() =>
        OnConnect is null && OnDisconnect is null ? null : new ConnectionHooks(OnConnect, OnDisconnect, ArgumentList, this);

    /// <summary>No framing: each chunk received is one message with its exact bytes, and replies go as they are.</summary>
    [Parameter]
    public SwitchParameter Raw { get; set; }

    /// <summary>
    /// The clients talk to each other (ncat --broker): each message goes to all the other clients; with a
    /// -Handler, what it outputs goes to all of them instead. A client that does not read is dropped with a
    /// warning once 4 MiB wait for it, rather than slowing the others.
    /// </summary>
    [Parameter]
    public SwitchParameter Broker { get; set; }

    /// <summary>As -Broker (ncat --chat): clients are named &lt;userN&gt;, each message forwarded starts with its sender's name, and joins and leaves are announced.</summary>
    [Parameter]
    public SwitchParameter Chat { get; set; }

    /// <summary>
    /// Each connection cuts its next message only once the handler has finished with the one before, so a
    /// handler can switch the framing (Set-TcpConnection) or start TLS exactly from the next byte. Always so
    /// with -ThrottleLimit 1 and with -OnConnect; with -ThrottleLimit above 1 it is asked for with this switch.
    /// </summary>
    [Parameter]
    public SwitchParameter FrameInTurn { get; set; }

    /// <summary>
    /// Bytes the server may hold in all, over every connection, in unfinished messages and replies not yet
    /// written (64 MiB by default; 0 for no limit); past it the connections holding the most are closed
    /// with a BufferLimitExceeded error, counted in Statistics.BufferLimitClosed.
    /// </summary>
    [Parameter]
    [ValidateRange(0, long.MaxValue)]
    public long MaxBufferedBytes { get; set; } = ConnectionOptions.DefaultMaxBufferedBytes;

    // The job's runspace does not share this one's current location: its file paths go as full paths.
    private protected override object? ForJob(string name, object? value) =>
        (value is PSObject wrapped ? wrapped.BaseObject : value) is string path && name is nameof(Certificate) or nameof(CertificateKeyPath) or nameof(UnixSocket)
            ? UnixListenParameters.FullPath(this, path)
            : value;

    private const string UnixSet = "UnixSocket";

    private protected override NetServer? CreateUnixServer()
    {
        return UnixListenParameters.Resolve(this) is { } unix ? new TcpServer(unix, Options(), UnixListenParameters.Mode) : null;
    }

    protected override NetServer CreateServer(IPEndPoint localEndPoint) => new TcpServer(localEndPoint, Options());

    private ConnectionOptions Options()
    {
        ConnectionOptions options = FramingParameters.Resolve(this, Raw, Encoding);
        // A handler may switch its connection's framing (Set-TcpConnection), from the next byte on: each
        // message is then cut only after the one before it was handled. On the pipeline thread that costs
        // nothing measurable; through parallel runspaces it costs a handoff per message of a connection
        // that streams (34k to 14k messages/s), so there turns are declared with -FrameInTurn.
        options.FrameInTurn = OnConnect is not null || (Handler is not null && (ThrottleLimit == 1 || FrameInTurn));
        // ServerPump and the handler runners hand each message's lease back once its reply is queued.
        options.ConsumerReturnsLeases = true;
        options.Broker = Broker || Chat;
        options.Chat = Chat;
        options.BrokerRelaysMessages = Handler is null;
        ServerLimitParameters.Apply(this, options);
        options.MaxBufferedBytes = MaxBufferedBytes;
        options.ServerTls = TlsServerParameters.Resolve(this);
        return options;
    }
}
