using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Text;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Messages;

namespace NetCmdlets.Handlers;

/// <summary>Turns a handler's output into replies for the wire: text is encoded and framed, byte arrays go as they are.</summary>
internal static class ReplyEncoder
{
    /// <param name="framer">The server's framing; null for UDP, where each reply is one datagram.</param>
    public static List<byte[]> Encode(IReadOnlyList<object> output, IMessageFramer? framer, Encoding encoding)
    {
        var replies = new List<byte[]>(output.Count);
        List<byte>? loose = null;
        foreach (object item in output)
        {
            object value = item is PSObject wrapped ? wrapped.BaseObject : item;
            // PowerShell unrolls a byte[] written as output into single bytes: a run of them is one raw reply.
            if (value is byte single)
            {
                (loose ??= new List<byte>()).Add(single);
                continue;
            }
            if (loose is not null)
            {
                replies.Add(loose.ToArray());
                loose = null;
            }
            replies.Add(value switch
            {
                byte[] raw => raw,
                string text => Frame(encoding.GetBytes(text), framer),
                NetMessage message => Frame(message.Data, framer),
                _ => Frame(encoding.GetBytes(LanguagePrimitives.ConvertTo<string>(item)), framer),
            });
        }
        if (loose is not null) replies.Add(loose.ToArray());
        return replies;
    }

    private static byte[] Frame(byte[] payload, IMessageFramer? framer) =>
        framer is null ? payload : framer.Encode(new ArraySegment<byte>(payload));
}
