using System.Net;
using System.Text;

namespace NetCmdlets.Core.Messages;

/// <summary>One UDP datagram.</summary>
public sealed class UdpDatagram : NetMessage
{
    public UdpDatagram(byte[] data, Encoding encoding, IPEndPoint remoteEndPoint, IPEndPoint localEndPoint, MessageDirection direction)
        : base(data, encoding, remoteEndPoint, localEndPoint, direction)
    {
    }

    internal UdpDatagram(byte[] data, Encoding encoding, Net.NetEndPoint remoteEndPoint, Net.NetEndPoint localEndPoint, MessageDirection direction)
        : base(data, encoding, remoteEndPoint, localEndPoint, direction)
    {
    }
}
