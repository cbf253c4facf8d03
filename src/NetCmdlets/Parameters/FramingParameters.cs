using System.Management.Automation;
using System.Text;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets.Parameters;

/// <summary>How a TCP cmdlet's connections cut and wrap messages; -Raw stays each cmdlet's own, since what it covers differs.</summary>
internal sealed class FramingParameters
{
    /// <summary>How messages are cut: Line (the default), Delimiter, LengthPrefixed, Fixed, OctetCounted, Raw, Json, or an object from New-TcpFraming.</summary>
    [Parameter]
    [TcpFramingTransformation]
    [ArgumentCompleter(typeof(TcpFramingCompleter))]
    public TcpFraming? Framing { get; set; }

    /// <summary>With lines: LF (the default) or CRLF at the end of each line sent; any ending is accepted when reading.</summary>
    [Parameter]
    [ValidateSet("LF", "CRLF", IgnoreCase = true)]
    public string? LineEnding { get; set; }

    /// <summary>Messages end with this string (in the encoding) or these bytes; implies -Framing Delimiter.</summary>
    [Parameter]
    public object? Delimiter { get; set; }

    /// <summary>The longest message accepted, in bytes; a longer one ends its connection with MessageTooLong.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MaxMessageLength { get; set; } = LineFramer.DefaultMaxMessageLength;

    /// <summary>The connection options these values describe; a contradiction ends <paramref name="cmdlet"/> with InvalidFraming.</summary>
    public ConnectionOptions Resolve(Cmdlet cmdlet, bool raw, Encoding encoding) =>
        FramingArguments.Resolve(cmdlet, Framing, raw, LineEnding, Delimiter, encoding, MaxMessageLength);
}
