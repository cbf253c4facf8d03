using System;
using System.Management.Automation;
using System.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tls;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Tcp;
using NetCmdlets.Parameters;

namespace NetCmdlets.Commands;

/// <summary>
/// Switches the framing of open connections from the next byte on: for good, or (-NextMessageOnly) for
/// the next received message only, as a handler does for an HTTP body or an SMTP DATA block.
/// </summary>
[Cmdlet(VerbsCommon.Set, "TcpConnection", DefaultParameterSetName = FramingSet)]
[OutputType(typeof(TcpConnection))]
[UsesParameters(typeof(FramingParameters), FramingSet)]
[UsesParameters(typeof(TlsServerParameters), StartTlsSet)]
[UsesParameters(typeof(TlsClientParameters), StartTlsSet, Omit = new[] { nameof(TlsClientParameters.UseTls) })]
public sealed partial class SetTcpConnectionCommand : NetCmdletBase
{
    private const string FramingSet = "Framing";
    private const string StartTlsSet = "StartTls";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    public TcpConnection[] Connection { get; set; } = null!;

    /// <summary>No framing from now on: each chunk received is one message.</summary>
    [Parameter(ParameterSetName = FramingSet)]
    public SwitchParameter Raw { get; set; }

    /// <summary>Messages of exactly this many bytes (an HTTP body of Content-Length bytes); implies -Framing Fixed.</summary>
    [Parameter(ParameterSetName = FramingSet)]
    [ValidateRange(1, int.MaxValue)]
    public int Size { get; set; }

    /// <summary>Only the next message received is cut this way; then the connection's framing reads on, and what is sent keeps it throughout.</summary>
    [Parameter(ParameterSetName = FramingSet)]
    public SwitchParameter NextMessageOnly { get; set; }

    /// <summary>
    /// STARTTLS: TLS from the next byte on. On a server's connection (in a handler) with -Certificate, after the
    /// handler's reply (the go-ahead) is sent; on a client connection, at once, after the server said go.
    /// </summary>
    [Parameter(Mandatory = true, ParameterSetName = StartTlsSet)]
    public SwitchParameter StartTls { get; set; }

    /// <summary>Emit each connection after switching it.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (TcpConnection connection in Connection)
        {
            // Said, not guessed: a server that frames ahead may have cut what follows already.
            if (!connection.SwitchIsExact)
                WriteWarning($"Connection {connection} belongs to a server that frames ahead of its handler (parallel handlers without -FrameInTurn, or no handler): messages it has cut already keep the old framing. Start the server with -FrameInTurn to switch exactly from the next byte.");
            if (StartTls)
            {
                if (Upgrade(connection) && PassThru) WriteObject(connection);
                continue;
            }
            MessageFraming framing = Resolve(connection);
            connection.SwitchFraming(framing, NextMessageOnly);
            WriteVerbose(NextMessageOnly
                ? $"Connection {connection}: the next message received is cut as {framing.Name}."
                : $"Connection {connection} is framed as {framing.Name} from here on.");
            if (PassThru) WriteObject(connection);
        }
    }

    /// <returns>False when the upgrade failed (an error was written).</returns>
    private bool Upgrade(TcpConnection connection)
    {
        try
        {
            if (connection.Role == TcpConnectionRole.Server)
            {
                TlsServerOptions? options = TlsServerParameters.Resolve(this);
                if (options is null)
                {
                    ThrowTerminatingError(new ErrorRecord(new ArgumentException("-StartTls on a server's connection needs -Certificate."), "InvalidTlsArgument", ErrorCategory.InvalidArgument, connection));
                    return false;
                }
                connection.StartTls(options);
                WriteVerbose($"Connection {connection} speaks TLS once the reply being made is sent.");
                return true;
            }
            // -StartTls is the client's -UseTls.
            TlsClientParameters.UseTls = true;
            TlsClientOptions client = TlsClientParameters.Resolve(this)!;
            UntilStopped(() => connection.StartTlsAsync(client, StopToken).GetAwaiter().GetResult());
            WriteVerbose($"Connection {connection} speaks {connection.TlsProtocol} now.");
            return true;
        }
        catch (NetException e)
        {
            WriteError(ErrorRecords.From(e));
        }
        catch (InvalidOperationException e)
        {
            WriteError(new ErrorRecord(e, "TlsAlready", ErrorCategory.InvalidOperation, connection));
        }
        return false;
    }

    private MessageFraming Resolve(TcpConnection connection)
    {
        bool sized = MyInvocation.BoundParameters.ContainsKey(nameof(Size));
        TcpFraming? framing = Framing;
        if (sized)
        {
            if (framing is not null && framing.Kind != TcpFramingKind.Fixed)
                ThrowInvalid(new ArgumentException($"-Size is for the Fixed framing, not {framing.Kind}."), framing);
            framing = new TcpFraming(TcpFramingKind.Fixed) { Size = Size };
        }
        if (framing is null && !Raw && LineEnding is null && Delimiter is null)
            ThrowInvalid(new ArgumentException("Say which framing: -Framing, -Raw, -LineEnding, -Delimiter or -Size."), null);
        try
        {
            return FramingArguments.Resolve(framing, Raw, LineEnding, Delimiter, connection.Encoding, MaxMessageLength).Framing;
        }
        catch (ArgumentException e)
        {
            ThrowInvalid(e, framing);
            throw;
        }
    }

    private void ThrowInvalid(ArgumentException e, object? target) =>
        ThrowTerminatingError(new ErrorRecord(e, "InvalidFraming", ErrorCategory.InvalidArgument, target));
}
