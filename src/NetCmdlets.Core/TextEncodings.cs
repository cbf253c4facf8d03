using System;
using System.Text;

namespace NetCmdlets.Core;

/// <summary>The text encodings the module knows by name, and its default.</summary>
public static class TextEncodings
{
    /// <summary>UTF-8 without a byte order mark: what network peers expect.</summary>
    public static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Short names accepted wherever an encoding is asked for, as PowerShell 7's own cmdlets accept them.</summary>
    public static readonly string[] Names = { "utf8", "ascii", "latin1", "unicode", "bigendianunicode", "utf32", "utf8BOM" };

    /// <summary>Resolves a short name, a web name (iso-8859-1, windows-1252, ...) or a code page number.</summary>
    public static Encoding Get(string name)
    {
        if (name is null) throw new ArgumentNullException(nameof(name));
        switch (name.Trim().ToLowerInvariant())
        {
            case "utf8":
            case "utf-8":
            case "utf8nobom":
                return Utf8;
            case "utf8bom": return new UTF8Encoding(encoderShouldEmitUTF8Identifier: true);
            case "ascii": return Encoding.ASCII;
            case "latin1": return Encoding.GetEncoding("iso-8859-1");
            case "unicode":
            case "utf-16":
            case "utf16": return new UnicodeEncoding(bigEndian: false, byteOrderMark: false);
            case "bigendianunicode": return new UnicodeEncoding(bigEndian: true, byteOrderMark: false);
            case "utf32":
            case "utf-32": return new UTF32Encoding(bigEndian: false, byteOrderMark: false);
        }
        return int.TryParse(name, out int codePage) ? Encoding.GetEncoding(codePage) : Encoding.GetEncoding(name);
    }
}
