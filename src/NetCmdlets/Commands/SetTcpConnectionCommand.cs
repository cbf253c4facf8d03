using System;
using System.Management.Automation;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets.Commands;

/// <summary>
/// Switches the framing of open connections from the next byte on: for good, or (-NextMessageOnly) for
/// the next received message only, as a handler does for an HTTP body or an SMTP DATA block.
/// </summary>
[Cmdlet(VerbsCommon.Set, "TcpConnection")]
[OutputType(typeof(TcpConnection))]
public sealed class SetTcpConnectionCommand : NetCmdletBase
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    public TcpConnection[] Connection { get; set; } = null!;

    /// <summary>How messages are cut from now on: Line, Delimiter, LengthPrefixed, Fixed, OctetCounted, Raw, Json, or an object from New-TcpFraming.</summary>
    [Parameter]
    [TcpFramingTransformation]
    [ArgumentCompleter(typeof(TcpFramingCompleter))]
    public TcpFraming? Framing { get; set; }

    /// <summary>No framing from now on: each chunk received is one message.</summary>
    [Parameter]
    public SwitchParameter Raw { get; set; }

    /// <summary>With lines: LF or CRLF at the end of each line sent.</summary>
    [Parameter]
    [ValidateSet("LF", "CRLF", IgnoreCase = true)]
    public string? LineEnding { get; set; }

    /// <summary>Messages end with this string (in the connection's encoding) or these bytes; implies -Framing Delimiter.</summary>
    [Parameter]
    public object? Delimiter { get; set; }

    /// <summary>Messages of exactly this many bytes (an HTTP body of Content-Length bytes); implies -Framing Fixed.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Size { get; set; }

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MaxMessageLength { get; set; } = LineFramer.DefaultMaxMessageLength;

    /// <summary>Only the next message received is cut this way; then the connection's framing reads on, and what is sent keeps it throughout.</summary>
    [Parameter]
    public SwitchParameter NextMessageOnly { get; set; }

    /// <summary>Emit each connection after switching it.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (TcpConnection connection in Connection)
        {
            MessageFraming framing = Resolve(connection);
            connection.SwitchFraming(framing, NextMessageOnly);
            WriteVerbose(NextMessageOnly
                ? $"Connection {connection}: the next message received is cut as {framing.Name}."
                : $"Connection {connection} is framed as {framing.Name} from here on.");
            if (PassThru) WriteObject(connection);
        }
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
