using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Text;
using NetCmdlets.Core.Framing;

namespace NetCmdlets;

/// <summary>Turns a handler's output into bytes for the wire: text is encoded and framed, byte arrays go as they are.</summary>
internal static class ReplyEncoder
{
    /// <returns>The bytes of all replies, and how many messages they are; null when there is nothing to send.</returns>
    public static (byte[] Bytes, int Messages)? Encode(IReadOnlyList<object> replies, IMessageFramer? framer, Encoding encoding)
    {
        if (replies.Count == 0) return null;
        using var wire = new MemoryStream();
        int messages = 0;
        foreach (object reply in replies)
        {
            object value = reply is PSObject wrapped ? wrapped.BaseObject : reply;
            byte[] bytes = value switch
            {
                byte[] raw => raw,
                string text => Frame(encoding.GetBytes(text), framer),
                Core.Messages.NetMessage message => Frame(message.Data, framer),
                _ => Frame(encoding.GetBytes(LanguagePrimitives.ConvertTo<string>(reply)), framer),
            };
            wire.Write(bytes, 0, bytes.Length);
            messages++;
        }
        return (wire.ToArray(), messages);
    }

    private static byte[] Frame(byte[] payload, IMessageFramer? framer) =>
        framer is null ? payload : framer.Encode(new System.ArraySegment<byte>(payload));
}
