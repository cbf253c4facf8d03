using System.Net;
using System.Net.Sockets;
using NetCmdlets.Core.Tcp;
using Xunit;

namespace NetCmdlets.Core.Tests.Tcp;

public class TcpConnectorTests
{
    /// <summary>
    /// A socket whose own port is the one it connects to meets itself (TCP simultaneous open), as a port
    /// scan of the ephemeral range sometimes does by chance: nothing listens there, so it is a refusal.
    /// </summary>
    [Fact]
    public async Task ConnectThatMeetsItself_IsRefused()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var self = (IPEndPoint)socket.LocalEndPoint!;

        SocketError? result = await TcpConnector.ConnectSocketAsync(socket, self, TimeSpan.FromSeconds(5), CancellationToken.None);

        Assert.Equal(SocketError.ConnectionRefused, result);
    }

    [Fact]
    public async Task ConnectToAListener_Succeeds()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        SocketError? result = await TcpConnector.ConnectSocketAsync(socket, (IPEndPoint)listener.LocalEndPoint!, TimeSpan.FromSeconds(5), CancellationToken.None);

        Assert.Equal(SocketError.Success, result);
    }
}
