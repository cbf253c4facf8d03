using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Text;
using NetCmdlets.Core.Framing;

namespace NetCmdlets;

/// <summary>The framings a TCP cmdlet can speak, chosen by name with -Framing.</summary>
public enum TcpFramingKind
{
    Line,
    Delimiter,
    LengthPrefixed,
    Fixed,
    OctetCounted,
    Raw,

    /// <summary>JSON lines: objects go out as compact JSON, one per line, and come back as ConvertFrom-Json makes them.</summary>
    Json,
}

/// <summary>
/// A framing as a user chose it: a name (-Framing LengthPrefixed), or an object from New-TcpFraming
/// with the details. Turned into the core's framing with the cmdlet's -Encoding and -MaxMessageLength.
/// </summary>
public sealed class TcpFraming
{
    public TcpFraming(TcpFramingKind kind) => Kind = kind;

    public TcpFramingKind Kind { get; }

    /// <summary>Line: what ends each line sent, LF or CRLF (any ending is accepted when reading).</summary>
    public string LineEnding { get; set; } = "LF";

    /// <summary>Delimiter: a string (encoded with the cmdlet's encoding) or bytes.</summary>
    public object? Delimiter { get; set; }

    /// <summary>LengthPrefixed: 1, 2, 4 or 8 bytes.</summary>
    public int PrefixLength { get; set; } = 4;

    public bool LittleEndian { get; set; }

    public bool LengthIncludesPrefix { get; set; }

    /// <summary>Fixed: the size of every message.</summary>
    public int Size { get; set; }

    /// <summary>Json: levels of nested objects converted when sending, as ConvertTo-Json -Depth.</summary>
    public int Depth { get; set; } = 10;

    /// <summary>When set, overrides the cmdlet's -MaxMessageLength.</summary>
    public int? MaxMessageLength { get; set; }

    public override string ToString() => Kind switch
    {
        TcpFramingKind.Line => $"Line ({LineEnding})",
        TcpFramingKind.Delimiter => $"Delimiter ({DescribeDelimiter()})",
        TcpFramingKind.LengthPrefixed => $"LengthPrefixed ({PrefixLength} bytes, {(LittleEndian ? "little" : "big")} endian{(LengthIncludesPrefix ? ", counting itself" : string.Empty)})",
        TcpFramingKind.Fixed => $"Fixed ({Size} bytes)",
        TcpFramingKind.Json => $"Json (depth {Depth})",
        _ => Kind.ToString(),
    };

    /// <summary>The core's framing, with the cmdlet's encoding and maximum message length.</summary>
    /// <exception cref="ArgumentException">A detail the framing needs is missing or invalid.</exception>
    internal MessageFraming Create(Encoding encoding, int maxMessageLength)
    {
        int max = MaxMessageLength ?? maxMessageLength;
        switch (Kind)
        {
            case TcpFramingKind.Line:
                return MessageFraming.Lines(encoding, max, crlf: string.Equals(LineEnding, "CRLF", StringComparison.OrdinalIgnoreCase));
            case TcpFramingKind.Delimiter:
                // A text delimiter in UTF-16 or UTF-32 only counts where a character starts.
                bool text = Unwrap(Delimiter) is string or char;
                return MessageFraming.Delimiter(DelimiterBytes(encoding), max, text ? encoding.GetByteCount("\n") : 1);
            case TcpFramingKind.LengthPrefixed:
                return MessageFraming.LengthPrefixed(PrefixLength, !LittleEndian, LengthIncludesPrefix, max);
            case TcpFramingKind.Fixed:
                if (Size < 1) throw new ArgumentException("-Framing Fixed needs the size of the messages: New-TcpFraming -Framing Fixed -Size <bytes>.");
                return MessageFraming.Fixed(Size);
            case TcpFramingKind.OctetCounted:
                return MessageFraming.OctetCounted(max);
            case TcpFramingKind.Json:
                return MessageFraming.JsonLines(encoding, max, Depth);
            default:
                return MessageFraming.Raw;
        }
    }

    private static object? Unwrap(object? value) => value is PSObject wrapped ? wrapped.BaseObject : value;

    private byte[] DelimiterBytes(Encoding encoding)
    {
        object? value = Unwrap(Delimiter);
        byte[]? bytes;
        try
        {
            bytes = value switch
            {
                byte[] raw => raw,
                string text => encoding.GetBytes(text),
                char c => encoding.GetBytes(c.ToString()),
                object[] items when items.Length > 0 => items.Select(i => LanguagePrimitives.ConvertTo<byte>(Unwrap(i))).ToArray(),
                null => null,
                // A single number: one byte (0 for NUL).
                _ => new[] { LanguagePrimitives.ConvertTo<byte>(value) },
            };
        }
        catch (PSInvalidCastException e)
        {
            throw new ArgumentException($"-Delimiter takes a string or bytes (0 to 255): {e.Message}", e);
        }
        if (bytes is null || bytes.Length == 0)
            throw new ArgumentException("-Framing Delimiter needs the delimiter: -Delimiter \"`0\", -Delimiter \"`r`n.`r`n\", or bytes.");
        return bytes;
    }

    private string DescribeDelimiter()
    {
        object? value = Unwrap(Delimiter);
        return value switch
        {
            string text => string.Concat(text.Select(c => c < ' ' ? $"\\x{(int)c:X2}" : c.ToString())),
            byte[] bytes => BitConverter.ToString(bytes),
            object[] items => string.Join("-", items.Select(i => $"{Unwrap(i)}")),
            null => "none",
            _ => $"{value}",
        };
    }
}

/// <summary>Lets -Framing take a name (Line, Delimiter, LengthPrefixed, Fixed, OctetCounted, Raw, Json) or a TcpFraming object.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class TcpFramingTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        switch (value)
        {
            case TcpFraming framing:
                return framing;
            case TcpFramingKind kind:
                return new TcpFraming(kind);
            case string name when Enum.TryParse(name.Trim(), ignoreCase: true, out TcpFramingKind kind) && Enum.IsDefined(typeof(TcpFramingKind), kind):
                return new TcpFraming(kind);
            case string name:
                throw new ArgumentTransformationMetadataException(
                    $"'{name}' is not a framing. Use one of {string.Join(", ", Enum.GetNames(typeof(TcpFramingKind)))}, or an object from New-TcpFraming.");
            default:
                return value;
        }
    }
}

/// <summary>Tab completion for -Framing.</summary>
public sealed class TcpFramingCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Enum.GetNames(typeof(TcpFramingKind))
            .Where(n => n.StartsWith(wordToComplete ?? string.Empty, StringComparison.OrdinalIgnoreCase))
            .Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, n));
}
