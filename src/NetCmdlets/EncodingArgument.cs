using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Text;
using NetCmdlets.Core;

namespace NetCmdlets;

/// <summary>Lets -Encoding take a name (utf8, ascii, latin1, unicode, utf32, a web name, a code page) or an Encoding object.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class EncodingTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        switch (value)
        {
            case Encoding encoding:
                return encoding;
            case int codePage:
                return Encoding.GetEncoding(codePage);
            case string name:
                try
                {
                    return TextEncodings.Get(name);
                }
                catch (Exception e) when (e is ArgumentException or NotSupportedException)
                {
                    throw new ArgumentTransformationMetadataException(
                        $"'{name}' is not a known encoding. Use one of {string.Join(", ", TextEncodings.Names)}, a web name such as iso-8859-1, or a code page number.", e);
                }
            default:
                return value;
        }
    }
}

/// <summary>Tab completion for -Encoding.</summary>
public sealed class EncodingCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        return TextEncodings.Names
            .Where(n => n.StartsWith(wordToComplete ?? string.Empty, StringComparison.OrdinalIgnoreCase))
            .Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, n));
    }
}
