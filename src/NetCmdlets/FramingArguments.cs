using System;
using System.Management.Automation;
using System.Text;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets;

/// <summary>Turns a TCP cmdlet's -Framing, -Raw, -LineEnding and -Delimiter into the options of its connections.</summary>
internal static class FramingArguments
{
    /// <exception cref="ArgumentException">The choices contradict each other or a detail is missing.</exception>
    public static ConnectionOptions Resolve(TcpFraming? framing, bool raw, string? lineEnding, object? delimiter, Encoding encoding, int maxMessageLength)
    {
        if (raw && framing is not null && framing.Kind != TcpFramingKind.Raw)
            throw new ArgumentException($"-Raw and -Framing {framing.Kind} contradict each other: choose one.");
        TcpFramingKind kind = raw ? TcpFramingKind.Raw : framing?.Kind ?? (delimiter is null ? TcpFramingKind.Line : TcpFramingKind.Delimiter);
        var chosen = new TcpFraming(kind)
        {
            LineEnding = lineEnding ?? framing?.LineEnding ?? "LF",
            Delimiter = delimiter ?? framing?.Delimiter,
            PrefixLength = framing?.PrefixLength ?? 4,
            LittleEndian = framing?.LittleEndian ?? false,
            LengthIncludesPrefix = framing?.LengthIncludesPrefix ?? false,
            Size = framing?.Size ?? 0,
            Depth = framing?.Depth ?? 10,
            MaxMessageLength = framing?.MaxMessageLength,
        };
        if (lineEnding is not null && kind != TcpFramingKind.Line)
            throw new ArgumentException($"-LineEnding is for the Line framing, not {kind}.");
        if (delimiter is not null && kind != TcpFramingKind.Delimiter)
            throw new ArgumentException($"-Delimiter is for the Delimiter framing, not {kind}.");
        return new ConnectionOptions { Encoding = encoding, Framing = chosen.Create(encoding, maxMessageLength) };
    }

    /// <summary>As <see cref="Resolve(TcpFraming?, bool, string?, object?, Encoding, int)"/>; a contradiction ends <paramref name="cmdlet"/> with InvalidFraming.</summary>
    public static ConnectionOptions Resolve(Cmdlet cmdlet, TcpFraming? framing, bool raw, string? lineEnding, object? delimiter, Encoding encoding, int maxMessageLength)
    {
        try
        {
            return Resolve(framing, raw, lineEnding, delimiter, encoding, maxMessageLength);
        }
        catch (ArgumentException e)
        {
            cmdlet.ThrowTerminatingError(new ErrorRecord(e, "InvalidFraming", ErrorCategory.InvalidArgument, framing));
            throw;
        }
    }
}
