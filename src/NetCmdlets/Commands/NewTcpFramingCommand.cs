using System.Management.Automation;

namespace NetCmdlets.Commands;

/// <summary>Builds a framing with its details once, for -Framing of Start-TcpServer, Send-TcpMessage and New-TcpConnection.</summary>
[Cmdlet(VerbsCommon.New, "TcpFraming")]
[OutputType(typeof(TcpFraming))]
public sealed class NewTcpFramingCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    public TcpFramingKind Framing { get; set; }

    /// <summary>Line: LF (the default) or CRLF at the end of each line sent.</summary>
    [Parameter]
    [ValidateSet("LF", "CRLF", IgnoreCase = true)]
    public string LineEnding { get; set; } = "LF";

    /// <summary>Delimiter: a string or bytes.</summary>
    [Parameter]
    public object? Delimiter { get; set; }

    /// <summary>LengthPrefixed: the prefix's size in bytes.</summary>
    [Parameter]
    [ValidateSet("1", "2", "4", "8")]
    public int PrefixLength { get; set; } = 4;

    /// <summary>LengthPrefixed: the length is little endian (big endian, network order, otherwise).</summary>
    [Parameter]
    public SwitchParameter LittleEndian { get; set; }

    /// <summary>LengthPrefixed: the length counts the prefix too.</summary>
    [Parameter]
    public SwitchParameter LengthIncludesPrefix { get; set; }

    /// <summary>Fixed: the size of every message, in bytes.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Size { get; set; }

    /// <summary>Json: levels of nested objects converted when sending (as ConvertTo-Json -Depth); 10 by default.</summary>
    [Parameter]
    [ValidateRange(0, 100)]
    public int Depth { get; set; } = 10;

    /// <summary>The largest message; the cmdlet's -MaxMessageLength otherwise.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MaxMessageLength { get; set; }

    protected override void EndProcessing()
    {
        var framing = new TcpFraming(Framing)
        {
            LineEnding = LineEnding.ToUpperInvariant(),
            Delimiter = Delimiter,
            PrefixLength = PrefixLength,
            LittleEndian = LittleEndian,
            LengthIncludesPrefix = LengthIncludesPrefix,
            Size = Size,
            Depth = Depth,
            MaxMessageLength = MyInvocation.BoundParameters.ContainsKey(nameof(MaxMessageLength)) ? MaxMessageLength : null,
        };
        try
        {
            // Checked now, where the mistake was made, not when a server starts.
            _ = framing.Create(Core.TextEncodings.Utf8, Core.Framing.LineFramer.DefaultMaxMessageLength);
        }
        catch (System.ArgumentException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidFraming", ErrorCategory.InvalidArgument, framing));
        }
        WriteObject(framing);
    }
}
