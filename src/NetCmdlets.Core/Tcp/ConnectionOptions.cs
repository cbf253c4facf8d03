using System.Text;
using NetCmdlets.Core.Framing;

namespace NetCmdlets.Core.Tcp;

/// <summary>How the connections of a server or client frame and decode their messages.</summary>
public sealed class ConnectionOptions
{
    /// <summary>Messages as lines of text in <paramref name="encoding"/>, at most <paramref name="maxMessageLength"/> bytes each.</summary>
    public static ConnectionOptions ForLines(Encoding encoding, int maxMessageLength) =>
        new() { Encoding = encoding, Framer = new LineFramer(encoding, maxMessageLength) };

    public IMessageFramer Framer { get; set; } = new LineFramer();

    public Encoding Encoding { get; set; } = TextEncodings.Utf8;

    /// <summary>Received messages held for the consumer before reading pauses (TCP) or drops (UDP).</summary>
    public int QueueCapacity { get; set; } = 1024;
}
