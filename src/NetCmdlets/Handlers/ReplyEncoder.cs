using System.Collections.Generic;
using System.Management.Automation;
using System.Text;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;

namespace NetCmdlets.Handlers;

/// <summary>
/// Turns a handler's output into replies: text, byte arrays and other objects become payloads (encoded here,
/// framed by the connection's framing: a length prefix, a line ending). Only an <see cref="Outgoing"/> made
/// with <see cref="Outgoing.Raw"/> goes out exactly as it is. Framing is the core's: nothing is added here.
/// </summary>
internal static class ReplyEncoder
{
    /// <summary>Replies to <paramref name="request"/>, in the encoding and framing of its connection.</summary>
    public static List<Outgoing> Encode(IReadOnlyList<object> output, NetMessage request) =>
        Encode(output, request.Encoding, request.SourceConnection?.SendFraming, request.RemoteEndPoint.ToString());

    /// <param name="framing">The connection's framing: with JSON lines every value but a byte array goes out as JSON.</param>
    /// <param name="target">The peer, for the error about a value that cannot be converted.</param>
    /// <exception cref="NetException">Framing (FramingError.Json.CannotFrame): a value cannot be converted to JSON; nothing is sent.</exception>
    public static List<Outgoing> Encode(IReadOnlyList<object> output, Encoding encoding, MessageFraming? framing, string target)
    {
        bool json = framing?.IsJson == true;
        var replies = new List<Outgoing>(output.Count);
        List<byte>? loose = null;
        foreach (object? item in output)
        {
            // $null output sends nothing, as no output does (a lookup that misses is not an empty reply).
            if (item is null) continue;
            object value = item is PSObject wrapped ? wrapped.BaseObject : item;
            // PowerShell unrolls a byte[] written as output into single bytes: a run of them is one reply.
            if (value is byte single)
            {
                (loose ??= new List<byte>()).Add(single);
                continue;
            }
            if (loose is not null)
            {
                replies.Add(Outgoing.Payload(loose.ToArray()));
                loose = null;
            }
            replies.Add(value switch
            {
                // Asked for in so many words: these bytes go out as they are, whatever the framing.
                Outgoing asked => asked,
                byte[] bytes => Outgoing.Payload(bytes),
                _ when json => Outgoing.Payload(ToJson(item, encoding, framing!.JsonDepth, target)),
                string text => Outgoing.Payload(encoding.GetBytes(text)),
                NetMessage message => Outgoing.Payload(message.Data),
                _ => Outgoing.Payload(encoding.GetBytes(LanguagePrimitives.ConvertTo<string>(item))),
            });
        }
        if (loose is not null) replies.Add(Outgoing.Payload(loose.ToArray()));
        return replies;
    }

    private static byte[] ToJson(object item, Encoding encoding, int depth, string target)
    {
        try
        {
            return JsonValues.ToPayload(item, encoding, depth);
        }
        catch (FramingException e)
        {
            throw new NetException(NetErrorKind.Framing, target, $"Cannot send to {target}: {e.Message}", e);
        }
    }
}
