using System.Management.Automation;
using System.Text;
using NetCmdlets.Core;

namespace NetCmdlets.Parameters;

/// <summary>The encoding of text sent and received.</summary>
internal sealed class EncodingParameters
{
    /// <summary>The encoding of text: UTF-8 without a byte order mark by default; a name (tab completion offers them), a code page, or an Encoding.</summary>
    [Parameter]
    [EncodingTransformation]
    [ArgumentCompleter(typeof(EncodingCompleter))]
    public Encoding Encoding { get; set; } = TextEncodings.Utf8;
}
